package graph_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

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

// Cursor pages return the same rows in every order whatever the bound on
// the order's first column (the keyset predicate of multiCursorsPredicate):
// paging forwards with after and backwards with before through contacts
// with equal names, in each order the connection offers, yields the order
// sorted here.
func TestCursorPagesInEveryOrder(t *testing.T) {
	e := newEnv(t)
	acct := e.createAccount("KEYSET1")
	// Names with ties; e-mails in another order (they differ in one letter
	// before a common suffix: the same order under every collation).
	names := []string{"Name C", "Name A", "Name B", "Name A", "Name C", "Name B", "Name A", "Name D", "Name B", "Name A", "Name C"}
	for i, n := range names {
		e.createContact(e.admin, acct, n, fmt.Sprintf("k%c@keyset1.example", 'z'-i))
	}
	type contact struct {
		id, name, email string
		created         time.Time
	}
	const doc = `query($n: String!, $first: Int, $after: Cursor, $last: Int, $before: Cursor, $o: [ContactOrder!]) {
  customerAccount(number: $n) { contacts(first: $first, after: $after, last: $last, before: $before, orderBy: $o) {
    edges { node { id name email createdAt } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }
}`
	read := func(v map[string]any) ([]contact, map[string]any) {
		v["n"] = "KEYSET1"
		conn := dig(e.ok(e.admin, doc, v), "customerAccount", "contacts").(map[string]any)
		var out []contact
		for _, edge := range conn["edges"].([]any) {
			n := edge.(map[string]any)["node"].(map[string]any)
			c := contact{id: n["id"].(string), name: n["name"].(string), email: n["email"].(string)}
			var err error
			if c.created, err = time.Parse(time.RFC3339Nano, n["createdAt"].(string)); err != nil {
				t.Fatal(err)
			}
			out = append(out, c)
		}
		return out, conn["pageInfo"].(map[string]any)
	}
	all, _ := read(map[string]any{"first": 100})
	if len(all) != len(names) {
		t.Fatalf("%d contacts, want %d", len(all), len(names))
	}
	orders := []struct {
		field string
		desc  bool
		less  func(a, b contact) int
	}{
		{"", false, func(a, b contact) int { return 0 }},
		{"NAME", false, func(a, b contact) int { return strings.Compare(a.name, b.name) }},
		{"NAME", true, func(a, b contact) int { return strings.Compare(b.name, a.name) }},
		{"EMAIL", false, func(a, b contact) int { return strings.Compare(a.email, b.email) }},
		{"CREATED_AT", true, func(a, b contact) int { return b.created.Compare(a.created) }},
	}
	for _, o := range orders {
		want := slices.Clone(all)
		slices.SortStableFunc(want, func(a, b contact) int {
			if c := o.less(a, b); c != 0 {
				return c
			}
			return strings.Compare(a.id, b.id) // ties by ID, ascending
		})
		var order []map[string]any
		if o.field != "" {
			dir := "ASC"
			if o.desc {
				dir = "DESC"
			}
			order = []map[string]any{{"field": o.field, "direction": dir}}
		}
		ids := func(cs []contact) []string {
			out := make([]string, len(cs))
			for i, c := range cs {
				out[i] = c.id
			}
			return out
		}
		var fwd, back []contact
		var cursor any
		for more := true; more; {
			page, info := read(map[string]any{"first": 3, "after": cursor, "o": order})
			fwd = append(fwd, page...)
			cursor, more = info["endCursor"], info["hasNextPage"] == true
		}
		cursor = nil
		for more := true; more; {
			page, info := read(map[string]any{"last": 3, "before": cursor, "o": order})
			back = append(page, back...)
			cursor, more = info["startCursor"], info["hasPreviousPage"] == true
		}
		if !slices.Equal(ids(fwd), ids(want)) || !slices.Equal(ids(back), ids(want)) {
			t.Errorf("order %s desc=%v:\nforwards  %v\nbackwards %v\nwant      %v", o.field, o.desc, ids(fwd), ids(back), ids(want))
		}
	}
}

// customerAccount(number:) finds at most one account: a page of its
// contacts is read with a LIMIT, not with a row number per account over all
// of the account's contacts (what eager loading does for a list of
// accounts), and stops after the page.
func TestAccountContactsPageIsALimit(t *testing.T) {
	rec := &stmtRecorder{}
	e := newEnv(t, database.WithDriver(func(d dialect.Driver) dialect.Driver { rec.Driver = d; return rec }))
	acct := e.createAccount("LIMIT1")
	for i := 0; i < 3; i++ {
		e.createContact(e.admin, acct, fmt.Sprintf("P%d", i), fmt.Sprintf("p%d@limit1.example", i))
	}
	rec.start()
	d := e.ok(e.admin, `{ customerAccount(number: "LIMIT1") { contacts(first: 2) { edges { node { name } } pageInfo { hasNextPage } } } }`, nil)
	stmts := rec.stop()
	if n := len(dig(d, "customerAccount", "contacts", "edges").([]any)); n != 2 || dig(d, "customerAccount", "contacts", "pageInfo", "hasNextPage") != true {
		t.Fatalf("want 2 of 3 contacts and a next page: %v", d)
	}
	page := false
	for _, s := range stmts {
		q := strings.NewReplacer("`", "", `"`, "").Replace(strings.ToUpper(s.query))
		if strings.Contains(q, "ROW_NUMBER") {
			t.Errorf("a row number over the account's contacts: %s", s.query)
		}
		page = page || strings.Contains(q, "FROM CONTACTS") && strings.HasSuffix(q, " LIMIT 3")
	}
	if !page {
		t.Errorf("no contacts query with LIMIT 3 among %d statements: %v", len(stmts), stmts)
	}
}
