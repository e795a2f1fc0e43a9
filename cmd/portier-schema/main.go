// Command portier-schema prints the GraphQL schema that the server serves,
// as one SDL document: the types of schema/*.graphqls merged (extensions
// folded into their types), sorted by name, without the built-in types and
// directives. Client tooling reads it (docs/client-tooling.md).
//
//	go run ./cmd/portier-schema                  # to standard output
//	go run ./cmd/portier-schema -o FILE          # to a file
//
// On a release, `make schema-snapshot` writes schema/released/schema.graphql,
// against which `make client-check` finds breaking changes.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"

	"github.com/vektah/gqlparser/v2/formatter"

	"portier/graph/generated"
)

func main() {
	out := flag.String("o", "", "write the schema to this file instead of standard output")
	flag.Parse()
	var b bytes.Buffer
	b.WriteString("# The GraphQL schema of Portier, written by `go run ./cmd/portier-schema`; do not edit.\n\n")
	formatter.NewFormatter(&b, formatter.WithIndent("  ")).FormatSchema(generated.NewExecutableSchema(generated.Config{}).Schema())
	var err error
	if *out == "" {
		_, err = os.Stdout.Write(b.Bytes())
	} else {
		err = os.WriteFile(*out, b.Bytes(), 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "portier-schema:", err)
		os.Exit(1)
	}
}
