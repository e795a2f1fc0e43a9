package authz

import (
	"context"
	"sync"
	"time"

	"portier/ent"
	"portier/ent/accountmanager"
	"portier/ent/contact"
	"portier/ent/customeraccount"
	"portier/ent/rightsgroup"
	"portier/internal/caldate"
	"portier/internal/domain"
	"portier/internal/pulid"
	"portier/internal/viewer"
)

// Evaluator computes the effective permissions of one viewer at one instant
// (the start of its request). It loads the viewer's grants once, with a
// bounded number of queries, and answers every later question from memory.
type Evaluator struct {
	client *ent.Client
	v      *viewer.Viewer
	now    time.Time

	once     sync.Once
	err      error
	accounts map[string]PermSet // from the viewer's own contacts
	contacts map[string]*ent.Contact
	// client account -> agency it is reached through (agency.go)
	viaAgency map[string]string
	// client account -> a live delegation the viewer's rights there come through
	viaDelegation map[string]pulid.ID
	// grants made through an agency delegation (delegated.go): the
	// delegations they name, what the viewer holds from grants made
	// without one, and the delegation new grants by the viewer are tied to
	delegations map[pulid.ID]*ent.AgencyDelegation
	untied      map[string]PermSet
	tiedVia     map[string]pulid.ID
	// staff state
	salesAccounts map[string]bool // assigned account -> has consent
	scoped        *scopedState    // a scoped login's binding (scoped.go)
	creds         credentialState // support authorizations for credentials (credentials.go)
	blocked       bool            // no rights at all (unverified, must change password)
	// accounts whose permissions the second-factor policy withholds (secondfactor.go)
	withheld map[string]bool
	reads    staffReads // accounts a staff viewer read (staff.go)
}

// New returns an Evaluator for v at now. It implements viewer.Access.
func New(client *ent.Client, v *viewer.Viewer, now time.Time) *Evaluator {
	return &Evaluator{client: client, v: v, now: now.UTC()}
}

var _ viewer.Access = (*Evaluator)(nil)

func (e *Evaluator) load(ctx context.Context) error {
	e.once.Do(func() { e.err = e.loadGrants(viewer.SystemContext(ctx)) })
	return e.err
}

