// Package agencies holds agency delegations (docs/authorization.md, 'Agencies'): a client account
// delegates a permission set to an agency account, whose people then act on
// the client with their own permissions on the agency intersected with that
// set (the rule itself is in internal/authz). Every write goes through the
// mutation's transaction and is audited in it.
package agencies

import (
	"context"
	"slices"
	"sort"
	"strings"
	"time"

	"portier/ent"
	"portier/ent/agencydelegation"
	"portier/ent/customeraccount"
	"portier/ent/schema"
	"portier/internal/apperr"
	"portier/internal/audit"
	"portier/internal/authorizations"
	"portier/internal/authz"
	"portier/internal/caldate"
	"portier/internal/domain"
	"portier/internal/pulid"
	"portier/internal/viewer"
)

// Service runs the operations. Tx returns the mutation's transaction.
type Service struct {
	Client *ent.Client
	Tx     func() (*ent.Client, error)
	Now    func() time.Time
}

// AgencyRef names an agency by customer number or by account ID.
type AgencyRef struct {
	Number *string
	ID     *pulid.ID
}

// DelegateInput is the input of Delegate.
type DelegateInput struct {
	ClientID    pulid.ID
	Agency      AgencyRef
	Permissions []domain.Permission
	ValidFrom   *caldate.Date
	ValidUntil  *caldate.Date
}

// Active reports whether d is in force at now in the client's zone loc.
func Active(d *ent.AgencyDelegation, now time.Time, loc *time.Location) bool {
	return validity(d).ActiveAt(now, loc)
}

func validity(d *ent.AgencyDelegation) authz.Validity {
	return authz.Validity{From: d.ValidFrom, UntilDate: d.ValidUntil, EndedAt: d.EndedAt}
}

// over reports whether d has ended for good.
func over(d *ent.AgencyDelegation, now time.Time, loc *time.Location) bool {
	return validity(d).OverAt(now, loc)
}

// Permissions returns the delegated permissions of d in catalogue order.
func Permissions(d *ent.AgencyDelegation) []domain.Permission {
	set := authz.PermSet{}
	for _, p := range d.Permissions {
		if perm := domain.Permission(p); perm.Valid() {
			set.Add(perm)
		}
	}
	return set.List()
}

// findAgency resolves an agency reference as Portier: agencies are meant to
// be picked by customer number (a client chooses its agency by number). An account
// that does not exist and one that is no agency get the same answer.
func findAgency(ctx context.Context, c *ent.Client, ref AgencyRef, prefix string) (*ent.CustomerAccount, error) {
	q := c.CustomerAccount.Query()
	field := prefix + "agencyCustomerNumber"
	switch {
	case ref.Number != nil && ref.ID != nil:
		return nil, apperr.BadInput(field, "give agencyCustomerNumber or agencyAccountID, not both")
	case ref.Number != nil:
		q.Where(customeraccount.Number(schema.NormalizeCustomerNumber(*ref.Number)))
	case ref.ID != nil:
		field = prefix + "agencyAccountID"
		q.Where(customeraccount.ID(*ref.ID))
	default:
		return nil, apperr.BadInput(field, "agencyCustomerNumber or agencyAccountID is required")
	}
	a, err := q.Only(viewer.SystemContext(ctx))
	if ent.IsNotFound(err) || err == nil && (!a.IsAgency || a.Status != customeraccount.StatusACTIVE) {
		return nil, apperr.BadInput(field, "there is no active agency with this customer number or ID")
	}
	return a, err
}

