package dynamostore

import (
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
	"mcplambda/server"
)

// instance is one server process: its own Server, Handler and HTTP
// listener, sharing only the DynamoDB table with the others.
type instance struct {
	t   *testing.T
	url string
}

func newInstance(t *testing.T, store server.SessionStore) *instance {
	t.Helper()
	srv := server.New(server.Options{Info: mcp.Implementation{Name: "test", Version: "1"}})
	mustAddTool(t, srv, mcp.Tool{
		Name:        "echo",
		Description: "echoes text",
		InputSchema: json.RawMessage(`{"type":"object","properties":{"text":{"type":"string"}},"required":["text"]}`),
	}, func(_ context.Context, _ *server.Call, args json.RawMessage) (*mcp.CallToolResult, error) {
		var a struct{ Text string }
		_ = json.Unmarshal(args, &a)
		return mcp.ToolText(a.Text), nil
	})
	cfg := server.DefaultConfig()
	cfg.LogRequests = false
	cfg.KeepAlive = 0
	h := server.NewHandler(srv, cfg, server.HandlerOptions{
		Store:  store,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	ts := httptest.NewServer(server.NewMux(cfg, h))
	t.Cleanup(func() {
		h.Close()
		ts.CloseClientConnections()
		ts.Close()
	})
	return &instance{t: t, url: ts.URL + cfg.Path}
}

func (in *instance) do(method, sid, body string) (int, http.Header, []byte) {
	in.t.Helper()
	req, err := http.NewRequest(method, in.url, strings.NewReader(body))
	if err != nil {
		in.t.Fatal(err)
	}
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
	}
	if sid != "" {
		req.Header.Set("Mcp-Session-Id", sid)
		req.Header.Set("Mcp-Protocol-Version", mcp.LatestVersion)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		in.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

// message decodes a reply that is either JSON or an SSE stream.
func message(t *testing.T, body []byte) *mcp.Message {
	t.Helper()
	if m, err := mcp.DecodeMessage(body); err == nil {
		return m
	}
	d := mcp.NewDecoder(strings.NewReader(string(body)))
	for {
		ev, err := d.Next()
		if err != nil {
			t.Fatalf("no JSON-RPC message in %s", body)
		}
		if len(ev.Data) == 0 {
			continue
		}
		m, err := mcp.DecodeMessage(ev.Data)
		if err != nil {
			t.Fatalf("SSE data is not a message: %v: %s", err, ev.Data)
		}
		return m
	}
}

func TestTransportAcrossInstances(t *testing.T) {
	ctx := context.Background()
	c, table := newTable(t)
	storeA, err := New(ctx, c, table, 30*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	storeB, err := New(ctx, c, table, 30*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	a, b := newInstance(t, storeA), newInstance(t, storeB)

	// initialize on A.
	status, hdr, body := a.do(http.MethodPost, "", `{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"`+
		mcp.LatestVersion+`","capabilities":{"sampling":{},"elicitation":{},"roots":{}},"clientInfo":{"name":"t","version":"1"}}}`)
	if status != http.StatusOK {
		t.Fatalf("initialize on A: %d %s", status, body)
	}
	sid := hdr.Get("Mcp-Session-Id")
	if sid == "" {
		t.Fatal("no Mcp-Session-Id from A")
	}
	if m := message(t, body); m.Error != nil {
		t.Fatalf("initialize: %+v", m.Error)
	}
	if status, _, body := a.do(http.MethodPost, sid, `{"jsonrpc":"2.0","method":"notifications/initialized"}`); status != http.StatusAccepted {
		t.Fatalf("initialized on A: %d %s", status, body)
	}
	// The session is in the table, with the negotiated state.
	st, err := storeB.Load(ctx, sid)
	if err != nil {
		t.Fatalf("session not in the table: %v", err)
	}
	if st.ProtocolVersion != mcp.LatestVersion || st.ClientInfo.Name != "t" {
		t.Fatalf("stored state: %+v", st)
	}

	// tools/call on B, which has never seen the session.
	status, _, body = b.do(http.MethodPost, sid, `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hello from B"}}}`)
	if status != http.StatusOK {
		t.Fatalf("tools/call on B: %d %s", status, body)
	}
	m := message(t, body)
	if m.Error != nil {
		t.Fatalf("tools/call on B: %+v", m.Error)
	}
	var res mcp.CallToolResult
	if err := json.Unmarshal(m.Result, &res); err != nil {
		t.Fatal(err)
	}
	if rb, _ := json.Marshal(res.Content); !strings.Contains(string(rb), "hello from B") {
		t.Fatalf("tools/call result: %s", m.Result)
	}

	// DELETE on A ends the session everywhere: B answers 404.
	if status, _, body := a.do(http.MethodDelete, sid, ""); status != http.StatusOK && status != http.StatusNoContent {
		t.Fatalf("DELETE on A: %d %s", status, body)
	}
	status, _, body = b.do(http.MethodPost, sid, `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{"text":"again"}}}`)
	if status != http.StatusNotFound {
		t.Fatalf("tools/call on B after DELETE on A: %d %s, want 404", status, body)
	}
}

// mustAddTool registers a tool a test knows to be valid.
func mustAddTool(tb testing.TB, srv *server.Server, tool mcp.Tool, h server.ToolHandler) {
	tb.Helper()
	if err := srv.AddTool(tool, h); err != nil {
		tb.Fatal(err)
	}
}
