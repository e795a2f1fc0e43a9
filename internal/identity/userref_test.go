package identity

import (
	"slices"
	"testing"
	"time"

	"portier/ent"
)

func TestResetRecipients(t *testing.T) {
	now := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	ref := func(s string) *string { return &s }
	for _, tc := range []struct {
		name string
		u    ent.UserAccount
		want []string
	}{
		{"verified only", ent.UserAccount{Email: "a@a.example", EmailVerifiedAt: &now}, []string{"a@a.example"}},
		{"with confirmed reference", ent.UserAccount{Email: "a@a.example", EmailVerifiedAt: &now,
			ReferenceEmail: ref("r@example.org"), ReferenceEmailConfirmedAt: &now}, []string{"a@a.example", "r@example.org"}},
		{"reference not confirmed", ent.UserAccount{Email: "a@a.example", EmailVerifiedAt: &now,
			ReferenceEmail: ref("r@example.org")}, []string{"a@a.example"}},
		{"reference equals e-mail", ent.UserAccount{Email: "a@a.example", EmailVerifiedAt: &now,
			ReferenceEmail: ref("a@a.example"), ReferenceEmailConfirmedAt: &now}, []string{"a@a.example"}},
		{"e-mail unverified: nothing, not even the reference", ent.UserAccount{PendingEmail: "a@a.example",
			ReferenceEmail: ref("r@example.org"), ReferenceEmailConfirmedAt: &now}, nil},
		{"no e-mail", ent.UserAccount{}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := resetRecipients(&tc.u); !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}
