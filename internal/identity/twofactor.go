package identity

import (
	"cmp"
	"context"
	"crypto/subtle"
	"slices"
	"time"

	"github.com/pquerna/otp/totp"

	"portier/ent"
	"portier/ent/loginchallenge"
	"portier/ent/session"
	"portier/ent/useraccount"
	"portier/internal/apperr"
	"portier/internal/audit"
	"portier/internal/domain"
	"portier/internal/mail"
	"portier/internal/pulid"
	"portier/internal/viewer"
)

var errBadChallenge = apperr.Unauthenticated("the login step is invalid or expired; log in again")
var errBadCode = apperr.Unauthenticated("the code is wrong or expired")

// challengeMethods are the methods offered for a user's challenge.
func challengeMethods(u *ent.UserAccount) []string {
	var out []string
	for _, m := range enabledMethods(u) {
		// SMS_CODE without a verified number (one stored before numbers
		// were verified) cannot be answered: it is not offered, so the
		// login goes on with the other methods or a recovery code.
		if m == domain.MethodSMSCode && !hasVerifiedPhone(u) {
			continue
		}
		out = append(out, string(m))
	}
	if len(u.RecoveryCodeHashes) > 0 {
		out = append(out, string(domain.MethodRecoveryCode))
	}
	return out
}

// newLoginChallenge stores a LOGIN challenge; when the preferred method is
// a code, the code is sent at once.
func (s *Service) newLoginChallenge(ctx context.Context, c *ent.Client, u *ent.UserAccount, _ []domain.SecondFactorMethod) (*ent.LoginChallenge, error) {
	v := viewer.FromContext(ctx)
	now := s.Now()
	ch, err := c.LoginChallenge.Create().
		SetPurpose(loginchallenge.PurposeLOGIN).
		SetUserID(u.ID).
		SetMethods(challengeMethods(u)).
		SetExpiresAt(now.Add(ChallengeLifetime)).
		SetIP(v.IP).SetUserAgent(v.UserAgent).
		Save(sys(ctx))
	if err != nil {
		return nil, err
	}
	// The first offered method is the preferred one; a code is sent at once.
	if len(ch.Methods) > 0 && domain.SecondFactorMethod(ch.Methods[0]).IsCode() {
		if ch, err = s.sendCode(ctx, c, u, ch, domain.SecondFactorMethod(ch.Methods[0])); err != nil {
			return nil, err
		}
	}
	return ch, nil
}

// sendCode puts a fresh code on the challenge and sends it.
func (s *Service) sendCode(ctx context.Context, c *ent.Client, u *ent.UserAccount, ch *ent.LoginChallenge, m domain.SecondFactorMethod) (*ent.LoginChallenge, error) {
	code := fiveDigitCode()
	ch, err := c.LoginChallenge.UpdateOne(ch).
		SetCodeHash(hashCode(string(ch.ID), code)).
		SetCodeMethod(string(m)).
		SetCodeExpiresAt(s.Now().Add(CodeLifetime)).
		Save(sys(ctx))
	if err != nil {
		return nil, err
	}
	switch m {
	case domain.MethodEmailCode:
		err = send(ctx, c, u, u.Email, mail.LoginCode, map[string]string{"code": code})
	case domain.MethodSMSCode:
		// Only to a verified number (setPhoneNumber, verifyPhoneNumber).
		if !hasVerifiedPhone(u) {
			return nil, apperr.BadInput("method", "no verified phone number is on file for SMS codes")
		}
		err = send(ctx, c, u, u.Phone, mail.SMSLoginCode, map[string]string{"code": code})
	default:
		return nil, apperr.BadInput("method", "%s does not send codes", m)
	}
	return ch, err
}

// SendLoginCode sends (again) a code for a pending login challenge.
func (s *Service) SendLoginCode(ctx context.Context, id pulid.ID, m domain.SecondFactorMethod) error {
	ch, u, err := s.liveChallenge(ctx, id, loginchallenge.PurposeLOGIN)
	if err != nil {
		return err
	}
	if !m.IsCode() || !slices.Contains(ch.Methods, string(m)) {
		return apperr.BadInput("input.method", "%s cannot be sent for this login", m)
	}
	if err := s.Limiter.Take(ctx, ruleCodeSend, string(u.ID)); err != nil {
		return err
	}
	c, err := s.Tx()
	if err != nil {
		return err
	}
	_, err = s.sendCode(ctx, c, u, ch, m)
	return err
}

