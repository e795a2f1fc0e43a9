package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	_ "github.com/lib/pq"

	"portier/internal/outbox/smtpsink"
	"portier/internal/supportpin"
)

// serverRoleEnv makes the test binary a Portier server (TestMain): the
// cluster test starts three of them as separate processes.
const serverRoleEnv = "PORTIER_TEST_SERVER_PROCESS"

func TestMain(m *testing.M) {
	if os.Getenv(serverRoleEnv) == "1" {
		if err := run(); err != nil {
			fmt.Fprintln(os.Stderr, "portier stopped:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// instance is one Portier process of the cluster test.
type instance struct {
	base string
	cmd  *exec.Cmd
	logs *bytes.Buffer
}

type clusterAnswer struct {
	status     int
	retryAfter string
	body       map[string]any
	raw        string
	err        error // transport error (no answer)
}

func (a clusterAnswer) code() string {
	errs, _ := a.body["errors"].([]any)
	if len(errs) == 0 {
		return ""
	}
	ext, _ := errs[0].(map[string]any)["extensions"].(map[string]any)
	c, _ := ext["code"].(string)
	return c
}

func (a clusterAnswer) reason() string {
	errs, _ := a.body["errors"].([]any)
	if len(errs) == 0 {
		return ""
	}
	ext, _ := errs[0].(map[string]any)["extensions"].(map[string]any)
	r, _ := ext["reason"].(string)
	return r
}

// field walks the answer's data: field("login", "accessToken").
func (a clusterAnswer) field(path ...string) any {
	var v any = a.body["data"]
	for _, p := range path {
		m, _ := v.(map[string]any)
		v = m[p]
	}
	return v
}

var clusterHTTP = &http.Client{Timeout: 20 * time.Second}

func (in *instance) post(tok, query string, vars map[string]any, header ...string) clusterAnswer {
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, in.base+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := clusterHTTP.Do(req)
	if err != nil {
		return clusterAnswer{err: err}
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	return clusterAnswer{status: res.StatusCode, retryAfter: res.Header.Get("Retry-After"), body: m, raw: string(raw)}
}

func freePort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return fmt.Sprint(l.Addr().(*net.TCPAddr).Port)
}

func startInstance(t *testing.T, dbURL, smtpURL string) *instance {
	t.Helper()
	port := freePort(t)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if k == "DATABASE_URL" || k == "PORT" || k == "SMTP_URL" || k == "SMS_WEBHOOK_URL" || strings.HasPrefix(k, "PORTIER_") {
			continue
		}
		env = append(env, kv)
	}
	cmd.Env = append(env,
		serverRoleEnv+"=1",
		"PORT="+port,
		"DATABASE_URL="+dbURL,
		"SMTP_URL="+smtpURL,
		"PORTIER_DATA_DIR="+t.TempDir(),
		// The same keys on every instance, as in production.
		"PORTIER_JWT_KEY="+strings.Repeat("ab", 32),
		"PORTIER_PIN_KEY="+strings.Repeat("cd", 32),
		"PORTIER_ADMIN_PASSWORD=cluster-test-admin-pass",
		"PORTIER_AUTO_MIGRATE=true",
		"PORTIER_LOG_LEVEL=warn",
	)
	in := &instance{base: "http://127.0.0.1:" + port, cmd: cmd, logs: &bytes.Buffer{}}
	cmd.Stdout, cmd.Stderr = &lockedBuffer{b: in.logs}, &lockedBuffer{b: in.logs}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(25 * time.Second):
			_ = cmd.Process.Kill()
			t.Errorf("instance %s: no shutdown within 25 s", in.base)
		}
		if t.Failed() {
			t.Logf("instance %s logs:\n%s", in.base, in.logs.String())
		}
	})
	return in
}

