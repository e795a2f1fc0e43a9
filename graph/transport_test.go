package graph_test

import (
	"context"
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"entgo.io/ent/dialect"

	"portier/ent/auditevent"
	"portier/ent/contact"
	"portier/graph"
	"portier/internal/database"
	"portier/internal/pulid"
	"portier/internal/viewer"
)

// ---------------------------------------------------------------- malformed requests (issue 6.4)

// Whatever the shape of a request, the answer is a coded 4xx, never a 500,
// a panic or an echo of the body.
func TestHTTPMalformedRequestsAreCoded(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const marker = "secret-body-marker-7f3a"
	secrets.add(marker)
	cases := []struct {
		name, method, path, ctype, body string
		hdr                             map[string]string
		status                          int
		reason                          string
	}{
		{"truncated JSON", "POST", "/graphql", "application/json", `{"query": "{ me { kind } }", "password": "` + marker, nil, 400, "MALFORMED_BODY"},
		{"not JSON", "POST", "/graphql", "application/json", `query=` + marker, nil, 400, "MALFORMED_BODY"},
		{"JSON string", "POST", "/graphql", "application/json", `"` + marker + `"`, nil, 400, "MALFORMED_BODY"},
		{"JSON null", "POST", "/graphql", "application/json", `null`, nil, 400, "MALFORMED_BODY"},
		{"query is a number", "POST", "/graphql", "application/json", `{"query": 12}`, nil, 400, "MALFORMED_BODY"},
		{"variables is a list", "POST", "/graphql", "application/json", `{"query": "{ me { kind } }", "variables": []}`, nil, 400, "MALFORMED_BODY"},
		{"trailing data", "POST", "/graphql", "application/json", `{"query": "{ me { kind } }"} {"x": "` + marker + `"}`, nil, 400, "MALFORMED_BODY"},
		{"empty body", "POST", "/graphql", "application/json", ``, nil, 400, "MALFORMED_BODY"},
		{"invalid UTF-8 escape", "POST", "/graphql", "application/json", `{"query": "\ud800` + marker, nil, 400, "MALFORMED_BODY"},
		{"text/plain", "POST", "/graphql", "text/plain", `{"query": "{ me { kind } }"}`, nil, 415, "UNSUPPORTED_MEDIA_TYPE"},
		{"no content type", "POST", "/graphql", "", `{"query": "{ me { kind } }"}`, nil, 415, "UNSUPPORTED_MEDIA_TYPE"},
		{"PUT", "PUT", "/graphql", "application/json", `{"query": "{ me { kind } }"}`, nil, 405, "METHOD_NOT_ALLOWED"},
		{"DELETE", "DELETE", "/graphql", "", ``, nil, 405, "METHOD_NOT_ALLOWED"},
		{"GET mutation", "GET", "/graphql?query=" + url.QueryEscape(`mutation { logout }`), "", ``, nil, 405, "MUTATION_BY_GET"},
		{"GET bad variables", "GET", "/graphql?query=" + url.QueryEscape(`{ me { kind } }`) + "&variables=%7B" + marker, "", ``, nil, 400, "MALFORMED_QUERY_STRING"},
		{"GET bad escape", "GET", "/graphql?query=%zz", "", ``, nil, 400, "MALFORMED_QUERY_STRING"},
		{"websocket upgrade", "GET", "/graphql", "", ``, map[string]string{"Upgrade": "websocket", "Connection": "Upgrade"}, 400, "UPGRADE_NOT_SUPPORTED"},
	}
	for _, c := range cases {
		var body []byte
		if c.body != "" {
			body = []byte(c.body)
		}
		r, hdr := limRaw(e, c.method, c.path, c.ctype, body, c.hdr)
		if r.Status != c.status {
			t.Errorf("%s: want HTTP %d, got %d %s", c.name, c.status, r.Status, r.Raw)
			continue
		}
		limWantCode(t, r, "BAD_USER_INPUT")
		if got := r.Errors[0].Extensions["reason"]; got != c.reason {
			t.Errorf("%s: want reason %s, got %v", c.name, c.reason, got)
		}
		if strings.Contains(r.Raw, marker) {
			t.Errorf("%s: the body was echoed: %s", c.name, r.Raw)
		}
		if c.status == 405 && hdr.Get("Allow") == "" {
			t.Errorf("%s: 405 without Allow", c.name)
		}
		if hdr.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: Cache-Control %q", c.name, hdr.Get("Cache-Control"))
		}
	}
	logs := e.logs.String()
	for _, bad := range []string{"panic", "goroutine", marker} {
		if strings.Contains(logs, bad) {
			t.Errorf("the log holds %q after malformed requests", bad)
		}
	}
	// The server still answers properly afterwards.
	if d := e.ok(e.admin, `{ me { kind } }`, nil); dig(d, "me", "kind") != "USER" {
		t.Fatalf("me after malformed requests: %v", d)
	}
}

