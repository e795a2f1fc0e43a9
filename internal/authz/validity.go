// Package authz is the one place that computes a principal's effective
// permissions on a customer account at an instant. Directives and ent
// privacy rules both ask it (through viewer.Access); nothing else decides.
package authz

import (
	"time"

	"portier/internal/caldate"
	"portier/internal/domain"
)

// Validity is the time shape shared by role assignments, support
// authorizations, group memberships and delegations.
type Validity struct {
	From      time.Time
	UntilDate *caldate.Date // inclusive last day in the account's zone
	EndedAt   *time.Time    // ended immediately at this instant
}

// ActiveAt reports whether a grant with validity v is active at t, for an
// account in loc: from <= t, t before an immediate end, and t before the end
// of the last day in loc.
func (v Validity) ActiveAt(t time.Time, loc *time.Location) bool {
	if t.Before(v.From) {
		return false
	}
	if v.EndedAt != nil && !t.Before(*v.EndedAt) {
		return false
	}
	if v.UntilDate != nil {
		end, err := v.UntilDate.EndIn(loc)
		if err != nil || !t.Before(end) {
			return false
		}
	}
	return true
}

// OverAt reports whether a grant has ended for good at t: it has started
// and is no longer active. A grant not yet started is not over; an ended
// one can be seen in history but neither changed nor ended again.
func (v Validity) OverAt(t time.Time, loc *time.Location) bool {
	return !t.Before(v.From) && !v.ActiveAt(t, loc)
}

// PermSet is a set of permissions.
type PermSet map[domain.Permission]struct{}

// Add adds ps to the set.
func (s PermSet) Add(ps ...domain.Permission) {
	for _, p := range ps {
		s[p] = struct{}{}
	}
}

// Has reports whether p is in the set.
func (s PermSet) Has(p domain.Permission) bool { _, ok := s[p]; return ok }

// List returns the permissions in catalogue order.
func (s PermSet) List() []domain.Permission {
	out := make([]domain.Permission, 0, len(s))
	for _, p := range domain.Permissions {
		if s.Has(p) {
			out = append(out, p)
		}
	}
	return out
}

// Effective is the pure rule for one contact on one account: the union of
// the active roles' and groups' permissions — but nothing at all unless
// PORTAL_ACCESS is among the active roles (docs/authorization.md, 'Roles and permissions').
func Effective(activeRoles []domain.Role, activeGroupPerms [][]string) PermSet {
	set := PermSet{}
	portal := false
	for _, r := range activeRoles {
		if r == domain.RolePortalAccess {
			portal = true
		}
	}
	if !portal {
		return set
	}
	for _, r := range activeRoles {
		set.Add(domain.RolePermissions[r]...)
	}
	for _, g := range activeGroupPerms {
		for _, p := range g {
			if perm := domain.Permission(p); perm.Valid() {
				set.Add(perm)
			}
		}
	}
	return set
}
