package graph_test

import (
	"net/http"
	"strings"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"portier/internal/tracing"
)

// With tracing on, a request is one trace: the HTTP span (continuing the
// caller's traceparent), the operation, each resolver that does work, and
// each SQL statement — and no span carries a password, an e-mail address
// or a statement's parameters.
func TestTracingCoversRequestsResolversAndSQL(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tracing.Use(sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec)))
	t.Cleanup(tracing.Stop)
	e := newEnv(t) // after Use: the database driver is wrapped when opened

	const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	req := e.request(e.admin, `query TraceProbe { customerAccounts(first: 2) { edges { node { number } } } }`, nil)
	req.Header.Set("traceparent", "00-"+traceID+"-00f067aa0ba902b7-01")
	if r := e.send(req); r.code() != "" || r.Status != http.StatusOK {
		t.Fatalf("traced request: %s", r.Raw)
	}
	e.do("", `mutation { login(input: {login: "tracing-victim@example.com", password: "Tr4cing-Secret-Pw"}) { accessToken } }`, nil)

	var names []string
	inTrace := map[string]bool{}
	for _, s := range rec.Ended() {
		names = append(names, s.Name())
		if s.SpanContext().TraceID().String() == traceID {
			inTrace[s.Name()] = true
			if s.Name() == "db.query" {
				for _, a := range s.Attributes() {
					if a.Key == "db.statement" && strings.Contains(a.Value.AsString(), "customer_accounts") {
						inTrace["db.query customer_accounts"] = true
					}
				}
			}
		}
		for _, a := range s.Attributes() {
			v := a.Value.Emit()
			if strings.Contains(v, "Tr4cing-Secret-Pw") || strings.Contains(v, "tracing-victim") {
				t.Errorf("span %s carries %s=%s", s.Name(), a.Key, v)
			}
		}
	}
	for _, want := range []string{"POST /graphql", "graphql query TraceProbe", "graphql.resolve Query.customerAccounts", "db.query customer_accounts"} {
		if !inTrace[want] {
			t.Errorf("no span %q in the caller's trace; spans: %v", want, names)
		}
	}
}
