package schema

import (
	"context"

	"entgo.io/ent"
	"entgo.io/ent/entql"
	"entgo.io/ent/privacy"

	"portier/internal/domain"
	"portier/internal/viewer"
)

// denyKeyPrincipal refuses API key principals: a key never reads or changes
// API keys (not even its own), so it can neither list its siblings nor mint
// or revoke keys.
func denyKeyPrincipal() privacy.QueryMutationRule {
	return privacy.ContextQueryMutationRule(func(ctx context.Context) error {
		if viewer.FromContext(ctx).Kind == viewer.APIKey {
			return privacy.Denyf("API keys cannot use API keys")
		}
		return privacy.Skip
	})
}

// apiKeyPolicy: a user sees and revokes its own keys; holders of
// APIKEYS_MANAGE on an account see and revoke the keys narrowed to it (staff
// ADMIN hold it everywhere). Keys are created only by their own user, into
// an account where it holds APIKEYS_MANAGE; they are never deleted (revoked
// keys stay listed). Portier itself updates lastUsedAt.
func apiKeyPolicy() ent.Policy {
	mutation := privacy.MutationRuleFunc(func(ctx context.Context, m ent.Mutation) error {
		v := viewer.FromContext(ctx)
		scope, err := v.Access.Accounts(ctx, domain.PermAPIKeysManage)
		if err != nil {
			return privacy.Denyf("evaluating permissions: %v", err)
		}
		if m.Op().Is(ent.OpCreate) {
			owner, _ := m.Field("user_id")
			acct, _ := m.Field("customer_account_id")
			o, _ := owner.(interface{ String() string })
			a, _ := acct.(interface{ String() string })
			if o != nil && a != nil && v.UserID != "" && o.String() == v.UserID && scope.Contains(a.String()) {
				return privacy.Allow
			}
			return privacy.Denyf("keys are created by their own user with APIKEYS_MANAGE on the account")
		}
		if scope.All {
			return privacy.Allow
		}
		pred := entql.FieldEQ("user_id", v.UserID)
		if len(scope.IDs) > 0 {
			pred = entql.Or(pred, inIDs("customer_account_id", scope.IDs))
		}
		return restrict(m, pred)
	})
	return privacy.Policy{
		Query: privacy.QueryPolicy{
			allowSystem(), denyAnonymous(), denyKeyPrincipal(),
			filterQuery("customer_account_id", domain.PermAPIKeysManage, "user_id"),
			privacy.AlwaysDenyRule(),
		},
		Mutation: privacy.MutationPolicy{
			denyOps(ent.OpDelete|ent.OpDeleteOne, "API keys are revoked, never deleted"),
			allowSystem(), denyAnonymous(), denyKeyPrincipal(), mutation,
			privacy.AlwaysDenyRule(),
		},
	}
}

// ownContactChecker is what the evaluator offers to tell a viewer's own
// contacts apart.
type ownContactChecker interface {
	IsOwnContact(ctx context.Context, contactID string) (bool, error)
}

// denyKeyOnOwnContact refuses an API key creating a row for a contact of its
// own user (a role assignment, group membership or authorization): a key
// never widens its own user's rights. The directives refuse the other
// changes to that contact; this holds for every mutation path.
func denyKeyOnOwnContact() privacy.MutationRule {
	return privacy.MutationRuleFunc(func(ctx context.Context, m ent.Mutation) error {
		v := viewer.FromContext(ctx)
		if v.Kind != viewer.APIKey {
			return privacy.Skip
		}
		val, ok := m.Field("contact_id")
		id, _ := val.(interface{ String() string })
		if !ok || id == nil {
			return privacy.Skip
		}
		oc, isOC := v.Access.(ownContactChecker)
		if !isOC {
			return privacy.Denyf("cannot tell the key's own contacts")
		}
		own, err := oc.IsOwnContact(ctx, id.String())
		if err != nil {
			return privacy.Denyf("evaluating permissions: %v", err)
		}
		if own {
			return privacy.Denyf("an API key never changes its own user's rights")
		}
		return privacy.Skip
	})
}
