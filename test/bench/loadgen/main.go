// Command loadgen measures MCP servers over loopback HTTP for `make bench`:
// start-to-first-initialize, tools/call of greet per second (one session,
// then N concurrent sessions), the server's CPU time per call (from
// /proc/<pid>/stat), client-side latency, and optionally a 1,000-session
// concurrency check. The stateless rows make the same calls as stateless
// requests of protocol 2026-07-28 (no initialize, no session). Each server
// runs in its own process, pinned with taskset to one core while the load
// generator is pinned to another.
//
//	go run ./test/bench/loadgen -server bare=bin/bench-bare -server ours=bin/mcp-server -concurrency-test
//
// See test/bench/README.md for what each figure means.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"text/tabwriter"
	"time"
)

// pinnedEnv marks the re-executed, pinned load generator.
const pinnedEnv = "MCPBENCH_LOADGEN_PINNED"

// protocolVersion is what the load generator asks for in initialize.
const protocolVersion = "2025-11-25"

// statelessVersion is the protocol of the stateless rows: every request
// names it in its MCP-Protocol-Version header and in params._meta, and
// needs neither initialize nor a session.
const statelessVersion = "2026-07-28"

// statelessMeta is the params._meta of a stateless request, spliced into
// params after the arguments.
const statelessMeta = `,"_meta":{"io.modelcontextprotocol/protocolVersion":"` + statelessVersion +
	`","io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/clientInfo":{"name":"mcp-loadgen","version":"1"}}`

// statelessHeaders are the headers of a stateless tools/call of greet
// beyond Content-Type and Accept: the protocol version, and the method and
// tool name mirrored from the body. Every request of a stateless session
// is such a call.
var statelessHeaders = [][2]string{
	{"MCP-Protocol-Version", statelessVersion},
	{"Mcp-Method", "tools/call"},
	{"Mcp-Name", "greet"},
}

type serverSpec struct{ label, path string }

type serverFlags []serverSpec

func (s *serverFlags) String() string {
	var parts []string
	for _, sp := range *s {
		parts = append(parts, sp.label+"="+sp.path)
	}
	return strings.Join(parts, ",")
}

// Set accepts "label=path" or a bare path (labelled by -label, or by the
// file name).
func (s *serverFlags) Set(v string) error {
	for part := range strings.SplitSeq(v, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		label, path, ok := strings.Cut(part, "=")
		if !ok || strings.ContainsRune(label, '/') {
			label, path = "", part
		}
		if path == "" {
			return fmt.Errorf("-server %q: empty path", part)
		}
		*s = append(*s, serverSpec{label: label, path: path})
	}
	return nil
}

type options struct {
	servers         serverFlags
	label           string
	sessions        int
	duration        time.Duration
	warmup          time.Duration
	serverCPU       int
	clientCPU       int
	noPin           bool
	startRuns       int
	rounds          int
	client          string
	concClient      string
	concurrency     bool
	concSessions    int
	concCalls       int
	quietVariant    bool
	oauth           bool
	stateless       bool
	jsonOut         bool
	enforce         bool
	keepLogs        bool
	pollInterval    time.Duration
	startupDeadline time.Duration
}

// A target is one row: a binary and the extra environment it runs with.
type target struct {
	Label  string   `json:"label"`
	Binary string   `json:"binary"`
	Env    []string `json:"env,omitempty"`
	// OAuth rows run with AUTH_METHOD=oauth and send a bearer token (its
	// own per session) on every request.
	OAuth bool `json:"oauth,omitempty"`
	// Stateless rows run the server as its base row does, but each session
	// is only a connection sending stateless tools/call requests (protocol
	// 2026-07-28): no initialize, no notifications/initialized, no DELETE.
	// Their CPU/call is compared with the "bare stateless" row, bare
	// answering the very same requests.
	Stateless bool `json:"stateless,omitempty"`
	// primary rows get the concurrency test; LOG_REQUESTS=false, stateless
	// and oauth variants do not.
	primary bool
	// base is the label of the row an oauth row is compared with (auth
	// off), or that a stateless row is (the session era).
	base string
}

// isBare reports whether t runs the reference server (bare, or bare with
// stateless requests).
func (t target) isBare() bool {
	return t.Label == "bare" || t.Stateless && t.base == "bare"
}

type startStats struct {
	Runs     int     `json:"runs"`
	MinMS    float64 `json:"min_ms"`
	MedianMS float64 `json:"median_ms"`
	P90MS    float64 `json:"p90_ms"`
	MaxMS    float64 `json:"max_ms"`
}

type loadStats struct {
	Sessions           int     `json:"sessions"`
	Calls              int64   `json:"calls"`
	Errors             int64   `json:"errors"`
	Seconds            float64 `json:"seconds"`
	CallsPerSec        float64 `json:"calls_per_sec"`
	ServerCPUSeconds   float64 `json:"server_cpu_seconds"`
	ServerCPUPerCallUS float64 `json:"server_cpu_per_call_us"`
	// The kernel's share of it (stime), and minor page faults.
	ServerSysPerCallUS     float64 `json:"server_sys_per_call_us"`
	ServerMinFltPer1KCalls float64 `json:"server_minor_faults_per_1k_calls"`
	ServerCPUUtil          float64 `json:"server_cpu_util"` // fraction of one core
	ClientCPUUtil          float64 `json:"client_cpu_util"` // fraction of one core
	// OtherCPUUtil is the CPU the rest of the machine used during the
	// window (fraction of one core): other processes disturb the figures.
	OtherCPUUtil   float64 `json:"other_cpu_util"`
	P50US          float64 `json:"latency_p50_us"`
	P99US          float64 `json:"latency_p99_us"`
	CPURatioVsBare float64 `json:"cpu_per_call_vs_bare,omitempty"`
	// Stateless rows: CPU/call over that of the same server's session-era
	// row (base), with the same number of sessions.
	CPURatioVsSessionEra float64 `json:"cpu_per_call_vs_session_era,omitempty"`
	// Oauth rows: calls/s over that of the same server with auth off.
	CallsRatioVsAuthOff float64 `json:"calls_per_sec_vs_auth_off,omitempty"`
	// With -rounds > 1: the range of CPU/call over the rounds.
	MinCPUPerCallUS float64 `json:"min_cpu_per_call_us,omitempty"`
	MaxCPUPerCallUS float64 `json:"max_cpu_per_call_us,omitempty"`

	total int64 // calls including the warm-up
}

type concStats struct {
	Sessions           int     `json:"sessions"`
	CallsEach          int     `json:"calls_each"`
	Calls              int64   `json:"calls"`
	Errors             int64   `json:"errors"`
	WallSeconds        float64 `json:"wall_seconds"`
	CallsPerSec        float64 `json:"calls_per_sec"`
	ServerCPUPerCallUS float64 `json:"server_cpu_per_call_us"` // includes initialize and DELETE
	ServerRSSKB        int64   `json:"server_rss_kb"`
	ServerPeakRSSKB    int64   `json:"server_peak_rss_kb"`
	ServerThreads      int     `json:"server_threads"`
	HealthyAfter       bool    `json:"healthy_after"`
}

