package customers

import (
	"context"
	"time"

	"portier/ent"
	"portier/ent/customeraccount"
	"portier/ent/organisationdomain"
	"portier/ent/schema"
	"portier/internal/apperr"
	"portier/internal/audit"
	"portier/internal/domain"
	"portier/internal/notify"
	"portier/internal/pulid"
	"portier/internal/viewer"
)

// The operations on organisation domains and account kinds. The rule they
// feed is in domains.go.

// normalizeDomains validates and dedupes domains given as input (field
// names the input); it returns them in their first order.
func normalizeDomains(in []string, field string) ([]string, error) {
	seen := map[string]bool{}
	var out []string
	for _, s := range in {
		d := schema.NormalizeDomain(s)
		if !schema.ValidDomain(d) {
			return nil, apperr.BadInput(field, "%q is not a domain: a lower-case ASCII host name with a dot, at most 253 characters, no wildcard", s)
		}
		if !seen[d] {
			seen[d] = true
			out = append(out, d)
		}
	}
	return out, nil
}

// addConfirmedDomains adds domains to a new account, confirmed by the
// staff user creating it.
func (s *Service) addConfirmedDomains(ctx context.Context, c *ent.Client, a *ent.CustomerAccount, domains []string) error {
	now := s.Now()
	uid := viewer.FromContext(ctx).UserID
	for _, d := range domains {
		q := c.OrganisationDomain.Create().SetCustomerAccountID(a.ID).SetDomain(d).
			SetStatus(organisationdomain.StatusCONFIRMED).SetConfirmedAt(now)
		if uid != "" {
			q.SetProposedByID(pulid.ID(uid)).SetConfirmedByID(pulid.ID(uid))
		}
		if err := q.Exec(ctx); err != nil {
			return err
		}
	}
	return nil
}

// ProposeDomain adds an organisation domain to an account: PROPOSED, or
// CONFIRMED at once when staff who may confirm (SUPPORT, ADMIN) propose it.
func (s *Service) ProposeDomain(ctx context.Context, accountID pulid.ID, raw string) (*ent.OrganisationDomain, error) {
	ds, err := normalizeDomains([]string{raw}, "input.domain")
	if err != nil {
		return nil, err
	}
	d := ds[0]
	c, err := s.Tx()
	if err != nil {
		return nil, err
	}
	acct, err := c.CustomerAccount.Get(ctx, accountID)
	if ent.IsNotFound(err) {
		return nil, notFoundAt("input.customerAccountID")
	}
	if err != nil {
		return nil, err
	}
	if acct.Status == customeraccount.StatusDELETED {
		return nil, apperr.BadInput("input.customerAccountID", "the customer account is deleted")
	}
	// Also a row the viewer could not list: the unique index decides anyway.
	taken, err := c.OrganisationDomain.Query().
		Where(organisationdomain.CustomerAccountID(acct.ID), organisationdomain.Domain(d)).Exist(viewer.SystemContext(ctx))
	if err != nil {
		return nil, err
	}
	if taken {
		return nil, apperr.Conflict("input.domain", "the customer account has the organisation domain %s already", d)
	}
	v := viewer.FromContext(ctx)
	confirm := v.HasStaffRole(domain.StaffSupport)
	now := s.Now()
	q := c.OrganisationDomain.Create().SetCustomerAccountID(acct.ID).SetDomain(d)
	if v.UserID != "" {
		q.SetProposedByID(pulid.ID(v.UserID))
	}
	if confirm {
		q.SetStatus(organisationdomain.StatusCONFIRMED).SetConfirmedAt(now)
		if v.UserID != "" {
			q.SetConfirmedByID(pulid.ID(v.UserID))
		}
	}
	od, err := q.Save(ctx)
	if ent.IsConstraintError(err) {
		return nil, apperr.Conflict("input.domain", "the customer account has the organisation domain %s already", d)
	}
	if err != nil {
		return nil, err
	}
	if err := audit.Record(ctx, c, audit.Entry{Action: "organisation_domain.propose", AccountID: acct.ID,
		TargetType: "OrganisationDomain", TargetID: string(od.ID),
		Changes: map[string]any{"domain": d, "status": string(od.Status)}}); err != nil {
		return nil, err
	}
	if confirm {
		if err := domainConfirmed(ctx, c, acct, od, now); err != nil {
			return nil, err
		}
	}
	return od, nil
}

