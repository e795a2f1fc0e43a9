package graph

import (
	"context"
	"fmt"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"

	"portier/internal/apperr"
)

// Bounds of a GraphQL document, checked before gqlparser validates it
// (docs/api.md, 'Limits'). Validation is not cancellable and some of its rules grow
// faster than the document: a fragment spread twice in each of n fragments
// expands to 2^n fields, and OverlappingFieldsCanBeMerged compares every
// pair of fields that share a response name. So the document is parsed once
// more here, with the token limit, and measured without expanding anything:
// every count that follows fragment spreads is memoised per fragment.
//
// The limits let every real query of this schema through many times over:
// graphql-js's full introspection query has about 500 tokens, 90
// selections, 30 spreads, a widest set of 10 fields, nests 15 levels and
// expands to 1,900 fields.
const (
	// MaxSelections bounds the fields, inline fragments and fragment
	// spreads written in the document.
	MaxSelections = 2500
	// MaxFragmentSpreads bounds the fragment spreads written in the
	// document.
	MaxFragmentSpreads = 500
	// MaxSetWidth bounds the fields of one selection set, with the fields
	// of the fragments spread into it merged in.
	MaxSetWidth = 250
	// MaxExpandedFields bounds the fields of all operations and fragments
	// with every fragment spread replaced by its fields (validation walks
	// each fragment on its own too).
	MaxExpandedFields = 10000
	// MaxNesting bounds how deep selection sets nest, fragments expanded.
	// It is the introspection limit: data is held to MaxDepth after
	// validation.
	MaxNesting = MaxIntrospectionDepth
	// MaxFieldComparisons bounds the comparisons of same-named fields that
	// validation makes: the pairs in one selection set, and, for each pair
	// with selections, the fields of their two selection sets, recursively.
	MaxFieldComparisons = 5000
	// MaxValueNesting bounds how deep lists and input objects nest, in
	// the document's literals and in the variables.
	MaxValueNesting = 32
	// MaxObjectFields bounds the fields of one input object literal
	// (validation checks their names pairwise); no input type of the
	// schema has half as many.
	MaxObjectFields = 200
	// MaxVariableValues bounds the values (scalars, lists and objects) in
	// the variables: as many as a document may have tokens.
	MaxVariableValues = MaxParserTokens
)

// Reasons of the refusals, in extensions.reason.
const (
	ReasonTooManyTokens       = "TOO_MANY_TOKENS"
	ReasonTooManySelections   = "TOO_MANY_SELECTIONS"
	ReasonTooManySpreads      = "TOO_MANY_FRAGMENT_SPREADS"
	ReasonSelectionSetTooWide = "SELECTION_SET_TOO_WIDE"
	ReasonExpandsTooLarge     = "EXPANDS_TOO_LARGE"
	ReasonNestedTooDeep       = "NESTED_TOO_DEEP"
	ReasonTooManyFieldPairs   = "TOO_MANY_SAME_NAMED_FIELDS"
	ReasonValueTooDeep        = "VALUE_NESTED_TOO_DEEP"
	ReasonObjectTooWide       = "INPUT_OBJECT_TOO_WIDE"
	ReasonVariablesTooLarge   = "VARIABLES_TOO_LARGE"
	ReasonCancelled           = "REQUEST_CANCELLED"
	// ReasonIncrementalDelivery refuses @defer and @stream: Portier
	// answers every request with one complete response (see checkDocument).
	ReasonIncrementalDelivery = "INCREMENTAL_DELIVERY_NOT_SUPPORTED"
)

// refusal is a BAD_USER_INPUT with a reason, refused before execution. Its
// own code marks it as a validation failure; it is answered as any invalid
// document is (see serve in transport.go), and the error presenter answers
// with the wrapped *apperr.Error.
func refusal(reason, format string, a ...any) *gqlerror.Error {
	ae := &apperr.Error{Code: apperr.CodeBadUserInput, Reason: reason, Message: fmt.Sprintf(format, a...)}
	e := &gqlerror.Error{Message: ae.Message, Err: ae}
	errcode.Set(e, errcode.ValidationFailed)
	return e
}

// docBounds is the gqlgen extension that checks the bounds. It runs as an
// OperationParameterMutator: before gqlgen parses and validates (and after
// a persisted-query hash has been replaced by its document). A document
// found in the query cache has passed before and is not measured again.
type docBounds struct {
	cache graphql.Cache[*ast.QueryDocument]
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationParameterMutator
} = docBounds{}

