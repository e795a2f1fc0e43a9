// Package metrics holds Portier's Prometheus metrics and serves them (see
// docs/metrics.md). No label carries a value a user chose or that names a
// person: labels are codes, rule names, channels, results and operation
// names from a bounded set.
package metrics

import (
	"context"
	"database/sql"
	"net/http"
	"regexp"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

const namespace = "portier"

// The process-wide metrics. The packages that do the work count into them;
// each Handler's registry exposes them with the gauges of its database.
var (
	// GraphQLRequests counts the operations gqlgen answered, by operation
	// name (Operation), type and outcome (Outcome).
	GraphQLRequests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "graphql_requests_total",
		Help: "GraphQL operations answered, by operation name, operation type and outcome (ok, or the first error's extensions.code).",
	}, []string{"operation", "type", "outcome"})
	// GraphQLDuration is the time from reading the request to the answer.
	GraphQLDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: namespace, Name: "graphql_request_duration_seconds",
		Help:    "Time to answer a GraphQL operation, by operation name and type.",
		Buckets: []float64{.002, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	}, []string{"operation", "type"})
	// HTTPRequests counts every HTTP answer, by route and status code,
	// including those refused before GraphQL (admission, size, method).
	HTTPRequests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "http_requests_total",
		Help: "HTTP requests answered, by route and status code.",
	}, []string{"route", "code"})
	// InFlight is the GraphQL requests executing now.
	InFlight = prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: namespace, Name: "graphql_requests_in_flight",
		Help: "GraphQL requests executing now (admitted).",
	})
	// Overloaded counts requests refused with 503 OVERLOADED after waiting
	// for admission.
	Overloaded = prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: namespace, Name: "admission_refusals_total",
		Help: "GraphQL requests refused with 503 OVERLOADED after waiting for a slot.",
	})
	// RateLimitRefusals counts attempts refused by a rate limit, by rule.
	RateLimitRefusals = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "rate_limit_refusals_total",
		Help: "Attempts refused by a rate limit, by rule (e.g. login:user, login:ip, code, pin).",
	}, []string{"rule"})
	// Logins counts password logins by result.
	Logins = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "logins_total",
		Help: "Password logins by result: success, second_factor_required, wrong_password, unknown_login, inactive_user, rate_limited.",
	}, []string{"result"})
	// OutboxDeliveries counts delivery attempts, by channel and result.
	OutboxDeliveries = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "outbox_deliveries_total",
		Help: "Outbox delivery attempts by channel (email, sms) and result (sent, retry, failed: given up).",
	}, []string{"channel", "result"})
)

func init() {
	// Every label value known in advance starts at zero, so that rates and
	// alerts work before the first event.
	for _, r := range []string{"success", "second_factor_required", "wrong_password", "unknown_login", "inactive_user", "rate_limited"} {
		Logins.WithLabelValues(r)
	}
	for _, ch := range []string{"email", "sms"} {
		for _, r := range []string{"sent", "retry", "failed"} {
			OutboxDeliveries.WithLabelValues(ch, r)
		}
	}
}

