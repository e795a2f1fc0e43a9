package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Fixed keys: every run of every binary signs and derives alike.
const (
	benchJWTKey = "62656e63682d6a77742d6b65792d3031323334353637383961626364656630313233343536373839"
	benchPinKey = "62656e63682d70696e2d6b65792d3031323334353637383961626364656630313233343536373839"
)

// binary is one server build under test.
type binary struct {
	label string // "new" or "base"
	rev   string // what was built (commit, +dirty)
	path  string
}

// goTool is the go command: from PATH, else next to this toolchain.
func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	for _, root := range []string{os.Getenv("GOROOT"), "/usr/local/go"} {
		if p := filepath.Join(root, "bin", "go"); root != "" && fileExists(p) {
			return p
		}
	}
	return "go"
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// runCmd runs a command in dir, returning its combined output in the error.
func runCmd(ctx context.Context, dir, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if err != nil {
		return out.String(), fmt.Errorf("%s %s (in %s): %w\n%s", name, strings.Join(args, " "), dir, err, strings.TrimSpace(out.String()))
	}
	return out.String(), nil
}

// buildServer builds the server of the source tree at srcDir into out.
// -trimpath makes the build independent of the directory, so the base
// checkout shares the build cache with this one (and both builds alike).
func buildServer(ctx context.Context, srcDir, out string) error {
	_, err := runCmd(ctx, srcDir, goTool(), "build", "-trimpath", "-o", out, ".")
	return err
}

// revision describes the checkout at dir: its commit, and +dirty with
// uncommitted changes.
func revision(ctx context.Context, dir string) string {
	out, err := runCmd(ctx, dir, "git", "rev-parse", "--short=12", "HEAD")
	if err != nil {
		return "unknown"
	}
	rev := strings.TrimSpace(out)
	if st, err := runCmd(ctx, dir, "git", "status", "--porcelain", "--untracked-files=no"); err == nil && strings.TrimSpace(st) != "" {
		rev += "+dirty"
	}
	return rev
}

// buildBase builds revision rev in a temporary git worktree under tmp and
// removes the worktree again.
func buildBase(ctx context.Context, repo, tmp, rev string) (*binary, error) {
	out, err := runCmd(ctx, repo, "git", "rev-parse", "--verify", "--quiet", rev+"^{commit}")
	if err != nil {
		return nil, fmt.Errorf("BASE=%s is not a commit of this repository", rev)
	}
	commit := strings.TrimSpace(out)
	wt := filepath.Join(tmp, "base-src")
	if _, err := runCmd(ctx, repo, "git", "worktree", "add", "--detach", "--quiet", wt, commit); err != nil {
		return nil, err
	}
	defer func() {
		// A fresh context: this must happen also after an interrupt.
		cctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := runCmd(cctx, repo, "git", "worktree", "remove", "--force", wt); err != nil {
			warnf("could not remove the temporary worktree %s: %v", wt, err)
		}
	}()
	bin := filepath.Join(tmp, "portier-base")
	if err := buildServer(ctx, wt, bin); err != nil {
		return nil, err
	}
	return &binary{label: "base", rev: commit[:12] + " (" + rev + ")", path: bin}, nil
}

// freePort asks the kernel for a free loopback port.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// server is one running server process.
type server struct {
	bin       *binary
	cmd       *exec.Cmd
	pid       int
	url       string // http://127.0.0.1:port
	debugAddr string // PORTIER_DEBUG_ADDR (pprof)
	logPath   string
	exited    chan struct{}
	waitErr   error
}

// running is every server started and not yet stopped, for the cleanup on
// exit and interrupt.
var (
	runningMu sync.Mutex
	running   = map[*server]bool{}
)

func track(s *server, on bool) (was bool) {
	runningMu.Lock()
	defer runningMu.Unlock()
	was = running[s]
	if on {
		running[s] = true
	} else {
		delete(running, s)
	}
	return was
}

// serverEnv is the environment of a server: this process's, without any
// Portier or mail configuration, plus the benchmark's.
func serverEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case k == "DATABASE_URL", k == "PORT", k == "SMTP_URL", k == "SMS_WEBHOOK_URL", strings.HasPrefix(k, "PORTIER_"):
			continue
		}
		env = append(env, kv)
	}
	return append(env, extra...)
}

