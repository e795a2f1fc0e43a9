package graph_test

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"portier/ent/useraccount"
	"portier/internal/outbox/smtpsink"
	"portier/internal/password"
	"portier/internal/viewer"
)

const (
	signUpDoc = `mutation($e: String!, $u: String!, $p: String!, $l: String) {
		signUp(input: {email: $e, username: $u, name: "Erika Mustermann", password: $p, locale: $l}) { accepted } }`
	verifyEmailDoc = `mutation($t: String!, $p: String) { verifyEmail(token: $t, password: $p) }`
	loginFullDoc   = `mutation($l: String!, $p: String!) { login(input: {login: $l, password: $p}) {
		accessToken refreshToken expiresAt challenge { id methods expiresAt } } }`
	verify2FADoc = `mutation($c: ID!, $m: SecondFactorMethod!, $code: String!) {
		verifySecondFactor(input: {challengeID: $c, method: $m, code: $code}) { accessToken refreshToken expiresAt challenge { id } } }`
	refreshDoc = `mutation($r: String!) { refreshSession(refreshToken: $r) { accessToken refreshToken expiresAt } }`
)

var (
	linkToken = regexp.MustCompile(`https://portal\.example/[a-z-]+\?token=([A-Za-z0-9_%-]+)`)
	fiveDigit = regexp.MustCompile(`\b(\d{5})\b`)
)

// mailTo waits for the next mail to addr.
func (e *env) mailTo(addr string) smtpsink.Mail {
	e.t.Helper()
	m, err := e.mail.WaitFor(addr, 5*time.Second)
	if err != nil {
		e.t.Fatalf("mail to %s: %v", addr, err)
	}
	return m
}

// linkTokenIn extracts the token of the link in a mail, and records it as a secret.
func (e *env) linkTokenIn(m smtpsink.Mail) string {
	e.t.Helper()
	g := linkToken.FindStringSubmatch(m.Body)
	if g == nil {
		e.t.Fatalf("no link with the public URL in mail %q: %s", m.Subject, m.Body)
	}
	tok, err := url.QueryUnescape(g[1])
	if err != nil {
		e.t.Fatal(err)
	}
	return secrets.add(tok)
}

func (e *env) codeIn(body string) string {
	e.t.Helper()
	g := fiveDigit.FindStringSubmatch(body)
	if g == nil {
		e.t.Fatalf("no 5-digit code in %q", body)
	}
	return secrets.add(g[1])
}

// signUpVerified signs a user up through the API, verifies the e-mail with
// the mailed link and logs in; it returns the access token.
func (e *env) signUpVerified(email, username, pw string) string {
	e.t.Helper()
	secrets.add(pw)
	e.ok("", signUpDoc, map[string]any{"e": email, "u": username, "p": pw})
	tok := e.linkTokenIn(e.mailTo(email))
	e.ok("", verifyEmailDoc, map[string]any{"t": tok, "p": pw})
	return e.loginTokens(email, pw)["accessToken"].(string)
}

// loginTokens logs in without second factor and returns the payload.
func (e *env) loginTokens(login, pw string) map[string]any {
	e.t.Helper()
	d := e.ok("", loginFullDoc, map[string]any{"l": login, "p": pw})
	p := dig(d, "login").(map[string]any)
	if p["accessToken"] == nil {
		e.t.Fatalf("no tokens: %v", p)
	}
	secrets.add(p["accessToken"].(string))
	secrets.add(p["refreshToken"].(string))
	return p
}

