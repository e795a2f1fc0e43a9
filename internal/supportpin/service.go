package supportpin

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"time"

	"portier/ent"
	"portier/ent/contact"
	"portier/ent/customeraccount"
	"portier/ent/roleassignment"
	"portier/ent/schema"
	"portier/ent/scopedlogin"
	"portier/ent/supportauthorization"
	"portier/ent/supportpinstate"
	"portier/ent/useraccount"
	"portier/internal/apperr"
	"portier/internal/audit"
	"portier/internal/authorizations"
	"portier/internal/authz"
	"portier/internal/domain"
	"portier/internal/notify"
	"portier/internal/pulid"
	"portier/internal/ratelimit"
	"portier/internal/viewer"
)

// Service runs the support PIN and support desk operations.
//
// Client is the plain client. Tx returns the mutation's transaction (only
// rotateSupportPin uses it). The desk's checks (VerifyPIN, AuthorizeRequest)
// write only through the plain client — the rate-limit bucket, the audit
// event, the alert mail — because a refused check must stay counted,
// audited and told although the request fails; they never open the
// transaction (graph/tx.go lists them as plain writers).
type Service struct {
	Client  *ent.Client
	Tx      func() (*ent.Client, error)
	Key     []byte
	Limiter *ratelimit.Limiter
	Now     func() time.Time
}

// Limits of the desk's checks, per customer number (also for numbers that
// do not exist, so that the limit tells nothing about existence).
var (
	// RuleFailedChecks: 5 failed checks in 15 minutes; the next is refused.
	// Every check takes one attempt before comparing, and a match gives it
	// back, so that no more than 5 wrong PINs are ever compared in a
	// window, also when checks run in parallel.
	RuleFailedChecks = ratelimit.Rule{Name: "supportpin:number", Limit: 5, Window: 15 * time.Minute}
	// ruleAlert lets one alert mail out per window of refusals.
	ruleAlert = ratelimit.Rule{Name: "supportpin:alert", Limit: 1, Window: 15 * time.Minute}
)

func sys(ctx context.Context) context.Context { return viewer.SystemContext(ctx) }

// ViewerLogin is the login of the request's principal whose PIN it may
// see: a user signed in with its own session. API keys never see a PIN
// (the PIN proves the person, a key is not one).
//
// Scoped logins: their principal comes with the scoped-login branch; wire
// it here as LoginRef{Kind: KindScopedLogin, ID: <the scoped login's ID>}.
func ViewerLogin(ctx context.Context) (LoginRef, error) {
	v := viewer.FromContext(ctx)
	switch {
	case v.Kind == viewer.User && v.UserID != "":
		return LoginRef{Kind: KindUser, ID: v.UserID}, nil
	case v.Kind == viewer.ScopedLogin && v.ScopedLoginID != "":
		return LoginRef{Kind: KindScopedLogin, ID: v.ScopedLoginID}, nil
	case v.Kind == viewer.Anonymous:
		return LoginRef{}, &apperr.Error{Code: apperr.CodeUnauthenticated, Message: "log in first"}
	}
	return LoginRef{}, apperr.Forbidden("only a person's own login has a support PIN; API keys cannot read it")
}

// Shown is a PIN with the end of its validity.
type Shown struct {
	PIN        string
	ValidUntil time.Time
}

// now is the clock at the databases' precision (microseconds), so that a state
// written and read back derives the same PIN.
func (s *Service) now() time.Time { return s.Now().UTC().Truncate(time.Microsecond) }

// Show returns the current PIN of ref, creating its state on first use
// (through the plain client: a query has no transaction; two first reads
// in parallel create one row, the loser reads the winner's).
func (s *Service) Show(ctx context.Context, ref LoginRef) (Shown, error) {
	st, err := s.loadOrCreate(ctx, s.Client, ref)
	if err != nil {
		return Shown{}, err
	}
	pin, until := Current(s.Key, ref, stateOf(st), s.now())
	return Shown{PIN: pin, ValidUntil: until}, nil
}

