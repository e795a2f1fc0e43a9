// Package gqltime is the GraphQL Time scalar: RFC 3339 with nanoseconds, as
// gqlgen's own graphql.MarshalTime writes it, without its two intermediate
// strings (a formatted one and a quoted copy) per value. A nested page
// writes a time into most of its rows (docs/performance.md).
package gqltime

import (
	"io"
	"time"

	"github.com/99designs/gqlgen/graphql"
)

// MarshalTime writes t as a JSON string in RFC 3339 with nanoseconds; the
// zero time is null, as with graphql.MarshalTime.
func MarshalTime(t time.Time) graphql.Marshaler {
	if t.IsZero() {
		return graphql.Null
	}
	return graphql.WriterFunc(func(w io.Writer) { Write(w, t) })
}

// Write writes t as MarshalTime's Marshaler does, zero time included.
// Into a buffer that lends its free space (bytes.Buffer, bufio.Writer: what
// a response is written to) it formats in place; elsewhere a scratch array
// escapes to the heap through the Write call.
func Write(w io.Writer, t time.Time) {
	if bw, ok := w.(availableBufferWriter); ok {
		_, _ = bw.Write(appendQuoted(bw.AvailableBuffer(), t))
		return
	}
	_, _ = w.Write(appendQuoted(make([]byte, 0, 48), t))
}

type availableBufferWriter interface {
	io.Writer
	AvailableBuffer() []byte
}

func appendQuoted(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}

// UnmarshalTime reads a Time argument exactly as graphql.UnmarshalTime does.
func UnmarshalTime(v any) (time.Time, error) { return graphql.UnmarshalTime(v) }
