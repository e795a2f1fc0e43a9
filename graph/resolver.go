// Package graph holds the GraphQL resolvers, the auth directives, the error
// presenter and the HTTP handler that assembles them.
package graph

import (
	"context"
	"log/slog"
	"sort"
	"time"

	"github.com/99designs/gqlgen/graphql"

	"portier/ent"
	"portier/graph/model"
	"portier/internal/apikeys"
	"portier/internal/authz"
	"portier/internal/caldate"
	"portier/internal/customers"
	"portier/internal/domain"
	"portier/internal/identity"
	"portier/internal/invitations"
	"portier/internal/pulid"
	"portier/internal/ratelimit"
	"portier/internal/token"
	"portier/internal/viewer"
)

// Resolver is the root resolver. Resolvers are thin: they validate input,
// call ent (through the request's transaction for mutations) and record
// audit events; authorization lives in the directives and the ent policies.
type Resolver struct {
	Client    *ent.Client
	Tokens    *token.Issuer
	PinKey    []byte // support PIN secret (internal/supportpin)
	Limiter   *ratelimit.Limiter
	PublicURL string
	Log       *slog.Logger
	Now       func() time.Time
}

// customers returns the customer operations bound to the request's
// transaction.
func (r *Resolver) customers(ctx context.Context) *customers.Service {
	return &customers.Service{Client: r.Client, Tx: func() (*ent.Client, error) { return Tx(ctx) }, Now: r.Now}
}

// sortMemberships orders memberships by customer number.
func sortMemberships(ms []*model.Membership) {
	sort.Slice(ms, func(i, j int) bool { return ms[i].CustomerAccount.Number < ms[j].CustomerAccount.Number })
}

// identity returns the identity operations bound to the request's
// transaction.
func (r *Resolver) identity(ctx context.Context) *identity.Service {
	return &identity.Service{
		Client: r.Client, Tx: func() (*ent.Client, error) { return Tx(ctx) },
		Tokens: r.Tokens, Limiter: r.Limiter, PublicURL: r.PublicURL, Now: r.Now,
		AfterCommit: func(f func()) { AfterCommit(ctx, f) },
	}
}

func loginPayload(res *identity.LoginResult) *model.LoginPayload {
	p := &model.LoginPayload{}
	if t := res.Tokens; t != nil {
		p.AccessToken, p.RefreshToken, p.ExpiresAt = &t.AccessToken, &t.RefreshToken, &t.ExpiresAt
		p.SecondFactorEnrolmentRequired = t.SecondFactorEnrolmentRequired
	}
	if ch := res.Challenge; ch != nil {
		p.Challenge = &model.SecondFactorChallenge{ID: ch.ID, ExpiresAt: ch.ExpiresAt}
		for _, m := range ch.Methods {
			p.Challenge.Methods = append(p.Challenge.Methods, domain.SecondFactorMethod(m))
		}
	}
	return p
}

func twoFactorPayload(methods []string, codes []string) *model.TwoFactorPayload {
	p := &model.TwoFactorPayload{Methods: []domain.SecondFactorMethod{}, RecoveryCodes: codes}
	for _, m := range methods {
		p.Methods = append(p.Methods, domain.SecondFactorMethod(m))
	}
	return p
}

// done turns an error-only operation into a Boolean mutation result.
func done(err error) (bool, error) { return err == nil, err }

// apiKeys returns the API key operations bound to the request's transaction.
func (r *Resolver) apiKeys(ctx context.Context) *apikeys.Service {
	return &apikeys.Service{Client: r.Client, Tx: func() (*ent.Client, error) { return Tx(ctx) }, Now: r.Now}
}

// invitations returns the invitation operations bound to the request's
// transaction.
func (r *Resolver) invitations(ctx context.Context) *invitations.Service {
	return &invitations.Service{
		Client: r.Client, Tx: func() (*ent.Client, error) { return Tx(ctx) },
		Limiter: r.Limiter, PublicURL: r.PublicURL, Now: r.Now, Identity: r.identity(ctx),
	}
}

// phonePayload turns the identity service's phone state into the API's.
func phonePayload(st *identity.PhoneState, err error) (*model.PhoneNumberPayload, error) {
	if err != nil {
		return nil, err
	}
	p := &model.PhoneNumberPayload{PhoneVerifiedAt: st.PhoneVerifiedAt}
	if st.Phone != "" {
		p.Phone = &st.Phone
	}
	if st.PendingPhone != "" {
		p.PendingPhone = &st.PendingPhone
	}
	return p, nil
}

// selects reports whether the selection of the field being resolved, whose
// type is typeName, has a field name (also through fragments).
func selects(ctx context.Context, typeName, name string) bool {
	for _, f := range graphql.CollectFieldsCtx(ctx, []string{typeName}) {
		if f.Name == name {
			return true
		}
	}
	return false
}

// accountUserConnection maps a page of an account's users to the API type.
func accountUserConnection(p *customers.AccountUserPage) *model.AccountUserConnection {
	info := p.Conn.PageInfo
	out := &model.AccountUserConnection{Edges: []*model.AccountUserEdge{}, PageInfo: &info, TotalCount: p.Conn.TotalCount}
	for i, u := range p.Users {
		n := &model.AccountUser{Contact: u.Contact, Name: u.Contact.Name, Email: u.Contact.Email,
			Roles: u.Roles, Groups: u.Groups, HasAPIKeys: u.HasAPIKeys}
		if usr := u.User; usr != nil {
			n.Name, n.Username, n.LastLoginAt = usr.Name, usr.Username, usr.LastLoginAt
			n.Email = nil
			if usr.Email != "" {
				email := usr.Email
				n.Email = &email
			}
			n.SecondFactorEnabled = authz.SecondFactorEnabled(usr)
		}
		out.Edges = append(out.Edges, &model.AccountUserEdge{Node: n, Cursor: p.Conn.Edges[i].Cursor})
	}
	return out
}

// grantActiveViaDelegation answers whether a grant made through an agency
// delegation is active now: its own validity and the delegation's (authz).
// The request's evaluator caches the delegations, so a list reads each
// distinct delegation once.
func grantActiveViaDelegation(ctx context.Context, c *ent.Client, now time.Time, loc *time.Location,
	from time.Time, until *caldate.Date, ended *time.Time, via *pulid.ID) (bool, error) {
	v := authz.Validity{From: from, UntilDate: until, EndedAt: ended}
	if ev, ok := viewer.FromContext(ctx).Access.(*authz.Evaluator); ok {
		if err := ev.LoadDelegations(ctx, via); err != nil {
			return false, err
		}
		return ev.GrantActive(v, via, loc), nil
	}
	over, err := authz.OverDelegations(ctx, c, now, loc, via)
	if err != nil {
		return false, err
	}
	return v.ActiveAt(now, loc) && !over[*via], nil
}
