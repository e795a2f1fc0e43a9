package graph_test

import (
	"fmt"
	"testing"
	"time"

	"portier/internal/domain"
)

const grantAuthDoc = `mutation($c: ID!, $k: SupportAuthorizationKind!, $u: Date, $s: OrderingScopeInput) {
  grantSupportAuthorization(input: {contactID: $c, kind: $k, validUntil: $u, scope: $s}) {
    id kind validUntil endedAt active covers scopeBusinessArea scopeBudgetCents scopeCurrency grantedByID
  }
}`

const changeAuthDoc = `mutation($id: ID!, $u: Date) {
  changeSupportAuthorizationValidity(input: {authorizationID: $id, validUntil: $u}) { id validUntil active }
}`

const revokeAuthDoc = `mutation($id: ID!, $d: Date) {
  revokeSupportAuthorization(input: {authorizationID: $id, lastDay: $d}) { id validUntil endedAt active }
}`

const setSlaDoc = `mutation($a: ID!, $u: Date, $on: Boolean) {
  setAccountSla(input: {customerAccountID: $a, slaUntil: $u, hasSLA: $on}) { id hasSLA slaUntil }
}`

const contactAuthsDoc = `query($id: ID!) { node(id: $id) { ... on Contact { authorizations { id kind active endedAt validUntil } } } }`

// berlinDay returns the date n days after the clock's day in Europe/Berlin.
func berlinDay(e *env, n int) string {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	return e.clock.Now().In(berlin).AddDate(0, 0, n).Format("2006-01-02")
}

// endOfBerlinDay is the first instant after the day n days from the clock's day.
func endOfBerlinDay(e *env, n int) time.Time {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	d := e.clock.Now().In(berlin).AddDate(0, 0, n)
	return time.Date(d.Year(), d.Month(), d.Day()+1, 0, 0, 0, 0, berlin)
}

func wantField(t *testing.T, r response, field string) {
	t.Helper()
	if r.Errors[0].Extensions["field"] != field {
		t.Fatalf("want field %s: %s", field, r.Raw)
	}
}