func (s *Service) liveChallenge(ctx context.Context, id pulid.ID, purpose loginchallenge.Purpose) (*ent.LoginChallenge, *ent.UserAccount, error) {
	if id.Prefix() != "chl" {
		return nil, nil, errBadChallenge
	}
	ch, err := s.Client.LoginChallenge.Get(sys(ctx), id)
	if ent.IsNotFound(err) {
		return nil, nil, errBadChallenge
	}
	if err != nil {
		return nil, nil, err
	}
	if ch.Purpose != purpose || ch.ConsumedAt != nil || !ch.ExpiresAt.After(s.Now()) {
		return nil, nil, errBadChallenge
	}
	u, err := s.Client.UserAccount.Get(sys(ctx), ch.UserID)
	if err != nil {
		return nil, nil, errBadChallenge
	}
	return ch, u, nil
}

// VerifySecondFactor completes a login. Attempts are counted per challenge
// (at most MaxCodeAttempts, atomically) and per user before the code is
// looked at; a correct answer consumes the challenge once.
func (s *Service) VerifySecondFactor(ctx context.Context, id pulid.ID, m domain.SecondFactorMethod, code string) (*Tokens, error) {
	ch, u, err := s.liveChallenge(ctx, id, loginchallenge.PurposeLOGIN)
	if err != nil {
		return nil, err
	}
	if err := s.Limiter.Take(ctx, ruleCodeUser, string(u.ID)); err != nil {
		return nil, err
	}
	n, err := s.Client.LoginChallenge.Update().
		Where(loginchallenge.ID(ch.ID), loginchallenge.ConsumedAtIsNil(), loginchallenge.AttemptsLT(MaxCodeAttempts)).
		AddAttempts(1).Save(sys(ctx))
	if err != nil {
		return nil, err
	}
	if n != 1 {
		return nil, apperr.Unauthenticated("too many wrong codes for this login; log in again")
	}
	if !slices.Contains(ch.Methods, string(m)) {
		return nil, apperr.BadInput("input.method", "%s is not enabled for this login", m)
	}
	res, err := s.checkFactor(u, ch, m, code)
	if err != nil {
		s.auditOutside(ctx, "login.second_factor_failure", string(u.ID), map[string]any{"method": string(m)})
		return nil, err
	}
	// Plain-client writes come before the transaction opens: on SQLite a
	// second writer would wait for the transaction's lock.
	_ = s.Limiter.Reset(ctx, ruleCodeUser, string(u.ID))
	c, err := s.Tx()
	if err != nil {
		return nil, err
	}
	if err := s.recordFactor(ctx, c, u, res); err != nil {
		return nil, err
	}
	// Single use: of two concurrent correct answers only one consumes.
	n, err = c.LoginChallenge.Update().
		Where(loginchallenge.ID(ch.ID), loginchallenge.ConsumedAtIsNil()).
		SetConsumedAt(s.Now()).Save(sys(ctx))
	if err != nil {
		return nil, err
	}
	if n != 1 {
		return nil, errBadChallenge
	}
	now := s.Now()
	return s.openSession(ctx, c, u, &now)
}

// factorResult is what a correct answer changes: the recovery codes left
// (when one was used) and the TOTP time step (when a TOTP code was used).
type factorResult struct {
	recoveryLeft []string
	totpStep     *int64
}

