package graph_test

import (
	"strings"
	"testing"
)

// Mail leaves as multipart/alternative, text and HTML in the recipient's
// language, and security mail never carries List-Unsubscribe.
func TestMailIsMultipartInTheUsersLanguage(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		locale, email, user, subject, greeting, other string
	}{
		{"en", "ann@example.org", "ann-en", "Please confirm your e-mail address", "Hello Erika Mustermann,", "Guten Tag"},
		{"de", "anna@example.org", "anna-de", "Bitte bestätigen Sie Ihre E-Mail-Adresse", "Guten Tag Erika Mustermann,", "Hello"},
	} {
		pw := secrets.add("Wanderlust-Fjord-2026")
		e.ok("", signUpDoc, map[string]any{"e": tc.email, "u": tc.user, "p": pw, "l": tc.locale})
		m := e.mailTo(tc.email)
		if m.Subject != tc.subject {
			t.Errorf("%s: subject %q", tc.locale, m.Subject)
		}
		if ct := m.Header.Get("Content-Type"); !strings.HasPrefix(ct, "multipart/alternative;") {
			t.Errorf("%s: Content-Type %q", tc.locale, ct)
		}
		for k, want := range map[string]string{"Content-Language": tc.locale, "Auto-Submitted": "auto-generated", "List-Unsubscribe": ""} {
			if got := m.Header.Get(k); got != want {
				t.Errorf("%s: %s %q, want %q", tc.locale, k, got, want)
			}
		}
		tok := e.linkTokenIn(m)
		for part, body := range map[string]string{"text": m.Body, "html": m.HTML} {
			if !strings.Contains(body, tc.greeting) || strings.Contains(body, tc.other) || !strings.Contains(body, tok) {
				t.Errorf("%s %s part:\n%s", tc.locale, part, body)
			}
		}
		if !strings.Contains(m.HTML, `<html lang="`+tc.locale+`">`) || !strings.Contains(m.HTML, `<a href="https://portal.example/`) {
			t.Errorf("%s: HTML part:\n%s", tc.locale, m.HTML)
		}
	}
}
