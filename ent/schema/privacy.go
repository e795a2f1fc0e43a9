package schema

import (
	"context"

	"entgo.io/ent"
	"entgo.io/ent/entql"
	"entgo.io/ent/privacy"

	"portier/internal/caldate"
	"portier/internal/domain"
	"portier/internal/viewer"
)

var caldateType = caldate.Date("")

// The rules below are the data-layer half of authorization: whatever a
// resolver asks, a query only ever sees rows of customer accounts on which
// the viewer holds the entity's read permission, and a mutation only touches
// rows of accounts where it holds the manage permission. They add entql
// predicates to each query's or mutation's generated filter, reached through
// a generic interface so that the schema does not import generated code.
// Policies fail closed: every policy ends in a deny.

// filter is the entql filter of a query or mutation: ent generates one per
// entity (Filter(), with the entql feature), and the privacyfilter template
// exposes it as PrivacyFilter() under a type the schema can name.
type filter interface {
	Where(entql.P)
}

// filterOf returns the filter of a query or mutation; ok is false for
// anything that has none, which the rules deny.
func filterOf(x any) (filter, bool) {
	f, ok := x.(interface {
		PrivacyFilter() interface{ Where(entql.P) }
	})
	if !ok {
		return nil, false
	}
	return f.PrivacyFilter(), true
}

// nothing matches no row (primary keys are never NULL); entql has no FALSE.
var nothing = entql.FieldNil("id")

// anyOf is the OR of ps (at least one).
func anyOf(ps ...entql.P) entql.P {
	if len(ps) == 1 {
		return ps[0]
	}
	return entql.Or(ps[0], ps[1], ps[2:]...)
}

// inIDs is "column IN (ids)"; ids must not be empty (entql would write an
// empty IN list).
func inIDs(column string, ids []string) entql.P {
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	return entql.FieldIn(column, args...)
}

// consenting matches rows of accounts whose supportAccessConsent is on: the
// account itself, or through the customer_account edge that every
// customer-owned entity has.
func consenting(column string) entql.P {
	on := entql.FieldEQ("support_access_consent", true)
	if column == "id" {
		return on
	}
	return entql.HasEdgeWith("customer_account", on)
}

// allowSystem lets Portier's own background work through.
func allowSystem() privacy.QueryMutationRule {
	return privacy.ContextQueryMutationRule(func(ctx context.Context) error {
		if viewer.FromContext(ctx).Kind == viewer.System {
			return privacy.Allow
		}
		return privacy.Skip
	})
}

// denyAnonymous stops unauthenticated access early.
func denyAnonymous() privacy.QueryMutationRule {
	return privacy.ContextQueryMutationRule(func(ctx context.Context) error {
		if v := viewer.FromContext(ctx); v.Kind == viewer.Anonymous || v.Access == nil {
			return privacy.Denyf("anonymous viewer")
		}
		return privacy.Skip
	})
}

// denyOps denies the given operations to everyone, Portier included.
func denyOps(op ent.Op, reason string) privacy.MutationRule {
	return privacy.MutationRuleFunc(func(_ context.Context, m ent.Mutation) error {
		if m.Op().Is(op) {
			return privacy.Denyf("%s", reason)
		}
		return privacy.Skip
	})
}

// allowStaff lets staff users with role r (or ADMIN) through.
func allowStaff(r domain.StaffRole) privacy.QueryMutationRule {
	return privacy.ContextQueryMutationRule(func(ctx context.Context) error {
		if viewer.FromContext(ctx).HasStaffRole(r) {
			return privacy.Allow
		}
		return privacy.Skip
	})
}

// scopePredicate builds "column IN (ids)" (or the own-user alternative) for
// the viewer's scope on permission p; nil when the scope is everything.
func scopePredicate(ctx context.Context, column string, p domain.Permission, ownColumn string) (entql.P, error) {
	v := viewer.FromContext(ctx)
	scope, err := v.Access.Accounts(ctx, p)
	if err != nil {
		return nil, err
	}
	if scope.All {
		return nil, nil
	}
	var preds []entql.P
	if len(scope.IDs) > 0 {
		preds = append(preds, inIDs(column, scope.IDs))
	}
	// An API key is narrowed to one account: its user's own rows elsewhere
	// are not its to see.
	if ownColumn != "" && v.UserID != "" && v.Kind != viewer.APIKey {
		preds = append(preds, entql.FieldEQ(ownColumn, v.UserID))
	}
	if scope.Consenting {
		preds = append(preds, consenting(column))
	}
	if len(preds) == 0 {
		// No account at all: an empty result, not an error, so that lists
		// are empty and lookups are "not found".
		return nothing, nil
	}
	return anyOf(preds...), nil
}