type row struct {
	target
	Start         *startStats `json:"start_to_first_initialize,omitempty"`
	StartDeltaMS  float64     `json:"start_median_delta_vs_bare_ms,omitempty"`
	Serial        *loadStats  `json:"serial,omitempty"`     // the round with the median CPU/call
	Concurrent    *loadStats  `json:"concurrent,omitempty"` // the round with the median CPU/call
	Concurrency   *concStats  `json:"concurrency_test,omitempty"`
	LogBytesPerOp float64     `json:"server_log_bytes_per_call"`
	Errors        []string    `json:"errors,omitempty"`
	Failed        bool        `json:"failed"`

	SerialRounds     []*loadStats `json:"serial_rounds,omitempty"`
	ConcurrentRounds []*loadStats `json:"concurrent_rounds,omitempty"`

	logBytes, logCalls int64
}

type report struct {
	GoVersion    string  `json:"go_version"`
	CPUsOnline   string  `json:"cpus_online"`
	Rounds       int     `json:"rounds"`
	Pinned       bool    `json:"pinned"`
	PinNote      string  `json:"pin_note,omitempty"`
	ServerCPU    int     `json:"server_cpu"`
	ClientCPU    int     `json:"client_cpu"`
	ClkTck       int     `json:"clk_tck"`
	Warmup       string  `json:"warmup"`
	Duration     string  `json:"duration"`
	Sessions     int     `json:"sessions"`
	Rows         []*row  `json:"rows"`
	Targets      []check `json:"targets,omitempty"`
	LogDirectory string  `json:"log_directory,omitempty"`
}

type check struct {
	Label  string  `json:"label"`
	What   string  `json:"what"`
	Value  float64 `json:"value"`
	Limit  float64 `json:"limit"`
	Passed bool    `json:"passed"`
	// AtLeast: Value must be >= Limit (otherwise <=).
	AtLeast bool `json:"at_least,omitempty"`
}

func main() {
	var o options
	flag.Var(&o.servers, "server", "server to measure, as label=path or path (repeatable; comma-separated lists work too); the row labelled \"bare\" is the reference")
	flag.StringVar(&o.label, "label", "", "label of a single -server given without label=")
	flag.IntVar(&o.sessions, "sessions", 16, "concurrent sessions for the throughput measurement")
	flag.DurationVar(&o.duration, "duration", 5*time.Second, "measurement window of each throughput phase")
	flag.DurationVar(&o.warmup, "warmup", time.Second, "warm-up before each measurement window")
	flag.IntVar(&o.serverCPU, "server-cpu", 1, "core to pin the server to (taskset -c)")
	flag.IntVar(&o.clientCPU, "client-cpu", 0, "core to pin the load generator to (taskset -c)")
	flag.BoolVar(&o.noPin, "no-pin", false, "do not pin anything")
	flag.IntVar(&o.startRuns, "start-runs", 20, "fresh processes for start-to-first-initialize")
	flag.StringVar(&o.client, "client", "raw", "client of the throughput phases: raw (a minimal HTTP/1.1 client, so that the load generator is not the bottleneck) or http (net/http Client)")
	flag.StringVar(&o.concClient, "conc-client", "http", "client of the concurrency test: http (net/http Client) or raw")
	flag.IntVar(&o.rounds, "rounds", 3, "throughput rounds per server (interleaved); the round with the median CPU/call is reported")
	flag.BoolVar(&o.concurrency, "concurrency-test", false, "also run the concurrency check (-conc-sessions sessions x -conc-calls tools/call each)")
	flag.IntVar(&o.concSessions, "conc-sessions", 1000, "sessions of the concurrency check")
	flag.IntVar(&o.concCalls, "conc-calls", 20, "sequential tools/call per session in the concurrency check")
	flag.BoolVar(&o.quietVariant, "quiet-row", true, "also measure every non-bare server with LOG_REQUESTS=false")
	flag.BoolVar(&o.oauth, "oauth", true, "also measure every non-bare server with AUTH_METHOD=oauth, each session sending its own bearer token (signed by an in-process issuer)")
	flag.BoolVar(&o.stateless, "stateless-row", true, "also measure every server with stateless tools/call requests of protocol "+statelessVersion+" (no initialize, no session; bare gets the same requests)")
	flag.BoolVar(&o.jsonOut, "json", false, "print the results as JSON on stdout (the table goes to stderr)")
	flag.BoolVar(&o.enforce, "enforce-targets", false, "exit 2 when a target (CPU/call <= 1.25x bare, stateless CPU/call <= 1.15x bare stateless, start within 5 ms of bare, oauth calls/s >= 80% of auth off) is missed")
	flag.BoolVar(&o.keepLogs, "keep-logs", false, "keep the servers' stderr files")
	flag.DurationVar(&o.pollInterval, "poll", 200*time.Microsecond, "interval between initialize attempts while a server starts")
	flag.DurationVar(&o.startupDeadline, "startup-timeout", 10*time.Second, "longest a server may take to answer initialize")
	flag.Parse()
	for _, c := range []string{o.client, o.concClient} {
		if c != "raw" && c != "http" {
			fatalf("-client and -conc-client take raw or http, not %q", c)
		}
	}
	if flag.NArg() > 0 {
		fatalf("unexpected arguments %q", flag.Args())
	}
	if len(o.servers) == 0 {
		fatalf("give at least one -server label=path (see -h)")
	}
	if o.sessions < 1 || o.startRuns < 0 || o.concSessions < 1 || o.concCalls < 1 || o.rounds < 1 {
		fatalf("-sessions, -rounds, -conc-sessions and -conc-calls must be >= 1, -start-runs >= 0")
	}

	rep := &report{GoVersion: runtime.Version(), CPUsOnline: cpusOnline(), Rounds: o.rounds, ServerCPU: o.serverCPU, ClientCPU: o.clientCPU,
		Warmup: o.warmup.String(), Duration: o.duration.String(), Sessions: o.sessions}
	pinServer := false
	switch {
	case o.noPin:
		rep.PinNote = "pinning disabled (-no-pin)"
	case os.Getenv(pinnedEnv) == "1":
		runtime.GOMAXPROCS(1)
		rep.Pinned, pinServer = true, true
	default:
		if note := pinSelf(o); note != "" {
			rep.PinNote = note
		}
	}
	if rep.Pinned && o.serverCPU == o.clientCPU {
		rep.PinNote = "warning: server and load generator share core " + strconv.Itoa(o.serverCPU)
	}
	if rep.Pinned {
		if cpus := allowedCPUs(); cpus != "" && cpus != strconv.Itoa(o.clientCPU) {
			rep.PinNote = "warning: load generator runs on cores " + cpus
		}
	}
	rep.ClkTck = clockTicks()

	// Resolve binaries and labels.
	var targets []target
	for i, sp := range o.servers {
		label := sp.label
		if label == "" {
			if o.label != "" && len(o.servers) == 1 {
				label = o.label
			} else {
				label = filepath.Base(sp.path)
			}
		}
		abs, err := filepath.Abs(sp.path)
		if err == nil {
			_, err = os.Stat(abs)
		}
		if err != nil {
			fatalf("-server %s: %v", sp.path, err)
		}
		for _, t := range targets {
			if t.Label == label {
				label = label + "#" + strconv.Itoa(i+1)
			}
		}
		targets = append(targets, target{Label: label, Binary: abs, primary: true})
	}
	if o.quietVariant {
		var withQuiet []target
		for _, t := range targets {
			withQuiet = append(withQuiet, t)
			if t.Label != "bare" {
				withQuiet = append(withQuiet, target{Label: t.Label + " LOG_REQUESTS=false", Binary: t.Binary, Env: []string{"LOG_REQUESTS=false"}})
			}
		}
		targets = withQuiet
	}
	if o.stateless && slices.ContainsFunc(targets, func(t target) bool { return t.primary && t.Label != "bare" }) {
		// Each server's stateless row comes after its other rows (before
		// its oauth row): "bare stateless" is the reference of the others.
		var withStateless []target
		var base target
		for i, t := range targets {
			if t.primary {
				base = t
			}
			withStateless = append(withStateless, t)
			if i == len(targets)-1 || targets[i+1].primary {
				withStateless = append(withStateless, target{Label: base.Label + " stateless", Binary: base.Binary, Env: base.Env, Stateless: true, base: base.Label})
			}
		}
		targets = withStateless
	}
	var iss *issuer
	if o.oauth && slices.ContainsFunc(targets, func(t target) bool { return t.primary && t.Label != "bare" }) {
		var err error
		if iss, err = startIssuer(); err != nil {
			fatalf("starting the JWKS server of the oauth rows: %v", err)
		}
		// Each non-bare server's oauth row comes after its other rows.
		var withOAuth []target
		var base target
		for i, t := range targets {
			if t.primary {
				base = t
			}
			withOAuth = append(withOAuth, t)
			if base.Label != "bare" && (i == len(targets)-1 || targets[i+1].primary) {
				withOAuth = append(withOAuth, target{Label: base.Label + " oauth", Binary: base.Binary, Env: iss.env(), OAuth: true, base: base.Label})
			}
		}
		targets = withOAuth
	}
	if o.concurrency {
		raiseFDLimit(uint64(o.concSessions)*2 + 256)
	}

	logDir, err := os.MkdirTemp("", "mcp-bench-")
	if err != nil {
		fatalf("%v", err)
	}
	b := &bench{o: o, pin: pinServer, clkTck: rep.ClkTck, logDir: logDir, iss: iss}
	if rep.Pinned {
		progress("load generator pinned to core %d (GOMAXPROCS=1), servers to core %d", o.clientCPU, o.serverCPU)
	} else {
		progress("not pinned: %s", rep.PinNote)
	}
	for _, t := range targets {
		rep.Rows = append(rep.Rows, &row{target: t})
	}
	b.run(rep.Rows)
	compare(rep)
	oauthTargets(rep)

	failed := false
	for _, r := range rep.Rows {
		failed = failed || r.Failed
	}
	if failed || o.keepLogs {
		rep.LogDirectory = logDir
	} else {
		_ = os.RemoveAll(logDir)
	}
	tableOut := io.Writer(os.Stdout)
	if o.jsonOut {
		tableOut = os.Stderr
	}
	printTable(tableOut, rep)
	if o.jsonOut {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(rep)
	}
	if failed {
		fmt.Fprintln(os.Stderr, "loadgen: FAILED: errors were seen (see the errors above; server logs in "+logDir+")")
		os.Exit(1)
	}
	if o.enforce {
		for _, c := range rep.Targets {
			if !c.Passed {
				fmt.Fprintln(os.Stderr, "loadgen: a target was missed")
				os.Exit(2)
			}
		}
	}
}

