package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"mcplambda/mcp"
	"mcplambda/server"
)

// headerLog notes the headers of every request the proxy sees, by
// JSON-RPC method, without answering any.
type headerLog struct {
	mu   sync.Mutex
	seen []http.Header
	body []string
}

func (l *headerLog) hook(w http.ResponseWriter, r *http.Request, body []byte) bool {
	l.mu.Lock()
	l.seen = append(l.seen, r.Header.Clone())
	l.body = append(l.body, string(body))
	l.mu.Unlock()
	return false
}

func (l *headerLog) withMethod(method string) (hs []http.Header, bodies []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, h := range l.seen {
		if h.Get("Mcp-Method") == method {
			hs = append(hs, h)
			bodies = append(bodies, l.body[i])
		}
	}
	return hs, bodies
}

// answerDiscover makes the proxy answer server/discover itself.
func answerDiscover(status int, body string) func(w http.ResponseWriter, r *http.Request, b []byte) bool {
	return func(w http.ResponseWriter, r *http.Request, b []byte) bool {
		var m struct{ Method string }
		_ = json.Unmarshal(b, &m)
		if m.Method != mcp.MethodServerDiscover {
			return false
		}
		if strings.HasPrefix(body, "{") {
			w.Header().Set("Content-Type", "application/json")
		}
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
		return true
	}
}

// firstOnly applies hook to the first request it handles only.
func firstOnly(hook func(w http.ResponseWriter, r *http.Request, b []byte) bool) func(w http.ResponseWriter, r *http.Request, b []byte) bool {
	var done atomic.Bool
	return func(w http.ResponseWriter, r *http.Request, b []byte) bool {
		if done.Load() {
			return false
		}
		if hook(w, r, b) {
			done.Store(true)
			return true
		}
		return false
	}
}

