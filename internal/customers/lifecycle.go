package customers

import (
	"context"

	"portier/ent"
	"portier/ent/customeraccount"
	"portier/internal/apperr"
	"portier/internal/audit"
	"portier/internal/notify"
	"portier/internal/pulid"
	"portier/internal/viewer"
)

// The lifecycle of a customer account: deactivation blocks everyone at
// once and is reversible. Only the status changes: every person, scoped login and API key of a DEACTIVATED
// or DELETED account is blocked because the evaluator and the API key
// authenticator accept ACTIVE accounts only, so nothing else has to be
// touched and reactivating restores everything as it was. Staff ADMIN only
// (the directive decides); the writes use the system context.

// DeactivateAccount blocks an ACTIVE account.
func (s *Service) DeactivateAccount(ctx context.Context, id pulid.ID) (*ent.CustomerAccount, error) {
	return s.changeStatus(ctx, id, "customer_account.deactivated", customeraccount.StatusDEACTIVATED, customeraccount.StatusACTIVE)
}

// ReactivateAccount makes a DEACTIVATED account ACTIVE again.
func (s *Service) ReactivateAccount(ctx context.Context, id pulid.ID) (*ent.CustomerAccount, error) {
	return s.changeStatus(ctx, id, "customer_account.reactivated", customeraccount.StatusACTIVE, customeraccount.StatusDEACTIVATED)
}

// DeleteAccount marks an ACTIVE or DEACTIVATED account DELETED, for good;
// the row stays, so its number stays reserved.
func (s *Service) DeleteAccount(ctx context.Context, id pulid.ID) (*ent.CustomerAccount, error) {
	return s.changeStatus(ctx, id, "customer_account.deleted", customeraccount.StatusDELETED,
		customeraccount.StatusACTIVE, customeraccount.StatusDEACTIVATED)
}

func (s *Service) changeStatus(ctx context.Context, id pulid.ID, action string, to customeraccount.Status, from ...customeraccount.Status) (*ent.CustomerAccount, error) {
	sys := viewer.SystemContext(ctx)
	c, err := s.Tx()
	if err != nil {
		return nil, err
	}
	a, err := c.CustomerAccount.Get(sys, id)
	if ent.IsNotFound(err) {
		e := apperr.NotFound()
		e.Field = "customerAccountID"
		return nil, e
	}
	if err != nil {
		return nil, err
	}
	now := s.Now()
	upd := c.CustomerAccount.Update().Where(customeraccount.ID(a.ID), customeraccount.StatusIn(from...)).SetStatus(to)
	switch to {
	case customeraccount.StatusDEACTIVATED:
		upd.SetDeactivatedAt(now)
	case customeraccount.StatusACTIVE:
		upd.ClearDeactivatedAt()
	case customeraccount.StatusDELETED:
		upd.SetDeletedAt(now)
	}
	// Guarded on the status read: a concurrent change wins once.
	n, err := upd.Save(sys)
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, apperr.BadInput("customerAccountID", "the customer account is %s", a.Status)
	}
	if err := audit.Record(ctx, c, audit.Entry{Action: action, AccountID: a.ID, TargetType: "CustomerAccount",
		TargetID: string(a.ID), Changes: map[string]any{"status": string(to), "previousStatus": string(a.Status)}}); err != nil {
		return nil, err
	}
	if to == customeraccount.StatusDEACTIVATED {
		if err := notify.AccountDeactivated(ctx, c, a, now); err != nil {
			return nil, err
		}
	}
	return c.CustomerAccount.Get(sys, a.ID)
}
