// Package config reads Portier's configuration from the environment.
package config

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Config is the server configuration.
type Config struct {
	Port          string   // PORT, default 8080
	DatabaseURL   string   // DATABASE_URL: postgres://... ; empty means SQLite in DataDir
	DataDir       string   // PORTIER_DATA_DIR, default ./data
	SigningKey    []byte   // PORTIER_JWT_KEY (hex, >= 32 bytes); else generated once into DataDir
	PinKey        []byte   // PORTIER_PIN_KEY (hex, >= 32 bytes): the support PIN secret; else generated once into DataDir
	AdminEmail    string   // PORTIER_ADMIN_EMAIL, default admin@example.com
	AdminPassword string   // PORTIER_ADMIN_PASSWORD; else generated and logged once
	CORSOrigins   []string // PORTIER_CORS_ORIGINS, comma-separated; none by default
	PublicURL     string   // PORTIER_PUBLIC_URL, for links in mail
	SMTPURL       string   // SMTP_URL, e.g. smtp://127.0.0.1:2525 or smtps://user:pass@host (outbox.ParseSMTPURL); empty: mail is written to the log
	MailFrom      string   // PORTIER_MAIL_FROM
	SMSWebhookURL string   // SMS_WEBHOOK_URL; empty: SMS are written to the log
	LogLevel      string   // PORTIER_LOG_LEVEL: debug, info (default), warn, error
	// TrustedProxies is PORTIER_TRUSTED_PROXIES: comma-separated addresses
	// or CIDR prefixes of the reverse proxies whose X-Forwarded-For names the
	// client; none by default (the header is then ignored).
	TrustedProxies []netip.Prefix
	// Introspection is PORTIER_INTROSPECTION: on (default) answers
	// __schema/__type and suggests names in errors; off refuses both.
	Introspection bool
	// DebugAddr is PORTIER_DEBUG_ADDR: a loopback host:port on which a
	// second listener serves net/http/pprof, for profiling; empty (the
	// default) serves none. Profiles show internals, so only loopback.
	DebugAddr string
	// MaxConcurrentRequests is PORTIER_MAX_CONCURRENT_REQUESTS: GraphQL
	// requests executed at once; the rest wait their turn. Zero (unset)
	// means four per CPU.
	MaxConcurrentRequests int
	// AutoMigrate is PORTIER_AUTO_MIGRATE: true applies pending database
	// migrations at start (`make run` sets it); false (the default) refuses
	// to start on a database that lacks migrations of this build.
	AutoMigrate bool
	// MetricsAddr is PORTIER_METRICS_ADDR: "main" (the default) serves
	// /metrics on the API's listener; a host:port serves it on a listener
	// of its own (keep it off the public network); "off" serves none.
	MetricsAddr string
	// StatementCache is PORTIER_DB_STATEMENT_CACHE: how many statements
	// each PostgreSQL connection keeps prepared. Zero (unset) means the
	// default; negative (PORTIER_DB_STATEMENT_CACHE=0) turns preparing off,
	// for a pooler in transaction mode that does not carry prepared
	// statements.
	StatementCache int
	// APQCacheSize is PORTIER_APQ_CACHE_SIZE: how many documents that
	// clients registered through automatic persisted queries are kept
	// (least recently used out first). Zero (unset) means the server's
	// default.
	APQCacheSize int
	// PersistedQueries is the manifest read from
	// PORTIER_PERSISTED_QUERIES_FILE: a JSON object mapping the SHA-256
	// (hex) of each document to the document, as client tooling such as
	// GraphQL Code Generator's persisted documents writes it. Nil when
	// unset.
	PersistedQueries map[string]string
	// PersistedQueriesOnly is PORTIER_PERSISTED_QUERIES_ONLY: accept only
	// the documents of the manifest (production); off by default.
	PersistedQueriesOnly bool
	// AccessTokenTTL is PORTIER_ACCESS_TOKEN_TTL: the lifetime of access
	// tokens, a Go duration from MinAccessTokenTTL to MaxAccessTokenTTL;
	// DefaultAccessTokenTTL when unset. Sessions are checked on every
	// request, so the lifetime bounds how long a token outlives a
	// deactivated signing key, not a revoked session.
	AccessTokenTTL time.Duration
}

