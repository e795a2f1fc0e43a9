// Package supportpin is the support PIN of every login (docs/authorization.md, 'Support PIN') and the support desk's two questions about a
// caller: who is it (VerifyPIN) and may it ask for this (AuthorizeRequest).
//
// # The PIN
//
// Every login — a user, or a scoped login — has a current PIN of Digits
// decimal digits. It is never stored. It is derived with HMAC-SHA256, keyed
// by a server secret (PORTIER_PIN_KEY, or the pin.key file in the data
// directory, exactly like the JWT key), over
//
//	(login kind, login ID, row nonce, rotation counter, period index)
//
// where the row (ent SupportPinState) holds the nonce, the counter and
// rotated_at. The period index is the number of whole Period (7 days) since
// rotated_at: the PIN changes by itself every 7 days without any write, and
// rotateSupportPin bumps the counter and restarts the period, which ends
// the old PIN at once. The PIN shown and the PIN verified are the same pure
// function of (state, now), so they agree at every instant, also exactly at
// a boundary (the old PIN is valid until, excluding, validUntil; from
// validUntil on, the next one). A copy of the database alone reveals
// nothing: without the key the HMAC cannot be computed. Self-deletion
// deletes the row; a new row gets a new random nonce, so no old PIN comes
// back after a restore.
//
// Why 8 digits: the desk reads the PIN over the phone (two groups of four
// are still easy), while an account with many logins keeps guessing and
// collisions negligible. With 5 failed checks per 15 minutes and account,
// an attacker gets 480 guesses a day; against an account with 1,000 logins
// that is 480·1,000/10⁸ ≈ 0.5 % a day at 8 digits but ≈ 48 % at 6. Two
// logins of one account sharing a PIN (which the desk could not tell apart)
// happen with probability ≈ n²/2·10⁻⁸: 0.5 % for 1,000 logins at 8 digits,
// 39 % at 6. Such a check answers "no match" (audited as ambiguous): the
// caller rotates the PIN and tries again.
package supportpin

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Digits is the length of a support PIN.
const Digits = 8

// Period is how long one PIN holds; the next one follows at once.
const Period = 7 * 24 * time.Hour

// modulus is 10^Digits.
const modulus = 100_000_000

// LoginKind is the kind of login a PIN belongs to.
type LoginKind string

// The login kinds.
const (
	KindUser        LoginKind = "USER"
	KindScopedLogin LoginKind = "SCOPED_LOGIN"
)

// LoginRef names one login: a user or a scoped login.
type LoginRef struct {
	Kind LoginKind
	ID   string
}

// State is the stored rotation state of one login's PIN.
type State struct {
	Nonce     string
	Counter   int64
	RotatedAt time.Time
}

// PeriodAt returns the index of the period holding now (0 for the first
// Period after rotatedAt) and the instant it ends (excluded). An instant
// before rotatedAt (a clock step back) counts as period 0.
func PeriodAt(rotatedAt, now time.Time) (index int64, validUntil time.Time) {
	d := now.Sub(rotatedAt)
	if d < 0 {
		d = 0
	}
	index = int64(d / Period)
	return index, rotatedAt.Add(time.Duration(index+1) * Period)
}

// Derive is the PIN of ref for a state and period index under key: the
// first 8 bytes of HMAC-SHA256(key, message) as a big-endian integer,
// modulo 10^Digits (a bias below 10⁻¹¹), written with leading zeros. The
// message joins its parts with NUL bytes, which none of them contains.
func Derive(key []byte, ref LoginRef, s State, period int64) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("portier/support-pin/v1"))
	for _, part := range []string{string(ref.Kind), ref.ID, s.Nonce, strconv.FormatInt(s.Counter, 10), strconv.FormatInt(period, 10)} {
		m.Write([]byte{0})
		m.Write([]byte(part))
	}
	sum := m.Sum(nil)
	n := binary.BigEndian.Uint64(sum[:8]) % modulus
	return fmt.Sprintf("%0*d", Digits, n)
}

// Current is the PIN of ref at now and the instant it stops being valid.
func Current(key []byte, ref LoginRef, s State, now time.Time) (pin string, validUntil time.Time) {
	p, until := PeriodAt(s.RotatedAt, now)
	return Derive(key, ref, s, p), until
}

// Normalize turns what a caller reads out ("1234 5678", "1234-5678") into
// the PIN's digits; ok is false unless exactly Digits digits remain.
func Normalize(s string) (string, bool) {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == ' ' || r == '-' || r == '\t':
		default:
			return "", false
		}
	}
	out := b.String()
	return out, len(out) == Digits
}