// loadGrants reads, as Portier itself, the viewer's contacts with their
// accounts, the accounts' built-in groups, roles and group memberships
// (5 queries), and for SALES staff the assigned accounts (1 query).
func (e *Evaluator) loadGrants(ctx context.Context) error {
	e.accounts = map[string]PermSet{}
	e.contacts = map[string]*ent.Contact{}
	if e.v.Kind == viewer.ScopedLogin {
		// A scoped login holds no permission on any account: it sees its
		// one resource and its own login only (scoped.go).
		e.blocked = true
		return e.loadScoped(ctx)
	}
	if e.v.UserID == "" || !e.v.EmailVerified || e.v.MustChangePassword {
		// An unverified user, or one who must first change the password,
		// acts for no customer account (and holds no staff rights).
		e.blocked = true
		return nil
	}
	uid := pulid.ID(e.v.UserID)
	if e.v.Kind == viewer.APIKey && e.v.Key == nil {
		e.blocked = true // an API key principal without its narrowing: nothing
		return nil
	}
	if e.v.StaffRole != "" {
		// Staff act through their staff role only; contacts linked to a
		// staff user give nothing, so that removing an account manager
		// assignment really ends the access.
		return e.loadSales(ctx, uid)
	}
	contacts, err := e.client.Contact.Query().
		// A deleted contact gives nothing (its link is cleared and its
		// grants ended at deletion; this holds even if one was missed).
		Where(contact.UserID(uid), contact.DeletedAtIsNil()).
		WithCustomerAccount(func(q *ent.CustomerAccountQuery) {
			// The built-in group, of which every contact is a member.
			q.WithRightsGroups(func(q *ent.RightsGroupQuery) { q.Where(rightsgroup.BuiltIn(true)) })
		}).
		WithRoleAssignments().
		WithGroupMemberships(func(q *ent.GroupMembershipQuery) { q.WithGroup() }).
		All(ctx)
	if err != nil {
		return err
	}
	// Grants made through an agency delegation end with it: load the
	// delegations they name (one query).
	var via []*pulid.ID
	for _, c := range contacts {
		for _, ra := range c.Edges.RoleAssignments {
			via = append(via, ra.GrantedViaDelegationID)
		}
		for _, m := range c.Edges.GroupMemberships {
			via = append(via, m.GrantedViaDelegationID)
		}
	}
	if err := e.loadDelegations(ctx, via); err != nil {
		return err
	}
	e.untied = map[string]PermSet{}
	e.tiedVia = map[string]pulid.ID{}
	for _, c := range contacts {
		acct := c.Edges.CustomerAccount
		if c.DeletedAt != nil || acct == nil || acct.Status != customeraccount.StatusACTIVE || !acct.PortalEnabled {
			continue
		}
		e.contacts[string(acct.ID)] = c
		loc, err := caldate.Zone(acct.TimeZone)
		if err != nil {
			loc = time.UTC
		}
		var roles, untiedRoles []domain.Role
		for _, ra := range c.Edges.RoleAssignments {
			if e.GrantActive(Validity{From: ra.ValidFrom, UntilDate: ra.ValidUntil, EndedAt: ra.EndedAt}, ra.GrantedViaDelegationID, loc) {
				roles = append(roles, ra.Role)
				if ra.GrantedViaDelegationID == nil {
					untiedRoles = append(untiedRoles, ra.Role)
				} else {
					e.tiedVia[string(acct.ID)] = *ra.GrantedViaDelegationID
				}
			}
		}
		var groups, untiedGroups [][]string
		for _, g := range acct.Edges.RightsGroups {
			if g.BuiltIn {
				groups = append(groups, g.Permissions) // implicit member (still gated by PORTAL_ACCESS)
				untiedGroups = append(untiedGroups, g.Permissions)
			}
		}
		for _, m := range c.Edges.GroupMemberships {
			if m.Edges.Group == nil || m.Edges.Group.CustomerAccountID != acct.ID {
				continue
			}
			if e.GrantActive(Validity{From: m.ValidFrom, UntilDate: m.ValidUntil, EndedAt: m.EndedAt}, m.GrantedViaDelegationID, loc) {
				groups = append(groups, m.Edges.Group.Permissions)
				if m.GrantedViaDelegationID == nil {
					untiedGroups = append(untiedGroups, m.Edges.Group.Permissions)
				} else {
					e.tiedVia[string(acct.ID)] = *m.GrantedViaDelegationID
				}
			}
		}
		set := Effective(roles, groups)
		untied := Effective(untiedRoles, untiedGroups)
		if prev, ok := e.accounts[string(acct.ID)]; ok {
			set.Add(prev.List()...)
		}
		if prev, ok := e.untied[string(acct.ID)]; ok {
			untied.Add(prev.List()...)
		}
		if e.withholds(acct) {
			if len(set) > 0 {
				e.noteWithheld(string(acct.ID)) // something is really withheld
			}
			set = PermSet{}
			untied = PermSet{}
		}
		e.accounts[string(acct.ID)] = set
		e.untied[string(acct.ID)] = untied
	}
	if err := e.loadAgencies(ctx); err != nil {
		return err
	}
	if e.v.Key != nil {
		e.narrowToKey(e.v.Key)
	}
	return nil
}

// loadSales reads the accounts a SALES user is assigned to.
func (e *Evaluator) loadSales(ctx context.Context, uid pulid.ID) error {
	if e.v.StaffRole == domain.StaffSales {
		rows, err := e.client.AccountManager.Query().
			Where(accountmanager.UserID(uid)).
			WithCustomerAccount().
			All(ctx)
		if err != nil {
			return err
		}
		e.salesAccounts = map[string]bool{}
		for _, r := range rows {
			if a := r.Edges.CustomerAccount; a != nil {
				e.salesAccounts[string(a.ID)] = a.SupportAccessConsent
			}
		}
	}
	return nil
}

