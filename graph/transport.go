package graph

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"portier/internal/apperr"
	"portier/internal/respbuf"
)

// Response media types (GraphQL over HTTP).
const (
	mediaJSON            = "application/json"
	mediaGraphQLResponse = "application/graphql-response+json"
)

// jsonPOST is the POST transport: a JSON body with query, operationName,
// variables and extensions (the front door has already refused every other
// shape). Its answers follow the GraphQL over HTTP spec (see serve); it
// writes them itself: gqlgen encodes the whole response again with
// encoding/json, which copies and validates every byte of the data it has
// just written (a tenth of the server's CPU on a nested page,
// docs/performance.md); this writes that data as it is.
type jsonPOST struct{ transport.POST }

var _ graphql.Transport = jsonPOST{}

func (jsonPOST) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	ctx := r.Context()
	contentType := responseMediaType(r.Header.Get("Accept"))
	w.Header().Set("Content-Type", contentType)
	start := graphql.Now()
	params := &graphql.RawParams{}
	dec := json.NewDecoder(r.Body)
	dec.UseNumber()
	if err := dec.Decode(params); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		writeErrors(w, exec.DispatchError(ctx, gqlerror.List{gqlerror.Errorf("the request body is not a JSON object with a GraphQL query")}))
		return
	}
	params.Headers = r.Header
	params.ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}
	serve(w, r, exec, params, contentType, nil)
}

// jsonGET is the GET transport: query, operationName, variables and
// extensions in the query string (the front door has checked that they
// decode and that a query written there is no mutation). Only queries run:
// a mutation named by a persisted-query hash is refused as the front door
// refuses a written one (405).
type jsonGET struct{ log *slog.Logger }

var _ graphql.Transport = jsonGET{}

func (jsonGET) Supports(r *http.Request) bool {
	return r.Method == http.MethodGet && r.Header.Get("Upgrade") == ""
}

func (t jsonGET) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	contentType := responseMediaType(r.Header.Get("Accept"))
	w.Header().Set("Content-Type", contentType)
	start := graphql.Now()
	q, _ := url.ParseQuery(r.URL.RawQuery)
	params := &graphql.RawParams{Query: q.Get("query"), OperationName: q.Get("operationName"), Headers: r.Header}
	for name, into := range map[string]*map[string]any{"variables": &params.Variables, "extensions": &params.Extensions} {
		if v := q.Get(name); v != "" {
			dec := json.NewDecoder(strings.NewReader(v))
			dec.UseNumber()
			if err := dec.Decode(into); err != nil {
				e := apperr.Transport(http.StatusBadRequest, "MALFORMED_QUERY_STRING", name+" must be a JSON object")
				e.Field = name
				writeHTTPError(w, r, t.log, e)
				return
			}
		}
	}
	params.ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}
	serve(w, r, exec, params, contentType, func(op *ast.OperationDefinition) bool {
		if op.Operation == ast.Query {
			return true
		}
		writeHTTPError(w, r, t.log, errMutationByGET)
		return false
	})
}

// errMutationByGET answers a GET that names anything but a query.
var errMutationByGET = apperr.Transport(http.StatusMethodNotAllowed, "MUTATION_BY_GET", "mutations are only accepted by POST")

// serve runs one GraphQL request and writes its answer. A request error
// (the document does not parse or validate, the variables do not coerce,
// a limit or the persisted-query rules refuse it: nothing was executed) is
// answered without a data entry, as the GraphQL spec asks, with status 200
// for application/json and 400 for application/graphql-response+json (GraphQL
// over HTTP); a 503 decided by an UNAVAILABLE error wins over both. allow,
// when set, may refuse the operation (writing the answer itself) before it
// executes.
func serve(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor, params *graphql.RawParams, contentType string, allow func(*ast.OperationDefinition) bool) {
	ctx := r.Context()
	oc, errs := exec.CreateOperationContext(ctx, params)
	if errs != nil {
		resp := exec.DispatchError(graphql.WithOperationContext(ctx, oc), errs)
		if contentType == mediaGraphQLResponse {
			w.WriteHeader(http.StatusBadRequest)
		} else {
			w.WriteHeader(http.StatusOK)
		}
		writeErrors(w, resp)
		return
	}
	if allow != nil && !allow(oc.Operation) {
		return
	}
	// The response's data is encoded into a leased buffer (internal/respbuf),
	// given back once it is written.
	ctx, lease := respbuf.With(ctx)
	defer lease.Release()
	responses, ctx := exec.DispatchOperation(ctx, oc)
	writeResponse(w, responses(ctx))
}

// writeErrors writes the response to a request error: errors and
// extensions, no data entry.
func writeErrors(w http.ResponseWriter, resp *graphql.Response) {
	out := struct {
		Errors     gqlerror.List  `json:"errors"`
		Extensions map[string]any `json:"extensions,omitempty"`
	}{Errors: resp.Errors, Extensions: resp.Extensions}
	b, _ := json.Marshal(out)
	_, _ = w.Write(b)
}

// responseMediaType negotiates the response's media type from Accept as
// gqlgen does: application/json when the client names it first, accepts
// anything or says nothing; application/graphql-response+json when the
// client names it first or names neither.
func responseMediaType(accept string) string {
	if accept == "" {
		return mediaJSON
	}
	for _, part := range strings.Split(accept, ",") {
		mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		switch mt {
		case "*/*", "application/*", mediaJSON:
			return mediaJSON
		case mediaGraphQLResponse:
			return mediaGraphQLResponse
		}
	}
	return mediaGraphQLResponse
}

// writeResponse writes resp as encoding/json would, member for member and
// in the same order, but with the data that gqlgen has already encoded
// written as it is, not copied into another buffer first: w buffers small
// writes itself. Incremental-delivery members (label, path, hasNext) leave
// it to encoding/json.
func writeResponse(w http.ResponseWriter, resp *graphql.Response) {
	if resp == nil {
		resp = &graphql.Response{}
	}
	if resp.Label != "" || resp.Path != nil || resp.HasNext != nil {
		b, _ := json.Marshal(resp)
		_, _ = w.Write(b)
		return
	}
	var head bytes.Buffer
	head.WriteByte('{')
	if len(resp.Errors) > 0 {
		head.WriteString(`"errors":`)
		b, _ := json.Marshal(resp.Errors)
		head.Write(b)
		head.WriteByte(',')
	}
	head.WriteString(`"data":`)
	if len(resp.Data) == 0 {
		head.WriteString("null")
	}
	_, _ = w.Write(head.Bytes())
	_, _ = w.Write(resp.Data)
	tail := []byte{'}'}
	if len(resp.Extensions) > 0 {
		b, _ := json.Marshal(resp.Extensions)
		tail = append(append([]byte(`,"extensions":`), b...), '}')
	}
	_, _ = w.Write(tail)
}
