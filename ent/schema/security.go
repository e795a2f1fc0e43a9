package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"portier/internal/pulid"
)

// OneTimeToken is a single-use link token (e-mail verification, e-mail
// change, password reset). Only its SHA-256 hash is stored.
type OneTimeToken struct{ ent.Schema }

// Mixin implements ent.Schema.
func (OneTimeToken) Mixin() []ent.Mixin {
	return []ent.Mixin{pulid.MixinWithPrefix("ott"), TimeMixin{}}
}

// Fields implements ent.Schema.
func (OneTimeToken) Fields() []ent.Field {
	return []ent.Field{
		// SCOPED_PASSWORD_RESET and REFERENCE_EMAIL belong to a scoped login
		// (user_id then holds the scoped login's ID, prefix "slg").
		field.Enum("purpose").Values("EMAIL_VERIFY", "EMAIL_CHANGE", "PASSWORD_RESET", "STAFF_INVITE",
			"SCOPED_PASSWORD_RESET", "REFERENCE_EMAIL").Immutable(),
		field.String("user_id").GoType(pulid.ID("")).Immutable().
			Comment("The user the token belongs to; for SCOPED_PASSWORD_RESET and REFERENCE_EMAIL the scoped login."),
		field.String("token_hash").Sensitive().Unique().Immutable(),
		field.String("new_email").Optional().Immutable().Comment("EMAIL_VERIFY and EMAIL_CHANGE: the address the link was sent to, and that it verifies."),
		field.Time("expires_at").Immutable(),
		field.Time("used_at").Optional().Nillable(),
		field.Time("invalidated_at").Optional().Nillable().Comment("Set when a newer token of the same purpose replaced it."),
	}
}

// Indexes implements ent.Schema.
func (OneTimeToken) Indexes() []ent.Index {
	return []ent.Index{index.Fields("user_id", "purpose")}
}

// Annotations implements ent.Schema.
func (OneTimeToken) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}

// Policy implements ent.Schema.
func (OneTimeToken) Policy() ent.Policy { return systemOnlyPolicy() }

// LoginChallenge is a pending second-factor step: after the password at
// login, or a fresh confirmation before changing second-factor settings.
type LoginChallenge struct{ ent.Schema }

// Mixin implements ent.Schema.
func (LoginChallenge) Mixin() []ent.Mixin {
	return []ent.Mixin{pulid.MixinWithPrefix("chl"), TimeMixin{}}
}

// Fields implements ent.Schema.
func (LoginChallenge) Fields() []ent.Field {
	return []ent.Field{
		field.Enum("purpose").Values("LOGIN", "STEP_UP", "PHONE_VERIFY").Immutable().
			Comment("LOGIN after the password; STEP_UP to confirm a second factor; PHONE_VERIFY to prove a new phone number."),
		field.String("user_id").GoType(pulid.ID("")).Immutable(),
		field.String("session_id").GoType(pulid.ID("")).Optional().Nillable().Comment("STEP_UP: the session asking."),
		field.Strings("methods").Comment("Methods that can answer this challenge."),
		field.String("code_hash").Sensitive().Optional().Comment("Hash of the code sent by e-mail or SMS."),
		field.String("code_method").Optional().Comment("EMAIL_CODE or SMS_CODE: where the code went."),
		field.String("phone").Optional().Immutable().MaxLen(32).Comment("PHONE_VERIFY, and STEP_UP by SMS: the number the code was sent to, and that it proves."),
		field.Time("code_expires_at").Optional().Nillable(),
		field.Int("attempts").Default(0),
		field.Time("expires_at"),
		field.Time("consumed_at").Optional().Nillable(),
		field.String("ip").Default(""),
		field.String("user_agent").Default(""),
	}
}

// Annotations implements ent.Schema.
func (LoginChallenge) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}

// Policy implements ent.Schema.
func (LoginChallenge) Policy() ent.Policy { return systemOnlyPolicy() }

// RateLimitBucket counts attempts of one kind by one key (an account or a
// client address) in a fixed window. It lives in the database so that limits
// hold across server instances; increments are single atomic upserts.
type RateLimitBucket struct{ ent.Schema }

// Fields implements ent.Schema.
func (RateLimitBucket) Fields() []ent.Field {
	return []ent.Field{
		field.String("id").NotEmpty().MaxLen(300).Immutable().Comment("scope:key, e.g. login:user:usr_… or login:ip:203.0.113.7"),
		field.Time("window_start"),
		field.Int("count").Default(0),
	}
}

// Annotations implements ent.Schema.
func (RateLimitBucket) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}

// Policy implements ent.Schema.
func (RateLimitBucket) Policy() ent.Policy { return systemOnlyPolicy() }

// RetiredIdentifier keeps an e-mail address that a user account gave up (by
// changing it) reserved, so that no other account can ever take it: e-mail
// addresses are usable once, ever. The ID is "email:<address>".
type RetiredIdentifier struct{ ent.Schema }

// Fields implements ent.Schema.
func (RetiredIdentifier) Fields() []ent.Field {
	return []ent.Field{
		field.String("id").NotEmpty().MaxLen(300).Immutable(),
		field.String("user_id").GoType(pulid.ID("")).Immutable().Comment("The user that held it."),
		field.Time("retired_at").Default(nowUTC).Immutable(),
	}
}

// Annotations implements ent.Schema.
func (RetiredIdentifier) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}

// Policy implements ent.Schema.
func (RetiredIdentifier) Policy() ent.Policy { return systemOnlyPolicy() }
