package graph_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"portier/ent/contact"
	"portier/ent/useraccount"
	"portier/internal/pulid"
	"portier/internal/viewer"
)

// Contacts (issue 8 item 1): updateContact, deleteContact (soft, kept in
// history), the least-privilege default role, and the login activation
// (enableLogin, then activateLogin or acceptInvitation).

const (
	updateContactDoc = `mutation($id: ID!, $name: String, $email: String, $phone: String) {
  updateContact(input: {id: $id, name: $name, email: $email, phone: $phone}) { id name email phone userID deletedAt }
}`
	deleteContactDoc = `mutation($id: ID!) {
  deleteContact(id: $id) { id deletedAt userID formerUserID roleAssignments { role endedAt } groupMemberships { endedAt } }
}`
	enableLoginDoc   = `mutation($c: ID!) { enableLogin(contactID: $c) { id email state roles contactID expiresAt } }`
	activateLoginDoc = `mutation($t: String!, $u: String!, $p: String!, $n: String!) {
  activateLogin(input: {token: $t, username: $u, password: $p, name: $n}) { accessToken refreshToken expiresAt }
}`
	contactsListDoc = `query($n: String!, $w: ContactWhereInput) {
  customerAccount(number: $n) { contacts(first: 50, where: $w) { totalCount edges { node { id email deletedAt } } } }
}`
	meMembershipsDoc  = `{ me { user { id email } memberships { customerAccount { id } contact { id } permissions } } }`
	contactAuditDoc   = `query($id: String!, $a: String!) { auditEvents(first: 10, where: {targetID: $id, action: $a}) { edges { node { action changes { field value } customerAccountID } } } }`
	assignRoleDocC    = `mutation($c: ID!, $r: Role!) { assignRole(input: {contactID: $c, role: $r}) { id } }`
	contactRolesDoc   = `query($id: ID!) { node(id: $id) { ... on Contact { userID deletedAt roleAssignments { role endedAt } } } }`
	activationPw      = "Lighthouse-Quokka-Meadow"
	activationPwOther = "Sandbar-Tortoise-Lantern"
)

// field returns the first error's extensions.field and .reason.
func fieldReason(r response) (any, any) {
	if len(r.Errors) == 0 {
		return nil, nil
	}
	return r.Errors[0].Extensions["field"], r.Errors[0].Extensions["reason"]
}

func (e *env) wantField(tok, doc string, vars map[string]any, code, field string) response {
	e.t.Helper()
	r := e.wantCode(tok, doc, vars, code)
	if f, _ := fieldReason(r); f != field {
		e.t.Fatalf("want field %s, got %v: %s", field, f, r.Raw)
	}
	return r
}

func (e *env) wantReason(tok, doc string, vars map[string]any, code, reason string) response {
	e.t.Helper()
	r := e.wantCode(tok, doc, vars, code)
	if _, why := fieldReason(r); why != reason {
		e.t.Fatalf("want reason %s, got %v: %s", reason, why, r.Raw)
	}
	return r
}

// auditChanges returns the changes of the newest audit event of action on
// target, read through the API as tok.
func (e *env) auditChanges(tok, target, action string) map[string]any {
	e.t.Helper()
	d := e.ok(tok, contactAuditDoc, map[string]any{"id": target, "a": action})
	list, ok := dig(d, "auditEvents", "edges", 0, "node", "changes").([]any)
	if !ok {
		e.t.Fatalf("no audit event %s on %s: %v", action, target, d)
	}
	ch := map[string]any{}
	for _, c := range list {
		var v any
		if err := json.Unmarshal([]byte(dig(c, "value").(string)), &v); err != nil {
			e.t.Fatal(err)
		}
		ch[dig(c, "field").(string)] = v
	}
	return ch
}

func rolesOf(v any) map[string]bool {
	out := map[string]bool{}
	for _, ra := range v.([]any) {
		if dig(ra, "endedAt") == nil {
			out[dig(ra, "role").(string)] = true
		}
	}
	return out
}

