package tracing

import (
	"context"
	"database/sql"

	"entgo.io/ent/dialect"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

// Driver wraps an ent driver with a span per statement: the SQL text with
// its placeholders, never the parameters.
type Driver struct {
	dialect.Driver
}

// WrapDriver returns d with spans when tracing is on, else d itself.
func WrapDriver(d dialect.Driver) dialect.Driver {
	if !Enabled() {
		return d
	}
	return &Driver{Driver: d}
}

func (d *Driver) system() attribute.KeyValue {
	if d.Dialect() == dialect.Postgres {
		return attribute.String("db.system", "postgresql")
	}
	return attribute.String("db.system", "sqlite")
}

func statementSpan(ctx context.Context, sys attribute.KeyValue, op, query string) (context.Context, trace.Span) {
	return Start(ctx, "db."+op, trace.SpanKindClient, sys, attribute.String("db.statement", query))
}

// Exec implements dialect.Driver.
func (d *Driver) Exec(ctx context.Context, query string, args, v any) error {
	ctx, span := statementSpan(ctx, d.system(), "exec", query)
	err := d.Driver.Exec(ctx, query, args, v)
	End(span, err)
	return err
}

// Query implements dialect.Driver.
func (d *Driver) Query(ctx context.Context, query string, args, v any) error {
	ctx, span := statementSpan(ctx, d.system(), "query", query)
	err := d.Driver.Query(ctx, query, args, v)
	End(span, err)
	return err
}

// Tx implements dialect.Driver.
func (d *Driver) Tx(ctx context.Context) (dialect.Tx, error) {
	tx, err := d.Driver.Tx(ctx)
	if err != nil {
		return nil, err
	}
	return &Tx{Tx: tx, sys: d.system()}, nil
}

// ExecContext is what ent's generated ExecContext needs of a driver.
func (d *Driver) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return execContext(ctx, d.Driver, d.system(), query, args)
}

// QueryContext is what ent's generated QueryContext needs of a driver.
func (d *Driver) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return queryContext(ctx, d.Driver, d.system(), query, args)
}

// Tx is a transaction with a span per statement.
type Tx struct {
	dialect.Tx
	sys attribute.KeyValue
}

// Exec implements dialect.Tx.
func (t *Tx) Exec(ctx context.Context, query string, args, v any) error {
	ctx, span := statementSpan(ctx, t.sys, "exec", query)
	err := t.Tx.Exec(ctx, query, args, v)
	End(span, err)
	return err
}

// Query implements dialect.Tx.
func (t *Tx) Query(ctx context.Context, query string, args, v any) error {
	ctx, span := statementSpan(ctx, t.sys, "query", query)
	err := t.Tx.Query(ctx, query, args, v)
	End(span, err)
	return err
}

type notSupported struct{}

func (notSupported) Error() string { return "tracing: the wrapped driver does not offer this" }

var errNotSupported error = notSupported{}

// ExecContext delegates to the transaction, with a span.
func (t *Tx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return execContext(ctx, t.Tx, t.sys, query, args)
}

// QueryContext delegates to the transaction, with a span.
func (t *Tx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return queryContext(ctx, t.Tx, t.sys, query, args)
}

// execContext runs ExecContext of the wrapped driver or transaction, when
// it has one, in a span.
func execContext(ctx context.Context, wrapped any, sys attribute.KeyValue, query string, args []any) (sql.Result, error) {
	x, ok := wrapped.(interface {
		ExecContext(context.Context, string, ...any) (sql.Result, error)
	})
	if !ok {
		return nil, errNotSupported
	}
	ctx, span := statementSpan(ctx, sys, "exec", query)
	r, err := x.ExecContext(ctx, query, args...)
	End(span, err)
	return r, err
}

// queryContext runs QueryContext of the wrapped driver or transaction,
// when it has one, in a span.
func queryContext(ctx context.Context, wrapped any, sys attribute.KeyValue, query string, args []any) (*sql.Rows, error) {
	x, ok := wrapped.(interface {
		QueryContext(context.Context, string, ...any) (*sql.Rows, error)
	})
	if !ok {
		return nil, errNotSupported
	}
	ctx, span := statementSpan(ctx, sys, "query", query)
	r, err := x.QueryContext(ctx, query, args...)
	End(span, err)
	return r, err
}
