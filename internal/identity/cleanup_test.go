package identity

import (
	"context"
	"testing"
	"time"

	"portier/ent/loginchallenge"
	"portier/ent/onetimetoken"
	"portier/internal/pulid"
	"portier/internal/testutil"
	"portier/internal/viewer"
)

func TestCleanupDropsOnlyLongExpiredRows(t *testing.T) {
	db := testutil.OpenDB(t)
	ctx := viewer.SystemContext(context.Background())
	now := time.Now().UTC().Truncate(time.Microsecond)
	uid := pulid.New("usr")
	if err := db.Client.UserAccount.Create().SetID(uid).SetEmail("c@example.org").SetUsername("c").Exec(ctx); err != nil {
		t.Fatal(err)
	}
	for i, exp := range []time.Time{now.Add(-48 * time.Hour), now.Add(-time.Hour), now.Add(time.Hour)} {
		if err := db.Client.LoginChallenge.Create().SetPurpose(loginchallenge.PurposeLOGIN).SetUserID(uid).
			SetMethods([]string{"TOTP"}).SetExpiresAt(exp).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		if err := db.Client.OneTimeToken.Create().SetPurpose(onetimetoken.PurposePASSWORD_RESET).SetUserID(uid).
			SetTokenHash(string(rune('a' + i))).SetExpiresAt(exp).Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}
	n, err := Cleanup(ctx, db.Client, now)
	if err != nil || n != 2 {
		t.Fatalf("deleted %d, %v; want 2 (one challenge, one token)", n, err)
	}
	if c, _ := db.Client.LoginChallenge.Query().Count(ctx); c != 2 {
		t.Fatalf("%d challenges left, want 2", c)
	}
	if c, _ := db.Client.OneTimeToken.Query().Count(ctx); c != 2 {
		t.Fatalf("%d tokens left, want 2", c)
	}
}
