package customers

import (
	"strings"
	"testing"

	"portier/ent"
	"portier/internal/apperr"
)

func TestCountryCodes(t *testing.T) {
	if n := len(strings.Fields(isoCountries)); n != 249 {
		t.Fatalf("%d country codes, ISO 3166-1 assigns 249", n)
	}
	for code, want := range map[string]bool{"DE": true, "AT": true, "CH": true, "US": true, "GB": true, "XK": false,
		"XX": false, "de": false, "DEU": false, "": false, "D": false, "UK": false, "EU": false} {
		if got := ValidCountry(code); got != want {
			t.Errorf("ValidCountry(%q) = %v, want %v", code, got, want)
		}
	}
}

func ptr[T any](v T) *T { return &v }

func TestValidateAccountChanges(t *testing.T) {
	stored := &ent.CustomerAccount{Name: "Alt", AddressStreet: "Weg 1", AddressCity: "Köln", AddressCountry: "DE"}
	for _, c := range []struct {
		name  string
		in    AccountChanges
		field string // "" means valid
		check func(normalized) bool
	}{
		{"name trimmed", AccountChanges{Name: ptr("  Neu  ")}, "", func(n normalized) bool { return *n.name == "Neu" }},
		{"name empty", AccountChanges{Name: ptr(" ")}, "input.name", nil},
		{"name 200", AccountChanges{Name: ptr(strings.Repeat("n", 200))}, "", nil},
		{"name 201", AccountChanges{Name: ptr(strings.Repeat("n", 201))}, "input.name", nil},
		{"short name cleared", AccountChanges{ShortName: ptr("")}, "", func(n normalized) bool { return *n.shortName == "" }},
		{"short name 51", AccountChanges{ShortName: ptr(strings.Repeat("s", 51))}, "input.shortName", nil},
		{"one address part keeps the others", AccountChanges{Address: &AddressChanges{City: ptr("Bonn")}}, "",
			func(n normalized) bool { return *n.address == Address{Street: "Weg 1", City: "Bonn", Country: "DE"} }},
		{"country upper-cased", AccountChanges{Address: &AddressChanges{Country: ptr(" at ")}}, "",
			func(n normalized) bool { return n.address.Country == "AT" }},
		{"country cleared", AccountChanges{Address: &AddressChanges{Country: ptr("")}}, "",
			func(n normalized) bool { return n.address.Country == "" }},
		{"country unknown", AccountChanges{Address: &AddressChanges{Country: ptr("ZZ")}}, "input.address.country", nil},
		{"postal code 21", AccountChanges{Address: &AddressChanges{PostalCode: ptr(strings.Repeat("1", 21))}}, "input.address.postalCode", nil},
		{"zone", AccountChanges{TimeZone: ptr("Asia/Tokyo")}, "", nil},
		{"zone unknown", AccountChanges{TimeZone: ptr("Europe/Atlantis")}, "input.timeZone", nil},
		{"zone Local", AccountChanges{TimeZone: ptr("Local")}, "input.timeZone", nil},
		{"locale", AccountChanges{Locale: ptr("EN")}, "", func(n normalized) bool { return *n.locale == "en" }},
		{"locale unknown", AccountChanges{Locale: ptr("fr")}, "input.locale", nil},
	} {
		n, err := c.in.validate(stored)
		if c.field == "" {
			if err != nil {
				t.Errorf("%s: %v", c.name, err)
			} else if c.check != nil && !c.check(n) {
				t.Errorf("%s: normalised to %+v", c.name, n)
			}
			continue
		}
		e, ok := err.(*apperr.Error)
		if !ok || e.Code != apperr.CodeBadUserInput || e.Field != c.field {
			t.Errorf("%s: want BAD_USER_INPUT on %s, got %v", c.name, c.field, err)
		}
	}
}
