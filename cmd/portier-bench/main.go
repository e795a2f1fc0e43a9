// Command portier-bench is the rerunnable load benchmark behind `make bench`.
//
// It runs inside a throwaway PostgreSQL cluster (scripts/with-postgres.sh,
// started with pg_stat_statements preloaded; TEST_DATABASE_URL names it),
// builds the server of this checkout (and with BASE=<rev> that of <rev>, in
// a temporary git worktree), seeds 1,000 customer accounts × 10 contacts ×
// 5 role assignments with a user per contact into the database bench_seed,
// and then, for every scenario and binary, copies the seed into a fresh
// database and, at each concurrency, starts the server on it and drives the
// GraphQL scenario for a fixed time after a short warm-up (with a base, the
// two binaries take turns at each concurrency). It prints one
// table row per scenario, concurrency and binary (req/s, latency p50/p99,
// errors, SQL statements, server and PostgreSQL CPU per request, server CPU
// per returned object, peak RSS) and writes the same as JSON to
// bench-results/<timestamp>.json.
//
// Configuration (flags, or the environment as make passes it):
//
//	-base / BASE                  a revision to compare with (new/base ratios)
//	-duration / BENCH_DURATION    measured time per scenario and concurrency (10s)
//	-warmup / BENCH_WARMUP        warm-up before each measurement (1s)
//	-scenarios / BENCH_SCENARIOS  comma list (default: all)
//	-conc / BENCH_CONC            comma list of concurrencies (1,8,32)
//	-pprof / BENCH_PPROF          a directory: a CPU profile of nested20 at c=8
//	-out / BENCH_OUT              result directory (bench-results)
//	-keep / BENCH_KEEP=1          keep the work directory (binaries, server logs);
//	                              with GODEBUG=gctrace=1 the logs show each collection
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	_ "github.com/lib/pq"
)

type options struct {
	base      string
	duration  time.Duration
	warmup    time.Duration
	scenarios []*scenario
	concs     []int
	pprofDir  string
	outDir    string
	keep      bool
	dsn       string
}

var started = time.Now()

func progressf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "[bench %6.1fs] %s\n", time.Since(started).Seconds(), fmt.Sprintf(format, args...))
}

func warnf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "[bench %6.1fs] WARNING: %s\n", time.Since(started).Seconds(), fmt.Sprintf(format, args...))
}

func main() {
	opts, err := parseOptions(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "portier-bench:", err)
		os.Exit(2)
	}
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		s := <-sigs
		warnf("%v: stopping the servers and cleaning up (again to kill at once)", s)
		cancel()
		<-sigs
		killAll()
		os.Exit(130)
	}()
	err = run(ctx, opts)
	interrupted := ctx.Err() != nil
	stopAll()
	cancel()
	if err != nil {
		if interrupted {
			fmt.Fprintln(os.Stderr, "portier-bench: interrupted")
			os.Exit(130)
		}
		fmt.Fprintln(os.Stderr, "portier-bench: error:", err)
		os.Exit(1)
	}
}

func envOr(k, def string) string {
	if v := strings.TrimSpace(os.Getenv(k)); v != "" {
		return v
	}
	return def
}

// parseDuration takes a Go duration ("3s", "1m") or plain seconds ("3").
func parseDuration(s string) (time.Duration, error) {
	if n, err := strconv.ParseFloat(s, 64); err == nil {
		return time.Duration(n * float64(time.Second)), nil
	}
	return time.ParseDuration(s)
}

