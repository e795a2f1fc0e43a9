package graph_test

import (
	"strings"
	"testing"
	"time"

	"portier/internal/outbox/smtpsink"
)

// A user's reference e-mail address (issue 9 item 3): set with
// requestReferenceEmailChange, confirmed with confirmReferenceEmail, removed
// with removeReferenceEmail; reset links go to the e-mail address and the
// confirmed reference address.

const (
	userRefRequestDoc = `mutation($e: String!, $p: String!) { requestReferenceEmailChange(input: {newEmail: $e, password: $p}) }`
	userRefConfirmDoc = `mutation($t: String!) { confirmReferenceEmail(token: $t) }`
	userRefRemoveDoc  = `mutation($p: String!) { removeReferenceEmail(password: $p) }`
	userRefMeDoc      = `{ me { user { id referenceEmail referenceEmailConfirmedAt } } }`
	userRefResetDoc   = `mutation($l: String!) { requestPasswordReset(login: $l) }`
	userRefNewPwDoc   = `mutation($t: String!, $p: String!) { resetPassword(input: {token: $t, newPassword: $p}) }`
)

// mailsTo counts the mails delivered to addr so far whose subject contains
// subject, after giving the outbox worker a moment.
func (e *env) mailsTo(addr, subject string) int {
	e.t.Helper()
	time.Sleep(300 * time.Millisecond)
	n := 0
	for _, m := range e.mail.Messages() {
		for _, to := range m.To {
			if strings.EqualFold(to, addr) && strings.Contains(m.Subject, subject) {
				n++
			}
		}
	}
	return n
}

// setUserReference sets and confirms addr as tok's reference address and
// returns the confirmation mail.
func (e *env) setUserReference(tok, pw, addr string) smtpsink.Mail {
	e.t.Helper()
	e.ok(tok, userRefRequestDoc, map[string]any{"e": addr, "p": pw})
	m := e.mailAbout(addr, "Referenz-E-Mail")
	e.ok("", userRefConfirmDoc, map[string]any{"t": e.linkTokenIn(m)})
	return m
}

