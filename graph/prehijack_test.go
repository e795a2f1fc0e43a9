package graph_test

import (
	"context"
	"strings"
	"testing"

	"portier/ent/auditevent"
	"portier/ent/onetimetoken"
	"portier/ent/outboxmessage"
	"portier/ent/useraccount"
	"portier/internal/viewer"
)

// Pre-account hijacking (issue 6 item 2). The attack classes
// and how each is closed (see also the identity package comment):
//   - classic-federated merge, non-verifying IdP: n/a, Portier has no
//     federated login;
//   - trojan identifier / classic sign-up first: TestPreAccountHijackingSignUpFirst;
//   - unexpired session: TestPreAccountHijackingUnexpiredSession;
//   - unverified e-mail change: TestPreAccountHijackingUnverifiedEmailChange.

const kimPassword = "Kim-Eigenes-Passwort-2026"
const malloryPassword = "Mallory-Angriff-Passwort-1"

// The exact scenario of the issue: a contact with CUSTOMER_ADMIN waits for
// kim@a.test; an attacker signs up first with that address.
func TestPreAccountHijackingSignUpFirst(t *testing.T) {
	e := newEnv(t)
	secrets.add(kimPassword)
	secrets.add(malloryPassword)
	acct := e.createAccount("70001")
	contact := e.createContact(e.admin, acct, "Kim", "kim@a.test", "PORTAL_ACCESS", "CUSTOMER_ADMIN")

	e.ok("", signUpDoc, map[string]any{"e": "kim@a.test", "u": "kim-attacker", "p": malloryPassword})
	// The attacker's unverified claim is no login with Kim's address.
	e.wantCode("", loginFullDoc, map[string]any{"l": "kim@a.test", "p": malloryPassword}, "UNAUTHENTICATED")
	// A username can never look like an address (no trojan identifier).
	r := e.wantCode("", signUpDoc, map[string]any{"e": "x@b.test", "u": "kim@a.test", "p": malloryPassword}, "BAD_USER_INPUT")
	if r.Errors[0].Extensions["field"] != "input.username" {
		t.Fatalf("field: %s", r.Raw)
	}

	// Kim signs up later: her own account, her own working link.
	e.ok("", signUpDoc, map[string]any{"e": "kim@a.test", "u": "kim", "p": kimPassword})
	attackerMail := e.mailTo("kim@a.test")
	kimMail := e.mailTo("kim@a.test")
	if !strings.Contains(attackerMail.Body, "kim-attacker") || !strings.Contains(kimMail.Body, `"kim"`) && !strings.Contains(kimMail.Body, "„kim“") {
		t.Fatalf("the mails must name the username:\n%s\n---\n%s", attackerMail.Body, kimMail.Body)
	}
	attackerLink, kimLink := e.linkTokenIn(attackerMail), e.linkTokenIn(kimMail)

	// Kim opens the attacker's link: without the attacker's session or
	// password nothing happens, also not while she is logged in herself.
	r = e.wantCode("", verifyEmailDoc, map[string]any{"t": attackerLink}, "BAD_USER_INPUT")
	if r.Errors[0].Extensions["field"] != "password" || !strings.Contains(r.Errors[0].Message, "kim-attacker") {
		t.Fatalf("refusal: %s", r.Raw)
	}
	kimAccess := e.loginTokens("kim", kimPassword)["accessToken"].(string)
	e.wantCode(kimAccess, verifyEmailDoc, map[string]any{"t": attackerLink}, "BAD_USER_INPUT")
	e.wantCode("", verifyEmailDoc, map[string]any{"t": attackerLink, "p": kimPassword}, "BAD_USER_INPUT")

	// Kim verifies her own link: the address is hers, the contact is hers.
	e.ok(kimAccess, verifyEmailDoc, map[string]any{"t": kimLink})
	if got := permsOn(e, kimAccess, "70001"); len(got) == 0 {
		t.Fatalf("Kim's permissions: %v", got)
	}
	d := e.ok(e.admin, `query($id: ID!) { node(id: $id) { ... on Contact { user { username } } } }`, map[string]any{"id": contact})
	if dig(d, "node", "user", "username") != "kim" {
		t.Fatalf("contact linked to %v", d)
	}
	// The attacker's claim is void: his link is dead even with his password,
	// his account holds no address, and the voiding is audited.
	e.wantCode("", verifyEmailDoc, map[string]any{"t": attackerLink, "p": malloryPassword}, "BAD_USER_INPUT")
	ctx := viewer.SystemContext(context.Background())
	mallory, err := e.client.UserAccount.Query().Where(useraccount.Username("kim-attacker")).Only(ctx)
	if err != nil || mallory.Email != "" || mallory.PendingEmail != "" || mallory.EmailVerifiedAt != nil {
		t.Fatalf("attacker account after Kim's verification: %+v %v", mallory, err)
	}
	if n, _ := e.client.AuditEvent.Query().Where(auditevent.Action("user.email_claim_voided"), auditevent.TargetID(string(mallory.ID))).Count(ctx); n != 1 {
		t.Fatalf("voided claim audited %d times", n)
	}
	e.loginTokens("kim@a.test", kimPassword)
}

