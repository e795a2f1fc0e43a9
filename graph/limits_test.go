package graph_test

// Tests of the API conventions (docs/api.md) that are not about what a caller
// may do but about how the API behaves at its edges: request limits, the
// HTTP transports, error codes, the per-mutation transaction, health, CORS,
// request ids and anonymous access. They go through the real HTTP handler
// with real GraphQL documents.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"entgo.io/ent/dialect"
	"github.com/99designs/gqlgen/graphql"

	"portier/ent"
	"portier/graph"
	"portier/internal/database"
	"portier/internal/domain"
	"portier/internal/viewer"
)

// ---------------------------------------------------------------- helpers

// limRaw sends a request with a raw body and optional headers.
func limRaw(e *env, method, path, contentType string, body []byte, hdr map[string]string) (response, http.Header) {
	e.t.Helper()
	var rd io.Reader // a nil interface, not a typed nil, when there is no body
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(res.Body)
	var out struct {
		Data   map[string]any `json:"data"`
		Errors []gqlError     `json:"errors"`
	}
	_ = json.Unmarshal(buf.Bytes(), &out)
	return response{Status: res.StatusCode, Data: out.Data, Errors: out.Errors, Raw: buf.String()}, res.Header
}

func limBearer(tok string) map[string]string {
	if tok == "" {
		return nil
	}
	return map[string]string{"Authorization": "Bearer " + tok}
}

// limGET runs a GraphQL document by GET.
func limGET(e *env, tok, query string) response {
	e.t.Helper()
	r, _ := limRaw(e, http.MethodGet, "/graphql?query="+url.QueryEscape(query), "", nil, limBearer(tok))
	return r
}

// limLeaks are fragments that must never reach a client: SQL, driver and
// Go runtime text.
var limLeaks = []struct {
	s        string
	caseFold bool
}{
	{"INSERT", false}, {"SELECT", false}, {"UNIQUE", false},
	{"constraint", true}, {"sql", true}, {"goroutine", true}, {".go:", true}, {"pq:", true},
	{"runtime error", true}, {"ent:", true},
}

// limCheckErrors asserts what docs/api.md, 'Errors' asks of every error: a code, and no
// internals in the message.
func limCheckErrors(t *testing.T, r response) {
	t.Helper()
	for i, e := range r.Errors {
		if c, _ := e.Extensions["code"].(string); c == "" {
			t.Errorf("error %d has no extensions.code: %s", i, r.Raw)
		}
		for _, l := range limLeaks {
			m := e.Message
			s := l.s
			if l.caseFold {
				m, s = strings.ToLower(m), strings.ToLower(s)
			}
			if strings.Contains(m, s) {
				t.Errorf("error %d leaks internals (%q): %s", i, l.s, r.Raw)
			}
		}
	}
	if r.Status >= 500 {
		t.Errorf("HTTP %d: %s", r.Status, r.Raw)
	}
}

// limWantCode asserts the first error's code and that every error is coded.
func limWantCode(t *testing.T, r response, code string) {
	t.Helper()
	if r.code() != code {
		t.Fatalf("want error code %s, got HTTP %d %s", code, r.Status, r.Raw)
	}
	limCheckErrors(t, r)
}

// limWantField asserts the first error's extensions.field.
func limWantField(t *testing.T, r response, field string) {
	t.Helper()
	if len(r.Errors) == 0 {
		t.Fatalf("want an error on field %s, got %s", field, r.Raw)
	}
	if f, _ := r.Errors[0].Extensions["field"].(string); f != field {
		t.Errorf("want extensions.field %q, got %q: %s", field, f, r.Raw)
	}
}

func limOK(t *testing.T, r response) map[string]any {
	t.Helper()
	if len(r.Errors) > 0 || r.Data == nil {
		t.Fatalf("unexpected errors (HTTP %d): %s", r.Status, r.Raw)
	}
	return r.Data
}

// limAccountExists asks, as admin by POST, whether a customer number exists.
func limAccountExists(e *env, number string) bool {
	e.t.Helper()
	d := e.ok(e.admin, `query($n: String!) { customerAccount(number: $n) { id } }`, map[string]any{"n": number})
	return dig(d, "customerAccount") != nil
}

// limPaddedBody is a JSON request body of exactly n bytes running `{ me { kind } }`.
func limPaddedBody(t *testing.T, n int) []byte {
	t.Helper()
	head, tail := `{"query":"{ me { kind } }`, `"}`
	if n < len(head)+len(tail) {
		t.Fatalf("body of %d bytes is too small", n)
	}
	b := make([]byte, 0, n)
	b = append(b, head...)
	b = append(b, bytes.Repeat([]byte(" "), n-len(head)-len(tail))...)
	b = append(b, tail...)
	return b
}

// ---------------------------------------------------------------- 1. body cap

func TestLimitsBodyCap(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	auth := limBearer(e.admin)

	for _, n := range []int{graph.MaxBodyBytes + 1, graph.MaxBodyBytes + 64*1024} {
		r, _ := limRaw(e, http.MethodPost, "/graphql", "application/json", limPaddedBody(t, n), auth)
		if r.Status != http.StatusRequestEntityTooLarge {
			t.Errorf("body of %d bytes: want HTTP 413, got %d %.300s", n, r.Status, r.Raw)
		}
		limWantCode(t, r, "BAD_USER_INPUT")
		if r.Data != nil {
			t.Errorf("body of %d bytes: want no data, got %.300s", n, r.Raw)
		}
	}

	for _, n := range []int{graph.MaxBodyBytes, graph.MaxBodyBytes - 100} {
		r, _ := limRaw(e, http.MethodPost, "/graphql", "application/json", limPaddedBody(t, n), auth)
		if r.Status == http.StatusRequestEntityTooLarge {
			t.Fatalf("body of %d bytes (cap %d) refused as too large", n, graph.MaxBodyBytes)
		}
		d := limOK(t, r)
		if k := dig(d, "me", "kind"); k != "USER" {
			t.Errorf("body of %d bytes: want me.kind USER, got %v", n, k)
		}
	}
}

// ---------------------------------------------------------------- 2. batching

func TestLimitsBatchingRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, body := range []string{
		`[{"query":"{ me { kind } }"},{"query":"{ me { kind } }"}]`,
		" \n\t[{\"query\":\"{ me { kind } }\"}]",
		`[{"query":"mutation { createCustomerAccount(input: {number: \"BATCH-1\", name: \"Batch\"}) { id } }"}]`,
	} {
		r, _ := limRaw(e, http.MethodPost, "/graphql", "application/json", []byte(body), limBearer(e.admin))
		limWantCode(t, r, "BAD_USER_INPUT")
		if r.Status != http.StatusBadRequest {
			t.Errorf("batched body: want HTTP 400, got %d %s", r.Status, r.Raw)
		}
		if r.Data != nil {
			t.Errorf("batched body answered with data: %s", r.Raw)
		}
		if !strings.Contains(strings.ToLower(r.Errors[0].Message), "batch") {
			t.Errorf("the message should say that batching is not supported: %s", r.Raw)
		}
	}
	if limAccountExists(e, "BATCH-1") {
		t.Error("a mutation sent in a batch was executed")
	}
}

// ---------------------------------------------------------------- 3. GET is for queries only

func TestLimitsMutationsOnlyByPOST(t *testing.T) {
	t.Parallel()
	e := newEnv(t)

	d := limOK(t, limGET(e, e.admin, `{ me { kind } }`))
	if k := dig(d, "me", "kind"); k != "USER" {
		t.Fatalf("GET query: want me.kind USER, got %v", k)
	}

	for _, q := range []struct{ number, path string }{
		{"GETMUT-1", "/graphql?query=" + url.QueryEscape(`mutation { createCustomerAccount(input: {number: "GETMUT-1", name: "By GET"}) { id } }`)},
		// A document with a query and a mutation, selecting the mutation.
		{"GETMUT-2", "/graphql?operationName=M&query=" + url.QueryEscape(`query Q { me { kind } } mutation M { createCustomerAccount(input: {number: "GETMUT-2", name: "By GET"}) { id } }`)},
	} {
		r, _ := limRaw(e, http.MethodGet, q.path, "", nil, limBearer(e.admin))
		if r.code() == "" {
			t.Errorf("mutation by GET: want a coded error, got HTTP %d %s", r.Status, r.Raw)
		}
		limCheckErrors(t, r)
		if r.Status == http.StatusOK || r.Data != nil {
			t.Errorf("mutation by GET: want a refusal without data, got HTTP %d %s", r.Status, r.Raw)
		}
		if limAccountExists(e, q.number) {
			t.Errorf("mutation by GET was executed: account %s exists", q.number)
		}
	}
}

// ---------------------------------------------------------------- 4. no form transports

func TestLimitsNoFormOrMultipartTransport(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	mut := func(n string) string {
		return `mutation { createCustomerAccount(input: {number: "` + n + `", name: "Form"}) { id } }`
	}

	// Form bodies in the shapes gqlgen's UrlEncodedForm transport would take.
	for name, body := range map[string]string{
		"form query":         url.Values{"query": {`{ me { kind } }`}}.Encode(),
		"form mutation":      url.Values{"query": {mut("FORM-1")}}.Encode(),
		"form with JSON":     `{"query":` + strconv.Quote(mut("FORM-2")) + `}`,
		"form as plain text": "query=" + mut("FORM-3"),
	} {
		r, _ := limRaw(e, http.MethodPost, "/graphql", "application/x-www-form-urlencoded", []byte(body), limBearer(e.admin))
		if r.code() == "" || r.Status == http.StatusOK || r.Data != nil {
			t.Errorf("%s: want a coded refusal, got HTTP %d %s", name, r.Status, r.Raw)
		}
		limCheckErrors(t, r)
	}

	// A multipart request as the GraphQL multipart request spec (file
	// uploads) has it: operations, then map.
	var mp bytes.Buffer
	w := multipart.NewWriter(&mp)
	ops, _ := json.Marshal(map[string]any{"query": mut("MULTI-1"), "variables": map[string]any{}})
	_ = w.WriteField("operations", string(ops))
	_ = w.WriteField("map", `{}`)
	_ = w.Close()
	r, _ := limRaw(e, http.MethodPost, "/graphql", w.FormDataContentType(), mp.Bytes(), limBearer(e.admin))
	if r.code() == "" || r.Status == http.StatusOK || r.Data != nil {
		t.Errorf("multipart POST: want a coded refusal, got HTTP %d %s", r.Status, r.Raw)
	}
	limCheckErrors(t, r)

	// A JSON body with a non-JSON content type is not taken either.
	body, _ := json.Marshal(map[string]any{"query": mut("PLAIN-1")})
	r, _ = limRaw(e, http.MethodPost, "/graphql", "text/plain", body, limBearer(e.admin))
	if r.code() == "" || r.Status == http.StatusOK || r.Data != nil {
		t.Errorf("text/plain POST: want a coded refusal, got HTTP %d %s", r.Status, r.Raw)
	}
	limCheckErrors(t, r)

	for _, n := range []string{"FORM-1", "FORM-2", "FORM-3", "MULTI-1", "PLAIN-1"} {
		if limAccountExists(e, n) {
			t.Errorf("a mutation sent by a refused transport was executed: %s exists", n)
		}
	}
}

// ---------------------------------------------------------------- 5. depth

// limChain is customerAccounts → edges → node → k × defaultAgency → id:
// nested 3 + k + 1 levels deep.
func limChain(k int) string {
	return strings.Repeat("defaultAgency { ", k) + "id" + strings.Repeat(" }", k)
}

func limDepthQuery(depth int) string {
	return `{ customerAccounts(first: 1) { edges { node { ` + limChain(depth-4) + ` } } } }`
}

// limDepthQueryFragment is limDepthQuery with the chain in a named fragment:
// the same nesting.
func limDepthQueryFragment(depth int) string {
	return `{ customerAccounts(first: 1) { edges { node { ...Chain } } } }
fragment Chain on CustomerAccount { ` + limChain(depth-4) + ` }`
}

