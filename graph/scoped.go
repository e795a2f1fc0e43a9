package graph

import (
	"context"

	"portier/ent"
	"portier/graph/model"
	"portier/internal/identity"
	"portier/internal/pulid"
	"portier/internal/resources"
	"portier/internal/viewer"
)

// resources returns the resource and scoped login operations bound to the
// request's transaction.
func (r *Resolver) resources(ctx context.Context) *resources.Service {
	return &resources.Service{Client: r.Client, Tx: func() (*ent.Client, error) { return Tx(ctx) }, Now: r.Now}
}

// loginKind maps the API's LoginKind (USER by default) to a principal kind.
func loginKind(k *model.LoginKind) viewer.Kind {
	if k != nil && *k == model.LoginKindScopedLogin {
		return viewer.ScopedLogin
	}
	return viewer.User
}

// voidScopedLinks voids a scoped login's pending links when a manager sets
// its password.
func (r *Resolver) voidScopedLinks(ctx context.Context, c *ent.Client, id pulid.ID) error {
	return identity.VoidScopedLinks(ctx, c, id, r.Now())
}
