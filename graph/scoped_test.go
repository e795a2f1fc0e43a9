package graph_test

import (
	"strings"
	"testing"
	"time"
)

// Issue 9 items 1–4: resources, scoped logins that see exactly one
// resource, reset routing to reference addresses, the confirmed
// change of the reference address, and account deactivation.

const (
	createResourceDoc = `mutation($a: ID!, $k: ResourceKind!, $n: String!) {
  createResource(input: {customerAccountID: $a, kind: $k, name: $n}) { id kind name customerAccountID } }`
	createScopedDoc = `mutation($r: ID!, $l: String!, $p: String!, $refs: [String!]) {
  createScopedLogin(input: {resourceID: $r, loginName: $l, password: $p, referenceEmails: $refs}) {
    id loginName status referenceEmails resource { id kind } } }`
	scopedLoginDoc = `mutation($l: String!, $p: String!) {
  login(input: {login: $l, password: $p, kind: SCOPED_LOGIN}) { accessToken refreshToken } }`
	grantDoc = `mutation($c: ID!, $k: SupportAuthorizationKind!) {
  grantSupportAuthorization(input: {contactID: $c, kind: $k}) { id } }`
	scopedPw = "Postfach-Lagune-Regatta-7"
)

func (e *env) resource(tok, account, kind, name string) string {
	e.t.Helper()
	d := e.ok(tok, createResourceDoc, map[string]any{"a": account, "k": kind, "n": name})
	return dig(d, "createResource", "id").(string)
}

func (e *env) scopedLogin(tok, resource, login string, refs ...string) string {
	e.t.Helper()
	d := e.ok(tok, createScopedDoc, map[string]any{"r": resource, "l": login, "p": scopedPw, "refs": refs})
	return dig(d, "createScopedLogin", "id").(string)
}

func (e *env) loginScoped(login, pw string) string {
	e.t.Helper()
	d := e.ok("", scopedLoginDoc, map[string]any{"l": login, "p": pw})
	return secrets.add(dig(d, "login", "accessToken").(string))
}

// auditActions returns the actions of the audit events targeting id, as
// staff ADMIN reads them.
func (e *env) auditActions(id string) []string {
	e.t.Helper()
	d := e.ok(e.admin, `query($t: String!) { auditEvents(first: 100, where: {targetID: $t}) { edges { node { action actorKind } } } }`,
		map[string]any{"t": id})
	var out []string
	for _, ed := range dig(d, "auditEvents", "edges").([]any) {
		out = append(out, dig(ed, "node", "action").(string))
	}
	return out
}

func hasAction(actions []string, a string) bool {
	for _, x := range actions {
		if x == a {
			return true
		}
	}
	return false
}

