package graph_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"portier/ent/accountmanager"
	"portier/internal/domain"
	"portier/internal/pulid"
	"portier/internal/viewer"
)

const meDoc = `{ me { kind staffRole user { email } memberships { customerAccount { number } contact { id } permissions } } }`

func permsOn(e *env, tok, number string) []string {
	e.t.Helper()
	d := e.ok(tok, meDoc, nil)
	for _, m := range dig(d, "me", "memberships").([]any) {
		if dig(m, "customerAccount", "number") == number {
			var out []string
			for _, p := range dig(m, "permissions").([]any) {
				out = append(out, p.(string))
			}
			return out
		}
	}
	return nil
}

func has(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestLoginAndMe(t *testing.T) {
	e := newEnv(t)
	d := e.ok(e.admin, meDoc, nil)
	if dig(d, "me", "kind") != "USER" || dig(d, "me", "staffRole") != "ADMIN" || dig(d, "me", "user", "email") != "admin@example.com" {
		t.Fatalf("me = %v", d)
	}
	// Wrong password and unknown login get the same answer.
	loginDoc := `mutation($l: String!, $p: String!) { login(input: {login: $l, password: $p}) { accessToken } }`
	r1 := e.wantCode("", loginDoc, map[string]any{"l": "admin@example.com", "p": "wrong password!!"}, "UNAUTHENTICATED")
	r2 := e.wantCode("", loginDoc, map[string]any{"l": "nobody@example.com", "p": "wrong password!!"}, "UNAUTHENTICATED")
	if r1.Errors[0].Message != r2.Errors[0].Message {
		t.Fatalf("login failures differ: %q vs %q", r1.Errors[0].Message, r2.Errors[0].Message)
	}
	// Login by username, case-insensitively.
	if tok := e.login("  ADMIN ", adminPassword); tok == "" {
		t.Fatal("no token for username login")
	}
	// No token, a garbage token, an expired token, a token of a revoked session.
	e.wantCode("", meDoc, nil, "UNAUTHENTICATED")
	e.wantCode("not-a-jwt", meDoc, nil, "UNAUTHENTICATED")
	e.clock.Set(testEpoch.Add(16 * time.Minute))
	e.wantCode(e.admin, meDoc, nil, "UNAUTHENTICATED")
	e.clock.Set(testEpoch)
	e.ok(e.admin, meDoc, nil)
	ctx := viewer.SystemContext(context.Background())
	if err := e.client.Session.Update().SetRevokedAt(e.clock.Now()).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	e.wantCode(e.admin, meDoc, nil, "UNAUTHENTICATED")
	// Failed and successful logins are audited.
	tok := e.login("admin@example.com", adminPassword)
	d = e.ok(tok, `{ auditEvents(first: 50) { edges { node { action actorID } } } }`, nil)
	actions := map[string]int{}
	for _, edge := range dig(d, "auditEvents", "edges").([]any) {
		actions[dig(edge, "node", "action").(string)]++
	}
	if actions["login.failure"] < 1 || actions["login.success"] < 2 {
		t.Fatalf("login audit events: %v", actions)
	}
}

func TestCreateCustomerAccountIsForStaffAdmins(t *testing.T) {
	e := newEnv(t)
	vars := map[string]any{"n": "10001", "name": "Muster GmbH"}
	support := e.createUser("support@provider.example", domain.StaffSupport)
	acct := e.createAccount("20002")
	customerAdmin, _ := e.customerUser(acct, "boss@customer.example", "PORTAL_ACCESS", "CUSTOMER_ADMIN")

	e.wantCode("", createAccountDoc, vars, "UNAUTHENTICATED")
	e.wantCode(support, createAccountDoc, vars, "FORBIDDEN")
	e.wantCode(customerAdmin, createAccountDoc, vars, "FORBIDDEN")
	d := e.ok(e.admin, createAccountDoc, map[string]any{"n": " k-10001 ", "name": "Muster GmbH", "tz": "Europe/Zurich"})
	if dig(d, "createCustomerAccount", "number") != "K-10001" || dig(d, "createCustomerAccount", "timeZone") != "Europe/Zurich" {
		t.Fatalf("created %v", d)
	}
	r := e.wantCode(e.admin, createAccountDoc, map[string]any{"n": "K-10001", "name": "Other"}, "CONFLICT")
	if r.Errors[0].Extensions["field"] != "input.number" {
		t.Fatalf("conflict field: %s", r.Raw)
	}
	// customerAccount(number:) finds it, normalised.
	d = e.ok(e.admin, `{ customerAccount(number: "k-10001") { name kind status timeZone } }`, nil)
	if dig(d, "customerAccount", "name") != "Muster GmbH" || dig(d, "customerAccount", "status") != "ACTIVE" {
		t.Fatalf("lookup: %v", d)
	}
	// The creation is audited with the staff actor.
	d = e.ok(e.admin, `{ auditEvents(first: 10, where: {action: "customer_account.create"}) { totalCount edges { node { actingVia customerAccountID } } } }`, nil)
	if dig(d, "auditEvents", "totalCount").(float64) != 2 || dig(d, "auditEvents", "edges", 0, "node", "actingVia") != "staff:ADMIN" {
		t.Fatalf("audit: %v", d)
	}
}

// A customer account number can never be reused, also after deletion.
func TestCustomerNumberIsNeverReused(t *testing.T) {
	e := newEnv(t)
	id := e.createAccount("30003")
	ctx := viewer.SystemContext(context.Background())
	// Hard deletes are refused even for Portier itself.
	if err := e.client.CustomerAccount.DeleteOneID(pulid.ID(id)).Exec(ctx); err == nil {
		t.Fatal("customer account was hard-deleted")
	}
	if err := e.client.CustomerAccount.UpdateOneID(pulid.ID(id)).SetStatus("DELETED").SetDeletedAt(e.clock.Now()).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	e.wantCode(e.admin, createAccountDoc, map[string]any{"n": "30003", "name": "Successor"}, "CONFLICT")
}

func TestContactsAreManagedByStaffAndCustomerAdmins(t *testing.T) {
	e := newEnv(t)
	a := e.createAccount("40001")
	b := e.createAccount("40002")
	adminA, _ := e.customerUser(a, "admin@a.example", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	techA, _ := e.customerUser(a, "tech@a.example", "PORTAL_ACCESS", "TECHNICAL_CONTACT")
	noPortalA, _ := e.customerUser(a, "noportal@a.example", "CUSTOMER_ADMIN")
	support := e.createUser("support@provider.example", domain.StaffSupport)
	vars := func(acct string) map[string]any {
		return map[string]any{"a": acct, "name": "Erika Mustermann", "email": "Erika@A.example ", "roles": []string{"TECHNICAL_CONTACT"}}
	}

	e.wantCode("", createContactDoc, vars(a), "UNAUTHENTICATED")
	e.wantCode(techA, createContactDoc, vars(a), "FORBIDDEN")
	// CUSTOMER_ADMIN without PORTAL_ACCESS has no portal rights at all.
	e.wantCode(noPortalA, createContactDoc, vars(a), "NOT_FOUND")
	// Support staff can see the account but not change its contacts.
	e.wantCode(support, createContactDoc, vars(a), "FORBIDDEN")
	// A customer admin of A cannot write into B, and cannot tell B exists.
	rB := e.wantCode(adminA, createContactDoc, vars(b), "NOT_FOUND")
	rX := e.wantCode(adminA, createContactDoc, vars("acct_01JZZZZZZZZZZZZZZZZZZZZZZZ"), "NOT_FOUND")
	if rB.Errors[0].Message != rX.Errors[0].Message {
		t.Fatalf("existence oracle: %q vs %q", rB.Errors[0].Message, rX.Errors[0].Message)
	}

	d := e.ok(adminA, createContactDoc, vars(a))
	c := dig(d, "createContact").(map[string]any)
	if c["email"] != "erika@a.example" || dig(c, "roleAssignments", 0, "role") != "TECHNICAL_CONTACT" {
		t.Fatalf("contact: %v", c)
	}
	// Same e-mail twice on one account is a conflict; on another account it is fine.
	e.wantCode(adminA, createContactDoc, vars(a), "CONFLICT")
	e.ok(e.admin, createContactDoc, vars(b))

	// contacts on the account, with totalCount, ordering and where.
	d = e.ok(adminA, `query($n: String!) { customerAccount(number: $n) {
		contacts(first: 10, orderBy: [{field: NAME}], where: {emailContains: "erika"}) { totalCount edges { node { name } } }
		all: contacts(first: 10) { totalCount } } }`, map[string]any{"n": "40001"})
	if dig(d, "customerAccount", "contacts", "totalCount").(float64) != 1 || dig(d, "customerAccount", "all", "totalCount").(float64) != 4 {
		t.Fatalf("contacts: %v", d)
	}
	// The change is audited on the account and readable by its admin.
	d = e.ok(adminA, `{ auditEvents(first: 20, where: {action: "contact.create"}) { totalCount } }`, nil)
	if dig(d, "auditEvents", "totalCount").(float64) != 4 {
		t.Fatalf("audit events of A seen by A's admin: %v", d)
	}
}

func TestAssignAndRemoveRoles(t *testing.T) {
	e := newEnv(t)
	a := e.createAccount("50001")
	adminA, _ := e.customerUser(a, "admin@a.example", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	tok, contact := e.customerUser(a, "worker@a.example", "PORTAL_ACCESS")
	assign := `mutation($c: ID!, $r: Role!, $u: Date) { assignRole(input: {contactID: $c, role: $r, validUntil: $u}) { role validUntil } }`
	remove := `mutation($c: ID!, $r: Role!, $d: Date) { removeRole(input: {contactID: $c, role: $r, lastDay: $d}) { roleAssignments { role validUntil endedAt } } }`

	if has(permsOn(e, tok, "50001"), "CONTACTS_READ") {
		t.Fatal("worker can read contacts before being admin")
	}
	e.ok(adminA, assign, map[string]any{"c": contact, "r": "CUSTOMER_ADMIN"})
	if !has(permsOn(e, tok, "50001"), "CONTACTS_MANAGE") {
		t.Fatal("role not effective")
	}
	e.wantCode(adminA, assign, map[string]any{"c": contact, "r": "CUSTOMER_ADMIN"}, "CONFLICT")
	e.wantCode(tok, assign, map[string]any{"c": contact, "r": "PORTAL_ACCESS"}, "CONFLICT") // the worker is admin now

	// Remove as of a date: the person keeps the role to the end of that
	// day in the account's time zone (Europe/Berlin), then loses it.
	// Dates are computed from the pinned clock, never from today.
	berlin, _ := time.LoadLocation("Europe/Berlin")
	today := e.clock.Now().In(berlin)
	day := func(n int) string { return today.AddDate(0, 0, n).Format("2006-01-02") }
	lastDay := today.AddDate(0, 0, 6)
	endOfLastDay := time.Date(lastDay.Year(), lastDay.Month(), lastDay.Day()+1, 0, 0, 0, 0, berlin)
	e.clock.Advance(time.Hour)
	adminA = e.login("admin@a.example", adminPassword)
	tok = e.login("worker@a.example", adminPassword)
	r := e.wantCode(adminA, remove, map[string]any{"c": contact, "r": "CUSTOMER_ADMIN", "d": day(-1)}, "BAD_USER_INPUT")
	if r.Errors[0].Extensions["field"] != "input.lastDay" {
		t.Fatalf("field: %s", r.Raw)
	}
	e.ok(adminA, remove, map[string]any{"c": contact, "r": "CUSTOMER_ADMIN", "d": day(6)})
	e.clock.Set(endOfLastDay.Add(-time.Minute)) // 23:59 in Berlin
	tok = e.login("worker@a.example", adminPassword)
	if !has(permsOn(e, tok, "50001"), "CONTACTS_MANAGE") {
		t.Fatal("role ended before the end of the last day")
	}
	e.clock.Set(endOfLastDay) // midnight in Berlin
	tok = e.login("worker@a.example", adminPassword)
	if has(permsOn(e, tok, "50001"), "CONTACTS_MANAGE") {
		t.Fatal("role still active after the last day")
	}
	if !has(permsOn(e, tok, "50001"), "ACCOUNT_READ") {
		t.Fatal("portal access lost with the admin role")
	}
	// Immediate removal of PORTAL_ACCESS ends all portal rights at once,
	// also for an access token issued before.
	adminA = e.login("admin@a.example", adminPassword)
	d := e.ok(adminA, remove, map[string]any{"c": contact, "r": "PORTAL_ACCESS"})
	ras := dig(d, "removeRole", "roleAssignments").([]any)
	if len(ras) != 2 || dig(ras, 0, "endedAt") == nil || dig(ras, 1, "validUntil") != day(6) {
		t.Fatalf("history not kept: %v", ras)
	}
	if got := permsOn(e, tok, "50001"); len(got) != 0 {
		t.Fatalf("permissions after removing portal access: %v", got)
	}
	e.wantCode(adminA, remove, map[string]any{"c": contact, "r": "PORTAL_ACCESS"}, "BAD_USER_INPUT")
	// The history is audited.
	d = e.ok(adminA, `{ auditEvents(first: 20, where: {actionHasPrefix: "role."}) { totalCount } }`, nil)
	if dig(d, "auditEvents", "totalCount").(float64) != 3 {
		t.Fatalf("role audit events: %v", d)
	}
}

// A user of account A asks for B's data in every way the API offers and
// gets nothing: not the row, not a count that includes it.
func TestTenantIsolation(t *testing.T) {
	e := newEnv(t)
	a := e.createAccount("60001")
	b := e.createAccount("60002")
	userA, contactA := e.customerUser(a, "admin@a.example", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	_, contactB := e.customerUser(b, "admin@b.example", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	e.createContact(e.admin, b, "Secret Person", "secret@b.example", "TECHNICAL_CONTACT")

	// node(id:) on B's contact and B's account.
	for _, id := range []string{contactB, b} {
		r := e.do(userA, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": id})
		if dig(r.Data, "node") != nil || r.code() != "NOT_FOUND" {
			t.Fatalf("node(%s) leaked: %s", id, r.Raw)
		}
	}
	// nodes(ids:) returns A's, not B's.
	r := e.do(userA, `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, map[string]any{"ids": []string{contactA, contactB}})
	if dig(r.Data, "nodes", 0, "id") != contactA || dig(r.Data, "nodes", 1) != nil {
		t.Fatalf("nodes leaked: %s", r.Raw)
	}
	// Connection filters: B's number or ID gives an empty page and count 0.
	d := e.ok(userA, `{ customerAccounts(first: 10) { totalCount edges { node { number } } }
		byNumber: customerAccounts(where: {number: "60002"}) { totalCount }
		byID: customerAccounts(where: {idIn: ["`+b+`"]}) { totalCount } }`, nil)
	if dig(d, "customerAccounts", "totalCount").(float64) != 1 || dig(d, "customerAccounts", "edges", 0, "node", "number") != "60001" ||
		dig(d, "byNumber", "totalCount").(float64) != 0 || dig(d, "byID", "totalCount").(float64) != 0 {
		t.Fatalf("connection leaked: %v", d)
	}
	// customerAccount(number:) of B is null.
	d = e.ok(userA, `{ customerAccount(number: "60002") { id contacts { totalCount } } }`, nil)
	if dig(d, "customerAccount") != nil {
		t.Fatalf("customerAccount leaked: %v", d)
	}
	// Edges: from A's own contact, the account edge leads to A only; A's
	// contacts connection counts only A's contacts.
	d = e.ok(userA, `query($id: ID!) { node(id: $id) { ... on Contact { customerAccount { number contacts { totalCount edges { node { email } } } } } } }`,
		map[string]any{"id": contactA})
	if dig(d, "node", "customerAccount", "number") != "60001" || dig(d, "node", "customerAccount", "contacts", "totalCount").(float64) != 1 {
		t.Fatalf("edge: %v", d)
	}
	// Audit events of B are invisible to A.
	d = e.ok(userA, `{ auditEvents(first: 100) { totalCount edges { node { customerAccountID } } } }`, nil)
	for _, edge := range dig(d, "auditEvents", "edges").([]any) {
		if id := dig(edge, "node", "customerAccountID"); id == b {
			t.Fatalf("audit event of B visible to A: %v", edge)
		}
	}
	// Role changes on B's contact: NOT_FOUND, like a missing contact.
	e.wantCode(userA, `mutation($c: ID!) { assignRole(input: {contactID: $c, role: CUSTOMER_ADMIN}) { role } }`, map[string]any{"c": contactB}, "NOT_FOUND")
	e.wantCode(userA, `mutation($c: ID!) { removeRole(input: {contactID: $c, role: CUSTOMER_ADMIN}) { id } }`, map[string]any{"c": contactB}, "NOT_FOUND")
	// User accounts are staff-only as a list.
	e.wantCode(userA, `{ userAccounts(first: 5) { totalCount } }`, nil, "FORBIDDEN")
}

// The data layer isolates tenants even when a resolver forgets to: a
// direct ent query under a customer's viewer sees only its accounts' rows.
func TestDataLayerFiltersWithoutDirectives(t *testing.T) {
	e := newEnv(t)
	a := e.createAccount("61001")
	b := e.createAccount("61002")
	e.customerUser(a, "admin@a.example", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	e.customerUser(b, "admin@b.example", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	e.createContact(e.admin, b, "Other", "other@b.example")

	ctx := context.Background()
	users, err := e.client.UserAccount.Query().All(viewer.SystemContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	var uid string
	for _, u := range users {
		if u.Email == "admin@a.example" {
			uid = string(u.ID)
		}
	}
	v := &viewer.Viewer{Kind: viewer.User, UserID: uid, EmailVerified: true}
	v.Access = newEvaluator(e, v)
	vctx := viewer.NewContext(ctx, v)
	n, err := e.client.Contact.Query().Count(vctx)
	if err != nil || n != 1 {
		t.Fatalf("contacts visible to A: %d, %v", n, err)
	}
	if n, _ := e.client.RoleAssignment.Query().Count(vctx); n != 2 {
		t.Fatalf("role assignments visible to A: %d", n)
	}
	if n, _ := e.client.CustomerAccount.Query().Count(vctx); n != 1 {
		t.Fatalf("accounts visible to A: %d", n)
	}
	// Writes into B are refused by the policy itself.
	if err := e.client.Contact.Create().SetCustomerAccountID(pulid.ID(b)).SetName("Intruder").Exec(vctx); err == nil {
		t.Fatal("created a contact in B")
	}
	if n, err := e.client.Contact.Update().SetName("Renamed").Save(vctx); err != nil || n != 1 {
		t.Fatalf("bulk update touched %d rows (want only A's 1): %v", n, err)
	}
	// Anonymous sees nothing at all.
	if _, err := e.client.Contact.Query().Count(ctx); err == nil {
		t.Fatal("anonymous query allowed")
	}
}

func TestStaffRoles(t *testing.T) {
	e := newEnv(t)
	a := e.createAccount("70001")
	b := e.createAccount("70002")
	_, contactB := e.customerUser(b, "person@b.example", "PORTAL_ACCESS")
	support := e.createUser("support@provider.example", domain.StaffSupport)
	sales := e.createUser("sales@provider.example", domain.StaffSales)

	// SUPPORT reads every account and its contacts (to verify callers), and
	// may list users; it cannot create accounts or change contacts.
	d := e.ok(support, `{ customerAccounts { totalCount } userAccounts(first: 10) { totalCount } }`, nil)
	if dig(d, "customerAccounts", "totalCount").(float64) != 2 {
		t.Fatalf("support accounts: %v", d)
	}
	e.ok(support, `query($id: ID!) { node(id: $id) { ... on Contact { email } } }`, map[string]any{"id": contactB})
	e.wantCode(support, `mutation($c: ID!) { assignRole(input: {contactID: $c, role: CUSTOMER_ADMIN}) { role } }`, map[string]any{"c": contactB}, "FORBIDDEN")

	// SALES sees only assigned accounts; once unassigned, access is gone.
	d = e.ok(sales, `{ customerAccounts { totalCount } }`, nil)
	if dig(d, "customerAccounts", "totalCount").(float64) != 0 {
		t.Fatalf("unassigned sales sees accounts: %v", d)
	}
	ctx := viewer.SystemContext(context.Background())
	salesUser, _ := e.client.UserAccount.Query().All(ctx)
	var salesID pulid.ID
	for _, u := range salesUser {
		if u.Email == "sales@provider.example" {
			salesID = u.ID
		}
	}
	if err := e.client.AccountManager.Create().SetCustomerAccountID(pulid.ID(a)).SetUserID(salesID).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	d = e.ok(sales, `{ customerAccounts { totalCount edges { node { number } } } }`, nil)
	if dig(d, "customerAccounts", "totalCount").(float64) != 1 || dig(d, "customerAccounts", "edges", 0, "node", "number") != "70001" {
		t.Fatalf("assigned sales: %v", d)
	}
	if _, err := e.client.AccountManager.Delete().Where(accountmanager.UserID(salesID)).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	d = e.ok(sales, `{ customerAccounts { totalCount } }`, nil)
	if dig(d, "customerAccounts", "totalCount").(float64) != 0 {
		t.Fatalf("sales keeps access after unassignment: %v", d)
	}
}

// The number of SQL statements for a nested page does not grow with the
// page size.
func TestNestedListsHaveNoNPlusOne(t *testing.T) {
	opt, counter := newCounter()
	e := newEnv(t, opt)
	for i := 0; i < 50; i++ {
		acct := e.createAccount(fmt.Sprintf("80%03d", i))
		for j := 0; j < 3; j++ {
			e.createContact(e.admin, acct, fmt.Sprintf("Person %d", j), fmt.Sprintf("p%d-%d@a.example", j, i), "PORTAL_ACCESS", "TECHNICAL_CONTACT")
		}
	}
	doc := `query($n: Int!) { customerAccounts(first: $n) { totalCount edges { node { number
		contacts(first: 20) { totalCount edges { node { name roleAssignments { role } } } } } } } }`
	count := func(n int) int64 {
		counter.Store(0)
		d := e.ok(e.admin, doc, map[string]any{"n": n})
		if got := len(dig(d, "customerAccounts", "edges").([]any)); got != n {
			t.Fatalf("page of %d has %d edges", n, got)
		}
		if c := dig(d, "customerAccounts", "edges", n-1, "node", "contacts", "edges", 2, "node", "roleAssignments"); len(c.([]any)) != 2 {
			t.Fatalf("nested roles not loaded: %v", c)
		}
		return counter.Load()
	}
	five, fifty := count(5), count(50)
	if five != fifty {
		t.Fatalf("statements: %d for 5 accounts, %d for 50 (N+1)", five, fifty)
	}
	if fifty > 12 {
		t.Fatalf("%d statements for one nested page; expected a small constant", fifty)
	}
	t.Logf("%d statements for 5 and for 50 accounts", fifty)
}
