package graph

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"strings"
	"time"

	"portier/ent"
	"portier/ent/session"
	"portier/ent/useraccount"
	"portier/internal/apperr"
	"portier/internal/authz"
	"portier/internal/pulid"
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

func requestID(ctx context.Context) string { id, _ := ctx.Value(requestIDKey{}).(string); return id }

// writeError writes a GraphQL-shaped error response with a code.
func writeError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"errors": []any{map[string]any{"message": msg, "extensions": map[string]any{"code": code}}},
	})
}

// limitBody caps the request body and refuses batched (array) requests.
func limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body != nil && r.Method == http.MethodPost {
			body, err := io.ReadAll(io.LimitReader(r.Body, MaxBodyBytes+1))
			if err != nil {
				writeError(w, http.StatusBadRequest, apperr.CodeBadUserInput, "could not read the request body")
				return
			}
			if len(body) > MaxBodyBytes {
				writeError(w, http.StatusRequestEntityTooLarge, apperr.CodeBadUserInput, "the request body is larger than 1 MiB")
				return
			}
			if t := bytes.TrimLeft(body, " \t\r\n"); len(t) > 0 && t[0] == '[' {
				writeError(w, http.StatusBadRequest, apperr.CodeBadUserInput, "batched requests are not supported: send one operation per request")
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		next.ServeHTTP(w, r)
	})
}

// codeTransportErrors adds extensions.code to the few error responses that
// gqlgen's transports write themselves (unsupported transport or content
// type, undecodable body, a mutation sent by GET), which have none.
func codeTransportErrors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cw := &codeWriter{ResponseWriter: w}
		next.ServeHTTP(cw, r)
		cw.finish()
	})
}

type codeWriter struct {
	http.ResponseWriter
	status  int
	buf     bytes.Buffer
	passing bool
}

func (c *codeWriter) WriteHeader(code int) {
	c.status = code
	if code < 400 {
		c.passing = true
		c.ResponseWriter.WriteHeader(code)
	}
}

func (c *codeWriter) Write(b []byte) (int, error) {
	if c.status == 0 {
		c.WriteHeader(http.StatusOK)
	}
	if c.passing {
		return c.ResponseWriter.Write(b)
	}
	return c.buf.Write(b)
}

func (c *codeWriter) Flush() {
	if f, ok := c.ResponseWriter.(http.Flusher); ok && c.passing {
		f.Flush()
	}
}

func (c *codeWriter) finish() {
	if c.passing || c.status == 0 {
		return
	}
	var resp struct {
		Errors []map[string]any `json:"errors"`
		Data   any              `json:"data"`
	}
	if err := json.Unmarshal(c.buf.Bytes(), &resp); err != nil || len(resp.Errors) == 0 {
		c.ResponseWriter.WriteHeader(c.status)
		_, _ = c.ResponseWriter.Write(c.buf.Bytes())
		return
	}
	for _, e := range resp.Errors {
		ext, _ := e["extensions"].(map[string]any)
		if ext == nil {
			ext = map[string]any{}
			e["extensions"] = ext
		}
		if _, ok := ext["code"]; !ok {
			ext["code"] = apperr.CodeBadUserInput
		}
	}
	out, _ := json.Marshal(resp)
	c.ResponseWriter.Header().Set("Content-Length", "")
	c.ResponseWriter.Header().Del("Content-Length")
	c.ResponseWriter.WriteHeader(c.status)
	_, _ = c.ResponseWriter.Write(out)
}

// authenticator puts the request's viewer into the context: anonymous
// without credentials; a user for a valid access token whose session is
// live and whose user is ACTIVE. A presented but rejected token leaves the
// request anonymous and marked, so @auth answers UNAUTHENTICATED with a
// reason and @public fields (login) still work.
type authenticator struct {
	client *ent.Client
	tokens *token.Issuer
	now    func() time.Time
}

func (a *authenticator) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		now := a.now()
		v := &viewer.Viewer{Kind: viewer.Anonymous, IP: clientIP(r), UserAgent: truncate(r.UserAgent(), 512), RequestID: requestID(ctx)}
		if h := r.Header.Get("Authorization"); h != "" {
			user, sid, ok := a.authenticate(ctx, h, now)
			if ok {
				v.Kind = viewer.User
				v.UserID = string(user.ID)
				v.SessionID = sid
				if user.StaffRole != nil {
					v.StaffRole = *user.StaffRole
				}
				v.EmailVerified = user.EmailVerifiedAt != nil
				v.MustChangePassword = user.MustChangePassword
				v.Access = authz.New(a.client, v, now)
			} else {
				ctx = context.WithValue(ctx, invalidCredentialsKey{}, true)
			}
		}
		next.ServeHTTP(w, r.WithContext(viewer.NewContext(ctx, v)))
	})
}

// authenticate checks the bearer token and its session: two primary-key
// reads per request, so a revoked session stops working at once.
func (a *authenticator) authenticate(ctx context.Context, header string, now time.Time) (*ent.UserAccount, string, bool) {
	raw, ok := strings.CutPrefix(header, "Bearer ")
	if !ok {
		return nil, "", false
	}
	claims, err := a.tokens.Parse(strings.TrimSpace(raw), now)
	if err != nil || claims.Kind != string(viewer.User) {
		return nil, "", false
	}
	sys := viewer.SystemContext(ctx)
	s, err := a.client.Session.Query().
		Where(session.ID(pulid.ID(claims.SessionID)), session.RevokedAtIsNil(), session.ExpiresAtGT(now)).
		Only(sys)
	if err != nil || s.UserID == nil || string(*s.UserID) != claims.Subject {
		return nil, "", false
	}
	u, err := a.client.UserAccount.Query().
		Where(useraccount.ID(*s.UserID), useraccount.StatusEQ(useraccount.StatusACTIVE)).
		Only(sys)
	if err != nil {
		return nil, "", false
	}
	return u, claims.SessionID, true
}

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
