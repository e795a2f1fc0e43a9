package graph_test

// Introspection (issue 6, item 9): the playground and every schema-reading
// tool send graphql-js's introspection query, which nests deeper than the
// data depth limit. It must be answered, while depth still limits data, the
// introspection subtrees are bounded on their own, and a switch turns
// introspection and "did you mean" suggestions off.

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/99designs/gqlgen/graphql"

	"portier/graph"
)

// introspectionQueryV16 is the text graphql-js 16 (16.9 and later)
// getIntrospectionQuery returns with descriptions, specifiedByUrl,
// directiveIsRepeatable, schemaDescription and inputValueDeprecation on:
// what GraphiQL and the code generators send, byte for byte.
const introspectionQueryV16 = `
    query IntrospectionQuery {
      __schema {
        description
        queryType { name kind }
        mutationType { name kind }
        subscriptionType { name kind }
        types {
          ...FullType
        }
        directives {
          name
          description
          isRepeatable
          locations
          args(includeDeprecated: true) {
            ...InputValue
          }
        }
      }
    }

    fragment FullType on __Type {
      kind
      name
      description
      specifiedByURL
` +
	"      \n" + // the empty line of the oneOf option, which is off
	`      fields(includeDeprecated: true) {
        name
        description
        args(includeDeprecated: true) {
          ...InputValue
        }
        type {
          ...TypeRef
        }
        isDeprecated
        deprecationReason
      }
      inputFields(includeDeprecated: true) {
        ...InputValue
      }
      interfaces {
        ...TypeRef
      }
      enumValues(includeDeprecated: true) {
        name
        description
        isDeprecated
        deprecationReason
      }
      possibleTypes {
        ...TypeRef
      }
    }

    fragment InputValue on __InputValue {
      name
      description
      type { ...TypeRef }
      defaultValue
      isDeprecated
      deprecationReason
    }

    fragment TypeRef on __Type {
      kind
      name
      ofType {
        kind
        name
        ofType {
          kind
          name
          ofType {
            kind
            name
            ofType {
              kind
              name
              ofType {
                kind
                name
                ofType {
                  kind
                  name
                  ofType {
                    kind
                    name
                    ofType {
                      kind
                      name
                      ofType {
                        kind
                        name
                      }
                    }
                  }
                }
              }
            }
          }
        }
      }
    }
` + "  "

// introspectionQueryV17 is graphql-js 17's query with every option this
// server supports on (oneOf too; not the experimental directive
// deprecation, nor __service) and the given typeDepth (its default is 9, its
// maximum 100): TypeRef nests typeDepth ofType levels, each naming the type
// before its kind.
func introspectionQueryV17(typeDepth int) string {
	var ofType func(level int, indent string) string
	ofType = func(level int, indent string) string {
		if level <= 0 {
			return ""
		}
		return "\n" + indent + "ofType {\n" + indent + "  name\n" + indent + "  kind" + ofType(level-1, indent+"  ") + "\n" + indent + "}"
	}
	return `
    query IntrospectionQuery {
      __schema {
        description
        queryType { name kind }
        mutationType { name kind }
        subscriptionType { name kind }
        types {
          ...FullType
        }
        directives {
          name
          description
          isRepeatable
` + "          \n          \n" + `          locations
          args(includeDeprecated: true) {
            ...InputValue
          }
        }
      }
` + "      \n" + `    }

    fragment FullType on __Type {
      kind
      name
      description
      specifiedByURL
      isOneOf
      fields(includeDeprecated: true) {
        name
        description
        args(includeDeprecated: true) {
          ...InputValue
        }
        type {
          ...TypeRef
        }
        isDeprecated
        deprecationReason
      }
      inputFields(includeDeprecated: true) {
        ...InputValue
      }
      interfaces {
        ...TypeRef
      }
      enumValues(includeDeprecated: true) {
        name
        description
        isDeprecated
        deprecationReason
      }
      possibleTypes {
        ...TypeRef
      }
    }

    fragment InputValue on __InputValue {
      name
      description
      type { ...TypeRef }
      defaultValue
      isDeprecated
      deprecationReason
    }

    fragment TypeRef on __Type {
      kind
      name` + ofType(typeDepth, "      ") + `
    }
  `
}

