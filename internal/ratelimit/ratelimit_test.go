package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"portier/internal/apperr"
	"portier/internal/database"
	"portier/internal/testutil"
	"portier/internal/viewer"
)

// fakeClock is a settable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// openMu serialises opening databases: ent's migration (Schema.Create,
// called by database.Open) writes the package-level table descriptions of
// ent/migrate, so concurrent opens race (and can hit concurrent map writes).
var openMu sync.Mutex

func openDB(t *testing.T, opts ...database.Option) *database.DB {
	t.Helper()
	openMu.Lock()
	defer openMu.Unlock()
	return testutil.OpenDB(t, opts...)
}

// modes runs each test on the production path (one raw upsert statement)
// and on the fallback for drivers without QueryContext (a transaction
// through ent), which a wrapped driver such as the statement counter forces.
var modes = []struct {
	name string
	opts func() []database.Option
}{
	{"statement", func() []database.Option { return nil }},
	{"transaction", func() []database.Option {
		opt, _ := testutil.NewStatementCounter()
		return []database.Option{opt}
	}},
}

func forModes(t *testing.T, f func(t *testing.T, l *Limiter, clk *fakeClock)) {
	t.Helper()
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			db := openDB(t, m.opts()...)
			// Not on a whole second: fractional seconds must compare right.
			clk := &fakeClock{t: time.Date(2031, 5, 6, 7, 8, 9, 123456000, time.UTC)}
			l := New(db.Client, clk.Now)
			f(t, l, clk)
			if want := m.name == "transaction"; l.noRaw.Load() != want {
				t.Errorf("fallback used = %v, want %v", l.noRaw.Load(), want)
			}
		})
	}
}

// wantLimited fails unless err is RATE_LIMITED with retryAfter in [lo, hi].
func wantLimited(t *testing.T, err error, lo, hi int) {
	t.Helper()
	var ae *apperr.Error
	if !errors.As(err, &ae) || ae.Code != apperr.CodeRateLimited {
		t.Fatalf("want RATE_LIMITED, got %v", err)
	}
	if ae.RetryAfter < lo || ae.RetryAfter > hi {
		t.Fatalf("retryAfterSeconds = %d, want %d..%d", ae.RetryAfter, lo, hi)
	}
	if ext := ae.Extensions(); ext["retryAfterSeconds"] != ae.RetryAfter {
		t.Fatalf("extensions %v", ext)
	}
}

func wantOK(t *testing.T, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func takeN(t *testing.T, l *Limiter, r Rule, key string, n int) {
	t.Helper()
	for i := range n {
		wantOK(t, l.Take(context.Background(), r, key), fmt.Sprintf("take %d of %d", i+1, n))
	}
}

func TestLimitReached(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, l *Limiter, clk *fakeClock) {
		ctx := context.Background()
		r := Rule{Name: "login:user", Limit: 3, Window: time.Minute}
		takeN(t, l, r, "usr_1", 3)
		wantLimited(t, l.Take(ctx, r, "usr_1"), 60, 60)
		clk.Add(20*time.Second + 500*time.Millisecond)
		wantLimited(t, l.Take(ctx, r, "usr_1"), 40, 40) // 39.5 s rounded up
		clk.Add(39 * time.Second)
		wantLimited(t, l.Take(ctx, r, "usr_1"), 1, 1) // 0.5 s left
		// Hammering does not extend the window.
		clk.Add(500*time.Millisecond - time.Microsecond)
		wantLimited(t, l.Take(ctx, r, "usr_1"), 1, 1) // 1 µs left
	})
}

func TestWindowExpires(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, l *Limiter, clk *fakeClock) {
		ctx := context.Background()
		r := Rule{Name: "code", Limit: 2, Window: 90 * time.Second}
		takeN(t, l, r, "chl_1", 2)
		clk.Add(90*time.Second - time.Microsecond)
		wantLimited(t, l.Take(ctx, r, "chl_1"), 1, 1)
		wantLimited(t, l.Check(ctx, r, "chl_1"), 1, 1)
		clk.Add(time.Microsecond) // exactly at the end of the window
		wantOK(t, l.Check(ctx, r, "chl_1"), "check after the window")
		// A new window starts now with a fresh count.
		takeN(t, l, r, "chl_1", 2)
		wantLimited(t, l.Take(ctx, r, "chl_1"), 90, 90)

		// Across a whole-second boundary, and long after.
		clk.Set(time.Date(2031, 5, 7, 0, 0, 0, 0, time.UTC))
		takeN(t, l, r, "chl_1", 2)
		clk.Add(89*time.Second + 999_999*time.Microsecond)
		wantLimited(t, l.Take(ctx, r, "chl_1"), 1, 1)
		clk.Add(time.Microsecond)
		takeN(t, l, r, "chl_1", 2)
		clk.Add(400 * 24 * time.Hour)
		takeN(t, l, r, "chl_1", 2)
	})
}