// checkFactor verifies one answer without writing anything (so that a
// failure can be audited outside the transaction before one is opened). A
// code challenge is needed for e-mail and SMS codes.
func (s *Service) checkFactor(u *ent.UserAccount, ch *ent.LoginChallenge, m domain.SecondFactorMethod, code string) (factorResult, error) {
	switch m {
	case domain.MethodEmailCode, domain.MethodSMSCode:
		if ch == nil || ch.CodeMethod != string(m) || ch.CodeExpiresAt == nil || !ch.CodeExpiresAt.After(s.Now()) {
			return factorResult{}, errBadCode
		}
		if !equalHash(hashCode(string(ch.ID), normalizeCode(code)), ch.CodeHash) {
			return factorResult{}, errBadCode
		}
		return factorResult{}, nil
	case domain.MethodTOTP:
		step, ok := totpStep(normalizeCode(code), u.TotpSecret, s.Now())
		if !ok || (u.TotpLastStep != nil && step <= *u.TotpLastStep) {
			return factorResult{}, errBadCode
		}
		return factorResult{totpStep: &step}, nil
	case domain.MethodRecoveryCode:
		h := hashToken(normalizeCode(code))
		for i, stored := range u.RecoveryCodeHashes {
			if equalHash(h, stored) {
				left := slices.Delete(slices.Clone(u.RecoveryCodeHashes), i, i+1)
				if len(left) == 0 {
					left = []string{}
				}
				return factorResult{recoveryLeft: left}, nil
			}
		}
	}
	return factorResult{}, errBadCode
}

// recordFactor stores what a correct answer used up. The update is guarded
// on the state that was checked, so a recovery code or a TOTP code works
// once even when two requests race.
func (s *Service) recordFactor(ctx context.Context, c *ent.Client, u *ent.UserAccount, r factorResult) error {
	switch {
	case r.recoveryLeft != nil:
		n, err := c.UserAccount.Update().
			Where(useraccount.ID(u.ID), useraccount.UpdatedAt(u.UpdatedAt)).
			SetRecoveryCodeHashes(r.recoveryLeft).Save(sys(ctx))
		if err != nil {
			return err
		}
		if n != 1 {
			return errBadCode
		}
		return audit.Record(ctx, c, audit.Entry{Action: "second_factor.recovery_code_used", ActorID: string(u.ID),
			TargetType: "UserAccount", TargetID: string(u.ID), Changes: map[string]any{"left": len(r.recoveryLeft)}})
	case r.totpStep != nil:
		n, err := c.UserAccount.Update().
			Where(useraccount.ID(u.ID), useraccount.Or(useraccount.TotpLastStepIsNil(), useraccount.TotpLastStepLT(*r.totpStep))).
			SetTotpLastStep(*r.totpStep).Save(sys(ctx))
		if err != nil {
			return err
		}
		if n != 1 {
			return errBadCode
		}
	}
	return nil
}

// totpStep checks a TOTP code against the current time step and one step
// either way, and returns the step it belongs to.
func totpStep(code, secret string, now time.Time) (int64, bool) {
	if secret == "" || len(code) != 6 {
		return 0, false
	}
	base := now.Unix() / 30
	for _, d := range []int64{0, -1, 1} {
		step := base + d
		want, err := totp.GenerateCodeCustom(secret, time.Unix(step*30, 0), totp.ValidateOpts{
			Period: totpOpts.Period, Digits: totpOpts.Digits, Algorithm: totpOpts.Algorithm})
		if err == nil && subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			return step, true
		}
	}
	return 0, false
}

// currentUser loads the viewer's user.
func (s *Service) currentUser(ctx context.Context) (*ent.UserAccount, error) {
	v := viewer.FromContext(ctx)
	return s.Client.UserAccount.Get(sys(ctx), pulid.ID(v.UserID))
}

// StartTotpEnrollment creates a pending TOTP secret for the viewer.
func (s *Service) StartTotpEnrollment(ctx context.Context) (secret, uri string, err error) {
	u, err := s.currentUser(ctx)
	if err != nil {
		return "", "", err
	}
	if err := s.requireFreshIfEnabled(ctx, u); err != nil {
		return "", "", err
	}
	key, err := totp.Generate(totp.GenerateOpts{Issuer: "Portier", AccountName: cmp.Or(u.Email, u.Username), Period: 30, Digits: 6})
	if err != nil {
		return "", "", err
	}
	c, err := s.Tx()
	if err != nil {
		return "", "", err
	}
	if err := c.UserAccount.UpdateOneID(u.ID).SetPendingTotpSecret(key.Secret()).Exec(sys(ctx)); err != nil {
		return "", "", err
	}
	return key.Secret(), key.URL(), nil
}

