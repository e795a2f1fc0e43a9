package schema

import (
	"time"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
	"entgo.io/ent/schema/mixin"

	"portier/internal/domain"
	"portier/internal/pulid"
)

// TimeMixin adds created_at and updated_at, stored in UTC.
type TimeMixin struct{ mixin.Schema }

// nowUTC is the current instant in UTC at the microsecond precision both
// databases store, so a value read back equals the value written.
func nowUTC() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// Fields implements ent.Mixin.
func (TimeMixin) Fields() []ent.Field {
	return []ent.Field{
		field.Time("created_at").Default(nowUTC).Immutable().
			Comment("When the record was created.").
			Annotations(entgql.OrderField("CREATED_AT"), entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
		field.Time("updated_at").Default(nowUTC).UpdateDefault(nowUTC).
			Comment("When the record was last changed.").
			Annotations(entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
	}
}

// AccountOwned makes an entity belong to exactly one customer account: an
// immutable customer_account_id with an index, the edge to the account, and
// the tenant privacy policy that filters every query and mutation to the
// accounts on which the viewer holds the given permissions.
type AccountOwned struct {
	mixin.Schema
	// Ref is the name of the back edge on CustomerAccount.
	Ref string
	// Read is the permission that lets a viewer see rows; Manage the one
	// that lets it change them.
	Read, Manage domain.Permission
	// OwnUserColumn, when set, also lets a user see rows whose column holds
	// the user's own ID (e.g. a user's own contact records).
	OwnUserColumn string
	// ScopedSelf is the own row a scoped login may see in this entity
	// (scoped_privacy.go); empty: none.
	ScopedSelf scopedSelf
	// IndexByID indexes (customer_account_id, id) instead of
	// (customer_account_id): a page of the account's rows in the default
	// order of a connection (by ID) is then one index range.
	IndexByID bool
}

// Fields implements ent.Mixin.
func (m AccountOwned) Fields() []ent.Field {
	return []ent.Field{
		field.String("customer_account_id").GoType(pulid.ID("")).Immutable().
			Comment("The customer account this belongs to.").
			Annotations(entgql.Type("ID"), entgql.Skip(entgql.SkipWhereInput)),
	}
}

// Edges implements ent.Mixin.
func (m AccountOwned) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("customer_account", CustomerAccount.Type).Ref(m.Ref).
			Field("customer_account_id").Unique().Required().Immutable().
			Comment("The customer account this belongs to.").
			Annotations(entgql.Skip(entgql.SkipWhereInput)),
	}
}

// Indexes implements ent.Mixin.
func (m AccountOwned) Indexes() []ent.Index {
	if m.IndexByID {
		return []ent.Index{index.Fields("customer_account_id", "id")}
	}
	return []ent.Index{index.Fields("customer_account_id")}
}

// Policy implements ent.Mixin.
func (m AccountOwned) Policy() ent.Policy {
	return withScoped(accountPolicy("customer_account_id", m.Read, m.Manage, m.OwnUserColumn), m.ScopedSelf)
}

// Annotations implements ent.Mixin.
func (AccountOwned) Annotations() []schema.Annotation { return nil }

// validity adds valid_from / valid_until / ended_at: the common shape of
// everything that is granted for a time (roles, authorizations, group
// memberships, delegations).
func validityFields() []ent.Field {
	return []ent.Field{
		field.Time("valid_from").Default(nowUTC).
			Comment("The instant from which the grant is active."),
		field.String("valid_until").GoType(caldateType).Optional().Nillable().
			Comment("The last day (inclusive, in the customer account's time zone) on which the grant is active; null means open-ended.").
			Annotations(entgql.Type("Date")),
		field.Time("ended_at").Optional().Nillable().
			Comment("Set when the grant was ended immediately; the grant is inactive from this instant."),
	}
}
