package graph_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"entgo.io/ent/dialect"

	"portier/internal/database"
)

// stmtRecorder is an ent driver wrapper that records the statements run for
// HTTP requests (any context derived from one), with their arguments.
type stmtRecorder struct {
	dialect.Driver
	mu   sync.Mutex
	on   bool
	list []recordedStmt
}

type recordedStmt struct {
	query string
	args  []any
}

func (r *stmtRecorder) record(ctx context.Context, q string, args any) {
	if ctx.Value(http.ServerContextKey) == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.on {
		return
	}
	a, _ := args.([]any)
	r.list = append(r.list, recordedStmt{query: q, args: append([]any(nil), a...)})
}

// start begins recording (dropping what was recorded); stop ends it and
// returns the statements.
func (r *stmtRecorder) start() { r.mu.Lock(); r.on, r.list = true, nil; r.mu.Unlock() }
func (r *stmtRecorder) stop() []recordedStmt {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.on = false
	return r.list
}

func (r *stmtRecorder) Query(ctx context.Context, q string, args, v any) error {
	r.record(ctx, q, args)
	return r.Driver.Query(ctx, q, args, v)
}

func (r *stmtRecorder) Exec(ctx context.Context, q string, args, v any) error {
	r.record(ctx, q, args)
	return r.Driver.Exec(ctx, q, args, v)
}

func (r *stmtRecorder) Tx(ctx context.Context) (dialect.Tx, error) {
	tx, err := r.Driver.Tx(ctx)
	if err != nil {
		return nil, err
	}
	return &recordingTx{Tx: tx, r: r}, nil
}

type recordingTx struct {
	dialect.Tx
	r *stmtRecorder
}

func (t *recordingTx) Query(ctx context.Context, q string, args, v any) error {
	t.r.record(ctx, q, args)
	return t.Tx.Query(ctx, q, args, v)
}

func (t *recordingTx) Exec(ctx context.Context, q string, args, v any) error {
	t.r.record(ctx, q, args)
	return t.Tx.Exec(ctx, q, args, v)
}

// totalCount is counted only when selected, on both databases: a page with
// edges and pageInfo runs no COUNT, neither eagerly loaded (the contacts of
// customerAccount and of node) nor paginated by its resolver (the activity
// log, the root auditEvents); pageInfo comes from the page's extra row.
func TestPageCountsOnlyWhenAsked(t *testing.T) {
	rec := &stmtRecorder{}
	e := newEnv(t, database.WithDriver(func(d dialect.Driver) dialect.Driver { rec.Driver = d; return rec }))
	acct := e.createAccount("COUNT1")
	boss, _ := e.customerUser(acct, "boss@count1.example", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	for i := 0; i < 3; i++ {
		e.createContact(boss, acct, fmt.Sprintf("P%d", i), fmt.Sprintf("p%d@count1.example", i))
	}
	counts := func(doc string, vars map[string]any) (map[string]any, int) {
		t.Helper()
		rec.start()
		d := e.ok(boss, doc, vars)
		n := 0
		for _, s := range rec.stop() {
			if strings.Contains(strings.ToUpper(s.query), "COUNT(") {
				n++
			}
		}
		return d, n
	}
	const page = `edges { node { id } } pageInfo { hasNextPage hasPreviousPage endCursor }`
	cases := []struct {
		name, doc string
		vars      map[string]any
		path      []any // to the connection
		total     float64
	}{
		{"contacts of customerAccount", `query($n: String!) { customerAccount(number: $n) { contacts(first: 2) { %s } } }`,
			map[string]any{"n": "COUNT1"}, []any{"customerAccount", "contacts"}, 4},
		{"contacts of node", `query($a: ID!) { node(id: $a) { ... on CustomerAccount { contacts(last: 2) { %s } } } }`,
			map[string]any{"a": acct}, []any{"node", "contacts"}, 4},
		{"activity log", `query($n: String!) { customerAccount(number: $n) { auditEvents(first: 2) { %s } } }`,
			map[string]any{"n": "COUNT1"}, []any{"customerAccount", "auditEvents"}, -1},
		{"root auditEvents", `{ auditEvents(first: 2) { %s } }`, nil, []any{"auditEvents"}, -1},
	}
	for _, c := range cases {
		d, n := counts(fmt.Sprintf(c.doc, page), c.vars)
		if n != 0 {
			t.Errorf("%s: %d COUNT statements without totalCount", c.name, n)
		}
		conn := dig(d, c.path...)
		if len(dig(conn, "edges").([]any)) != 2 || (dig(conn, "pageInfo", "hasNextPage") != true && dig(conn, "pageInfo", "hasPreviousPage") != true) {
			t.Errorf("%s: want 2 edges and a further page: %v", c.name, conn)
		}
		// pageInfo without edges: whether there is anything, without a count.
		d, n = counts(fmt.Sprintf(c.doc, "pageInfo { hasNextPage hasPreviousPage }"), c.vars)
		if n != 0 {
			t.Errorf("%s: %d COUNT statements for pageInfo alone", c.name, n)
		}
		d, n = counts(fmt.Sprintf(c.doc, "totalCount "+page), c.vars)
		if n != 1 {
			t.Errorf("%s: %d COUNT statements with totalCount, want 1", c.name, n)
		}
		if got := dig(d, append(c.path, "totalCount")...).(float64); got < 3 || (c.total > 0 && got != c.total) {
			t.Errorf("%s: totalCount %v, want %v", c.name, got, c.total)
		}
	}
}
