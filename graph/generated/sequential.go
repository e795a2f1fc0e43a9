package generated

// This file is written by hand; `make generate` leaves it alone and
// graph/seqexec rewrites generated.go to call it (see that command's
// comment for why).

import (
	"context"
	"sync/atomic"

	"github.com/99designs/gqlgen/graphql"
)

// marshalSliceSequentially marshals the elements of a list one after the
// other, each under its own field context (its index in the path), as
// graphql.MarshalSliceConcurrently does without the goroutine per element.
// A panic in one element makes that element null and is reported, unless
// the schema was generated without panic handlers.
func marshalSliceSequentially(ctx context.Context, length int, omitPanicHandler bool,
	marshalElement func(ctx context.Context, i int) graphql.Marshaler,
) graphql.Array {
	ret := make(graphql.Array, length)
	for i := range length {
		childCtx := graphql.WithFieldContext(ctx, &graphql.FieldContext{Index: &i})
		if omitPanicHandler {
			ret[i] = marshalElement(childCtx, i)
			continue
		}
		ret[i] = marshalElementRecovering(childCtx, i, marshalElement)
	}
	return ret
}

func marshalElementRecovering(ctx context.Context, i int, marshalElement func(ctx context.Context, i int) graphql.Marshaler) (res graphql.Marshaler) {
	defer func() {
		if r := recover(); r != nil {
			graphql.AddError(ctx, graphql.Recover(ctx, r))
			res = graphql.Null
		}
	}()
	return marshalElement(ctx, i)
}

// resolveSequentially resolves field i of an object in place of
// FieldSet.ResolveConcurrently, which defers it to a goroutine of its own
// when the object has more than one such field. A field under @defer keeps
// gqlgen's own path. The object's invalid count follows the same rule:
// Null for a non-null field, RequiredNull otherwise.
func resolveSequentially(ctx context.Context, oc *graphql.OperationContext, out *graphql.FieldSet,
	deferred *graphql.DeferredGroup, field graphql.CollectedField, i int, recoverFromPanic, nonNull bool,
	resolve func(ctx context.Context) graphql.Marshaler,
) {
	if field.IsDeferred() {
		if deferred.Defers == nil {
			*deferred = graphql.NewDeferredGroup(deferred.Context)
		}
		out.ResolveConcurrently(oc, deferred, i, recoverFromPanic, nonNull, resolve)
		return
	}
	res := resolveRecovering(ctx, oc, recoverFromPanic, resolve)
	out.Values[i] = res
	invalid := graphql.RequiredNull
	if nonNull {
		invalid = graphql.Null
	}
	if res == invalid {
		atomic.AddUint32(&out.Invalids, 1)
	}
}

func resolveRecovering(ctx context.Context, oc *graphql.OperationContext, recoverFromPanic bool,
	resolve func(ctx context.Context) graphql.Marshaler,
) (res graphql.Marshaler) {
	if recoverFromPanic {
		defer func() {
			if r := recover(); r != nil {
				oc.Error(ctx, oc.Recover(ctx, r))
				res = graphql.Null
			}
		}()
	}
	return resolve(ctx)
}

// lazyDeferredGroup stands in for graphql.NewDeferredGroup, which computes
// the object's path and allocates a field set and a map for every object of
// a response; only a field under @defer needs them (resolveSequentially
// makes them then).
func lazyDeferredGroup(ctx context.Context) graphql.DeferredGroup {
	return graphql.DeferredGroup{Context: ctx}
}
