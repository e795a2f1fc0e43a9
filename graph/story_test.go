package graph_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"portier/internal/domain"
)

// The judged flows of issue 8, told as one customer's story through the
// HTTP handler: the provider opens an account with a first admin, the admin
// invites people (the right and the wrong address), revokes and resends,
// meets the last-admin rule, a user deletes itself and support restores it,
// the provider deactivates and reactivates the account, a used number is
// refused, and the whole trail is read back through auditEvents.

const (
	storyAuditDoc = `query($n: String!, $after: Cursor) {
  customerAccount(number: $n) {
    auditEvents(first: 100, after: $after) {
      pageInfo { hasNextPage endCursor }
      edges { node { action targetType targetID actor { kind userID staffRole apiKeyID } changes { field value } } }
    }
  }
}`
	storyInviteSubject = "Einladung zu einem Kundenkonto"
)

// storyTrail reads every audit event of the account, newest first, page by
// page as a client would.
func (e *env) storyTrail(tok, number string) []map[string]any {
	e.t.Helper()
	var out []map[string]any
	var after any
	for {
		d := e.ok(tok, storyAuditDoc, map[string]any{"n": number, "after": after})
		conn := dig(d, "customerAccount", "auditEvents")
		if conn == nil {
			e.t.Fatalf("no audit events visible: %v", d)
		}
		for _, edge := range dig(conn, "edges").([]any) {
			out = append(out, dig(edge, "node").(map[string]any))
		}
		if dig(conn, "pageInfo", "hasNextPage") != true {
			return out
		}
		after = dig(conn, "pageInfo", "endCursor")
	}
}

