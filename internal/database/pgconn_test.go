package database

import (
	"database/sql/driver"
	"encoding/json"
	"testing"
	"time"

	"portier/internal/pulid"
)

// jsonValuer is a driver.Valuer whose value is []byte, as ent's JSON
// fields and json.RawMessage-like types are.
type jsonValuer struct{ v any }

func (j jsonValuer) Value() (driver.Value, error) { return json.Marshal(j.v) }

// fakePQ stands in for lib/pq's connection: its CheckNamedValue skips
// everything, as lib/pq's does for scalars, []byte and Valuers.
type fakePQ struct{ pqConn }

func (fakePQ) CheckNamedValue(*driver.NamedValue) error { return driver.ErrSkip }

// Every []byte parameter reaches lib/pq as a string (so that its binary
// parameter mode sends it as text, which jsonb reads); nil stays NULL and
// nothing else changes.
func TestTextParamsConnSendsBytesAsText(t *testing.T) {
	at := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	c := textParamsConn{fakePQ{}}
	for _, tc := range []struct {
		name string
		in   any
		want any
	}{
		{"bytes", []byte(`{"a":1}`), `{"a":1}`},
		{"nil bytes", []byte(nil), nil},
		{"valuer of bytes", jsonValuer{map[string]int{"b": 2}}, `{"b":2}`},
		{"string", "plain", "plain"},
		{"id valuer", pulid.ID("acct_01"), "acct_01"},
		{"time", at, at},
		{"int", 7, int64(7)},
		{"nil", nil, nil},
	} {
		nv := &driver.NamedValue{Ordinal: 1, Value: tc.in}
		if err := c.CheckNamedValue(nv); err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if nv.Value != tc.want {
			t.Errorf("%s: %#v became %#v, want %#v", tc.name, tc.in, nv.Value, tc.want)
		}
	}
}