// Rotate ends the current PIN of ref at once: the counter goes up by one
// (an atomic increment, so parallel rotations each count) and the 7 days
// start again now. Audited.
func (s *Service) Rotate(ctx context.Context, ref LoginRef) (Shown, error) {
	// The state is created, if need be, before the transaction opens and
	// through the plain client, like Show does: a parallel first read then
	// costs a retried read, not an aborted transaction.
	st, err := s.loadOrCreate(ctx, s.Client, ref)
	if err != nil {
		return Shown{}, err
	}
	c, err := s.Tx()
	if err != nil {
		return Shown{}, err
	}
	now := s.now()
	st, err = c.SupportPinState.UpdateOneID(st.ID).AddCounter(1).SetRotatedAt(now).Save(sys(ctx))
	if err != nil {
		return Shown{}, err
	}
	target := "UserAccount"
	var acct pulid.ID
	if ref.Kind == KindScopedLogin {
		target = "ScopedLogin"
		if sl, err := c.ScopedLogin.Get(sys(ctx), pulid.ID(ref.ID)); err == nil {
			acct = sl.CustomerAccountID
		}
	}
	if err := audit.Record(ctx, c, audit.Entry{Action: "supportpin.rotated", AccountID: acct, TargetType: target, TargetID: ref.ID}); err != nil {
		return Shown{}, err
	}
	pin, until := Current(s.Key, ref, stateOf(st), now)
	return Shown{PIN: pin, ValidUntil: until}, nil
}

func stateOf(st *ent.SupportPinState) State {
	return State{Nonce: st.Nonce, Counter: st.Counter, RotatedAt: st.RotatedAt}
}

// loadOrCreate reads the state of ref, creating it (counter 0, rotated
// now, a fresh random nonce) when there is none.
func (s *Service) loadOrCreate(ctx context.Context, c *ent.Client, ref LoginRef) (*ent.SupportPinState, error) {
	where := supportpinstate.UserID(pulid.ID(ref.ID))
	if ref.Kind == KindScopedLogin {
		where = supportpinstate.ScopedLoginID(pulid.ID(ref.ID))
	}
	for attempt := 0; ; attempt++ {
		st, err := c.SupportPinState.Query().Where(where).Only(sys(ctx))
		if err == nil || !ent.IsNotFound(err) {
			return st, err
		}
		nonce := make([]byte, 16)
		if _, err := rand.Read(nonce); err != nil {
			return nil, err
		}
		q := c.SupportPinState.Create().SetNonce(hex.EncodeToString(nonce)).SetRotatedAt(s.now())
		if ref.Kind == KindScopedLogin {
			q.SetScopedLoginID(pulid.ID(ref.ID))
		} else {
			q.SetUserID(pulid.ID(ref.ID))
		}
		st, err = q.Save(sys(ctx))
		if ent.IsConstraintError(err) && attempt == 0 {
			continue // created in parallel: read that one
		}
		return st, err
	}
}

// ---------------------------------------------------------------- the desk

// Caller is who a support caller turned out to be.
type Caller struct {
	Ref            LoginRef
	Contact        *ent.Contact // the user's contact on the account
	User           *ent.UserAccount
	ScopedLogin    *ent.ScopedLogin // with its resource loaded
	Roles          []domain.Role    // the contact's roles in force now
	Authorizations []*ent.SupportAuthorization
}

// Verification is the answer of VerifyPIN: Account and Caller are nil
// without a match.
type Verification struct {
	Account *ent.CustomerAccount
	Caller  *Caller
}

// VerifyPIN answers who is calling: the one login of the customer
// account whose current PIN is pin, or no match. See check.
func (s *Service) VerifyPIN(ctx context.Context, number, pin string) (*Verification, error) {
	pin, ok := Normalize(pin)
	if !ok {
		return nil, apperr.BadInput("input.pin", "a support PIN has %d digits", Digits)
	}
	acct, err := s.account(ctx, number)
	if err != nil {
		return nil, err
	}
	caller, outcome, err := s.check(ctx, number, acct, pin)
	if err != nil {
		return nil, err
	}
	if acct != nil {
		changes := map[string]any{"customerNumber": acct.Number, "outcome": outcome}
		if caller != nil {
			changes["login"] = string(caller.Ref.Kind) + ":" + caller.Ref.ID
		}
		if err := audit.Record(ctx, s.Client, audit.Entry{Action: "supportpin.verified", AccountID: acct.ID,
			TargetType: "CustomerAccount", TargetID: string(acct.ID), Changes: changes}); err != nil {
			return nil, err
		}
	}
	if caller == nil {
		return &Verification{}, nil
	}
	return &Verification{Account: acct, Caller: caller}, nil
}

