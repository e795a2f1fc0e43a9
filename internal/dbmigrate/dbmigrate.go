// Package dbmigrate applies Portier's versioned migrations (the migrations
// package: SQL files per dialect, generated from the ent schema) and tells
// whether a database is behind. See docs/operations.md, "Database migrations".
//
// A database records what was applied in portier_schema_migrations: one row
// per migration file, with the file's checksum. All pending files are applied
// in one transaction, under an advisory lock on PostgreSQL, so several
// instances starting at once apply each file exactly once and a failure leaves
// the database as it was.
package dbmigrate

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
	"time"

	"ariga.io/atlas/sql/migrate"
	"entgo.io/ent/dialect"

	"portier/migrations"
)

// Table records the applied migrations.
const Table = "portier_schema_migrations"

// lockKey is the PostgreSQL advisory lock taken while migrating (an arbitrary
// constant: "portier" in ASCII).
const lockKey = 0x706f7274696572

// Migration is one migration file.
type Migration struct {
	Version     string // the file name's leading timestamp
	Description string // the rest of the file name
	Name        string // the file name
	Checksum    string // from the directory's atlas.sum
	stmts       []string
}

// Dir returns the embedded migration directory of a dialect
// (dialect.Postgres or dialect.SQLite), checked against its atlas.sum.
func Dir(dia string) (*migrate.MemDir, error) {
	sub, err := dirName(dia)
	if err != nil {
		return nil, err
	}
	entries, err := fs.ReadDir(migrations.FS, sub)
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	d := &migrate.MemDir{}
	for _, e := range entries {
		b, err := fs.ReadFile(migrations.FS, path.Join(sub, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", e.Name(), err)
		}
		if err := d.WriteFile(e.Name(), b); err != nil {
			return nil, err
		}
	}
	if err := migrate.Validate(d); err != nil {
		return nil, fmt.Errorf("migrations/%s does not match its atlas.sum (a file was edited, added or removed by hand; regenerate with make migration): %w", sub, err)
	}
	return d, nil
}

func dirName(dia string) (string, error) {
	switch dia {
	case dialect.Postgres:
		return "postgres", nil
	case dialect.SQLite:
		return "sqlite", nil
	}
	return "", fmt.Errorf("no migrations for dialect %q", dia)
}

// Migrations returns the embedded migrations of a dialect, oldest first.
func Migrations(dia string) ([]Migration, error) {
	d, err := Dir(dia)
	if err != nil {
		return nil, err
	}
	return load(d)
}

func load(d migrate.Dir) ([]Migration, error) {
	files, err := d.Files()
	if err != nil {
		return nil, err
	}
	sum, err := d.Checksum()
	if err != nil {
		return nil, err
	}
	out := make([]Migration, 0, len(files))
	for _, f := range files {
		stmts, err := f.Stmts()
		if err != nil {
			return nil, fmt.Errorf("migration %s: %w", f.Name(), err)
		}
		h, err := sum.SumByName(f.Name())
		if err != nil {
			return nil, fmt.Errorf("migration %s: %w", f.Name(), err)
		}
		out = append(out, Migration{Version: f.Version(), Description: f.Desc(), Name: f.Name(), Checksum: h, stmts: stmts})
	}
	return out, nil
}

// Status is what a database has of the migrations of this build.
type Status struct {
	// Applied are the versions recorded in the database, oldest first.
	Applied []string
	// Pending are this build's migrations the database has not had.
	Pending []Migration
	// Unknown are versions the database has that this build does not know:
	// a newer build migrated it.
	Unknown []string
	// Legacy is a database that an earlier Portier created by automatic
	// migration: it has Portier's tables but no record of migrations.
	Legacy bool
	// Empty is a database without Portier's tables.
	Empty bool
}

// Current reports whether the database has every migration of this build.
func (s Status) Current() bool { return len(s.Pending) == 0 && !s.Legacy }

// Behind says, for an operator, why the database is not current.
func (s Status) Behind() string {
	switch {
	case s.Legacy:
		return "the database was created by an earlier Portier's automatic migration and has no record of versioned migrations"
	case s.Empty:
		return fmt.Sprintf("the database is empty (%d migrations to apply)", len(s.Pending))
	case len(s.Pending) > 0:
		names := make([]string, len(s.Pending))
		for i, m := range s.Pending {
			names[i] = m.Name
		}
		return fmt.Sprintf("the database is behind by %d migration(s): %s", len(s.Pending), strings.Join(names, ", "))
	}
	return ""
}

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// ReadStatus compares the database with this build's migrations. It
// changes nothing. A migration recorded with another checksum than this
// build's file is an error: the file was changed after it was applied.
func ReadStatus(ctx context.Context, db *sql.DB, dia string) (Status, error) {
	ms, err := Migrations(dia)
	if err != nil {
		return Status{}, err
	}
	return readStatus(ctx, db, dia, ms)
}

func readStatus(ctx context.Context, q querier, dia string, ms []Migration) (Status, error) {
	var st Status
	hasTable, err := tableExists(ctx, q, dia, Table)
	if err != nil {
		return st, err
	}
	applied := map[string]string{}
	if hasTable {
		rows, err := q.QueryContext(ctx, "SELECT version, checksum FROM "+Table+" ORDER BY version")
		if err != nil {
			return st, fmt.Errorf("read %s: %w", Table, err)
		}
		defer rows.Close()
		for rows.Next() {
			var v, c string
			if err := rows.Scan(&v, &c); err != nil {
				return st, fmt.Errorf("read %s: %w", Table, err)
			}
			applied[v] = c
			st.Applied = append(st.Applied, v)
		}
		if err := rows.Err(); err != nil {
			return st, fmt.Errorf("read %s: %w", Table, err)
		}
	}
	known := map[string]bool{}
	for _, m := range ms {
		known[m.Version] = true
		c, ok := applied[m.Version]
		switch {
		case !ok:
			st.Pending = append(st.Pending, m)
		case c != m.Checksum:
			return st, fmt.Errorf("migration %s was changed after it was applied to this database (checksum %s in the database, %s in this build)", m.Name, c, m.Checksum)
		}
	}
	for _, v := range st.Applied {
		if !known[v] {
			st.Unknown = append(st.Unknown, v)
		}
	}
	if len(st.Applied) == 0 {
		// Portier's first table: present without records means an earlier,
		// automatically migrated database.
		has, err := tableExists(ctx, q, dia, "customer_accounts")
		if err != nil {
			return st, err
		}
		st.Legacy, st.Empty = has, !has
	}
	return st, nil
}

func tableExists(ctx context.Context, q querier, dia, name string) (bool, error) {
	var query string
	switch dia {
	case dialect.Postgres:
		query = "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = $1"
	case dialect.SQLite:
		query = "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?"
	default:
		return false, fmt.Errorf("no migrations for dialect %q", dia)
	}
	var n int
	if err := q.QueryRowContext(ctx, query, name).Scan(&n); err != nil {
		return false, fmt.Errorf("inspect the database: %w", err)
	}
	return n > 0, nil
}

// Options adjust Apply.
type Options struct {
	// To stops after this version (inclusive); empty: apply all. Tests use
	// it to build a database of an earlier migration set.
	To string
	// Adopt brings a Legacy database up to this build's schema with ent's
	// additive automatic migration, then records every migration of this
	// build as applied. Without it, Apply refuses a Legacy database.
	Adopt func(ctx context.Context) error
	// Now stamps applied_at (time.Now when nil).
	Now func() time.Time
}

// Result says what Apply did.
type Result struct {
	Applied []Migration // run now
	Adopted bool        // a Legacy database was adopted
}

// Apply brings the database up to this build's migrations.
func Apply(ctx context.Context, db *sql.DB, dia string, o Options) (Result, error) {
	ms, err := Migrations(dia)
	if err != nil {
		return Result{}, err
	}
	return apply(ctx, db, dia, ms, o)
}

func apply(ctx context.Context, db *sql.DB, dia string, ms []Migration, o Options) (Result, error) {
	if o.To != "" {
		i := slices.IndexFunc(ms, func(m Migration) bool { return m.Version == o.To })
		if i < 0 {
			return Result{}, fmt.Errorf("no migration with version %s", o.To)
		}
		ms = ms[:i+1]
	}
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	// One connection for the whole run: it holds PostgreSQL's advisory lock
	// and SQLite's foreign-key switch, both settings of a connection.
	conn, err := db.Conn(ctx)
	if err != nil {
		return Result{}, fmt.Errorf("connect for migration: %w", err)
	}
	defer conn.Close()
	if dia == dialect.Postgres {
		// Held from the first look at the database to the commit, adoption
		// included: instances starting together migrate one after another,
		// and the later ones find nothing to do.
		if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", int64(lockKey)); err != nil {
			return Result{}, fmt.Errorf("lock for migration: %w", err)
		}
		defer func() {
			if _, err := conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", int64(lockKey)); err != nil {
				// Never hand a connection that may still hold the lock
				// back to the pool: discard it (its session, and the
				// lock, end with it).
				_ = conn.Raw(func(any) error { return driver.ErrBadConn })
			}
		}()
	}
	if dia == dialect.SQLite {
		// A migration that rebuilds a table (create a copy, copy the rows,
		// drop the old, rename) must run without foreign-key enforcement,
		// or dropping the old table would delete the rows that refer to it
		// (ON DELETE CASCADE). The switch is a no-op inside a transaction,
		// so it is set here, and the keys are checked before the commit.
		if _, err := conn.ExecContext(ctx, "PRAGMA foreign_keys = off"); err != nil {
			return Result{}, fmt.Errorf("prepare migration: %w", err)
		}
		defer func() { _, _ = conn.ExecContext(context.WithoutCancel(ctx), "PRAGMA foreign_keys = on") }()
	}
	st, err := readStatus(ctx, conn, dia, ms)
	if err != nil {
		return Result{}, err
	}
	var res Result
	if st.Legacy {
		if o.Adopt == nil {
			return Result{}, errors.New(st.Behind() + "; run `portier migrate` once to adopt it")
		}
		// ent's automatic migration runs its own transaction, on other
		// connections; the advisory lock keeps other instances out.
		if err := o.Adopt(ctx); err != nil {
			return Result{}, fmt.Errorf("adopt the database: %w", err)
		}
		res.Adopted = true
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return Result{}, fmt.Errorf("begin migration: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	if dia == dialect.Postgres {
		// A migration waits for a table's lock at most this long, rather
		// than queueing every request on that table behind it.
		if _, err := tx.ExecContext(ctx, "SET LOCAL lock_timeout = '10s'"); err != nil {
			return Result{}, fmt.Errorf("prepare migration: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, "CREATE TABLE IF NOT EXISTS "+Table+
		" (version varchar(14) NOT NULL PRIMARY KEY, description text NOT NULL, checksum text NOT NULL, applied_at timestamp NOT NULL, baseline boolean NOT NULL)"); err != nil {
		return Result{}, fmt.Errorf("create %s: %w", Table, err)
	}
	// Read again under the lock: another instance may have migrated.
	st, err = readStatus(ctx, tx, dia, ms)
	if err != nil {
		return Result{}, err
	}
	insert := "INSERT INTO " + Table + " (version, description, checksum, applied_at, baseline) VALUES (?, ?, ?, ?, ?)"
	if dia == dialect.Postgres {
		insert = "INSERT INTO " + Table + " (version, description, checksum, applied_at, baseline) VALUES ($1, $2, $3, $4, $5)"
	}
	for _, m := range st.Pending {
		if !res.Adopted {
			for _, s := range m.stmts {
				if dia == dialect.SQLite && isForeignKeySwitch(s) {
					continue // set on the connection, above
				}
				if _, err := tx.ExecContext(ctx, s); err != nil {
					return Result{}, fmt.Errorf("migration %s failed, nothing was applied: %w", m.Name, err)
				}
			}
		}
		if _, err := tx.ExecContext(ctx, insert, m.Version, m.Description, m.Checksum, now().UTC(), res.Adopted); err != nil {
			return Result{}, fmt.Errorf("record migration %s: %w", m.Name, err)
		}
		if !res.Adopted {
			res.Applied = append(res.Applied, m)
		}
	}
	if dia == dialect.SQLite && len(res.Applied) > 0 {
		if err := foreignKeyCheck(ctx, tx); err != nil {
			return Result{}, err
		}
	}
	if err := tx.Commit(); err != nil {
		return Result{}, fmt.Errorf("commit migration: %w", err)
	}
	return res, nil
}

// foreignKeyCheck fails when a row refers to a row that does not exist.
func foreignKeyCheck(ctx context.Context, tx *sql.Tx) error {
	rows, err := tx.QueryContext(ctx, "PRAGMA foreign_key_check")
	if err != nil {
		return fmt.Errorf("check foreign keys after migration: %w", err)
	}
	defer rows.Close()
	if rows.Next() {
		var table string
		var rowid sql.NullInt64
		var parent string
		var fkid int
		if err := rows.Scan(&table, &rowid, &parent, &fkid); err != nil {
			return fmt.Errorf("check foreign keys after migration: %w", err)
		}
		return fmt.Errorf("migration left rows of %s referring to missing rows of %s; nothing was applied", table, parent)
	}
	return rows.Err()
}

func isForeignKeySwitch(stmt string) bool {
	s := strings.ToLower(strings.Join(strings.Fields(stmt), " "))
	return strings.HasPrefix(s, "pragma foreign_keys")
}
