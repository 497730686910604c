// Package interop_test runs the official MCP TypeScript SDK client
// (test/interop/client.mjs, pinned in test/package.json) against the real
// server binary, built with the race detector.
package interop_test

import (
	"bufio"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"mcplambda/test/testproc"
)

const (
	startTimeout    = 15 * time.Second
	clientTimeout   = 2 * time.Minute // the script has its own 60 s global timeout
	shutdownTimeout = 10 * time.Second
)

// summaryLine is the script's last line.
var summaryLine = regexp.MustCompile(`^(\d+) passed, (\d+) failed$`)

// wantChecks is how many checks client.mjs makes: every one of them runs on
// a passing run (a step that throws counts as a failure), so a different
// number means checks were added or lost. Update it with the script.
const wantChecks = 42

func TestTypeScriptSDKClient(t *testing.T) {
	root := testproc.RepoRoot(t)
	node := testproc.NodeTools(t, root, "@modelcontextprotocol/sdk/package.json")
	testDir := filepath.Join(root, "test")
	script := filepath.Join(testDir, "interop", "client.mjs")

	bin := testproc.BuildRace(t, root, "./cmd/mcp-server")
	port := testproc.FreePort(t)
	srv := testproc.Start(t, bin, testproc.Options{
		Name:        "server",
		Unset:       testproc.ServerEnv(),
		Env:         []string{"HOST=127.0.0.1", "PORT=" + strconv.Itoa(port)},
		StopTimeout: shutdownTimeout,
	})
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	srv.WaitListening(t, addr, startTimeout)

	url := "http://" + addr + "/mcp"
	t.Logf("server listening at %s", url)

	ctx, cancel := context.WithTimeout(context.Background(), clientTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, node.Bin, script, url)
	cmd.Dir = filepath.Join(testDir, "interop")
	cmd.Env = append(os.Environ(), "NO_COLOR=1")
	cmd.WaitDelay = 5 * time.Second
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start node: %v", err)
	}
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		last    string
		oks     int
		notOk   []string
		lineErr error
	)
	wg.Go(func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			t.Log("client: " + line)
			mu.Lock()
			if strings.TrimSpace(line) != "" {
				last = line
			}
			if strings.HasPrefix(line, "ok - ") {
				oks++
			}
			if strings.HasPrefix(line, "not ok") {
				notOk = append(notOk, line)
			}
			mu.Unlock()
		}
		mu.Lock()
		lineErr = sc.Err()
		mu.Unlock()
	})
	wg.Go(func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			t.Log("client stderr: " + sc.Text())
		}
	})
	wg.Wait()
	runErr := cmd.Wait()

	mu.Lock()
	defer mu.Unlock()
	if lineErr != nil {
		t.Errorf("reading the client's output: %v", lineErr)
	}
	if ctx.Err() != nil {
		t.Errorf("the client did not finish within %s", clientTimeout)
	}
	if runErr != nil {
		t.Errorf("the TypeScript SDK client failed: %v", runErr)
	}
	for _, l := range notOk {
		t.Errorf("failed check: %s", l)
	}
	if m := summaryLine.FindStringSubmatch(last); m == nil {
		t.Errorf("the client's last line is %q, want \"N passed, M failed\"", last)
	} else if n, _ := strconv.Atoi(m[1]); n != wantChecks || m[2] != "0" || oks != wantChecks {
		t.Errorf("client summary %q with %d \"ok\" lines; want %d passed, 0 failed (client.mjs has %d checks: update wantChecks when changing them)", last, oks, wantChecks, wantChecks)
	}

	// Stop also reports a server that exited during the run.
	if err := srv.Stop(t); err != nil {
		t.Errorf("%v", err)
	}
	if srv.HasDataRace() {
		t.Errorf("the race detector reported a data race in the server")
	}
	if t.Failed() {
		t.Logf("server output:\n%s", srv.Output())
	}
}
