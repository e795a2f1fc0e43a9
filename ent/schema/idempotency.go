package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// IdempotencyKey remembers the answer to a mutation sent with an
// Idempotency-Key header, so that a client that did not get the answer
// (a dropped connection, an unknown commit outcome) can send the same
// request again and get the same answer instead of a second change. It is
// written in the mutation's own transaction: it exists exactly when the
// change was committed.
type IdempotencyKey struct{ ent.Schema }

// Fields implements ent.Schema.
func (IdempotencyKey) Fields() []ent.Field {
	return []ent.Field{
		field.String("id").NotEmpty().MaxLen(64).Immutable().
			Comment("Hex SHA-256 of the principal and the client's key: keys of different principals never meet."),
		field.String("request_hash").NotEmpty().MaxLen(64).Immutable().
			Comment("Hex SHA-256 of the document, operation name and variables: a key reused for another request is refused."),
		field.Text("response").Immutable().
			Comment("The data of the answer, as JSON."),
		field.Time("created_at").Default(nowUTC).Immutable(),
		field.Time("expires_at").Immutable().Comment("After this the key is forgotten."),
	}
}

// Indexes implements ent.Schema.
func (IdempotencyKey) Indexes() []ent.Index {
	return []ent.Index{index.Fields("expires_at")}
}

// Annotations implements ent.Schema.
func (IdempotencyKey) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}

// Policy implements ent.Schema.
func (IdempotencyKey) Policy() ent.Policy { return systemOnlyPolicy() }