func TestUserReferenceEmailSetConfirmAndReset(t *testing.T) {
	e := newEnv(t)
	acct := e.createAccount("95101")
	tok, contact := e.customerUser(acct, "chefin@a.example", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	other, _ := e.customerUser(acct, "zweite@a.example", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	uid := dig(e.ok(tok, userRefMeDoc, nil), "me", "user", "id").(string)

	// Bad input: the format before the password, the own address, a wrong password.
	r := e.wantCode(tok, userRefRequestDoc, map[string]any{"e": "not an address", "p": adminPassword}, "BAD_USER_INPUT")
	wantField(t, r, "input.newEmail")
	r = e.wantCode(tok, userRefRequestDoc, map[string]any{"e": "Chefin@a.example", "p": adminPassword}, "BAD_USER_INPUT")
	wantField(t, r, "input.newEmail")
	r = e.wantCode(tok, userRefRequestDoc, map[string]any{"e": "ref@example.org", "p": "wrong-password-1"}, "BAD_USER_INPUT")
	wantField(t, r, "input.password")
	if n := e.mailsTo("ref@example.org", ""); n != 0 {
		t.Fatalf("refused requests sent %d mails", n)
	}

	// Requested: a link to the new address only, nothing changes yet.
	e.ok(tok, userRefRequestDoc, map[string]any{"e": " Ref@Example.org ", "p": adminPassword})
	confirm := e.mailTo("ref@example.org")
	if !strings.Contains(confirm.Subject, "Referenz-E-Mail") || !strings.Contains(confirm.Body, "chefin_a_example") {
		t.Fatalf("confirmation mail: %s / %s", confirm.Subject, confirm.Body)
	}
	ctok := e.linkTokenIn(confirm)
	if d := e.ok(tok, userRefMeDoc, nil); dig(d, "me", "user", "referenceEmail") != nil {
		t.Fatalf("reference set before confirmation: %v", d)
	}
	// An unconfirmed reference address gets no reset link.
	e.ok("", userRefResetDoc, map[string]any{"l": "chefin@a.example"})
	e.mailAbout("chefin@a.example", "Zurücksetzen")
	if n := e.mailsTo("ref@example.org", "Zurücksetzen"); n != 0 {
		t.Fatalf("unconfirmed reference address got %d reset mails", n)
	}

	// Confirmed, once; the e-mail address is told, without the link.
	e.ok("", userRefConfirmDoc, map[string]any{"t": ctok})
	r = e.wantCode("", userRefConfirmDoc, map[string]any{"t": ctok}, "BAD_USER_INPUT")
	wantField(t, r, "token")
	notice := e.mailAbout("chefin@a.example", "Referenz-E-Mail")
	if !strings.Contains(notice.Body, "ref@example.org") || strings.Contains(notice.Body, "token=") || strings.Contains(notice.Body, ctok) {
		t.Fatalf("notice: %s", notice.Body)
	}
	d := e.ok(tok, userRefMeDoc, nil)
	if dig(d, "me", "user", "referenceEmail") != "ref@example.org" || dig(d, "me", "user", "referenceEmailConfirmedAt") == nil {
		t.Fatalf("after confirmation: %v", d)
	}
	// The user itself and staff read it; another customer admin does not.
	userDoc := `query($c: ID!) { node(id: $c) { ... on Contact { user { email referenceEmail referenceEmailConfirmedAt } } } }`
	d = e.ok(other, userDoc, map[string]any{"c": contact})
	if dig(d, "node", "user", "email") != "chefin@a.example" || dig(d, "node", "user", "referenceEmail") != nil || dig(d, "node", "user", "referenceEmailConfirmedAt") != nil {
		t.Fatalf("customer admin reads the reference address: %v", d)
	}
	if d = e.ok(e.admin, userDoc, map[string]any{"c": contact}); dig(d, "node", "user", "referenceEmail") != "ref@example.org" {
		t.Fatalf("staff: %v", d)
	}

	// The reference address is no login: a reset asked for it answers the
	// same and sends nothing; it does not log in either.
	e.ok("", userRefResetDoc, map[string]any{"l": "ref@example.org"})
	e.wantCode("", `mutation($l: String!, $p: String!) { login(input: {login: $l, password: $p}) { accessToken } }`,
		map[string]any{"l": "ref@example.org", "p": adminPassword}, "UNAUTHENTICATED")

	// The reset link reaches both mailboxes, and works once.
	e.ok("", userRefResetDoc, map[string]any{"l": "chefin@a.example"})
	m1 := e.mailAbout("chefin@a.example", "Zurücksetzen")
	m2 := e.mailAbout("ref@example.org", "Zurücksetzen")
	if e.linkTokenIn(m1) != e.linkTokenIn(m2) {
		t.Fatal("the two mails carry different links")
	}
	if n := e.mailsTo("ref@example.org", "Zurücksetzen"); n != 1 {
		t.Fatalf("reference address got %d reset mails, want 1 (the request by the reference address must send none)", n)
	}
	newPw := secrets.add("Kranich-Deich-Marsch-71")
	e.ok("", userRefNewPwDoc, map[string]any{"t": e.linkTokenIn(m2), "p": newPw})
	r = e.wantCode("", userRefNewPwDoc, map[string]any{"t": e.linkTokenIn(m1), "p": "Kranich-Deich-Marsch-72"}, "BAD_USER_INPUT")
	wantField(t, r, "token")
	e.wantCode(tok, userRefMeDoc, nil, "UNAUTHENTICATED") // the reset ended the sessions
	e.login("chefin@a.example", newPw)

	// Audited (addresses in clear, never a token), read back as staff.
	acts := e.auditActions(uid)
	for _, a := range []string{"user.reference_email_change_requested", "user.reference_email_changed", "password.reset_requested", "password.reset"} {
		if !hasAction(acts, a) {
			t.Errorf("no %s in %v", a, acts)
		}
	}
	raw := e.do(e.admin, `query($t: String!) { auditEvents(first: 100, where: {targetID: $t}) { edges { node { action changes { field value } } } } }`,
		map[string]any{"t": uid}).Raw
	if !strings.Contains(raw, "ref@example.org") || strings.Contains(raw, ctok) || strings.Contains(raw, e.linkTokenIn(m1)) {
		t.Fatalf("audit: %s", raw)
	}
}

func TestUserReferenceEmailDenied(t *testing.T) {
	e := newEnv(t)
	acct := e.createAccount("95102")
	tok, _ := e.customerUser(acct, "verweigert@a.example", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	key, _ := e.createKey(tok, acct, []string{"ACCOUNT_READ", "CONTACTS_READ"}, e.clock.Now().Add(24*time.Hour))
	for name, d := range map[string]struct {
		doc  string
		vars map[string]any
	}{
		"request": {userRefRequestDoc, map[string]any{"e": "key-ref@example.org", "p": adminPassword}},
		"remove":  {userRefRemoveDoc, map[string]any{"p": adminPassword}},
	} {
		e.wantCode("", d.doc, d.vars, "UNAUTHENTICATED")
		if r := e.wantCode(key, d.doc, d.vars, "FORBIDDEN"); r.Errors[0].Extensions["reason"] != "API_KEY_NOT_ALLOWED" {
			t.Fatalf("%s by key: %s", name, r.Raw)
		}
	}
	if n := e.mailsTo("key-ref@example.org", ""); n != 0 {
		t.Fatalf("a refused request sent %d mails", n)
	}
	r := e.wantCode("", userRefConfirmDoc, map[string]any{"t": "not-a-token"}, "BAD_USER_INPUT")
	wantField(t, r, "token")

	// A newer request voids the older link; a link expires after 24 hours.
	e.ok(tok, userRefRequestDoc, map[string]any{"e": "erste@example.org", "p": adminPassword})
	first := e.linkTokenIn(e.mailTo("erste@example.org"))
	e.ok(tok, userRefRequestDoc, map[string]any{"e": "zweite@example.org", "p": adminPassword})
	second := e.linkTokenIn(e.mailTo("zweite@example.org"))
	e.wantCode("", userRefConfirmDoc, map[string]any{"t": first}, "BAD_USER_INPUT")
	e.clock.Advance(25 * time.Hour)
	e.wantCode("", userRefConfirmDoc, map[string]any{"t": second}, "BAD_USER_INPUT")
	tok = e.login("verweigert@a.example", adminPassword)
	if d := e.ok(tok, userRefMeDoc, nil); dig(d, "me", "user", "referenceEmail") != nil {
		t.Fatalf("a void link set the address: %v", d)
	}

	// Links to one address are limited, whoever asks.
	for i := 0; i < 5; i++ {
		e.clock.Advance(time.Minute)
		u := e.createUser("flut"+string(rune('a'+i))+"@a.example", "")
		e.ok(u, userRefRequestDoc, map[string]any{"e": "opfer@example.org", "p": adminPassword})
	}
	u := e.createUser("flutz@a.example", "")
	e.wantCode(u, userRefRequestDoc, map[string]any{"e": "opfer@example.org", "p": adminPassword}, "RATE_LIMITED")

	// Two credential fields in one request are refused.
	r = e.wantCode(tok, `mutation { a: removeReferenceEmail(password: "x-wrong-password") b: removeReferenceEmail(password: "y-wrong-password") }`, nil, "BAD_USER_INPUT")
	if !strings.Contains(r.Errors[0].Message, "at most one") {
		t.Fatalf("batched: %s", r.Raw)
	}
}

func TestUserReferenceEmailRemove(t *testing.T) {
	e := newEnv(t)
	acct := e.createAccount("95103")
	tok, _ := e.customerUser(acct, "entfernen@a.example", "PORTAL_ACCESS")
	uid := dig(e.ok(tok, userRefMeDoc, nil), "me", "user", "id").(string)
	r := e.wantCode(tok, userRefRemoveDoc, map[string]any{"p": adminPassword}, "BAD_USER_INPUT") // none set
	e.setUserReference(tok, adminPassword, "weg@example.org")
	e.mailAbout("entfernen@a.example", "Referenz-E-Mail")

	r = e.wantCode(tok, userRefRemoveDoc, map[string]any{"p": "wrong-password-1"}, "BAD_USER_INPUT")
	wantField(t, r, "password")
	e.ok(tok, userRefRemoveDoc, map[string]any{"p": adminPassword})
	notice := e.mailAbout("entfernen@a.example", "Referenz-E-Mail")
	if !strings.Contains(notice.Body, "entfernt") {
		t.Fatalf("removal notice: %s", notice.Body)
	}
	if d := e.ok(tok, userRefMeDoc, nil); dig(d, "me", "user", "referenceEmail") != nil || dig(d, "me", "user", "referenceEmailConfirmedAt") != nil {
		t.Fatalf("after removal: %v", d)
	}
	e.ok("", userRefResetDoc, map[string]any{"l": "entfernen@a.example"})
	reset := e.mailAbout("entfernen@a.example", "Zurücksetzen")
	if n := e.mailsTo("weg@example.org", "Zurücksetzen"); n != 0 {
		t.Fatalf("removed reference address got %d reset mails", n)
	}
	e.wantCode(tok, userRefRemoveDoc, map[string]any{"p": adminPassword}, "BAD_USER_INPUT")

	// Removing voids a pending link. (Password checks are limited per
	// user: let their window pass, and log in again.)
	e.clock.Advance(16 * time.Minute)
	tok = e.login("entfernen@a.example", adminPassword)
	e.admin = e.login("admin@example.com", adminPassword)
	e.ok(tok, userRefRequestDoc, map[string]any{"e": "spaeter@example.org", "p": adminPassword})
	pending := e.linkTokenIn(e.mailTo("spaeter@example.org"))
	e.ok(tok, userRefRemoveDoc, map[string]any{"p": adminPassword})
	e.wantCode("", userRefConfirmDoc, map[string]any{"t": pending}, "BAD_USER_INPUT")

	// A new password voids a pending link too (someone who knew the old
	// password cannot finish adding his address).
	e.ok(tok, userRefRequestDoc, map[string]any{"e": "dieb@example.org", "p": adminPassword})
	pending = e.linkTokenIn(e.mailTo("dieb@example.org"))
	e.ok("", userRefNewPwDoc, map[string]any{"t": e.linkTokenIn(reset), "p": secrets.add("Haubentaucher-Reet-88")})
	e.wantCode("", userRefConfirmDoc, map[string]any{"t": pending}, "BAD_USER_INPUT")

	acts := e.auditActions(uid)
	if !hasAction(acts, "user.reference_email_removed") {
		t.Errorf("removal not audited: %v", acts)
	}
}

// With two-factor login on, setting a reference address needs a second
// factor proven in the last 15 minutes, like every credential change.
func TestUserReferenceEmailNeedsFreshSecondFactor(t *testing.T) {
	e := newEnv(t)
	addr := "zweifaktor@a.example"
	tok := e.createUser(addr, "")
	e.ok(tok, `mutation { requestSecondFactorCode(method: EMAIL_CODE) }`, nil)
	code := e.codeIn(e.mailAbout(addr, "Anmeldecode").Body)
	e.ok(tok, `mutation($c: String!, $p: String) { enableTwoFactor(input: {method: EMAIL_CODE, code: $c, password: $p}) { methods } }`,
		map[string]any{"c": code, "p": adminPassword})

	d := e.ok("", loginFullDoc, map[string]any{"l": addr, "p": adminPassword})
	ch := dig(d, "login", "challenge", "id").(string)
	code = e.codeIn(e.mailAbout(addr, "Anmeldecode").Body)
	d = e.ok("", verify2FADoc, map[string]any{"c": ch, "m": "EMAIL_CODE", "code": code})
	refresh := secrets.add(dig(d, "verifySecondFactor", "refreshToken").(string))
	e.clock.Advance(16 * time.Minute)
	d = e.ok("", refreshDoc, map[string]any{"r": refresh})
	tok = secrets.add(dig(d, "refreshSession", "accessToken").(string))

	r := e.wantCode(tok, userRefRequestDoc, map[string]any{"e": "frisch@example.org", "p": adminPassword}, "FORBIDDEN")
	if r.Errors[0].Extensions["reason"] != "FRESH_SECOND_FACTOR_REQUIRED" {
		t.Fatalf("reason: %s", r.Raw)
	}
	if n := e.mailsTo("frisch@example.org", ""); n != 0 {
		t.Fatalf("a refused request sent %d mails", n)
	}
	e.ok(tok, `mutation { requestSecondFactorCode(method: EMAIL_CODE) }`, nil)
	code = e.codeIn(e.mailAbout(addr, "Anmeldecode").Body)
	e.ok(tok, `mutation($c: String!) { confirmSecondFactor(input: {method: EMAIL_CODE, code: $c}) }`, map[string]any{"c": code})
	e.setUserReference(tok, adminPassword, "frisch@example.org")
	if d := e.ok(tok, userRefMeDoc, nil); dig(d, "me", "user", "referenceEmail") != "frisch@example.org" {
		t.Fatalf("after a fresh second factor: %v", d)
	}
}
