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
// Objects' fields are collected in an objectFieldSet (sequential.go)
// instead of gqlgen's FieldSet, which allocates per object what only @defer
// needs, and the fields an object selects are looked up in a cache of the
// operation's own (collectFields) rather than hashed per object.
//
// It also lets a field that only reads a struct field of its object and
// returns a scalar or an enum be marshalled directly (trivialScalarFields),
// and strings, times and self-marshalling types (IDs, enums) in place,
// through a pointer into the object (pointerScalars).
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
	{
		// An object's fields (not the root types', which set up a root
		// field context first) go into an objectFieldSet.
		name: "object field sets",
		re:   regexp.MustCompile(`fields := graphql\.CollectFields\(ec\.OperationContext, sel, (\w+Implementors)\)\n\n\tout := graphql\.NewFieldSet\(fields\)\n\tdeferred := lazyDeferredGroup\(ctx\)\n\tfor i, field := range fields \{\n\t\tswitch field\.Name \{`),
		repl: []byte("fields := ec.collectFields(sel, $1)\n\n\tout := newObjectFieldSet(fields)\n\tdeferred := lazyDeferredGroup(ctx)\n\tfor i, field := range fields {\n\t\tswitch field.Name {"),
	},
	{
		// A response's data is encoded into the buffer the transport
		// leased for the request (internal/respbuf), not a new one grown
		// from nothing. The explicit type keeps "bytes" imported.
		name: "response buffers",
		re:   regexp.MustCompile(`var buf bytes\.Buffer\n(\t+)data\.MarshalGQL\(&buf\)`),
		repl: []byte("var buf *bytes.Buffer = responseBuffer(ctx)\n${1}data.MarshalGQL(buf)"),
	},
	{
		// The execution context holds a cache of collected fields.
		name: "execution context",
		re:   regexp.MustCompile(`type executionContext struct \{\n\t\*graphql\.ExecutionContextState\[ResolverRoot, DirectiveRoot, ComplexityRoot\]\n\}`),
		repl: []byte("type executionContext struct {\n\t*graphql.ExecutionContextState[ResolverRoot, DirectiveRoot, ComplexityRoot]\n\tcollected collectedFieldsCache\n}"),
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
	for _, p := range pointerScalars {
		if inPlaceCount[p.body] == 0 {
			fmt.Fprintf(os.Stderr, "seqexec: no trivial field marshals with %q in %s: has gqlgen's output changed?\n", p.body, path)
			os.Exit(1)
		}
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
	bodies := marshallerBodies(src)
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
		return fmt.Appendf(nil, "func (ec *executionContext) %s(ctx context.Context, field graphql.CollectedField, obj %s) (ret graphql.Marshaler) {\n\t%s\n}\n",
			name, obj, marshalInPlace(bodies, string(marshal), string(goField)))
	})
	return src, n
}

// A marshaller of a scalar or enum, with its body.
var marshaller = regexp.MustCompile(`(?m)^func \(ec \*executionContext\) (marshal[^\s(]+)\(ctx context\.Context, sel ast\.SelectionSet, v [^)]+\) graphql\.Marshaler \{\n((?:\t.*\n)*?)\}\n`)

// The bodies of gqlgen's marshallers that box a copy of the value (an
// allocation per value), and how a trivial field marshals its value in
// place instead, through a pointer into its object (%[1]s is obj.Field).
// stringValue and timeValue (sequential.go) write what graphql.MarshalString
// and gqltime.MarshalTime write. A zero time.Time!, which gqlgen answers
// as an error, still goes through the marshaller.
var pointerScalars = []struct{ body, inPlace string }{
	{ // an enum or scalar type that is its own Marshaler (ID, Role, ...)
		body:    "\treturn v\n",
		inPlace: "return &%[1]s",
	},
	{
		body:    "\t_ = sel\n\tres := graphql.MarshalString(v)\n\tif res == graphql.Null {\n\t\tgraphql.AddInvalidNullFromMarshaler(ctx, \"String!\")\n\t}\n\treturn res\n",
		inPlace: "return (*stringValue)(&%[1]s)",
	},
	{
		body:    "\t_ = sel\n\t_ = ctx\n\tres := graphql.MarshalString(v)\n\treturn res\n",
		inPlace: "return (*stringValue)(&%[1]s)",
	},
	{
		body:    "\tif v == nil {\n\t\treturn graphql.Null\n\t}\n\t_ = sel\n\t_ = ctx\n\tres := graphql.MarshalString(*v)\n\treturn res\n",
		inPlace: "if %[1]s == nil {\n\t\treturn graphql.Null\n\t}\n\treturn (*stringValue)(%[1]s)",
	},
	{
		body:    "\t_ = sel\n\tres := gqltime.MarshalTime(v)\n\tif res == graphql.Null {\n\t\tgraphql.AddInvalidNullFromMarshaler(ctx, \"Time!\")\n\t}\n\treturn res\n",
		inPlace: "if %[1]s.IsZero() {\n\t\treturn ec.%[2]s(ctx, field.Selections, %[1]s)\n\t}\n\treturn (*timeValue)(&%[1]s)",
	},
	{
		body:    "\tif v == nil {\n\t\treturn graphql.Null\n\t}\n\t_ = sel\n\t_ = ctx\n\tres := gqltime.MarshalTime(*v)\n\treturn res\n",
		inPlace: "if %[1]s == nil || %[1]s.IsZero() {\n\t\treturn graphql.Null\n\t}\n\treturn (*timeValue)(%[1]s)",
	},
}

// marshallerBodies maps each marshaller of src to its body.
func marshallerBodies(src []byte) map[string]string {
	bodies := map[string]string{}
	for _, m := range marshaller.FindAllSubmatch(src, -1) {
		bodies[string(m[1])] = string(m[2])
	}
	return bodies
}

// marshalInPlace is the body of a trivial field that returns obj.goField
// through marshal: in place where marshal's body is one of pointerScalars,
// else a call of marshal.
func marshalInPlace(bodies map[string]string, marshal, goField string) string {
	value := "obj." + goField
	for _, p := range pointerScalars {
		if bodies[marshal] == p.body {
			inPlaceCount[p.body]++
			return fmt.Sprintf(p.inPlace, value, marshal)
		}
	}
	return fmt.Sprintf("return ec.%s(ctx, field.Selections, %s)", marshal, value)
}

// inPlaceCount counts the fields rewritten per pointerScalars body: each
// must be used, else gqlgen's marshallers have changed.
var inPlaceCount = map[string]int{}
