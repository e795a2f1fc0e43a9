package authz

import (
	"context"

	"portier/ent"
	"portier/internal/pulid"
	"portier/internal/viewer"
)

// OwnerAccount returns the customer account an object belongs to: the ID
// itself for a customer account, else the object's customer_account_id. It
// reads as Portier itself; callers decide what the viewer may learn, and
// must answer NOT_FOUND for accounts the viewer cannot see.
func OwnerAccount(ctx context.Context, client *ent.Client, id pulid.ID) (pulid.ID, error) {
	n, err := client.Noder(viewer.SystemContext(ctx), id, ent.WithNodeType(ent.IDToType))
	if err != nil {
		return "", err
	}
	switch o := n.(type) {
	case *ent.CustomerAccount:
		return o.ID, nil
	case *ent.Contact:
		return o.CustomerAccountID, nil
	case *ent.RoleAssignment:
		return o.CustomerAccountID, nil
	case *ent.SupportAuthorization:
		return o.CustomerAccountID, nil
	case *ent.RightsGroup:
		return o.CustomerAccountID, nil
	case *ent.GroupMembership:
		return o.CustomerAccountID, nil
	case *ent.Resource:
		return o.CustomerAccountID, nil
	case *ent.ScopedLogin:
		return o.CustomerAccountID, nil
	case *ent.Invitation:
		return o.CustomerAccountID, nil
	case *ent.AgencyDelegation:
		return o.CustomerAccountID, nil
	case *ent.AccountManager:
		return o.CustomerAccountID, nil
	}
	return "", &ent.NotFoundError{}
}