func TestLimitsDepth(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.createAccount("DEPTH-1")

	// A reasonable query of depth 7 passes.
	limOK(t, e.do(e.admin, `{ me { memberships { customerAccount { contacts(first: 5) { edges { node { id } } } } } } }`, nil))

	// Exactly MaxDepth passes, inline and through fragments.
	d := limOK(t, e.do(e.admin, limDepthQuery(graph.MaxDepth), nil))
	if dig(d, "customerAccounts", "edges", 0, "node") == nil {
		t.Fatalf("depth %d: want the account, got %v", graph.MaxDepth, d)
	}
	limOK(t, e.do(e.admin, `{ customerAccounts(first: 1) { edges { node { ... on CustomerAccount { `+limChain(graph.MaxDepth-4)+` } } } } }`, nil))

	// One level more is refused before anything runs.
	for name, q := range map[string]string{
		"inline":          limDepthQuery(graph.MaxDepth + 1),
		"fragment":        limDepthQueryFragment(graph.MaxDepth + 1),
		"inline fragment": `{ customerAccounts(first: 1) { edges { node { ... on CustomerAccount { ` + limChain(graph.MaxDepth-3) + ` } } } } }`,
		"far too deep":    limDepthQuery(40),
		"contacts cycle": `{ customerAccounts(first: 1) { edges { node { contacts(first: 1) { edges { node {
			customerAccount { contacts(first: 1) { edges { node { customerAccount { contacts(first: 1) { edges { node { id } } } } } } } } } } } } } } }`,
	} {
		r := e.do(e.admin, q, nil)
		if r.code() != "BAD_USER_INPUT" {
			t.Errorf("%s: want BAD_USER_INPUT for a query deeper than %d, got HTTP %d %s", name, graph.MaxDepth, r.Status, r.Raw)
			continue
		}
		limCheckErrors(t, r)
		if r.Data != nil {
			t.Errorf("%s: a too deep query returned data: %s", name, r.Raw)
		}
		if !strings.Contains(r.Errors[0].Message, "deep") {
			t.Errorf("%s: the message should say the query is too deep: %s", name, r.Raw)
		}
	}
}

// A named fragment spread is not a level of nesting: a query of exactly
// MaxDepth levels must pass whether its selections are written inline or in
// a fragment.
func TestLimitsDepthCountsFieldsNotFragmentSpreads(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.do(e.admin, limDepthQueryFragment(graph.MaxDepth), nil)
	if len(r.Errors) > 0 {
		t.Fatalf("a query %d levels deep written with a named fragment was refused (the same query inline passes): %s", graph.MaxDepth, r.Raw)
	}
}

// ---------------------------------------------------------------- 6. page size

func TestLimitsPageSize(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	acct := e.createAccount("PAGE-1")
	e.createContact(e.admin, acct, "Paged Person", "paged@example.com")

	limOK(t, e.do(e.admin, `{ customerAccounts(first: 100) { totalCount edges { node { id } } } }`, nil))
	limOK(t, e.do(e.admin, `{ customerAccounts(last: 100) { totalCount } }`, nil))
	limOK(t, e.do(e.admin, `{ customerAccounts(first: 1) { edges { node { contacts(first: 100) { totalCount } } } } }`, nil))

	for _, c := range []struct {
		name, query, field string
		vars               map[string]any
	}{
		{"first 101", `{ customerAccounts(first: 101) { totalCount } }`, "first", nil},
		// Refused by the complexity limit before the page size cap: any
		// code, no field.
		{"first 1000000", `{ customerAccounts(first: 1000000) { edges { node { id } } } }`, "", nil},
		{"last 101", `{ customerAccounts(last: 101) { totalCount } }`, "last", nil},
		{"negative first", `{ customerAccounts(first: -1) { totalCount } }`, "first", nil},
		{"first by variable", `query($n: Int) { customerAccounts(first: $n) { totalCount } }`, "first", map[string]any{"n": 101}},
		{"userAccounts", `{ userAccounts(first: 101) { totalCount } }`, "first", nil},
		{"auditEvents", `{ auditEvents(first: 101) { totalCount } }`, "first", nil},
		{"nested contacts", `{ customerAccounts(first: 10) { edges { node { contacts(first: 500) { totalCount } } } } }`, "first", nil},
		{"contacts of one account", `{ customerAccount(number: "PAGE-1") { contacts(first: 500) { totalCount } } }`, "first", nil},
		{"nested contacts last", `{ customerAccount(number: "PAGE-1") { contacts(last: 101) { totalCount } } }`, "last", nil},
	} {
		r := e.do(e.admin, c.query, c.vars)
		if c.field == "" {
			if r.code() == "" || r.Data != nil {
				t.Errorf("%s: want a coded refusal, got HTTP %d %s", c.name, r.Status, r.Raw)
			}
			limCheckErrors(t, r)
			continue
		}
		if r.code() != "BAD_USER_INPUT" {
			t.Errorf("%s: want BAD_USER_INPUT, got HTTP %d %s", c.name, r.Status, r.Raw)
			continue
		}
		limCheckErrors(t, r)
		if c.field != "" {
			limWantField(t, r, c.field)
		}
	}
}

