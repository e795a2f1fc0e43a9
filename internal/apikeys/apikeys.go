// Package apikeys creates, lists, revokes and authenticates API keys, the
// principal of partner integrations (docs/authorization.md, 'API keys').
//
// A key is "ptk_" followed by 43 base64url characters (256 random bits). Only
// its SHA-256 is stored: for a secret of 256 random bits a fast hash is as
// good as a slow one, and it lets a key be looked up by its hash, so a
// presented key is compared against no stored secret character by
// character, and an unknown key costs the same one query as a known one.
// The stored hash is compared once more in constant time.
//
// A key carries no rights of its own. It names its user, one customer
// account and a set of permissions; on every request the evaluator
// (internal/authz) loads the user's rights afresh and keeps only those on
// that account that the key lists, so a key loses power the moment its user
// does. A key never holds APIKEYS_MANAGE, and the directives refuse it every
// mutation that is not scoped to a customer account by @hasPermission
// (credentials, sessions, 2FA, invitations) as well as changes to its own
// user's contact.
package apikeys

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"portier/ent"
	"portier/ent/apikey"
	"portier/ent/customeraccount"
	"portier/ent/useraccount"
	"portier/internal/apperr"
	"portier/internal/audit"
	"portier/internal/authz"
	"portier/internal/domain"
	"portier/internal/notify"
	"portier/internal/pulid"
	"portier/internal/ratelimit"
	"portier/internal/viewer"
)

const (
	// Prefix starts every key, so that a key is recognised as one (also by
	// secret scanners) and told apart from an access token.
	Prefix = "ptk_"
	// secretChars is the length of the random part: 32 bytes in base64url.
	secretChars = 43
	// shownChars of the random part are kept as the key's public prefix
	// (36 bits; the remaining 222 stay secret).
	shownChars = 6
	// MaxLifetime caps a key's expiry: at most a year (and a day, for leap
	// years) from its creation. Every key expires.
	MaxLifetime = 366 * 24 * time.Hour
	// TouchInterval: lastUsedAt is written at most once per interval per
	// key, by a conditional UPDATE, never on every request.
	TouchInterval = time.Minute
)

// RateRule is the limit of requests per key, apart from any person's
// limits: 600 requests per minute, counted with one upsert per request.
var RateRule = ratelimit.Rule{Name: "apikey", Limit: 600, Window: time.Minute}

// ErrInvalid is a presented key that is not accepted: malformed, unknown,
// revoked, expired, or its user or account no longer active.
var ErrInvalid = errors.New("invalid API key")

// LooksLikeKey reports whether a bearer credential is meant as an API key.
func LooksLikeKey(raw string) bool { return strings.HasPrefix(raw, Prefix) }

func wellFormed(raw string) bool {
	if len(raw) != len(Prefix)+secretChars || !LooksLikeKey(raw) {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(raw[len(Prefix):])
	return err == nil
}

// hash is the stored form of a key.
func hash(raw string) string {
	sum := sha256.Sum256([]byte(raw))
	return hex.EncodeToString(sum[:])
}

// generate returns a new key and its public prefix.
func generate() (raw, prefix string, err error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", "", err
	}
	raw = Prefix + base64.RawURLEncoding.EncodeToString(b)
	return raw, raw[:len(Prefix)+shownChars], nil
}

// Authenticate returns the key (with its user) that raw is, if it is
// accepted at now: ErrInvalid if not, the store's error if the store could
// not answer. It is one query by the key's hash, whatever the key, plus one
// for the user of an accepted key.
func Authenticate(ctx context.Context, client *ent.Client, raw string, now time.Time) (*ent.APIKey, error) {
	if !wellFormed(raw) {
		return nil, ErrInvalid
	}
	h := hash(raw)
	k, err := client.APIKey.Query().
		Where(
			apikey.SecretHash(h),
			apikey.RevokedAtIsNil(),
			apikey.ExpiresAtGT(now),
			apikey.HasUserWith(useraccount.StatusEQ(useraccount.StatusACTIVE), useraccount.StaffRoleIsNil()),
			apikey.HasCustomerAccountWith(customeraccount.StatusEQ(customeraccount.StatusACTIVE)),
		).
		WithUser().
		Only(viewer.SystemContext(ctx))
	if ent.IsNotFound(err) {
		return nil, ErrInvalid
	}
	if err != nil {
		return nil, err
	}
	if subtle.ConstantTimeCompare([]byte(k.SecretHash), []byte(h)) != 1 || k.Edges.User == nil || k.CustomerAccountID == nil {
		return nil, ErrInvalid
	}
	return k, nil
}

// Grant is the narrowing an authenticated key puts on its viewer.
func Grant(k *ent.APIKey) *viewer.KeyGrant {
	g := &viewer.KeyGrant{ID: string(k.ID), AccountID: string(*k.CustomerAccountID)}
	for _, p := range k.Permissions {
		g.Permissions = append(g.Permissions, domain.Permission(p))
	}
	return g
}

// Touch records that k was used at now, unless that was recorded less than
// TouchInterval ago. The UPDATE is conditional, so concurrent requests of
// one key write at most once per interval between them.
func Touch(ctx context.Context, client *ent.Client, k *ent.APIKey, now time.Time) error {
	cutoff := now.Add(-TouchInterval)
	if k.LastUsedAt != nil && k.LastUsedAt.After(cutoff) {
		return nil
	}
	return client.APIKey.Update().
		Where(apikey.ID(k.ID), apikey.Or(apikey.LastUsedAtIsNil(), apikey.LastUsedAtLTE(cutoff))).
		SetLastUsedAt(now).
		Exec(viewer.SystemContext(ctx))
}