// The clock may be in any zone and carry a monotonic reading: everything is
// stored in UTC.
func TestClockZone(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, l *Limiter, clk *fakeClock) {
		ctx := context.Background()
		berlin, err := time.LoadLocation("Europe/Berlin")
		if err != nil {
			t.Skip("no tzdata:", err)
		}
		r := Rule{Name: "zone", Limit: 1, Window: time.Hour}
		clk.Set(time.Date(2031, 5, 6, 23, 30, 0, 0, berlin)) // 21:30 UTC
		takeN(t, l, r, "k", 1)
		wantLimited(t, l.Take(ctx, r, "k"), 3600, 3600)
		clk.Set(time.Date(2031, 5, 6, 22, 29, 0, 0, time.UTC))
		wantLimited(t, l.Take(ctx, r, "k"), 60, 60)
		clk.Set(time.Date(2031, 5, 7, 0, 30, 0, 0, berlin)) // 22:30 UTC
		takeN(t, l, r, "k", 1)
	})
}

func TestRealClock(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	l := New(db.Client, nil)
	ctx := context.Background()
	r := Rule{Name: "real", Limit: 1, Window: 10 * time.Minute}
	wantOK(t, l.Take(ctx, r, "k"), "first")
	wantLimited(t, l.Take(ctx, r, "k"), 599, 600)
}

func TestConcurrentTakes(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, l *Limiter, _ *fakeClock) {
		r := Rule{Name: "login:ip", Limit: 5, Window: time.Minute}
		for round, key := range []string{"203.0.113.7", "203.0.113.7", "198.51.100.1"} {
			if round == 1 {
				wantOK(t, l.Reset(context.Background(), r, key), "reset")
			}
			var (
				wg              sync.WaitGroup
				mu              sync.Mutex
				passed, limited int
				other           []error
			)
			start := make(chan struct{})
			for range 50 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					err := l.Take(context.Background(), r, key)
					var ae *apperr.Error
					mu.Lock()
					defer mu.Unlock()
					switch {
					case err == nil:
						passed++
					case errors.As(err, &ae) && ae.Code == apperr.CodeRateLimited:
						limited++
					default:
						other = append(other, err)
					}
				}()
			}
			close(start)
			wg.Wait()
			if passed != 5 || limited != 45 || len(other) > 0 {
				t.Fatalf("round %d: %d passed, %d limited, other errors %v; want 5, 45, none", round, passed, limited, other)
			}
		}
	})
}

func TestReset(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, l *Limiter, _ *fakeClock) {
		ctx := context.Background()
		r := Rule{Name: "login:user", Limit: 2, Window: time.Hour}
		wantOK(t, l.Reset(ctx, r, "nobody"), "reset of an unknown key")
		takeN(t, l, r, "usr_1", 2)
		wantLimited(t, l.Take(ctx, r, "usr_1"), 3600, 3600)
		wantOK(t, l.Reset(ctx, r, "usr_1"), "reset")
		wantOK(t, l.Check(ctx, r, "usr_1"), "check after reset")
		takeN(t, l, r, "usr_1", 2)
		wantLimited(t, l.Take(ctx, r, "usr_1"), 3600, 3600)
	})
}

func TestCheckDoesNotCount(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, l *Limiter, clk *fakeClock) {
		ctx := context.Background()
		r := Rule{Name: "pin", Limit: 3, Window: time.Minute}
		for range 10 {
			wantOK(t, l.Check(ctx, r, "k"), "check")
		}
		takeN(t, l, r, "k", 2)
		for range 10 {
			wantOK(t, l.Check(ctx, r, "k"), "check with one attempt left")
		}
		takeN(t, l, r, "k", 1)
		clk.Add(15 * time.Second)
		wantLimited(t, l.Check(ctx, r, "k"), 45, 45)
		wantLimited(t, l.Take(ctx, r, "k"), 45, 45)
		wantLimited(t, l.Check(ctx, r, "k"), 45, 45)
	})
}

