// Package respbuf lends the buffer a GraphQL response's data is encoded
// into, so that a request does not grow a fresh one from nothing.
//
// gqlgen encodes a response's data into a bytes.Buffer of its own, which
// grows by doubling: a nested page of 120 KB allocated about twice that
// again per request, a tenth of all the bytes the request allocated
// (docs/performance.md). The transport takes a Lease for each request; the
// executor (graph/generated) encodes into the lease's buffer; the
// transport gives it back once the response is written.
//
// The contract: a response's Data may point into a leased buffer, so
// whatever keeps a response beyond its request (a cache) must copy Data.
package respbuf

import (
	"bytes"
	"context"
	"sync"
	"sync/atomic"
)

// maxPooled is the largest buffer kept for reuse: a rare huge response
// does not pin its memory for later small ones.
const maxPooled = 1 << 20

var pool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// A Lease is one request's claim on a pooled buffer.
type Lease struct {
	buf   *bytes.Buffer
	taken atomic.Bool
}

type leaseKey struct{}

// With returns ctx carrying a new lease, and the lease, which the caller
// must Release once nothing reads the response any more.
func With(ctx context.Context) (context.Context, *Lease) {
	buf := pool.Get().(*bytes.Buffer)
	buf.Reset()
	l := &Lease{buf: buf}
	return context.WithValue(ctx, leaseKey{}, l), l
}

// Take returns the buffer leased to ctx's request, empty, to the first
// caller; every later caller, and a ctx without a lease, gets a new
// buffer. One buffer per request: an incremental (deferred) response's
// later parts must not write over the first before it is sent.
func Take(ctx context.Context) *bytes.Buffer {
	if l, ok := ctx.Value(leaseKey{}).(*Lease); ok && l.taken.CompareAndSwap(false, true) {
		return l.buf
	}
	return new(bytes.Buffer)
}

// Release gives the buffer back for another request. The response must
// have been written (or dropped) by then. A second Release does nothing.
func (l *Lease) Release() {
	buf := l.buf
	if buf == nil {
		return
	}
	l.buf = nil
	if buf.Cap() > maxPooled {
		return
	}
	buf.Reset()
	pool.Put(buf)
}
