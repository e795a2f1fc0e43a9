// Package jsonstr writes a Go string as a JSON string. IDs, enum names and
// dates are written into every row of every response, so the common case —
// printable ASCII with nothing to escape — is written as it is, with no
// allocation; anything else is escaped as encoding/json does.
package jsonstr

import (
	"bytes"
	"encoding/json"
	"io"
)

// Write writes s to w as a JSON string.
func Write(w io.Writer, s string) {
	if plain(s) {
		if b, ok := w.(*bytes.Buffer); ok { // a response: no interface calls
			b.WriteByte('"')
			b.WriteString(s)
			b.WriteByte('"')
			return
		}
		_, _ = io.WriteString(w, `"`)
		_, _ = io.WriteString(w, s)
		_, _ = io.WriteString(w, `"`)
		return
	}
	b, _ := json.Marshal(s) // a string always marshals
	_, _ = w.Write(b)
}

// plain reports whether s needs no escaping in JSON (nor for HTML, as
// encoding/json escapes <, > and &).
func plain(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}
