package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// pgCluster is a PostgreSQL cluster of this test alone, so that it can be
// stopped and started again under a running server.
type pgCluster struct {
	t       *testing.T
	bin     string
	dir     string
	port    string
	asUser  string // run the server tools as this user (root may not)
	started bool
}

func findPGBin() string {
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		return filepath.Dir(p)
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Sort(sort.Reverse(sort.StringSlice(dirs)))
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "pg_ctl")); err == nil {
			return d
		}
	}
	return ""
}

func newPGCluster(t *testing.T) *pgCluster {
	bin := findPGBin()
	if bin == "" {
		t.Skip("no PostgreSQL server binaries")
	}
	dir, err := os.MkdirTemp("/tmp", "portier-outage-")
	if err != nil {
		t.Fatal(err)
	}
	c := &pgCluster{t: t, bin: bin, dir: dir}
	if os.Geteuid() == 0 {
		c.asUser = "nobody"
		u, err := user.Lookup(c.asUser)
		if err != nil {
			t.Skip("running as root without a nobody user")
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		if c.started {
			_ = c.pgctl("-m", "immediate", "-w", "stop")
		}
		_ = os.RemoveAll(dir)
	})
	if out, err := c.tool("initdb", "-D", filepath.Join(dir, "data"), "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C"); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c.port = fmt.Sprint(l.Addr().(*net.TCPAddr).Port)
	_ = l.Close()
	c.start()
	return c
}

func (c *pgCluster) tool(name string, args ...string) ([]byte, error) {
	path := filepath.Join(c.bin, name)
	var cmd *exec.Cmd
	if c.asUser != "" {
		cmd = exec.Command("runuser", append([]string{"-u", c.asUser, "--", path}, args...)...)
	} else {
		cmd = exec.Command(path, args...)
	}
	cmd.Dir = c.dir
	return cmd.CombinedOutput()
}

func (c *pgCluster) pgctl(args ...string) error {
	out, err := c.tool("pg_ctl", append([]string{"-D", filepath.Join(c.dir, "data")}, args...)...)
	if err != nil {
		return fmt.Errorf("pg_ctl %v: %v\n%s", args, err, out)
	}
	return nil
}

func (c *pgCluster) start() {
	opts := "-p " + c.port + " -k " + c.dir + " -c listen_addresses=127.0.0.1 -c fsync=off"
	if err := c.pgctl("-l", filepath.Join(c.dir, "log"), "-o", opts, "-w", "-t", "60", "start"); err != nil {
		c.t.Fatal(err)
	}
	c.started = true
}

func (c *pgCluster) stop() {
	if err := c.pgctl("-m", "immediate", "-w", "stop"); err != nil {
		c.t.Fatal(err)
	}
	c.started = false
}

func (c *pgCluster) url() string {
	return "postgres://postgres@127.0.0.1:" + c.port + "/postgres?sslmode=disable"
}

// The built server on PostgreSQL, with the database stopped under it: a good
// access token gets 503 UNAVAILABLE with Retry-After — never
// UNAUTHENTICATED — and the same token works again once the database is
// back (issue 6.6, as a black box).
func TestServerSurvivesPostgresRestart(t *testing.T) {
	if os.Getenv("TEST_DATABASE_URL") == "" {
		t.Skip("runs in the PostgreSQL leg of make test")
	}
	pg := newPGCluster(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := fmt.Sprint(l.Addr().(*net.TCPAddr).Port)
	_ = l.Close()
	t.Setenv("PORT", port)
	t.Setenv("PORTIER_AUTO_MIGRATE", "true")
	t.Setenv("PORTIER_DATA_DIR", t.TempDir())
	t.Setenv("DATABASE_URL", pg.url())
	t.Setenv("PORTIER_ADMIN_PASSWORD", "outage-test-admin-pass")
	done := make(chan error, 1)
	go func() { done <- run() }()
	defer func() {
		_ = syscall.Kill(os.Getpid(), syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(25 * time.Second):
			t.Error("no shutdown within 25 s")
		}
	}()
	base := "http://127.0.0.1:" + port
	waitFor(t, 30*time.Second, func() bool { return status(base+"/readyz") == http.StatusOK })

	type answer struct {
		status     int
		retryAfter string
		body       map[string]any
		raw        string
	}
	post := func(tok, query string) answer {
		body, _ := json.Marshal(map[string]any{"query": query})
		req, _ := http.NewRequest(http.MethodPost, base+"/graphql", strings.NewReader(string(body)))
		req.Header.Set("Content-Type", "application/json")
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		raw, _ := io.ReadAll(res.Body)
		var m map[string]any
		_ = json.Unmarshal(raw, &m)
		return answer{res.StatusCode, res.Header.Get("Retry-After"), m, string(raw)}
	}
	code := func(a answer) string {
		errs, _ := a.body["errors"].([]any)
		if len(errs) == 0 {
			return ""
		}
		ext, _ := errs[0].(map[string]any)["extensions"].(map[string]any)
		c, _ := ext["code"].(string)
		return c
	}
	a := post("", `mutation { login(input: {login: "admin@example.com", password: "outage-test-admin-pass"}) { accessToken } }`)
	tok, _ := a.body["data"].(map[string]any)["login"].(map[string]any)["accessToken"].(string)
	if tok == "" {
		t.Fatalf("login: %s", a.raw)
	}
	const me = `{ me { kind } }`
	if a := post(tok, me); a.status != 200 || code(a) != "" {
		t.Fatalf("me before the outage: %d %s", a.status, a.raw)
	}

	pg.stop()
	for i := 0; i < 20; i++ {
		a := post(tok, me)
		if a.status != http.StatusServiceUnavailable || code(a) != "UNAVAILABLE" || a.retryAfter == "" {
			t.Fatalf("request %d with the database down: want 503 UNAVAILABLE with Retry-After, got %d %q %s", i, a.status, a.retryAfter, a.raw)
		}
	}
	if a := post("", `mutation { login(input: {login: "admin@example.com", password: "outage-test-admin-pass"}) { accessToken } }`); a.status != http.StatusServiceUnavailable || code(a) != "UNAVAILABLE" {
		t.Fatalf("login with the database down: %d %s", a.status, a.raw)
	}
	if s := status(base + "/readyz"); s != http.StatusServiceUnavailable {
		t.Fatalf("readyz with the database down: %d", s)
	}

	pg.start()
	waitFor(t, 30*time.Second, func() bool {
		a := post(tok, me)
		return a.status == 200 && code(a) == ""
	})
}

func status(url string) int {
	res, err := http.Get(url)
	if err != nil {
		return 0
	}
	res.Body.Close()
	return res.StatusCode
}

func waitFor(t *testing.T, d time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %s", d)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
