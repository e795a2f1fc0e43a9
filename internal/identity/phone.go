package identity

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"time"

	"portier/ent"
	"portier/ent/loginchallenge"
	"portier/ent/useraccount"
	"portier/internal/apperr"
	"portier/internal/audit"
	"portier/internal/domain"
	"portier/internal/mail"
	"portier/internal/ratelimit"
	"portier/internal/viewer"
)

// The user's own mobile number (issue 8 item 9). A new number waits in
// pending_phone until the 5-digit code sent to it by SMS comes back
// (verifyPhoneNumber); only then does it become phone, with
// phone_verified_at, and only a verified number gets SMS codes. The code
// lives on a PHONE_VERIFY LoginChallenge bound to the number: stored as a
// salted hash, valid CodeLifetime, MaxCodeAttempts tries, after which the
// pending change is void. A number stored before verification existed has
// no phone_verified_at and counts as unverified: SMS codes are not sent to
// it until the user sets and verifies it.

// rulePhoneSend limits codes sent to one number, whichever accounts ask:
// nobody turns Portier into an SMS cannon against a stranger's phone.
var rulePhoneSend = ratelimit.Rule{Name: "codesend:phone", Limit: 5, Window: time.Hour}

// ReasonTooManyAttempts marks a code refused because its tries are used up.
const ReasonTooManyAttempts = "TOO_MANY_ATTEMPTS"

// ReasonSMSCodeEnabled marks a phone removal refused while SMS_CODE is on.
const ReasonSMSCodeEnabled = "SMS_CODE_ENABLED"

var phonePattern = regexp.MustCompile(`^\+[1-9][0-9]{7,14}$`)

// NormalizePhone returns phone in E.164 ("+" and 8 to 15 digits, the first
// not 0) with spaces and dashes removed, and whether it is one.
func NormalizePhone(phone string) (string, bool) {
	p := strings.NewReplacer(" ", "", "-", "", "\u00a0", "").Replace(strings.TrimSpace(phone))
	return p, phonePattern.MatchString(p)
}

// MaskPhone shows only the last 3 digits of a number ("…678"), for audit
// events and notices.
func MaskPhone(phone string) string {
	if phone == "" {
		return ""
	}
	if len(phone) <= 3 {
		return "…"
	}
	return "…" + phone[len(phone)-3:]
}

// hasVerifiedPhone reports whether SMS codes may go to u's phone.
func hasVerifiedPhone(u *ent.UserAccount) bool {
	return u.Phone != "" && u.PhoneVerifiedAt != nil
}

// PhoneState is the viewer's numbers after a change.
type PhoneState struct {
	Phone           string
	PhoneVerifiedAt *time.Time
	PendingPhone    string
}

func phoneState(u *ent.UserAccount) *PhoneState {
	return &PhoneState{Phone: u.Phone, PhoneVerifiedAt: u.PhoneVerifiedAt, PendingPhone: u.PendingPhone}
}

// SetPhoneNumber stores a new number as pending and sends a code to it by
// SMS. It needs the password and, with two-factor login on, a fresh second
// factor. A newer call replaces the code (and the pending number).
func (s *Service) SetPhoneNumber(ctx context.Context, phone, pw string) (*PhoneState, error) {
	u, err := s.currentUser(ctx)
	if err != nil {
		return nil, err
	}
	// The format is checked before the password: a typo costs no try.
	p, ok := NormalizePhone(phone)
	if !ok {
		return nil, apperr.BadInput("input.phone", "a mobile number in international format is required: + and 8 to 15 digits, e.g. +491511234567")
	}
	if p == u.Phone && hasVerifiedPhone(u) {
		return nil, apperr.BadInput("input.phone", "this is already your verified number")
	}
	if err := s.checkPassword(ctx, u, pw, "input.password"); err != nil {
		return nil, err
	}
	if err := s.requireFreshIfEnabled(ctx, u); err != nil {
		return nil, err
	}
	if err := s.Limiter.Take(ctx, ruleCodeSend, string(u.ID)); err != nil {
		return nil, err
	}
	if err := s.Limiter.Take(ctx, rulePhoneSend, p); err != nil {
		return nil, err
	}
	v := viewer.FromContext(ctx)
	now := s.Now()
	c, err := s.Tx()
	if err != nil {
		return nil, err
	}
	// An older code stops working: only the newest number can be verified.
	if err := c.LoginChallenge.Update().
		Where(loginchallenge.UserID(u.ID), loginchallenge.PurposeEQ(loginchallenge.PurposePHONE_VERIFY), loginchallenge.ConsumedAtIsNil()).
		SetConsumedAt(now).Exec(sys(ctx)); err != nil {
		return nil, err
	}
	if u, err = c.UserAccount.UpdateOneID(u.ID).SetPendingPhone(p).Save(sys(ctx)); err != nil {
		return nil, err
	}
	ch, err := c.LoginChallenge.Create().
		SetPurpose(loginchallenge.PurposePHONE_VERIFY).
		SetUserID(u.ID).
		SetMethods([]string{string(domain.MethodSMSCode)}).
		SetPhone(p).
		SetExpiresAt(now.Add(CodeLifetime)).
		SetIP(v.IP).SetUserAgent(v.UserAgent).
		Save(sys(ctx))
	if err != nil {
		return nil, err
	}
	code := fiveDigitCode()
	if err := c.LoginChallenge.UpdateOne(ch).
		SetCodeHash(hashCode(string(ch.ID), code)).
		SetCodeMethod(string(domain.MethodSMSCode)).
		SetCodeExpiresAt(now.Add(CodeLifetime)).Exec(sys(ctx)); err != nil {
		return nil, err
	}
	if err := send(ctx, c, u, p, mail.SMSPhoneVerify, map[string]string{"code": code}); err != nil {
		return nil, err
	}
	if err := audit.Record(ctx, c, audit.Entry{Action: "user.phone_change_requested", TargetType: "UserAccount",
		TargetID: string(u.ID), Changes: map[string]any{"pendingPhone": MaskPhone(p)}}); err != nil {
		return nil, err
	}
	return phoneState(u), nil
}

