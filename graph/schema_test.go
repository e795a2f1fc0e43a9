package graph_test

import (
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"portier/internal/domain"
)

func loadSchema(t *testing.T) *ast.Schema {
	t.Helper()
	files, err := filepath.Glob("../schema/*.graphqls")
	if err != nil || len(files) == 0 {
		t.Fatalf("no schema files: %v", err)
	}
	var sources []*ast.Source
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		sources = append(sources, &ast.Source{Name: f, Input: string(b)})
	}
	s, gerr := gqlparser.LoadSchema(sources...)
	if gerr != nil {
		t.Fatalf("load schema: %v", gerr)
	}
	return s
}

var authDirectives = map[string]bool{"public": true, "auth": true, "hasPermission": true, "staff": true, "credentialsRight": true}

// Deny by default: every root field must say who may call it.
func TestEveryRootFieldHasAnAuthDirective(t *testing.T) {
	s := loadSchema(t)
	checked := 0
	for _, root := range []*ast.Definition{s.Query, s.Mutation, s.Subscription} {
		if root == nil {
			continue
		}
		for _, f := range root.Fields {
			if len(f.Name) > 1 && f.Name[:2] == "__" {
				continue
			}
			checked++
			n := 0
			for _, d := range f.Directives {
				if authDirectives[d.Name] {
					n++
				}
			}
			if n != 1 {
				t.Errorf("%s.%s has %d auth directives, want exactly one of @public, @auth, @hasPermission, @staff", root.Name, f.Name, n)
			}
		}
	}
	if checked < 10 {
		t.Fatalf("only %d root fields checked; is the schema loaded?", checked)
	}
}

// The schema files are the API documentation.
func TestEveryTypeAndFieldIsDescribed(t *testing.T) {
	s := loadSchema(t)
	for name, def := range s.Types {
		if def.BuiltIn || name[:2] == "__" {
			continue
		}
		if def.Description == "" {
			t.Errorf("type %s has no description", name)
		}
		for _, f := range def.Fields {
			if f.Name[:2] == "__" {
				continue
			}
			if f.Description == "" {
				t.Errorf("field %s.%s has no description", name, f.Name)
			}
			for _, a := range f.Arguments {
				if a.Description == "" {
					t.Errorf("argument %s.%s(%s) has no description", name, f.Name, a.Name)
				}
			}
		}
	}
}

// The GraphQL Permission enum and the catalogue in code are one list.
func TestPermissionEnumMatchesCatalogue(t *testing.T) {
	s := loadSchema(t)
	var inSchema, inCode []string
	for _, v := range s.Types["Permission"].EnumValues {
		inSchema = append(inSchema, v.Name)
	}
	for _, p := range domain.Permissions {
		inCode = append(inCode, p.EnumName())
	}
	sort.Strings(inSchema)
	sort.Strings(inCode)
	if len(inSchema) != len(inCode) {
		t.Fatalf("schema has %v, code has %v", inSchema, inCode)
	}
	for i := range inSchema {
		if inSchema[i] != inCode[i] {
			t.Fatalf("schema has %v, code has %v", inSchema, inCode)
		}
	}
}
