package config

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"strings"
	"testing"
	"time"
)

func TestTrustedProxies(t *testing.T) {
	for _, c := range []struct {
		in      string
		want    []string
		wantErr bool
	}{
		{"", nil, false},
		{"127.0.0.1", []string{"127.0.0.1/32"}, false},
		{" 10.0.0.0/8 , ::1 ", []string{"10.0.0.0/8", "::1/128"}, false},
		{"192.168.1.7/24", []string{"192.168.1.0/24"}, false},
		{"::ffff:10.1.2.3", []string{"10.1.2.3/32"}, false},
		{"proxy.example", nil, true},
		{"10.0.0.0/33", nil, true},
	} {
		t.Setenv("PORTIER_TRUSTED_PROXIES", c.in)
		cfg, err := FromEnv()
		if (err != nil) != c.wantErr {
			t.Errorf("%q: error %v, want error %v", c.in, err, c.wantErr)
			continue
		}
		if err != nil {
			continue
		}
		var got []string
		for _, p := range cfg.TrustedProxies {
			got = append(got, p.String())
		}
		if len(got) != len(c.want) {
			t.Errorf("%q: got %v, want %v", c.in, got, c.want)
			continue
		}
		for i := range got {
			if got[i] != c.want[i] {
				t.Errorf("%q: got %v, want %v", c.in, got, c.want)
			}
		}
	}
}

func TestPinKey(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("PORTIER_DATA_DIR", dir)
	t.Setenv("PORTIER_PIN_KEY", "")
	cfg, err := FromEnv()
	if err != nil {
		t.Fatal(err)
	}
	// Nothing set: a key is made once in the data directory and kept.
	k1, err := cfg.LoadOrCreatePinKey()
	if err != nil || len(k1) != 32 {
		t.Fatalf("generated key: %d bytes, %v", len(k1), err)
	}
	k2, err := cfg.LoadOrCreatePinKey()
	if err != nil || string(k1) != string(k2) {
		t.Fatal("the generated key changed between starts")
	}
	jwt, err := cfg.LoadOrCreateSigningKey()
	if err != nil || string(jwt) == string(k1) {
		t.Fatal("the PIN key must not be the JWT key")
	}
	// Set: taken from the environment; too short is refused.
	t.Setenv("PORTIER_PIN_KEY", strings.Repeat("ab", 32))
	cfg, err = FromEnv()
	if err != nil {
		t.Fatal(err)
	}
	if k, _ := cfg.LoadOrCreatePinKey(); len(k) != 32 || k[0] != 0xab {
		t.Fatalf("configured key not used: %x", k)
	}
	t.Setenv("PORTIER_PIN_KEY", "abcd")
	if _, err := FromEnv(); err == nil {
		t.Fatal("a 2-byte PIN key was accepted")
	}
}

// The profiling listener is off by default and only ever on loopback.
func TestDebugAddr(t *testing.T) {
	for _, c := range []struct {
		in, want string
		wantErr  bool
	}{
		{"", "", false},
		{"127.0.0.1:6060", "127.0.0.1:6060", false},
		{"[::1]:6060", "[::1]:6060", false},
		{"localhost:6060", "localhost:6060", false},
		{":6060", "", true},
		{"0.0.0.0:6060", "", true},
		{"10.0.0.5:6060", "", true},
		{"debug.example:6060", "", true},
		{"127.0.0.1", "", true},
	} {
		t.Setenv("PORTIER_DEBUG_ADDR", c.in)
		cfg, err := FromEnv()
		if (err != nil) != c.wantErr {
			t.Errorf("%q: error %v, want error %v", c.in, err, c.wantErr)
			continue
		}
		if err == nil && cfg.DebugAddr != c.want {
			t.Errorf("%q: DebugAddr %q, want %q", c.in, cfg.DebugAddr, c.want)
		}
	}
}

