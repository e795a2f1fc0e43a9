package graph

import (
	"context"

	"entgo.io/contrib/entgql"

	"portier/internal/pulid"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"portier/internal/apperr"
)

// Request limits (DESIGN §4).
const (
	MaxBodyBytes    = 1 << 20 // request body
	MaxParserTokens = 10000   // tokens the parser reads before giving up
	MaxComplexity   = 25000   // sum of field costs; a connection counts its page size times its children
	MaxDepth        = 12      // nesting of selection sets
	MaxPageSize     = 100     // first / last
	QueryCacheSize  = 1000    // parsed documents kept
)

// depthLimit refuses operations nested deeper than max, following fragments.
type depthLimit struct{ max int }

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = depthLimit{}

func (depthLimit) ExtensionName() string                   { return "DepthLimit" }
func (depthLimit) Validate(graphql.ExecutableSchema) error { return nil }
func (d depthLimit) MutateOperationContext(_ context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil {
		return nil
	}
	if depth(oc.Operation.SelectionSet, oc.Doc.Fragments, 0, d.max) > d.max {
		e := gqlerror.Errorf("the query is nested deeper than %d levels", d.max)
		e.Extensions = map[string]any{"code": apperr.CodeBadUserInput}
		return e
	}
	return nil
}

func depth(set ast.SelectionSet, frags ast.FragmentDefinitionList, cur, limit int) int {
	if cur > limit {
		return cur // stop early: already too deep (also guards fragment cycles)
	}
	deepest := cur
	for _, sel := range set {
		var d int
		switch s := sel.(type) {
		case *ast.Field:
			if len(s.SelectionSet) == 0 {
				d = cur + 1
			} else {
				d = depth(s.SelectionSet, frags, cur+1, limit)
			}
		case *ast.InlineFragment:
			d = depth(s.SelectionSet, frags, cur, limit)
		case *ast.FragmentSpread:
			// A spread is not a level of its own; the guard above stops
			// cycles (which validation rejects anyway).
			if f := frags.ForName(s.Name); f != nil {
				d = depth(f.SelectionSet, frags, cur, limit)
			}
		}
		if d > deepest {
			deepest = d
		}
	}
	return deepest
}

// pageSizeCap refuses first/last above MaxPageSize on any field, and gives
// a connection asked for neither a page of MaxPageSize.
func pageSizeCap(ctx context.Context, next graphql.Resolver) (any, error) {
	fc := graphql.GetFieldContext(ctx)
	if fc != nil && fc.Args != nil {
		first, hasFirst := fc.Args["first"].(*int)
		last, hasLast := fc.Args["last"].(*int)
		for name, n := range map[string]*int{"first": first, "last": last} {
			if n != nil && (*n > MaxPageSize || *n < 0) {
				return nil, apperr.BadInput(name, "%s must be between 0 and %d", name, MaxPageSize)
			}
		}
		if hasFirst && hasLast && first == nil && last == nil {
			n := MaxPageSize
			if _, backwards := fc.Args["before"].(*entgql.Cursor[pulid.ID]); backwards && fc.Args["before"] != (*entgql.Cursor[pulid.ID])(nil) {
				fc.Args["last"] = &n
			} else {
				fc.Args["first"] = &n
			}
		}
	}
	return next(ctx)
}

// connectionComplexity makes a connection cost its page size times its
// children, so that wide nested pages count as what they are.
func connectionComplexity(childComplexity int, first, last *int) int {
	n := 10 // an unbounded page counts as ten
	if first != nil {
		n = *first
	} else if last != nil {
		n = *last
	}
	if n < 1 {
		n = 1
	}
	return 1 + n*childComplexity
}