// introspect runs an introspection document anonymously, as GraphiQL does
// before anyone has logged in, and returns the decoded __schema.
func introspect(t *testing.T, e *env, name, query string) map[string]any {
	t.Helper()
	r := e.do("", query, nil)
	if r.Status != 200 || len(r.Errors) > 0 || r.Data == nil {
		t.Fatalf("%s: want an answer without errors, got HTTP %d %.600s", name, r.Status, r.Raw)
	}
	s, _ := r.Data["__schema"].(map[string]any)
	if s == nil {
		t.Fatalf("%s: no __schema in %.300s", name, r.Raw)
	}
	return s
}

func TestIntrospectionGraphiQLQuery(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, c := range []struct{ name, query string }{
		{"graphql-js 16", introspectionQueryV16},
		{"graphql-js 17, typeDepth 9", introspectionQueryV17(9)},
		{"graphql-js 17, typeDepth 20", introspectionQueryV17(20)},
	} {
		s := introspect(t, e, c.name, c.query)
		if q := dig(s, "queryType", "name"); q != "Query" {
			t.Errorf("%s: queryType %v", c.name, q)
		}
		if m := dig(s, "mutationType", "name"); m != "Mutation" {
			t.Errorf("%s: mutationType %v", c.name, m)
		}
		types, _ := s["types"].([]any)
		byName := map[string]map[string]any{}
		for _, ty := range types {
			m := ty.(map[string]any)
			byName[m["name"].(string)] = m
		}
		for _, want := range []string{"Query", "Mutation", "CustomerAccount", "Contact", "CustomerAccountWhereInput", "Time", "__Schema", "__Type"} {
			if byName[want] == nil {
				t.Errorf("%s: type %s missing (%d types)", c.name, want, len(types))
			}
		}
		// Descriptions of types, fields and arguments.
		if d, _ := dig(byName["Query"], "description").(string); d == "" {
			t.Errorf("%s: Query has no description", c.name)
		}
		described := 0
		for _, f := range dig(byName["CustomerAccount"], "fields").([]any) {
			if d, _ := dig(f, "description").(string); d != "" {
				described++
			}
		}
		if described == 0 {
			t.Errorf("%s: no field of CustomerAccount has a description", c.name)
		}
		// specifiedByURL on scalars and isRepeatable on directives are
		// answered (null and false are answers too).
		if _, ok := byName["Time"]["specifiedByURL"]; !ok {
			t.Errorf("%s: the Time scalar has no specifiedByURL key: %v", c.name, byName["Time"])
		}
		dirs, _ := s["directives"].([]any)
		names := map[string]bool{}
		for _, d := range dirs {
			m := d.(map[string]any)
			names[m["name"].(string)] = true
			if _, ok := m["isRepeatable"].(bool); !ok {
				t.Errorf("%s: directive %v has no isRepeatable", c.name, m["name"])
			}
		}
		for _, want := range []string{"include", "skip", "deprecated", "specifiedBy"} {
			if !names[want] {
				t.Errorf("%s: directive @%s missing", c.name, want)
			}
		}
		// The deepest type reference ([X!]! is NON_NULL of LIST of NON_NULL)
		// is answered in full.
		var nodesType any
		for _, f := range dig(byName["Query"], "fields").([]any) {
			if dig(f, "name") == "nodes" {
				nodesType = dig(f, "type")
			}
		}
		if k := dig(nodesType, "ofType", "ofType", "kind"); k != "INTERFACE" {
			t.Errorf("%s: Query.nodes type: want NON_NULL of LIST of INTERFACE, got %v", c.name, nodesType)
		}
	}
}

// limChainIntrospection nests n ofType levels under a field's type.
func limChainIntrospection(n int) string {
	return `{ __type(name: "Query") { fields { type { ` + strings.Repeat("ofType { ", n) + "name" + strings.Repeat(" }", n) + ` } } } }`
}

