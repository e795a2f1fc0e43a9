// Package token issues and parses Portier's access tokens: short-lived JWTs
// signed with HMAC-SHA256 and parsed with an algorithm allow-list, required
// expiry, issuer and audience, and a token type claim, so that no other kind
// of token is ever accepted as an access token.
package token

import (
	"errors"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// AccessType is the "typ" claim of access tokens.
const AccessType = "access"

// Claims are the claims of an access token.
type Claims struct {
	jwt.RegisteredClaims
	SessionID string `json:"sid"`
	Kind      string `json:"knd"`
	Type      string `json:"typ"`
}

// Issuer signs and parses access tokens.
type Issuer struct {
	key      []byte
	issuer   string
	audience string
	ttl      time.Duration
}

// NewIssuer returns an Issuer. key must be at least 32 bytes.
func NewIssuer(key []byte, issuer, audience string, ttl time.Duration) (*Issuer, error) {
	if len(key) < 32 {
		return nil, errors.New("token: signing key must be at least 32 bytes")
	}
	return &Issuer{key: key, issuer: issuer, audience: audience, ttl: ttl}, nil
}

// TTL is the lifetime of access tokens.
func (i *Issuer) TTL() time.Duration { return i.ttl }

// Issue returns a signed access token for subject in session sid.
func (i *Issuer) Issue(subject, sid, kind string, now time.Time) (string, time.Time, error) {
	exp := now.Add(i.ttl)
	c := Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Subject:   subject,
			Issuer:    i.issuer,
			Audience:  jwt.ClaimStrings{i.audience},
			IssuedAt:  jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(exp),
		},
		SessionID: sid,
		Kind:      kind,
		Type:      AccessType,
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(i.key)
	return s, exp, err
}

// ErrInvalid is returned for every token that is not a valid access token.
// Callers must not tell clients why.
var ErrInvalid = errors.New("invalid access token")

// Parse validates an access token and returns its claims.
func (i *Issuer) Parse(s string, now time.Time) (*Claims, error) {
	var c Claims
	_, err := jwt.ParseWithClaims(s, &c, func(*jwt.Token) (any, error) { return i.key, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithExpirationRequired(),
		jwt.WithIssuer(i.issuer),
		jwt.WithAudience(i.audience),
		jwt.WithTimeFunc(func() time.Time { return now }),
		jwt.WithLeeway(5*time.Second),
	)
	if err != nil || c.Type != AccessType || c.Subject == "" || c.SessionID == "" {
		return nil, ErrInvalid
	}
	return &c, nil
}
