package schema

import (
	"errors"
	"strings"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/privacy"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"portier/internal/domain"
	"portier/internal/pulid"
)

// NormalizeDomain trims and lower-cases a domain name. It does nothing
// else: "Mail.X.de" becomes "mail.x.de", never "x.de".
func NormalizeDomain(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// ValidDomain reports whether s (already normalised) is an organisation
// domain Portier accepts: a lower-case ASCII host name of at most 253
// characters with at least one dot, labels of 1 to 63 letters, digits and
// inner hyphens, no wildcard, no trailing dot, and a top-level label that is
// not all digits (so no IP address). Internationalised names are given in
// their ASCII (xn--) form.
func ValidDomain(s string) bool {
	if len(s) == 0 || len(s) > 253 || !strings.Contains(s, ".") {
		return false
	}
	labels := strings.Split(s, ".")
	for _, l := range labels {
		if len(l) == 0 || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	tld := labels[len(labels)-1]
	return strings.Trim(tld, "0123456789") != ""
}

// OrganisationDomain is a domain of a customer's organisation:
// proposed by a customer admin, confirmed by the provider's staff. On a
// BUSINESS account, new contacts and invitations need an e-mail address in
// one of the CONFIRMED domains (internal/customers CheckNewContactAddress).
type OrganisationDomain struct{ ent.Schema }

// Mixin implements ent.Schema.
func (OrganisationDomain) Mixin() []ent.Mixin {
	return []ent.Mixin{
		pulid.MixinWithPrefix("odm"), TimeMixin{},
		orgDomainOwned{AccountOwned{Ref: "organisation_domains", Read: domain.PermAccountRead, Manage: domain.PermAccountUpdate}},
	}
}

// Fields implements ent.Schema.
func (OrganisationDomain) Fields() []ent.Field {
	return []ent.Field{
		field.String("domain").NotEmpty().MaxLen(253).Immutable().
			Validate(func(s string) error {
				if !ValidDomain(s) {
					return errors.New("not a lower-case host name with a dot")
				}
				return nil
			}).
			Comment("The domain, a lower-case ASCII host name (e.g. \"firma.de\"). Only addresses whose domain equals it exactly count as inside: not its subdomains."),
		field.Enum("status").Values("PROPOSED", "CONFIRMED").Default("PROPOSED").
			Comment("PROPOSED by the customer, or CONFIRMED by the provider's staff; only confirmed domains admit contacts."),
		field.String("proposed_by_id").GoType(pulid.ID("")).Optional().Nillable().Immutable().
			Comment("The user who proposed (or, staff, added) the domain.").Annotations(entgql.Type("ID")),
		field.String("confirmed_by_id").GoType(pulid.ID("")).Optional().Nillable().
			Comment("The staff user who confirmed the domain.").Annotations(entgql.Type("ID")),
		field.Time("confirmed_at").Optional().Nillable().Comment("When the domain was confirmed."),
	}
}

// Indexes implements ent.Schema.
func (OrganisationDomain) Indexes() []ent.Index {
	return []ent.Index{index.Fields("customer_account_id", "domain").Unique()}
}

// Annotations implements ent.Schema.
func (OrganisationDomain) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipWhereInput)}
}

// orgDomainOwned is the AccountOwned mixin with one addition to its policy:
// staff SUPPORT (and ADMIN) may update and delete organisation domains of
// any account — confirming and removing them is the provider's check of
// who the customer is (confirmOrganisationDomain, removeOrganisationDomain),
// although SUPPORT holds no ACCOUNT_UPDATE. Creating one still needs
// ACCOUNT_UPDATE on the account.
type orgDomainOwned struct{ AccountOwned }

// Policy implements ent.Mixin.
func (m orgDomainOwned) Policy() ent.Policy {
	return privacy.Policy{
		Query: privacy.QueryPolicy{
			allowSystem(),
			denyAnonymous(),
			filterQuery("customer_account_id", m.Read, ""),
			privacy.AlwaysDenyRule(),
		},
		Mutation: privacy.MutationPolicy{
			allowSystem(),
			denyAnonymous(),
			privacy.OnMutationOperation(allowStaff(domain.StaffSupport), ent.OpUpdate|ent.OpUpdateOne|ent.OpDelete|ent.OpDeleteOne),
			filterMutation("customer_account_id", m.Manage),
			privacy.AlwaysDenyRule(),
		},
	}
}
