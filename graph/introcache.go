package graph

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"portier/internal/apperr"
)

// introspectionCacheSize is how many answers to introspection-only
// operations are kept.
const introspectionCacheSize = 64

// introspectionCache answers an operation that asks only for __schema,
// __type or __typename from the answer it got before. Such an answer
// depends on nothing but the schema, which is fixed for the life of the
// process, and the document and variables, which are the key; it is the
// same for every caller. GraphiQL and client tooling send the same large
// introspection query again and again, and resolving it costs tens of
// milliseconds of CPU: this makes the repeats nearly free.
type introspectionCache struct {
	cache *lru.LRU[*graphql.Response]
}

func newIntrospectionCache() introspectionCache {
	return introspectionCache{cache: lru.New[*graphql.Response](introspectionCacheSize)}
}

var _ interface {
	graphql.HandlerExtension
	graphql.ResponseInterceptor
} = introspectionCache{}

func (introspectionCache) ExtensionName() string                   { return "IntrospectionCache" }
func (introspectionCache) Validate(graphql.ExecutableSchema) error { return nil }

func (c introspectionCache) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	if !graphql.HasOperationContext(ctx) {
		return next(ctx)
	}
	oc := graphql.GetOperationContext(ctx)
	if !introspectionOnly(oc.Operation) {
		return next(ctx)
	}
	vars, err := json.Marshal(oc.Variables)
	if err != nil {
		return next(ctx)
	}
	sum := sha256.Sum256([]byte(oc.RawQuery + "\x00" + oc.OperationName + "\x00" + string(vars)))
	key := hex.EncodeToString(sum[:])
	if r, ok := c.cache.Get(ctx, key); ok {
		cp := *r
		return &cp
	}
	r := next(ctx)
	if r != nil && len(r.Extensions) == 0 && ctx.Err() == nil && deterministic(r.Errors) {
		// Data may point into the request's leased buffer (internal/respbuf),
		// reused once this response is written: the cache keeps a copy.
		stored := *r
		stored.Data = bytes.Clone(r.Data)
		c.cache.Add(ctx, key, &stored)
	}
	return r
}

// deterministic reports errors that the same document always gets (limits,
// bad input), not ones of the moment (a cancelled request, an outage).
func deterministic(errs gqlerror.List) bool {
	for _, e := range errs {
		if e.Extensions["code"] != apperr.CodeBadUserInput || e.Extensions["reason"] == ReasonCancelled {
			return false
		}
	}
	return true
}

// introspectionOnly reports a query whose root selections are all plain
// __schema, __type or __typename fields.
func introspectionOnly(op *ast.OperationDefinition) bool {
	if op == nil || op.Operation != ast.Query || len(op.SelectionSet) == 0 {
		return false
	}
	for _, sel := range op.SelectionSet {
		f, ok := sel.(*ast.Field)
		if !ok || (f.Name != "__schema" && f.Name != "__type" && f.Name != "__typename") || len(f.Directives) > 0 {
			return false
		}
	}
	return true
}