// account resolves the customer number for a desk check and decides
// whether the viewer may check it at all: staff SUPPORT and ADMIN may check
// any number (an unknown or deleted one then simply never matches); SALES
// only the accounts assigned to it, which is the evaluator's answer to
// "authorizations:read on this account" — any other number, known or not,
// is FORBIDDEN alike. nil means no such (usable) account.
func (s *Service) account(ctx context.Context, number string) (*ent.CustomerAccount, error) {
	n := schema.NormalizeCustomerNumber(number)
	if n == "" || len(n) > 64 {
		return nil, apperr.BadInput("input.customerNumber", "a customer number is required")
	}
	v := viewer.FromContext(ctx)
	// Read as Portier: the desk needs the account whatever its consent,
	// and the viewer's right to check it is decided right below.
	acct, err := s.Client.CustomerAccount.Query().
		Where(customeraccount.Number(n), customeraccount.StatusNEQ(customeraccount.StatusDELETED)).
		Only(sys(ctx))
	if ent.IsNotFound(err) {
		acct, err = nil, nil
	}
	if err != nil {
		return nil, err
	}
	if v.HasStaffRole(domain.StaffSupport) {
		return acct, nil
	}
	if acct != nil && v.Access != nil {
		perms, err := v.Access.Permissions(ctx, string(acct.ID))
		if err != nil {
			return nil, err
		}
		if slices.Contains(perms, domain.PermAuthorizationsRead) {
			return acct, nil
		}
	}
	return nil, apperr.ForbiddenReason("NOT_ASSIGNED", "the support desk checks of this customer number are for staff SUPPORT, or the account's account manager")
}

// Outcomes of a PIN check, as audited.
const (
	OutcomeMatch       = "MATCH"
	OutcomeNoMatch     = "NO_MATCH"
	OutcomeAmbiguous   = "AMBIGUOUS"
	OutcomeRateLimited = "RATE_LIMITED"
)

// check compares pin with the current PIN of every login of acct (nil:
// an unknown number, checked against no login with the same statements).
//
// Order: one attempt is taken from the number's bucket first (refused:
// audited, the admins mailed once per window, RATE_LIMITED); then every
// login's PIN is derived and compared in constant time, without stopping
// at a match; exactly one match gives the attempt back. Work per check is
// four queries and one HMAC per login of the account that has shown its
// PIN at least once (a login that never did has none to give): fine up to
// thousands of logins (≈ 1 µs per HMAC).
func (s *Service) check(ctx context.Context, number string, acct *ent.CustomerAccount, pin string) (*Caller, string, error) {
	key := "number:" + schema.NormalizeCustomerNumber(number)
	if err := s.Limiter.Take(ctx, RuleFailedChecks, key); err != nil {
		var ae *apperr.Error
		if errors.As(err, &ae) && ae.Code == apperr.CodeRateLimited && acct != nil {
			if err := s.refused(ctx, acct, ae); err != nil {
				return nil, "", err
			}
		}
		return nil, "", err
	}
	id := pulid.ID("")
	if acct != nil {
		id = acct.ID
	}
	now := s.now()
	cands, err := s.candidates(ctx, id)
	if err != nil {
		return nil, "", err
	}
	matches := 0
	var hit *candidate
	for i := range cands {
		cur, _ := Current(s.Key, cands[i].ref, cands[i].state, now)
		if subtle.ConstantTimeCompare([]byte(cur), []byte(pin)) == 1 {
			matches++
			hit = &cands[i]
		}
	}
	switch {
	case matches == 1:
		if err := s.Limiter.Refund(ctx, RuleFailedChecks, key); err != nil {
			return nil, "", err
		}
		caller, err := s.callerOf(ctx, hit, now, acct)
		return caller, OutcomeMatch, err
	case matches > 1:
		// Two logins share the PIN: the desk cannot tell who calls. Each
		// of them rotates and tries again.
		return nil, OutcomeAmbiguous, nil
	}
	return nil, OutcomeNoMatch, nil
}

