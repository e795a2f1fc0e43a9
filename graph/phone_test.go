package graph_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"portier/ent/useraccount"
	"portier/internal/identity"
	"portier/internal/viewer"
)

const (
	setPhoneDoc = `mutation($n: String!, $p: String!) {
		setPhoneNumber(input: {phone: $n, password: $p}) { phone phoneVerifiedAt pendingPhone } }`
	verifyPhoneDoc = `mutation($c: String!) { verifyPhoneNumber(code: $c) { phone phoneVerifiedAt pendingPhone } }`
	removePhoneDoc = `mutation($p: String!) { removePhoneNumber(password: $p) { phone phoneVerifiedAt pendingPhone } }`
	myPhoneDoc     = `{ me { user { phone phoneVerifiedAt pendingPhone } } }`
	enableSMSDoc   = `mutation($c: String!, $p: String) { enableTwoFactor(input: {method: SMS_CODE, code: $c, password: $p}) { methods } }`
)

// smsCode waits for the n-th SMS to number and returns its code.
func (e *env) phoneSMSCode(number string, n int) (string, string) {
	e.t.Helper()
	m, err := e.sms.waitFor(number, n, 5*time.Second)
	if err != nil {
		e.t.Fatal(err)
	}
	return e.codeIn(m.Body), m.Body
}

// wrongCode returns a 5-digit code that is not code.
func phoneWrongCode(code string) string {
	if code == "00000" {
		return "11111"
	}
	return "00000"
}

func phoneWantField(t *testing.T, r response, field string) {
	t.Helper()
	if got := r.Errors[0].Extensions["field"]; got != field {
		t.Fatalf("want field %q, got %v: %s", field, got, r.Raw)
	}
}

func phoneWantReason(t *testing.T, r response, reason string) {
	t.Helper()
	if got := r.Errors[0].Extensions["reason"]; got != reason {
		t.Fatalf("want reason %q, got %v: %s", reason, got, r.Raw)
	}
}

// phoneUser signs a user up and gives it a verified number through the API.
func (e *env) phoneUser(email, username, pw, number string) string {
	e.t.Helper()
	tok := e.signUpVerified(email, username, pw)
	e.ok(tok, setPhoneDoc, map[string]any{"n": number, "p": pw})
	code, _ := e.phoneSMSCode(number, 1)
	e.ok(tok, verifyPhoneDoc, map[string]any{"c": code})
	return tok
}