// Delegate creates a delegation from a client to an agency.
func (s *Service) Delegate(ctx context.Context, in DelegateInput) (*ent.AgencyDelegation, error) {
	if len(in.Permissions) == 0 {
		return nil, apperr.BadInput("input.permissions", "delegate at least one permission")
	}
	set := authz.PermSet{}
	set.Add(in.Permissions...)
	perms := set.List()
	// Nobody delegates what he does not hold himself (the evaluator's
	// answer for this very request, agencies and staff included).
	held, err := viewer.FromContext(ctx).Access.Permissions(ctx, string(in.ClientID))
	if err != nil {
		return nil, err
	}
	for _, p := range perms {
		if !slices.Contains(held, p) {
			return nil, &apperr.Error{Code: apperr.CodeForbidden, Field: "input.permissions",
				Message: "you cannot delegate " + p.EnumName() + ", which you do not hold on this customer account"}
		}
	}
	c, err := s.Tx()
	if err != nil {
		return nil, err
	}
	client, err := c.CustomerAccount.Get(viewer.SystemContext(ctx), in.ClientID)
	if err != nil {
		return nil, err
	}
	if client.Status == customeraccount.StatusDELETED {
		return nil, apperr.BadInput("input.clientAccountID", "the customer account is deleted")
	}
	agency, err := findAgency(ctx, c, in.Agency, "input.")
	if err != nil {
		return nil, err
	}
	if agency.ID == client.ID {
		return nil, apperr.BadInput("input.agencyCustomerNumber", "an account cannot delegate to itself")
	}
	now, loc := s.Now(), authorizations.Location(client)
	from := now
	if in.ValidFrom != nil {
		if err := authorizations.CheckDay(in.ValidFrom, now, loc, "input.validFrom"); err != nil {
			return nil, err
		}
		if *in.ValidFrom > caldate.Of(now, loc) {
			if from, err = in.ValidFrom.StartIn(loc); err != nil {
				return nil, err
			}
		}
	}
	if err := authorizations.CheckDay(in.ValidUntil, now, loc, "input.validUntil"); err != nil {
		return nil, err
	}
	if in.ValidUntil != nil && in.ValidFrom != nil && *in.ValidUntil < *in.ValidFrom {
		return nil, apperr.BadInput("input.validUntil", "the last day is before the first day")
	}
	existing, err := c.AgencyDelegation.Query().Where(
		agencydelegation.CustomerAccountID(client.ID), agencydelegation.AgencyID(agency.ID), agencydelegation.EndedAtIsNil(),
	).All(viewer.SystemContext(ctx))
	if err != nil {
		return nil, err
	}
	for _, d := range existing {
		if !over(d, now, loc) {
			return nil, apperr.Conflict("input.agencyCustomerNumber", "a delegation to this agency exists; revoke it first")
		}
	}
	names := make([]string, len(perms))
	for i, p := range perms {
		names[i] = string(p)
	}
	q := c.AgencyDelegation.Create().
		SetCustomerAccountID(client.ID).SetAgencyID(agency.ID).SetPermissions(names).
		SetValidFrom(from).SetNillableValidUntil(in.ValidUntil)
	if uid := viewer.FromContext(ctx).UserID; uid != "" {
		q.SetGrantedByID(pulid.ID(uid))
	}
	d, err := q.Save(ctx)
	if err != nil {
		return nil, err
	}
	changes := map[string]any{
		"agency": agency.Number, "agencyID": string(agency.ID), "client": client.Number,
		"permissions": enumNames(perms), "validFrom": from.Format(time.RFC3339), "validUntil": dayOrNil(in.ValidUntil),
	}
	if err := audit.Record(ctx, c, audit.Entry{
		Action: "agency_delegation.grant", AccountID: client.ID, TargetType: "AgencyDelegation", TargetID: string(d.ID), Changes: changes,
	}); err != nil {
		return nil, err
	}
	// The agency learns it too, in its own log.
	return d, audit.Record(ctx, c, audit.Entry{
		Action: "agency_delegation.received", AccountID: agency.ID, TargetType: "AgencyDelegation", TargetID: string(d.ID), Changes: changes,
	})
}

// Revoke ends a delegation now (lastDay nil) or at the end of lastDay in
// the client's time zone. The client may do so at any time.
func (s *Service) Revoke(ctx context.Context, id pulid.ID, lastDay *caldate.Date) (*ent.AgencyDelegation, error) {
	c, err := s.Tx()
	if err != nil {
		return nil, err
	}
	d, err := c.AgencyDelegation.Query().Where(agencydelegation.ID(id)).WithCustomerAccount().WithAgency().
		Only(viewer.SystemContext(ctx))
	if ent.IsNotFound(err) {
		e := apperr.NotFound()
		e.Field = "input.delegationID"
		return nil, e
	}
	if err != nil {
		return nil, err
	}
	client := d.Edges.CustomerAccount
	now, loc := s.Now(), authorizations.Location(client)
	if over(d, now, loc) {
		return nil, apperr.BadInput("input.delegationID", "the delegation has already ended")
	}
	if err := authorizations.CheckDay(lastDay, now, loc, "input.lastDay"); err != nil {
		return nil, err
	}
	upd := c.AgencyDelegation.UpdateOneID(d.ID)
	changes := map[string]any{"agency": d.Edges.Agency.Number, "agencyID": string(d.AgencyID), "client": client.Number}
	switch {
	case lastDay == nil || d.ValidFrom.After(now) && *lastDay < caldate.Of(d.ValidFrom, loc):
		upd.SetEndedAt(now)
		changes["endedAt"] = now.Format(time.RFC3339)
	case d.ValidUntil != nil && *lastDay > *d.ValidUntil:
		return nil, apperr.BadInput("input.lastDay", "the delegation already ends on %s", *d.ValidUntil)
	default:
		upd.SetValidUntil(*lastDay)
		changes["lastDay"] = string(*lastDay)
	}
	out, err := upd.Save(ctx)
	if err != nil {
		return nil, err
	}
	if err := audit.Record(ctx, c, audit.Entry{
		Action: "agency_delegation.revoke", AccountID: client.ID, TargetType: "AgencyDelegation", TargetID: string(d.ID), Changes: changes,
	}); err != nil {
		return nil, err
	}
	return out, audit.Record(ctx, c, audit.Entry{
		Action: "agency_delegation.revoked", AccountID: d.AgencyID, TargetType: "AgencyDelegation", TargetID: string(d.ID), Changes: changes,
	})
}

