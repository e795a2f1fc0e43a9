package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The server as `make run` starts it: SQLite in the data directory, a
// bootstrap admin, the playground, the API; SIGTERM shuts it down cleanly.
func TestServerStartsServesAndShutsDownOnSIGTERM(t *testing.T) {
	dir := t.TempDir()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := fmt.Sprint(l.Addr().(*net.TCPAddr).Port)
	_ = l.Close()
	t.Setenv("PORT", port)
	t.Setenv("PORTIER_AUTO_MIGRATE", "true")
	t.Setenv("PORTIER_DATA_DIR", dir)
	t.Setenv("DATABASE_URL", "")
	t.Setenv("PORTIER_ADMIN_PASSWORD", "server-test-admin-pass")
	ml, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	metricsAddr := ml.Addr().String()
	_ = ml.Close()
	t.Setenv("PORTIER_METRICS_ADDR", metricsAddr)
	done := make(chan error, 1)
	go func() { done <- run() }()

	base := "http://127.0.0.1:" + port
	deadline := time.Now().Add(20 * time.Second)
	for {
		res, err := http.Get(base + "/readyz")
		if err == nil && res.StatusCode == http.StatusOK {
			res.Body.Close()
			break
		}
		if err == nil {
			res.Body.Close()
		}
		if time.Now().After(deadline) {
			t.Fatalf("server not ready: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	res, err := http.Post(base+"/graphql", "application/json", strings.NewReader(
		`{"query":"mutation { login(input: {login: \"admin@example.com\", password: \"server-test-admin-pass\"}) { accessToken } }"}`))
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4096)
	n, _ := res.Body.Read(buf)
	res.Body.Close()
	if !strings.Contains(string(buf[:n]), `"accessToken":"ey`) {
		t.Fatalf("login: %s", buf[:n])
	}
	res, err = http.Get(base + "/")
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("playground: %v %v", res, err)
	}
	res.Body.Close()
	// PORTIER_METRICS_ADDR moves /metrics to a listener of its own.
	res, err = http.Get("http://" + metricsAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	mb, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.Contains(string(mb), `portier_logins_total{result="success"} `) {
		t.Fatalf("metrics listener: %d %.300s", res.StatusCode, mb)
	}
	res, err = http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	mb, _ = io.ReadAll(res.Body)
	res.Body.Close()
	if strings.Contains(string(mb), "portier_logins_total") {
		t.Fatal("/metrics is served on the API listener too")
	}
	for _, f := range []string{"portier.db", "jwt.key"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Fatalf("%s not kept in the data directory: %v", f, err)
		}
	}
	if st, _ := os.Stat(filepath.Join(dir, "jwt.key")); st.Mode().Perm() != 0o600 {
		t.Fatalf("jwt.key mode %v", st.Mode().Perm())
	}

	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run after SIGTERM: %v", err)
		}
	case <-time.After(25 * time.Second):
		t.Fatal("no graceful shutdown within 25 s")
	}
}
