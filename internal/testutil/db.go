// Package testutil opens a fresh database per test: a temporary SQLite file
// by default, or a new database on the PostgreSQL server named by
// TEST_DATABASE_URL (set by scripts/with-postgres.sh in `make test`).
package testutil

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"entgo.io/ent/dialect"

	"portier/internal/database"
	"portier/internal/viewer"
)

// Dialect names the database the tests run on ("sqlite" or "postgres").
func Dialect() string {
	if os.Getenv("TEST_DATABASE_URL") != "" {
		return "postgres"
	}
	return "sqlite"
}

// OpenDB opens a fresh, migrated database for t and closes (and drops) it
// when t ends.
func OpenDB(t testing.TB, opts ...database.Option) *database.DB {
	t.Helper()
	ctx := context.Background()
	dsn := sqliteDSN(t)
	if base := os.Getenv("TEST_DATABASE_URL"); base != "" {
		dsn = freshPostgres(t, base)
	}
	db, err := database.Open(ctx, dsn, append([]database.Option{database.WithMigrate(database.AutoMigrate)}, opts...)...)
	if err != nil {
		t.Fatalf("open test database: %v", err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// FreshDSN returns the DSN of a new, empty database for t, of the dialect
// the tests run on, dropped when t ends; nothing is migrated.
func FreshDSN(t testing.TB) string {
	t.Helper()
	if base := os.Getenv("TEST_DATABASE_URL"); base != "" {
		return freshPostgres(t, base)
	}
	return sqliteDSN(t)
}

func sqliteDSN(t testing.TB) string {
	return database.SQLiteDSN(filepath.Join(t.TempDir(), "test.db"))
}

func freshPostgres(t testing.TB, base string) string {
	t.Helper()
	admin, err := sql.Open("postgres", base)
	if err != nil {
		t.Fatalf("connect to PostgreSQL: %v", err)
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "portier_test_" + hex.EncodeToString(b)
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		_ = admin.Close()
		t.Fatalf("create test database: %v", err)
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse TEST_DATABASE_URL: %v", err)
	}
	u.Path = "/" + name
	t.Cleanup(func() {
		_, _ = admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
		_ = admin.Close()
	})
	return u.String()
}

// StatementCounter is an ent driver wrapper that counts the SQL statements
// that requests send to the database (queries and execs, in and out of
// transactions). Background work (the outbox worker) has no request id in
// its context and is not counted.
type StatementCounter struct {
	dialect.Driver
	n *atomic.Int64
}

// NewStatementCounter returns the wrapper option and a function reading the count.
func NewStatementCounter() (database.Option, *atomic.Int64) {
	n := new(atomic.Int64)
	return database.WithDriver(func(d dialect.Driver) dialect.Driver { return &StatementCounter{Driver: d, n: n} }), n
}

// Query implements dialect.Driver.
func (c *StatementCounter) Query(ctx context.Context, q string, args, v any) error {
	count(ctx, c.n)
	return c.Driver.Query(ctx, q, args, v)
}

// Exec implements dialect.Driver.
func (c *StatementCounter) Exec(ctx context.Context, q string, args, v any) error {
	count(ctx, c.n)
	return c.Driver.Exec(ctx, q, args, v)
}

// Tx implements dialect.Driver.
func (c *StatementCounter) Tx(ctx context.Context) (dialect.Tx, error) {
	tx, err := c.Driver.Tx(ctx)
	if err != nil {
		return nil, err
	}
	return &countingTx{Tx: tx, n: c.n}, nil
}

type countingTx struct {
	dialect.Tx
	n *atomic.Int64
}

func (c *countingTx) Query(ctx context.Context, q string, args, v any) error {
	count(ctx, c.n)
	return c.Tx.Query(ctx, q, args, v)
}

func (c *countingTx) Exec(ctx context.Context, q string, args, v any) error {
	count(ctx, c.n)
	return c.Tx.Exec(ctx, q, args, v)
}

func count(ctx context.Context, n *atomic.Int64) {
	if viewer.FromContext(ctx).RequestID != "" {
		n.Add(1)
	}
}