func TestStatementCache(t *testing.T) {
	for _, c := range []struct {
		in      string
		want    int
		wantErr bool
	}{
		{"", 0, false},   // the database package's default
		{"0", -1, false}, // off, for a pooler in transaction mode
		{"128", 128, false},
		{"1000", 1000, false},
		{"1001", 0, true},
		{"-1", 0, true},
		{"many", 0, true},
	} {
		t.Setenv("PORTIER_DB_STATEMENT_CACHE", c.in)
		cfg, err := FromEnv()
		if (err != nil) != c.wantErr {
			t.Errorf("%q: error %v, want error %v", c.in, err, c.wantErr)
			continue
		}
		if err == nil && cfg.StatementCache != c.want {
			t.Errorf("%q: StatementCache %d, want %d", c.in, cfg.StatementCache, c.want)
		}
	}
}

func TestGCFromEnv(t *testing.T) {
	for _, tc := range []struct {
		name       string
		env        map[string]string
		wantPct    int
		wantMemLim int64
	}{
		{"neither set: Portier's defaults", nil, DefaultGCPercent, DefaultMemoryLimit},
		{"GOGC set: kept", map[string]string{"GOGC": "100"}, -1, DefaultMemoryLimit},
		{"GOGC off: kept", map[string]string{"GOGC": "off"}, -1, DefaultMemoryLimit},
		{"GOMEMLIMIT set: kept", map[string]string{"GOMEMLIMIT": "1GiB"}, DefaultGCPercent, 0},
		{"both set", map[string]string{"GOGC": "50", "GOMEMLIMIT": "200MiB"}, -1, 0},
		{"blank counts as unset", map[string]string{"GOGC": " ", "GOMEMLIMIT": ""}, DefaultGCPercent, DefaultMemoryLimit},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := GCFromEnv(func(k string) string { return tc.env[k] })
			if got.Percent != tc.wantPct || got.MemoryLimit != tc.wantMemLim {
				t.Errorf("GCFromEnv = %+v, want percent %d, limit %d", got, tc.wantPct, tc.wantMemLim)
			}
		})
	}
}

func TestMaxConcurrentRequestsFromEnv(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    int
		wantErr bool
	}{
		{"", 0, false}, {"8", 8, false}, {" 64 ", 64, false},
		{"0", 0, true}, {"-1", 0, true}, {"many", 0, true}, {"10001", 0, true},
	} {
		t.Setenv("PORTIER_MAX_CONCURRENT_REQUESTS", tc.in)
		c, err := FromEnv()
		if (err != nil) != tc.wantErr {
			t.Errorf("%q: error %v, want error %v", tc.in, err, tc.wantErr)
			continue
		}
		if err == nil && c.MaxConcurrentRequests != tc.want {
			t.Errorf("%q: MaxConcurrentRequests = %d, want %d", tc.in, c.MaxConcurrentRequests, tc.want)
		}
	}
}

func TestAccessTokenTTLFromEnv(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    time.Duration
		wantErr bool
	}{
		{"", 15 * time.Minute, false}, {"10s", 10 * time.Second, false}, {" 1h ", time.Hour, false},
		{"5s", 5 * time.Second, false}, {"24h", 24 * time.Hour, false},
		{"4s", 0, true}, {"25h", 0, true}, {"-1m", 0, true}, {"900", 0, true}, {"soon", 0, true},
	} {
		t.Setenv("PORTIER_ACCESS_TOKEN_TTL", tc.in)
		c, err := FromEnv()
		if (err != nil) != tc.wantErr {
			t.Errorf("%q: error %v, want error %v", tc.in, err, tc.wantErr)
			continue
		}
		if err == nil && c.AccessTokenTTL != tc.want {
			t.Errorf("%q: AccessTokenTTL = %s, want %s", tc.in, c.AccessTokenTTL, tc.want)
		}
	}
}

