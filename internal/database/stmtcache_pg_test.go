package database_test

import (
	"context"
	"errors"
	"testing"

	"github.com/lib/pq"

	"portier/internal/database"
	"portier/internal/testutil"
)

// On a real PostgreSQL: a statement run often on a connection is prepared
// there once, inside and outside transactions, survives a rollback, and a
// migration that changes its result columns costs one failed run, not a
// connection that fails from then on.
func TestStatementCacheOnPostgres(t *testing.T) {
	if testutil.Dialect() != "postgres" {
		t.Skip("PostgreSQL only: run with scripts/with-postgres.sh")
	}
	ctx := context.Background()
	db, err := database.Open(ctx, testutil.FreshDSN(t), database.WithMigrate(database.SkipMigrations), database.WithStatementCache(4))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	conn, err := db.SQL.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	prepared := func() int {
		t.Helper()
		var n int
		if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM pg_prepared_statements").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := conn.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec("CREATE TABLE t (id int PRIMARY KEY, v int, doc jsonb)")
	exec("INSERT INTO t VALUES (1, 41, '{}')")

	const q = "SELECT v FROM t WHERE id = $1"
	value := func() (int, error) {
		var v int
		err := conn.QueryRowContext(ctx, q, 1).Scan(&v)
		return v, err
	}
	for i := range 2 {
		if v, err := value(); err != nil || v != 41 {
			t.Fatalf("run %d: %d, %v", i, v, err)
		}
	}
	if n := prepared(); n != 0 {
		t.Fatalf("%d statements prepared after two runs, want 0", n)
	}

	// The third run prepares it, inside a transaction that is rolled back.
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var v int
	if err := tx.QueryRowContext(ctx, q, 1).Scan(&v); err != nil || v != 41 {
		t.Fatalf("in a transaction: %d, %v", v, err)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if n := prepared(); n != 1 {
		t.Fatalf("%d statements prepared after the rollback, want 1", n)
	}
	if v, err := value(); err != nil || v != 41 {
		t.Fatalf("prepared run: %d, %v", v, err)
	}

	// A JSON parameter still reaches jsonb as text through a prepared
	// statement (see pgconn.go).
	for range 4 {
		exec("UPDATE t SET doc = $1 WHERE id = $2", []byte(`{"a":1}`), 1)
	}
	var doc string
	if err := conn.QueryRowContext(ctx, "SELECT doc::text FROM t WHERE id = 1").Scan(&doc); err != nil || doc != `{"a": 1}` {
		t.Fatalf("doc %q, %v", doc, err)
	}

	// A migration changes the column's type: the prepared statement's
	// result type no longer holds. One run fails; the next are fine.
	exec("ALTER TABLE t ALTER COLUMN v TYPE bigint")
	_, err = value()
	var pqErr *pq.Error
	if err != nil && !(errors.As(err, &pqErr) && pqErr.Code == "0A000") {
		t.Fatalf("after the migration: %v", err)
	}
	for i := range 4 {
		if v, err := value(); err != nil || v != 41 {
			t.Fatalf("run %d after the migration: %d, %v", i, v, err)
		}
	}
	if err == nil {
		t.Log("PostgreSQL re-planned the statement without an error")
	}

	// A parameter's type is fixed when the statement is prepared: after
	// the column widens, a value only the new type holds fails once, and
	// the statement is closed on the server and prepared anew.
	const upd = "UPDATE t SET v = $1 WHERE id = $2"
	for range 4 {
		exec(upd, 41, 1)
	}
	before := prepared()
	exec("ALTER TABLE t ALTER COLUMN v TYPE numeric")
	_, err = conn.ExecContext(ctx, upd, "3000000000.5", 1)
	if err != nil {
		if n := prepared(); n != before-1 {
			t.Fatalf("%d statements prepared after the failed run, want %d (the stale one closed)", n, before-1)
		}
	}
	for i := range 4 {
		if _, err := conn.ExecContext(ctx, upd, "3000000000.5", 1); err != nil {
			t.Fatalf("run %d after widening the column: %v", i, err)
		}
	}

	// A prepared run that fails inside a transaction closes its statement
	// there; the transaction still rolls back and the connection works.
	const div = "SELECT 10 / $1::int"
	for range 3 {
		var r int
		if err := conn.QueryRowContext(ctx, div, 2).Scan(&r); err != nil || r != 5 {
			t.Fatalf("%s: %d, %v", div, r, err)
		}
	}
	before = prepared()
	tx, err = conn.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var r int
	if err := tx.QueryRowContext(ctx, div, 0).Scan(&r); err == nil {
		t.Fatal("division by zero succeeded")
	}
	if err := tx.Rollback(); err != nil {
		t.Fatalf("rollback after the failed prepared run: %v", err)
	}
	if n := prepared(); n != before-1 {
		t.Fatalf("%d statements prepared after the failed run, want %d", n, before-1)
	}
	if err := conn.QueryRowContext(ctx, div, 2).Scan(&r); err != nil || r != 5 {
		t.Fatalf("after the rollback: %d, %v", r, err)
	}

	// Turned off, nothing is prepared.
	off, err := database.Open(ctx, testutil.FreshDSN(t), database.WithMigrate(database.SkipMigrations), database.WithStatementCache(-1))
	if err != nil {
		t.Fatal(err)
	}
	defer off.Close()
	c2, err := off.SQL.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	var n int
	for range 5 {
		if err := c2.QueryRowContext(ctx, "SELECT count(*) FROM pg_prepared_statements WHERE $1::int = 1", 1).Scan(&n); err != nil {
			t.Fatal(err)
		}
	}
	if n != 0 {
		t.Fatalf("%d statements prepared with the cache off", n)
	}
}
