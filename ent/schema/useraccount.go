package schema

import (
	"context"
	"strings"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/entql"
	"entgo.io/ent/privacy"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"portier/internal/domain"
	"portier/internal/pulid"
	"portier/internal/viewer"
)

// NormalizeEmail trims and lower-cases an e-mail address.
func NormalizeEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// ValidEmail is a deliberately simple check: one @, a dot in the domain, no
// spaces or separators. Whether the address works is proven by the link.
func ValidEmail(s string) bool {
	at := strings.LastIndexByte(s, '@')
	return len(s) <= 254 && at > 0 && at < len(s)-3 && strings.Contains(s[at:], ".") &&
		strings.Count(s, "@") == 1 && !strings.ContainsAny(s, " \t\r\n<>,;\"()[]\\")
}

// private marks user fields that only the user and the provider's staff may
// read (customer admins see the people behind their contacts, but not how
// they log in): the @selfOrStaff directive enforces it.
var private = entgql.Directives(entgql.Directive{Name: "selfOrStaff"})

// UserAccount is a personal login. One user may act for many customer
// accounts, through contacts linked to it. E-mail and username are unique
// forever: deleting a user only marks it DELETED, the row stays.
type UserAccount struct{ ent.Schema }

// Mixin implements ent.Schema.
func (UserAccount) Mixin() []ent.Mixin {
	return []ent.Mixin{pulid.MixinWithPrefix("usr"), TimeMixin{}}
}

// Fields implements ent.Schema.
func (UserAccount) Fields() []ent.Field {
	return []ent.Field{
		// Only a verified address sits in the unique column: an unverified
		// account never holds an address against its real owner (pre-account
		// hijacking; see internal/identity). Until verification the address
		// waits in pending_email, which any number of accounts may claim;
		// the first that proves it wins and the other claims are voided.
		field.String("email").Optional().Unique().NotEmpty().MaxLen(254).
			Comment("The verified e-mail address, trimmed and lower-case; unique forever. Empty until an address is verified.").
			Annotations(entgql.OrderField("EMAIL")),
		field.String("pending_email").Optional().NotEmpty().MaxLen(254).
			Comment("The address given at sign-up, waiting for verification; not unique, and void once another account verifies it.").
			Annotations(private, entgql.Skip(entgql.SkipWhereInput|entgql.SkipOrderField)),
		field.Time("email_verified_at").Optional().Nillable().
			Comment("When the e-mail address was verified; null while unverified."),
		field.String("username").Unique().NotEmpty().MaxLen(64).
			Comment("Login name, trimmed and lower-case; unique forever.").
			Annotations(entgql.OrderField("USERNAME")),
		field.String("name").Default("").MaxLen(200).Comment("Full name."),
		field.String("phone").Optional().MaxLen(32).
			Comment("Mobile number (E.164), also used for SMS codes once verified (phoneVerifiedAt).").
			Annotations(private),
		// A number set before phone verification existed has no
		// phone_verified_at: it counts as unverified (no SMS codes go to it)
		// until the user sets and verifies it with setPhoneNumber.
		field.Time("phone_verified_at").Optional().Nillable().
			Comment("When the phone number was verified by an SMS code; null while unverified. SMS codes go only to a verified number.").
			Annotations(private),
		field.String("pending_phone").Optional().MaxLen(32).
			Comment("A new mobile number (E.164) waiting for its SMS code (verifyPhoneNumber); the current phone stays in force until then.").
			Annotations(private, entgql.Skip(entgql.SkipWhereInput|entgql.SkipOrderField)),
		// The reference e-mail address (issue 9 item 3): a second address for password reset links. It is set only
		// by confirming a link sent to it (requestReferenceEmailChange,
		// confirmReferenceEmail); the pending address waits in the token.
		// Never a login identifier, never matched against contacts, not
		// unique, not filterable.
		field.String("reference_email").Optional().Nillable().NotEmpty().MaxLen(254).
			Comment("The confirmed reference e-mail address: password reset links go to it as well as to the e-mail address. Null when none is set.").
			Annotations(private, entgql.Skip(entgql.SkipWhereInput|entgql.SkipOrderField)),
		field.Time("reference_email_confirmed_at").Optional().Nillable().
			Comment("When the reference e-mail address was confirmed through the link sent to it; null when none is set.").
			Annotations(private, entgql.Skip(entgql.SkipWhereInput|entgql.SkipOrderField)),
		field.String("locale").Default("de").Comment("Language for messages: de or en."),
		field.String("password_hash").Sensitive().Optional().
			Annotations(entgql.Skip(entgql.SkipAll)),
		field.Time("password_changed_at").Optional().Nillable().
			Comment("When the password was last set.").
			Annotations(private),
		field.Bool("must_change_password").Default(false).
			Comment("When true the user can do nothing but change the password.").
			Annotations(private),
		field.Strings("second_factor_methods").Optional().
			Comment("Enabled second-factor methods (EMAIL_CODE, SMS_CODE, TOTP).").
			Annotations(private),
		field.String("totp_secret").Sensitive().Optional().
			Annotations(entgql.Skip(entgql.SkipAll)),
		field.Strings("recovery_code_hashes").Sensitive().Optional().
			Annotations(entgql.Skip(entgql.SkipAll)),
		field.String("pending_totp_secret").Sensitive().Optional().
			Annotations(entgql.Skip(entgql.SkipAll)),
		field.Int64("totp_last_step").Optional().Nillable().
			Comment("The last accepted TOTP time step: a code is never accepted twice.").
			Annotations(entgql.Skip(entgql.SkipAll)),
		field.Enum("status").Values("ACTIVE", "DISABLED", "DELETED").Default("ACTIVE").
			Comment("ACTIVE; DISABLED by staff; DELETED by the user (restorable by support)."),
		field.Time("deleted_at").Optional().Nillable().Comment("When the user deleted the account.").
			Annotations(private),
		field.Time("anonymised_at").Optional().Nillable().
			Comment("When the deleted account's personal data was erased (90 days after deletion); it cannot be restored since.").
			Annotations(private),
		field.Time("last_login_at").Optional().Nillable().Comment("Last successful login.").
			Annotations(private),
		field.Enum("staff_role").GoType(domain.StaffRole("")).Optional().Nillable().
			Comment("The provider staff role; null for customers' users.").
			Annotations(entgql.Type("StaffRole"), private),
	}
}

