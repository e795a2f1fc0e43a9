package graph_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"portier/ent/auditevent"
	"portier/ent/retiredidentifier"
	"portier/ent/useraccount"
	"portier/internal/domain"
	"portier/internal/identity"
	"portier/internal/pulid"
	"portier/internal/viewer"
)

const (
	deleteMeDoc   = `mutation($p: String!) { deleteMyAccount(input: {password: $p}) }`
	restoreDoc    = `mutation($id: ID!) { restoreUserAccount(id: $id) { id status } }`
	meIDDoc       = `{ me { kind user { id } } }`
	contactUserOf = `query($c: ID!) { node(id: $c) { ... on Contact { userID roleAssignments { role endedAt } } } }`
	lcRefreshDoc  = `mutation($r: String!) { refreshSession(refreshToken: $r) { accessToken } }`
	deactivateDoc = `mutation($a: ID!) { deactivateCustomerAccount(customerAccountID: $a) { id status deactivatedAt } }`
	reactivateDoc = `mutation($a: ID!) { reactivateCustomerAccount(customerAccountID: $a) { id status } }`
	deleteAcctDoc = `mutation($a: ID!) { deleteCustomerAccount(customerAccountID: $a) { id status deletedAt } }`
	lcSignUpDoc   = `mutation($e: String!, $u: String!) { signUp(input: {email: $e, username: $u, name: "Again", password: "Wanderlust-Fjord-Kayak-7"}) { accepted } }`
)

