package conformance_test

// TestConformanceClient runs the official MCP conformance suite's client
// scenarios against our client: ./client, a thin main on the client and
// client/oauthclient packages, built with the race detector, once per
// protocol revision (a subtest each, see clientRevisions):
//
//	node .../conformance/dist/index.js client --command BIN --requirements REV -o DIR
//
// The suite starts one scenario server per scenario (in parallel) and runs
// BIN SERVER_URL with MCP_CONFORMANCE_SCENARIO (and
// MCP_CONFORMANCE_PROTOCOL_VERSION, the revision) set. A subtest fails
// unless every scored scenario of its revision ran and passed with neither
// a failed check nor a warning, the unscored ones in its mustPassUnscored
// passed too, and no client run reported a data race. Without the pinned
// npm tools it skips, unless MCP_REQUIRE_NODE_TOOLS=1, when it fails.

import (
	"bufio"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"mcplambda/test/testproc"
)

// clientRevision is one run of the client suite.
type clientRevision struct {
	requirements string
	// scored are the client scenarios the revision's requirement set
	// scores (requirements/REV.yaml in the suite).
	scored []string
	// mustPassUnscored are not scored for the revision (added after its
	// release), but the client does what they test, so they must pass.
	// The unscored auth extensions (client credentials,
	// enterprise-managed authorization, DPoP, workload identity) are
	// grants and proofs the OAuth client does not implement; they run and
	// are reported only.
	mustPassUnscored []string
}

// authScenarios are the auth scenarios both revisions score.
var authScenarios = []string{
	"auth/metadata-default",
	"auth/metadata-var1",
	"auth/metadata-var2",
	"auth/metadata-var3",
	"auth/basic-cimd",
	"auth/scope-from-www-authenticate",
	"auth/scope-from-scopes-supported",
	"auth/scope-omitted-when-undefined",
	"auth/scope-step-up",
	"auth/scope-retry-limit",
	"auth/token-endpoint-auth-basic",
	"auth/token-endpoint-auth-post",
	"auth/token-endpoint-auth-none",
	"auth/pre-registration",
}

var clientRevisions = []clientRevision{
	{
		// The frozen session-era revision (18 scored scenarios).
		requirements: "2025-11-25",
		scored: slices.Concat([]string{
			"initialize",
			"tools_call",
			"elicitation-sep1034-client-defaults",
			"sse-retry",
		}, authScenarios),
		mustPassUnscored: []string{"json-schema-2020-12-preservation"},
	},
	{
		// The stateless revision (32 scored scenarios): server/discover,
		// per-request _meta, the standard and x-mcp-header headers,
		// input_required, and the newer authorization requirements.
		requirements: "2026-07-28",
		scored: slices.Concat([]string{
			"tools_call",
			"request-metadata",
		}, authScenarios, []string{
			"auth/resource-mismatch",
			"auth/offline-access-scope",
			"auth/offline-access-not-supported",
			"auth/authorization-server-migration",
			"auth/iss-supported",
			"auth/iss-not-advertised",
			"auth/iss-supported-missing",
			"auth/iss-wrong-issuer",
			"auth/iss-unexpected",
			"auth/iss-normalized",
			"auth/metadata-issuer-mismatch",
			"sep-2322-client-request-state",
			"http-standard-headers",
			"http-custom-headers",
			"http-invalid-tool-headers",
			"json-schema-ref-no-deref",
		}),
		mustPassUnscored: []string{"json-schema-2020-12-preservation"},
	},
}

var clientSummaryRE = regexp.MustCompile(`^(✓|✗) (\S+): (\d+) passed, (\d+) failed(?:, (\d+) warnings)?$`)

type clientScenario struct {
	name                     string
	ok                       bool // the suite's mark: no failure and no warning
	passed, failed, warnings int
	unscored                 string // reason it is not scored; "" for scored scenarios
	dir                      string
	checks                   []check
	checksErr                error
	race                     bool // the client's stderr holds a race report
}