func parseOptions(args []string) (*options, error) {
	fs := flag.NewFlagSet("portier-bench", flag.ContinueOnError)
	base := fs.String("base", envOr("BASE", ""), "revision to compare with, built in a temporary git worktree (env BASE)")
	dur := fs.String("duration", envOr("BENCH_DURATION", "10s"), "measured time per scenario and concurrency (env BENCH_DURATION)")
	warm := fs.String("warmup", envOr("BENCH_WARMUP", "1s"), "warm-up before each measurement (env BENCH_WARMUP)")
	scen := fs.String("scenarios", envOr("BENCH_SCENARIOS", ""), "comma list of scenarios: "+strings.Join(scenarioNames(), ",")+" (env BENCH_SCENARIOS; default all)")
	conc := fs.String("conc", envOr("BENCH_CONC", "1,8,32"), "comma list of concurrencies (env BENCH_CONC)")
	prof := fs.String("pprof", envOr("BENCH_PPROF", ""), "directory for a CPU profile of nested20 at c=8 (env BENCH_PPROF)")
	out := fs.String("out", envOr("BENCH_OUT", "bench-results"), "directory of the JSON results (env BENCH_OUT)")
	keepEnv, _ := strconv.ParseBool(envOr("BENCH_KEEP", "false"))
	keep := fs.Bool("keep", keepEnv, "keep the work directory with the binaries and server logs (env BENCH_KEEP=1)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	o := &options{base: *base, pprofDir: *prof, outDir: *out, keep: *keep}
	var err error
	// Access tokens live 15 minutes: a phase must end before its token.
	if o.duration, err = parseDuration(*dur); err != nil || o.duration < 100*time.Millisecond || o.duration > 10*time.Minute {
		return nil, fmt.Errorf("duration %q: want a duration from 100ms to 10m, e.g. 10s", *dur)
	}
	if o.warmup, err = parseDuration(*warm); err != nil || o.warmup < 0 || o.warmup > time.Minute {
		return nil, fmt.Errorf("warm-up %q: want a duration up to 1m, e.g. 1s or 0", *warm)
	}
	if *scen == "" {
		o.scenarios = allScenarios
	} else {
		want := map[string]bool{}
		for _, n := range strings.Split(*scen, ",") {
			if n = strings.TrimSpace(n); n != "" {
				want[n] = true
			}
		}
		for _, s := range allScenarios {
			if want[s.name] {
				o.scenarios = append(o.scenarios, s)
				delete(want, s.name)
			}
		}
		if len(want) > 0 {
			var unknown []string
			for n := range want {
				unknown = append(unknown, n)
			}
			return nil, fmt.Errorf("unknown scenarios %q; there are %s", unknown, strings.Join(scenarioNames(), ", "))
		}
	}
	if len(o.scenarios) == 0 {
		return nil, errors.New("no scenario selected")
	}
	for _, c := range strings.Split(*conc, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(c))
		if err != nil || n < 1 || n > seedAccounts {
			return nil, fmt.Errorf("concurrency %q: want numbers from 1 to %d, e.g. 1,8,32", c, seedAccounts)
		}
		o.concs = append(o.concs, n)
	}
	o.dsn = envOr("BENCH_DATABASE_URL", os.Getenv("TEST_DATABASE_URL"))
	if o.dsn == "" {
		return nil, errors.New("no PostgreSQL cluster: run it as `make bench`, or under scripts/with-postgres.sh " +
			"with WITH_POSTGRES_OPTS='-c shared_preload_libraries=pg_stat_statements' (it sets TEST_DATABASE_URL)")
	}
	return o, nil
}

// result is one row: a scenario at one concurrency on one binary.
type result struct {
	Scenario    string  `json:"scenario"`
	Binary      string  `json:"binary"`
	Revision    string  `json:"revision"`
	Concurrency int     `json:"concurrency"`
	Requests    int64   `json:"requests"`
	Errors      int64   `json:"errors"`
	Seconds     float64 `json:"seconds"`
	ReqPerSec   float64 `json:"reqPerSec"`
	P50ms       float64 `json:"p50Ms"`
	P99ms       float64 `json:"p99Ms"`
	// SQLPerReq is statements per request from pg_stat_statements (null
	// when it is not available).
	SQLPerReq         *float64       `json:"sqlPerReq"`
	ServerCPUmsPerReq float64        `json:"serverCpuMsPerReq"`
	PGCPUmsPerReq     float64        `json:"postgresCpuMsPerReq"`
	ClientCPUmsPerReq float64        `json:"clientCpuMsPerReq"`
	ObjectsPerReq     float64        `json:"objectsPerReq,omitempty"`
	ServerUsPerObject *float64       `json:"serverCpuUsPerObject,omitempty"`
	PeakRSSMiB        float64        `json:"peakRssMiB"`
	WarmupErrors      int64          `json:"warmupErrors"`
	ErrorSamples      map[string]int `json:"errorSamples,omitempty"`
	Profile           string         `json:"cpuProfile,omitempty"`
}

