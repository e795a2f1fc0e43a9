package graph

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"

	"portier/ent"
	"portier/ent/session"
	"portier/ent/useraccount"
	"portier/internal/apperr"
	"portier/internal/authz"
	"portier/internal/pulid"
	"portier/internal/ratelimit"
	"portier/internal/token"
	"portier/internal/viewer"
)

type requestIDKey struct{}

var validRequestID = regexp.MustCompile(`^[A-Za-z0-9._-]{8,64}$`)

// withRequestID gives every request an id (the client's X-Request-ID when
// it is sane), returns it in the response and logs the request with it.
func withRequestID(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-ID")
		if !validRequestID.MatchString(id) {
			b := make([]byte, 12)
			_, _ = rand.Read(b)
			id = hex.EncodeToString(b)
		}
		w.Header().Set("X-Request-ID", id)
		// No response of Portier is to be sniffed into another type.
		w.Header().Set("X-Content-Type-Options", "nosniff")
		ctx := context.WithValue(r.Context(), requestIDKey{}, id)
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r.WithContext(ctx))
		log.InfoContext(ctx, "request", "request_id", id, "method", r.Method, "path", r.URL.Path,
			"status", sw.status, "duration_ms", time.Since(start).Milliseconds())
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) { s.status = code; s.ResponseWriter.WriteHeader(code) }

// requestID is the id of the request in ctx: set by withRequestID, or the
// viewer's when the GraphQL server runs without that middleware.
func requestID(ctx context.Context) string {
	if id, _ := ctx.Value(requestIDKey{}).(string); id != "" {
		return id
	}
	return viewer.FromContext(ctx).RequestID
}

// frontDoor checks the HTTP shape of a /graphql request before gqlgen sees
// it (GraphQL over HTTP): GET (queries only) or POST with a JSON object
// body of at most MaxBodyBytes, no batches, no upgrades. Whatever it
// refuses is answered through the one error mapper with a 4xx status and
// never echoes the body. It also makes every response uncacheable and lets
// an UNAVAILABLE error turn the response into a 503 with Retry-After.
func frontDoor(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, out := withOutcome(r.Context())
		r = r.WithContext(ctx)
		// Responses may carry tokens and personal data: no cache keeps them.
		w.Header().Set("Cache-Control", "no-store")
		if r.Header.Get("Upgrade") != "" {
			writeHTTPError(w, r, log, apperr.Transport(http.StatusBadRequest, "UPGRADE_NOT_SUPPORTED",
				"protocol upgrades (WebSocket subscriptions) are not supported"))
			return
		}
		var err *apperr.Error
		switch r.Method {
		case http.MethodOptions:
		case http.MethodGet:
			err = checkGET(r)
		case http.MethodPost:
			err = checkPOST(r)
		default:
			err = apperr.Transport(http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED", "use GET for queries or POST")
		}
		if err != nil {
			writeHTTPError(w, r, log, err)
			return
		}
		next.ServeHTTP(&outcomeWriter{ResponseWriter: w, o: out}, r)
	})
}

// checkPOST reads the body (capped), restores it for gqlgen, and refuses
// anything but one JSON object with the GraphQL request members.
func checkPOST(r *http.Request) *apperr.Error {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return apperr.Transport(http.StatusUnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE",
			"send the request as Content-Type: application/json")
	}
	if r.Body == nil {
		return apperr.Transport(http.StatusBadRequest, "MALFORMED_BODY", "the request body is empty")
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBodyBytes+1))
	if err != nil {
		return apperr.Transport(http.StatusBadRequest, "MALFORMED_BODY", "could not read the request body")
	}
	if len(body) > MaxBodyBytes {
		return apperr.Transport(http.StatusRequestEntityTooLarge, "BODY_TOO_LARGE", fmt.Sprintf("the request body is larger than %d KiB", MaxBodyBytes>>10))
	}
	if t := bytes.TrimLeft(body, " \t\r\n"); len(t) > 0 && t[0] == '[' {
		return apperr.Transport(http.StatusBadRequest, "BATCH_NOT_SUPPORTED", "batched requests are not supported: send one operation per request")
	}
	if e := checkRequestObject(body); e != nil {
		return e
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	return nil
}

