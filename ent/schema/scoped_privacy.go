package schema

import (
	"context"

	"entgo.io/ent"
	"entgo.io/ent/entql"
	"entgo.io/ent/privacy"

	"portier/internal/pulid"
	"portier/internal/viewer"
)

// A scoped login (the SFTP user of a web vhost, postmaster@ of a
// mail vhost, a mailbox, a domain) sees exactly one resource. The evaluator
// gives it no permission on any customer account, so every account-owned
// filter already matches nothing for it; the rules below add the only rows
// it may see: its own Resource row and its own ScopedLogin row (and its own
// sessions). What it is scoped to, and whether it may still see anything
// (login ACTIVE, account ACTIVE), is the evaluator's answer
// (viewer.ScopedAccess), asked once per request.

// scopedSelf says which own row of a scoped login an account-owned entity
// admits; "" admits none.
type scopedSelf string

const (
	scopedSeesResource scopedSelf = "resource"
	scopedSeesLogin    scopedSelf = "login"
)

// scopedGrant returns the scoped login's grant; ok is false when the
// viewer is no scoped login, and live false when it may see nothing now.
func scopedGrant(ctx context.Context) (g viewer.ScopedGrant, ok, live bool, err error) {
	v := viewer.FromContext(ctx)
	if v.Kind != viewer.ScopedLogin {
		return g, false, false, nil
	}
	sa, isScoped := v.Access.(viewer.ScopedAccess)
	if !isScoped {
		return g, true, false, nil // fail closed
	}
	g, live, err = sa.ScopedTo(ctx)
	return g, true, live, err
}

// scopedRowPredicate is the predicate of the one row of which a scoped
// login may see; nothing for other entities.
func scopedRowPredicate(which scopedSelf, g viewer.ScopedGrant) entql.P {
	switch which {
	case scopedSeesResource:
		return entql.FieldEQ("id", g.ResourceID)
	case scopedSeesLogin:
		return entql.FieldEQ("id", g.LoginID)
	}
	return nothing
}

// scopedQueryRule restricts every query of a scoped login to its own row
// (or nothing) and decides; other viewers are skipped.
func scopedQueryRule(which scopedSelf) privacy.QueryRule {
	return filterFunc(func(ctx context.Context, f filter) error {
		g, ok, live, err := scopedGrant(ctx)
		switch {
		case !ok:
			return privacy.Skip
		case err != nil:
			return privacy.Denyf("evaluating the scoped login: %v", err)
		case !live:
			f.Where(nothing)
		default:
			f.Where(scopedRowPredicate(which, g))
		}
		return privacy.Allow
	})
}

// scopedMutationRule lets a scoped login update its own ScopedLogin row
// (password, reference e-mail) and nothing else.
func scopedMutationRule(which scopedSelf) privacy.MutationRule {
	return privacy.MutationRuleFunc(func(ctx context.Context, m ent.Mutation) error {
		g, ok, live, err := scopedGrant(ctx)
		switch {
		case !ok:
			return privacy.Skip
		case err != nil:
			return privacy.Denyf("evaluating the scoped login: %v", err)
		case !live || which != scopedSeesLogin || !m.Op().Is(ent.OpUpdate|ent.OpUpdateOne):
			return privacy.Denyf("a scoped login changes only its own login")
		}
		return restrict(m, entql.FieldEQ("id", g.LoginID))
	})
}

// withScoped puts the scoped-login rules in front of an account-owned
// entity's policy.
func withScoped(ep ent.Policy, which scopedSelf) ent.Policy {
	p := ep.(privacy.Policy)
	mut := privacy.MutationPolicy{scopedMutationRule(which)}
	if which == scopedSeesLogin {
		mut = append(mut, credentialsRule())
	}
	return privacy.Policy{
		Query:    append(privacy.QueryPolicy{scopedQueryRule(which)}, p.Query...),
		Mutation: append(mut, p.Mutation...),
	}
}

// scopedSessions lets a scoped login see and end (logout) its own
// sessions; sessions are opened by Portier itself at login.
func scopedSessions(ep ent.Policy) ent.Policy {
	p := ep.(privacy.Policy)
	q := filterFunc(func(ctx context.Context, f filter) error {
		g, ok, _, err := scopedGrant(ctx)
		switch {
		case !ok:
			return privacy.Skip
		case err != nil || g.LoginID == "":
			f.Where(nothing)
		default:
			f.Where(entql.FieldEQ("scoped_login_id", g.LoginID))
		}
		return privacy.Allow
	})
	m := privacy.MutationRuleFunc(func(ctx context.Context, m ent.Mutation) error {
		g, ok, _, err := scopedGrant(ctx)
		switch {
		case !ok:
			return privacy.Skip
		case err != nil || g.LoginID == "" || !m.Op().Is(ent.OpUpdate|ent.OpUpdateOne):
			return privacy.Denyf("a scoped login only ends its own sessions")
		}
		return restrict(m, entql.FieldEQ("scoped_login_id", g.LoginID))
	})
	return privacy.Policy{
		Query:    append(privacy.QueryPolicy{q}, p.Query...),
		Mutation: append(privacy.MutationPolicy{m}, p.Mutation...),
	}
}

// credentialsChecker is what the evaluator offers to decide on the
// credentials of a resource (authz/credentials.go): id names a resource or
// a scoped login.
type credentialsChecker interface {
	MayManageResourceCredentials(ctx context.Context, id string) (bool, error)
}

// credentialsRule lets a holder of a credentials right on a resource
// (LOGINS_MANAGE, or a support authorization covering the resource's kind)
// create a scoped login for it and update one of its scoped logins; it
// skips everything else, for the account rules to decide.
func credentialsRule() privacy.MutationRule {
	return privacy.MutationRuleFunc(func(ctx context.Context, m ent.Mutation) error {
		cc, ok := viewer.FromContext(ctx).Access.(credentialsChecker)
		if !ok || viewer.FromContext(ctx).Kind == viewer.ScopedLogin {
			return privacy.Skip
		}
		var id string
		switch {
		case m.Op().Is(ent.OpCreate):
			val, _ := m.Field("resource_id")
			if s, ok := val.(interface{ String() string }); ok && s != nil {
				id = s.String()
			}
		case m.Op().Is(ent.OpUpdateOne):
			if im, ok := m.(interface{ ID() (pulid.ID, bool) }); ok {
				if v, exists := im.ID(); exists {
					id = string(v)
				}
			}
		}
		if id == "" {
			return privacy.Skip
		}
		allowed, err := cc.MayManageResourceCredentials(ctx, id)
		if err != nil {
			return privacy.Denyf("evaluating credentials rights: %v", err)
		}
		if allowed {
			return privacy.Allow
		}
		return privacy.Skip
	})
}
