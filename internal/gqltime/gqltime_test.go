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