func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "loadgen: "+format+"\n", args...)
	os.Exit(1)
}

func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "loadgen: "+format+"\n", args...)
}

// pinSelf re-executes the load generator under taskset -c client-cpu (it
// does not return on success). It returns why it could not.
func pinSelf(o options) string {
	taskset, err := exec.LookPath("taskset")
	if err != nil {
		return "taskset not found: server and load generator run unpinned"
	}
	for _, cpu := range []int{o.clientCPU, o.serverCPU} {
		if err := exec.Command(taskset, "-c", strconv.Itoa(cpu), "true").Run(); err != nil {
			return fmt.Sprintf("taskset -c %d fails (%v): server and load generator run unpinned", cpu, err)
		}
	}
	exe, err := os.Executable()
	if err != nil {
		return "cannot find the load generator's executable (" + err.Error() + "): running unpinned"
	}
	argv := append([]string{"taskset", "-c", strconv.Itoa(o.clientCPU), exe}, os.Args[1:]...)
	env := append(os.Environ(), pinnedEnv+"=1")
	err = syscall.Exec(taskset, argv, env)
	return "re-executing under taskset failed (" + err.Error() + "): running unpinned"
}

// allowedCPUs is this process's Cpus_allowed_list.
func allowedCPUs() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return ""
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "Cpus_allowed_list:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func cpusOnline() string {
	b, err := os.ReadFile("/sys/devices/system/cpu/online")
	if err != nil {
		return strconv.Itoa(runtime.NumCPU())
	}
	return strings.TrimSpace(string(b))
}

func clockTicks() int {
	out, err := exec.Command("getconf", "CLK_TCK").Output()
	if err == nil {
		if n, err := strconv.Atoi(strings.TrimSpace(string(out))); err == nil && n > 0 {
			return n
		}
	}
	progress("getconf CLK_TCK failed; assuming 100")
	return 100
}

func raiseFDLimit(need uint64) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return
	}
	if lim.Cur >= need {
		return
	}
	lim.Cur = min(need, lim.Max)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil || lim.Cur < need {
		progress("warning: open-file limit is %d, the concurrency test needs about %d", lim.Cur, need)
	}
}

// --- servers -------------------------------------------------------------

type bench struct {
	o      options
	pin    bool
	clkTck int
	logDir string
	seq    int
	iss    *issuer // signs the tokens of the oauth rows
}

type proc struct {
	cmd     *exec.Cmd
	pid     int
	url     string
	logPath string
	exited  chan struct{}
	started time.Time
	// oauth rows: the resource URL tokens are bound to (aud), and the
	// token of the readiness probe.
	resource, token string
	// stateless rows: the readiness probe and every session send stateless
	// requests.
	stateless bool
}

// serverEnv is our environment without the server's configuration, plus
// the port and the target's settings.
func serverEnv(t target, port int) []string {
	strip := []string{"HOST", "PORT", "MCP_PATH", "LOG_REQUESTS", "LOG_LEVEL", "AUTH_METHOD", "MAX_SESSIONS",
		"SESSION_TTL", "REQUEST_TIMEOUT", "ALLOWED_HOSTS", "ALLOWED_ORIGINS", "GOMAXPROCS", pinnedEnv,
		"MCP_RESOURCE_URL", "OAUTH_ISSUER", "OAUTH_JWKS_URL", "OAUTH_CLIENT_IDS", "OAUTH_ALGORITHMS",
		"OAUTH_ALLOW_MISSING_AUDIENCE", "OAUTH_REQUIRED_SCOPES", "OAUTH_SCOPES_SUPPORTED",
		"COGNITO_USER_POOL_ID", "COGNITO_REGION", "COGNITO_DOMAIN", "COGNITO_ALLOWED_CLIENT_IDS"}
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if !slices.Contains(strip, k) {
			env = append(env, kv)
		}
	}
	env = append(env, "HOST=127.0.0.1", "PORT="+strconv.Itoa(port))
	return append(env, t.Env...)
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func (b *bench) start(t target) (*proc, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	b.seq++
	name := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' {
			return r
		}
		return '_'
	}, t.Label)
	logPath := filepath.Join(b.logDir, fmt.Sprintf("%03d-%s.stderr", b.seq, name))
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	var cmd *exec.Cmd
	if b.pin {
		cmd = exec.Command("taskset", "-c", strconv.Itoa(b.o.serverCPU), t.Binary)
	} else {
		cmd = exec.Command(t.Binary)
	}
	cmd.Env = serverEnv(t, port)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	p := &proc{cmd: cmd, url: "http://127.0.0.1:" + strconv.Itoa(port) + "/mcp", logPath: logPath, exited: make(chan struct{}), stateless: t.Stateless}
	if t.OAuth {
		p.resource = resourceURL(port)
		if p.token, err = b.iss.mint(p.resource, "user-ready"); err != nil {
			logFile.Close()
			return nil, err
		}
	}
	p.started = time.Now()
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, err
	}
	logFile.Close() // the child has its own descriptor
	p.pid = cmd.Process.Pid
	go func() { _ = cmd.Wait(); close(p.exited) }()
	return p, nil
}