// checkRequestObject accepts exactly one JSON object whose query and
// operationName are strings (or null) and whose variables and extensions
// are objects (or null).
func checkRequestObject(body []byte) *apperr.Error {
	malformed := apperr.Transport(http.StatusBadRequest, "MALFORMED_BODY",
		"the request body is not a JSON object of the form {\"query\": \"…\", \"variables\": {…}}")
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var m map[string]json.RawMessage
	if err := dec.Decode(&m); err != nil || m == nil {
		return malformed
	}
	if _, err := dec.Token(); err != io.EOF {
		return malformed // trailing data after the object
	}
	for name, want := range map[string]byte{"query": '"', "operationName": '"', "variables": '{', "extensions": '{'} {
		if v, ok := m[name]; ok && len(v) > 0 && v[0] != want && string(v) != "null" {
			e := apperr.Transport(http.StatusBadRequest, "MALFORMED_BODY", name+" has the wrong JSON type")
			e.Field = name
			return e
		}
	}
	if q, ok := m["query"]; (!ok || string(q) == "null") && !namesPersistedQuery(m["extensions"]) {
		e := apperr.Transport(http.StatusBadRequest, "MALFORMED_BODY", "the request has no query (nor a persisted-query hash in extensions)")
		e.Field = "query"
		return e
	}
	// Bound the variables before gqlgen decodes them into Go values (half
	// a quarter of a million numbers in the body would cost far more than answering).
	for _, name := range []string{"variables", "extensions"} {
		values, depth := jsonShape(m[name])
		switch {
		case values > MaxVariableValues:
			e := apperr.Transport(http.StatusBadRequest, ReasonVariablesTooLarge, fmt.Sprintf("%s hold more than %d values", name, MaxVariableValues))
			e.Field = name
			return e
		case depth > MaxValueNesting:
			e := apperr.Transport(http.StatusBadRequest, ReasonValueTooDeep, fmt.Sprintf("%s nest lists or objects deeper than %d levels", name, MaxValueNesting))
			e.Field = name
			return e
		}
	}
	return nil
}

// jsonShape measures valid JSON in one pass without decoding it: about how
// many values it holds (lists, objects and scalars; members are counted by
// their separators) and how deep lists and objects nest.
func jsonShape(b []byte) (values, depth int) {
	if len(b) == 0 {
		return 0, 0
	}
	values = 1
	cur, inString, escaped := 0, false, false
	for _, c := range b {
		if inString {
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case '[', '{':
			values++
			cur++
			if cur > depth {
				depth = cur
			}
		case ']', '}':
			cur--
		case ',':
			values++
		}
	}
	return values, depth
}

// checkGET refuses undecodable parameters and anything but a query: a GET
// must not change anything (mutations only by POST).
func checkGET(r *http.Request) *apperr.Error {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return apperr.Transport(http.StatusBadRequest, "MALFORMED_QUERY_STRING", "the query string cannot be decoded")
	}
	for _, name := range []string{"variables", "extensions"} {
		if v := q.Get(name); v != "" {
			var m map[string]any
			if json.Unmarshal([]byte(v), &m) != nil {
				e := apperr.Transport(http.StatusBadRequest, "MALFORMED_QUERY_STRING", name+" must be a JSON object")
				e.Field = name
				return e
			}
		}
	}
	if !q.Has("query") && !namesPersistedQuery([]byte(q.Get("extensions"))) {
		e := apperr.Transport(http.StatusBadRequest, "MALFORMED_QUERY_STRING", "the request has no query (nor a persisted-query hash in extensions)")
		e.Field = "query"
		return e
	}
	doc, perr := parser.ParseQueryWithTokenLimit(&ast.Source{Input: q.Get("query")}, MaxParserTokens)
	if perr != nil {
		return nil // gqlgen reports the syntax error
	}
	var op *ast.OperationDefinition
	if name := q.Get("operationName"); name != "" {
		op = doc.Operations.ForName(name)
	} else if len(doc.Operations) == 1 {
		op = doc.Operations[0]
	}
	if op != nil && op.Operation != ast.Query {
		return errMutationByGET
	}
	return nil
}

// namesPersistedQuery reports whether the extensions of a request (a JSON
// object, or nothing) carry a persistedQuery member that is not null: the
// request may then leave the query out.
func namesPersistedQuery(extensions []byte) bool {
	if len(extensions) == 0 {
		return false
	}
	var ext struct {
		PersistedQuery json.RawMessage `json:"persistedQuery"`
	}
	if json.Unmarshal(extensions, &ext) != nil {
		return false
	}
	return len(ext.PersistedQuery) > 0 && string(ext.PersistedQuery) != "null"
}

// outcomeWriter applies the status an error decided (503 for UNAVAILABLE,
// with Retry-After) when the response is written.
type outcomeWriter struct {
	http.ResponseWriter
	o     *outcome
	wrote bool
}