// nameRE is what an operation name must look like to be a label value.
var nameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,63}$`)

// maxOperations bounds the distinct operation names exported; later names
// are counted as "other" (clients choose the names: a client sending a new
// name per request must not grow the metrics without bound).
const maxOperations = 200

// operations are the names kept as label values: read without a lock on
// every request, added under the lock up to maxOperations.
var operations struct {
	seen  sync.Map // name -> struct{}
	mu    sync.Mutex
	count int
}

// Operation is the label value for an operation name: the name itself when
// it is well formed and among the first maxOperations names seen,
// "anonymous" for none, else "other".
func Operation(name string) string {
	if op := KnownOperation(name); op != "other" || !nameRE.MatchString(name) {
		return op
	}
	operations.mu.Lock()
	defer operations.mu.Unlock()
	if _, ok := operations.seen.Load(name); ok {
		return name
	}
	if operations.count >= maxOperations {
		return "other"
	}
	operations.seen.Store(name, struct{}{})
	operations.count++
	return name
}

// KnownOperation is Operation without claiming a new name: a name not
// seen before is "other".
func KnownOperation(name string) string {
	if name == "" {
		return "anonymous"
	}
	if _, ok := operations.seen.Load(name); ok {
		return name
	}
	return "other"
}

var codeRE = regexp.MustCompile(`^[A-Z][A-Z0-9_]{0,47}$`)

// Outcome is the label value for an error code: the code when it looks like
// one of Portier's codes (upper case, digits, underscores), else "OTHER".
func Outcome(code string) string {
	if code == "" {
		return "ok"
	}
	if !codeRE.MatchString(code) {
		return "OTHER"
	}
	return code
}

// Gauges read from the database at scrape time.
type Gauges struct {
	// OutboxBacklog returns the messages waiting (pending or being sent)
	// and the age of the oldest, by channel.
	OutboxBacklog func(ctx context.Context) (map[string]Backlog, error)
	// ActiveSessions returns the sessions neither revoked nor expired.
	ActiveSessions func(ctx context.Context) (int, error)
}

// Backlog is the outbox backlog of one channel.
type Backlog struct {
	Messages  int
	OldestAge time.Duration
}

// NewRegistry returns a registry with the process-wide metrics, the Go
// runtime and process collectors, the pool of db and the gauges.
func NewRegistry(db *sql.DB, g Gauges) *prometheus.Registry {
	r := prometheus.NewRegistry()
	r.MustRegister(GraphQLRequests, GraphQLDuration, HTTPRequests, InFlight, Overloaded,
		RateLimitRefusals, Logins, OutboxDeliveries,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if db != nil {
		r.MustRegister(collectors.NewDBStatsCollector(db, "portier"))
	}
	r.MustRegister(&dbGauges{g: g})
	return r
}

// Handler serves a registry in the Prometheus text format.
func Handler(r *prometheus.Registry) http.Handler {
	return promhttp.HandlerFor(r, promhttp.HandlerOpts{
		// A scrape that cannot reach the database still gets the rest.
		ErrorHandling:       promhttp.ContinueOnError,
		MaxRequestsInFlight: 2,
		Timeout:             10 * time.Second,
	})
}

var (
	backlogDesc = prometheus.NewDesc(namespace+"_outbox_backlog_messages",
		"Outbox messages waiting to be delivered (pending or being sent), by channel.", []string{"channel"}, nil)
	backlogAgeDesc = prometheus.NewDesc(namespace+"_outbox_oldest_waiting_seconds",
		"Age of the oldest outbox message waiting to be delivered, by channel (0 when none waits).", []string{"channel"}, nil)
	sessionsDesc = prometheus.NewDesc(namespace+"_active_sessions",
		"Sessions neither revoked nor expired.", nil, nil)
	gaugeErrDesc = prometheus.NewDesc(namespace+"_metrics_database_errors",
		"1 when this scrape could not read the database-backed gauges.", nil, nil)
)

// dbGauges reads the database-backed gauges at scrape time, each with a
// short timeout: a slow or unreachable database makes the scrape report
// the error gauge, never hang. A reading is reused for gaugeTTL, so that
// scrapes in quick succession (several Prometheus servers, or anyone who
// can reach /metrics) cost the database at most two statements per
// gaugeTTL.
type dbGauges struct {
	g Gauges

	mu      sync.Mutex
	at      time.Time
	metrics []prometheus.Metric
}

const gaugeTTL = 5 * time.Second

func (d *dbGauges) Describe(ch chan<- *prometheus.Desc) {
	ch <- backlogDesc
	ch <- backlogAgeDesc
	ch <- sessionsDesc
	ch <- gaugeErrDesc
}

func (d *dbGauges) Collect(out chan<- prometheus.Metric) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.metrics == nil || time.Since(d.at) >= gaugeTTL {
		d.metrics, d.at = d.read(), time.Now()
	}
	for _, m := range d.metrics {
		out <- m
	}
}

func (d *dbGauges) read() []prometheus.Metric {
	var ms []prometheus.Metric
	sink := metricSlice{&ms}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	failed := 0.0
	if d.g.OutboxBacklog != nil {
		if b, err := d.g.OutboxBacklog(ctx); err != nil {
			failed = 1
		} else {
			for _, channel := range []string{"email", "sms"} {
				sink.send(prometheus.MustNewConstMetric(backlogDesc, prometheus.GaugeValue, float64(b[channel].Messages), channel))
				sink.send(prometheus.MustNewConstMetric(backlogAgeDesc, prometheus.GaugeValue, b[channel].OldestAge.Seconds(), channel))
			}
		}
	}
	if d.g.ActiveSessions != nil {
		if n, err := d.g.ActiveSessions(ctx); err != nil {
			failed = 1
		} else {
			sink.send(prometheus.MustNewConstMetric(sessionsDesc, prometheus.GaugeValue, float64(n)))
		}
	}
	sink.send(prometheus.MustNewConstMetric(gaugeErrDesc, prometheus.GaugeValue, failed))
	return ms
}

// metricSlice collects what read sends, so that read reads like Collect.
type metricSlice struct{ ms *[]prometheus.Metric }

func (s metricSlice) send(m prometheus.Metric) { *s.ms = append(*s.ms, m) }