func (docBounds) ExtensionName() string                   { return "DocumentBounds" }
func (docBounds) Validate(graphql.ExecutableSchema) error { return nil }

func (b docBounds) MutateOperationParameters(ctx context.Context, p *graphql.RawParams) *gqlerror.Error {
	if ctx.Err() != nil {
		return refusal(ReasonCancelled, "the request was cancelled")
	}
	if err := checkVariables(p.Variables); err != nil {
		return err
	}
	if b.cache != nil {
		if _, ok := b.cache.Get(ctx, p.Query); ok {
			return nil
		}
	}
	doc, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: p.Query}, MaxParserTokens)
	if err != nil {
		if strings.Contains(err.Error(), "exceeded token limit") {
			return refusal(ReasonTooManyTokens, "the document has more than %d tokens", MaxParserTokens)
		}
		return nil // a syntax error: gqlgen parses again and reports it
	}
	return checkDocument(doc)
}

// checkDocument measures a parsed document against the bounds.
func checkDocument(doc *ast.QueryDocument) *gqlerror.Error {
	m := newMeasure(doc)

	// What is written: selections, spreads, literal values.
	for _, op := range doc.Operations {
		m.written(op.SelectionSet)
		for _, v := range op.VariableDefinitions {
			m.value(v.DefaultValue, 1)
		}
		m.directives(op.Directives)
	}
	for _, f := range doc.Fragments {
		m.written(f.SelectionSet)
		m.directives(f.Directives)
	}
	switch {
	case m.incremental:
		// gqlparser's prelude declares @defer, and gqlgen would answer
		// with the first payload only ("hasNext": true) over a transport
		// that never sends the rest: refused rather than half answered.
		return refusal(ReasonIncrementalDelivery, "@defer and @stream are not supported: request the fields without them")
	case m.selections > MaxSelections:
		return refusal(ReasonTooManySelections, "the document has more than %d selections", MaxSelections)
	case m.spreads > MaxFragmentSpreads:
		return refusal(ReasonTooManySpreads, "the document has more than %d fragment spreads", MaxFragmentSpreads)
	case m.valueDepth > MaxValueNesting:
		return refusal(ReasonValueTooDeep, "a value in the document nests lists or objects deeper than %d levels", MaxValueNesting)
	case m.wideObject:
		return refusal(ReasonObjectTooWide, "an input object in the document has more than %d fields", MaxObjectFields)
	}

	// What it expands to, fragment by fragment.
	expanded := 0
	for _, op := range doc.Operations {
		s := m.set(op.SelectionSet)
		if s.height > MaxNesting {
			return refusal(ReasonNestedTooDeep, "the query is nested deeper than %d levels", MaxNesting)
		}
		expanded = satAdd(expanded, s.expanded)
	}
	for _, f := range doc.Fragments {
		s := m.fragment(f.Name)
		if s.height > MaxNesting {
			return refusal(ReasonNestedTooDeep, "the query is nested deeper than %d levels", MaxNesting)
		}
		expanded = satAdd(expanded, s.expanded)
	}
	if m.tooWide {
		return refusal(ReasonSelectionSetTooWide, "a selection set has more than %d fields (with the fragments spread into it)", MaxSetWidth)
	}
	if expanded > MaxExpandedFields {
		return refusal(ReasonExpandsTooLarge, "the document expands to more than %d fields (fragment spreads replaced by their fields)", MaxExpandedFields)
	}

	// Pairs of same-named fields, as validation will compare them.
	if !m.pairsWithin(doc) {
		return refusal(ReasonTooManyFieldPairs, "too many fields share a response name (more than %d comparisons): give them distinct aliases", MaxFieldComparisons)
	}
	return nil
}

// setSize is what a selection set expands to.
type setSize struct {
	width    int // fields selected at its own level, fragments merged in
	expanded int // all fields below and at it, fragments expanded
	height   int // nesting of selection sets, fragments expanded
}

// measure walks one document. Counts saturate rather than overflow.
type measure struct {
	frags      map[string]*ast.FragmentDefinition
	memo       map[string]setSize
	visiting   map[string]bool
	flat       map[string][]*ast.Field
	groups     map[setKey]map[string][]*ast.Field
	selections int
	spreads    int
	valueDepth int
	wideObject bool
	tooWide    bool
	// incremental: the document asks for @defer or @stream.
	incremental bool
	compared    int
	weight      int // how often validation walks a fragment's selection sets
}

