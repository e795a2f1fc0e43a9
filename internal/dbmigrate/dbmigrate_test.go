package dbmigrate_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"entgo.io/ent/dialect"

	"portier/ent"
	"portier/internal/database"
	"portier/internal/dbmigrate"
	"portier/internal/testutil"
	"portier/internal/viewer"
)

// openChildEnv makes the test binary open the database it names with
// AutoMigrate and exit: an instance starting, for the concurrency tests.
const openChildEnv = "PORTIER_TEST_OPEN_AUTOMIGRATE"

func TestMain(m *testing.M) {
	if dsn := os.Getenv(openChildEnv); dsn != "" {
		d, err := database.Open(context.Background(), dsn, database.WithMigrate(database.AutoMigrate))
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		_ = d.Close()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func dia() string {
	if testutil.Dialect() == "postgres" {
		return dialect.Postgres
	}
	return dialect.SQLite
}

// open opens a fresh, empty database without migrating it; dsn opens it
// again.
func open(t *testing.T) (db *database.DB, dsn string) {
	t.Helper()
	dsn = testutil.FreshDSN(t)
	db, err := database.Open(context.Background(), dsn, database.WithMigrate(database.SkipMigrations))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db, dsn
}

// The checked-in migrations produce exactly this build's ent schema: a
// change to ent/schema without `make migration` fails here (in CI on SQLite
// and on PostgreSQL).
func TestMigrationsMatchTheEntSchema(t *testing.T) {
	db, _ := open(t)
	if err := dbmigrate.Check(context.Background(), db.SQL, dia()); err != nil {
		t.Fatal(err)
	}
}

func TestEmbeddedMigrationsAreOrderedAndSummed(t *testing.T) {
	for _, d := range []string{dialect.Postgres, dialect.SQLite} {
		ms, err := dbmigrate.Migrations(d)
		if err != nil {
			t.Fatal(err)
		}
		if len(ms) < 2 {
			t.Fatalf("%s: %d migrations, want the initial set and at least one upgrade", d, len(ms))
		}
		for i := 1; i < len(ms); i++ {
			if ms[i-1].Version >= ms[i].Version {
				t.Errorf("%s: %s before %s", d, ms[i-1].Name, ms[i].Name)
			}
		}
	}
	// Both dialects have the same migrations, by version and name.
	pg, _ := dbmigrate.Migrations(dialect.Postgres)
	lite, _ := dbmigrate.Migrations(dialect.SQLite)
	if len(pg) != len(lite) {
		t.Fatalf("%d PostgreSQL migrations, %d SQLite", len(pg), len(lite))
	}
	for i := range pg {
		if pg[i].Name != lite[i].Name {
			t.Errorf("migration %d: %s on PostgreSQL, %s on SQLite", i, pg[i].Name, lite[i].Name)
		}
	}
}

// seed writes rows the upgrade must keep: accounts, users, contacts and
// audit events.
func seed(t *testing.T, c *ent.Client) map[string]int {
	t.Helper()
	ctx := viewer.SystemContext(context.Background())
	for i := range 3 {
		a, err := c.CustomerAccount.Create().SetNumber(fmt.Sprintf("K%04d", i)).SetName(fmt.Sprintf("Kunde %d", i)).Save(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for j := range 4 {
			u, err := c.UserAccount.Create().SetEmail(fmt.Sprintf("u%d-%d@upgrade.example", i, j)).
				SetUsername(fmt.Sprintf("u%d-%d", i, j)).SetName("Nutzer").Save(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.Contact.Create().SetCustomerAccountID(a.ID).SetName(fmt.Sprintf("Kontakt %d-%d", i, j)).
				SetEmail(fmt.Sprintf("u%d-%d@upgrade.example", i, j)).SetUserID(u.ID).Save(ctx); err != nil {
				t.Fatal(err)
			}
			if _, err := c.AuditEvent.Create().SetCustomerAccountID(a.ID).SetActorID(string(u.ID)).
				SetActorKind("USER").SetAction("probe").SetTargetID(string(u.ID)).Save(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	return counts(t, c)
}

func counts(t *testing.T, c *ent.Client) map[string]int {
	t.Helper()
	ctx := viewer.SystemContext(context.Background())
	n := map[string]int{}
	var err error
	if n["accounts"], err = c.CustomerAccount.Query().Count(ctx); err != nil {
		t.Fatal(err)
	}
	if n["users"], err = c.UserAccount.Query().Count(ctx); err != nil {
		t.Fatal(err)
	}
	if n["contacts"], err = c.Contact.Query().Count(ctx); err != nil {
		t.Fatal(err)
	}
	if n["audit"], err = c.AuditEvent.Query().Count(ctx); err != nil {
		t.Fatal(err)
	}
	return n
}

func indexes(t *testing.T, db *database.DB) map[string]bool {
	t.Helper()
	q := "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()"
	if db.Dialect == dialect.SQLite {
		q = "SELECT name FROM sqlite_master WHERE type = 'index'"
	}
	rows, err := db.SQL.Query(q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out[s] = true
	}
	return out
}

// A database built by the previous migration set, with data in it, is
// upgraded by this build's migrations without losing a row.
func TestUpgradeFromThePreviousMigrationSetKeepsTheData(t *testing.T) {
	ctx := context.Background()
	db, dsn := open(t)
	ms, err := dbmigrate.Migrations(db.Dialect)
	if err != nil {
		t.Fatal(err)
	}
	previous := ms[len(ms)-2]
	res, err := dbmigrate.Apply(ctx, db.SQL, db.Dialect, dbmigrate.Options{To: previous.Version})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Applied) != len(ms)-1 {
		t.Fatalf("applied %d migrations up to %s, want %d", len(res.Applied), previous.Name, len(ms)-1)
	}
	before := seed(t, db.Client)
	if before["contacts"] != 12 || before["audit"] != 12 {
		t.Fatalf("seeded %v", before)
	}
	// A mail waiting in the outbox, written with the columns of the
	// previous set (the newest migration rebuilds that table on SQLite).
	if _, err := db.SQL.Exec(`INSERT INTO outbox_messages (id, created_at, updated_at, channel, recipient, subject, body, status, attempts, next_attempt_at)
		VALUES ($1, $2, $2, 'EMAIL', 'waiting@upgrade.example', 'Betreff', 'Ihr Code: 123456', 'PENDING', 0, $2)`,
		"msg_upgrade", time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	st, err := dbmigrate.ReadStatus(ctx, db.SQL, db.Dialect)
	if err != nil {
		t.Fatal(err)
	}
	if st.Current() || len(st.Pending) != 1 || st.Pending[0].Name != ms[len(ms)-1].Name {
		t.Fatalf("status before the upgrade: %+v", st)
	}
	if _, err := database.Open(ctx, dsn, database.WithMigrate(database.RequireCurrent)); err == nil ||
		!strings.Contains(err.Error(), "behind by 1 migration") || !strings.Contains(err.Error(), "portier migrate") {
		t.Fatalf("opening a database that is behind: %v, want a refusal that says what to do", err)
	}

	res, err = dbmigrate.Apply(ctx, db.SQL, db.Dialect, dbmigrate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Applied) != 1 {
		t.Fatalf("upgrade applied %d migrations, want 1", len(res.Applied))
	}
	if after := counts(t, db.Client); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Fatalf("rows after the upgrade %v, before %v", after, before)
	}
	var recipient, body string
	if err := db.SQL.QueryRow("SELECT recipient, body FROM outbox_messages WHERE id = 'msg_upgrade'").Scan(&recipient, &body); err != nil ||
		recipient != "waiting@upgrade.example" || body != "Ihr Code: 123456" {
		t.Fatalf("the waiting mail after the upgrade: %q %q %v", recipient, body, err)
	}
	ix := indexes(t, db)
	for _, want := range []string{"contact_customer_account_id_id", "auditevent_customer_account_id_occurred_at_id"} {
		if !ix[want] {
			t.Errorf("index %s missing after the upgrade", want)
		}
	}
	if ix["contact_customer_account_id"] {
		t.Error("the replaced index contact_customer_account_id is still there")
	}
	// Current now; a second Apply does nothing.
	if res, err := dbmigrate.Apply(ctx, db.SQL, db.Dialect, dbmigrate.Options{}); err != nil || len(res.Applied) != 0 {
		t.Fatalf("second apply: %v, %d applied", err, len(res.Applied))
	}
	db2, err := database.Open(ctx, dsn, database.WithMigrate(database.RequireCurrent))
	if err != nil {
		t.Fatalf("a current database is refused: %v", err)
	}
	_ = db2.Close()
}

// A migration file changed after it was applied is found, not silently
// skipped.
func TestAChangedMigrationIsRefused(t *testing.T) {
	ctx := context.Background()
	db, _ := open(t)
	if _, err := dbmigrate.Apply(ctx, db.SQL, db.Dialect, dbmigrate.Options{}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SQL.Exec("UPDATE " + dbmigrate.Table + " SET checksum = 'h1:tampered'"); err != nil {
		t.Fatal(err)
	}
	if _, err := dbmigrate.ReadStatus(ctx, db.SQL, db.Dialect); err == nil || !strings.Contains(err.Error(), "changed after it was applied") {
		t.Fatalf("status of a database with other checksums: %v", err)
	}
	if _, err := dbmigrate.Apply(ctx, db.SQL, db.Dialect, dbmigrate.Options{}); err == nil {
		t.Fatal("applied over a changed migration")
	}
}

// A database created by an earlier Portier's automatic migration (no record
// of migrations) is refused unless adopted; adoption keeps the data and
// records every migration as a baseline.
func TestALegacyDatabaseIsAdopted(t *testing.T) {
	ctx := context.Background()
	db, _ := open(t)
	if err := database.AdoptLegacy(ctx, db.Client); err != nil { // what Portier did at every start before
		t.Fatal(err)
	}
	before := seed(t, db.Client)
	st, err := dbmigrate.ReadStatus(ctx, db.SQL, db.Dialect)
	if err != nil {
		t.Fatal(err)
	}
	if !st.Legacy || st.Current() {
		t.Fatalf("status of a legacy database: %+v", st)
	}
	if _, err := dbmigrate.Apply(ctx, db.SQL, db.Dialect, dbmigrate.Options{}); err == nil || !strings.Contains(err.Error(), "portier migrate") {
		t.Fatalf("apply without adoption: %v", err)
	}
	res, err := dbmigrate.Apply(ctx, db.SQL, db.Dialect, dbmigrate.Options{Adopt: func(ctx context.Context) error {
		return database.AdoptLegacy(ctx, db.Client)
	}})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Adopted || len(res.Applied) != 0 {
		t.Fatalf("adoption: %+v", res)
	}
	st, err = dbmigrate.ReadStatus(ctx, db.SQL, db.Dialect)
	if err != nil || !st.Current() {
		t.Fatalf("after adoption: %+v, %v", st, err)
	}
	if after := counts(t, db.Client); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Fatalf("rows after adoption %v, before %v", after, before)
	}
	var baseline int
	if err := db.SQL.QueryRow("SELECT count(*) FROM " + dbmigrate.Table + " WHERE baseline").Scan(&baseline); err != nil {
		t.Fatal(err)
	}
	if ms, _ := dbmigrate.Migrations(db.Dialect); baseline != len(ms) {
		t.Fatalf("%d baseline rows, want %d", baseline, len(ms))
	}
}

// Instances starting together on one empty database: each migration is
// applied once, and every instance finds the database current.
func TestConcurrentApplyAppliesEachMigrationOnce(t *testing.T) {
	ctx := context.Background()
	dsn := testutil.FreshDSN(t)
	const instances = 3
	var wg sync.WaitGroup
	applied := make([]int, instances)
	errs := make([]error, instances)
	for i := range instances {
		wg.Add(1)
		go func() {
			defer wg.Done()
			db, err := database.Open(ctx, dsn, database.WithMigrate(database.SkipMigrations))
			if err != nil {
				errs[i] = err
				return
			}
			defer db.Close()
			res, err := dbmigrate.Apply(ctx, db.SQL, db.Dialect, dbmigrate.Options{Now: func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) }})
			applied[i], errs[i] = len(res.Applied), err
		}()
	}
	wg.Wait()
	total := 0
	for i := range instances {
		if errs[i] != nil {
			t.Fatalf("instance %d: %v", i, errs[i])
		}
		total += applied[i]
	}
	ms, _ := dbmigrate.Migrations(dia())
	if total != len(ms) {
		t.Fatalf("the instances applied %d migrations in all, want each of %d once", total, len(ms))
	}
	sdb, err := sql.Open(map[string]string{dialect.Postgres: "postgres", dialect.SQLite: "sqlite"}[dia()], dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer sdb.Close()
	var rows int
	if err := sdb.QueryRow("SELECT count(*) FROM " + dbmigrate.Table).Scan(&rows); err != nil || rows != len(ms) {
		t.Fatalf("%d rows in %s (%v), want %d", rows, dbmigrate.Table, err, len(ms))
	}
}

// Instances starting together on a database of the automatic-migration era
// that lacks columns of this build: one adopts it (bringing it up to date),
// the others wait for it and find it current; none fails to start.
func TestConcurrentAdoptionOfAnOlderDatabase(t *testing.T) {
	ctx := context.Background()
	db, dsn := open(t)
	if err := database.AdoptLegacy(ctx, db.Client); err != nil {
		t.Fatal(err)
	}
	for _, col := range []string{"html_body", "kind", "language", "unsubscribe_url"} { // as before outbox_multipart
		if _, err := db.SQL.Exec("ALTER TABLE outbox_messages DROP COLUMN " + col); err != nil {
			t.Fatal(err)
		}
	}
	// Separate processes, as instances are: within one process ent's
	// migration is serialised anyway (dbmigrate.SchemaMu).
	const instances = 4
	cmds := make([]*exec.Cmd, instances)
	outs := make([]*bytes.Buffer, instances)
	for i := range instances {
		cmds[i] = exec.Command(os.Args[0], "-test.run=^$")
		cmds[i].Env = append(os.Environ(), openChildEnv+"="+dsn)
		outs[i] = &bytes.Buffer{}
		cmds[i].Stdout, cmds[i].Stderr = outs[i], outs[i]
		if err := cmds[i].Start(); err != nil {
			t.Fatal(err)
		}
	}
	for i, c := range cmds {
		if err := c.Wait(); err != nil {
			t.Errorf("instance %d did not start: %v\n%s", i, err, outs[i])
		}
	}
	st, err := dbmigrate.ReadStatus(ctx, db.SQL, db.Dialect)
	if err != nil || !st.Current() {
		t.Fatalf("after the instances started: %+v, %v", st, err)
	}
	var cols int
	q := "SELECT count(*) FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'outbox_messages' AND column_name = 'html_body'"
	if db.Dialect == dialect.SQLite {
		q = "SELECT count(*) FROM pragma_table_info('outbox_messages') WHERE name = 'html_body'"
	}
	if err := db.SQL.QueryRow(q).Scan(&cols); err != nil || cols != 1 {
		t.Fatalf("html_body after adoption: %d (%v)", cols, err)
	}
}
