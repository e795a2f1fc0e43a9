package graph_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// allLogs collects every log line of every test server in this package, and
// secrets every secret a test used (passwords, tokens, codes, links). After
// the run, no secret may appear in any log line.
var (
	allLogs = &syncBuffer{}
	secrets = &secretSet{m: map[string]bool{}}
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

type secretSet struct {
	mu sync.Mutex
	m  map[string]bool
}

// add records a secret the test used (ignored when too short to be unique).
func (s *secretSet) add(v string) string {
	if len(v) >= 5 {
		s.mu.Lock()
		s.m[v] = true
		s.mu.Unlock()
	}
	return v
}

func TestMain(m *testing.M) {
	// Portier's own code may log through the default logger too.
	slog.SetDefault(slog.New(slog.NewJSONHandler(io.MultiWriter(allLogs, os.Stderr), nil)))
	secrets.add(adminPassword)
	code := m.Run()
	// The minimums hold for the whole suite; a -run filter may select few tests.
	whole := flag.Lookup("test.run").Value.String() == ""
	if code == 0 {
		logs := allLogs.String()
		if whole && len(logs) < 1000 {
			fmt.Println("secret scan: suspiciously few log lines captured")
			code = 1
		}
		secrets.mu.Lock()
		n := len(secrets.m)
		for v := range secrets.m {
			if leaked(logs, v) {
				fmt.Printf("secret scan: a secret used by the tests appears in the logs: %q…\n", v[:4])
				code = 1
			}
		}
		secrets.mu.Unlock()
		if whole && n < 10 {
			fmt.Printf("secret scan: only %d secrets recorded; the scan is not doing its job\n", n)
			code = 1
		}
	}
	os.Exit(code)
}

// leaked reports whether secret v appears in the logs as a token of its own
// (a 5-digit code is also a substring of many timestamps and ports).
func leaked(logs, v string) bool {
	if len(v) >= 12 {
		return strings.Contains(logs, v)
	}
	return regexp.MustCompile(`(^|[^0-9A-Za-z.:-])` + regexp.QuoteMeta(v) + `([^0-9A-Za-z]|$)`).MatchString(logs)
}

// smsSink is the SMS gateway of the tests: it records what Portier posts.
type smsSink struct {
	url string
	mu  sync.Mutex
	got []smsMessage
}

type smsMessage struct {
	To   string `json:"to"`
	Body string `json:"body"`
}

func startSMSSink(t testing.TB) *smsSink {
	s := &smsSink{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m smsMessage
		if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
			http.Error(w, "bad json", http.StatusBadRequest)
			return
		}
		s.mu.Lock()
		s.got = append(s.got, m)
		s.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(srv.Close)
	s.url = srv.URL
	return s
}

// waitFor returns the n-th (1-based) SMS to a number.
func (s *smsSink) waitFor(to string, n int, timeout time.Duration) (smsMessage, error) {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		s.mu.Lock()
		seen := 0
		for _, m := range s.got {
			if m.To == to {
				seen++
				if seen == n {
					s.mu.Unlock()
					return m, nil
				}
			}
		}
		s.mu.Unlock()
		time.Sleep(10 * time.Millisecond)
	}
	return smsMessage{}, fmt.Errorf("no SMS #%d to %s within %s", n, to, timeout)
}
