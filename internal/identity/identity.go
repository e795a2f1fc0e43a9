// Package identity holds everything about personal logins: sign-up and
// e-mail verification, passwords and resets, login with a second factor,
// sessions with rotating refresh tokens, and the bootstrap admin.
//
// Every guessable input (password, code, token) is rate-limited in the
// database before it is checked; every secret is stored only as a hash (the
// TOTP secret excepted, which the server must read); nothing secret reaches a
// log line, an error or an audit event.
//
// Pre-account hijacking. An address counts as an account's
// only once its holder proved both the mailbox (the link) and the account
// (its session or password, in verifyEmail; the mail names the username).
// Until then it waits in pending_email, which any number of accounts may
// claim; only verified addresses sit in the unique email column, log in and
// get reset links. The classes of the attack and how each is closed:
//   - classic-federated merge and non-verifying identity provider: do not
//     apply, there is no federated login;
//   - classic / trojan identifier (sign up first with the victim's address,
//     or make it an identifier of one's own account): the claim holds
//     nothing; the owner's later sign-up creates her own account and link;
//     her proven verification voids every other claim (sign-ups and
//     e-mail changes); a username cannot contain "@", so it never passes
//     for an address; contacts are linked only at proven verification;
//   - unexpired session: the attacker's session belongs to an account that
//     never gets the address, so it gains nothing when the owner verifies;
//     an unverified address gets no reset link;
//   - unverified e-mail change: the change happens only at a proven
//     verification, the link names the requesting account, and the owner's
//     own verification voids the pending change.
//
// signUp answers alike for a taken username and a taken address (issue 6
// item 10): a taken username is told to the address given, at most 3 times
// an hour per address, instead of in the answer.
package identity

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"portier/ent"
	"portier/ent/schema"
	"portier/ent/useraccount"
	"portier/internal/apperr"
	"portier/internal/audit"
	"portier/internal/domain"
	"portier/internal/mail"
	"portier/internal/metrics"
	"portier/internal/outbox"
	"portier/internal/password"
	"portier/internal/ratelimit"
	"portier/internal/token"
	"portier/internal/viewer"
)

// Lifetimes.
const (
	SessionLifetime    = 30 * 24 * time.Hour
	ChallengeLifetime  = 10 * time.Minute
	CodeLifetime       = 10 * time.Minute
	MaxCodeAttempts    = 5
	VerifyLinkLifetime = 24 * time.Hour
	ResetLinkLifetime  = 30 * time.Minute
	FreshSecondFactor  = 15 * time.Minute
	RecoveryCodeCount  = 10
)

// Rate limits. Windows end by themselves: there is no permanent lockout.
var (
	ruleLoginUser   = ratelimit.Rule{Name: "login:user", Limit: 30, Window: 15 * time.Minute}
	ruleLoginUserIP = ratelimit.Rule{Name: "login:userip", Limit: 5, Window: 15 * time.Minute}
	ruleLoginIP     = ratelimit.Rule{Name: "login:ip", Limit: 300, Window: 15 * time.Minute}
	ruleCodeUser    = ratelimit.Rule{Name: "code:user", Limit: 10, Window: 15 * time.Minute}
	ruleCodeSend    = ratelimit.Rule{Name: "codesend:user", Limit: 5, Window: 15 * time.Minute}
	ruleResetIP     = ratelimit.Rule{Name: "reset:ip", Limit: 10, Window: time.Hour}
	ruleResetUser   = ratelimit.Rule{Name: "reset:user", Limit: 3, Window: time.Hour}
	ruleTokenIP     = ratelimit.Rule{Name: "token:ip", Limit: 30, Window: 15 * time.Minute}
	ruleSignUpIP    = ratelimit.Rule{Name: "signup:ip", Limit: 10, Window: time.Hour}
	ruleSignUpNote  = ratelimit.Rule{Name: "signupnote:email", Limit: 3, Window: time.Hour}
	rulePasswordUsr = ratelimit.Rule{Name: "password:user", Limit: 5, Window: 15 * time.Minute}
)

// Service runs the identity operations of one request.
type Service struct {
	Client    *ent.Client // plain client: reads, and writes that must survive a failed mutation
	Tx        func() (*ent.Client, error)
	Tokens    *token.Issuer
	Limiter   *ratelimit.Limiter
	PublicURL string
	Now       func() time.Time
	// AfterCommit runs f once the writes made through Tx are committed,
	// and never when they are rolled back; nil runs f at once.
	AfterCommit func(f func())
}

