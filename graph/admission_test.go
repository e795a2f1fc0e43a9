package graph_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"entgo.io/ent/dialect"

	"portier/graph"
	"portier/internal/database"
)

// gatedDriver holds every query that reads customer accounts while the gate
// is closed, so a test can keep a request executing.
type gatedDriver struct {
	dialect.Driver
	closed  *atomic.Bool
	entered chan struct{}
	open    chan struct{}
}

func (g *gatedDriver) Query(ctx context.Context, q string, args, v any) error {
	if g.closed.Load() && strings.Contains(q, "customer_accounts") {
		select {
		case g.entered <- struct{}{}:
		default:
		}
		<-g.open
	}
	return g.Driver.Query(ctx, q, args, v)
}

// TestAdmissionBoundsConcurrentRequests: with one execution slot, a request
// arriving while another executes waits its turn and is served once the
// slot is free; one that waits longer than the admission timeout is
// answered 503 UNAVAILABLE (reason OVERLOADED) with Retry-After, never
// executed halfway.
func TestAdmissionBoundsConcurrentRequests(t *testing.T) {
	closed := new(atomic.Bool)
	gate := &gatedDriver{closed: closed, entered: make(chan struct{}, 1), open: make(chan struct{})}
	e := newEnv(t,
		database.WithDriver(func(d dialect.Driver) dialect.Driver { gate.Driver = d; return gate }),
		envOption(func(d *graph.Deps) { d.MaxConcurrentRequests = 1; d.AdmissionTimeout = 300 * time.Millisecond }))
	acct := e.createAccount("ADM01")

	closed.Store(true)
	const page = `{ customerAccounts(first: 5) { edges { node { number } } } }`
	var wg sync.WaitGroup
	results := make([]response, 2)
	wg.Add(1)
	go func() { defer wg.Done(); results[0] = e.do(e.admin, page, nil) }()
	select {
	case <-gate.entered:
	case <-time.After(10 * time.Second):
		t.Fatal("the first request never reached the database")
	}

	// The slot is taken: this one waits 300 ms and is turned away.
	start := time.Now()
	r := e.do(e.admin, `{ me { user { id } } }`, nil)
	if r.Status != http.StatusServiceUnavailable || r.code() != "UNAVAILABLE" || r.Errors[0].Extensions["reason"] != graph.ReasonOverloaded {
		t.Fatalf("overloaded request: status %d, %s", r.Status, r.Raw)
	}
	if waited := time.Since(start); waited < 250*time.Millisecond {
		t.Errorf("turned away after %v, before the admission timeout", waited)
	}
	req := e.request(e.admin, `{ me { user { id } } }`, nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("Retry-After") != "1" {
		t.Errorf("overloaded answer: status %d, Retry-After %q", res.StatusCode, res.Header.Get("Retry-After"))
	}

	// This one waits, and is served when the first is done.
	wg.Add(1)
	go func() {
		defer wg.Done()
		results[1] = e.do(e.admin, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": acct})
	}()
	time.Sleep(50 * time.Millisecond)
	closed.Store(false)
	close(gate.open)
	wg.Wait()
	for i, r := range results {
		if r.Status != http.StatusOK || len(r.Errors) > 0 {
			t.Errorf("request %d after the wait: status %d, %s", i, r.Status, r.Raw)
		}
	}
	if got := dig(results[1].Data, "node", "id"); got != acct {
		t.Errorf("waiting request answered %v, want the account", got)
	}
}