func TestScopedLogins(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	secrets.add(scopedPw)
	a := e.createAccount("70001")
	b := e.createAccount("70002")
	custAdmin, _ := e.customerUser(a, "chefin@muster.example", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	web, webContact := e.customerUser(a, "web@muster.example", "PORTAL_ACCESS")
	it, itContact := e.customerUser(a, "it@muster.example", "PORTAL_ACCESS")
	plain, _ := e.customerUser(a, "plain@muster.example", "PORTAL_ACCESS")
	e.ok(e.admin, grantDoc, map[string]any{"c": webContact, "k": "CREDENTIALS_WEBSERVER"})
	e.ok(e.admin, grantDoc, map[string]any{"c": itContact, "k": "CREDENTIALS_IT_GENERAL"})
	support := e.createUser("support@provider.example", "SUPPORT")

	// ---- resources: staff SUPPORT and ADMIN, RESOURCES_MANAGE holders.
	box := e.resource(support, a, "MAILBOX", " Info@Muster.example ")
	vhost := e.resource(e.admin, a, "WEB_VHOST", "muster.example")
	// Domains are the provider's to provision; a customer creates mailboxes
	// under its own mail domains only.
	r := e.wantCode(custAdmin, createResourceDoc, map[string]any{"a": a, "k": "MAIL_VHOST", "n": "muster.example"}, "FORBIDDEN")
	if r.Errors[0].Extensions["reason"] != "STAFF_PROVISIONED" {
		t.Fatalf("customer-made mail domain: %s", r.Raw)
	}
	e.wantCode(custAdmin, createResourceDoc, map[string]any{"a": a, "k": "MAILBOX", "n": "kontakt@muster.example"}, "FORBIDDEN")
	mailVhost := e.resource(e.admin, a, "MAIL_VHOST", "muster.example")
	e.resource(custAdmin, a, "MAILBOX", "kontakt@muster.example")
	e.wantCode(custAdmin, createResourceDoc, map[string]any{"a": a, "k": "MAILBOX", "n": "info@fremd.example"}, "FORBIDDEN")
	zone := e.resource(e.admin, a, "DNS_ZONE", "muster.example")
	foreignBox := e.resource(e.admin, b, "MAILBOX", "info@fremd.example")
	e.wantCode(plain, createResourceDoc, map[string]any{"a": a, "k": "DOMAIN", "n": "x.example"}, "FORBIDDEN")
	e.wantCode(web, createResourceDoc, map[string]any{"a": b, "k": "DOMAIN", "n": "x.example"}, "NOT_FOUND")
	e.wantCode("", createResourceDoc, map[string]any{"a": a, "k": "DOMAIN", "n": "x.example"}, "UNAUTHENTICATED")
	e.wantCode(e.admin, createResourceDoc, map[string]any{"a": a, "k": "MAILBOX", "n": "info@muster.example"}, "CONFLICT")
	for _, bad := range []struct{ kind, name string }{
		{"WEB_VHOST", "not a host"}, {"DOMAIN", "localhost"}, {"DNS_ZONE", "info@muster.example"},
		{"MAILBOX", "muster.example"}, {"MAIL_VHOST", "-x.example"}, {"SERVER", "with space"},
	} {
		r := e.wantCode(e.admin, createResourceDoc, map[string]any{"a": a, "k": bad.kind, "n": bad.name}, "BAD_USER_INPUT")
		if f := r.Errors[0].Extensions["field"]; f != "input.name" {
			t.Errorf("%s %q: field %v, want input.name", bad.kind, bad.name, f)
		}
	}
	// The customerAccount.resources edge needs RESOURCES_READ: SUPPORT
	// without consent sees none, a portal user sees them.
	resDoc := `query($n: String!) { customerAccount(number: $n) { resources { id } } }`
	if got := dig(e.ok(plain, resDoc, map[string]any{"n": "70001"}), "customerAccount", "resources").([]any); len(got) != 5 {
		t.Errorf("portal user sees %d resources, want 5", len(got))
	}
	if got, _ := dig(e.ok(support, resDoc, map[string]any{"n": "70001"}), "customerAccount", "resources").([]any); len(got) != 0 {
		t.Errorf("support without consent sees %d resources", len(got))
	}

	// ---- scoped logins by the matching credentials right.
	refs := []string{"ref@kunde.example"}
	webLogin := e.scopedLogin(web, vhost, "beisp015", refs...)
	e.wantCode(web, createScopedDoc, map[string]any{"r": box, "l": "info@muster.example", "p": scopedPw}, "FORBIDDEN")
	e.wantCode(web, createScopedDoc, map[string]any{"r": foreignBox, "l": "info@fremd.example", "p": scopedPw}, "NOT_FOUND")
	e.wantCode(plain, createScopedDoc, map[string]any{"r": box, "l": "info@muster.example", "p": scopedPw}, "FORBIDDEN")
	e.wantCode("", createScopedDoc, map[string]any{"r": box, "l": "info@muster.example", "p": scopedPw}, "UNAUTHENTICATED")
	for _, bad := range []struct{ res, login, field string }{
		{box, "sales@muster.example", "input.loginName"},
		{mailVhost, "admin@muster.example", "input.loginName"},
		{vhost, "Bad User", "input.loginName"},
		{zone, "www.muster.example", "input.loginName"},
	} {
		r := e.wantCode(it, createScopedDoc, map[string]any{"r": bad.res, "l": bad.login, "p": scopedPw}, "BAD_USER_INPUT")
		if f := r.Errors[0].Extensions["field"]; f != bad.field {
			t.Errorf("login %q: field %v, want %s", bad.login, f, bad.field)
		}
	}
	r = e.wantCode(it, createScopedDoc, map[string]any{"r": box, "l": "info@muster.example", "p": "short"}, "BAD_USER_INPUT")
	if f := r.Errors[0].Extensions["field"]; f != "input.password" {
		t.Errorf("weak password: field %v", f)
	}
	boxLogin := e.scopedLogin(it, box, "INFO@muster.example", refs...)
	pmLogin := e.scopedLogin(it, mailVhost, "postmaster@muster.example", "pm-ref@kunde.example")
	e.scopedLogin(custAdmin, zone, "muster.example")
	e.wantCode(it, createScopedDoc, map[string]any{"r": vhost, "l": "beisp015", "p": scopedPw}, "CONFLICT")
	if acts := e.auditActions(boxLogin); !hasAction(acts, "scoped_login.create") {
		t.Errorf("audit of the mailbox login: %v", acts)
	}
	if strings.Contains(e.logs.String(), scopedPw) {
		t.Error("the password reached the log")
	}

	// ---- the mailbox login sees its mailbox and nothing else.
	tok := e.loginScoped("info@muster.example", scopedPw)
	me := e.ok(tok, `{ me { kind user { id } memberships { permissions } scopedLogin { id loginName resource { id kind name } } } }`, nil)
	if dig(me, "me", "kind") != "SCOPED_LOGIN" || dig(me, "me", "scopedLogin", "loginName") != "info@muster.example" ||
		dig(me, "me", "scopedLogin", "resource", "kind") != "MAILBOX" || dig(me, "me", "scopedLogin", "resource", "id") != box ||
		dig(me, "me", "user") != nil || len(dig(me, "me", "memberships").([]any)) != 0 {
		t.Fatalf("me of the scoped login: %v", me)
	}
	nodeDoc := `query($id: ID!) { node(id: $id) { id } }`
	for _, own := range []string{box, boxLogin} {
		if dig(e.ok(tok, nodeDoc, map[string]any{"id": own}), "node", "id") != own {
			t.Errorf("the scoped login does not see its own %s", own)
		}
	}
	for _, other := range []string{vhost, mailVhost, zone, foreignBox, webLogin, pmLogin, a, webContact} {
		e.wantCode(tok, nodeDoc, map[string]any{"id": other}, "NOT_FOUND")
	}
	// Edges from its own rows lead nowhere else.
	d := e.ok(tok, `query($id: ID!) { node(id: $id) { ... on Resource { scopedLogins { id } } } }`, map[string]any{"id": box})
	if ls := dig(d, "node", "scopedLogins").([]any); len(ls) != 1 || dig(ls[0], "id") != boxLogin {
		t.Errorf("scopedLogins of its resource: %v", ls)
	}
	e.wantCode(tok, `query($id: ID!) { node(id: $id) { ... on Resource { customerAccount { id } } } }`, map[string]any{"id": box}, "NOT_FOUND")
	for _, doc := range []string{
		`{ customerAccount(number: "70001") { id } }`,
		`{ customerAccounts(first: 5) { totalCount } }`,
		`{ auditEvents(first: 5) { totalCount } }`,
		`{ mySessions { id } }`,
		`mutation { linkContacts }`,
		`mutation { startTotpEnrollment { secret } }`,
	} {
		e.wantCode(tok, doc, nil, "FORBIDDEN")
	}
	e.wantCode(tok, `query($a: ID!) { invitations(customerAccountID: $a) { id } }`, map[string]any{"a": a}, "NOT_FOUND")
	e.wantCode(tok, `query($a: ID!) { myPermissions(customerAccountID: $a) }`, map[string]any{"a": a}, "FORBIDDEN")
	e.wantCode(tok, createScopedDoc, map[string]any{"r": box, "l": "x@muster.example", "p": scopedPw}, "NOT_FOUND")
	e.wantCode(tok, createResourceDoc, map[string]any{"a": a, "k": "DOMAIN", "n": "y.example"}, "NOT_FOUND")
	e.wantCode(tok, `mutation($s: ID!) { disableScopedLogin(scopedLoginID: $s) { id } }`, map[string]any{"s": boxLogin}, "NOT_FOUND")

	// ---- a user login with the same name is another login.
	e.wantCode("", `mutation { login(input: {login: "info@muster.example", password: "Postfach-Lagune-Regatta-7"}) { accessToken } }`, nil, "UNAUTHENTICATED")

	// ---- its own password: changePassword; the old one stops working.
	newPw := secrets.add("Kormoran-Flussbett-Anker-9")
	e.ok(tok, `mutation($c: String!, $n: String!) { changePassword(input: {currentPassword: $c, newPassword: $n}) }`,
		map[string]any{"c": scopedPw, "n": newPw})
	e.wantCode("", scopedLoginDoc, map[string]any{"l": "info@muster.example", "p": scopedPw}, "UNAUTHENTICATED")
	tok = e.loginScoped("info@muster.example", newPw)
	if !hasAction(e.auditActions(boxLogin), "password.changed") {
		t.Error("password change not audited")
	}
	// Refresh and logout work for scoped sessions.
	d = e.ok("", scopedLoginDoc, map[string]any{"l": "info@muster.example", "p": newPw})
	refresh := secrets.add(dig(d, "login", "refreshToken").(string))
	d = e.ok("", `mutation($r: String!) { refreshSession(refreshToken: $r) { accessToken } }`, map[string]any{"r": refresh})
	refreshed := secrets.add(dig(d, "refreshSession", "accessToken").(string))
	if dig(e.ok(refreshed, `{ me { kind } }`, nil), "me", "kind") != "SCOPED_LOGIN" {
		t.Error("a refreshed scoped session is not a scoped login")
	}
	e.ok(refreshed, `mutation { logout }`, nil)
	e.wantCode(refreshed, `{ me { kind } }`, nil, "UNAUTHENTICATED")

	// ---- a manager sets the password: sessions end.
	managerPw := secrets.add("Seeadler-Brandung-Mole-3")
	e.ok(it, `mutation($s: ID!, $p: String!) { changeScopedLoginPassword(input: {scopedLoginID: $s, newPassword: $p}) { id } }`,
		map[string]any{"s": boxLogin, "p": managerPw})
	e.wantCode(tok, `{ me { kind } }`, nil, "UNAUTHENTICATED")
	e.wantCode(web, `mutation($s: ID!, $p: String!) { changeScopedLoginPassword(input: {scopedLoginID: $s, newPassword: $p}) { id } }`,
		map[string]any{"s": boxLogin, "p": managerPw}, "FORBIDDEN")
	tok = e.loginScoped("info@muster.example", managerPw)

	// ---- reset routing.
	resetDoc := `mutation($l: String!) { requestPasswordReset(login: $l, kind: SCOPED_LOGIN) }`
	e.ok("", resetDoc, map[string]any{"l": "info@muster.example"})
	m1 := e.mailAbout("ref@kunde.example", "Zurücksetzen")
	m2 := e.mailAbout("info@muster.example", "Zurücksetzen")
	if !strings.Contains(m1.Body, "info@muster.example") || e.linkTokenIn(m1) != e.linkTokenIn(m2) {
		t.Errorf("mailbox reset: %s / %s", m1.Body, m2.Body)
	}
	// The mailbox's link sets a new password and ends its sessions.
	resetPw := secrets.add("Leuchtturm-Priel-Watt-5")
	e.ok("", `mutation($t: String!, $p: String!) { resetPassword(input: {token: $t, newPassword: $p}) }`,
		map[string]any{"t": e.linkTokenIn(m1), "p": resetPw})
	e.wantCode(tok, `{ me { kind } }`, nil, "UNAUTHENTICATED")
	tok = e.loginScoped("info@muster.example", resetPw)
	e.wantCode("", `mutation($t: String!, $p: String!) { resetPassword(input: {token: $t, newPassword: $p}) }`,
		map[string]any{"t": e.linkTokenIn(m2), "p": "Leuchtturm-Priel-Watt-6"}, "BAD_USER_INPUT")
	e.ok("", resetDoc, map[string]any{"l": "postmaster@muster.example"})
	e.mailTo("pm-ref@kunde.example")
	e.mailTo("postmaster@muster.example")
	e.clock.Advance(time.Hour) // the per-address reset limit
	// Access tokens live 15 minutes: log in again.
	e.admin = e.login("admin@example.com", adminPassword)
	custAdmin = e.login("chefin@muster.example", adminPassword)
	web = e.login("web@muster.example", adminPassword)
	e.ok("", resetDoc, map[string]any{"l": "beisp015"})
	webReset := e.mailAbout("ref@kunde.example", "Zurücksetzen")
	if !strings.Contains(webReset.Body, "beisp015") {
		t.Errorf("web reset mail: %s", webReset.Body)
	}
	// Unknown logins answer the same; the zone login has no reference
	// address and gets nothing.
	e.ok("", resetDoc, map[string]any{"l": "nobody@muster.example"})
	e.ok("", resetDoc, map[string]any{"l": "muster.example"})
	tok = e.loginScoped("info@muster.example", resetPw)
	if acts := e.auditActions(boxLogin); !hasAction(acts, "password.reset_requested") || !hasAction(acts, "password.reset") {
		t.Errorf("reset not audited: %v", acts)
	}

	// ---- the reference address changes only once confirmed.
	changeRef := `mutation($e: String!, $p: String!) { requestReferenceEmailChange(input: {newEmail: $e, password: $p}) }`
	e.wantCode(tok, changeRef, map[string]any{"e": "neu@kunde.example", "p": "wrong-password-1"}, "BAD_USER_INPUT")
	// A user's request sets the user's own reference address (userref_test.go),
	// never a scoped login's.
	e.ok(custAdmin, changeRef, map[string]any{"e": "chefin-ref@kunde.example", "p": adminPassword})
	e.ok(tok, changeRef, map[string]any{"e": "Neu@Kunde.example", "p": resetPw})
	refsDoc := `{ me { scopedLogin { referenceEmails } } }`
	if got := dig(e.ok(tok, refsDoc, nil), "me", "scopedLogin", "referenceEmails").([]any); len(got) != 1 || got[0] != "ref@kunde.example" {
		t.Errorf("reference changed before confirmation: %v", got)
	}
	confirm := e.mailTo("neu@kunde.example")
	e.ok("", `mutation($t: String!) { confirmReferenceEmail(token: $t) }`, map[string]any{"t": e.linkTokenIn(confirm)})
	if got := dig(e.ok(tok, refsDoc, nil), "me", "scopedLogin", "referenceEmails").([]any); len(got) != 1 || got[0] != "neu@kunde.example" {
		t.Errorf("reference after confirmation: %v", got)
	}
	e.wantCode("", `mutation($t: String!) { confirmReferenceEmail(token: $t) }`, map[string]any{"t": e.linkTokenIn(confirm)}, "BAD_USER_INPUT")
	if !hasAction(e.auditActions(boxLogin), "scoped_login.reference_email_changed") {
		t.Error("reference change not audited")
	}

	// ---- disable, enable, delete.
	statusDoc := `mutation($s: ID!) { %s(scopedLoginID: $s) { status } }`
	e.ok(web, strings.Replace(statusDoc, "%s", "disableScopedLogin", 1), map[string]any{"s": webLogin})
	e.wantCode("", scopedLoginDoc, map[string]any{"l": "beisp015", "p": scopedPw}, "UNAUTHENTICATED")
	e.ok(web, strings.Replace(statusDoc, "%s", "enableScopedLogin", 1), map[string]any{"s": webLogin})
	e.loginScoped("beisp015", scopedPw)
	e.ok(web, strings.Replace(statusDoc, "%s", "deleteScopedLogin", 1), map[string]any{"s": webLogin})
	e.wantCode(web, strings.Replace(statusDoc, "%s", "enableScopedLogin", 1), map[string]any{"s": webLogin}, "BAD_USER_INPUT")
	e.wantCode(web, createScopedDoc, map[string]any{"r": vhost, "l": "beisp015", "p": scopedPw}, "CONFLICT")

	// ---- deactivating the account blocks its scoped logins at once.
	e.ok(e.admin, `mutation($a: ID!) { deactivateCustomerAccount(customerAccountID: $a) { id } }`, map[string]any{"a": a})
	e.wantCode(tok, `{ me { kind } }`, nil, "UNAUTHENTICATED")
	e.wantCode("", scopedLoginDoc, map[string]any{"l": "info@muster.example", "p": resetPw}, "UNAUTHENTICATED")
	e.ok(e.admin, `mutation($a: ID!) { reactivateCustomerAccount(customerAccountID: $a) { id } }`, map[string]any{"a": a})
	e.loginScoped("info@muster.example", resetPw)
}
