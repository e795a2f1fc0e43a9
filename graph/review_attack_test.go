package graph_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"portier/internal/viewer"
)

// Review of issues 6 and 7 (branch issue7-review): each test below failed on
// main before its fix.

const reviewAssignRoleDoc = `mutation($c: ID!, $r: Role!) { assignRole(input: {contactID: $c, role: $r}) { role } }`

// A contact who holds CONTACTS_MANAGE only through a rights group (not
// CUSTOMER_ADMIN) must not make himself CUSTOMER_ADMIN: nobody grants what
// he does not hold himself (issue 7 §3; docs/authorization.md, 'Roles and permissions'). On main assignRole
// granted it and the member then held every permission of the account.
func TestReviewAssignRoleCannotGrantMoreThanHeld(t *testing.T) {
	e := newEnv(t)
	a := e.createAccount("96001")
	admin, _ := e.customerUser(a, "admin@r1.example", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	hr, hrContact := e.customerUser(a, "hr@r1.example", "PORTAL_ACCESS")
	g := e.createGroup(admin, a, "HR", "CONTACTS_READ", "CONTACTS_MANAGE")
	e.ok(admin, addMemberDoc, map[string]any{"g": g, "c": hrContact})
	if has(e.myPerms(hr, a), "GROUPS_MANAGE") {
		t.Fatal("setup: HR already holds GROUPS_MANAGE")
	}
	r := e.wantCode(hr, reviewAssignRoleDoc, map[string]any{"c": hrContact, "r": "CUSTOMER_ADMIN"}, "FORBIDDEN")
	_ = r
	if has(e.myPerms(hr, a), "GROUPS_MANAGE") {
		t.Fatal("a CONTACTS_MANAGE holder made himself CUSTOMER_ADMIN")
	}
	// The same through createContact's roles, for a colleague.
	e.wantCode(hr, createContactDoc, map[string]any{"a": a, "name": "Pal", "email": "pal@r1.example",
		"roles": []string{"PORTAL_ACCESS", "CUSTOMER_ADMIN"}}, "FORBIDDEN")
	// What he holds himself he may still grant.
	other := e.createContact(admin, a, "Other", "other@r1.example")
	e.ok(hr, reviewAssignRoleDoc, map[string]any{"c": other, "r": "PORTAL_ACCESS"})
}

// An agency contact acting on a client through a delegation that includes
// CONTACTS_MANAGE creates a contact for himself on the client with
// CUSTOMER_ADMIN, links it (linkContacts) and so becomes a direct,
// permanent CUSTOMER_ADMIN of the client that outlives the delegation.
func TestReviewAgencyCannotTurnDelegationIntoOwnAdminRole(t *testing.T) {
	e := newEnv(t)
	client := e.createAccount("96011")
	agency := e.createAccount("96012")
	clientAdmin, _ := e.customerUser(client, "admin@c.example", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	agent, _ := e.customerUser(agency, "agent@ag.example", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	e.ok(e.admin, setAgencyDoc, map[string]any{"a": agency, "on": true})
	d := e.ok(clientAdmin, delegateDoc, map[string]any{"c": client, "n": "96012",
		"p": []string{"ACCOUNT_READ", "CONTACTS_READ", "CONTACTS_MANAGE"}})
	delegation := dig(d, "delegateToAgency", "id").(string)
	e.wantCode(agent, createContactDoc, map[string]any{"a": client, "name": "Agent", "email": "agent@ag.example",
		"roles": []string{"PORTAL_ACCESS", "CUSTOMER_ADMIN"}}, "FORBIDDEN")
	e.do(agent, `mutation { linkContacts }`, nil)
	e.ok(clientAdmin, revokeDelegationDoc, map[string]any{"id": delegation})
	if ps := e.myPerms(agent, client); len(ps) != 0 {
		t.Fatalf("agency contact keeps %v on the client after the delegation ended", ps)
	}
}

// postIdem sends a mutation with an Idempotency-Key header.
func (e *env) postIdem(tok, key, query string, vars map[string]any) response {
	e.t.Helper()
	req := e.request(tok, query, vars)
	req.Header.Set("Idempotency-Key", key)
	return e.send(req)
}

// createApiKey returns its secret "only once, stored only as a hash" (issue
// 7 §7). With an Idempotency-Key, main stored the whole answer — the raw
// secret — in idempotency_keys for 24 hours and handed it out again on a
// replay. A key secret must never be stored; the mutation refuses the
// header, like the other secret-returning mutations.
func TestReviewApiKeySecretNeverStoredForIdempotency(t *testing.T) {
	e := newEnv(t)
	a := e.createAccount("96021")
	admin, _ := e.customerUser(a, "admin@k1.example", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	vars := keyVars(a, []string{"ACCOUNT_READ"}, e.clock.Now().Add(24*time.Hour))
	r := e.postIdem(admin, "review-key-0001", createKeyDoc, vars)
	if secret, _ := dig(r.Data, "createApiKey", "secret").(string); secret != "" {
		secrets.add(secret)
		ctx := viewer.SystemContext(context.Background())
		rows, err := e.client.IdempotencyKey.Query().All(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range rows {
			if strings.Contains(k.Response, secret) {
				t.Fatal("the API key's secret is stored in clear in idempotency_keys")
			}
		}
		again := e.postIdem(admin, "review-key-0001", createKeyDoc, vars)
		if strings.Contains(again.Raw, secret) {
			t.Fatal("a replay hands the API key's secret out a second time")
		}
		return
	}
	if r.code() != "BAD_USER_INPUT" {
		t.Fatalf("want the header refused or the secret kept out of the store, got %s", r.Raw)
	}
}

// Two API keys of one user are two principals (each narrowed differently),
// but main keyed idempotent answers by user only: a key without
// CONTACTS_MANAGE replaying another key's Idempotency-Key received that
// key's answer (a contact it may not create nor, here, even read).
func TestReviewIdempotencyReplayIsPerApiKey(t *testing.T) {
	e := newEnv(t)
	a := e.createAccount("96031")
	admin, _ := e.customerUser(a, "admin@k2.example", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	exp := e.clock.Now().Add(24 * time.Hour)
	strong, _ := e.createKey(admin, a, []string{"ACCOUNT_READ", "CONTACTS_READ", "CONTACTS_MANAGE"}, exp)
	weak, _ := e.createKey(admin, a, []string{"TICKETS_CREATE"}, exp)
	vars := map[string]any{"a": a, "name": "Secret Hire", "email": "hire@k2.example", "roles": []string{}}
	first := e.postIdem(strong, "review-idem-0001", createContactDoc, vars)
	if first.code() != "" {
		t.Fatalf("setup: %s", first.Raw)
	}
	r := e.postIdem(weak, "review-idem-0001", createContactDoc, vars)
	if strings.Contains(r.Raw, "hire@k2.example") || r.code() == "" {
		t.Fatalf("a key without CONTACTS_MANAGE got another key's stored answer: %s", r.Raw)
	}
}

// An API key never changes its own user's rights (issue 7 §7): main refused
// a key setting the permissions of, or removing its user from, a group its
// user belongs to, but let it delete that group, which ends the user's
// membership all the same.
func TestReviewApiKeyCannotDeleteItsUsersGroup(t *testing.T) {
	e := newEnv(t)
	a := e.createAccount("96041")
	admin, adminContact := e.customerUser(a, "admin@k4.example", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	g := e.createGroup(admin, a, "Ops", "TICKETS_CREATE")
	e.ok(admin, addMemberDoc, map[string]any{"g": g, "c": adminContact})
	key, _ := e.createKey(admin, a, []string{"ACCOUNT_READ", "CONTACTS_READ", "GROUPS_MANAGE"}, e.clock.Now().Add(time.Hour))
	e.wantCode(key, deleteGroupDoc, map[string]any{"g": g}, "FORBIDDEN")
	// Another member's group is the key's to delete.
	other := e.createGroup(admin, a, "Other", "TICKETS_CREATE")
	e.ok(key, deleteGroupDoc, map[string]any{"g": other})
}
