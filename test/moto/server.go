// Package moto runs a local moto_server (Python moto) for tests and sets up
// real Cognito user pools on it through the AWS SDK for Go v2.
//
// It is test support code: it is imported only by _test.go files.
package moto

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"mcplambda/test/testproc"
)

// Dummy credentials and region used against moto. moto accepts any.
const (
	Region          = "us-east-1"
	AccessKeyID     = "AKIAIOSFODNN7EXAMPLE"
	SecretAccessKey = "test"
)

// StartTimeout is how long Start waits for moto_server to answer HTTP.
// moto's first start on a cold machine can take several seconds.
var StartTimeout = 30 * time.Second

// Server is a running moto_server.
type Server struct {
	// URL is http://127.0.0.1:PORT.
	URL  string
	Port int
	// StartDuration is how long moto_server took to answer HTTP.
	StartDuration time.Duration

	cmd       *exec.Cmd
	out       *testproc.Buffer
	done      chan struct{} // closed when the process has exited
	waitErr   error
	closeOnce sync.Once
	closeErr  error
}

// Start starts moto_server on a free port, waits until it answers, and
// stops it in t.Cleanup. If moto_server is not installed the test is
// skipped, unless MCP_REQUIRE_MOTO=1 or CI is set, then it fails.
func Start(t testing.TB) *Server {
	t.Helper()
	bin, err := exec.LookPath("moto_server")
	if err != nil {
		msg := "moto_server (Python moto, `pip install 'moto[server]'`) not found on PATH: " + err.Error()
		if Required() {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), StartTimeout)
	defer cancel()
	s, err := launch(ctx, bin)
	if err != nil {
		t.Fatalf("moto: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Logf("moto: stopping moto_server: %v", err)
		}
		if t.Failed() {
			t.Logf("moto: moto_server output (tail):\n%s", s.Tail(40))
		}
	})
	return s
}

// Required reports whether a missing moto_server must fail tests rather
// than skip them (MCP_REQUIRE_MOTO=1 or CI set).
func Required() bool {
	return os.Getenv("MCP_REQUIRE_MOTO") == "1" || os.Getenv("CI") != ""
}

// Launch starts moto_server without a testing.TB, e.g. from TestMain.
// The caller must call Close.
func Launch(ctx context.Context) (*Server, error) {
	bin, err := exec.LookPath("moto_server")
	if err != nil {
		return nil, fmt.Errorf("moto_server not found on PATH: %w", err)
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, StartTimeout)
		defer cancel()
	}
	return launch(ctx, bin)
}

func launch(ctx context.Context, bin string) (*Server, error) {
	var lastErr error
	// The free port can be taken between choosing and binding it: retry.
	for attempt := 0; attempt < 3; attempt++ {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		s, err := startOn(ctx, bin, port)
		if err == nil {
			return s, nil
		}
		lastErr = err
		if ctx.Err() != nil {
			break
		}
	}
	return nil, lastErr
}

func startOn(ctx context.Context, bin string, port int) (*Server, error) {
	s := &Server{
		URL:  fmt.Sprintf("http://127.0.0.1:%d", port),
		Port: port,
		out:  &testproc.Buffer{},
		done: make(chan struct{}),
	}
	// Not exec.CommandContext: the process must outlive ctx, which only
	// bounds the start.
	cmd := exec.Command(bin, "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	cmd.Stdout = s.out
	cmd.Stderr = s.out
	cmd.Env = os.Environ()
	// Own process group: moto_server is often a pyenv shim that runs
	// python as a child; signal the whole group on Close.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	s.cmd = cmd
	go func() {
		s.waitErr = cmd.Wait()
		close(s.done)
	}()

	began := time.Now()
	client := &http.Client{Timeout: 500 * time.Millisecond}
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/moto-api/data.json", nil)
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode < 500 {
				s.StartDuration = time.Since(began)
				return s, nil
			}
		}
		select {
		case <-s.done:
			return nil, fmt.Errorf("moto_server exited before answering (%v); output:\n%s", s.waitErr, s.Tail(40))
		case <-ctx.Done():
			_ = s.Close()
			return nil, fmt.Errorf("moto_server did not answer on %s within %v; output:\n%s",
				s.URL, time.Since(began).Round(time.Millisecond), s.Tail(40))
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Close stops moto_server: SIGTERM to its process group, then SIGKILL
// after a few seconds. It is safe to call more than once.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		pgid := s.cmd.Process.Pid
		select {
		case <-s.done:
			return
		default:
		}
		_ = syscall.Kill(-pgid, syscall.SIGTERM)
		select {
		case <-s.done:
		case <-time.After(5 * time.Second):
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
			select {
			case <-s.done:
			case <-time.After(5 * time.Second):
				s.closeErr = errors.New("moto_server did not exit after SIGKILL")
				return
			}
		}
		// Any stragglers left in the group (a shim's children).
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
	})
	return s.closeErr
}

// Output returns everything moto_server has printed so far.
func (s *Server) Output() string { return s.out.String() }

// Tail returns the last n lines moto_server printed.
func (s *Server) Tail(n int) string {
	lines := strings.Split(strings.TrimRight(s.out.String(), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// AWSConfig returns an SDK config that talks to this server: region
// us-east-1, static dummy credentials and BaseEndpoint = URL. It reads no
// environment variables and no ~/.aws files.
func (s *Server) AWSConfig(ctx context.Context) aws.Config {
	_ = ctx
	return aws.Config{
		Region: Region,
		Credentials: aws.NewCredentialsCache(
			credentials.NewStaticCredentialsProvider(AccessKeyID, SecretAccessKey, "")),
		BaseEndpoint: aws.String(s.URL),
	}
}

// Environ returns os.Environ() without any AWS_* variable, plus the
// variables that point the AWS CLI or another SDK-based process at this
// server with dummy credentials (no developer profile or ~/.aws file is read).
func (s *Server) Environ() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			env = append(env, kv)
		}
	}
	return append(env,
		"AWS_ENDPOINT_URL="+s.URL,
		"AWS_ACCESS_KEY_ID="+AccessKeyID,
		"AWS_SECRET_ACCESS_KEY="+SecretAccessKey,
		"AWS_REGION="+Region,
		"AWS_DEFAULT_REGION="+Region,
		"AWS_CONFIG_FILE="+os.DevNull,
		"AWS_SHARED_CREDENTIALS_FILE="+os.DevNull,
		"AWS_EC2_METADATA_DISABLED=true",
	)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