func (p *proc) stop() {
	select {
	case <-p.exited:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}

func (p *proc) alive() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// logTailNote is the end of the server's log, to tell why a token was
// refused (the server logs "token refused" with the reason).
func (p *proc) logTailNote() string {
	return "server log: " + p.logTail()
}

func (p *proc) logTail() string {
	b, _ := os.ReadFile(p.logPath)
	if len(b) > 600 {
		b = b[len(b)-600:]
	}
	return strings.TrimSpace(string(b))
}

// procCPU is what /proc/<pid>/stat says about a process (all threads).
type procCPU struct {
	user, sys float64 // seconds
	minflt    uint64
}

func (c procCPU) total() float64 { return c.user + c.sys }

func readProcCPU(pid, clkTck int) (procCPU, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return procCPU{}, err
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return procCPU{}, errors.New("malformed /proc/pid/stat")
	}
	// After the comm field: state(3) ppid ... minflt(10) cminflt majflt
	// cmajflt utime(14) stime(15), i.e. f[7], f[11], f[12].
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return procCPU{}, errors.New("malformed /proc/pid/stat")
	}
	mf, err0 := strconv.ParseUint(f[7], 10, 64)
	ut, err1 := strconv.ParseUint(f[11], 10, 64)
	st, err2 := strconv.ParseUint(f[12], 10, 64)
	if err0 != nil || err1 != nil || err2 != nil {
		return procCPU{}, errors.New("malformed /proc/pid/stat")
	}
	return procCPU{user: float64(ut) / float64(clkTck), sys: float64(st) / float64(clkTck), minflt: mf}, nil
}

// procStatus returns VmRSS, VmHWM (kB) and Threads of pid.
func procStatus(pid int) (rss, hwm int64, threads int) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		switch k {
		case "VmRSS":
			rss = n
		case "VmHWM":
			hwm = n
		case "Threads":
			threads = int(n)
		}
	}
	return
}

// machineBusySeconds is the CPU time the whole machine has spent busy
// (the "cpu" line of /proc/stat, all but idle and iowait).
func machineBusySeconds(clkTck int) float64 {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return 0
	}
	var busy uint64
	for i, v := range f[1:9] { // user nice system idle iowait irq softirq steal
		if i == 3 || i == 4 {
			continue
		}
		n, _ := strconv.ParseUint(v, 10, 64)
		busy += n
	}
	return float64(busy) / float64(clkTck)
}

func selfCPUSeconds() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// --- measurements --------------------------------------------------------

func (r *row) fail(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	r.Errors = append(r.Errors, msg)
	r.Failed = true
	progress("%s: ERROR: %s", r.Label, msg)
}

// run measures every row. Start runs and throughput rounds are interleaved
// across the servers, so that a burst of background load on the machine
// does not land on one server only.
func (b *bench) run(rows []*row) {
	// (a) start to first answered initialize, each on a fresh process.
	// Not for stateless rows: the same binary with the same environment as
	// their base row, which has the figure.
	samples := make([][]time.Duration, len(rows))
	if b.o.startRuns > 0 {
		progress("start-to-first-initialize: %d fresh processes per server", b.o.startRuns)
	}
	for i := 0; i < b.o.startRuns; i++ {
		for j, r := range rows {
			if r.Failed || r.Stateless {
				continue
			}
			p, err := b.start(r.target)
			if err != nil {
				r.fail("start: %v", err)
				continue
			}
			d, err := waitReady(p, b.o.pollInterval, b.o.startupDeadline)
			p.stop()
			if err != nil {
				r.fail("start run %d: %v", i+1, err)
				continue
			}
			samples[j] = append(samples[j], d)
		}
	}
	for j, r := range rows {
		if s := samples[j]; len(s) > 0 {
			slices.Sort(s)
			ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
			r.Start = &startStats{Runs: len(s), MinMS: ms(s[0]), MedianMS: ms(pct(s, 50)), P90MS: ms(pct(s, 90)), MaxMS: ms(s[len(s)-1])}
		}
	}

	// (b) serial and (c) concurrent throughput, one server process per
	// round and server.
	for round := 1; round <= b.o.rounds; round++ {
		for _, r := range rows {
			if r.Failed {
				continue
			}
			tag := r.Label
			if b.o.rounds > 1 {
				tag = fmt.Sprintf("%s (round %d/%d)", r.Label, round, b.o.rounds)
			}
			b.throughput(r, tag)
		}
	}
	for _, r := range rows {
		r.Serial = medianRound(r.SerialRounds)
		r.Concurrent = medianRound(r.ConcurrentRounds)
		if b.o.rounds == 1 {
			r.SerialRounds, r.ConcurrentRounds = nil, nil
		}
		if r.logCalls > 0 {
			r.LogBytesPerOp = float64(r.logBytes) / float64(r.logCalls)
		}
	}

	// (d) many sessions at once, on a fresh process.
	if !b.o.concurrency {
		return
	}
	for _, r := range rows {
		if !r.primary || r.Failed {
			continue
		}
		p, err := b.start(r.target)
		if err != nil {
			r.fail("start: %v", err)
			continue
		}
		if _, err := waitReady(p, b.o.pollInterval, b.o.startupDeadline); err != nil {
			p.stop()
			r.fail("%v", err)
			continue
		}
		progress("%s: concurrency test, %d sessions x %d tools/call", r.Label, b.o.concSessions, b.o.concCalls)
		cs, errs := b.concurrencyTest(p)
		r.Concurrency = cs
		for _, e := range errs {
			r.fail("concurrency test: %s", e)
		}
		if !p.alive() {
			r.fail("the server exited during the concurrency test; log: %s", p.logTail())
		}
		p.stop()
	}
}

