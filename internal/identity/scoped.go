package identity

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"time"

	"portier/ent"
	"portier/ent/onetimetoken"
	"portier/ent/predicate"
	"portier/ent/resource"
	"portier/ent/schema"
	"portier/ent/scopedlogin"
	"portier/ent/session"
	"portier/internal/apperr"
	"portier/internal/audit"
	"portier/internal/authz"
	"portier/internal/mail"
	"portier/internal/outbox"
	"portier/internal/password"
	"portier/internal/pulid"
	"portier/internal/viewer"
)

// Scoped logins (issue 9; docs/authorization.md, 'Scoped logins'): logging in, refreshing (sessions.go),
// the own password, password resets routed to the reference addresses, and
// the confirmed change of the reference address. They share the rate limits
// of user logins; their keys are prefixed so that a scoped login and a user
// with the same name never share a budget. Whether a scoped login may be
// used at all (ACTIVE, its account ACTIVE with portal access) is
// authz.ScopedAccountUsable; what it may see is the evaluator's.

// ReferenceLinkLifetime is how long a reference address confirmation link
// is valid.
const ReferenceLinkLifetime = 24 * time.Hour

// findScoped reads a scoped login by login name with its resource and
// account; nil when there is none.
func (s *Service) findScoped(ctx context.Context, login string) (*ent.ScopedLogin, error) {
	l, err := s.Client.ScopedLogin.Query().
		Where(scopedlogin.LoginName(strings.ToLower(strings.TrimSpace(login)))).
		WithResource().WithCustomerAccount().
		Only(sys(ctx))
	if ent.IsNotFound(err) {
		return nil, nil
	}
	return l, err
}

// usableScopedLogin returns the scoped login id if it may log in now.
func (s *Service) usableScopedLogin(ctx context.Context, id pulid.ID) (*ent.ScopedLogin, error) {
	l, err := s.Client.ScopedLogin.Query().Where(scopedlogin.ID(id)).WithCustomerAccount().Only(sys(ctx))
	if err != nil {
		return nil, err
	}
	if l.Status != scopedlogin.StatusACTIVE || !authz.ScopedAccountUsable(l.Edges.CustomerAccount) {
		return nil, &ent.NotFoundError{}
	}
	return l, nil
}

// LoginScoped checks a scoped login's name and password and opens a session
// whose principal is the scoped login. Failures look alike (unknown login,
// wrong password, disabled login, deactivated account), are counted against
// the same limits as user logins first, and are audited outside the
// mutation's transaction.
func (s *Service) LoginScoped(ctx context.Context, login, pw string) (*LoginResult, error) {
	v := viewer.FromContext(ctx)
	if err := s.Limiter.Take(ctx, ruleLoginIP, v.IP); err != nil {
		return nil, err
	}
	l, err := s.findScoped(ctx, login)
	if err != nil {
		return nil, err
	}
	key, id := "scoped-unknown:"+strings.ToLower(strings.TrimSpace(login)), ""
	if l != nil {
		key, id = "scoped:"+string(l.ID), string(l.ID)
	}
	if err := s.Limiter.Take(ctx, ruleLoginUserIP, key+"|"+v.IP); err != nil {
		s.auditScopedOutside(ctx, "login.rate_limited", l, nil)
		return nil, err
	}
	if err := s.Limiter.Take(ctx, ruleLoginUser, key); err != nil {
		s.auditScopedOutside(ctx, "login.rate_limited", l, nil)
		return nil, err
	}
	ok, rehash := false, false
	if l == nil || l.PasswordHash == "" {
		password.Burn(ctx, pw)
	} else if ok, rehash, err = password.Verify(ctx, pw, l.PasswordHash); err != nil {
		ok = false
	}
	if !ok || l.Status != scopedlogin.StatusACTIVE || !authz.ScopedAccountUsable(l.Edges.CustomerAccount) {
		reason := "wrong_password"
		switch {
		case l == nil:
			reason = "unknown_login"
		case ok && l.Status != scopedlogin.StatusACTIVE:
			reason = "inactive_login"
		case ok:
			reason = "account_inactive"
		}
		s.auditScopedOutside(ctx, "login.failure", l, map[string]any{"reason": reason, "kind": string(viewer.ScopedLogin)})
		return nil, errBadLogin
	}
	_ = s.Limiter.Reset(ctx, ruleLoginUserIP, key+"|"+v.IP)
	_ = s.Limiter.Reset(ctx, ruleLoginUser, key)
	newHash := ""
	if rehash {
		newHash, _ = password.Hash(ctx, pw)
	}
	c, err := s.Tx()
	if err != nil {
		return nil, err
	}
	now := s.Now()
	upd := c.ScopedLogin.UpdateOneID(l.ID).SetLastLoginAt(now)
	if newHash != "" {
		upd.SetPasswordHash(newHash)
	}
	if err := upd.Exec(sys(ctx)); err != nil {
		return nil, err
	}
	sid := pulid.New("ses")
	refresh, hash := newRefreshToken(sid)
	if err := c.Session.Create().SetID(sid).SetScopedLoginID(l.ID).SetRefreshTokenHash(hash).
		SetIP(v.IP).SetUserAgent(v.UserAgent).SetLastUsedAt(now).SetExpiresAt(now.Add(SessionLifetime)).
		Exec(sys(ctx)); err != nil {
		return nil, err
	}
	if err := audit.Record(ctx, c, audit.Entry{Action: "login.success", ActorID: id, AccountID: l.CustomerAccountID,
		TargetType: "ScopedLogin", TargetID: id, Changes: map[string]any{"session": string(sid), "kind": string(viewer.ScopedLogin)}}); err != nil {
		return nil, err
	}
	toks, err := s.issue(ctx, c, l.ID, viewer.ScopedLogin, nil, sid, refresh, now)
	if err != nil {
		return nil, err
	}
	return &LoginResult{Tokens: toks}, nil
}