// ---------------------------------------------------------------- control characters (issue 6.5)

func TestHTTPControlCharactersRefusedInEveryString(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	acct := e.createAccount("70001")
	createContact := `mutation($a: ID!, $n: String!, $m: String) { createContact(input: {customerAccountID: $a, name: $n, email: $m}) { id } }`
	cases := []struct {
		name, tok, doc string
		vars           map[string]any
		field          string
	}{
		{"NUL in a contact name", e.admin, createContact, map[string]any{"a": acct, "n": "Erika\u0000Muster"}, "input.name"},
		{"NUL in an e-mail", e.admin, createContact, map[string]any{"a": acct, "n": "Erika", "m": "nul\u0000@x.test"}, "input.email"},
		{"line feed in a name", e.admin, createContact, map[string]any{"a": acct, "n": "Erika\nBcc: x@evil.test"}, "input.name"},
		{"escape in a name", e.admin, createContact, map[string]any{"a": acct, "n": "Erika\u001b[31m"}, "input.name"},
		{"C1 control", e.admin, createContact, map[string]any{"a": acct, "n": "Erika\u0085"}, "input.name"},
		{"bidi override", e.admin, createContact, map[string]any{"a": acct, "n": "Erika\u202egpj.exe"}, "input.name"},
		{"NUL in an inline literal", e.admin, `mutation($a: ID!) { createContact(input: {customerAccountID: $a, name: "x\u0000y"}) { id } }`, map[string]any{"a": acct}, "input.name"},
		{"NUL in a login", "", `mutation { login(input: {login: "admin\u0000@example.com", password: "whatever-it-is"}) { accessToken } }`, nil, "input.login"},
		{"NUL in a reset request", "", `mutation($l: String!) { requestPasswordReset(login: $l) }`, map[string]any{"l": "admin@example.com\u0000"}, "login"},
		{"NUL in sign-up", "", `mutation($e: String!) { signUp(input: {email: $e, username: "nul-user", name: "Nul", password: "Wanderlust-Fjord-Kayak"}) { accepted } }`, map[string]any{"e": "nul\u0000@x.test"}, "input.email"},
		{"NUL in a query argument", e.admin, `query($n: String!) { customerAccount(number: $n) { id } }`, map[string]any{"n": "70001\u0000"}, "number"},
		{"NUL in a where filter", e.admin, `query($s: String!) { customerAccounts(first: 5, where: {nameContains: $s}) { totalCount } }`, map[string]any{"s": "\u0000"}, "where.nameContains"},
	}
	for _, c := range cases {
		r := e.do(c.tok, c.doc, c.vars)
		if r.code() != "BAD_USER_INPUT" {
			t.Errorf("%s: want BAD_USER_INPUT, got HTTP %d %s", c.name, r.Status, r.Raw)
			continue
		}
		if f := r.Errors[0].Extensions["field"]; f != c.field {
			t.Errorf("%s: want field %s, got %v (%s)", c.name, c.field, f, r.Raw)
		}
		limCheckErrors(t, r)
	}
	n, err := e.client.Contact.Query().Where(contact.CustomerAccountID(pulid.ID(acct))).Count(viewer.SystemContext(context.Background()))
	if err != nil || n != 0 {
		t.Fatalf("refused contacts were stored: %d %v", n, err)
	}
	// Ordinary text, umlauts and right-to-left script pass.
	for _, name := range []string{"Jürgen Groß-Öztürk", "محمد", "O'Brien & Co. (Technik)"} {
		e.ok(e.admin, createContact, map[string]any{"a": acct, "n": name})
	}
}

// ---------------------------------------------------------------- store outage (issue 6.6)

// outageDriver makes the database unreachable on demand, failing as
// database/sql does when a connection breaks; with commitLies it commits
// and then reports the commit as failed ("commit failed: bad connection").
type outageDriver struct {
	dialect.Driver
	down, commitLies *atomic.Bool
}

type outageTx struct {
	dialect.Tx
	d *outageDriver
}

var errBadConn = fmt.Errorf("read tcp 127.0.0.1:5432: %w", driver.ErrBadConn)