// The attacker signs up with the victim's address and keeps a session
// open, hoping the victim later completes "his" account (by verifying or a
// password reset). Neither happens: the victim gets her own account; the
// attacker's session belongs to an account that never gets the address.
func TestPreAccountHijackingUnexpiredSession(t *testing.T) {
	e := newEnv(t)
	secrets.add(kimPassword)
	secrets.add(malloryPassword)
	e.createAccount("70002")
	acct := e.createAccount("70003")
	e.createContact(e.admin, acct, "Kim", "kim@a.test", "PORTAL_ACCESS", "CUSTOMER_ADMIN")

	e.ok("", signUpDoc, map[string]any{"e": "kim@a.test", "u": "mallory", "p": malloryPassword})
	attackerLink := e.linkTokenIn(e.mailTo("kim@a.test"))
	session := e.loginTokens("mallory", malloryPassword)["accessToken"].(string)

	// A password reset for an unverified address, or for the username of
	// an unverified account, sends nothing (and answers the same).
	resetDoc := `mutation($l: String!) { requestPasswordReset(login: $l) }`
	e.ok("", resetDoc, map[string]any{"l": "kim@a.test"})
	e.ok("", resetDoc, map[string]any{"l": "mallory"})
	ctx := viewer.SystemContext(context.Background())
	if n, _ := e.client.OneTimeToken.Query().Where(onetimetoken.PurposeEQ(onetimetoken.PurposePASSWORD_RESET)).Count(ctx); n != 0 {
		t.Fatalf("%d reset links for an unverified address", n)
	}

	// Kim signs up and verifies with her password.
	e.ok("", signUpDoc, map[string]any{"e": "kim@a.test", "u": "kim", "p": kimPassword})
	kimLink := e.linkTokenIn(e.mailTo("kim@a.test"))
	e.ok("", verifyEmailDoc, map[string]any{"t": kimLink, "p": kimPassword})

	// The attacker's session sees nothing of the account, and his link,
	// now with his own session, verifies nothing.
	if got := permsOn(e, session, "70003"); len(got) != 0 {
		t.Fatalf("attacker's session has permissions %v", got)
	}
	e.wantCode(session, verifyEmailDoc, map[string]any{"t": attackerLink}, "BAD_USER_INPUT")
	d := e.ok(session, `{ me { user { email emailVerifiedAt pendingEmail } } }`, nil)
	if e1 := dig(d, "me", "user", "email"); (e1 != nil && e1 != "") || dig(d, "me", "user", "emailVerifiedAt") != nil {
		t.Fatalf("attacker's account: %v", d)
	}
	// Resending gives him nothing either.
	e.ok(session, `mutation { resendVerificationEmail }`, nil)
	if n, _ := e.client.OutboxMessage.Query().Where(outboxmessage.Recipient("kim@a.test")).Count(ctx); n != 2 {
		t.Fatalf("%d messages to Kim (want the two sign-up links)", n)
	}
	// Kim's password reset works: her address is verified.
	e.ok("", resetDoc, map[string]any{"l": "kim@a.test"})
	if m := e.mailTo("kim@a.test"); !linkToken.MatchString(m.Body) {
		t.Fatalf("reset mail: %s", m.Body)
	}
}

