package identity

import (
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// totpOpts are RFC 6238 defaults (SHA-1, 6 digits, 30 s) with one step of
// clock skew either way.
var totpOpts = totp.ValidateOpts{Period: 30, Skew: 1, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}
