package identity

import (
	"context"
	"database/sql"
	"errors"
	"regexp"
	"strings"
	"time"

	"portier/ent"
	"portier/ent/contact"
	"portier/ent/onetimetoken"
	"portier/ent/retiredidentifier"
	"portier/ent/schema"
	"portier/ent/useraccount"
	"portier/internal/apperr"
	"portier/internal/audit"
	"portier/internal/mail"
	"portier/internal/password"
	"portier/internal/pulid"
	"portier/internal/viewer"
)

var usernamePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{1,62}[a-z0-9]$`)

func policyError(field string, err error) error {
	if err == nil {
		return nil
	}
	return apperr.BadInput(field, "%s", err.Error())
}

// emailUsed reports whether an address belongs, or ever belonged, to a
// user account.
func (s *Service) emailUsed(ctx context.Context, email string) (bool, error) {
	taken, err := s.Client.UserAccount.Query().Where(useraccount.Email(email)).Exist(sys(ctx))
	if err != nil || taken {
		return taken, err
	}
	return s.Client.RetiredIdentifier.Query().Where(retiredidentifier.ID("email:" + email)).Exist(sys(ctx))
}

// SignUpInput is a new user.
type SignUpInput struct {
	Email, Username, Name, Password, Locale string
}

// SignUp creates an unverified user and sends the verification link. When
// the e-mail is already used it answers the same and creates nothing, so
// the answer does not reveal who has an account; a taken username must be
// told, since the person chooses it.
func (s *Service) SignUp(ctx context.Context, in SignUpInput) error {
	v := viewer.FromContext(ctx)
	email := schema.NormalizeEmail(in.Email)
	username := strings.ToLower(strings.TrimSpace(in.Username))
	name := strings.TrimSpace(in.Name)
	locale := strings.ToLower(strings.TrimSpace(in.Locale))
	switch {
	case !schema.ValidEmail(email):
		return apperr.BadInput("input.email", "%q is not an e-mail address", in.Email)
	case !usernamePattern.MatchString(username):
		return apperr.BadInput("input.username", "a username has 3 to 64 letters, digits, dots, dashes or underscores")
	case name == "" || len(name) > 200:
		return apperr.BadInput("input.name", "a name of 1 to 200 characters is required")
	}
	if locale == "" {
		locale = "de"
	}
	if locale != "de" && locale != "en" {
		return apperr.BadInput("input.locale", "locale must be de or en")
	}
	if err := policyError("input.password", password.Validate(in.Password, email, username, strings.Split(email, "@")[0])); err != nil {
		return err
	}
	if err := s.Limiter.Take(ctx, ruleSignUpIP, v.IP); err != nil {
		return err
	}
	taken, err := s.Client.UserAccount.Query().Where(useraccount.Username(username)).Exist(sys(ctx))
	if err != nil {
		return err
	}
	if taken {
		return apperr.Conflict("input.username", "this username is taken")
	}
	emailTaken, err := s.emailUsed(ctx, email)
	if err != nil {
		return err
	}
	hash, err := password.Hash(ctx, in.Password)
	if err != nil {
		return err
	}
	if emailTaken {
		return nil
	}
	c, err := s.Tx()
	if err != nil {
		return err
	}
	u, err := c.UserAccount.Create().
		SetEmail(email).SetUsername(username).SetName(name).SetLocale(locale).
		SetPasswordHash(hash).SetPasswordChangedAt(s.Now()).
		Save(sys(ctx))
	if ent.IsConstraintError(err) {
		return apperr.Conflict("input.username", "this username is taken")
	}
	if err != nil {
		return err
	}
	if err := audit.Record(ctx, c, audit.Entry{Action: "user.sign_up", ActorID: string(u.ID), TargetType: "UserAccount",
		TargetID: string(u.ID), Changes: map[string]any{"email": email, "username": username}}); err != nil {
		return err
	}
	return s.sendVerification(ctx, c, u, onetimetoken.PurposeEMAIL_VERIFY, u.Email, mail.VerifyEmail)
}

// newToken invalidates the user's live tokens of the purpose and stores a
// new one (32 random bytes); it returns the token for the link.
func (s *Service) newToken(ctx context.Context, c *ent.Client, u *ent.UserAccount, p onetimetoken.Purpose, ttl time.Duration, newEmail string) (string, error) {
	now := s.Now()
	if err := c.OneTimeToken.Update().
		Where(onetimetoken.UserID(u.ID), onetimetoken.PurposeEQ(p), onetimetoken.UsedAtIsNil(), onetimetoken.InvalidatedAtIsNil()).
		SetInvalidatedAt(now).Exec(sys(ctx)); err != nil {
		return "", err
	}
	tok := randomToken(32)
	err := c.OneTimeToken.Create().
		SetPurpose(p).SetUserID(u.ID).SetTokenHash(hashToken(tok)).
		SetExpiresAt(now.Add(ttl)).SetNewEmail(newEmail).
		Exec(sys(ctx))
	return tok, err
}

func (s *Service) sendVerification(ctx context.Context, c *ent.Client, u *ent.UserAccount, p onetimetoken.Purpose, to, kind string) error {
	newEmail := ""
	if p == onetimetoken.PurposeEMAIL_CHANGE {
		newEmail = to
	}
	tok, err := s.newToken(ctx, c, u, p, VerifyLinkLifetime, newEmail)
	if err != nil {
		return err
	}
	return send(ctx, c, u, to, kind, map[string]string{"link": s.link("/verify-email", tok), "new_email": newEmail})
}

// redeem finds a live token of one of the purposes, counting the attempt
// against the client address first. It does not consume it.
func (s *Service) redeem(ctx context.Context, tok string, purposes ...onetimetoken.Purpose) (*ent.OneTimeToken, error) {
	v := viewer.FromContext(ctx)
	if err := s.Limiter.Take(ctx, ruleTokenIP, v.IP); err != nil {
		return nil, err
	}
	bad := apperr.BadInput("token", "the link is invalid, used or expired")
	t, err := s.Client.OneTimeToken.Query().
		Where(onetimetoken.TokenHash(hashToken(strings.TrimSpace(tok))), onetimetoken.PurposeIn(purposes...)).
		Only(sys(ctx))
	if ent.IsNotFound(err) {
		return nil, bad
	}
	if err != nil {
		return nil, err
	}
	if t.UsedAt != nil || t.InvalidatedAt != nil || !t.ExpiresAt.After(s.Now()) {
		return nil, bad
	}
	return t, nil
}

// use marks a token used, once: concurrent redemptions lose.
func (s *Service) use(ctx context.Context, c *ent.Client, t *ent.OneTimeToken) error {
	n, err := c.OneTimeToken.Update().Where(onetimetoken.ID(t.ID), onetimetoken.UsedAtIsNil()).
		SetUsedAt(s.Now()).Save(sys(ctx))
	if err != nil {
		return err
	}
	if n != 1 {
		return apperr.BadInput("token", "the link is invalid, used or expired")
	}
	return nil
}

// VerifyEmail redeems a verification link: after sign-up it marks the
// address verified; after an e-mail change it switches to the new address
// and tells the old one. Contacts with the verified address and no login
// are linked to the user at once (flow 5).
func (s *Service) VerifyEmail(ctx context.Context, tok string) error {
	t, err := s.redeem(ctx, tok, onetimetoken.PurposeEMAIL_VERIFY, onetimetoken.PurposeEMAIL_CHANGE)
	if err != nil {
		return err
	}
	u, err := s.Client.UserAccount.Get(sys(ctx), t.UserID)
	if err != nil {
		return err
	}
	c, err := s.Tx()
	if err != nil {
		return err
	}
	if err := s.use(ctx, c, t); err != nil {
		return err
	}
	now := s.Now()
	oldEmail := u.Email
	upd := c.UserAccount.UpdateOneID(u.ID).SetEmailVerifiedAt(now)
	action := "user.email_verified"
	if t.Purpose == onetimetoken.PurposeEMAIL_CHANGE {
		upd.SetEmail(t.NewEmail)
		action = "user.email_changed"
	}
	u, err = upd.Save(sys(ctx))
	if ent.IsConstraintError(err) {
		return apperr.Conflict("token", "this address is now used by another account")
	}
	if err != nil {
		return err
	}
	if u.StaffRole == nil {
		if _, err := c.Contact.Update().
			Where(contact.Email(u.Email), contact.UserIDIsNil()).
			SetUserID(u.ID).Save(sys(ctx)); err != nil {
			return err
		}
	}
	changes := map[string]any{"email": u.Email}
	if t.Purpose == onetimetoken.PurposeEMAIL_CHANGE {
		changes["previousEmail"] = oldEmail
		// Reset links went to the old address: they end with it.
		if err := invalidateTokens(ctx, c, u.ID, now, onetimetoken.PurposePASSWORD_RESET); err != nil {
			return err
		}
		// The old address stays reserved: usable once, ever.
		if err := c.RetiredIdentifier.Create().SetID("email:" + oldEmail).SetUserID(u.ID).
			OnConflictColumns(retiredidentifier.FieldID).DoNothing().Exec(sys(ctx)); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if err := send(ctx, c, u, oldEmail, mail.EmailChangedNotice, map[string]string{"new_email": u.Email}); err != nil {
			return err
		}
	}
	return audit.Record(ctx, c, audit.Entry{Action: action, ActorID: string(u.ID), TargetType: "UserAccount",
		TargetID: string(u.ID), Changes: changes})
}

// ResendVerification sends a new link to the viewer's unverified address.
func (s *Service) ResendVerification(ctx context.Context) error {
	u, err := s.currentUser(ctx)
	if err != nil {
		return err
	}
	if u.EmailVerifiedAt != nil {
		return apperr.BadInput("", "the e-mail address is already verified")
	}
	if err := s.Limiter.Take(ctx, ruleCodeSend, string(u.ID)); err != nil {
		return err
	}
	c, err := s.Tx()
	if err != nil {
		return err
	}
	return s.sendVerification(ctx, c, u, onetimetoken.PurposeEMAIL_VERIFY, u.Email, mail.VerifyEmail)
}

// checkPassword verifies the viewer's current password, rate-limited.
func (s *Service) checkPassword(ctx context.Context, u *ent.UserAccount, pw, field string) error {
	if err := s.Limiter.Take(ctx, rulePasswordUsr, string(u.ID)); err != nil {
		return err
	}
	ok, _, err := password.Verify(ctx, pw, u.PasswordHash)
	if err != nil || !ok {
		s.auditOutside(ctx, "password.check_failure", string(u.ID), nil)
		return apperr.BadInput(field, "the current password is wrong")
	}
	return nil
}

// RequestEmailChange sends a verification link to the new address and a
// notice to the old one; the address changes when the link is used.
func (s *Service) RequestEmailChange(ctx context.Context, newEmail, pw string) error {
	u, err := s.currentUser(ctx)
	if err != nil {
		return err
	}
	email := schema.NormalizeEmail(newEmail)
	if !schema.ValidEmail(email) {
		return apperr.BadInput("input.newEmail", "%q is not an e-mail address", newEmail)
	}
	if email == u.Email {
		return apperr.BadInput("input.newEmail", "this is already your address")
	}
	if err := s.checkPassword(ctx, u, pw, "input.password"); err != nil {
		return err
	}
	taken, err := s.emailUsed(ctx, email)
	if err != nil {
		return err
	}
	if taken {
		// Same answer as for a free address: whether an address has an
		// account is nobody's business. No link is sent.
		return nil
	}
	c, err := s.Tx()
	if err != nil {
		return err
	}
	if err := s.sendVerification(ctx, c, u, onetimetoken.PurposeEMAIL_CHANGE, email, mail.EmailChangeVerify); err != nil {
		return err
	}
	if err := send(ctx, c, u, u.Email, mail.EmailChangedNotice, map[string]string{"new_email": email}); err != nil {
		return err
	}
	return audit.Record(ctx, c, audit.Entry{Action: "user.email_change_requested", TargetType: "UserAccount",
		TargetID: string(u.ID), Changes: map[string]any{"newEmail": email}})
}

// setPassword stores a new password, ends sessions (all but keep), tells
// the user and audits.
func (s *Service) setPassword(ctx context.Context, c *ent.Client, u *ent.UserAccount, hash string, keep pulid.ID, action string) error {
	now := s.Now()
	if err := c.UserAccount.UpdateOneID(u.ID).SetPasswordHash(hash).SetPasswordChangedAt(now).
		SetMustChangePassword(false).Exec(sys(ctx)); err != nil {
		return err
	}
	// Links sent before (a pending e-mail change, a reset link to an older
	// address) must not outlive the new password.
	if err := invalidateTokens(ctx, c, u.ID, now, onetimetoken.PurposeEMAIL_CHANGE, onetimetoken.PurposePASSWORD_RESET); err != nil {
		return err
	}
	n, err := revokeUserSessions(ctx, c, u.ID, keep, now, "password "+strings.TrimPrefix(action, "password."))
	if err != nil {
		return err
	}
	if err := send(ctx, c, u, u.Email, mail.PasswordChanged, nil); err != nil {
		return err
	}
	return audit.Record(ctx, c, audit.Entry{Action: action, ActorID: string(u.ID), TargetType: "UserAccount",
		TargetID: string(u.ID), Changes: map[string]any{"sessionsRevoked": n}})
}

// invalidateTokens ends the user's live one-time tokens of the purposes.
func invalidateTokens(ctx context.Context, c *ent.Client, uid pulid.ID, now time.Time, ps ...onetimetoken.Purpose) error {
	return c.OneTimeToken.Update().
		Where(onetimetoken.UserID(uid), onetimetoken.PurposeIn(ps...), onetimetoken.UsedAtIsNil(), onetimetoken.InvalidatedAtIsNil()).
		SetInvalidatedAt(now).Exec(sys(ctx))
}

// newPasswordHash checks the password policy and hashes pw, before any
// transaction opens (argon2 must not hold the write lock).
func newPasswordHash(ctx context.Context, u *ent.UserAccount, pw string) (string, error) {
	if err := policyError("input.newPassword", password.Validate(pw, u.Email, u.Username)); err != nil {
		return "", err
	}
	return password.Hash(ctx, pw)
}

// ChangePassword changes the viewer's password and ends its other sessions.
func (s *Service) ChangePassword(ctx context.Context, current, next string) error {
	u, err := s.currentUser(ctx)
	if err != nil {
		return err
	}
	if err := s.checkPassword(ctx, u, current, "input.currentPassword"); err != nil {
		return err
	}
	if same, _, _ := password.Verify(ctx, next, u.PasswordHash); same {
		return apperr.BadInput("input.newPassword", "choose a password different from the current one")
	}
	hash, err := newPasswordHash(ctx, u, next)
	if err != nil {
		return err
	}
	c, err := s.Tx()
	if err != nil {
		return err
	}
	return s.setPassword(ctx, c, u, hash, pulid.ID(viewer.FromContext(ctx).SessionID), "password.changed")
}

// resetFloor is the least time requestPasswordReset takes, whatever
// happens, so that its duration does not tell whether the login exists.
const resetFloor = 400 * time.Millisecond

// RequestPasswordReset sends a reset link to the address on file. It
// answers the same, in about the same time, whether or not the login
// exists; the link is built from the configured public URL only.
func (s *Service) RequestPasswordReset(ctx context.Context, login string) error {
	start := time.Now()
	// Wait out the floor before writing anything, so that the write lock
	// of the transaction is not held during the wait; the writes after it
	// take a few milliseconds.
	pad := func() {
		if d := resetFloor - time.Since(start); d > 0 {
			select {
			case <-time.After(d):
			case <-ctx.Done():
			}
		}
	}
	defer pad()
	v := viewer.FromContext(ctx)
	if err := s.Limiter.Take(ctx, ruleResetIP, v.IP); err != nil {
		return err
	}
	u, err := s.findLogin(ctx, login)
	if err != nil {
		return err
	}
	if u == nil || u.Status == useraccount.StatusDELETED {
		return nil
	}
	if err := s.Limiter.Take(ctx, ruleResetUser, string(u.ID)); err != nil {
		// Same answer: the limit protects the mailbox, not a secret.
		s.auditOutside(ctx, "password.reset_rate_limited", string(u.ID), nil)
		return nil
	}
	pad()
	c, err := s.Tx()
	if err != nil {
		return err
	}
	tok, err := s.newToken(ctx, c, u, onetimetoken.PurposePASSWORD_RESET, ResetLinkLifetime, "")
	if err != nil {
		return err
	}
	if err := send(ctx, c, u, u.Email, mail.PasswordReset, map[string]string{"link": s.link("/reset-password", tok)}); err != nil {
		return err
	}
	return audit.Record(ctx, c, audit.Entry{Action: "password.reset_requested", TargetType: "UserAccount", TargetID: string(u.ID)})
}

// ResetPassword sets a new password with a reset token and ends every
// session. It does not log in: the next login asks for the second factor.
func (s *Service) ResetPassword(ctx context.Context, tok, next string) error {
	t, err := s.redeem(ctx, tok, onetimetoken.PurposePASSWORD_RESET)
	if err != nil {
		return err
	}
	u, err := s.Client.UserAccount.Get(sys(ctx), t.UserID)
	if err != nil {
		return err
	}
	hash, err := newPasswordHash(ctx, u, next)
	if err != nil {
		return err
	}
	c, err := s.Tx()
	if err != nil {
		return err
	}
	if err := s.use(ctx, c, t); err != nil {
		return err
	}
	return s.setPassword(ctx, c, u, hash, "", "password.reset")
}
