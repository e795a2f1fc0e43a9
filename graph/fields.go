package graph

import (
	"context"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"go.opentelemetry.io/otel/trace"

	"portier/internal/tracing"
)

// fieldPipeline is the one field interceptor. gqlgen runs every field of a
// response, down to each scalar of each list element, through the field
// interceptors; each interceptor is a closure allocated per field. So the
// per-field checks live in one interceptor, in this order:
//
//  1. guard: the operation was cancelled or read too much introspection;
//  2. refuseControlCharacters: no control character in any argument;
//  3. capPageSize: first/last within MaxPageSize;
//  4. the resolver (with the field's directives);
//  5. noteStaffReads: a staff viewer's reads of an account are audited.
//
// A field that only reads a struct field of an object already loaded (not
// a resolver, not a method, not introspection) takes no arguments and does
// no work: it skips 1–3, and 5 looks only at what it returned.
type fieldPipeline struct{}

var _ interface {
	graphql.HandlerExtension
	graphql.FieldInterceptor
} = fieldPipeline{}

func (fieldPipeline) ExtensionName() string                   { return "FieldPipeline" }
func (fieldPipeline) Validate(graphql.ExecutableSchema) error { return nil }

func (fieldPipeline) InterceptField(ctx context.Context, next graphql.Resolver) (any, error) {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil {
		return next(ctx)
	}
	introspection := strings.HasPrefix(fc.Object, "__")
	if fc.IsResolver || fc.IsMethod || introspection || fc.Args != nil {
		if err := guard(ctx, introspection); err != nil {
			return nil, err
		}
		if err := refuseControlCharacters(ctx, fc); err != nil {
			return nil, err
		}
		if err := capPageSize(fc); err != nil {
			return nil, err
		}
	}
	var span trace.Span
	if tracing.Enabled() && (fc.IsResolver || fc.IsMethod) {
		// A span per field that does work (a resolver or method), never
		// per scalar; named by type and field, not by the client's alias.
		ctx, span = tracing.Start(ctx, "graphql.resolve "+fc.Object+"."+fc.Field.Name, trace.SpanKindInternal)
	}
	res, err := next(ctx)
	tracing.End(span, err)
	if err == nil {
		noteStaffReads(ctx, res)
	}
	return res, err
}
