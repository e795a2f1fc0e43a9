// Package ratelimit limits brute-force attempts (passwords, codes, PINs,
// reset requests) with fixed-window counters kept in the database, so that
// the limits hold across any number of server instances and under
// concurrency.
//
// A bucket is one row of rate_limit_buckets, keyed "rule:key". Take counts
// an attempt with a single atomic upsert that also starts a new window when
// the old one has ended, and returns the new count: the attempt is counted
// before the caller does the guessable work, so N parallel attempts can never
// get more than Limit through. A window always ends; hammering a limited key
// does not extend it (no permanent lockout).
//
// The Limiter must be given the plain client, never one bound to a request's
// transaction: an attempt must stay counted when the request rolls back. On
// SQLite, call Take/Reset before opening a write transaction on another
// connection, or the two wait on each other until the busy timeout.
package ratelimit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	entsql "entgo.io/ent/dialect/sql"

	"portier/ent"
	"portier/ent/ratelimitbucket"
	"portier/internal/apperr"
	"portier/internal/metrics"
	"portier/internal/viewer"
)

// Rule is one kind of limit.
type Rule struct {
	Name   string        // e.g. "login:user", "login:ip", "code", "reset:ip"
	Limit  int           // attempts allowed per window
	Window time.Duration // fixed window length
}

func (r Rule) validate() error {
	switch {
	case r.Name == "" || len(r.Name) > maxNameLen:
		return fmt.Errorf("ratelimit: rule name %q must have 1 to %d bytes", r.Name, maxNameLen)
	case r.Limit < 1:
		return fmt.Errorf("ratelimit: rule %s: limit %d must be at least 1", r.Name, r.Limit)
	case r.Window <= 0:
		return fmt.Errorf("ratelimit: rule %s: window %s must be positive", r.Name, r.Window)
	}
	return nil
}

const (
	maxIDLen   = 300 // rate_limit_buckets.id
	maxKeyLen  = 250 // longer keys are replaced by their SHA-256
	maxNameLen = maxIDLen - 1 - len("sha256:") - 2*sha256.Size
)

// bucketID is rule.Name + ":" + key, with a key that would not fit replaced
// by "sha256:" and its hex SHA-256.
func bucketID(rule Rule, key string) string {
	if len(key) > maxKeyLen || len(rule.Name)+1+len(key) > maxIDLen {
		sum := sha256.Sum256([]byte(key))
		key = "sha256:" + hex.EncodeToString(sum[:])
	}
	return rule.Name + ":" + key
}

// Limiter takes, checks and resets attempts.
type Limiter struct {
	client *ent.Client
	now    func() time.Time
	// noRaw is set once the driver turned out not to offer QueryContext (a
	// wrapped driver, as tests use): Take then runs its upsert and read in
	// a transaction instead of one statement.
	noRaw atomic.Bool
}

// New returns a Limiter on client (the plain client, not a transaction's).
// now is the clock; nil means time.Now.
func New(client *ent.Client, now func() time.Time) *Limiter {
	if now == nil {
		now = time.Now
	}
	return &Limiter{client: client, now: now}
}

// clock returns now in UTC at the database's precision (microseconds, as
// PostgreSQL stores). All times written and compared are UTC, which keeps
// SQLite's text timestamps in one zone, where their order is the time order.
func (l *Limiter) clock() time.Time {
	return l.now().UTC().Round(0).Truncate(time.Microsecond)
}

// Take counts one attempt for key under rule, atomically, and returns nil if
// it is within the limit, else a RATE_LIMITED *apperr.Error whose
// RetryAfter is the seconds until the window ends (rounded up, at least 1).
// Call it before the guessable work (checking a password, a code), not after.
func (l *Limiter) Take(ctx context.Context, rule Rule, key string) error {
	if err := rule.validate(); err != nil {
		return err
	}
	id, now := bucketID(rule, key), l.clock()
	cutoff := now.Add(-rule.Window)
	count, start, err := l.incr(ctx, id, now, cutoff)
	if err != nil {
		return fmt.Errorf("ratelimit: take %s: %w", rule.Name, err)
	}
	if count > rule.Limit {
		metrics.RateLimitRefusals.WithLabelValues(rule.Name).Inc()
		return limited(rule, start, now)
	}
	return nil
}