// Bounds and default of PORTIER_ACCESS_TOKEN_TTL. The short end is for
// tests of clients' refresh logic; access tokens are always accepted up to
// five seconds past their expiry (clock skew).
const (
	DefaultAccessTokenTTL = 15 * time.Minute
	MinAccessTokenTTL     = 5 * time.Second
	MaxAccessTokenTTL     = 24 * time.Hour
)

// MaxStatementCache bounds PORTIER_DB_STATEMENT_CACHE: PostgreSQL keeps
// each prepared statement in the connection's memory.
const MaxStatementCache = 1000

// MaxAPQCacheSize bounds PORTIER_APQ_CACHE_SIZE.
const MaxAPQCacheSize = 100000

// maxManifestBytes bounds the persisted-queries manifest file.
const maxManifestBytes = 64 << 20

// FromEnv reads the configuration.
func FromEnv() (*Config, error) {
	c := &Config{
		Port:           env("PORT", "8080"),
		DatabaseURL:    os.Getenv("DATABASE_URL"),
		DataDir:        env("PORTIER_DATA_DIR", "data"),
		AdminEmail:     env("PORTIER_ADMIN_EMAIL", "admin@example.com"),
		AdminPassword:  os.Getenv("PORTIER_ADMIN_PASSWORD"),
		PublicURL:      env("PORTIER_PUBLIC_URL", "http://localhost:"+env("PORT", "8080")),
		LogLevel:       env("PORTIER_LOG_LEVEL", "info"),
		SMTPURL:        os.Getenv("SMTP_URL"),
		MailFrom:       env("PORTIER_MAIL_FROM", "Portier <no-reply@portier.local>"),
		SMSWebhookURL:  os.Getenv("SMS_WEBHOOK_URL"),
		AccessTokenTTL: DefaultAccessTokenTTL,
	}
	if v := strings.TrimSpace(os.Getenv("PORTIER_ACCESS_TOKEN_TTL")); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < MinAccessTokenTTL || d > MaxAccessTokenTTL {
			return nil, fmt.Errorf("PORTIER_ACCESS_TOKEN_TTL must be a duration from %s to %s such as 15m, not %q", MinAccessTokenTTL, MaxAccessTokenTTL, v)
		}
		c.AccessTokenTTL = d
	}
	switch v := strings.ToLower(strings.TrimSpace(os.Getenv("PORTIER_INTROSPECTION"))); v {
	case "", "on", "true", "1", "yes":
		c.Introspection = true
	case "off", "false", "0", "no":
		c.Introspection = false
	default:
		return nil, fmt.Errorf("PORTIER_INTROSPECTION must be on or off, not %q", v)
	}
	if u := c.DatabaseURL; u != "" && !strings.HasPrefix(u, "postgres://") && !strings.HasPrefix(u, "postgresql://") {
		// Anything else would be taken for an SQLite file name: a typo
		// would give each instance a database of its own. The value may
		// hold a password: it is not quoted.
		return nil, errors.New("DATABASE_URL must be a postgres:// or postgresql:// URL (leave it empty for SQLite in PORTIER_DATA_DIR)")
	}
	var err error
	if c.AutoMigrate, err = flagEnv("PORTIER_AUTO_MIGRATE"); err != nil {
		return nil, err
	}
	switch v := strings.TrimSpace(os.Getenv("PORTIER_METRICS_ADDR")); v {
	case "", "main":
		c.MetricsAddr = "main"
	case "off":
		c.MetricsAddr = "off"
	default:
		host, port, err := net.SplitHostPort(v)
		if n, perr := strconv.Atoi(port); err != nil || perr != nil || n < 1 || n > 65535 || strings.ContainsAny(host, "/@") {
			return nil, fmt.Errorf("PORTIER_METRICS_ADDR must be main, off or a host:port such as 127.0.0.1:9090, not %q", v)
		}
		c.MetricsAddr = v
	}
	if v := strings.TrimSpace(os.Getenv("PORTIER_MAX_CONCURRENT_REQUESTS")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 10000 {
			return nil, fmt.Errorf("PORTIER_MAX_CONCURRENT_REQUESTS must be a number from 1 to 10000, not %q", v)
		}
		c.MaxConcurrentRequests = n
	}
	if v := strings.TrimSpace(os.Getenv("PORTIER_DB_STATEMENT_CACHE")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > MaxStatementCache {
			return nil, fmt.Errorf("PORTIER_DB_STATEMENT_CACHE must be a number from 0 to %d, not %q", MaxStatementCache, v)
		}
		c.StatementCache = n
		if n == 0 {
			c.StatementCache = -1
		}
	}
	if v := strings.TrimSpace(os.Getenv("PORTIER_APQ_CACHE_SIZE")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxAPQCacheSize {
			return nil, fmt.Errorf("PORTIER_APQ_CACHE_SIZE must be a number from 1 to %d, not %q", MaxAPQCacheSize, v)
		}
		c.APQCacheSize = n
	}
	if c.PersistedQueriesOnly, err = flagEnv("PORTIER_PERSISTED_QUERIES_ONLY"); err != nil {
		return nil, err
	}
	if path := strings.TrimSpace(os.Getenv("PORTIER_PERSISTED_QUERIES_FILE")); path != "" {
		m, err := ReadPersistedQueries(path)
		if err != nil {
			return nil, fmt.Errorf("PORTIER_PERSISTED_QUERIES_FILE: %w", err)
		}
		c.PersistedQueries = m
	} else if c.PersistedQueriesOnly {
		return nil, errors.New("PORTIER_PERSISTED_QUERIES_ONLY=true needs PORTIER_PERSISTED_QUERIES_FILE, the manifest of the accepted documents")
	}
	if a := strings.TrimSpace(os.Getenv("PORTIER_DEBUG_ADDR")); a != "" {
		host, _, err := net.SplitHostPort(a)
		ip, perr := netip.ParseAddr(host)
		if err != nil || (host != "localhost" && (perr != nil || !ip.IsLoopback())) {
			return nil, fmt.Errorf("PORTIER_DEBUG_ADDR must be a loopback host:port such as 127.0.0.1:6060, not %q", a)
		}
		c.DebugAddr = a
	}
	for _, p := range strings.Split(os.Getenv("PORTIER_TRUSTED_PROXIES"), ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		prefix, err := netip.ParsePrefix(p)
		if err != nil {
			addr, aerr := netip.ParseAddr(p)
			if aerr != nil {
				return nil, fmt.Errorf("PORTIER_TRUSTED_PROXIES: %q is neither an address nor a CIDR prefix", p)
			}
			prefix = netip.PrefixFrom(addr.Unmap(), addr.Unmap().BitLen())
		}
		c.TrustedProxies = append(c.TrustedProxies, prefix.Masked())
	}
	for _, o := range strings.Split(os.Getenv("PORTIER_CORS_ORIGINS"), ",") {
		if o = strings.TrimSpace(o); o != "" {
			c.CORSOrigins = append(c.CORSOrigins, o)
		}
	}
	if k := os.Getenv("PORTIER_JWT_KEY"); k != "" {
		key, err := hex.DecodeString(k)
		if err != nil || len(key) < 32 {
			return nil, errors.New("PORTIER_JWT_KEY must be at least 32 bytes, hex-encoded")
		}
		c.SigningKey = key
	}
	if k := os.Getenv("PORTIER_PIN_KEY"); k != "" {
		key, err := hex.DecodeString(k)
		if err != nil || len(key) < 32 {
			return nil, errors.New("PORTIER_PIN_KEY must be at least 32 bytes, hex-encoded")
		}
		c.PinKey = key
	}
	return c, nil
}