// VerifyPhoneNumber makes the pending number the viewer's phone when code
// is the one sent to it. Tries are counted per user (rate limit) and per
// code (MaxCodeAttempts, atomically) before the code is compared; when the
// tries are used up the pending change is void.
func (s *Service) VerifyPhoneNumber(ctx context.Context, code string) (*PhoneState, error) {
	u, err := s.currentUser(ctx)
	if err != nil {
		return nil, err
	}
	if u.PendingPhone == "" {
		return nil, apperr.BadInput("code", "no phone number change is pending: start one with setPhoneNumber")
	}
	if err := s.Limiter.Take(ctx, ruleCodeUser, string(u.ID)); err != nil {
		return nil, err
	}
	now := s.Now()
	ch, err := s.Client.LoginChallenge.Query().
		Where(loginchallenge.UserID(u.ID), loginchallenge.PurposeEQ(loginchallenge.PurposePHONE_VERIFY),
			loginchallenge.Phone(u.PendingPhone), loginchallenge.ConsumedAtIsNil()).
		Order(ent.Desc(loginchallenge.FieldCreatedAt)).
		First(sys(ctx))
	if ent.IsNotFound(err) {
		return nil, apperr.BadInput("code", "the code is wrong or expired: request a new one with setPhoneNumber")
	}
	if err != nil {
		return nil, err
	}
	if !ch.ExpiresAt.After(now) || ch.CodeExpiresAt == nil || !ch.CodeExpiresAt.After(now) {
		return nil, apperr.BadInput("code", "the code is wrong or expired: request a new one with setPhoneNumber")
	}
	// Plain-client writes (attempts, voiding) happen outside the mutation's
	// transaction: a wrong code fails the mutation, and they must stay.
	n, err := s.Client.LoginChallenge.Update().
		Where(loginchallenge.ID(ch.ID), loginchallenge.ConsumedAtIsNil(), loginchallenge.AttemptsLT(MaxCodeAttempts)).
		AddAttempts(1).Save(sys(ctx))
	if err != nil {
		return nil, err
	}
	if n != 1 {
		return nil, s.voidPhoneChange(ctx, u, ch)
	}
	if !equalHash(hashCode(string(ch.ID), normalizeCode(code)), ch.CodeHash) {
		// The count after this try (concurrent tries included): the try
		// that uses up the last one voids the change at once.
		cur, err := s.Client.LoginChallenge.Get(sys(ctx), ch.ID)
		if err != nil {
			return nil, err
		}
		if cur.Attempts >= MaxCodeAttempts {
			return nil, s.voidPhoneChange(ctx, u, ch)
		}
		s.auditOutside(ctx, "user.phone_verify_failure", string(u.ID), map[string]any{"pendingPhone": MaskPhone(ch.Phone)})
		return nil, apperr.BadInput("code", "the code is wrong or expired")
	}
	_ = s.Limiter.Reset(ctx, ruleCodeUser, string(u.ID))
	c, err := s.Tx()
	if err != nil {
		return nil, err
	}
	if err := s.consume(ctx, c, ch); err != nil {
		return nil, apperr.BadInput("code", "the code is wrong or expired")
	}
	// Guarded: a newer setPhoneNumber (or a removal) in between wins.
	k, err := c.UserAccount.Update().
		Where(useraccount.ID(u.ID), useraccount.PendingPhone(ch.Phone)).
		SetPhone(ch.Phone).SetPhoneVerifiedAt(now).ClearPendingPhone().Save(sys(ctx))
	if err != nil {
		return nil, err
	}
	if k != 1 {
		return nil, apperr.BadInput("code", "the code is wrong or expired: request a new one with setPhoneNumber")
	}
	changes := map[string]any{"phone": MaskPhone(ch.Phone)}
	if u.Phone != "" && u.Phone != ch.Phone {
		changes["previousPhone"] = MaskPhone(u.Phone)
	}
	if err := audit.Record(ctx, c, audit.Entry{Action: "user.phone_verified", TargetType: "UserAccount",
		TargetID: string(u.ID), Changes: changes}); err != nil {
		return nil, err
	}
	if u, err = c.UserAccount.Get(sys(ctx), u.ID); err != nil {
		return nil, err
	}
	if err := send(ctx, c, u, u.Email, mail.PhoneChanged, map[string]string{"phone": MaskPhone(u.Phone)}); err != nil {
		return nil, err
	}
	return phoneState(u), nil
}

