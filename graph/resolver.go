// Package graph holds the GraphQL resolvers, the auth directives, the error
// presenter and the HTTP handler that assembles them.
package graph

import (
	"context"
	"log/slog"
	"sort"
	"time"

	"portier/ent"
	"portier/graph/model"
	"portier/internal/customers"
	"portier/internal/token"
)

// Resolver is the root resolver. Resolvers are thin: they validate input,
// call ent (through the request's transaction for mutations) and record
// audit events; authorization lives in the directives and the ent policies.
type Resolver struct {
	Client *ent.Client
	Tokens *token.Issuer
	Log    *slog.Logger
	Now    func() time.Time
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