// A verified attacker asks to change his address to the victim's; the link
// goes to the victim, naming the attacker's username. Without the
// attacker's session or password the victim cannot verify it by mistake;
// the address stays free for her, and her verification voids the change.
func TestPreAccountHijackingUnverifiedEmailChange(t *testing.T) {
	e := newEnv(t)
	secrets.add(kimPassword)
	mallory := e.signUpVerified("mallory@evil.test", "mallory", malloryPassword)
	change := `mutation($n: String!, $p: String!) { requestEmailChange(input: {newEmail: $n, password: $p}) }`
	e.ok(mallory, change, map[string]any{"n": "kim@a.test", "p": malloryPassword})
	m := e.mailTo("kim@a.test")
	if !strings.Contains(m.Body, "mallory") {
		t.Fatalf("the change link must name the account: %s", m.Body)
	}
	changeLink := e.linkTokenIn(m)
	e.mailTo("mallory@evil.test") // notice to the old address
	// Nothing changed: the address is no login of the attacker.
	e.wantCode("", loginFullDoc, map[string]any{"l": "kim@a.test", "p": malloryPassword}, "UNAUTHENTICATED")
	// Kim clicks: refused without the attacker's session or password.
	e.wantCode("", verifyEmailDoc, map[string]any{"t": changeLink}, "BAD_USER_INPUT")

	// Kim signs up and verifies: the pending change is void.
	e.ok("", signUpDoc, map[string]any{"e": "kim@a.test", "u": "kim", "p": kimPassword})
	e.ok("", verifyEmailDoc, map[string]any{"t": e.linkTokenIn(e.mailTo("kim@a.test")), "p": kimPassword})
	e.wantCode(mallory, verifyEmailDoc, map[string]any{"t": changeLink}, "BAD_USER_INPUT")
	e.loginTokens("kim@a.test", kimPassword)
	e.loginTokens("mallory@evil.test", malloryPassword)
}

// Issue 6 item 10: signUp answers alike for a taken username and a taken
// address; the address is told when the username is taken, at most 3 times
// an hour.
func TestSignUpAnswersAlikeForTakenUsername(t *testing.T) {
	e := newEnv(t)
	e.signUpVerified("owner@example.org", "owner", kimPassword)
	free := e.ok("", signUpDoc, map[string]any{"e": "someone@example.org", "u": "someone", "p": malloryPassword})
	for i := 0; i < 4; i++ {
		taken := e.ok("", signUpDoc, map[string]any{"e": "prober@example.org", "u": "OWNER", "p": malloryPassword})
		if dig(taken, "signUp", "accepted") != dig(free, "signUp", "accepted") {
			t.Fatalf("answers differ: %v / %v", taken, free)
		}
	}
	ctx := viewer.SystemContext(context.Background())
	if n, _ := e.client.OutboxMessage.Query().Where(outboxmessage.Recipient("prober@example.org")).Count(ctx); n != 3 {
		t.Fatalf("%d username-taken notes (want 3: rate-limited per address)", n)
	}
	if n, _ := e.client.UserAccount.Query().Where(useraccount.Username("owner")).Count(ctx); n != 1 {
		t.Fatalf("%d accounts named owner", n)
	}
}

