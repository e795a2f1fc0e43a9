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

// RightsGroup is a named set of permissions inside one customer account
// (docs/authorization.md, 'Roles and permissions'); its members get the union of their groups' and roles' rights.
//
// Rows are filtered by the AccountOwned tenant policy: a viewer reads the
// groups (and, below, the memberships) only of accounts where it holds
// contacts:read, and changes them only where it holds groups:manage.
//
// Every account has exactly one built-in group ("X12345-Heidelberg"),
// created with the account: every contact holding PORTAL_ACCESS is
// implicitly its member (it has no membership rows), and it can be neither
// renamed nor deleted; a customer admin sets its permissions.
type RightsGroup struct{ ent.Schema }

// Mixin implements ent.Schema.
func (RightsGroup) Mixin() []ent.Mixin {
	return []ent.Mixin{
		pulid.MixinWithPrefix("grp"), TimeMixin{},
		AccountOwned{Ref: "rights_groups", Read: domain.PermContactsRead, Manage: domain.PermGroupsManage},
	}
}

// Fields implements ent.Schema.
func (RightsGroup) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").NotEmpty().MaxLen(100).Comment("The group's name, unique in its account."),
		field.String("description").Default("").MaxLen(1000).Comment("What the group is for."),
		field.Strings("permissions").Optional().Comment("Permissions (wire strings) the group grants.").
			Annotations(entgql.Skip(entgql.SkipAll)),
		field.Bool("built_in").Default(false).Immutable().
			Comment("Whether this is the account's built-in group: every contact holding PORTAL_ACCESS is implicitly a member; it cannot be renamed or deleted.").
			Annotations(entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
	}
}

// Edges implements ent.Schema.
func (RightsGroup) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("memberships", GroupMembership.Type).Comment("Memberships, active and past."),
	}
}

// Indexes implements ent.Schema.
func (RightsGroup) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("customer_account_id", "name").Unique(),
		// At most one built-in group per account.
		index.Fields("customer_account_id").Unique().StorageKey("rightsgroup_builtin_account").
			Annotations(entsql.IndexWhere("built_in")),
	}
}

// Annotations implements ent.Schema.
func (RightsGroup) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipWhereInput)}
}

// GroupMembership makes a contact a member of a rights group for a time.
type GroupMembership struct{ ent.Schema }

// Mixin implements ent.Schema.
func (GroupMembership) Mixin() []ent.Mixin {
	return []ent.Mixin{
		pulid.MixinWithPrefix("gmb"), TimeMixin{},
		AccountOwned{Ref: "group_memberships", Read: domain.PermContactsRead, Manage: domain.PermGroupsManage},
	}
}

// Fields implements ent.Schema.
func (GroupMembership) Fields() []ent.Field {
	return append([]ent.Field{
		field.String("group_id").GoType(pulid.ID("")).Immutable().Comment("The group.").Annotations(entgql.Type("ID")),
		field.String("contact_id").GoType(pulid.ID("")).Immutable().Comment("The member.").Annotations(entgql.Type("ID")),
		grantedViaDelegationField("membership"),
	}, validityFields()...)
}

// Edges implements ent.Schema.
func (GroupMembership) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("group", RightsGroup.Type).Ref("memberships").Field("group_id").Unique().Required().Immutable().
			Comment("The group."),
		edge.From("contact", Contact.Type).Ref("group_memberships").Field("contact_id").Unique().Required().Immutable().
			Comment("The member."),
	}
}

// Indexes implements ent.Schema.
func (GroupMembership) Indexes() []ent.Index {
	return []ent.Index{index.Fields("contact_id"), index.Fields("group_id")}
}

// Annotations implements ent.Schema.
func (GroupMembership) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipWhereInput)}
}