func (d *outageDriver) Query(ctx context.Context, q string, args, v any) error {
	if d.down.Load() {
		return errBadConn
	}
	return d.Driver.Query(ctx, q, args, v)
}

func (d *outageDriver) Exec(ctx context.Context, q string, args, v any) error {
	if d.down.Load() {
		return errBadConn
	}
	return d.Driver.Exec(ctx, q, args, v)
}

func (d *outageDriver) Tx(ctx context.Context) (dialect.Tx, error) {
	if d.down.Load() {
		return nil, errBadConn
	}
	tx, err := d.Driver.Tx(ctx)
	if err != nil {
		return nil, err
	}
	return &outageTx{Tx: tx, d: d}, nil
}

func (t *outageTx) Commit() error {
	if err := t.Tx.Commit(); err != nil {
		return err
	}
	if t.d.commitLies.Load() {
		return fmt.Errorf("commit failed: %w", driver.ErrBadConn)
	}
	return nil
}

func newOutageEnv(t *testing.T) (*env, *atomic.Bool, *atomic.Bool) {
	down, lies := new(atomic.Bool), new(atomic.Bool)
	opt := database.WithDriver(func(d dialect.Driver) dialect.Driver {
		return &outageDriver{Driver: d, down: down, commitLies: lies}
	})
	return newEnv(t, opt), down, lies
}

// With the store down, a valid token is not "invalid": the answer is 503
// UNAVAILABLE with Retry-After, and the same token works once it is back.
func TestHTTPStoreOutageIsUnavailableNotUnauthenticated(t *testing.T) {
	t.Parallel()
	e, down, _ := newOutageEnv(t)
	down.Store(true)
	for _, c := range []struct {
		name, tok, doc string
	}{
		{"authenticated query", e.admin, `{ me { kind } }`},
		{"authenticated mutation", e.admin, `mutation { logout }`},
		{"anonymous login", "", `mutation { login(input: {login: "admin@example.com", password: "` + adminPassword + `"}) { accessToken } }`},
	} {
		r, hdr := limRaw(e, http.MethodPost, "/graphql", "application/json", mustJSON(map[string]any{"query": c.doc}), limBearer(c.tok))
		if r.Status != http.StatusServiceUnavailable || r.code() != "UNAVAILABLE" {
			t.Errorf("%s while the store is down: want 503 UNAVAILABLE, got %d %s", c.name, r.Status, r.Raw)
			continue
		}
		if hdr.Get("Retry-After") == "" {
			t.Errorf("%s: 503 without Retry-After", c.name)
		}
		if strings.Contains(r.Raw, "bad connection") || strings.Contains(r.Raw, "5432") {
			t.Errorf("%s: driver text reached the client: %s", c.name, r.Raw)
		}
	}
	down.Store(false)
	if d := e.ok(e.admin, `{ me { kind } }`, nil); dig(d, "me", "kind") != "USER" {
		t.Fatalf("the token no longer works after the outage: %v", d)
	}
}