func TestPersistedQueriesConfig(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := dir + "/" + name
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	const doc = "query Me { me { kind } }"
	sum := sha256.Sum256([]byte(doc))
	hash := hex.EncodeToString(sum[:])
	good := write("good.json", `{"`+strings.ToUpper(hash)+`": "`+doc+`"}`)
	for _, c := range []struct {
		name, size, only, file string
		wantErr                string
	}{
		{"defaults", "", "", "", ""},
		{"cache size", "50", "", "", ""},
		{"cache size zero", "0", "", "", "PORTIER_APQ_CACHE_SIZE"},
		{"cache size too large", "100001", "", "", "PORTIER_APQ_CACHE_SIZE"},
		{"cache size not a number", "lots", "", "", "PORTIER_APQ_CACHE_SIZE"},
		{"only without file", "", "true", "", "needs PORTIER_PERSISTED_QUERIES_FILE"},
		{"only not a boolean", "", "sometimes", good, "PORTIER_PERSISTED_QUERIES_ONLY"},
		{"only with file", "", "true", good, ""},
		{"file alone", "", "", good, ""},
		{"missing file", "", "", dir + "/none.json", "PORTIER_PERSISTED_QUERIES_FILE"},
		{"not JSON", "", "", write("bad.json", `["x"]`), "not a JSON object"},
		{"empty", "", "", write("empty.json", `{}`), "holds no documents"},
		{"sha1", "", "", write("sha1.json", `{"0123456789abcdef0123456789abcdef01234567": "`+doc+`"}`), "not a SHA-256 hash"},
		{"wrong hash", "", "", write("wrong.json", `{"`+hash+`": "query Other { me { kind } }"}`), "not the SHA-256 of its document"},
	} {
		t.Setenv("PORTIER_APQ_CACHE_SIZE", c.size)
		t.Setenv("PORTIER_PERSISTED_QUERIES_ONLY", c.only)
		t.Setenv("PORTIER_PERSISTED_QUERIES_FILE", c.file)
		cfg, err := FromEnv()
		if c.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("%s: error %v, want one naming %q", c.name, err, c.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if c.file != "" && cfg.PersistedQueries[hash] != doc {
			t.Errorf("%s: manifest %v, want the document under its lower-case hash", c.name, cfg.PersistedQueries)
		}
		if cfg.PersistedQueriesOnly != (c.only == "true") {
			t.Errorf("%s: PersistedQueriesOnly = %v", c.name, cfg.PersistedQueriesOnly)
		}
		if c.size == "50" && cfg.APQCacheSize != 50 {
			t.Errorf("%s: APQCacheSize = %d", c.name, cfg.APQCacheSize)
		}
	}
}

// DATABASE_URL is a PostgreSQL URL or nothing: anything else would become
// an SQLite file named after it (password and all), a database of each
// instance's own. The refusal does not quote the value.
func TestDatabaseURLMustBePostgres(t *testing.T) {
	for in, ok := range map[string]bool{
		"":                                true,
		"postgres://u:p@db/portier":       true,
		"postgresql://u:p@db/portier":     true,
		"postgress://u:S3cret@db/portier": false,
		"host=db user=portier password=S3cret dbname=portier sslmode=require": false,
		"file:portier.db": false,
	} {
		t.Setenv("DATABASE_URL", in)
		_, err := FromEnv()
		if (err == nil) != ok {
			t.Errorf("DATABASE_URL=%q: error %v, want ok=%v", in, err, ok)
		}
		if err != nil && strings.Contains(err.Error(), "S3cret") {
			t.Errorf("the refusal quotes the password: %v", err)
		}
	}
}

func TestMetricsAddrAndAutoMigrate(t *testing.T) {
	for in, want := range map[string]string{"": "main", "main": "main", "off": "off", "127.0.0.1:9090": "127.0.0.1:9090", ":9090": ":9090", "9090": "", "http://x": ""} {
		t.Setenv("PORTIER_METRICS_ADDR", in)
		cfg, err := FromEnv()
		if want == "" {
			if err == nil {
				t.Errorf("PORTIER_METRICS_ADDR=%q accepted", in)
			}
			continue
		}
		if err != nil || cfg.MetricsAddr != want {
			t.Errorf("PORTIER_METRICS_ADDR=%q: %q, %v; want %q", in, cfg.MetricsAddr, err, want)
		}
	}
	t.Setenv("PORTIER_METRICS_ADDR", "")
	for in, want := range map[string]bool{"": false, "false": false, "true": true, "1": true, "off": false} {
		t.Setenv("PORTIER_AUTO_MIGRATE", in)
		cfg, err := FromEnv()
		if err != nil || cfg.AutoMigrate != want {
			t.Errorf("PORTIER_AUTO_MIGRATE=%q: %v, %v", in, cfg.AutoMigrate, err)
		}
	}
	t.Setenv("PORTIER_AUTO_MIGRATE", "sometimes")
	if _, err := FromEnv(); err == nil {
		t.Error("PORTIER_AUTO_MIGRATE=sometimes accepted")
	}
}