func (s *Service) afterCommit(f func()) {
	if s.AfterCommit == nil {
		f()
		return
	}
	s.AfterCommit(f)
}

// Tokens is the result of a completed login or refresh.
type Tokens struct {
	AccessToken  string
	RefreshToken string
	ExpiresAt    time.Time
	// SecondFactorEnrolmentRequired: the user has no second factor and an
	// account it acts for requires one (it holds no permission there).
	SecondFactorEnrolmentRequired bool
}

// LoginResult is either tokens or a pending challenge.
type LoginResult struct {
	Tokens    *Tokens
	Challenge *ent.LoginChallenge
}

var errBadLogin = apperr.Unauthenticated("invalid login or password")

func sys(ctx context.Context) context.Context { return viewer.SystemContext(ctx) }

func (s *Service) link(path, tok string) string {
	return strings.TrimRight(s.PublicURL, "/") + path + "?token=" + url.QueryEscape(tok)
}

// send renders a message and puts it into the outbox through c (the
// transaction of the change that causes it).
// An account without a verified address has nowhere to be told: notices
// to "" are dropped (an unverified address may be somebody else's).
func send(ctx context.Context, c *ent.Client, u *ent.UserAccount, to, kind string, data map[string]string) error {
	if to == "" {
		return nil
	}
	if data == nil {
		data = map[string]string{}
	}
	if _, ok := data["name"]; !ok {
		data["name"] = u.Name
	}
	if _, ok := data["username"]; !ok {
		data["username"] = u.Username
	}
	if mail.IsSMS(kind) {
		_, body, err := mail.Render(kind, u.Locale, data)
		if err != nil {
			return err
		}
		return outbox.Enqueue(ctx, c, outbox.Message{Channel: outbox.ChannelSMS, To: to, Body: body, Kind: kind})
	}
	e, err := mail.RenderEmail(kind, u.Locale, data)
	if err != nil {
		return err
	}
	return outbox.Enqueue(ctx, c, outbox.Email(to, e))
}

func (s *Service) findLogin(ctx context.Context, login string) (*ent.UserAccount, error) {
	norm := schema.NormalizeEmail(login)
	// Only a verified address is a login; a username never contains "@",
	// so the two cannot match different accounts.
	u, err := s.Client.UserAccount.Query().
		Where(useraccount.Or(
			useraccount.And(useraccount.Email(norm), useraccount.EmailVerifiedAtNotNil()),
			useraccount.Username(norm))).
		Only(sys(ctx))
	if ent.IsNotFound(err) {
		return nil, nil
	}
	return u, err
}

