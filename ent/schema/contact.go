package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"portier/internal/domain"
	"portier/internal/pulid"
)

// Contact is a person known to one customer account. A contact without a
// login is still a valid contact for tickets and support calls; linking it
// to a UserAccount lets that user act for the account within its roles.
type Contact struct{ ent.Schema }

// Mixin implements ent.Schema.
func (Contact) Mixin() []ent.Mixin {
	return []ent.Mixin{
		pulid.MixinWithPrefix("ctc"), TimeMixin{},
		AccountOwned{Ref: "contacts", Read: domain.PermContactsRead, Manage: domain.PermContactsManage, OwnUserColumn: "user_id", IndexByID: true},
	}
}

// Fields implements ent.Schema.
func (Contact) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").NotEmpty().MaxLen(200).Comment("Full name.").
			Annotations(entgql.OrderField("NAME")),
		field.String("email").Optional().Nillable().MaxLen(254).
			Comment("E-mail address, trimmed and lower-case.").
			Annotations(entgql.OrderField("EMAIL")),
		field.String("phone").Optional().Nillable().MaxLen(32).Comment("Phone number."),
		field.Bool("outside_organisation_domains").Default(false).
			Comment("Whether the provider's staff admitted this contact with an e-mail address outside the account's confirmed organisation domains (an audited override)."),
		field.String("user_id").GoType(pulid.ID("")).Optional().Nillable().
			Comment("The user account of this person, if it has one.").
			Annotations(entgql.Type("ID"), entgql.Skip(entgql.SkipWhereInput)),
		// Set when the linked user deleted its own account: restoring the
		// user (within 90 days) links the contact again; anonymising the
		// user clears it for good.
		field.String("unlinked_user_id").GoType(pulid.ID("")).Optional().Nillable().
			Comment("The user account that was linked before that user deleted itself.").
			Annotations(entgql.Skip(entgql.SkipAll)),
		// Contacts are deleted softly (deleteContact): the row stays in
		// history with its roles, memberships and authorizations ended and
		// its user link cleared; the user it had is kept in former_user_id.
		// A deleted contact gives nobody anything and cannot be changed.
		field.Time("deleted_at").Optional().Nillable().
			Comment("When the contact was deleted; null for a live contact. A deleted contact stays visible in history and gives no access."),
		field.String("former_user_id").GoType(pulid.ID("")).Optional().Nillable().
			Comment("The user account the contact was linked to when it was deleted.").
			Annotations(entgql.Type("ID"), entgql.Skip(entgql.SkipWhereInput)),
	}
}

// Edges implements ent.Schema.
func (Contact) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("user", UserAccount.Type).Ref("contacts").Field("user_id").Unique().
			Comment("The user account of this person, if it has one.").
			Annotations(entgql.Skip(entgql.SkipWhereInput)),
		edge.To("role_assignments", RoleAssignment.Type).
			Comment("Roles of this contact, active and past.").
			Annotations(entgql.Skip(entgql.SkipWhereInput)),
		edge.To("support_authorizations", SupportAuthorization.Type).
			Comment("Support authorizations (Freigaben) of this contact, active and past; empty without AUTHORIZATIONS_READ.").
			Annotations(entgql.MapsTo("authorizations"), entgql.Skip(entgql.SkipWhereInput)),
		edge.To("group_memberships", GroupMembership.Type).
			Comment("Rights group memberships of this contact.").
			Annotations(entgql.Skip(entgql.SkipWhereInput)),
	}
}

// Indexes implements ent.Schema.
func (Contact) Indexes() []ent.Index {
	return []ent.Index{
		// One live contact per e-mail and account; NULL e-mails do not
		// collide, and deleted contacts keep their address for history
		// without blocking the same person from being added again.
		index.Fields("customer_account_id", "email").Unique().
			Annotations(entsql.IndexWhere("deleted_at IS NULL")),
		// One live contact per user and account.
		index.Fields("customer_account_id", "user_id").Unique().
			Annotations(entsql.IndexWhere("deleted_at IS NULL")),
		index.Fields("user_id"),
		index.Fields("unlinked_user_id"),
		// An account's contacts connection in each order it offers
		// (ContactOrderField), ties by ID, as the mixin's (customer_account_id,
		// id) is for the default order: a page at any depth is one index
		// range from its cursor, whatever the number of contacts.
		index.Fields("customer_account_id", "name", "id"),
		index.Fields("customer_account_id", "email", "id"),
		index.Fields("customer_account_id", "created_at", "id"),
	}
}

// Annotations implements ent.Schema.
func (Contact) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.RelayConnection(), entgql.MultiOrder()}
}

// RoleAssignment gives a contact one role on its account for a time.
type RoleAssignment struct{ ent.Schema }

