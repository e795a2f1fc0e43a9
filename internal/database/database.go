// Package database opens Portier's database: SQLite (modernc, cgo-free) for
// the embedded default, PostgreSQL (lib/pq) in production.
package database

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	_ "github.com/lib/pq"  // PostgreSQL driver (openPostgres, and sql.Open("postgres") elsewhere)
	_ "modernc.org/sqlite" // SQLite driver

	"portier/ent"
	"portier/ent/migrate"
	_ "portier/ent/runtime" // privacy policies, hooks, defaults and validators
	"portier/internal/dbmigrate"
	"portier/internal/tracing"
)

// DB is an open database.
type DB struct {
	Client  *ent.Client
	SQL     *sql.DB
	Dialect string
}

// Option adjusts how the database is opened.
type Option func(*options)

type options struct {
	wrap    func(dialect.Driver) dialect.Driver
	migrate MigrateMode
	log     func(msg string, args ...any)
	warn    func(msg string, args ...any)
	// stmtCache is statements prepared per PostgreSQL connection: 0 means
	// DefaultStatementCacheSize, negative none.
	stmtCache int
}

// MigrateMode says what Open does about the schema.
type MigrateMode int

const (
	// RequireCurrent refuses a database that lacks migrations of this build
	// (the default: an operator migrates with `portier migrate`).
	RequireCurrent MigrateMode = iota
	// AutoMigrate applies pending migrations, and adopts a database an
	// earlier Portier created by automatic migration (PORTIER_AUTO_MIGRATE).
	AutoMigrate
	// SkipMigrations leaves the schema alone (`portier migrate status`).
	SkipMigrations
)

// WithMigrate sets what Open does about the schema.
func WithMigrate(m MigrateMode) Option {
	return func(o *options) { o.migrate = m }
}

// WithLog receives what Open did to the schema (slog's Info signature).
func WithLog(log func(msg string, args ...any)) Option {
	return func(o *options) { o.log = log }
}

// WithWarn receives what an operator should look at (slog's Warn).
func WithWarn(warn func(msg string, args ...any)) Option {
	return func(o *options) { o.warn = warn }
}

// WithStatementCache sets how many statements each PostgreSQL connection
// keeps prepared (0: DefaultStatementCacheSize; negative: none).
func WithStatementCache(n int) Option {
	return func(o *options) { o.stmtCache = n }
}

// WithDriver wraps the ent driver (tests use it to count statements).
func WithDriver(wrap func(dialect.Driver) dialect.Driver) Option {
	return func(o *options) { o.wrap = wrap }
}

// SQLiteDSN returns the DSN for an SQLite file with the pragmas a server
// needs: foreign keys, WAL, a busy timeout, and write transactions that take
// the write lock up front (no deadlocks upgrading read to write).
func SQLiteDSN(path string) string {
	// busy_timeout first: switching to WAL needs a lock that another
	// connection opening at the same moment may hold.
	return "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_txlock=immediate"
}