type report struct {
	Started     time.Time `json:"started"`
	GoVersion   string    `json:"goVersion"`
	CPUs        int       `json:"cpus"`
	Postgres    string    `json:"postgres"`
	Duration    string    `json:"duration"`
	Warmup      string    `json:"warmup"`
	Concurrency []int     `json:"concurrency"`
	Seed        string    `json:"seed"`
	LoadAvg     string    `json:"loadAvgStart"` // /proc/loadavg: other work on the machine skews the figures
	LoadAvgEnd  string    `json:"loadAvgEnd"`
	New         string    `json:"newRevision"`
	Base        string    `json:"baseRevision,omitempty"`
	Results     []*result `json:"results"`
}

func run(ctx context.Context, o *options) error {
	repo, err := runCmd(ctx, ".", "git", "rev-parse", "--show-toplevel")
	if err != nil {
		return fmt.Errorf("run portier-bench inside the Portier repository: %w", err)
	}
	repo = strings.TrimSpace(repo)

	loadAvg0 := loadAvg()
	cl, err := openCluster(ctx, o.dsn)
	if err != nil {
		return err
	}
	defer cl.close()
	progressf("PostgreSQL %s, postmaster pid %d; pg_stat_statements: %v; load average %s", cl.version, cl.postmaster, cl.pgss, loadAvg0)
	if f := strings.Fields(loadAvg0); len(f) > 0 {
		if l, err := strconv.ParseFloat(f[0], 64); err == nil && l > 0.5*float64(runtime.NumCPU()) {
			warnf("the machine is busy (load average %s on %d CPUs): the figures will be noisy", loadAvg0, runtime.NumCPU())
		}
	}

	tmp, err := os.MkdirTemp("", "portier-bench.")
	if err != nil {
		return err
	}
	if o.keep {
		defer progressf("kept the work directory %s", tmp)
	} else {
		defer os.RemoveAll(tmp)
	}

	progressf("building the server of this checkout")
	bins := []*binary{}
	newBin := &binary{label: "new", rev: revision(ctx, repo), path: filepath.Join(tmp, "portier-new")}
	if err := buildServer(ctx, repo, newBin.path); err != nil {
		return err
	}
	if o.base != "" {
		progressf("building BASE=%s in a temporary worktree", o.base)
		b, err := buildBase(ctx, repo, tmp, o.base)
		if err != nil {
			return err
		}
		bins = append(bins, b)
	}
	bins = append(bins, newBin)

	progressf("creating the schema (the new server migrates %s) and the staff admin", seedDB)
	if err := cl.createDB(ctx, seedDB, ""); err != nil {
		return err
	}
	srv, err := startServer(ctx, newBin, cl.urlFor(seedDB), tmp)
	if err != nil {
		return err
	}
	srv.stop()
	progressf("seeding %d accounts × %d contacts × %d role assignments, a user per contact", seedAccounts, contactsPerAccount, rolesPerContact)
	data, err := seed(ctx, cl.urlFor(seedDB))
	if err != nil {
		return fmt.Errorf("seeding: %w", err)
	}
	progressf("seeded")

	rep := &report{
		Started: started.UTC(), GoVersion: runtime.Version(), CPUs: runtime.NumCPU(), Postgres: cl.version,
		Duration: o.duration.String(), Warmup: o.warmup.String(), Concurrency: o.concs, New: newBin.rev, LoadAvg: loadAvg0,
		Seed: fmt.Sprintf("%d customer accounts x %d contacts x %d role assignments, a user per contact", seedAccounts, contactsPerAccount, rolesPerContact),
	}
	if o.base != "" {
		rep.Base = bins[0].rev
	}
	maxConc := 0
	for _, c := range o.concs {
		maxConc = max(maxConc, c)
	}
	verified := false
	for _, sc := range o.scenarios {
		rows, err := runScenario(ctx, cl, o, data, sc, bins, maxConc, tmp, &verified)
		rep.Results = append(rep.Results, rows...)
		if err != nil {
			if ctx.Err() == nil && len(rep.Results) > 0 {
				printTable(os.Stdout, rep.Results, o.base != "")
			}
			return fmt.Errorf("scenario %s: %w", sc.name, err)
		}
	}
	_ = cl.dropDB(ctx, seedDB)
	rep.LoadAvgEnd = loadAvg()

	fmt.Fprintf(os.Stdout, "\nportier-bench: new %s", newBin.rev)
	if o.base != "" {
		fmt.Fprintf(os.Stdout, ", base %s", rep.Base)
	}
	fmt.Fprintf(os.Stdout, "; %s per row after %s warm-up; %s; PostgreSQL %s; %d CPUs; load average %s at the start, %s at the end\n\n",
		o.duration, o.warmup, rep.Seed, cl.version, runtime.NumCPU(), rep.LoadAvg, rep.LoadAvgEnd)
	printTable(os.Stdout, rep.Results, o.base != "")

	dir := o.outDir
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(repo, dir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	path := filepath.Join(dir, started.Format("20060102-150405")+".json")
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(os.Stdout, "\nJSON: %s\n", path)
	var errs int64
	for _, r := range rep.Results {
		errs += r.Errors + r.WarmupErrors
	}
	if errs > 0 {
		return fmt.Errorf("%d requests failed (see the errors column and errorSamples in %s)", errs, path)
	}
	return nil
}

// runDB is the database a binary runs a scenario on: a fresh copy of the
// seed per scenario and binary.
func runDB(bin *binary) string { return "bench_run_" + bin.label }

// runScenario runs one scenario at every concurrency. With a base, the two
// binaries take turns at each concurrency (base, then new), each on its own
// fresh copy of the seed, so that the pair is measured close together. Every
// row starts a fresh server process.
func runScenario(ctx context.Context, cl *cluster, o *options, data *seedData, sc *scenario, bins []*binary, maxConc int, tmp string, verified *bool) ([]*result, error) {
	envs := make([]*runEnv, len(bins))
	tokensAt := make([]time.Time, len(bins))
	for i, bin := range bins {
		if err := cl.createDB(ctx, runDB(bin), seedDB); err != nil {
			return nil, err
		}
		defer func() {
			cctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if err := cl.dropDB(cctx, runDB(bin)); err != nil {
				warnf("%v", err)
			}
		}()
		envs[i] = newRunEnv(data)
		defer envs[i].stop()
	}
	var rows []*result
	for _, c := range o.concs {
		for i, bin := range bins {
			e := envs[i]
			dbURL := cl.urlFor(runDB(bin))
			// Log in on a server of its own, then measure on a fresh one:
			// the logins' memory (argon2id) must not count in the row's
			// peak RSS, and every row starts from a new process. Access
			// tokens (JWT, 15 minutes) outlive the restart (the sessions
			// are in the binary's database); they are renewed in time.
			if tokensAt[i].IsZero() || time.Since(tokensAt[i])+o.warmup+o.duration > 13*time.Minute {
				if err := e.start(ctx, bin, dbURL, tmp); err != nil {
					return rows, err
				}
				if err := e.verify(ctx); err != nil {
					return rows, fmt.Errorf("the %s server: %w", bin.label, err)
				}
				if !*verified {
					progressf("seed verified through GraphQL: %d customer accounts, %d users", seedAccounts, seedAccounts*contactsPerAccount+1)
					*verified = true
				}
				if err := sc.prepare(ctx, e, maxConc); err != nil {
					return rows, fmt.Errorf("preparing %s on the %s server: %w", sc.name, bin.label, err)
				}
				tokensAt[i] = time.Now()
				e.stop()
			}
			if err := e.start(ctx, bin, dbURL, tmp); err != nil {
				return rows, err
			}
			r, err := measure(ctx, cl, o, e, sc, c, runDB(bin))
			e.stop()
			if err != nil {
				return rows, fmt.Errorf("the %s server: %w", bin.label, err)
			}
			rows = append(rows, r)
			line := fmt.Sprintf("%-13s %-4s c=%-3d %8.1f req/s  p50 %7.2f ms  p99 %7.2f ms  errors %d  server %.2f ms/req",
				sc.name, bin.label, c, r.ReqPerSec, r.P50ms, r.P99ms, r.Errors, r.ServerCPUmsPerReq)
			if r.SQLPerReq != nil {
				line += fmt.Sprintf("  %.1f SQL/req", *r.SQLPerReq)
			}
			progressf("%s", line)
			for msg, n := range r.ErrorSamples {
				warnf("%s %s c=%d: %d× %s", sc.name, bin.label, c, n, msg)
			}
		}
	}
	return rows, nil
}

// measure runs a warm-up and then the measured phase of one scenario at one
// concurrency, and reads the server's and the cluster's figures around it.
func measure(ctx context.Context, cl *cluster, o *options, e *runEnv, sc *scenario, conc int, dbname string) (*result, error) {
	r := &result{Scenario: sc.name, Binary: e.srv.bin.label, Revision: e.srv.bin.rev, Concurrency: conc}
	if o.warmup > 0 {
		w := drive(ctx, e, sc, conc, o.warmup)
		r.WarmupErrors = w.errors
		for msg, n := range w.samples {
			warnf("warm-up of %s c=%d: %d× %s", sc.name, conc, n, msg)
		}
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	pid := e.srv.pid
	if err := cl.resetStatements(ctx); err != nil {
		return nil, fmt.Errorf("pg_stat_statements_reset: %w", err)
	}
	if err := resetPeakRSS(pid); err != nil {
		warnf("cannot reset the peak RSS of the server (%v): it is the peak since its start", err)
	}
	srv0, err := processCPU(pid)
	if err != nil {
		return nil, err
	}
	pg0, err := cl.cpuTicks()
	if err != nil {
		return nil, err
	}
	self0 := selfCPU()

	var profDone chan error
	if o.pprofDir != "" && sc.name == "nested20" && conc == 8 {
		r.Profile = filepath.Join(o.pprofDir, fmt.Sprintf("%s-nested20-c8-%s.pprof", started.Format("20060102-150405"), e.srv.bin.label))
		profDone = make(chan error, 1)
		secs := int(math.Ceil(o.duration.Seconds()))
		go func() { profDone <- fetchProfile(ctx, e.srv.debugAddr, secs, r.Profile) }()
	}

	p := drive(ctx, e, sc, conc, o.duration)

	srv1, err := processCPU(pid)
	if err != nil {
		return nil, fmt.Errorf("the server is gone (%v); its log %s ends:\n%s", err, e.srv.logPath, tail(e.srv.logPath, 20))
	}
	pg1, err := cl.cpuTicks()
	if err != nil {
		return nil, err
	}
	self1 := selfCPU()
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	stmts, serr := cl.statements(ctx, dbname)
	hwm, err := peakRSS(pid)
	if err != nil {
		return nil, err
	}
	if profDone != nil {
		if err := <-profDone; err != nil {
			warnf("CPU profile: %v", err)
			r.Profile = ""
		} else {
			progressf("CPU profile of %s nested20 c=8: %s", e.srv.bin.label, r.Profile)
		}
	}

	n := float64(p.requests)
	r.Requests, r.Errors = p.requests, p.errors
	r.Seconds = p.elapsed.Seconds()
	if len(p.samples) > 0 {
		r.ErrorSamples = p.samples
	}
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	r.P50ms, r.P99ms = ms(percentile(p.latencies, 0.50)), ms(percentile(p.latencies, 0.99))
	r.PeakRSSMiB = float64(hwm) / (1 << 20)
	if n > 0 {
		r.ReqPerSec = n / r.Seconds
		r.ServerCPUmsPerReq = ms(ticksToDuration(srv1-srv0)) / n
		r.PGCPUmsPerReq = ms(ticksToDuration(pg1-pg0)) / n
		r.ClientCPUmsPerReq = ms(ticksToDuration(self1-self0)) / n
		if serr == nil {
			v := float64(stmts) / n
			r.SQLPerReq = &v
		}
		if good := p.requests - p.errors; good > 0 {
			r.ObjectsPerReq = float64(p.objects) / float64(good)
		}
		if sc.page > 0 && p.objects > 0 {
			v := float64(ticksToDuration(srv1-srv0)) / float64(time.Microsecond) / float64(p.objects)
			r.ServerUsPerObject = &v
		}
	}
	if serr != nil && !errors.Is(serr, errNoStatements) {
		warnf("counting SQL statements: %v", serr)
	}
	return r, nil
}

// loadAvg is the 1, 5 and 15 minute load averages of the machine.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// fetchProfile saves a CPU profile of secs seconds from the server's
// PORTIER_DEBUG_ADDR listener.
func fetchProfile(ctx context.Context, addr string, secs int, path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", addr, secs), nil)
	if err != nil {
		return err
	}
	resp, err := (&http.Client{Timeout: time.Duration(secs+60) * time.Second}).Do(req)
	if err != nil {
		return fmt.Errorf("%v (does this server serve PORTIER_DEBUG_ADDR?)", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
		return fmt.Errorf("HTTP %d: %s", resp.StatusCode, strings.TrimSpace(string(b)))
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}
