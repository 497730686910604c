package client

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"mcplambda/greetings"
	"mcplambda/mcp"
	"mcplambda/server"
)

// wait is the generous bound of every wait in these tests: the CI machine
// is slow, and nothing here asserts on timing.
const wait = 30 * time.Second

type testServer struct {
	srv *server.Server
	h   *server.Handler
	ts  *httptest.Server
	url string
}

// newTestServer runs the real MCP server (greetings registered) on
// httptest. tweak may change the transport configuration.
func newTestServer(t *testing.T, tweak func(*server.Config)) *testServer {
	t.Helper()
	srv := server.New(server.Options{Info: mcp.Implementation{Name: "test-server", Version: "1"}, PageSize: 2})
	if err := greetings.Register(srv, greetings.Options{Interval: 20 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	cfg := server.DefaultConfig()
	cfg.LogRequests = false
	cfg.SSERetry = 10 * time.Millisecond
	if tweak != nil {
		tweak(&cfg)
	}
	h := server.NewHandler(srv, cfg, server.HandlerOptions{Logger: slog.New(slog.DiscardHandler)})
	ts := httptest.NewServer(server.NewMux(cfg, h))
	t.Cleanup(func() { ts.Close(); h.Close() })
	return &testServer{srv: srv, h: h, ts: ts, url: ts.URL + cfg.Path}
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	t.Cleanup(cancel)
	return ctx
}

// connect opens a client and closes it at the end of the test.
func connect(t *testing.T, opts Options) *Client {
	t.Helper()
	c, err := Connect(testContext(t), opts)
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		_ = c.Close(ctx)
	})
	return c
}

// recorder collects notifications, safe for concurrent use.
type recorder struct {
	mu    sync.Mutex
	got   []string // method + " " + params
	added chan struct{}
}

func newRecorder() *recorder { return &recorder{added: make(chan struct{}, 1000)} }

func (r *recorder) note(method string, params json.RawMessage) {
	r.mu.Lock()
	r.got = append(r.got, method+" "+string(params))
	r.mu.Unlock()
	select {
	case r.added <- struct{}{}:
	default:
	}
}

func (r *recorder) all() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.got...)
}

// waitFor waits until some notification contains want.
func (r *recorder) waitFor(t *testing.T, want string) {
	t.Helper()
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	for {
		for _, g := range r.all() {
			if strings.Contains(g, want) {
				return
			}
		}
		select {
		case <-r.added:
		case <-deadline.C:
			t.Fatalf("no notification containing %q; got %q", want, r.all())
		}
	}
}

// checkGoroutines fails the test if goroutines started during it outlive
// it, polling to let the runtime and closing connections settle.
func checkGoroutines(t *testing.T) {
	t.Helper()
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(wait)
		for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond) // polling a count, not synchronising
		}
		if n := runtime.NumGoroutine(); n > before {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			t.Errorf("%d goroutines remain, %d before:\n%s", n, before, buf)
		}
	})
}

func text(r *mcp.CallToolResult) string {
	var b strings.Builder
	for _, c := range r.Content {
		b.WriteString(c.Text)
	}
	return b.String()
}
