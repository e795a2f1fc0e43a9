// Package tracing sends OpenTelemetry traces of requests, resolvers and SQL
// statements to an OTLP endpoint, when one is configured (see
// docs/metrics.md, "Tracing"). Without one nothing is traced and the hooks
// cost a branch.
//
// Spans carry no secrets and no personal data: operation names and types,
// field paths, error codes and the SQL text with its placeholders — never
// variables, arguments or SQL parameters.
package tracing

import (
	"context"
	"os"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

const instrumentation = "portier"

var enabled atomic.Bool

// Enabled reports whether spans are recorded.
func Enabled() bool { return enabled.Load() }

// Configured reports whether the environment names an OTLP endpoint for
// traces (OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT,
// the standard variables).
func Configured(getenv func(string) string) bool {
	return getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != ""
}

// Setup starts exporting traces over OTLP/HTTP, configured by the standard
// OTEL_* environment variables (endpoint, headers, sampler, service name).
// The returned function flushes and stops it.
func Setup(ctx context.Context) (func(context.Context) error, error) {
	exp, err := otlptracehttp.New(ctx)
	if err != nil {
		return nil, err
	}
	opts := []sdktrace.TracerProviderOption{sdktrace.WithBatcher(exp, sdktrace.WithBatchTimeout(5*time.Second))}
	if os.Getenv("OTEL_SERVICE_NAME") == "" {
		// The SDK's default resource names the service after the binary.
		res, err := resource.Merge(resource.Default(), resource.NewSchemaless(attribute.String("service.name", "portier")))
		if err == nil {
			opts = append(opts, sdktrace.WithResource(res))
		}
	}
	tp := sdktrace.NewTracerProvider(opts...)
	Use(tp)
	return func(ctx context.Context) error {
		enabled.Store(false)
		return tp.Shutdown(ctx)
	}, nil
}

// Stop records no more spans (tests that called Use).
func Stop() {
	enabled.Store(false)
	otel.SetTracerProvider(noop.NewTracerProvider())
}

// Use records spans with tp (tests pass one with a span recorder).
func Use(tp trace.TracerProvider) {
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
	enabled.Store(true)
}

func tracer() trace.Tracer { return otel.Tracer(instrumentation) }

// Start starts a span when tracing is on; end it with End.
func Start(ctx context.Context, name string, kind trace.SpanKind, attrs ...attribute.KeyValue) (context.Context, trace.Span) {
	if !Enabled() {
		return ctx, nil
	}
	return tracer().Start(ctx, name, trace.WithSpanKind(kind), trace.WithAttributes(attrs...))
}

// End ends a span from Start, marking it failed when err is not nil (the
// error's text is not recorded: it may quote input).
func End(span trace.Span, err error, attrs ...attribute.KeyValue) {
	if span == nil {
		return
	}
	if len(attrs) > 0 {
		span.SetAttributes(attrs...)
	}
	if err != nil {
		span.SetStatus(codes.Error, "")
	}
	span.End()
}

// Extract continues a trace the caller started (W3C traceparent header).
func Extract(ctx context.Context, carrier propagation.TextMapCarrier) context.Context {
	if !Enabled() {
		return ctx
	}
	return otel.GetTextMapPropagator().Extract(ctx, carrier)
}