func newMeasure(doc *ast.QueryDocument) *measure {
	m := &measure{
		frags:    make(map[string]*ast.FragmentDefinition, len(doc.Fragments)),
		memo:     make(map[string]setSize, len(doc.Fragments)),
		visiting: map[string]bool{},
		flat:     map[string][]*ast.Field{},
		groups:   map[setKey]map[string][]*ast.Field{},
		weight:   1 + len(doc.Operations),
	}
	for _, f := range doc.Fragments {
		if _, ok := m.frags[f.Name]; !ok {
			m.frags[f.Name] = f
		}
	}
	return m
}

const saturated = 1 << 40

func satAdd(a, b int) int { return min(a+b, saturated) }
func satMul(a, b int) int {
	if a != 0 && b > saturated/a {
		return saturated
	}
	return min(a*b, saturated)
}

// written counts the selections and spreads as written, and measures the
// literal values of arguments and directives.
func (m *measure) written(set ast.SelectionSet) {
	for _, sel := range set {
		m.selections++
		switch s := sel.(type) {
		case *ast.Field:
			for _, a := range s.Arguments {
				m.value(a.Value, 1)
			}
			m.directives(s.Directives)
			m.written(s.SelectionSet)
		case *ast.InlineFragment:
			m.directives(s.Directives)
			m.written(s.SelectionSet)
		case *ast.FragmentSpread:
			m.spreads++
			m.directives(s.Directives)
		}
	}
}

func (m *measure) directives(ds ast.DirectiveList) {
	for _, d := range ds {
		if d.Name == "defer" || d.Name == "stream" {
			m.incremental = true
		}
		for _, a := range d.Arguments {
			m.value(a.Value, 1)
		}
	}
}

// value records how deep lists and objects nest in a literal (the parser
// already bounds this at 1000, so the recursion is bounded).
func (m *measure) value(v *ast.Value, depth int) {
	if v == nil {
		return
	}
	if v.Kind == ast.ObjectValue && len(v.Children) > MaxObjectFields {
		m.wideObject = true
	}
	if v.Kind == ast.ListValue || v.Kind == ast.ObjectValue {
		m.valueDepth = max(m.valueDepth, depth)
		for _, c := range v.Children {
			m.value(c.Value, depth+1)
		}
	}
}

// fragment is the memoised size of a named fragment. A fragment met again
// while it is being measured (a cycle, which validation refuses) counts
// as empty, so the walk ends.
func (m *measure) fragment(name string) setSize {
	if s, ok := m.memo[name]; ok {
		return s
	}
	f := m.frags[name]
	if f == nil || m.visiting[name] {
		return setSize{}
	}
	m.visiting[name] = true
	s := m.set(f.SelectionSet)
	delete(m.visiting, name)
	m.memo[name] = s
	return s
}

// set measures a selection set, and notes a set wider than MaxSetWidth.
func (m *measure) set(set ast.SelectionSet) setSize {
	var s setSize
	for _, sel := range set {
		var c setSize
		switch x := sel.(type) {
		case *ast.Field:
			sub := m.set(x.SelectionSet)
			c = setSize{width: 1, expanded: satAdd(1, sub.expanded), height: 1 + sub.height}
		case *ast.InlineFragment:
			c = m.set(x.SelectionSet)
		case *ast.FragmentSpread:
			c = m.fragment(x.Name)
		}
		s.width = satAdd(s.width, c.width)
		s.expanded = satAdd(s.expanded, c.expanded)
		s.height = max(s.height, c.height)
	}
	if s.width > MaxSetWidth {
		m.tooWide = true
	}
	return s
}

// flatten lists the fields a selection set selects at its own level,
// fragments and inline fragments merged in (each set is at most
// MaxSetWidth wide by now). A fragment's list is memoised.
func (m *measure) flatten(set ast.SelectionSet, out []*ast.Field) []*ast.Field {
	for _, sel := range set {
		switch x := sel.(type) {
		case *ast.Field:
			out = append(out, x)
		case *ast.InlineFragment:
			out = m.flatten(x.SelectionSet, out)
		case *ast.FragmentSpread:
			fs, ok := m.flat[x.Name]
			if !ok {
				m.flat[x.Name] = nil // a cycle ends here
				if f := m.frags[x.Name]; f != nil {
					fs = m.flatten(f.SelectionSet, nil)
				}
				m.flat[x.Name] = fs
			}
			out = append(out, fs...)
		}
	}
	return out
}

// setKey identifies a selection set of the document: the backing array of
// its selections and their number.
type setKey struct {
	first *ast.Selection
	n     int
}

