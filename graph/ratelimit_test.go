package graph_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestLoginIsRateLimited(t *testing.T) {
	e := newEnv(t)
	pw := "Wolkenkratzer-Abend-31"
	e.signUpVerified("victim@example.org", "victim", pw)
	loginDoc := `mutation($l: String!, $p: String!) { login(input: {login: $l, password: $p}) { accessToken } }`

	// 50 parallel wrong attempts: at most the limit (5 per account and
	// client address) get their password checked; the rest are refused.
	var wg sync.WaitGroup
	codes := make(chan string, 50)
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			codes <- e.do("", loginDoc, map[string]any{"l": "victim@example.org", "p": fmt.Sprintf("wrong-password-%02d", i)}).code()
		}(i)
	}
	wg.Wait()
	close(codes)
	counts := map[string]int{}
	for c := range codes {
		counts[c]++
	}
	if counts["UNAUTHENTICATED"] > 5 || counts["RATE_LIMITED"] < 45 || counts["UNAUTHENTICATED"]+counts["RATE_LIMITED"] != 50 {
		t.Fatalf("50 parallel wrong logins: %v", counts)
	}
	// Even the right password is refused now, with a time to wait.
	r := e.wantCode("", loginDoc, map[string]any{"l": "victim", "p": pw}, "RATE_LIMITED")
	if s, _ := r.Errors[0].Extensions["retryAfterSeconds"].(float64); s < 1 || s > 900 {
		t.Fatalf("retryAfterSeconds: %s", r.Raw)
	}
	// Several logins in one request are refused before any is checked
	// (one credential-checking field per request, see credentials_test.go).
	e.clock.Set(testEpoch.Add(16 * time.Minute))
	var b strings.Builder
	b.WriteString("mutation {")
	for i := 0; i < 8; i++ {
		fmt.Fprintf(&b, ` a%d: login(input: {login: "victim", password: "wrong-alias-%d"}) { accessToken }`, i, i)
	}
	b.WriteString(" }")
	r = e.do("", b.String(), nil)
	if len(r.Errors) != 1 || r.code() != "BAD_USER_INPUT" {
		t.Fatalf("aliased logins: %s", r.Raw)
	}
	// No permanent lockout: after the window the right password works.
	e.clock.Set(testEpoch.Add(32 * time.Minute))
	e.loginTokens("victim", pw)
	// The failures are audited with the client's address.
	d := e.ok(e.login("admin@example.com", adminPassword), `{ auditEvents(first: 100, where: {action: "login.failure"}) { totalCount edges { node { ip userAgent } } } }`, nil)
	if dig(d, "auditEvents", "totalCount").(float64) < 5 || dig(d, "auditEvents", "edges", 0, "node", "ip") != "127.0.0.1" {
		t.Fatalf("failed logins audited: %v", d)
	}
}

func TestSecondFactorCodesAreRateLimitedPerUser(t *testing.T) {
	e := newEnv(t)
	pw := "Feuerwerk-Silvester-99"
	access := e.signUpVerified("codes@example.org", "codes", pw)
	e.ok(access, `mutation { requestSecondFactorCode(method: EMAIL_CODE) }`, nil)
	code := e.codeIn(e.mailTo("codes@example.org").Body)
	e.ok(access, `mutation($c: String!, $p: String) { enableTwoFactor(input: {method: EMAIL_CODE, code: $c, password: $p}) { methods } }`, map[string]any{"c": code, "p": pw})
	// Each challenge allows 5 tries; new challenges do not reset the
	// per-user budget of 10 tries in 15 minutes.
	limited := false
	for round := 0; round < 3 && !limited; round++ {
		d := e.ok("", loginFullDoc, map[string]any{"l": "codes", "p": pw})
		ch := dig(d, "login", "challenge", "id").(string)
		for i := 0; i < 5; i++ {
			r := e.do("", verify2FADoc, map[string]any{"c": ch, "m": "EMAIL_CODE", "code": "99999x"})
			if r.code() == "RATE_LIMITED" {
				limited = true
				break
			}
		}
	}
	if !limited {
		t.Fatal("15 wrong codes in a row were never rate-limited")
	}
}

func TestPasswordResetRequestsAreRateLimited(t *testing.T) {
	e := newEnv(t)
	doc := `mutation($l: String!) { requestPasswordReset(login: $l) }`
	var last response
	for i := 0; i < 11; i++ {
		last = e.do("", doc, map[string]any{"l": fmt.Sprintf("someone%d@example.org", i)})
	}
	if last.code() != "RATE_LIMITED" {
		t.Fatalf("11th reset request from one address: %s", last.Raw)
	}
}

func TestLinkTokensAndSignUpsAreRateLimited(t *testing.T) {
	e := newEnv(t)
	var last response
	for i := 0; i < 31; i++ {
		last = e.do("", verifyEmailDoc, map[string]any{"t": fmt.Sprintf("guessed-token-%02d", i)})
	}
	if last.code() != "RATE_LIMITED" {
		t.Fatalf("31st token guess from one address: %s", last.Raw)
	}
	for i := 0; i < 11; i++ {
		last = e.do("", signUpDoc, map[string]any{"e": fmt.Sprintf("bulk%d@example.org", i), "u": fmt.Sprintf("bulk%d", i), "p": "Bulk-Anmeldung-Test-1"})
	}
	if last.code() != "RATE_LIMITED" {
		t.Fatalf("11th sign-up from one address: %s", last.Raw)
	}
}
