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
func Write(w io.Writer, t time.Time) {
	var buf [48]byte
	b := append(buf[:0], '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	b = append(b, '"')
	_, _ = w.Write(b)
}

// UnmarshalTime reads a Time argument exactly as graphql.UnmarshalTime does.
func UnmarshalTime(v any) (time.Time, error) { return graphql.UnmarshalTime(v) }