func TestNegotiation(t *testing.T) {
	modernErr := func(code int, data string) string {
		return fmt.Sprintf(`{"jsonrpc":"2.0","id":1,"error":{"code":%d,"message":"no","data":%s}}`, code, data)
	}
	tests := []struct {
		name     string
		opts     Options
		hook     func(w http.ResponseWriter, r *http.Request, b []byte) bool
		wantEra  Era
		wantErr  string // substring; "" = success
		probes   int    // server/discover requests
		initials int    // initialize requests
	}{
		{name: "modern server", opts: Options{}, wantEra: EraStateless, probes: 1},
		{name: "session-only server: 400 without JSON-RPC", opts: Options{},
			hook: answerDiscover(400, "Bad Request"), wantEra: EraSession, probes: 1, initials: 1},
		{name: "session-only server: 400 with a session-era error", opts: Options{},
			hook:    answerDiscover(400, `{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"Bad Request: Mcp-Session-Id header is required"}}`),
			wantEra: EraSession, probes: 1, initials: 1},
		{name: "session-only server: 404 plain", opts: Options{},
			hook: answerDiscover(404, "not found"), wantEra: EraSession, probes: 1, initials: 1},
		{name: "session-only server: 405", opts: Options{},
			hook: answerDiscover(405, ""), wantEra: EraSession, probes: 1, initials: 1},
		{name: "session-only server: 200 method not found", opts: Options{},
			hook:    answerDiscover(200, `{"jsonrpc":"2.0","id":1,"error":{"code":-32601,"message":"Method not found"}}`),
			wantEra: EraSession, probes: 1, initials: 1},
		{name: "modern error is no fallback: header mismatch", opts: Options{},
			hook: answerDiscover(400, modernErr(mcp.CodeHeaderMismatch, "null")), wantErr: "-32020", probes: 1},
		{name: "modern error is no fallback: missing capability", opts: Options{},
			hook: answerDiscover(400, modernErr(mcp.CodeMissingRequiredClientCapability, "{}")), wantErr: "-32021", probes: 1},
		{name: "modern error is no fallback: 404 method not found", opts: Options{},
			hook: answerDiscover(404, modernErr(mcp.CodeMethodNotFound, "null")), wantErr: "-32601", probes: 1},
		{name: "unsupported version with nothing we speak", opts: Options{},
			hook:    answerDiscover(400, modernErr(mcp.CodeUnsupportedProtocolVersion, `{"supported":["2099-01-01"],"requested":"2026-07-28"}`)),
			wantErr: "-32022", probes: 1},
		{name: "unsupported version listing ours: asked once more", opts: Options{ProtocolVersion: mcp.Version20260728},
			hook:    firstOnly(answerDiscover(400, modernErr(mcp.CodeUnsupportedProtocolVersion, `{"supported":["2026-07-28"],"requested":"2026-07-28"}`))),
			wantEra: EraStateless, probes: 2},
		{name: "unsupported version listing ours, twice: no third try", opts: Options{ProtocolVersion: mcp.Version20260728},
			hook:    answerDiscover(400, modernErr(mcp.CodeUnsupportedProtocolVersion, `{"supported":["2026-07-28"],"requested":"2026-07-28"}`)),
			wantErr: "-32022", probes: 2},
		{name: "forced stateless", opts: Options{ProtocolVersion: mcp.Version20260728}, wantEra: EraStateless, probes: 1},
		{name: "forced stateless against a session-only server", opts: Options{ProtocolVersion: mcp.Version20260728},
			hook: answerDiscover(400, "Bad Request"), wantErr: "does not speak the stateless era", probes: 1},
		{name: "forced session era", opts: Options{ProtocolVersion: mcp.LatestVersion}, wantEra: EraSession, initials: 1},
		{name: "default negotiates", opts: Options{}, wantEra: EraStateless, probes: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestServer(t, nil)
			s.proxy.setHook(tt.hook)
			opts := tt.opts
			opts.URL = s.url
			c, err := Connect(testContext(t), opts)
			if tt.wantErr != "" {
				if err == nil {
					c.Disconnect()
					t.Fatalf("Connect succeeded; want an error containing %q", tt.wantErr)
				}
				if !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Connect: %v; want an error containing %q", err, tt.wantErr)
				}
			} else {
				if err != nil {
					t.Fatalf("Connect: %v", err)
				}
				defer c.Close(testContext(t))
				if c.Era() != tt.wantEra {
					t.Fatalf("era %q, want %q", c.Era(), tt.wantEra)
				}
				switch tt.wantEra {
				case EraStateless:
					if c.ProtocolVersion() != mcp.Version20260728 || c.SessionID() != "" {
						t.Errorf("version %q session %q", c.ProtocolVersion(), c.SessionID())
					}
					info := c.ServerInfo()
					if info.ServerInfo.Name != "test-server" || info.Capabilities.Tools == nil {
						t.Errorf("server info %+v", info)
					}
					if d := c.Discovery(); len(d.SupportedVersions) == 0 || d.SupportedVersions[0] != mcp.Version20260728 {
						t.Errorf("discovery %+v", d)
					}
					tools, err := c.ListTools(testContext(t))
					if err != nil || len(tools) == 0 {
						t.Fatalf("ListTools: %v, %d tools", err, len(tools))
					}
				case EraSession:
					if c.SessionID() == "" || c.ProtocolVersion() != mcp.LatestVersion {
						t.Errorf("version %q session %q", c.ProtocolVersion(), c.SessionID())
					}
					if err := c.Ping(testContext(t)); err != nil {
						t.Fatalf("Ping: %v", err)
					}
				}
			}
			if n := s.proxy.count(http.MethodPost, mcp.MethodServerDiscover); n != tt.probes {
				t.Errorf("%d server/discover requests, want %d", n, tt.probes)
			}
			if n := s.proxy.count(http.MethodPost, mcp.MethodInitialize); n != tt.initials {
				t.Errorf("%d initialize requests, want %d", n, tt.initials)
			}
		})
	}
}

// The probe carries the stateless era's headers and _meta.
func TestDiscoverRequest(t *testing.T) {
	s := newTestServer(t, nil)
	var hl headerLog
	s.proxy.setHook(hl.hook)
	connect(t, Options{URL: s.url, ClientInfo: mcp.Implementation{Name: "probe", Version: "9"},
		Elicit: func(context.Context, *mcp.ElicitParams) (*mcp.ElicitResult, error) { return nil, nil }})
	hs, bodies := hl.withMethod(mcp.MethodServerDiscover)
	if len(hs) != 1 {
		t.Fatalf("%d discover requests", len(hs))
	}
	if v := hs[0].Get("MCP-Protocol-Version"); v != mcp.Version20260728 {
		t.Errorf("MCP-Protocol-Version %q", v)
	}
	var body struct {
		Params struct {
			Meta map[string]json.RawMessage `json:"_meta"`
		}
	}
	if err := json.Unmarshal([]byte(bodies[0]), &body); err != nil {
		t.Fatal(err)
	}
	m := body.Params.Meta
	if string(m[mcp.MetaProtocolVersion]) != `"2026-07-28"` || !strings.Contains(string(m[mcp.MetaClientInfo]), `"probe"`) ||
		!strings.Contains(string(m[mcp.MetaClientCapabilities]), `"elicitation":{"form":{}}`) {
		t.Errorf("_meta %s", bodies[0])
	}
}

