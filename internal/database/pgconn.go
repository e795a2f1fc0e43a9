package database

import (
	"context"
	"database/sql/driver"
	"fmt"

	"github.com/lib/pq"
)

// openPostgres returns a connector for dsn whose connections run each
// statement in one round trip to PostgreSQL instead of two.
//
// lib/pq sends a statement with parameters as Parse/Describe, waits for the
// parameter types, then sends Bind/Execute: two round trips, each a write
// and a read on both sides. A nested page runs eight statements; the
// second round trip of each was a sixth of the server's system calls. In
// its binary_parameters mode lib/pq sends Parse, Bind and Execute at once,
// every parameter as text except []byte, which it sends in binary format.
// Portier has no bytea column; its []byte parameters are JSON documents,
// and jsonb's binary format is not JSON text. So the connections hand
// lib/pq every []byte parameter as a string, which PostgreSQL reads as
// text, as it did before. Results are text either way.
//
// Statements a connection runs often are also prepared on it (see
// stmtCache), so that PostgreSQL parses and plans them once per connection
// rather than once per run; stmtCacheSize 0 turns that off.
func openPostgres(dsn string, stmtCacheSize int) (driver.Connector, error) {
	cfg, err := pq.NewConfig(dsn)
	if err != nil {
		return nil, err
	}
	cfg.BinaryParameters = true
	c, err := pq.NewConnectorConfig(cfg)
	if err != nil {
		return nil, err
	}
	return textParamsConnector{Connector: c, stmtCacheSize: stmtCacheSize}, nil
}

type textParamsConnector struct {
	driver.Connector
	stmtCacheSize int
}

// pqConn is what lib/pq's connections offer and textParamsConn passes on.
type pqConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.QueryerContext
	driver.ExecerContext
	driver.Pinger
	driver.SessionResetter
	driver.Validator
	driver.NamedValueChecker
}

func (c textParamsConnector) Connect(ctx context.Context) (driver.Conn, error) {
	cn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	pc, ok := cn.(pqConn)
	if !ok {
		_ = cn.Close()
		return nil, fmt.Errorf("database: the PostgreSQL driver's connection (%T) lacks a method Portier relies on", cn)
	}
	if c.stmtCacheSize <= 0 {
		return textParamsConn{pc}, nil
	}
	return &preparingConn{textParamsConn: textParamsConn{pc}, cache: newStmtCache(c.stmtCacheSize)}, nil
}

// textParamsConn is a lib/pq connection whose []byte parameters are sent as
// text (see openPostgres).
type textParamsConn struct{ pqConn }

// CheckNamedValue converts a parameter as database/sql would (lib/pq's own
// rules first, then the default converter, which calls driver.Valuer), and
// then turns []byte into string. A nil []byte stays NULL.
func (c textParamsConn) CheckNamedValue(nv *driver.NamedValue) error {
	err := c.pqConn.CheckNamedValue(nv)
	if err == driver.ErrSkip {
		nv.Value, err = driver.DefaultParameterConverter.ConvertValue(nv.Value)
	}
	if err != nil {
		return err
	}
	if b, ok := nv.Value.([]byte); ok {
		if b == nil {
			nv.Value = nil
		} else {
			nv.Value = string(b)
		}
	}
	return nil
}
