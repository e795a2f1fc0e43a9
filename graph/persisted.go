package graph

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/hashicorp/golang-lru/v2/simplelru"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"portier/internal/apperr"
)

// Persisted queries (docs/graphql-over-http.md): a client names a document
// by the SHA-256 of its text in extensions.persistedQuery instead of
// sending it, as Apollo's automatic persisted queries (APQ) protocol has
// it. A hash is known from the trusted manifest
// (PORTIER_PERSISTED_QUERIES_FILE) or, unless only persisted operations
// are accepted, because a client sent the document with its hash before.
// Whatever the source, the document then takes exactly the path of a
// document sent in full: bounds, parsing, validation, limits, directives.

// DefaultAPQCacheSize is how many documents registered by clients are kept
// when PORTIER_APQ_CACHE_SIZE is not set.
const DefaultAPQCacheSize = 1000

// APQCacheBytes bounds the text of the documents registered by clients, all
// together: any client may register documents, so the number of entries
// alone would let the cache hold entries × MaxBodyBytes.
const APQCacheBytes = 8 << 20

// CodePersistedQueryNotFound is the APQ protocol's answer to a hash the
// server does not know, with the message "PersistedQueryNotFound": clients
// then send the document with its hash.
const CodePersistedQueryNotFound = "PERSISTED_QUERY_NOT_FOUND"

// Reasons (BAD_USER_INPUT) of the persisted-query refusals.
const (
	ReasonPersistedQueryInvalid  = "PERSISTED_QUERY_INVALID"
	ReasonPersistedQueryMismatch = "PERSISTED_QUERY_HASH_MISMATCH"
	ReasonPersistedQueryRequired = "PERSISTED_QUERY_REQUIRED"
)

// persistedQueries is the gqlgen extension that reads the hash. It runs
// first among the OperationParameterMutators, so docBounds measures the
// document a hash stands for.
type persistedQueries struct {
	manifest map[string]string // trusted: sha256 hex → document
	only     bool              // accept nothing but manifest documents
	cache    *apqCache         // nil when only
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationParameterMutator
} = persistedQueries{}

func (persistedQueries) ExtensionName() string                   { return "PersistedQueries" }
func (persistedQueries) Validate(graphql.ExecutableSchema) error { return nil }

// apqPending is the hash of a document sent in full, to be registered when
// the document has been accepted.
const apqPending = "PortierAPQPending"

func (p persistedQueries) MutateOperationParameters(ctx context.Context, raw *graphql.RawParams) *gqlerror.Error {
	ext := raw.Extensions["persistedQuery"]
	if ext == nil {
		if p.only {
			if _, ok := p.manifest[hashDocument(raw.Query)]; !ok {
				return persistedRefusal(ReasonPersistedQueryRequired, "", "only persisted operations are accepted: send the hash of a document of the manifest in extensions.persistedQuery")
			}
		}
		return nil
	}
	hash, ok := persistedHash(ext)
	if !ok {
		return persistedRefusal(ReasonPersistedQueryInvalid, "extensions.persistedQuery",
			`extensions.persistedQuery must be {"version": 1, "sha256Hash": "<64 hex digits>"}`)
	}
	if raw.Query == "" {
		if doc, ok := p.manifest[hash]; ok {
			raw.Query = doc
			return nil
		}
		if p.cache != nil {
			if doc, ok := p.cache.get(hash); ok {
				raw.Query = doc
				return nil
			}
		}
		return persistedNotFound()
	}
	if hashDocument(raw.Query) != hash {
		return persistedRefusal(ReasonPersistedQueryMismatch, "extensions.persistedQuery.sha256Hash", "the sha256Hash is not the SHA-256 of the query")
	}
	if _, ok := p.manifest[hash]; ok {
		return nil
	}
	if p.only {
		return persistedRefusal(ReasonPersistedQueryRequired, "", "only persisted operations are accepted: this document is not in the manifest")
	}
	if oc := graphql.GetOperationContext(ctx); oc != nil {
		oc.Stats.SetExtension(apqPending, hash)
	}
	return nil
}

// apqRegistrar registers a document sent with its hash. It is the last
// OperationContextMutator: a document is kept only once it has parsed,
// validated and passed every limit, so the cache never holds one that
// would be refused.
type apqRegistrar struct{ cache *apqCache }

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = apqRegistrar{}

func (apqRegistrar) ExtensionName() string                   { return "APQRegistrar" }
func (apqRegistrar) Validate(graphql.ExecutableSchema) error { return nil }

func (a apqRegistrar) MutateOperationContext(_ context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if hash, ok := oc.Stats.GetExtension(apqPending).(string); ok {
		a.cache.add(hash, oc.RawQuery)
	}
	return nil
}

// persistedHash reads {"version": 1, "sha256Hash": "…"} (the version as
// the JSON decoder left it), the hash in lower case.
func persistedHash(ext any) (string, bool) {
	m, ok := ext.(map[string]any)
	if !ok {
		return "", false
	}
	switch v := m["version"].(type) {
	case json.Number:
		if v != "1" {
			return "", false
		}
	case float64:
		if v != 1 {
			return "", false
		}
	default:
		return "", false
	}
	h, ok := m["sha256Hash"].(string)
	if !ok || len(h) != sha256.Size*2 {
		return "", false
	}
	b, err := hex.DecodeString(h)
	if err != nil {
		return "", false
	}
	return hex.EncodeToString(b), true
}

func hashDocument(doc string) string {
	sum := sha256.Sum256([]byte(doc))
	return hex.EncodeToString(sum[:])
}

func persistedNotFound() *gqlerror.Error {
	ae := &apperr.Error{Code: CodePersistedQueryNotFound, Message: "PersistedQueryNotFound"}
	return &gqlerror.Error{Message: ae.Message, Err: ae}
}

func persistedRefusal(reason, field, msg string) *gqlerror.Error {
	ae := &apperr.Error{Code: apperr.CodeBadUserInput, Reason: reason, Field: field, Message: msg}
	return &gqlerror.Error{Message: ae.Message, Err: ae}
}

// apqCache keeps the documents clients registered, least recently used
// first out, within a number of entries and APQCacheBytes of text.
type apqCache struct {
	mu       sync.Mutex
	lru      *simplelru.LRU[string, string]
	bytes    int
	maxBytes int
}

func newAPQCache(size, maxBytes int) *apqCache {
	c := &apqCache{maxBytes: maxBytes}
	l, err := simplelru.NewLRU[string, string](size, func(_ string, doc string) { c.bytes -= len(doc) })
	if err != nil {
		panic("apq cache: " + err.Error()) // only for size < 1, refused by the configuration
	}
	c.lru = l
	return c
}

func (c *apqCache) get(hash string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Get(hash)
}

func (c *apqCache) add(hash, doc string) {
	if len(doc) > c.maxBytes {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.lru.Contains(hash) {
		c.lru.Get(hash) // most recently used again
		return
	}
	for c.bytes+len(doc) > c.maxBytes && c.lru.Len() > 0 {
		c.lru.RemoveOldest()
	}
	c.lru.Add(hash, doc)
	c.bytes += len(doc)
}
