// Command seqexec rewrites gqlgen's generated executor so that a response
// is marshalled on the request's goroutine. `make generate` runs it after
// gqlgen.
//
// gqlgen marshals each element of a list of objects in a goroutine of its
// own, and each object with more than one context-taking field (ent's edge
// methods) in further goroutines. Portier loads every list and edge of a
// request up front (entgql field collection, eager loading), inside one
// transaction whose statements run one at a time anyway, so those
// goroutines do no work in parallel: they only cost their creation, the
// growth of their stacks and the scheduler. Profiles of a nested page
// (docs/performance.md) showed a quarter of the server's CPU there.
//
// It also lets a field that only reads a struct field of its object and
// returns a scalar or an enum be marshalled directly (trivialScalarFields).
//
// The rewrite is textual and exact: each pattern must be found as often as
// the generated code has lists and objects, else the command fails, so a
// new gqlgen version that changes its output is noticed at `make generate`.
package main

import (
	"bytes"
	"fmt"
	"os"
	"regexp"
)

var rewrites = []struct {
	name string
	re   *regexp.Regexp
	repl []byte
}{
	{
		name: "list marshalling",
		re:   regexp.MustCompile(`graphql\.MarshalSliceConcurrently\(ctx, len\(v\), \d+, (true|false), `),
		repl: []byte(`marshalSliceSequentially(ctx, len(v), $1, `),
	},
	{
		name: "object fields",
		re:   regexp.MustCompile(`out\.ResolveConcurrently\(ec\.OperationContext, &deferred, i,`),
		repl: []byte(`resolveSequentially(ctx, ec.OperationContext, out, &deferred, field, i,`),
	},
	{
		name: "deferred groups",
		re:   regexp.MustCompile(`deferred := graphql\.NewDeferredGroup\(ctx\)`),
		repl: []byte(`deferred := lazyDeferredGroup(ctx)`),
	},
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: seqexec graph/generated/generated.go")
		os.Exit(2)
	}
	path := os.Args[1]
	src, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "seqexec:", err)
		os.Exit(1)
	}
	for _, r := range rewrites {
		n := len(r.re.FindAllIndex(src, -1))
		if n == 0 {
			fmt.Fprintf(os.Stderr, "seqexec: no %s found in %s: has gqlgen's output changed?\n", r.name, path)
			os.Exit(1)
		}
		src = r.re.ReplaceAll(src, r.repl)
	}
	src, n := inlineTrivialScalarFields(src)
	if n == 0 {
		fmt.Fprintf(os.Stderr, "seqexec: no trivial scalar field found in %s: has gqlgen's output changed?\n", path)
		os.Exit(1)
	}
	for _, leftover := range [][]byte{[]byte("MarshalSliceConcurrently"), []byte("out.ResolveConcurrently("), []byte("NewDeferredGroup(")} {
		if bytes.Contains(src, leftover) {
			fmt.Fprintf(os.Stderr, "seqexec: %s is still called in %s: extend the rewrite\n", leftover, path)
			os.Exit(1)
		}
	}
	if err := os.WriteFile(path, src, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "seqexec:", err)
		os.Exit(1)
	}
}

// A field resolved by graphql.ResolveField whose resolver only returns a
// struct field of its object, with no directive and no middleware of its
// own (the nil), and whose marshaller gets the value as it is.
var trivialField = regexp.MustCompile(`(?m)^func \(ec \*executionContext\) (_[^_\s(][^\s(]*)\(ctx context\.Context, field graphql\.CollectedField, obj ([^)\s]+)\) \(ret graphql\.Marshaler\) \{
\treturn graphql\.ResolveField\(
\t\tctx,
\t\tec\.OperationContext,
\t\tfield,
\t\tfunc\(ctx context\.Context, field graphql\.CollectedField\) \(\*graphql\.FieldContext, error\) \{
\t\t\treturn ec\.(fieldContext_[^\s(]+)\(ctx, field\)
\t\t\},
\t\tfunc\(ctx context\.Context\) \(any, error\) \{
\t\t\treturn obj\.([A-Za-z0-9_]+), nil
\t\t\},
\t\tnil,
\t\tfunc\(ctx context\.Context, selections ast\.SelectionSet, v [^)]+\) graphql\.Marshaler \{
\t\t\treturn ec\.(marshal[^\s(]+)\(ctx, selections, v\)
\t\t\},
\t\t(?:true|false),
\t\t(?:true|false),
\t\)
\}
`)

// The field contexts of scalar and enum fields that are neither methods nor
// resolvers.
var scalarFieldContext = regexp.MustCompile(`(?m)^func \(ec \*executionContext\) (fieldContext_[^\s(]+)\(_ context\.Context, field graphql\.CollectedField\) \(fc \*graphql\.FieldContext, err error\) \{
\treturn graphql\.NewScalarFieldContext\("([^"]+)", field, false, false, "[^"]+"\)
\}
`)

// inlineTrivialScalarFields rewrites each trivial scalar field of a
// Portier type (not introspection) to call its marshaller directly, as
// graphql.ResolveField would after running the field's middleware: a field
// context, a context value, two closures and a boxed value per field and
// response row, where the field can neither fail nor be nil unexpectedly.
// What that skips is Portier's field interceptor (graph/fields.go), which
// does nothing for such a field: it takes no arguments, does no work, and
// returns no object whose account a staff read would note. Errors of the
// marshaller (a non-null field that is null) are still reported, under the
// path of the object. Returns the source and the number of fields changed.
func inlineTrivialScalarFields(src []byte) ([]byte, int) {
	scalar := map[string]bool{}
	for _, m := range scalarFieldContext.FindAllSubmatch(src, -1) {
		if !bytes.HasPrefix(m[2], []byte("__")) {
			scalar[string(m[1])] = true
		}
	}
	n := 0
	src = trivialField.ReplaceAllFunc(src, func(fn []byte) []byte {
		m := trivialField.FindSubmatch(fn)
		name, obj, fieldCtx, goField, marshal := m[1], m[2], m[3], m[4], m[5]
		if !scalar[string(fieldCtx)] {
			return fn
		}
		n++
		return fmt.Appendf(nil, "func (ec *executionContext) %s(ctx context.Context, field graphql.CollectedField, obj %s) (ret graphql.Marshaler) {\n\treturn ec.%s(ctx, field.Selections, obj.%s)\n}\n",
			name, obj, marshal, goField)
	})
	return src, n
}
