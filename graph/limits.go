package graph

import (
	"context"
	"strings"
	"sync/atomic"

	"entgo.io/contrib/entgql"

	"portier/internal/pulid"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"portier/internal/apperr"
)

// Request limits: docs/api.md, 'Limits'.
const (
	// MaxBodyBytes bounds the request body. No legitimate request to this
	// API comes near it (graphql-js's introspection query is 2 KiB), and
	// the worst documents' cost (JSON scanning, lexing) grows with it, so
	// it is 512 KiB rather than the common 1 MiB (TestWorstCaseDocumentsCPU).
	MaxBodyBytes    = 512 << 10
	MaxParserTokens = 10000 // tokens the parser reads before giving up
	MaxComplexity   = 25000 // sum of field costs; a connection counts its page size times its children
	MaxDepth        = 12    // nesting of selection sets of data (not counting __schema and __type subtrees)
	// MaxIntrospectionDepth bounds the nesting of operations that
	// introspect, __schema and __type subtrees included: graphql-js's
	// introspection query nests 6 levels plus its typeDepth (9 by default).
	MaxIntrospectionDepth = 40
	MaxPageSize           = 100  // first / last
	QueryCacheSize        = 1000 // parsed documents kept
)

// depthLimit refuses operations whose data is nested deeper than max. The
// subtrees of __schema and __type are not data: they are held to
// MaxIntrospectionDepth instead, so that graphql-js's introspection query
// (15 levels) passes while __type(name:){fields{type{ofType{…}}}} cannot
// nest without end. With introspection off, it refuses any operation that
// selects __schema or __type. It runs after validation, on the selected
// operation, with each fragment measured once.
type depthLimit struct {
	max           int
	introspection bool
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = depthLimit{}

func (depthLimit) ExtensionName() string                   { return "DepthLimit" }
func (depthLimit) Validate(graphql.ExecutableSchema) error { return nil }
func (d depthLimit) MutateOperationContext(_ context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil || oc.Doc == nil {
		return nil
	}
	w := depthWalk{frags: oc.Doc.Fragments, memo: map[string]heights{}, visiting: map[string]bool{}}
	h := w.set(oc.Operation.SelectionSet)
	switch {
	case h.introspects && !d.introspection:
		return refusal(ReasonIntrospectionDisabled, "introspection is disabled on this server")
	case h.data > d.max:
		return refusal(ReasonNestedTooDeep, "the query is nested deeper than %d levels", d.max)
	case h.introspection > MaxIntrospectionDepth:
		return refusal(ReasonNestedTooDeep, "the introspection query is nested deeper than %d levels", MaxIntrospectionDepth)
	}
	return nil
}

// heights of a selection set: of its data (introspection subtrees count
// one level, their root field), of its deepest introspection subtree
// (counted from the set), and of everything.
type heights struct {
	data, introspection, all int
	introspects              bool
}

type depthWalk struct {
	frags    ast.FragmentDefinitionList
	memo     map[string]heights
	visiting map[string]bool
}

func isIntrospectionRoot(f *ast.Field) bool { return f.Name == "__schema" || f.Name == "__type" }

func (w *depthWalk) set(set ast.SelectionSet) heights {
	var h heights
	for _, sel := range set {
		var c heights
		switch s := sel.(type) {
		case *ast.Field:
			sub := w.set(s.SelectionSet)
			c.all = 1 + sub.all
			if isIntrospectionRoot(s) {
				c = heights{data: 1, introspection: c.all, all: c.all, introspects: true}
			} else {
				c.data = 1 + sub.data
				c.introspects = sub.introspects
				if sub.introspection > 0 {
					c.introspection = 1 + sub.introspection
				}
			}
		case *ast.InlineFragment:
			c = w.set(s.SelectionSet)
		case *ast.FragmentSpread:
			// A spread is not a level of its own. Each fragment is measured
			// once; one met again while measured (a cycle, which
			// validation refuses) counts as empty.
			if m, ok := w.memo[s.Name]; ok {
				c = m
			} else if f := w.frags.ForName(s.Name); f != nil && !w.visiting[s.Name] {
				w.visiting[s.Name] = true
				c = w.set(f.SelectionSet)
				delete(w.visiting, s.Name)
				w.memo[s.Name] = c
			}
		}
		h.data = max(h.data, c.data)
		h.introspection = max(h.introspection, c.introspection)
		h.all = max(h.all, c.all)
		h.introspects = h.introspects || c.introspects
	}
	return h
}

// capPageSize refuses first/last above MaxPageSize on any field, and gives
// a connection asked for neither a page of MaxPageSize.
func capPageSize(fc *graphql.FieldContext) error {
	if fc.Args == nil {
		return nil
	}
	first, hasFirst := fc.Args["first"].(*int)
	last, hasLast := fc.Args["last"].(*int)
	if err := checkPageArg("first", first); err != nil {
		return err
	}
	if err := checkPageArg("last", last); err != nil {
		return err
	}
	if hasFirst && hasLast && first == nil && last == nil {
		n := MaxPageSize
		if _, backwards := fc.Args["before"].(*entgql.Cursor[pulid.ID]); backwards && fc.Args["before"] != (*entgql.Cursor[pulid.ID])(nil) {
			fc.Args["last"] = &n
		} else {
			fc.Args["first"] = &n
		}
	}
	return nil
}

func checkPageArg(name string, n *int) error {
	if n != nil && (*n > MaxPageSize || *n < 0) {
		return apperr.BadInput(name, "%s must be between 0 and %d", name, MaxPageSize)
	}
	return nil
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

// MaxIntrospectionFields bounds the introspection fields (of __Schema,
// __Type, __Field, …) one operation resolves. gqlgen resolves each in a
// couple of microseconds (list elements in goroutines of their own), so
// this bounds an introspection document's CPU like the other limits do.
// graphql-js's full introspection query resolves about 17,500 on this
// schema (issues 8 and 9 added contacts, domains, account administration,
// phone, scoped logins and the support desk); TestIntrospectionFieldBudget
// fails once it needs more than 80 %, so that the schema's growth raises
// this deliberately. An uncached full introspection stays within the CPU
// budget of TestWorstCaseDocumentsCPU; answers are cached (introcache.go).
const MaxIntrospectionFields = 28000

// Reasons of refusals during execution, in extensions.reason.
const (
	ReasonIntrospectionDisabled = "INTROSPECTION_DISABLED"
	ReasonIntrospectionTooLarge = "INTROSPECTION_TOO_LARGE"
)

var (
	errCancelled             = &apperr.Error{Code: apperr.CodeBadUserInput, Reason: ReasonCancelled, Message: "the request was cancelled"}
	errIntrospectionTooLarge = &apperr.Error{Code: apperr.CodeBadUserInput, Reason: ReasonIntrospectionTooLarge,
		Message: "the introspection result would be too large: ask for less, or in several requests"}
)

// fieldGuard stops the work of an operation that is no longer wanted: once
// the request's context is cancelled (the client went away, the server shuts
// down), no further field that does work resolves (guard, called by
// fieldPipeline; a field that only reads a value already loaded is no work);
// once the operation has resolved MaxIntrospectionFields introspection
// fields, nothing more resolves. Each stop is answered with one error, not
// one per field. Without suggestions, it also cuts "Did you mean …?" from
// every error message.
type fieldGuard struct {
	hideSuggestions bool
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationInterceptor
	graphql.ResponseInterceptor
} = fieldGuard{}

type guardKey struct{}

// opGuard is the state of one operation.
type opGuard struct {
	introspected atomic.Int64
	stop         atomic.Pointer[apperr.Error]
}

func (fieldGuard) ExtensionName() string                   { return "FieldGuard" }
func (fieldGuard) Validate(graphql.ExecutableSchema) error { return nil }

func (fieldGuard) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	return next(context.WithValue(ctx, guardKey{}, &opGuard{}))
}

// guard refuses the field when the operation was stopped (cancelled, or
// too much introspection). Called by fieldPipeline for every field that
// does work.
func guard(ctx context.Context, introspection bool) error {
	g, _ := ctx.Value(guardKey{}).(*opGuard)
	if g == nil {
		return nil
	}
	if e := g.stop.Load(); e != nil {
		return e
	}
	if ctx.Err() != nil {
		g.stop.CompareAndSwap(nil, errCancelled)
		return errCancelled
	}
	if introspection && g.introspected.Add(1) > MaxIntrospectionFields {
		g.stop.CompareAndSwap(nil, errIntrospectionTooLarge)
		return g.stop.Load()
	}
	return nil
}

func (f fieldGuard) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	resp := next(ctx)
	if resp == nil {
		return nil
	}
	if g, _ := ctx.Value(guardKey{}).(*opGuard); g != nil {
		if stop := g.stop.Load(); stop != nil {
			resp.Errors = onlyFirstWithReason(resp.Errors, stop.Reason)
		}
	}
	if f.hideSuggestions {
		for _, e := range resp.Errors {
			if i := strings.Index(e.Message, " Did you mean "); i >= 0 {
				e.Message = e.Message[:i]
			}
		}
	}
	return resp
}

// onlyFirstWithReason drops every error with the given reason but the first.
func onlyFirstWithReason(errs gqlerror.List, reason string) gqlerror.List {
	out := errs[:0]
	seen := false
	for _, e := range errs {
		if r, _ := e.Extensions["reason"].(string); r == reason {
			if seen {
				continue
			}
			seen = true
		}
		out = append(out, e)
	}
	return out
}