// A connection asked for without first or last must not return more than
// MaxPageSize elements either: the cap is not to be bypassed by leaving
// first out. (A default page, or an error asking for first, are both fine.)
func TestLimitsPageSizeWithoutFirst(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := viewer.SystemContext(context.Background())
	n := graph.MaxPageSize + 5
	accts := make([]*ent.CustomerAccountCreate, n)
	for i := range accts {
		accts[i] = e.client.CustomerAccount.Create().SetNumber(fmt.Sprintf("BULK-%03d", i)).SetName("Bulk")
	}
	created, err := e.client.CustomerAccount.CreateBulk(accts...).Save(ctx)
	if err != nil {
		t.Fatal(err)
	}
	contacts := make([]*ent.ContactCreate, n)
	for i := range contacts {
		contacts[i] = e.client.Contact.Create().SetCustomerAccountID(created[0].ID).SetName(fmt.Sprintf("Bulk %d", i))
	}
	if err := e.client.Contact.CreateBulk(contacts...).Exec(ctx); err != nil {
		t.Fatal(err)
	}

	for name, c := range map[string]struct {
		query string
		edges []any
	}{
		"customerAccounts": {`{ customerAccounts { edges { node { id } } } }`, []any{"customerAccounts", "edges"}},
		"contacts":         {`{ customerAccount(number: "BULK-000") { contacts { edges { node { id } } } } }`, []any{"customerAccount", "contacts", "edges"}},
	} {
		r := e.do(e.admin, c.query, nil)
		if len(r.Errors) > 0 {
			limWantCode(t, r, "BAD_USER_INPUT")
			continue
		}
		if got := len(dig(r.Data, c.edges...).([]any)); got > graph.MaxPageSize {
			t.Errorf("%s without first returned %d elements, more than the page size cap of %d", name, got, graph.MaxPageSize)
		}
	}
	// Nested under a paginated root, the contacts are loaded eagerly by the
	// root's field collection, which reads the document: the default page
	// is written into the document, so it bounds that load too.
	d := e.ok(e.admin, `{ customerAccounts(first: 1, where: {number: "BULK-000"}) { edges { node { contacts { totalCount pageInfo { hasNextPage } edges { node { id } } } } } } }`, nil)
	conn := dig(d, "customerAccounts", "edges", 0, "node", "contacts")
	if got := len(dig(conn, "edges").([]any)); got != graph.MaxPageSize || dig(conn, "pageInfo", "hasNextPage") != true || dig(conn, "totalCount") != float64(n) {
		t.Errorf("nested contacts without first: %d edges, %v", got, conn)
	}
}

// ---------------------------------------------------------------- 7. complexity

func TestLimitsComplexity(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.createAccount("CPLX-1")
	q := func(outer int) string {
		return fmt.Sprintf(`{ customerAccounts(first: %d) { edges { node { id number name
			contacts(first: 100) { edges { node { id name email roleAssignments { role validUntil } } } } } } } }`, outer)
	}
	// 1 + 100 × (edges 1 + node 1 + 3 + contacts (1 + 100 × (edges 1 + node 1 + 3 + ra (1 + 2)))) ≈ 80 000
	r := e.do(e.admin, q(100), nil)
	if r.code() == "" {
		t.Fatalf("a query over the complexity limit of %d: want a coded error, got HTTP %d %.500s", graph.MaxComplexity, r.Status, r.Raw)
	}
	limCheckErrors(t, r)
	if r.Data != nil {
		t.Errorf("a too complex query returned data: %.500s", r.Raw)
	}
	if !strings.Contains(strings.ToLower(r.Errors[0].Message), "complexity") {
		t.Errorf("the message should mention complexity: %s", r.Raw)
	}
	t.Logf("complexity refusal: HTTP %d %s", r.Status, r.Raw)

	// A quarter of it passes: 1 + 25 × (… ≈ 800) ≈ 20 000.
	limOK(t, e.do(e.admin, q(25), nil))
}

// ---------------------------------------------------------------- 8. parser tokens

func TestLimitsParserTokens(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.createAccount("TOKENS-1")
	// About 20 tokens of frame plus n strings.
	q := func(n int) string {
		return `{ customerAccounts(first: 1, where: {numberIn: [` + strings.Repeat(`"TOKENS-1" `, n) + `]}) { totalCount } }`
	}
	d := limOK(t, e.do(e.admin, q(graph.MaxParserTokens-100), nil))
	if c := dig(d, "customerAccounts", "totalCount"); c != float64(1) {
		t.Errorf("want totalCount 1, got %v", c)
	}

	r := e.do(e.admin, q(graph.MaxParserTokens+100), nil)
	if r.code() == "" {
		t.Fatalf("a document of more than %d tokens: want a coded error, got HTTP %d %.500s", graph.MaxParserTokens, r.Status, r.Raw)
	}
	limCheckErrors(t, r)
	if r.Data != nil {
		t.Errorf("an over-long document returned data: %.300s", r.Raw)
	}
	t.Logf("token limit refusal: HTTP %d %s", r.Status, r.Raw)
}

// ---------------------------------------------------------------- 9. every error is coded