func (b *bench) throughput(r *row, tag string) {
	p, err := b.start(r.target)
	if err != nil {
		r.fail("start: %v", err)
		return
	}
	defer p.stop()
	if _, err := waitReady(p, b.o.pollInterval, b.o.startupDeadline); err != nil {
		r.fail("%v", err)
		return
	}
	if r.OAuth {
		if err := checkRefusesNoToken(p); err != nil {
			r.fail("%v", err)
			return
		}
	}
	if r.Stateless && !r.isBare() {
		if err := checkStateless(p); err != nil {
			r.fail("%v", err)
			return
		}
	}
	logBefore := fileSize(p.logPath)
	progress("%s: serial tools/call, 1 session, %s (+%s warm-up)", tag, b.o.duration, b.o.warmup)
	serial, errs := b.load(p, 1)
	if serial != nil {
		r.SerialRounds = append(r.SerialRounds, serial)
	}
	progress("%s: tools/call with %d sessions, %s (+%s warm-up)", tag, b.o.sessions, b.o.duration, b.o.warmup)
	conc, errs2 := b.load(p, b.o.sessions)
	if conc != nil {
		r.ConcurrentRounds = append(r.ConcurrentRounds, conc)
	}
	for _, e := range append(errs, errs2...) {
		r.fail("%s", e)
	}
	if !p.alive() {
		r.fail("the server exited during the run; log: %s", p.logTail())
		return
	}
	// Log volume over the load phases (warm-ups included).
	r.logBytes += fileSize(p.logPath) - logBefore
	for _, l := range []*loadStats{serial, conc} {
		if l != nil {
			r.logCalls += l.total
		}
	}
}

// medianRound is the round with the median server CPU per call.
func medianRound(rounds []*loadStats) *loadStats {
	if len(rounds) == 0 {
		return nil
	}
	s := slices.Clone(rounds)
	slices.SortFunc(s, func(a, b *loadStats) int {
		switch {
		case a.ServerCPUPerCallUS < b.ServerCPUPerCallUS:
			return -1
		case a.ServerCPUPerCallUS > b.ServerCPUPerCallUS:
			return 1
		}
		return 0
	})
	m := *s[(len(s)-1)/2]
	if len(s) > 1 {
		m.MinCPUPerCallUS, m.MaxCPUPerCallUS = s[0].ServerCPUPerCallUS, s[len(s)-1].ServerCPUPerCallUS
	}
	return &m
}

func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

func pct[T any](sorted []T, p int) T {
	i := len(sorted) * p / 100
	if i >= len(sorted) {
		i = len(sorted) - 1
	}
	return sorted[i]
}

// waitReady polls POST initialize every interval until the server answers
// 200 with a session id, and returns the time since the process was
// started (taken just before exec). A stateless row's server is polled
// with a stateless tools/call of greet instead, answered 200 with the
// greeting.
func waitReady(p *proc, interval, deadline time.Duration) (time.Duration, error) {
	tr := &http.Transport{DisableKeepAlives: true, DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 2 * time.Second}
	what, body := "initialize", []byte(initBody)
	if p.stateless {
		what, body = "a stateless tools/call", statelessCallBody(nil, 1, "ready")
	}
	for {
		req, _ := http.NewRequest(http.MethodPost, p.url, bytes.NewReader(body))
		setHeaders(req.Header, "", p.token)
		if p.stateless {
			setStatelessHeaders(req.Header)
		}
		resp, err := client.Do(req)
		if err == nil {
			rb, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			switch {
			case p.stateless && resp.StatusCode == http.StatusOK && bytes.Contains(rb, []byte(`"text":"Hello, ready!"`)):
				return time.Since(p.started), nil
			case !p.stateless && resp.StatusCode == http.StatusOK && resp.Header.Get("Mcp-Session-Id") != "" && bytes.Contains(rb, []byte(`"protocolVersion"`)):
				return time.Since(p.started), nil
			}
			if p.token != "" {
				return 0, fmt.Errorf("%s with a token answered %d: %.200s; %s", what, resp.StatusCode, rb, p.logTailNote())
			}
			return 0, fmt.Errorf("%s answered %d: %.200s", what, resp.StatusCode, rb)
		}
		if !p.alive() {
			return 0, fmt.Errorf("the server exited before answering; log: %s", p.logTail())
		}
		if time.Since(p.started) > deadline {
			return 0, fmt.Errorf("no answer to %s within %s (last error: %v)", what, deadline, err)
		}
		time.Sleep(interval)
	}
}

// checkStateless makes sure a stateless row measures a server that serves
// the stateless era: a stateless tools/call must get a modern result
// (resultType "complete") and no session. A server that answered it as a
// session-era call (or refused it) would otherwise be measured doing
// something else.
func checkStateless(p *proc) error {
	tr := &http.Transport{DisableKeepAlives: true, DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 5 * time.Second}
	req, _ := http.NewRequest(http.MethodPost, p.url, bytes.NewReader(statelessCallBody(nil, 1, "check")))
	setHeaders(req.Header, "", p.token)
	setStatelessHeaders(req.Header)
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("stateless tools/call: %w", err)
	}
	rb, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !bytes.Contains(rb, []byte(`"resultType":"complete"`)) || !bytes.Contains(rb, []byte(`"text":"Hello, check!"`)) ||
		resp.Header.Get("Mcp-Session-Id") != "" {
		return fmt.Errorf("a stateless tools/call (protocol %s) answered %d, session id %q: %.200s: the server does not serve stateless requests (use -stateless-row=false for such a binary)",
			statelessVersion, resp.StatusCode, resp.Header.Get("Mcp-Session-Id"), rb)
	}
	return nil
}

const initBody = `{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"` + protocolVersion +
	`","capabilities":{},"clientInfo":{"name":"mcp-loadgen","version":"1"}}}`

func setHeaders(h http.Header, session, token string) {
	h["Content-Type"] = []string{"application/json"}
	h["Accept"] = []string{"application/json, text/event-stream"}
	if token != "" {
		h["Authorization"] = []string{"Bearer " + token}
	}
	if session != "" {
		h["Mcp-Session-Id"] = []string{session}
		h["Mcp-Protocol-Version"] = []string{protocolVersion}
	}
}

// setStatelessHeaders adds the headers of a stateless tools/call of greet.
func setStatelessHeaders(h http.Header) {
	for _, kv := range statelessHeaders {
		h.Set(kv[0], kv[1])
	}
}

// callBody appends the body of tools/call of greet for name, with id: a
// session-era request, or with stateless the _meta of a stateless one.
func callBody(b []byte, id int64, name string, stateless bool) []byte {
	b = append(b, `{"jsonrpc":"2.0","id":`...)
	b = strconv.AppendInt(b, id, 10)
	b = append(b, `,"method":"tools/call","params":{"name":"greet","arguments":{"name":"`...)
	b = append(b, name...)
	b = append(b, `"}`...)
	if stateless {
		b = append(b, statelessMeta...)
	}
	return append(b, `}}`...)
}

// statelessCallBody appends the body of a stateless tools/call of greet.
func statelessCallBody(b []byte, id int64, name string) []byte {
	return callBody(b, id, name, true)
}

// session is one MCP client session with its own connection: a
// net/http Client with its own Transport (keep-alive), or with -client raw
// a hand-written HTTP/1.1 client on one kept-alive TCP connection. A
// stateless session is only that connection: it sends stateless tools/call
// requests, and is neither initialized nor deleted.
type session struct {
	tr        *http.Transport
	client    *http.Client
	raw       *rawConn
	url       string
	name      string
	token     string // bearer token, or none
	stateless bool
	id        string
	next      int64
	body      []byte
	resp      bytes.Buffer
	want      []byte
	idWant    []byte
}