// Issue 6 item 10: a customer admin who types an address learns nothing
// about who has an account; the person links the contact herself.
func TestCreateContactRevealsNoUser(t *testing.T) {
	e := newEnv(t)
	acct := e.createAccount("70010")
	adminA, _ := e.customerUser(acct, "boss@a.test", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	kim := e.signUpVerified("kim@a.test", "kim", kimPassword)

	withUser := e.ok(adminA, createContactDoc, map[string]any{"a": acct, "name": "Kim", "email": "kim@a.test", "roles": []string{"PORTAL_ACCESS"}})
	without := e.ok(adminA, createContactDoc, map[string]any{"a": acct, "name": "Nobody", "email": "nobody@a.test", "roles": []string{"PORTAL_ACCESS"}})
	if dig(withUser, "createContact", "userID") != nil || dig(without, "createContact", "userID") != nil {
		t.Fatalf("createContact shows a user: %v / %v", withUser, without)
	}
	contact := dig(withUser, "createContact", "id").(string)
	ctx := viewer.SystemContext(context.Background())
	ev, err := e.client.AuditEvent.Query().Where(auditevent.Action("contact.create"), auditevent.TargetID(contact)).Only(ctx)
	if err != nil || ev.Changes["linkedUser"] != nil {
		t.Fatalf("audit: %v %v", ev, err)
	}
	if got := permsOn(e, kim, "70010"); len(got) != 0 {
		t.Fatalf("linked without the person: %v", got)
	}
	// Kim is told, and links it herself.
	if m := e.mailTo("kim@a.test"); !strings.Contains(m.Body, "70010") {
		t.Fatalf("notice: %s", m.Body)
	}
	d := e.ok(kim, `mutation { linkContacts }`, nil)
	if dig(d, "linkContacts").(float64) != 1 {
		t.Fatalf("linked: %v", d)
	}
	if got := permsOn(e, kim, "70010"); len(got) == 0 {
		t.Fatal("no access after linking")
	}
	d = e.ok(adminA, `query($id: ID!) { node(id: $id) { ... on Contact { userID } } }`, map[string]any{"id": contact})
	if dig(d, "node", "userID") == nil {
		t.Fatalf("the established link is not shown: %v", d)
	}
	if n, _ := e.client.AuditEvent.Query().Where(auditevent.Action("contact.linked"), auditevent.TargetID(contact)).Count(ctx); n != 1 {
		t.Fatal("link not audited")
	}
}

// Issue 6 item 11: contacts other people created never block verifying an
// address: what can be linked is linked, the rest stays unlinked, both are
// audited.
func TestEmailChangeNotBlockedByOthersContacts(t *testing.T) {
	e := newEnv(t)
	a := e.createAccount("10001")
	b := e.createAccount("10002")
	bob := e.signUpVerified("bob@example.test", "bob", kimPassword)
	e.createContact(e.admin, a, "Bob", "bob@example.test", "PORTAL_ACCESS")
	second := e.createContact(e.admin, a, "Bob new", "bobnew@example.test", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	onB := e.createContact(e.admin, b, "Bob at B", "bobnew@example.test", "PORTAL_ACCESS")

	change := `mutation($n: String!, $p: String!) { requestEmailChange(input: {newEmail: $n, password: $p}) }`
	e.ok(bob, change, map[string]any{"n": "bobnew@example.test", "p": kimPassword})
	e.ok(bob, verifyEmailDoc, map[string]any{"t": e.linkTokenIn(e.mailTo("bobnew@example.test"))})
	e.loginTokens("bobnew@example.test", kimPassword)

	ctx := viewer.SystemContext(context.Background())
	for id, action := range map[string]string{second: "contact.link_skipped", onB: "contact.linked"} {
		if n, _ := e.client.AuditEvent.Query().Where(auditevent.Action(action), auditevent.TargetID(id)).Count(ctx); n != 1 {
			t.Fatalf("%s not audited for %s", action, id)
		}
	}
	d := e.ok(e.admin, `query($x: ID!, $y: ID!) { x: node(id: $x) { ... on Contact { userID } } y: node(id: $y) { ... on Contact { userID } } }`,
		map[string]any{"x": second, "y": onB})
	if dig(d, "x", "userID") != nil || dig(d, "y", "userID") == nil {
		t.Fatalf("links: %v", d)
	}
	if got := permsOn(e, bob, "10002"); len(got) == 0 {
		t.Fatal("no access on the account whose contact was linked")
	}
}
