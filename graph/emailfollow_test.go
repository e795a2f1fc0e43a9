package graph_test

import (
	"strings"
	"testing"
)

const followLogDoc = `query($n: String!, $a: String) { customerAccount(number: $n) {
	auditEvents(first: 50, filter: {action: $a}) { totalCount edges { node { action targetID actor { userID } changes { field value } } } } } }`

// followLog returns the events of an account's log (as tok) with their
// changes as field → JSON value.
func (e *env) followLog(tok, number, action string) []map[string]string {
	e.t.Helper()
	d := e.ok(tok, followLogDoc, map[string]any{"n": number, "a": action})
	var out []map[string]string
	edges, _ := dig(d, "customerAccount", "auditEvents", "edges").([]any)
	for _, edge := range edges {
		n := edge.(map[string]any)["node"].(map[string]any)
		ev := map[string]string{"action": n["action"].(string), "targetID": n["targetID"].(string)}
		if id, ok := dig(n, "actor", "userID").(string); ok {
			ev["actor"] = id
		}
		for _, c := range n["changes"].([]any) {
			ch := c.(map[string]any)
			ev[ch["field"].(string)] = ch["value"].(string)
		}
		out = append(out, ev)
	}
	return out
}

const contactEmailDoc = `query($c: ID!) { node(id: $c) { ... on Contact { email userID } } }`

// A person's verified e-mail change carries the linked contacts along,
// audited on each contact's account; where that account already has
// another contact with the new address the contact keeps its old one, and
// the log says so. Linking at verification is on the account's log too.
func TestContactsFollowUserEmail(t *testing.T) {
	e := newEnv(t)
	a, b := e.createAccount("93201"), e.createAccount("93202")
	adminA, _ := e.customerUser(a, "boss-a@a.example", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	adminB, _ := e.customerUser(b, "boss-b@a.example", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	// Contacts for the person exist before it has a login (flow 5).
	ctA := e.createContact(e.admin, a, "Erika", "erika@example.org", "PORTAL_ACCESS")
	ctB := e.createContact(e.admin, b, "Erika", "erika@example.org", "PORTAL_ACCESS")
	// B already knows somebody with the address the person will move to.
	otherB := e.createContact(e.admin, b, "Erika (private)", "erika.neu@example.org", "TECHNICAL_CONTACT")

	pw := secrets.add("Seerose-Libelle-Ufer-8")
	tok := e.signUpVerified("erika@example.org", "erika-follow", pw)
	uid := dig(e.ok(tok, `{ me { user { id } } }`, nil), "me", "user", "id").(string)

	// Linking at verification is an event on each account, readable by its
	// customer admin.
	for _, tc := range []struct{ tok, number, contact string }{{adminA, "93201", ctA}, {adminB, "93202", ctB}} {
		log := e.followLog(tc.tok, tc.number, "contact.linked")
		if len(log) != 1 || log[0]["targetID"] != tc.contact || log[0]["actor"] != uid || log[0]["email"] != `"erika@example.org"` {
			t.Fatalf("%s: contact.linked events %v", tc.number, log)
		}
	}
	// A customer admin reads only the own account's log.
	if d := e.ok(adminA, followLogDoc, map[string]any{"n": "93202"}); dig(d, "customerAccount") != nil {
		t.Fatalf("admin of A reads B's log: %v", d)
	}

	// The person changes the address.
	e.ok(tok, `mutation($n: String!, $p: String!) { requestEmailChange(input: {newEmail: $n, password: $p}) }`,
		map[string]any{"n": "erika.neu@example.org", "p": pw})
	link := e.linkTokenIn(e.mailTo("erika.neu@example.org"))
	// Nothing follows before the new address is verified.
	if d := e.ok(adminA, contactEmailDoc, map[string]any{"c": ctA}); dig(d, "node", "email") != "erika@example.org" {
		t.Fatalf("contact changed before verification: %v", d)
	}
	e.ok(tok, verifyEmailDoc, map[string]any{"t": link})

	// On A the contact follows, audited with from and to.
	if d := e.ok(adminA, contactEmailDoc, map[string]any{"c": ctA}); dig(d, "node", "email") != "erika.neu@example.org" || dig(d, "node", "userID") != uid {
		t.Fatalf("contact on A: %v", d)
	}
	log := e.followLog(adminA, "93201", "contact.email_")
	if len(log) != 1 || log[0]["action"] != "contact.email_followed_user" || log[0]["targetID"] != ctA || log[0]["actor"] != uid ||
		log[0]["from"] != `"erika@example.org"` || log[0]["to"] != `"erika.neu@example.org"` {
		t.Fatalf("A's log: %v", log)
	}
	// On B the address is another contact's: the person's contact keeps
	// the old one, stays linked, and the log says why.
	if d := e.ok(adminB, contactEmailDoc, map[string]any{"c": ctB}); dig(d, "node", "email") != "erika@example.org" || dig(d, "node", "userID") != uid {
		t.Fatalf("contact on B: %v", d)
	}
	if d := e.ok(adminB, contactEmailDoc, map[string]any{"c": otherB}); dig(d, "node", "email") != "erika.neu@example.org" || dig(d, "node", "userID") != nil {
		t.Fatalf("other contact on B: %v", d)
	}
	log = e.followLog(adminB, "93202", "contact.email_")
	if len(log) != 1 || log[0]["action"] != "contact.email_follow_skipped" || log[0]["targetID"] != ctB ||
		log[0]["from"] != `"erika@example.org"` || log[0]["to"] != `"erika.neu@example.org"` || !strings.Contains(log[0]["reason"], "another contact") {
		t.Fatalf("B's log: %v", log)
	}
	// B's other contact with the new address is not linked: the person
	// already has a contact there.
	if log := e.followLog(adminB, "93202", "contact.link_skipped"); len(log) != 1 || log[0]["targetID"] != otherB {
		t.Fatalf("B's link_skipped: %v", log)
	}
	// The person keeps its access on both accounts, and logs in with the new address.
	tok = e.loginTokens("erika.neu@example.org", pw)["accessToken"].(string)
	for _, n := range []string{"93201", "93202"} {
		if got := permsOn(e, tok, n); len(got) == 0 {
			t.Fatalf("no permissions on %s after the change", n)
		}
	}
	// Neither account's log shows the other's contact events.
	for _, ev := range e.followLog(adminA, "93201", "contact.") {
		if ev["targetID"] == ctB || ev["targetID"] == otherB {
			t.Fatalf("A's log shows B's contact: %v", ev)
		}
	}
}