func TestModernToolCall(t *testing.T) {
	checkGoroutines(t)
	s := newTestServer(t, nil)
	var hl headerLog
	s.proxy.setHook(hl.hook)
	rec := newRecorder()
	c := connect(t, Options{URL: s.url, OnNotification: rec.note, OpenStandaloneStream: true})
	ctx := testContext(t)
	if err := c.SetLogLevel(ctx, mcp.LevelDebug); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var progress []mcp.ProgressParams
	res, err := c.CallTool(ctx, "multi-greet", map[string]string{"name": "Ada"}, WithProgress(func(p mcp.ProgressParams) {
		mu.Lock()
		progress = append(progress, p)
		mu.Unlock()
	}))
	if err != nil {
		t.Fatal(err)
	}
	if got := text(res); !strings.Contains(got, "Ada") {
		t.Errorf("result %q", got)
	}
	rec.waitFor(t, "Starting multi-greet for Ada")
	rec.waitFor(t, "Sending second greeting to Ada")
	mu.Lock()
	np := len(progress)
	mu.Unlock()
	if np == 0 {
		t.Error("no progress")
	}
	hs, _ := hl.withMethod(mcp.MethodToolsCall)
	if len(hs) != 1 || hs[0].Get("Mcp-Name") != "multi-greet" || hs[0].Get("Mcp-Session-Id") != "" {
		t.Errorf("tools/call headers %v", hs)
	}
	if err := c.Close(ctx); err != nil {
		t.Fatal(err)
	}
	for _, r := range s.proxy.requests() {
		if r.verb != http.MethodPost || r.session != "" || r.rpcMethod == mcp.MethodLoggingSetLevel {
			t.Errorf("unexpected request %s %s (session %q)", r.verb, r.rpcMethod, r.session)
		}
	}
}

func TestModernCancel(t *testing.T) {
	s := newTestServer(t, nil)
	c := connect(t, Options{URL: s.url, ProtocolVersion: mcp.Version20260728})
	ctx, cancel := context.WithCancel(testContext(t))
	_, err := c.CallTool(ctx, "multi-greet", map[string]string{"name": "Ada"}, WithProgress(func(mcp.ProgressParams) { cancel() }))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled", err)
	}
	if n := s.proxy.count(http.MethodPost, mcp.NotificationCancelled); n != 0 {
		t.Errorf("%d notifications/cancelled sent", n)
	}
}

