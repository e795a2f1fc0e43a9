package jsonstr

import (
	"bytes"
	"encoding/json"
	"testing"
)

func TestWriteIsValidJSONForAnyString(t *testing.T) {
	for _, s := range []string{
		"", "usr_01JABCDEF", "CUSTOMER_ADMIN", "2026-12-31", `quote " here`, `back\slash`,
		"tab\there", "nul\x00", "del\x7f", "ümlaut", "<script>&", "\u2028", "invalid \xff utf-8",
	} {
		var b bytes.Buffer
		Write(&b, s)
		want, _ := json.Marshal(s)
		if b.String() != string(want) {
			t.Errorf("Write(%q) = %s, want %s", s, b.String(), want)
		}
		var back string
		if err := json.Unmarshal(b.Bytes(), &back); err != nil {
			t.Errorf("Write(%q) = %s is not JSON: %v", s, b.String(), err)
		}
	}
}

func BenchmarkWritePlain(b *testing.B) {
	var buf bytes.Buffer
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		buf.Reset()
		Write(&buf, "rol_01JEXAMPLE0000000000000000")
	}
}