// refused records a refused check on the account and, once per window,
// tells its customer admins (never the PIN, never who called).
func (s *Service) refused(ctx context.Context, acct *ent.CustomerAccount, limited *apperr.Error) error {
	if err := audit.Record(ctx, s.Client, audit.Entry{Action: "supportpin.verified", AccountID: acct.ID,
		TargetType: "CustomerAccount", TargetID: string(acct.ID),
		Changes: map[string]any{"customerNumber": acct.Number, "outcome": OutcomeRateLimited}}); err != nil {
		return err
	}
	if err := s.Limiter.Take(ctx, ruleAlert, string(acct.ID)); err != nil {
		var ae *apperr.Error
		if errors.As(err, &ae) && ae.Code == apperr.CodeRateLimited {
			return nil // told already in this window
		}
		return err
	}
	now := s.now()
	until := now.Add(time.Duration(limited.RetryAfter) * time.Second)
	return notify.SupportPinLimited(ctx, s.Client, acct, until, now)
}

type candidate struct {
	ref   LoginRef
	state State
}

// candidates are the logins of the account with a PIN state: users linked
// to its contacts (active users only) and its active scoped logins.
func (s *Service) candidates(ctx context.Context, acct pulid.ID) ([]candidate, error) {
	c := s.Client
	cts, err := c.Contact.Query().
		Where(contact.CustomerAccountID(acct), contact.UserIDNotNil(),
			contact.HasUserWith(useraccount.StatusEQ(useraccount.StatusACTIVE))).
		Select(contact.FieldUserID).All(sys(ctx))
	if err != nil {
		return nil, err
	}
	sls, err := c.ScopedLogin.Query().
		Where(scopedlogin.CustomerAccountID(acct), scopedlogin.StatusEQ(scopedlogin.StatusACTIVE)).
		IDs(sys(ctx))
	if err != nil {
		return nil, err
	}
	var users []pulid.ID
	for _, ct := range cts {
		if ct.UserID != nil {
			users = append(users, *ct.UserID)
		}
	}
	var out []candidate
	// In chunks, to stay far below every database's bound on parameters.
	const chunk = 500
	for len(users) > 0 || len(sls) > 0 {
		u := users[:min(chunk, len(users))]
		l := sls[:min(chunk, len(sls))]
		users, sls = users[len(u):], sls[len(l):]
		rows, err := c.SupportPinState.Query().
			Where(supportpinstate.Or(supportpinstate.UserIDIn(u...), supportpinstate.ScopedLoginIDIn(l...))).
			All(sys(ctx))
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			switch {
			case r.UserID != nil:
				out = append(out, candidate{ref: LoginRef{Kind: KindUser, ID: string(*r.UserID)}, state: stateOf(r)})
			case r.ScopedLoginID != nil:
				out = append(out, candidate{ref: LoginRef{Kind: KindScopedLogin, ID: string(*r.ScopedLoginID)}, state: stateOf(r)})
			}
		}
	}
	return out, nil
}

// callerOf loads who the matched login is on acct.
func (s *Service) callerOf(ctx context.Context, cand *candidate, now time.Time, acct *ent.CustomerAccount) (*Caller, error) {
	c := s.Client
	caller := &Caller{Ref: cand.ref, Roles: []domain.Role{}, Authorizations: []*ent.SupportAuthorization{}}
	if cand.ref.Kind == KindScopedLogin {
		sl, err := c.ScopedLogin.Query().Where(scopedlogin.ID(pulid.ID(cand.ref.ID))).WithResource().Only(sys(ctx))
		if err != nil {
			return nil, err
		}
		caller.ScopedLogin = sl
		return caller, nil
	}
	ct, err := c.Contact.Query().
		Where(contact.CustomerAccountID(acct.ID), contact.UserID(pulid.ID(cand.ref.ID))).
		WithUser().First(sys(ctx))
	if err != nil {
		return nil, err
	}
	return s.contactCaller(ctx, ct, now, acct)
}

