package customers

import (
	"portier/ent"
	"portier/ent/contact"
	"portier/ent/predicate"
	"portier/internal/authz"
	"portier/internal/pulid"
)

func contactID(id pulid.ID) predicate.Contact { return contact.ID(id) }

func validityOf(ra *ent.RoleAssignment) authz.Validity {
	return authz.Validity{From: ra.ValidFrom, UntilDate: ra.ValidUntil, EndedAt: ra.EndedAt}
}
