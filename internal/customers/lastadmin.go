package customers

import (
	"context"
	"time"

	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"

	"portier/ent"
	"portier/ent/predicate"
	"portier/ent/roleassignment"
	"portier/internal/apperr"
	"portier/internal/caldate"
	"portier/internal/domain"
	"portier/internal/pulid"
	"portier/internal/viewer"
)

// ReasonLastCustomerAdmin is the CONFLICT reason of a role change that would
// leave a customer account without an administrator.
const ReasonLastCustomerAdmin = "LAST_CUSTOMER_ADMIN"

// forever stands for an open-ended grant.
var forever = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)

// The last-admin rule. An account must always keep at least one contact that
// holds CUSTOMER_ADMIN and PORTAL_ACCESS: without both nobody can manage it
// through the portal. A contact's "admin horizon" is the instant its pair
// stops: the earlier of the ends of its active CUSTOMER_ADMIN and its active
// PORTAL_ACCESS (the latest end among several assignments of one role;
// open-ended counts as never). A removal that moves the target's horizon
// earlier — now, or as of a date — is allowed only when another contact's
// horizon reaches at least as far as the target's horizon did before the
// change. So removing an open-ended admin needs another open-ended admin,
// and an admin whose roles end on day D can be removed (now or as of any
// date) once another admin is active until at least the end of D. The
// account's horizon therefore never shrinks by removal, and two admins can
// hand over: the new one is added first, then the old one removed.
//
// Concurrency: the check reads the account's admin rows under a lock taken
// before the change (FOR UPDATE on PostgreSQL; SQLite write transactions
// take the database's single write lock at BEGIN), so two admins removing
// each other at the same time are serialised and the second sees the first's
// change.

// horizonOf returns the instant contact's pair of admin roles stops, from
// assignments (all of one account), or the zero time when the contact does
// not hold both now. override, when set, replaces the end of every active
// assignment of role for that contact.
func horizonOf(assignments []*ent.RoleAssignment, contact pulid.ID, now time.Time, loc *time.Location,
	role domain.Role, override *time.Time) time.Time {
	ends := map[domain.Role]time.Time{}
	for _, ra := range assignments {
		// A grant made through an agency delegation ends whenever the
		// client ends the delegation: it never keeps the account an admin.
		if ra.ContactID != contact || ra.GrantedViaDelegationID != nil || !validityOf(ra).ActiveAt(now, loc) {
			continue
		}
		end := endOf(ra, loc)
		if override != nil && ra.Role == role {
			end = *override
		}
		if end.After(ends[ra.Role]) {
			ends[ra.Role] = end
		}
	}
	a, p := ends[domain.RoleCustomerAdmin], ends[domain.RolePortalAccess]
	if a.IsZero() || p.IsZero() {
		return time.Time{}
	}
	if a.Before(p) {
		return a
	}
	return p
}

// endOf is the instant an assignment stops being active.
func endOf(ra *ent.RoleAssignment, loc *time.Location) time.Time {
	end := forever
	if ra.ValidUntil != nil {
		if t, err := ra.ValidUntil.EndIn(loc); err == nil {
			end = t
		}
	}
	if ra.EndedAt != nil && ra.EndedAt.Before(end) {
		end = *ra.EndedAt
	}
	return end
}

// checkLastAdmin refuses removing role from ct (now when lastDay is nil, else
// at the end of lastDay) when no other contact would keep the account
// administered as long as ct would have. It locks the account's admin rows
// first; c is the mutation's transaction.
func checkLastAdmin(ctx context.Context, c *ent.Client, ct *ent.Contact, role domain.Role, lastDay *caldate.Date,
	now time.Time, loc *time.Location) error {
	if role != domain.RoleCustomerAdmin && role != domain.RolePortalAccess {
		return nil
	}
	// Read as Portier: the rule counts every admin of the account, also
	// those the actor could not list; the directive has decided the access.
	sys := viewer.SystemContext(ctx)
	q := c.RoleAssignment.Query().Where(
		roleassignment.CustomerAccountID(ct.CustomerAccountID),
		roleassignment.RoleIn(domain.RoleCustomerAdmin, domain.RolePortalAccess),
		roleassignment.EndedAtIsNil(),
		lockedOnPostgres(),
	)
	assignments, err := q.All(sys)
	if err != nil {
		return err
	}
	before := horizonOf(assignments, ct.ID, now, loc, role, nil)
	if before.IsZero() {
		return nil // not an administrator now: nothing to keep
	}
	newEnd := now
	if lastDay != nil {
		if newEnd, err = lastDay.EndIn(loc); err != nil {
			return err
		}
	}
	after := horizonOf(assignments, ct.ID, now, loc, role, &newEnd)
	if !after.Before(before) {
		return nil // an extension or no change
	}
	others := map[pulid.ID]bool{}
	for _, ra := range assignments {
		if ra.ContactID != ct.ID {
			others[ra.ContactID] = true
		}
	}
	for other := range others {
		if h := horizonOf(assignments, other, now, loc, "", nil); !h.IsZero() && !h.Before(before) {
			return nil
		}
	}
	e := apperr.Conflict("input.role",
		"this would leave the customer account without an administrator: another contact must hold CUSTOMER_ADMIN and PORTAL_ACCESS at least as long as this one does (open-ended, or until a day no earlier) before %s can be removed", role)
	e.Reason = ReasonLastCustomerAdmin
	return e
}

// lockedOnPostgres makes the query SELECT … FOR UPDATE on PostgreSQL. It is a
// predicate because the selector knows its dialect there; on SQLite the
// write transaction already holds the database's only write lock.
func lockedOnPostgres() predicate.RoleAssignment {
	return func(s *sql.Selector) {
		if s.Dialect() == dialect.Postgres {
			s.ForUpdate(sql.WithLockTables(roleassignment.Table))
		}
	}
}
