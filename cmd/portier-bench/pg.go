package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/lib/pq"
)

// cluster is the throwaway PostgreSQL cluster the benchmark runs on,
// reached through a maintenance connection to its postgres database.
type cluster struct {
	db         *sql.DB
	base       *url.URL
	postmaster int  // pid of the postmaster, for the cluster's CPU time
	pgss       bool // pg_stat_statements is loaded and usable
	version    string
}

func openCluster(ctx context.Context, dsn string) (*cluster, error) {
	u, err := url.Parse(dsn)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return nil, fmt.Errorf("the database URL is not a postgres:// URL")
	}
	host := u.Hostname()
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("the cluster must be local (CPU figures are read from /proc), not %s", host)
	}
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(2)
	c := &cluster{db: db, base: u}
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("connect to the cluster: %w", err)
	}
	if err := db.QueryRowContext(ctx, "SHOW server_version").Scan(&c.version); err != nil {
		_ = db.Close()
		return nil, err
	}
	// The backend serving this connection is a child of the postmaster.
	var backend int
	if err := db.QueryRowContext(ctx, "SELECT pg_backend_pid()").Scan(&backend); err != nil {
		_ = db.Close()
		return nil, err
	}
	st, err := readProcStat(backend)
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("the cluster's processes are not readable in /proc (%v): run the benchmark on the machine of the cluster", err)
	}
	c.postmaster = st.ppid
	if _, err := treeCPU(c.postmaster); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("reading the postmaster's CPU time: %w", err)
	}

	var preload string
	_ = db.QueryRowContext(ctx, "SELECT current_setting('shared_preload_libraries')").Scan(&preload)
	if strings.Contains(preload, "pg_stat_statements") {
		if _, err := db.ExecContext(ctx, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements"); err != nil {
			warnf("pg_stat_statements is preloaded but CREATE EXTENSION failed (%v): no SQL statement counts", err)
		} else {
			c.pgss = true
		}
	} else {
		warnf("pg_stat_statements is not in shared_preload_libraries: no SQL statement counts (start the cluster with -c shared_preload_libraries=pg_stat_statements, as make bench does)")
	}
	return c, nil
}

func (c *cluster) close() { _ = c.db.Close() }

// urlFor is the cluster URL with another database.
func (c *cluster) urlFor(dbname string) string {
	u := *c.base
	u.Path = "/" + dbname
	q := u.Query()
	if q.Get("sslmode") == "" {
		q.Set("sslmode", "disable")
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// createDB (re)creates a database, as a copy of template when given.
func (c *cluster) createDB(ctx context.Context, name, template string) error {
	if err := c.dropDB(ctx, name); err != nil {
		return err
	}
	stmt := "CREATE DATABASE " + pq.QuoteIdentifier(name)
	if template != "" {
		stmt += " TEMPLATE " + pq.QuoteIdentifier(template)
	}
	if _, err := c.db.ExecContext(ctx, stmt); err != nil {
		return fmt.Errorf("%s: %w", stmt, err)
	}
	return nil
}

func (c *cluster) dropDB(ctx context.Context, name string) error {
	stmt := "DROP DATABASE IF EXISTS " + pq.QuoteIdentifier(name) + " WITH (FORCE)"
	if _, err := c.db.ExecContext(ctx, stmt); err != nil {
		return fmt.Errorf("%s: %w", stmt, err)
	}
	return nil
}

// resetStatements empties pg_stat_statements.
func (c *cluster) resetStatements(ctx context.Context) error {
	if !c.pgss {
		return nil
	}
	_, err := c.db.ExecContext(ctx, "SELECT pg_stat_statements_reset()")
	return err
}

var errNoStatements = errors.New("pg_stat_statements is not available")

// statements is the number of statements executed in database dbname since
// the last reset (top-level statements, BEGIN and COMMIT included).
func (c *cluster) statements(ctx context.Context, dbname string) (int64, error) {
	if !c.pgss {
		return 0, errNoStatements
	}
	var n int64
	err := c.db.QueryRowContext(ctx, `SELECT coalesce(sum(s.calls), 0)::bigint FROM pg_stat_statements s
		JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = $1`, dbname).Scan(&n)
	return n, err
}

// cpuTicks is the CPU time of the whole cluster so far.
func (c *cluster) cpuTicks() (int64, error) { return treeCPU(c.postmaster) }
