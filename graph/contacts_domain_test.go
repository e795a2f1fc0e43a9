package graph_test

import "testing"

// A contact's changed e-mail obeys the organisation-domain rule as a new
// contact's does (issue 8 item 1): inside the confirmed domains only, staff
// may override (audited), nobody else may.
func TestUpdateContactEmailStaysInOrganisationDomains(t *testing.T) {
	e := newEnv(t)
	acct := e.createAccount("80101")
	boss, _ := e.customerUser(acct, "boss@a.example", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	ct := e.createContact(boss, acct, "Dora", "dora@a.example")
	doc := `mutation($id: ID!, $email: String, $o: Boolean) {
  updateContact(input: {id: $id, email: $email, allowOutsideOrganisationDomains: $o}) { id email outsideOrganisationDomains } }`

	e.wantReasonField(boss, doc, map[string]any{"id": ct, "email": "dora@outside.invalid"},
		"BAD_USER_INPUT", "EMAIL_OUTSIDE_ORGANISATION_DOMAINS", "input.email")
	// A look-alike or a subdomain is outside, too.
	e.wantReasonField(boss, doc, map[string]any{"id": ct, "email": "dora@evila.example"},
		"BAD_USER_INPUT", "EMAIL_OUTSIDE_ORGANISATION_DOMAINS", "input.email")
	e.wantReasonField(boss, doc, map[string]any{"id": ct, "email": "dora@mail.a.example"},
		"BAD_USER_INPUT", "EMAIL_OUTSIDE_ORGANISATION_DOMAINS", "input.email")
	// Only staff may override.
	e.wantReasonField(boss, doc, map[string]any{"id": ct, "email": "dora@outside.invalid", "o": true},
		"FORBIDDEN", "OVERRIDE_STAFF_ONLY", "")
	d := e.ok(e.admin, doc, map[string]any{"id": ct, "email": "dora@outside.invalid", "o": true})
	if dig(d, "updateContact", "email") != "dora@outside.invalid" || dig(d, "updateContact", "outsideOrganisationDomains") != true {
		t.Fatalf("staff override: %v", d)
	}
	if e.auditCountOn("organisation_domain.override", ct) != 1 {
		t.Fatal("override not audited")
	}
	// Back inside the domains: the flag goes.
	d = e.ok(boss, doc, map[string]any{"id": ct, "email": "dora@example.org"})
	if dig(d, "updateContact", "outsideOrganisationDomains") != false {
		t.Fatalf("back inside: %v", d)
	}
}
