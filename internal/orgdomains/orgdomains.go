// Package orgdomains answers whether an e-mail address lies inside a
// customer account's confirmed organisation domains. It is the
// one definition of "inside", shared by the contact rules (internal/customers)
// and by contacts following their user's new address (internal/identity).
package orgdomains

import (
	"context"
	"strings"

	"portier/ent"
	"portier/ent/organisationdomain"
	"portier/ent/schema"
	"portier/internal/pulid"
	"portier/internal/viewer"
)

// EmailDomain returns the normalised domain of an e-mail address, or "".
func EmailDomain(email string) string {
	email = schema.NormalizeEmail(email)
	at := strings.LastIndexByte(email, '@')
	if at < 0 {
		return ""
	}
	return email[at+1:]
}

// InDomains reports whether the e-mail address's domain equals one of the
// (normalised) domains exactly. Never a suffix match: a subdomain is not
// inside its parent.
func InDomains(email string, domains []string) bool {
	d := EmailDomain(email)
	if d == "" {
		return false
	}
	for _, x := range domains {
		if d == schema.NormalizeDomain(x) {
			return true
		}
	}
	return false
}

// Confirmed returns the confirmed domains of an account, read as Portier
// through c (the rule must see them whoever asks).
func Confirmed(ctx context.Context, c *ent.Client, accountID pulid.ID) ([]string, error) {
	return c.OrganisationDomain.Query().
		Where(organisationdomain.CustomerAccountID(accountID), organisationdomain.StatusEQ(organisationdomain.StatusCONFIRMED)).
		Select(organisationdomain.FieldDomain).Strings(viewer.SystemContext(ctx))
}
