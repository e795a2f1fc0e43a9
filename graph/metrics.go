package graph

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"portier/ent"
	"portier/ent/outboxmessage"
	"portier/ent/session"
	"portier/internal/metrics"
	"portier/internal/tracing"
	"portier/internal/viewer"
)

// NewMetricsHandler serves /metrics for d's database: the process-wide
// counters and the database-backed gauges (docs/metrics.md).
func NewMetricsHandler(d Deps) http.Handler {
	now := d.Now
	if now == nil {
		now = defaultNow
	}
	return metrics.Handler(metrics.NewRegistry(d.DB, metrics.Gauges{
		OutboxBacklog: func(ctx context.Context) (map[string]metrics.Backlog, error) {
			return outboxBacklog(ctx, d.Client, now)
		},
		ActiveSessions: func(ctx context.Context) (int, error) { return activeSessions(ctx, d.Client, now) },
	}))
}

// outboxBacklog counts the messages waiting per channel and the age of the
// oldest: one grouped statement on the (status, next_attempt_at) index.
func outboxBacklog(ctx context.Context, c *ent.Client, now func() time.Time) (map[string]metrics.Backlog, error) {
	var rows []struct {
		Channel string    `json:"channel"`
		Count   int       `json:"count"`
		Oldest  time.Time `json:"oldest"`
	}
	err := c.OutboxMessage.Query().
		Where(outboxmessage.StatusIn(outboxmessage.StatusPENDING, outboxmessage.StatusSENDING)).
		GroupBy(outboxmessage.FieldChannel).
		Aggregate(ent.Count(), ent.As(ent.Min(outboxmessage.FieldCreatedAt), "oldest")).
		Scan(viewer.SystemContext(ctx), &rows)
	if err != nil {
		return nil, err
	}
	out := map[string]metrics.Backlog{}
	t := now()
	for _, r := range rows {
		b := metrics.Backlog{Messages: r.Count}
		if !r.Oldest.IsZero() && t.After(r.Oldest) {
			b.OldestAge = t.Sub(r.Oldest)
		}
		switch r.Channel {
		case string(outboxmessage.ChannelEMAIL):
			out["email"] = b
		case string(outboxmessage.ChannelSMS):
			out["sms"] = b
		}
	}
	return out, nil
}

func activeSessions(ctx context.Context, c *ent.Client, now func() time.Time) (int, error) {
	return c.Session.Query().Where(session.RevokedAtIsNil(), session.ExpiresAtGT(now())).Count(viewer.SystemContext(ctx))
}

// requestMetrics counts every operation gqlgen answers (parse and
// validation failures too) by operation name, type and outcome, and times
// it. It is the outermost extension.
type requestMetrics struct{}

var (
	_ graphql.HandlerExtension    = requestMetrics{}
	_ graphql.ResponseInterceptor = requestMetrics{}
)

func (requestMetrics) ExtensionName() string                   { return "RequestMetrics" }
func (requestMetrics) Validate(graphql.ExecutableSchema) error { return nil }

func (requestMetrics) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	start := time.Now()
	ctx, span := tracing.Start(ctx, "graphql.operation", trace.SpanKindInternal)
	resp := next(ctx)
	name, typ := "", "unknown"
	if graphql.HasOperationContext(ctx) {
		oc := graphql.GetOperationContext(ctx)
		if !oc.Stats.Read.Start.IsZero() {
			start = oc.Stats.Read.Start
		}
		// The name of an operation that parsed and validated, never the
		// request's operationName as sent: a failed request names nothing.
		if oc.Operation != nil {
			typ = string(oc.Operation.Operation)
			name = oc.Operation.Name
		}
	}
	code := ""
	if resp != nil && len(resp.Errors) > 0 {
		code = "INTERNAL"
		if c, ok := resp.Errors[0].Extensions["code"].(string); ok {
			code = c
		}
	}
	// Only an authenticated principal may make a name new to the metrics
	// (there are at most 200): anonymous clients could otherwise fill them
	// with names of their own before the real clients' names are seen.
	op := metrics.KnownOperation(name)
	if viewer.FromContext(ctx).Kind != viewer.Anonymous {
		op = metrics.Operation(name)
	}
	if span != nil {
		outcome := metrics.Outcome(code)
		span.SetName("graphql " + typ + " " + op)
		var failed error
		if code != "" {
			failed = errOperationFailed
		}
		tracing.End(span, failed, attribute.String("graphql.operation.name", op),
			attribute.String("graphql.operation.type", typ), attribute.String("portier.outcome", outcome))
	}
	metrics.GraphQLRequests.WithLabelValues(op, typ, metrics.Outcome(code)).Inc()
	metrics.GraphQLDuration.WithLabelValues(op, typ).Observe(time.Since(start).Seconds())
	return resp
}

// statusRecorder remembers the status code written.
type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.code == 0 {
		s.code = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.code == 0 {
		s.code = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// countHTTP counts every answer by route (a fixed set) and status code,
// and traces it when tracing is on (continuing the caller's trace from a
// W3C traceparent header).
func countHTTP(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		route := "other"
		switch r.URL.Path {
		case "/graphql", "/healthz", "/readyz", "/metrics", "/":
			route = r.URL.Path
		}
		var span trace.Span
		if tracing.Enabled() {
			ctx := tracing.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
			ctx, span = tracing.Start(ctx, r.Method+" "+route, trace.SpanKindServer,
				attribute.String("http.request.method", r.Method), attribute.String("http.route", route))
			r = r.WithContext(ctx)
		}
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		code := rec.code
		if code == 0 {
			code = http.StatusOK
		}
		metrics.HTTPRequests.WithLabelValues(route, statusText(code)).Inc()
		if span != nil {
			var failed error
			if code >= 500 {
				failed = errOperationFailed
			}
			tracing.End(span, failed, attribute.Int("http.response.status_code", code))
		}
	})
}

var errOperationFailed = errors.New("failed")

// statusText is the code as a label value, without an allocation for the
// common ones.
func statusText(code int) string {
	switch code {
	case 200:
		return "200"
	case 204:
		return "204"
	case 400:
		return "400"
	case 401:
		return "401"
	case 404:
		return "404"
	case 405:
		return "405"
	case 413:
		return "413"
	case 415:
		return "415"
	case 503:
		return "503"
	}
	if code < 100 || code > 599 {
		return "other"
	}
	return itoa3(code)
}

func itoa3(n int) string {
	return string([]byte{byte('0' + n/100), byte('0' + n/10%10), byte('0' + n%10)})
}