func TestModernInputRequired(t *testing.T) {
	askName := func(ctx context.Context, call *server.Call, _ json.RawMessage) (*mcp.CallToolResult, error) {
		res, err := call.Elicit(ctx, &mcp.ElicitParams{Message: "Your name?", RequestedSchema: json.RawMessage(`{"type":"object","properties":{"name":{"type":"string"}}}`)})
		if err != nil {
			return nil, err
		}
		return &mcp.CallToolResult{Content: []mcp.Content{{Type: "text", Text: fmt.Sprintf("Hello, %v (%s)", res.Content["name"], res.Action)}}}, nil
	}
	tests := []struct {
		name   string
		elicit func(context.Context, *mcp.ElicitParams) (*mcp.ElicitResult, error)
		want   string // result text, or error substring
		isErr  bool
	}{
		{name: "answered", elicit: func(_ context.Context, p *mcp.ElicitParams) (*mcp.ElicitResult, error) {
			if p.Message != "Your name?" {
				return nil, fmt.Errorf("message %q", p.Message)
			}
			return &mcp.ElicitResult{Action: "accept", Content: map[string]any{"name": "Ada"}}, nil
		}, want: "Hello, Ada (accept)"},
		{name: "callback fails", elicit: func(context.Context, *mcp.ElicitParams) (*mcp.ElicitResult, error) {
			return nil, errors.New("no person here")
		}, want: "no person here", isErr: true},
		{name: "no capability", want: "-32021", isErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestServer(t, nil)
			mustAddTool(t, s.srv, mcp.Tool{Name: "ask-name", InputSchema: json.RawMessage(`{"type":"object"}`)}, askName)
			var hl headerLog
			s.proxy.setHook(hl.hook)
			c := connect(t, Options{URL: s.url, Elicit: tt.elicit})
			res, err := c.CallTool(testContext(t), "ask-name", nil)
			if tt.isErr {
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("err %v, want %q", err, tt.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := text(res); got != tt.want {
				t.Fatalf("result %q, want %q", got, tt.want)
			}
			_, bodies := hl.withMethod(mcp.MethodToolsCall)
			if len(bodies) != 2 {
				t.Fatalf("%d tools/call requests, want 2", len(bodies))
			}
			var first, second struct {
				ID     json.RawMessage
				Params map[string]json.RawMessage
			}
			_ = json.Unmarshal([]byte(bodies[0]), &first)
			_ = json.Unmarshal([]byte(bodies[1]), &second)
			if bytes.Equal(first.ID, second.ID) {
				t.Errorf("retry reused id %s", first.ID)
			}
			if _, ok := first.Params["requestState"]; ok {
				t.Error("first round carries requestState")
			}
			if len(second.Params["requestState"]) == 0 || !strings.Contains(string(second.Params["inputResponses"]), `"Ada"`) {
				t.Errorf("retry params %s", bodies[1])
			}
		})
	}
}

// A server that asks for input forever is given up on.
func TestModernInputRoundsBounded(t *testing.T) {
	s := newTestServer(t, nil)
	rounds := 0
	s.proxy.setHook(func(w http.ResponseWriter, r *http.Request, b []byte) bool {
		var m struct {
			ID     json.RawMessage
			Method string
		}
		_ = json.Unmarshal(b, &m)
		if m.Method != mcp.MethodToolsCall {
			return false
		}
		rounds++
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"jsonrpc":"2.0","id":%s,"result":{"resultType":"input_required","requestState":"s\u0041%d","inputRequests":{"r":{"method":"roots/list"}}}}`, m.ID, rounds)
		return true
	})
	c := connect(t, Options{URL: s.url, Roots: func(context.Context) ([]mcp.Root, error) {
		return []mcp.Root{{URI: "file:///x"}}, nil
	}})
	_, err := c.CallTool(testContext(t), "greet", map[string]string{"name": "Ada"})
	if err == nil || !strings.Contains(err.Error(), "after 10 rounds") {
		t.Fatalf("err %v", err)
	}
	if rounds != maxInputRounds {
		t.Errorf("%d rounds", rounds)
	}
	// requestState is echoed byte for byte (the escape kept).
	_, bodies := func() ([]http.Header, []string) {
		var bs []string
		for _, r := range s.proxy.requests() {
			if r.rpcMethod == mcp.MethodToolsCall {
				bs = append(bs, r.body)
			}
		}
		return nil, bs
	}()
	if len(bodies) < 2 || !strings.Contains(bodies[1], `"requestState":"s\u00411"`) {
		t.Errorf("second round %s", bodies[1])
	}
}

func TestModernParamHeaders(t *testing.T) {
	s := newTestServer(t, nil)
	mustAddTool(t, s.srv, mcp.Tool{Name: "regional", InputSchema: json.RawMessage(
		`{"type":"object","properties":{"region":{"type":"string","x-mcp-header":"Region"},"n":{"type":"integer","x-mcp-header":"N"}},"required":["region"]}`)},
		func(_ context.Context, _ *server.Call, args json.RawMessage) (*mcp.CallToolResult, error) {
			return &mcp.CallToolResult{Content: []mcp.Content{{Type: "text", Text: "ok " + string(args)}}}, nil
		})
	var hl headerLog
	s.proxy.setHook(hl.hook)
	tests := []struct {
		name      string
		args      any
		listFirst bool
		want      http.Header
	}{
		{name: "schema learnt on demand", args: map[string]any{"region": "eu-west-1", "n": 3}, want: http.Header{"Mcp-Param-Region": {"eu-west-1"}, "Mcp-Param-N": {"3"}}},
		{name: "after ListTools", args: map[string]any{"region": "über"}, listFirst: true, want: http.Header{"Mcp-Param-Region": {"=?base64?w7xiZXI=?="}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := connect(t, Options{URL: s.url})
			if tt.listFirst {
				if _, err := c.ListTools(testContext(t)); err != nil {
					t.Fatal(err)
				}
			}
			res, err := c.CallTool(testContext(t), "regional", tt.args)
			if err != nil {
				t.Fatal(err)
			}
			if res.IsError {
				t.Fatalf("tool error %q", text(res))
			}
			hs, _ := hl.withMethod(mcp.MethodToolsCall)
			last := hs[len(hs)-1]
			for k, v := range tt.want {
				if last.Get(k) != v[0] {
					t.Errorf("%s: %q, want %q", k, last.Get(k), v[0])
				}
			}
		})
	}
}

func TestModernListToolsDropsInvalidAnnotation(t *testing.T) {
	s := newTestServer(t, nil)
	s.proxy.setHook(answerResult(mcp.MethodToolsList, func(*http.Request, json.RawMessage) string {
		return `{"resultType":"complete","tools":[` +
			`{"name":"good","inputSchema":{"type":"object","properties":{"a":{"type":"string","x-mcp-header":"A"}}}},` +
			`{"name":"bad","inputSchema":{"type":"object","properties":{"a":{"type":"number","x-mcp-header":"A"}}}}]}`
	}))
	var logs bytes.Buffer
	var logMu sync.Mutex
	logger := slog.New(slog.NewTextHandler(&lockedWriter{w: &logs, mu: &logMu}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	c := connect(t, Options{URL: s.url, Logger: logger})
	tools, err := c.ListTools(testContext(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(tools) != 1 || tools[0].Name != "good" {
		t.Fatalf("tools %+v", tools)
	}
	logMu.Lock()
	out := logs.String()
	logMu.Unlock()
	if !strings.Contains(out, "level=WARN") || !strings.Contains(out, "tool=bad") || !strings.Contains(out, "number") {
		t.Errorf("log %q", out)
	}
}

type lockedWriter struct {
	w  *bytes.Buffer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func TestModernSubscriptions(t *testing.T) {
	checkGoroutines(t)
	s := newTestServer(t, nil)
	rec := newRecorder()
	opened := make(chan bool, 100)
	c := connect(t, Options{URL: s.url, OpenStandaloneStream: true, OnNotification: rec.note,
		OnStandaloneStream: func(open bool, err error) { opened <- open }})
	select {
	case o := <-opened:
		if !o {
			t.Fatal("listen stream closed")
		}
	case <-testContext(t).Done():
		t.Fatal("listen stream never opened")
	}
	ctx := testContext(t)
	const uri = "https://example.com/greetings/default"
	if err := c.Subscribe(ctx, uri); err != nil {
		t.Fatal(err)
	}
	s.srv.NotifyResourceUpdated(uri)
	rec.waitFor(t, `"uri":"`+uri+`"`)
	mustAddTool(t, s.srv, mcp.Tool{Name: "late", InputSchema: json.RawMessage(`{"type":"object"}`)},
		func(context.Context, *server.Call, json.RawMessage) (*mcp.CallToolResult, error) {
			return &mcp.CallToolResult{}, nil
		})
	rec.waitFor(t, mcp.NotificationToolsListChanged)
	if err := c.Unsubscribe(ctx, uri); err != nil {
		t.Fatal(err)
	}
	for _, r := range s.proxy.requests() {
		if r.verb != http.MethodPost || r.rpcMethod == mcp.MethodResourcesSubscribe || r.rpcMethod == mcp.MethodResourcesUnsubscribe {
			t.Errorf("unexpected request %s %s", r.verb, r.rpcMethod)
		}
	}
	if n := s.proxy.count(http.MethodPost, mcp.MethodSubscriptionsListen); n != 3 {
		t.Errorf("%d listen streams opened, want 3", n)
	}
}

// Without OpenStandaloneStream, Subscribe alone opens the listen stream,
// and a server that honours nothing is reported.
func TestModernSubscribeNotHonoured(t *testing.T) {
	s := newTestServer(t, func(cfg *server.Config) { cfg.StandaloneStream = false })
	c := connect(t, Options{URL: s.url})
	err := c.Subscribe(testContext(t), "https://example.com/greetings/default")
	if err == nil || !strings.Contains(err.Error(), "does not honour") {
		t.Fatalf("err %v", err)
	}
}
