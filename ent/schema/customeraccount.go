package schema

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/privacy"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"

	"portier/internal/domain"
	"portier/internal/pulid"
)

// CustomerNumberPattern is what a customer number (Kundennummer) looks like
// after normalisation: upper-case letters, digits and inner dashes.
var CustomerNumberPattern = regexp.MustCompile(`^[A-Z0-9](?:[A-Z0-9-]{1,30}[A-Z0-9])$`)

// CountryCodePattern is an ISO 3166-1 alpha-2 code, upper-case.
var CountryCodePattern = regexp.MustCompile(`^[A-Z]{2}$`)

// NormalizeCustomerNumber trims and upper-cases a customer number.
func NormalizeCustomerNumber(s string) string { return strings.ToUpper(strings.TrimSpace(s)) }

// CustomerAccount is the tenant: one customer of the provider, identified
// by its customer number. Accounts are never hard-deleted, so a number stays
// reserved forever and a new account can never inherit an old one's rights.
type CustomerAccount struct{ ent.Schema }

// Mixin implements ent.Schema.
func (CustomerAccount) Mixin() []ent.Mixin {
	return []ent.Mixin{pulid.MixinWithPrefix("acct"), TimeMixin{}}
}

// Fields implements ent.Schema.
func (CustomerAccount) Fields() []ent.Field {
	return []ent.Field{
		field.String("number").Immutable().Unique().
			Match(CustomerNumberPattern).
			Comment("The customer number (Kundennummer): unique forever, also after the account is deleted.").
			Annotations(entgql.OrderField("NUMBER")),
		field.String("name").NotEmpty().MaxLen(200).
			Comment("The customer's name.").
			Annotations(entgql.OrderField("NAME")),
		field.String("short_name").Optional().MaxLen(50).
			Comment("A short name (Kurzname)."),
		field.Enum("kind").Values("PERSONAL", "BUSINESS").Default("BUSINESS").
			Comment("PERSONAL (exactly one contact: its owner) or BUSINESS (contacts with addresses in its confirmed organisation domains). Staff switch PERSONAL to BUSINESS with convertToBusinessAccount."),
		field.String("time_zone").Default("Europe/Berlin").
			Validate(func(s string) error { _, err := time.LoadLocation(s); return err }).
			Comment("IANA time zone; validity dates end at midnight of this zone."),
		field.Enum("status").Values("ACTIVE", "DEACTIVATED", "DELETED").Default("ACTIVE").
			Comment("ACTIVE; DEACTIVATED blocks all its people but keeps all data; DELETED keeps the number reserved.").
			Annotations(entgql.OrderField("STATUS")),
		field.Time("deactivated_at").Optional().Nillable().Comment("When the account was deactivated."),
		field.Time("deleted_at").Optional().Nillable().Comment("When the account was deleted."),
		field.Bool("has_sla").Default(false).Comment("Whether the customer has an SLA (needed for EMERGENCY_SLA)."),
		field.String("sla_until").GoType(caldateType).Optional().Nillable().
			Comment("The last day (inclusive, in the account's time zone) of the SLA; null with hasSLA means open-ended.").
			Annotations(entgql.Type("Date"), entgql.Skip(entgql.SkipWhereInput)),
		field.Bool("portal_enabled").Default(true).Comment("Whether the customer may use the portal (remote access)."),
		field.Int64("storage_quota_bytes").Optional().Nillable().NonNegative().
			Comment("Size of the data exchange area, in bytes; null means none."),
		field.Bool("is_agency").Default(false).Comment("Whether this customer can act as an agency for other customers."),
		field.String("default_agency_id").GoType(pulid.ID("")).Optional().Nillable().
			Comment("The agency preselected for this customer.").
			Annotations(entgql.Type("ID"), entgql.Skip(entgql.SkipWhereInput)),
		field.Bool("support_access_consent").Default(false).
			Comment("Whether the provider's support staff may see the account's contents beyond support operations."),
		// The postal address (master data). Exposed as
		// CustomerAccount.address (schema/accountadmin.graphqls).
		field.String("address_street").Optional().MaxLen(200).
			Comment("Street and house number.").Annotations(entgql.Skip(entgql.SkipAll)),
		field.String("address_postal_code").Optional().MaxLen(20).
			Comment("Postal code.").Annotations(entgql.Skip(entgql.SkipAll)),
		field.String("address_city").Optional().MaxLen(100).
			Comment("City.").Annotations(entgql.Skip(entgql.SkipAll)),
		field.String("address_country").Optional().Match(CountryCodePattern).
			Comment("ISO 3166-1 alpha-2 country code, upper-case.").Annotations(entgql.Skip(entgql.SkipAll)),
		field.String("locale").Default("de").
			Validate(func(s string) error {
				if s != "de" && s != "en" {
					return fmt.Errorf("locale %q is neither de nor en", s)
				}
				return nil
			}).
			Comment("The account's language for messages and documents: de or en.").
			Annotations(entgql.Skip(entgql.SkipWhereInput)),
		field.Bool("second_factor_required").Default(false).
			Comment("Whether the account requires a second factor: its users (and their API keys) without an enabled second factor hold no permission on it until they enrol.").
			Annotations(entgql.Skip(entgql.SkipWhereInput)),
	}
}

