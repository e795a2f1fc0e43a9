package authorizations

import (
	"context"
	"strings"
	"time"

	"portier/ent"
	"portier/ent/customeraccount"
	"portier/ent/supportauthorization"
	"portier/internal/apperr"
	"portier/internal/audit"
	"portier/internal/authz"
	"portier/internal/caldate"
	"portier/internal/domain"
	"portier/internal/pulid"
	"portier/internal/viewer"
)

// Service runs the operations. Tx returns the mutation's transaction; every
// write goes through it and is audited in it. The directive has checked
// AUTHORIZATIONS_MANAGE on the owning account, and the ent policy checks it
// again on every write.
type Service struct {
	Tx  func() (*ent.Client, error)
	Now func() time.Time
}

// Scope is the scope of an ORDERING_LIMITED authorization.
type Scope struct {
	BusinessArea string
	BudgetCents  int64
	Currency     string
}

// GrantInput is the input of Grant.
type GrantInput struct {
	ContactID  pulid.ID
	Kind       domain.SupportAuthorizationKind
	ValidUntil *caldate.Date
	Scope      *Scope
}

// Location returns the time zone of an account (UTC when unknown).
func Location(a *ent.CustomerAccount) *time.Location {
	if a == nil {
		return time.UTC
	}
	loc, err := caldate.Zone(a.TimeZone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// SLAValid reports whether the account has an SLA in force at now: hasSLA,
// and slaUntil (if any) not over in the account's time zone.
func SLAValid(a *ent.CustomerAccount, now time.Time) bool {
	if !a.HasSLA {
		return false
	}
	return (authz.Validity{UntilDate: a.SLAUntil}).ActiveAt(now, Location(a))
}

// Active reports whether sa is in force at now in loc.
func Active(sa *ent.SupportAuthorization, now time.Time, loc *time.Location) bool {
	return validity(sa).ActiveAt(now, loc)
}

func validity(sa *ent.SupportAuthorization) authz.Validity {
	return authz.Validity{From: sa.ValidFrom, UntilDate: sa.ValidUntil, EndedAt: sa.EndedAt}
}

// over reports whether sa has ended for good at now (ended, or its last day
// is over): it can then be neither changed nor revoked, only seen.
func over(sa *ent.SupportAuthorization, now time.Time, loc *time.Location) bool {
	return validity(sa).OverAt(now, loc)
}

// CheckDay refuses a last day before today in loc.
func CheckDay(d *caldate.Date, now time.Time, loc *time.Location, field string) error {
	if d != nil && *d < caldate.Of(now, loc) {
		return apperr.BadInput(field, "the day must be today or later (in the account's time zone %s)", loc)
	}
	return nil
}

func validateScope(kind domain.SupportAuthorizationKind, s *Scope) (*Scope, error) {
	if kind != domain.AuthOrderingLimited {
		if s != nil {
			return nil, apperr.BadInput("input.scope", "only ORDERING_LIMITED carries a scope")
		}
		return nil, nil
	}
	if s == nil {
		return nil, apperr.BadInput("input.scope", "ORDERING_LIMITED needs a scope: business area and budget")
	}
	out := Scope{BusinessArea: strings.TrimSpace(s.BusinessArea), BudgetCents: s.BudgetCents, Currency: strings.ToUpper(strings.TrimSpace(s.Currency))}
	if out.BusinessArea == "" || len([]rune(out.BusinessArea)) > 200 {
		return nil, apperr.BadInput("input.scope.businessArea", "a business area of 1 to 200 characters is required")
	}
	if out.BudgetCents <= 0 {
		return nil, apperr.BadInput("input.scope.budgetCents", "the budget must be greater than zero")
	}
	if !ValidCurrency(out.Currency) {
		return nil, apperr.BadInput("input.scope.currency", "%q is not an ISO 4217 currency code", s.Currency)
	}
	return &out, nil
}

// Grant gives a contact a support authorization from now on.
func (s *Service) Grant(ctx context.Context, in GrantInput) (*ent.SupportAuthorization, error) {
	v := viewer.FromContext(ctx)
	if in.Kind == domain.AuthOrderingLimited && !v.IsStaff() {
		return nil, apperr.Forbidden("ORDERING_LIMITED is granted by the provider's staff only, in exceptional cases; please contact us")
	}
	scope, err := validateScope(in.Kind, in.Scope)
	if err != nil {
		return nil, err
	}
	c, err := s.Tx()
	if err != nil {
		return nil, err
	}
	// The directive resolved the contact's account and checked the
	// permission there; the contact is read as Portier so that
	// AUTHORIZATIONS_MANAGE without CONTACTS_READ suffices. The create
	// below is checked by the policy again.
	ct, err := c.Contact.Query().Where(contactIDIs(in.ContactID)).WithCustomerAccount().Only(viewer.SystemContext(ctx))
	if ent.IsNotFound(err) {
		return nil, notFound("input.contactID")
	}
	if err != nil {
		return nil, err
	}
	if ct.DeletedAt != nil {
		return nil, apperr.ContactDeleted("input.contactID")
	}
	acct := ct.Edges.CustomerAccount
	if acct.Status == customeraccount.StatusDELETED {
		return nil, apperr.BadInput("input.contactID", "the customer account is deleted")
	}
	now, loc := s.Now(), Location(acct)
	if err := CheckDay(in.ValidUntil, now, loc, "input.validUntil"); err != nil {
		return nil, err
	}
	if in.Kind == domain.AuthEmergencySLA && !SLAValid(acct, now) {
		return nil, apperr.BadInput("input.kind", "EMERGENCY_SLA is only for customers with a valid SLA")
	}
	if in.Kind != domain.AuthOrderingLimited {
		held, err := c.SupportAuthorization.Query().Where(
			supportauthorization.ContactID(ct.ID), supportauthorization.KindEQ(in.Kind), supportauthorization.EndedAtIsNil(),
		).All(ctx)
		if err != nil {
			return nil, err
		}
		for _, h := range held {
			if !over(h, now, loc) {
				return nil, apperr.Conflict("input.kind", "the contact already holds %s; change its validity instead", in.Kind.APIName())
			}
		}
	}
	q := c.SupportAuthorization.Create().
		SetCustomerAccountID(acct.ID).SetContactID(ct.ID).SetKind(in.Kind).
		SetValidFrom(now).SetNillableValidUntil(in.ValidUntil).
		SetNillableGrantedViaDelegationID(authz.DelegationVia(ctx, acct.ID))
	if v.UserID != "" {
		q.SetGrantedByID(pulid.ID(v.UserID))
	}
	changes := map[string]any{"kind": in.Kind.APIName(), "contactID": string(ct.ID)}
	if in.ValidUntil != nil {
		changes["validUntil"] = string(*in.ValidUntil)
	}
	if scope != nil {
		q.SetScopeBusinessArea(scope.BusinessArea).SetScopeBudgetCents(scope.BudgetCents).SetScopeCurrency(scope.Currency)
		changes["scopeBusinessArea"], changes["scopeBudgetCents"], changes["scopeCurrency"] = scope.BusinessArea, scope.BudgetCents, scope.Currency
	}
	sa, err := q.Save(ctx)
	if err != nil {
		return nil, err
	}
	return sa, audit.Record(ctx, c, audit.Entry{
		Action: "support_authorization.grant", AccountID: acct.ID, TargetType: "SupportAuthorization", TargetID: string(sa.ID), Changes: changes,
	})
}

// load reads an authorization with its account, for a change.
func (s *Service) load(ctx context.Context, c *ent.Client, id pulid.ID) (*ent.SupportAuthorization, *ent.CustomerAccount, error) {
	// Read as Portier: the directive checked the owning account; the update
	// is checked by the policy again.
	sa, err := c.SupportAuthorization.Query().Where(supportauthorization.ID(id)).WithCustomerAccount().WithContact().Only(viewer.SystemContext(ctx))
	if ent.IsNotFound(err) {
		return nil, nil, notFound("input.authorizationID")
	}
	if err != nil {
		return nil, nil, err
	}
	if ct := sa.Edges.Contact; ct != nil && ct.DeletedAt != nil {
		return nil, nil, apperr.ContactDeleted("input.authorizationID")
	}
	return sa, sa.Edges.CustomerAccount, nil
}

// ChangeValidity extends or shortens an authorization that has not ended:
// a new last day (today or later) or none (open-ended). Extending
// ORDERING_LIMITED is granting it for longer: staff only. Extending
// EMERGENCY_SLA needs the SLA to be valid still.
func (s *Service) ChangeValidity(ctx context.Context, id pulid.ID, until *caldate.Date) (*ent.SupportAuthorization, error) {
	c, err := s.Tx()
	if err != nil {
		return nil, err
	}
	sa, acct, err := s.load(ctx, c, id)
	if err != nil {
		return nil, err
	}
	now, loc := s.Now(), Location(acct)
	if over(sa, now, loc) {
		return nil, apperr.BadInput("input.authorizationID", "the authorization has ended; grant a new one")
	}
	if err := CheckDay(until, now, loc, "input.validUntil"); err != nil {
		return nil, err
	}
	extends := until == nil && sa.ValidUntil != nil || until != nil && sa.ValidUntil != nil && *until > *sa.ValidUntil
	if extends && sa.Kind == domain.AuthOrderingLimited && !viewer.FromContext(ctx).IsStaff() {
		return nil, apperr.Forbidden("ORDERING_LIMITED is extended by the provider's staff only")
	}
	if extends && sa.Kind == domain.AuthEmergencySLA && !SLAValid(acct, now) {
		return nil, apperr.BadInput("input.validUntil", "EMERGENCY_SLA is only for customers with a valid SLA")
	}
	upd := c.SupportAuthorization.UpdateOneID(sa.ID)
	if until == nil {
		upd.ClearValidUntil()
	} else {
		upd.SetValidUntil(*until)
	}
	out, err := upd.Save(ctx)
	if err != nil {
		return nil, err
	}
	changes := map[string]any{"kind": sa.Kind.APIName(), "validUntil": dayOrNil(until), "previousValidUntil": dayOrNil(sa.ValidUntil)}
	return out, audit.Record(ctx, c, audit.Entry{
		Action: "support_authorization.change_validity", AccountID: acct.ID, TargetType: "SupportAuthorization", TargetID: string(sa.ID), Changes: changes,
	})
}

// Revoke ends an authorization immediately (lastDay nil) or at the end of
// lastDay in the account's time zone. A lastDay after its current last day
// is refused: that would extend it.
func (s *Service) Revoke(ctx context.Context, id pulid.ID, lastDay *caldate.Date) (*ent.SupportAuthorization, error) {
	c, err := s.Tx()
	if err != nil {
		return nil, err
	}
	sa, acct, err := s.load(ctx, c, id)
	if err != nil {
		return nil, err
	}
	now, loc := s.Now(), Location(acct)
	if over(sa, now, loc) {
		return nil, apperr.BadInput("input.authorizationID", "the authorization has already ended")
	}
	if err := CheckDay(lastDay, now, loc, "input.lastDay"); err != nil {
		return nil, err
	}
	upd := c.SupportAuthorization.UpdateOneID(sa.ID)
	changes := map[string]any{"kind": sa.Kind.APIName()}
	switch {
	case lastDay == nil:
		upd.SetEndedAt(now)
		changes["endedAt"] = now.Format(time.RFC3339)
	case sa.ValidUntil != nil && *lastDay > *sa.ValidUntil:
		return nil, apperr.BadInput("input.lastDay", "the authorization already ends on %s; use changeSupportAuthorizationValidity to extend it", *sa.ValidUntil)
	default:
		upd.SetValidUntil(*lastDay)
		changes["lastDay"] = string(*lastDay)
	}
	out, err := upd.Save(ctx)
	if err != nil {
		return nil, err
	}
	return out, audit.Record(ctx, c, audit.Entry{
		Action: "support_authorization.revoke", AccountID: acct.ID, TargetType: "SupportAuthorization", TargetID: string(sa.ID), Changes: changes,
	})
}

// SetSLA sets (hasSLA, default true) or ends the SLA of an account. A last
// day must be today or later; without hasSLA the last day is cleared.
func (s *Service) SetSLA(ctx context.Context, accountID pulid.ID, hasSLA *bool, until *caldate.Date) (*ent.CustomerAccount, error) {
	c, err := s.Tx()
	if err != nil {
		return nil, err
	}
	acct, err := c.CustomerAccount.Get(ctx, accountID)
	if ent.IsNotFound(err) {
		return nil, notFound("input.customerAccountID")
	}
	if err != nil {
		return nil, err
	}
	on := hasSLA == nil || *hasSLA
	if !on && until != nil {
		return nil, apperr.BadInput("input.slaUntil", "an account without SLA has no SLA end")
	}
	if err := CheckDay(until, s.Now(), Location(acct), "input.slaUntil"); err != nil {
		return nil, err
	}
	upd := c.CustomerAccount.UpdateOneID(acct.ID).SetHasSLA(on)
	if until == nil {
		upd.ClearSLAUntil()
	} else {
		upd.SetSLAUntil(*until)
	}
	out, err := upd.Save(ctx)
	if err != nil {
		return nil, err
	}
	return out, audit.Record(ctx, c, audit.Entry{
		Action: "customer_account.set_sla", AccountID: acct.ID, TargetType: "CustomerAccount", TargetID: string(acct.ID),
		Changes: map[string]any{"hasSLA": on, "slaUntil": dayOrNil(until)},
	})
}

func dayOrNil(d *caldate.Date) any {
	if d == nil {
		return nil
	}
	return string(*d)
}

func notFound(field string) error {
	e := apperr.NotFound()
	e.Field = field
	return e
}