// newSession makes a session; a non-empty token is sent as
// "Authorization: Bearer token" on every request, and a stateless session
// sends stateless requests (see statelessHeaders).
func newSession(url, name string, raw bool, token string, stateless bool) *session {
	s := &session{url: url, name: name, token: token, stateless: stateless, want: []byte(`"text":"Hello, ` + name + `!"`)}
	if raw {
		s.raw = newRawConn(url, token, stateless)
		return s
	}
	s.tr = &http.Transport{MaxIdleConnsPerHost: 1, DisableCompression: true, IdleConnTimeout: 90 * time.Second}
	s.client = &http.Client{Transport: s.tr, Timeout: 30 * time.Second}
	return s
}

// do sends one request of the session and returns the status, the
// Mcp-Session-Id of the answer, and its body (valid until the next do).
func (s *session) do(method string, body []byte) (int, string, []byte, error) {
	if s.raw != nil {
		return s.raw.do(method, s.id, body)
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, s.url, rd)
	if err != nil {
		return 0, "", nil, err
	}
	setHeaders(req.Header, s.id, s.token)
	if s.stateless {
		setStatelessHeaders(req.Header)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, "", nil, err
	}
	s.resp.Reset()
	_, err = s.resp.ReadFrom(resp.Body)
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("Mcp-Session-Id"), s.resp.Bytes(), err
}

func (s *session) closeConns() {
	if s.raw != nil {
		s.raw.close()
	} else {
		s.tr.CloseIdleConnections()
	}
}

func (s *session) initialize() error {
	status, sid, body, err := s.do(http.MethodPost, []byte(initBody))
	if err != nil {
		return fmt.Errorf("initialize: %w", err)
	}
	if status != http.StatusOK || sid == "" {
		return fmt.Errorf("initialize: status %d, session id %q: %.200s", status, sid, body)
	}
	s.id = sid
	status, _, body, err = s.do(http.MethodPost, []byte(`{"jsonrpc":"2.0","method":"notifications/initialized"}`))
	if err != nil {
		return fmt.Errorf("notifications/initialized: %w", err)
	}
	if status != http.StatusAccepted && status != http.StatusOK {
		return fmt.Errorf("notifications/initialized: status %d: %.200s", status, body)
	}
	return nil
}

// call makes one tools/call of greet and checks the answer.
func (s *session) call() error {
	s.next++
	b := callBody(s.body[:0], s.next, s.name, s.stateless)
	s.body = b
	status, _, body, err := s.do(http.MethodPost, b)
	if err != nil {
		return fmt.Errorf("tools/call: %w", err)
	}
	s.idWant = strconv.AppendInt(append(s.idWant[:0], `"id":`...), s.next, 10)
	s.idWant = append(s.idWant, ',')
	if status != http.StatusOK || !bytes.Contains(body, s.want) || !bytes.Contains(body, s.idWant) {
		return fmt.Errorf("tools/call: status %d, want %s and %s: %.200s", status, s.want, s.idWant, body)
	}
	return nil
}

// delete ends the session and closes its connection (a stateless session
// only closes it: it has nothing to end).
func (s *session) delete() error {
	defer s.closeConns()
	if s.stateless {
		return nil
	}
	status, _, body, err := s.do(http.MethodDelete, nil)
	if err != nil {
		return fmt.Errorf("DELETE: %w", err)
	}
	if status/100 != 2 {
		return fmt.Errorf("DELETE: status %d: %.200s", status, body)
	}
	return nil
}

// errorLog keeps a count and the first few messages.
type errorLog struct {
	mu    sync.Mutex
	n     atomic.Int64
	first []string
}

func (e *errorLog) add(err error) {
	if e.n.Add(1) <= 5 {
		e.mu.Lock()
		e.first = append(e.first, err.Error())
		e.mu.Unlock()
	}
}

func (e *errorLog) messages() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := slices.Clone(e.first)
	if n := e.n.Load(); n > int64(len(out)) {
		out = append(out, fmt.Sprintf("... %d errors in all", n))
	}
	return out
}

// load runs n sessions, each calling tools/call in a loop, and measures a
// window of b.o.duration after b.o.warmup. On a stateless row's server a
// session is a connection sending stateless requests (no initialize, no
// DELETE).
func (b *bench) load(p *proc, n int) (*loadStats, []string) {
	var errs errorLog
	sessions := make([]*session, n)
	for i := range sessions {
		token := ""
		if p.resource != "" {
			// Its own token per session: n sessions are n subjects.
			var err error
			if token, err = b.iss.mint(p.resource, "user-"+strconv.Itoa(i)); err != nil {
				return nil, []string{err.Error()}
			}
		}
		sessions[i] = newSession(p.url, "s"+strconv.Itoa(i), b.o.client == "raw", token, p.stateless)
		if p.stateless {
			continue // no initialize: each request stands alone
		}
		if err := sessions[i].initialize(); err != nil {
			if token != "" {
				return nil, []string{err.Error() + "; " + p.logTailNote()}
			}
			return nil, []string{err.Error()}
		}
	}
	const (
		warming = iota
		measuring
		stopping
	)
	var phase atomic.Int32
	var done atomic.Int64
	lats := make([][]time.Duration, n)
	var wg sync.WaitGroup
	for i, s := range sessions {
		wg.Go(func() {
			lat := make([]time.Duration, 0, 1<<14)
			for {
				ph := phase.Load()
				if ph == stopping {
					break
				}
				t0 := time.Now()
				err := s.call()
				d := time.Since(t0)
				done.Add(1)
				if err != nil {
					errs.add(err)
					time.Sleep(time.Millisecond) // do not spin on a dead server
				} else if ph == measuring {
					lat = append(lat, d)
				}
			}
			lats[i] = lat
		})
	}
	time.Sleep(b.o.warmup)
	busy0 := machineBusySeconds(b.clkTck)
	c0, cpu0, self0, t0 := done.Load(), mustCPU(p.pid, b.clkTck), selfCPUSeconds(), time.Now()
	phase.Store(measuring)
	time.Sleep(b.o.duration)
	c1, cpu1, self1, t1 := done.Load(), mustCPU(p.pid, b.clkTck), selfCPUSeconds(), time.Now()
	busy1 := machineBusySeconds(b.clkTck)
	phase.Store(stopping)
	wg.Wait()
	for _, s := range sessions {
		if err := s.delete(); err != nil {
			errs.add(err)
		}
	}
	var all []time.Duration
	for _, l := range lats {
		all = append(all, l...)
	}
	slices.Sort(all)
	secs := t1.Sub(t0).Seconds()
	cpu := cpu1.total() - cpu0.total()
	st := &loadStats{total: done.Load(), Sessions: n, Calls: c1 - c0, Errors: errs.n.Load(), Seconds: secs, ServerCPUSeconds: cpu,
		ServerCPUUtil: cpu / secs, ClientCPUUtil: (self1 - self0) / secs}
	if busy0 > 0 && busy1 > 0 {
		st.OtherCPUUtil = max(0, (busy1-busy0)-cpu-(self1-self0)) / secs
	}
	if st.Calls > 0 {
		calls := float64(st.Calls)
		st.CallsPerSec = calls / secs
		st.ServerCPUPerCallUS = cpu / calls * 1e6
		st.ServerSysPerCallUS = (cpu1.sys - cpu0.sys) / calls * 1e6
		st.ServerMinFltPer1KCalls = float64(cpu1.minflt-cpu0.minflt) / calls * 1000
	}
	if len(all) > 0 {
		st.P50US = float64(pct(all, 50).Nanoseconds()) / 1000
		st.P99US = float64(pct(all, 99).Nanoseconds()) / 1000
	}
	return st, errs.messages()
}

