package database

import (
	"context"
	"database/sql/driver"
	"errors"
	"hash/maphash"

	"github.com/lib/pq"
)

// DefaultStatementCacheSize is how many statements each PostgreSQL
// connection keeps prepared (PORTIER_DB_STATEMENT_CACHE).
const DefaultStatementCacheSize = 64

// preparedAfter is how many times a connection runs a statement unprepared
// before it prepares it: a statement built for one request only (an IN list
// of a length seen once) never costs the extra round trip of preparing.
const preparedAfter = 2

// maxSeen bounds the statements a connection counts before preparing any:
// past it the counts start again. They are counted by a hash of their text,
// not the text (an IN list of a thousand parameters is 7 KB), so the counts
// cost at most a few kilobytes per connection; two texts with the same hash
// only make one of them prepared a run early.
const maxSeen = 1024

// maxPreparedLen is the longest statement text prepared: the cache keeps
// the texts, at most size × 4 KiB per connection. Longer ones are IN lists
// of hundreds of parameters, which PostgreSQL plans on every run anyway.
const maxPreparedLen = 4096

// seed hashes statement texts for the counts.
var seed = maphash.MakeSeed()

// A stmtCache is one connection's prepared statements, by query text, and
// how often it has run the ones not (yet) prepared.
//
// Before, every statement with parameters was parsed, analysed and planned
// by PostgreSQL on every run: measured on a nested page of 20 accounts,
// planning alone was 0.8 ms of the 4.5 ms PostgreSQL spent per request, and
// for the authentication statement four times its execution
// (docs/performance.md). A prepared statement is parsed once per
// connection, and PostgreSQL plans it once it finds a generic plan as good
// as the custom ones (after five runs).
//
// The cache fills and then stays as it is: a connection never closes a
// statement to make room (which would cost a round trip); statements
// beyond the cache run unprepared, as all did before. PostgreSQL holds at
// most size statements per connection, and a connection is replaced after
// half an hour (database.go).
type stmtCache struct {
	size  int
	stmts map[string]driver.Stmt
	seen  map[uint64]uint8
}

func newStmtCache(size int) *stmtCache {
	return &stmtCache{size: size, stmts: map[string]driver.Stmt{}, seen: map[uint64]uint8{}}
}

// preparingConn is a textParamsConn that runs the statements it has run
// often as prepared statements. database/sql uses a connection from one
// goroutine at a time, so the cache needs no lock.
type preparingConn struct {
	textParamsConn
	cache *stmtCache
}

// stmt returns the prepared statement for query, preparing it when it has
// been run often enough and there is room; nil means run it unprepared.
func (c *preparingConn) stmt(ctx context.Context, query string) (driver.Stmt, error) {
	if st, ok := c.cache.stmts[query]; ok {
		return st, nil
	}
	if len(c.cache.stmts) >= c.cache.size || len(query) > maxPreparedLen {
		return nil, nil
	}
	h := maphash.String(seed, query)
	if n := c.cache.seen[h]; n < preparedAfter {
		if len(c.cache.seen) >= maxSeen {
			clear(c.cache.seen)
		}
		c.cache.seen[h] = n + 1
		return nil, nil
	}
	st, err := c.pqConn.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	delete(c.cache.seen, h)
	c.cache.stmts[query] = st
	return st, nil
}

// forget drops query's statement after a run of it failed. A prepared
// statement keeps what PostgreSQL worked out when it was prepared: after a
// migration changed a column's type, the result type no longer holds
// ("cached plan must not change result type", 0A000), or a parameter still
// has the old type (42804, 22003 for a value the old type cannot hold), and
// every later run would fail the same way on this connection. Which errors
// those are is not worth guessing: any failed run drops the statement, and
// the next runs prepare it anew (errors are rare; a wrong guess would be
// a connection that fails until it is replaced). When PostgreSQL answered
// (a *pq.Error: the connection works) the statement is closed there too,
// which PostgreSQL accepts even in a failed transaction.
func (c *preparingConn) forget(query string, st driver.Stmt, err error) {
	delete(c.cache.stmts, query)
	var pqErr *pq.Error
	if errors.As(err, &pqErr) {
		_ = st.Close()
	}
}

// QueryContext runs query as its prepared statement when there is one.
// Without parameters lib/pq uses the simple protocol, one round trip with
// nothing to plan again, so such a query is never prepared.
func (c *preparingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	if len(args) == 0 {
		return c.pqConn.QueryContext(ctx, query, args)
	}
	st, err := c.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	sq, ok := st.(driver.StmtQueryContext)
	if !ok {
		return c.pqConn.QueryContext(ctx, query, args)
	}
	rows, err := sq.QueryContext(ctx, args)
	if err != nil {
		c.forget(query, st, err)
	}
	return rows, err
}

// ExecContext is QueryContext for statements that return no rows.
func (c *preparingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	if len(args) == 0 {
		return c.pqConn.ExecContext(ctx, query, args)
	}
	st, err := c.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	se, ok := st.(driver.StmtExecContext)
	if !ok {
		return c.pqConn.ExecContext(ctx, query, args)
	}
	res, err := se.ExecContext(ctx, args)
	if err != nil {
		c.forget(query, st, err)
	}
	return res, err
}
