package identity

import (
	"context"
	"time"

	"portier/ent"
	"portier/ent/onetimetoken"
	"portier/ent/schema"
	"portier/ent/useraccount"
	"portier/internal/apperr"
	"portier/internal/audit"
	"portier/internal/mail"
	"portier/internal/ratelimit"
	"portier/internal/viewer"
)

// A user's reference e-mail address (issue 9 item 3). Password reset links go to the
// verified e-mail address and to the confirmed reference address
// (resetRecipients). The user asks for it with requestReferenceEmailChange
// (password, and a fresh second factor when two-factor login is on); a link
// (REFERENCE_EMAIL token, hashed, ReferenceLinkLifetime, single use, the
// newest only) goes to the new address, which waits in the token until
// confirmReferenceEmail makes it the user's reference_email. The e-mail
// address is then told (without the link). The reference address is no
// login (findLogin looks at email and username only), links no contacts
// (linkContacts and followEmail look at email only) and is not unique.
// Addresses are audited in clear, like the e-mail address changes; tokens
// never.

// ruleReferenceSend limits confirmation links sent to one address, whoever
// asks: nobody turns Portier into a mail cannon against a stranger.
var ruleReferenceSend = ratelimit.Rule{Name: "refsend:email", Limit: 5, Window: time.Hour}

// confirmedReference returns u's confirmed reference address, or "".
func confirmedReference(u *ent.UserAccount) string {
	if u.ReferenceEmail == nil || u.ReferenceEmailConfirmedAt == nil {
		return ""
	}
	return *u.ReferenceEmail
}

// resetRecipients are the addresses a user's reset link goes to: the
// verified e-mail address and, when confirmed and different, the reference
// address. None when the e-mail address is not verified.
func resetRecipients(u *ent.UserAccount) []string {
	if u.Email == "" || u.EmailVerifiedAt == nil {
		return nil
	}
	to := []string{u.Email}
	if ref := confirmedReference(u); ref != "" && ref != u.Email {
		to = append(to, ref)
	}
	return to
}

// currentUserOnly loads the viewer's user; only a user's own session may
// change its reference address (never an API key, a scoped login or staff
// acting for someone else).
func (s *Service) currentUserOnly(ctx context.Context) (*ent.UserAccount, error) {
	v := viewer.FromContext(ctx)
	if v.Kind != viewer.User || v.UserID == "" || v.SessionID == "" {
		return nil, apperr.ForbiddenReason("USER_ONLY", "only a logged-in user can change its own reference e-mail address")
	}
	u, err := s.currentUser(ctx)
	if ent.IsNotFound(err) {
		return nil, apperr.Unauthenticated("the login is no longer active")
	}
	if err != nil {
		return nil, err
	}
	if u.Status != useraccount.StatusACTIVE {
		return nil, apperr.Unauthenticated("the login is no longer active")
	}
	return u, nil
}

// requestUserReferenceEmail is RequestReferenceEmailChange for a user.
func (s *Service) requestUserReferenceEmail(ctx context.Context, newEmail, pw string) error {
	u, err := s.currentUserOnly(ctx)
	if err != nil {
		return err
	}
	// The format is checked before the password: a typo costs no try.
	email := schema.NormalizeEmail(newEmail)
	if !schema.ValidEmail(email) {
		return apperr.BadInput("input.newEmail", "%q is not an e-mail address", newEmail)
	}
	if email == u.Email || email == u.PendingEmail {
		return apperr.BadInput("input.newEmail", "the reference address must differ from your e-mail address")
	}
	if email == confirmedReference(u) {
		return apperr.BadInput("input.newEmail", "this is already your reference address")
	}
	if err := s.checkPassword(ctx, u, pw, "input.password"); err != nil {
		return err
	}
	if err := s.requireFreshIfEnabled(ctx, u); err != nil {
		return err
	}
	if err := s.Limiter.Take(ctx, ruleCodeSend, string(u.ID)); err != nil {
		return err
	}
	if err := s.Limiter.Take(ctx, ruleReferenceSend, email); err != nil {
		return err
	}
	c, err := s.Tx()
	if err != nil {
		return err
	}
	// newToken voids the older link: only the newest address can be confirmed.
	tok, err := s.newToken(ctx, c, u, onetimetoken.PurposeREFERENCE_EMAIL, ReferenceLinkLifetime, email)
	if err != nil {
		return err
	}
	if err := send(ctx, c, u, email, mail.UserReferenceEmailVerify, map[string]string{
		"new_email": email, "link": s.link("/confirm-reference-email", tok)}); err != nil {
		return err
	}
	return audit.Record(ctx, c, audit.Entry{Action: "user.reference_email_change_requested", TargetType: "UserAccount",
		TargetID: string(u.ID), Changes: map[string]any{"newReferenceEmail": email}})
}

