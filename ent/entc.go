//go:build ignore

// entc.go generates the ent client and the entgql GraphQL schema
// (schema/ent.graphqls) from ent/schema. Run through `make generate`.
package main

import (
	"bytes"
	"fmt"
	"log"
	"strings"
	"text/template/parse"

	"entgo.io/contrib/entgql"
	"entgo.io/ent/entc"
	"entgo.io/ent/entc/gen"
	"github.com/vektah/gqlparser/v2/ast"
)

func main() {
	// The extension adds its templates after Config.Templates: Portier's
	// pagination helpers must come after entgql's to replace them.
	gqlTemplates := append(append([]*gen.Template{}, entgql.AllTemplates...), paginationTemplate())
	ex, err := entgql.NewExtension(
		entgql.WithTemplates(gqlTemplates...),
		entgql.WithConfigPath("../gqlgen.yml"),
		entgql.WithSchemaGenerator(),
		entgql.WithSchemaPath("../schema/ent.graphqls"),
		entgql.WithWhereInputs(true),
		entgql.WithRelaySpec(true),
		entgql.WithSchemaHook(guardNodeFields, dropEdgeFilters, describeTotalCount, describeAll),
	)
	if err != nil {
		log.Fatalf("creating entgql extension: %v", err)
	}
	templates := append(entgql.AllTemplates,
		gen.MustParse(gen.NewTemplate("pulid").ParseFiles("./template/pulid.tmpl")),
		gen.MustParse(gen.NewTemplate("privacyfilter").ParseFiles("./template/privacyfilter.tmpl")))
	err = entc.Generate("./schema", &gen.Config{
		Target:    ".",
		Package:   "portier/ent",
		Templates: templates,
		Features: []gen.Feature{
			gen.FeaturePrivacy,
			gen.FeatureEntQL,
			gen.FeatureNamedEdges,
			gen.FeatureUpsert,
			gen.FeatureLock,
			gen.FeatureExecQuery,
		},
	}, entc.Extensions(ex))
	if err != nil {
		log.Fatalf("running ent codegen: %v", err)
	}
}

// paginationTemplate returns Portier's changes to entgql's pagination
// (template/pagination.tmpl says what and why). It must come after
// entgql.AllTemplates: its helpers replace entgql's of the same name. The
// replaced load_total stays available as helper/entgql/load_total, and
// entgql's applyCursors is pointed at multiCursorsPredicate.
func paginationTemplate() *gen.Template {
	const from, to = "entgql.MultiCursorsPredicate(", "multiCursorsPredicate("
	if n := replaceText(entgql.PaginationTemplate.Lookup("gql_pagination").Tree.Root, from, to); n != 1 {
		log.Fatalf("entgql's gql_pagination template calls %s %d times, want 1: review template/pagination.tmpl against the new entgql", from, n)
	}
	t := gen.NewTemplate("pagination").Funcs(entgql.TemplateFuncs)
	loadTotal := entgql.CollectionTemplate.Lookup("gql_pagination/helper/load_total")
	if loadTotal == nil {
		log.Fatal("entgql has no gql_pagination/helper/load_total template: review template/pagination.tmpl against the new entgql")
	}
	if _, err := t.AddParseTree("helper/entgql/load_total", loadTotal.Tree.Copy()); err != nil {
		log.Fatal(err)
	}
	return gen.MustParse(t.ParseFiles("./template/pagination.tmpl"))
}

// replaceText replaces from with to in the literal text of a template and
// returns how often it did.
func replaceText(n parse.Node, from, to string) int {
	count := 0
	switch n := n.(type) {
	case *parse.TextNode:
		count = bytes.Count(n.Text, []byte(from))
		n.Text = bytes.ReplaceAll(n.Text, []byte(from), []byte(to))
	case *parse.ListNode:
		if n != nil {
			for _, c := range n.Nodes {
				count += replaceText(c, from, to)
			}
		}
	case *parse.IfNode:
		count += replaceText(n.List, from, to) + replaceText(n.ElseList, from, to)
	case *parse.RangeNode:
		count += replaceText(n.List, from, to) + replaceText(n.ElseList, from, to)
	case *parse.WithNode:
		count += replaceText(n.List, from, to) + replaceText(n.ElseList, from, to)
	}
	return count
}

// describeTotalCount says on every connection's totalCount what it costs:
// a count of every matching row, where a page reads only its own rows.
func describeTotalCount(_ *gen.Graph, s *ast.Schema) error {
	for name, def := range s.Types {
		if !strings.HasSuffix(name, "Connection") {
			continue
		}
		if f := def.Fields.ForName("totalCount"); f != nil {
			f.Description = totalCountDoc
		}
	}
	return nil
}