// StaffPermissions is what staff role r holds on an account with the given
// consent flag; assigned tells whether a SALES user is assigned to it. The
// evaluator decides with it; docs/authorization.md shows it as a table.
func StaffPermissions(r domain.StaffRole, consent, assigned bool) PermSet {
	return staffPermissions(r, consent, assigned)
}

// staffPermissions returns what the viewer's staff role grants on an
// account with the given consent flag; assigned tells whether a SALES user
// is assigned to it.
func staffPermissions(role domain.StaffRole, consent, assigned bool) PermSet {
	set := PermSet{}
	switch role {
	case domain.StaffAdmin:
		set.Add(domain.Permissions...)
	case domain.StaffSupport:
		set.Add(domain.StaffSupportPermissions...)
		set.Add(domain.StaffSupportProvisioning...)
		if consent {
			set.Add(domain.StaffConsentPermissions...)
		}
	case domain.StaffSales:
		if assigned {
			set.Add(domain.StaffSupportPermissions...)
			if consent {
				set.Add(domain.StaffConsentPermissions...)
				set.Add(domain.StaffSalesConsentPermissions...)
			}
		}
	}
	return set
}

func contains(ps []domain.Permission, p domain.Permission) bool {
	for _, x := range ps {
		if x == p {
			return true
		}
	}
	return false
}

// Accounts implements viewer.Access.
func (e *Evaluator) Accounts(ctx context.Context, p domain.Permission) (viewer.Scope, error) {
	if err := e.load(ctx); err != nil {
		return viewer.Scope{}, err
	}
	var scope viewer.Scope
	if e.blocked {
		return scope, nil
	}
	switch e.v.StaffRole {
	case domain.StaffAdmin:
		return viewer.Scope{All: true}, nil
	case domain.StaffSupport:
		if contains(domain.StaffSupportPermissions, p) || contains(domain.StaffSupportProvisioning, p) {
			return viewer.Scope{All: true}, nil
		}
		if contains(domain.StaffConsentPermissions, p) {
			scope.Consenting = true
		}
	case domain.StaffSales:
		for id, consent := range e.salesAccounts {
			if staffPermissions(domain.StaffSales, consent, true).Has(p) {
				scope.IDs = append(scope.IDs, id)
			}
		}
	}
	for id, set := range e.accounts {
		if set.Has(p) {
			scope.IDs = append(scope.IDs, id)
		}
	}
	return scope, nil
}

// Permissions implements viewer.Access: the effective permissions on one
// account, including those of a staff role.
func (e *Evaluator) Permissions(ctx context.Context, accountID string) ([]domain.Permission, error) {
	if err := e.load(ctx); err != nil {
		return nil, err
	}
	set := PermSet{}
	if e.blocked {
		return nil, nil
	}
	if own, ok := e.accounts[accountID]; ok {
		set.Add(own.List()...)
	}
	if role := e.StaffRole(); role != "" {
		consent := false
		assigned := false
		switch role {
		case domain.StaffSupport:
			acct, err := e.client.CustomerAccount.Query().
				Where(customeraccount.ID(pulid.ID(accountID))).
				Select(customeraccount.FieldSupportAccessConsent).
				Only(viewer.SystemContext(ctx))
			if err != nil && !ent.IsNotFound(err) {
				return nil, err
			}
			consent = acct != nil && acct.SupportAccessConsent
		case domain.StaffSales:
			consent, assigned = e.salesAccounts[accountID]
		}
		staff := staffPermissions(role, consent, assigned)
		if len(staff) > 0 {
			e.NoteStaffRead(accountID)
		}
		set.Add(staff.List()...)
	}
	return set.List(), nil
}

// Memberships returns the viewer's own contacts, keyed by account ID, and
// the permissions each gives now. Used for `me`.
func (e *Evaluator) Memberships(ctx context.Context) (map[string]*ent.Contact, map[string]PermSet, error) {
	if err := e.load(ctx); err != nil {
		return nil, nil, err
	}
	return e.contacts, e.accounts, nil
}
