package token

import (
	"crypto/hmac"
	"crypto/sha256"
)

// MAC returns HMAC-SHA256 over msg with a key derived from the signing key
// for purpose (itself an HMAC of the purpose under the signing key), so that
// other uses of the secret never produce values that could pass for access
// token signatures, or for one another.
func (i *Issuer) MAC(purpose string, msg []byte) []byte {
	k := hmac.New(sha256.New, i.key)
	k.Write([]byte("portier/" + purpose))
	m := hmac.New(sha256.New, k.Sum(nil))
	m.Write(msg)
	return m.Sum(nil)
}
