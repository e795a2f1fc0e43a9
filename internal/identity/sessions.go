package identity

import (
	"context"
	"strings"
	"time"

	"portier/ent"
	"portier/ent/session"
	"portier/ent/useraccount"
	"portier/internal/apperr"
	"portier/internal/audit"
	"portier/internal/pulid"
	"portier/internal/viewer"
)

// maxPreviousRefresh bounds the rotated-away refresh hashes kept per session
// for reuse detection.
const maxPreviousRefresh = 50

// newRefreshToken returns a refresh token naming its session, and its hash.
func newRefreshToken(sid pulid.ID) (string, string) {
	tok := "prt." + string(sid) + "." + randomToken(32)
	return tok, hashToken(tok)
}

func sessionOfRefreshToken(tok string) (pulid.ID, bool) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 || parts[0] != "prt" {
		return "", false
	}
	id := pulid.ID(parts[1])
	return id, id.Prefix() == "ses"
}

// openSession creates a session for u through c and returns its tokens.
func (s *Service) openSession(ctx context.Context, c *ent.Client, u *ent.UserAccount, secondFactorAt *time.Time) (*Tokens, error) {
	now := s.Now()
	v := viewer.FromContext(ctx)
	sid := pulid.New("ses")
	refresh, hash := newRefreshToken(sid)
	sess, err := c.Session.Create().
		SetID(sid).
		SetUserID(u.ID).
		SetRefreshTokenHash(hash).
		SetIP(v.IP).
		SetUserAgent(v.UserAgent).
		SetLastUsedAt(now).
		SetExpiresAt(now.Add(SessionLifetime)).
		SetNillableSecondFactorAt(secondFactorAt).
		Save(sys(ctx))
	if err != nil {
		return nil, err
	}
	if err := c.UserAccount.UpdateOneID(u.ID).SetLastLoginAt(now).Exec(sys(ctx)); err != nil {
		return nil, err
	}
	changes := map[string]any{"session": string(sess.ID), "secondFactor": secondFactorAt != nil}
	if err := audit.Record(ctx, c, audit.Entry{Action: "login.success", ActorID: string(u.ID),
		TargetType: "UserAccount", TargetID: string(u.ID), Changes: changes}); err != nil {
		return nil, err
	}
	at, exp, err := s.Tokens.Issue(string(u.ID), string(sess.ID), string(viewer.User), now)
	if err != nil {
		return nil, err
	}
	return &Tokens{AccessToken: at, RefreshToken: refresh, ExpiresAt: exp}, nil
}

var errBadRefresh = apperr.Unauthenticated("the refresh token is invalid or expired; log in again")

// Refresh rotates a refresh token. Presenting a token that was already
// rotated away means it was copied: the whole session is revoked.
func (s *Service) Refresh(ctx context.Context, tok string) (*Tokens, error) {
	sid, ok := sessionOfRefreshToken(tok)
	if !ok {
		return nil, errBadRefresh
	}
	now := s.Now()
	sess, err := s.Client.Session.Get(sys(ctx), sid)
	if ent.IsNotFound(err) {
		return nil, errBadRefresh
	}
	if err != nil {
		return nil, err
	}
	if sess.RevokedAt != nil || !sess.ExpiresAt.After(now) || sess.UserID == nil {
		return nil, errBadRefresh
	}
	h := hashToken(tok)
	if !equalHash(h, sess.RefreshTokenHash) {
		for _, old := range sess.PreviousRefreshHashes {
			if equalHash(h, old) {
				s.revokeForReuse(ctx, sess)
				return nil, errBadRefresh
			}
		}
		return nil, errBadRefresh
	}
	u, err := s.Client.UserAccount.Query().
		Where(useraccount.ID(*sess.UserID), useraccount.StatusEQ(useraccount.StatusACTIVE)).Only(sys(ctx))
	if err != nil {
		return nil, errBadRefresh
	}
	c, err := s.Tx()
	if err != nil {
		return nil, err
	}
	refresh, newHash := newRefreshToken(sess.ID)
	prev := append(sess.PreviousRefreshHashes, h)
	if len(prev) > maxPreviousRefresh {
		prev = prev[len(prev)-maxPreviousRefresh:]
	}
	// Guarded on the current hash: of two concurrent refreshes with the
	// same token only one wins.
	n, err := c.Session.Update().
		Where(session.ID(sess.ID), session.RefreshTokenHash(h), session.RevokedAtIsNil()).
		SetRefreshTokenHash(newHash).
		SetPreviousRefreshHashes(prev).
		AddRefreshGeneration(1).
		SetLastUsedAt(now).
		Save(sys(ctx))
	if err != nil {
		return nil, err
	}
	if n != 1 {
		return nil, errBadRefresh
	}
	at, exp, err := s.Tokens.Issue(string(u.ID), string(sess.ID), string(viewer.User), now)
	if err != nil {
		return nil, err
	}
	return &Tokens{AccessToken: at, RefreshToken: refresh, ExpiresAt: exp}, nil
}