// A commit whose outcome is unknown says so; retrying with the same
// Idempotency-Key returns the first answer and changes nothing twice.
func TestHTTPCommitOutcomeUnknownAndIdempotentRetry(t *testing.T) {
	t.Parallel()
	e, _, lies := newOutageEnv(t)
	acct := e.createAccount("70002")
	doc := `mutation($a: ID!) { createContact(input: {customerAccountID: $a, name: "Retry Safe"}) { id name } }`
	body := mustJSON(map[string]any{"query": doc, "variables": map[string]any{"a": acct}})
	hdr := map[string]string{"Authorization": "Bearer " + e.admin, "Idempotency-Key": "create-retry-safe-0001"}

	lies.Store(true)
	r, h := limRaw(e, http.MethodPost, "/graphql", "application/json", body, hdr)
	lies.Store(false)
	if r.Status != http.StatusServiceUnavailable || r.code() != "UNAVAILABLE" || r.Errors[0].Extensions["reason"] != "OUTCOME_UNKNOWN" {
		t.Fatalf("lost commit: want 503 UNAVAILABLE OUTCOME_UNKNOWN, got %d %s", r.Status, r.Raw)
	}
	if h.Get("Retry-After") == "" || !strings.Contains(r.Errors[0].Message, "may or may not") {
		t.Errorf("the error must say the outcome is unknown: %s", r.Raw)
	}
	// The change was in fact committed; the retry returns it instead of a second contact.
	r2, h2 := limRaw(e, http.MethodPost, "/graphql", "application/json", body, hdr)
	if r2.Status != 200 || len(r2.Errors) > 0 || dig(r2.Data, "createContact", "name") != "Retry Safe" {
		t.Fatalf("retry: %d %s", r2.Status, r2.Raw)
	}
	if !strings.Contains(r2.Raw, `"idempotentReplay":true`) {
		t.Errorf("the retry should be marked as a replay: %s", r2.Raw)
	}
	_ = h2
	count := func() int {
		n, err := e.client.Contact.Query().Where(contact.CustomerAccountID(pulid.ID(acct)), contact.Name("Retry Safe")).
			Count(viewer.SystemContext(context.Background()))
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count(); n != 1 {
		t.Fatalf("want exactly one contact after the retry, got %d", n)
	}
	// Same key, different request: refused.
	other := mustJSON(map[string]any{"query": doc, "variables": map[string]any{"a": e.createAccount("70003")}})
	r3, _ := limRaw(e, http.MethodPost, "/graphql", "application/json", other, hdr)
	if r3.code() != "CONFLICT" || r3.Errors[0].Extensions["reason"] != "IDEMPOTENCY_KEY_REUSED" {
		t.Errorf("key reused for another request: %s", r3.Raw)
	}
	// Another principal's identical key is another key.
	staff := e.createUser("second-admin@example.com", "ADMIN")
	r4, _ := limRaw(e, http.MethodPost, "/graphql", "application/json", body,
		map[string]string{"Authorization": "Bearer " + staff, "Idempotency-Key": "create-retry-safe-0001"})
	if len(r4.Errors) > 0 || strings.Contains(r4.Raw, "idempotentReplay") {
		t.Errorf("another principal got a replay: %s", r4.Raw)
	}
	if n := count(); n != 2 {
		t.Errorf("want 2 contacts after another principal's request, got %d", n)
	}
	// A failed mutation is not remembered: fixing the input and retrying works.
	bad := mustJSON(map[string]any{"query": `mutation($a: ID!) { createContact(input: {customerAccountID: $a, name: ""}) { id } }`, "variables": map[string]any{"a": acct}})
	hk := map[string]string{"Authorization": "Bearer " + e.admin, "Idempotency-Key": "failing-request-0001"}
	if r, _ := limRaw(e, http.MethodPost, "/graphql", "application/json", bad, hk); r.code() != "BAD_USER_INPUT" {
		t.Fatalf("empty name: %s", r.Raw)
	}
	if r, _ := limRaw(e, http.MethodPost, "/graphql", "application/json", bad, hk); r.code() != "BAD_USER_INPUT" || strings.Contains(r.Raw, "idempotentReplay") {
		t.Fatalf("a failed request was replayed: %s", r.Raw)
	}
}

// Concurrent requests with one key make one change.
func TestHTTPIdempotencyKeyConcurrent(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	acct := e.createAccount("70004")
	body := mustJSON(map[string]any{"query": `mutation($a: ID!) { createContact(input: {customerAccountID: $a, name: "Once"}) { id } }`, "variables": map[string]any{"a": acct}})
	hdr := map[string]string{"Authorization": "Bearer " + e.admin, "Idempotency-Key": "concurrent-key-0001"}
	var wg sync.WaitGroup
	ids := make([]string, 6)
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, _ := limRaw(e, http.MethodPost, "/graphql", "application/json", body, hdr)
			if id, ok := dig(r.Data, "createContact", "id").(string); ok {
				ids[i] = id
			} else {
				t.Errorf("concurrent keyed request: %d %s", r.Status, r.Raw)
			}
		}()
	}
	wg.Wait()
	for _, id := range ids {
		if id != ids[0] {
			t.Fatalf("concurrent requests with one key got different answers: %v", ids)
		}
	}
	n, _ := e.client.Contact.Query().Where(contact.Name("Once")).Count(viewer.SystemContext(context.Background()))
	if n != 1 {
		t.Fatalf("want one contact, got %d", n)
	}
}