// SetIsAgency marks an account as an agency or not (staff ADMIN). Without
// the mark its delegations stop acting (the evaluator checks it).
func (s *Service) SetIsAgency(ctx context.Context, id pulid.ID, on bool) (*ent.CustomerAccount, error) {
	c, err := s.Tx()
	if err != nil {
		return nil, err
	}
	a, err := c.CustomerAccount.UpdateOneID(id).SetIsAgency(on).Save(ctx)
	if ent.IsNotFound(err) {
		e := apperr.NotFound()
		e.Field = "input.customerAccountID"
		return nil, e
	}
	if err != nil {
		return nil, err
	}
	return a, audit.Record(ctx, c, audit.Entry{
		Action: "customer_account.set_agency", AccountID: a.ID, TargetType: "CustomerAccount", TargetID: string(a.ID),
		Changes: map[string]any{"isAgency": on},
	})
}

// SetDefaultAgency sets (or, with an empty reference, clears) a client's
// default agency. Many clients may name the same agency.
func (s *Service) SetDefaultAgency(ctx context.Context, clientID pulid.ID, ref AgencyRef) (*ent.CustomerAccount, error) {
	c, err := s.Tx()
	if err != nil {
		return nil, err
	}
	upd := c.CustomerAccount.UpdateOneID(clientID)
	changes := map[string]any{"defaultAgency": nil}
	if ref.Number != nil || ref.ID != nil {
		agency, err := findAgency(ctx, c, ref, "input.")
		if err != nil {
			return nil, err
		}
		if agency.ID == clientID {
			return nil, apperr.BadInput("input.agencyCustomerNumber", "an account cannot be its own agency")
		}
		upd.SetDefaultAgencyID(agency.ID)
		changes["defaultAgency"] = agency.Number
	} else {
		upd.ClearDefaultAgencyID()
	}
	a, err := upd.Save(ctx)
	if err != nil {
		return nil, err
	}
	return a, audit.Record(ctx, c, audit.Entry{
		Action: "customer_account.set_default_agency", AccountID: a.ID, TargetType: "CustomerAccount", TargetID: string(a.ID), Changes: changes,
	})
}

// Client is one client an agency serves, as its admins see it.
type Client struct {
	Account    *ent.CustomerAccount
	Delegation *ent.AgencyDelegation
	Active     bool
}

// Clients lists the delegations an agency received, with the clients'
// number and name. The directive checked DELEGATIONS_MANAGE on the agency;
// the evaluator is asked again here, because the rows belong to the
// clients and are read as Portier: the client's consent (the delegation)
// is what lets the agency know of it, and nothing beyond number and name
// of the client is disclosed.
func (s *Service) Clients(ctx context.Context, agencyID pulid.ID) ([]Client, error) {
	perms, err := viewer.FromContext(ctx).Access.Permissions(ctx, string(agencyID))
	if err != nil {
		return nil, err
	}
	if !slices.Contains(perms, domain.PermDelegationsManage) {
		return nil, apperr.Forbidden("missing permission DELEGATIONS_MANAGE on this customer account")
	}
	rows, err := s.Client.AgencyDelegation.Query().
		Where(agencydelegation.AgencyID(agencyID)).
		WithCustomerAccount().
		All(viewer.SystemContext(ctx))
	if err != nil {
		return nil, err
	}
	now := s.Now()
	out := make([]Client, 0, len(rows))
	for _, d := range rows {
		acct := d.Edges.CustomerAccount
		out = append(out, Client{Account: acct, Delegation: d, Active: Active(d, now, authorizations.Location(acct)) &&
			acct.Status == customeraccount.StatusACTIVE})
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Account.Number != out[j].Account.Number {
			return out[i].Account.Number < out[j].Account.Number
		}
		return out[i].Delegation.ValidFrom.Before(out[j].Delegation.ValidFrom)
	})
	return out, nil
}

func enumNames(ps []domain.Permission) string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.EnumName()
	}
	return strings.Join(out, ",")
}

func dayOrNil(d *caldate.Date) any {
	if d == nil {
		return nil
	}
	return string(*d)
}
