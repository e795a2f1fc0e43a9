package graph

import (
	"context"
	"errors"
	"log/slog"
	"runtime/debug"
	"strings"

	"entgo.io/ent/privacy"
	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"portier/ent"
	"portier/internal/apperr"
	"portier/internal/viewer"
)

// presentError is the single mapper from any error to what a client sees.
// Deny and not-found look alike; validation and constraint errors become
// BAD_USER_INPUT / CONFLICT naming the field; anything else is INTERNAL and
// only its request id reaches the client (the cause goes to the log).
func presentError(log *slog.Logger) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		out := graphql.DefaultErrorPresenter(ctx, err)
		var ae *apperr.Error
		var ve *ent.ValidationError
		switch {
		case errors.As(err, &ae):
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
			// get the codes of DESIGN §4; gqlgen's own stays as the reason.
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
		case graphql.GetFieldContext(ctx) == nil:
			// Refused before any field ran (no operation, bad variables).
			out.Extensions = map[string]any{"code": apperr.CodeBadUserInput}
		default:
			v := viewer.FromContext(ctx)
			log.ErrorContext(ctx, "internal error", "request_id", v.RequestID, "error", err.Error())
			out.Message = "internal error (request " + v.RequestID + ")"
			out.Extensions = map[string]any{"code": apperr.CodeInternal, "requestId": v.RequestID}
		}
		return out
	}
}

var designCodes = map[string]bool{
	apperr.CodeUnauthenticated: true, apperr.CodeForbidden: true, apperr.CodeNotFound: true,
	apperr.CodeBadUserInput: true, apperr.CodeConflict: true, apperr.CodeRateLimited: true, apperr.CodeInternal: true,
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
		v := viewer.FromContext(ctx)
		log.ErrorContext(ctx, "panic in resolver", "request_id", v.RequestID, "panic", p, "stack", string(debug.Stack()))
		return &apperr.Error{Code: apperr.CodeInternal, Message: "internal error (request " + v.RequestID + ")"}
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