func TestContactStartsWithTechnicalContactOnly(t *testing.T) {
	e := newEnv(t)
	a := e.createAccount("81001")
	admin, _ := e.customerUser(a, "boss@a.example", "PORTAL_ACCESS", "CUSTOMER_ADMIN")

	d := e.ok(admin, createContactDoc, map[string]any{"a": a, "name": "Default", "email": "default@a.example"})
	if got := rolesOf(dig(d, "createContact", "roleAssignments")); len(got) != 1 || !got["TECHNICAL_CONTACT"] {
		t.Fatalf("a contact without roles got %v, want TECHNICAL_CONTACT only", got)
	}
	d = e.ok(admin, createContactDoc, map[string]any{"a": a, "name": "None", "email": "none@a.example", "roles": []string{}})
	if got := dig(d, "createContact", "roleAssignments").([]any); len(got) != 0 {
		t.Fatalf("roles: [] gave %v", got)
	}
	d = e.ok(admin, createContactDoc, map[string]any{"a": a, "name": "Portal", "email": "portal@a.example", "roles": []string{"PORTAL_ACCESS"}})
	if got := rolesOf(dig(d, "createContact", "roleAssignments")); len(got) != 1 || !got["PORTAL_ACCESS"] {
		t.Fatalf("explicit roles gave %v", got)
	}
	// Audited with the roles granted.
	ch := e.auditChanges(admin, dig(e.ok(admin, createContactDoc, map[string]any{"a": a, "name": "Audited"}), "createContact", "id").(string), "contact.create")
	if r, _ := ch["roles"].([]any); len(r) != 1 || r[0] != "TECHNICAL_CONTACT" {
		t.Fatalf("audit: %v", ch)
	}

	// The default is a grant like any other: a group member holding
	// CONTACTS_MANAGE but not TICKETS_CREATE cannot give it, and is told
	// to pass roles: [].
	hr, hrContact := e.customerUser(a, "hr@a.example", "PORTAL_ACCESS")
	g := e.createGroup(admin, a, "HR", "CONTACTS_READ", "CONTACTS_MANAGE")
	e.ok(admin, addMemberDoc, map[string]any{"g": g, "c": hrContact})
	r := e.wantReason(hr, createContactDoc, map[string]any{"a": a, "name": "Pal"}, "FORBIDDEN", "GRANT_EXCEEDS_OWN_PERMISSIONS")
	if f, _ := fieldReason(r); f != "input.roles" || !strings.Contains(r.Errors[0].Message, "roles: []") {
		t.Fatalf("refusal: %s", r.Raw)
	}
	e.ok(hr, createContactDoc, map[string]any{"a": a, "name": "Pal", "roles": []string{}})
}