// confirmUserReferenceEmail is ConfirmReferenceEmail for a user's token:
// the address the link was sent to becomes the user's reference address.
// The link proves the mailbox; the request that sent it proved the account
// (its session, password and second factor).
func (s *Service) confirmUserReferenceEmail(ctx context.Context, t *ent.OneTimeToken) error {
	bad := apperr.BadInput("token", "the link is invalid, used or expired")
	u, err := s.Client.UserAccount.Get(sys(ctx), t.UserID)
	if ent.IsNotFound(err) {
		return bad
	}
	if err != nil {
		return err
	}
	if u.Status != useraccount.StatusACTIVE || t.NewEmail == "" {
		return bad
	}
	c, err := s.Tx()
	if err != nil {
		return err
	}
	if err := s.use(ctx, c, t); err != nil {
		return err
	}
	// Written as Portier: the caller is whoever opened the link.
	n, err := c.UserAccount.Update().Where(useraccount.ID(u.ID), useraccount.StatusEQ(useraccount.StatusACTIVE)).
		SetReferenceEmail(t.NewEmail).SetReferenceEmailConfirmedAt(s.Now()).Save(sys(ctx))
	if err != nil {
		return err
	}
	if n != 1 {
		return bad
	}
	changes := map[string]any{"referenceEmail": t.NewEmail}
	if prev := confirmedReference(u); prev != "" {
		changes["previousReferenceEmail"] = prev
	}
	if err := audit.Record(ctx, c, audit.Entry{Action: "user.reference_email_changed", TargetType: "UserAccount",
		TargetID: string(u.ID), Changes: changes}); err != nil {
		return err
	}
	return send(ctx, c, u, u.Email, mail.ReferenceEmailChanged, map[string]string{"new_email": t.NewEmail})
}

// RemoveReferenceEmail clears the viewer's reference address and voids a
// pending confirmation link. It needs the password and, with two-factor
// login on, a fresh second factor; the e-mail address is told.
func (s *Service) RemoveReferenceEmail(ctx context.Context, pw string) error {
	u, err := s.currentUserOnly(ctx)
	if err != nil {
		return err
	}
	now := s.Now()
	pending, err := s.Client.OneTimeToken.Query().
		Where(onetimetoken.UserID(u.ID), onetimetoken.PurposeEQ(onetimetoken.PurposeREFERENCE_EMAIL),
			onetimetoken.UsedAtIsNil(), onetimetoken.InvalidatedAtIsNil(), onetimetoken.ExpiresAtGT(now)).
		Exist(sys(ctx))
	if err != nil {
		return err
	}
	prev := confirmedReference(u)
	if u.ReferenceEmail == nil && !pending {
		return apperr.BadInput("", "no reference e-mail address is set or waiting for confirmation")
	}
	if err := s.checkPassword(ctx, u, pw, "password"); err != nil {
		return err
	}
	if err := s.requireFreshIfEnabled(ctx, u); err != nil {
		return err
	}
	c, err := s.Tx()
	if err != nil {
		return err
	}
	if err := invalidateTokens(ctx, c, u.ID, now, onetimetoken.PurposeREFERENCE_EMAIL); err != nil {
		return err
	}
	// Guarded on the address as checked: a confirmation in between makes
	// this fail instead of silently removing an address the user never saw.
	q := c.UserAccount.Update().Where(useraccount.ID(u.ID))
	if u.ReferenceEmail == nil {
		q.Where(useraccount.ReferenceEmailIsNil())
	} else {
		q.Where(useraccount.ReferenceEmail(*u.ReferenceEmail))
	}
	k, err := q.ClearReferenceEmail().ClearReferenceEmailConfirmedAt().Save(sys(ctx))
	if err != nil {
		return err
	}
	if k != 1 {
		return apperr.Conflict("", "the reference address changed meanwhile; try again")
	}
	changes := map[string]any{"pendingVoided": pending}
	if prev != "" {
		changes["previousReferenceEmail"] = prev
	}
	if err := audit.Record(ctx, c, audit.Entry{Action: "user.reference_email_removed", TargetType: "UserAccount",
		TargetID: string(u.ID), Changes: changes}); err != nil {
		return err
	}
	if u.ReferenceEmail == nil {
		return nil
	}
	return send(ctx, c, u, u.Email, mail.ReferenceEmailChanged, map[string]string{"new_email": ""})
}