type lockedBuffer struct {
	mu sync.Mutex
	b  *bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// Three Portier processes on one PostgreSQL: limits, lockouts, sessions and
// refresh tokens are the same on all; each outbox message leaves once; and
// a restart of PostgreSQL under load gives only 503 with Retry-After, no
// half-written change, no committed write reported as failed without saying
// the outcome is unknown, and recovery within 2 s.
func TestThreeInstancesOnOneDatabase(t *testing.T) {
	if os.Getenv("TEST_DATABASE_URL") == "" {
		t.Skip("runs in the PostgreSQL leg of make test")
	}
	pg := newPGCluster(t)
	dbURL := pg.url()
	sink := smtpsink.Start(t)

	ins := []*instance{startInstance(t, dbURL, sink.URL())}
	waitFor(t, 60*time.Second, func() bool { return status(ins[0].base+"/readyz") == http.StatusOK })
	ins = append(ins, startInstance(t, dbURL, sink.URL()), startInstance(t, dbURL, sink.URL()))
	for _, in := range ins[1:] {
		waitFor(t, 60*time.Second, func() bool { return status(in.base+"/readyz") == http.StatusOK })
	}

	login := func(in *instance, user, pw string) clusterAnswer {
		return in.post("", `mutation($u: String!, $p: String!) { login(input: {login: $u, password: $p}) { accessToken refreshToken } }`,
			map[string]any{"u": user, "p": pw})
	}
	a := login(ins[0], "admin@example.com", "cluster-test-admin-pass")
	admin, _ := a.field("login", "accessToken").(string)
	if admin == "" {
		t.Fatalf("admin login: %s", a.raw)
	}
	a = ins[1].post(admin, `mutation { createCustomerAccount(input: {number: "30001", name: "Cluster GmbH"}) { id } }`, nil)
	acct, _ := a.field("createCustomerAccount", "id").(string)
	if acct == "" {
		t.Fatalf("create account: %s", a.raw)
	}
	// A business account adds people once it has a confirmed organisation
	// domain (proposed by staff, it is confirmed at once).
	a = ins[2].post(admin, `mutation($a: ID!) { proposeOrganisationDomain(input: {customerAccountID: $a, domain: "cluster.example"}) { id } }`,
		map[string]any{"a": acct})
	if dom, _ := a.field("proposeOrganisationDomain", "id").(string); dom == "" {
		t.Fatalf("propose domain: %s", a.raw)
	}

	t.Run("login lockout is global", func(t *testing.T) {
		// 5 attempts per login and address; the 6th is refused on
		// whichever instance it reaches.
		for i := range 5 {
			a := login(ins[i%3], "nobody@cluster.example", "wrong-password")
			if a.code() != "UNAUTHENTICATED" {
				t.Fatalf("attempt %d on instance %d: %s", i+1, i%3, a.raw)
			}
		}
		for i, in := range ins {
			if a := login(in, "nobody@cluster.example", "wrong-password"); a.code() != "RATE_LIMITED" {
				t.Fatalf("attempt past the limit on instance %d: %s", i, a.raw)
			}
		}
	})

	t.Run("support PIN lockout is global", func(t *testing.T) {
		verify := func(in *instance) clusterAnswer {
			return in.post(admin, `mutation { verifySupportPin(input: {customerNumber: "30001", pin: "00000000"}) { match } }`, nil)
		}
		limited := -1
		for i := range 9 {
			a := verify(ins[i%3])
			if a.code() == "RATE_LIMITED" {
				limited = i
				break
			}
			if a.code() != "" || a.field("verifySupportPin", "match") != false {
				t.Fatalf("wrong PIN %d on instance %d: %s", i+1, i%3, a.raw)
			}
		}
		if limited != supportpin.RuleFailedChecks.Limit {
			t.Fatalf("the first refusal came after %d wrong PINs across the instances, want after %d (the limit of one account, counted once for all instances)", limited, supportpin.RuleFailedChecks.Limit)
		}
		for i, in := range ins {
			if a := verify(in); a.code() != "RATE_LIMITED" {
				t.Fatalf("PIN check on instance %d after the lockout (reached after %d wrong PINs): %s", i, limited, a.raw)
			}
		}
	})

	t.Run("a rotated refresh token is refused on another instance", func(t *testing.T) {
		a := login(ins[0], "admin@example.com", "cluster-test-admin-pass")
		r1, _ := a.field("login", "refreshToken").(string)
		if r1 == "" {
			t.Fatalf("login: %s", a.raw)
		}
		const refresh = `mutation($r: String!) { refreshSession(refreshToken: $r) { accessToken refreshToken } }`
		a = ins[1].post("", refresh, map[string]any{"r": r1})
		r2, _ := a.field("refreshSession", "refreshToken").(string)
		if r2 == "" {
			t.Fatalf("refresh on instance 1: %s", a.raw)
		}
		// The new one works on a third instance.
		a = ins[2].post("", refresh, map[string]any{"r": r2})
		if r3, _ := a.field("refreshSession", "refreshToken").(string); r3 == "" {
			t.Fatalf("refresh of the rotated token on instance 2: %s", a.raw)
		}
		// The old one is refused everywhere.
		for i, in := range ins {
			if a := in.post("", refresh, map[string]any{"r": r1}); a.code() != "UNAUTHENTICATED" {
				t.Fatalf("the rotated-out refresh token on instance %d: %s", i, a.raw)
			}
		}
	})

	t.Run("a session ended on one instance is dead on all", func(t *testing.T) {
		a := login(ins[2], "admin@example.com", "cluster-test-admin-pass")
		tok, _ := a.field("login", "accessToken").(string)
		for i, in := range ins {
			if a := in.post(tok, `{ me { kind } }`, nil); a.code() != "" {
				t.Fatalf("me on instance %d before logout: %s", i, a.raw)
			}
		}
		if a := ins[0].post(tok, `mutation { logout }`, nil); a.field("logout") != true {
			t.Fatalf("logout: %s", a.raw)
		}
		for i, in := range ins {
			if a := in.post(tok, `{ me { kind } }`, nil); a.code() != "UNAUTHENTICATED" {
				t.Fatalf("me on instance %d after logout on instance 0: %s", i, a.raw)
			}
		}
	})

	t.Run("each outbox message is sent once", func(t *testing.T) {
		const n = 12
		for i := range n {
			a := ins[i%3].post(admin, `mutation($a: ID!, $e: String!) { inviteContact(input: {customerAccountID: $a, email: $e, roles: [PORTAL_ACCESS]}) { id } }`,
				map[string]any{"a": acct, "e": fmt.Sprintf("invitee%02d@cluster.example", i)})
			if a.code() != "" {
				t.Fatalf("invitation %d: %s", i, a.raw)
			}
		}
		count := func() map[string]int {
			got := map[string]int{}
			for _, m := range sink.Messages() {
				for _, to := range m.To {
					if strings.HasSuffix(to, "@cluster.example") {
						got[to]++
					}
				}
			}
			return got
		}
		waitFor(t, 30*time.Second, func() bool { return len(count()) == n })
		time.Sleep(3 * time.Second) // three workers' further passes
		for to, k := range count() {
			if k != 1 {
				t.Errorf("%s got %d messages", to, k)
			}
		}
	})

	t.Run("PostgreSQL restarts under load", func(t *testing.T) {
		restartUnderLoad(t, pg, ins, admin, acct, sink)
	})
}

// write is one createContact of the load and what it was told.
type write struct {
	name   string
	answer clusterAnswer
}

func restartUnderLoad(t *testing.T, pg *pgCluster, ins []*instance, admin, acct string, sink *smtpsink.Sink) {
	const (
		workers  = 8
		duration = 30 * time.Second
		downAt   = 8 * time.Second
		downFor  = 6 * time.Second
	)
	ctx, cancel := context.WithTimeout(context.Background(), duration)
	defer cancel()
	var (
		mu      sync.Mutex
		writes  []write
		invites []write
		bad     []string
		reads   atomic.Int64
		refused atomic.Int64
	)
	var seq atomic.Int64
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ctx.Err() == nil; i++ {
				in := ins[(w+i)%len(ins)]
				var a clusterAnswer
				switch {
				case i%2 == 0:
					a = in.post(admin, `query { customerAccount(number: "30001") { name contacts(first: 5) { edges { node { name } } } } }`, nil)
					reads.Add(1)
				case i%4 == 3:
					// An invitation: its mail goes through the outbox,
					// whose workers run on the instances through the outage.
					email := fmt.Sprintf("load-%d-%d@cluster.example", w, seq.Add(1))
					a = in.post(admin, `mutation($a: ID!, $e: String!) { inviteContact(input: {customerAccountID: $a, email: $e, roles: [PORTAL_ACCESS]}) { id } }`,
						map[string]any{"a": acct, "e": email}, "Idempotency-Key", "invite-"+strings.NewReplacer("@", "-", ".", "-").Replace(email))
					mu.Lock()
					invites = append(invites, write{name: email, answer: a})
					mu.Unlock()
				default:
					name := fmt.Sprintf("Load %d-%d", w, seq.Add(1))
					a = in.post(admin, `mutation($a: ID!, $n: String!) { createContact(input: {customerAccountID: $a, name: $n, roles: [PORTAL_ACCESS, TECHNICAL_CONTACT]}) { id } }`,
						map[string]any{"a": acct, "n": name}, "Idempotency-Key", "load-"+strings.ReplaceAll(strings.ToLower(name), " ", "-"))
					mu.Lock()
					writes = append(writes, write{name: name, answer: a})
					mu.Unlock()
				}
				switch {
				case a.err != nil:
					mu.Lock()
					bad = append(bad, "transport error: "+a.err.Error())
					mu.Unlock()
				case a.status == http.StatusOK && a.code() == "":
				case a.status == http.StatusServiceUnavailable && a.retryAfter != "" && a.code() == "UNAVAILABLE":
					refused.Add(1)
					time.Sleep(50 * time.Millisecond)
				default:
					mu.Lock()
					bad = append(bad, fmt.Sprintf("%d (Retry-After %q): %s", a.status, a.retryAfter, a.raw))
					mu.Unlock()
				}
			}
		}()
	}

	time.Sleep(downAt)
	pg.stop()
	time.Sleep(downFor)
	pg.start()
	back := time.Now()
	// Every instance answers a read again within 2 s of PostgreSQL
	// accepting connections, without being restarted.
	var recovered [3]time.Duration
	for i, in := range ins {
		for {
			a := in.post(admin, `{ me { kind } }`, nil)
			if a.status == http.StatusOK && a.code() == "" {
				recovered[i] = time.Since(back)
				break
			}
			if time.Since(back) > 10*time.Second {
				t.Fatalf("instance %d does not answer 10 s after PostgreSQL is back: %d %s", i, a.status, a.raw)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	wg.Wait()
	for i, d := range recovered {
		if d > 2*time.Second {
			t.Errorf("instance %d answered again %s after PostgreSQL was back, want within 2 s", i, d)
		}
	}
	t.Logf("%d reads, %d writes, %d answered 503 with Retry-After; recovery %v", reads.Load(), len(writes), refused.Load(), recovered)
	for _, b := range bad[:min(len(bad), 5)] {
		t.Errorf("an answer other than success or 503 UNAVAILABLE with Retry-After: %s", b)
	}
	if len(bad) > 5 {
		t.Errorf("and %d more", len(bad)-5)
	}
	if refused.Load() == 0 {
		t.Error("no request met the outage: the test did not test it")
	}

	// What the database holds against what each write was told.
	db, err := sql.Open("postgres", pg.url())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT c.name, count(r.id) FROM contacts c LEFT JOIN role_assignments r ON r.contact_id = c.id WHERE c.name LIKE 'Load %' GROUP BY c.name`)
	if err != nil {
		t.Fatal(err)
	}
	stored := map[string]int{}
	for rows.Next() {
		var name string
		var roles int
		if err := rows.Scan(&name, &roles); err != nil {
			t.Fatal(err)
		}
		stored[name] = roles
	}
	_ = rows.Close()
	var ok, failed, unknown int
	for _, w := range writes {
		roles, exists := stored[w.name]
		if exists && roles != 2 {
			t.Errorf("contact %q was written with %d of its 2 role assignments: a half-written change", w.name, roles)
		}
		switch {
		case w.answer.status == http.StatusOK && w.answer.code() == "":
			ok++
			if !exists {
				t.Errorf("contact %q was reported created but is not there", w.name)
			}
		case w.answer.reason() == "OUTCOME_UNKNOWN":
			unknown++ // either way is right; the client was told it cannot know
		default:
			failed++
			if exists {
				t.Errorf("contact %q was reported as failed (%s) but was committed", w.name, w.answer.raw)
			}
		}
	}
	t.Logf("writes: %d succeeded, %d failed and were not written, %d with an unknown outcome", ok, failed, unknown)
	if ok == 0 {
		t.Error("no write succeeded")
	}

	// Every invitation reported as made gets exactly one mail, one
	// reported as failed none; the workers went through the outage too.
	mails := func() map[string]int {
		got := map[string]int{}
		for _, m := range sink.Messages() {
			for _, to := range m.To {
				if strings.HasPrefix(to, "load-") {
					got[to]++
				}
			}
		}
		return got
	}
	want := 0
	for _, iv := range invites {
		if iv.answer.status == http.StatusOK && iv.answer.code() == "" {
			want++
		}
	}
	waitFor(t, 60*time.Second, func() bool { return len(mails()) >= want })
	time.Sleep(3 * time.Second) // further passes of the three workers
	got := mails()
	sent := 0
	for _, iv := range invites {
		n := got[iv.name]
		sent += n
		switch {
		case n > 1:
			t.Errorf("%s got %d invitation mails", iv.name, n)
		case iv.answer.status == http.StatusOK && iv.answer.code() == "" && n != 1:
			t.Errorf("%s was invited but got %d mails", iv.name, n)
		case iv.answer.reason() != "OUTCOME_UNKNOWN" && !(iv.answer.status == http.StatusOK && iv.answer.code() == "") && n != 0:
			t.Errorf("the invitation of %s was reported as failed (%s) but its mail was sent", iv.name, iv.answer.raw)
		}
	}
	t.Logf("invitations: %d made, %d mails sent", want, sent)
	if want == 0 {
		t.Error("no invitation was made")
	}
}
