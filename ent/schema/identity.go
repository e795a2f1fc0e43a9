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

// Session is one refresh-token family of a login: created at login,
// rotated on every refresh, revoked on logout or reuse of an old token.
type Session struct{ ent.Schema }

// Mixin implements ent.Schema.
func (Session) Mixin() []ent.Mixin {
	return []ent.Mixin{pulid.MixinWithPrefix("ses"), TimeMixin{}}
}

// Fields implements ent.Schema.
func (Session) Fields() []ent.Field {
	return []ent.Field{
		field.String("user_id").GoType(pulid.ID("")).Optional().Nillable().Immutable().
			Comment("The user of this session.").Annotations(entgql.Type("ID")),
		field.String("scoped_login_id").GoType(pulid.ID("")).Optional().Nillable().Immutable().
			Comment("The scoped login of this session.").Annotations(entgql.Type("ID")),
		field.String("refresh_token_hash").Sensitive().Optional().Annotations(entgql.Skip(entgql.SkipAll)),
		field.Int("refresh_generation").Default(0).Annotations(entgql.Skip(entgql.SkipAll)),
		field.Strings("previous_refresh_hashes").Sensitive().Optional().
			Comment("Hashes of refresh tokens already rotated away: presenting one means theft.").
			Annotations(entgql.Skip(entgql.SkipAll)),
		field.Time("rotated_at").Optional().Nillable().
			Comment("When the current refresh token replaced the previous one (the start of the grace window).").
			Annotations(entgql.Skip(entgql.SkipAll)),
		field.String("ip").Default("").MaxLen(64).Comment("Client address at login."),
		field.String("user_agent").Default("").MaxLen(512).Comment("User agent at login."),
		field.Time("last_used_at").Default(nowUTC).Comment("When the session was last used."),
		field.Time("expires_at").Comment("When the session ends at the latest."),
		field.Time("revoked_at").Optional().Nillable().Comment("When the session was revoked."),
		field.String("revoke_reason").Optional().Comment("Why the session was revoked."),
		field.Time("second_factor_at").Optional().Nillable().Comment("When a second factor was last verified in this session."),
	}
}

// Edges implements ent.Schema.
func (Session) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("user", UserAccount.Type).Ref("sessions").Field("user_id").Unique().Immutable().
			Annotations(entgql.Skip(entgql.SkipAll)),
	}
}

// Indexes implements ent.Schema.
func (Session) Indexes() []ent.Index {
	return []ent.Index{index.Fields("user_id")}
}

// Annotations implements ent.Schema.
func (Session) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipWhereInput)}
}

// Policy implements ent.Schema.
func (Session) Policy() ent.Policy {
	return scopedSessions(ownRowsPolicy("user_id", domain.StaffAdmin))
}

// APIKey belongs to a user and can do at most what the user can, optionally
// narrowed to one customer account and a subset of permissions. The secret
// is shown once and stored only as a hash.
type APIKey struct{ ent.Schema }

// Mixin implements ent.Schema.
func (APIKey) Mixin() []ent.Mixin {
	return []ent.Mixin{pulid.MixinWithPrefix("key"), TimeMixin{}}
}

// Fields implements ent.Schema.
func (APIKey) Fields() []ent.Field {
	return []ent.Field{
		field.String("user_id").GoType(pulid.ID("")).Immutable().Comment("The owner.").Annotations(entgql.Type("ID")),
		field.String("customer_account_id").GoType(pulid.ID("")).Optional().Nillable().Immutable().
			Comment("The one customer account the key is narrowed to, if any.").Annotations(entgql.Type("ID")),
		field.String("name").NotEmpty().MaxLen(100).Comment("A name to recognise the key by."),
		field.String("prefix").Immutable().Comment("The public first characters of the key, to recognise it."),
		field.String("secret_hash").Sensitive().Unique().Immutable().Annotations(entgql.Skip(entgql.SkipAll)).
			Comment("SHA-256 of the whole key; keys are looked up by it."),
		field.Strings("permissions").Optional().Comment("The permissions the key is narrowed to; empty means all of the owner's.").
			Annotations(entgql.Skip(entgql.SkipAll)),
		field.Time("expires_at").Optional().Nillable().Comment("When the key stops working."),
		field.Time("revoked_at").Optional().Nillable().Comment("When the key was revoked."),
		field.Time("last_used_at").Optional().Nillable().Comment("When the key was last used."),
	}
}

// Edges implements ent.Schema.
func (APIKey) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("user", UserAccount.Type).Ref("api_keys").Field("user_id").Unique().Required().Immutable().
			Comment("The owner."),
		edge.From("customer_account", CustomerAccount.Type).Ref("api_keys").Field("customer_account_id").Unique().Immutable().
			Comment("The customer account the key is narrowed to."),
	}
}

// Annotations implements ent.Schema.
func (APIKey) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipWhereInput)}
}

// Policy implements ent.Schema.
func (APIKey) Policy() ent.Policy { return apiKeyPolicy() }

// SupportPinState is the rotation state of the support PIN of one login (a user
// or a scoped login). The PIN itself is never stored: it is derived with a
// keyed HMAC from a server secret (PORTIER_PIN_KEY) over the login, the
// nonce and the rotation counter (internal/supportpin), so a copy of the
// database alone does not reveal it. (It replaces the earlier support_pins
// table, which stored a secret; that table is no longer used.)
type SupportPinState struct{ ent.Schema }

// Mixin implements ent.Schema.
func (SupportPinState) Mixin() []ent.Mixin {
	return []ent.Mixin{pulid.MixinWithPrefix("pin"), TimeMixin{}}
}

// Fields implements ent.Schema.
func (SupportPinState) Fields() []ent.Field {
	return []ent.Field{
		field.String("user_id").GoType(pulid.ID("")).Optional().Nillable().Unique().Immutable(),
		field.String("scoped_login_id").GoType(pulid.ID("")).Optional().Nillable().Unique().Immutable(),
		field.String("nonce").Sensitive().NotEmpty().Immutable().
			Comment("Random per row, so that a login whose state was discarded (self-deletion) never gets an old PIN back. Not secret by itself."),
		field.Int64("counter").Default(0).NonNegative().Comment("Rotations on demand so far."),
		field.Time("rotated_at").Comment("Start of the current rotation; the PIN changes every 7 days from here."),
	}
}

// Annotations implements ent.Schema.
func (SupportPinState) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}

// Policy implements ent.Schema.
func (SupportPinState) Policy() ent.Policy { return systemOnlyPolicy() }
