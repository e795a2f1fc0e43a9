package authz

import (
	"context"
	"time"

	"portier/ent"
	"portier/internal/viewer"
)

// The policy "second factor required" (issue 8 item 9): on a customer
// account with secondFactorRequired, a user without an enabled second
// factor — and every API key of such a user — holds no permission until it
// enrols one. It is decided here, while the grants are loaded, so every
// directive, privacy rule and `me.memberships` follows. Staff act through
// their staff role and are not affected.

// SecondFactorEnabled reports whether u has a second factor enabled (a TOTP
// app, e-mail or SMS codes). Recovery codes alone are no method.
func SecondFactorEnabled(u *ent.UserAccount) bool {
	return u != nil && len(u.SecondFactorMethods) > 0
}

// withholds reports whether the policy of acct withholds every permission
// from the viewer.
func (e *Evaluator) withholds(acct *ent.CustomerAccount) bool {
	return acct.SecondFactorRequired && !e.v.SecondFactorEnabled
}

func (e *Evaluator) noteWithheld(accountID string) {
	if e.withheld == nil {
		e.withheld = map[string]bool{}
	}
	e.withheld[accountID] = true
}

// SecondFactorWithheld reports whether the viewer's permissions on the
// account are withheld because the account requires a second factor the
// viewer has not enrolled.
func (e *Evaluator) SecondFactorWithheld(ctx context.Context, accountID string) bool {
	if err := e.load(ctx); err != nil {
		return false
	}
	return e.withheld[accountID]
}

// SecondFactorEnrolmentRequired reports whether some account the viewer
// acts for withholds its permissions until the viewer enrols a second
// factor.
func (e *Evaluator) SecondFactorEnrolmentRequired(ctx context.Context) (bool, error) {
	if err := e.load(ctx); err != nil {
		return false, err
	}
	return len(e.withheld) > 0, nil
}

// EnrolmentRequired answers SecondFactorEnrolmentRequired for user u at now
// as if u made a request (for the answer of a login). A user who must first
// change its password is asked as if it had: the answer is about the
// accounts' policies, which apply right after.
func EnrolmentRequired(ctx context.Context, client *ent.Client, u *ent.UserAccount, now time.Time) (bool, error) {
	if SecondFactorEnabled(u) || u.StaffRole != nil {
		return false, nil
	}
	v := &viewer.Viewer{Kind: viewer.User, UserID: string(u.ID), EmailVerified: u.EmailVerifiedAt != nil}
	return New(client, v, now).SecondFactorEnrolmentRequired(ctx)
}
