package graph

import (
	"context"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"

	"portier/ent"
	"portier/ent/scopedlogin"
	"portier/ent/session"
	"portier/internal/apperr"
	"portier/internal/authz"
	"portier/internal/pulid"
	"portier/internal/token"
	"portier/internal/viewer"
)

// isScopedToken reports whether the Authorization header carries a valid
// access token of a scoped login (checked again, with its session, by
// authenticateScoped).
func isScopedToken(tokens *token.Issuer, header string, now time.Time) bool {
	raw, ok := strings.CutPrefix(header, "Bearer ")
	if !ok {
		return false
	}
	claims, err := tokens.Parse(strings.TrimSpace(raw), now)
	return err == nil && claims.Kind == string(viewer.ScopedLogin)
}

// authenticateScoped makes v the scoped login of a valid access token: its
// session is live and belongs to that login, the login is ACTIVE and its
// customer account ACTIVE with portal access (so deactivating the account
// blocks its scoped logins at the next request). Two primary-key reads.
func (a *authenticator) authenticateScoped(ctx context.Context, header string, now time.Time, v *viewer.Viewer) error {
	raw, _ := strings.CutPrefix(header, "Bearer ")
	claims, err := a.tokens.Parse(strings.TrimSpace(raw), now)
	if err != nil || claims.Kind != string(viewer.ScopedLogin) {
		return errBadToken
	}
	sys := viewer.SystemContext(ctx)
	s, err := a.client.Session.Query().
		Where(session.ID(pulid.ID(claims.SessionID)), session.RevokedAtIsNil(), session.ExpiresAtGT(now)).
		Only(sys)
	if ent.IsNotFound(err) {
		return errBadToken
	}
	if err != nil {
		return err
	}
	if s.ScopedLoginID == nil || string(*s.ScopedLoginID) != claims.Subject {
		return errBadToken
	}
	l, err := a.client.ScopedLogin.Query().
		Where(scopedlogin.ID(*s.ScopedLoginID), scopedlogin.StatusEQ(scopedlogin.StatusACTIVE)).
		WithCustomerAccount().
		Only(sys)
	if ent.IsNotFound(err) {
		return errBadToken
	}
	if err != nil {
		return err
	}
	if !authz.ScopedAccountUsable(l.Edges.CustomerAccount) {
		return errBadToken
	}
	v.Kind = viewer.ScopedLogin
	v.ScopedLoginID = string(l.ID)
	v.SessionID = claims.SessionID
	v.MustChangePassword = l.MustChangePassword
	v.Access = authz.New(a.client, v, now)
	return nil
}

// scopedAuthFields are the @auth root fields a scoped login may use: who
// it is (me, and its resource and login through node), its own password,
// reference address and session, and its support PIN. Every other @auth
// field is FORBIDDEN for it; @hasPermission fields answer NOT_FOUND (it
// holds no permission on any account) and @staff fields FORBIDDEN.
var scopedAuthFields = map[string]bool{
	"me": true, "node": true, "nodes": true, "logout": true, "changePassword": true,
	"requestReferenceEmailChange": true, "mySupportPin": true, "rotateSupportPin": true,
}

// scopedMayUse applies scopedAuthFields to an @auth root field.
func scopedMayUse(ctx context.Context, v *viewer.Viewer) error {
	if v.Kind != viewer.ScopedLogin {
		return nil
	}
	if fc := graphql.GetFieldContext(ctx); fc != nil && scopedAuthFields[fc.Field.Name] {
		return nil
	}
	return apperr.ForbiddenReason("SCOPED_LOGIN_NOT_ALLOWED", "a scoped login sees only its own resource and login")
}

// credentialsRight implements @credentialsRight: like @hasPermission, but
// the evaluator decides on the credentials of the resource the argument
// names (authz.ResourceCredentials).
func credentialsRight(ctx context.Context, client *ent.Client, next graphql.Resolver, path string) (any, error) {
	v, err := authenticated(ctx)
	if err != nil {
		return nil, err
	}
	if err := keyMayUse(ctx, v, true); err != nil {
		return nil, err
	}
	id, field, err := argumentID(ctx, path)
	if err != nil {
		return nil, err
	}
	_, visible, allowed, err := authz.ResourceCredentials(ctx, client, v.Access, id)
	switch {
	case err != nil:
		return nil, err
	case !visible:
		return nil, notFoundAt(field)
	case !allowed:
		return nil, apperr.Forbidden("managing the credentials of this resource needs LOGINS_MANAGE or a matching CREDENTIALS support authorization")
	}
	return next(ctx)
}
