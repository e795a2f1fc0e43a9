package outbox

import (
	"mime"
	"strings"
	"testing"
)

func TestEncodeSubject(t *testing.T) {
	if got := encodeSubject("Ihr Anmeldecode"); got != "Ihr Anmeldecode" {
		t.Errorf("plain subject encoded: %q", got)
	}
	for _, s := range []string{
		"Ihr Anmeldecode für Portier",
		strings.Repeat("Größenänderung ", 12),
		strings.Repeat("plain ascii ", 12),
		"Emoji 🚀 and = ? _ signs ?= =?",
		"€",
	} {
		enc := encodeSubject(s)
		for i, line := range strings.Split(enc, "\r\n") {
			if i == 0 {
				line = "Subject: " + line
			}
			if len(line) > 78 {
				t.Errorf("%q: line of %d characters: %q", s, len(line), line)
			}
		}
		dec, err := new(mime.WordDecoder).DecodeHeader(strings.ReplaceAll(enc, "\r\n", ""))
		if err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		if want := strings.Join(strings.Fields(s), " "); dec != want {
			t.Errorf("round trip of %q gave %q", want, dec)
		}
	}
}
