package greetings

import (
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

func newServer(t *testing.T, interval time.Duration) (url, sid string) {
	t.Helper()
	srv := server.New(server.Options{})
	if err := Register(srv, Options{Interval: interval}); err != nil {
		t.Fatal(err)
	}
	cfg := server.DefaultConfig()
	cfg.LogRequests = false
	h := server.NewHandler(srv, cfg, server.HandlerOptions{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	ts := httptest.NewServer(server.NewMux(cfg, h))
	t.Cleanup(func() { h.Close(); ts.Close() })
	resp := post(t, ts.URL+"/mcp", "", `{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`)
	resp.Body.Close()
	return ts.URL + "/mcp", resp.Header.Get("Mcp-Session-Id")
}

func post(t *testing.T, url, sid, body string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	if sid != "" {
		req.Header.Set("Mcp-Session-Id", sid)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func result(t *testing.T, resp *http.Response) json.RawMessage {
	t.Helper()
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	m, err := mcp.DecodeMessage(b)
	if err != nil || m.Error != nil {
		t.Fatalf("%s: %v", b, err)
	}
	return m.Result
}

func TestGreetPromptResource(t *testing.T) {
	url, sid := newServer(t, time.Millisecond)
	tests := []struct{ body, want string }{
		{`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"greet","arguments":{"name":"Ada"}}}`, `"text":"Hello, Ada!"`},
		{`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"greet","arguments":{}}}`, `"isError":true`},
		{`{"jsonrpc":"2.0","id":1,"method":"prompts/get","params":{"name":"greeting-template","arguments":{"name":"Ada"}}}`, `Please greet Ada in a friendly manner.`},
		{`{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"uri":"` + ResourceURI + `"}}`, `"mimeType":"text/plain","text":"Hello, world!"`},
		{`{"jsonrpc":"2.0","id":1,"method":"resources/list"}`, `"name":"greeting-resource"`},
		{`{"jsonrpc":"2.0","id":1,"method":"completion/complete","params":{"ref":{"type":"ref/prompt","name":"greeting-template"},"argument":{"name":"name","value":"m"}}}`, `"values":["Mallory"]`},
	}
	for _, tt := range tests {
		if got := string(result(t, post(t, url, sid, tt.body))); !strings.Contains(got, tt.want) {
			t.Errorf("%s\n got %s\nwant %s", tt.body, got, tt.want)
		}
	}
}

// multi-greet streams its three log notifications as they happen, then
// answers.
func TestMultiGreetStreams(t *testing.T) {
	const interval = 150 * time.Millisecond
	url, sid := newServer(t, interval)
	start := time.Now()
	resp := post(t, url, sid, `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"multi-greet","arguments":{"name":"Ada"}}}`)
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("content type %q", ct)
	}
	dec := mcp.NewDecoder(resp.Body)
	want := []struct{ level, text string }{
		{"debug", "Starting multi-greet for Ada"},
		{"info", "Sending first greeting to Ada"},
		{"info", "Sending second greeting to Ada"},
	}
	var got []time.Duration
	for len(got) < len(want) {
		ev, err := dec.Next()
		if err != nil {
			t.Fatal(err)
		}
		if len(ev.Data) == 0 {
			continue
		}
		m, _ := mcp.DecodeMessage(ev.Data)
		var p mcp.LoggingMessageParams
		_ = json.Unmarshal(m.Params, &p)
		w := want[len(got)]
		if m.Method != mcp.NotificationMessage || string(p.Level) != w.level || p.Data != w.text {
			t.Fatalf("notification %d: %s %s", len(got), m.Method, m.Params)
		}
		got = append(got, time.Since(start))
	}
	for i := 1; i < len(got); i++ {
		if gap := got[i] - got[i-1]; gap < interval*2/3 {
			t.Errorf("notifications %d and %d arrived %v apart: buffered, not streamed", i-1, i, gap)
		}
	}
	for {
		ev, err := dec.Next()
		if err != nil {
			t.Fatal(err)
		}
		if m, _ := mcp.DecodeMessage(ev.Data); m != nil && m.Kind() == mcp.KindResponse {
			if !strings.Contains(string(m.Result), "Good morning, Ada!") {
				t.Fatalf("result %s", m.Result)
			}
			return
		}
	}
}

// postModern sends a request of protocol 2026-07-28: no session, the
// protocol version and capabilities in _meta (plus extra _meta members),
// the standard headers.
func postModern(t *testing.T, url, method, name, params, meta string) *http.Response {
	t.Helper()
	body := `{"jsonrpc":"2.0","id":1,"method":"` + method + `","params":{` + params + `"_meta":{` + meta +
		`"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}`
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("MCP-Protocol-Version", "2026-07-28")
	req.Header.Set("Mcp-Method", method)
	if name != "" {
		req.Header.Set("Mcp-Name", name)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// The same tools in the stateless era: multi-greet streams progress when
// asked and its log messages only when the request names a log level; the
// static resource may be cached by anyone.
func TestStateless(t *testing.T) {
	url, _ := newServer(t, time.Millisecond)
	tests := []struct {
		name, method, target, params, meta string
		want, not                          []string
	}{
		{"multi-greet without a log level", "tools/call", "multi-greet", `"name":"multi-greet","arguments":{"name":"Ada"},`, `"progressToken":"p",`,
			[]string{"notifications/progress", "Good morning, Ada!", `"resultType":"complete"`}, []string{"notifications/message"}},
		{"multi-greet at info", "tools/call", "multi-greet", `"name":"multi-greet","arguments":{"name":"Ada"},`, `"io.modelcontextprotocol/logLevel":"info",`,
			[]string{"Sending first greeting to Ada", "Sending second greeting to Ada", "Good morning, Ada!"}, []string{"Starting multi-greet"}},
		{"greet", "tools/call", "greet", `"name":"greet","arguments":{"name":"Bo"},`, "",
			[]string{"Hello, Bo!", `"io.modelcontextprotocol/serverInfo"`}, nil},
		{"resource", "resources/read", ResourceURI, `"uri":"` + ResourceURI + `",`, "",
			[]string{"Hello, world!", `"ttlMs":3600000`, `"cacheScope":"public"`}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := postModern(t, url, tt.method, tt.target, tt.params, tt.meta)
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != 200 || resp.Header.Get("Mcp-Session-Id") != "" {
				t.Fatalf("%d %v %s", resp.StatusCode, resp.Header, b)
			}
			for _, w := range tt.want {
				if !strings.Contains(string(b), w) {
					t.Errorf("missing %q in %s", w, b)
				}
			}
			for _, n := range tt.not {
				if strings.Contains(string(b), n) {
					t.Errorf("unexpected %q in %s", n, b)
				}
			}
		})
	}
}