// The data depth limit does not count introspection, but introspection has
// a depth limit of its own: __type(name:){fields{type{ofType{…}}}} cannot
// be nested without end.
func TestIntrospectionDepth(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.createAccount("INTRO-1")

	// __type → fields → type → n × ofType → name: n + 4 levels.
	limOK(t, e.do("", limChainIntrospection(graph.MaxIntrospectionDepth-4), nil))
	for _, n := range []int{graph.MaxIntrospectionDepth - 3, 200} {
		r := e.do("", limChainIntrospection(n), nil)
		limWantCode(t, r, "BAD_USER_INPUT")
		if r.Data != nil || !strings.Contains(r.Errors[0].Message, "deep") {
			t.Errorf("introspection %d levels deep: want a refusal saying it is too deep, got %s", n+4, r.Raw)
		}
	}
	// The same through fragments, spread twice at every level.
	var sb strings.Builder
	n := graph.MaxIntrospectionDepth
	fmt.Fprintf(&sb, `{ __type(name: "Query") { ...T%d } }`, n)
	for k := n; k > 0; k-- {
		fmt.Fprintf(&sb, "\nfragment T%d on __Type { name ofType { ...T%d } ofType { ...T%d } }", k, k-1, k-1)
	}
	sb.WriteString("\nfragment T0 on __Type { name }")
	r := e.do("", sb.String(), nil)
	limWantCode(t, r, "BAD_USER_INPUT")

	// Data next to introspection: the data part is still limited to
	// MaxDepth, the introspection part is not counted in it.
	limOK(t, e.do(e.admin, `{ __schema { types { fields { type { ofType { ofType { ofType { name } } } } } } }
		customerAccounts(first: 1) { edges { node { `+limChain(graph.MaxDepth-4)+` } } } }`, nil))
	r = e.do(e.admin, `{ __schema { types { name } }
		customerAccounts(first: 1) { edges { node { `+limChain(graph.MaxDepth-3)+` } } } }`, nil)
	limWantCode(t, r, "BAD_USER_INPUT")
	if !strings.Contains(r.Errors[0].Message, fmt.Sprint(graph.MaxDepth)) {
		t.Errorf("data deeper than %d next to introspection: want the depth refusal, got %s", graph.MaxDepth, r.Raw)
	}
	// __typename is data, not introspection: it counts.
	r = e.do(e.admin, `{ customerAccounts(first: 1) { edges { node { `+strings.Repeat("defaultAgency { ", graph.MaxDepth-3)+"__typename"+strings.Repeat(" }", graph.MaxDepth-3)+` } } } }`, nil)
	limWantCode(t, r, "BAD_USER_INPUT")
}

// introspectionDisabled is an environment with the production switch off.
func introspectionDisabled(t *testing.T) *env {
	return newEnv(t, envOption(func(d *graph.Deps) { d.DisableIntrospection = true }))
}

func TestIntrospectionSwitch(t *testing.T) {
	t.Parallel()
	on, off := newEnv(t), introspectionDisabled(t)

	// On (the default): the playground's query is answered, typos get
	// suggestions.
	introspect(t, on, "introspection on", introspectionQueryV16)
	typos := []struct{ name, query string }{
		{"field", `{ me { kindd } }`},
		{"argument", `{ customerAccounts(frist: 1) { totalCount } }`},
		{"enum value", `{ customerAccounts(orderBy: {field: NUMBR}) { totalCount } }`},
		{"input field", `{ customerAccounts(where: {numbr: "1"}) { totalCount } }`},
		{"type", `query($w: CustomerAccountWhereInputt) { customerAccounts(where: $w) { totalCount } }`},
	}
	for _, c := range typos[:4] { // gqlparser suggests no type names
		r := on.do(on.admin, c.query, nil)
		limWantCode(t, r, "BAD_USER_INPUT")
		if !strings.Contains(r.Raw, "Did you mean") {
			t.Errorf("introspection on, %s typo: want a suggestion, got %s", c.name, r.Raw)
		}
	}

	// Off: every road to the schema is refused with a reason; __typename
	// still works; no error suggests names.
	for name, q := range map[string]string{
		"full query":       introspectionQueryV16,
		"__type":           `{ __type(name: "Query") { name fields { name } } }`,
		"aliased":          `{ s: __schema { queryType { name } } }`,
		"through fragment": `{ ...F } fragment F on Query { __schema { types { name } } }`,
		"inline fragment":  `{ ... on Query { __type(name: "Contact") { name } } }`,
		"with data":        `{ me { kind } __schema { types { name } } }`,
	} {
		for _, tok := range []string{"", off.admin} {
			r := off.do(tok, q, nil)
			limWantCode(t, r, "BAD_USER_INPUT")
			if r.Data != nil {
				t.Errorf("introspection off, %s: want no data, got %s", name, r.Raw)
			}
			if reason, _ := r.Errors[0].Extensions["reason"].(string); reason != "INTROSPECTION_DISABLED" {
				t.Errorf("introspection off, %s: want reason INTROSPECTION_DISABLED, got %s", name, r.Raw)
			}
			if !strings.Contains(strings.ToLower(r.Errors[0].Message), "introspection") {
				t.Errorf("introspection off, %s: the message should say introspection is off: %s", name, r.Raw)
			}
		}
	}
	d := limOK(t, off.do(off.admin, `{ __typename me { __typename kind } }`, nil))
	if dig(d, "__typename") != "Query" || dig(d, "me", "__typename") == nil {
		t.Errorf("introspection off: __typename must still work, got %v", d)
	}
	for _, c := range typos {
		r := off.do(off.admin, c.query, nil)
		limWantCode(t, r, "BAD_USER_INPUT")
		if strings.Contains(strings.ToLower(r.Raw), "did you mean") {
			t.Errorf("introspection off, %s typo: the error suggests names: %s", c.name, r.Raw)
		}
	}
	if strings.Contains(off.logs.String(), "introspection disabled") || strings.Contains(off.logs.String(), `"internal error"`) {
		t.Errorf("refused introspection must not be logged as an internal error; log:\n%s", off.logs.String())
	}
}