func TestLimitsEveryErrorHasACode(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	acct := e.createAccount("CODES-1")
	contact := e.createContact(e.admin, acct, "Coded Person", "coded@example.com", "PORTAL_ACCESS")

	for _, c := range []struct {
		name, query string
		vars        map[string]any
	}{
		{"syntax error", `{ me { kind }`, nil},
		{"garbage", `this is not graphql`, nil},
		{"empty document", ``, nil},
		{"unknown field", `{ me { kind nope } }`, nil},
		{"unknown argument", `{ me(x: 1) { kind } }`, nil},
		{"missing selection", `{ me }`, nil},
		{"wrong variable type", `query($n: Int) { customerAccounts(first: $n) { totalCount } }`, map[string]any{"n": "ten"}},
		{"object for a string", createAccountDoc, map[string]any{"n": map[string]any{"x": 1}, "name": "X"}},
		{"null for non-null", createAccountDoc, map[string]any{"n": nil, "name": "X"}},
		{"missing variable", createAccountDoc, map[string]any{"name": "X"}},
		{"undeclared variable", `{ customerAccount(number: $n) { id } }`, nil},
		{"unknown operation name", `query A { me { kind } }`, map[string]any{"operationName": "B"}},
		{"ambiguous operation", `query A { me { kind } } query B { me { kind } }`, nil},
	} {
		var r response
		if op, ok := c.vars["operationName"]; ok {
			body, _ := json.Marshal(map[string]any{"query": c.query, "operationName": op})
			r, _ = limRaw(e, http.MethodPost, "/graphql", "application/json", body, limBearer(e.admin))
		} else {
			r = e.do(e.admin, c.query, c.vars)
		}
		if len(r.Errors) == 0 {
			t.Errorf("%s: want an error, got %s", c.name, r.Raw)
			continue
		}
		if r.code() == "" {
			t.Errorf("%s: error without extensions.code: HTTP %d %s", c.name, r.Status, r.Raw)
		}
		limCheckErrors(t, r)
		t.Logf("%s: HTTP %d %s", c.name, r.Status, r.Raw)
	}

	// An invalid enum value in a variable is the client's mistake, named.
	r := e.do(e.admin, createContactDoc, map[string]any{"a": acct, "name": "King", "email": "king@example.com", "roles": []string{"KING"}})
	t.Logf("invalid enum: HTTP %d %s", r.Status, r.Raw)
	limCheckErrors(t, r)
	if r.code() != "BAD_USER_INPUT" {
		t.Errorf("invalid enum in a variable: want BAD_USER_INPUT, got HTTP %d %s", r.Status, r.Raw)
	}
	if len(r.Errors) == 0 {
		t.Fatalf("invalid enum: want an error, got %s", r.Raw)
	}
	if f, _ := r.Errors[0].Extensions["field"].(string); !strings.Contains(f, "roles") {
		t.Errorf("invalid enum: want extensions.field naming roles, got %q: %s", f, r.Raw)
	}

	// The same inline: a validation error of the document, coded.
	r = e.do(e.admin, `mutation($a: ID!) { createContact(input: {customerAccountID: $a, name: "King", roles: [KING]}) { id } }`, map[string]any{"a": acct})
	t.Logf("invalid enum inline: HTTP %d %s", r.Status, r.Raw)
	if r.code() == "" || r.Data != nil {
		t.Errorf("invalid enum inline: want a coded refusal, got HTTP %d %s", r.Status, r.Raw)
	}
	limCheckErrors(t, r)

	// An invalid Date literal.
	r = e.do(e.admin, `mutation($c: ID!) { removeRole(input: {contactID: $c, role: PORTAL_ACCESS, lastDay: "2026-13-45"}) { id } }`, map[string]any{"c": contact})
	t.Logf("invalid date: HTTP %d %s", r.Status, r.Raw)
	limWantCode(t, r, "BAD_USER_INPUT")
	limWantField(t, r, "input.lastDay")

	// An invalid Date in a variable.
	r = e.do(e.admin, `mutation($c: ID!, $d: Date) { removeRole(input: {contactID: $c, role: PORTAL_ACCESS, lastDay: $d}) { id } }`, map[string]any{"c": contact, "d": "31.12.2026"})
	t.Logf("invalid date variable: HTTP %d %s", r.Status, r.Raw)
	limWantCode(t, r, "BAD_USER_INPUT")
	if f, _ := r.Errors[0].Extensions["field"].(string); f == "" {
		t.Errorf("invalid date variable: want extensions.field, got none: %s", r.Raw)
	}

	// Nothing of the above changed the role.
	d := e.ok(e.admin, `query($n: String!) { customerAccount(number: $n) { contacts { edges { node { roleAssignments { role validUntil endedAt } } } } } }`,
		map[string]any{"n": "CODES-1"})
	ra := dig(d, "customerAccount", "contacts", "edges", 0, "node", "roleAssignments", 0)
	if dig(ra, "validUntil") != nil || dig(ra, "endedAt") != nil {
		t.Errorf("a refused removeRole changed the role: %v", ra)
	}
}

// extensions.field names the offending input. An error that concerns no
// input field (a syntax error, an unknown field, a too deep or too complex
// query) should not carry the key at all rather than an empty string.
func TestLimitsErrorFieldIsNeverEmpty(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for name, q := range map[string]string{
		"syntax error":  `{ me { kind }`,
		"unknown field": `{ me { nope } }`,
		"too deep":      limDepthQuery(graph.MaxDepth + 1),
		"too complex":   `{ customerAccounts(first: 100) { edges { node { contacts(first: 100) { edges { node { id name email phone } } } } } } }`,
	} {
		r := e.do(e.admin, q, nil)
		if len(r.Errors) == 0 {
			t.Errorf("%s: want an error, got %s", name, r.Raw)
			continue
		}
		limCheckErrors(t, r)
		for _, er := range r.Errors {
			if f, ok := er.Extensions["field"]; ok && f == "" {
				t.Errorf("%s: extensions.field is present but empty: %s", name, r.Raw)
			}
		}
	}
}

// ---------------------------------------------------------------- 10. validation errors name the field

func TestLimitsValidationErrorsNameTheField(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	acct := e.createAccount("VAL-1")
	e.createContact(e.admin, acct, "Taken", "taken@example.com")

	for _, c := range []struct {
		name, query, code, field string
		vars                     map[string]any
	}{
		{"short number", createAccountDoc, "BAD_USER_INPUT", "input.number", map[string]any{"n": "x", "name": "X"}},
		{"number with spaces", createAccountDoc, "BAD_USER_INPUT", "input.number", map[string]any{"n": "A B C", "name": "X"}},
		{"bad time zone", createAccountDoc, "BAD_USER_INPUT", "input.timeZone", map[string]any{"n": "VAL-2", "name": "X", "tz": "Mars/Olympus"}},
		{"empty name", createAccountDoc, "BAD_USER_INPUT", "input.name", map[string]any{"n": "VAL-3", "name": "  "}},
		{"duplicate number", createAccountDoc, "CONFLICT", "input.number", map[string]any{"n": "VAL-1", "name": "X"}},
		{"duplicate number other case", createAccountDoc, "CONFLICT", "input.number", map[string]any{"n": "val-1", "name": "X"}},
		{"bad email", createContactDoc, "BAD_USER_INPUT", "input.email", map[string]any{"a": acct, "name": "X", "email": "not-an-email"}},
		{"duplicate email", createContactDoc, "CONFLICT", "input.email", map[string]any{"a": acct, "name": "X", "email": "TAKEN@example.com"}},
	} {
		r := e.do(e.admin, c.query, c.vars)
		if r.code() != c.code {
			t.Errorf("%s: want %s, got HTTP %d %s", c.name, c.code, r.Status, r.Raw)
			continue
		}
		limCheckErrors(t, r)
		limWantField(t, r, c.field)
	}
	for _, n := range []string{"VAL-2", "VAL-3"} {
		if limAccountExists(e, n) {
			t.Errorf("a refused createCustomerAccount created %s", n)
		}
	}
}

// ---------------------------------------------------------------- internal errors

// limFailingDriver makes reads of one table fail (or panic) once armed, as a
// broken database would, with an error text full of SQL.
type limFailingDriver struct {
	dialect.Driver
	table string
	armed *atomic.Bool
	panic bool
}

