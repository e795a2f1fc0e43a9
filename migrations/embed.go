// Package migrations holds Portier's versioned database migrations, one
// directory per dialect, generated from the ent schema (see
// docs/operations.md, "Database migrations") and applied by
// internal/dbmigrate. Each directory's atlas.sum guards its files against
// edits after the fact.
package migrations

import "embed"

// FS holds postgres/ and sqlite/.
//
//go:embed postgres sqlite
var FS embed.FS
