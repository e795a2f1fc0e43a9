// Package password hashes and verifies passwords with argon2id, in the PHC
// string format, under a bound on concurrent hashes so that a flood of
// logins cannot exhaust CPU or memory.
package password

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Params are argon2id parameters. The defaults are one of the equivalent
// configurations the OWASP Password Storage Cheat Sheet lists (m=46 MiB
// t=1, m=19 MiB t=2, m=12 MiB t=3, m=9 MiB t=4, m=7 MiB t=5, all p=1):
// m=12 MiB, t=3. It costs the same CPU as m=19 MiB, t=2 and holds a third
// less memory per hash, which is what bounds the server's memory under a
// flood of logins (docs/performance.md).
type Params struct {
	Memory  uint32 // KiB
	Time    uint32
	Threads uint8
	SaltLen uint32
	KeyLen  uint32
}

// Default parameters for new hashes.
var Default = Params{Memory: 12 * 1024, Time: 3, Threads: 1, SaltLen: 16, KeyLen: 32}

// slots bounds concurrent hashing: each hash holds Memory KiB for its run.
var slots = make(chan struct{}, max(2, runtime.NumCPU()))

func acquire(ctx context.Context) error {
	select {
	case slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func release() { <-slots }

// Hash returns the PHC string of pw with the default parameters.
func Hash(ctx context.Context, pw string) (string, error) {
	return HashWith(ctx, pw, Default)
}

// HashWith returns the PHC string of pw with p.
func HashWith(ctx context.Context, pw string, p Params) (string, error) {
	salt := make([]byte, p.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	if err := p.check(); err != nil {
		return "", err
	}
	key, err := derive(ctx, pw, salt, p)
	if err != nil {
		return "", err
	}
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

var errFormat = errors.New("password: unknown hash format")

func parse(phc string) (Params, []byte, []byte, error) {
	parts := strings.Split(phc, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return Params{}, nil, nil, errFormat
	}
	var v int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return Params{}, nil, nil, errFormat
	}
	var p Params
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil {
		return Params{}, nil, nil, errFormat
	}
	b64 := base64.RawStdEncoding
	salt, err := b64.DecodeString(parts[4])
	if err != nil {
		return Params{}, nil, nil, errFormat
	}
	key, err := b64.DecodeString(parts[5])
	if err != nil {
		return Params{}, nil, nil, errFormat
	}
	p.SaltLen, p.KeyLen = uint32(len(salt)), uint32(len(key))
	if err := p.check(); err != nil {
		return Params{}, nil, nil, err
	}
	return p, salt, key, nil
}

// check refuses parameters argon2 cannot run with (it panics on t=0, p=0
// or an empty key) or that would exhaust memory.
func (p Params) check() error {
	if p.Time < 1 || p.Threads < 1 || p.KeyLen < 16 || p.SaltLen < 8 || p.Memory < 8*uint32(p.Threads) || p.Memory > 1<<20 {
		return errFormat
	}
	return nil
}

// derive runs argon2id in one of the bounded slots.
func derive(ctx context.Context, pw string, salt []byte, p Params) ([]byte, error) {
	if err := acquire(ctx); err != nil {
		return nil, err
	}
	defer release()
	return argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, p.KeyLen), nil
}

// Verify reports whether pw matches the PHC string, and whether the hash
// should be replaced because its parameters are not the defaults (older,
// weaker or hungrier for memory): a correct login rehashes it.
func Verify(ctx context.Context, pw, phc string) (ok, rehash bool, err error) {
	p, salt, key, err := parse(phc)
	if err != nil {
		return false, false, err
	}
	got, err := derive(ctx, pw, salt, p)
	if err != nil {
		return false, false, err
	}
	ok = subtle.ConstantTimeCompare(got, key) == 1
	rehash = p.Memory != Default.Memory || p.Time != Default.Time || p.Threads != Default.Threads || p.KeyLen < Default.KeyLen
	return ok, rehash, nil
}

var dummyHash = func() string {
	h, err := HashWith(context.Background(), "portier-dummy-password", Default)
	if err != nil {
		panic(err)
	}
	return h
}()

// Burn spends the time of one verification on a dummy hash, so that a
// login for an unknown user takes about as long as one for a known user.
func Burn(ctx context.Context, pw string) { _, _, _ = Verify(ctx, pw, dummyHash) }
