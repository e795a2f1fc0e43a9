package graph_test

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"portier/graph"
)

// scrape reads /metrics as Prometheus would: sample lines "name{labels} value".
func scrape(t *testing.T, e *env) (map[string]float64, string) {
	t.Helper()
	res, err := http.Get(e.srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %d %s", res.StatusCode, b)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(strings.NewReader(string(b)))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("metrics line %q: %v", line, err)
		}
		out[line[:i]] = v
	}
	return out, string(b)
}

func withMetrics() envOption { return func(d *graph.Deps) { d.ServeMetrics = true } }

// /metrics counts operations by name, type and outcome, logins by result,
// rate-limit refusals by rule, and reads the pool, outbox and session
// gauges; no label carries what a user sent.
func TestMetricsCountWhatOperatorsWatch(t *testing.T) {
	e := newEnv(t, withMetrics())
	before, _ := scrape(t, e)

	for range 3 {
		e.ok(e.admin, `query MetricsProbe { me { kind } }`, nil)
	}
	if r := e.do("", `query MetricsProbeDenied { customerAccounts(first: 1) { totalCount } }`, nil); r.code() != "UNAUTHENTICATED" {
		t.Fatalf("anonymous customerAccounts: %s", r.Raw)
	}
	// A client-chosen name that is not a plain identifier is not a label.
	e.do(e.admin, `query { me { kind } }`, nil)
	secretMail, secretPassword := "metrics-victim@example.com", "Sup3r-Secret-Metrics-Pw"
	for range 6 {
		e.do("", `mutation MetricsLogin($p: String!) { login(input: {login: "metrics-victim@example.com", password: $p}) { accessToken } }`,
			map[string]any{"p": secretPassword})
	}

	after, body := scrape(t, e)
	delta := func(k string) float64 { return after[k] - before[k] }
	for k, want := range map[string]float64{
		`portier_graphql_requests_total{operation="MetricsProbe",outcome="ok",type="query"}`: 3,
		// A name new to the metrics is not taken from an anonymous request.
		`portier_graphql_requests_total{operation="MetricsProbeDenied",outcome="UNAUTHENTICATED",type="query"}`: 0,
		`portier_graphql_request_duration_seconds_count{operation="MetricsProbe",type="query"}`:                 3,
	} {
		if got := delta(k); got != want {
			t.Errorf("%s went up by %v, want %v", k, got, want)
		}
	}
	for k, atLeast := range map[string]float64{
		`portier_graphql_requests_total{operation="anonymous",outcome="ok",type="query"}`:          1,
		`portier_graphql_requests_total{operation="other",outcome="UNAUTHENTICATED",type="query"}`: 1,
		`portier_logins_total{result="unknown_login"}`:                                             5,
		`portier_rate_limit_refusals_total{rule="login:userip"}`:                                   1,
		`portier_logins_total{result="rate_limited"}`:                                              1,
		`portier_http_requests_total{code="200",route="/graphql"}`:                                 10,
	} {
		if got := delta(k); got < atLeast {
			t.Errorf("%s went up by %v, want at least %v", k, got, atLeast)
		}
	}
	for _, k := range []string{
		`portier_active_sessions`,
		`portier_outbox_backlog_messages{channel="email"}`,
		`portier_outbox_oldest_waiting_seconds{channel="sms"}`,
		`go_sql_open_connections{db_name="portier"}`,
		`portier_graphql_requests_in_flight`,
		`portier_admission_refusals_total`,
		`portier_outbox_deliveries_total{channel="email",result="failed"}`,
	} {
		if _, ok := after[k]; !ok {
			t.Errorf("no %s in /metrics", k)
		}
	}
	if after[`portier_active_sessions`] < 1 {
		t.Errorf("active sessions %v: the admin's session is active", after[`portier_active_sessions`])
	}
	if after[`portier_metrics_database_errors`] != 0 {
		t.Error("the database-backed gauges failed")
	}
	for _, secret := range []string{secretMail, secretPassword, "metrics-victim"} {
		if strings.Contains(body, secret) {
			t.Errorf("/metrics contains %q", secret)
		}
	}
}

// Operation names are client-chosen: only plain identifiers become label
// values, so a name cannot inject label syntax or grow unbounded text.
func TestMetricsOperationNamesAreBounded(t *testing.T) {
	e := newEnv(t, withMetrics())
	long := "Op" + strings.Repeat("x", 80)
	e.ok(e.admin, `query `+long+` { me { kind } }`, nil)
	_, body := scrape(t, e)
	if strings.Contains(body, long) {
		t.Error("an 82-character operation name became a label value")
	}
}

// Without ServeMetrics the API listener does not serve the metrics.
func TestMetricsOffTheMainListenerWhenMovedAway(t *testing.T) {
	e := newEnv(t)
	res, err := http.Get(e.srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if strings.Contains(string(b), "portier_graphql_requests_total") {
		t.Fatal("/metrics served on the API listener although ServeMetrics is off")
	}
}

// Anonymous clients cannot fill the bounded set of operation names: not by
// sending operationName with a document that fails, nor by naming valid
// operations; an authenticated client's name still gets its label.
func TestMetricsOperationNamesCannotBeFloodedAnonymously(t *testing.T) {
	e := newEnv(t, withMetrics())
	for i := range 210 {
		body := fmt.Sprintf(`{"query":"{","operationName":"alice_example_com_%d"}`, i)
		if i%2 == 1 {
			body = fmt.Sprintf(`{"query":"query bob_example_com_%d { __typename }"}`, i)
		}
		res, err := http.Post(e.srv.URL+"/graphql", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
	}
	e.ok(e.admin, `query MetricsAfterFlood { me { kind } }`, nil)
	after, body := scrape(t, e)
	if strings.Contains(body, "alice_example_com") || strings.Contains(body, "bob_example_com") {
		t.Fatal("anonymous requests made operation names of their own into labels")
	}
	if after[`portier_graphql_requests_total{operation="MetricsAfterFlood",outcome="ok",type="query"}`] != 1 {
		t.Fatal("an authenticated client's operation has no label of its own after the flood")
	}
}

// A login counts as a success once its session is saved: when the
// mutation fails and is rolled back, the login did not happen.
func TestMetricsCountALoginOnlyOnceCommitted(t *testing.T) {
	e := newEnv(t, withMetrics())
	const key = `portier_logins_total{result="success"}`
	before, _ := scrape(t, e)
	r := e.do("", `mutation { login(input: {login: "admin@example.com", password: "`+adminPassword+`"}) { accessToken } logout }`, nil)
	if r.code() != "UNAUTHENTICATED" {
		t.Fatalf("login + logout without a token: %s", r.Raw)
	}
	mid, _ := scrape(t, e)
	if d := mid[key] - before[key]; d != 0 {
		t.Fatalf("a rolled-back login counted as %v successes", d)
	}
	e.login("admin@example.com", adminPassword)
	after, _ := scrape(t, e)
	if d := after[key] - mid[key]; d != 1 {
		t.Fatalf("a committed login counted as %v successes, want 1", d)
	}
}
