package graph

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"

	"entgo.io/ent/privacy"
	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"portier/ent"
	"portier/internal/apperr"
	"portier/internal/database"
)

// presentError is the gqlgen error presenter: every error of a GraphQL
// response passes through clientError, the one mapper.
func presentError(log *slog.Logger) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		return clientError(ctx, log, err)
	}
}

// retryAfterUnavailable is what an UNAVAILABLE answer asks a client to wait.
const retryAfterUnavailable = 5

// clientError is the single mapper from any error to what a client sees;
// every error response of /graphql — from a resolver, an extension, the
// transaction, the authentication or the request's HTTP shape — is made
// here. Deny and not-found look alike; validation and constraint errors
// become BAD_USER_INPUT / CONFLICT naming the field; a store that cannot be
// reached is UNAVAILABLE (and makes the response a 503 with Retry-After);
// anything else is INTERNAL and only its request id reaches the client (the
// cause goes to the log).
func clientError(ctx context.Context, log *slog.Logger, err error) *gqlerror.Error {
	out := graphql.DefaultErrorPresenter(ctx, err)
	var ae *apperr.Error
	var ve *ent.ValidationError
	switch {
	case errors.As(err, &ae):
		out.Message = ae.Message
		out.Extensions = ae.Extensions()
	case errors.Is(err, context.Canceled) && ctx.Err() != nil:
		// The client went away; nobody reads this answer.
		out.Message = "the request was cancelled"
		out.Extensions = map[string]any{"code": apperr.CodeBadUserInput, "reason": "CANCELLED"}
	case database.IsUnavailable(err):
		log.WarnContext(ctx, "store unavailable", "request_id", requestID(ctx), "error", err.Error())
		ae := apperr.Unavailable(retryAfterUnavailable)
		out.Message = ae.Message
		out.Extensions = ae.Extensions()
	case ent.IsNotFound(err) || errors.Is(err, privacy.Deny) || ent.IsNotSingular(err):
		out.Message = "not found"
		out.Extensions = map[string]any{"code": apperr.CodeNotFound}
	case errors.As(err, &ve):
		out.Message = "invalid value for " + ve.Name
		out.Extensions = map[string]any{"code": apperr.CodeBadUserInput, "field": "input." + fieldName(ve.Name)}
	case ent.IsConstraintError(err):
		out.Message = "this conflicts with an existing record"
		out.Extensions = map[string]any{"code": apperr.CodeConflict}
	case hasCode(out):
		// Coded by gqlgen or an extension itself: parse and validation
		// errors, bad variables, complexity and depth limits. Clients
		// get the codes of docs/api.md, 'Errors'; gqlgen's own stays as the reason.
		if c := out.Extensions["code"].(string); !designCodes[c] {
			out.Extensions = map[string]any{"code": apperr.CodeBadUserInput, "reason": c}
		}
		if len(out.Path) > 1 && out.Path[0] == ast.PathName("variable") {
			out.Extensions["field"] = pathField(out.Path)
		}
	case isArgumentError(ctx):
		// An argument failed to parse (a scalar's or enum's
		// UnmarshalGQL): the message describes the input, except for
		// cursors, whose decoder talks about its encoding.
		out.Extensions = map[string]any{"code": apperr.CodeBadUserInput}
		if strings.Contains(out.Message, "cursor") {
			out.Message = "invalid cursor"
		}
		if f := pathField(out.Path); f != "" {
			out.Extensions["field"] = f
		}
	case isClientMessage(err):
		// Written for clients by gqlgen or entgql (e.g. "Passing both
		// first and last …"): no cause behind it.
		out.Extensions = map[string]any{"code": apperr.CodeBadUserInput}
	case graphql.GetFieldContext(ctx) == nil && !isPanic(err) && graphql.HasOperationContext(ctx):
		// Refused before any field ran (no operation, bad variables).
		out.Extensions = map[string]any{"code": apperr.CodeBadUserInput}
	default:
		id := requestID(ctx)
		if !isPanic(err) {
			log.ErrorContext(ctx, "internal error", "request_id", id, "error", err.Error())
		}
		out.Message = "internal error (request " + id + ")"
		out.Extensions = map[string]any{"code": apperr.CodeInternal, "requestId": id}
	}
	if out.Extensions["code"] == apperr.CodeUnavailable {
		ra, _ := out.Extensions["retryAfterSeconds"].(int)
		noteOutcome(ctx, http.StatusServiceUnavailable, ra)
	}
	return out
}

// errPanic is what a recovered panic becomes; its details are logged by
// recoverPanic, never shown.
type errPanic struct{}

