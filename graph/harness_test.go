package graph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"portier/ent"
	"portier/graph"
	"portier/internal/database"
	"portier/internal/domain"
	"portier/internal/identity"
	"portier/internal/outbox"
	"portier/internal/outbox/smtpsink"
	"portier/internal/password"
	"portier/internal/testutil"
	"portier/internal/token"
	"portier/internal/viewer"
)

// testEpoch is the instant every test environment starts at, pinned before
// any data exists, so that no test depends on the day it runs.
// PORTIER_TEST_NOW (RFC 3339) moves it, e.g. a year ahead, to show that
// (see README "Tests").
var testEpoch = func() time.Time {
	if s := os.Getenv("PORTIER_TEST_NOW"); s != "" {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			panic("PORTIER_TEST_NOW: " + err.Error())
		}
		return t.UTC()
	}
	return time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
}()

// clock is a settable time source shared by the server and the test.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

// Advance moves the clock forward by d.
func (c *clock) Advance(d time.Duration) { c.Set(c.Now().Add(d)) }

// Set moves the clock to t.
func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t.UTC().Truncate(time.Microsecond)
	c.mu.Unlock()
}

type env struct {
	t      testing.TB
	mail   *smtpsink.Sink
	sms    *smsSink
	srv    *httptest.Server
	db     *database.DB
	client *ent.Client
	clock  *clock
	tokens *token.Issuer
	logs   *bytes.Buffer
	admin  string // access token of the bootstrap staff ADMIN
}

const adminPassword = "correct horse battery staple"

const publicURL = "https://portal.example"

type envOption func(*graph.Deps)

func newEnv(t testing.TB, opts ...any) *env {
	t.Helper()
	var dbOpts []database.Option
	var depOpts []envOption
	for _, o := range opts {
		switch o := o.(type) {
		case database.Option:
			dbOpts = append(dbOpts, o)
		case envOption:
			depOpts = append(depOpts, o)
		}
	}
	db := testutil.OpenDB(t, dbOpts...)
	tokens, err := token.NewIssuer(bytes.Repeat([]byte("k"), 32), "portier", "portier-api", 15*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{}
	clk.Set(testEpoch)
	logs := &bytes.Buffer{}
	log := slog.New(slog.NewJSONHandler(io.MultiWriter(&lockedWriter{w: logs}, allLogs), nil))
	deps := graph.Deps{Client: db.Client, DB: db.SQL, Tokens: tokens, Log: log, Now: clk.Now, PublicURL: publicURL}
	for _, o := range depOpts {
		o(&deps)
	}
	srv := httptest.NewServer(graph.NewHandler(deps))
	t.Cleanup(srv.Close)
	sink := smtpsink.Start(t)
	sms := startSMSSink(t)
	worker := outbox.NewWorker(db.Client, outbox.Config{SMTPURL: sink.URL(), SMSWebhookURL: sms.url, Log: log, PollInterval: 20 * time.Millisecond})
	wctx, stop := context.WithCancel(context.Background())
	wdone := make(chan struct{})
	go func() { defer close(wdone); worker.Run(wctx) }()
	t.Cleanup(func() { stop(); <-wdone })
	e := &env{t: t, srv: srv, db: db, client: db.Client, clock: clk, tokens: tokens, logs: logs, mail: sink, sms: sms}
	if _, _, err := identity.BootstrapAdmin(context.Background(), db.Client, "admin@example.com", adminPassword); err != nil {
		t.Fatal(err)
	}
	e.admin = e.login("admin@example.com", adminPassword)
	return e
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

// gqlError is one error of a response.
type gqlError struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

type response struct {
	Status int
	Data   map[string]any
	Errors []gqlError
	Raw    string
}

func (r response) code() string {
	if len(r.Errors) == 0 {
		return ""
	}
	c, _ := r.Errors[0].Extensions["code"].(string)
	return c
}

// do posts a GraphQL document as a client would.
func (e *env) do(tok, query string, vars map[string]any) response {
	e.t.Helper()
	return e.send(e.request(tok, query, vars))
}

// request builds the POST of a GraphQL document.
func (e *env) request(tok, query string, vars map[string]any) *http.Request {
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	return req
}

func (e *env) send(req *http.Request) response {
	e.t.Helper()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var out struct {
		Data   map[string]any `json:"data"`
		Errors []gqlError     `json:"errors"`
	}
	_ = json.Unmarshal(raw, &out)
	return response{Status: res.StatusCode, Data: out.Data, Errors: out.Errors, Raw: string(raw)}
}

// ok runs a document and fails the test on any error.
func (e *env) ok(tok, query string, vars map[string]any) map[string]any {
	e.t.Helper()
	r := e.do(tok, query, vars)
	if len(r.Errors) > 0 || r.Data == nil {
		e.t.Fatalf("unexpected errors: %s", r.Raw)
	}
	return r.Data
}

// wantCode runs a document and asserts the first error's code.
func (e *env) wantCode(tok, query string, vars map[string]any, code string) response {
	e.t.Helper()
	r := e.do(tok, query, vars)
	if r.code() != code {
		e.t.Fatalf("want error code %s, got %s", code, r.Raw)
	}
	return r
}

func (e *env) login(login, pw string) string {
	e.t.Helper()
	d := e.ok("", `mutation($l: String!, $p: String!) { login(input: {login: $l, password: $p}) { accessToken expiresAt } }`,
		map[string]any{"l": login, "p": pw})
	return secrets.add(dig(d, "login", "accessToken").(string))
}

// dig walks a decoded JSON value by keys (strings) and indexes (ints).
func dig(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			a, _ := v.([]any)
			if k >= len(a) {
				return nil
			}
			v = a[k]
		}
	}
	return v
}

