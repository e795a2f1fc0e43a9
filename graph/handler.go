package graph

import (
	"context"
	"database/sql"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"entgo.io/contrib/entgql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/rs/cors"
	"github.com/vektah/gqlparser/v2/ast"

	"portier/ent"
	"portier/graph/generated"
	"portier/internal/playground"
	"portier/internal/pulid"
	"portier/internal/ratelimit"
	"portier/internal/token"
)

// Deps are what the HTTP handler needs.
type Deps struct {
	Client *ent.Client
	DB     *sql.DB
	Tokens *token.Issuer
	// PinKey is the server secret support PINs are derived from
	// (PORTIER_PIN_KEY); nil means a random key for this process, which
	// only tests and single-instance experiments should rely on.
	PinKey      []byte
	Log         *slog.Logger
	CORSOrigins []string
	// PublicURL is the base of links in e-mails (never the request's Host).
	PublicURL string
	Now       func() time.Time
	// TrustedProxies are the reverse proxies whose X-Forwarded-For names
	// the client address (PORTIER_TRUSTED_PROXIES); none by default.
	TrustedProxies []netip.Prefix
	// DisableIntrospection refuses __schema and __type and leaves "did you
	// mean" suggestions out of errors (PORTIER_INTROSPECTION=off). The zero
	// value keeps both, as the playground needs.
	DisableIntrospection bool
	// MaxConcurrentRequests bounds the GraphQL requests executing at once
	// (PORTIER_MAX_CONCURRENT_REQUESTS); zero means
	// DefaultMaxConcurrentRequests. The rest wait, first come first
	// served, up to AdmissionTimeout (zero: DefaultAdmissionTimeout), then
	// get 503 with Retry-After.
	MaxConcurrentRequests int
	AdmissionTimeout      time.Duration
	// ServeMetrics serves /metrics on this handler (PORTIER_METRICS_ADDR
	// "main", the default); otherwise server.go serves NewMetricsHandler on
	// a listener of its own, or nowhere.
	ServeMetrics bool
	// APQCacheSize is how many documents registered by clients through
	// automatic persisted queries are kept (PORTIER_APQ_CACHE_SIZE); zero
	// means DefaultAPQCacheSize.
	APQCacheSize int
	// PersistedQueries is the trusted manifest, SHA-256 hex of a document
	// → the document (PORTIER_PERSISTED_QUERIES_FILE): those hashes are
	// always known.
	PersistedQueries map[string]string
	// PersistedQueriesOnly accepts only documents of PersistedQueries and
	// registers none from clients (PORTIER_PERSISTED_QUERIES_ONLY).
	PersistedQueriesOnly bool
}

