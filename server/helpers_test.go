package server

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"mcplambda/mcp"
)

// testEnv is a real HTTP server on loopback around a Handler.
type testEnv struct {
	t   *testing.T
	srv *Server
	h   *Handler
	ts  *httptest.Server
	url string
}

// testWait bounds every request, stream and hand-off of these tests. A bug
// that loses a message or leaves a session stuck (a stream another client
// was never meant to get, a call that never starts) then fails the test in
// seconds, saying what it waited for, instead of hanging until go test's
// -timeout. Everything here is on loopback and takes milliseconds, so the
// bound is far from anything a loaded machine needs.
const testWait = 10 * time.Second

func testConfig() Config {
	cfg := DefaultConfig()
	cfg.LogRequests = false
	cfg.KeepAlive = 0
	return cfg
}

func newEnv(t *testing.T, cfg Config, opts HandlerOptions, setup func(*Server)) *testEnv {
	t.Helper()
	srv := New(Options{Info: mcp.Implementation{Name: "test", Version: "1"}, PageSize: 100})
	mustAddTool(t, srv, mcp.Tool{
		Name:        "echo",
		Description: "echoes text",
		InputSchema: json.RawMessage(`{"type":"object","properties":{"text":{"type":"string"},"n":{"type":"integer","minimum":0}},"required":["text"]}`),
	}, func(_ context.Context, _ *Call, args json.RawMessage) (*mcp.CallToolResult, error) {
		var a struct{ Text string }
		_ = json.Unmarshal(args, &a)
		return mcp.ToolText(a.Text), nil
	})
	_ = srv.AddResource(mcp.Resource{URI: "test://r", Name: "r", MIMEType: "text/plain"},
		func(_ context.Context, _ *Call, uri string, _ map[string]string) (*mcp.ReadResourceResult, error) {
			return &mcp.ReadResourceResult{Contents: []mcp.ResourceContents{{URI: uri, Text: "r"}}}, nil
		})
	_ = srv.AddPrompt(mcp.Prompt{Name: "p", Description: "d", Arguments: []mcp.PromptArgument{{Name: "who", Required: true}}},
		func(_ context.Context, _ *Call, args map[string]string) (*mcp.GetPromptResult, error) {
			return &mcp.GetPromptResult{Messages: []mcp.PromptMessage{{Role: mcp.RoleUser, Content: mcp.TextContent("hi " + args["who"])}}}, nil
		})
	if setup != nil {
		setup(srv)
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	h := NewHandler(srv, cfg, opts)
	ts := httptest.NewServer(NewMux(cfg, h))
	t.Cleanup(func() {
		h.Close()
		ts.CloseClientConnections()
		ts.Close()
	})
	return &testEnv{t: t, srv: srv, h: h, ts: ts, url: ts.URL + cfg.Path}
}

// fakeClock is session time that a test moves by hand, so that expiry
// tests do not depend on how fast a loaded machine runs them.
type fakeClock struct{ ns atomic.Int64 }

func newFakeClock() *fakeClock {
	c := &fakeClock{}
	c.ns.Store(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	return c
}

func (c *fakeClock) now() time.Time { return time.Unix(0, c.ns.Load()) }

func (c *fakeClock) advance(d time.Duration) { c.ns.Add(int64(d)) }

// newClockedEnv is newEnv with session time on clk: the memory store's
// expiry and the session table's idle time (which takes the store's clock).
func newClockedEnv(t *testing.T, cfg Config, clk *fakeClock) *testEnv {
	t.Helper()
	store := NewMemoryStore(cfg.SessionTTL, cfg.MaxSessions)
	store.now = clk.now
	return newEnv(t, cfg, HandlerOptions{Store: store}, nil)
}

type reply struct {
	status int
	header http.Header
	body   []byte
}

func (r reply) msg(t *testing.T) *mcp.Message {
	t.Helper()
	m, err := mcp.DecodeMessage(r.body)
	if err != nil {
		t.Fatalf("response is not a JSON-RPC message: %v: %s", err, r.body)
	}
	return m
}

// do sends a request with the standard MCP headers unless overridden
// (an empty value deletes a header).
func (e *testEnv) do(method, sid, body string, hdr map[string]string) reply {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testWait)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, e.url, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
	}
	if sid != "" {
		req.Header.Set("Mcp-Session-Id", sid)
	}
	for k, v := range hdr {
		if k == "Host" {
			req.Host = v
			continue
		}
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := http.DefaultClient.Do(req) // bounded by ctx
	if err != nil {
		e.t.Fatalf("%s %s: %v (a deadline here means no answer within %s: the handler hangs)", method, e.url, err, testWait)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatalf("%s %s: reading the %d answer: %v (a stream that does not end within %s?)", method, e.url, resp.StatusCode, err, testWait)
	}
	return reply{resp.StatusCode, resp.Header, b}
}

func (e *testEnv) post(sid, body string) reply { return e.do(http.MethodPost, sid, body, nil) }

func initBody(version string) string {
	return `{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"` + version +
		`","capabilities":{"sampling":{},"elicitation":{},"roots":{}},"clientInfo":{"name":"t","version":"1"}}}`
}

// initialize opens a session and returns its id.
func (e *testEnv) initialize(version string, hdr map[string]string) string {
	e.t.Helper()
	r := e.do(http.MethodPost, "", initBody(version), hdr)
	if r.status != http.StatusOK {
		e.t.Fatalf("initialize: %d %s", r.status, r.body)
	}
	sid := r.header.Get("Mcp-Session-Id")
	if sid == "" {
		e.t.Fatal("no Mcp-Session-Id")
	}
	if r := e.do(http.MethodPost, sid, `{"jsonrpc":"2.0","method":"notifications/initialized"}`, hdr); r.status != http.StatusAccepted {
		e.t.Fatalf("initialized: %d %s", r.status, r.body)
	}
	return sid
}

// sse opens a streaming request and returns a decoder over its body. A
// stream whose ctx has no deadline gets testWait: no stream in these tests
// lasts longer, and a reader waiting for an event that never comes then
// fails instead of hanging.
func (e *testEnv) sse(ctx context.Context, method, sid, body string, hdr map[string]string) (*http.Response, *mcp.Decoder) {
	e.t.Helper()
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, testWait)
		e.t.Cleanup(cancel)
	}
	var rd io.Reader
	if body != "" {
		rd = bytes.NewReader([]byte(body))
	}
	req, _ := http.NewRequestWithContext(ctx, method, e.url, rd)
	req.Header.Set("Accept", "application/json, text/event-stream")
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Mcp-Session-Id", sid)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req) // bounded by ctx
	if err != nil {
		e.t.Fatalf("%s %s (stream): %v", method, e.url, err)
	}
	e.t.Cleanup(func() { resp.Body.Close() })
	return resp, mcp.NewDecoder(resp.Body)
}

// nextMessage reads SSE events until one carries a JSON-RPC message.
func nextMessage(t *testing.T, d *mcp.Decoder) (*mcp.Message, string) {
	t.Helper()
	for {
		ev, err := d.Next()
		if err != nil {
			t.Fatalf("reading SSE: %v (a deadline here means an event never came)", err)
		}
		if len(ev.Data) == 0 {
			continue // priming event
		}
		m, err := mcp.DecodeMessage(ev.Data)
		if err != nil {
			t.Fatalf("SSE data is not a message: %v: %s", err, ev.Data)
		}
		return m, ev.ID
	}
}

// await receives from ch, failing the test if nothing comes within
// testWait.
func await[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	timer := time.NewTimer(testWait)
	defer timer.Stop()
	select {
	case v := <-ch:
		return v
	case <-timer.C:
		t.Fatalf("timed out after %s waiting for %s", testWait, what)
		panic("unreachable")
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// mustAddTool registers a tool a test knows to be valid.
func mustAddTool(tb testing.TB, srv *Server, tool mcp.Tool, h ToolHandler) {
	tb.Helper()
	if err := srv.AddTool(tool, h); err != nil {
		tb.Fatal(err)
	}
}
