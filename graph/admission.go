package graph

import (
	"log/slog"
	"net/http"
	"runtime"
	"time"

	"portier/internal/apperr"
	"portier/internal/metrics"
)

// ReasonOverloaded marks an UNAVAILABLE answer to a request that waited
// for an execution slot longer than the admission timeout.
const ReasonOverloaded = "OVERLOADED"

// DefaultAdmissionTimeout is how long a request waits for an execution slot
// before it is answered 503 with Retry-After.
const DefaultAdmissionTimeout = 10 * time.Second

// DefaultMaxConcurrentRequests is the number of GraphQL requests executed
// at once when Deps leaves it zero: four per CPU the Go runtime uses.
// Execution is CPU-bound (the database answers a page in a few statements),
// so more at once only adds memory — each request holds its result until
// it is written — and spreads the same CPU over more requests, which
// lengthens every one of them.
func DefaultMaxConcurrentRequests() int { return 4 * runtime.GOMAXPROCS(0) }

// admission bounds the GraphQL requests executing at once (authentication
// included: it reads the database). Others wait in arrival order — a
// channel's blocked senders are served first come, first served — for at
// most timeout; a client that goes away stops waiting. Bounding the work in
// flight is what keeps the server's memory bounded by design under any
// number of clients, and the wait fair is what keeps the tail short.
func admission(limit int, timeout time.Duration, log *slog.Logger, next http.Handler) http.Handler {
	if limit <= 0 {
		limit = DefaultMaxConcurrentRequests()
	}
	if timeout <= 0 {
		timeout = DefaultAdmissionTimeout
	}
	slots := make(chan struct{}, limit)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case slots <- struct{}{}:
		default:
			t := time.NewTimer(timeout)
			select {
			case slots <- struct{}{}:
				t.Stop()
			case <-t.C:
				metrics.Overloaded.Inc()
				e := apperr.Unavailable(1)
				e.Reason = ReasonOverloaded
				e.Message = "the service is busy; try again in a second"
				writeHTTPError(w, r, log, e)
				return
			case <-r.Context().Done():
				t.Stop()
				return // nobody is waiting for an answer
			}
		}
		metrics.InFlight.Inc()
		defer func() { metrics.InFlight.Dec(); <-slots }()
		next.ServeHTTP(w, r)
	})
}