func TestAuthorizationsGrantListRevoke(t *testing.T) {
	e := newEnv(t)
	a := e.createAccount("61001")
	b := e.createAccount("61002")
	adminA, _ := e.customerUser(a, "admin@a.example", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	techA, _ := e.customerUser(a, "tech@a.example", "PORTAL_ACCESS", "TECHNICAL_CONTACT")
	portalA, _ := e.customerUser(a, "portal@a.example", "PORTAL_ACCESS")
	adminB, _ := e.customerUser(b, "admin@b.example", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	support := e.createUser("support@provider.example", domain.StaffSupport)
	sales := e.createUser("sales@provider.example", domain.StaffSales)
	person := e.createContact(adminA, a, "Geschäftsführerin", "gf@a.example")
	vars := func(kind string) map[string]any { return map[string]any{"c": person, "k": kind} }

	// Denials: anonymous, a role without AUTHORIZATIONS_MANAGE (FORBIDDEN:
	// the account is visible), another customer (NOT_FOUND, as for a made-up
	// ID), support and unassigned sales staff.
	e.wantCode("", grantAuthDoc, vars("GENERAL_AUTHORITY"), "UNAUTHENTICATED")
	e.wantCode(techA, grantAuthDoc, vars("GENERAL_AUTHORITY"), "FORBIDDEN")
	e.wantCode(portalA, grantAuthDoc, vars("GENERAL_AUTHORITY"), "FORBIDDEN")
	rB := e.wantCode(adminB, grantAuthDoc, vars("GENERAL_AUTHORITY"), "NOT_FOUND")
	rX := e.wantCode(adminB, grantAuthDoc, map[string]any{"c": "ctc_01JZZZZZZZZZZZZZZZZZZZZZZZ", "k": "GENERAL_AUTHORITY"}, "NOT_FOUND")
	if rB.Errors[0].Message != rX.Errors[0].Message {
		t.Fatalf("existence oracle: %q vs %q", rB.Errors[0].Message, rX.Errors[0].Message)
	}
	e.wantCode(support, grantAuthDoc, vars("GENERAL_AUTHORITY"), "FORBIDDEN")
	e.wantCode(sales, grantAuthDoc, vars("GENERAL_AUTHORITY"), "NOT_FOUND")

	// Grant: GENERAL_AUTHORITY covers every kind.
	d := e.ok(adminA, grantAuthDoc, map[string]any{"c": person, "k": "GENERAL_AUTHORITY", "u": berlinDay(e, 30)})
	ga := dig(d, "grantSupportAuthorization").(map[string]any)
	if ga["active"] != true || len(ga["covers"].([]any)) != len(domain.SupportAuthorizationKinds) || ga["validUntil"] != berlinDay(e, 30) {
		t.Fatalf("granted %v", ga)
	}
	e.wantCode(adminA, grantAuthDoc, vars("GENERAL_AUTHORITY"), "CONFLICT")
	// The API name of FINANCE is FINANCE_INVOICES, both ways.
	d = e.ok(adminA, grantAuthDoc, vars("FINANCE_INVOICES"))
	if dig(d, "grantSupportAuthorization", "kind") != "FINANCE_INVOICES" {
		t.Fatalf("finance: %v", d)
	}
	if r := e.do(adminA, grantAuthDoc, vars("FINANCE")); len(r.Errors) == 0 {
		t.Fatalf("the stored name FINANCE was accepted: %s", r.Raw)
	}
	for _, k := range []string{"ORDERING_UNLIMITED", "VPN_REMOTE_MAINTENANCE", "CREDENTIALS_IT_GENERAL", "CREDENTIALS_MAILSERVER", "CREDENTIALS_WEBSERVER"} {
		e.ok(adminA, grantAuthDoc, vars(k))
	}
	// A past last day is refused.
	wantField(t, e.wantCode(adminA, grantAuthDoc, map[string]any{"c": person, "k": "EMERGENCY_SLA", "u": berlinDay(e, -1)}, "BAD_USER_INPUT"), "input.validUntil")

	// ORDERING_LIMITED: staff only, with a valid scope.
	scope := map[string]any{"businessArea": "Webhosting", "budgetCents": 500000, "currency": "eur"}
	e.wantCode(adminA, grantAuthDoc, map[string]any{"c": person, "k": "ORDERING_LIMITED", "s": scope}, "FORBIDDEN")
	wantField(t, e.wantCode(e.admin, grantAuthDoc, vars("ORDERING_LIMITED"), "BAD_USER_INPUT"), "input.scope")
	for field, bad := range map[string]map[string]any{
		"input.scope.currency":     {"businessArea": "Web", "budgetCents": 100, "currency": "EURO"},
		"input.scope.budgetCents":  {"businessArea": "Web", "budgetCents": 0, "currency": "EUR"},
		"input.scope.businessArea": {"businessArea": "  ", "budgetCents": 100, "currency": "EUR"},
	} {
		wantField(t, e.wantCode(e.admin, grantAuthDoc, map[string]any{"c": person, "k": "ORDERING_LIMITED", "s": bad}, "BAD_USER_INPUT"), field)
	}
	wantField(t, e.wantCode(e.admin, grantAuthDoc, map[string]any{"c": person, "k": "ORDERING_UNLIMITED", "s": scope}, "BAD_USER_INPUT"), "input.scope")
	d = e.ok(e.admin, grantAuthDoc, map[string]any{"c": person, "k": "ORDERING_LIMITED", "s": scope})
	ol := dig(d, "grantSupportAuthorization").(map[string]any)
	if ol["scopeCurrency"] != "EUR" || ol["scopeBudgetCents"].(float64) != 500000 || ol["scopeBusinessArea"] != "Webhosting" {
		t.Fatalf("ordering limited: %v", ol)
	}
	// The customer may shorten it, not extend it.
	e.ok(adminA, changeAuthDoc, map[string]any{"id": ol["id"], "u": berlinDay(e, 10)})
	e.wantCode(adminA, changeAuthDoc, map[string]any{"id": ol["id"], "u": berlinDay(e, 20)}, "FORBIDDEN")
	e.ok(e.admin, changeAuthDoc, map[string]any{"id": ol["id"], "u": berlinDay(e, 20)})

	// EMERGENCY_SLA: only with a valid SLA, which staff ADMIN sets.
	wantField(t, e.wantCode(adminA, grantAuthDoc, vars("EMERGENCY_SLA"), "BAD_USER_INPUT"), "input.kind")
	e.wantCode(adminA, setSlaDoc, map[string]any{"a": a, "u": berlinDay(e, 5)}, "FORBIDDEN")
	e.wantCode(support, setSlaDoc, map[string]any{"a": a, "u": berlinDay(e, 5)}, "FORBIDDEN")
	e.wantCode("", setSlaDoc, map[string]any{"a": a, "u": berlinDay(e, 5)}, "UNAUTHENTICATED")
	wantField(t, e.wantCode(e.admin, setSlaDoc, map[string]any{"a": a, "u": berlinDay(e, -1)}, "BAD_USER_INPUT"), "input.slaUntil")
	d = e.ok(e.admin, setSlaDoc, map[string]any{"a": a, "u": berlinDay(e, 5)})
	if dig(d, "setAccountSla", "hasSLA") != true || dig(d, "setAccountSla", "slaUntil") != berlinDay(e, 5) {
		t.Fatalf("sla: %v", d)
	}
	e.ok(adminA, grantAuthDoc, vars("EMERGENCY_SLA"))
	// An SLA that ended no longer allows new EMERGENCY_SLA grants.
	other := e.createContact(adminA, a, "Notfall", "notfall@a.example")
	e.clock.Set(endOfBerlinDay(e, 5))
	adminA = e.login("admin@a.example", adminPassword)
	e.wantCode(adminA, grantAuthDoc, map[string]any{"c": other, "k": "EMERGENCY_SLA"}, "BAD_USER_INPUT")

	// Listing: on the contact and on the account, for AUTHORIZATIONS_READ
	// holders (customer admin, support staff); empty for others; nothing
	// from another customer.
	d = e.ok(adminA, contactAuthsDoc, map[string]any{"id": person})
	if n := len(dig(d, "node", "authorizations").([]any)); n != 9 {
		t.Fatalf("contact has %d authorizations, want 9: %v", n, d)
	}
	acctDoc := `query($n: String!) { customerAccount(number: $n) { authorizations { kind contact { name } } } }`
	support = e.login("support@provider.example", adminPassword)
	for _, tok := range []string{adminA, support, e.login("admin@example.com", adminPassword)} {
		d = e.ok(tok, acctDoc, map[string]any{"n": "61001"})
		if n := len(dig(d, "customerAccount", "authorizations").([]any)); n != 9 {
			t.Fatalf("account lists %d authorizations, want 9", n)
		}
	}
	techA = e.login("tech@a.example", adminPassword)
	d = e.ok(techA, acctDoc, map[string]any{"n": "61001"})
	if n := len(dig(d, "customerAccount", "authorizations").([]any)); n != 0 {
		t.Fatalf("a technical contact sees %d authorizations", n)
	}
	adminB = e.login("admin@b.example", adminPassword)
	if d := e.ok(adminB, acctDoc, map[string]any{"n": "61001"}); d["customerAccount"] != nil {
		t.Fatalf("B sees A: %v", d)
	}
	if r := e.do(adminB, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": ga["id"]}); r.Data["node"] != nil {
		t.Fatalf("B reads A's authorization: %s", r.Raw)
	}

	// Revoke now: it stays in the history, inactive; a second revoke and a
	// change are refused; B cannot revoke A's.
	e.wantCode(adminB, revokeAuthDoc, map[string]any{"id": ga["id"]}, "NOT_FOUND")
	e.wantCode(techA, revokeAuthDoc, map[string]any{"id": ga["id"]}, "FORBIDDEN")
	d = e.ok(adminA, revokeAuthDoc, map[string]any{"id": ga["id"]})
	if dig(d, "revokeSupportAuthorization", "active") != false || dig(d, "revokeSupportAuthorization", "endedAt") == nil {
		t.Fatalf("revoked: %v", d)
	}
	wantField(t, e.wantCode(adminA, revokeAuthDoc, map[string]any{"id": ga["id"]}, "BAD_USER_INPUT"), "input.authorizationID")
	e.wantCode(adminA, changeAuthDoc, map[string]any{"id": ga["id"], "u": berlinDay(e, 40)}, "BAD_USER_INPUT")
	d = e.ok(adminA, contactAuthsDoc, map[string]any{"id": person})
	found := false
	for _, x := range dig(d, "node", "authorizations").([]any) {
		if dig(x, "id") == ga["id"] {
			found = dig(x, "active") == false
		}
	}
	if !found {
		t.Fatalf("revoked authorization not in history as inactive: %v", d)
	}
	// Revoked GENERAL_AUTHORITY can be granted again.
	e.ok(adminA, grantAuthDoc, vars("GENERAL_AUTHORITY"))

	// Every change is audited on the account, with the staff marker for staff.
	d = e.ok(adminA, `{ auditEvents(first: 100, where: {actionHasPrefix: "support_authorization."}) { totalCount edges { node { action actingVia } } } }`, nil)
	if n := dig(d, "auditEvents", "totalCount").(float64); n != 13 {
		t.Fatalf("%v audit events: %v", n, d)
	}
	d = e.ok(adminA, `{ auditEvents(first: 10, where: {action: "customer_account.set_sla"}) { totalCount edges { node { actingVia } } } }`, nil)
	if dig(d, "auditEvents", "totalCount").(float64) != 1 || dig(d, "auditEvents", "edges", 0, "node", "actingVia") != "staff:ADMIN" {
		t.Fatalf("sla audit: %v", d)
	}
}

// Valid until D means until the end of D in the account's time zone:
// active at 23:59 of D in Europe/Berlin, not at 00:00 after it. Extending
// and shortening work while it has not ended, never into the past.
func TestAuthorizationsValidityEdges(t *testing.T) {
	e := newEnv(t)
	a := e.createAccount("62001")
	e.customerUser(a, "admin@a.example", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	adminA := e.login("admin@a.example", adminPassword)
	person := e.createContact(adminA, a, "Techniker", "t@a.example")
	d := e.ok(adminA, grantAuthDoc, map[string]any{"c": person, "k": "VPN_REMOTE_MAINTENANCE", "u": berlinDay(e, 6)})
	id := dig(d, "grantSupportAuthorization", "id")

	// Extend, shorten, refuse the past.
	d = e.ok(adminA, changeAuthDoc, map[string]any{"id": id, "u": berlinDay(e, 10)})
	if dig(d, "changeSupportAuthorizationValidity", "validUntil") != berlinDay(e, 10) {
		t.Fatalf("extend: %v", d)
	}
	d = e.ok(adminA, changeAuthDoc, map[string]any{"id": id})
	if dig(d, "changeSupportAuthorizationValidity", "validUntil") != nil {
		t.Fatalf("open-ended: %v", d)
	}
	e.ok(adminA, changeAuthDoc, map[string]any{"id": id, "u": berlinDay(e, 3)})
	wantField(t, e.wantCode(adminA, changeAuthDoc, map[string]any{"id": id, "u": berlinDay(e, -1)}, "BAD_USER_INPUT"), "input.validUntil")
	// Revoking as of a later day than its end would extend it: refused.
	wantField(t, e.wantCode(adminA, revokeAuthDoc, map[string]any{"id": id, "d": berlinDay(e, 4)}, "BAD_USER_INPUT"), "input.lastDay")
	wantField(t, e.wantCode(adminA, revokeAuthDoc, map[string]any{"id": id, "d": berlinDay(e, -1)}, "BAD_USER_INPUT"), "input.lastDay")

	end := endOfBerlinDay(e, 3)
	e.clock.Set(end.Add(-time.Minute)) // 23:59 of D in Berlin
	adminA = e.login("admin@a.example", adminPassword)
	d = e.ok(adminA, contactAuthsDoc, map[string]any{"id": person})
	if dig(d, "node", "authorizations", 0, "active") != true {
		t.Fatalf("inactive at 23:59 of its last day: %v", d)
	}
	// Still changeable on its last day: shorten to today = revoke as of today.
	e.ok(adminA, revokeAuthDoc, map[string]any{"id": id, "d": berlinDay(e, 0)})
	e.clock.Set(end) // 00:00 the next day in Berlin
	adminA = e.login("admin@a.example", adminPassword)
	d = e.ok(adminA, contactAuthsDoc, map[string]any{"id": person})
	if dig(d, "node", "authorizations", 0, "active") != false {
		t.Fatalf("active at 00:00 after its last day: %v", d)
	}
	e.wantCode(adminA, changeAuthDoc, map[string]any{"id": id, "u": berlinDay(e, 5)}, "BAD_USER_INPUT")
	// Expired, so the kind can be granted anew.
	e.ok(adminA, grantAuthDoc, map[string]any{"c": person, "k": "VPN_REMOTE_MAINTENANCE"})
}

// Listing authorizations of many contacts costs the same number of
// statements as of a few.
func TestAuthorizationsListingHasNoNPlusOne(t *testing.T) {
	opt, counter := newCounter()
	e := newEnv(t, opt)
	a := e.createAccount("63001")
	add := func(from, to int) {
		for i := from; i < to; i++ {
			c := e.createContact(e.admin, a, fmt.Sprintf("P%d", i), fmt.Sprintf("p%d@a.example", i))
			e.ok(e.admin, grantAuthDoc, map[string]any{"c": c, "k": "CREDENTIALS_WEBSERVER"})
			e.ok(e.admin, grantAuthDoc, map[string]any{"c": c, "k": "FINANCE_INVOICES"})
		}
	}
	doc := `{ customerAccount(number: "63001") {
		authorizations { kind active covers contact { name } }
		contacts(first: 50) { edges { node { name authorizations { kind active validUntil } } } } } }`
	count := func(n int) int64 {
		counter.Store(0)
		d := e.ok(e.admin, doc, nil)
		if got := len(dig(d, "customerAccount", "authorizations").([]any)); got != 2*n {
			t.Fatalf("%d authorizations, want %d", got, 2*n)
		}
		if got := dig(d, "customerAccount", "contacts", "edges", n-1, "node", "authorizations", 1, "active"); got != true {
			t.Fatalf("nested authorizations not listed: %v", d)
		}
		return counter.Load()
	}
	add(0, 2)
	few := count(2)
	add(2, 20)
	many := count(20)
	if few != many {
		t.Fatalf("statements: %d for 2 contacts, %d for 20 (N+1)", few, many)
	}
	t.Logf("%d statements for 2 and for 20 contacts", many)
}
