package graph_test

import (
	"sync/atomic"

	"portier/internal/authz"
	"portier/internal/database"
	"portier/internal/testutil"
	"portier/internal/viewer"
)

func newCounter() (database.Option, *atomic.Int64) { return testutil.NewStatementCounter() }

func newEvaluator(e *env, v *viewer.Viewer) viewer.Access {
	return authz.New(e.client, v, e.clock.Now())
}
