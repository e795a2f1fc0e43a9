package graph_test

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"

	"portier/ent/useraccount"
	"portier/graph"
	"portier/internal/identity"
	"portier/internal/testutil"
	"portier/internal/viewer"
)

// Issue 6 item 10: the bootstrap admin's generated password is one-time:
// with it the admin can do nothing but change it. A configured password
// (PORTIER_ADMIN_PASSWORD) is the operator's choice and is kept.
func TestBootstrapAdminGeneratedPasswordIsOneTime(t *testing.T) {
	// The configured password of the ordinary test environment is kept.
	e := newEnv(t)
	e.ok(e.admin, `{ customerAccounts { totalCount } }`, nil)

	db := testutil.OpenDB(t)
	ctx := context.Background()
	created, generated, err := identity.BootstrapAdmin(ctx, db.Client, "root@example.com", "")
	if err != nil || !created || generated == "" {
		t.Fatalf("bootstrap: %v %v", created, err)
	}
	secrets.add(generated)
	u, err := db.Client.UserAccount.Query().Where(useraccount.Username("admin")).Only(viewer.SystemContext(ctx))
	if err != nil || !u.MustChangePassword {
		t.Fatalf("generated password not one-time: %v %v", u, err)
	}
	// Through the API: only a password change is possible.
	srv := httptest.NewServer(graph.NewHandler(graph.Deps{Client: db.Client, DB: db.SQL, Tokens: e.tokens,
		Log: slog.New(slog.NewJSONHandler(io.Discard, nil)), Now: e.clock.Now, PublicURL: publicURL}))
	t.Cleanup(srv.Close)
	e2 := *e
	e2.srv = srv
	access := e2.login("root@example.com", generated)
	r := e2.wantCode(access, `{ customerAccounts { totalCount } }`, nil, "FORBIDDEN")
	if r.Errors[0].Extensions["reason"] != "PASSWORD_CHANGE_REQUIRED" {
		t.Fatalf("reason: %s", r.Raw)
	}
	next := secrets.add("Leuchtturm-Brandung-2026")
	e2.ok(access, `mutation($c: String!, $n: String!) { changePassword(input: {currentPassword: $c, newPassword: $n}) }`,
		map[string]any{"c": generated, "n": next})
	e2.ok(access, `{ customerAccounts { totalCount } }`, nil)

	// Bootstrapping again does nothing: there is a user.
	if created, _, err := identity.BootstrapAdmin(ctx, db.Client, "root@example.com", ""); created || err != nil {
		t.Fatalf("second bootstrap: %v %v", created, err)
	}
}
