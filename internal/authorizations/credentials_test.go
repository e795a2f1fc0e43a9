package authorizations

import (
	"slices"
	"testing"

	"portier/ent/resource"
	"portier/internal/authz"
	"portier/internal/domain"
)

// The credentials table of the evaluator agrees with Implies: a kind that
// lets its holder manage a resource's credentials is implied by nothing
// that is not listed too, and GENERAL_AUTHORITY covers every resource.
func TestCredentialAuthorizationsAgreeWithImplies(t *testing.T) {
	want := map[resource.Kind][]domain.SupportAuthorizationKind{
		resource.KindWEB_VHOST:  {domain.AuthCredentialsWebserver, domain.AuthCredentialsITGeneral},
		resource.KindMAIL_VHOST: {domain.AuthCredentialsMailserver, domain.AuthCredentialsITGeneral},
		resource.KindMAILBOX:    {domain.AuthCredentialsMailserver, domain.AuthCredentialsITGeneral},
		resource.KindDNS_ZONE:   {domain.AuthCredentialsITGeneral},
		resource.KindDOMAIN:     {domain.AuthCredentialsITGeneral},
		resource.KindSERVER:     {domain.AuthCredentialsITGeneral},
		resource.KindVPN:        {domain.AuthCredentialsITGeneral},
	}
	for k, base := range want {
		got := authz.CredentialAuthorizations(k)
		for _, held := range domain.SupportAuthorizationKinds {
			implied := false
			for _, b := range base {
				implied = implied || Implies(held, b)
			}
			if slices.Contains(got, held) != implied {
				t.Errorf("%s: holding %s allows=%v, want %v", k, held, slices.Contains(got, held), implied)
			}
		}
	}
}
