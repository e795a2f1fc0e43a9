package identity

import (
	"context"
	"encoding/base64"
	"strings"
	"time"

	"portier/ent"
	"portier/ent/session"
	"portier/ent/useraccount"
	"portier/internal/apperr"
	"portier/internal/audit"
	"portier/internal/authz"
	"portier/internal/pulid"
	"portier/internal/viewer"
)

// maxPreviousRefresh bounds the rotated-away refresh hashes kept per session
// for reuse detection.
const maxPreviousRefresh = 50

// RefreshGrace is how long after a rotation the token just rotated away
// still answers, with the same successor: two tabs (or a retry after a lost
// answer) refreshing at once must not look like a stolen token. After the
// window, presenting it again revokes the session as before.
const RefreshGrace = 10 * time.Second

// newRefreshToken returns a fresh refresh token naming its session, and its
// hash.
func newRefreshToken(sid pulid.ID) (string, string) {
	tok := "prt." + string(sid) + "." + randomToken(32)
	return tok, hashToken(tok)
}

// successor is the refresh token that replaces tok. It is derived from tok
// with an HMAC under a key only the servers hold, so that any server can
// recompute it during the grace window although only hashes are stored, and
// nobody without the key can compute it from a token.
func (s *Service) successor(sid pulid.ID, tok string) (string, string) {
	mac := s.Tokens.MAC("refresh-successor", []byte(tok))
	next := "prt." + string(sid) + "." + base64.RawURLEncoding.EncodeToString(mac)
	return next, hashToken(next)
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
	return s.withEnrolment(ctx, c, u, &Tokens{AccessToken: at, RefreshToken: refresh, ExpiresAt: exp}, now)
}

// withEnrolment sets SecondFactorEnrolmentRequired on t: whether u has no
// second factor while an account it acts for requires one (decided by the
// evaluator, read through c).
func (s *Service) withEnrolment(ctx context.Context, c *ent.Client, u *ent.UserAccount, t *Tokens, now time.Time) (*Tokens, error) {
	req, err := authz.EnrolmentRequired(ctx, c, u, now)
	if err != nil {
		return nil, err
	}
	t.SecondFactorEnrolmentRequired = req
	return t, nil
}

var errBadRefresh = apperr.Unauthenticated("the refresh token is invalid or expired; log in again")

// Refresh rotates a refresh token. Presenting a token that was already
// rotated away means it was copied, and the whole session is revoked —
// except within RefreshGrace after its rotation, when it gets the same
// successor again (with a new access token): concurrent refreshes of one
// client all end up with the one current token.
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
	h := hashToken(tok)
	next, nextHash := s.successor(sess.ID, tok)
	if !equalHash(h, sess.RefreshTokenHash) {
		return s.refreshRotated(ctx, sess, h, nextHash, next, now)
	}
	if !usable(sess, now) {
		return nil, errBadRefresh
	}
	subject, kind, u, err := s.sessionPrincipal(ctx, sess)
	if err != nil {
		return nil, err
	}
	c, err := s.Tx()
	if err != nil {
		return nil, err
	}
	prev := append(sess.PreviousRefreshHashes, h)
	if len(prev) > maxPreviousRefresh {
		prev = prev[len(prev)-maxPreviousRefresh:]
	}
	// Guarded on the current hash: of two concurrent refreshes with the
	// same token only one rotates; the other finds the rotation done.
	n, err := c.Session.Update().
		Where(session.ID(sess.ID), session.RefreshTokenHash(h), session.RevokedAtIsNil()).
		SetRefreshTokenHash(nextHash).
		SetPreviousRefreshHashes(prev).
		SetRotatedAt(now).
		AddRefreshGeneration(1).
		SetLastUsedAt(now).
		Save(sys(ctx))
	if err != nil {
		return nil, err
	}
	if n != 1 {
		// Lost the race: answer as the winner did, if it is still the
		// winner's rotation (read through the plain client: the row is
		// committed by the other request).
		sess, err = s.Client.Session.Get(sys(ctx), sid)
		if err != nil {
			return nil, errBadRefresh
		}
		return s.refreshRotated(ctx, sess, h, nextHash, next, now)
	}
	return s.issue(ctx, c, subject, kind, u, sess.ID, next, now)
}

// sessionPrincipal returns whom a session belongs to — an ACTIVE user, or
// an ACTIVE scoped login whose customer account is usable (scoped.go) — as
// the access token's subject and kind; errBadRefresh otherwise.
// For a user it also returns the user.
func (s *Service) sessionPrincipal(ctx context.Context, sess *ent.Session) (pulid.ID, viewer.Kind, *ent.UserAccount, error) {
	if sess.ScopedLoginID != nil {
		if _, err := s.usableScopedLogin(ctx, *sess.ScopedLoginID); err != nil {
			return "", "", nil, errBadRefresh
		}
		return *sess.ScopedLoginID, viewer.ScopedLogin, nil, nil
	}
	u, err := s.Client.UserAccount.Query().
		Where(useraccount.ID(*sess.UserID), useraccount.StatusEQ(useraccount.StatusACTIVE)).Only(sys(ctx))
	if err != nil {
		return "", "", nil, errBadRefresh
	}
	return u.ID, viewer.User, u, nil
}

// usable reports whether a session may be refreshed at all.
func usable(sess *ent.Session, now time.Time) bool {
	return sess.RevokedAt == nil && sess.ExpiresAt.After(now) && (sess.UserID != nil || sess.ScopedLoginID != nil)
}

// refreshRotated answers a token that is not the session's current one:
// the token rotated away last, within the grace window, gets its successor
// (which is the current token) again; any other rotated-away token is
// reuse and ends the session; anything else is just invalid.
func (s *Service) refreshRotated(ctx context.Context, sess *ent.Session, h, nextHash, next string, now time.Time) (*Tokens, error) {
	if !usable(sess, now) {
		return nil, errBadRefresh
	}
	if equalHash(nextHash, sess.RefreshTokenHash) && sess.RotatedAt != nil &&
		!now.Before(*sess.RotatedAt) && now.Sub(*sess.RotatedAt) <= RefreshGrace {
		subject, kind, u, err := s.sessionPrincipal(ctx, sess)
		if err != nil {
			return nil, err
		}
		return s.issue(ctx, s.Client, subject, kind, u, sess.ID, next, now)
	}
	for _, old := range sess.PreviousRefreshHashes {
		if equalHash(h, old) {
			s.revokeForReuse(ctx, sess)
			return nil, errBadRefresh
		}
	}
	return nil, errBadRefresh
}

// issue returns the refresh token with a new access token.
// For a user (u not nil) it says whether second-factor enrolment is due.
func (s *Service) issue(ctx context.Context, c *ent.Client, subject pulid.ID, kind viewer.Kind, u *ent.UserAccount, sid pulid.ID, refresh string, now time.Time) (*Tokens, error) {
	at, exp, err := s.Tokens.Issue(string(subject), string(sid), string(kind), now)
	if err != nil {
		return nil, err
	}
	t := &Tokens{AccessToken: at, RefreshToken: refresh, ExpiresAt: exp}
	if u == nil {
		return t, nil
	}
	return s.withEnrolment(ctx, c, u, t, now)
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
