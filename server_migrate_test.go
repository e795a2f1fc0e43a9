package main

import (
	"bytes"
	"strings"
	"testing"
)

// Without PORTIER_AUTO_MIGRATE the server refuses a database that lacks
// migrations, saying what to do; `portier migrate` applies them, `portier
// migrate status` reports. (On the SQLite file; internal/dbmigrate's tests
// cover both dialects.)
func TestServerRefusesADatabaseBehindUntilMigrated(t *testing.T) {
	t.Setenv("PORTIER_DATA_DIR", t.TempDir())
	t.Setenv("DATABASE_URL", "")
	t.Setenv("PORTIER_AUTO_MIGRATE", "")
	t.Setenv("PORT", "0")

	err := run()
	if err == nil || !strings.Contains(err.Error(), "the database is empty") ||
		!strings.Contains(err.Error(), "portier migrate") || !strings.Contains(err.Error(), "PORTIER_AUTO_MIGRATE=true") {
		t.Fatalf("start on an empty database: %v, want a refusal naming `portier migrate` and PORTIER_AUTO_MIGRATE", err)
	}

	var out bytes.Buffer
	if err := migrateCommand([]string{"status"}, &out); err == nil || !strings.Contains(out.String(), "pending: ") {
		t.Fatalf("status of an empty database: %v\n%s", err, out.String())
	}
	out.Reset()
	if err := migrateCommand(nil, &out); err != nil {
		t.Fatalf("portier migrate: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "applied migration") || !strings.Contains(out.String(), "the database is current") {
		t.Fatalf("portier migrate said:\n%s", out.String())
	}
	out.Reset()
	if err := migrateCommand([]string{"status"}, &out); err != nil || !strings.Contains(out.String(), "the database is current") {
		t.Fatalf("status after migrating: %v\n%s", err, out.String())
	}
	if err := migrateCommand([]string{"sideways"}, &out); err == nil {
		t.Fatal("an unknown migrate subcommand was accepted")
	}

	t.Setenv("PORTIER_AUTO_MIGRATE", "perhaps")
	if err := run(); err == nil || !strings.Contains(err.Error(), "PORTIER_AUTO_MIGRATE must be true or false") {
		t.Fatalf("a bad PORTIER_AUTO_MIGRATE: %v", err)
	}
}
