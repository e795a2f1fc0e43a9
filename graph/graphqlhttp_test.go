package graph_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"portier/graph"
)

// ---------------------------------------------------------------- GraphQL over HTTP

const (
	acceptJSON     = "application/json"
	acceptResponse = "application/graphql-response+json"
)

// gqlPOST posts a GraphQL request body with an Accept header (and a token).
func gqlPOST(e *env, tok, accept string, body map[string]any) (response, string) {
	e.t.Helper()
	hdr := map[string]string{}
	if accept != "" {
		hdr["Accept"] = accept
	}
	if tok != "" {
		hdr["Authorization"] = "Bearer " + tok
	}
	r, h := limRaw(e, "POST", "/graphql", "application/json", mustJSON(body), hdr)
	return r, h.Get("Content-Type")
}

// gqlGET sends a GraphQL request in the query string.
func gqlGET(e *env, tok, accept string, params map[string]any) (response, map[string][]string) {
	e.t.Helper()
	q := url.Values{}
	for k, v := range params {
		if s, ok := v.(string); ok {
			q.Set(k, s)
		} else {
			q.Set(k, string(mustJSON(v)))
		}
	}
	hdr := map[string]string{}
	if accept != "" {
		hdr["Accept"] = accept
	}
	if tok != "" {
		hdr["Authorization"] = "Bearer " + tok
	}
	r, h := limRaw(e, "GET", "/graphql?"+q.Encode(), "", nil, hdr)
	return r, h
}

// hasDataEntry reports whether the raw response has a top-level data member.
func hasDataEntry(t *testing.T, raw string) bool {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		t.Fatalf("response is not a JSON object: %s", raw)
	}
	_, ok := m["data"]
	return ok
}

// A request error (nothing executed) is answered without a data entry: 200
// with application/json, 400 with application/graphql-response+json, the
// error coded as before. An execution error keeps data (null included) and
// 200.
func TestHTTPRequestErrorsFollowMediaType(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	cases := []struct {
		name, query string
		vars        map[string]any
		reason      string
	}{
		{"parse failure", `{`, nil, "GRAPHQL_PARSE_FAILED"},
		{"validation failure", `{ noSuchField }`, nil, "GRAPHQL_VALIDATION_FAILED"},
		{"variable coercion failure", `query($n: String!) { customerAccount(number: $n) { name } }`, map[string]any{"n": nil}, "GRAPHQL_VALIDATION_FAILED"},
	}
	for _, c := range cases {
		for _, accept := range []string{"", acceptJSON, "*/*", acceptResponse} {
			wantStatus, wantType := 200, acceptJSON
			if accept == acceptResponse {
				wantStatus, wantType = 400, acceptResponse
			}
			r, ctype := gqlPOST(e, e.admin, accept, map[string]any{"query": c.query, "variables": c.vars})
			if r.Status != wantStatus || !strings.HasPrefix(ctype, wantType) {
				t.Errorf("POST %s, Accept %q: got %d %s, want %d %s: %s", c.name, accept, r.Status, ctype, wantStatus, wantType, r.Raw)
			}
			if hasDataEntry(t, r.Raw) {
				t.Errorf("POST %s, Accept %q: a request error has a data entry: %s", c.name, accept, r.Raw)
			}
			limWantCode(t, r, "BAD_USER_INPUT")
			if got := r.Errors[0].Extensions["reason"]; got != c.reason {
				t.Errorf("POST %s: reason %v, want %s", c.name, got, c.reason)
			}

			g, h := gqlGET(e, e.admin, accept, map[string]any{"query": c.query, "variables": c.vars})
			if g.Status != wantStatus || !strings.HasPrefix(h["Content-Type"][0], wantType) || hasDataEntry(t, g.Raw) {
				t.Errorf("GET %s, Accept %q: got %d %v %s, want %d %s without data", c.name, accept, g.Status, h["Content-Type"], g.Raw, wantStatus, wantType)
			}
		}
	}

	// Execution errors: data stays (null here), status 200 either way.
	for _, accept := range []string{acceptJSON, acceptResponse} {
		r, _ := gqlPOST(e, "", accept, map[string]any{"query": `{ me { kind } }`})
		if r.Status != 200 || !hasDataEntry(t, r.Raw) || r.code() != "UNAUTHENTICATED" {
			t.Errorf("Accept %q, unauthenticated me: want 200 with data and UNAUTHENTICATED, got %d %s", accept, r.Status, r.Raw)
		}
	}
}