func TestCustomerSelfAdministrationStory(t *testing.T) {
	e := newEnv(t)
	const number = "80001"
	support := e.createUser("support@provider.example", domain.StaffSupport)

	// 1. The provider opens the account and names its first admin.
	d := e.ok(e.admin, `mutation { createCustomerAccount(input: {number: "80001", name: "Story GmbH",
		initialAdminEmail: "Boss@A.example", initialAdminName: "Berta Boss", organisationDomains: ["a.example"]}) { id number } }`, nil)
	acct := dig(d, "createCustomerAccount", "id").(string)
	bossTok := e.linkTokenIn(e.mailAbout("boss@a.example", storyInviteSubject))
	boss := e.createUser("boss@a.example", "")
	e.ok(boss, acceptDoc, map[string]any{"t": bossTok})
	if p := e.permsOn(boss, acct); !slices.Contains(p, "INVITATIONS_MANAGE") || !slices.Contains(p, "AUDIT_READ") {
		t.Fatalf("first admin's permissions: %v", p)
	}

	// 2. Invite → accept with the wrong e-mail, then with the right one.
	aliceInv, aliceTok := e.invite(boss, acct, "alice@a.example", "PORTAL_ACCESS", "TECHNICAL_CONTACT")
	ice := e.createUser("ice@a.example", "") // a suffix of alice@…: never matches
	r := e.wantCode(ice, acceptDoc, map[string]any{"t": aliceTok}, "FORBIDDEN")
	if strings.Contains(r.Raw, "alice@a.example") {
		t.Fatalf("refusal reveals the invited address: %s", r.Raw)
	}
	if len(e.permsOn(ice, acct)) != 0 {
		t.Fatal("the wrong person got access")
	}
	alice := e.createUser("alice@a.example", "")
	e.ok(alice, acceptDoc, map[string]any{"t": aliceTok})
	if s := e.invitationState(boss, acct, aliceInv); s != "ACCEPTED" {
		t.Fatalf("alice's invitation: %s", s)
	}
	if p := e.permsOn(alice, acct); !slices.Contains(p, "RESOURCES_READ") || slices.Contains(p, "CONTACTS_MANAGE") {
		t.Fatalf("alice's permissions: %v", p)
	}
	// Inviting an active contact again is a conflict.
	e.wantCode(boss, inviteDoc, map[string]any{"a": acct, "e": "alice@a.example", "r": []string{"PORTAL_ACCESS"}}, "CONFLICT")

	// 3. Revoke: the link stops working. Resend: only the new link works.
	bobInv, bobTok := e.invite(boss, acct, "bob@a.example", "PORTAL_ACCESS")
	e.ok(boss, revokeInviteDoc, map[string]any{"i": bobInv})
	bob := e.createUser("bob@a.example", "")
	wantField(t, e.wantCode(bob, acceptDoc, map[string]any{"t": bobTok}, "BAD_USER_INPUT"), "token")
	carolInv, oldTok := e.invite(boss, acct, "carol@a.example", "PORTAL_ACCESS")
	e.ok(boss, resendInviteDoc, map[string]any{"i": carolInv})
	newTok := e.linkTokenIn(e.mailAbout("carol@a.example", storyInviteSubject))
	carol := e.createUser("carol@a.example", "")
	wantField(t, e.wantCode(carol, acceptDoc, map[string]any{"t": oldTok}, "BAD_USER_INPUT"), "token")
	e.ok(carol, acceptDoc, map[string]any{"t": newTok})
	if s := e.invitationState(boss, acct, bobInv); s != "REVOKED" {
		t.Fatalf("bob's invitation: %s", s)
	}

	// 4. The last-admin rule: the only admin cannot step down; once alice
	// is an admin too, he can. Nobody grants what they do not hold.
	bossContact := e.contactOf(boss, acct)
	aliceContact := e.contactOf(alice, acct)
	r = e.wantCode(boss, endRoleDoc, map[string]any{"c": bossContact, "r": "CUSTOMER_ADMIN"}, "CONFLICT")
	if r.Errors[0].Extensions["reason"] != "LAST_CUSTOMER_ADMIN" {
		t.Fatalf("reason: %v", r.Errors[0].Extensions)
	}
	e.wantCode(carol, assignRoleAsDoc, map[string]any{"c": e.contactOf(carol, acct), "r": "CUSTOMER_ADMIN"}, "FORBIDDEN")
	e.ok(boss, assignRoleAsDoc, map[string]any{"c": aliceContact, "r": "CUSTOMER_ADMIN"})
	e.ok(boss, endRoleDoc, map[string]any{"c": bossContact, "r": "CUSTOMER_ADMIN"})
	if p := e.permsOn(boss, acct); slices.Contains(p, "CONTACTS_MANAGE") {
		t.Fatalf("boss still manages contacts after stepping down: %v", p)
	}
	r = e.wantCode(alice, endRoleDoc, map[string]any{"c": aliceContact, "r": "CUSTOMER_ADMIN"}, "CONFLICT")
	if r.Errors[0].Extensions["reason"] != "LAST_CUSTOMER_ADMIN" {
		t.Fatalf("reason: %v", r.Errors[0].Extensions)
	}

	// 5. Self-deletion: every credential of carol dies at once; support
	// restores her and she works again.
	carolID := dig(e.ok(carol, meIDDoc, nil), "me", "user", "id").(string)
	aliceKey, _ := e.createKey(alice, acct, []string{"ACCOUNT_READ"}, e.clock.Now().Add(48*time.Hour))
	e.ok(aliceKey, meIDDoc, nil)
	carolToks := e.loginTokens("carol@a.example", adminPassword)
	e.ok(carol, deleteMeDoc, map[string]any{"p": adminPassword})
	e.wantCode(carol, meIDDoc, nil, "UNAUTHENTICATED")
	e.wantCode(carolToks["accessToken"].(string), meIDDoc, nil, "UNAUTHENTICATED")
	e.wantCode("", lcRefreshDoc, map[string]any{"r": carolToks["refreshToken"]}, "UNAUTHENTICATED")
	e.wantCode("", loginFullDoc, map[string]any{"l": "carol@a.example", "p": adminPassword}, "UNAUTHENTICATED")
	e.wantCode(alice, restoreDoc, map[string]any{"id": carolID}, "FORBIDDEN")
	e.ok(support, restoreDoc, map[string]any{"id": carolID})
	carol = e.login("carol@a.example", adminPassword)
	if p := e.permsOn(carol, acct); !slices.Contains(p, "RESOURCES_READ") {
		t.Fatalf("carol's permissions after restore: %v", p)
	}

	// 6. Deactivation locks everyone out, reactivation lets them back in.
	e.ok(aliceKey, meIDDoc, nil) // alice's key
	e.ok(e.admin, deactivateDoc, map[string]any{"a": acct})
	for name, tok := range map[string]string{"alice": alice, "boss": boss, "carol": carol} {
		if len(e.permsOn(tok, acct)) != 0 {
			t.Fatalf("%s keeps permissions on a deactivated account", name)
		}
		if d := e.ok(tok, `query($n: String!) { customerAccount(number: $n) { id } }`, map[string]any{"n": number}); dig(d, "customerAccount") != nil {
			t.Fatalf("%s still sees the deactivated account", name)
		}
	}
	e.wantCode(aliceKey, meIDDoc, nil, "UNAUTHENTICATED")
	e.wantCode(alice, inviteDoc, map[string]any{"a": acct, "e": "dora@a.example", "r": []string{"PORTAL_ACCESS"}}, "NOT_FOUND")
	e.ok(e.admin, reactivateDoc, map[string]any{"a": acct})
	if p := e.permsOn(alice, acct); !slices.Contains(p, "CONTACTS_MANAGE") {
		t.Fatalf("alice after reactivation: %v", p)
	}
	e.ok(aliceKey, meIDDoc, nil)

	// 7. Numbers are never reused, also after deletion.
	createDoc := `mutation($n: String!) { createCustomerAccount(input: {number: $n, name: "Reuse"}) { id } }`
	wantField(t, e.wantCode(e.admin, createDoc, map[string]any{"n": number}, "CONFLICT"), "input.number")
	other := e.createAccount("80002")
	e.ok(e.admin, deleteAcctDoc, map[string]any{"a": other})
	wantField(t, e.wantCode(e.admin, createDoc, map[string]any{"n": " 80002 "}, "CONFLICT"), "input.number")

	// 8. The trail of all of it, read back by the customer's admin.
	trail := e.storyTrail(alice, number)
	counts := map[string]int{}
	for _, ev := range trail {
		counts[ev["action"].(string)]++
	}
	want := map[string]int{
		"customer_account.create": 1, "invitation.create": 4, "invitation.accept": 3, "invitation.revoke": 1,
		"invitation.resend": 1, "invitation.accept_refused": 1, "role.assign": 1, "role.remove": 1,
		"contact.unlinked": 1, "contact.relinked": 1, "api_key.create": 1,
		"customer_account.deactivated": 1, "customer_account.reactivated": 1,
	}
	for action, n := range want {
		if counts[action] < n {
			t.Errorf("audit trail has %d %q events, want at least %d (trail: %v)", counts[action], action, n, counts)
		}
	}
	// Who did it and on whose behalf: the staff's deactivation says so.
	for _, ev := range trail {
		switch ev["action"] {
		case "customer_account.deactivated":
			if dig(ev, "actor", "staffRole") != "ADMIN" {
				t.Errorf("deactivation actor: %v", ev["actor"])
			}
		case "role.assign":
			if dig(ev, "targetID") != aliceContact {
				t.Errorf("role.assign target: %v", ev)
			}
		}
	}
	// The trail is filterable by action and never holds a secret.
	d = e.ok(alice, `query($n: String!) { customerAccount(number: $n) {
		auditEvents(first: 10, filter: {action: "invitation.re"}) { edges { node { action } } } } }`, map[string]any{"n": number})
	for _, edge := range dig(d, "customerAccount", "auditEvents", "edges").([]any) {
		if a := dig(edge, "node", "action").(string); !strings.HasPrefix(a, "invitation.re") {
			t.Errorf("filtered trail holds %q", a)
		}
	}
	raw := e.do(support, storyAuditDoc, map[string]any{"n": number}).Raw
	for _, secret := range []string{bossTok, aliceTok, bobTok, oldTok, newTok, adminPassword} {
		if strings.Contains(raw, secret) {
			t.Fatal("the audit trail holds a secret")
		}
	}
	// Someone without AUDIT_READ (carol, a portal user) cannot read it.
	if d := e.do(carol, storyAuditDoc, map[string]any{"n": number}); len(d.Errors) == 0 &&
		dig(d.Data, "customerAccount", "auditEvents") != nil {
		t.Fatalf("carol reads the audit trail: %s", d.Raw)
	}
}

const assignRoleAsDoc = `mutation($c: ID!, $r: Role!) { assignRole(input: {contactID: $c, role: $r}) { id } }`

// contactOf returns the contact of the user behind tok on account.
func (e *env) contactOf(tok, account string) string {
	e.t.Helper()
	d := e.ok(tok, `{ me { memberships { customerAccount { id } contact { id } } } }`, nil)
	for _, m := range dig(d, "me", "memberships").([]any) {
		if dig(m, "customerAccount", "id") == account {
			return dig(m, "contact", "id").(string)
		}
	}
	e.t.Fatalf("no membership on %s: %v", account, d)
	return ""
}
