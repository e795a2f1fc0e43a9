package dbmigrate

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"entgo.io/ent/dialect"
	_ "modernc.org/sqlite"
)

// SQLite changes a column by rebuilding the table: copy, drop the old,
// rename. With foreign keys enforced, dropping the old table would delete
// (ON DELETE CASCADE) every row that refers to it. apply switches the
// enforcement off on its connection for the run and checks the keys before
// committing: the children survive.
func TestSQLiteTableRebuildKeepsTheRowsThatReferToIt(t *testing.T) {
	ctx := context.Background()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "r.db")+"?_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, s := range []string{
		"CREATE TABLE customer_accounts (id text PRIMARY KEY, name text NOT NULL)",
		"CREATE TABLE contacts (id text PRIMARY KEY, account text NOT NULL REFERENCES customer_accounts (id) ON DELETE CASCADE)",
		"INSERT INTO customer_accounts VALUES ('a1', 'Muster GmbH')",
		"INSERT INTO contacts VALUES ('c1', 'a1'), ('c2', 'a1')",
	} {
		if _, err := db.Exec(s); err != nil {
			t.Fatal(err)
		}
	}
	rebuild := []string{ // as the migration generator writes a rebuild
		"PRAGMA foreign_keys = off;",
		"CREATE TABLE `new_customer_accounts` (`id` text NOT NULL, `name` text NOT NULL, `short_name` text NOT NULL DEFAULT (''), PRIMARY KEY (`id`));",
		"INSERT INTO `new_customer_accounts` (`id`, `name`) SELECT `id`, `name` FROM `customer_accounts`;",
		"DROP TABLE `customer_accounts`;",
		"ALTER TABLE `new_customer_accounts` RENAME TO `customer_accounts`;",
		"PRAGMA foreign_keys = on;",
	}
	// An earlier migration is recorded, so that this is not a legacy
	// database to adopt.
	if _, err := db.Exec("CREATE TABLE " + Table + " (version varchar(14) NOT NULL PRIMARY KEY, description text NOT NULL, checksum text NOT NULL, applied_at timestamp NOT NULL, baseline boolean NOT NULL)"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("INSERT INTO " + Table + " VALUES ('20980101000000', 'initial', 'h1:y', '2098-01-01 00:00:00', false)"); err != nil {
		t.Fatal(err)
	}
	ms := []Migration{{Version: "20990101000000", Description: "rebuild", Name: "20990101000000_rebuild.sql", Checksum: "h1:x", stmts: rebuild}}
	res, err := apply(ctx, db, dialect.SQLite, ms, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Applied) != 1 {
		t.Fatalf("applied %d migrations, want 1", len(res.Applied))
	}
	var children int
	if err := db.QueryRow("SELECT count(*) FROM contacts").Scan(&children); err != nil || children != 2 {
		t.Fatalf("%d contacts after rebuilding their accounts' table (%v), want 2", children, err)
	}
	// Enforcement is back on for the pool's connections.
	if _, err := db.Exec("INSERT INTO contacts VALUES ('c3', 'missing')"); err == nil {
		t.Fatal("a contact of a missing account was accepted after the migration")
	}

	// A migration that leaves a dangling reference is refused whole.
	bad := []Migration{{Version: "20990102000000", Description: "dangling", Name: "20990102000000_dangling.sql", Checksum: "h1:z",
		stmts: []string{"INSERT INTO contacts VALUES ('c4', 'nowhere')"}}}
	if _, err := apply(ctx, db, dialect.SQLite, bad, Options{}); err == nil {
		t.Fatal("a migration leaving a dangling foreign key was committed")
	}
	if err := db.QueryRow("SELECT count(*) FROM contacts").Scan(&children); err != nil || children != 2 {
		t.Fatalf("%d contacts after the refused migration, want 2", children)
	}
}
