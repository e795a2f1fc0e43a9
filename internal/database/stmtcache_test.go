package database

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/lib/pq"
)

// fakeStmtConn records how each statement was run: prepared ("prep:")
// or not ("direct:").
type fakeStmtConn struct {
	pqConn
	log      []string
	prepared int
	execErr  error
}

type fakeStmt struct {
	c      *fakeStmtConn
	query  string
	closed bool
}

func (s *fakeStmt) Close() error  { s.closed = true; return nil }
func (s *fakeStmt) NumInput() int { return -1 }
func (s *fakeStmt) Exec([]driver.Value) (driver.Result, error) {
	return nil, errors.New("not used")
}
func (s *fakeStmt) Query([]driver.Value) (driver.Rows, error) { return nil, errors.New("not used") }
func (s *fakeStmt) QueryContext(_ context.Context, _ []driver.NamedValue) (driver.Rows, error) {
	s.c.log = append(s.c.log, "prep:"+s.query)
	return nil, s.c.execErr
}
func (s *fakeStmt) ExecContext(_ context.Context, _ []driver.NamedValue) (driver.Result, error) {
	s.c.log = append(s.c.log, "prep:"+s.query)
	return nil, s.c.execErr
}

func (c *fakeStmtConn) PrepareContext(_ context.Context, q string) (driver.Stmt, error) {
	c.prepared++
	return &fakeStmt{c: c, query: q}, nil
}
func (c *fakeStmtConn) QueryContext(_ context.Context, q string, _ []driver.NamedValue) (driver.Rows, error) {
	c.log = append(c.log, "direct:"+q)
	return nil, nil
}
func (c *fakeStmtConn) ExecContext(_ context.Context, q string, _ []driver.NamedValue) (driver.Result, error) {
	c.log = append(c.log, "direct:"+q)
	return nil, nil
}

func TestPreparingConn(t *testing.T) {
	ctx := context.Background()
	arg := []driver.NamedValue{{Ordinal: 1, Value: "x"}}
	newConn := func(size int) (*preparingConn, *fakeStmtConn) {
		f := &fakeStmtConn{}
		return &preparingConn{textParamsConn: textParamsConn{f}, cache: newStmtCache(size)}, f
	}

	t.Run("prepared after it ran twice, then always", func(t *testing.T) {
		c, f := newConn(4)
		for range 4 {
			_, _ = c.QueryContext(ctx, "Q", arg)
		}
		_, _ = c.ExecContext(ctx, "Q", arg)
		want := []string{"direct:Q", "direct:Q", "prep:Q", "prep:Q", "prep:Q"}
		if fmt.Sprint(f.log) != fmt.Sprint(want) || f.prepared != 1 {
			t.Fatalf("ran %v with %d prepares, want %v with 1", f.log, f.prepared, want)
		}
	})

	t.Run("without parameters never prepared", func(t *testing.T) {
		c, f := newConn(4)
		for range 5 {
			_, _ = c.QueryContext(ctx, "BEGIN", nil)
			_, _ = c.ExecContext(ctx, "COMMIT", nil)
		}
		if f.prepared != 0 {
			t.Fatalf("%d statements prepared", f.prepared)
		}
	})

	t.Run("a full cache prepares no more", func(t *testing.T) {
		c, f := newConn(2)
		for _, q := range []string{"A", "B", "C"} {
			for range 4 {
				_, _ = c.QueryContext(ctx, q, arg)
			}
		}
		if f.prepared != 2 || f.log[len(f.log)-1] != "direct:C" || len(c.cache.stmts) != 2 {
			t.Fatalf("%d prepared, last run %s, cache %d", f.prepared, f.log[len(f.log)-1], len(c.cache.stmts))
		}
	})

	t.Run("a long statement is never prepared", func(t *testing.T) {
		c, f := newConn(4)
		long := "SELECT 1 WHERE x IN (" + strings.Repeat("$1, ", maxPreparedLen/4) + "$1)"
		for range 5 {
			_, _ = c.QueryContext(ctx, long, arg)
		}
		if f.prepared != 0 {
			t.Fatalf("a %d-byte statement was prepared", len(long))
		}
	})

	t.Run("statements run once are counted in bounded memory", func(t *testing.T) {
		c, f := newConn(4)
		for i := range 3 * maxSeen {
			_, _ = c.QueryContext(ctx, fmt.Sprintf("SELECT %d", i), arg)
		}
		if len(c.cache.seen) > maxSeen || f.prepared != 0 {
			t.Fatalf("%d counted, %d prepared", len(c.cache.seen), f.prepared)
		}
	})

	t.Run("a statement whose run failed is closed and prepared again", func(t *testing.T) {
		for _, tc := range []struct {
			name   string
			err    error
			closed bool
		}{
			{"result type changed", &pq.Error{Code: "0A000", Message: "cached plan must not change result type"}, true},
			{"parameter type changed", &pq.Error{Code: "42804", Message: "column is of type jsonb but expression is of type text"}, true},
			{"connection lost", driver.ErrBadConn, false},
		} {
			c, f := newConn(4)
			for range 3 {
				_, _ = c.QueryContext(ctx, "Q", arg)
			}
			st := c.cache.stmts["Q"].(*fakeStmt)
			f.execErr = tc.err
			if _, err := c.QueryContext(ctx, "Q", arg); err == nil {
				t.Fatalf("%s: the error was swallowed", tc.name)
			}
			if _, ok := c.cache.stmts["Q"]; ok || st.closed != tc.closed {
				t.Fatalf("%s: still cached %v, closed %v (want %v)", tc.name, ok, st.closed, tc.closed)
			}
			f.execErr = nil
			for range 3 {
				_, _ = c.ExecContext(ctx, "Q", arg)
			}
			if _, ok := c.cache.stmts["Q"]; !ok || f.prepared != 2 {
				t.Fatalf("%s: not prepared again (prepared %d times)", tc.name, f.prepared)
			}
		}
	})
}
