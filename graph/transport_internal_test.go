package graph

import (
	"encoding/json"
	"net/http/httptest"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// writeResponse writes what encoding/json writes for the same response
// (data without characters it would escape for HTML), member for member.
func TestWriteResponseMatchesEncodingJSON(t *testing.T) {
	hasNext := true
	for name, resp := range map[string]*graphql.Response{
		"data":                 {Data: json.RawMessage(`{"a":[1,2,{"b":"c"}]}`)},
		"no data":              {},
		"errors and null data": {Errors: gqlerror.List{{Message: "nope", Extensions: map[string]any{"code": "NOT_FOUND"}}}},
		"errors and data":      {Errors: gqlerror.List{{Message: "partly"}}, Data: json.RawMessage(`{"x":null}`)},
		"extensions":           {Data: json.RawMessage(`{}`), Extensions: map[string]any{"cost": 3}},
		"incremental":          {Data: json.RawMessage(`{}`), HasNext: &hasNext, Label: "l"},
	} {
		t.Run(name, func(t *testing.T) {
			want, err := json.Marshal(resp)
			if err != nil {
				t.Fatal(err)
			}
			w := httptest.NewRecorder()
			writeResponse(w, resp)
			if got := w.Body.String(); got != string(want) {
				t.Errorf("writeResponse = %s\nencoding/json = %s", got, want)
			}
		})
	}
}

func TestResponseMediaType(t *testing.T) {
	for _, tc := range []struct{ accept, want string }{
		{"", mediaJSON},
		{"application/json", mediaJSON},
		{"*/*", mediaJSON},
		{"application/*", mediaJSON},
		{"application/graphql-response+json", mediaGraphQLResponse},
		{"application/graphql-response+json, application/json;q=0.9", mediaGraphQLResponse},
		{"application/json, application/graphql-response+json", mediaJSON},
		{"text/html", mediaGraphQLResponse},
		{"garbage;;;, application/json", mediaJSON},
	} {
		if got := responseMediaType(tc.accept); got != tc.want {
			t.Errorf("responseMediaType(%q) = %s, want %s", tc.accept, got, tc.want)
		}
	}
}