// NewGraphQLServer assembles the gqlgen server: explicit transports (POST
// with a JSON body; GET for queries only), persisted queries, limits, the query cache, the
// per-mutation transaction, the error presenter and the panic handler.
func NewGraphQLServer(d Deps) *handler.Server {
	if d.Now == nil {
		d.Now = defaultNow
	}
	cfg := generated.Config{
		Resolvers: &Resolver{Client: d.Client, Tokens: d.Tokens, Log: d.Log, Now: d.Now, PinKey: pinKeyOr(d.PinKey),
			Limiter: ratelimit.New(d.Client, d.Now), PublicURL: d.PublicURL},
		Directives: Directives(d.Client),
	}
	cfg.Complexity.Query.CustomerAccounts = func(c int, _ *entgql.Cursor[pulid.ID], first *int, _ *entgql.Cursor[pulid.ID], last *int, _ []*ent.CustomerAccountOrder, _ *ent.CustomerAccountWhereInput) int {
		return connectionComplexity(c, first, last)
	}
	cfg.Complexity.Query.UserAccounts = func(c int, _ *entgql.Cursor[pulid.ID], first *int, _ *entgql.Cursor[pulid.ID], last *int, _ []*ent.UserAccountOrder, _ *ent.UserAccountWhereInput) int {
		return connectionComplexity(c, first, last)
	}
	cfg.Complexity.Query.AuditEvents = func(c int, _ *entgql.Cursor[pulid.ID], first *int, _ *entgql.Cursor[pulid.ID], last *int, _ []*ent.AuditEventOrder, _ *ent.AuditEventWhereInput) int {
		return connectionComplexity(c, first, last)
	}
	cfg.Complexity.CustomerAccount.Contacts = func(c int, _ *entgql.Cursor[pulid.ID], first *int, _ *entgql.Cursor[pulid.ID], last *int, _ []*ent.ContactOrder, _ *ent.ContactWhereInput) int {
		return connectionComplexity(c, first, last)
	}

	srv := handler.New(generated.NewExecutableSchema(cfg))
	srv.AddTransport(transport.Options{})
	srv.AddTransport(jsonGET{log: d.Log})
	srv.AddTransport(jsonPOST{})
	cache := defaultPageCache{lru.New[*ast.QueryDocument](QueryCacheSize)}
	srv.SetQueryCache(cache)
	srv.SetParserTokenLimit(MaxParserTokens)
	// A response's Data may point into a buffer that is reused once the
	// response is written (internal/respbuf): an extension that keeps a
	// response beyond its request copies Data, as the introspection cache does.
	srv.Use(requestMetrics{}) // outermost: counts every answer
	pq := persistedQueries{manifest: d.PersistedQueries, only: d.PersistedQueriesOnly}
	if !d.PersistedQueriesOnly {
		size := d.APQCacheSize
		if size <= 0 {
			size = DefaultAPQCacheSize
		}
		pq.cache = newAPQCache(size, APQCacheBytes)
	}
	srv.Use(pq)                      // a hash becomes its document, first
	srv.Use(docBounds{cache: cache}) // before parsing and validation
	srv.Use(fieldGuard{hideSuggestions: d.DisableIntrospection})
	if !d.DisableIntrospection {
		srv.Use(extension.Introspection{})
	}
	srv.SetDisableSuggestion(d.DisableIntrospection)
	srv.Use(depthLimit{max: MaxDepth, introspection: !d.DisableIntrospection})
	srv.Use(extension.FixedComplexityLimit(MaxComplexity))
	srv.Use(oneCredentialField{})
	if !d.DisableIntrospection {
		srv.Use(newIntrospectionCache())
	}
	if pq.cache != nil {
		srv.Use(apqRegistrar{cache: pq.cache}) // after every limit
	}
	srv.Use(staffReadAudit{client: d.Client, log: d.Log}) // outside the transaction
	srv.Use(txExtension{client: d.Client, log: d.Log, now: d.Now})
	srv.Use(accountCache{})
	srv.Use(actorNameCache{})
	srv.Use(fieldPipeline{}) // the one field interceptor, innermost
	srv.SetErrorPresenter(presentError(d.Log))
	srv.SetRecoverFunc(recoverPanic(d.Log))
	return srv
}

// NewHandler returns Portier's whole HTTP handler: /graphql, the offline
// playground at /, and /healthz and /readyz.
func NewHandler(d Deps) http.Handler {
	if d.Now == nil {
		d.Now = defaultNow
	}
	auth := &authenticator{client: d.Client, tokens: d.Tokens, now: d.Now, log: d.Log, proxies: d.TrustedProxies,
		limiter: ratelimit.New(d.Client, d.Now)}
	gql := NewGraphQLServer(d)

	mux := http.NewServeMux()
	mux.Handle("/graphql", frontDoor(d.Log, admission(d.MaxConcurrentRequests, d.AdmissionTimeout, d.Log, auth.middleware(gql))))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if err := d.DB.PingContext(ctx); err != nil {
			d.Log.WarnContext(ctx, "readiness check failed", "error", err.Error())
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte("database unreachable\n"))
			return
		}
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.Handle("/", playground.Handler("Portier", "/graphql"))
	if d.ServeMetrics {
		mux.Handle("GET /metrics", NewMetricsHandler(d))
	}

	c := cors.New(cors.Options{
		AllowedOrigins:   d.CORSOrigins, // none unless configured
		AllowedMethods:   []string{http.MethodGet, http.MethodPost, http.MethodOptions},
		AllowedHeaders:   []string{"Authorization", "Content-Type", "X-Request-ID", "Idempotency-Key"},
		ExposedHeaders:   []string{"X-Request-ID", "Retry-After"},
		AllowCredentials: false,
		MaxAge:           600,
	})
	if len(d.CORSOrigins) == 0 {
		c = cors.New(cors.Options{AllowOriginFunc: func(string) bool { return false }})
	}
	return countHTTP(withRequestID(d.Log, c.Handler(mux)))
}

// defaultNow is the current instant in UTC at microseconds: what both
// databases store, so "from <= now" holds for a grant written at now.
func defaultNow() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }
