package graph_test

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"entgo.io/ent/dialect"

	"portier/ent/resource"
	"portier/internal/database"
	"portier/internal/domain"
	"portier/internal/pulid"
	"portier/internal/viewer"
)

const (
	inviteStaffDoc = `mutation($e: String!, $n: String!, $r: StaffRole!) {
		inviteStaffUser(input: {email: $e, name: $n, role: $r, locale: "en"}) { id username staffRole pendingEmail } }`
	acceptStaffDoc     = `mutation($t: String!, $p: String!) { acceptStaffInvitation(input: {token: $t, password: $p}) }`
	changeStaffDoc     = `mutation($u: ID!, $r: StaffRole!) { changeStaffRole(input: {userID: $u, role: $r}) { id staffRole } }`
	removeStaffDoc     = `mutation($u: ID!) { removeStaffUser(userID: $u) }`
	assignManagerDoc   = `mutation($a: ID!, $u: ID!) { assignAccountManager(input: {customerAccountID: $a, userID: $u}) { id customerAccountID userID } }`
	unassignManagerDoc = `mutation($a: ID!, $u: ID!) { unassignAccountManager(input: {customerAccountID: $a, userID: $u}) { id } }`
	consentDoc         = `mutation($a: ID!, $c: Boolean!) { setSupportAccessConsent(input: {customerAccountID: $a, consent: $c}) { supportAccessConsent } }`
	assignRoleDoc      = `mutation($c: ID!) { assignRole(input: {contactID: $c, role: TECHNICAL_CONTACT}) { role } }`
	nodeDoc            = `query($id: ID!) { node(id: $id) { id } }`
	staffPassword      = "a long staff passphrase 42"
)

// userID returns the user ID of a token's user.
func (e *env) userID(tok string) string {
	e.t.Helper()
	return dig(e.ok(tok, `{ me { user { id } } }`, nil), "me", "user", "id").(string)
}

func accountsSeen(e *env, tok string) float64 {
	e.t.Helper()
	return dig(e.ok(tok, `{ customerAccounts { totalCount } }`, nil), "customerAccounts", "totalCount").(float64)
}