// ConfirmDomain confirms a PROPOSED organisation domain (staff SUPPORT or
// ADMIN; the directive decides, the OrganisationDomain policy lets SUPPORT
// update).
func (s *Service) ConfirmDomain(ctx context.Context, id pulid.ID) (*ent.OrganisationDomain, error) {
	c, err := s.Tx()
	if err != nil {
		return nil, err
	}
	od, err := c.OrganisationDomain.Query().Where(organisationdomain.ID(id)).WithCustomerAccount().Only(ctx)
	if ent.IsNotFound(err) {
		return nil, notFoundAt("id")
	}
	if err != nil {
		return nil, err
	}
	acct := od.Edges.CustomerAccount
	if acct == nil || acct.Status == customeraccount.StatusDELETED {
		return nil, apperr.BadInput("id", "the customer account is deleted")
	}
	if od.Status == organisationdomain.StatusCONFIRMED {
		return nil, apperr.BadInput("id", "the organisation domain is confirmed already")
	}
	now := s.Now()
	upd := c.OrganisationDomain.Update().
		Where(organisationdomain.ID(od.ID), organisationdomain.StatusEQ(organisationdomain.StatusPROPOSED)).
		SetStatus(organisationdomain.StatusCONFIRMED).SetConfirmedAt(now)
	if uid := viewer.FromContext(ctx).UserID; uid != "" {
		upd.SetConfirmedByID(pulid.ID(uid))
	}
	// Guarded on the status read: of two concurrent confirmations (or a
	// confirmation racing a removal) one wins.
	n, err := upd.Save(ctx)
	if err != nil {
		return nil, err
	}
	if n != 1 {
		return nil, apperr.BadInput("id", "the organisation domain is no longer a proposal")
	}
	if err := audit.Record(ctx, c, audit.Entry{Action: "organisation_domain.confirm", AccountID: acct.ID,
		TargetType: "OrganisationDomain", TargetID: string(od.ID),
		Changes: map[string]any{"domain": od.Domain, "status": string(organisationdomain.StatusCONFIRMED)}}); err != nil {
		return nil, err
	}
	out, err := c.OrganisationDomain.Get(ctx, od.ID)
	if err != nil {
		return nil, err
	}
	return out, domainConfirmed(ctx, c, acct, out, now)
}

// RemoveDomain removes an organisation domain. The directive has checked
// that the viewer sees the account (ACCOUNT_READ); removing needs
// ACCOUNT_UPDATE there or staff SUPPORT/ADMIN. Existing contacts stay.
func (s *Service) RemoveDomain(ctx context.Context, id pulid.ID) (*ent.OrganisationDomain, error) {
	c, err := s.Tx()
	if err != nil {
		return nil, err
	}
	od, err := c.OrganisationDomain.Get(ctx, id)
	if ent.IsNotFound(err) {
		return nil, notFoundAt("id")
	}
	if err != nil {
		return nil, err
	}
	v := viewer.FromContext(ctx)
	if !v.HasStaffRole(domain.StaffSupport) {
		perms, err := v.Access.Permissions(ctx, string(od.CustomerAccountID))
		if err != nil {
			return nil, err
		}
		if !hasPermission(perms, domain.PermAccountUpdate) {
			return nil, apperr.Forbidden("missing permission ACCOUNT_UPDATE on this customer account")
		}
	}
	// Serialised with contacts being added (see checkNew).
	if _, err := lockAccount(ctx, c, od.CustomerAccountID); err != nil {
		return nil, err
	}
	n, err := c.OrganisationDomain.Delete().Where(organisationdomain.ID(od.ID)).Exec(ctx)
	if err != nil {
		return nil, err
	}
	if n != 1 {
		return nil, notFoundAt("id") // removed concurrently
	}
	return od, audit.Record(ctx, c, audit.Entry{Action: "organisation_domain.remove", AccountID: od.CustomerAccountID,
		TargetType: "OrganisationDomain", TargetID: string(od.ID),
		Changes: map[string]any{"domain": od.Domain, "status": string(od.Status)}})
}

// ConvertToBusiness switches a PERSONAL account to BUSINESS (staff SUPPORT
// or ADMIN: the directive decides; SUPPORT holds no ACCOUNT_UPDATE, so the
// write uses the system context, as the other staff-only account changes do).
func (s *Service) ConvertToBusiness(ctx context.Context, accountID pulid.ID) (*ent.CustomerAccount, error) {
	sys := viewer.SystemContext(ctx)
	c, err := s.Tx()
	if err != nil {
		return nil, err
	}
	a, err := c.CustomerAccount.Get(sys, accountID)
	if ent.IsNotFound(err) {
		return nil, notFoundAt("customerAccountID")
	}
	if err != nil {
		return nil, err
	}
	if a.Status == customeraccount.StatusDELETED {
		return nil, apperr.BadInput("customerAccountID", "the customer account is deleted")
	}
	already := apperr.BadInput("customerAccountID", "the customer account is a business account already")
	already.Reason = ReasonAlreadyBusiness
	if a.Kind != customeraccount.KindPERSONAL {
		return nil, already
	}
	n, err := c.CustomerAccount.Update().
		Where(customeraccount.ID(a.ID), customeraccount.KindEQ(customeraccount.KindPERSONAL)).
		SetKind(customeraccount.KindBUSINESS).Save(sys)
	if err != nil {
		return nil, err
	}
	if n != 1 {
		return nil, already // a concurrent conversion won
	}
	if err := audit.Record(ctx, c, audit.Entry{Action: "customer_account.convert_to_business", AccountID: a.ID,
		TargetType: "CustomerAccount", TargetID: string(a.ID),
		Changes: map[string]any{"kind": string(customeraccount.KindBUSINESS), "previousKind": string(a.Kind)}}); err != nil {
		return nil, err
	}
	return c.CustomerAccount.Get(sys, a.ID)
}

// domainConfirmed tells the account's customer admins that od is confirmed.
func domainConfirmed(ctx context.Context, c *ent.Client, acct *ent.CustomerAccount, od *ent.OrganisationDomain, now time.Time) error {
	return notify.OrganisationDomainConfirmed(ctx, c, acct, od.Domain, now)
}

func hasPermission(ps []domain.Permission, p domain.Permission) bool {
	for _, x := range ps {
		if x == p {
			return true
		}
	}
	return false
}

func notFoundAt(field string) error {
	e := apperr.NotFound()
	e.Field = field
	return e
}
