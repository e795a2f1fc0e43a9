package supportpin

import (
	"bytes"
	"regexp"
	"testing"
	"time"
)

var key = bytes.Repeat([]byte{7}, 32)

func TestDeriveIsStableAndKeyed(t *testing.T) {
	ref := LoginRef{Kind: KindUser, ID: "usr_01"}
	s := State{Nonce: "n1", Counter: 0, RotatedAt: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)}
	pin := Derive(key, ref, s, 0)
	if !regexp.MustCompile(`^\d{8}$`).MatchString(pin) {
		t.Fatalf("pin %q is not 8 digits", pin)
	}
	if Derive(key, ref, s, 0) != pin {
		t.Fatal("not deterministic")
	}
	// Every input changes it: the key (a database copy without the key
	// cannot compute it), the login, its kind, the nonce, the counter and
	// the period.
	other := map[string]string{
		"key":     Derive(bytes.Repeat([]byte{8}, 32), ref, s, 0),
		"id":      Derive(key, LoginRef{Kind: KindUser, ID: "usr_02"}, s, 0),
		"kind":    Derive(key, LoginRef{Kind: KindScopedLogin, ID: "usr_01"}, s, 0),
		"nonce":   Derive(key, ref, State{Nonce: "n2", RotatedAt: s.RotatedAt}, 0),
		"counter": Derive(key, ref, State{Nonce: "n1", Counter: 1, RotatedAt: s.RotatedAt}, 0),
		"period":  Derive(key, ref, s, 1),
	}
	for what, p := range other {
		if p == pin {
			t.Errorf("changing the %s kept the PIN %s", what, pin)
		}
	}
}

func TestDeriveSpreadsOverAllDigits(t *testing.T) {
	// Leading zeros are kept and all digits occur in every position.
	seen := [Digits][10]bool{}
	for i := 0; i < 2000; i++ {
		p := Derive(key, LoginRef{Kind: KindUser, ID: "usr"}, State{Nonce: "n", Counter: int64(i)}, 0)
		if len(p) != Digits {
			t.Fatalf("%q", p)
		}
		for j, r := range p {
			seen[j][r-'0'] = true
		}
	}
	for j := range seen {
		for d, ok := range seen[j] {
			if !ok {
				t.Errorf("digit %d never at position %d", d, j)
			}
		}
	}
}

// TestPeriodBoundary: with a pinned clock, the PIN shown and the PIN
// verified are the same function of the instant; it holds until, not
// including, validUntil, and the next one starts exactly there.
func TestPeriodBoundary(t *testing.T) {
	rot := time.Date(2026, 11, 20, 9, 30, 0, 0, time.UTC)
	s := State{Nonce: "n", RotatedAt: rot}
	ref := LoginRef{Kind: KindUser, ID: "usr_b"}
	for _, c := range []struct {
		name   string
		at     time.Time
		period int64
		until  time.Time
	}{
		{"at rotation", rot, 0, rot.Add(Period)},
		{"clock before rotation", rot.Add(-time.Hour), 0, rot.Add(Period)},
		{"last instant of the first period", rot.Add(Period - time.Nanosecond), 0, rot.Add(Period)},
		{"exactly 7 days", rot.Add(Period), 1, rot.Add(2 * Period)},
		{"a day later", rot.Add(8 * 24 * time.Hour), 1, rot.Add(2 * Period)},
		{"15 weeks", rot.Add(15 * Period), 15, rot.Add(16 * Period)},
	} {
		t.Run(c.name, func(t *testing.T) {
			p, until := PeriodAt(rot, c.at)
			if p != c.period || !until.Equal(c.until) {
				t.Fatalf("PeriodAt = %d, %s; want %d, %s", p, until, c.period, c.until)
			}
			pin, shownUntil := Current(key, ref, s, c.at)
			if pin != Derive(key, ref, s, c.period) || !shownUntil.Equal(c.until) {
				t.Fatalf("Current disagrees with Derive")
			}
		})
	}
	before, _ := Current(key, ref, s, rot.Add(Period-time.Microsecond))
	after, _ := Current(key, ref, s, rot.Add(Period))
	if before == after {
		t.Fatal("the PIN did not change at the boundary")
	}
}

func TestNormalize(t *testing.T) {
	for _, c := range []struct {
		in, want string
		ok       bool
	}{
		{"12345678", "12345678", true},
		{" 1234 5678 ", "12345678", true},
		{"1234-5678", "12345678", true},
		{"1234567", "", false},
		{"123456789", "", false},
		{"1234567a", "", false},
		{"１２３４５６７８", "", false}, // full-width digits are not digits here
		{"", "", false},
	} {
		got, ok := Normalize(c.in)
		if ok != c.ok || (ok && got != c.want) {
			t.Errorf("Normalize(%q) = %q, %v", c.in, got, ok)
		}
	}
}
