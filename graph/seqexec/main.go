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