// Check reports, without counting, whether key is currently limited under
// rule: whether its window holds Limit attempts already, so that the next
// Take would fail. It returns the same error as Take.
func (l *Limiter) Check(ctx context.Context, rule Rule, key string) error {
	if err := rule.validate(); err != nil {
		return err
	}
	now := l.clock()
	b, err := l.client.RateLimitBucket.Get(viewer.SystemContext(ctx), bucketID(rule, key))
	switch {
	case ent.IsNotFound(err):
		return nil
	case err != nil:
		return fmt.Errorf("ratelimit: check %s: %w", rule.Name, err)
	}
	if b.WindowStart.After(now.Add(-rule.Window)) && b.Count >= rule.Limit {
		return limited(rule, b.WindowStart, now)
	}
	return nil
}

// Refund takes back one attempt counted by Take in the current window, for
// an attempt that turned out not to be one that the rule limits (a correct
// support PIN: only failed checks are limited). Taking first and refunding
// after keeps the limit exact under concurrency: at most Limit attempts are
// ever in flight or failed in one window. It never goes below zero and does
// nothing once the window has ended.
func (l *Limiter) Refund(ctx context.Context, rule Rule, key string) error {
	if err := rule.validate(); err != nil {
		return err
	}
	now := l.clock()
	_, err := l.client.RateLimitBucket.Update().
		Where(ratelimitbucket.ID(bucketID(rule, key)), ratelimitbucket.CountGT(0),
			ratelimitbucket.WindowStartGT(now.Add(-rule.Window))).
		AddCount(-1).
		Save(viewer.SystemContext(ctx))
	if err != nil {
		return fmt.Errorf("ratelimit: refund %s: %w", rule.Name, err)
	}
	return nil
}

// Reset forgets the attempts of key under rule (e.g. after a successful
// login).
func (l *Limiter) Reset(ctx context.Context, rule Rule, key string) error {
	if err := rule.validate(); err != nil {
		return err
	}
	_, err := l.client.RateLimitBucket.Delete().
		Where(ratelimitbucket.ID(bucketID(rule, key))).
		Exec(viewer.SystemContext(ctx))
	if err != nil {
		return fmt.Errorf("ratelimit: reset %s: %w", rule.Name, err)
	}
	return nil
}

// Cleanup deletes the buckets whose window started before now-olderThan and
// returns how many. Pass at least the longest rule window: a bucket whose
// window is still running must not be deleted.
func (l *Limiter) Cleanup(ctx context.Context, olderThan time.Duration) (int, error) {
	n, err := l.client.RateLimitBucket.Delete().
		Where(ratelimitbucket.WindowStartLT(l.clock().Add(-olderThan))).
		Exec(viewer.SystemContext(ctx))
	if err != nil {
		return 0, fmt.Errorf("ratelimit: cleanup: %w", err)
	}
	return n, nil
}

func limited(rule Rule, start, now time.Time) error {
	left := min(start.Add(rule.Window).Sub(now), rule.Window) // a clock ahead of ours may have started it
	secs := int((left + time.Second - 1) / time.Second)
	return apperr.RateLimited(max(1, secs))
}

// upsert counts one attempt in one statement: a new bucket starts at 1; an
// existing one whose window has ended (window_start <= $3) restarts at 1
// with window_start = now; otherwise it counts up. Both databases evaluate
// every SET expression against the old row, and lock the row for the
// statement, so concurrent attempts get distinct counts. Times are passed as
// time.Time in UTC. $N parameters work with lib/pq and with modernc SQLite,
// which binds "$N" to the N-th argument.
const upsert = `INSERT INTO rate_limit_buckets (id, window_start, "count") VALUES ($1, $2, 1)
ON CONFLICT (id) DO UPDATE SET
	"count" = CASE WHEN rate_limit_buckets.window_start <= $3 THEN 1 ELSE rate_limit_buckets."count" + 1 END,
	window_start = CASE WHEN rate_limit_buckets.window_start <= $3 THEN $2 ELSE rate_limit_buckets.window_start END
RETURNING "count", window_start`