func TestIndependence(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, l *Limiter, _ *fakeClock) {
		ctx := context.Background()
		user := Rule{Name: "login:user", Limit: 1, Window: time.Minute}
		ip := Rule{Name: "login:ip", Limit: 1, Window: time.Minute}
		takeN(t, l, user, "a", 1)
		wantLimited(t, l.Take(ctx, user, "a"), 60, 60)
		// Other keys under the same rule.
		takeN(t, l, user, "b", 1)
		takeN(t, l, user, "A", 1)
		takeN(t, l, user, "a ", 1)
		// The same key under other rules.
		takeN(t, l, ip, "a", 1)
		wantLimited(t, l.Take(ctx, ip, "a"), 60, 60)
		takeN(t, l, Rule{Name: "login", Limit: 1, Window: time.Minute}, "user:a2", 1)
		// Resetting one leaves the others.
		wantOK(t, l.Reset(ctx, ip, "a"), "reset")
		wantLimited(t, l.Take(ctx, user, "a"), 60, 60)
		takeN(t, l, ip, "a", 1)
	})
}

func TestLongKeys(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, l *Limiter, _ *fakeClock) {
		ctx := context.Background()
		r := Rule{Name: "login:email", Limit: 1, Window: time.Minute}
		long := strings.Repeat("x", 5000)
		keys := []string{
			strings.Repeat("k", 250),
			strings.Repeat("k", 251),
			long + "1",
			long + "2",
			strings.Repeat("ü", 200), // 400 bytes
		}
		for _, k := range keys {
			takeN(t, l, r, k, 1)
		}
		for _, k := range keys {
			wantLimited(t, l.Take(ctx, r, k), 60, 60)
			wantLimited(t, l.Check(ctx, r, k), 60, 60)
		}
		wantOK(t, l.Reset(ctx, r, keys[2]), "reset long key")
		takeN(t, l, r, keys[2], 1)
		wantLimited(t, l.Take(ctx, r, keys[3]), 60, 60)

		// A long rule name leaves less room for the key.
		lr := Rule{Name: strings.Repeat("n", maxNameLen), Limit: 1, Window: time.Minute}
		takeN(t, l, lr, strings.Repeat("k", 200), 1)
		wantLimited(t, l.Take(ctx, lr, strings.Repeat("k", 200)), 60, 60)
	})
}

func TestBucketID(t *testing.T) {
	t.Parallel()
	r := Rule{Name: "login:user", Limit: 1, Window: time.Minute}
	if got := bucketID(r, "usr_1"); got != "login:user:usr_1" {
		t.Errorf("bucketID = %q", got)
	}
	for _, n := range []int{0, 250, 251, 10000} {
		for _, name := range []string{"x", strings.Repeat("n", maxNameLen)} {
			if id := bucketID(Rule{Name: name}, strings.Repeat("k", n)); len(id) > maxIDLen {
				t.Errorf("name %d, key %d: id has %d bytes", len(name), n, len(id))
			}
		}
	}
	if a, b := bucketID(r, strings.Repeat("a", 300)+"1"), bucketID(r, strings.Repeat("a", 300)+"2"); a == b {
		t.Error("long keys with a common prefix collide")
	}
}

func TestInvalidRule(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	l := New(db.Client, nil)
	ctx := context.Background()
	for _, r := range []Rule{
		{Name: "", Limit: 1, Window: time.Minute},
		{Name: strings.Repeat("n", maxNameLen+1), Limit: 1, Window: time.Minute},
		{Name: "x", Limit: 0, Window: time.Minute},
		{Name: "x", Limit: 1, Window: 0},
	} {
		for what, err := range map[string]error{
			"take": l.Take(ctx, r, "k"), "check": l.Check(ctx, r, "k"), "reset": l.Reset(ctx, r, "k"),
		} {
			var ae *apperr.Error
			if err == nil || errors.As(err, &ae) {
				t.Errorf("%s with rule %+v: want a plain error, got %v", what, r, err)
			}
		}
	}
}

func TestCleanup(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, l *Limiter, clk *fakeClock) {
		ctx := context.Background()
		r := Rule{Name: "reset:ip", Limit: 5, Window: time.Hour}
		takeN(t, l, r, "old", 1)
		clk.Add(2 * time.Hour)
		takeN(t, l, r, "mid", 1)
		clk.Add(50 * time.Minute)
		takeN(t, l, r, "new", 2)
		n, err := l.Cleanup(ctx, time.Hour)
		wantOK(t, err, "cleanup")
		if n != 1 {
			t.Errorf("cleanup deleted %d, want 1", n)
		}
		ids, err := l.client.RateLimitBucket.Query().IDs(viewer.SystemContext(ctx))
		wantOK(t, err, "list")
		if len(ids) != 2 || strings.Contains(strings.Join(ids, ","), "old") {
			t.Errorf("left %v", ids)
		}
		// "new" keeps its count.
		takeN(t, l, r, "new", 3)
		wantLimited(t, l.Take(ctx, r, "new"), 3600, 3600)
	})
}
