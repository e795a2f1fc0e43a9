package graph_test

import (
	"strings"
	"testing"

	"entgo.io/ent/dialect"

	"portier/internal/database"
)

// TestMeReadsItsUserOnce: `me` answers with the user the authenticator read
// in the same request instead of reading it again (docs/performance.md).
func TestMeReadsItsUserOnce(t *testing.T) {
	rec := &stmtRecorder{}
	e := newEnv(t, database.WithDriver(func(d dialect.Driver) dialect.Driver { rec.Driver = d; return rec }))
	acct := e.createAccount("ME1")
	tok, _ := e.customerUser(acct, "once@me1.example", "PORTAL_ACCESS")
	for _, who := range []struct{ name, tok, email string }{
		{"customer user", tok, "once@me1.example"},
		{"staff", e.admin, ""},
	} {
		rec.start()
		d := e.ok(who.tok, `{ me { kind user { id email username } memberships { customerAccount { number } } } }`, nil)
		stmts := rec.stop()
		if dig(d, "me", "user", "id") == nil || (who.email != "" && dig(d, "me", "user", "email") != who.email) {
			t.Fatalf("%s: me.user = %v", who.name, dig(d, "me", "user"))
		}
		reads := 0
		for _, s := range stmts {
			if strings.Contains(s.query, `FROM "user_accounts"`) || strings.Contains(s.query, "FROM `user_accounts`") {
				reads++
			}
		}
		if reads != 1 {
			t.Errorf("%s: %d statements read user_accounts, want 1 (the authentication): %v", who.name, reads, stmts)
		}
	}
}
