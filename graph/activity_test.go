package graph_test

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

const endRoleDoc = `mutation($c: ID!, $r: Role!, $d: Date) { removeRole(input: {contactID: $c, role: $r, lastDay: $d}) { id } }`
const setRoleDoc = `mutation($c: ID!, $r: Role!, $u: Date) { assignRole(input: {contactID: $c, role: $r, validUntil: $u}) { role } }`

// activityDay returns the date n days after the pinned clock's day in Berlin.
func activityDay(e *env, n int) string {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	return e.clock.Now().In(berlin).AddDate(0, 0, n).Format("2006-01-02")
}

func wantLastAdmin(t *testing.T, r response) {
	t.Helper()
	if r.Errors[0].Extensions["reason"] != "LAST_CUSTOMER_ADMIN" {
		t.Fatalf("reason: %s", r.Raw)
	}
}

func TestLastAdminRefusedAndHandover(t *testing.T) {
	e := newEnv(t)
	a := e.createAccount("71001")
	adminA, ctA := e.customerUser(a, "a@71001.example", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	vars := func(c, r string, d any) map[string]any { return map[string]any{"c": c, "r": r, "d": d} }

	// The only admin can remove neither role from himself, now or as of a
	// date; nor can staff remove it.
	wantLastAdmin(t, e.wantCode(adminA, endRoleDoc, vars(ctA, "CUSTOMER_ADMIN", nil), "CONFLICT"))
	wantLastAdmin(t, e.wantCode(adminA, endRoleDoc, vars(ctA, "PORTAL_ACCESS", nil), "CONFLICT"))
	wantLastAdmin(t, e.wantCode(adminA, endRoleDoc, vars(ctA, "CUSTOMER_ADMIN", activityDay(e, 3)), "CONFLICT"))
	wantLastAdmin(t, e.wantCode(e.admin, endRoleDoc, vars(ctA, "CUSTOMER_ADMIN", nil), "CONFLICT"))
	// Other roles are not affected.
	e.ok(adminA, setRoleDoc, map[string]any{"c": ctA, "r": "TECHNICAL_CONTACT"})
	e.ok(adminA, endRoleDoc, vars(ctA, "TECHNICAL_CONTACT", nil))

	// A second admin whose admin role ends in two days is not enough to let
	// the open-ended one go, neither now nor as of a later day.
	_, ctB := e.customerUser(a, "b@71001.example", "PORTAL_ACCESS")
	e.ok(adminA, setRoleDoc, map[string]any{"c": ctB, "r": "CUSTOMER_ADMIN", "u": activityDay(e, 2)})
	wantLastAdmin(t, e.wantCode(adminA, endRoleDoc, vars(ctA, "CUSTOMER_ADMIN", nil), "CONFLICT"))
	wantLastAdmin(t, e.wantCode(adminA, endRoleDoc, vars(ctA, "CUSTOMER_ADMIN", activityDay(e, 5)), "CONFLICT"))
	// A can still end B's dated role early: A stays.
	e.ok(adminA, endRoleDoc, vars(ctB, "CUSTOMER_ADMIN", activityDay(e, 1)))

	// Handover: B becomes admin without end, then A's roles can go.
	e.ok(adminA, setRoleDoc, map[string]any{"c": ctB, "r": "CUSTOMER_ADMIN"})
	e.ok(adminA, endRoleDoc, vars(ctA, "CUSTOMER_ADMIN", activityDay(e, 4)))
	adminB := e.login("b@71001.example", adminPassword)
	// A (now ending on day 4) does not cover B's open-ended admin role.
	wantLastAdmin(t, e.wantCode(adminB, endRoleDoc, vars(ctB, "PORTAL_ACCESS", nil), "CONFLICT"))
	e.ok(adminB, endRoleDoc, vars(ctA, "CUSTOMER_ADMIN", nil))
	wantLastAdmin(t, e.wantCode(adminB, endRoleDoc, vars(ctB, "CUSTOMER_ADMIN", nil), "CONFLICT"))

	// Every refusal left nothing behind: only the successful changes are
	// in the log.
	d := e.ok(adminB, `query($c: ID!) { node(id: $c) { ... on Contact { auditEvents(first: 50, filter: {action: "role.remove"}) { totalCount } } } }`, map[string]any{"c": ctA})
	if n := dig(d, "node", "auditEvents", "totalCount"); n != float64(3) {
		t.Fatalf("role.remove events of A: %v", n)
	}
}

// Two admins removing each other at the same instant: one wins, the other
// is refused, and the account keeps an admin (on SQLite by its single
// writer, on PostgreSQL by the row lock of the rule).
func TestLastAdminConcurrentMutualRemoval(t *testing.T) {
	e := newEnv(t)
	for round := 0; round < 3; round++ {
		number := fmt.Sprintf("7200%d", round)
		a := e.createAccount(number)
		tokA, ctA := e.customerUser(a, "a@"+number+".example", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
		tokB, ctB := e.customerUser(a, "b@"+number+".example", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
		var wg sync.WaitGroup
		start := make(chan struct{})
		results := make([]response, 2)
		for i, p := range []struct{ tok, target string }{{tokA, ctB}, {tokB, ctA}} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				req := e.request(p.tok, endRoleDoc, map[string]any{"c": p.target, "r": "CUSTOMER_ADMIN"})
				<-start
				results[i] = e.send(req)
			}()
		}
		close(start)
		wg.Wait()
		ok := 0
		for _, r := range results {
			switch {
			case len(r.Errors) == 0:
				ok++
			case r.code() == "CONFLICT" || r.code() == "NOT_FOUND" || r.code() == "FORBIDDEN":
				// refused by the rule, or the loser was no admin any more
			default:
				t.Fatalf("unexpected answer: %s", r.Raw)
			}
		}
		if ok != 1 {
			t.Fatalf("round %d: %d removals succeeded: %s / %s", round, ok, results[0].Raw, results[1].Raw)
		}
		d := e.ok(e.admin, `query($n: String!) { customerAccount(number: $n) { contacts(first: 10) { edges { node { roleAssignments { role endedAt } } } } } }`, map[string]any{"n": number})
		admins := 0
		for _, edge := range dig(d, "customerAccount", "contacts", "edges").([]any) {
			for _, ra := range dig(edge, "node", "roleAssignments").([]any) {
				m := ra.(map[string]any)
				if m["role"] == "CUSTOMER_ADMIN" && m["endedAt"] == nil {
					admins++
				}
			}
		}
		if admins != 1 {
			t.Fatalf("round %d: %d admins left", round, admins)
		}
	}
}

const accountLogDoc = `query($n: String!, $first: Int, $after: Cursor, $f: ActivityFilter) {
  customerAccount(number: $n) { auditEvents(first: $first, after: $after, filter: $f) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node { id occurredAt action targetType targetID customerAccountID
      actor { kind userID name staffRole apiKeyID agencyAccountID }
      changes { field value } } } } } }`

const contactLogDoc = `query($c: ID!, $f: ActivityFilter) { node(id: $c) { ... on Contact {
  auditEvents(first: 50, filter: $f) { totalCount edges { node { action targetID actor { userID name } } } } } } }`

func actions(conn any) []string {
	var out []string
	for _, edge := range dig(conn, "edges").([]any) {
		out = append(out, dig(edge, "node", "action").(string))
	}
	return out
}

func TestActivityLog(t *testing.T) {
	e := newEnv(t)
	a := e.createAccount("73001")
	other := e.createAccount("73002")
	adminA, ctA := e.customerUser(a, "admin@73001.example", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	worker, _ := e.customerUser(a, "worker@73001.example", "PORTAL_ACCESS", "TECHNICAL_CONTACT")
	adminO, _ := e.customerUser(other, "admin@73002.example", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	e.createContact(adminO, other, "Other", "x@73002.example")

	// Events carry the wall-clock time of their write.
	time.Sleep(5 * time.Millisecond)
	t1 := time.Now()
	c := e.createContact(adminA, a, "Carla", "carla@73001.example")
	e.clock.Advance(time.Minute)
	e.ok(adminA, setRoleDoc, map[string]any{"c": c, "r": "PORTAL_ACCESS", "u": activityDay(e, 10)})
	e.clock.Advance(time.Minute)
	e.ok(e.admin, setRoleDoc, map[string]any{"c": c, "r": "CUSTOMER_ADMIN"}) // staff
	e.clock.Advance(time.Minute)
	keySecret, keyID := e.createKey(adminA, a, []string{"CONTACTS_MANAGE", "CONTACTS_READ", "ACCOUNT_READ", "AUDIT_READ"}, e.clock.Now().Add(24*time.Hour))
	time.Sleep(5 * time.Millisecond)
	t2 := time.Now()
	time.Sleep(5 * time.Millisecond)
	e.ok(keySecret, endRoleDoc, map[string]any{"c": c, "r": "CUSTOMER_ADMIN"}) // through the key
	e.clock.Advance(time.Minute)

	d := e.ok(adminA, accountLogDoc, map[string]any{"n": "73001", "first": 100})
	log := dig(d, "customerAccount", "auditEvents")
	all := actions(log)
	if all[0] != "role.remove" {
		t.Fatalf("not newest first: %v", all)
	}
	byAction := map[string]any{}
	for _, edge := range dig(log, "edges").([]any) {
		n := dig(edge, "node")
		if dig(n, "customerAccountID") != a {
			t.Fatalf("another account's event: %v", n)
		}
		if _, seen := byAction[dig(n, "action").(string)]; !seen {
			byAction[dig(n, "action").(string)] = n
		}
	}
	// Who did what to whom, on whose behalf, which fields.
	rm := byAction["role.remove"]
	if dig(rm, "targetID") != c || dig(rm, "actor", "apiKeyID") != keyID || dig(rm, "actor", "kind") != "API_KEY" ||
		dig(rm, "actor", "name") != "admin@73001.example" || dig(rm, "actor", "staffRole") != nil {
		t.Fatalf("role.remove: %v", rm)
	}
	var staffAssign, ownAssign any
	for _, edge := range dig(log, "edges").([]any) {
		n := dig(edge, "node")
		if dig(n, "action") == "role.assign" && dig(n, "targetID") == c {
			if dig(n, "actor", "staffRole") == "ADMIN" {
				staffAssign = n
			} else {
				ownAssign = n
			}
		}
	}
	if staffAssign == nil || ownAssign == nil || dig(ownAssign, "actor", "apiKeyID") != nil {
		t.Fatalf("staff/own role.assign: %v / %v", staffAssign, ownAssign)
	}
	changes := map[string]string{}
	for _, ch := range dig(ownAssign, "changes").([]any) {
		changes[dig(ch, "field").(string)] = dig(ch, "value").(string)
	}
	if changes["role"] != `"PORTAL_ACCESS"` || changes["validUntil"] != `"`+activityDay(e, 10)+`"` {
		t.Fatalf("changes: %v", changes)
	}
	for _, edge := range dig(log, "edges").([]any) {
		for _, ch := range dig(edge, "node", "changes").([]any) {
			if f := dig(ch, "field").(string); f == "secret" || f == "passwordHash" || f == "token" {
				t.Fatalf("a secret in the log: %v", ch)
			}
		}
	}

	// Filters: action prefix, actor, time range.
	vars := func(f map[string]any) map[string]any { return map[string]any{"n": "73001", "first": 100, "f": f} }
	roles := actions(dig(e.ok(adminA, accountLogDoc, vars(map[string]any{"action": "role."})), "customerAccount", "auditEvents"))
	if len(roles) != 3 {
		t.Fatalf("role events: %v", roles)
	}
	for _, r := range roles {
		if r != "role.assign" && r != "role.remove" {
			t.Fatalf("prefix filter let %s through", r)
		}
	}
	staffID := dig(staffAssign, "actor", "userID").(string)
	byStaff := dig(e.ok(adminA, accountLogDoc, vars(map[string]any{"actorID": staffID})), "customerAccount", "auditEvents")
	for _, edge := range dig(byStaff, "edges").([]any) {
		if dig(edge, "node", "actor", "userID") != staffID {
			t.Fatalf("actor filter: %v", edge)
		}
	}
	if dig(byStaff, "totalCount").(float64) < 1 {
		t.Fatal("no staff events")
	}
	window := actions(dig(e.ok(adminA, accountLogDoc, vars(map[string]any{
		"from": t1.Format(time.RFC3339Nano), "until": t2.Format(time.RFC3339Nano)})), "customerAccount", "auditEvents"))
	if fmt.Sprint(window) != fmt.Sprint([]string{"api_key.create", "staff.read", "role.assign", "role.assign", "contact.create"}) {
		t.Fatalf("time window: %v", window)
	}

	// Pagination: pages of two, newest first, no event twice.
	var paged []string
	var after any
	for i := 0; ; i++ {
		conn := dig(e.ok(adminA, accountLogDoc, map[string]any{"n": "73001", "first": 2, "after": after}), "customerAccount", "auditEvents")
		for _, edge := range dig(conn, "edges").([]any) {
			paged = append(paged, dig(edge, "node", "id").(string))
		}
		if dig(conn, "pageInfo", "hasNextPage") != true {
			break
		}
		after = dig(conn, "pageInfo", "endCursor")
		if i > 50 {
			t.Fatal("pagination does not end")
		}
	}
	var ids []string
	for _, edge := range dig(log, "edges").([]any) {
		ids = append(ids, dig(edge, "node", "id").(string))
	}
	if fmt.Sprint(paged) != fmt.Sprint(ids) {
		t.Fatalf("pages %v\n  != %v", paged, ids)
	}

	// Per contact: only the events that target it.
	cl := dig(e.ok(adminA, contactLogDoc, map[string]any{"c": c}), "node", "auditEvents")
	if got := actions(cl); fmt.Sprint(got) != fmt.Sprint([]string{"role.remove", "role.assign", "role.assign", "contact.create"}) {
		t.Fatalf("contact log: %v", got)
	}
	for _, edge := range dig(cl, "edges").([]any) {
		if dig(edge, "node", "targetID") != c {
			t.Fatalf("contact log has %v", edge)
		}
	}
	if got := actions(dig(e.ok(adminA, contactLogDoc, map[string]any{"c": c, "f": map[string]any{"action": "role.remove"}}), "node", "auditEvents")); len(got) != 1 {
		t.Fatalf("contact log filtered: %v", got)
	}
	_ = ctA

	// Staff reads it; a person without AUDIT_READ and another customer's
	// admin do not.
	if n := dig(e.ok(e.admin, accountLogDoc, map[string]any{"n": "73001", "first": 100}), "customerAccount", "auditEvents", "totalCount"); n != float64(len(ids)) {
		t.Fatalf("staff sees %v of %d", n, len(ids))
	}
	r := e.do(worker, accountLogDoc, map[string]any{"n": "73001", "first": 10})
	if r.code() != "NOT_FOUND" || dig(r.Data, "customerAccount", "auditEvents") != nil {
		t.Fatalf("worker without AUDIT_READ: %s", r.Raw)
	}
	r = e.do(worker, contactLogDoc, map[string]any{"c": c})
	if len(r.Errors) == 0 && dig(r.Data, "node", "auditEvents") != nil {
		t.Fatalf("worker reads a contact's log: %s", r.Raw)
	}
	r = e.do(adminO, accountLogDoc, map[string]any{"n": "73001", "first": 10})
	if dig(r.Data, "customerAccount") != nil {
		t.Fatalf("another customer reads the log: %s", r.Raw)
	}
	if r := e.do(adminO, contactLogDoc, map[string]any{"c": c}); dig(r.Data, "node") != nil || r.code() != "NOT_FOUND" {
		t.Fatal("another customer reaches the contact's log")
	}
	otherLog := dig(e.ok(adminO, accountLogDoc, map[string]any{"n": "73002", "first": 100}), "customerAccount", "auditEvents")
	for _, edge := range dig(otherLog, "edges").([]any) {
		if dig(edge, "node", "customerAccountID") != other {
			t.Fatalf("account 73002's log shows %v", edge)
		}
	}
}

// Listing events with their actors costs the same statements for a page of
// 3 as for a page of 30 actors.
func TestActivityLogNoNPlusOne(t *testing.T) {
	opt, counter := newCounter()
	e := newEnv(t, opt)
	a := e.createAccount("74001")
	for i := 0; i < 30; i++ {
		tok, _ := e.customerUser(a, fmt.Sprintf("p%d@74001.example", i), "PORTAL_ACCESS", "CUSTOMER_ADMIN")
		e.createContact(tok, a, fmt.Sprintf("C%d", i), fmt.Sprintf("c%d@74001.example", i))
	}
	doc := `query($n: Int!) { customerAccount(number: "74001") { auditEvents(first: $n, filter: {action: "contact.create"}) {
		edges { node { action actor { kind name userID staffRole } changes { field value } } } } } }`
	count := func(n int) int64 {
		counter.Store(0)
		d := e.ok(e.admin, doc, map[string]any{"n": n})
		if got := len(dig(d, "customerAccount", "auditEvents", "edges").([]any)); got != n {
			t.Fatalf("%d events, want %d", got, n)
		}
		if dig(d, "customerAccount", "auditEvents", "edges", n-1, "node", "actor", "name") == nil {
			t.Fatalf("actor name missing: %v", d)
		}
		return counter.Load()
	}
	few, many := count(3), count(30)
	if few != many {
		t.Fatalf("statements: %d for 3 events, %d for 30", few, many)
	}
}