// Mixin implements ent.Schema.
func (RoleAssignment) Mixin() []ent.Mixin {
	return []ent.Mixin{
		pulid.MixinWithPrefix("rol"), TimeMixin{},
		AccountOwned{Ref: "role_assignments", Read: domain.PermContactsRead, Manage: domain.PermContactsManage},
	}
}

// Fields implements ent.Schema.
func (RoleAssignment) Fields() []ent.Field {
	return append([]ent.Field{
		field.String("contact_id").GoType(pulid.ID("")).Immutable().
			Comment("The contact holding the role.").Annotations(entgql.Type("ID")),
		field.Enum("role").GoType(domain.Role("")).Immutable().Comment("The role.").Annotations(entgql.Type("Role")),
		field.String("granted_by_id").GoType(pulid.ID("")).Optional().Nillable().Immutable().
			Comment("The user who granted the role.").Annotations(entgql.Type("ID")),
		grantedViaDelegationField("role"),
	}, validityFields()...)
}

// Edges implements ent.Schema.
func (RoleAssignment) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("contact", Contact.Type).Ref("role_assignments").Field("contact_id").
			Unique().Required().Immutable().Comment("The contact holding the role."),
		edge.To("granted_by", UserAccount.Type).Field("granted_by_id").Unique().Immutable().
			Comment("The user who granted the role."),
	}
}

// Indexes implements ent.Schema.
func (RoleAssignment) Indexes() []ent.Index {
	return []ent.Index{index.Fields("contact_id")}
}

// Annotations implements ent.Schema.
func (RoleAssignment) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipWhereInput)}
}

// SupportAuthorization is a Freigabe (docs/authorization.md, 'Support authorizations'): what a contact may instruct
// the support desk to do, with the same validity rules as roles.
type SupportAuthorization struct{ ent.Schema }

// Mixin implements ent.Schema.
func (SupportAuthorization) Mixin() []ent.Mixin {
	return []ent.Mixin{
		pulid.MixinWithPrefix("sau"), TimeMixin{},
		AccountOwned{Ref: "support_authorizations", Read: domain.PermAuthorizationsRead, Manage: domain.PermAuthorizationsManage},
	}
}

// Fields implements ent.Schema.
func (SupportAuthorization) Fields() []ent.Field {
	return append([]ent.Field{
		field.String("contact_id").GoType(pulid.ID("")).Immutable().
			Comment("The contact holding the authorization.").Annotations(entgql.Type("ID")),
		field.Enum("kind").GoType(domain.SupportAuthorizationKind("")).Immutable().
			Comment("The kind of authorization.").
			Annotations(entgql.Type("SupportAuthorizationKind"), entgql.Skip(entgql.SkipEnumField)),
		field.String("scope_business_area").Optional().Nillable().MaxLen(200).
			Comment("ORDERING_LIMITED only: the business area orders are limited to."),
		field.Int64("scope_budget_cents").Optional().Nillable().NonNegative().
			Comment("ORDERING_LIMITED only: the budget orders are limited to, in cents."),
		field.String("scope_currency").Optional().Nillable().MaxLen(3).
			Comment("ORDERING_LIMITED only: ISO 4217 currency of the budget."),
		field.String("granted_by_id").GoType(pulid.ID("")).Optional().Nillable().Immutable().
			Comment("The user who granted the authorization.").Annotations(entgql.Type("ID")),
		grantedViaDelegationField("authorization"),
	}, validityFields()...)
}

// Edges implements ent.Schema.
func (SupportAuthorization) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("contact", Contact.Type).Ref("support_authorizations").Field("contact_id").
			Unique().Required().Immutable().Comment("The contact holding the authorization."),
		edge.To("granted_by", UserAccount.Type).Field("granted_by_id").Unique().Immutable().
			Comment("The user who granted the authorization."),
	}
}

// Indexes implements ent.Schema.
func (SupportAuthorization) Indexes() []ent.Index {
	return []ent.Index{index.Fields("contact_id")}
}

// Annotations implements ent.Schema.
func (SupportAuthorization) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipWhereInput)}
}

// grantedViaDelegationField records the agency delegation through which a
// grant was made (the granting principal acted on the account through an
// agency). Such a grant lasts only as long as that delegation: the
// evaluator treats it as over once the delegation is over.
func grantedViaDelegationField(what string) ent.Field {
	return field.String("granted_via_delegation_id").GoType(pulid.ID("")).Optional().Nillable().Immutable().
		Comment("The agency delegation through which the " + what + " was granted; it ends with that delegation. Null when granted by the account's own people or the provider.").
		Annotations(entgql.Type("ID"))
}
