package conformance_test

// TestConformance runs the official MCP conformance suite
// (@modelcontextprotocol/conformance, pinned in test/package.json) against
// the fixture server in ./fixture, built with the race detector, once per
// protocol revision the server speaks (a subtest each, against the same
// fixture process):
//
//	node .../conformance/dist/index.js server --url URL --requirements REVISION -o DIR
//
// A revision's subtest fails unless all its scored scenarios pass and the
// unscored ones it names (mustPassUnscored) pass too, each with neither a
// failed check nor a WARNING one; the test fails if the fixture reports a
// data race or dies. In server mode the suite marks a scenario ✓ whatever
// its warnings (client mode counts them), so warnings are read from each
// scenario's checks.json: a server WARNING is a SHOULD of the spec left
// undone (a priming event, a retry field, resumption after a cut stream),
// which this server means to do, exactly as TestConformanceClient holds
// our client to. It needs the pinned npm tools
// (`npm ci --prefix test`); without them it skips, unless
// MCP_REQUIRE_NODE_TOOLS=1, when it fails.

import (
	"bufio"
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
	"testing"
	"time"

	"mcplambda/test/testproc"
)

// revision is one --requirements run of the suite.
type revision struct {
	requirements string
	// scored is how many scenarios the suite scores for the revision.
	scored int
	// mustPassUnscored are not scored for the revision (added after its
	// release, pending, or an extension), but this server implements what
	// they test, so they must pass.
	mustPassUnscored []string
}

var revisions = []revision{
	{
		requirements:     "2025-11-25",
		scored:           30,
		mustPassUnscored: []string{"server-session-lifecycle", "json-schema-2020-12", "server-sse-polling"},
	},
	{
		// The stateless revision. Its unscored tasks-* scenarios test the
		// tasks extension, which this server does not implement.
		requirements:     "2026-07-28",
		scored:           37,
		mustPassUnscored: []string{"json-schema-2020-12", "http-header-validation", "http-custom-header-server-validation"},
	},
}

const (
	// suiteRel is the suite's entry point inside test/node_modules.
	suiteRel = "@modelcontextprotocol/conformance/dist/index.js"
)

func TestConformance(t *testing.T) {
	if testing.Short() {
		t.Skip("conformance suite skipped in -short mode")
	}
	root := testproc.RepoRoot(t)
	node := testproc.NodeTools(t, root, suiteRel)

	bin := testproc.BuildRace(t, root, "./test/conformance/fixture")
	port := testproc.FreePort(t)
	fx := testproc.Start(t, bin, testproc.Options{
		Name:  "fixture",
		Unset: append(testproc.ServerEnv(), "CONFORMANCE_ADDR_FILE"),
		Env: []string{
			"HOST=127.0.0.1",
			"PORT=" + strconv.Itoa(port),
			"SHUTDOWN_TIMEOUT=5s",
			"LOG_LEVEL=info",
			"LOG_REQUESTS=true",
		},
		StopTimeout: 15 * time.Second,
	})
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	fx.WaitListening(t, addr, 30*time.Second)
	url := fmt.Sprintf("http://%s/mcp", addr)

	for i, rev := range revisions {
		t.Run(rev.requirements, func(t *testing.T) {
			outDir := t.TempDir()
			res := runSuiteShare(t, root, node.Bin, node.Path(suiteRel), outDir, len(revisions)-i,
				"server", "--url", url, "--requirements", rev.requirements)
			report(t, rev, res, fx)
		})
	}

	// Stop the fixture after both runs, so a race reported at exit counts.
	stopErr := fx.Stop(t)
	failed := false
	if stopErr != nil {
		failed = true
		t.Errorf("%v", stopErr)
	}
	if fx.HasDataRace() {
		failed = true
		t.Errorf("the fixture (built with -race) reported a data race")
	}
	if !failed {
		return
	}
	if r := fx.RaceReport(); r != "" {
		t.Logf("fixture race report:\n%s", truncate(r, 20000))
	}
	t.Logf("fixture output (tail):\n%s", fx.Tail(60))
}

type suiteResult struct {
	exitCode int
	stdout   string // ANSI colour codes stripped
	stderr   string
	timedOut bool
	outDir   string
}

// runSuite runs the conformance suite's CLI (args: the mode and its flags;
// "-o outDir" is added) with a timeout that leaves the test time to report.
func runSuite(t *testing.T, root, node, suite, outDir string, args ...string) suiteResult {
	return runSuiteShare(t, root, node, suite, outDir, 1, args...)
}

// runSuiteShare is runSuite when the test has runs suite runs left to make
// (this one included): each gets its share of the remaining time.
func runSuiteShare(t *testing.T, root, node, suite, outDir string, runs int, args ...string) suiteResult {
	timeout := 10 * time.Minute
	if dl, ok := t.Deadline(); ok {
		if rem := (time.Until(dl) - time.Minute) / time.Duration(max(runs, 1)); rem < timeout {
			timeout = max(rem, time.Minute)
		}
	}
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, append(append([]string{suite}, args...), "-o", outDir)...)
	cmd.Dir = root
	cmd.WaitDelay = 10 * time.Second
	var stdout, stderr testproc.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	t.Logf("running: %s", strings.Join(cmd.Args, " "))
	start := time.Now()
	err := cmd.Run()
	res := suiteResult{
		stdout: stripANSI(stdout.String()),
		stderr: stripANSI(stderr.String()),
		outDir: outDir,
	}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		res.exitCode = ee.ExitCode()
	default:
		t.Fatalf("running the conformance suite: %v\nstderr:\n%s", err, testproc.Tail(res.stderr, 40))
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

