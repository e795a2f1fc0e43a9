package authz

import (
	"context"
	"sort"
	"sync"

	"portier/ent"
	"portier/internal/domain"
	"portier/internal/pulid"
	"portier/internal/viewer"
)

// Staff decisions. Every question "does this principal act as provider
// staff, with which role" is answered here: the @staff and @selfOrStaff
// directives and the ent privacy rules ask through viewer.HasStaffRole,
// which delegates to the evaluator (viewer.StaffAccess). A principal that is
// not a personal user (an API key, a scoped login), a user that has not
// verified its address, or one that must first change its password holds
// no staff role at all.

var _ viewer.StaffAccess = (*Evaluator)(nil)

// StaffRole is the staff role the viewer acts with now, or "".
func (e *Evaluator) StaffRole() domain.StaffRole {
	v := e.v
	if v == nil || v.Kind != viewer.User || v.UserID == "" || !v.EmailVerified || v.MustChangePassword {
		return ""
	}
	return v.StaffRole
}

// HasStaffRole implements viewer.StaffAccess: ADMIN holds every role; ""
// asks for any staff role.
func (e *Evaluator) HasStaffRole(r domain.StaffRole) bool {
	role := e.StaffRole()
	return role != "" && (r == "" || role == domain.StaffAdmin || role == r)
}

// staffReads are the customer accounts whose contents a staff viewer saw in
// this request; the graph layer writes one staff.read audit event for each
// when the operation is over.
type staffReads struct {
	mu  sync.Mutex
	ids map[string]bool
}

// NoteStaffRead records that a staff viewer read (or was handed rights on)
// the customer account id in this request. It does nothing for other
// viewers.
func (e *Evaluator) NoteStaffRead(id string) {
	if id == "" || e.StaffRole() == "" {
		return
	}
	e.reads.mu.Lock()
	defer e.reads.mu.Unlock()
	if e.reads.ids == nil {
		e.reads.ids = map[string]bool{}
	}
	e.reads.ids[id] = true
}

// TakeStaffReads returns the accounts noted so far, sorted, and forgets
// them, so that each is recorded once per request.
func (e *Evaluator) TakeStaffReads() []string {
	e.reads.mu.Lock()
	defer e.reads.mu.Unlock()
	out := make([]string, 0, len(e.reads.ids))
	for id := range e.reads.ids {
		out = append(out, id)
	}
	e.reads.ids = nil
	sort.Strings(out)
	return out
}

// ObjectPermissions returns the customer account an object belongs to and
// the viewer's effective permissions there; found is false when the ID
// names no object. Either way the viewer's grants are loaded (and the same
// number of statements run), so that another customer's object and a
// made-up ID take the same work and cannot be told apart by timing; the
// caller answers NOT_FOUND for both.
func ObjectPermissions(ctx context.Context, client *ent.Client, a viewer.Access, id pulid.ID) (acct pulid.ID, perms []domain.Permission, found bool, err error) {
	acct, err = OwnerAccount(ctx, client, id)
	found = err == nil
	if err != nil && !ent.IsNotFound(err) {
		return "", nil, false, err
	}
	if !found {
		acct = ""
	}
	perms, err = a.Permissions(ctx, string(acct))
	if err != nil || !found {
		return "", nil, false, err
	}
	return acct, perms, true, nil
}