// revokeForReuse ends a session whose old refresh token came back. It
// writes outside the mutation's transaction: the mutation fails, the
// revocation must stay.
func (s *Service) revokeForReuse(ctx context.Context, sess *ent.Session) {
	now := s.Now()
	_ = s.Client.Session.UpdateOneID(sess.ID).SetRevokedAt(now).SetRevokeReason("refresh token reuse").Exec(sys(ctx))
	uid := ""
	if sess.UserID != nil {
		uid = string(*sess.UserID)
	}
	s.auditOutside(ctx, "session.revoked", uid, map[string]any{"session": string(sess.ID), "reason": "refresh_token_reuse"})
}

// Logout revokes the viewer's current session.
func (s *Service) Logout(ctx context.Context) error {
	v := viewer.FromContext(ctx)
	return s.revoke(ctx, pulid.ID(v.SessionID), "logout")
}

// RevokeSession revokes one of the viewer's own sessions.
func (s *Service) RevokeSession(ctx context.Context, id pulid.ID) error {
	return s.revoke(ctx, id, "revoked by user")
}

func (s *Service) revoke(ctx context.Context, id pulid.ID, reason string) error {
	v := viewer.FromContext(ctx)
	c, err := s.Tx()
	if err != nil {
		return err
	}
	// The Session policy limits the update to the viewer's own sessions.
	n, err := c.Session.Update().
		Where(session.ID(id), session.RevokedAtIsNil()).
		SetRevokedAt(s.Now()).SetRevokeReason(reason).
		Save(ctx)
	if err != nil {
		return err
	}
	if n == 0 {
		e := apperr.NotFound()
		e.Field = "id"
		return e
	}
	return audit.Record(ctx, c, audit.Entry{Action: "session.revoked", TargetType: "Session", TargetID: string(id),
		Changes: map[string]any{"reason": reason, "by": v.UserID}})
}

// RevokeOtherSessions revokes every session of the viewer but the current.
func (s *Service) RevokeOtherSessions(ctx context.Context) (int, error) {
	v := viewer.FromContext(ctx)
	c, err := s.Tx()
	if err != nil {
		return 0, err
	}
	n, err := revokeUserSessions(ctx, c, pulid.ID(v.UserID), pulid.ID(v.SessionID), s.Now(), "revoked by user")
	if err != nil {
		return 0, err
	}
	return n, audit.Record(ctx, c, audit.Entry{Action: "session.revoked_others", TargetType: "UserAccount",
		TargetID: v.UserID, Changes: map[string]any{"count": n}})
}

// revokeUserSessions revokes the user's live sessions except keep ("" for all).
func revokeUserSessions(ctx context.Context, c *ent.Client, uid, keep pulid.ID, now time.Time, reason string) (int, error) {
	q := c.Session.Update().Where(session.UserID(uid), session.RevokedAtIsNil())
	if keep != "" {
		q.Where(session.IDNEQ(keep))
	}
	return q.SetRevokedAt(now).SetRevokeReason(reason).Save(sys(ctx))
}

// MySessions lists the viewer's live sessions, newest first.
func (s *Service) MySessions(ctx context.Context) ([]*ent.Session, error) {
	v := viewer.FromContext(ctx)
	return s.Client.Session.Query().
		Where(session.UserID(pulid.ID(v.UserID)), session.RevokedAtIsNil(), session.ExpiresAtGT(s.Now())).
		Order(ent.Desc(session.FieldCreatedAt)).
		All(ctx)
}