// filterQuery restricts a query to the viewer's accounts holding p.
func filterQuery(column string, p domain.Permission, ownColumn string) privacy.QueryRule {
	return filterFunc(func(ctx context.Context, f filter) error {
		pred, err := scopePredicate(ctx, column, p, ownColumn)
		if err != nil {
			return privacy.Denyf("evaluating permissions: %v", err)
		}
		if pred != nil {
			f.Where(pred)
		}
		return privacy.Allow
	})
}

// filterMutation restricts updates and deletes to rows of the viewer's
// accounts holding p, and lets creates through only into such an account.
func filterMutation(column string, p domain.Permission) privacy.MutationRule {
	return privacy.MutationRuleFunc(func(ctx context.Context, m ent.Mutation) error {
		v := viewer.FromContext(ctx)
		scope, err := v.Access.Accounts(ctx, p)
		if err != nil {
			return privacy.Denyf("evaluating permissions: %v", err)
		}
		if scope.All {
			return privacy.Allow
		}
		if m.Op().Is(ent.OpCreate) {
			val, ok := m.Field(column)
			id, _ := val.(interface{ String() string })
			if ok && id != nil && scope.Contains(id.String()) {
				return privacy.Allow
			}
			return privacy.Denyf("no %s on that customer account", p)
		}
		if len(scope.IDs) == 0 {
			return privacy.Denyf("no customer account with %s", p)
		}
		return restrict(m, inIDs(column, scope.IDs))
	})
}

// accountPolicy is the policy of every customer-owned entity.
func accountPolicy(column string, read, manage domain.Permission, ownColumn string) ent.Policy {
	return privacy.Policy{
		Query: privacy.QueryPolicy{
			allowSystem(),
			denyAnonymous(),
			filterQuery(column, read, ownColumn),
			privacy.AlwaysDenyRule(),
		},
		Mutation: privacy.MutationPolicy{
			allowSystem(),
			denyAnonymous(),
			denyKeyOnOwnContact(),
			filterMutation(column, manage),
			privacy.AlwaysDenyRule(),
		},
	}
}

// ownRowsPolicy is for rows that belong to one user (sessions, API keys):
// the user sees and changes their own; staff with role r see all.
func ownRowsPolicy(userColumn string, r domain.StaffRole) ent.Policy {
	ownQuery := filterFunc(func(ctx context.Context, f filter) error {
		v := viewer.FromContext(ctx)
		if v.UserID == "" {
			return privacy.Denyf("no user")
		}
		f.Where(entql.FieldEQ(userColumn, v.UserID))
		return privacy.Allow
	})
	ownMutation := privacy.MutationRuleFunc(func(ctx context.Context, m ent.Mutation) error {
		v := viewer.FromContext(ctx)
		if v.UserID == "" {
			return privacy.Denyf("no user")
		}
		if m.Op().Is(ent.OpCreate) {
			val, ok := m.Field(userColumn)
			id, _ := val.(interface{ String() string })
			if ok && id != nil && id.String() == v.UserID {
				return privacy.Allow
			}
			return privacy.Denyf("not your own")
		}
		return restrict(m, entql.FieldEQ(userColumn, v.UserID))
	})
	return privacy.Policy{
		Query:    privacy.QueryPolicy{allowSystem(), denyAnonymous(), allowStaff(r), ownQuery, privacy.AlwaysDenyRule()},
		Mutation: privacy.MutationPolicy{allowSystem(), denyAnonymous(), ownMutation, privacy.AlwaysDenyRule()},
	}
}

// systemOnlyPolicy is for tables no request principal reads or writes
// directly (the outbox, PIN secrets): only Portier's own code paths do.
func systemOnlyPolicy() ent.Policy {
	return privacy.Policy{
		Query:    privacy.QueryPolicy{allowSystem(), privacy.AlwaysDenyRule()},
		Mutation: privacy.MutationPolicy{allowSystem(), privacy.AlwaysDenyRule()},
	}
}

// filterFunc is a query rule that restricts the query through its filter,
// like the FilterFunc of ent's generated privacy package (which the schema
// cannot import). A query without a filter is denied.
type filterFunc func(context.Context, filter) error

// EvalQuery implements privacy.QueryRule.
func (fn filterFunc) EvalQuery(ctx context.Context, q ent.Query) error {
	f, ok := filterOf(q)
	if !ok {
		return privacy.Denyf("query %T cannot be filtered", q)
	}
	return fn(ctx, f)
}

// restrict limits mutation m to the rows matching p and allows it, or
// denies it when it cannot be filtered.
func restrict(m ent.Mutation, p entql.P) error {
	f, ok := filterOf(m)
	if !ok {
		return privacy.Denyf("mutation %T cannot be filtered", m)
	}
	f.Where(p)
	return privacy.Allow
}