// A request without a query (and without a persisted-query hash) is not a
// GraphQL request: 400, as for any malformed body.
func TestHTTPMissingQueryIs400(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for name, body := range map[string]string{
		"no query":                          `{"qeury": "{ __typename }"}`,
		"null query":                        `{"query": null, "variables": {}}`,
		"extensions without persistedQuery": `{"extensions": {"persistedQuery": null}}`,
	} {
		r, _ := limRaw(e, "POST", "/graphql", "application/json", []byte(body), map[string]string{"Accept": acceptResponse})
		if r.Status != 400 || r.code() != "BAD_USER_INPUT" || r.Errors[0].Extensions["reason"] != "MALFORMED_BODY" || r.Errors[0].Extensions["field"] != "query" {
			t.Errorf("POST %s: want 400 MALFORMED_BODY on query, got %d %s", name, r.Status, r.Raw)
		}
	}
	r, _ := gqlGET(e, "", "", map[string]any{"operationName": "X"})
	if r.Status != 400 || r.code() != "BAD_USER_INPUT" || r.Errors[0].Extensions["reason"] != "MALFORMED_QUERY_STRING" {
		t.Errorf("GET without query: want 400 MALFORMED_QUERY_STRING, got %d %s", r.Status, r.Raw)
	}
	// The audit's queries: __typename needs no credentials.
	for _, accept := range []string{acceptJSON, acceptResponse} {
		r, ctype := gqlPOST(e, "", accept, map[string]any{"query": `{ __typename }`})
		if r.Status != 200 || ctype != accept || r.Data["__typename"] != "Query" {
			t.Errorf("Accept %q: { __typename } got %d %s %s", accept, r.Status, ctype, r.Raw)
		}
	}
}

// @defer would be answered with its first payload only ("hasNext": true)
// and the rest never sent: it is refused with a reason instead, as is
// @stream.
func TestHTTPIncrementalDeliveryRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for name, q := range map[string]string{
		"defer on inline fragment": `{ me { kind ... @defer { staffRole } } }`,
		"defer on spread":          `{ me { kind ...F @defer(label: "f") } } fragment F on Me { staffRole }`,
		"stream":                   `{ customerAccounts(first: 2) { edges @stream { cursor } } }`,
	} {
		for _, accept := range []string{acceptJSON, acceptResponse} {
			r, _ := gqlPOST(e, e.admin, accept, map[string]any{"query": q})
			limWantCode(t, r, "BAD_USER_INPUT")
			if r.Errors[0].Extensions["reason"] != graph.ReasonIncrementalDelivery || strings.Contains(r.Raw, "hasNext") || hasDataEntry(t, r.Raw) {
				t.Errorf("%s, Accept %q: want a refusal with reason %s and nothing executed, got %d %s", name, accept, graph.ReasonIncrementalDelivery, r.Status, r.Raw)
			}
		}
	}
}

// ---------------------------------------------------------------- persisted queries

func sha(doc string) string {
	s := sha256.Sum256([]byte(doc))
	return hex.EncodeToString(s[:])
}

func pqExt(hash string) map[string]any {
	return map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": hash}}
}

func wantPQNotFound(t *testing.T, what string, r response) {
	t.Helper()
	if r.code() != graph.CodePersistedQueryNotFound || r.Errors[0].Message != "PersistedQueryNotFound" || hasDataEntry(t, r.Raw) {
		t.Errorf("%s: want PERSISTED_QUERY_NOT_FOUND / PersistedQueryNotFound without data, got %d %s", what, r.Status, r.Raw)
	}
}

