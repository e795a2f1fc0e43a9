package graph_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"portier/ent/auditevent"
	"portier/ent/groupmembership"
	"portier/internal/invitations"
	"portier/internal/pulid"
	"portier/internal/viewer"
)

const (
	inviteDoc = `mutation($a: ID!, $e: String!, $n: String, $r: [Role!], $g: [ID!], $u: Date) {
  inviteContact(input: {customerAccountID: $a, email: $e, name: $n, roles: $r, groups: $g, validUntil: $u}) {
    id email name state roles groupIDs expiresAt customerAccountID
  }
}`
	acceptDoc       = `mutation($t: String!) { acceptInvitation(token: $t) { id state acceptedByID acceptedAt } }`
	revokeInviteDoc = `mutation($i: ID!) { revokeInvitation(id: $i) { id state revokedAt } }`
	resendInviteDoc = `mutation($i: ID!) { resendInvitation(id: $i) { id state expiresAt } }`
	invitationsDoc  = `query($a: ID!, $s: InvitationState) { invitations(customerAccountID: $a, state: $s) { id email state } }`
)

// invite sends an invitation as tok and returns its ID and the link's token
// read from the mail.
func (e *env) invite(tok, account, email string, roles ...string) (string, string) {
	e.t.Helper()
	d := e.ok(tok, inviteDoc, map[string]any{"a": account, "e": email, "r": roles})
	return dig(d, "inviteContact", "id").(string), e.linkTokenIn(e.mailTo(email))
}

// invitationState reads an invitation's state through the account's list.
func (e *env) invitationState(tok, account, id string) string {
	e.t.Helper()
	d := e.ok(tok, invitationsDoc, map[string]any{"a": account})
	for _, inv := range dig(d, "invitations").([]any) {
		if dig(inv, "id") == id {
			return dig(inv, "state").(string)
		}
	}
	e.t.Fatalf("invitation %s not listed: %v", id, d)
	return ""
}

func (e *env) permsOn(tok, account string) []string {
	e.t.Helper()
	var out []string
	for _, p := range dig(e.ok(tok, myPermsDoc, map[string]any{"a": account}), "myPermissions").([]any) {
		out = append(out, p.(string))
	}
	return out
}

