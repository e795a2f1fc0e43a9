package password

import (
	"errors"
	"strings"
	"testing"
)

func TestValidate(t *testing.T) {
	t.Parallel()
	const (
		email    = "Jane.Doe@Example.com"
		username = "jane_doe_1984"
	)
	tests := []struct {
		name     string
		pw       string
		personal []string
		want     string // substring of the reason; "" for valid
	}{
		{"empty", "", nil, "at least 12"},
		{"11 chars", "abcdefghijk", nil, "at least 12"},
		{"12 chars", "vqmxe-lurpaz", nil, ""},
		{"64 chars", strings.Repeat("Zq8#", 16), nil, ""},
		{"128 chars", strings.Repeat("Zq8#", 32), nil, ""},
		{"129 chars", strings.Repeat("Zq8#", 32) + "x", nil, "at most 128"},
		{"12 runes, 24 bytes", "ääääääääääää", nil, ""},
		{"11 runes, 33 bytes", "日本語日本語日本語日本", nil, "at least 12"},
		{"emoji counted as runes", strings.Repeat("🔑", 12), nil, ""},
		{"129 runes of 2 bytes", strings.Repeat("ß", 129), nil, "at most 128"},
		{"no composition rules: lower-case only", "correcthorsebatterystaple", nil, ""},
		{"no composition rules: spaces", "correct horse battery staple", nil, ""},
		{"no composition rules: digits only", "830174926351", nil, ""},
		{"common password1234", "password1234", nil, "too common"},
		{"common, other case", "PassWord1234", nil, "too common"},
		{"common 123456789012", "123456789012", nil, "too common"},
		{"common qwertyuiop123", "qwertyuiop123", nil, "too common"},
		{"common 1qaz2wsx3edc", "1qaz2wsx3edc", nil, "too common"},
		{"common leavemealone", "LeaveMeAlone", nil, "too common"},
		{"common with surrounding spaces", "  password1234 ", nil, "too common"},
		{"equal to e-mail", "jane.doe@example.com", []string{email, username}, "e-mail address or username"},
		{"equal to e-mail, spaces", " JANE.DOE@EXAMPLE.COM ", []string{email, username}, "e-mail address or username"},
		{"equal to username", "JANE_DOE_1984", []string{email, username}, "e-mail address or username"},
		{"equal to local part", "Jane.Doe.Example", []string{"jane.doe.example@example.org"}, "name part"},
		{"equal to local part, case", "JANE.DOE.EXAMPLE", []string{"jane.doe.example@example.org"}, "name part"},
		{"contains username is fine", username + "!x", []string{email, username}, ""},
		{"empty personal ignored", "vqmxe-lurpaz", []string{"", "  "}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := Validate(tc.pw, tc.personal...)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("Validate(%q) = %v, want nil", tc.pw, err)
				}
				return
			}
			var pe *PolicyError
			if !errors.As(err, &pe) {
				t.Fatalf("Validate(%q) = %v (%T), want *PolicyError", tc.pw, err, err)
			}
			if !strings.Contains(pe.Reason, tc.want) || pe.Error() != pe.Reason {
				t.Fatalf("Validate(%q): reason %q, want it to contain %q", tc.pw, pe.Reason, tc.want)
			}
		})
	}
}

func TestCommonList(t *testing.T) {
	t.Parallel()
	set := commonSet()
	if n := len(set); n < 15000 {
		t.Fatalf("common list has %d entries, want the full list (~18k)", n)
	}
	long := 0
	for w := range set {
		if w != strings.ToLower(w) || strings.TrimSpace(w) != w || len([]rune(w)) < 8 {
			t.Fatalf("list entry %q: want lower-case, trimmed, at least 8 characters", w)
		}
		if len([]rune(w)) >= MinLength {
			long++
		}
	}
	t.Logf("%d entries, %d of them long enough to pass the length rule", len(set), long)
	for _, w := range []string{"password", "12345678", "iloveyou", "password123", "password1234", "sunshine"} {
		if !isCommon(w) {
			t.Errorf("%q should be common", w)
		}
	}
	if isCommon("vqmxe-lurpaz") {
		t.Error("random string reported common")
	}
}
