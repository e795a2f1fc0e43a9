// Command portier-migrations writes a new versioned migration for each
// dialect from the difference between the ent schema and the migrations
// already in migrations/ (see docs/operations.md, "Database migrations").
//
//	go run ./cmd/portier-migrations NAME
//
// It replays the existing files on scratch databases: an in-memory SQLite
// database, and a new database on the PostgreSQL server named by
// TEST_DATABASE_URL (`make migration NAME=…` starts a throwaway one). Review
// the files it writes before committing them.
package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"

	"ariga.io/atlas/sql/migrate"
	"entgo.io/ent/dialect"
	_ "github.com/lib/pq"
	_ "modernc.org/sqlite"

	_ "portier/ent/runtime"
	"portier/internal/dbmigrate"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "portier-migrations:", err)
		os.Exit(1)
	}
}

var nameRE = regexp.MustCompile(`^[a-z0-9_]{1,60}$`)

func run() error {
	if len(os.Args) != 2 || !nameRE.MatchString(os.Args[1]) {
		return fmt.Errorf("usage: portier-migrations NAME (lower case letters, digits and _)")
	}
	name := os.Args[1]
	root := os.Getenv("PORTIER_MIGRATIONS_DIR")
	if root == "" {
		root = "migrations"
	}
	pgURL := os.Getenv("TEST_DATABASE_URL")
	if pgURL == "" {
		return fmt.Errorf("TEST_DATABASE_URL is not set: run it through `make migration NAME=%s`, which starts a throwaway PostgreSQL", name)
	}
	ctx := context.Background()
	// One version for both dialects' files of this migration.
	version := migrate.NewVersion()

	lite, err := sql.Open("sqlite", "file:dev?mode=memory&_pragma=foreign_keys(1)")
	if err != nil {
		return err
	}
	lite.SetMaxOpenConns(1) // one in-memory database
	defer lite.Close()
	if err := diff(ctx, lite, dialect.SQLite, filepath.Join(root, "sqlite"), name, version); err != nil {
		return err
	}

	pg, drop, err := scratchPostgres(ctx, pgURL)
	if err != nil {
		return err
	}
	defer drop()
	return diff(ctx, pg, dialect.Postgres, filepath.Join(root, "postgres"), name, version)
}

func diff(ctx context.Context, dev *sql.DB, dia, dirPath, name, version string) error {
	if err := os.MkdirAll(dirPath, 0o755); err != nil {
		return err
	}
	dir, err := migrate.NewLocalDir(dirPath)
	if err != nil {
		return err
	}
	wrote, err := dbmigrate.Diff(ctx, dev, dia, dir, name)
	if err != nil {
		return fmt.Errorf("%s: %w", dia, err)
	}
	if wrote {
		if err := setVersion(dir, name, version); err != nil {
			return err
		}
		fmt.Printf("%s: wrote a migration in %s (review it)\n", dia, dirPath)
	} else {
		fmt.Printf("%s: the migrations in %s match the ent schema; nothing written\n", dia, dirPath)
	}
	return nil
}

func scratchPostgres(ctx context.Context, base string) (*sql.DB, func(), error) {
	admin, err := sql.Open("postgres", base)
	if err != nil {
		return nil, nil, err
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	dbname := "portier_migrations_dev_" + hex.EncodeToString(b)
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+dbname); err != nil {
		_ = admin.Close()
		return nil, nil, fmt.Errorf("create a scratch database: %w", err)
	}
	u, err := url.Parse(base)
	if err != nil {
		return nil, nil, err
	}
	u.Path = "/" + dbname
	dev, err := sql.Open("postgres", u.String())
	if err != nil {
		return nil, nil, err
	}
	return dev, func() {
		_ = dev.Close()
		_, _ = admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+dbname+" WITH (FORCE)")
		_ = admin.Close()
	}, nil
}

// setVersion renames the migration just written (the newest file ending in
// _name.sql) to version_name.sql and rewrites the directory's atlas.sum.
func setVersion(dir *migrate.LocalDir, name, version string) error {
	files, err := dir.Files()
	if err != nil {
		return err
	}
	newest := files[len(files)-1]
	want := version + "_" + name + ".sql"
	if newest.Name() != want {
		if err := os.Rename(filepath.Join(dir.Path(), newest.Name()), filepath.Join(dir.Path(), want)); err != nil {
			return err
		}
	}
	if files, err = dir.Files(); err != nil {
		return err
	}
	sum, err := migrate.NewHashFile(files)
	if err != nil {
		return err
	}
	return migrate.WriteSumFile(dir, sum)
}