// errNoQueryContext is the text of the error ent's generated QueryContext
// returns, before touching the database, when its driver does not offer
// QueryContext.
const errNoQueryContext = "Driver.QueryContext is not supported"

func (l *Limiter) incr(ctx context.Context, id string, now, cutoff time.Time) (int, time.Time, error) {
	if !l.noRaw.Load() {
		count, start, err := l.incrRaw(ctx, id, now, cutoff)
		if err == nil || err.Error() != errNoQueryContext {
			return count, start, err
		}
		l.noRaw.Store(true)
	}
	return l.incrTx(ctx, id, now, cutoff)
}

func (l *Limiter) incrRaw(ctx context.Context, id string, now, cutoff time.Time) (int, time.Time, error) {
	rows, err := l.client.QueryContext(ctx, upsert, id, now, cutoff)
	if err != nil {
		return 0, time.Time{}, err
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return 0, time.Time{}, err
		}
		return 0, time.Time{}, errors.New("upsert returned no row")
	}
	var (
		count int
		raw   any
	)
	if err := rows.Scan(&count, &raw); err != nil {
		return 0, time.Time{}, err
	}
	start, err := asTime(raw)
	if err != nil {
		return 0, time.Time{}, err
	}
	return count, start, rows.Close()
}

// asTime converts a scanned timestamp: lib/pq and modernc SQLite (for a
// DATETIME column) return time.Time; text is parsed in the formats modernc
// writes, in case a driver reports RETURNING columns without their type.
func asTime(v any) (time.Time, error) {
	var s string
	switch x := v.(type) {
	case time.Time:
		return x.UTC(), nil
	case string:
		s = x
	case []byte:
		s = string(x)
	default:
		return time.Time{}, fmt.Errorf("window_start: unexpected %T", v)
	}
	for _, f := range []string{
		"2006-01-02 15:04:05.999999999 -0700 MST", // time.Time.String, modernc's default
		"2006-01-02 15:04:05.999999999-07:00",
		"2006-01-02T15:04:05.999999999-07:00",
		"2006-01-02 15:04:05.999999999",
	} {
		if t, err := time.Parse(f, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("window_start: cannot parse %q", s)
}

// incrTx does what upsert does through ent, for drivers without
// QueryContext: the same conditional upsert, then a read of the row, in one
// transaction. The upsert locks the row (PostgreSQL) or the database
// (SQLite) until commit, so the read sees this attempt's count.
func (l *Limiter) incrTx(ctx context.Context, id string, now, cutoff time.Time) (int, time.Time, error) {
	ctx = viewer.SystemContext(ctx)
	tx, err := l.client.Tx(ctx)
	if err != nil {
		return 0, time.Time{}, err
	}
	defer func() { _ = tx.Rollback() }()
	err = tx.RateLimitBucket.Create().
		SetID(id).SetWindowStart(now).SetCount(1).
		OnConflict(
			entsql.ConflictColumns(ratelimitbucket.FieldID),
			entsql.ResolveWith(func(u *entsql.UpdateSet) {
				t := u.Table()
				expired := func(b *entsql.Builder) {
					b.WriteString("CASE WHEN ").WriteString(t.C(ratelimitbucket.FieldWindowStart)).
						WriteString(" <= ").Arg(cutoff).WriteString(" THEN ")
				}
				u.Set(ratelimitbucket.FieldCount, entsql.ExprFunc(func(b *entsql.Builder) {
					expired(b)
					b.WriteString("1 ELSE ").WriteString(t.C(ratelimitbucket.FieldCount)).WriteString(" + 1 END")
				}))
				u.Set(ratelimitbucket.FieldWindowStart, entsql.ExprFunc(func(b *entsql.Builder) {
					expired(b)
					b.Arg(now).WriteString(" ELSE ").WriteString(t.C(ratelimitbucket.FieldWindowStart)).WriteString(" END")
				}))
			}),
		).Exec(ctx)
	if err != nil {
		return 0, time.Time{}, err
	}
	b, err := tx.RateLimitBucket.Get(ctx, id)
	if err != nil {
		return 0, time.Time{}, err
	}
	if err := tx.Commit(); err != nil {
		return 0, time.Time{}, err
	}
	return b.Count, b.WindowStart.UTC(), nil
}