// Keys are refused where they cannot be honoured.
func TestHTTPIdempotencyKeyRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, c := range []struct{ name, tok, doc, key string }{
		{"login", "", `mutation { login(input: {login: "admin@example.com", password: "` + adminPassword + `"}) { accessToken } }`, "login-key-00001"},
		{"anonymous", "", `mutation { requestPasswordReset(login: "x@example.com") }`, "anon-key-000001"},
		{"secret result", e.admin, `mutation { startTotpEnrollment { secret } }`, "totp-key-000001"},
		{"malformed key", e.admin, `mutation { revokeOtherSessions }`, "bad key with spaces"},
	} {
		r, _ := limRaw(e, http.MethodPost, "/graphql", "application/json", mustJSON(map[string]any{"query": c.doc}),
			map[string]string{"Authorization": "Bearer " + c.tok, "Idempotency-Key": c.key})
		if c.tok == "" {
			r, _ = limRaw(e, http.MethodPost, "/graphql", "application/json", mustJSON(map[string]any{"query": c.doc}),
				map[string]string{"Idempotency-Key": c.key})
		}
		if r.code() != "BAD_USER_INPUT" || r.Errors[0].Extensions["field"] != "Idempotency-Key" || r.Data != nil {
			t.Errorf("%s: want BAD_USER_INPUT on Idempotency-Key, got %s", c.name, r.Raw)
		}
	}
}

// ---------------------------------------------------------------- headers and client address (issue 6.10)

func TestHTTPSecurityHeaders(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, path := range []string{"/", "/healthz", "/readyz", "/graphql?query=" + url.QueryEscape("{ me { kind } }")} {
		_, hdr := limRaw(e, http.MethodGet, path, "", nil, nil)
		if hdr.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("GET %s: X-Content-Type-Options %q", path, hdr.Get("X-Content-Type-Options"))
		}
	}
	r, hdr := limRaw(e, http.MethodPost, "/graphql", "application/json",
		mustJSON(map[string]any{"query": `mutation { login(input: {login: "admin@example.com", password: "` + adminPassword + `"}) { accessToken refreshToken } }`}), nil)
	if len(r.Errors) > 0 {
		t.Fatal(r.Raw)
	}
	secrets.add(dig(r.Data, "login", "accessToken").(string))
	secrets.add(dig(r.Data, "login", "refreshToken").(string))
	if hdr.Get("Cache-Control") != "no-store" {
		t.Errorf("a response with tokens has Cache-Control %q", hdr.Get("Cache-Control"))
	}
}

func TestHTTPForwardedForOnlyFromTrustedProxies(t *testing.T) {
	t.Parallel()
	trusted := envOption(func(d *graph.Deps) {
		d.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("::1/128"), netip.MustParsePrefix("10.0.0.0/8")}
	})
	ipOfFailedLogin := func(e *env, xff string) string {
		t.Helper()
		login := fmt.Sprintf("nobody-%d@example.com", len(xff))
		_, _ = limRaw(e, http.MethodPost, "/graphql", "application/json",
			mustJSON(map[string]any{"query": `mutation($l: String!) { login(input: {login: $l, password: "wrong-password-123"}) { accessToken } }`, "variables": map[string]any{"l": login}}),
			map[string]string{"X-Forwarded-For": xff})
		ev, err := e.client.AuditEvent.Query().Where(auditevent.Action("login.failure")).
			Order(auditevent.ByOccurredAt()).All(viewer.SystemContext(context.Background()))
		if err != nil || len(ev) == 0 {
			t.Fatalf("no login.failure event: %v", err)
		}
		return ev[len(ev)-1].IP
	}
	plain := newEnv(t)
	if ip := ipOfFailedLogin(plain, "203.0.113.9"); ip != "127.0.0.1" && ip != "::1" {
		t.Errorf("without trusted proxies X-Forwarded-For was believed: %s", ip)
	}
	behind := newEnv(t, trusted)
	if ip := ipOfFailedLogin(behind, "203.0.113.9"); ip != "203.0.113.9" {
		t.Errorf("behind a trusted proxy: want 203.0.113.9, got %s", ip)
	}
	// A client-written entry to the left of the real one proves nothing.
	if ip := ipOfFailedLogin(behind, "198.51.100.1, 203.0.113.10, 10.1.2.3"); ip != "203.0.113.10" {
		t.Errorf("spoofed chain: want 203.0.113.10, got %s", ip)
	}
}

// ---------------------------------------------------------------- one mapper (issue 6.12)

// The client-facing text of an internal error is written in one place.
func TestHTTPOneErrorMapper(t *testing.T) {
	var places []string
	for _, dir := range []string{".", "../internal/apperr", "../internal/identity", "../internal/customers"} {
		files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if n := strings.Count(string(b), `"internal error (request "`); n > 0 {
				places = append(places, fmt.Sprintf("%s×%d", f, n))
			}
		}
	}
	if len(places) != 1 || !strings.HasPrefix(places[0], "errors.go") {
		t.Fatalf("the internal-error text must be written once, in errors.go: %v", places)
	}
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
