// Package database opens Portier's database: SQLite (modernc, cgo-free) for
// the embedded default, PostgreSQL (lib/pq) in production.
package database

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"strings"
	"sync"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	_ "github.com/lib/pq"  // PostgreSQL driver
	_ "modernc.org/sqlite" // SQLite driver

	"portier/ent"
	"portier/ent/migrate"
	_ "portier/ent/runtime" // privacy policies, hooks, defaults and validators
)

var migrateMu sync.Mutex

// DB is an open database.
type DB struct {
	Client  *ent.Client
	SQL     *sql.DB
	Dialect string
}

// Option adjusts how the database is opened.
type Option func(*options)

type options struct {
	wrap func(dialect.Driver) dialect.Driver
}

// WithDriver wraps the ent driver (tests use it to count statements).
func WithDriver(wrap func(dialect.Driver) dialect.Driver) Option {
	return func(o *options) { o.wrap = wrap }
}

// SQLiteDSN returns the DSN for an SQLite file with the pragmas a server
// needs: foreign keys, WAL, a busy timeout, and write transactions that take
// the write lock up front (no deadlocks upgrading read to write).
func SQLiteDSN(path string) string {
	return "file:" + path + "?_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=synchronous(NORMAL)&_txlock=immediate"
}

// Open opens dsn ("postgres://…" / "postgresql://…" or an SQLite "file:…"
// DSN) and migrates the schema.
func Open(ctx context.Context, dsn string, opts ...Option) (*DB, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	driverName, dia := "sqlite", dialect.SQLite
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		driverName, dia = "postgres", dialect.Postgres
	}
	db, err := sql.Open(driverName, dsn)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	if dia == dialect.Postgres {
		db.SetMaxOpenConns(20)
		db.SetMaxIdleConns(10)
	} else {
		db.SetMaxOpenConns(8)
	}
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("connect to database %s: %w", Redact(dsn), err)
	}
	var drv dialect.Driver = entsql.OpenDB(dia, db)
	if o.wrap != nil {
		drv = o.wrap(drv)
	}
	client := ent.NewClient(ent.Driver(drv))
	// ent's migration writes package-level table descriptions: one at a time.
	migrateMu.Lock()
	err = client.Schema.Create(ctx, migrate.WithForeignKeys(true))
	migrateMu.Unlock()
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("migrate database: %w", err)
	}
	return &DB{Client: client, SQL: db, Dialect: dia}, nil
}

// Close closes the database.
func (d *DB) Close() error { return d.Client.Close() }

// Redact hides the password of a database URL for logs.
func Redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil || u.User == nil {
		return dsn
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}