func (w *outcomeWriter) WriteHeader(code int) {
	if w.wrote {
		return
	}
	w.wrote = true
	if status, ra := w.o.get(); status != 0 {
		code = status
		if ra > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(ra))
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *outcomeWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

func (w *outcomeWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// authenticator puts the request's viewer into the context: anonymous
// without credentials; a user for a valid access token whose session is
// live and whose user is ACTIVE. A presented but rejected token leaves the
// request anonymous and marked, so @auth answers UNAUTHENTICATED with a
// reason and @public fields (login) still work. When the store cannot be
// asked, the request is answered UNAVAILABLE (503): a good token must never
// look invalid because the database is down.
type authenticator struct {
	client  *ent.Client
	tokens  *token.Issuer
	now     func() time.Time
	log     *slog.Logger
	proxies trustedProxies
	limiter *ratelimit.Limiter // per-API-key request limit
}

func (a *authenticator) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		now := a.now()
		v := &viewer.Viewer{Kind: viewer.Anonymous, IP: a.proxies.clientIP(r), UserAgent: truncate(r.UserAgent(), 512), RequestID: requestID(ctx)}
		if raw, ok := bearerAPIKey(r.Header.Get("Authorization")); ok {
			switch err := a.authenticateKey(ctx, raw, now, v); {
			case err == nil:
			case errors.Is(err, errBadToken):
				ctx = context.WithValue(ctx, invalidCredentialsKey{}, true)
			default:
				writeHTTPError(w, r, a.log, err)
				return
			}
		} else if h := r.Header.Get("Authorization"); h != "" && isScopedToken(a.tokens, h, now) {
			switch err := a.authenticateScoped(ctx, h, now, v); {
			case err == nil:
			case errors.Is(err, errBadToken):
				ctx = context.WithValue(ctx, invalidCredentialsKey{}, true)
			default:
				writeHTTPError(w, r, a.log, err)
				return
			}
		} else if h != "" {
			user, sid, err := a.authenticate(ctx, h, now)
			switch {
			case err == nil:
				v.Kind = viewer.User
				v.UserID = string(user.ID)
				v.SessionID = sid
				if user.StaffRole != nil {
					v.StaffRole = *user.StaffRole
				}
				v.EmailVerified = user.EmailVerifiedAt != nil
				v.MustChangePassword = user.MustChangePassword
				v.SecondFactorEnabled = authz.SecondFactorEnabled(user)
				v.Access = authz.New(a.client, v, now)
				ctx = context.WithValue(ctx, authenticatedUserKey{}, user)
			case errors.Is(err, errBadToken):
				ctx = context.WithValue(ctx, invalidCredentialsKey{}, true)
			default:
				writeHTTPError(w, r, a.log, err)
				return
			}
		}
		next.ServeHTTP(w, r.WithContext(viewer.NewContext(ctx, v)))
	})
}

// errBadToken is a token that is not accepted (malformed, expired, its
// session ended, its user no longer active).
var errBadToken = errors.New("bad access token")

// authenticatedUserKey holds the *ent.UserAccount the authenticator read
// for a USER principal in this request, so that `me` does not read it again.
type authenticatedUserKey struct{}

// authenticatedUser is the viewer's own user as the authenticator read it
// in this request (active, its session live), or nil.
func authenticatedUser(ctx context.Context, id string) *ent.UserAccount {
	u, _ := ctx.Value(authenticatedUserKey{}).(*ent.UserAccount)
	if u == nil || string(u.ID) != id {
		return nil
	}
	return u
}

// authenticate checks the bearer token and its session in one statement
// per request, so a revoked session stops working at once. It returns
// errBadToken for a token that is not accepted and the store's error when
// the store could not answer.
func (a *authenticator) authenticate(ctx context.Context, header string, now time.Time) (*ent.UserAccount, string, error) {
	raw, ok := strings.CutPrefix(header, "Bearer ")
	if !ok {
		return nil, "", errBadToken
	}
	claims, err := a.tokens.Parse(strings.TrimSpace(raw), now)
	if err != nil || claims.Kind != string(viewer.User) {
		return nil, "", errBadToken
	}
	// One statement: the token's user, active, holding the token's session
	// unrevoked and unexpired. Nothing of it is cached across requests, so
	// a revoked session or a deactivated user is refused at once.
	sys := viewer.SystemContext(ctx)
	u, err := a.client.UserAccount.Query().
		Where(useraccount.ID(pulid.ID(claims.Subject)), useraccount.StatusEQ(useraccount.StatusACTIVE),
			useraccount.HasSessionsWith(session.ID(pulid.ID(claims.SessionID)), session.RevokedAtIsNil(), session.ExpiresAtGT(now))).
		Only(sys)
	if ent.IsNotFound(err) {
		return nil, "", errBadToken
	}
	if err != nil {
		return nil, "", err
	}
	return u, claims.SessionID, nil
}

// trustedProxies are the reverse proxies whose X-Forwarded-For is believed
// (PORTIER_TRUSTED_PROXIES). Without any, the client address is the TCP
// peer and X-Forwarded-For is ignored: anyone can write that header.
type trustedProxies []netip.Prefix

func (t trustedProxies) trusts(a netip.Addr) bool {
	for _, p := range t {
		if p.Contains(a.Unmap()) {
			return true
		}
	}
	return false
}

// clientIP is the address per-address rate limits and the audit log use:
// the TCP peer, or — when the peer is a trusted proxy — the right-most
// address of X-Forwarded-For that is not itself a trusted proxy (entries
// to its left were written by the client and prove nothing).
func (t trustedProxies) clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil || len(t) == 0 || !t.trusts(peer) {
		return host
	}
	var hops []string
	for _, h := range r.Header.Values("X-Forwarded-For") {
		hops = append(hops, strings.Split(h, ",")...)
	}
	client := peer
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break // garbage: stop at the last address a trusted hop vouched for
		}
		client = a.Unmap()
		if !t.trusts(client) {
			break
		}
	}
	return client.String()
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