// contactCaller fills in a contact's roles in force and its support
// authorizations (all of them, oldest first).
func (s *Service) contactCaller(ctx context.Context, ct *ent.Contact, now time.Time, acct *ent.CustomerAccount) (*Caller, error) {
	c := s.Client
	caller := &Caller{Contact: ct, User: ct.Edges.User, Roles: []domain.Role{}}
	if ct.UserID != nil {
		caller.Ref = LoginRef{Kind: KindUser, ID: string(*ct.UserID)}
	}
	loc := authorizations.Location(acct)
	ras, err := c.RoleAssignment.Query().Where(roleassignment.ContactID(ct.ID)).All(sys(ctx))
	if err != nil {
		return nil, err
	}
	caller.Authorizations, err = c.SupportAuthorization.Query().
		Where(supportauthorization.ContactID(ct.ID)).
		Order(ent.Asc(supportauthorization.FieldValidFrom), ent.Asc(supportauthorization.FieldID)).
		All(sys(ctx))
	if err != nil {
		return nil, err
	}
	// Grants made through an agency delegation end with it (authz).
	var via []*pulid.ID
	for _, ra := range ras {
		via = append(via, ra.GrantedViaDelegationID)
	}
	for _, a := range caller.Authorizations {
		via = append(via, a.GrantedViaDelegationID)
	}
	over, err := authz.OverDelegations(ctx, c, now, loc, via...)
	if err != nil {
		return nil, err
	}
	counts := func(via *pulid.ID) bool { return via == nil || !over[*via] }
	// An authorization made through a delegation that is over is not the
	// caller's any more: the desk neither sees nor decides by it.
	caller.Authorizations = slices.DeleteFunc(caller.Authorizations, func(a *ent.SupportAuthorization) bool {
		return !counts(a.GrantedViaDelegationID)
	})
	for _, ra := range ras {
		if (authz.Validity{From: ra.ValidFrom, UntilDate: ra.ValidUntil, EndedAt: ra.EndedAt}).ActiveAt(now, loc) &&
			counts(ra.GrantedViaDelegationID) &&
			!slices.Contains(caller.Roles, ra.Role) {
			caller.Roles = append(caller.Roles, ra.Role)
		}
	}
	slices.Sort(caller.Roles)
	return caller, nil
}

// ---------------------------------------------------------------- requests

// RequestInput is what authorizeSupportRequest asks.
type RequestInput struct {
	CustomerNumber string
	PIN            *string
	ContactID      *pulid.ID
	Request        authz.SupportRequestKind
	Order          *authz.OrderScope
}

// RequestAnswer is the decision, the authorization that decided, and the
// caller (nil when not identified).
type RequestAnswer struct {
	Allowed   bool
	Reason    string // the API's SupportDecisionReason
	DecidedBy *ent.SupportAuthorization
	Caller    *Caller
}