func wantReason(t *testing.T, what string, r response, reason string) {
	t.Helper()
	if r.code() != "BAD_USER_INPUT" || r.Errors[0].Extensions["reason"] != reason {
		t.Errorf("%s: want BAD_USER_INPUT %s, got %d %s", what, reason, r.Status, r.Raw)
	}
}

// The APQ protocol: an unknown hash is PERSISTED_QUERY_NOT_FOUND; the
// document sent with its hash runs and registers it; the hash alone then
// runs it, by POST and by GET; a document does not match its hash or a bad
// extension is refused.
func TestAPQRegisterAndReuse(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	doc := `query Me { me { kind staffRole } }`
	h := sha(doc)

	r, _ := gqlPOST(e, e.admin, "", map[string]any{"extensions": pqExt(h)})
	wantPQNotFound(t, "unknown hash", r)
	if r.Status != 200 {
		t.Errorf("unknown hash with application/json: want 200, got %d", r.Status)
	}
	r, _ = gqlPOST(e, e.admin, acceptResponse, map[string]any{"extensions": pqExt(h)})
	if r.Status != 400 {
		t.Errorf("unknown hash with application/graphql-response+json: want 400, got %d", r.Status)
	}

	r, _ = gqlPOST(e, e.admin, "", map[string]any{"query": doc, "extensions": pqExt(h)})
	if len(r.Errors) > 0 || dig(r.Data, "me", "staffRole") != "ADMIN" {
		t.Fatalf("register: %s", r.Raw)
	}
	r, _ = gqlPOST(e, e.admin, "", map[string]any{"extensions": pqExt(strings.ToUpper(h)), "operationName": "Me"})
	if len(r.Errors) > 0 || dig(r.Data, "me", "staffRole") != "ADMIN" {
		t.Errorf("reuse by POST: %s", r.Raw)
	}
	g, _ := gqlGET(e, e.admin, "", map[string]any{"extensions": pqExt(h)})
	if g.Status != 200 || len(g.Errors) > 0 || dig(g.Data, "me", "staffRole") != "ADMIN" {
		t.Errorf("reuse by GET: %d %s", g.Status, g.Raw)
	}

	// A persisted document obeys the same directives: no token, no me.
	r, _ = gqlPOST(e, "", "", map[string]any{"extensions": pqExt(h)})
	if r.code() != "UNAUTHENTICATED" {
		t.Errorf("persisted me without a token: want UNAUTHENTICATED, got %s", r.Raw)
	}

	other := `{ me { kind } }`
	r, _ = gqlPOST(e, e.admin, "", map[string]any{"query": other, "extensions": pqExt(h)})
	wantReason(t, "hash of another document", r, graph.ReasonPersistedQueryMismatch)
	for name, ext := range map[string]any{
		"version 2":      map[string]any{"persistedQuery": map[string]any{"version": 2, "sha256Hash": h}},
		"no version":     map[string]any{"persistedQuery": map[string]any{"sha256Hash": h}},
		"short hash":     pqExt("abc"),
		"not hex":        pqExt(strings.Repeat("z", 64)),
		"not an object":  map[string]any{"persistedQuery": "yes"},
		"hash is number": map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": 12}},
	} {
		r, _ := gqlPOST(e, e.admin, "", map[string]any{"extensions": ext})
		wantReason(t, name, r, graph.ReasonPersistedQueryInvalid)
	}

	// A document that does not validate is not registered.
	bad := `{ me { noSuchField } }`
	r, _ = gqlPOST(e, e.admin, "", map[string]any{"query": bad, "extensions": pqExt(sha(bad))})
	wantReason(t, "invalid document with its hash", r, "GRAPHQL_VALIDATION_FAILED")
	r, _ = gqlPOST(e, e.admin, "", map[string]any{"extensions": pqExt(sha(bad))})
	wantPQNotFound(t, "hash of an invalid document", r)

	// Nor is one that exceeds a limit (here: @defer).
	deferred := `{ me { kind ... @defer { staffRole } } }`
	r, _ = gqlPOST(e, e.admin, "", map[string]any{"query": deferred, "extensions": pqExt(sha(deferred))})
	wantReason(t, "refused document with its hash", r, graph.ReasonIncrementalDelivery)
	r, _ = gqlPOST(e, e.admin, "", map[string]any{"extensions": pqExt(sha(deferred))})
	wantPQNotFound(t, "hash of a refused document", r)
}

