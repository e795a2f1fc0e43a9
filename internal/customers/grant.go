package customers

import (
	"context"

	"portier/internal/domain"
	"portier/internal/pulid"
)

// CheckRoleGrant is the rule "nobody grants what he does not hold" for
// roles, for other packages that grant roles (invitations): FORBIDDEN with
// reason GRANT_EXCEEDS_OWN_PERMISSIONS on field when a role gives a
// permission the viewer lacks on the account. Staff are exempt.
func CheckRoleGrant(ctx context.Context, accountID pulid.ID, roles []domain.Role, field string) error {
	return checkRoleGrant(ctx, accountID, roles, field)
}

// Dedupe returns roles without duplicates, in their first order.
func Dedupe(roles []domain.Role) []domain.Role { return dedupe(roles) }