func mustCPU(pid, clkTck int) procCPU {
	s, err := readProcCPU(pid, clkTck)
	if err != nil {
		fatalf("reading the server's CPU time: %v", err)
	}
	return s
}

// concurrencyTest starts every session at once: initialize,
// notifications/initialized, concCalls sequential tools/call, DELETE.
func (b *bench) concurrencyTest(p *proc) (*concStats, []string) {
	var errs errorLog
	n, k := b.o.concSessions, b.o.concCalls
	var calls atomic.Int64
	gate := make(chan struct{})
	var ready, wg sync.WaitGroup
	for i := range n {
		ready.Add(1)
		wg.Go(func() {
			s := newSession(p.url, "c"+strconv.Itoa(i), b.o.concClient == "raw", "", false)
			ready.Done()
			<-gate
			if err := s.initialize(); err != nil {
				errs.add(err)
				return
			}
			for range k {
				if err := s.call(); err != nil {
					errs.add(err)
				} else {
					calls.Add(1)
				}
			}
			if err := s.delete(); err != nil {
				errs.add(err)
			}
		})
	}
	ready.Wait()
	cpu0 := mustCPU(p.pid, b.clkTck)
	t0 := time.Now()
	close(gate)
	wg.Wait()
	wall := time.Since(t0)
	cpu1 := mustCPU(p.pid, b.clkTck)
	cs := &concStats{Sessions: n, CallsEach: k, Calls: calls.Load(), Errors: errs.n.Load(), WallSeconds: wall.Seconds()}
	cs.CallsPerSec = float64(cs.Calls) / wall.Seconds()
	if cs.Calls > 0 {
		cs.ServerCPUPerCallUS = (cpu1.total() - cpu0.total()) / float64(cs.Calls) * 1e6
	}
	cs.ServerRSSKB, cs.ServerPeakRSSKB, cs.ServerThreads = procStatus(p.pid)
	// The server must still serve a new session afterwards.
	s := newSession(p.url, "after", false, "", false)
	if err := s.initialize(); err != nil {
		errs.add(fmt.Errorf("after the test: %w", err))
	} else if err := s.call(); err != nil {
		errs.add(fmt.Errorf("after the test: %w", err))
	} else if err := s.delete(); err != nil {
		errs.add(fmt.Errorf("after the test: %w", err))
	} else {
		cs.HealthyAfter = true
	}
	return cs, errs.messages()
}

// --- report --------------------------------------------------------------

const (
	cpuRatioLimit = 1.25
	// statelessRatioLimit: a stateless row's CPU/call with -sessions
	// sessions over bare's answering the same stateless requests.
	statelessRatioLimit = 1.15
	startDeltaLimitM    = 5.0
	// oauthCallsLimit: an oauth row's calls/s with -sessions sessions must
	// be at least this fraction of the same server's with auth off.
	oauthCallsLimit = 0.80
)

// ratio is CPU per call of a over b's. With rounds, it is the median of
// the ratios of the rounds paired in time (round i of every server runs
// back to back), which cancels most of the slow drifts of a shared
// machine; otherwise the ratio of the reported figures.
func ratio(a, b *loadStats, ra, rb []*loadStats) float64 {
	return metricRatio(func(l *loadStats) float64 { return l.ServerCPUPerCallUS }, a, b, ra, rb)
}

// callsRatio is calls/s of a over b's, paired by round like ratio.
func callsRatio(a, b *loadStats, ra, rb []*loadStats) float64 {
	return metricRatio(func(l *loadStats) float64 { return l.CallsPerSec }, a, b, ra, rb)
}

func metricRatio(m func(*loadStats) float64, a, b *loadStats, ra, rb []*loadStats) float64 {
	if len(ra) > 0 && len(ra) == len(rb) {
		var rs []float64
		for i := range ra {
			if m(rb[i]) > 0 {
				rs = append(rs, m(ra[i])/m(rb[i]))
			}
		}
		if len(rs) > 0 {
			slices.Sort(rs)
			return rs[(len(rs)-1)/2]
		}
	}
	if m(b) <= 0 {
		return 0
	}
	return m(a) / m(b)
}

// compare sets each row's CPU/call beside bare's with the same number of
// sessions (a stateless row beside "bare stateless", bare answering the
// same requests), a stateless row's beside its session-era row's, and
// adds the targets of the rows that are not bare or oauth.
func compare(rep *report) {
	var bare, bareStateless *row
	for _, r := range rep.Rows {
		switch {
		case r.isBare() && !r.Stateless && bare == nil:
			bare = r
		case r.isBare() && r.Stateless && bareStateless == nil:
			bareStateless = r
		}
	}
	for _, r := range rep.Rows {
		if r.Stateless {
			sessionEra(rep, r)
		}
		ref := bare
		if r.Stateless {
			ref = bareStateless
		}
		if ref == nil {
			continue
		}
		if ref.Serial != nil && r.Serial != nil {
			r.Serial.CPURatioVsBare = ratio(r.Serial, ref.Serial, r.SerialRounds, ref.SerialRounds)
		}
		if ref.Concurrent != nil && r.Concurrent != nil {
			r.Concurrent.CPURatioVsBare = ratio(r.Concurrent, ref.Concurrent, r.ConcurrentRounds, ref.ConcurrentRounds)
		}
		if bare != nil && bare.Start != nil && r.Start != nil {
			r.StartDeltaMS = r.Start.MedianMS - bare.Start.MedianMS
		}
		if r.isBare() || r.OAuth {
			continue
		}
		if r.Concurrent != nil && r.Concurrent.CPURatioVsBare > 0 {
			what, limit := fmt.Sprintf("server CPU/call, %d sessions, vs bare (x)", r.Concurrent.Sessions), cpuRatioLimit
			if r.Stateless {
				what, limit = fmt.Sprintf("server CPU/call, %d sessions, stateless vs bare (x)", r.Concurrent.Sessions), statelessRatioLimit
			}
			rep.Targets = append(rep.Targets, check{Label: r.Label, What: what,
				Value: r.Concurrent.CPURatioVsBare, Limit: limit, Passed: r.Concurrent.CPURatioVsBare <= limit})
		}
		if r.Start != nil && bare != nil && bare.Start != nil {
			rep.Targets = append(rep.Targets, check{Label: r.Label, What: "start-to-first-initialize median minus bare's (ms)",
				Value: r.StartDeltaMS, Limit: startDeltaLimitM, Passed: r.StartDeltaMS <= startDeltaLimitM})
		}
	}
}

// sessionEra sets a stateless row's CPU/call beside its session-era row's
// (paired by round like the ratios to bare). No target: a figure.
func sessionEra(rep *report, r *row) {
	for _, b := range rep.Rows {
		if b.Label != r.base || b.Stateless || b.OAuth {
			continue
		}
		if r.Serial != nil && b.Serial != nil {
			r.Serial.CPURatioVsSessionEra = ratio(r.Serial, b.Serial, r.SerialRounds, b.SerialRounds)
		}
		if r.Concurrent != nil && b.Concurrent != nil {
			r.Concurrent.CPURatioVsSessionEra = ratio(r.Concurrent, b.Concurrent, r.ConcurrentRounds, b.ConcurrentRounds)
		}
		return
	}
}