// report judges one revision's run: every scored scenario must pass, and
// the unscored ones the revision names.
func report(t *testing.T, rev revision, res suiteResult, fx *testproc.Process) {
	scenarios, total := parse(res)

	var scored, scoredOK, unscored int
	var failedScored, failedUnscored []string
	warned, unread := warnings(rev, scenarios)
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
	for _, line := range strings.Split(fx.Output(), "\n") {
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
	if scored != rev.scored || scoredOK != rev.scored {
		fail("want all %d scored scenarios of %s to pass; %d of %d listed passed; failing: %v", rev.scored, rev.requirements, scoredOK, scored, failedScored)
	}
	for _, name := range rev.mustPassUnscored {
		switch {
		case !slices.ContainsFunc(scenarios, func(s *scenario) bool { return s.name == name }):
			fail("unscored scenario %s did not run", name)
		case slices.Contains(failedUnscored, name):
			fail("%s failed: the server implements what it tests, so it must pass", name)
		}
	}
	if len(warned) > 0 {
		fail("scenarios that must pass have WARNING checks (a SHOULD of the spec not met; see the log above): %v", warned)
	}
	if len(unread) > 0 {
		fail("no readable checks.json for %v: their warnings cannot be judged", unread)
	}
	if len(scenarios) == 0 {
		fail("no scenario results found in the suite's output")
	}
	if !failed {
		return
	}
	// Details for the failure: each failed check, the suite's raw output
	// when it could not be parsed, and the end of the fixture's log (a
	// data race is judged by TestConformance, once the fixture stopped).
	for _, s := range scenarios {
		kind := ""
		if s.unscored != "" {
			kind = " (not scored)"
		}
		for _, c := range s.checks {
			switch c.Status {
			case "FAILURE":
				t.Logf("FAILED%s %s / %s: %s\n    details: %s", kind, s.name, c.ID, c.ErrorMessage, truncate(string(c.Details), 2000))
			case "WARNING":
				t.Logf("WARNING%s %s / %s: %s\n    details: %s", kind, s.name, c.ID, c.ErrorMessage, truncate(string(c.Details), 2000))
			}
		}
	}
	if len(scenarios) == 0 || scored != rev.scored {
		t.Logf("suite stdout:\n%s", testproc.Tail(res.stdout, 80))
	}
	if strings.TrimSpace(res.stderr) != "" {
		t.Logf("suite stderr:\n%s", testproc.Tail(res.stderr, 40))
	}
	t.Logf("fixture output (tail):\n%s", fx.Tail(60))
}

// warnings lists the scenarios that must pass (scored, or named in
// mustPassUnscored) and have a WARNING check, and those whose checks could
// not be read, so whose warnings are unknown.
func warnings(rev revision, scenarios []*scenario) (warned, unread []string) {
	for _, s := range scenarios {
		if s.unscored != "" && !slices.Contains(rev.mustPassUnscored, s.name) {
			continue
		}
		switch {
		case s.checksErr != nil:
			unread = append(unread, s.name)
		case hasStatus(s.checks, "WARNING"):
			warned = append(warned, s.name)
		}
	}
	return warned, unread
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// TestServerWarningsFail checks the judgement of TestConformance without
// the suite: a WARNING fails a scenario that must pass, not one that may
// fail.
func TestServerWarningsFail(t *testing.T) {
	rev := revision{requirements: "r", mustPassUnscored: []string{"pending-ours"}}
	ok := []check{{ID: "a", Status: "SUCCESS"}, {ID: "b", Status: "INFO"}}
	warn := []check{{ID: "a", Status: "SUCCESS"}, {ID: "server-sse-retry-field", Status: "WARNING"}}
	scenarios := []*scenario{
		{name: "scored-clean", ok: true, checks: ok},
		{name: "scored-warned", ok: true, checks: warn},
		{name: "pending-ours", ok: true, unscored: "pending", checks: warn},
		{name: "extension-not-ours", ok: true, unscored: "extension", checks: warn},
		{name: "scored-unreadable", ok: true, checksErr: errors.New("no results directory")},
		{name: "extension-unreadable", unscored: "extension", checksErr: errors.New("no results directory")},
	}
	warned, unread := warnings(rev, scenarios)
	if want := []string{"scored-warned", "pending-ours"}; !slices.Equal(warned, want) {
		t.Errorf("warned %v, want %v", warned, want)
	}
	if want := []string{"scored-unreadable"}; !slices.Equal(unread, want) {
		t.Errorf("unread %v, want %v", unread, want)
	}
}