// ReadPersistedQueries reads a persisted-queries manifest: one JSON object
// whose members map the SHA-256 of a document, 64 hex digits, to the
// document. Every hash must be that of its document (tooling set to
// another algorithm, such as SHA-1, is caught here) and the manifest must
// not be empty. Hashes are returned in lower case.
func ReadPersistedQueries(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxManifestBytes+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxManifestBytes {
		return nil, fmt.Errorf("%s is larger than %d MiB", path, maxManifestBytes>>20)
	}
	var raw map[string]string
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("%s is not a JSON object mapping SHA-256 hashes to documents: %v", path, err)
	}
	if len(raw) == 0 {
		return nil, fmt.Errorf("%s holds no documents", path)
	}
	m := make(map[string]string, len(raw))
	for h, doc := range raw {
		sum := sha256.Sum256([]byte(doc))
		want := hex.EncodeToString(sum[:])
		if strings.ToLower(h) != want {
			if len(h) != sha256.Size*2 {
				return nil, fmt.Errorf("%s: %q is not a SHA-256 hash (64 hex digits); generate the manifest with SHA-256", path, h)
			}
			return nil, fmt.Errorf("%s: %q is not the SHA-256 of its document", path, h)
		}
		m[want] = doc
	}
	return m, nil
}

// flagEnv reads an off-by-default switch: true/1/yes/on or
// false/0/no/off (or unset); anything else is an error.
func flagEnv(name string) (bool, error) {
	switch v := strings.ToLower(strings.TrimSpace(os.Getenv(name))); v {
	case "", "false", "0", "no", "off":
		return false, nil
	case "true", "1", "yes", "on":
		return true, nil
	default:
		return false, fmt.Errorf("%s must be true or false, not %q", name, v)
	}
}