// Service runs the operations of a request. Tx returns the mutation's
// transaction.
type Service struct {
	Client *ent.Client
	Tx     func() (*ent.Client, error)
	Now    func() time.Time
}

// NewKey is the input of Create.
type NewKey struct {
	Name        string
	AccountID   pulid.ID
	Permissions []domain.Permission
	ExpiresAt   time.Time
}

// Create makes a key for the viewer, narrowed to one account where the
// directive has checked APIKEYS_MANAGE, and returns it with its secret,
// which is never shown again.
func (s *Service) Create(ctx context.Context, in NewKey) (*ent.APIKey, string, error) {
	v := viewer.FromContext(ctx)
	if v.Kind != viewer.User || v.UserID == "" {
		return nil, "", apperr.Forbidden("only a user can create API keys")
	}
	if v.IsStaff() {
		return nil, "", apperr.Forbidden("provider staff act through their staff role and cannot own API keys")
	}
	name := strings.TrimSpace(in.Name)
	if name == "" || utf8.RuneCountInString(name) > 100 {
		return nil, "", apperr.BadInput("input.name", "a name of 1 to 100 characters is required")
	}
	now := s.Now()
	switch {
	case !in.ExpiresAt.After(now):
		return nil, "", apperr.BadInput("input.expiresAt", "the expiry must be in the future")
	case in.ExpiresAt.After(now.Add(MaxLifetime)):
		return nil, "", apperr.BadInput("input.expiresAt", "a key expires at most 366 days after its creation")
	}
	var perms []string
	for _, p := range in.Permissions {
		if slices.Contains(authz.KeyNever, p) {
			return nil, "", apperr.BadInput("input.permissions", "an API key can never hold %s", p.EnumName())
		}
		if !slices.Contains(perms, string(p)) {
			perms = append(perms, string(p))
		}
	}
	if len(perms) == 0 {
		return nil, "", apperr.BadInput("input.permissions", "name at least one permission")
	}
	held, err := v.Access.Permissions(ctx, string(in.AccountID))
	if err != nil {
		return nil, "", err
	}
	for _, p := range perms {
		if !slices.Contains(held, domain.Permission(p)) {
			e := apperr.Forbidden("a key can only get permissions you hold yourself on the account; you do not hold " +
				domain.Permission(p).EnumName())
			e.Field = "input.permissions"
			return nil, "", e
		}
	}
	slices.Sort(perms)
	raw, prefix, err := generate()
	if err != nil {
		return nil, "", err
	}
	c, err := s.Tx()
	if err != nil {
		return nil, "", err
	}
	k, err := c.APIKey.Create().
		SetUserID(pulid.ID(v.UserID)).
		SetCustomerAccountID(in.AccountID).
		SetName(name).
		SetPrefix(prefix).
		SetSecretHash(hash(raw)).
		SetPermissions(perms).
		SetExpiresAt(in.ExpiresAt.UTC()).
		Save(ctx)
	if err != nil {
		return nil, "", err
	}
	err = audit.Record(ctx, c, audit.Entry{
		Action: "api_key.create", AccountID: in.AccountID, TargetType: "APIKey", TargetID: string(k.ID),
		Changes: map[string]any{"name": name, "prefix": prefix, "permissions": perms, "expiresAt": k.ExpiresAt},
	})
	if err != nil {
		return nil, "", err
	}
	if err := notify.APIKeyCreated(ctx, c, k, now); err != nil {
		return nil, "", err
	}
	return k, raw, nil
}

// List returns the keys the viewer may see, newest first: its own, and
// those of accounts where it holds APIKEYS_MANAGE (the ent policy decides).
// With accountID, only the keys narrowed to that account; NOT_FOUND when
// the viewer holds nothing there.
func (s *Service) List(ctx context.Context, accountID *pulid.ID) ([]*ent.APIKey, error) {
	q := s.Client.APIKey.Query().Order(ent.Desc(apikey.FieldCreatedAt), ent.Desc(apikey.FieldID))
	if accountID != nil {
		perms, err := viewer.FromContext(ctx).Access.Permissions(ctx, string(*accountID))
		if err != nil {
			return nil, err
		}
		if len(perms) == 0 {
			e := apperr.NotFound()
			e.Field = "customerAccountID"
			return nil, e
		}
		q.Where(apikey.CustomerAccountID(*accountID))
	}
	return q.All(ctx)
}

// Revoke ends a key at once. Its user and holders of APIKEYS_MANAGE on its
// account may; for anyone else the key does not exist. Revoking a revoked
// key changes nothing.
func (s *Service) Revoke(ctx context.Context, id pulid.ID) (*ent.APIKey, error) {
	c, err := s.Tx()
	if err != nil {
		return nil, err
	}
	k, err := c.APIKey.Get(ctx, id)
	if ent.IsNotFound(err) {
		e := apperr.NotFound()
		e.Field = "id"
		return nil, e
	}
	if err != nil {
		return nil, err
	}
	if k.RevokedAt != nil {
		return k, nil
	}
	k, err = c.APIKey.UpdateOne(k).SetRevokedAt(s.Now()).Save(ctx)
	if err != nil {
		return nil, err
	}
	var acct pulid.ID
	if k.CustomerAccountID != nil {
		acct = *k.CustomerAccountID
	}
	return k, audit.Record(ctx, c, audit.Entry{
		Action: "api_key.revoke", AccountID: acct, TargetType: "APIKey", TargetID: string(k.ID),
		Changes: map[string]any{"revokedAt": k.RevokedAt},
	})
}