// Login checks a login (e-mail or username) and password. Without second
// factor it opens a session; with one it returns a challenge (and sends a
// code when the preferred method is a code). Failures all look alike, take
// about as long, are counted against the limits first and audited outside
// the mutation's transaction.
func (s *Service) Login(ctx context.Context, login, pw string) (*LoginResult, error) {
	v := viewer.FromContext(ctx)
	if err := s.Limiter.Take(ctx, ruleLoginIP, v.IP); err != nil {
		metrics.Logins.WithLabelValues("rate_limited").Inc()
		return nil, err
	}
	u, err := s.findLogin(ctx, login)
	if err != nil {
		return nil, err
	}
	// Known and unknown logins are counted alike (no existence oracle):
	// per login and client address (5 tries before the password is even
	// looked at: parallel attempts cannot get more), and attempts per
	// login across all addresses (a wider budget, so that one attacker
	// address cannot lock the owner out by itself; a successful login
	// empties both).
	key := "unknown:" + schema.NormalizeEmail(login)
	uid := ""
	if u != nil {
		key, uid = string(u.ID), string(u.ID)
	}
	if err := s.Limiter.Take(ctx, ruleLoginUserIP, key+"|"+v.IP); err != nil {
		metrics.Logins.WithLabelValues("rate_limited").Inc()
		s.auditOutside(ctx, "login.rate_limited", uid, nil)
		return nil, err
	}
	// Every attempt is taken from the per-login budget atomically before
	// the password is hashed, so that parallel attempts can never check
	// more passwords than the limit allows (a check now and a count after
	// the hash would let every request in flight through). A success gives
	// the budget back below.
	if err := s.Limiter.Take(ctx, ruleLoginUser, key); err != nil {
		metrics.Logins.WithLabelValues("rate_limited").Inc()
		s.auditOutside(ctx, "login.rate_limited", uid, nil)
		return nil, err
	}
	ok, rehash := false, false
	if u == nil || u.PasswordHash == "" {
		password.Burn(ctx, pw)
	} else if ok, rehash, err = password.Verify(ctx, pw, u.PasswordHash); err != nil {
		ok = false
	}
	if !ok || u.Status != useraccount.StatusACTIVE {
		reason := "wrong_password"
		switch {
		case u == nil:
			reason = "unknown_login"
		case ok:
			reason = "inactive_user"
		}
		metrics.Logins.WithLabelValues(reason).Inc()
		s.auditOutside(ctx, "login.failure", uid, map[string]any{"reason": reason})
		return nil, errBadLogin
	}
	_ = s.Limiter.Reset(ctx, ruleLoginUserIP, key+"|"+v.IP)
	_ = s.Limiter.Reset(ctx, ruleLoginUser, key)
	// Hash before the transaction: argon2 must not hold the write lock.
	newHash := ""
	if rehash {
		newHash, _ = password.Hash(ctx, pw)
	}

	c, err := s.Tx()
	if err != nil {
		return nil, err
	}
	if newHash != "" {
		if err := c.UserAccount.UpdateOneID(u.ID).SetPasswordHash(newHash).Exec(sys(ctx)); err != nil {
			return nil, err
		}
	}
	if methods := enabledMethods(u); len(methods) > 0 {
		ch, err := s.newLoginChallenge(ctx, c, u, methods)
		if err != nil {
			return nil, err
		}
		if err := audit.Record(ctx, c, audit.Entry{Action: "login.second_factor_required", ActorID: string(u.ID),
			TargetType: "UserAccount", TargetID: string(u.ID)}); err != nil {
			return nil, err
		}
		// Counted once the challenge is saved, not when it is rolled back.
		s.afterCommit(func() { metrics.Logins.WithLabelValues("second_factor_required").Inc() })
		return &LoginResult{Challenge: ch}, nil
	}
	toks, err := s.openSession(ctx, c, u, nil)
	if err != nil {
		return nil, err
	}
	// Counted once the session is saved, not when it is rolled back.
	s.afterCommit(func() { metrics.Logins.WithLabelValues("success").Inc() })
	return &LoginResult{Tokens: toks}, nil
}

// auditOutside records an event about the user userID (the target) through
// the plain client, outside the mutation's transaction: failures must be
// recorded although the mutation fails. The actor is the request's viewer
// (anonymous for a failed login), never the targeted user.
func (s *Service) auditOutside(ctx context.Context, action, userID string, changes map[string]any) {
	e := audit.Entry{Action: action, Changes: changes}
	if userID != "" {
		e.TargetType, e.TargetID = "UserAccount", userID
	}
	if err := audit.Record(ctx, s.Client, e); err != nil {
		slog.WarnContext(ctx, "could not write audit event", "action", action, "error", err.Error())
	}
}

// enabledMethods are the user's second-factor methods in preference order.
func enabledMethods(u *ent.UserAccount) []domain.SecondFactorMethod {
	var out []domain.SecondFactorMethod
	for _, m := range u.SecondFactorMethods {
		out = append(out, domain.SecondFactorMethod(m))
	}
	return out
}

// BootstrapAdmin creates the first staff ADMIN when there is no user at all.
// Without a configured password it generates one and returns it, for the
// caller to show once; that password is one-time: the admin must change it
// before doing anything else (mustChangePassword). A configured password
// (PORTIER_ADMIN_PASSWORD) was chosen by the operator and is kept.
func BootstrapAdmin(ctx context.Context, client *ent.Client, email, pw string) (created bool, generated string, err error) {
	n, err := client.UserAccount.Query().Count(sys(ctx))
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
	err = client.UserAccount.Create().
		SetEmail(schema.NormalizeEmail(email)).
		SetUsername("admin").
		SetName("Portier administrator").
		SetPasswordHash(h).
		SetPasswordChangedAt(now).
		SetEmailVerifiedAt(now).
		SetStaffRole(domain.StaffAdmin).
		SetLocale("en").
		SetMustChangePassword(generated != "").
		Exec(sys(ctx))
	if err != nil {
		return false, "", err
	}
	return true, generated, nil
}