// A mutation named by its hash is refused by GET (405), as a written one
// is, and runs by POST.
func TestAPQMutationOnlyByPOST(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tok := e.login("admin@example.com", adminPassword)
	doc := `mutation { logout }`
	h := sha(doc)
	r, _ := gqlPOST(e, e.admin, "", map[string]any{"query": doc, "extensions": pqExt(h)})
	if len(r.Errors) > 0 {
		t.Fatalf("register the mutation: %s", r.Raw)
	}
	g, hdr := gqlGET(e, tok, "", map[string]any{"extensions": pqExt(h)})
	if g.Status != 405 || g.Errors[0].Extensions["reason"] != "MUTATION_BY_GET" || len(hdr["Allow"]) == 0 {
		t.Errorf("persisted mutation by GET: want 405 MUTATION_BY_GET with Allow, got %d %s", g.Status, g.Raw)
	}
	if r := e.do(tok, `{ me { kind } }`, nil); r.code() != "" {
		t.Errorf("the GET ran the mutation: the session ended: %s", r.Raw)
	}
	r, _ = gqlPOST(e, tok, "", map[string]any{"extensions": pqExt(h)})
	if len(r.Errors) > 0 {
		t.Errorf("persisted mutation by POST: %s", r.Raw)
	}
	if r := e.do(tok, `{ me { kind } }`, nil); r.code() != "UNAUTHENTICATED" {
		t.Errorf("after logout by its hash: want UNAUTHENTICATED, got %s", r.Raw)
	}
}

// The cache keeps APQCacheSize documents, the least recently used out first.
func TestAPQCacheIsBounded(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOption(func(d *graph.Deps) { d.APQCacheSize = 2 }))
	docs := []string{`query A { me { kind } }`, `query B { me { kind } }`, `query C { me { kind } }`}
	register := func(doc string) {
		r, _ := gqlPOST(e, e.admin, "", map[string]any{"query": doc, "extensions": pqExt(sha(doc))})
		if len(r.Errors) > 0 {
			t.Fatalf("register %s: %s", doc, r.Raw)
		}
	}
	known := func(doc string) bool {
		r, _ := gqlPOST(e, e.admin, "", map[string]any{"extensions": pqExt(sha(doc))})
		return len(r.Errors) == 0
	}
	register(docs[0])
	register(docs[1])
	if !known(docs[0]) { // A is now the most recently used
		t.Fatal("A was not kept")
	}
	register(docs[2]) // evicts B
	if known(docs[1]) {
		t.Error("B is still known: the cache holds more than 2 documents")
	}
	if !known(docs[0]) || !known(docs[2]) {
		t.Error("A and C should be known")
	}
}