// Open opens dsn ("postgres://…" / "postgresql://…" or an SQLite "file:…"
// DSN) and, by its MigrateMode, checks or migrates the schema (see
// docs/operations.md, "Database migrations").
func Open(ctx context.Context, dsn string, opts ...Option) (*DB, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	driverName, dia := "sqlite", dialect.SQLite
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		driverName, dia = "postgres", dialect.Postgres
	}
	var db *sql.DB
	if dia == dialect.Postgres {
		size := o.stmtCache
		switch {
		case size == 0:
			size = DefaultStatementCacheSize
		case size < 0:
			size = 0
		}
		c, err := openPostgres(dsn, size)
		if err != nil {
			var uerr *url.Error
			if errors.As(err, &uerr) {
				// The URL could not be parsed, and the error quotes it
				// whole, password included.
				return nil, fmt.Errorf("connect to database %s: the URL is not valid (percent-encode special characters in the password)", Redact(dsn))
			}
			// A setting lib/pq refuses (sslmode=…, an unsupported PG*
			// variable): its error names the setting, not the password.
			return nil, fmt.Errorf("connect to database %s: %w", Redact(dsn), err)
		}
		db = sql.OpenDB(c)
	} else {
		var err error
		if db, err = sql.Open(driverName, dsn); err != nil {
			return nil, fmt.Errorf("open database: %w", err)
		}
	}
	if dia == dialect.Postgres {
		db.SetMaxOpenConns(20)
		db.SetMaxIdleConns(10)
		// A connection is replaced after half an hour: what it keeps on the
		// server (prepared statements, see stmtcache.go) does not outlive a
		// migration by more than that.
		db.SetConnMaxLifetime(30 * time.Minute)
	} else {
		db.SetMaxOpenConns(8)
	}
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close()
		var uerr *url.Error
		if errors.As(err, &uerr) {
			// The driver could not parse the URL, and its error quotes it
			// whole, password included.
			return nil, fmt.Errorf("connect to database %s: the URL is not valid (percent-encode special characters in the password)", Redact(dsn))
		}
		return nil, fmt.Errorf("connect to database %s: %w", Redact(dsn), err)
	}
	var drv dialect.Driver = tracing.WrapDriver(entsql.OpenDB(dia, db))
	if o.wrap != nil {
		drv = o.wrap(drv)
	}
	client := ent.NewClient(ent.Driver(drv))
	if err := prepareSchema(ctx, client, db, dia, o); err != nil {
		_ = db.Close()
		return nil, err
	}
	return &DB{Client: client, SQL: db, Dialect: dia}, nil
}

func prepareSchema(ctx context.Context, client *ent.Client, db *sql.DB, dia string, o options) error {
	log := o.log
	if log == nil {
		log = func(string, ...any) {}
	}
	switch o.migrate {
	case SkipMigrations:
		return nil
	case AutoMigrate:
		res, err := dbmigrate.Apply(ctx, db, dia, dbmigrate.Options{Adopt: func(ctx context.Context) error {
			return AdoptLegacy(ctx, client)
		}})
		if err != nil {
			return fmt.Errorf("migrate database: %w", err)
		}
		if res.Adopted {
			log("adopted a database created by automatic migration: recorded this build's migrations as applied")
		}
		for _, m := range res.Applied {
			log("applied migration", "version", m.Version, "name", m.Description)
		}
		return nil
	}
	st, err := dbmigrate.ReadStatus(ctx, db, dia)
	if err != nil {
		return fmt.Errorf("check database schema: %w", err)
	}
	if !st.Current() {
		return fmt.Errorf("%s: run `portier migrate` (make migrate) first, or start with PORTIER_AUTO_MIGRATE=true to migrate at start", st.Behind())
	}
	if len(st.Unknown) > 0 {
		warn := o.warn
		if warn == nil {
			warn = log
		}
		warn("the database has migrations this build does not know: a newer Portier migrated it; this build may fail on what they changed", "versions", strings.Join(st.Unknown, ","))
	}
	return nil
}

// AdoptLegacy brings a database that an earlier Portier created by ent's
// automatic migration up to this build's schema the way that Portier did:
// additively (it creates tables, columns and indexes; it drops nothing).
func AdoptLegacy(ctx context.Context, client *ent.Client) error {
	dbmigrate.SchemaMu.Lock()
	defer dbmigrate.SchemaMu.Unlock()
	return client.Schema.Create(ctx, migrate.WithForeignKeys(true))
}

// Close closes the database.
func (d *DB) Close() error { return d.Client.Close() }

// Redact hides the password of a database URL for logs.
func Redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		// Unparsable (an unencoded "%", "#" or "/" in the password, say):
		// hide everything between the scheme and the last "@".
		scheme, rest, ok := strings.Cut(dsn, "://")
		if at := strings.LastIndex(rest, "@"); ok && at >= 0 {
			return scheme + "://xxxxx" + rest[at:]
		}
		if ok {
			return scheme + "://xxxxx"
		}
		return "(not a URL)"
	}
	if u.User == nil {
		return dsn
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}