// RequestSecondFactorCode sends the viewer a code by e-mail or SMS, to
// enable that method or to confirm a second factor.
func (s *Service) RequestSecondFactorCode(ctx context.Context, m domain.SecondFactorMethod) error {
	if !m.IsCode() {
		return apperr.BadInput("method", "only EMAIL_CODE and SMS_CODE send codes")
	}
	u, err := s.currentUser(ctx)
	if err != nil {
		return err
	}
	if m == domain.MethodEmailCode && u.EmailVerifiedAt == nil {
		return apperr.BadInput("method", "verify your e-mail address first")
	}
	if m == domain.MethodSMSCode && !hasVerifiedPhone(u) {
		return apperr.BadInput("method", "verify a phone number first (setPhoneNumber, verifyPhoneNumber)")
	}
	if err := s.Limiter.Take(ctx, ruleCodeSend, string(u.ID)); err != nil {
		return err
	}
	v := viewer.FromContext(ctx)
	c, err := s.Tx()
	if err != nil {
		return err
	}
	sid := pulid.ID(v.SessionID)
	q := c.LoginChallenge.Create().
		SetPurpose(loginchallenge.PurposeSTEP_UP).
		SetUserID(u.ID).
		SetSessionID(sid).
		SetMethods([]string{string(m)}).
		SetExpiresAt(s.Now().Add(ChallengeLifetime)).
		SetIP(v.IP).SetUserAgent(v.UserAgent)
	if m == domain.MethodSMSCode {
		q.SetPhone(u.Phone) // the code proves this number, no other
	}
	ch, err := q.Save(sys(ctx))
	if err != nil {
		return err
	}
	_, err = s.sendCode(ctx, c, u, ch, m)
	return err
}

// stepUpChallenge finds the newest live step-up challenge of the viewer's
// session for a code method, counting the attempt.
func (s *Service) stepUpChallenge(ctx context.Context, u *ent.UserAccount, m domain.SecondFactorMethod) (*ent.LoginChallenge, error) {
	v := viewer.FromContext(ctx)
	ch, err := s.Client.LoginChallenge.Query().
		Where(loginchallenge.UserID(u.ID), loginchallenge.SessionID(pulid.ID(v.SessionID)),
			loginchallenge.PurposeEQ(loginchallenge.PurposeSTEP_UP), loginchallenge.CodeMethod(string(m)),
			loginchallenge.ConsumedAtIsNil(), loginchallenge.ExpiresAtGT(s.Now())).
		Order(ent.Desc(loginchallenge.FieldCreatedAt)).
		First(sys(ctx))
	if ent.IsNotFound(err) {
		return nil, apperr.BadInput("input.code", "request a code with requestSecondFactorCode first")
	}
	if err != nil {
		return nil, err
	}
	n, err := s.Client.LoginChallenge.Update().
		Where(loginchallenge.ID(ch.ID), loginchallenge.ConsumedAtIsNil(), loginchallenge.AttemptsLT(MaxCodeAttempts)).
		AddAttempts(1).Save(sys(ctx))
	if err != nil {
		return nil, err
	}
	if n != 1 {
		return nil, apperr.Unauthenticated("too many wrong codes; request a new one")
	}
	return ch, nil
}

func (s *Service) consume(ctx context.Context, c *ent.Client, ch *ent.LoginChallenge) error {
	if ch == nil {
		return nil
	}
	n, err := c.LoginChallenge.Update().Where(loginchallenge.ID(ch.ID), loginchallenge.ConsumedAtIsNil()).
		SetConsumedAt(s.Now()).Save(sys(ctx))
	if err != nil {
		return err
	}
	if n != 1 {
		return errBadCode
	}
	return nil
}

// requireFreshIfEnabled demands a second factor proven in this session in
// the last FreshSecondFactor when the user has any method enabled.
func (s *Service) requireFreshIfEnabled(ctx context.Context, u *ent.UserAccount) error {
	if len(u.SecondFactorMethods) == 0 {
		return nil
	}
	return s.requireFresh(ctx)
}

func (s *Service) requireFresh(ctx context.Context) error {
	v := viewer.FromContext(ctx)
	sess, err := s.Client.Session.Get(sys(ctx), pulid.ID(v.SessionID))
	if err != nil {
		return err
	}
	if sess.SecondFactorAt == nil || s.Now().Sub(*sess.SecondFactorAt) > FreshSecondFactor {
		return apperr.ForbiddenReason("FRESH_SECOND_FACTOR_REQUIRED",
			"confirm a second factor first (confirmSecondFactor), then try again within 15 minutes")
	}
	return nil
}