func (errPanic) Error() string { return "panic" }

func isPanic(err error) bool { var p errPanic; return errors.As(err, &p) }

// outcome carries, through the context, the HTTP status an error decided
// (503 for UNAVAILABLE) to the response writer of the request.
type outcome struct {
	mu         sync.Mutex
	status     int
	retryAfter int
}

type outcomeKey struct{}

func withOutcome(ctx context.Context) (context.Context, *outcome) {
	o := &outcome{}
	return context.WithValue(ctx, outcomeKey{}, o), o
}

func noteOutcome(ctx context.Context, status, retryAfter int) {
	if o, ok := ctx.Value(outcomeKey{}).(*outcome); ok {
		o.mu.Lock()
		o.status, o.retryAfter = status, retryAfter
		o.mu.Unlock()
	}
}

func (o *outcome) get() (int, int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.status, o.retryAfter
}

// statusOf is the HTTP status of an error that ends a request before
// GraphQL execution.
func statusOf(err error, e *gqlerror.Error) int {
	var ae *apperr.Error
	if errors.As(err, &ae) && ae.Status != 0 {
		return ae.Status
	}
	switch e.Extensions["code"] {
	case apperr.CodeUnavailable:
		return http.StatusServiceUnavailable
	case apperr.CodeInternal:
		return http.StatusInternalServerError
	case apperr.CodeRateLimited:
		return http.StatusTooManyRequests
	case apperr.CodeUnauthenticated:
		return http.StatusUnauthorized
	}
	return http.StatusBadRequest
}

// writeHTTPError answers a request that ends before GraphQL execution, with
// the error mapped by clientError and its status.
func writeHTTPError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	e := clientError(r.Context(), log, err)
	status := statusOf(err, e)
	if ra, ok := e.Extensions["retryAfterSeconds"].(int); ok && ra > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(ra))
	}
	if status == http.StatusMethodNotAllowed {
		w.Header().Set("Allow", "GET, POST, OPTIONS")
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"errors": []*gqlerror.Error{e}})
}

var designCodes = map[string]bool{
	apperr.CodeUnauthenticated: true, apperr.CodeForbidden: true, apperr.CodeNotFound: true,
	apperr.CodeBadUserInput: true, apperr.CodeConflict: true, apperr.CodeRateLimited: true, apperr.CodeInternal: true,
	apperr.CodeUnavailable: true,
}

// isClientMessage reports a *gqlerror.Error that wraps no cause: gqlgen
// and entgql write those for clients (argument validation in pagination).
// A null in a non-null field is the server's fault and stays INTERNAL.
func isClientMessage(err error) bool {
	ge, ok := err.(*gqlerror.Error)
	return ok && ge.Err == nil && !strings.Contains(ge.Message, "null which the schema does not allow")
}

func hasCode(e *gqlerror.Error) bool {
	c, ok := e.Extensions["code"].(string)
	return ok && c != ""
}

// isArgumentError reports whether the error arose while gqlgen parsed the
// field's arguments: then the field context has no Args yet although the
// field takes arguments. (gqlgen wraps every error, resolver errors
// included, in a *gqlerror.Error, so the type cannot tell them apart.)
func isArgumentError(ctx context.Context) bool {
	fc := graphql.GetFieldContext(ctx)
	return fc != nil && fc.Args == nil && fc.Field.Field != nil && len(fc.Field.Arguments) > 0
}

// recoverPanic turns a panic in a resolver into INTERNAL and logs the stack
// with the request id. The client sees neither the panic value nor a stack.
func recoverPanic(log *slog.Logger) graphql.RecoverFunc {
	return func(ctx context.Context, p any) error {
		log.ErrorContext(ctx, "panic in resolver", "request_id", requestID(ctx), "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
		return errPanic{}
	}
}

// fieldName turns an ent field name (customer_account_id) into the GraphQL
// one (customerAccountID).
func fieldName(s string) string {
	parts := strings.Split(s, "_")
	for i := 1; i < len(parts); i++ {
		if parts[i] == "id" {
			parts[i] = "ID"
		} else if parts[i] != "" {
			parts[i] = strings.ToUpper(parts[i][:1]) + parts[i][1:]
		}
	}
	return strings.Join(parts, "")
}

// pathField renders the input part of an error path ("input.email").
func pathField(p ast.Path) string {
	if p == nil {
		return ""
	}
	var parts []string
	for _, el := range p {
		if n, ok := el.(ast.PathName); ok {
			parts = append(parts, string(n))
		}
	}
	if len(parts) > 1 {
		parts = parts[1:] // drop the field name itself
	}
	return strings.Join(parts, ".")
}
