package graph_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/99designs/gqlgen/graphql"

	"portier/graph"
	"portier/internal/viewer"
)

// An introspection-only operation is resolved once and then answered from
// the cache; anything else is resolved every time.
func TestIntrospectionAnswersAreCached(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	srv := graph.NewGraphQLServer(graph.Deps{Client: e.client, DB: e.db.SQL, Tokens: e.tokens, Log: slog.New(slog.NewJSONHandler(allLogs, nil)), Now: e.clock.Now})
	var resolved atomic.Int64
	srv.AroundFields(func(ctx context.Context, next graphql.Resolver) (any, error) {
		resolved.Add(1)
		return next(ctx)
	})
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v := &viewer.Viewer{Kind: viewer.Anonymous, RequestID: "introspection-cache-1"}
		srv.ServeHTTP(w, r.WithContext(viewer.NewContext(r.Context(), v)))
	}))
	t.Cleanup(hs.Close)
	post := func(body []byte) (string, int64) {
		t.Helper()
		before := resolved.Load()
		res, err := http.Post(hs.URL, "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return string(b), resolved.Load() - before
	}
	full := wdBody(introspectionQueryV16, nil, "")
	first, n1 := post(full)
	second, n2 := post(full)
	if n1 < 1000 || n2 != 0 || first != second {
		t.Fatalf("full introspection: %d fields resolved, then %d (want 0); answers equal: %v", n1, n2, first == second)
	}
	typ := `query($n: String!) { __type(name: $n) { name fields { name } } }`
	a, _ := post(wdBody(typ, map[string]any{"n": "Query"}, ""))
	b, nb := post(wdBody(typ, map[string]any{"n": "Mutation"}, ""))
	if a == b || nb == 0 {
		t.Fatalf("other variables must be another entry: resolved %d, same answer %v", nb, a == b)
	}
	mixed := wdBody(`{ __typename me { kind } }`, nil, "")
	post(mixed)
	if _, n := post(mixed); n == 0 {
		t.Fatal("an operation with data fields was answered from the cache")
	}
}

// A response's data is encoded into a buffer leased for its request and
// reused by later ones (internal/respbuf): a cached introspection answer
// stays what it was however many answers are written after it.
func TestCachedIntrospectionSurvivesBufferReuse(t *testing.T) {
	e := newEnv(t)
	raw := func(vars map[string]any) []byte {
		t.Helper()
		res, err := http.DefaultClient.Do(e.request("", `query($n: String!) { __type(name: $n) { name fields { name description } } }`, vars))
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	query, mutation := map[string]any{"n": "Query"}, map[string]any{"n": "Mutation"}
	first := raw(query)
	if !bytes.Contains(first, []byte(`{"data":{"__type":{"name":"Query","fields":[`)) {
		t.Fatalf("unexpected answer: %.300s", first)
	}
	for range 50 {
		raw(mutation)
	}
	if again := raw(query); !bytes.Equal(first, again) {
		t.Fatalf("the cached answer changed:\nfirst %.300s\nlater %.300s", first, again)
	}
}
