package authz

import (
	"context"

	"portier/ent"
	"portier/ent/customeraccount"
	"portier/ent/scopedlogin"
	"portier/internal/pulid"
	"portier/internal/viewer"
)

// Scoped logins (issue 9; docs/authorization.md, 'Scoped logins'). A SCOPED_LOGIN principal holds no
// permission on any customer account: Accounts and Permissions answer
// nothing for it, so every directive and every account-owned privacy
// filter refuses it. The one thing it may see is its own resource and its
// own login, which the privacy rules ask through ScopedTo. It is live only
// while the login is ACTIVE and its customer account ACTIVE with portal
// access: deactivating the account blocks its scoped logins at once.

type scopedState struct {
	grant viewer.ScopedGrant
	live  bool
}

var _ viewer.ScopedAccess = (*Evaluator)(nil)

// loadScoped reads the viewer's scoped login with its resource's account
// (one query), as Portier itself.
func (e *Evaluator) loadScoped(ctx context.Context) error {
	e.scoped = &scopedState{}
	if e.v.ScopedLoginID == "" {
		return nil
	}
	l, err := e.client.ScopedLogin.Query().
		Where(scopedlogin.ID(pulid.ID(e.v.ScopedLoginID))).
		WithCustomerAccount().
		Only(ctx)
	if ent.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	e.scoped.grant = viewer.ScopedGrant{LoginID: string(l.ID), ResourceID: string(l.ResourceID), AccountID: string(l.CustomerAccountID)}
	a := l.Edges.CustomerAccount
	e.scoped.live = l.Status == scopedlogin.StatusACTIVE && ScopedAccountUsable(a)
	return nil
}

// ScopedAccountUsable reports whether a scoped login of account a may be
// used at all: the account is ACTIVE and has portal access. The one
// condition, shared by login, token checks and the evaluator.
func ScopedAccountUsable(a *ent.CustomerAccount) bool {
	return a != nil && a.Status == customeraccount.StatusACTIVE && a.PortalEnabled
}

// ScopedTo implements viewer.ScopedAccess.
func (e *Evaluator) ScopedTo(ctx context.Context) (viewer.ScopedGrant, bool, error) {
	if err := e.load(ctx); err != nil {
		return viewer.ScopedGrant{}, false, err
	}
	if e.v.Kind != viewer.ScopedLogin || e.scoped == nil {
		return viewer.ScopedGrant{}, false, nil
	}
	return e.scoped.grant, e.scoped.live, nil
}