// An ADMIN invites a staff user; the link in the mail lets the invitee set
// a password, and the invitee then logs in as staff.
func TestStaffInviteFlow(t *testing.T) {
	e := newEnv(t)
	acct := e.createAccount("90001")
	customer, _ := e.customerUser(acct, "boss@customer.example", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	support := e.createUser("support@provider.example", domain.StaffSupport)
	vars := map[string]any{"e": "New.Sales@Provider.example", "n": "Nora Sales", "r": "SALES"}

	e.wantCode("", inviteStaffDoc, vars, "UNAUTHENTICATED")
	e.wantCode(customer, inviteStaffDoc, vars, "FORBIDDEN")
	e.wantCode(support, inviteStaffDoc, vars, "FORBIDDEN")

	// A stranger signs up first with the invitee's address (an unverified
	// claim): it does not block the invitation and gains nothing.
	e.ok("", signUpDoc, map[string]any{"e": "new.sales@provider.example", "u": "squatter", "p": "squatter password 123"})
	e.mailTo("new.sales@provider.example") // the squatter's verification link

	d := e.ok(e.admin, inviteStaffDoc, vars)
	inv := dig(d, "inviteStaffUser").(map[string]any)
	if inv["staffRole"] != "SALES" || inv["pendingEmail"] != "new.sales@provider.example" || !strings.HasPrefix(inv["username"].(string), "staff-") {
		t.Fatalf("invited: %v", inv)
	}
	m := e.mailTo("new.sales@provider.example")
	if !strings.Contains(m.Body, "/accept-staff-invitation?token=") || !strings.Contains(m.Body, inv["username"].(string)) {
		t.Fatalf("invitation mail: %s", m.Body)
	}
	tok := e.linkTokenIn(m)
	// Not a login yet.
	e.wantCode("", `mutation { login(input: {login: "new.sales@provider.example", password: "a long staff passphrase 42"}) { accessToken } }`, nil, "UNAUTHENTICATED")
	// A weak password is refused; the link still works afterwards.
	e.wantCode("", acceptStaffDoc, map[string]any{"t": tok, "p": "short"}, "BAD_USER_INPUT")
	d = e.ok("", acceptStaffDoc, map[string]any{"t": tok, "p": staffPassword})
	if dig(d, "acceptStaffInvitation") != true {
		t.Fatalf("accept: %v", d)
	}
	e.wantCode("", acceptStaffDoc, map[string]any{"t": tok, "p": staffPassword}, "BAD_USER_INPUT")

	sales := e.login("new.sales@provider.example", staffPassword)
	d = e.ok(sales, meDoc, nil)
	if dig(d, "me", "staffRole") != "SALES" || dig(d, "me", "user", "email") != "new.sales@provider.example" {
		t.Fatalf("me: %v", d)
	}
	e.login(inv["username"].(string), staffPassword)
	// The squatter's claim was voided: its link no longer verifies.
	d = e.ok(e.admin, `{ auditEvents(where: {action: "user.email_claim_voided"}) { totalCount } }`, nil)
	if dig(d, "auditEvents", "totalCount").(float64) != 1 {
		t.Fatalf("claim not voided: %v", d)
	}
	// staffUsers lists the new staff user.
	d = e.ok(e.admin, `{ staffUsers { email staffRole } }`, nil)
	found := false
	for _, u := range dig(d, "staffUsers").([]any) {
		if dig(u, "email") == "new.sales@provider.example" && dig(u, "staffRole") == "SALES" {
			found = true
		}
	}
	if !found {
		t.Fatalf("staffUsers: %v", d)
	}
	e.wantCode(support, `{ staffUsers { email } }`, nil, "FORBIDDEN")

	// An address that is a customer user's login is refused: a customer
	// login never becomes a staff login.
	r := e.wantCode(e.admin, inviteStaffDoc, map[string]any{"e": "boss@customer.example", "n": "Boss", "r": "ADMIN"}, "CONFLICT")
	if r.Errors[0].Extensions["field"] != "input.email" {
		t.Fatalf("conflict field: %s", r.Raw)
	}
	e.wantCode(e.admin, inviteStaffDoc, map[string]any{"e": "new.sales@provider.example", "n": "Again", "r": "ADMIN"}, "CONFLICT")
	// Inviting a pending address again sends a new link; the old one dies.
	e.ok(e.admin, inviteStaffDoc, map[string]any{"e": "pending@provider.example", "n": "P", "r": "SUPPORT"})
	old := e.linkTokenIn(e.mailTo("pending@provider.example"))
	e.ok(e.admin, inviteStaffDoc, map[string]any{"e": "pending@provider.example", "n": "P", "r": "SUPPORT"})
	fresh := e.linkTokenIn(e.mailTo("pending@provider.example"))
	e.wantCode("", acceptStaffDoc, map[string]any{"t": old, "p": staffPassword}, "BAD_USER_INPUT")
	e.ok("", acceptStaffDoc, map[string]any{"t": fresh, "p": staffPassword})
	if dig(e.ok(e.login("pending@provider.example", staffPassword), meDoc, nil), "me", "staffRole") != "SUPPORT" {
		t.Fatal("second invitee is not SUPPORT")
	}
	d = e.ok(e.admin, `{ auditEvents(where: {action: "staff.invite"}) { totalCount edges { node { actorID actingVia } } } }`, nil)
	if dig(d, "auditEvents", "totalCount").(float64) != 2 || dig(d, "auditEvents", "edges", 0, "node", "actingVia") != "staff:ADMIN" {
		t.Fatalf("invite audit: %v", d)
	}
}

// changeStaffRole takes effect on the next request; the last ADMIN is
// protected; removeStaffUser ends the staff user's sessions at once.
func TestStaffRoleChangeAndRemoval(t *testing.T) {
	e := newEnv(t)
	adminID := e.userID(e.admin)
	staffA := e.createUser("staff@provider.example", domain.StaffSales)
	staffID := e.userID(staffA)
	support := e.createUser("support@provider.example", domain.StaffSupport)

	e.wantCode(support, changeStaffDoc, map[string]any{"u": staffID, "r": "ADMIN"}, "FORBIDDEN")
	e.wantCode(staffA, changeStaffDoc, map[string]any{"u": staffID, "r": "ADMIN"}, "FORBIDDEN")
	// The only ADMIN cannot lose the role, nor remove himself.
	e.wantCode(e.admin, changeStaffDoc, map[string]any{"u": adminID, "r": "SUPPORT"}, "CONFLICT")
	e.wantCode(e.admin, removeStaffDoc, map[string]any{"u": adminID}, "BAD_USER_INPUT")
	// Same token, next request: the new role counts.
	e.ok(e.admin, changeStaffDoc, map[string]any{"u": staffID, "r": "ADMIN"})
	if dig(e.ok(staffA, meDoc, nil), "me", "staffRole") != "ADMIN" {
		t.Fatal("role change not effective")
	}
	e.ok(staffA, `{ staffUsers { id } }`, nil)
	// With a second ADMIN, the first may step down; then the second is
	// the last one.
	e.ok(staffA, changeStaffDoc, map[string]any{"u": adminID, "r": "SUPPORT"})
	e.wantCode(e.admin, `{ staffUsers { id } }`, nil, "FORBIDDEN")
	e.wantCode(staffA, changeStaffDoc, map[string]any{"u": staffID, "r": "SALES"}, "CONFLICT")
	e.ok(staffA, changeStaffDoc, map[string]any{"u": adminID, "r": "ADMIN"})
	// A customer user is not a staff user.
	acct := e.createAccount("90002")
	customer, _ := e.customerUser(acct, "c@customer.example", "PORTAL_ACCESS")
	e.wantCode(e.admin, changeStaffDoc, map[string]any{"u": e.userID(customer), "r": "SUPPORT"}, "BAD_USER_INPUT")
	e.wantCode(e.admin, removeStaffDoc, map[string]any{"u": pulid.New("usr")}, "NOT_FOUND")

	// Removal: the staff user's token stops working at once.
	e.ok(support, meDoc, nil)
	supportID := e.userID(support)
	d := e.ok(e.admin, removeStaffDoc, map[string]any{"u": supportID})
	if dig(d, "removeStaffUser") != true {
		t.Fatalf("remove: %v", d)
	}
	e.wantCode(support, meDoc, nil, "UNAUTHENTICATED")
	e.wantCode("", `mutation { login(input: {login: "support@provider.example", password: "correct horse battery staple"}) { accessToken } }`, nil, "UNAUTHENTICATED")
	d = e.ok(e.admin, `{ auditEvents(where: {action: "staff.remove"}) { totalCount edges { node { actorID targetID } } } }`, nil)
	if dig(d, "auditEvents", "totalCount").(float64) != 1 || dig(d, "auditEvents", "edges", 0, "node", "actorID") != adminID ||
		dig(d, "auditEvents", "edges", 0, "node", "targetID") != supportID {
		t.Fatalf("remove audit: %v", d)
	}
	// An ADMIN removes another ADMIN, but not the last one.
	e.ok(e.admin, removeStaffDoc, map[string]any{"u": staffID})
	e.wantCode(staffA, meDoc, nil, "UNAUTHENTICATED")
}

// SALES reaches exactly the accounts it is assigned to, and loses one on
// its next request once unassigned; customers see the account manager's
// public details only.
func TestStaffSalesAccountManagers(t *testing.T) {
	e := newEnv(t)
	a := e.createAccount("90003")
	b := e.createAccount("90004")
	customerA, contactA := e.customerUser(a, "boss@a.example", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	techA, _ := e.customerUser(a, "tech@a.example", "PORTAL_ACCESS", "TECHNICAL_CONTACT")
	customerB, contactB := e.customerUser(b, "boss@b.example", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	sales := e.createUser("sales@provider.example", domain.StaffSales)
	salesID := e.userID(sales)
	support := e.createUser("support@provider.example", domain.StaffSupport)
	vars := map[string]any{"a": a, "u": salesID}

	e.wantCode("", assignManagerDoc, vars, "UNAUTHENTICATED")
	e.wantCode(customerA, assignManagerDoc, vars, "FORBIDDEN")
	e.wantCode(support, assignManagerDoc, vars, "FORBIDDEN")
	e.wantCode(sales, assignManagerDoc, vars, "FORBIDDEN")
	// Only SALES users can be assigned.
	e.wantCode(e.admin, assignManagerDoc, map[string]any{"a": a, "u": e.userID(support)}, "BAD_USER_INPUT")
	e.wantCode(e.admin, assignManagerDoc, map[string]any{"a": pulid.New("acct"), "u": salesID}, "NOT_FOUND")

	if accountsSeen(e, sales) != 0 {
		t.Fatal("unassigned SALES sees accounts")
	}
	e.wantCode(sales, nodeDoc, map[string]any{"id": contactA}, "NOT_FOUND")
	e.ok(e.admin, assignManagerDoc, vars)
	e.wantCode(e.admin, assignManagerDoc, vars, "CONFLICT")
	// Same token, next request: A is reachable, B is not.
	if accountsSeen(e, sales) != 1 {
		t.Fatal("assigned SALES does not see its account")
	}
	e.ok(sales, nodeDoc, map[string]any{"id": contactA})
	e.wantCode(sales, nodeDoc, map[string]any{"id": contactB}, "NOT_FOUND")
	// Without the customer's consent SALES may not act for it; with it, it may.
	e.wantCode(sales, assignRoleDoc, map[string]any{"c": contactA}, "FORBIDDEN")
	e.wantCode(sales, assignRoleDoc, map[string]any{"c": contactB}, "NOT_FOUND")
	e.ok(customerA, consentDoc, map[string]any{"a": a, "c": true})
	e.ok(sales, assignRoleDoc, map[string]any{"c": contactA})
	// SALES cannot switch the consent (the customer decides).
	e.wantCode(sales, consentDoc, map[string]any{"a": a, "c": false}, "FORBIDDEN")

	// Customers of A see their account manager's name and contact details.
	mgrDoc := `query($n: String!) { customerAccount(number: $n) { accountManagers { name email phone } } }`
	for _, tok := range []string{customerA, techA} {
		d := e.ok(tok, mgrDoc, map[string]any{"n": "90003"})
		if dig(d, "customerAccount", "accountManagers", 0, "email") != "sales@provider.example" ||
			dig(d, "customerAccount", "accountManagers", 0, "name") != "sales@provider.example" {
			t.Fatalf("account managers: %v", d)
		}
	}
	d := e.ok(customerB, mgrDoc, map[string]any{"n": "90004"})
	if len(dig(d, "customerAccount", "accountManagers").([]any)) != 0 {
		t.Fatalf("B has no account manager: %v", d)
	}
	// Nothing but the public details is in the type.
	e.wantCode(customerA, `{ customerAccount(number: "90003") { accountManagers { username } } }`, nil, "BAD_USER_INPUT")

	e.wantCode(customerA, unassignManagerDoc, vars, "FORBIDDEN")
	e.ok(e.admin, unassignManagerDoc, vars)
	e.wantCode(e.admin, unassignManagerDoc, vars, "NOT_FOUND")
	if accountsSeen(e, sales) != 0 {
		t.Fatal("SALES keeps the account after unassignment")
	}
	e.wantCode(sales, nodeDoc, map[string]any{"id": contactA}, "NOT_FOUND")
	e.wantCode(sales, assignRoleDoc, map[string]any{"c": contactA}, "NOT_FOUND")
	d = e.ok(customerA, mgrDoc, map[string]any{"n": "90003"})
	if len(dig(d, "customerAccount", "accountManagers").([]any)) != 0 {
		t.Fatalf("manager still listed: %v", d)
	}
	// A SALES user who gets another role stops being an account manager.
	e.ok(e.admin, assignManagerDoc, vars)
	e.ok(e.admin, changeStaffDoc, map[string]any{"u": salesID, "r": "SUPPORT"})
	d = e.ok(customerA, mgrDoc, map[string]any{"n": "90003"})
	if len(dig(d, "customerAccount", "accountManagers").([]any)) != 0 {
		t.Fatalf("former SALES still listed: %v", d)
	}
}

// SUPPORT reads an account's contents beyond support operations only while
// the account consents; the customer switches the consent.
func TestStaffSupportConsent(t *testing.T) {
	e := newEnv(t)
	a := e.createAccount("90005")
	b := e.createAccount("90006")
	customerA, contactA := e.customerUser(a, "boss@a.example", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	techA, _ := e.customerUser(a, "tech@a.example", "PORTAL_ACCESS", "TECHNICAL_CONTACT")
	customerB, _ := e.customerUser(b, "boss@b.example", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	support := e.createUser("support@provider.example", domain.StaffSupport)
	res, err := e.client.Resource.Create().SetCustomerAccountID(pulid.ID(a)).SetKind(resource.KindWEB_VHOST).SetName("www.a.example").
		Save(viewer.SystemContext(context.Background()))
	if err != nil {
		t.Fatal(err)
	}
	resID := string(res.ID)
	resourcesDoc := `{ customerAccount(number: "90005") { name contacts { totalCount } resources { name } } }`

	// Without consent: support operations work (account, contacts), the
	// contents do not (an empty list; the resource itself is NOT_FOUND).
	d := e.ok(support, resourcesDoc, nil)
	if dig(d, "customerAccount", "name") != "Customer 90005" || dig(d, "customerAccount", "contacts", "totalCount").(float64) != 2 ||
		len(dig(d, "customerAccount", "resources").([]any)) != 0 {
		t.Fatalf("support without consent: %v", d)
	}
	e.wantCode(support, nodeDoc, map[string]any{"id": resID}, "NOT_FOUND")
	// Support may see the account but not change it: FORBIDDEN.
	e.wantCode(support, assignRoleDoc, map[string]any{"c": contactA}, "FORBIDDEN")
	// ADMIN reads everything, consent or not.
	d = e.ok(e.admin, resourcesDoc, nil)
	if len(dig(d, "customerAccount", "resources").([]any)) != 1 {
		t.Fatalf("admin: %v", d)
	}
	e.ok(e.admin, nodeDoc, map[string]any{"id": resID})

	// Who may switch the consent.
	on := map[string]any{"a": a, "c": true}
	e.wantCode("", consentDoc, on, "UNAUTHENTICATED")
	e.wantCode(techA, consentDoc, on, "FORBIDDEN")
	e.wantCode(customerB, consentDoc, on, "NOT_FOUND")
	e.wantCode(support, consentDoc, on, "FORBIDDEN")
	e.wantCode(e.admin, consentDoc, on, "FORBIDDEN")
	d = e.ok(customerA, consentDoc, on)
	if dig(d, "setSupportAccessConsent", "supportAccessConsent") != true {
		t.Fatalf("consent: %v", d)
	}
	// With consent, support reads the contents (same token, next request).
	d = e.ok(support, resourcesDoc, nil)
	if dig(d, "customerAccount", "resources", 0, "name") != "www.a.example" {
		t.Fatalf("support with consent: %v", d)
	}
	e.ok(support, nodeDoc, map[string]any{"id": resID})
	e.wantCode(support, assignRoleDoc, map[string]any{"c": contactA}, "FORBIDDEN")
	// Withdrawn: gone again at once.
	e.ok(customerA, consentDoc, map[string]any{"a": a, "c": false})
	e.wantCode(support, nodeDoc, map[string]any{"id": resID}, "NOT_FOUND")
	d = e.ok(customerA, `{ auditEvents(where: {action: "customer_account.support_access_consent"}) { totalCount } }`, nil)
	if dig(d, "auditEvents", "totalCount").(float64) != 2 {
		t.Fatalf("consent audit: %v", d)
	}
}

// Every staff read of an account is audited with the staff user as actor,
// once per request and account; customers' reads are not.
func TestStaffReadsAudited(t *testing.T) {
	e := newEnv(t)
	a := e.createAccount("90007")
	b := e.createAccount("90008")
	customerA, contactA := e.customerUser(a, "boss@a.example", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	support := e.createUser("support@provider.example", domain.StaffSupport)
	supportID := e.userID(support)
	readsBy := func(actor string) map[string]int {
		t.Helper()
		d := e.ok(e.admin, `query($a: String!) { auditEvents(first: 100, where: {action: "staff.read", actorID: $a}) {
			edges { node { customerAccountID actingVia } } } }`, map[string]any{"a": actor})
		out := map[string]int{}
		for _, edge := range dig(d, "auditEvents", "edges").([]any) {
			if dig(edge, "node", "actingVia") != "staff:SUPPORT" && actor == supportID {
				t.Fatalf("actingVia: %v", edge)
			}
			out[dig(edge, "node", "customerAccountID").(string)]++
		}
		return out
	}
	// One request reading A three ways: one event for A.
	e.ok(support, `query($c: ID!) { customerAccount(number: "90007") { name contacts { totalCount edges { node { name } } } }
		node(id: $c) { ... on Contact { name customerAccount { number } } } }`, map[string]any{"c": contactA})
	if got := readsBy(supportID); got[a] != 1 || got[b] != 0 {
		t.Fatalf("staff reads after one request: %v", got)
	}
	// A list reads every account in it.
	e.ok(support, `{ customerAccounts { edges { node { number } } } }`, nil)
	if got := readsBy(supportID); got[a] != 2 || got[b] != 1 {
		t.Fatalf("staff reads after the list: %v", got)
	}
	// A refused staff action is still a read of the account.
	e.wantCode(support, assignRoleDoc, map[string]any{"c": contactA}, "FORBIDDEN")
	if got := readsBy(supportID); got[a] != 3 {
		t.Fatalf("staff reads after the refused mutation: %v", got)
	}
	// Customers' reads are not staff reads.
	e.ok(customerA, `{ customerAccount(number: "90007") { name } }`, nil)
	if got := readsBy(e.userID(customerA)); len(got) != 0 {
		t.Fatalf("customer reads recorded as staff reads: %v", got)
	}
}

// A foreign object and a made-up ID cost the same work: both reach the
// permission lookup and run the same SQL statements, so timing tells
// nothing. Every statement of a request is counted, also those the server
// runs as Portier itself (grants, owner lookup, authentication).
func TestStaffTimingParityForeignAndMadeUpIDs(t *testing.T) {
	n := new(atomic.Int64)
	opt := database.WithDriver(func(d dialect.Driver) dialect.Driver { return &requestStatements{Driver: d, n: n} })
	e := newEnv(t, opt)
	a := e.createAccount("90009")
	b := e.createAccount("90010")
	userA, _ := e.customerUser(a, "boss@a.example", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	_, contactB := e.customerUser(b, "boss@b.example", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	sales := e.createUser("sales@provider.example", domain.StaffSales)
	cases := []struct {
		doc             string
		foreign, madeUp map[string]any
	}{
		{assignRoleDoc, map[string]any{"c": contactB}, map[string]any{"c": pulid.New("ctc")}},
		{createContactDoc, map[string]any{"a": b, "name": "X"}, map[string]any{"a": pulid.New("acct"), "name": "X"}},
	}
	for _, tok := range []string{userA, sales} {
		for _, c := range cases {
			count := func(vars map[string]any) int64 {
				e.wantCode(tok, c.doc, vars, "NOT_FOUND") // warm
				n.Store(0)
				e.wantCode(tok, c.doc, vars, "NOT_FOUND")
				return n.Load()
			}
			foreign, madeUp := count(c.foreign), count(c.madeUp)
			if foreign != madeUp || foreign < 3 {
				t.Fatalf("statements: %d for a foreign ID, %d for a made-up one", foreign, madeUp)
			}
			t.Logf("%d statements for a foreign and for a made-up ID", foreign)
		}
	}
}

// requestStatements counts the statements run for HTTP requests (any
// context derived from one), whatever viewer they run as; the outbox
// worker's are not counted.
type requestStatements struct {
	dialect.Driver
	n *atomic.Int64
}

func (c *requestStatements) count(ctx context.Context) {
	if ctx.Value(http.ServerContextKey) != nil {
		c.n.Add(1)
	}
}

func (c *requestStatements) Query(ctx context.Context, q string, args, v any) error {
	c.count(ctx)
	return c.Driver.Query(ctx, q, args, v)
}

func (c *requestStatements) Exec(ctx context.Context, q string, args, v any) error {
	c.count(ctx)
	return c.Driver.Exec(ctx, q, args, v)
}

func (c *requestStatements) Tx(ctx context.Context) (dialect.Tx, error) {
	tx, err := c.Driver.Tx(ctx)
	if err != nil {
		return nil, err
	}
	return &requestStatementsTx{Tx: tx, c: c}, nil
}

type requestStatementsTx struct {
	dialect.Tx
	c *requestStatements
}

func (t *requestStatementsTx) Query(ctx context.Context, q string, args, v any) error {
	t.c.count(ctx)
	return t.Tx.Query(ctx, q, args, v)
}

func (t *requestStatementsTx) Exec(ctx context.Context, q string, args, v any) error {
	t.c.count(ctx)
	return t.Tx.Exec(ctx, q, args, v)
}
