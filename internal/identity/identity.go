// Package identity holds login and the bootstrap of the first staff admin.
package identity

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"log/slog"
	"time"

	"portier/ent"
	"portier/ent/schema"
	"portier/ent/useraccount"
	"portier/internal/apperr"
	"portier/internal/audit"
	"portier/internal/domain"
	"portier/internal/password"
	"portier/internal/token"
	"portier/internal/viewer"
)

// SessionLifetime is how long a session lives at most.
const SessionLifetime = 30 * 24 * time.Hour

// Service logs users in.
type Service struct {
	Client *ent.Client
	Tokens *token.Issuer
	Now    func() time.Time
}

// LoginResult is a successful login.
type LoginResult struct {
	AccessToken string
	ExpiresAt   time.Time
}

var errBadLogin = apperr.Unauthenticated("invalid login or password")

// Login checks a login (e-mail or username) and password. On success it
// opens a session through tx (the mutation's transaction) and returns an
// access token. Every failure gives the same answer, takes about the same
// time, and is audited outside the transaction.
func (s *Service) Login(ctx context.Context, tx func() (*ent.Client, error), login, pw string) (*LoginResult, error) {
	sys := viewer.SystemContext(ctx)
	norm := schema.NormalizeEmail(login)
	u, err := s.Client.UserAccount.Query().
		Where(useraccount.Or(useraccount.Email(norm), useraccount.Username(norm))).
		Only(sys)
	if err != nil && !ent.IsNotFound(err) {
		return nil, err
	}
	if u == nil || u.PasswordHash == "" {
		password.Burn(ctx, pw)
		s.auditFailure(ctx, "", "unknown_login")
		return nil, errBadLogin
	}
	ok, rehash, err := password.Verify(ctx, pw, u.PasswordHash)
	if err != nil || !ok {
		s.auditFailure(ctx, string(u.ID), "wrong_password")
		return nil, errBadLogin
	}
	if u.Status != useraccount.StatusACTIVE {
		s.auditFailure(ctx, string(u.ID), "inactive_user")
		return nil, errBadLogin
	}

	c, err := tx()
	if err != nil {
		return nil, err
	}
	now := s.Now()
	v := viewer.FromContext(ctx)
	sess, err := c.Session.Create().
		SetUserID(u.ID).
		SetIP(v.IP).
		SetUserAgent(v.UserAgent).
		SetLastUsedAt(now).
		SetExpiresAt(now.Add(SessionLifetime)).
		Save(sys)
	if err != nil {
		return nil, err
	}
	upd := c.UserAccount.UpdateOneID(u.ID).SetLastLoginAt(now)
	if rehash {
		if h, err := password.Hash(ctx, pw); err == nil {
			upd.SetPasswordHash(h)
		}
	}
	if err := upd.Exec(sys); err != nil {
		return nil, err
	}
	if err := audit.Record(ctx, c, audit.Entry{
		Action: "login.success", ActorID: string(u.ID), TargetType: "UserAccount", TargetID: string(u.ID),
		Changes: map[string]any{"session": string(sess.ID)},
	}); err != nil {
		return nil, err
	}
	at, exp, err := s.Tokens.Issue(string(u.ID), string(sess.ID), string(viewer.User), now)
	if err != nil {
		return nil, err
	}
	return &LoginResult{AccessToken: at, ExpiresAt: exp}, nil
}

func (s *Service) auditFailure(ctx context.Context, userID, reason string) {
	e := audit.Entry{Action: "login.failure", ActorID: userID, Changes: map[string]any{"reason": reason}}
	if userID != "" {
		e.TargetType, e.TargetID = "UserAccount", userID
	}
	if err := audit.Record(ctx, s.Client, e); err != nil {
		slog.WarnContext(ctx, "could not audit failed login", "error", err.Error())
	}
}

// BootstrapAdmin creates the first staff ADMIN when there is no user at all.
// Without a configured password it generates one and returns it, for the
// caller to show once.
func BootstrapAdmin(ctx context.Context, client *ent.Client, email, pw string) (created bool, generated string, err error) {
	sys := viewer.SystemContext(ctx)
	n, err := client.UserAccount.Query().Count(sys)
	if err != nil || n > 0 {
		return false, "", err
	}
	if pw == "" {
		b := make([]byte, 18)
		if _, err := rand.Read(b); err != nil {
			return false, "", err
		}
		pw = base64.RawURLEncoding.EncodeToString(b)
		generated = pw
	}
	h, err := password.Hash(ctx, pw)
	if err != nil {
		return false, "", err
	}
	now := time.Now().UTC()
	email = schema.NormalizeEmail(email)
	err = client.UserAccount.Create().
		SetEmail(email).
		SetUsername("admin").
		SetName("Portier administrator").
		SetPasswordHash(h).
		SetPasswordChangedAt(now).
		SetEmailVerifiedAt(now).
		SetStaffRole(domain.StaffAdmin).
		SetLocale("en").
		Exec(sys)
	if err != nil {
		return false, "", err
	}
	return true, generated, nil
}
