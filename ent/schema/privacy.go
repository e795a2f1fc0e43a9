package schema

import (
	"context"
	"reflect"

	"entgo.io/ent"
	"entgo.io/ent/dialect/sql"
	"entgo.io/ent/privacy"

	"portier/internal/caldate"
	"portier/internal/domain"
	"portier/internal/viewer"
)

var caldateType = caldate.Date("")

// The rules below are the data-layer half of authorization: whatever a
// resolver asks, a query only ever sees rows of customer accounts on which
// the viewer holds the entity's read permission, and a mutation only touches
// rows of accounts where it holds the manage permission. They are written
// against ent's generic interfaces (WhereP on queries and mutations) so that
// the schema does not import generated code. Policies fail closed: every
// policy ends in a deny.

type wherer interface {
	WhereP(...func(*sql.Selector))
}

// whereOf returns something with WhereP for a query or mutation: mutations
// have WhereP; generated queries have a typed Where(...predicate.X), where
// predicate.X is a func(*sql.Selector), which reflection can call.
func whereOf(x any) (wherer, bool) {
	if w, ok := x.(wherer); ok {
		return w, true
	}
	m := reflect.ValueOf(x).MethodByName("Where")
	if !m.IsValid() || m.Type().NumIn() != 1 || !m.Type().IsVariadic() {
		return nil, false
	}
	elem := m.Type().In(0).Elem()
	fnType := reflect.TypeOf(func(*sql.Selector) {})
	if !fnType.ConvertibleTo(elem) {
		return nil, false
	}
	return reflectWherer{m: m, elem: elem}, true
}

type reflectWherer struct {
	m    reflect.Value
	elem reflect.Type
}

func (r reflectWherer) WhereP(ps ...func(*sql.Selector)) {
	args := make([]reflect.Value, len(ps))
	for i, p := range ps {
		args[i] = reflect.ValueOf(p).Convert(r.elem)
	}
	r.m.Call(args)
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
// the viewer's scope on permission p. ok is false when nothing can match.
func scopePredicate(ctx context.Context, column string, p domain.Permission, ownColumn string) (func(*sql.Selector), bool, error) {
	v := viewer.FromContext(ctx)
	scope, err := v.Access.Accounts(ctx, p)
	if err != nil {
		return nil, false, err
	}
	if scope.All {
		return nil, true, nil
	}
	// An API key is narrowed to one account: its user's own rows elsewhere
	// are not its to see.
	own := ownColumn != "" && v.UserID != "" && v.Kind != viewer.APIKey
	if scope.Empty() && !own {
		return nil, false, nil
	}
	return func(s *sql.Selector) {
		var preds []*sql.Predicate
		if len(scope.IDs) > 0 {
			args := make([]any, len(scope.IDs))
			for i, id := range scope.IDs {
				args[i] = id
			}
			preds = append(preds, sql.In(s.C(column), args...))
		}
		if own {
			preds = append(preds, sql.EQ(s.C(ownColumn), v.UserID))
		}
		if scope.Consenting {
			preds = append(preds, sql.In(s.C(column),
				sql.Select("id").From(sql.Table("customer_accounts")).Where(sql.EQ("support_access_consent", true))))
		}
		s.Where(sql.Or(preds...))
	}, true, nil
}

// filterQuery restricts a query to the viewer's accounts holding p.
func filterQuery(column string, p domain.Permission, ownColumn string) privacy.QueryRule {
	return queryRuleFunc(func(ctx context.Context, q ent.Query) error {
		pred, ok, err := scopePredicate(ctx, column, p, ownColumn)
		if err != nil {
			return privacy.Denyf("evaluating permissions: %v", err)
		}
		if !ok {
			// No account at all: an empty result, not an error, so that
			// lists are empty and lookups are "not found".
			pred = func(s *sql.Selector) { s.Where(sql.False()) }
		}
		if pred != nil {
			w, isW := whereOf(q)
			if !isW {
				return privacy.Denyf("query %T cannot be filtered", q)
			}
			w.WhereP(pred)
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
		if scope.Empty() {
			return privacy.Denyf("no customer account with %s", p)
		}
		w, isW := whereOf(m)
		if !isW {
			return privacy.Denyf("mutation %T cannot be filtered", m)
		}
		args := make([]any, len(scope.IDs))
		for i, id := range scope.IDs {
			args[i] = id
		}
		w.WhereP(func(s *sql.Selector) { s.Where(sql.In(s.C(column), args...)) })
		return privacy.Allow
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
	ownQuery := queryRuleFunc(func(ctx context.Context, q ent.Query) error {
		v := viewer.FromContext(ctx)
		if v.UserID == "" {
			return privacy.Denyf("no user")
		}
		w, ok := whereOf(q)
		if !ok {
			return privacy.Denyf("query %T cannot be filtered", q)
		}
		w.WhereP(func(s *sql.Selector) { s.Where(sql.EQ(s.C(userColumn), v.UserID)) })
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
		w, ok := whereOf(m)
		if !ok {
			return privacy.Denyf("mutation %T cannot be filtered", m)
		}
		w.WhereP(func(s *sql.Selector) { s.Where(sql.EQ(s.C(userColumn), v.UserID)) })
		return privacy.Allow
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

// queryRuleFunc adapts a function to privacy.QueryRule (the generic ent
// privacy package has no such adapter; the generated one cannot be imported
// from the schema).
type queryRuleFunc func(context.Context, ent.Query) error

// EvalQuery implements privacy.QueryRule.
func (f queryRuleFunc) EvalQuery(ctx context.Context, q ent.Query) error { return f(ctx, q) }
