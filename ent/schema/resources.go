package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"portier/internal/domain"
	"portier/internal/pulid"
)

// Resource is something the customer owns that a login can be scoped to.
type Resource struct{ ent.Schema }

// Mixin implements ent.Schema.
func (Resource) Mixin() []ent.Mixin {
	return []ent.Mixin{
		pulid.MixinWithPrefix("res"), TimeMixin{},
		AccountOwned{Ref: "resources", Read: domain.PermResourcesRead, Manage: domain.PermResourcesManage, ScopedSelf: scopedSeesResource},
	}
}

// Fields implements ent.Schema.
func (Resource) Fields() []ent.Field {
	return []ent.Field{
		field.Enum("kind").Values("WEB_VHOST", "MAIL_VHOST", "MAILBOX", "DNS_ZONE", "DOMAIN", "SERVER", "VPN").
			Immutable().Comment("What kind of resource this is."),
		field.String("name").NotEmpty().MaxLen(253).Immutable().
			Comment("Its name: vhost id, mail domain, mailbox address, zone, domain, server or VPN name."),
	}
}

// Edges implements ent.Schema.
func (Resource) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("scoped_logins", ScopedLogin.Type).Comment("Logins that see only this resource."),
	}
}

// Indexes implements ent.Schema.
func (Resource) Indexes() []ent.Index {
	return []ent.Index{index.Fields("customer_account_id", "kind", "name").Unique()}
}

// Annotations implements ent.Schema.
func (Resource) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipWhereInput)}
}

// ScopedLogin is a login that sees exactly one resource (docs/authorization.md, 'Scoped logins'): the SFTP
// user of a web vhost, postmaster@ of a mail vhost, a mailbox, a domain.
type ScopedLogin struct{ ent.Schema }

// Mixin implements ent.Schema.
func (ScopedLogin) Mixin() []ent.Mixin {
	return []ent.Mixin{
		pulid.MixinWithPrefix("slg"), TimeMixin{},
		AccountOwned{Ref: "scoped_logins", Read: domain.PermLoginsManage, Manage: domain.PermLoginsManage, ScopedSelf: scopedSeesLogin},
	}
}

// Fields implements ent.Schema.
func (ScopedLogin) Fields() []ent.Field {
	return []ent.Field{
		field.String("resource_id").GoType(pulid.ID("")).Immutable().Comment("The one resource this login sees.").
			Annotations(entgql.Type("ID")),
		field.String("login_name").Unique().NotEmpty().MaxLen(254).Immutable().
			Comment("The login name, lower-case: the SFTP user of a web vhost, postmaster@<domain> of a mail vhost, the address of a mailbox, the domain of a DNS zone or domain. Unique forever: a deleted login keeps it."),
		field.String("password_hash").Sensitive().Optional().Annotations(entgql.Skip(entgql.SkipAll)),
		field.Strings("reference_emails").Optional().
			Comment("Reference e-mail addresses (Referenz-E-Mail): where password reset links go."),
		field.Enum("status").Values("ACTIVE", "DISABLED", "DELETED").Default("ACTIVE").
			Comment("ACTIVE logs in; DISABLED does not until enabled again; DELETED is final (the login name stays reserved)."),
		field.Bool("must_change_password").Default(false).Comment("Whether the password must be changed at next login."),
		field.Time("last_login_at").Optional().Nillable().Comment("Last successful login."),
	}
}

// Edges implements ent.Schema.
func (ScopedLogin) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("resource", Resource.Type).Ref("scoped_logins").Field("resource_id").Unique().Required().Immutable().
			Comment("The one resource this login sees."),
	}
}

// Annotations implements ent.Schema.
func (ScopedLogin) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipWhereInput)}
}

// Invitation asks a person, by e-mail, to join a customer account with roles
// and groups. The token is stored only as a hash.
type Invitation struct{ ent.Schema }

// Mixin implements ent.Schema.
func (Invitation) Mixin() []ent.Mixin {
	return []ent.Mixin{
		pulid.MixinWithPrefix("inv"), TimeMixin{},
		AccountOwned{Ref: "invitations", Read: domain.PermInvitationsManage, Manage: domain.PermInvitationsManage},
	}
}

// Fields implements ent.Schema.
func (Invitation) Fields() []ent.Field {
	return []ent.Field{
		field.String("email").NotEmpty().MaxLen(254).Comment("Whom the invitation is for (lower-case)."),
		field.String("name").Default("").MaxLen(200).Comment("The invitee's name, if known."),
		field.Strings("roles").Optional().Comment("Roles granted on acceptance.").
			Annotations(entgql.Skip(entgql.SkipAll)),
		field.Strings("group_ids").Optional().Comment("Rights groups joined on acceptance.").
			Annotations(entgql.Skip(entgql.SkipAll)),
		field.String("token_hash").Sensitive().Unique().Annotations(entgql.Skip(entgql.SkipAll)),
		field.Time("expires_at").Comment("When the invitation expires."),
		field.Bool("outside_organisation_domains").Default(false).
			Comment("Whether the provider's staff allowed this address outside the account's confirmed organisation domains (an audited override, carried to the contact on acceptance)."),
		field.String("valid_until").GoType(caldateType).Optional().Nillable().
			Comment("The last day (inclusive, in the account's time zone) of the roles and memberships granted on acceptance; null means open-ended.").
			Annotations(entgql.Type("Date")),
		// The API shows the state with EXPIRED computed from the clock
		// (a PENDING invitation past expires_at), so the stored value is
		// not exposed as is.
		field.Enum("state").Values("PENDING", "ACCEPTED", "REVOKED", "EXPIRED").Default("PENDING").
			Comment("PENDING, ACCEPTED or REVOKED as stored; EXPIRED is computed.").
			Annotations(entgql.Skip(entgql.SkipAll)),
		field.String("invited_by_id").GoType(pulid.ID("")).Optional().Nillable().Immutable().
			Comment("Who sent the invitation.").Annotations(entgql.Type("ID")),
		field.String("accepted_by_id").GoType(pulid.ID("")).Optional().Nillable().
			Comment("The user who accepted it.").Annotations(entgql.Type("ID")),
		field.Time("accepted_at").Optional().Nillable().Comment("When it was accepted."),
		field.Time("revoked_at").Optional().Nillable().Comment("When it was revoked."),
		// A login activation (enableLogin) is an invitation bound to one
		// existing contact: accepting it links and grants to that contact.
		field.String("contact_id").GoType(pulid.ID("")).Optional().Nillable().Immutable().
			Comment("For a login activation (enableLogin): the existing contact that is linked and receives the roles on acceptance; null for an invitation of a new person.").
			Annotations(entgql.Type("ID")),
		field.String("granted_via_delegation_id").GoType(pulid.ID("")).Optional().Nillable().Immutable().
			Comment("The agency delegation through which the invitation was sent; the roles and memberships granted on acceptance end with that delegation. Null when sent by the account's own people or the provider.").
			Annotations(entgql.Type("ID")),
	}
}

// Indexes implements ent.Schema.
func (Invitation) Indexes() []ent.Index {
	return []ent.Index{index.Fields("contact_id")}
}

// Edges implements ent.Schema.
func (Invitation) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("invited_by", UserAccount.Type).Field("invited_by_id").Unique().Immutable().Comment("Who sent it."),
		edge.To("accepted_by", UserAccount.Type).Field("accepted_by_id").Unique().Comment("Who accepted it."),
	}
}

// Annotations implements ent.Schema.
func (Invitation) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipWhereInput)}
}
