package authz

import (
	"context"
	"slices"
	"sync"
	"time"

	"portier/ent"
	"portier/ent/resource"
	"portier/ent/scopedlogin"
	"portier/ent/supportauthorization"
	"portier/internal/caldate"
	"portier/internal/domain"
	"portier/internal/pulid"
	"portier/internal/viewer"
)

// Credentials of resources (issue 9). Who may create a scoped login for a
// resource, change its password, disable or delete it: whoever holds
// LOGINS_MANAGE on the resource's account (customer admins, staff ADMIN, an
// API key narrowed to it), or — for a personal user acting in the portal
// (PORTAL_ACCESS active) — a support authorization (Freigabe)
// that covers the resource's kind:
//
//	CREDENTIALS_WEBSERVER   WEB_VHOST
//	CREDENTIALS_MAILSERVER  MAIL_VHOST, MAILBOX (not domains)
//	CREDENTIALS_IT_GENERAL  every kind
//	GENERAL_AUTHORITY       every kind ("darf alles")
//
// A support authorization counts for an API call only for the person's own
// user (not an API key: keys are narrowed by permissions, and a Freigabe is
// none), on an account where it acts for the customer, while it is in force
// (validity in the account's time zone). This is the one place that decides.

// CredentialAuthorizations are the support authorizations that let their
// holder manage the credentials of a resource of kind k. GENERAL_AUTHORITY
// is listed because it implies every kind (authorizations.Implies; a test
// checks the two agree).
func CredentialAuthorizations(k resource.Kind) []domain.SupportAuthorizationKind {
	out := []domain.SupportAuthorizationKind{domain.AuthGeneralAuthority, domain.AuthCredentialsITGeneral}
	switch k {
	case resource.KindWEB_VHOST:
		out = append(out, domain.AuthCredentialsWebserver)
	case resource.KindMAIL_VHOST, resource.KindMAILBOX:
		out = append(out, domain.AuthCredentialsMailserver)
	}
	return out
}

// credentialState caches the viewer's active support authorizations per
// account, loaded on the first question (one query).
type credentialState struct {
	once sync.Once
	err  error
	held map[string][]domain.SupportAuthorizationKind
}

func (e *Evaluator) loadCredentials(ctx context.Context) error {
	e.creds.once.Do(func() {
		e.creds.held = map[string][]domain.SupportAuthorizationKind{}
		if e.blocked || e.v.Kind != viewer.User || e.StaffRole() != "" {
			return
		}
		var ids []pulid.ID
		for acct, c := range e.contacts {
			if len(e.accounts[acct]) > 0 { // PORTAL_ACCESS is active there
				ids = append(ids, c.ID)
			}
		}
		if len(ids) == 0 {
			return
		}
		rows, err := e.client.SupportAuthorization.Query().
			Where(supportauthorization.ContactIDIn(ids...), supportauthorization.EndedAtIsNil(),
				supportauthorization.ValidFromLTE(e.now)).
			All(viewer.SystemContext(ctx))
		if err != nil {
			e.creds.err = err
			return
		}
		via := make([]*pulid.ID, 0, len(rows))
		for _, sa := range rows {
			via = append(via, sa.GrantedViaDelegationID)
		}
		if err := e.loadDelegations(ctx, via); err != nil {
			e.creds.err = err
			return
		}
		for _, sa := range rows {
			acct := string(sa.CustomerAccountID)
			c := e.contacts[acct]
			if c == nil || c.ID != sa.ContactID {
				continue
			}
			loc := time.UTC
			if a := c.Edges.CustomerAccount; a != nil {
				if l, err := caldate.Zone(a.TimeZone); err == nil {
					loc = l
				}
			}
			if e.GrantActive(Validity{From: sa.ValidFrom, UntilDate: sa.ValidUntil, EndedAt: sa.EndedAt}, sa.GrantedViaDelegationID, loc) {
				e.creds.held[acct] = append(e.creds.held[acct], sa.Kind)
			}
		}
	})
	return e.creds.err
}

// MayManageCredentials reports whether the viewer may manage the
// credentials (scoped logins) of a resource of kind k on account acct.
func (e *Evaluator) MayManageCredentials(ctx context.Context, acct string, k resource.Kind) (bool, error) {
	perms, err := e.Permissions(ctx, acct)
	if err != nil {
		return false, err
	}
	if slices.Contains(perms, domain.PermLoginsManage) {
		return true, nil
	}
	if err := e.loadCredentials(ctx); err != nil {
		return false, err
	}
	for _, held := range e.creds.held[acct] {
		if slices.Contains(CredentialAuthorizations(k), held) {
			return true, nil
		}
	}
	return false, nil
}

// CredentialsAccess is what the evaluator offers to decide on credentials.
type CredentialsAccess interface {
	MayManageCredentials(ctx context.Context, acct string, k resource.Kind) (bool, error)
}

// ResourceCredentials resolves the resource an ID names — a resource, or a
// scoped login's resource — and decides for the viewer: visible is false
// when it holds no right at all on the resource's account (the caller
// answers NOT_FOUND, as for an ID that does not exist); allowed tells
// whether it may manage the resource's credentials. Unknown IDs and
// foreign ones cost the same work.
func ResourceCredentials(ctx context.Context, client *ent.Client, a viewer.Access, id pulid.ID) (res *ent.Resource, visible, allowed bool, err error) {
	sys := viewer.SystemContext(ctx)
	table, terr := ent.IDToType(ctx, id)
	switch {
	case terr != nil:
	case table == resource.Table:
		res, err = client.Resource.Get(sys, id)
	case table == scopedlogin.Table:
		res, err = client.Resource.Query().Where(resource.HasScopedLoginsWith(scopedlogin.ID(id))).Only(sys)
	}
	if err != nil && !ent.IsNotFound(err) {
		return nil, false, false, err
	}
	acct := ""
	if res != nil {
		acct = string(res.CustomerAccountID)
	}
	perms, err := a.Permissions(ctx, acct) // loads the grants either way
	if err != nil || res == nil {
		return nil, false, false, err
	}
	ca, ok := a.(CredentialsAccess)
	if !ok {
		return res, len(perms) > 0, false, nil
	}
	allowed, err = ca.MayManageCredentials(ctx, acct, res.Kind)
	if err != nil {
		return nil, false, false, err
	}
	return res, allowed || len(perms) > 0, allowed, nil
}

// MayManageResourceCredentials answers the ent privacy rule of scoped
// logins: may the viewer manage the credentials of the resource id names
// (a resource or a scoped login)?
func (e *Evaluator) MayManageResourceCredentials(ctx context.Context, id string) (bool, error) {
	_, _, allowed, err := ResourceCredentials(ctx, e.client, e, pulid.ID(id))
	return allowed, err
}