// countingServer is NewGraphQLServer behind the real field guard, with a
// field middleware of the test that counts introspection fields.
func countingServer(t *testing.T, e *env) (http.Handler, *atomic.Int64) {
	t.Helper()
	srv := graph.NewGraphQLServer(graph.Deps{Client: e.client, DB: e.db.SQL, Tokens: e.tokens, Log: slog.New(slog.NewJSONHandler(allLogs, nil)), Now: e.clock.Now})
	var n atomic.Int64
	srv.AroundFields(func(ctx context.Context, next graphql.Resolver) (any, error) {
		if strings.HasPrefix(graphql.GetFieldContext(ctx).Object, "__") {
			n.Add(1)
		}
		return next(ctx)
	})
	return srv, &n
}

// The full introspection query stays well within MaxIntrospectionFields,
// and a document asking for more is stopped at the budget with one error.
func TestIntrospectionFieldBudget(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	h, n := countingServer(t, e)
	post := func(q string) response {
		rec, _ := serveOnce(h, wdBody(q, nil, ""), "")
		var out struct {
			Data   map[string]any `json:"data"`
			Errors []gqlError     `json:"errors"`
		}
		_ = json.Unmarshal(rec.Body.Bytes(), &out)
		return response{Status: rec.Code, Data: out.Data, Errors: out.Errors, Raw: rec.Body.String()}
	}
	for name, q := range map[string]string{"graphql-js 16": introspectionQueryV16, "graphql-js 17, typeDepth 20": introspectionQueryV17(20)} {
		n.Store(0)
		limOK(t, post(q))
		t.Logf("%s resolves %d introspection fields (budget %d)", name, n.Load(), graph.MaxIntrospectionFields)
		if n.Load() > graph.MaxIntrospectionFields*8/10 {
			t.Errorf("%s resolves %d introspection fields, more than 80%% of MaxIntrospectionFields (%d): raise it with the schema", name, n.Load(), graph.MaxIntrospectionFields)
		}
	}

	// Twice the full query: stopped at the budget.
	n.Store(0)
	twice := strings.Replace(introspectionQueryV16, "__schema {", "a: __schema { types { ...FullType } } b: __schema {", 1)
	r := post(twice)
	limWantCode(t, r, "BAD_USER_INPUT")
	if len(r.Errors) != 1 {
		t.Errorf("want one error, got %d: %.500s", len(r.Errors), r.Raw)
	}
	if reason, _ := r.Errors[0].Extensions["reason"].(string); reason != graph.ReasonIntrospectionTooLarge {
		t.Errorf("want reason %s, got %.500s", graph.ReasonIntrospectionTooLarge, r.Raw)
	}
	if got := n.Load(); got > graph.MaxIntrospectionFields+1000 {
		t.Errorf("%d introspection fields resolved, the budget is %d", got, graph.MaxIntrospectionFields)
	}
}
