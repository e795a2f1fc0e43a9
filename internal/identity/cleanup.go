package identity

import (
	"context"
	"time"

	"portier/ent"
	"portier/ent/loginchallenge"
	"portier/ent/onetimetoken"
)

// Cleanup deletes login challenges and one-time tokens that expired more
// than a day ago: they can no longer be used, and keeping them only keeps
// hashes of old secrets around. It returns how many rows went.
func Cleanup(ctx context.Context, client *ent.Client, now time.Time) (int, error) {
	cutoff := now.Add(-24 * time.Hour)
	n, err := client.LoginChallenge.Delete().Where(loginchallenge.ExpiresAtLT(cutoff)).Exec(sys(ctx))
	if err != nil {
		return n, err
	}
	m, err := client.OneTimeToken.Delete().Where(onetimetoken.ExpiresAtLT(cutoff)).Exec(sys(ctx))
	return n + m, err
}