// byName groups the fields of a set by response name, once per set.
func (m *measure) byName(set ast.SelectionSet) map[string][]*ast.Field {
	k := setKey{&set[0], len(set)}
	if g, ok := m.groups[k]; ok {
		return g
	}
	g := map[string][]*ast.Field{}
	for _, f := range m.flatten(set, nil) {
		g[f.Alias] = append(g[f.Alias], f)
	}
	m.groups[k] = g
	return g
}

// pairsWithin counts the comparisons of same-named fields that validation
// makes in every selection set of the document, and reports whether they
// stay within MaxFieldComparisons. Validation walks a fragment's selection
// sets once for each operation that uses it and once on its own: those
// count weight times. The count stops at the bound.
func (m *measure) pairsWithin(doc *ast.QueryDocument) bool {
	var walk func(set ast.SelectionSet, weight int) bool
	walk = func(set ast.SelectionSet, weight int) bool {
		if len(set) == 0 {
			return true
		}
		if !m.within(set, weight) {
			return false
		}
		for _, sel := range set {
			switch x := sel.(type) {
			case *ast.Field:
				if !walk(x.SelectionSet, weight) {
					return false
				}
			case *ast.InlineFragment:
				if !walk(x.SelectionSet, weight) {
					return false
				}
			}
		}
		return true
	}
	for _, op := range doc.Operations {
		if !walk(op.SelectionSet, 1) {
			return false
		}
	}
	for _, f := range doc.Fragments {
		if !walk(f.SelectionSet, m.weight) {
			return false
		}
	}
	return true
}

// within counts the pairs in one set and, for each pair of fields with
// selections, between their selection sets.
func (m *measure) within(set ast.SelectionSet, weight int) bool {
	for _, fs := range m.byName(set) {
		k := len(fs)
		if k < 2 {
			continue
		}
		if !m.add(satMul(k*(k-1)/2, weight)) {
			return false
		}
		for i := 0; i < k; i++ {
			for j := i + 1; j < k; j++ {
				if len(fs[i].SelectionSet) > 0 && len(fs[j].SelectionSet) > 0 && !m.between(fs[i].SelectionSet, fs[j].SelectionSet, weight) {
					return false
				}
			}
		}
	}
	return true
}

// between counts the same-named pairs of two selection sets, recursively,
// and the names looked up to find them.
func (m *measure) between(a, b ast.SelectionSet, weight int) bool {
	ga, gb := m.byName(a), m.byName(b)
	if len(gb) < len(ga) {
		ga, gb = gb, ga
	}
	if !m.add(satMul(len(ga), weight)) {
		return false
	}
	for name, fa := range ga {
		fb := gb[name]
		if len(fb) == 0 {
			continue
		}
		if !m.add(satMul(len(fa)*len(fb), weight)) {
			return false
		}
		for _, x := range fa {
			for _, y := range fb {
				if len(x.SelectionSet) > 0 && len(y.SelectionSet) > 0 && !m.between(x.SelectionSet, y.SelectionSet, weight) {
					return false
				}
			}
		}
	}
	return true
}

func (m *measure) add(n int) bool {
	m.compared = satAdd(m.compared, n)
	return m.compared <= MaxFieldComparisons
}

// checkVariables bounds the decoded variables: how many values they hold
// and how deep they nest. It walks with a stack of its own: the JSON
// decoder allows 10,000 levels.
func checkVariables(vars map[string]any) *gqlerror.Error {
	type item struct {
		v     any
		depth int
	}
	stack := make([]item, 0, len(vars))
	for _, v := range vars {
		stack = append(stack, item{v, 1})
	}
	n := 0
	for len(stack) > 0 {
		it := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		n++
		if n > MaxVariableValues {
			return refusal(ReasonVariablesTooLarge, "the variables hold more than %d values", MaxVariableValues)
		}
		switch x := it.v.(type) {
		case map[string]any:
			if it.depth > MaxValueNesting {
				return refusal(ReasonValueTooDeep, "a variable nests lists or objects deeper than %d levels", MaxValueNesting)
			}
			for _, c := range x {
				stack = append(stack, item{c, it.depth + 1})
			}
		case []any:
			if it.depth > MaxValueNesting {
				return refusal(ReasonValueTooDeep, "a variable nests lists or objects deeper than %d levels", MaxValueNesting)
			}
			for _, c := range x {
				stack = append(stack, item{c, it.depth + 1})
			}
		}
	}
	return nil
}