func (d *limFailingDriver) Query(ctx context.Context, q string, args, v any) error {
	if d.armed.Load() && strings.Contains(q, d.table) {
		msg := `pq: relation "` + d.table + `" violates constraint UNIQUE in SELECT * FROM ` + d.table + ` (sql secret-driver-detail)`
		if d.panic {
			panic("boom secret-panic-value")
		}
		return errors.New(msg)
	}
	return d.Driver.Query(ctx, q, args, v)
}

func limArmedDriver(table string, panics bool) (database.Option, *atomic.Bool) {
	armed := new(atomic.Bool)
	return database.WithDriver(func(d dialect.Driver) dialect.Driver {
		return &limFailingDriver{Driver: d, table: table, armed: armed, panic: panics}
	}), armed
}

// A database error in a resolver is INTERNAL: the client gets the request id,
// the log gets the cause.
func TestLimitsDatabaseErrorIsInternal(t *testing.T) {
	t.Parallel()
	opt, armed := limArmedDriver("audit_events", false)
	e := newEnv(t, opt)
	armed.Store(true)

	const rid = "dberr-request-0001"
	body, _ := json.Marshal(map[string]any{"query": `{ auditEvents(first: 5) { totalCount edges { node { action } } } }`})
	r, hdr := limRaw(e, http.MethodPost, "/graphql", "application/json", body,
		map[string]string{"Authorization": "Bearer " + e.admin, "X-Request-ID": rid})
	t.Logf("database error: HTTP %d %s", r.Status, r.Raw)
	if hdr.Get("X-Request-ID") != rid {
		t.Errorf("want X-Request-ID %s echoed, got %q", rid, hdr.Get("X-Request-ID"))
	}
	limWantCode(t, r, "INTERNAL")
	if !strings.Contains(r.Errors[0].Message, rid) {
		t.Errorf("the INTERNAL message should carry the request id %s: %s", rid, r.Raw)
	}
	if strings.Contains(r.Raw, "secret-driver-detail") || strings.Contains(r.Raw, "audit_events") {
		t.Errorf("the database error reached the client: %s", r.Raw)
	}
	logs := e.logs.String()
	if !strings.Contains(logs, "secret-driver-detail") || !strings.Contains(logs, rid) {
		t.Errorf("the log should hold the cause and the request id %s; log:\n%s", rid, logs)
	}
}

// A panic deep in a resolver (here: in the database driver) through the real
// handler: INTERNAL with the request id; the panic value only in the log.
func TestLimitsPanicIsInternal(t *testing.T) {
	t.Parallel()
	opt, armed := limArmedDriver("customer_accounts", true)
	e := newEnv(t, opt)
	armed.Store(true)

	const rid = "panic-request-0001"
	body, _ := json.Marshal(map[string]any{"query": `{ customerAccounts(first: 1) { totalCount } }`})
	r, hdr := limRaw(e, http.MethodPost, "/graphql", "application/json", body,
		map[string]string{"Authorization": "Bearer " + e.admin, "X-Request-ID": rid})
	t.Logf("panic: HTTP %d %s", r.Status, r.Raw)
	if hdr.Get("X-Request-ID") != rid {
		t.Errorf("want X-Request-ID %s echoed, got %q", rid, hdr.Get("X-Request-ID"))
	}
	limWantCode(t, r, "INTERNAL")
	limPanicHidden(t, r, e.logs.String(), rid)

	// The server survived.
	armed.Store(false)
	limOK(t, e.do(e.admin, `{ me { kind } }`, nil))
}

// The same with a panicking field middleware on a server built with
// NewGraphQLServer, as an embedding program would.
func TestLimitsPanicInFieldMiddlewareIsInternal(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	logs := &bytes.Buffer{}
	log := slog.New(slog.NewJSONHandler(&lockedWriter{w: logs}, nil))
	srv := graph.NewGraphQLServer(graph.Deps{Client: e.client, DB: e.db.SQL, Tokens: e.tokens, Log: log, Now: e.clock.Now})
	srv.AroundFields(func(ctx context.Context, next graphql.Resolver) (any, error) {
		if graphql.GetFieldContext(ctx).Field.Name == "me" {
			panic("boom secret-panic-value")
		}
		return next(ctx)
	})
	const rid = "around-fields-request-1"
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v := &viewer.Viewer{Kind: viewer.User, UserID: "someone", StaffRole: domain.StaffAdmin, RequestID: rid}
		srv.ServeHTTP(w, r.WithContext(viewer.NewContext(r.Context(), v)))
	}))
	t.Cleanup(hs.Close)

	body, _ := json.Marshal(map[string]any{"query": `{ me { kind } }`})
	res, err := http.Post(hs.URL, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(res.Body)
	var out struct {
		Data   map[string]any `json:"data"`
		Errors []gqlError     `json:"errors"`
	}
	_ = json.Unmarshal(buf.Bytes(), &out)
	r := response{Status: res.StatusCode, Data: out.Data, Errors: out.Errors, Raw: buf.String()}
	t.Logf("panic: HTTP %d %s", r.Status, r.Raw)
	limWantCode(t, r, "INTERNAL")
	limPanicHidden(t, r, logs.String(), rid)
}

func limPanicHidden(t *testing.T, r response, logs, rid string) {
	t.Helper()
	if !strings.Contains(r.Errors[0].Message, rid) {
		t.Errorf("the INTERNAL message should carry the request id %s: %s", rid, r.Raw)
	}
	for _, s := range []string{"boom", "secret-panic-value", "goroutine", ".go:"} {
		if strings.Contains(r.Raw, s) {
			t.Errorf("the response leaks %q: %s", s, r.Raw)
		}
	}
	if !strings.Contains(logs, "secret-panic-value") {
		t.Errorf("the log should hold the panic value; log:\n%s", logs)
	}
	// The panic's log record carries the request id.
	found := false
	for _, line := range strings.Split(logs, "\n") {
		if strings.Contains(line, "secret-panic-value") && strings.Contains(line, rid) {
			found = true
		}
	}
	if !found {
		t.Errorf("no log record holds both the panic value and the request id %s; log:\n%s", rid, logs)
	}
}

// ---------------------------------------------------------------- 12. one mutation, one transaction

