package graph

import (
	"context"
	"slices"
	"strings"

	"github.com/99designs/gqlgen/graphql"

	"portier/ent"
	"portier/graph/generated"
	"portier/internal/apperr"
	"portier/internal/authz"
	"portier/internal/domain"
	"portier/internal/pulid"
	"portier/internal/viewer"
)

// invalidCredentialsKey marks a request that presented a bearer token that
// was not accepted, so that @auth can say so instead of "not logged in".
type invalidCredentialsKey struct{}

func errUnauthenticated(ctx context.Context) error {
	if bad, _ := ctx.Value(invalidCredentialsKey{}).(bool); bad {
		return apperr.Unauthenticated("the access token is invalid or expired")
	}
	return apperr.Unauthenticated("authentication required")
}

// allowedWhilePasswordChangeRequired are the only fields a viewer with
// mustChangePassword may use (change the initial password first: docs/authorization.md, 'Principals').
var allowedWhilePasswordChangeRequired = map[string]bool{"changePassword": true, "me": true, "logout": true}

// authenticated checks that the viewer is logged in and, when it must
// change its password, that the field is one it may still use.
func authenticated(ctx context.Context) (*viewer.Viewer, error) {
	v := viewer.FromContext(ctx)
	if v.Kind == viewer.Anonymous || v.Access == nil {
		return nil, errUnauthenticated(ctx)
	}
	if v.MustChangePassword {
		if fc := graphql.GetFieldContext(ctx); fc == nil || !allowedWhilePasswordChangeRequired[fc.Field.Name] {
			return nil, apperr.ForbiddenReason("PASSWORD_CHANGE_REQUIRED", "change your password first (changePassword)")
		}
	}
	return v, nil
}

// Directives returns the implementations of the auth directives. None of
// them lets a request through by default: each checks the viewer and calls
// next only when it passes.
func Directives(client *ent.Client) generated.DirectiveRoot {
	return generated.DirectiveRoot{
		// Staff decisions (IsStaff, HasStaffRole) are the evaluator's: the
		// viewer methods delegate to it (authz.Evaluator.HasStaffRole).
		SelfOrStaff: func(ctx context.Context, obj any, next graphql.Resolver) (any, error) {
			v := viewer.FromContext(ctx)
			if u, ok := obj.(*ent.UserAccount); ok && (v.IsStaff() || (v.UserID != "" && string(u.ID) == v.UserID)) {
				return next(ctx)
			}
			if fc := graphql.GetFieldContext(ctx); fc != nil && fc.Field.Definition != nil && fc.Field.Definition.Type.NonNull {
				return nil, apperr.Forbidden("only the user and provider staff may read " + fc.Field.Name)
			}
			return nil, nil
		},
		Public: func(ctx context.Context, _ any, next graphql.Resolver) (any, error) {
			return next(ctx)
		},
		Auth: func(ctx context.Context, _ any, next graphql.Resolver) (any, error) {
			v, err := authenticated(ctx)
			if err != nil {
				return nil, err
			}
			if err := keyMayUse(ctx, v, false); err != nil {
				return nil, err
			}
			if err := scopedMayUse(ctx, v); err != nil {
				return nil, err
			}
			return next(ctx)
		},
		CredentialsRight: func(ctx context.Context, _ any, next graphql.Resolver, resource string) (any, error) {
			return credentialsRight(ctx, client, next, resource)
		},
		Staff: func(ctx context.Context, _ any, next graphql.Resolver, role *domain.StaffRole) (any, error) {
			v, err := authenticated(ctx)
			if err != nil {
				return nil, err
			}
			if !v.IsStaff() || (role != nil && !v.HasStaffRole(*role)) {
				return nil, apperr.Forbidden("this operation is for provider staff only")
			}
			return next(ctx)
		},
		HasPermission: func(ctx context.Context, _ any, next graphql.Resolver, p domain.Permission, account string) (any, error) {
			v, err := authenticated(ctx)
			if err != nil {
				return nil, err
			}
			if err := keyMayUse(ctx, v, true); err != nil {
				return nil, err
			}
			id, field, err := argumentID(ctx, account)
			if err != nil {
				return nil, err
			}
			// The viewer's grants are loaded whether or not the object
			// exists, so a foreign object and a made-up ID take the same
			// work (no timing oracle).
			_, perms, found, err := authz.ObjectPermissions(ctx, client, v.Access, id)
			if err != nil {
				return nil, err
			}
			if !found {
				return nil, notFoundAt(field)
			}
			if slices.Contains(perms, p) {
				if err := keyOwnContact(ctx, client, v, id); err != nil {
					return nil, err
				}
				return next(ctx)
			}
			if len(perms) == 0 {
				// No right at all on that account: indistinguishable from
				// an ID that does not exist.
				return nil, notFoundAt(field)
			}
			return nil, apperr.Forbidden("missing permission " + p.EnumName() + " on this customer account")
		},
	}
}

func notFoundAt(field string) error {
	e := apperr.NotFound()
	e.Field = field
	return e
}

// argumentID reads the ID at a dotted argument path ("input.contactID") from
// the field's raw arguments.
func argumentID(ctx context.Context, path string) (pulid.ID, string, error) {
	fc := graphql.GetFieldContext(ctx)
	oc := graphql.GetOperationContext(ctx)
	var cur any = fc.Field.ArgumentMap(oc.Variables)
	for _, part := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return "", path, apperr.BadInput(path, "%s is required", path)
		}
		cur = m[part]
	}
	s, ok := cur.(string)
	if !ok || s == "" {
		return "", path, apperr.BadInput(path, "%s is required", path)
	}
	return pulid.ID(s), path, nil
}