// Edges implements ent.Schema.
func (CustomerAccount) Edges() []ent.Edge {
	noWhere := entgql.Skip(entgql.SkipWhereInput)
	return []ent.Edge{
		// Exposed by schema/domains.graphqls as a non-null list.
		edge.To("organisation_domains", OrganisationDomain.Type).Annotations(entgql.Skip(entgql.SkipAll)),
		edge.To("contacts", Contact.Type).
			Comment("People known to this account.").
			Annotations(entgql.RelayConnection()),
		edge.To("role_assignments", RoleAssignment.Type).Annotations(entgql.Skip(entgql.SkipAll)),
		edge.To("support_authorizations", SupportAuthorization.Type).
			Comment("Support authorizations (Freigaben) of the account's contacts, active and past; empty without AUTHORIZATIONS_READ.").
			Annotations(entgql.MapsTo("authorizations")),
		edge.To("rights_groups", RightsGroup.Type).Comment("Rights groups of this account.").Annotations(noWhere),
		edge.To("group_memberships", GroupMembership.Type).Annotations(entgql.Skip(entgql.SkipAll)),
		edge.To("resources", Resource.Type).Comment("Resources the customer owns.").Annotations(noWhere),
		edge.To("scoped_logins", ScopedLogin.Type).Annotations(entgql.Skip(entgql.SkipAll)),
		edge.To("invitations", Invitation.Type).Annotations(entgql.Skip(entgql.SkipAll)),
		edge.To("delegations_granted", AgencyDelegation.Type).
			Comment("Delegations this account (as client) granted to agencies, active and past.").
			Annotations(entgql.MapsTo("agencyDelegations")),
		edge.To("account_managers", AccountManager.Type).Annotations(entgql.Skip(entgql.SkipAll)),
		edge.To("audit_events", AuditEvent.Type).Annotations(entgql.Skip(entgql.SkipAll)),
		edge.To("api_keys", APIKey.Type).Annotations(entgql.Skip(entgql.SkipAll)),
		// An agency may be the default agency of many clients: the clients
		// edge is one-to-many, so default_agency_id is not unique.
		edge.To("default_agency_clients", CustomerAccount.Type).Annotations(entgql.Skip(entgql.SkipAll)).
			From("default_agency").Field("default_agency_id").Unique().
			Comment("The agency preselected for this customer.").Annotations(noWhere),
		edge.To("delegations_received", AgencyDelegation.Type).Annotations(entgql.Skip(entgql.SkipAll)),
	}
}

// Annotations implements ent.Schema.
func (CustomerAccount) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.RelayConnection(), entgql.MultiOrder()}
}

// Policy implements ent.Schema.
func (CustomerAccount) Policy() ent.Policy {
	return privacy.Policy{
		Query: privacy.QueryPolicy{
			allowSystem(),
			denyAnonymous(),
			filterQuery("id", domain.PermAccountRead, ""),
			privacy.AlwaysDenyRule(),
		},
		Mutation: privacy.MutationPolicy{
			denyOps(ent.OpDelete|ent.OpDeleteOne, "customer accounts are never deleted, only marked DELETED"),
			allowSystem(),
			denyAnonymous(),
			privacy.OnMutationOperation(allowStaff(domain.StaffAdmin), ent.OpCreate),
			privacy.OnMutationOperation(privacy.AlwaysDenyRule(), ent.OpCreate),
			filterMutation("id", domain.PermAccountUpdate),
			privacy.AlwaysDenyRule(),
		},
	}
}
