package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/privacy"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"portier/internal/domain"
	"portier/internal/pulid"
)

// AgencyDelegation lets an agency account act for a client account with the
// permissions the client granted (docs/authorization.md, 'Agencies'). The row belongs to the client.
type AgencyDelegation struct{ ent.Schema }

// Mixin implements ent.Schema.
func (AgencyDelegation) Mixin() []ent.Mixin {
	return []ent.Mixin{
		pulid.MixinWithPrefix("dlg"), TimeMixin{},
		AccountOwned{Ref: "delegations_granted", Read: domain.PermAccountRead, Manage: domain.PermDelegationsManage},
	}
}

// Fields implements ent.Schema.
func (AgencyDelegation) Fields() []ent.Field {
	return append([]ent.Field{
		field.String("agency_id").GoType(pulid.ID("")).Immutable().Comment("The agency account.").
			Annotations(entgql.Type("ID")),
		field.Strings("permissions").Optional().Comment("The delegated permissions.").
			Annotations(entgql.Skip(entgql.SkipAll)),
		field.String("granted_by_id").GoType(pulid.ID("")).Optional().Nillable().Immutable().
			Comment("Who granted the delegation.").Annotations(entgql.Type("ID")),
	}, validityFields()...)
}

// Edges implements ent.Schema.
func (AgencyDelegation) Edges() []ent.Edge {
	return []ent.Edge{
		// Not exposed as an edge: the client cannot read the agency's account;
		// agencyNumber and agencyName tell who the agency is.
		edge.From("agency", CustomerAccount.Type).Ref("delegations_received").Field("agency_id").
			Unique().Required().Immutable().Comment("The agency account.").Annotations(entgql.Skip(entgql.SkipAll)),
	}
}

// Indexes implements ent.Schema.
func (AgencyDelegation) Indexes() []ent.Index { return []ent.Index{index.Fields("agency_id")} }

// Annotations implements ent.Schema.
func (AgencyDelegation) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipWhereInput)}
}

// AccountManager assigns a SALES staff user to a customer account. Removing
// the row removes the staff user's access at once.
type AccountManager struct{ ent.Schema }

// Mixin implements ent.Schema.
func (AccountManager) Mixin() []ent.Mixin {
	return []ent.Mixin{pulid.MixinWithPrefix("mgr"), TimeMixin{}}
}

// Fields implements ent.Schema.
func (AccountManager) Fields() []ent.Field {
	return []ent.Field{
		field.String("customer_account_id").GoType(pulid.ID("")).Immutable().Comment("The customer account.").
			Annotations(entgql.Type("ID")),
		field.String("user_id").GoType(pulid.ID("")).Immutable().Comment("The staff user.").
			Annotations(entgql.Type("ID")),
	}
}

// Edges implements ent.Schema.
func (AccountManager) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("customer_account", CustomerAccount.Type).Ref("account_managers").Field("customer_account_id").
			Unique().Required().Immutable().Comment("The customer account."),
		edge.From("user", UserAccount.Type).Ref("managed_accounts").Field("user_id").
			Unique().Required().Immutable().Comment("The staff user."),
	}
}

// Indexes implements ent.Schema.
func (AccountManager) Indexes() []ent.Index {
	return []ent.Index{index.Fields("customer_account_id", "user_id").Unique(), index.Fields("user_id")}
}

// Annotations implements ent.Schema.
func (AccountManager) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipWhereInput)}
}

// Policy implements ent.Schema: readable with account:read on the account;
// only ADMIN staff assign account managers.
func (AccountManager) Policy() ent.Policy {
	return privacy.Policy{
		Query: privacy.QueryPolicy{
			allowSystem(), denyAnonymous(),
			filterQuery("customer_account_id", domain.PermAccountRead, ""),
			privacy.AlwaysDenyRule(),
		},
		Mutation: privacy.MutationPolicy{allowSystem(), allowStaff(domain.StaffAdmin), privacy.AlwaysDenyRule()},
	}
}

// AuditEvent is one entry of the append-only audit log. It never holds a
// secret: changed fields are recorded by name and non-secret value only.
type AuditEvent struct{ ent.Schema }

// Mixin implements ent.Schema.
func (AuditEvent) Mixin() []ent.Mixin {
	return []ent.Mixin{pulid.MixinWithPrefix("aud")}
}