// startServer starts bin on database dbURL and waits until /readyz answers.
func startServer(ctx context.Context, bin *binary, dbURL, workDir string) (*server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	dport, err := freePort()
	if err != nil {
		return nil, err
	}
	dataDir := filepath.Join(workDir, "data-"+bin.label)
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, err
	}
	logPath := filepath.Join(workDir, fmt.Sprintf("server-%s-%d.log", bin.label, port))
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	s := &server{
		bin: bin, url: fmt.Sprintf("http://127.0.0.1:%d", port), debugAddr: fmt.Sprintf("127.0.0.1:%d", dport),
		logPath: logPath, exited: make(chan struct{}),
	}
	cmd := exec.Command(bin.path)
	cmd.Dir = workDir
	cmd.Env = serverEnv(
		"DATABASE_URL="+dbURL,
		fmt.Sprintf("PORT=%d", port),
		"PORTIER_DATA_DIR="+dataDir,
		"PORTIER_JWT_KEY="+benchJWTKey,
		"PORTIER_PIN_KEY="+benchPinKey,
		"PORTIER_ADMIN_EMAIL="+benchAdminMail,
		"PORTIER_ADMIN_PASSWORD="+benchPassword,
		"PORTIER_LOG_LEVEL=warn",
		"PORTIER_AUTO_MIGRATE=true", // a build before versioned migrations ignores it
		// The login scenario names its clients in X-Forwarded-For (see
		// scenarios.go): only the benchmark's own loopback peer is trusted.
		"PORTIER_TRUSTED_PROXIES=127.0.0.1",
		"PORTIER_DEBUG_ADDR="+s.debugAddr,
	)
	cmd.Stdout, cmd.Stderr = logf, logf
	// Its own process group, so a Ctrl-C at the terminal reaches only this
	// tool, which stops the server; and killed with this tool if it dies.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin.path, err)
	}
	s.cmd, s.pid = cmd, cmd.Process.Pid
	track(s, true)
	go func() { s.waitErr = cmd.Wait(); close(s.exited) }()

	deadline := time.Now().Add(90 * time.Second)
	hc := &http.Client{Timeout: 2 * time.Second}
	for {
		select {
		case <-s.exited:
			track(s, false)
			return nil, fmt.Errorf("the %s server exited during start (%v); its log %s ends:\n%s", bin.label, s.waitErr, logPath, tail(logPath, 20))
		case <-ctx.Done():
			s.stop()
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		resp, err := hc.Get(s.url + "/readyz")
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s, nil
			}
		}
		if time.Now().After(deadline) {
			s.stop()
			return nil, fmt.Errorf("the %s server was not ready after 90 s; its log %s ends:\n%s", bin.label, logPath, tail(logPath, 20))
		}
	}
}

// stop ends the server: SIGTERM, and SIGKILL after 15 s.
func (s *server) stop() {
	if !track(s, false) {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(15 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
	var ee *exec.ExitError
	if s.waitErr != nil && !errors.As(s.waitErr, &ee) {
		warnf("the %s server: %v", s.bin.label, s.waitErr)
	} else if s.waitErr != nil && ee.ExitCode() != 0 {
		warnf("the %s server exited with %v; its log %s ends:\n%s", s.bin.label, s.waitErr, s.logPath, tail(s.logPath, 10))
	}
}

// alive tells whether the server is still running.
func (s *server) alive() bool {
	select {
	case <-s.exited:
		return false
	default:
		return true
	}
}

// stopAll stops every server still running (exit, interrupt).
func stopAll() {
	runningMu.Lock()
	var all []*server
	for s := range running {
		all = append(all, s)
	}
	runningMu.Unlock()
	for _, s := range all {
		s.stop()
	}
}

// killAll kills every server still running at once (a second interrupt).
func killAll() {
	runningMu.Lock()
	defer runningMu.Unlock()
	for s := range running {
		_ = s.cmd.Process.Kill()
	}
}

// tail is the last n lines of a file.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return "    " + strings.Join(lines, "\n    ")
}
