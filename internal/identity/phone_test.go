package identity

import "testing"

func TestNormalizePhone(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"+4915112345678", "+4915112345678", true},
		{" +49 151 1234-5678 ", "+4915112345678", true},
		{"+49\u00a0151\u00a012345678", "+4915112345678", true},
		{"+12025550123", "+12025550123", true},
		{"+12345678", "+12345678", true},               // 8 digits: the shortest
		{"+123456789012345", "+123456789012345", true}, // 15 digits: the longest
		{"+1234567", "+1234567", false},                // 7 digits
		{"+1234567890123456", "+1234567890123456", false},
		{"+0151234567", "+0151234567", false}, // no country code starts with 0
		{"015112345678", "015112345678", false},
		{"004915112345678", "004915112345678", false},
		{"+49(151)12345678", "+49(151)12345678", false},
		{"+49.151.12345678", "+49.151.12345678", false},
		{"++4915112345678", "++4915112345678", false},
		{"+49151abc45678", "+49151abc45678", false},
		{"+４９１５１２３４５６７８", "+４９１５１２３４５６７８", false}, // full-width digits
		{"", "", false},
	} {
		got, ok := NormalizePhone(tc.in)
		if ok != tc.ok || (ok && got != tc.want) {
			t.Errorf("NormalizePhone(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestMaskPhone(t *testing.T) {
	for in, want := range map[string]string{
		"+4915112345678": "…678",
		"+12345678":      "…678",
		"":               "",
		"12":             "…",
	} {
		if got := MaskPhone(in); got != want {
			t.Errorf("MaskPhone(%q) = %q, want %q", in, got, want)
		}
	}
}