// Fields implements ent.Schema.
func (AuditEvent) Fields() []ent.Field {
	return []ent.Field{
		field.Time("occurred_at").Default(nowUTC).Immutable().Comment("When it happened.").
			Annotations(entgql.OrderField("OCCURRED_AT")),
		field.String("actor_id").Optional().Immutable().Comment("ID of the user who acted; empty for Portier itself or anonymous."),
		field.String("actor_kind").Immutable().Comment("USER, API_KEY, SCOPED_LOGIN, SYSTEM or ANONYMOUS."),
		field.String("acting_via").Optional().Immutable().
			Comment("How the actor acted, e.g. staff:ADMIN, apikey:<id>, agency:<id>."),
		field.String("customer_account_id").GoType(pulid.ID("")).Optional().Nillable().Immutable().
			Comment("The customer account affected, if any.").Annotations(entgql.Type("ID")),
		field.String("action").Immutable().Comment("What was done, e.g. contact.create."),
		field.String("target_type").Optional().Immutable().Comment("Type of the object acted on."),
		field.String("target_id").Optional().Immutable().Comment("ID of the object acted on."),
		field.JSON("changes", map[string]any{}).Optional().Immutable().
			Comment("Changed fields and their new values; never secrets.").
			Annotations(entgql.Skip(entgql.SkipAll)),
		field.String("ip").Optional().Immutable().Comment("Client address."),
		field.String("user_agent").Optional().Immutable().Comment("Client user agent."),
		field.String("request_id").Optional().Immutable().Comment("ID of the request, also in the server logs."),
	}
}

// Edges implements ent.Schema.
func (AuditEvent) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("customer_account", CustomerAccount.Type).Ref("audit_events").Field("customer_account_id").
			Unique().Immutable().Comment("The customer account affected.").
			Annotations(entgql.Skip(entgql.SkipWhereInput)),
	}
}

// Indexes implements ent.Schema.
func (AuditEvent) Indexes() []ent.Index {
	return []ent.Index{
		// The activity log of an account, newest first, ties by ID (ORDER BY
		// occurred_at DESC, id): a page at any depth is one index range from
		// its cursor, read forwards (first) or backwards (last), no sort.
		index.Fields("customer_account_id", "occurred_at", "id").Annotations(entsql.DescColumns("occurred_at")),
		index.Fields("actor_id"),
		// A contact's activity log (the events that target it), the same way.
		index.Fields("target_id", "occurred_at", "id").Annotations(entsql.DescColumns("occurred_at")),
		// The root auditEvents list, newest first: for staff it is every
		// event, for others those of their accounts and their own.
		index.Fields("occurred_at", "id").Annotations(entsql.DescColumns("occurred_at")),
	}
}

// Annotations implements ent.Schema.
func (AuditEvent) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.RelayConnection(), entgql.MultiOrder()}
}

// Policy implements ent.Schema: append-only; readable with audit:read.
// Rows are written by the audit package only, never by a client directly.
func (AuditEvent) Policy() ent.Policy {
	return privacy.Policy{
		Query: privacy.QueryPolicy{
			allowSystem(), denyAnonymous(),
			filterQuery("customer_account_id", domain.PermAuditRead, "actor_id"),
			privacy.AlwaysDenyRule(),
		},
		Mutation: privacy.MutationPolicy{
			denyOps(ent.OpUpdate|ent.OpUpdateOne|ent.OpDelete|ent.OpDeleteOne, "the audit log is append-only"),
			allowSystem(),
			privacy.AlwaysDenyRule(),
		},
	}
}

// OutboxMessage is an e-mail or SMS waiting to be delivered, written in the
// same transaction as the change that caused it.
type OutboxMessage struct{ ent.Schema }

// Mixin implements ent.Schema.
func (OutboxMessage) Mixin() []ent.Mixin {
	return []ent.Mixin{pulid.MixinWithPrefix("msg"), TimeMixin{}}
}

// Fields implements ent.Schema.
func (OutboxMessage) Fields() []ent.Field {
	return []ent.Field{
		field.Enum("channel").Values("EMAIL", "SMS"),
		field.String("recipient").Sensitive(),
		field.String("subject").Default(""),
		field.Text("body").Sensitive(),
		// html_body is the text/html alternative of an e-mail's body;
		// empty for SMS (and for e-mails written before it existed, whose
		// HTML part is then made from body).
		field.Text("html_body").Sensitive().Default(""),
		// kind is the internal/mail message kind; it decides per kind
		// whether the mail may carry List-Unsubscribe. Empty: unknown.
		field.String("kind").Default(""),
		// language is the Content-Language of an e-mail ("de", "en").
		field.String("language").Default(""),
		// unsubscribe_url is the one-click unsubscribe address of a mail
		// the recipient may opt out of; empty for every other mail.
		field.String("unsubscribe_url").Sensitive().Default(""),
		field.Enum("status").Values("PENDING", "SENDING", "SENT", "FAILED").Default("PENDING"),
		field.Int("attempts").Default(0),
		field.Time("next_attempt_at").Default(nowUTC),
		field.Time("sent_at").Optional().Nillable(),
		field.String("last_error").Optional(),
	}
}

// Indexes implements ent.Schema.
func (OutboxMessage) Indexes() []ent.Index {
	return []ent.Index{index.Fields("status", "next_attempt_at")}
}

// Annotations implements ent.Schema.
func (OutboxMessage) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}

// Policy implements ent.Schema.
func (OutboxMessage) Policy() ent.Policy { return systemOnlyPolicy() }
