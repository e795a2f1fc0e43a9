package authorizations

import (
	"portier/ent/contact"
	"portier/ent/predicate"
	"portier/internal/pulid"
)

func contactIDIs(id pulid.ID) predicate.Contact { return contact.ID(id) }