// EnableTwoFactor enables a method after the code proved it. Enabling the
// first method also creates the recovery codes, returned only now.
func (s *Service) EnableTwoFactor(ctx context.Context, m domain.SecondFactorMethod, code string, pw *string) (*ent.UserAccount, []string, error) {
	u, err := s.currentUser(ctx)
	if err != nil {
		return nil, nil, err
	}
	if len(u.SecondFactorMethods) == 0 {
		if pw == nil {
			return nil, nil, apperr.BadInput("input.password", "enter your current password to enable two-factor login")
		}
		if err := s.checkPassword(ctx, u, *pw, "input.password"); err != nil {
			return nil, nil, err
		}
	}
	if m == domain.MethodRecoveryCode {
		return nil, nil, apperr.BadInput("input.method", "recovery codes come with the first enabled method")
	}
	if slices.Contains(u.SecondFactorMethods, string(m)) {
		return nil, nil, apperr.Conflict("input.method", "%s is already enabled", m)
	}
	if m == domain.MethodSMSCode && !hasVerifiedPhone(u) {
		return nil, nil, apperr.BadInput("input.method", "verify a phone number first (setPhoneNumber, verifyPhoneNumber)")
	}
	if err := s.requireFreshIfEnabled(ctx, u); err != nil {
		return nil, nil, err
	}
	if err := s.Limiter.Take(ctx, ruleCodeUser, string(u.ID)); err != nil {
		return nil, nil, err
	}
	var ch *ent.LoginChallenge
	var enrolStep *int64 // the enrolment code is used up like any other
	switch m {
	case domain.MethodTOTP:
		step, ok := totpStep(normalizeCode(code), u.PendingTotpSecret, s.Now())
		if !ok {
			return nil, nil, errBadCode
		}
		enrolStep = &step
	default:
		if ch, err = s.stepUpChallenge(ctx, u, m); err != nil {
			return nil, nil, err
		}
		if _, err := s.checkFactor(u, ch, m, code); err != nil {
			return nil, nil, err
		}
		if m == domain.MethodSMSCode && ch.Phone != u.Phone {
			// The code went to a number the user has changed since.
			return nil, nil, errBadCode
		}
	}
	c, err := s.Tx()
	if err != nil {
		return nil, nil, err
	}
	if err := s.consume(ctx, c, ch); err != nil {
		return nil, nil, err
	}
	upd := c.UserAccount.UpdateOneID(u.ID).SetSecondFactorMethods(append(slices.Clone(u.SecondFactorMethods), string(m)))
	if m == domain.MethodSMSCode {
		// Guarded: the number proven must still be the verified one
		// (removePhoneNumber or a new number in between fail this).
		upd.Where(useraccount.Phone(u.Phone), useraccount.PhoneVerifiedAtNotNil())
	}
	if m == domain.MethodTOTP {
		upd.SetTotpSecret(u.PendingTotpSecret).SetPendingTotpSecret("").SetNillableTotpLastStep(enrolStep)
	}
	var codes []string
	if len(u.RecoveryCodeHashes) == 0 {
		var hashes []string
		codes, hashes = newRecoveryCodes()
		upd.SetRecoveryCodeHashes(hashes)
	}
	u, err = upd.Save(sys(ctx))
	if ent.IsNotFound(err) {
		return nil, nil, errBadCode
	}
	if err != nil {
		return nil, nil, err
	}
	// Proving the new method counts as a fresh second factor.
	if err := c.Session.Update().Where(session.ID(pulid.ID(viewer.FromContext(ctx).SessionID))).
		SetSecondFactorAt(s.Now()).Exec(sys(ctx)); err != nil {
		return nil, nil, err
	}
	return u, codes, s.factorChanged(ctx, c, u, "second_factor.enabled", m)
}

func newRecoveryCodes() (codes, hashes []string) {
	for i := 0; i < RecoveryCodeCount; i++ {
		code := recoveryCode()
		codes = append(codes, code)
		hashes = append(hashes, hashToken(normalizeCode(code)))
	}
	return codes, hashes
}