func TestPhoneNumberSetVerifyAndEnableSMS(t *testing.T) {
	e := newEnv(t)
	pw := secrets.add("Leuchtturm-Brandung-31")
	tok := e.signUpVerified("phone@example.org", "phoneuser", pw)

	// Without a verified number there are no SMS codes.
	r := e.wantCode(tok, `mutation { requestSecondFactorCode(method: SMS_CODE) }`, nil, "BAD_USER_INPUT")
	phoneWantField(t, r, "method")
	r = e.wantCode(tok, enableSMSDoc, map[string]any{"c": "12345", "p": pw}, "BAD_USER_INPUT")
	phoneWantField(t, r, "input.method")

	// Malformed numbers name the field and cost no password try.
	for _, bad := range []string{"", "0151 12345678", "+49 151", "+0151234567", "+4915112345678901", "+49(151)1234567",
		"49151123456", "+49151123456x", "++4915112345678", "+49 151 1234/5678"} {
		r := e.wantCode(tok, setPhoneDoc, map[string]any{"n": bad, "p": "wrong-password-1"}, "BAD_USER_INPUT")
		phoneWantField(t, r, "input.phone")
	}
	r = e.wantCode(tok, setPhoneDoc, map[string]any{"n": "+4915112345678", "p": "wrong-password-1"}, "BAD_USER_INPUT")
	phoneWantField(t, r, "input.password")
	if _, err := e.sms.waitFor("+4915112345678", 1, 200*time.Millisecond); err == nil {
		t.Fatal("an SMS was sent although the password was wrong")
	}

	// Spaces and dashes are ignored; the number is pending, the code goes to it.
	d := e.ok(tok, setPhoneDoc, map[string]any{"n": " +49 151 1234-5678 ", "p": pw})
	if dig(d, "setPhoneNumber", "pendingPhone") != "+4915112345678" || dig(d, "setPhoneNumber", "phone") != nil {
		t.Fatalf("set: %v", d)
	}
	code, body := e.phoneSMSCode("+4915112345678", 1)
	if !strings.Contains(body, "Rufnummer") {
		t.Fatalf("not the German phone verification SMS: %q", body)
	}
	d = e.ok(tok, myPhoneDoc, nil)
	if dig(d, "me", "user", "pendingPhone") != "+4915112345678" || !phoneUnset(dig(d, "me", "user", "phone")) || dig(d, "me", "user", "phoneVerifiedAt") != nil {
		t.Fatalf("me before verification: %v", d)
	}
	// A pending number does not get SMS codes yet.
	e.wantCode(tok, `mutation { requestSecondFactorCode(method: SMS_CODE) }`, nil, "BAD_USER_INPUT")
	// The code is stored hashed only.
	ctx := viewer.SystemContext(context.Background())
	chs, err := e.client.LoginChallenge.Query().All(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, ch := range chs {
		if strings.Contains(ch.CodeHash, code) && len(ch.CodeHash) < 20 {
			t.Fatalf("code stored in clear: %v", ch.CodeHash)
		}
	}

	r = e.wantCode(tok, verifyPhoneDoc, map[string]any{"c": phoneWrongCode(code)}, "BAD_USER_INPUT")
	phoneWantField(t, r, "code")
	d = e.ok(tok, verifyPhoneDoc, map[string]any{"c": code})
	if dig(d, "verifyPhoneNumber", "phone") != "+4915112345678" || dig(d, "verifyPhoneNumber", "pendingPhone") != nil {
		t.Fatalf("verify: %v", d)
	}
	if at, _ := time.Parse(time.RFC3339Nano, dig(d, "verifyPhoneNumber", "phoneVerifiedAt").(string)); !at.Equal(e.clock.Now()) {
		t.Fatalf("phoneVerifiedAt %v, clock %v", at, e.clock.Now())
	}
	// The code works once.
	e.wantCode(tok, verifyPhoneDoc, map[string]any{"c": code}, "BAD_USER_INPUT")
	// The user is told by e-mail, with the number masked.
	if m := e.mailTo("phone@example.org"); !strings.Contains(m.Body, "678") || strings.Contains(m.Body, "+4915112345678") {
		t.Fatalf("notice: %s", m.Body)
	}

	// Now SMS_CODE can be enabled, and login codes go to the number.
	e.ok(tok, `mutation { requestSecondFactorCode(method: SMS_CODE) }`, nil)
	code2, body := e.phoneSMSCode("+4915112345678", 2)
	if !strings.Contains(body, "Anmeldecode") {
		t.Fatalf("not the login code SMS: %q", body)
	}
	d = e.ok(tok, enableSMSDoc, map[string]any{"c": code2, "p": pw})
	if !strings.Contains(strings.Join(phoneStrings(dig(d, "enableTwoFactor", "methods")), ","), "SMS_CODE") {
		t.Fatalf("methods: %v", d)
	}
	// The number cannot be removed while SMS codes are a second factor.
	r = e.wantCode(tok, removePhoneDoc, map[string]any{"p": pw}, "BAD_USER_INPUT")
	phoneWantReason(t, r, identity.ReasonSMSCodeEnabled)
	d = e.ok("", loginFullDoc, map[string]any{"l": "phone@example.org", "p": pw})
	ch := dig(d, "login", "challenge", "id").(string)
	code3, _ := e.phoneSMSCode("+4915112345678", 3)
	e.ok("", verify2FADoc, map[string]any{"c": ch, "m": "SMS_CODE", "code": code3})

	// Audited with the number masked, never the number or a code.
	d = e.ok(e.admin, `{ auditEvents(first: 20, where: {actionHasPrefix: "user.phone"}) { edges { node { action targetID changes { field value } } } } }`, nil)
	raw := e.do(e.admin, `{ auditEvents(first: 50) { edges { node { action changes { field value } } } } }`, nil).Raw
	if strings.Contains(raw, "4915112345678") {
		t.Fatalf("audit log holds the number: %s", raw)
	}
	for _, secret := range []string{code, code2, code3} {
		if leaked(raw, secret) {
			t.Fatalf("audit log holds a code: %s", raw)
		}
	}
	actions := map[string]string{}
	for _, edge := range dig(d, "auditEvents", "edges").([]any) {
		n := edge.(map[string]any)["node"].(map[string]any)
		for _, c := range n["changes"].([]any) {
			ch := c.(map[string]any)
			actions[n["action"].(string)+"."+ch["field"].(string)] = ch["value"].(string)
		}
	}
	if actions["user.phone_change_requested.pendingPhone"] != `"…678"` || actions["user.phone_verified.phone"] != `"…678"` ||
		actions["user.phone_verify_failure.pendingPhone"] != `"…678"` {
		t.Fatalf("audit events: %v", actions)
	}
	// Nothing secret in the server's logs either.
	for _, secret := range []string{code, code2, code3} {
		if leaked(e.logs.String(), secret) {
			t.Fatalf("code %s in the logs", secret)
		}
	}
}

// phoneUnset tells whether a number field of UserAccount holds no number
// (ent's optional strings read as "").
func phoneUnset(v any) bool { return v == nil || v == "" }

func phoneStrings(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

// A new number needs its own code; until it is verified, SMS codes keep
// going to the old one. With two-factor login on, a fresh second factor is
// required to start the change.
func TestPhoneNumberChangeKeepsOldUntilVerified(t *testing.T) {
	e := newEnv(t)
	pw := secrets.add("Sandburg-Ebbe-Flut-44")
	oldN, newN := "+4917011112222", "+4917033334444"
	tok := e.phoneUser("change-phone@example.org", "changephone", pw, oldN)
	e.ok(tok, `mutation { requestSecondFactorCode(method: SMS_CODE) }`, nil)
	code, _ := e.phoneSMSCode(oldN, 2)
	e.ok(tok, enableSMSDoc, map[string]any{"c": code, "p": pw})

	// A session whose second factor is older than 15 minutes must prove
	// one again before the number changes.
	d := e.ok("", loginFullDoc, map[string]any{"l": "change-phone@example.org", "p": pw})
	ch := dig(d, "login", "challenge", "id").(string)
	loginCode, _ := e.phoneSMSCode(oldN, 3)
	d = e.ok("", verify2FADoc, map[string]any{"c": ch, "m": "SMS_CODE", "code": loginCode})
	refresh := secrets.add(dig(d, "verifySecondFactor", "refreshToken").(string))
	e.clock.Advance(16 * time.Minute)
	d = e.ok("", refreshDoc, map[string]any{"r": refresh})
	tok = secrets.add(dig(d, "refreshSession", "accessToken").(string))
	r := e.wantCode(tok, setPhoneDoc, map[string]any{"n": newN, "p": pw}, "FORBIDDEN")
	phoneWantReason(t, r, "FRESH_SECOND_FACTOR_REQUIRED")
	e.ok(tok, `mutation { requestSecondFactorCode(method: SMS_CODE) }`, nil)
	code, _ = e.phoneSMSCode(oldN, 4)
	e.ok(tok, `mutation($c: String!) { confirmSecondFactor(input: {method: SMS_CODE, code: $c}) }`, map[string]any{"c": code})
	e.ok(tok, setPhoneDoc, map[string]any{"n": newN, "p": pw})
	newCode, _ := e.phoneSMSCode(newN, 1)

	// Login codes still go to the old number.
	d = e.ok("", loginFullDoc, map[string]any{"l": "change-phone@example.org", "p": pw})
	ch = dig(d, "login", "challenge", "id").(string)
	loginCode, _ = e.phoneSMSCode(oldN, 5)
	e.ok("", verify2FADoc, map[string]any{"c": ch, "m": "SMS_CODE", "code": loginCode})

	// The phone-verification code is no login code, and a login code does
	// not verify the number.
	d = e.ok("", loginFullDoc, map[string]any{"l": "change-phone@example.org", "p": pw})
	ch = dig(d, "login", "challenge", "id").(string)
	loginCode, _ = e.phoneSMSCode(oldN, 6)
	if newCode != loginCode {
		e.wantCode("", verify2FADoc, map[string]any{"c": ch, "m": "SMS_CODE", "code": newCode}, "UNAUTHENTICATED")
		e.wantCode(tok, verifyPhoneDoc, map[string]any{"c": loginCode}, "BAD_USER_INPUT")
	}

	d = e.ok(tok, verifyPhoneDoc, map[string]any{"c": newCode})
	if dig(d, "verifyPhoneNumber", "phone") != newN {
		t.Fatalf("verify: %v", d)
	}
	d = e.ok("", loginFullDoc, map[string]any{"l": "change-phone@example.org", "p": pw})
	ch = dig(d, "login", "challenge", "id").(string)
	loginCode, _ = e.phoneSMSCode(newN, 2)
	e.ok("", verify2FADoc, map[string]any{"c": ch, "m": "SMS_CODE", "code": loginCode})
	staff := e.login("admin@example.com", adminPassword) // e.admin's token has expired
	if raw := e.do(staff, `{ auditEvents(first: 5, where: {actionHasPrefix: "user.phone_verified"}) { edges { node { changes { field value } } } } }`, nil).Raw; !strings.Contains(raw, `previousPhone`) || !strings.Contains(raw, `…222`) || !strings.Contains(raw, `…444`) {
		t.Fatalf("audit: %s", raw)
	}
}

func TestPhoneCodeExpiresAndAttemptsAreLimited(t *testing.T) {
	e := newEnv(t)
	pw := secrets.add("Gletscher-Murmeltier-58")
	tok := e.signUpVerified("tries@example.org", "tries", pw)
	number := "+41791234567"

	// Expired after 10 minutes.
	e.ok(tok, setPhoneDoc, map[string]any{"n": number, "p": pw})
	code, _ := e.phoneSMSCode(number, 1)
	e.clock.Advance(10*time.Minute + time.Second)
	r := e.wantCode(tok, verifyPhoneDoc, map[string]any{"c": code}, "BAD_USER_INPUT")
	phoneWantField(t, r, "code")

	// A newer code replaces the older one.
	e.ok(tok, setPhoneDoc, map[string]any{"n": number, "p": pw})
	older, _ := e.phoneSMSCode(number, 2)
	e.ok(tok, setPhoneDoc, map[string]any{"n": number, "p": pw})
	code, _ = e.phoneSMSCode(number, 3)
	if older != code {
		e.wantCode(tok, verifyPhoneDoc, map[string]any{"c": older}, "BAD_USER_INPUT")
	} else {
		e.wantCode(tok, verifyPhoneDoc, map[string]any{"c": phoneWrongCode(code)}, "BAD_USER_INPUT")
	}
	// Five tries in all: the fifth wrong one voids the change.
	for i := 0; i < 3; i++ {
		r := e.wantCode(tok, verifyPhoneDoc, map[string]any{"c": phoneWrongCode(code)}, "BAD_USER_INPUT")
		if r.Errors[0].Extensions["reason"] != nil {
			t.Fatalf("try %d: %s", i+2, r.Raw)
		}
	}
	r = e.wantCode(tok, verifyPhoneDoc, map[string]any{"c": phoneWrongCode(code)}, "BAD_USER_INPUT")
	phoneWantReason(t, r, identity.ReasonTooManyAttempts)
	// The right code no longer helps: the change is void.
	r = e.wantCode(tok, verifyPhoneDoc, map[string]any{"c": code}, "BAD_USER_INPUT")
	phoneWantField(t, r, "code")
	d := e.ok(tok, myPhoneDoc, nil)
	if !phoneUnset(dig(d, "me", "user", "pendingPhone")) || !phoneUnset(dig(d, "me", "user", "phone")) {
		t.Fatalf("after too many tries: %v", d)
	}
	if raw := e.do(e.admin, `{ auditEvents(first: 5, where: {actionHasPrefix: "user.phone_change_voided"}) { totalCount } }`, nil).Raw; !strings.Contains(raw, `"totalCount":1`) {
		t.Fatalf("voided change not audited: %s", raw)
	}
}

// Codes to one number are limited, whichever accounts ask (no SMS cannon).
func TestPhoneCodesRateLimitedPerNumber(t *testing.T) {
	e := newEnv(t)
	pw := secrets.add("Kirschblüte-Teehaus-72")
	number := "+4369912345678"
	a := e.signUpVerified("rate-a@example.org", "ratea", pw)
	b := e.signUpVerified("rate-b@example.org", "rateb", pw)
	for i := 0; i < 3; i++ {
		e.ok(a, setPhoneDoc, map[string]any{"n": number, "p": pw})
	}
	e.ok(b, setPhoneDoc, map[string]any{"n": number, "p": pw})
	e.ok(b, setPhoneDoc, map[string]any{"n": number, "p": pw})
	r := e.wantCode(b, setPhoneDoc, map[string]any{"n": number, "p": pw}, "RATE_LIMITED")
	if r.Errors[0].Extensions["retryAfterSeconds"] == nil {
		t.Fatalf("no retryAfterSeconds: %s", r.Raw)
	}
	if _, err := e.sms.waitFor(number, 5, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if _, err := e.sms.waitFor(number, 6, 300*time.Millisecond); err == nil {
		t.Fatal("a sixth SMS went out")
	}
}

func TestRemovePhoneNumber(t *testing.T) {
	e := newEnv(t)
	pw := secrets.add("Heidelbeere-Waldweg-19")
	tok := e.phoneUser("remove-phone@example.org", "removephone", pw, "+4915199998888")
	e.mailTo("remove-phone@example.org") // the notice of the verification
	r := e.wantCode(tok, removePhoneDoc, map[string]any{"p": "wrong-password-1"}, "BAD_USER_INPUT")
	phoneWantField(t, r, "password")
	d := e.ok(tok, removePhoneDoc, map[string]any{"p": pw})
	if dig(d, "removePhoneNumber", "phone") != nil || dig(d, "removePhoneNumber", "phoneVerifiedAt") != nil {
		t.Fatalf("remove: %v", d)
	}
	if m := e.mailTo("remove-phone@example.org"); !strings.Contains(m.Body, "entfernt") {
		t.Fatalf("removal notice: %s", m.Body)
	}
	e.wantCode(tok, `mutation { requestSecondFactorCode(method: SMS_CODE) }`, nil, "BAD_USER_INPUT")
	// Nothing left to remove.
	e.wantCode(tok, removePhoneDoc, map[string]any{"p": pw}, "BAD_USER_INPUT")
	if raw := e.do(e.admin, `{ auditEvents(first: 5, where: {actionHasPrefix: "user.phone_removed"}) { edges { node { changes { field value } } } } }`, nil).Raw; !strings.Contains(raw, `…888`) || strings.Contains(raw, "4915199998888") {
		t.Fatalf("removal audit: %s", raw)
	}
}

// A number stored before verification existed counts as unverified: no SMS
// codes go to it, and a login whose SMS_CODE cannot be answered offers the
// other methods instead of failing.
func TestUnverifiedLegacyPhoneGetsNoCodes(t *testing.T) {
	e := newEnv(t)
	pw := secrets.add("Altbau-Dielenboden-27")
	tok := e.signUpVerified("legacy@example.org", "legacy", pw)
	// Enable e-mail codes (for recovery codes), then give the account a
	// legacy number with SMS_CODE in front, as an old database might.
	e.ok(tok, `mutation { requestSecondFactorCode(method: EMAIL_CODE) }`, nil)
	code := e.codeIn(e.mailTo("legacy@example.org").Body)
	e.ok(tok, `mutation($c: String!, $p: String) { enableTwoFactor(input: {method: EMAIL_CODE, code: $c, password: $p}) { methods } }`, map[string]any{"c": code, "p": pw})
	ctx := viewer.SystemContext(context.Background())
	if err := e.client.UserAccount.Update().Where(useraccount.Username("legacy")).SetPhone("+4915100001111").
		SetSecondFactorMethods([]string{"SMS_CODE", "EMAIL_CODE"}).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	e.wantCode(tok, `mutation { requestSecondFactorCode(method: SMS_CODE) }`, nil, "BAD_USER_INPUT")
	d := e.ok("", loginFullDoc, map[string]any{"l": "legacy", "p": pw})
	methods := strings.Join(phoneStrings(dig(d, "login", "challenge", "methods")), ",")
	if methods != "EMAIL_CODE,RECOVERY_CODE" {
		t.Fatalf("challenge methods %s", methods)
	}
	if _, err := e.sms.waitFor("+4915100001111", 1, 300*time.Millisecond); err == nil {
		t.Fatal("an SMS went to an unverified number")
	}
	e.ok("", `mutation($c: ID!) { sendLoginCode(input: {challengeID: $c, method: EMAIL_CODE}) }`, map[string]any{"c": dig(d, "login", "challenge", "id")})
	e.wantCode("", `mutation($c: ID!) { sendLoginCode(input: {challengeID: $c, method: SMS_CODE}) }`, map[string]any{"c": dig(d, "login", "challenge", "id")}, "BAD_USER_INPUT")
}

func TestPhoneMutationsDenied(t *testing.T) {
	e := newEnv(t)
	acct := e.createAccount("93101")
	admin, _ := e.customerUser(acct, "phone-admin@a.example", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	key, _ := e.createKey(admin, acct, []string{"ACCOUNT_READ", "CONTACTS_READ"}, e.clock.Now().Add(24*time.Hour))
	docs := map[string]struct {
		doc  string
		vars map[string]any
	}{
		"set":    {setPhoneDoc, map[string]any{"n": "+4915112345678", "p": adminPassword}},
		"verify": {verifyPhoneDoc, map[string]any{"c": "12345"}},
		"remove": {removePhoneDoc, map[string]any{"p": adminPassword}},
	}
	for name, d := range docs {
		e.wantCode("", d.doc, d.vars, "UNAUTHENTICATED")
		r := e.wantCode(key, d.doc, d.vars, "FORBIDDEN")
		if r.Errors[0].Extensions["reason"] != "API_KEY_NOT_ALLOWED" {
			t.Fatalf("%s by key: %s", name, r.Raw)
		}
	}
	if _, err := e.sms.waitFor("+4915112345678", 1, 300*time.Millisecond); err == nil {
		t.Fatal("an SMS went out for a refused request")
	}
	// Two credential fields in one request are refused.
	r := e.wantCode(admin, `mutation { a: verifyPhoneNumber(code: "12345") { phone } b: verifyPhoneNumber(code: "54321") { phone } }`, nil, "BAD_USER_INPUT")
	if !strings.Contains(r.Errors[0].Message, "at most one") {
		t.Fatalf("batched codes: %s", r.Raw)
	}
}

// A customer admin sees the people behind the account's contacts, but not
// their phone numbers: those are the user's and the provider's.
func TestPhoneHiddenFromCustomerAdmins(t *testing.T) {
	e := newEnv(t)
	acct := e.createAccount("93102")
	admin, _ := e.customerUser(acct, "boss-phone@a.example", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	person, contact := e.customerUser(acct, "person-phone@a.example", "PORTAL_ACCESS")
	e.ok(person, setPhoneDoc, map[string]any{"n": "+4915177776666", "p": adminPassword})
	code, _ := e.phoneSMSCode("+4915177776666", 1)
	e.ok(person, verifyPhoneDoc, map[string]any{"c": code})
	e.ok(person, setPhoneDoc, map[string]any{"n": "+4915155554444", "p": adminPassword})
	doc := `query($c: ID!) { node(id: $c) { ... on Contact { user { email phone phoneVerifiedAt pendingPhone } } } }`
	d := e.ok(admin, doc, map[string]any{"c": contact})
	if dig(d, "node", "user", "email") != "person-phone@a.example" {
		t.Fatalf("the admin does not see the person: %v", d)
	}
	for _, f := range []string{"phone", "phoneVerifiedAt", "pendingPhone"} {
		if dig(d, "node", "user", f) != nil {
			t.Fatalf("customer admin reads %s: %v", f, d)
		}
	}
	d = e.ok(e.admin, doc, map[string]any{"c": contact})
	if dig(d, "node", "user", "phone") != "+4915177776666" || dig(d, "node", "user", "pendingPhone") != "+4915155554444" {
		t.Fatalf("staff: %v", d)
	}
}

// Concurrent tries get no more than 5 comparisons in all, and of two
// concurrent right answers one wins.
func TestPhoneVerifyConcurrent(t *testing.T) {
	e := newEnv(t)
	pw := secrets.add("Wellenbrecher-Mole-61")
	tok := e.signUpVerified("race-phone@example.org", "racephone", pw)
	number := "+4917712341234"
	e.ok(tok, setPhoneDoc, map[string]any{"n": number, "p": pw})
	code, _ := e.phoneSMSCode(number, 1)
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); e.do(tok, verifyPhoneDoc, map[string]any{"c": phoneWrongCode(code)}) }()
	}
	wg.Wait()
	e.wantCode(tok, verifyPhoneDoc, map[string]any{"c": code}, "BAD_USER_INPUT")
	raw := e.do(e.admin, `{ auditEvents(first: 20, where: {actionHasPrefix: "user.phone_verify_failure"}) { totalCount } }`, nil).Raw
	var n int
	if _, err := fmt.Sscanf(raw[strings.Index(raw, `"totalCount":`)+len(`"totalCount":`):], "%d", &n); err != nil || n > 4 {
		t.Fatalf("%d wrong codes were compared (at most 4 before the fifth voids): %s", n, raw)
	}

	// Two right answers at once: one wins, the number is set once.
	e.ok(tok, setPhoneDoc, map[string]any{"n": number, "p": pw})
	code, _ = e.phoneSMSCode(number, 2)
	var ok atomic.Int32
	for i := 0; i < 2; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if r := e.do(tok, verifyPhoneDoc, map[string]any{"c": code}); len(r.Errors) == 0 {
				ok.Add(1)
			}
		}()
	}
	wg.Wait()
	if ok.Load() != 1 {
		t.Fatalf("%d concurrent verifications succeeded", ok.Load())
	}
	if raw := e.do(e.admin, `{ auditEvents(first: 5, where: {actionHasPrefix: "user.phone_verified"}) { totalCount } }`, nil).Raw; !strings.Contains(raw, `"totalCount":1`) {
		t.Fatalf("verified events: %s", raw)
	}
}
