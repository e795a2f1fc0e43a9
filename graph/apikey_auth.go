package graph

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"

	"portier/ent"
	"portier/ent/contact"
	"portier/ent/groupmembership"
	"portier/ent/roleassignment"
	"portier/ent/supportauthorization"
	"portier/internal/apikeys"
	"portier/internal/apperr"
	"portier/internal/authz"
	"portier/internal/pulid"
	"portier/internal/viewer"
)

// bearerAPIKey returns the credential of an Authorization header that
// presents an API key (Bearer ptk_…).
func bearerAPIKey(header string) (string, bool) {
	raw, ok := strings.CutPrefix(header, "Bearer ")
	raw = strings.TrimSpace(raw)
	return raw, ok && apikeys.LooksLikeKey(raw)
}

// authenticateKey makes v the API key principal raw names: its user,
// narrowed by the key (the evaluator applies the narrowing). Each request of
// a key counts against the key's own rate limit (one upsert), and
// lastUsedAt is written at most once a minute. It returns errBadToken for a
// key that is not accepted, a RATE_LIMITED error, or the store's error.
func (a *authenticator) authenticateKey(ctx context.Context, raw string, now time.Time, v *viewer.Viewer) error {
	k, err := apikeys.Authenticate(ctx, a.client, raw, now)
	if errors.Is(err, apikeys.ErrInvalid) {
		return errBadToken
	}
	if err != nil {
		return err
	}
	if err := a.limiter.Take(ctx, apikeys.RateRule, string(k.ID)); err != nil {
		return err
	}
	u := k.Edges.User
	v.Kind = viewer.APIKey
	v.UserID = string(u.ID)
	v.EmailVerified = u.EmailVerifiedAt != nil
	v.MustChangePassword = u.MustChangePassword
	v.SecondFactorEnabled = authz.SecondFactorEnabled(u)
	v.Key = apikeys.Grant(k)
	v.Access = authz.New(a.client, v, now)
	if err := apikeys.Touch(ctx, a.client, k, now); err != nil {
		// Only bookkeeping: the request goes on. The key is named by ID only.
		a.log.WarnContext(ctx, "recording API key use failed", "request_id", v.RequestID, "api_key", string(k.ID), "error", err.Error())
	}
	return nil
}

// keyRefused are root fields an API key may never use, whatever its
// permissions: keys do not manage keys, and a key's user's sessions are
// not the key's business.
var keyRefused = map[string]bool{"createApiKey": true, "revokeApiKey": true, "apiKeys": true, "mySessions": true}

// keyAuthMutations are the @auth mutations an API key may use. There are
// none: every @auth mutation acts on the user itself (password, e-mail,
// second factor, sessions, contacts to link, invitations to accept), and a
// key must never change its user's credentials or rights. What a key may
// change is scoped to its account by @hasPermission.
var keyAuthMutations = map[string]bool{}

func errKeyRefused(field string) error {
	e := apperr.ForbiddenReason("API_KEY_NOT_ALLOWED", "an API key cannot use "+field+"; log in as the user")
	return e
}

// keyMayUse applies the rules above to a root field. scoped tells whether
// the field is guarded by @hasPermission (so scoped to one account).
func keyMayUse(ctx context.Context, v *viewer.Viewer, scoped bool) error {
	if v.Kind != viewer.APIKey {
		return nil
	}
	fc := graphql.GetFieldContext(ctx)
	if fc == nil {
		return errKeyRefused("this field")
	}
	name := fc.Field.Name
	if keyRefused[name] || (fc.Object == "Mutation" && !scoped && !keyAuthMutations[name]) {
		return errKeyRefused(name)
	}
	return nil
}

// keyOwnContact refuses a mutation by an API key on a contact of the key's
// own user (or on an object belonging to such a contact): a key never
// changes its own user's roles, group memberships or authorizations.
func keyOwnContact(ctx context.Context, client *ent.Client, v *viewer.Viewer, id pulid.ID) error {
	if v.Kind != viewer.APIKey {
		return nil
	}
	if fc := graphql.GetFieldContext(ctx); fc == nil || fc.Object != "Mutation" {
		return nil
	}
	own, err := client.Contact.Query().
		Where(contact.UserID(pulid.ID(v.UserID)), contact.Or(
			contact.ID(id),
			contact.HasRoleAssignmentsWith(roleassignment.ID(id)),
			contact.HasGroupMembershipsWith(groupmembership.ID(id)),
			contact.HasSupportAuthorizationsWith(supportauthorization.ID(id)),
		)).
		Exist(viewer.SystemContext(ctx))
	if err != nil {
		return err
	}
	if own {
		return errKeyRefused("this on its own user's contact")
	}
	return nil
}
