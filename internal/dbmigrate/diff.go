package dbmigrate

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"

	"ariga.io/atlas/sql/migrate"
	entsql "entgo.io/ent/dialect/sql"
	"entgo.io/ent/dialect/sql/schema"

	entmigrate "portier/ent/migrate"
)

// SchemaMu serialises every use of ent's table descriptions
// (entmigrate.Tables): ent's migration engine writes to them.
var SchemaMu sync.Mutex

// Diff writes into dir a new migration named name: what brings a database
// migrated by dir's files to the ent schema of this build. devDB is an empty
// scratch database of the dialect (the files are replayed on it). It reports
// whether it wrote a migration.
func Diff(ctx context.Context, devDB *sql.DB, dia string, dir migrate.Dir, name string) (bool, error) {
	SchemaMu.Lock()
	defer SchemaMu.Unlock()
	m, err := schema.NewMigrate(entsql.OpenDB(dia, devDB),
		schema.WithDir(dir),
		schema.WithMigrationMode(schema.ModeReplay),
		schema.WithFormatter(migrate.DefaultFormatter),
		schema.WithErrNoPlan(true),
		schema.WithForeignKeys(true),
		// The migration must say everything the schema changed, drops too;
		// a person reviews each file before it is committed.
		schema.WithDropIndex(true),
		schema.WithDropColumn(true),
	)
	if err != nil {
		return false, err
	}
	err = m.NamedDiff(ctx, name, entmigrate.Tables...)
	switch {
	case errors.Is(err, migrate.ErrNoPlan):
		return false, nil
	case err != nil:
		return false, err
	}
	return true, nil
}

// Check fails when this build's ent schema has changes that its embedded
// migrations of the dialect lack; the error shows the SQL a new migration
// would hold. devDB is an empty scratch database of the dialect.
func Check(ctx context.Context, devDB *sql.DB, dia string) error {
	d, err := Dir(dia)
	if err != nil {
		return err
	}
	before, err := d.Files()
	if err != nil {
		return err
	}
	wrote, err := Diff(ctx, devDB, dia, d, "missing")
	if err != nil {
		return fmt.Errorf("compare the %s migrations with the ent schema: %w", dia, err)
	}
	if !wrote {
		return nil
	}
	after, err := d.Files()
	if err != nil {
		return err
	}
	var missing []string
	seen := map[string]bool{}
	for _, f := range before {
		seen[f.Name()] = true
	}
	for _, f := range after {
		if !seen[f.Name()] {
			missing = append(missing, string(f.Bytes()))
		}
	}
	return fmt.Errorf("the %s migrations lack changes of the ent schema; run `make migration NAME=<what changed>` and commit the files. Missing:\n%s", dia, strings.Join(missing, "\n"))
}