// createUser makes a verified customer user (or staff with a role) directly
// in the database; sign-up is not what these tests are about.
func (e *env) createUser(email string, staff domain.StaffRole) string {
	e.t.Helper()
	ctx := viewer.SystemContext(context.Background())
	h, err := password.Hash(ctx, adminPassword)
	if err != nil {
		e.t.Fatal(err)
	}
	q := e.client.UserAccount.Create().
		SetEmail(email).SetUsername(strings.NewReplacer("@", "_", ".", "_").Replace(email)).SetName(email).
		SetPasswordHash(h).SetEmailVerifiedAt(e.clock.Now())
	if staff != "" {
		q.SetStaffRole(staff)
	}
	if err := q.Exec(ctx); err != nil {
		e.t.Fatal(err)
	}
	return e.login(email, adminPassword)
}

const createAccountDoc = `mutation($n: String!, $name: String!, $tz: String, $d: [String!]) {
  createCustomerAccount(input: {number: $n, name: $name, timeZone: $tz, organisationDomains: $d}) { id number timeZone }
}`

// testOrgDomains are the confirmed organisation domains of every account
// createAccount makes: a BUSINESS account admits new contacts and
// invitations only with addresses in them (exact domain match).
// New tests use @a.example and @example.org addresses.
var testOrgDomains = []string{
	"a.example", "b.example", "c.example", "d.example", "example.org", "example.com", "example.de", "example.test",
	"firma.de", "neu.de", "a.de", "b.de", "y.de", "a.test", "b.test", "x.test", "matrix.test",
	"notify.test", "kunde.example", "muster.example", "fremd.example", "consent.test", "db.test", "deny.test", "gone.test", "limit.test", "muster.test", "par.test", "provider.test", "rotate.test", "scoped.test", "week.test", "notify2.test", "notify3.test", "lifecycle.test",
	"agency.example", "ag.example", "ag5.example", "client.example", "customer.example", "hoster.example",
	"mail.example", "other.example", "p.example", "provider.example", "r1.example", "solo.example",
	"c5.example", "k1.example", "k2.example", "k4.example",
}

// createAccount makes a BUSINESS account (by the staff ADMIN) whose
// confirmed organisation domains are testOrgDomains and <number>.example.
func (e *env) createAccount(number string) string {
	e.t.Helper()
	domains := append(slices.Clone(testOrgDomains), strings.ToLower(number)+".example")
	d := e.ok(e.admin, createAccountDoc, map[string]any{"n": number, "name": "Customer " + number, "d": domains})
	return dig(d, "createCustomerAccount", "id").(string)
}

const createContactDoc = `mutation($a: ID!, $name: String!, $email: String, $roles: [Role!]) {
  createContact(input: {customerAccountID: $a, name: $name, email: $email, roles: $roles}) {
    id name email userID roleAssignments { role validUntil endedAt }
  }
}`

func (e *env) createContact(tok, account, name, email string, roles ...string) string {
	e.t.Helper()
	d := e.ok(tok, createContactDoc, map[string]any{"a": account, "name": name, "email": email, "roles": roles})
	return dig(d, "createContact", "id").(string)
}

// customerUser creates a user with a contact on account holding roles, and
// returns the user's access token and the contact's ID.
func (e *env) customerUser(account, email string, roles ...string) (string, string) {
	e.t.Helper()
	tok := e.createUser(email, "")
	contact := e.createContact(e.admin, account, email, email, roles...)
	return tok, contact
}