func (s *Service) factorChanged(ctx context.Context, c *ent.Client, u *ent.UserAccount, action string, m domain.SecondFactorMethod) error {
	if err := audit.Record(ctx, c, audit.Entry{Action: action, TargetType: "UserAccount", TargetID: string(u.ID),
		Changes: map[string]any{"method": string(m), "methods": u.SecondFactorMethods}}); err != nil {
		return err
	}
	return send(ctx, c, u, u.Email, mail.SecondFactorChanged, map[string]string{"change": action + " " + string(m)})
}

// DisableTwoFactor disables a method; requires a fresh second factor.
// Disabling the last method also drops the recovery codes.
func (s *Service) DisableTwoFactor(ctx context.Context, m domain.SecondFactorMethod) (*ent.UserAccount, error) {
	u, err := s.currentUser(ctx)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(u.SecondFactorMethods, string(m)) {
		return nil, apperr.BadInput("method", "%s is not enabled", m)
	}
	if err := s.requireFresh(ctx); err != nil {
		return nil, err
	}
	c, err := s.Tx()
	if err != nil {
		return nil, err
	}
	left := slices.DeleteFunc(slices.Clone(u.SecondFactorMethods), func(x string) bool { return x == string(m) })
	upd := c.UserAccount.UpdateOneID(u.ID).SetSecondFactorMethods(left)
	if m == domain.MethodTOTP {
		upd.SetTotpSecret("")
	}
	if len(left) == 0 {
		upd.ClearRecoveryCodeHashes()
	}
	if u, err = upd.Save(sys(ctx)); err != nil {
		return nil, err
	}
	return u, s.factorChanged(ctx, c, u, "second_factor.disabled", m)
}

// ConfirmSecondFactor proves a second factor in the current session.
func (s *Service) ConfirmSecondFactor(ctx context.Context, m domain.SecondFactorMethod, code string) error {
	u, err := s.currentUser(ctx)
	if err != nil {
		return err
	}
	if m != domain.MethodRecoveryCode && !slices.Contains(u.SecondFactorMethods, string(m)) {
		return apperr.BadInput("input.method", "%s is not enabled", m)
	}
	if err := s.Limiter.Take(ctx, ruleCodeUser, string(u.ID)); err != nil {
		return err
	}
	var ch *ent.LoginChallenge
	if m.IsCode() {
		if ch, err = s.stepUpChallenge(ctx, u, m); err != nil {
			return err
		}
	}
	res, err := s.checkFactor(u, ch, m, code)
	if err != nil {
		s.auditOutside(ctx, "second_factor.confirm_failure", string(u.ID), map[string]any{"method": string(m)})
		return err
	}
	c, err := s.Tx()
	if err != nil {
		return err
	}
	if err := s.recordFactor(ctx, c, u, res); err != nil {
		return err
	}
	if err := s.consume(ctx, c, ch); err != nil {
		return err
	}
	v := viewer.FromContext(ctx)
	if err := c.Session.UpdateOneID(pulid.ID(v.SessionID)).SetSecondFactorAt(s.Now()).Exec(sys(ctx)); err != nil {
		return err
	}
	return audit.Record(ctx, c, audit.Entry{Action: "second_factor.confirmed", TargetType: "UserAccount",
		TargetID: string(u.ID), Changes: map[string]any{"method": string(m)}})
}

// RegenerateRecoveryCodes replaces the recovery codes; requires a fresh
// second factor.
func (s *Service) RegenerateRecoveryCodes(ctx context.Context) (*ent.UserAccount, []string, error) {
	u, err := s.currentUser(ctx)
	if err != nil {
		return nil, nil, err
	}
	if len(u.SecondFactorMethods) == 0 {
		return nil, nil, apperr.BadInput("", "enable a second-factor method first")
	}
	if err := s.requireFresh(ctx); err != nil {
		return nil, nil, err
	}
	c, err := s.Tx()
	if err != nil {
		return nil, nil, err
	}
	codes, hashes := newRecoveryCodes()
	if u, err = c.UserAccount.UpdateOneID(u.ID).SetRecoveryCodeHashes(hashes).Save(sys(ctx)); err != nil {
		return nil, nil, err
	}
	return u, codes, s.factorChanged(ctx, c, u, "second_factor.recovery_codes_regenerated", domain.MethodRecoveryCode)
}
