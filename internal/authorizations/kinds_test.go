package authorizations

import (
	"testing"

	"portier/internal/domain"
)

func TestImplies(t *testing.T) {
	all := domain.SupportAuthorizationKinds
	for _, held := range all {
		for _, wanted := range all {
			want := held == wanted || held == domain.AuthGeneralAuthority
			if got := Implies(held, wanted); got != want {
				t.Errorf("Implies(%s, %s) = %v, want %v", held, wanted, got, want)
			}
		}
	}
	// The rows that matter most, spelled out.
	cases := []struct {
		held, wanted domain.SupportAuthorizationKind
		want         bool
	}{
		{domain.AuthGeneralAuthority, domain.AuthOrderingLimited, true},
		{domain.AuthGeneralAuthority, domain.AuthEmergencySLA, true},
		{domain.AuthOrderingUnlimited, domain.AuthOrderingLimited, false},
		{domain.AuthCredentialsITGeneral, domain.AuthCredentialsMailserver, false},
		{domain.AuthFinance, domain.AuthGeneralAuthority, false},
		{domain.AuthVPNRemoteMaintenance, domain.AuthVPNRemoteMaintenance, true},
	}
	for _, c := range cases {
		if got := Implies(c.held, c.wanted); got != c.want {
			t.Errorf("Implies(%s, %s) = %v, want %v", c.held, c.wanted, got, c.want)
		}
	}
	if n := len(Covers(domain.AuthGeneralAuthority)); n != len(all) {
		t.Errorf("GENERAL_AUTHORITY covers %d kinds, want %d", n, len(all))
	}
	if c := Covers(domain.AuthFinance); len(c) != 1 || c[0] != domain.AuthFinance {
		t.Errorf("FINANCE covers %v", c)
	}
}

func TestValidCurrency(t *testing.T) {
	for code, want := range map[string]bool{
		"EUR": true, "CHF": true, "USD": true, "JPY": true, "eur": false, "EURO": false, "": false, "XXX": false, "DEM": false,
	} {
		if got := ValidCurrency(code); got != want {
			t.Errorf("ValidCurrency(%q) = %v, want %v", code, got, want)
		}
	}
}
