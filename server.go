// Command portier serves the Portier GraphQL API and its playground.
//
// Configuration comes from the environment (see internal/config); with none,
// it serves on :8080 with an SQLite file in ./data.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"portier/graph"
	"portier/internal/config"
	"portier/internal/database"
	"portier/internal/dbmigrate"
	"portier/internal/identity"
	"portier/internal/outbox"
	"portier/internal/ratelimit"
	"portier/internal/token"
	"portier/internal/tracing"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "migrate" {
		if err := migrateCommand(os.Args[2:], os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "portier migrate:", err)
			os.Exit(1)
		}
		return
	}
	if len(os.Args) > 1 {
		fmt.Fprintf(os.Stderr, "usage: portier            serve the API (configured by the environment)\n       portier migrate    apply the database migrations this build has\n       portier migrate status\n")
		os.Exit(2)
	}
	if err := run(); err != nil {
		slog.Error("portier stopped", "error", err.Error())
		os.Exit(1)
	}
}

// databaseDSN is DATABASE_URL, or the SQLite file in the data directory.
func databaseDSN(cfg *config.Config) (string, error) {
	if cfg.DatabaseURL != "" {
		return cfg.DatabaseURL, nil
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return "", err
	}
	return database.SQLiteDSN(cfg.SQLitePath()), nil
}

// migrateCommand is `portier migrate` (apply) and `portier migrate status`.
func migrateCommand(args []string, out io.Writer) error {
	cfg, err := config.FromEnv()
	if err != nil {
		return err
	}
	dsn, err := databaseDSN(cfg)
	if err != nil {
		return err
	}
	ctx := context.Background()
	// open opens the database with mode and reads its migration status.
	open := func(opts ...database.Option) (dbmigrate.Status, error) {
		db, err := database.Open(ctx, dsn, append(opts, database.WithStatementCache(cfg.StatementCache))...)
		if err != nil {
			return dbmigrate.Status{}, err
		}
		defer db.Close()
		return dbmigrate.ReadStatus(ctx, db.SQL, db.Dialect)
	}
	switch {
	case len(args) == 0:
		st, err := open(database.WithMigrate(database.AutoMigrate), database.WithLog(func(msg string, kv ...any) {
			fmt.Fprintln(out, append([]any{msg}, kv...)...)
		}))
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "the database is current: %d migration(s) applied\n", len(st.Applied))
		return nil
	case len(args) == 1 && args[0] == "status":
		st, err := open(database.WithMigrate(database.SkipMigrations))
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "applied: %d\n", len(st.Applied))
		for _, m := range st.Pending {
			fmt.Fprintf(out, "pending: %s\n", m.Name)
		}
		for _, v := range st.Unknown {
			fmt.Fprintf(out, "unknown to this build: %s\n", v)
		}
		if st.Current() {
			fmt.Fprintln(out, "the database is current")
			return nil
		}
		return errors.New(st.Behind())
	}
	return errors.New("usage: portier migrate [status]")
}