// auditScopedOutside records an event about scoped login l (nil: unknown)
// outside the mutation's transaction.
func (s *Service) auditScopedOutside(ctx context.Context, action string, l *ent.ScopedLogin, changes map[string]any) {
	e := audit.Entry{Action: action, Changes: changes}
	if l != nil {
		e.TargetType, e.TargetID, e.AccountID = "ScopedLogin", string(l.ID), l.CustomerAccountID
	}
	if err := audit.Record(ctx, s.Client, e); err != nil {
		slog.WarnContext(ctx, "could not write audit event", "action", action, "error", err.Error())
	}
}

// ResetRecipients are the addresses a scoped login's reset link goes to
// : its reference addresses; for a mail vhost also the
// postmaster mailbox (its login name); for a mailbox also the mailbox
// itself. Web vhost, DNS zone and domain logins: the reference addresses
// only. Sorted, without duplicates.
func ResetRecipients(k resource.Kind, loginName string, refs []string) []string {
	out := slices.Clone(refs)
	if k == resource.KindMAIL_VHOST || k == resource.KindMAILBOX {
		out = append(out, loginName)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// requestScopedReset sends a reset link for a scoped login; the caller
// (RequestPasswordReset) answers alike whatever happens here.
func (s *Service) requestScopedReset(ctx context.Context, login string, pad func()) error {
	l, err := s.findScoped(ctx, login)
	if err != nil {
		return err
	}
	if l == nil || l.Status != scopedlogin.StatusACTIVE || !authz.ScopedAccountUsable(l.Edges.CustomerAccount) || l.Edges.Resource == nil {
		return nil
	}
	to := ResetRecipients(l.Edges.Resource.Kind, l.LoginName, l.ReferenceEmails)
	if len(to) == 0 {
		return nil
	}
	if err := s.Limiter.Take(ctx, ruleResetUser, "scoped:"+string(l.ID)); err != nil {
		s.auditScopedOutside(ctx, "password.reset_rate_limited", l, nil)
		return nil
	}
	pad()
	c, err := s.Tx()
	if err != nil {
		return err
	}
	tok, err := s.newScopedToken(ctx, c, l.ID, onetimetoken.PurposeSCOPED_PASSWORD_RESET, ResetLinkLifetime, "")
	if err != nil {
		return err
	}
	data := map[string]string{"login": l.LoginName, "link": s.link("/reset-password", tok)}
	for _, addr := range to {
		if err := sendScoped(ctx, c, addr, mail.ScopedPasswordReset, data); err != nil {
			return err
		}
	}
	return audit.Record(ctx, c, audit.Entry{Action: "password.reset_requested", AccountID: l.CustomerAccountID,
		TargetType: "ScopedLogin", TargetID: string(l.ID), Changes: map[string]any{"recipients": len(to)}})
}

// sendScoped renders a scoped login's message and puts it into the outbox.
func sendScoped(ctx context.Context, c *ent.Client, to, kind string, data map[string]string) error {
	e, err := mail.RenderEmail(kind, mail.LocaleDE, data)
	if err != nil {
		return err
	}
	return outbox.Enqueue(ctx, c, outbox.Email(to, e))
}

// newScopedToken invalidates the scoped login's live tokens of the purpose
// and stores a new one (its hash only); user_id holds the scoped login.
func (s *Service) newScopedToken(ctx context.Context, c *ent.Client, id pulid.ID, p onetimetoken.Purpose, ttl time.Duration, email string) (string, error) {
	now := s.Now()
	if err := invalidateTokens(ctx, c, id, now, p); err != nil {
		return "", err
	}
	tok := randomToken(32)
	q := c.OneTimeToken.Create().SetPurpose(p).SetUserID(id).SetTokenHash(hashToken(tok)).SetExpiresAt(now.Add(ttl))
	if email != "" {
		q.SetNewEmail(email)
	}
	return tok, q.Exec(sys(ctx))
}

// setScopedPassword stores a new password of a scoped login (written as
// Portier: by its own session or a reset link, both proven here), ends its
// sessions but keep, voids its links, tells its reference addresses and
// audits.
func (s *Service) setScopedPassword(ctx context.Context, c *ent.Client, l *ent.ScopedLogin, hash string, keep pulid.ID, action string) error {
	now := s.Now()
	if err := c.ScopedLogin.UpdateOneID(l.ID).SetPasswordHash(hash).SetMustChangePassword(false).Exec(sys(ctx)); err != nil {
		return err
	}
	if err := invalidateTokens(ctx, c, l.ID, now, onetimetoken.PurposeSCOPED_PASSWORD_RESET, onetimetoken.PurposeREFERENCE_EMAIL); err != nil {
		return err
	}
	q := c.Session.Update().Where(sessionOfScoped(l.ID)...)
	if keep != "" {
		q.Where(sessionNot(keep))
	}
	n, err := q.SetRevokedAt(now).SetRevokeReason("password " + strings.TrimPrefix(action, "password.")).Save(sys(ctx))
	if err != nil {
		return err
	}
	for _, addr := range l.ReferenceEmails {
		if err := sendScoped(ctx, c, addr, mail.ScopedPasswordChanged, map[string]string{"login": l.LoginName}); err != nil {
			return err
		}
	}
	return audit.Record(ctx, c, audit.Entry{Action: action, ActorID: string(l.ID), AccountID: l.CustomerAccountID,
		TargetType: "ScopedLogin", TargetID: string(l.ID), Changes: map[string]any{"sessionsRevoked": n}})
}

// VoidScopedLinks voids a scoped login's pending reset and reference
// links (after a manager set its password).
func VoidScopedLinks(ctx context.Context, c *ent.Client, id pulid.ID, now time.Time) error {
	return invalidateTokens(ctx, c, id, now, onetimetoken.PurposeSCOPED_PASSWORD_RESET, onetimetoken.PurposeREFERENCE_EMAIL)
}

// currentScoped returns the calling scoped login, if it may still act.
func (s *Service) currentScoped(ctx context.Context) (*ent.ScopedLogin, error) {
	v := viewer.FromContext(ctx)
	if v.Kind != viewer.ScopedLogin || v.ScopedLoginID == "" {
		return nil, apperr.ForbiddenReason("SCOPED_LOGIN_ONLY", "only a scoped login can do this")
	}
	l, err := s.usableScopedLogin(ctx, pulid.ID(v.ScopedLoginID))
	if ent.IsNotFound(err) {
		return nil, apperr.Unauthenticated("the login is no longer active")
	}
	return l, err
}

// checkScopedPassword verifies the calling scoped login's password,
// rate-limited like a user's.
func (s *Service) checkScopedPassword(ctx context.Context, l *ent.ScopedLogin, pw, field string) error {
	if err := s.Limiter.Take(ctx, rulePasswordUsr, "scoped:"+string(l.ID)); err != nil {
		return err
	}
	ok, _, err := password.Verify(ctx, pw, l.PasswordHash)
	if err != nil || !ok || l.PasswordHash == "" {
		s.auditScopedOutside(ctx, "password.check_failure", l, nil)
		return apperr.BadInput(field, "the current password is wrong")
	}
	return nil
}

// changeScopedPassword is changePassword for a scoped login.
func (s *Service) changeScopedPassword(ctx context.Context, current, next string) error {
	l, err := s.currentScoped(ctx)
	if err != nil {
		return err
	}
	if err := s.checkScopedPassword(ctx, l, current, "input.currentPassword"); err != nil {
		return err
	}
	if same, _, _ := password.Verify(ctx, next, l.PasswordHash); same {
		return apperr.BadInput("input.newPassword", "choose a password different from the current one")
	}
	hash, err := newScopedPasswordHash(ctx, l, next)
	if err != nil {
		return err
	}
	c, err := s.Tx()
	if err != nil {
		return err
	}
	return s.setScopedPassword(ctx, c, l, hash, pulid.ID(viewer.FromContext(ctx).SessionID), "password.changed")
}

// newScopedPasswordHash checks a scoped login's new password against the
// policy and hashes it (newPasswordHash for users).
func newScopedPasswordHash(ctx context.Context, l *ent.ScopedLogin, pw string) (string, error) {
	if err := policyError("input.newPassword", password.Validate(pw, l.LoginName)); err != nil {
		return "", err
	}
	return password.Hash(ctx, pw)
}

// resetScopedPassword is resetPassword with a scoped login's token.
func (s *Service) resetScopedPassword(ctx context.Context, t *ent.OneTimeToken, next string) error {
	l, err := s.usableScopedLogin(ctx, t.UserID)
	if ent.IsNotFound(err) {
		return apperr.BadInput("token", "the link is invalid, used or expired")
	}
	if err != nil {
		return err
	}
	hash, err := newScopedPasswordHash(ctx, l, next)
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
	return s.setScopedPassword(ctx, c, l, hash, "", "password.reset")
}

// RequestReferenceEmailChange sends a confirmation link to the calling
// scoped login's (or user's, userref.go) new reference address; the address changes when the link
// is confirmed (ConfirmReferenceEmail).
func (s *Service) RequestReferenceEmailChange(ctx context.Context, newEmail, pw string) error {
	if viewer.FromContext(ctx).Kind == viewer.User {
		return s.requestUserReferenceEmail(ctx, newEmail, pw) // userref.go
	}
	l, err := s.currentScoped(ctx)
	if err != nil {
		return err
	}
	email := schema.NormalizeEmail(newEmail)
	if !schema.ValidEmail(email) {
		return apperr.BadInput("input.newEmail", "%q is not an e-mail address", newEmail)
	}
	if len(l.ReferenceEmails) == 1 && l.ReferenceEmails[0] == email {
		return apperr.BadInput("input.newEmail", "this is already the reference address")
	}
	if err := s.checkScopedPassword(ctx, l, pw, "input.password"); err != nil {
		return err
	}
	c, err := s.Tx()
	if err != nil {
		return err
	}
	tok, err := s.newScopedToken(ctx, c, l.ID, onetimetoken.PurposeREFERENCE_EMAIL, ReferenceLinkLifetime, email)
	if err != nil {
		return err
	}
	if err := sendScoped(ctx, c, email, mail.ReferenceEmailVerify, map[string]string{
		"login": l.LoginName, "new_email": email, "link": s.link("/confirm-reference-email", tok)}); err != nil {
		return err
	}
	return audit.Record(ctx, c, audit.Entry{Action: "scoped_login.reference_email_change_requested", AccountID: l.CustomerAccountID,
		TargetType: "ScopedLogin", TargetID: string(l.ID), Changes: map[string]any{"newEmail": email}})
}

// ConfirmReferenceEmail redeems a confirmation link: the address it was
// sent to becomes the scoped login's reference address (replacing the
// others). The link proves the mailbox; the request that sent it proved
// the login (its session and password).
func (s *Service) ConfirmReferenceEmail(ctx context.Context, tok string) error {
	t, err := s.redeem(ctx, tok, onetimetoken.PurposeREFERENCE_EMAIL)
	if err != nil {
		return err
	}
	if t.UserID.Prefix() == "usr" {
		return s.confirmUserReferenceEmail(ctx, t) // userref.go
	}
	l, err := s.usableScopedLogin(ctx, t.UserID)
	if ent.IsNotFound(err) {
		return apperr.BadInput("token", "the link is invalid, used or expired")
	}
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
	// Written as Portier: the caller is whoever opened the link.
	if err := c.ScopedLogin.UpdateOneID(l.ID).SetReferenceEmails([]string{t.NewEmail}).Exec(sys(ctx)); err != nil {
		return err
	}
	return audit.Record(ctx, c, audit.Entry{Action: "scoped_login.reference_email_changed", AccountID: l.CustomerAccountID,
		TargetType: "ScopedLogin", TargetID: string(l.ID),
		Changes: map[string]any{"referenceEmails": []string{t.NewEmail}, "previous": l.ReferenceEmails}})
}

func sessionOfScoped(id pulid.ID) []predicate.Session {
	return []predicate.Session{session.ScopedLoginID(id), session.RevokedAtIsNil()}
}

func sessionNot(id pulid.ID) predicate.Session { return session.IDNEQ(id) }
