package customers

import (
	"errors"
	"strings"
	"testing"

	"portier/ent/schema"
	"portier/internal/apperr"
)

func TestEmailDomain(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"bob@x.de", "x.de"},
		{"  Bob@X.DE ", "x.de"},
		{"a@b@mail.x.de", "mail.x.de"},
		{"no-at-sign", ""},
		{"", ""},
		{"bob@", ""},
	} {
		if got := EmailDomain(c.in); got != c.want {
			t.Errorf("EmailDomain(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestCheckAddressInDomains(t *testing.T) {
	xde := []string{"x.de", "firma.example"}
	for _, c := range []struct {
		name      string
		email     string
		confirmed []string
		override  bool
		outside   bool
		code      string // "" when admitted
		reason    string
	}{
		{"inside", "bob@x.de", xde, false, false, "", ""},
		{"second domain", "bob@firma.example", xde, false, false, "", ""},
		{"upper case and blanks", "  BOB@X.De ", xde, false, false, "", ""},
		{"confirmed given upper case", "bob@x.de", []string{"X.DE"}, false, false, "", ""},
		{"no e-mail", "", xde, false, false, "", ""},
		{"suffix is not the domain", "eve@evilx.de", xde, false, false, apperr.CodeBadUserInput, ReasonEmailOutsideDomains},
		{"subdomain is not the domain", "eve@mail.x.de", xde, false, false, apperr.CodeBadUserInput, ReasonEmailOutsideDomains},
		{"domain as a prefix", "eve@x.de.evil.example", xde, false, false, apperr.CodeBadUserInput, ReasonEmailOutsideDomains},
		{"parent of a domain", "eve@example", xde, false, false, apperr.CodeBadUserInput, ReasonEmailOutsideDomains},
		{"domain in the local part", "x.de@evil.example", xde, false, false, apperr.CodeBadUserInput, ReasonEmailOutsideDomains},
		{"override outside", "eve@evilx.de", xde, true, true, "", ""},
		{"override not needed", "bob@x.de", xde, true, false, "", ""},
		{"no domain", "bob@x.de", nil, false, false, apperr.CodeForbidden, ReasonNoOrganisationDomain},
		{"no domain, no e-mail", "", nil, false, false, apperr.CodeForbidden, ReasonNoOrganisationDomain},
		{"no domain, override", "bob@x.de", nil, true, true, "", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			outside, err := CheckAddressInDomains(c.email, c.confirmed, c.override, "input.email")
			if c.code == "" {
				if err != nil || outside != c.outside {
					t.Fatalf("got outside=%v err=%v, want outside=%v and no error", outside, err, c.outside)
				}
				return
			}
			var ae *apperr.Error
			if !errors.As(err, &ae) || ae.Code != c.code || ae.Reason != c.reason {
				t.Fatalf("got %v, want %s/%s", err, c.code, c.reason)
			}
			if c.code == apperr.CodeBadUserInput && ae.Field != "input.email" {
				t.Fatalf("field %q, want input.email", ae.Field)
			}
			if outside {
				t.Fatal("a refusal reports outside")
			}
		})
	}
}

func TestValidDomain(t *testing.T) {
	long := strings.Repeat("a", 63) + "." + strings.Repeat("b", 63) + "." + strings.Repeat("c", 63) + "." + strings.Repeat("d", 61)
	for _, c := range []struct {
		in   string
		want bool
	}{
		{"x.de", true},
		{"mail.x.de", true},
		{"xn--mnchen-3ya.de", true},
		{"a-b.example", true},
		{"7eleven.com", true},
		{long, true}, // 253 characters
		{long + "d", false},
		{strings.Repeat("a", 64) + ".de", false},
		{"x", false},
		{"localhost", false},
		{"*.x.de", false},
		{"x.de.", false},
		{".x.de", false},
		{"a..de", false},
		{"-x.de", false},
		{"x-.de", false},
		{"x_y.de", false},
		{"münchen.de", false},
		{"X.DE", false}, // not normalised
		{"1.2.3.4", false},
		{"x.de/path", false},
		{"", false},
	} {
		if got := schema.ValidDomain(c.in); got != c.want {
			t.Errorf("ValidDomain(%q) = %v, want %v", c.in, got, c.want)
		}
	}
	if len(long) != 253 {
		t.Fatalf("long is %d characters", len(long))
	}
}

func TestOverrideField(t *testing.T) {
	for in, want := range map[string]string{
		"input.email":             "input.allowOutsideOrganisationDomains",
		"input.initialAdminEmail": "input.allowOutsideOrganisationDomains",
		"token":                   "allowOutsideOrganisationDomains",
	} {
		if got := overrideField(in); got != want {
			t.Errorf("overrideField(%q) = %q, want %q", in, got, want)
		}
	}
}