func run() error {
	cfg, err := config.FromEnv()
	if err != nil {
		return err
	}
	gc := config.GCFromEnv(os.Getenv)
	if gc.Percent >= 0 {
		debug.SetGCPercent(gc.Percent)
	}
	if gc.MemoryLimit > 0 {
		debug.SetMemoryLimit(gc.MemoryLimit)
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.LogLevel)); err != nil {
		level = slog.LevelInfo
	}
	log := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	slog.SetDefault(log)

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	if tracing.Configured(os.Getenv) {
		// Before the database is opened: its driver is wrapped then.
		shutdown, err := tracing.Setup(ctx)
		if err != nil {
			return fmt.Errorf("tracing (OTEL_EXPORTER_OTLP_*): %w", err)
		}
		defer func() {
			sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := shutdown(sctx); err != nil {
				log.Warn("flushing traces failed", "error", err.Error())
			}
		}()
		log.Info("sending traces to the OTLP endpoint of OTEL_EXPORTER_OTLP_*")
	}
	dsn, err := databaseDSN(cfg)
	if err != nil {
		return err
	}
	mode := database.RequireCurrent
	if cfg.AutoMigrate {
		mode = database.AutoMigrate
	}
	db, err := database.Open(ctx, dsn, database.WithMigrate(mode), database.WithLog(log.Info), database.WithWarn(log.Warn),
		database.WithStatementCache(cfg.StatementCache))
	if err != nil {
		return err
	}
	defer db.Close()
	log.Info("database ready", "dialect", db.Dialect)

	key, err := cfg.LoadOrCreateSigningKey()
	if err != nil {
		return fmt.Errorf("signing key: %w", err)
	}
	pinKey, err := cfg.LoadOrCreatePinKey()
	if err != nil {
		return fmt.Errorf("support PIN key: %w", err)
	}
	tokens, err := token.NewIssuer(key, "portier", "portier-api", cfg.AccessTokenTTL)
	if err != nil {
		return err
	}

	created, generated, err := identity.BootstrapAdmin(ctx, db.Client, cfg.AdminEmail, cfg.AdminPassword)
	if err != nil {
		return fmt.Errorf("bootstrap admin: %w", err)
	}
	if created && generated != "" {
		// Shown once, on the first start only: there is no other way to
		// hand over the first credentials when none were configured.
		fmt.Fprintf(os.Stderr, "\n  Created staff ADMIN %s with one-time password: %s\n  Set PORTIER_ADMIN_PASSWORD before the first start to choose it yourself.\n\n", cfg.AdminEmail, generated)
	} else if created {
		log.Info("created staff ADMIN from PORTIER_ADMIN_EMAIL / PORTIER_ADMIN_PASSWORD", "email", cfg.AdminEmail)
	}

	// Mail and SMS leave only through the outbox, written in the same
	// transaction as the change that caused them.
	outboxCfg := outbox.Config{SMTPURL: cfg.SMTPURL, From: cfg.MailFrom, SMSWebhookURL: cfg.SMSWebhookURL, Log: log}
	if err := outboxCfg.Validate(); err != nil {
		return fmt.Errorf("mail/SMS configuration: %w", err)
	}
	worker := outbox.NewWorker(db.Client, outboxCfg)
	workerDone := make(chan struct{})
	go func() { defer close(workerDone); worker.Run(ctx) }()

	// Rate-limit buckets of ended windows, expired challenges and links are
	// only history: drop them every hour.
	limiter := ratelimit.New(db.Client, nil)
	go func() {
		t := time.NewTicker(time.Hour)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if n, err := limiter.Cleanup(ctx, 24*time.Hour); err != nil {
					log.Warn("rate-limit cleanup failed", "error", err.Error())
				} else if n > 0 {
					log.Debug("rate-limit cleanup", "deleted", n)
				}
				if n, err := graph.CleanupIdempotencyKeys(ctx, db.Client, time.Now().UTC()); err != nil {
					log.Warn("idempotency-key cleanup failed", "error", err.Error())
				} else if n > 0 {
					log.Debug("idempotency-key cleanup", "deleted", n)
				}
				if n, err := identity.Cleanup(ctx, db.Client, time.Now().UTC()); err != nil {
					log.Warn("identity cleanup failed", "error", err.Error())
				} else if n > 0 {
					log.Debug("identity cleanup", "deleted", n)
				}
				// Users deleted more than 90 days ago lose their personal data.
				if n, err := identity.AnonymiseDeleted(ctx, db.Client, time.Now().UTC()); err != nil {
					log.Warn("anonymising deleted users failed", "error", err.Error())
				} else if n > 0 {
					log.Info("anonymised deleted users", "count", n)
				}
			}
		}
	}()

	deps := graph.Deps{
		Client: db.Client, DB: db.SQL, Tokens: tokens, PinKey: pinKey, Log: log, CORSOrigins: cfg.CORSOrigins,
		PublicURL: cfg.PublicURL, DisableIntrospection: !cfg.Introspection, TrustedProxies: cfg.TrustedProxies,
		MaxConcurrentRequests: cfg.MaxConcurrentRequests, ServeMetrics: cfg.MetricsAddr == "main",
		APQCacheSize: cfg.APQCacheSize, PersistedQueries: cfg.PersistedQueries,
		PersistedQueriesOnly: cfg.PersistedQueriesOnly,
	}
	srv := &http.Server{
		Addr:              ":" + cfg.Port,
		Handler:           graph.NewHandler(deps),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	switch cfg.MetricsAddr {
	case "main":
		log.Info("serving metrics", "metrics", "http://localhost:"+cfg.Port+"/metrics")
	case "off":
	default:
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", graph.NewMetricsHandler(deps))
		msrv := &http.Server{Addr: cfg.MetricsAddr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		go func() { errc <- msrv.ListenAndServe() }()
		defer msrv.Close()
		log.Info("serving metrics", "metrics", "http://"+cfg.MetricsAddr+"/metrics")
	}
	if cfg.DebugAddr != "" {
		dbg := &http.Server{Addr: cfg.DebugAddr, Handler: debugHandler(), ReadHeaderTimeout: 10 * time.Second}
		go func() { errc <- dbg.ListenAndServe() }()
		defer dbg.Close()
		log.Info("serving profiles", "pprof", "http://"+cfg.DebugAddr+"/debug/pprof/")
	}
	log.Info("serving", "playground", "http://localhost:"+cfg.Port+"/", "graphql", "http://localhost:"+cfg.Port+"/graphql")

	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	<-workerDone
	return nil
}

// debugHandler serves net/http/pprof on its own mux, never on the API's.
func debugHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}