// totalCountDoc is the description of totalCount on every generated
// connection.
const totalCountDoc = "The number of all items in the connection, not only of this page. " +
	"It costs a count of every matching row, O(rows), which on a long list is far more than the page: " +
	"it is computed only when selected, so select it only when you show it. " +
	"pageInfo (hasNextPage, hasPreviousPage) does not need it."

// guardNodeFields puts the @auth directive on the generated Query.node and
// Query.nodes fields: every root field must carry an auth directive, and
// these two are generated rather than hand-written.
func guardNodeFields(_ *gen.Graph, s *ast.Schema) error {
	q := s.Types["Query"]
	if q == nil {
		return nil
	}
	for _, f := range q.Fields {
		if f.Name == "node" || f.Name == "nodes" {
			f.Directives = append(f.Directives, &ast.Directive{Name: "auth"})
		}
	}
	return nil
}

// dropEdgeFilters removes "has edge with" predicates that would let a viewer
// probe rows it may not read through a parent it may read (e.g. whether an
// account has a contact with some e-mail, for a user without contacts:read).
func dropEdgeFilters(_ *gen.Graph, s *ast.Schema) error {
	for name, def := range s.Types {
		if def.Kind != ast.InputObject || !strings.HasSuffix(name, "WhereInput") {
			continue
		}
		kept := def.Fields[:0]
		for _, f := range def.Fields {
			if strings.HasPrefix(f.Name, "has") {
				continue
			}
			kept = append(kept, f)
		}
		def.Fields = kept
	}
	return nil
}

// typeDocs describes the generated object types (the ent schema has field
// comments but no type comments).
var typeDocs = map[string]string{
	"CustomerAccount":      "A customer of the provider (the tenant), identified by its customer number.",
	"UserAccount":          "A personal login. One user may act for several customer accounts through its contacts.",
	"Contact":              "A person known to one customer account; may be linked to a user account.",
	"RoleAssignment":       "A role held by a contact on its account, for a time. Past assignments stay visible.",
	"SupportAuthorization": "A support authorization (Freigabe): what a contact may instruct the support desk to do.",
	"RightsGroup":          "A named set of permissions inside one customer account.",
	"GroupMembership":      "Membership of a contact in a rights group, for a time.",
	"Resource":             "Something the customer owns that a login can be scoped to.",
	"ScopedLogin":          "A login that sees exactly one resource.",
	"Invitation":           "An invitation for a person to join a customer account with roles.",
	"OrganisationDomain":   "A domain of a customer's organisation: proposed by the customer, confirmed by the provider; new contacts of a BUSINESS account need an address in a confirmed one.",
	"Session":              "A login session (a refresh-token family).",
	"APIKey":               "An API key of a user; it can do at most what its user can.",
	"AgencyDelegation":     "Permissions a client account delegates to an agency account.",
	"AccountManager":       "A sales staff user assigned to a customer account.",
	"AuditEvent":           "One entry of the append-only audit log.",
	"PageInfo":             "Information about pagination in a connection.",
	"Cursor":               "An opaque cursor for pagination.",
	"Node":                 "An object with a globally unique, opaque ID.",
	"OrderDirection":       "Possible directions in which to order a list of items.",
	"Query":                "The root of all reads.",
}

// describeAll gives every generated type and field a description: the
// schema files are the API documentation.
func describeAll(_ *gen.Graph, s *ast.Schema) error {
	for name, def := range s.Types {
		if def.BuiltIn {
			continue
		}
		if def.Description == "" {
			if d, ok := typeDocs[name]; ok {
				def.Description = d
			} else {
				return fmt.Errorf("generated type %s has no description: add it to typeDocs in ent/entc.go", name)
			}
		}
		for _, f := range def.Fields {
			if f.Description != "" {
				continue
			}
			switch {
			case f.Name == "id":
				f.Description = "The globally unique, opaque ID."
			case def.Kind == ast.InputObject && (f.Name == "not" || f.Name == "and" || f.Name == "or"):
				f.Description = "Logical " + strings.ToUpper(f.Name) + " of predicates."
			case def.Kind == ast.InputObject:
				f.Description = "Predicate: " + f.Name + "."
			case strings.HasSuffix(f.Type.Name(), "Connection"):
				f.Description = "A page of " + f.Name + "."
			default:
				return fmt.Errorf("generated field %s.%s has no description", name, f.Name)
			}
		}
	}
	return nil
}