// SQLitePath is the database file used when DatabaseURL is empty.
func (c *Config) SQLitePath() string { return filepath.Join(c.DataDir, "portier.db") }

// LoadOrCreateSigningKey returns the configured key, or one kept in the data
// directory (created on first start, readable only by the owner).
func (c *Config) LoadOrCreateSigningKey() ([]byte, error) {
	if c.SigningKey != nil {
		return c.SigningKey, nil
	}
	return c.loadOrCreateKey("jwt.key")
}

// LoadOrCreatePinKey returns the support PIN secret (PORTIER_PIN_KEY), or
// one kept in the data directory like the JWT key. Every instance serving
// the same database needs the same key: set it in production. Changing it
// changes every support PIN at once (nothing else is lost).
func (c *Config) LoadOrCreatePinKey() ([]byte, error) {
	if c.PinKey != nil {
		return c.PinKey, nil
	}
	return c.loadOrCreateKey("pin.key")
}

// loadOrCreateKey reads a hex key of at least 32 bytes from name in the
// data directory, creating a random one (mode 0600) when there is none.
func (c *Config) loadOrCreateKey(name string) ([]byte, error) {
	if err := os.MkdirAll(c.DataDir, 0o700); err != nil {
		return nil, err
	}
	path := filepath.Join(c.DataDir, name)
	if b, err := os.ReadFile(path); err == nil {
		key, err := hex.DecodeString(strings.TrimSpace(string(b)))
		if err != nil || len(key) < 32 {
			return nil, fmt.Errorf("%s does not hold a hex key of at least 32 bytes", path)
		}
		return key, nil
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	if err := os.WriteFile(path, []byte(hex.EncodeToString(key)+"\n"), 0o600); err != nil {
		return nil, err
	}
	return key, nil
}

func env(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// Garbage collector defaults. Portier's live heap is small (tens of MB)
// while a nested page allocates a few MB and drops it, so Go's default
// GOGC=100 collects after every few requests: profiles showed about a
// third of the server's CPU in the collector (docs/performance.md). Portier
// therefore lets the heap grow to five times what is live (GOGC=400) and
// bounds it instead with a soft memory limit, which the collector keeps by
// working harder only as the limit comes near. Go's own GOGC and
// GOMEMLIMIT, when set, win. 48 MiB keeps the process under 100 MB at 32
// concurrent logins (argon2id takes 12 MiB per hash) with the metrics and
// tracing libraries linked in, at no measurable CPU cost on nested reads
// (docs/performance.md, "Memory bounded by design").
const (
	DefaultGCPercent   = 400
	DefaultMemoryLimit = 48 << 20 // bytes of memory managed by the Go runtime
)

// GCSettings are the collector settings to apply at start; a zero field
// (or -1 for Percent) means leave Go's own setting.
type GCSettings struct {
	Percent     int   // -1: as GOGC says
	MemoryLimit int64 // 0: as GOMEMLIMIT says
}

// GCFromEnv returns Portier's defaults for what GOGC and GOMEMLIMIT leave
// unset.
func GCFromEnv(getenv func(string) string) GCSettings {
	s := GCSettings{Percent: -1}
	if strings.TrimSpace(getenv("GOGC")) == "" {
		s.Percent = DefaultGCPercent
	}
	if strings.TrimSpace(getenv("GOMEMLIMIT")) == "" {
		s.MemoryLimit = DefaultMemoryLimit
	}
	return s
}