// AuthorizeRequest identifies the caller (by PIN, exactly like VerifyPIN
// and under the same limit, or by a contact of the account) and applies the
// pure rule authz.DecideSupportRequest. Audited on the account.
func (s *Service) AuthorizeRequest(ctx context.Context, in RequestInput) (*RequestAnswer, error) {
	if (in.PIN == nil) == (in.ContactID == nil) {
		return nil, apperr.BadInput("input.pin", "give exactly one of pin and contactID")
	}
	order, err := validateOrder(in.Request, in.Order)
	if err != nil {
		return nil, err
	}
	var pin string
	if in.PIN != nil {
		var ok bool
		if pin, ok = Normalize(*in.PIN); !ok {
			return nil, apperr.BadInput("input.pin", "a support PIN has %d digits", Digits)
		}
	}
	acct, err := s.account(ctx, in.CustomerNumber)
	if err != nil {
		return nil, err
	}
	now := s.now()
	var caller *Caller
	identifiedBy := "CONTACT"
	if in.PIN != nil {
		identifiedBy = "SUPPORT_PIN"
		if caller, _, err = s.check(ctx, in.CustomerNumber, acct, pin); err != nil {
			return nil, err
		}
	} else {
		if acct == nil {
			return nil, notFound("input.contactID")
		}
		ct, err := s.Client.Contact.Query().
			// A deleted contact gives nobody anything: it is no caller.
			Where(contact.ID(*in.ContactID), contact.CustomerAccountID(acct.ID), contact.DeletedAtIsNil()).
			WithUser().Only(sys(ctx))
		if ent.IsNotFound(err) {
			return nil, notFound("input.contactID")
		}
		if err != nil {
			return nil, err
		}
		if caller, err = s.contactCaller(ctx, ct, now, acct); err != nil {
			return nil, err
		}
	}
	ans := &RequestAnswer{Caller: caller}
	switch {
	case caller == nil:
		ans.Reason = "NOT_IDENTIFIED"
	case caller.Contact == nil:
		ans.Reason = "SCOPED_LOGIN"
	default:
		grants := make([]authz.SupportGrant, len(caller.Authorizations))
		for i, a := range caller.Authorizations {
			grants[i] = authz.SupportGrant{ID: string(a.ID), Kind: a.Kind,
				Validity: authz.Validity{From: a.ValidFrom, UntilDate: a.ValidUntil, EndedAt: a.EndedAt}}

			if a.ScopeBudgetCents != nil {
				grants[i].Scope = &authz.OrderScope{BusinessArea: deref(a.ScopeBusinessArea), AmountCents: *a.ScopeBudgetCents, Currency: deref(a.ScopeCurrency)}
			}
		}
		d := authz.DecideSupportRequest(authz.SupportCase{Request: in.Request, Order: order, Grants: grants,
			AccountActive: acct.Status == customeraccount.StatusACTIVE, SLAValid: authorizations.SLAValid(acct, now),
			Now: now, Loc: authorizations.Location(acct)})
		ans.Allowed, ans.Reason = d.Allowed, string(d.Reason)
		if d.Allowed {
			ans.Reason = "AUTHORIZED"
			ans.DecidedBy = caller.Authorizations[d.DecidedBy]
		}
	}
	if acct != nil {
		changes := map[string]any{"customerNumber": acct.Number, "request": string(in.Request), "identifiedBy": identifiedBy,
			"decision": map[bool]string{true: "ALLOWED", false: "DENIED"}[ans.Allowed], "reason": ans.Reason}
		if caller != nil {
			changes["login"] = string(caller.Ref.Kind) + ":" + caller.Ref.ID
			if caller.Contact != nil {
				changes["contact"] = string(caller.Contact.ID)
			}
		}
		if ans.DecidedBy != nil {
			changes["decidedBy"] = string(ans.DecidedBy.ID)
		}
		if order != nil {
			changes["order"] = map[string]any{"businessArea": order.BusinessArea, "amountCents": order.AmountCents, "currency": order.Currency}
		}
		if err := audit.Record(ctx, s.Client, audit.Entry{Action: "supportrequest.checked", AccountID: acct.ID,
			TargetType: "CustomerAccount", TargetID: string(acct.ID), Changes: changes}); err != nil {
			return nil, err
		}
	}
	return ans, nil
}

func validateOrder(req authz.SupportRequestKind, o *authz.OrderScope) (*authz.OrderScope, error) {
	if req != authz.ReqOrderWithinBudget {
		if o != nil {
			return nil, apperr.BadInput("input.order", "only ORDER_WITHIN_BUDGET carries an order")
		}
		return nil, nil
	}
	if o == nil {
		return nil, apperr.BadInput("input.order", "ORDER_WITHIN_BUDGET needs the order: business area, amount and currency")
	}
	out := authz.OrderScope{BusinessArea: strings.TrimSpace(o.BusinessArea), AmountCents: o.AmountCents,
		Currency: strings.ToUpper(strings.TrimSpace(o.Currency))}
	if out.BusinessArea == "" || len([]rune(out.BusinessArea)) > 200 {
		return nil, apperr.BadInput("input.order.businessArea", "a business area of 1 to 200 characters is required")
	}
	if out.AmountCents <= 0 {
		return nil, apperr.BadInput("input.order.amountCents", "the amount must be greater than zero")
	}
	if !authorizations.ValidCurrency(out.Currency) {
		return nil, apperr.BadInput("input.order.currency", "%q is not an ISO 4217 currency code", o.Currency)
	}
	return &out, nil
}

func notFound(field string) error {
	e := apperr.NotFound()
	e.Field = field
	return e
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
