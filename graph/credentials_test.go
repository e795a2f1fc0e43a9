package graph_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"

	"portier/ent/auditevent"
	"portier/ent/ratelimitbucket"
	"portier/internal/viewer"
)

// clientFrom returns an HTTP client whose connections leave from the
// loopback address ip (any 127.x.y.z works on Linux), so that a test can
// play many client addresses without trusting any forwarding header.
func clientFrom(ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	return &http.Client{Transport: &http.Transport{DialContext: d.DialContext, DisableKeepAlives: true}}
}

// doFrom posts a document from the client c and returns the response.
func (e *env) doFrom(c *http.Client, tok, query string, vars map[string]any) (response, error) {
	res, err := c.Do(e.request(tok, query, vars))
	if err != nil {
		return response{}, err
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var out struct {
		Data   map[string]any `json:"data"`
		Errors []gqlError     `json:"errors"`
	}
	_ = json.Unmarshal(raw, &out)
	return response{Status: res.StatusCode, Data: out.Data, Errors: out.Errors, Raw: string(raw)}, nil
}

// Issue 6 item 7: 64 wrong passwords in parallel from 16 addresses (4
// each, under the per-address limit) check at most 30 passwords, the
// per-login limit: the attempt is taken before the hash.
func TestParallelLoginGuessesStayWithinLimit(t *testing.T) {
	e := newEnv(t)
	e.createUser("victim@example.org", "")
	const addrs, each = 16, 4
	var mu sync.Mutex
	codes := map[string]int{}
	var wg sync.WaitGroup
	for i := range addrs {
		c := clientFrom(fmt.Sprintf("127.0.%d.%d", 1+i/200, 10+i%200))
		for j := range each {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r, err := e.doFrom(c, "", loginFullDoc, map[string]any{"l": "victim@example.org", "p": fmt.Sprintf("wrong-guess-%d-%d", i, j)})
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					codes["transport: "+err.Error()]++
					return
				}
				codes[r.code()]++
			}()
		}
	}
	wg.Wait()
	if codes["UNAUTHENTICATED"] > 30 || codes["UNAUTHENTICATED"]+codes["RATE_LIMITED"] != addrs*each {
		t.Fatalf("answers: %v (at most 30 password checks allowed)", codes)
	}
	ctx := viewer.SystemContext(context.Background())
	n, err := e.client.AuditEvent.Query().Where(auditevent.Action("login.failure")).Count(ctx)
	if err != nil || n > 30 {
		t.Fatalf("%d passwords checked (%v)", n, err)
	}
	// The owner is locked out for the window too (no way around that
	// without telling attacker from owner), but a window ends.
	e.wantCode("", loginFullDoc, map[string]any{"l": "victim@example.org", "p": adminPassword}, "RATE_LIMITED")
}

// Issue 6 item 7: a request may carry one credential-checking field. 587
// aliased logins, or two hidden in fragments, are refused before any
// password is hashed or any attempt counted.
func TestAliasedCredentialFieldsRefused(t *testing.T) {
	e := newEnv(t)
	e.createUser("alias@example.org", "")
	ctx := viewer.SystemContext(context.Background())
	buckets := func() int {
		n, err := e.client.RateLimitBucket.Query().Where(ratelimitbucket.IDGTE("login:"), ratelimitbucket.IDLT("login;")).Count(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := buckets()
	loginEvents := func() int {
		n, err := e.client.AuditEvent.Query().Where(auditevent.ActionHasPrefix("login.")).Count(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	eventsBefore := loginEvents()

	aliased := func(n int) string {
		var b strings.Builder
		b.WriteString("mutation($i: LoginInput!) {")
		for i := range n {
			fmt.Fprintf(&b, ` a%d: login(input: $i) { accessToken }`, i)
		}
		b.WriteString(" }")
		return b.String()
	}
	guess := map[string]any{"i": map[string]any{"login": "alias@example.org", "password": "guess"}}
	// 587 aliases (the request) are refused, by this rule or an
	// earlier bound on the document.
	r := e.wantCode("", aliased(587), guess, "BAD_USER_INPUT")
	if r.Data["a0"] != nil {
		t.Fatalf("refusal: %s", r.Raw[:min(len(r.Raw), 400)])
	}
	r = e.wantCode("", aliased(100), guess, "BAD_USER_INPUT")
	if !strings.Contains(r.Errors[0].Message, "at most one") {
		t.Fatalf("refusal: %s", r.Raw[:min(len(r.Raw), 400)])
	}

	for name, doc := range map[string]string{
		"two kinds": `mutation { login(input: {login: "alias@example.org", password: "x"}) { accessToken }
			requestPasswordReset(login: "alias@example.org") }`,
		"fragments": `mutation { ...A ...B ...A }
			fragment A on Mutation { one: login(input: {login: "alias@example.org", password: "x"}) { accessToken } }
			fragment B on Mutation { ... on Mutation { two: login(input: {login: "alias@example.org", password: "y"}) { accessToken } } }`,
		"inline": `mutation { ... { a: signUp(input: {email: "n@example.org", username: "nnn", name: "N", password: "Lange-Passwort-99"}) { accepted } }
			b: verifyEmail(token: "t") }`,
	} {
		r := e.do("", doc, nil)
		if r.code() != "BAD_USER_INPUT" || !strings.Contains(r.Errors[0].Message, "at most one") {
			t.Fatalf("%s: %s", name, r.Raw)
		}
	}
	if n := buckets(); n != before {
		t.Fatalf("refused requests counted attempts: %d buckets, before %d", n, before)
	}
	if n := loginEvents(); n != eventsBefore {
		t.Fatalf("%d login events, before %d: refused requests reached the resolver", n, eventsBefore)
	}

	// One field, also spread twice through the same fragment (one response
	// key, run once), is fine.
	e.ok("", `mutation { ...L ...L } fragment L on Mutation { login(input: {login: "alias@example.org", password: "`+adminPassword+`"}) { accessToken } }`, nil)
	e.loginTokens("alias@example.org", adminPassword)
}
