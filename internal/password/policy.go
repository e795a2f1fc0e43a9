package password

import (
	"bufio"
	"bytes"
	"compress/gzip"
	_ "embed" // the common-password list
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// Length limits of a new password, in characters (runes). NIST SP 800-63B
// asks for at least 8 and for accepting at least 64; the upper bound only
// keeps hashing cheap.
const (
	MinLength = 12
	MaxLength = 128
)

// PolicyError says why a new password is not acceptable, in words for the
// user.
type PolicyError struct{ Reason string }

func (e *PolicyError) Error() string { return e.Reason }

// Validate checks a new password against the policy (NIST SP 800-63B
// §5.1.1.2): between MinLength and MaxLength characters, not a common or
// breached password, and not the same as any of personal (the user's e-mail
// address, username, …; for an e-mail address its local part counts too).
// Comparisons ignore case. There are no composition rules: any characters,
// spaces included, are allowed. It returns nil or a *PolicyError.
func Validate(pw string, personal ...string) error {
	switch n := utf8.RuneCountInString(pw); {
	case n < MinLength:
		return &PolicyError{Reason: "The password must be at least " + strconv.Itoa(MinLength) + " characters long."}
	case n > MaxLength:
		return &PolicyError{Reason: "The password must be at most " + strconv.Itoa(MaxLength) + " characters long."}
	}
	if isCommon(pw) {
		return &PolicyError{Reason: "This password is too common: it appears in lists of often used and leaked passwords. Please choose another one."}
	}
	trimmed := strings.TrimSpace(pw)
	for _, p := range personal {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if strings.EqualFold(trimmed, p) {
			return &PolicyError{Reason: "The password must not be your e-mail address or username."}
		}
		if at := strings.LastIndexByte(p, '@'); at > 0 && strings.EqualFold(trimmed, strings.TrimSpace(p[:at])) {
			return &PolicyError{Reason: "The password must not be the name part of your e-mail address."}
		}
	}
	return nil
}

// isCommon reports whether pw, ignoring case and surrounding spaces, is in
// the embedded list of common passwords (see common/README.md).
func isCommon(pw string) bool {
	set := commonSet()
	for _, s := range []string{pw, strings.TrimSpace(pw)} {
		if _, ok := set[strings.ToLower(s)]; ok {
			return true
		}
	}
	return false
}

//go:embed common/passwords.txt.gz
var commonGz []byte

var commonSet = sync.OnceValue(func() map[string]struct{} {
	zr, err := gzip.NewReader(bytes.NewReader(commonGz))
	if err != nil {
		panic("password: embedded common-password list: " + err.Error())
	}
	set := make(map[string]struct{}, 18000)
	sc := bufio.NewScanner(zr)
	for sc.Scan() {
		if w := sc.Text(); w != "" {
			set[w] = struct{}{}
		}
	}
	if err := sc.Err(); err != nil {
		panic("password: embedded common-password list: " + err.Error())
	}
	return set
})