func TestConformanceClient(t *testing.T) {
	if testing.Short() {
		t.Skip("conformance suite skipped in -short mode")
	}
	root := testproc.RepoRoot(t)
	node := testproc.NodeTools(t, root, suiteRel)
	bin := testproc.BuildRace(t, root, "./test/conformance/client")
	// The suite splits --command on spaces.
	if strings.ContainsAny(bin, " \t") {
		t.Fatalf("the client binary's path %q contains white space, which the suite cannot run", bin)
	}

	for _, rev := range clientRevisions {
		t.Run(rev.requirements, func(t *testing.T) {
			outDir := t.TempDir()
			res := runClientSuite(t, root, node.Bin, node.Path(suiteRel), bin, rev.requirements, outDir)
			scenarios, total := parseClient(res)
			judgeClient(t, rev, res, scenarios, total)
		})
	}
}

// The scenarios run in parallel, each with a race-instrumented client, on
// machines that may have two slow cores: a generous per-scenario timeout
// (the default is 30 s).
func runClientSuite(t *testing.T, root, node, suite, bin, requirements, outDir string) suiteResult {
	return runSuite(t, root, node, suite, outDir, "client", "--command", bin, "--requirements", requirements, "--timeout", "120000")
}

// parseClient reads the suite's summary, then each scenario's checks.json
// and the client's stderr.txt from OUT/<scenario>-<timestamp>/.
func parseClient(res suiteResult) (scenarios []*clientScenario, total string) {
	byName := map[string]*clientScenario{}
	inSummary := false
	sc := bufio.NewScanner(strings.NewReader(res.stdout))
	sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		if line == "=== SUITE SUMMARY ===" {
			inSummary = true
			continue
		}
		if !inSummary {
			continue
		}
		if m := clientSummaryRE.FindStringSubmatch(line); m != nil {
			s := &clientScenario{name: m[2], ok: m[1] == "✓"}
			s.passed, _ = strconv.Atoi(m[3])
			s.failed, _ = strconv.Atoi(m[4])
			s.warnings, _ = strconv.Atoi(m[5]) // "" (no warnings) reads as 0
			byName[s.name] = s
			scenarios = append(scenarios, s)
			continue
		}
		if strings.HasPrefix(line, "Total: ") {
			total = line
			continue
		}
		if m := notScoredRE.FindStringSubmatch(line); m != nil {
			if s := byName[m[2]]; s != nil {
				s.unscored = m[3]
			}
		}
	}
	for _, s := range scenarios {
		s.dir = findClientResultDir(res.outDir, s.name)
		if s.dir == "" {
			s.checksErr = errors.New("no results directory")
			continue
		}
		b, err := os.ReadFile(filepath.Join(s.dir, "checks.json"))
		if err == nil {
			err = json.Unmarshal(b, &s.checks)
		}
		s.checksErr = err
		if b, err := os.ReadFile(filepath.Join(s.dir, "stderr.txt")); err == nil {
			s.race = strings.Contains(string(b), "WARNING: DATA RACE")
		}
	}
	return scenarios, total
}

// findClientResultDir finds OUT/<scenario>-<timestamp>; scenario names
// such as auth/metadata-default make it a subdirectory.
func findClientResultDir(outDir, name string) string {
	prefix := filepath.Base(name) + "-"
	matches, _ := filepath.Glob(filepath.Join(outDir, filepath.FromSlash(name)+"-*"))
	for _, m := range slices.Backward(matches) {
		rest := strings.TrimPrefix(filepath.Base(m), prefix)
		if rest != "" && rest[0] >= '0' && rest[0] <= '9' {
			return m
		}
	}
	return ""
}

