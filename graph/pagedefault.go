package graph

import (
	"context"
	"strconv"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

// defaultPageCache is the query cache of validated documents. Before a
// document is stored (and used), every connection field that names neither
// first nor last gets first: MaxPageSize written into it. Connections are
// loaded in two ways — by their resolver (where capPageSize could default
// the argument) and eagerly, by the field collection of a parent query,
// which reads the arguments of the document itself — and only a document
// that says how many rows it wants bounds both. Rewriting at insertion is
// race-free: gqlgen adds a document once it is validated and hands it to
// other requests only from the cache afterwards.
type defaultPageCache struct {
	graphql.Cache[*ast.QueryDocument]
}

func (c defaultPageCache) Add(ctx context.Context, key string, doc *ast.QueryDocument) {
	defaultPages(doc)
	c.Cache.Add(ctx, key, doc)
}

// defaultPages writes first: MaxPageSize (last: after a before cursor) into
// every connection field of the document that names neither first nor last.
func defaultPages(doc *ast.QueryDocument) {
	for _, op := range doc.Operations {
		defaultPagesIn(op.SelectionSet)
	}
	for _, f := range doc.Fragments {
		defaultPagesIn(f.SelectionSet)
	}
}

func defaultPagesIn(set ast.SelectionSet) {
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			if isConnection(s) && s.Arguments.ForName("first") == nil && s.Arguments.ForName("last") == nil {
				name := "first"
				if s.Arguments.ForName("before") != nil {
					name = "last" // paging backwards from a cursor
				}
				s.Arguments = append(s.Arguments, &ast.Argument{
					Name:     name,
					Value:    &ast.Value{Kind: ast.IntValue, Raw: strconv.Itoa(MaxPageSize), Position: s.Position},
					Position: s.Position,
				})
			}
			defaultPagesIn(s.SelectionSet)
		case *ast.InlineFragment:
			defaultPagesIn(s.SelectionSet)
		}
	}
}

// isConnection reports a Relay connection field that takes first and last.
func isConnection(f *ast.Field) bool {
	d := f.Definition
	return d != nil && d.Type != nil && strings.HasSuffix(d.Type.Name(), "Connection") &&
		d.Arguments.ForName("first") != nil && d.Arguments.ForName("last") != nil
}