func (e *env) auditCount(action string) int {
	e.t.Helper()
	n, err := e.client.AuditEvent.Query().Where(auditevent.Action(action)).Count(viewer.SystemContext(context.Background()))
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

func TestInvitationAcceptWithTheRightEmail(t *testing.T) {
	e := newEnv(t)
	acct := e.createAccount("50001")
	boss, _ := e.customerUser(acct, "boss@firma.de", "PORTAL_ACCESS", "CUSTOMER_ADMIN")

	// The invited address is normalised; the mail carries the link.
	d := e.ok(boss, inviteDoc, map[string]any{"a": acct, "e": "  Alice@Firma.DE ", "n": "Alice Adler",
		"r": []string{"PORTAL_ACCESS", "TECHNICAL_CONTACT"}})
	inv := dig(d, "inviteContact").(map[string]any)
	if inv["email"] != "alice@firma.de" || inv["state"] != "PENDING" || len(inv["roles"].([]any)) != 2 {
		t.Fatalf("invitation: %v", inv)
	}
	exp, _ := time.Parse(time.RFC3339, inv["expiresAt"].(string))
	if !exp.Equal(e.clock.Now().Add(7 * 24 * time.Hour)) {
		t.Fatalf("expires %v, want 7 days from %v", exp, e.clock.Now())
	}
	m := e.mailTo("alice@firma.de")
	if !strings.Contains(m.Body, "50001") || !strings.Contains(m.Body, "/accept-invitation?token=") {
		t.Fatalf("mail: %s", m.Body)
	}
	tok := e.linkTokenIn(m)
	if len(tok) < 43 {
		t.Fatalf("token too short: %d characters", len(tok))
	}
	// Stored only as a hash.
	ctx := viewer.SystemContext(context.Background())
	stored, err := e.client.Invitation.Get(ctx, pulid.ID(dig(inv, "id").(string)))
	if err != nil || stored.TokenHash == tok || strings.Contains(stored.TokenHash, tok) {
		t.Fatalf("token stored in clear or not found: %v", err)
	}

	alice := e.createUser("alice@firma.de", "")
	if len(e.permsOn(alice, acct)) != 0 {
		t.Fatal("alice has permissions before accepting")
	}
	a := e.ok(alice, acceptDoc, map[string]any{"t": tok})
	if dig(a, "acceptInvitation", "state") != "ACCEPTED" || dig(a, "acceptInvitation", "acceptedByID") == nil {
		t.Fatalf("accept: %v", a)
	}
	perms := e.permsOn(alice, acct)
	if !slices.Contains(perms, "RESOURCES_READ") {
		t.Fatalf("alice's permissions after accepting: %v", perms)
	}
	// The contact is alice's, named as invited, with the roles.
	me := e.ok(alice, `{ me { memberships { customerAccount { id } contact { name email userID } } } }`, nil)
	ms := dig(me, "me", "memberships").([]any)
	if len(ms) != 1 || dig(ms[0], "contact", "name") != "Alice Adler" || dig(ms[0], "contact", "email") != "alice@firma.de" {
		t.Fatalf("memberships: %v", ms)
	}
	// A second accept fails, also for the same user.
	r := e.wantCode(alice, acceptDoc, map[string]any{"t": tok}, "BAD_USER_INPUT")
	wantField(t, r, "token")
	if s := e.invitationState(boss, acct, dig(inv, "id").(string)); s != "ACCEPTED" {
		t.Fatalf("state %s", s)
	}
	if e.auditCount("invitation.create") != 1 || e.auditCount("invitation.accept") != 1 || e.auditCount("contact.join_by_invitation") != 1 {
		t.Fatal("invitation not audited")
	}
}

func TestInvitationWrongEmailIsForbidden(t *testing.T) {
	e := newEnv(t)
	acct := e.createAccount("50002")
	boss, _ := e.customerUser(acct, "boss@firma.de", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	_, tok := e.invite(boss, acct, "alice@firma.de", "PORTAL_ACCESS")

	// A suffix of the invited address, another address, and one that
	// contains it: all refused, without naming the invited address.
	for _, addr := range []string{"ice@firma.de", "bob@firma.de", "alice@firma.de.evil.example", "xalice@firma.de"} {
		u := e.createUser(addr, "")
		r := e.wantCode(u, acceptDoc, map[string]any{"t": tok}, "FORBIDDEN")
		if strings.Contains(r.Raw, "alice@") {
			t.Fatalf("the refusal reveals the invited address: %s", r.Raw)
		}
		if len(e.permsOn(u, acct)) != 0 {
			t.Fatalf("%s got permissions", addr)
		}
	}
	if n := e.auditCount("invitation.accept_refused"); n != 4 {
		t.Fatalf("%d refused accepts audited, want 4", n)
	}
	// The invitation still works for its addressee.
	alice := e.createUser("alice@firma.de", "")
	e.ok(alice, acceptDoc, map[string]any{"t": tok})

	// The reverse: invited "ice@", alice may not accept.
	_, tok2 := e.invite(boss, acct, "ice@firma.de", "PORTAL_ACCESS")
	e.wantCode(alice, acceptDoc, map[string]any{"t": tok2}, "FORBIDDEN")
}

func TestInvitationNeedsVerifiedEmail(t *testing.T) {
	e := newEnv(t)
	acct := e.createAccount("50003")
	boss, _ := e.customerUser(acct, "boss@firma.de", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	_, tok := e.invite(boss, acct, "carla@firma.de", "PORTAL_ACCESS")

	// Someone signs up with the invited address and does not verify it
	// (the link goes to the mailbox, which he does not hold).
	const pw = "a long enough passphrase 42"
	secrets.add(pw)
	e.ok("", signUpDoc, map[string]any{"e": "carla@firma.de", "u": "not-carla", "p": pw})
	_ = e.mailTo("carla@firma.de")
	squatter := e.login("not-carla", pw)
	e.wantCode(squatter, acceptDoc, map[string]any{"t": tok}, "FORBIDDEN")
	if len(e.permsOn(squatter, acct)) != 0 {
		t.Fatal("unverified user got permissions")
	}
	// The owner of the mailbox, verified, accepts.
	carla := e.createUser("carla@firma.de", "")
	e.ok(carla, acceptDoc, map[string]any{"t": tok})
}

func TestInvitationExpiry(t *testing.T) {
	e := newEnv(t)
	acct := e.createAccount("50004")
	e.createUser("boss@firma.de", "")
	e.createContact(e.admin, acct, "Boss", "boss@firma.de", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	e.createUser("dora@firma.de", "")
	e.createUser("emil@firma.de", "")
	boss := e.login("boss@firma.de", adminPassword)
	idD, tokD := e.invite(boss, acct, "dora@firma.de", "PORTAL_ACCESS")
	e.clock.Advance(time.Minute)
	idE, tokE := e.invite(boss, acct, "emil@firma.de", "PORTAL_ACCESS")

	// One second before dora's expiry: still valid.
	e.clock.Advance(invitations.Lifetime - time.Minute - time.Second)
	dora := e.login("dora@firma.de", adminPassword)
	e.ok(dora, acceptDoc, map[string]any{"t": tokD})

	// Exactly at emil's expiry: expired.
	e.clock.Advance(time.Minute + time.Second)
	emil := e.login("emil@firma.de", adminPassword)
	r := e.wantCode(emil, acceptDoc, map[string]any{"t": tokE}, "BAD_USER_INPUT")
	wantField(t, r, "token")
	boss = e.login("boss@firma.de", adminPassword)
	if s := e.invitationState(boss, acct, idE); s != "EXPIRED" {
		t.Fatalf("emil's invitation is %s", s)
	}
	if s := e.invitationState(boss, acct, idD); s != "ACCEPTED" {
		t.Fatalf("dora's invitation is %s", s)
	}
	d := e.ok(boss, invitationsDoc, map[string]any{"a": acct, "s": "EXPIRED"})
	if l := dig(d, "invitations").([]any); len(l) != 1 || dig(l[0], "id") != idE {
		t.Fatalf("expired filter: %v", l)
	}
	// An expired invitation can be sent again; the new link works.
	e.ok(boss, resendInviteDoc, map[string]any{"i": idE})
	tokE2 := e.linkTokenIn(e.mailTo("emil@firma.de"))
	e.ok(emil, acceptDoc, map[string]any{"t": tokE2})
}

func TestInvitationRevokeAndResend(t *testing.T) {
	e := newEnv(t)
	acct := e.createAccount("50005")
	boss, _ := e.customerUser(acct, "boss@firma.de", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	fritz := e.createUser("fritz@firma.de", "")

	id, tok := e.invite(boss, acct, "fritz@firma.de", "PORTAL_ACCESS")
	d := e.ok(boss, revokeInviteDoc, map[string]any{"i": id})
	if dig(d, "revokeInvitation", "state") != "REVOKED" || dig(d, "revokeInvitation", "revokedAt") == nil {
		t.Fatalf("revoke: %v", d)
	}
	e.wantCode(fritz, acceptDoc, map[string]any{"t": tok}, "BAD_USER_INPUT")
	r := e.wantCode(boss, revokeInviteDoc, map[string]any{"i": id}, "BAD_USER_INPUT")
	wantField(t, r, "id")
	e.wantCode(boss, resendInviteDoc, map[string]any{"i": id}, "BAD_USER_INPUT")

	// A revoked invitation does not block a new one; resend replaces the link.
	id2, old := e.invite(boss, acct, "fritz@firma.de", "PORTAL_ACCESS")
	e.clock.Advance(10 * time.Minute)
	d = e.ok(boss, resendInviteDoc, map[string]any{"i": id2})
	exp, _ := time.Parse(time.RFC3339, dig(d, "resendInvitation", "expiresAt").(string))
	if !exp.Equal(e.clock.Now().Add(invitations.Lifetime)) {
		t.Fatalf("resent invitation expires %v", exp)
	}
	fresh := e.linkTokenIn(e.mailTo("fritz@firma.de"))
	if fresh == old {
		t.Fatal("resend sent the same token")
	}
	fritz = e.login("fritz@firma.de", adminPassword)
	e.wantCode(fritz, acceptDoc, map[string]any{"t": old}, "BAD_USER_INPUT")
	e.ok(fritz, acceptDoc, map[string]any{"t": fresh})
	e.wantCode(boss, revokeInviteDoc, map[string]any{"i": id2}, "BAD_USER_INPUT")
	if e.auditCount("invitation.revoke") != 1 || e.auditCount("invitation.resend") != 1 {
		t.Fatal("revoke/resend not audited")
	}
}

func TestInvitationConflictsAndEscalation(t *testing.T) {
	e := newEnv(t)
	acct := e.createAccount("50006")
	boss, _ := e.customerUser(acct, "boss@firma.de", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	e.createContact(boss, acct, "Gustav", "gustav@firma.de", "TECHNICAL_CONTACT")

	// Already a contact (also written differently): CONFLICT.
	r := e.wantCode(boss, inviteDoc, map[string]any{"a": acct, "e": "GUSTAV@firma.de"}, "CONFLICT")
	wantField(t, r, "input.email")
	// A pending invitation for the address: CONFLICT.
	e.invite(boss, acct, "hanna@firma.de", "PORTAL_ACCESS")
	e.wantCode(boss, inviteDoc, map[string]any{"a": acct, "e": "hanna@firma.de"}, "CONFLICT")
	// Not an address.
	r = e.wantCode(boss, inviteDoc, map[string]any{"a": acct, "e": "hanna"}, "BAD_USER_INPUT")
	wantField(t, r, "input.email")

	// A member of a group granting invitations:manage (and contacts) may
	// invite, but not with more than he holds.
	g := e.ok(boss, `mutation($a: ID!) { createRightsGroup(input: {customerAccountID: $a, name: "Inviters",
		permissions: [INVITATIONS_MANAGE, CONTACTS_READ]}) { id } }`, map[string]any{"a": acct})
	gid := dig(g, "createRightsGroup", "id").(string)
	big := e.ok(boss, `mutation($a: ID!) { createRightsGroup(input: {customerAccountID: $a, name: "Powerful",
		permissions: [GROUPS_MANAGE]}) { id } }`, map[string]any{"a": acct})
	bigID := dig(big, "createRightsGroup", "id").(string)
	inviter, ic := e.customerUser(acct, "ina@firma.de", "PORTAL_ACCESS")
	e.ok(boss, `mutation($g: ID!, $c: ID!) { addRightsGroupMember(input: {groupID: $g, contactID: $c}) { id } }`,
		map[string]any{"g": gid, "c": ic})
	r = e.wantCode(inviter, inviteDoc, map[string]any{"a": acct, "e": "ivo@firma.de", "r": []string{"CUSTOMER_ADMIN"}}, "FORBIDDEN")
	wantField(t, r, "input.roles")
	if r.Errors[0].Extensions["reason"] != "GRANT_EXCEEDS_OWN_PERMISSIONS" {
		t.Fatalf("reason: %s", r.Raw)
	}
	r = e.wantCode(inviter, inviteDoc, map[string]any{"a": acct, "e": "ivo@firma.de", "g": []string{bigID}}, "FORBIDDEN")
	wantField(t, r, "input.groups")
	// Within his own permissions he may.
	e.ok(inviter, inviteDoc, map[string]any{"a": acct, "e": "ivo@firma.de", "g": []string{gid}})
	_ = e.mailTo("ivo@firma.de")
	// Nothing was sent for the refused attempts, nor is a refused
	// invitation stored.
	if e.auditCount("invitation.create") != 2 {
		t.Fatalf("%d invitations created", e.auditCount("invitation.create"))
	}
	// The group invitation makes ivo a member on acceptance: he gets
	// the group's permissions (with PORTAL_ACCESS, which he lacks here:
	// none), and the membership exists.
	ivo := e.createUser("ivo@firma.de", "")
	d := e.ok(boss, invitationsDoc, map[string]any{"a": acct, "s": "PENDING"})
	var ivoID string
	for _, inv := range dig(d, "invitations").([]any) {
		if dig(inv, "email") == "ivo@firma.de" {
			ivoID = dig(inv, "id").(string)
		}
	}
	if ivoID == "" {
		t.Fatalf("ivo's invitation not pending: %v", d)
	}
	e.ok(boss, resendInviteDoc, map[string]any{"i": ivoID})
	e.ok(ivo, acceptDoc, map[string]any{"t": e.linkTokenIn(e.mailTo("ivo@firma.de"))})
	n, err := e.client.GroupMembership.Query().Where(groupmembership.GroupID(pulid.ID(gid))).Count(viewer.SystemContext(context.Background()))
	if err != nil || n != 2 {
		t.Fatalf("members of the inviters' group: %d, %v", n, err)
	}
}

func TestInvitationCrossTenant(t *testing.T) {
	e := newEnv(t)
	a := e.createAccount("50007")
	b := e.createAccount("50008")
	bossA, _ := e.customerUser(a, "boss@a.de", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	bossB, _ := e.customerUser(b, "boss@b.de", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	id, _ := e.invite(bossA, a, "jana@a.de", "PORTAL_ACCESS")

	for _, doc := range []string{revokeInviteDoc, resendInviteDoc} {
		r := e.wantCode(bossB, doc, map[string]any{"i": id}, "NOT_FOUND")
		wantField(t, r, "id")
	}
	e.wantCode(bossB, invitationsDoc, map[string]any{"a": a}, "NOT_FOUND")
	e.wantCode(bossB, inviteDoc, map[string]any{"a": a, "e": "x@b.de"}, "NOT_FOUND")
	// A's invitation is untouched.
	if s := e.invitationState(bossA, a, id); s != "PENDING" {
		t.Fatalf("state %s", s)
	}
	// node(id:) hides it from B too.
	e.wantCode(bossB, `query($i: ID!) { node(id: $i) { id } }`, map[string]any{"i": id}, "NOT_FOUND")
	// An API key cannot accept an invitation (it would change its own
	// user's rights).
	d := e.ok(bossA, `mutation($a: ID!, $x: Time!) { createApiKey(input: {customerAccountID: $a, name: "k", permissions: [ACCOUNT_READ], expiresAt: $x}) { secret } }`,
		map[string]any{"a": a, "x": e.clock.Now().Add(time.Hour).Format(time.RFC3339)})
	key := secrets.add(dig(d, "createApiKey", "secret").(string))
	e.wantCode(key, acceptDoc, map[string]any{"t": "whatever"}, "FORBIDDEN")
}

func TestInvitationOneUserForSeveralAccounts(t *testing.T) {
	e := newEnv(t)
	a := e.createAccount("50009")
	b := e.createAccount("50010")
	bossA, _ := e.customerUser(a, "boss@a.de", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	bossB, _ := e.customerUser(b, "boss@b.de", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	_, tokA := e.invite(bossA, a, "kai@firma.de", "PORTAL_ACCESS", "TECHNICAL_CONTACT")
	_, tokB := e.invite(bossB, b, "kai@firma.de", "PORTAL_ACCESS", "TECHNICAL_CONTACT")
	kai := e.createUser("kai@firma.de", "")
	e.ok(kai, acceptDoc, map[string]any{"t": tokA})
	e.ok(kai, acceptDoc, map[string]any{"t": tokB})
	me := e.ok(kai, `{ me { memberships { customerAccount { number } } } }`, nil)
	if ms := dig(me, "me", "memberships").([]any); len(ms) != 2 {
		t.Fatalf("memberships: %v", ms)
	}
}

func TestInvitationLinksAnExistingContact(t *testing.T) {
	e := newEnv(t)
	a := e.createAccount("50011")
	boss, _ := e.customerUser(a, "boss@a.de", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	_, tok := e.invite(boss, a, "lena@firma.de", "PORTAL_ACCESS", "TECHNICAL_CONTACT")
	// Meanwhile the contact was created without a login.
	ct := e.createContact(boss, a, "Lena", "lena@firma.de", "TECHNICAL_CONTACT")
	lena := e.createUser("lena@firma.de", "")
	e.ok(lena, acceptDoc, map[string]any{"t": tok})
	me := e.ok(lena, `{ me { memberships { contact { id } } } }`, nil)
	ms := dig(me, "me", "memberships").([]any)
	if len(ms) != 1 || dig(ms[0], "contact", "id") != ct {
		t.Fatalf("memberships: %v (want contact %s)", ms, ct)
	}
}

func TestInvitationTokenGuessesAreRateLimited(t *testing.T) {
	e := newEnv(t)
	u := e.createUser("mia@firma.de", "")
	var last response
	for i := 0; i < 11; i++ {
		last = e.do(u, acceptDoc, map[string]any{"t": "guess-" + strings.Repeat("x", i)})
	}
	if last.code() != "RATE_LIMITED" {
		t.Fatalf("want RATE_LIMITED after 10 guesses, got %s", last.Raw)
	}
}

func TestInvitationFirstCustomerAdmin(t *testing.T) {
	e := newEnv(t)
	d := e.ok(e.admin, `mutation { createCustomerAccount(input: {number: "50012", name: "Neu GmbH", organisationDomains: ["neu.de"],
		initialAdminEmail: "Nora@Neu.DE", initialAdminName: "Nora Neumann"}) { id } }`, nil)
	acct := dig(d, "createCustomerAccount", "id").(string)
	m := e.mailTo("nora@neu.de")
	if !strings.Contains(m.Body, "Nora Neumann") || !strings.Contains(m.Body, "50012") {
		t.Fatalf("mail: %s", m.Body)
	}
	tok := e.linkTokenIn(m)
	l := e.ok(e.admin, `query($a: ID!) { invitations(customerAccountID: $a) { email state roles } }`, map[string]any{"a": acct})
	invs := dig(l, "invitations").([]any)
	if len(invs) != 1 || dig(invs[0], "email") != "nora@neu.de" || len(dig(invs[0], "roles").([]any)) != 2 {
		t.Fatalf("invitations: %v", invs)
	}
	nora := e.createUser("nora@neu.de", "")
	e.ok(nora, acceptDoc, map[string]any{"t": tok})
	perms := e.permsOn(nora, acct)
	if !slices.Contains(perms, "INVITATIONS_MANAGE") || !slices.Contains(perms, "CONTACTS_MANAGE") {
		t.Fatalf("nora's permissions: %v", perms)
	}
	// She can now invite others herself.
	e.invite(nora, acct, "olaf@neu.de", "PORTAL_ACCESS")

	// A bad initial admin address refuses the whole account (one
	// transaction): the number stays free.
	r := e.wantCode(e.admin, `mutation { createCustomerAccount(input: {number: "50013", name: "X", initialAdminEmail: "nope"}) { id } }`, nil, "BAD_USER_INPUT")
	wantField(t, r, "input.initialAdminEmail")
	e.ok(e.admin, `mutation { createCustomerAccount(input: {number: "50013", name: "X"}) { id } }`, nil)
	// Only staff ADMIN creates accounts.
	e.wantCode(nora, `mutation { createCustomerAccount(input: {number: "50014", name: "Y", initialAdminEmail: "y@y.de"}) { id } }`, nil, "FORBIDDEN")
}