func judgeClient(t *testing.T, rev clientRevision, res suiteResult, scenarios []*clientScenario, total string) {
	byName := map[string]*clientScenario{}
	for _, s := range scenarios {
		byName[s.name] = s
		kind := "scored"
		if s.unscored != "" {
			kind = "not scored: " + s.unscored
		}
		mark := "✓"
		if !s.ok {
			mark = "✗"
		}
		t.Logf("%s %-40s %d passed, %d failed, %d warnings (%s)", mark, s.name, s.passed, s.failed, s.warnings, kind)
		if s.checksErr != nil {
			t.Logf("    checks.json unavailable: %v", s.checksErr)
		}
	}
	if total != "" {
		t.Log(total)
	}

	var failedScored []string
	for _, name := range rev.scored {
		s := byName[name]
		switch {
		case s == nil:
			t.Errorf("scored scenario %s did not run (or is missing from the suite's summary)", name)
		case s.unscored != "":
			t.Errorf("scenario %s is reported as not scored (%s); the %s requirement set scores it", name, s.unscored, rev.requirements)
		case !s.ok || s.failed > 0 || s.warnings > 0 || hasStatus(s.checks, "FAILURE", "WARNING"):
			failedScored = append(failedScored, name)
		case !hasStatus(s.checks, "SUCCESS"):
			// Some scenarios (initialize) only emit checks once the
			// client has talked to them: no check at all is no pass.
			failedScored = append(failedScored, name)
			t.Errorf("scenario %s passed no check at all: the client never reached its server", name)
		case s.checksErr != nil:
			t.Errorf("scenario %s: its checks could not be read: %v", name, s.checksErr)
		}
	}
	for _, s := range scenarios {
		if s.unscored == "" && !slices.Contains(rev.scored, s.name) {
			t.Errorf("scenario %s is scored for %s but not listed in clientRevisions", s.name, rev.requirements)
		}
	}
	if len(failedScored) > 0 {
		t.Errorf("want every scored client scenario to pass without failures or warnings; failing: %v", failedScored)
	}
	for _, name := range rev.mustPassUnscored {
		s := byName[name]
		switch {
		case s == nil:
			t.Errorf("unscored scenario %s did not run", name)
		case !s.ok || hasStatus(s.checks, "FAILURE", "WARNING") || !hasStatus(s.checks, "SUCCESS"):
			t.Errorf("%s failed: the client does what it tests, so it must pass", name)
		}
	}
	if res.timedOut {
		t.Errorf("the conformance suite did not finish in time")
	} else if res.exitCode != 0 {
		t.Errorf("the conformance suite exited with status %d (a scored scenario failed)", res.exitCode)
	}
	for _, s := range scenarios {
		if s.race {
			t.Errorf("the client (built with -race) reported a data race in scenario %s:\n%s", s.name,
				truncate(readFile(filepath.Join(s.dir, "stderr.txt")), 20000))
		}
	}
	if len(scenarios) == 0 {
		t.Errorf("no scenario results found in the suite's output")
	}
	if !t.Failed() {
		return
	}
	// Details: each failed or warned check of the scenarios that must pass,
	// with the end of the client's log for that scenario.
	mustPass := slices.Concat(rev.scored, rev.mustPassUnscored)
	for _, s := range scenarios {
		if !slices.Contains(mustPass, s.name) || (s.ok && !hasStatus(s.checks, "FAILURE", "WARNING")) {
			continue
		}
		for _, c := range s.checks {
			if c.Status == "FAILURE" || c.Status == "WARNING" {
				msg := c.ErrorMessage
				if msg == "" {
					msg = c.Description
				}
				t.Logf("%s %s / %s: %s\n    details: %s", c.Status, s.name, c.ID, msg, truncate(string(c.Details), 2000))
			}
		}
		if s.dir != "" {
			t.Logf("client log of %s (tail):\n%s", s.name, testproc.Tail(readFile(filepath.Join(s.dir, "stderr.txt")), 30))
		}
	}
	if len(scenarios) == 0 || len(failedScored) > 0 {
		t.Logf("suite stdout:\n%s", testproc.Tail(res.stdout, 80))
	}
	if strings.TrimSpace(res.stderr) != "" {
		t.Logf("suite stderr:\n%s", testproc.Tail(res.stderr, 40))
	}
}

func hasStatus(checks []check, statuses ...string) bool {
	return slices.ContainsFunc(checks, func(c check) bool { return slices.Contains(statuses, c.Status) })
}

func readFile(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "(" + err.Error() + ")"
	}
	return string(b)
}
