package graph

import (
	"context"
	"sync"

	"portier/ent"
	"portier/ent/customeraccount"
	"portier/graph/generated"
	"portier/graph/model"
	"portier/internal/domain"
	"portier/internal/groups"
	"portier/internal/pulid"
	"portier/internal/viewer"
)

// groups returns the rights-group operations bound to the request's
// transaction.
func (r *Resolver) groups(ctx context.Context) *groups.Service {
	return &groups.Service{Tx: func() (*ent.Client, error) { return Tx(ctx) }, Now: r.Now}
}

// viewerPermissions is what myPermissions and can answer: the one
// evaluator's effective permissions of the viewer on an account. An account
// the viewer cannot see, one that does not exist and an ID of anything else
// all give the empty list. Only staff roles grant permissions without a
// contact on the account, so only for staff does the existence of the
// account have to be checked (staff may know every account anyway).
func (r *Resolver) viewerPermissions(ctx context.Context, id pulid.ID) ([]domain.Permission, error) {
	v := viewer.FromContext(ctx)
	perms, err := v.Access.Permissions(ctx, string(id))
	if err != nil {
		return nil, err
	}
	if len(perms) == 0 {
		return []domain.Permission{}, nil
	}
	if v.IsStaff() {
		exists, err := r.Client.CustomerAccount.Query().Where(customeraccount.ID(id)).Exist(viewer.SystemContext(ctx))
		if err != nil {
			return nil, err
		}
		if !exists {
			return []domain.Permission{}, nil
		}
	}
	return perms, nil
}

// permissionCatalogue is read once from the schema's Permission enum, so
// that the descriptions have a single source: the SDL.
var permissionCatalogue = sync.OnceValue(func() []*model.PermissionInfo {
	def := generated.NewExecutableSchema(generated.Config{}).Schema().Types["Permission"]
	docs := map[string]string{}
	if def != nil {
		for _, v := range def.EnumValues {
			docs[v.Name] = v.Description
		}
	}
	out := make([]*model.PermissionInfo, len(domain.Permissions))
	for i, p := range domain.Permissions {
		out[i] = &model.PermissionInfo{Name: p, Description: docs[p.EnumName()]}
	}
	return out
})
