package client

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
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
	srv   *server.Server
	h     *server.Handler
	store server.SessionStore
	ts    *httptest.Server
	url   string
	proxy *proxy
}

// seenReq is what the proxy noted of a request.
type seenReq struct {
	verb, rpcMethod, session, lastEventID, auth, body string
}

// proxy sits in front of the real server: it notes every request and lets
// a test answer some itself (hook returns true when it did).
type proxy struct {
	next http.Handler
	mu   sync.Mutex
	seen []seenReq
	hook func(w http.ResponseWriter, r *http.Request, body []byte) bool
}

func (p *proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	var m struct{ Method string }
	_ = json.Unmarshal(body, &m)
	p.mu.Lock()
	p.seen = append(p.seen, seenReq{r.Method, m.Method, r.Header.Get("Mcp-Session-Id"), r.Header.Get("Last-Event-ID"), r.Header.Get("Authorization"), string(body)})
	hook := p.hook
	p.mu.Unlock()
	if hook != nil && hook(w, r, body) {
		return
	}
	p.next.ServeHTTP(w, r)
}

func (p *proxy) setHook(h func(w http.ResponseWriter, r *http.Request, body []byte) bool) {
	p.mu.Lock()
	p.hook = h
	p.mu.Unlock()
}

// answerVerb answers every request with that HTTP verb with status alone.
func (p *proxy) answerVerb(verb string, status int) {
	p.setHook(func(w http.ResponseWriter, r *http.Request, _ []byte) bool {
		if r.Method != verb {
			return false
		}
		w.WriteHeader(status)
		return true
	})
}

func (p *proxy) requests() []seenReq {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]seenReq(nil), p.seen...)
}

// count counts requests with that HTTP verb and JSON-RPC method ("" = any).
func (p *proxy) count(verb, rpcMethod string) int {
	n := 0
	for _, r := range p.requests() {
		if r.verb == verb && (rpcMethod == "" || r.rpcMethod == rpcMethod) {
			n++
		}
	}
	return n
}

// newTestServer runs the real MCP server (greetings registered) on
// httptest. tweak may change the transport configuration.
func newTestServer(t testing.TB, tweak func(*server.Config)) *testServer {
	t.Helper()
	return newTestServerWith(t, tweak, server.HandlerOptions{})
}

func newTestServerWith(t testing.TB, tweak func(*server.Config), hopts server.HandlerOptions) *testServer {
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
	hopts.Logger = slog.New(slog.DiscardHandler)
	if hopts.Store == nil {
		hopts.Store = server.NewMemoryStore(cfg.SessionTTL, cfg.MaxSessions)
	}
	h := server.NewHandler(srv, cfg, hopts)
	p := &proxy{next: server.NewMux(cfg, h)}
	ts := httptest.NewServer(p)
	t.Cleanup(func() { ts.Close(); h.Close() })
	return &testServer{srv: srv, h: h, store: hopts.Store, ts: ts, url: ts.URL + cfg.Path, proxy: p}
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

// mustAddTool registers a tool a test knows to be valid.
func mustAddTool(tb testing.TB, srv *server.Server, tool mcp.Tool, h server.ToolHandler) {
	tb.Helper()
	if err := srv.AddTool(tool, h); err != nil {
		tb.Fatal(err)
	}
}

// answerResult makes the proxy answer requests for method itself, with
// the JSON result that result returns for the request; other methods reach
// the server.
func answerResult(method string, result func(r *http.Request, params json.RawMessage) string) func(w http.ResponseWriter, r *http.Request, b []byte) bool {
	return func(w http.ResponseWriter, r *http.Request, b []byte) bool {
		var m struct {
			ID     json.RawMessage
			Method string
			Params json.RawMessage
		}
		_ = json.Unmarshal(b, &m)
		if m.Method != method {
			return false
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"jsonrpc":"2.0","id":` + string(m.ID) + `,"result":` + result(r, m.Params) + `}`))
		return true
	}
}