func TestUpdateContact(t *testing.T) {
	e := newEnv(t)
	a := e.createAccount("81011")
	b := e.createAccount("81012")
	admin, _ := e.customerUser(a, "boss@a.example", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	portal, _ := e.customerUser(a, "portal@a.example", "PORTAL_ACCESS")
	adminB, _ := e.customerUser(b, "boss@example.org", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	ct := e.createContact(admin, a, "Erika", "erika@a.example")
	e.createContact(admin, a, "Max", "max@a.example")
	e.ok(admin, updateContactDoc, map[string]any{"id": ct, "phone": "+49 30 1234"})

	// Only the fields given change; the address is normalised.
	d := e.ok(admin, updateContactDoc, map[string]any{"id": ct, "name": " Erika Muster ", "email": " Erika.M@A.Example "})
	c := dig(d, "updateContact").(map[string]any)
	if c["name"] != "Erika Muster" || c["email"] != "erika.m@a.example" || c["phone"] != "+49 30 1234" {
		t.Fatalf("updated: %v", c)
	}
	ch := e.auditChanges(admin, ct, "contact.update")
	if dig(ch, "name", "old") != "Erika" || dig(ch, "name", "new") != "Erika Muster" ||
		dig(ch, "email", "old") != "erika@a.example" || dig(ch, "email", "new") != "erika.m@a.example" || ch["phone"] != nil {
		t.Fatalf("audit changes: %v", ch)
	}
	// Clearing the phone.
	if d := e.ok(admin, updateContactDoc, map[string]any{"id": ct, "phone": ""}); dig(d, "updateContact", "phone") != nil {
		t.Fatalf("phone not cleared: %v", d)
	}

	// Bad input names the field.
	e.wantField(admin, updateContactDoc, map[string]any{"id": ct, "name": "  "}, "BAD_USER_INPUT", "input.name")
	e.wantField(admin, updateContactDoc, map[string]any{"id": ct, "name": strings.Repeat("x", 201)}, "BAD_USER_INPUT", "input.name")
	e.wantField(admin, updateContactDoc, map[string]any{"id": ct, "email": "not-an-address"}, "BAD_USER_INPUT", "input.email")
	e.wantField(admin, updateContactDoc, map[string]any{"id": ct, "phone": strings.Repeat("1", 33)}, "BAD_USER_INPUT", "input.phone")
	e.wantField(admin, updateContactDoc, map[string]any{"id": ct, "email": "MAX@a.example"}, "CONFLICT", "input.email")

	// Denials: without CONTACTS_MANAGE, another tenant, anonymous.
	e.wantCode(portal, updateContactDoc, map[string]any{"id": ct, "name": "X"}, "FORBIDDEN")
	e.wantField(adminB, updateContactDoc, map[string]any{"id": ct, "name": "X"}, "NOT_FOUND", "input.id")
	e.wantCode("", updateContactDoc, map[string]any{"id": ct, "name": "X"}, "UNAUTHENTICATED")
	if got := dig(e.ok(admin, contactRolesDoc, map[string]any{"id": ct}), "node"); got == nil {
		t.Fatal("contact gone")
	}

	// An address a verified user holds: not linked, same answer as for a
	// free one; the holder is told by mail.
	e.createUser("holder@a.example", "")
	free := e.ok(admin, updateContactDoc, map[string]any{"id": ct, "email": "free@a.example"})
	held := e.ok(admin, updateContactDoc, map[string]any{"id": ct, "email": "holder@a.example"})
	if dig(held, "updateContact", "userID") != nil || len(held) != len(free) {
		t.Fatalf("the answer differs for a held address: %v / %v", held, free)
	}
	if m := e.mailTo("holder@a.example"); !strings.Contains(m.Body, "81011") {
		t.Fatalf("holder not told: %s", m.Body)
	}

	// A linked contact's address follows its user: refused, unless unchanged.
	_, linked := e.customerUser(a, "linked@a.example", "PORTAL_ACCESS")
	r := e.wantField(admin, updateContactDoc, map[string]any{"id": linked, "email": "other@a.example"}, "BAD_USER_INPUT", "input.email")
	if !strings.Contains(r.Errors[0].Message, "linked to a user") {
		t.Fatalf("message: %s", r.Errors[0].Message)
	}
	e.wantField(admin, updateContactDoc, map[string]any{"id": linked, "email": ""}, "BAD_USER_INPUT", "input.email")
	e.ok(admin, updateContactDoc, map[string]any{"id": linked, "email": " LINKED@a.example", "name": "Linked"})
}

func TestDeleteContact(t *testing.T) {
	e := newEnv(t)
	a := e.createAccount("81021")
	b := e.createAccount("81022")
	admin, _ := e.customerUser(a, "boss@a.example", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	portal, _ := e.customerUser(a, "portal@a.example", "PORTAL_ACCESS")
	adminB, _ := e.customerUser(b, "boss@example.org", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	erika, ct := e.customerUser(a, "erika@a.example", "PORTAL_ACCESS", "TECHNICAL_CONTACT")
	g := e.createGroup(admin, a, "Readers", "CONTACTS_READ")
	e.ok(admin, addMemberDoc, map[string]any{"g": g, "c": ct})
	e.ok(admin, grantAuthDoc, map[string]any{"c": ct, "k": "FINANCE_INVOICES"})
	if !has(e.myPerms(erika, a), "CONTACTS_READ") {
		t.Fatal("setup: erika lacks the group's permission")
	}
	d := e.ok(erika, meMembershipsDoc, nil)
	uid := dig(d, "me", "user", "id").(string)
	e.mailAbout("erika@a.example", "Zugang") // the grant's notice

	// Denials first: nothing changes.
	e.wantCode(portal, deleteContactDoc, map[string]any{"id": ct}, "FORBIDDEN")
	e.wantField(adminB, deleteContactDoc, map[string]any{"id": ct}, "NOT_FOUND", "id")
	e.wantCode("", deleteContactDoc, map[string]any{"id": ct}, "UNAUTHENTICATED")

	d = e.ok(admin, deleteContactDoc, map[string]any{"id": ct})
	c := dig(d, "deleteContact").(map[string]any)
	if c["deletedAt"] == nil || c["userID"] != nil || c["formerUserID"] != uid {
		t.Fatalf("deleted contact: %v", c)
	}
	for _, ra := range c["roleAssignments"].([]any) {
		if dig(ra, "endedAt") == nil {
			t.Fatalf("a role is still open: %v", c)
		}
	}
	if ms := c["groupMemberships"].([]any); len(ms) != 1 || dig(ms, 0, "endedAt") == nil {
		t.Fatalf("membership not ended: %v", c)
	}
	if auths := dig(e.ok(admin, contactAuthsDoc, map[string]any{"id": ct}), "node", "authorizations").([]any); len(auths) != 1 ||
		dig(auths, 0, "endedAt") == nil || dig(auths, 0, "active") != false {
		t.Fatalf("authorization not ended: %v", auths)
	}
	// The person lost access at once, and is told.
	if p := e.myPerms(erika, a); len(p) != 0 {
		t.Fatalf("erika keeps %v", p)
	}
	if ms := dig(e.ok(erika, meMembershipsDoc, nil), "me", "memberships").([]any); len(ms) != 0 {
		t.Fatalf("erika still a member: %v", ms)
	}
	if m := e.mailAbout("erika@a.example", "endet"); !strings.Contains(m.Body, "ab sofort") {
		t.Fatalf("loss of access mail: %s", m.Body)
	}
	ch := e.auditChanges(admin, ct, "contact.delete")
	if ch["formerUser"] != uid || ch["groupMembershipsEnded"] != float64(1) || ch["supportAuthorizationsEnded"] != float64(1) ||
		len(ch["rolesEnded"].([]any)) != 2 {
		t.Fatalf("audit: %v", ch)
	}

	// Kept in history: listed with deletedAt, hidden by deletedAtIsNil.
	all := dig(e.ok(admin, contactsListDoc, map[string]any{"n": "81021"}), "customerAccount", "contacts")
	live := dig(e.ok(admin, contactsListDoc, map[string]any{"n": "81021", "w": map[string]any{"deletedAtIsNil": true}}), "customerAccount", "contacts")
	if dig(all, "totalCount").(float64) != dig(live, "totalCount").(float64)+1 || !strings.Contains(jsonOf(all), ct) || strings.Contains(jsonOf(live), ct) {
		t.Fatalf("history: all %v, live %v", all, live)
	}

	// Every later change is refused clearly, deleting again too.
	for name, tc := range map[string]struct {
		doc   string
		vars  map[string]any
		field string
	}{
		"delete":     {deleteContactDoc, map[string]any{"id": ct}, "id"},
		"update":     {updateContactDoc, map[string]any{"id": ct, "name": "X"}, "input.id"},
		"assignRole": {assignRoleDocC, map[string]any{"c": ct, "r": "TECHNICAL_CONTACT"}, "input.contactID"},
		"enable":     {enableLoginDoc, map[string]any{"c": ct}, "contactID"},
		"member":     {addMemberDoc, map[string]any{"g": g, "c": ct}, "input.contactID"},
		"authorize":  {grantAuthDoc, map[string]any{"c": ct, "k": "CREDENTIALS_IT_GENERAL"}, "input.contactID"},
	} {
		r := e.wantReason(admin, tc.doc, tc.vars, "BAD_USER_INPUT", "CONTACT_DELETED")
		if f, _ := fieldReason(r); f != tc.field {
			t.Errorf("%s: field %v", name, f)
		}
	}

	// The same person can be added again; only the new contact is linked.
	again := e.createContact(admin, a, "Erika again", "erika@a.example", "PORTAL_ACCESS")
	if n := dig(e.ok(erika, `mutation { linkContacts }`, nil), "linkContacts"); n != float64(1) {
		t.Fatalf("linkContacts = %v", n)
	}
	if got := dig(e.ok(erika, meMembershipsDoc, nil), "me", "memberships", 0, "contact", "id"); got != again {
		t.Fatalf("linked to %v, want %s", got, again)
	}
	if d := e.ok(admin, contactRolesDoc, map[string]any{"id": ct}); dig(d, "node", "userID") != nil {
		t.Fatalf("the deleted contact was linked again: %v", d)
	}
}

func jsonOf(v any) string {
	var b strings.Builder
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, y := range x {
				b.WriteString(k + ":")
				walk(y)
			}
		case []any:
			for _, y := range x {
				walk(y)
			}
		case string:
			b.WriteString(x + " ")
		}
	}
	walk(v)
	return b.String()
}

// The only customer admin cannot be deleted; two admins deleting each
// other at once leave one.
func TestDeleteContactKeepsAnAdmin(t *testing.T) {
	e := newEnv(t)
	a := e.createAccount("81031")
	boss, bossContact := e.customerUser(a, "boss@a.example", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	r := e.wantReason(boss, deleteContactDoc, map[string]any{"id": bossContact}, "CONFLICT", "LAST_CUSTOMER_ADMIN")
	if f, _ := fieldReason(r); f != "id" {
		t.Fatalf("field: %s", r.Raw)
	}
	deputy, deputyContact := e.customerUser(a, "deputy@a.example", "PORTAL_ACCESS", "CUSTOMER_ADMIN")

	var wg sync.WaitGroup
	results := make([]response, 2)
	for i, tc := range []struct{ tok, target string }{{boss, deputyContact}, {deputy, bossContact}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = e.do(tc.tok, deleteContactDoc, map[string]any{"id": tc.target})
		}()
	}
	wg.Wait()
	ok := 0
	for _, r := range results {
		if len(r.Errors) == 0 {
			ok++
		}
	}
	if ok != 1 {
		t.Fatalf("%d of two mutual deletions succeeded: %s / %s", ok, results[0].Raw, results[1].Raw)
	}
	admins := 0
	for _, tok := range []string{boss, deputy} {
		if has(e.myPerms(tok, a), "CONTACTS_MANAGE") {
			admins++
		}
	}
	if admins != 1 {
		t.Fatalf("%d administrators left", admins)
	}
}

// The evaluator never counts a deleted contact, even one whose grants were
// (wrongly) left open.
func TestDeletedContactGivesNothingEvenIfMissed(t *testing.T) {
	e := newEnv(t)
	a := e.createAccount("81041")
	tok, ct := e.customerUser(a, "erika@a.example", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	if len(e.myPerms(tok, a)) == 0 {
		t.Fatal("setup: no permissions")
	}
	ctx := viewer.SystemContext(context.Background())
	e.client.Contact.UpdateOneID(pulid.ID(ct)).SetDeletedAt(e.clock.Now()).ExecX(ctx)
	if p := e.myPerms(tok, a); len(p) != 0 {
		t.Fatalf("a deleted contact still gives %v", p)
	}
	e.wantCode(tok, createContactDoc, map[string]any{"a": a, "name": "X"}, "NOT_FOUND")
}

func TestEnableLoginAndActivateLogin(t *testing.T) {
	e := newEnv(t)
	a := e.createAccount("81051")
	b := e.createAccount("81052")
	admin, _ := e.customerUser(a, "boss@a.example", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	portal, _ := e.customerUser(a, "portal@a.example", "PORTAL_ACCESS")
	adminB, _ := e.customerUser(b, "boss@example.org", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	ct := e.createContact(admin, a, "Nora Neu", "nora@a.example")
	noMail := e.createContact(admin, a, "No Mail", "")
	secrets.add(activationPw)

	// Denials and bad input.
	e.wantCode(portal, enableLoginDoc, map[string]any{"c": ct}, "FORBIDDEN")
	e.wantField(adminB, enableLoginDoc, map[string]any{"c": ct}, "NOT_FOUND", "contactID")
	e.wantCode("", enableLoginDoc, map[string]any{"c": ct}, "UNAUTHENTICATED")
	e.wantField(admin, enableLoginDoc, map[string]any{"c": noMail}, "BAD_USER_INPUT", "contactID")
	// A key holding CONTACTS_MANAGE only may not grant PORTAL_ACCESS.
	key, _ := e.createKey(admin, a, []string{"CONTACTS_READ", "CONTACTS_MANAGE"}, e.clock.Now().Add(time.Hour))
	// (A key without ACCOUNT_READ used to crash on the contact's account.)
	e.ok(key, `mutation($c: ID!) { removeRole(input: {contactID: $c, role: TECHNICAL_CONTACT}) { id } }`, map[string]any{"c": noMail})
	e.wantReason(key, enableLoginDoc, map[string]any{"c": ct}, "FORBIDDEN", "GRANT_EXCEEDS_OWN_PERMISSIONS")

	// A first activation, replaced by a second: the first link dies.
	e.ok(admin, enableLoginDoc, map[string]any{"c": ct})
	first := e.linkTokenIn(e.mailTo("nora@a.example"))
	d := e.ok(admin, enableLoginDoc, map[string]any{"c": ct})
	inv := dig(d, "enableLogin").(map[string]any)
	if inv["contactID"] != ct || inv["email"] != "nora@a.example" || inv["state"] != "PENDING" || strs(inv["roles"])[0] != "PORTAL_ACCESS" {
		t.Fatalf("activation: %v", inv)
	}
	m := e.mailTo("nora@a.example")
	for i, bad := range []bool{!strings.Contains(m.Body, "https://portal.example/activate-login?token="),
		!strings.Contains(m.Body, "81051"), !strings.Contains(m.Body, "niemals ein Passwort"), strings.Count(m.Body, "token=") != 1} {
		if bad {
			t.Fatalf("activation mail (check %d): %q", i, m.Body)
		}
	}
	second := e.linkTokenIn(m)
	if e.invitationState(admin, a, dig(inv, "id").(string)) != "PENDING" {
		t.Fatal("activation not listed")
	}
	vars := func(tok, user, pw string) map[string]any {
		return map[string]any{"t": tok, "u": user, "p": pw, "n": "Nora Neu"}
	}

	// Unusable tokens: one answer for all.
	for _, tok := range []string{first, "not-a-token", ""} {
		r := e.wantField("", activateLoginDoc, vars(tok, "nora", activationPw), "BAD_USER_INPUT", "input.token")
		if !strings.Contains(r.Errors[0].Message, "invalid, used, revoked or expired") {
			t.Fatalf("message: %s", r.Raw)
		}
	}
	// Input checks after the token; the token survives them.
	e.wantField("", activateLoginDoc, vars(second, "nora", "short"), "BAD_USER_INPUT", "input.password")
	e.wantField("", activateLoginDoc, vars(second, "x", activationPw), "BAD_USER_INPUT", "input.username")
	e.createUser("taken@a.example", "") // username taken_a_example
	e.wantField("", activateLoginDoc, vars(second, "taken_a_example", activationPw), "CONFLICT", "input.username")

	// A stranger's unverified claim on the address is voided.
	e.ok("", signUpDoc, map[string]any{"e": "nora@a.example", "u": "stranger", "p": activationPwOther})
	e.linkTokenIn(e.mailTo("nora@a.example"))

	d = e.ok("", activateLoginDoc, vars(second, "Nora", activationPw))
	at := secrets.add(dig(d, "activateLogin", "accessToken").(string))
	secrets.add(dig(d, "activateLogin", "refreshToken").(string))

	// Access at once: the contact is linked and gives PORTAL_ACCESS.
	me := e.ok(at, meMembershipsDoc, nil)
	if dig(me, "me", "user", "email") != "nora@a.example" || dig(me, "me", "memberships", 0, "contact", "id") != ct ||
		!has(strs(dig(me, "me", "memberships", 0, "permissions")), "ACCOUNT_READ") {
		t.Fatalf("me after activation: %v", me)
	}
	if p := e.myPerms(at, a); !has(p, "TICKETS_CREATE") { // TECHNICAL_CONTACT now counts
		t.Fatalf("permissions: %v", p)
	}
	e.loginTokens("nora", activationPw) // the username is lower-cased
	e.loginTokens("nora@a.example", activationPw)
	ctx := viewer.SystemContext(context.Background())
	stranger := e.client.UserAccount.Query().Where(useraccount.Username("stranger")).OnlyX(ctx)
	if stranger.PendingEmail != "" {
		t.Fatalf("the stranger still claims %s", stranger.PendingEmail)
	}
	// Used: the same answer as any bad token; enabling again is a conflict.
	e.wantField("", activateLoginDoc, vars(second, "nora2", activationPw), "BAD_USER_INPUT", "input.token")
	e.wantField(admin, enableLoginDoc, map[string]any{"c": ct}, "CONFLICT", "contactID")
	if ch := e.auditChanges(admin, ct, "contact.login_activated"); ch["user"] != dig(me, "me", "user", "id") {
		t.Fatalf("audit: %v", ch)
	}
	if ch := e.auditChanges(admin, ct, "contact.login_enabled"); ch["previousActivationsRevoked"] != float64(1) {
		t.Fatalf("audit: %v", ch)
	}
	if e.invitationState(admin, a, dig(inv, "id").(string)) != "ACCEPTED" {
		t.Fatal("activation not accepted")
	}
	if strings.Contains(e.logs.String(), activationPw) || strings.Contains(e.logs.String(), second) {
		t.Fatal("a secret reached the log")
	}
}

// A person who already has a user account with the contact's address
// accepts the activation while logged in; activateLogin refuses it.
func TestEnableLoginForAnExistingUser(t *testing.T) {
	e := newEnv(t)
	a := e.createAccount("81061")
	admin, _ := e.customerUser(a, "boss@a.example", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	anna := e.createUser("anna@example.org", "")
	other := e.createUser("other@example.org", "")
	ct := e.createContact(admin, a, "Anna", "anna@example.org")
	e.mailTo("anna@example.org") // "a customer account added you"
	e.ok(admin, enableLoginDoc, map[string]any{"c": ct})
	tok := e.linkTokenIn(e.mailTo("anna@example.org"))

	r := e.wantField("", activateLoginDoc, map[string]any{"t": tok, "u": "anna2", "p": activationPw, "n": "Anna"}, "CONFLICT", "input.token")
	if !strings.Contains(r.Errors[0].Message, "acceptInvitation") {
		t.Fatalf("message: %s", r.Raw)
	}
	e.wantReason(other, acceptDoc, map[string]any{"t": tok}, "FORBIDDEN", "EMAIL_MISMATCH")
	if len(e.myPerms(anna, a)) != 0 {
		t.Fatal("setup: anna has access already")
	}
	e.ok(anna, acceptDoc, map[string]any{"t": tok})
	me := e.ok(anna, meMembershipsDoc, nil)
	if dig(me, "me", "memberships", 0, "contact", "id") != ct || !has(strs(dig(me, "me", "memberships", 0, "permissions")), "ACCOUNT_READ") {
		t.Fatalf("me: %v", me)
	}
	// Only that contact: no second contact was created.
	n := e.client.Contact.Query().Where(contact.CustomerAccountID(pulid.ID(a)), contact.Email("anna@example.org")).CountX(viewer.SystemContext(context.Background()))
	if n != 1 {
		t.Fatalf("%d contacts for anna", n)
	}
}

// Changing the address or deleting the contact kills a pending activation;
// so does its expiry.
func TestActivationDiesWithAddressChangeDeletionAndTime(t *testing.T) {
	e := newEnv(t)
	a := e.createAccount("81071")
	admin, _ := e.customerUser(a, "boss@a.example", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	activate := func(tok string) {
		t.Helper()
		e.wantField("", activateLoginDoc, map[string]any{"t": tok, "u": "someone", "p": activationPw, "n": "S"}, "BAD_USER_INPUT", "input.token")
	}

	moved := e.createContact(admin, a, "Moved", "old@a.example")
	e.ok(admin, enableLoginDoc, map[string]any{"c": moved})
	tok := e.linkTokenIn(e.mailTo("old@a.example"))
	e.ok(admin, updateContactDoc, map[string]any{"id": moved, "email": "new@a.example"})
	activate(tok)
	if ch := e.auditChanges(admin, moved, "contact.update"); ch["activationsRevoked"] != float64(1) {
		t.Fatalf("audit: %v", ch)
	}

	gone := e.createContact(admin, a, "Gone", "gone@a.example")
	e.ok(admin, enableLoginDoc, map[string]any{"c": gone})
	tok = e.linkTokenIn(e.mailTo("gone@a.example"))
	e.ok(admin, deleteContactDoc, map[string]any{"id": gone})
	activate(tok)

	late := e.createContact(admin, a, "Late", "late@a.example")
	e.ok(admin, enableLoginDoc, map[string]any{"c": late})
	tok = e.linkTokenIn(e.mailTo("late@a.example"))
	e.clock.Advance(7*24*time.Hour + time.Second)
	activate(tok)
}

// Two redemptions of one link at once make one login.
func TestActivateLoginConcurrently(t *testing.T) {
	e := newEnv(t)
	a := e.createAccount("81081")
	admin, _ := e.customerUser(a, "boss@a.example", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	ct := e.createContact(admin, a, "Twin", "twin@a.example")
	e.ok(admin, enableLoginDoc, map[string]any{"c": ct})
	tok := e.linkTokenIn(e.mailTo("twin@a.example"))
	var wg sync.WaitGroup
	results := make([]response, 2)
	for i, user := range []string{"twin-one", "twin-two"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = e.do("", activateLoginDoc, map[string]any{"t": tok, "u": user, "p": activationPw, "n": "Twin"})
		}()
	}
	wg.Wait()
	ok := 0
	for _, r := range results {
		if len(r.Errors) == 0 {
			secrets.add(dig(r.Data, "activateLogin", "accessToken").(string))
			secrets.add(dig(r.Data, "activateLogin", "refreshToken").(string))
			ok++
		}
	}
	n := e.client.UserAccount.Query().Where(useraccount.Email("twin@a.example")).CountX(viewer.SystemContext(context.Background()))
	if ok != 1 || n != 1 {
		t.Fatalf("%d redemptions succeeded, %d users: %s / %s", ok, n, results[0].Raw, results[1].Raw)
	}
}

// Flow 5 through the API: a customer admin adds a contact with
// PORTAL_ACCESS for an address; the person signs up and verifies it and
// has access at once.
func TestContactLinkedAtVerificationHasAccessAtOnce(t *testing.T) {
	e := newEnv(t)
	a := e.createAccount("81091")
	admin, _ := e.customerUser(a, "boss@a.example", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	ct := e.createContact(admin, a, "Paula", "paula@example.org", "PORTAL_ACCESS")
	tok := e.signUpVerified("paula@example.org", "paula", activationPwOther)
	me := e.ok(tok, meMembershipsDoc, nil)
	if dig(me, "me", "memberships", 0, "contact", "id") != ct ||
		!has(strs(dig(me, "me", "memberships", 0, "permissions")), "ACCOUNT_READ") {
		t.Fatalf("me: %v", me)
	}
}