func TestLimitsOneMutationOneTransaction(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	acct := e.createAccount("TX-1")

	counts := func() (contacts, audits float64) {
		d := e.ok(e.admin, `query($n: String!, $a: ID!) {
			customerAccount(number: $n) { contacts { totalCount } }
			auditEvents(where: {action: "contact.create", customerAccountID: $a}) { totalCount }
		}`, map[string]any{"n": "TX-1", "a": acct})
		return dig(d, "customerAccount", "contacts", "totalCount").(float64), dig(d, "auditEvents", "totalCount").(float64)
	}

	const doc = `mutation($a: ID!, $email2: String) {
		first: createContact(input: {customerAccountID: $a, name: "First", email: "first@example.com"}) { id }
		second: createContact(input: {customerAccountID: $a, name: "Second", email: $email2}) { id }
	}`
	for _, c := range []struct{ name, email2, code string }{
		{"invalid second", "not-an-email", "BAD_USER_INPUT"},
		{"second conflicts with first", "first@example.com", "CONFLICT"},
	} {
		r := e.do(e.admin, doc, map[string]any{"a": acct, "email2": c.email2})
		t.Logf("%s: HTTP %d %s", c.name, r.Status, r.Raw)
		limWantCode(t, r, c.code)
		limWantField(t, r, "input.email")
		if id := dig(r.Data, "first", "id"); id != nil {
			t.Errorf("%s: the response reports the rolled back contact %v as created", c.name, id)
		}
		if nc, na := counts(); nc != 0 || na != 0 {
			t.Errorf("%s: after the failed mutation the account has %v contacts and %v contact.create audit events; want 0 and 0", c.name, nc, na)
		}
	}

	// The same mutation with two valid contacts commits both, and the
	// queries above see them.
	d := e.ok(e.admin, doc, map[string]any{"a": acct, "email2": "second@example.com"})
	if dig(d, "first", "id") == nil || dig(d, "second", "id") == nil {
		t.Fatalf("want both contacts, got %v", d)
	}
	if nc, na := counts(); nc != 2 || na != 2 {
		t.Errorf("after the successful mutation: %v contacts, %v audit events; want 2 and 2", nc, na)
	}
}

// ---------------------------------------------------------------- 13. health

func TestLimitsHealth(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, p := range []string{"/healthz", "/readyz"} {
		res, err := http.Get(e.srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		_, _ = buf.ReadFrom(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK || strings.TrimSpace(buf.String()) != "ok" {
			t.Errorf("%s: want 200 ok, got %d %q", p, res.StatusCode, buf.String())
		}
	}
}

func TestLimitsReadyzWithoutDatabase(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	if err := e.db.SQL.Close(); err != nil {
		t.Fatal(err)
	}
	res, err := http.Get(e.srv.URL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("/readyz with a closed database: want 503, got %d %q", res.StatusCode, buf.String())
	}
	if strings.Contains(strings.ToLower(buf.String()), "sql") {
		t.Errorf("/readyz leaks the database error: %q", buf.String())
	}
	// Liveness does not depend on the database.
	res, err = http.Get(e.srv.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Errorf("/healthz with a closed database: want 200, got %d", res.StatusCode)
	}
}

// ---------------------------------------------------------------- 14. CORS

func limPreflight(t *testing.T, base, origin string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodOptions, base+"/graphql", nil)
	req.Header.Set("Origin", origin)
	req.Header.Set("Access-Control-Request-Method", http.MethodPost)
	req.Header.Set("Access-Control-Request-Headers", "authorization, content-type, idempotency-key")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res
}

func limCORSPost(t *testing.T, base, origin string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+"/graphql", strings.NewReader(`{"query":"{ me { kind } }"}`))
	req.Header.Set("Origin", origin)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res
}

func TestLimitsCORS(t *testing.T) {
	t.Parallel()
	t.Run("none configured", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		for _, o := range []string{"https://evil.example", "https://portal.example"} {
			if res := limPreflight(t, e.srv.URL, o); res.Header.Get("Access-Control-Allow-Origin") != "" {
				t.Errorf("preflight from %s allowed without configuration: %v", o, res.Header)
			}
			if res := limCORSPost(t, e.srv.URL, o); res.Header.Get("Access-Control-Allow-Origin") != "" {
				t.Errorf("POST from %s allowed without configuration: %v", o, res.Header)
			}
		}
	})
	t.Run("configured", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, envOption(func(d *graph.Deps) { d.CORSOrigins = []string{"https://portal.example"} }))
		const ok = "https://portal.example"
		res := limPreflight(t, e.srv.URL, ok)
		if got := res.Header.Get("Access-Control-Allow-Origin"); got != ok {
			t.Errorf("preflight from %s: want Access-Control-Allow-Origin %s, got %q (%v)", ok, ok, got, res.Header)
		}
		if m := res.Header.Get("Access-Control-Allow-Methods"); !strings.Contains(m, http.MethodPost) {
			t.Errorf("preflight from %s: want POST allowed, got %q", ok, m)
		}
		if h := strings.ToLower(res.Header.Get("Access-Control-Allow-Headers")); !strings.Contains(h, "authorization") || !strings.Contains(h, "idempotency-key") {
			t.Errorf("preflight from %s: want the Authorization and Idempotency-Key headers allowed, got %q", ok, h)
		}
		if c := res.Header.Get("Access-Control-Allow-Credentials"); c == "true" {
			t.Errorf("credentials must not be allowed (bearer tokens only): %v", res.Header)
		}
		res = limCORSPost(t, e.srv.URL, ok)
		if got := res.Header.Get("Access-Control-Allow-Origin"); got != ok {
			t.Errorf("POST from %s: want Access-Control-Allow-Origin %s, got %q", ok, ok, got)
		}
		if x := strings.ToLower(res.Header.Get("Access-Control-Expose-Headers")); !strings.Contains(x, "x-request-id") || !strings.Contains(x, "retry-after") {
			t.Errorf("POST from %s: want X-Request-ID and Retry-After exposed (a browser reads neither otherwise), got %q", ok, x)
		}
		for _, bad := range []string{"https://evil.example", "http://portal.example", "https://portal.example.evil.example"} {
			if res := limPreflight(t, e.srv.URL, bad); res.Header.Get("Access-Control-Allow-Origin") != "" {
				t.Errorf("preflight from %s allowed: %v", bad, res.Header)
			}
			if res := limCORSPost(t, e.srv.URL, bad); res.Header.Get("Access-Control-Allow-Origin") != "" {
				t.Errorf("POST from %s allowed: %v", bad, res.Header)
			}
		}
	})
}

