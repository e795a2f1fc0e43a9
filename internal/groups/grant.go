package groups

import (
	"context"

	"portier/internal/domain"
	"portier/internal/pulid"
)

// CheckGrant is the groups' escalation rule for other packages that make
// contacts members (invitations): FORBIDDEN with reason
// GRANT_EXCEEDS_OWN_PERMISSIONS on field when perms exceed the viewer's own
// permissions on the account.
func CheckGrant(ctx context.Context, accountID pulid.ID, perms []domain.Permission, field string) error {
	return checkGrant(ctx, accountID, perms, field)
}
