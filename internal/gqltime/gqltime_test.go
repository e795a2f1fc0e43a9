package gqltime

import (
	"bytes"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
)

// MarshalTime writes what gqlgen's graphql.MarshalTime writes.
func TestMarshalTimeAsGqlgen(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	for _, tm := range []time.Time{
		{},
		time.Date(2026, 12, 7, 13, 0, 0, 0, time.UTC),
		time.Date(2026, 12, 31, 23, 59, 59, 999999999, time.UTC),
		time.Date(2027, 3, 28, 2, 30, 0, 123000, berlin),
		time.Date(9999, 12, 31, 23, 59, 59, 1, time.FixedZone("", -9*3600-30*60)),
	} {
		var got, want bytes.Buffer
		MarshalTime(tm).MarshalGQL(&got)
		graphql.MarshalTime(tm).MarshalGQL(&want)
		if got.String() != want.String() {
			t.Errorf("MarshalTime(%v) = %s, want %s", tm, got.String(), want.String())
		}
	}
}

// Write appends to what a buffer holds and writes the same to any writer;
// into a buffer with room it allocates nothing.
func TestWriteInPlaceAndElsewhere(t *testing.T) {
	tm := time.Date(2026, 12, 7, 13, 0, 0, 5, time.UTC)
	var want bytes.Buffer
	graphql.MarshalTime(tm).MarshalGQL(&want)

	var buf bytes.Buffer
	buf.WriteString(`{"t":`)
	Write(&buf, tm)
	if got := buf.String(); got != `{"t":`+want.String() {
		t.Errorf("into a buffer: %s, want {\"t\":%s", got, want.String())
	}
	var plain onlyWriter
	Write(&plain, tm)
	if got := plain.b.String(); got != want.String() {
		t.Errorf("into a plain writer: %s, want %s", got, want.String())
	}
	buf.Grow(1 << 16)
	if n := testing.AllocsPerRun(100, func() { Write(&buf, tm) }); n != 0 {
		t.Errorf("Write into a buffer with room allocates %v times", n)
	}
}

// onlyWriter hides bytes.Buffer's AvailableBuffer.
type onlyWriter struct{ b bytes.Buffer }

func (w *onlyWriter) Write(p []byte) (int, error) { return w.b.Write(p) }