// voidPhoneChange ends a pending change whose code ran out of tries,
// through the plain client (the mutation fails), and says so.
func (s *Service) voidPhoneChange(ctx context.Context, u *ent.UserAccount, ch *ent.LoginChallenge) error {
	if err := s.Client.LoginChallenge.Update().Where(loginchallenge.ID(ch.ID), loginchallenge.ConsumedAtIsNil()).
		SetConsumedAt(s.Now()).Exec(sys(ctx)); err != nil {
		return err
	}
	k, err := s.Client.UserAccount.Update().Where(useraccount.ID(u.ID), useraccount.PendingPhone(ch.Phone)).
		ClearPendingPhone().Save(sys(ctx))
	if err != nil {
		return err
	}
	if k == 1 {
		s.auditOutside(ctx, "user.phone_change_voided", string(u.ID),
			map[string]any{"pendingPhone": MaskPhone(ch.Phone), "reason": "too many wrong codes"})
	}
	e := apperr.BadInput("code", "too many wrong codes: the change is void; start again with setPhoneNumber")
	e.Reason = ReasonTooManyAttempts
	return e
}

// RemovePhoneNumber clears the viewer's phone and any pending change. It is
// refused while SMS_CODE is enabled (the second factor would have nowhere
// to go).
func (s *Service) RemovePhoneNumber(ctx context.Context, pw string) (*PhoneState, error) {
	u, err := s.currentUser(ctx)
	if err != nil {
		return nil, err
	}
	if u.Phone == "" && u.PendingPhone == "" {
		return nil, apperr.BadInput("", "no phone number is on file")
	}
	if slices.Contains(u.SecondFactorMethods, string(domain.MethodSMSCode)) {
		e := apperr.BadInput("", "SMS codes are an enabled second factor: disable SMS_CODE first")
		e.Reason = ReasonSMSCodeEnabled
		return nil, e
	}
	if err := s.checkPassword(ctx, u, pw, "password"); err != nil {
		return nil, err
	}
	if err := s.requireFreshIfEnabled(ctx, u); err != nil {
		return nil, err
	}
	c, err := s.Tx()
	if err != nil {
		return nil, err
	}
	// Guarded on the row as checked: SMS_CODE enabled in between (with a
	// code requested before) makes this fail instead of leaving an enabled
	// method without a number.
	k, err := c.UserAccount.Update().Where(useraccount.ID(u.ID), useraccount.UpdatedAt(u.UpdatedAt)).
		ClearPhone().ClearPhoneVerifiedAt().ClearPendingPhone().Save(sys(ctx))
	if err != nil {
		return nil, err
	}
	if k != 1 {
		return nil, apperr.Conflict("", "the account changed meanwhile; try again")
	}
	if err := c.LoginChallenge.Update().
		Where(loginchallenge.UserID(u.ID), loginchallenge.PurposeEQ(loginchallenge.PurposePHONE_VERIFY), loginchallenge.ConsumedAtIsNil()).
		SetConsumedAt(s.Now()).Exec(sys(ctx)); err != nil {
		return nil, err
	}
	changes := map[string]any{"previousPhone": MaskPhone(u.Phone)}
	if u.PendingPhone != "" {
		changes["previousPendingPhone"] = MaskPhone(u.PendingPhone)
	}
	if err := audit.Record(ctx, c, audit.Entry{Action: "user.phone_removed", TargetType: "UserAccount",
		TargetID: string(u.ID), Changes: changes}); err != nil {
		return nil, err
	}
	if u.Phone != "" {
		if err := send(ctx, c, u, u.Email, mail.PhoneChanged, nil); err != nil {
			return nil, err
		}
	}
	return &PhoneState{}, nil
}
