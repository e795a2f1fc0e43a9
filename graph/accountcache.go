package graph

import (
	"context"
	"sync"

	"github.com/99designs/gqlgen/graphql"

	"portier/ent"
	"portier/internal/agencies"
	"portier/internal/authorizations"
	"portier/internal/pulid"
	"portier/internal/viewer"
)

// accountCache keeps, for one operation, the customer accounts that field
// resolvers need as context (a time zone to tell whether a grant is active,
// an agency's number and name), so that a list of N grants costs one query
// per distinct account, not N.
type accountCache struct{}

type accountCacheKey struct{}

type accountEntry struct {
	once sync.Once
	acct *ent.CustomerAccount
	err  error
}

type accountMap struct {
	mu sync.Mutex
	m  map[pulid.ID]*accountEntry
}

var _ interface {
	graphql.HandlerExtension
	graphql.ResponseInterceptor
} = accountCache{}

func (accountCache) ExtensionName() string                   { return "AccountCache" }
func (accountCache) Validate(graphql.ExecutableSchema) error { return nil }

func (accountCache) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	return next(context.WithValue(ctx, accountCacheKey{}, &accountMap{m: map[pulid.ID]*accountEntry{}}))
}

// accountContext reads a customer account as Portier, once per operation.
// Callers expose only what the account's relation to a visible object
// allows (its zone; an agency's number and name to its clients). Inside a
// mutation whose transaction is open it reads through the transaction.
func (r *Resolver) accountContext(ctx context.Context, id pulid.ID) (*ent.CustomerAccount, error) {
	load := func() (*ent.CustomerAccount, error) {
		c := r.Client
		if lt, ok := ctx.Value(txKey{}).(*lazyTx); ok && lt.isOpen() {
			tc, err := lt.get()
			if err != nil {
				return nil, err
			}
			c = tc
		}
		return c.CustomerAccount.Get(viewer.SystemContext(ctx), id)
	}
	cache, ok := ctx.Value(accountCacheKey{}).(*accountMap)
	if !ok {
		return load()
	}
	cache.mu.Lock()
	e, ok := cache.m[id]
	if !ok {
		e = &accountEntry{}
		cache.m[id] = e
	}
	cache.mu.Unlock()
	e.once.Do(func() { e.acct, e.err = load() })
	return e.acct, e.err
}

// authorizations returns the support authorization operations bound to the
// request's transaction.
func (r *Resolver) authorizations(ctx context.Context) *authorizations.Service {
	return &authorizations.Service{Tx: func() (*ent.Client, error) { return Tx(ctx) }, Now: r.Now}
}

// agencies returns the agency operations bound to the request's transaction.
func (r *Resolver) agencies(ctx context.Context) *agencies.Service {
	return &agencies.Service{Client: r.Client, Tx: func() (*ent.Client, error) { return Tx(ctx) }, Now: r.Now}
}
