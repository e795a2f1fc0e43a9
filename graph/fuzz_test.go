package graph_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

// stackTrace matches the first line of a goroutine dump or a Go source
// position.
var stackTrace = regexp.MustCompile(`goroutine \d+ \[|\.go:\d+`)

// FuzzGraphQLHTTP feeds arbitrary GraphQL documents, variables and raw
// request bodies through the whole HTTP handler (SQLite test database), as
// an anonymous client and as the staff admin. Whatever arrives, the answer
// is never a 5xx (but a deliberate 503), never a stack, and nothing panics.
//
//	go test ./graph -run '^$' -fuzz FuzzGraphQLHTTP -fuzztime 30s
func FuzzGraphQLHTTP(f *testing.F) {
	for _, q := range []string{
		`{ me { kind } }`,
		`{ __typename }`,
		introspectionQueryV16,
		`{ customerAccounts(first: 2, where: {numberIn: ["A", "B"]}, orderBy: {field: NUMBER}) { totalCount edges { cursor node { id number name defaultAgency { id } contacts(first: 1) { edges { node { name email roleAssignments { role validUntil } } } } } } pageInfo { hasNextPage endCursor } } }`,
		`query($n: String!) { customerAccount(number: $n) { id ...F } } fragment F on CustomerAccount { name }`,
		`mutation { createCustomerAccount(input: {number: "FZ-1", name: "Fuzz"}) { id } }`,
		`mutation($l: String!, $p: String!) { login(input: {login: $l, password: $p}) { accessToken } }`,
		`{ __type(name: "Query") { fields { name type { ofType { ofType { name } } } } } }`,
		fragmentChain(8, "__typename"),
		aliasTree(3),
		`{ a: me { kind } a: me { id } }`,
		`query Q { me { kind } } mutation M { signUp(input: {email: "x@y.z", username: "x", password: "p"}) { __typename } }`,
		"{ me { kind } # comment\n}",
		`{ customerAccounts(where: {not: {not: {numberHasPrefix: "\u0000"}}}) { totalCount } }`,
	} {
		f.Add(q, `{"n": "A", "l": "admin@example.com", "p": "wrong password!"}`, []byte(nil), false)
		f.Add(q, `{}`, []byte(nil), true)
	}
	for _, b := range []string{
		`{"query": "{ me { kind } }"`,
		`{"query": 1}`,
		`{"query": "{ me { kind } }", "variables": [1]}`,
		`{"query": "{ me { kind } }", "variables": "x", "operationName": 7}`,
		`[{"query": "{ __typename }"}]`,
		`{"query": "{ __typename }", "extensions": {"persistedQuery": {"version": 1, "sha256Hash": "00"}}}`,
		`null`,
		``,
		"\x00\xff",
	} {
		f.Add("", "", []byte(b), false)
		f.Add("", "", []byte(b), true)
	}

	e := newEnv(f)
	h := e.srv.Config.Handler
	f.Fuzz(func(t *testing.T, query, vars string, raw []byte, admin bool) {
		body := raw
		if body == nil {
			m := map[string]any{"query": query}
			var v any
			if json.Unmarshal([]byte(vars), &v) == nil {
				m["variables"] = v
			}
			body, _ = json.Marshal(m)
		}
		req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if admin {
			req.Header.Set("Authorization", "Bearer "+e.admin)
		}
		before := e.logs.Len()
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)

		if rec.Code >= 500 && rec.Code != http.StatusServiceUnavailable {
			t.Errorf("HTTP %d for body %.300q: %.500s", rec.Code, body, rec.Body.String())
		}
		// A stack trace in the response or the log, unless the request
		// itself carried that text (error messages quote input).
		out := rec.Body.String()
		if m := stackTrace.FindString(out); m != "" && !bytes.Contains(body, []byte(m)) {
			t.Errorf("the response shows a stack (%q) for body %.300q: %.500s", m, body, out)
		}
		if logs := e.logs.String()[before:]; strings.Contains(logs, `"msg":"panic in resolver"`) || stackTrace.MatchString(logs) {
			t.Errorf("a panic was logged for body %.300q: %.2000s", body, logs)
		}
	})
}
