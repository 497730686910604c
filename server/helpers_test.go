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
	req, err := http.NewRequest(method, e.url, strings.NewReader(body))
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
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
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

// sse opens a streaming request and returns a decoder over its body.
func (e *testEnv) sse(ctx context.Context, method, sid, body string, hdr map[string]string) (*http.Response, *mcp.Decoder) {
	e.t.Helper()
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
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
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
			t.Fatalf("reading SSE: %v", err)
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