// ---------------------------------------------------------------- 15. X-Request-ID

var limGeneratedID = regexp.MustCompile(`^[A-Za-z0-9._-]{8,64}$`)

func TestLimitsRequestID(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	gql, _ := json.Marshal(map[string]any{"query": `{ me { kind } }`})

	type req struct {
		name, method, path, ctype string
		body                      []byte
	}
	reqs := []req{
		{"graphql POST", http.MethodPost, "/graphql", "application/json", gql},
		{"graphql GET", http.MethodGet, "/graphql?query=" + url.QueryEscape(`{ me { kind } }`), "", nil},
		{"graphql error", http.MethodPost, "/graphql", "application/json", []byte(`{"query":"{ nope }"}`)},
		{"batch refused", http.MethodPost, "/graphql", "application/json", []byte(`[{"query":"{ me { kind } }"}]`)},
		{"body too large", http.MethodPost, "/graphql", "application/json", limPaddedBody(t, graph.MaxBodyBytes+1)},
		{"healthz", http.MethodGet, "/healthz", "", nil},
		{"readyz", http.MethodGet, "/readyz", "", nil},
		{"playground", http.MethodGet, "/", "", nil},
		{"not found", http.MethodGet, "/no-such-thing", "", nil},
	}
	seen := map[string]bool{}
	for _, q := range reqs {
		// No id sent: one is made up, and each request gets its own.
		_, h := limRaw(e, q.method, q.path, q.ctype, q.body, nil)
		id := h.Get("X-Request-ID")
		if !limGeneratedID.MatchString(id) {
			t.Errorf("%s: want an X-Request-ID, got %q", q.name, id)
		}
		if seen[id] {
			t.Errorf("%s: request id %q given twice", q.name, id)
		}
		seen[id] = true

		// A sane id is echoed.
		sane := "client-req." + strings.ReplaceAll(q.name, " ", "_")
		if _, h := limRaw(e, q.method, q.path, q.ctype, q.body, map[string]string{"X-Request-ID": sane}); h.Get("X-Request-ID") != sane {
			t.Errorf("%s: want %q echoed, got %q", q.name, sane, h.Get("X-Request-ID"))
		}

		// An insane one is replaced.
		for _, insane := range []string{"has spaces in it", strings.Repeat("a", 200), "short", "semi;colon=1234", "../../etc/passwd", "<script>alert(1)</script>"} {
			_, h := limRaw(e, q.method, q.path, q.ctype, q.body, map[string]string{"X-Request-ID": insane})
			got := h.Get("X-Request-ID")
			if got == insane || !limGeneratedID.MatchString(got) {
				t.Errorf("%s: insane X-Request-ID %.40q: want it replaced, got %.80q", q.name, insane, got)
			}
		}
	}

	// The id ends up in the log line of the request.
	const rid = "log-me-request-42"
	limRaw(e, http.MethodPost, "/graphql", "application/json", gql, map[string]string{"X-Request-ID": rid})
	if !strings.Contains(e.logs.String(), `"request_id":"`+rid+`"`) {
		t.Errorf("the request log should carry request_id %s; log:\n%s", rid, e.logs.String())
	}
}

// ---------------------------------------------------------------- 16. anonymous access

func TestLimitsAnonymousAccess(t *testing.T) {
	t.Parallel()
	e := newEnv(t)

	r := e.do("", `{ me { kind } }`, nil)
	limWantCode(t, r, "UNAUTHENTICATED")
	if r.Data != nil && dig(r.Data, "me") != nil {
		t.Errorf("anonymous me returned data: %s", r.Raw)
	}

	for name, hdr := range map[string]string{
		"garbage bearer":    "Bearer garbage",
		"garbage jwt":       "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl",
		"other scheme":      "Basic YWRtaW46cGFzc3dvcmQ=",
		"admin token Basic": "Basic " + e.admin,
	} {
		body, _ := json.Marshal(map[string]any{"query": `{ me { kind } }`})
		r, _ := limRaw(e, http.MethodPost, "/graphql", "application/json", body, map[string]string{"Authorization": hdr})
		limWantCode(t, r, "UNAUTHENTICATED")
		m := strings.ToLower(r.Errors[0].Message)
		if !strings.Contains(m, "invalid") && !strings.Contains(m, "expired") {
			t.Errorf("%s: the message should say the token is invalid or expired: %s", name, r.Raw)
		}

		// login is @public: it works whatever Authorization says.
		body, _ = json.Marshal(map[string]any{
			"query":     `mutation($l: String!, $p: String!) { login(input: {login: $l, password: $p}) { accessToken } }`,
			"variables": map[string]any{"l": "admin@example.com", "p": adminPassword},
		})
		r, _ = limRaw(e, http.MethodPost, "/graphql", "application/json", body, map[string]string{"Authorization": hdr})
		if tok, _ := dig(limOK(t, r), "login", "accessToken").(string); tok == "" {
			t.Errorf("%s: login with a rejected Authorization header gave no token: %s", name, r.Raw)
		}
	}

	// The staff-only and permission directives say the same.
	r = e.do("garbage", `{ userAccounts(first: 1) { totalCount } }`, nil)
	limWantCode(t, r, "UNAUTHENTICATED")
	r = e.do("", `mutation { createCustomerAccount(input: {number: "ANON-1", name: "Anon"}) { id } }`, nil)
	limWantCode(t, r, "UNAUTHENTICATED")

	// An expired token is refused with the same message.
	limOK(t, e.do(e.admin, `{ me { kind } }`, nil))
	e.clock.Set(testEpoch.Add(e.tokens.TTL() + time.Minute))
	r = e.do(e.admin, `{ me { kind } }`, nil)
	limWantCode(t, r, "UNAUTHENTICATED")
	if m := strings.ToLower(r.Errors[0].Message); !strings.Contains(m, "invalid") && !strings.Contains(m, "expired") {
		t.Errorf("expired token: the message should say the token is invalid or expired: %s", r.Raw)
	}
}