// With PersistedQueriesOnly, only the manifest's documents run (by hash or
// sent in full); anything else is refused and no hash is registered. The
// documents still obey every rule: directives, introspection off.
func TestPersistedQueriesOnly(t *testing.T) {
	t.Parallel()
	me := `query Me { me { kind staffRole } }`
	intro := `{ __schema { queryType { name } } }`
	// The harness logs in with a document of its own: the manifest has it.
	login := `mutation($l: String!, $p: String!) { login(input: {login: $l, password: $p}) { accessToken expiresAt } }`
	manifest := map[string]string{sha(me): me, sha(intro): intro, sha(login): login}
	e := newEnv(t, envOption(func(d *graph.Deps) {
		d.PersistedQueries = manifest
		d.PersistedQueriesOnly = true
		d.DisableIntrospection = true
	}))

	r, _ := gqlPOST(e, e.admin, "", map[string]any{"extensions": pqExt(sha(me))})
	if len(r.Errors) > 0 || dig(r.Data, "me", "staffRole") != "ADMIN" {
		t.Errorf("manifest document by hash: %s", r.Raw)
	}
	g, _ := gqlGET(e, e.admin, "", map[string]any{"extensions": pqExt(sha(me))})
	if len(g.Errors) > 0 || dig(g.Data, "me", "staffRole") != "ADMIN" {
		t.Errorf("manifest document by GET: %s", g.Raw)
	}
	r, _ = gqlPOST(e, e.admin, "", map[string]any{"query": me})
	if len(r.Errors) > 0 {
		t.Errorf("manifest document sent in full: %s", r.Raw)
	}
	r, _ = gqlPOST(e, "", "", map[string]any{"extensions": pqExt(sha(me))})
	if r.code() != "UNAUTHENTICATED" {
		t.Errorf("manifest document without a token: want UNAUTHENTICATED, got %s", r.Raw)
	}
	r, _ = gqlPOST(e, e.admin, "", map[string]any{"extensions": pqExt(sha(intro))})
	limWantCode(t, r, "BAD_USER_INPUT")
	if r.Data != nil {
		t.Errorf("introspection off, from the manifest: want it refused, got %s", r.Raw)
	}

	other := `{ me { kind } }`
	r, _ = gqlPOST(e, e.admin, "", map[string]any{"query": other})
	wantReason(t, "other document", r, graph.ReasonPersistedQueryRequired)
	r, _ = gqlPOST(e, e.admin, acceptResponse, map[string]any{"query": other, "extensions": pqExt(sha(other))})
	wantReason(t, "other document with its hash", r, graph.ReasonPersistedQueryRequired)
	if r.Status != 400 {
		t.Errorf("refusal with application/graphql-response+json: want 400, got %d", r.Status)
	}
	r, _ = gqlPOST(e, e.admin, "", map[string]any{"extensions": pqExt(sha(other))})
	wantPQNotFound(t, "other document's hash after trying to register it", r)
	g, _ = gqlGET(e, e.admin, "", map[string]any{"query": other})
	wantReason(t, "other document by GET", g, graph.ReasonPersistedQueryRequired)
}

// A manifest without PersistedQueriesOnly: its hashes are known from the
// start, and clients may still register others.
func TestPersistedQueriesManifestWithAPQ(t *testing.T) {
	t.Parallel()
	me := `query Me { me { kind } }`
	e := newEnv(t, envOption(func(d *graph.Deps) { d.PersistedQueries = map[string]string{sha(me): me} }))
	r, _ := gqlPOST(e, e.admin, "", map[string]any{"extensions": pqExt(sha(me))})
	if len(r.Errors) > 0 {
		t.Errorf("manifest hash: %s", r.Raw)
	}
	other := `{ me { staffRole } }`
	if r, _ := gqlPOST(e, e.admin, "", map[string]any{"query": other, "extensions": pqExt(sha(other))}); len(r.Errors) > 0 {
		t.Errorf("register: %s", r.Raw)
	}
	if r, _ := gqlPOST(e, e.admin, "", map[string]any{"extensions": pqExt(sha(other))}); len(r.Errors) > 0 {
		t.Errorf("reuse: %s", r.Raw)
	}
}

// With introspection off, a registered introspection document is refused
// as the same document sent in full is.
func TestAPQIntrospectionStillObeysTheSwitch(t *testing.T) {
	t.Parallel()
	e := introspectionDisabled(t)
	intro := `{ __schema { queryType { name } } }`
	direct := e.do(e.admin, intro, nil)
	r, _ := gqlPOST(e, e.admin, "", map[string]any{"query": intro, "extensions": pqExt(sha(intro))})
	h, _ := gqlPOST(e, e.admin, "", map[string]any{"extensions": pqExt(sha(intro))})
	for name, got := range map[string]response{"sent with its hash": r, "by hash": h} {
		if got.code() != direct.code() || got.Errors[0].Extensions["reason"] != direct.Errors[0].Extensions["reason"] || got.Data != nil {
			if got.code() == graph.CodePersistedQueryNotFound && name == "by hash" {
				continue // not registered: refused all the same
			}
			t.Errorf("introspection off, %s: want %s as sent directly, got %s", name, direct.Raw, got.Raw)
		}
	}
}
