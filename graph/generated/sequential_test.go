package generated

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

// onlyWriter hides bytes.Buffer's other methods.
type onlyWriter struct{ b bytes.Buffer }

func (w *onlyWriter) Write(p []byte) (int, error) { return w.b.Write(p) }

// An object's field set writes each response key once, first value first,
// in order, the same into a buffer and into any writer.
func TestObjectFieldSetMarshal(t *testing.T) {
	field := func(alias string) graphql.CollectedField {
		return graphql.CollectedField{Field: &ast.Field{Alias: alias, Name: alias}}
	}
	o := newObjectFieldSet([]graphql.CollectedField{field("id"), field("name"), field("id"), field("n")})
	o.Values[0] = graphql.MarshalString("a")
	o.Values[1] = graphql.MarshalString(`x"y`)
	o.Values[2] = graphql.MarshalString("second")
	o.Values[3] = graphql.Null
	const want = `{"id":"a","name":"x\"y","n":null}`
	var buf bytes.Buffer
	o.MarshalGQL(&buf)
	var plain onlyWriter
	o.MarshalGQL(&plain)
	if buf.String() != want || plain.b.String() != want {
		t.Errorf("into a buffer %s, into a writer %s, want %s", buf.String(), plain.b.String(), want)
	}
	empty := newObjectFieldSet(nil)
	buf.Reset()
	empty.MarshalGQL(&buf)
	if buf.String() != "{}" {
		t.Errorf("no fields: %s", buf.String())
	}
}

// stringValue writes what graphql.MarshalString writes, byte for byte, on
// its fast path into a buffer and elsewhere.
func TestStringValueAsGqlgen(t *testing.T) {
	for _, s := range []string{"", "Ada Lovelace", `quote " here`, `back\slash`, "tab\there",
		"nul\x00", "del\x7f", "ümlaut", "<script>&", "\u2028", "invalid \xff utf-8"} {
		var want bytes.Buffer
		graphql.MarshalString(s).MarshalGQL(&want)
		v := stringValue(s)
		var buf bytes.Buffer
		v.MarshalGQL(&buf)
		var plain onlyWriter
		v.MarshalGQL(&plain)
		if buf.String() != want.String() || plain.b.String() != want.String() {
			t.Errorf("%q: into a buffer %s, into a writer %s, want %s", s, buf.String(), plain.b.String(), want.String())
		}
	}
}

// An object of many fields (the map path) writes each key once, in order,
// as a small one does.
func TestObjectFieldSetMarshalManyFields(t *testing.T) {
	var fields []graphql.CollectedField
	for i := range 40 {
		a := fmt.Sprintf("f%d", i%30) // f0..f9 come twice
		fields = append(fields, graphql.CollectedField{Field: &ast.Field{Alias: a, Name: a}})
	}
	o := newObjectFieldSet(fields)
	var want bytes.Buffer
	want.WriteByte('{')
	for i := range fields {
		o.Values[i] = graphql.MarshalInt(i)
		if i < 30 {
			if i > 0 {
				want.WriteByte(',')
			}
			fmt.Fprintf(&want, `"f%d":%d`, i, i)
		}
	}
	want.WriteByte('}')
	var buf bytes.Buffer
	o.MarshalGQL(&buf)
	if buf.String() != want.String() {
		t.Errorf("got %s\nwant %s", buf.String(), want.String())
	}
}
