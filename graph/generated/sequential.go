package generated

// This file is written by hand; `make generate` leaves it alone and
// graph/seqexec rewrites generated.go to call it (see that command's
// comment for why).

import (
	"bytes"
	"context"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"portier/internal/gqltime"
	"portier/internal/respbuf"
)

// responseBuffer is the buffer a response's data is encoded into: the one
// the transport leased for the request (internal/respbuf).
func responseBuffer(ctx context.Context) *bytes.Buffer { return respbuf.Take(ctx) }

// marshalSliceSequentially marshals the elements of a list one after the
// other, as graphql.MarshalSliceConcurrently does without the goroutine per
// element. The elements share one field context whose index (its place in
// the path) and result are set before each: gqlgen gives every element a
// context of its own only because it marshals them at the same time. That
// is sound because nothing keeps an element's context once the element is
// written: errors take their path when they are added, and no resolver
// here defers work. A panic in one element makes that element null and is
// reported, unless the schema was generated without panic handlers.
func marshalSliceSequentially(ctx context.Context, length int, omitPanicHandler bool,
	marshalElement func(ctx context.Context, i int) graphql.Marshaler,
) graphql.Array {
	ret := make(graphql.Array, length)
	if length == 0 {
		return ret
	}
	index := 0
	fc := &graphql.FieldContext{Index: &index}
	childCtx := graphql.WithFieldContext(ctx, fc)
	for i := range length {
		index, fc.Result = i, nil
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
// when the object has more than one such field. The object's invalid count
// follows the same rule: Null for a non-null field, RequiredNull otherwise.
// A field under @defer never gets here: the document is refused before it
// runs (graph/docbounds.go); should one arrive anyway it is answered with
// an error, not resolved.
func resolveSequentially(ctx context.Context, oc *graphql.OperationContext, out *objectFieldSet,
	_ *graphql.DeferredGroup, field graphql.CollectedField, i int, recoverFromPanic, nonNull bool,
	resolve func(ctx context.Context) graphql.Marshaler,
) {
	invalid := graphql.RequiredNull
	if nonNull {
		invalid = graphql.Null
	}
	if field.IsDeferred() {
		oc.Error(ctx, errDeferUnsupported)
		out.Values[i] = invalid
		atomic.AddUint32(&out.Invalids, 1)
		return
	}
	res := resolveRecovering(ctx, oc, recoverFromPanic, resolve)
	out.Values[i] = res
	if res == invalid {
		atomic.AddUint32(&out.Invalids, 1)
	}
}

type deferUnsupported struct{}

func (deferUnsupported) Error() string { return "@defer and @stream are not supported" }

var errDeferUnsupported error = deferUnsupported{}

// objectFieldSet stands in for graphql.FieldSet as the result of an object
// (not of the root operation types): the same Values and Invalids the
// generated code fills, written out the same way. gqlgen's FieldSet, built
// for @defer's views, allocates per object a map of the keys written, two
// iterator closures and a copy of every collected field; for a page of a
// thousand objects that was a quarter of the allocations of a response.
type objectFieldSet struct {
	Values   []graphql.Marshaler
	Invalids uint32
	fields   []graphql.CollectedField
	// inline holds Values for an object of up to len(inline) fields, most
	// of them, so that such an object costs one allocation.
	inline [8]graphql.Marshaler
}

func newObjectFieldSet(fields []graphql.CollectedField) *objectFieldSet {
	o := &objectFieldSet{fields: fields}
	if len(fields) <= len(o.inline) {
		o.Values = o.inline[:len(fields):len(fields)]
	} else {
		o.Values = make([]graphql.Marshaler, len(fields))
	}
	return o
}

// Dispatch does nothing: every field was resolved in place.
func (*objectFieldSet) Dispatch(context.Context) {}

// MarshalGQL writes the object's fields in the order collected. A response
// key collected twice (the same field under fragments on two unrelated
// interfaces) is written once, with its first value, as graphql.FieldSet
// does. A response is written into a bytes.Buffer, which is written to
// directly.
func (o *objectFieldSet) MarshalGQL(w io.Writer) {
	b, ok := w.(*bytes.Buffer)
	if !ok {
		var buf bytes.Buffer
		o.MarshalGQL(&buf)
		_, _ = w.Write(buf.Bytes())
		return
	}
	b.WriteByte('{')
	first := true
	// Few fields are compared with each other; many go through a map, so
	// that a document with thousands of aliases on one object costs
	// O(fields), not O(fields²).
	var written map[string]struct{}
	if len(o.fields) > 16 {
		written = make(map[string]struct{}, len(o.fields))
	}
	for i := range o.fields {
		alias := o.fields[i].Alias
		if o.seen(written, i, alias) {
			continue
		}
		if first {
			first = false
		} else {
			b.WriteByte(',')
		}
		// An alias is a GraphQL name ([_A-Za-z][_0-9A-Za-z]*): nothing to escape.
		b.WriteByte('"')
		b.WriteString(alias)
		b.WriteString(`":`)
		o.Values[i].MarshalGQL(b)
	}
	b.WriteByte('}')
}

// seen reports whether alias, the key of field i, was written before: in
// written when there is a map, else among the fields before i.
func (o *objectFieldSet) seen(written map[string]struct{}, i int, alias string) bool {
	if written != nil {
		if _, ok := written[alias]; ok {
			return true
		}
		written[alias] = struct{}{}
		return false
	}
	for j := range i {
		if o.fields[j].Alias == alias {
			return true
		}
	}
	return false
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
// a response; only a field under @defer would need them, and no such field
// is resolved (see resolveSequentially).
func lazyDeferredGroup(ctx context.Context) graphql.DeferredGroup {
	return graphql.DeferredGroup{Context: ctx}
}

// stringValue and timeValue marshal a string or time field of an object
// in place, through a pointer into the object, where the generated
// marshallers box a copy of it in a closure per value (graph/seqexec,
// pointerScalars). The output is theirs byte for byte.
type stringValue string

func (s *stringValue) MarshalGQL(w io.Writer) {
	if b, ok := w.(*bytes.Buffer); ok && unescaped(string(*s)) {
		b.WriteByte('"')
		b.WriteString(string(*s))
		b.WriteByte('"')
		return
	}
	graphql.MarshalString(string(*s)).MarshalGQL(w)
}

// unescaped reports whether graphql.MarshalString writes s between quotes
// as it is: it escapes only control characters, '"' and '\\'.
func unescaped(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

type timeValue time.Time

func (t *timeValue) MarshalGQL(w io.Writer) { gqltime.Write(w, time.Time(*t)) }

// collectedFieldsCache holds the fields collected for each selection set
// and object type of one operation. graphql.CollectFields caches them too,
// but builds its key per call: a hash of the type names, allocated, for
// every object of a response. An operation has few distinct selection
// sets, so a short list compared by identity is enough; past its length
// the lookup falls back to gqlgen's. The mutex is for root fields, which
// gqlgen may resolve at the same time.
type collectedFieldsCache struct {
	mu      sync.Mutex
	entries []collectedFields
}

type collectedFields struct {
	sel       *ast.Selection // the first of the selection set: its identity
	n         int
	satisfies *string // the first of the type's implementors (a package variable)
	fields    []graphql.CollectedField
}

const maxCollectedFields = 64

// collectFields returns graphql.CollectFields(ec.OperationContext, sel,
// satisfies), computed once per operation. The result depends only on the
// selection set, the object type and the operation's variables (@skip,
// @include), which do not change during an operation.
func (ec *executionContext) collectFields(sel ast.SelectionSet, satisfies []string) []graphql.CollectedField {
	if len(sel) == 0 || len(satisfies) == 0 {
		return graphql.CollectFields(ec.OperationContext, sel, satisfies)
	}
	key := collectedFields{sel: &sel[0], n: len(sel), satisfies: &satisfies[0]}
	c := &ec.collected
	c.mu.Lock()
	for i := range c.entries {
		if e := &c.entries[i]; e.sel == key.sel && e.n == key.n && e.satisfies == key.satisfies {
			c.mu.Unlock()
			return e.fields
		}
	}
	c.mu.Unlock()
	key.fields = graphql.CollectFields(ec.OperationContext, sel, satisfies)
	c.mu.Lock()
	if len(c.entries) < maxCollectedFields {
		c.entries = append(c.entries, key)
	}
	c.mu.Unlock()
	return key.fields
}