func (e *env) auditCountOn(action, target string) int {
	e.t.Helper()
	n, err := e.client.AuditEvent.Query().Where(auditevent.Action(action), auditevent.TargetID(target)).
		Count(viewer.SystemContext(context.Background()))
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

func (e *env) userStatus(id string) useraccount.Status {
	e.t.Helper()
	u, err := e.client.UserAccount.Get(viewer.SystemContext(context.Background()), pulid.ID(id))
	if err != nil {
		e.t.Fatal(err)
	}
	return u.Status
}

func TestLifecycleSelfDeletionAndSupportRestore(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	acct := e.createAccount("71001")
	bossTok, _ := e.customerUser(acct, "boss@lifecycle.test", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	tok, ctc := e.customerUser(acct, "erika@lifecycle.test", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	uid := dig(e.ok(tok, meIDDoc, nil), "me", "user", "id").(string)
	toks := e.loginTokens("erika@lifecycle.test", adminPassword)
	access, refresh := toks["accessToken"].(string), toks["refreshToken"].(string)
	key, _ := e.createKey(tok, acct, []string{"ACCOUNT_READ"}, e.clock.Now().Add(48*time.Hour))
	e.ok(key, meIDDoc, nil)

	// A customer admin has no way to delete another user: there is no such
	// field, and deleteMyAccount only ever deletes the caller.
	if r := e.do(bossTok, `mutation($id: ID!) { deleteUserAccount(id: $id) }`, map[string]any{"id": uid}); len(r.Errors) == 0 {
		t.Fatalf("a mutation to delete other users exists: %s", r.Raw)
	}
	// Re-authentication: the wrong password is refused, an API key too.
	r := e.wantCode(tok, deleteMeDoc, map[string]any{"p": "wrong-password-1"}, "BAD_USER_INPUT")
	if f, _ := r.Errors[0].Extensions["field"].(string); f != "input.password" {
		t.Errorf("field = %q, want input.password", f)
	}
	e.wantCode(key, deleteMeDoc, map[string]any{"p": adminPassword}, "FORBIDDEN")
	// Staff users are removed by an ADMIN, never delete themselves.
	e.wantCode(e.admin, deleteMeDoc, map[string]any{"p": adminPassword}, "FORBIDDEN")
	if s := e.userStatus(uid); s != useraccount.StatusACTIVE {
		t.Fatalf("status after refusals = %s", s)
	}

	if d := e.ok(tok, deleteMeDoc, map[string]any{"p": adminPassword}); d["deleteMyAccount"] != true {
		t.Fatalf("deleteMyAccount = %v", d)
	}
	// Earlier mails to erika are the notifications of her roles (item 8).
	if m := e.mailAbout("erika@lifecycle.test", "gelöscht"); !strings.Contains(m.Body, "erika") {
		t.Fatalf("deletion mail: %q", m.Body)
	}
	// Every credential is dead at once.
	e.wantCode(tok, meIDDoc, nil, "UNAUTHENTICATED")
	e.wantCode(access, meIDDoc, nil, "UNAUTHENTICATED")
	e.wantCode("", lcRefreshDoc, map[string]any{"r": refresh}, "UNAUTHENTICATED")
	e.wantCode(key, meIDDoc, nil, "UNAUTHENTICATED")
	e.wantCode("", loginFullDoc, map[string]any{"l": "erika@lifecycle.test", "p": adminPassword}, "UNAUTHENTICATED")
	// The contact keeps its roles but loses the link; audited per contact.
	d := e.ok(bossTok, contactUserOf, map[string]any{"c": ctc})
	if dig(d, "node", "userID") != nil || len(dig(d, "node", "roleAssignments").([]any)) != 2 {
		t.Fatalf("contact after deletion: %v", d)
	}
	if e.auditCountOn("user.deleted", uid) != 1 || e.auditCountOn("contact.unlinked", ctc) != 1 {
		t.Error("deletion not audited")
	}
	// E-mail and username stay reserved: sign-up answers alike, creates nothing.
	before, _ := e.client.UserAccount.Query().Count(viewer.SystemContext(context.Background()))
	e.ok("", lcSignUpDoc, map[string]any{"e": "erika@lifecycle.test", "u": "someone-new"})
	e.ok("", lcSignUpDoc, map[string]any{"e": "other@lifecycle.test", "u": "erika_lifecycle_test"})
	after, _ := e.client.UserAccount.Query().Count(viewer.SystemContext(context.Background()))
	if after != before {
		t.Fatalf("sign-up with reserved identifiers created %d users", after-before)
	}

	// Only provider support (or ADMIN) restores.
	salesTok := e.createUser("sales@lifecycle.test", domain.StaffSales)
	supportTok := e.createUser("support@lifecycle.test", domain.StaffSupport)
	e.wantCode(bossTok, restoreDoc, map[string]any{"id": uid}, "FORBIDDEN")
	e.wantCode(salesTok, restoreDoc, map[string]any{"id": uid}, "FORBIDDEN")
	e.wantCode(supportTok, restoreDoc, map[string]any{"id": "usr_01J00000000000000000000000"}, "NOT_FOUND")
	d = e.ok(supportTok, restoreDoc, map[string]any{"id": uid})
	if dig(d, "restoreUserAccount", "status") != "ACTIVE" {
		t.Fatalf("restore: %v", d)
	}
	e.wantCode(supportTok, restoreDoc, map[string]any{"id": uid}, "BAD_USER_INPUT") // not deleted any more
	if m, err := e.mail.WaitFor("erika@lifecycle.test", 5*time.Second); err != nil || !strings.Contains(m.Subject, "wiederhergestellt") {
		t.Fatalf("restore mail: %v %q", err, m.Subject)
	}
	// Login works again and the link is back; old sessions and keys stay dead.
	tok2 := e.login("erika@lifecycle.test", adminPassword)
	d = e.ok(tok2, `query($a: ID!) { myPermissions(customerAccountID: $a) }`, map[string]any{"a": acct})
	if len(dig(d, "myPermissions").([]any)) == 0 {
		t.Fatalf("no permissions after restore: %v", d)
	}
	if d := e.ok(bossTok, contactUserOf, map[string]any{"c": ctc}); dig(d, "node", "userID") != uid {
		t.Fatalf("contact not linked again: %v", d)
	}
	e.wantCode(access, meIDDoc, nil, "UNAUTHENTICATED")
	e.wantCode("", lcRefreshDoc, map[string]any{"r": refresh}, "UNAUTHENTICATED")
	e.wantCode(key, meIDDoc, nil, "UNAUTHENTICATED")
	if e.auditCountOn("user.restored", uid) != 1 || e.auditCountOn("contact.relinked", ctc) != 1 {
		t.Error("restore not audited")
	}
}

func TestLifecycleRestoreAfter90DaysRefusedAndAnonymised(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	acct := e.createAccount("71002")
	tok, ctc := e.customerUser(acct, "max@lifecycle.test", "PORTAL_ACCESS")
	uid := dig(e.ok(tok, meIDDoc, nil), "me", "user", "id").(string)
	e.ok(tok, deleteMeDoc, map[string]any{"p": adminPassword})

	ctx := viewer.SystemContext(context.Background())
	// Before the window ends nothing is anonymised.
	e.clock.Advance(89 * 24 * time.Hour)
	if n, err := identity.AnonymiseDeleted(ctx, e.client, e.clock.Now()); err != nil || n != 0 {
		t.Fatalf("anonymised early: %d %v", n, err)
	}
	e.clock.Advance(2 * 24 * time.Hour)
	supportTok := e.createUser("support@lifecycle.test", domain.StaffSupport)
	e.wantCode(supportTok, restoreDoc, map[string]any{"id": uid}, "BAD_USER_INPUT")
	if n, err := identity.AnonymiseDeleted(ctx, e.client, e.clock.Now()); err != nil || n != 1 {
		t.Fatalf("anonymised %d, %v", n, err)
	}
	u, err := e.client.UserAccount.Get(ctx, pulid.ID(uid))
	if err != nil {
		t.Fatal(err)
	}
	if u.Email != "" || u.Name != "" || u.Phone != "" || u.PasswordHash != "" || strings.Contains(u.Username, "max") || u.AnonymisedAt == nil {
		t.Fatalf("not anonymised: %+v", u)
	}
	for _, id := range []string{"email:max@lifecycle.test", "username:max_lifecycle_test"} {
		if ok, _ := e.client.RetiredIdentifier.Query().Where(retiredidentifier.ID(id)).Exist(ctx); !ok {
			t.Errorf("%s not reserved", id)
		}
	}
	if e.auditCountOn("user.anonymised", uid) != 1 {
		t.Error("anonymisation not audited")
	}
	e.wantCode(supportTok, restoreDoc, map[string]any{"id": uid}, "BAD_USER_INPUT")
	// Still reserved after anonymisation.
	before, _ := e.client.UserAccount.Query().Count(ctx)
	e.ok("", lcSignUpDoc, map[string]any{"e": "max@lifecycle.test", "u": "someone-new"})
	e.ok("", lcSignUpDoc, map[string]any{"e": "other@lifecycle.test", "u": "max_lifecycle_test"})
	if after, _ := e.client.UserAccount.Query().Count(ctx); after != before {
		t.Fatalf("sign-up with retired identifiers created %d users", after-before)
	}
	c, err := e.client.Contact.Get(ctx, pulid.ID(ctc))
	if err != nil || c.UserID != nil || c.UnlinkedUserID != nil {
		t.Fatalf("contact after anonymisation: %+v %v", c, err)
	}
}

func TestLifecycleDeactivateReactivateDelete(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	acct := e.createAccount("71003")
	adminTok, _ := e.customerUser(acct, "chefin@lifecycle.test", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	userTok, _ := e.customerUser(acct, "tech@lifecycle.test", "PORTAL_ACCESS", "TECHNICAL_CONTACT")
	key, _ := e.createKey(adminTok, acct, []string{"ACCOUNT_READ"}, e.clock.Now().Add(48*time.Hour))
	supportTok := e.createUser("support@lifecycle.test", domain.StaffSupport)
	salesTok := e.createUser("sales@lifecycle.test", domain.StaffSales)
	vars := map[string]any{"a": acct}
	seesDoc := `query($n: String!) { customerAccount(number: $n) { id } }`
	sees := func(tok string) bool {
		t.Helper()
		return dig(e.ok(tok, seesDoc, map[string]any{"n": "71003"}), "customerAccount") != nil
	}
	if !sees(adminTok) || !sees(userTok) || !sees(key) {
		t.Fatal("account not visible before deactivation")
	}

	e.wantCode(supportTok, deactivateDoc, vars, "FORBIDDEN")
	e.wantCode(salesTok, deactivateDoc, vars, "FORBIDDEN")
	e.wantCode(adminTok, deactivateDoc, vars, "FORBIDDEN")
	e.wantCode(key, deactivateDoc, vars, "FORBIDDEN")
	e.wantCode(e.admin, deactivateDoc, map[string]any{"a": "acct_01J00000000000000000000000"}, "NOT_FOUND")
	d := e.ok(e.admin, deactivateDoc, vars)
	if dig(d, "deactivateCustomerAccount", "status") != "DEACTIVATED" || dig(d, "deactivateCustomerAccount", "deactivatedAt") == nil {
		t.Fatalf("deactivate: %v", d)
	}
	// Everyone is locked out on the next request; the key is refused.
	if sees(adminTok) || sees(userTok) {
		t.Fatal("a person still sees the deactivated account")
	}
	d = e.ok(adminTok, `query($a: ID!) { myPermissions(customerAccountID: $a) }`, vars)
	if len(dig(d, "myPermissions").([]any)) != 0 {
		t.Fatalf("permissions on a deactivated account: %v", d)
	}
	e.wantCode(adminTok, `mutation($a: ID!) { createContact(input: {customerAccountID: $a, name: "X"}) { id } }`, vars, "NOT_FOUND")
	e.wantCode(key, meIDDoc, nil, "UNAUTHENTICATED")
	e.wantCode(e.admin, deactivateDoc, vars, "BAD_USER_INPUT") // already deactivated
	if e.auditCountOn("customer_account.deactivated", acct) != 1 {
		t.Error("deactivation not audited")
	}

	d = e.ok(e.admin, reactivateDoc, vars)
	if dig(d, "reactivateCustomerAccount", "status") != "ACTIVE" {
		t.Fatalf("reactivate: %v", d)
	}
	if !sees(adminTok) || !sees(userTok) || !sees(key) {
		t.Fatal("reactivation did not restore access")
	}
	e.wantCode(e.admin, reactivateDoc, vars, "BAD_USER_INPUT") // not deactivated
	if e.auditCountOn("customer_account.reactivated", acct) != 1 {
		t.Error("reactivation not audited")
	}

	// Numbers are never reused: of an active account, and of a deleted one.
	createDoc := `mutation($n: String!) { createCustomerAccount(input: {number: $n, name: "Reuse"}) { id } }`
	r := e.wantCode(e.admin, createDoc, map[string]any{"n": "71003"}, "CONFLICT")
	if f, _ := r.Errors[0].Extensions["field"].(string); f != "input.number" {
		t.Errorf("field = %q", f)
	}
	e.wantCode(supportTok, deleteAcctDoc, vars, "FORBIDDEN")
	e.wantCode(salesTok, deleteAcctDoc, vars, "FORBIDDEN")
	e.wantCode(adminTok, deleteAcctDoc, vars, "FORBIDDEN")
	d = e.ok(e.admin, deleteAcctDoc, vars)
	if dig(d, "deleteCustomerAccount", "status") != "DELETED" || dig(d, "deleteCustomerAccount", "deletedAt") == nil {
		t.Fatalf("delete: %v", d)
	}
	if sees(adminTok) || sees(userTok) {
		t.Fatal("a person still sees the deleted account")
	}
	e.wantCode(key, meIDDoc, nil, "UNAUTHENTICATED")
	e.wantCode(e.admin, reactivateDoc, vars, "BAD_USER_INPUT")
	e.wantCode(e.admin, deleteAcctDoc, vars, "BAD_USER_INPUT")
	e.wantCode(e.admin, createDoc, map[string]any{"n": "71003"}, "CONFLICT")
	e.wantCode(e.admin, createDoc, map[string]any{"n": " 71003 "}, "CONFLICT")
	if e.auditCountOn("customer_account.deleted", acct) != 1 {
		t.Error("deletion not audited")
	}
}