// Edges implements ent.Schema.
func (UserAccount) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("contacts", Contact.Type).
			Comment("The contacts (one per customer account) linked to this user.").
			Annotations(entgql.Skip(entgql.SkipWhereInput)),
		edge.To("sessions", Session.Type).Annotations(entgql.Skip(entgql.SkipAll)),
		edge.To("api_keys", APIKey.Type).Annotations(entgql.Skip(entgql.SkipAll)),
		edge.To("managed_accounts", AccountManager.Type).Annotations(entgql.Skip(entgql.SkipAll)),
	}
}

// Indexes implements ent.Schema.
func (UserAccount) Indexes() []ent.Index {
	return []ent.Index{index.Fields("pending_email")}
}

// Annotations implements ent.Schema.
func (UserAccount) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.RelayConnection(), entgql.MultiOrder()}
}

// Policy implements ent.Schema: staff see every user; a user sees itself and
// the users behind contacts of accounts where it may read contacts.
func (UserAccount) Policy() ent.Policy {
	visible := filterFunc(func(ctx context.Context, f filter) error {
		v := viewer.FromContext(ctx)
		scope, err := v.Access.Accounts(ctx, domain.PermContactsRead)
		if err != nil {
			return privacy.Denyf("evaluating permissions: %v", err)
		}
		pred := entql.FieldEQ("id", v.UserID)
		if len(scope.IDs) > 0 {
			pred = entql.Or(pred, entql.HasEdgeWith("contacts", inIDs("customer_account_id", scope.IDs)))
		}
		f.Where(pred)
		return privacy.Allow
	})
	self := privacy.MutationRuleFunc(func(ctx context.Context, m ent.Mutation) error {
		v := viewer.FromContext(ctx)
		if m.Op().Is(ent.OpCreate) || v.UserID == "" {
			return privacy.Skip
		}
		return restrict(m, entql.FieldEQ("id", v.UserID))
	})
	return privacy.Policy{
		Query: privacy.QueryPolicy{
			allowSystem(), denyAnonymous(), allowStaff(domain.StaffSupport),
			visible, privacy.AlwaysDenyRule(),
		},
		Mutation: privacy.MutationPolicy{
			denyOps(ent.OpDelete|ent.OpDeleteOne, "user accounts are never deleted, only marked DELETED"),
			allowSystem(), denyAnonymous(), allowStaff(domain.StaffAdmin), self, privacy.AlwaysDenyRule(),
		},
	}
}