func TestSignUpAndVerifyEmail(t *testing.T) {
	e := newEnv(t)
	pw := secrets.add("Wanderlust-Fjord-2026")
	acct := e.createAccount("90001")
	// A contact exists for the address before the person has a login (flow 5).
	contact := e.createContact(e.admin, acct, "Erika", "erika@example.org", "PORTAL_ACCESS", "TECHNICAL_CONTACT")

	// Bad input names the field.
	for _, tc := range []struct{ email, user, pw, field string }{
		{"not-an-email", "erika", pw, "input.email"},
		{"erika@example.org", "x", pw, "input.username"},
		{"erika@example.org", "erika", "short", "input.password"},
		{"erika@example.org", "erika", "password1234", "input.password"},
		{"erika@example.org", "erika", "erika@example.org", "input.password"},
	} {
		r := e.wantCode("", signUpDoc, map[string]any{"e": tc.email, "u": tc.user, "p": tc.pw}, "BAD_USER_INPUT")
		if r.Errors[0].Extensions["field"] != tc.field {
			t.Errorf("%+v: field %v", tc, r.Errors[0].Extensions["field"])
		}
	}
	// 64 characters are accepted.
	long := secrets.add(strings.Repeat("Lang-Passwort-", 5)[:64])
	e.ok("", signUpDoc, map[string]any{"e": " Erika@Example.org ", "u": "Erika", "p": long})
	m := e.mailTo("erika@example.org")
	if !strings.Contains(m.Subject, "E-Mail-Adresse") {
		t.Fatalf("not the German verification mail: %q", m.Subject)
	}
	tok := e.linkTokenIn(m)

	// The same username again: the same answer; nothing is created, and the
	// address given is told to choose another username.
	e.ok("", signUpDoc, map[string]any{"e": "other@example.org", "u": "ERIKA", "p": pw})
	if m := e.mailTo("other@example.org"); !strings.Contains(m.Body, "erika") || linkToken.MatchString(m.Body) {
		t.Fatalf("username-taken note: %s", m.Body)
	}
	ctx := viewer.SystemContext(context.Background())
	if n, _ := e.client.UserAccount.Query().Where(useraccount.PendingEmail("erika@example.org")).Count(ctx); n != 1 {
		t.Fatalf("%d accounts claim the address", n)
	}

	// Unverified: may log in, but acts for no customer account.
	access := e.loginTokens("erika", long)["accessToken"].(string)
	if got := permsOn(e, access, "90001"); len(got) != 0 {
		t.Fatalf("unverified user has permissions %v", got)
	}
	e.wantCode(access, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": contact}, "NOT_FOUND")

	// Verify: the link alone is not enough, it also needs the account
	// (its session or password); it works once; the contact is linked;
	// access follows.
	r := e.wantCode("", verifyEmailDoc, map[string]any{"t": tok}, "BAD_USER_INPUT")
	if r.Errors[0].Extensions["field"] != "password" {
		t.Fatalf("field: %s", r.Raw)
	}
	e.wantCode("", verifyEmailDoc, map[string]any{"t": tok, "p": pw}, "BAD_USER_INPUT")
	e.ok(access, verifyEmailDoc, map[string]any{"t": tok})
	e.wantCode("", verifyEmailDoc, map[string]any{"t": tok, "p": long}, "BAD_USER_INPUT")
	e.wantCode("", verifyEmailDoc, map[string]any{"t": "garbage-token"}, "BAD_USER_INPUT")
	access = e.loginTokens("erika@example.org", long)["accessToken"].(string)
	if got := permsOn(e, access, "90001"); !has(got, "TICKETS_CREATE") {
		t.Fatalf("verified user's permissions: %v", got)
	}
	d := e.ok(access, `{ me { user { emailVerifiedAt username email } } }`, nil)
	if dig(d, "me", "user", "emailVerifiedAt") == nil || dig(d, "me", "user", "username") != "erika" {
		t.Fatalf("me: %v", d)
	}
}

func TestVerificationLinkExpires(t *testing.T) {
	e := newEnv(t)
	pw := secrets.add("Nordlicht-Kompass-77")
	e.ok("", signUpDoc, map[string]any{"e": "late@example.org", "u": "late", "p": pw, "l": "en"})
	m := e.mailTo("late@example.org")
	if !strings.Contains(m.Subject, "confirm") && !strings.Contains(m.Subject, "verify") && !strings.Contains(strings.ToLower(m.Subject), "e-mail") {
		t.Fatalf("not the English verification mail: %q", m.Subject)
	}
	tok := e.linkTokenIn(m)
	e.clock.Set(testEpoch.Add(24*time.Hour + time.Minute))
	e.wantCode("", verifyEmailDoc, map[string]any{"t": tok}, "BAD_USER_INPUT")
}

func TestEmailChange(t *testing.T) {
	e := newEnv(t)
	pw := "Kastanienallee-42b"
	access := e.signUpVerified("old@example.org", "changer", pw)
	doc := `mutation($n: String!, $p: String!) { requestEmailChange(input: {newEmail: $n, password: $p}) }`
	r := e.wantCode(access, doc, map[string]any{"n": "new@example.org", "p": "wrong password here"}, "BAD_USER_INPUT")
	if r.Errors[0].Extensions["field"] != "input.password" {
		t.Fatalf("field: %s", r.Raw)
	}
	e.ok(access, doc, map[string]any{"n": "New@Example.org", "p": pw})
	tok := e.linkTokenIn(e.mailTo("new@example.org"))
	notice := e.mailTo("old@example.org")
	if !strings.Contains(notice.Body, "new@example.org") {
		t.Fatalf("the old address was not told: %s", notice.Body)
	}
	// Nothing changes before the new address is verified.
	e.loginTokens("old@example.org", pw)
	e.ok(access, verifyEmailDoc, map[string]any{"t": tok})
	e.loginTokens("new@example.org", pw)
	e.wantCode("", loginFullDoc, map[string]any{"l": "old@example.org", "p": pw}, "UNAUTHENTICATED")
	// The old address stays used: a sign-up with it creates nothing.
	e.ok("", signUpDoc, map[string]any{"e": "old@example.org", "u": "newcomer", "p": "Wasserfall-Klippe-64"})
	ctx := viewer.SystemContext(context.Background())
	if n, _ := e.client.UserAccount.Query().Where(useraccount.Email("old@example.org")).Count(ctx); n != 0 {
		t.Fatal("a retired e-mail address was given to a new account")
	}
}

// Old password hashes are upgraded at the next login.
func TestPasswordHashUpgradedOnLogin(t *testing.T) {
	e := newEnv(t)
	ctx := viewer.SystemContext(context.Background())
	pw := secrets.add("Eichhörnchen-Wald-777")
	weak, err := password.HashWith(ctx, pw, password.Params{Memory: 8 * 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.client.UserAccount.Create().SetEmail("old-hash@example.org").SetUsername("oldhash").
		SetPasswordHash(weak).SetEmailVerifiedAt(e.clock.Now()).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	e.loginTokens("oldhash", pw)
	u, err := e.client.UserAccount.Query().Where(useraccount.Username("oldhash")).Only(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if u.PasswordHash == weak || !strings.Contains(u.PasswordHash, fmt.Sprintf("m=%d,t=%d,p=1", password.Default.Memory, password.Default.Time)) {
		t.Fatalf("hash not upgraded: %s", u.PasswordHash[:30])
	}
	e.loginTokens("oldhash", pw)
}

func TestRefreshRotationAndReuse(t *testing.T) {
	e := newEnv(t)
	p := e.loginTokens("admin@example.com", adminPassword)
	r1 := p["refreshToken"].(string)
	d := e.ok("", refreshDoc, map[string]any{"r": r1})
	a2 := secrets.add(dig(d, "refreshSession", "accessToken").(string))
	r2 := secrets.add(dig(d, "refreshSession", "refreshToken").(string))
	if r2 == r1 {
		t.Fatal("refresh token not rotated")
	}
	e.ok(a2, meDoc, nil)
	// An access token is never a refresh token and vice versa.
	e.wantCode("", refreshDoc, map[string]any{"r": a2}, "UNAUTHENTICATED")
	e.wantCode(r2, meDoc, nil, "UNAUTHENTICATED")
	// Reusing the old refresh token, after the grace window for
	// concurrent refreshes (refresh_test.go), revokes the whole session.
	e.clock.Advance(11 * time.Second)
	e.wantCode("", refreshDoc, map[string]any{"r": r1}, "UNAUTHENTICATED")
	e.wantCode(a2, meDoc, nil, "UNAUTHENTICATED")
	e.wantCode("", refreshDoc, map[string]any{"r": r2}, "UNAUTHENTICATED")
	d = e.ok(e.admin, `{ auditEvents(first: 10, where: {action: "session.revoked"}) { totalCount } }`, nil)
	if dig(d, "auditEvents", "totalCount").(float64) != 1 {
		t.Fatalf("reuse not audited: %v", d)
	}
}

func TestSessions(t *testing.T) {
	e := newEnv(t)
	pw := "Sonnenblume-Tal-1988"
	first := e.signUpVerified("s@example.org", "sessions", pw)
	second := e.loginTokens("s@example.org", pw)["accessToken"].(string)
	third := e.loginTokens("sessions", pw)["accessToken"].(string)
	d := e.ok(first, `{ mySessions { id current } }`, nil)
	list := dig(d, "mySessions").([]any)
	if len(list) != 3 {
		t.Fatalf("sessions: %v", list)
	}
	var other string
	for _, s := range list {
		if dig(s, "current") == false && other == "" {
			other = dig(s, "id").(string)
		}
	}
	// Someone else cannot revoke my session.
	e.wantCode(e.admin, `mutation($id: ID!) { revokeSession(id: $id) }`, map[string]any{"id": other}, "NOT_FOUND")
	e.ok(first, `mutation($id: ID!) { revokeSession(id: $id) }`, map[string]any{"id": other})
	revoked := 0
	for _, tok := range []string{second, third} {
		if e.do(tok, meDoc, nil).code() == "UNAUTHENTICATED" {
			revoked++
		}
	}
	if revoked != 1 {
		t.Fatalf("revokeSession ended %d sessions", revoked)
	}
	d = e.ok(first, `mutation { revokeOtherSessions }`, nil)
	if dig(d, "revokeOtherSessions").(float64) != 1 {
		t.Fatalf("revokeOtherSessions: %v", d)
	}
	e.wantCode(second, meDoc, nil, "UNAUTHENTICATED")
	e.wantCode(third, meDoc, nil, "UNAUTHENTICATED")
	e.ok(first, `mutation { logout }`, nil)
	e.wantCode(first, meDoc, nil, "UNAUTHENTICATED")
}

func TestPasswordChangeAndForcedChange(t *testing.T) {
	e := newEnv(t)
	pw := "Apfelbaum-Garten-314"
	access := e.signUpVerified("pc@example.org", "changepw", pw)
	other := e.loginTokens("pc@example.org", pw)["accessToken"].(string)
	ctx := viewer.SystemContext(context.Background())
	if err := e.client.UserAccount.Update().Where(useraccount.Email("pc@example.org")).SetMustChangePassword(true).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	// With mustChangePassword only changePassword (and me, logout) work.
	r := e.wantCode(access, `{ customerAccounts { totalCount } }`, nil, "FORBIDDEN")
	if r.Errors[0].Extensions["reason"] != "PASSWORD_CHANGE_REQUIRED" {
		t.Fatalf("reason: %s", r.Raw)
	}
	e.ok(access, meDoc, nil)
	doc := `mutation($c: String!, $n: String!) { changePassword(input: {currentPassword: $c, newPassword: $n}) }`
	e.wantCode(access, doc, map[string]any{"c": "wrong-password-xx", "n": "Birnbaum-Garten-271"}, "BAD_USER_INPUT")
	r = e.wantCode(access, doc, map[string]any{"c": pw, "n": "changepw"}, "BAD_USER_INPUT")
	if r.Errors[0].Extensions["field"] != "input.newPassword" {
		t.Fatalf("field: %s", r.Raw)
	}
	next := secrets.add("Birnbaum-Garten-271")
	e.ok(access, doc, map[string]any{"c": pw, "n": next})
	e.ok(access, `{ customerAccounts { totalCount } }`, nil)
	// The other session ended; the user is told by mail.
	e.wantCode(other, meDoc, nil, "UNAUTHENTICATED")
	e.mailTo("pc@example.org") // password changed notice
	e.wantCode("", loginFullDoc, map[string]any{"l": "pc@example.org", "p": pw}, "UNAUTHENTICATED")
	e.loginTokens("pc@example.org", next)
}

func TestLoginWithEmailCodeAndRecoveryCodes(t *testing.T) {
	e := newEnv(t)
	pw := "Leuchtturm-Insel-2024"
	access := e.signUpVerified("tf@example.org", "twofactor", pw)
	// Enrol the e-mail code: request a code, confirm it.
	e.ok(access, `mutation { requestSecondFactorCode(method: EMAIL_CODE) }`, nil)
	code := e.codeIn(e.mailTo("tf@example.org").Body)
	enable := `mutation($m: SecondFactorMethod!, $c: String!, $p: String) { enableTwoFactor(input: {method: $m, code: $c, password: $p}) { methods recoveryCodes } }`
	// The first method needs the current password too.
	r := e.wantCode(access, enable, map[string]any{"m": "EMAIL_CODE", "c": code}, "BAD_USER_INPUT")
	if r.Errors[0].Extensions["field"] != "input.password" {
		t.Fatalf("field: %s", r.Raw)
	}
	e.wantCode(access, enable, map[string]any{"m": "EMAIL_CODE", "c": "00000", "p": pw}, "UNAUTHENTICATED")
	d := e.ok(access, enable, map[string]any{"m": "EMAIL_CODE", "c": code, "p": pw})
	codes := dig(d, "enableTwoFactor", "recoveryCodes").([]any)
	if len(codes) != 10 || dig(d, "enableTwoFactor", "methods", 0) != "EMAIL_CODE" {
		t.Fatalf("enable: %v", d)
	}
	for _, c := range codes {
		secrets.add(c.(string))
	}
	e.mailTo("tf@example.org") // "second factor changed" notice

	// Login now stops at a challenge; the code arrives by mail.
	d = e.ok("", loginFullDoc, map[string]any{"l": "tf@example.org", "p": pw})
	if dig(d, "login", "accessToken") != nil || dig(d, "login", "refreshToken") != nil {
		t.Fatalf("tokens before the second factor: %v", d)
	}
	ch := dig(d, "login", "challenge", "id").(string)
	methods := dig(d, "login", "challenge", "methods").([]any)
	if len(methods) != 2 || methods[0] != "EMAIL_CODE" || methods[1] != "RECOVERY_CODE" {
		t.Fatalf("methods: %v", methods)
	}
	code = e.codeIn(e.mailTo("tf@example.org").Body)
	wrong := "11111"
	if wrong == code {
		wrong = "22222"
	}
	e.wantCode("", verify2FADoc, map[string]any{"c": ch, "m": "EMAIL_CODE", "code": wrong}, "UNAUTHENTICATED")
	d = e.ok("", verify2FADoc, map[string]any{"c": ch, "m": "EMAIL_CODE", "code": code})
	tok := secrets.add(dig(d, "verifySecondFactor", "accessToken").(string))
	secrets.add(dig(d, "verifySecondFactor", "refreshToken").(string))
	e.ok(tok, meDoc, nil)
	// Single use.
	e.wantCode("", verify2FADoc, map[string]any{"c": ch, "m": "EMAIL_CODE", "code": code}, "UNAUTHENTICATED")

	// At most 5 tries per challenge: after 5 wrong codes the right one fails too.
	d = e.ok("", loginFullDoc, map[string]any{"l": "tf@example.org", "p": pw})
	ch = dig(d, "login", "challenge", "id").(string)
	code = e.codeIn(e.mailTo("tf@example.org").Body)
	for i := 0; i < 5; i++ {
		e.wantCode("", verify2FADoc, map[string]any{"c": ch, "m": "EMAIL_CODE", "code": wrong}, "UNAUTHENTICATED")
	}
	e.wantCode("", verify2FADoc, map[string]any{"c": ch, "m": "EMAIL_CODE", "code": code}, "UNAUTHENTICATED")

	// A recovery code works once. (A quarter of an hour later: the wrong
	// codes above used up the per-user attempts.)
	e.clock.Set(testEpoch.Add(16 * time.Minute))
	d = e.ok("", loginFullDoc, map[string]any{"l": "tf@example.org", "p": pw})
	ch = dig(d, "login", "challenge", "id").(string)
	e.mailTo("tf@example.org")
	rc := codes[3].(string)
	e.ok("", verify2FADoc, map[string]any{"c": ch, "m": "RECOVERY_CODE", "code": strings.ToUpper(rc)})
	d = e.ok("", loginFullDoc, map[string]any{"l": "tf@example.org", "p": pw})
	ch = dig(d, "login", "challenge", "id").(string)
	e.mailTo("tf@example.org")
	e.wantCode("", verify2FADoc, map[string]any{"c": ch, "m": "RECOVERY_CODE", "code": rc}, "UNAUTHENTICATED")

	// The code expires after 10 minutes.
	e.clock.Set(testEpoch.Add(27 * time.Minute))
	e.wantCode("", verify2FADoc, map[string]any{"c": ch, "m": "EMAIL_CODE", "code": "12345"}, "UNAUTHENTICATED")
}

func TestTOTPAndFreshSecondFactor(t *testing.T) {
	e := newEnv(t)
	pw := "Bergsee-Morgenrot-55"
	access := e.signUpVerified("totp@example.org", "totpuser", pw)
	d := e.ok(access, `mutation { startTotpEnrollment { secret otpauthURI } }`, nil)
	secret := secrets.add(dig(d, "startTotpEnrollment", "secret").(string))
	if !strings.HasPrefix(dig(d, "startTotpEnrollment", "otpauthURI").(string), "otpauth://totp/Portier:") {
		t.Fatalf("uri: %v", d)
	}
	now := func() time.Time { return e.clock.Now() }
	code, _ := totp.GenerateCode(secret, now())
	enable := `mutation($m: SecondFactorMethod!, $c: String!, $p: String) { enableTwoFactor(input: {method: $m, code: $c, password: $p}) { methods recoveryCodes } }`
	d = e.ok(access, enable, map[string]any{"m": "TOTP", "c": code, "p": pw})
	if len(dig(d, "enableTwoFactor", "recoveryCodes").([]any)) != 10 {
		t.Fatalf("no recovery codes: %v", d)
	}
	for _, c := range dig(d, "enableTwoFactor", "recoveryCodes").([]any) {
		secrets.add(c.(string))
	}
	d = e.ok("", loginFullDoc, map[string]any{"l": "totpuser", "p": pw})
	ch := dig(d, "login", "challenge", "id").(string)
	// The enrolment code cannot be replayed for the login.
	e.wantCode("", verify2FADoc, map[string]any{"c": ch, "m": "TOTP", "code": code}, "UNAUTHENTICATED")
	e.clock.Set(testEpoch.Add(31 * time.Second))
	code, _ = totp.GenerateCode(secret, now())
	d = e.ok("", verify2FADoc, map[string]any{"c": ch, "m": "TOTP", "code": code})
	// Nor can the login code be used a second time.
	d2 := e.ok("", loginFullDoc, map[string]any{"l": "totpuser", "p": pw})
	e.wantCode("", verify2FADoc, map[string]any{"c": dig(d2, "login", "challenge", "id"), "m": "TOTP", "code": code}, "UNAUTHENTICATED")
	access = secrets.add(dig(d, "verifySecondFactor", "accessToken").(string))

	// Disabling needs a fresh second factor: fresh right after the login,
	// stale 16 minutes later, fresh again after confirmSecondFactor.
	e.clock.Set(testEpoch.Add(16 * time.Minute))
	access = secrets.add(dig(e.ok("", refreshDoc, map[string]any{"r": dig(d, "verifySecondFactor", "refreshToken")}), "refreshSession", "accessToken").(string))
	r := e.wantCode(access, `mutation { disableTwoFactor(method: TOTP) { methods } }`, nil, "FORBIDDEN")
	if r.Errors[0].Extensions["reason"] != "FRESH_SECOND_FACTOR_REQUIRED" {
		t.Fatalf("reason: %s", r.Raw)
	}
	code, _ = totp.GenerateCode(secret, now())
	e.ok(access, `mutation($c: String!) { confirmSecondFactor(input: {method: TOTP, code: $c}) }`, map[string]any{"c": code})
	d = e.ok(access, `mutation { disableTwoFactor(method: TOTP) { methods recoveryCodes } }`, nil)
	if len(dig(d, "disableTwoFactor", "methods").([]any)) != 0 {
		t.Fatalf("still enabled: %v", d)
	}
	e.loginTokens("totpuser", pw) // no challenge any more
	d = e.ok(e.login("admin@example.com", adminPassword), `{ auditEvents(first: 20, where: {actionHasPrefix: "second_factor."}) { totalCount } }`, nil)
	if dig(d, "auditEvents", "totalCount").(float64) < 3 {
		t.Fatalf("second-factor changes not audited: %v", d)
	}
}

func TestLoginWithSMSCode(t *testing.T) {
	e := newEnv(t)
	pw := "Regenbogen-Brücke-909"
	access := e.signUpVerified("sms@example.org", "smsuser", pw)
	ctx := viewer.SystemContext(context.Background())
	if err := e.client.UserAccount.Update().Where(useraccount.Email("sms@example.org")).SetPhone("+4915112345678").SetPhoneVerifiedAt(e.clock.Now()).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	e.ok(access, `mutation { requestSecondFactorCode(method: SMS_CODE) }`, nil)
	m, err := e.sms.waitFor("+4915112345678", 1, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	e.ok(access, `mutation($c: String!, $p: String) { enableTwoFactor(input: {method: SMS_CODE, code: $c, password: $p}) { methods } }`, map[string]any{"c": e.codeIn(m.Body), "p": pw})
	d := e.ok("", loginFullDoc, map[string]any{"l": "sms@example.org", "p": pw})
	ch := dig(d, "login", "challenge", "id").(string)
	m, err = e.sms.waitFor("+4915112345678", 2, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	e.ok("", verify2FADoc, map[string]any{"c": ch, "m": "SMS_CODE", "code": e.codeIn(m.Body)})
}

func TestPasswordReset(t *testing.T) {
	e := newEnv(t)
	pw := "Zitronenbaum-Hafen-12"
	access := e.signUpVerified("reset@example.org", "resetter", pw)
	e.ok(access, `mutation { requestSecondFactorCode(method: EMAIL_CODE) }`, nil)
	code := e.codeIn(e.mailTo("reset@example.org").Body)
	e.ok(access, `mutation($c: String!, $p: String) { enableTwoFactor(input: {method: EMAIL_CODE, code: $c, password: $p}) { methods } }`, map[string]any{"c": code, "p": pw})
	e.mailTo("reset@example.org") // notice

	doc := `mutation($l: String!) { requestPasswordReset(login: $l) }`
	// Same answer, about the same time, for a known and an unknown login.
	start := time.Now()
	d1 := e.ok("", doc, map[string]any{"l": "nobody@example.org"})
	unknown := time.Since(start)
	start = time.Now()
	// The link is built from the configured public URL, not the Host header.
	req := e.request("", doc, map[string]any{"l": "reset@example.org"})
	req.Host = "evil.example"
	req.Header.Set("X-Forwarded-Host", "evil.example")
	r := e.send(req)
	known := time.Since(start)
	if dig(d1, "requestPasswordReset") != true || dig(r.Data, "requestPasswordReset") != true {
		t.Fatalf("answers differ: %v / %s", d1, r.Raw)
	}
	if unknown < 300*time.Millisecond || known < 300*time.Millisecond {
		t.Fatalf("reset answered too fast to hide existence: %s / %s", unknown, known)
	}
	first := e.linkTokenIn(e.mailTo("reset@example.org"))
	if len(first) < 22 {
		t.Fatalf("reset token too short: %d characters", len(first))
	}
	// A newer link invalidates the older one.
	e.ok("", doc, map[string]any{"l": "resetter"})
	second := e.linkTokenIn(e.mailTo("reset@example.org"))
	resetDoc := `mutation($t: String!, $p: String!) { resetPassword(input: {token: $t, newPassword: $p}) }`
	next := secrets.add("Mandelblüte-Küste-808")
	e.wantCode("", resetDoc, map[string]any{"t": first, "p": next}, "BAD_USER_INPUT")
	e.wantCode("", resetDoc, map[string]any{"t": second, "p": "short"}, "BAD_USER_INPUT")
	e.ok("", resetDoc, map[string]any{"t": second, "p": next})
	e.wantCode("", resetDoc, map[string]any{"t": second, "p": next}, "BAD_USER_INPUT") // single use
	// Every session ended; the user is told; the second factor still applies.
	e.wantCode(access, meDoc, nil, "UNAUTHENTICATED")
	e.mailTo("reset@example.org") // password changed notice
	d := e.ok("", loginFullDoc, map[string]any{"l": "reset@example.org", "p": next})
	if dig(d, "login", "accessToken") != nil || dig(d, "login", "challenge", "id") == nil {
		t.Fatalf("reset bypassed the second factor: %v", d)
	}
	// Links expire after 30 minutes.
	e.ok("", doc, map[string]any{"l": "resetter"})
	e.mailTo("reset@example.org") // login code of the login above
	third := e.linkTokenIn(e.mailTo("reset@example.org"))
	e.clock.Set(testEpoch.Add(31 * time.Minute))
	e.wantCode("", resetDoc, map[string]any{"t": third, "p": "Ganz-Neues-Passwort-1"}, "BAD_USER_INPUT")
}

func TestPaginationArgumentErrorsAreBadInput(t *testing.T) {
	e := newEnv(t)
	r := e.wantCode(e.admin, `{ customerAccounts(first: 1, last: 1) { totalCount } }`, nil, "BAD_USER_INPUT")
	if strings.Contains(r.Raw, "internal") {
		t.Fatalf("%s", r.Raw)
	}
	r = e.wantCode(e.admin, `{ customerAccounts(first: 1, after: "bm90LWEtY3Vyc29y") { totalCount } }`, nil, "BAD_USER_INPUT")
	if strings.Contains(r.Raw, "msgpack") || strings.Contains(r.Raw, "base64") {
		t.Fatalf("decoder details leaked: %s", r.Raw)
	}
}