// oauthTargets compares each oauth row with the same server's auth-off row
// (calls/s, the median of the per-round ratios). The targets of the
// auth-off rows (CPU/call vs bare, start) are not applied to oauth rows.
func oauthTargets(rep *report) {
	for _, r := range rep.Rows {
		if !r.OAuth {
			continue
		}
		var base *row
		for _, b := range rep.Rows {
			if b.Label == r.base && !b.OAuth {
				base = b
			}
		}
		if base == nil {
			continue
		}
		if r.Serial != nil && base.Serial != nil {
			r.Serial.CallsRatioVsAuthOff = callsRatio(r.Serial, base.Serial, r.SerialRounds, base.SerialRounds)
		}
		if r.Concurrent != nil && base.Concurrent != nil {
			v := callsRatio(r.Concurrent, base.Concurrent, r.ConcurrentRounds, base.ConcurrentRounds)
			r.Concurrent.CallsRatioVsAuthOff = v
			if v > 0 {
				rep.Targets = append(rep.Targets, check{Label: r.Label, What: fmt.Sprintf("calls/s with %d sessions vs %s (auth off)", r.Concurrent.Sessions, base.Label),
					Value: v, Limit: oauthCallsLimit, AtLeast: true, Passed: v >= oauthCallsLimit})
			}
		}
	}
}

func printTable(out io.Writer, rep *report) {
	pin := fmt.Sprintf("server on core %d, load generator on core %d (GOMAXPROCS=1)", rep.ServerCPU, rep.ClientCPU)
	if !rep.Pinned {
		pin = "UNPINNED"
	}
	rounds := ""
	if rep.Rounds > 1 {
		rounds = fmt.Sprintf(", median of %d rounds by CPU/call", rep.Rounds)
	}
	fmt.Fprintf(out, "\nMCP tools/call greet over loopback HTTP — %s, CPUs %s, %s; window %s after %s warm-up%s; CLK_TCK %d\n",
		rep.GoVersion, rep.CPUsOnline, pin, rep.Duration, rep.Warmup, rounds, rep.ClkTck)
	if rep.PinNote != "" {
		fmt.Fprintf(out, "note: %s\n", rep.PinNote)
	}
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "\nserver\tsessions\tcalls/s\tserver CPU/call\t(sys)\trounds' range\tvs bare\tserver CPU\tclient CPU\tother CPU\tp50\tp99\tfaults/1k\terrors\t")
	for _, r := range rep.Rows {
		for _, l := range []*loadStats{r.Serial, r.Concurrent} {
			if l == nil {
				continue
			}
			ratio := "-"
			if l.CPURatioVsBare > 0 {
				ratio = fmt.Sprintf("%.2fx", l.CPURatioVsBare)
			}
			spread := "-"
			if l.MaxCPUPerCallUS > 0 {
				spread = fmt.Sprintf("%.1f-%.1f us", l.MinCPUPerCallUS, l.MaxCPUPerCallUS)
			}
			fmt.Fprintf(w, "%s\t%d\t%.0f\t%.1f us\t%.1f us\t%s\t%s\t%.0f%%\t%.0f%%\t%.0f%%\t%.0f us\t%.0f us\t%.1f\t%d\t\n", r.Label, l.Sessions, l.CallsPerSec,
				l.ServerCPUPerCallUS, l.ServerSysPerCallUS, spread, ratio, l.ServerCPUUtil*100, l.ClientCPUUtil*100, l.OtherCPUUtil*100, l.P50US, l.P99US,
				l.ServerMinFltPer1KCalls, l.Errors)
		}
	}
	w.Flush()

	header := false
	w = tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	for _, r := range rep.Rows {
		if !r.Stateless {
			continue
		}
		var base *row
		for _, b := range rep.Rows {
			if b.Label == r.base && !b.Stateless && !b.OAuth {
				base = b
			}
		}
		if base == nil {
			continue
		}
		if !header {
			fmt.Fprintln(w, "\nstateless vs session era\tsessions\tsession-era CPU/call\tstateless CPU/call\tstateless / session era\t")
			header = true
		}
		for _, pair := range [][2]*loadStats{{base.Serial, r.Serial}, {base.Concurrent, r.Concurrent}} {
			if pair[0] == nil || pair[1] == nil {
				continue
			}
			fmt.Fprintf(w, "%s\t%d\t%.1f us\t%.1f us\t%.2fx\t\n", r.Label, pair[1].Sessions, pair[0].ServerCPUPerCallUS, pair[1].ServerCPUPerCallUS, pair[1].CPURatioVsSessionEra)
		}
	}
	w.Flush()

	w = tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "\nstart to first initialize\truns\tmin\tmedian\tp90\tmax\tmedian vs bare\tlog bytes/call\t")
	for _, r := range rep.Rows {
		if r.Start == nil {
			continue
		}
		delta := "-"
		if r.Label != "bare" && r.StartDeltaMS != 0 {
			delta = fmt.Sprintf("%+.1f ms", r.StartDeltaMS)
		}
		fmt.Fprintf(w, "%s\t%d\t%.1f ms\t%.1f ms\t%.1f ms\t%.1f ms\t%s\t%.0f\t\n", r.Label, r.Start.Runs, r.Start.MinMS, r.Start.MedianMS,
			r.Start.P90MS, r.Start.MaxMS, delta, r.LogBytesPerOp)
	}
	w.Flush()

	header = false
	w = tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	for _, r := range rep.Rows {
		c := r.Concurrency
		if c == nil {
			continue
		}
		if !header {
			fmt.Fprintln(w, "\nconcurrency test\tsessions\tcalls\terrors\twall\tcalls/s\tserver CPU/call\tRSS after\tpeak RSS\tthreads\thealthy after\t")
			header = true
		}
		fmt.Fprintf(w, "%s\t%d x %d\t%d\t%d\t%.2f s\t%.0f\t%.1f us\t%.1f MB\t%.1f MB\t%d\t%v\t\n", r.Label, c.Sessions, c.CallsEach, c.Calls, c.Errors,
			c.WallSeconds, c.CallsPerSec, c.ServerCPUPerCallUS, float64(c.ServerRSSKB)/1024, float64(c.ServerPeakRSSKB)/1024, c.ServerThreads, c.HealthyAfter)
	}
	w.Flush()

	if len(rep.Targets) > 0 {
		fmt.Fprintln(out, "\ntargets (allocations per call: see BenchmarkToolsCallGreet and BenchmarkToolsCallGreetStateless in the go test output)")
		for _, c := range rep.Targets {
			verdict := "ok"
			if !c.Passed {
				verdict = "MISSED"
			}
			bound := "limit"
			if c.AtLeast {
				bound = "at least"
			}
			fmt.Fprintf(out, "  %-6s %s: %s %.2f (%s %.2f)\n", verdict, c.Label, c.What, c.Value, bound, c.Limit)
		}
	}
	for _, r := range rep.Rows {
		for _, e := range r.Errors {
			fmt.Fprintf(out, "ERROR %s: %s\n", r.Label, e)
		}
	}
	if rep.LogDirectory != "" {
		fmt.Fprintf(out, "server logs: %s\n", rep.LogDirectory)
	}
}
