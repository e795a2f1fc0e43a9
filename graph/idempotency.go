package graph

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"regexp"
	"time"

	"github.com/99designs/gqlgen/graphql"

	"portier/ent"
	"portier/ent/idempotencykey"
	"portier/internal/apperr"
	"portier/internal/viewer"
)

// IdempotencyKeyLifetime is how long the answer to a keyed mutation is kept.
const IdempotencyKeyLifetime = 24 * time.Hour

// IdempotencyHeader makes a mutation safe to retry: the same principal
// sending the same request with the same key within IdempotencyKeyLifetime
// gets the first answer again, and nothing is changed twice.
const IdempotencyHeader = "Idempotency-Key"

var validIdempotencyKey = regexp.MustCompile(`^[A-Za-z0-9._:-]{8,128}$`)

// noIdempotency are the mutations a key is refused for: those that record
// attempts outside the transaction (plainWriters) and those whose answer
// holds a secret that is shown once and must not be stored.
var noIdempotency = map[string]bool{
	"startTotpEnrollment": true, "regenerateRecoveryCodes": true, "disableTwoFactor": true,
	// Its answer holds the key's secret, which is stored only as a hash.
	"createApiKey": true,
	// Its answer holds the new support PIN, which a copy of the database
	// must not reveal.
	"rotateSupportPin": true,
}

// idempotentRequest is a mutation sent with an Idempotency-Key.
type idempotentRequest struct {
	id          string // hash of principal and key
	requestHash string
}

// idempotency reads the header of a mutation operation. It returns nil
// without a header, and a coded error for a key that cannot be honoured.
func idempotency(ctx context.Context, oc *graphql.OperationContext) (*idempotentRequest, error) {
	key := oc.Headers.Get(IdempotencyHeader)
	if key == "" {
		return nil, nil
	}
	bad := func(msg string) error {
		return &apperr.Error{Code: apperr.CodeBadUserInput, Reason: "IDEMPOTENCY_KEY_REFUSED", Field: IdempotencyHeader, Message: msg}
	}
	if !validIdempotencyKey.MatchString(key) {
		return nil, bad("an Idempotency-Key has 8 to 128 letters, digits, dots, colons, dashes or underscores")
	}
	v := viewer.FromContext(ctx)
	if v.Kind == viewer.Anonymous || v.UserID == "" {
		return nil, bad("Idempotency-Key needs an authenticated request")
	}
	for _, f := range graphql.CollectFields(oc, oc.Operation.SelectionSet, []string{"Mutation"}) {
		if plainWriters[f.Name] || noIdempotency[f.Name] {
			return nil, bad("Idempotency-Key is not accepted for " + f.Name + ": send it without one")
		}
	}
	vars, err := json.Marshal(oc.Variables) // map keys sorted: canonical
	if err != nil {
		return nil, err
	}
	rh := sha256.New()
	for _, part := range [][]byte{[]byte(oc.RawQuery), []byte(oc.OperationName), vars} {
		rh.Write(part)
		rh.Write([]byte{0})
	}
	// The principal: each API key is one of its own (narrowed differently
	// from its user and from the user's other keys).
	principal := string(v.Kind) + "\x00" + v.UserID
	if v.Key != nil {
		principal += "\x00" + v.Key.ID
	}
	id := sha256.Sum256([]byte(principal + "\x00" + key))
	return &idempotentRequest{id: hex.EncodeToString(id[:]), requestHash: hex.EncodeToString(rh.Sum(nil))}, nil
}

// replay returns the stored answer for the request, nil when there is none
// (or it expired), or CONFLICT when the key was used for another request.
func (r *idempotentRequest) replay(ctx context.Context, client *ent.Client, now time.Time) (*graphql.Response, error) {
	k, err := client.IdempotencyKey.Query().
		Where(idempotencykey.ID(r.id), idempotencykey.ExpiresAtGT(now)).
		Only(viewer.SystemContext(ctx))
	if ent.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if k.RequestHash != r.requestHash {
		return nil, &apperr.Error{Code: apperr.CodeConflict, Reason: "IDEMPOTENCY_KEY_REUSED", Field: IdempotencyHeader,
			Message: "this Idempotency-Key was used for a different request"}
	}
	return &graphql.Response{Data: json.RawMessage(k.Response), Extensions: map[string]any{"idempotentReplay": true}}, nil
}

// remember stores the answer in the mutation's transaction.
func (r *idempotentRequest) remember(ctx context.Context, c *ent.Client, resp *graphql.Response, now time.Time) error {
	return c.IdempotencyKey.Create().
		SetID(r.id).SetRequestHash(r.requestHash).SetResponse(string(resp.Data)).
		SetCreatedAt(now).SetExpiresAt(now.Add(IdempotencyKeyLifetime)).
		Exec(viewer.SystemContext(ctx))
}

// CleanupIdempotencyKeys deletes the keys that expired before now.
func CleanupIdempotencyKeys(ctx context.Context, client *ent.Client, now time.Time) (int, error) {
	return client.IdempotencyKey.Delete().Where(idempotencykey.ExpiresAtLTE(now)).Exec(viewer.SystemContext(ctx))
}
