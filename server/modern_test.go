package server

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"mcplambda/mcp"
)

const modernMeta = `"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/clientInfo":{"name":"t","version":"1"}}`

// modernBody builds a request of protocol 2026-07-28 with params (without
// braces) and the standard _meta.
func modernBody(id int, method, params string) string {
	if params != "" {
		params += ","
	}
	return fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":%q,"params":{%s%s}}`, id, method, params, modernMeta)
}

// modernHeaders are the headers a conforming client sends with a request.
func modernHeaders(method, name string) map[string]string {
	h := map[string]string{"MCP-Protocol-Version": mcp.Version20260728, "Mcp-Method": method}
	if name != "" {
		h["Mcp-Name"] = name
	}
	return h
}

func with(m map[string]string, kv ...string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		out[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

// The checks of a stateless-era request, in the order the specification
// gives them, each with its HTTP status and JSON-RPC code.
func TestModernValidation(t *testing.T) {
	env := newEnv(t, testConfig(), HandlerOptions{}, nil)
	call := modernBody(7, "tools/call", `"name":"echo","arguments":{"text":"hi"}`)
	callH := modernHeaders("tools/call", "echo")
	tests := []struct {
		name   string
		body   string
		hdr    map[string]string
		status int
		code   int
		msg    string
	}{
		{"version header missing", call, with(callH, "MCP-Protocol-Version", ""), 400, mcp.CodeHeaderMismatch, "MCP-Protocol-Version header is required"},
		{"meta missing", `{"jsonrpc":"2.0","id":7,"method":"tools/list","params":{}}`, modernHeaders("tools/list", ""), 400, mcp.CodeInvalidParams, `"_meta"`},
		{"capabilities missing", `{"jsonrpc":"2.0","id":7,"method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}}`, modernHeaders("tools/list", ""), 400, mcp.CodeInvalidParams, "clientCapabilities"},
		{"header differs from meta", call, with(callH, "MCP-Protocol-Version", "2025-11-25"), 400, mcp.CodeHeaderMismatch, "does not match"},
		{"unsupported version", strings.ReplaceAll(call, "2026-07-28", "1900-01-01"), with(callH, "MCP-Protocol-Version", "1900-01-01"), 400, mcp.CodeUnsupportedProtocolVersion, "Unsupported protocol version"},
		{"Mcp-Method missing", call, with(callH, "Mcp-Method", ""), 400, mcp.CodeHeaderMismatch, "Mcp-Method"},
		{"Mcp-Name mismatch", call, with(callH, "Mcp-Name", "other"), 400, mcp.CodeHeaderMismatch, "does not match"},
		{"Mcp-Name base64", call, with(callH, "Mcp-Name", "=?base64?ZWNobw==?="), 200, 0, ""},
		{"removed method ping", modernBody(7, "ping", ""), modernHeaders("ping", ""), 404, mcp.CodeMethodNotFound, "ping was removed"},
		{"initialize with modern headers", modernBody(7, "initialize", ""), modernHeaders("initialize", ""), 404, mcp.CodeMethodNotFound, "no initialize"},
		{"logging/setLevel", modernBody(7, "logging/setLevel", `"level":"info"`), modernHeaders("logging/setLevel", ""), 404, mcp.CodeMethodNotFound, "logLevel"},
		{"unknown method", modernBody(7, "nope/nope", ""), modernHeaders("nope/nope", ""), 404, mcp.CodeMethodNotFound, ""},
		{"bad log level", strings.Replace(call, `"_meta":{`, `"_meta":{"io.modelcontextprotocol/logLevel":"loud",`, 1), callH, 400, mcp.CodeInvalidParams, "logLevel"},
		{"ok", call, callH, 200, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := env.do(http.MethodPost, "", tt.body, tt.hdr)
			if r.status != tt.status {
				t.Fatalf("status %d, want %d: %s", r.status, tt.status, r.body)
			}
			if r.header.Get("Mcp-Session-Id") != "" {
				t.Fatal("a stateless request minted a session")
			}
			m := r.msg(t)
			if tt.code == 0 {
				if m.Error != nil {
					t.Fatalf("error %v", m.Error)
				}
				return
			}
			if m.Error == nil || m.Error.Code != tt.code || !strings.Contains(m.Error.Message, tt.msg) {
				t.Fatalf("got %s, want code %d with %q", r.body, tt.code, tt.msg)
			}
			if m.ID.String() != "7" {
				t.Errorf("error id %s, want the request's 7", m.ID)
			}
		})
	}
	if n := env.h.sessions.count(); n != 0 {
		t.Fatalf("%d sessions after stateless requests", n)
	}
}

// Every stateless result says it is complete and who answered; the
// cacheable ones carry their hints; session-era results stay as they were.
func TestModernResults(t *testing.T) {
	env := newEnv(t, testConfig(), HandlerOptions{}, nil)
	tests := []struct {
		method, params, name string
		ttl                  int64
		scope                string
	}{
		{"server/discover", "", "", 3600000, "public"},
		{"tools/list", "", "", 300000, "public"},
		{"prompts/list", "", "", 300000, "public"},
		{"resources/list", "", "", 300000, "public"},
		{"resources/templates/list", "", "", 300000, "public"},
		{"resources/read", `"uri":"test://r"`, "test://r", 0, "private"},
		{"tools/call", `"name":"echo","arguments":{"text":"x"}`, "echo", -1, ""},
		{"prompts/get", `"name":"p","arguments":{"who":"ada"}`, "p", -1, ""},
	}
	for _, tt := range tests {
		t.Run(tt.method, func(t *testing.T) {
			r := env.do(http.MethodPost, "", modernBody(1, tt.method, tt.params), modernHeaders(tt.method, tt.name))
			var res struct {
				Result map[string]json.RawMessage `json:"result"`
			}
			if err := json.Unmarshal(r.body, &res); err != nil || r.status != 200 {
				t.Fatalf("%d %s", r.status, r.body)
			}
			if string(res.Result["resultType"]) != `"complete"` {
				t.Errorf("resultType %s", res.Result["resultType"])
			}
			var meta map[string]mcp.Implementation
			if json.Unmarshal(res.Result["_meta"], &meta) != nil || meta[mcp.MetaServerInfo].Name != "test" {
				t.Errorf("_meta %s", res.Result["_meta"])
			}
			if tt.ttl < 0 {
				if res.Result["ttlMs"] != nil || res.Result["cacheScope"] != nil {
					t.Errorf("caching hints on %s", tt.method)
				}
				return
			}
			if string(res.Result["ttlMs"]) != fmt.Sprint(tt.ttl) || string(res.Result["cacheScope"]) != `"`+tt.scope+`"` {
				t.Errorf("ttlMs %s cacheScope %s", res.Result["ttlMs"], res.Result["cacheScope"])
			}
		})
	}
	var d struct {
		Result mcp.DiscoverResult `json:"result"`
	}
	r := env.do(http.MethodPost, "", modernBody(1, "server/discover", ""), modernHeaders("server/discover", ""))
	if json.Unmarshal(r.body, &d) != nil || d.Result.SupportedVersions[0] != mcp.Version20260728 || d.Result.Capabilities.Tools == nil {
		t.Fatalf("%s", r.body)
	}
	// The session era is untouched: no resultType.
	sid := env.initialize(mcp.LatestVersion, nil)
	r = env.post(sid, `{"jsonrpc":"2.0","id":2,"method":"tools/list"}`)
	if strings.Contains(string(r.body), "resultType") || strings.Contains(string(r.body), "ttlMs") {
		t.Fatalf("session-era result changed: %s", r.body)
	}
}

// A resource that does not exist is invalid params in the stateless era
// (SEP-2164), -32002 in the session era, with the URI in data in both.
func TestResourceNotFoundByEra(t *testing.T) {
	env := newEnv(t, testConfig(), HandlerOptions{}, nil)
	r := env.do(http.MethodPost, "", modernBody(1, "resources/read", `"uri":"test://missing"`), modernHeaders("resources/read", "test://missing"))
	m := r.msg(t)
	if m.Error == nil || m.Error.Code != mcp.CodeInvalidParams || !strings.Contains(string(m.Error.Data), "test://missing") {
		t.Fatalf("modern: %s", r.body)
	}
	sid := env.initialize(mcp.LatestVersion, nil)
	r = env.post(sid, `{"jsonrpc":"2.0","id":2,"method":"resources/read","params":{"uri":"test://missing"}}`)
	m = r.msg(t)
	if m.Error == nil || m.Error.Code != mcp.CodeResourceNotFound {
		t.Fatalf("session: %s", r.body)
	}
}

// GET and DELETE without a session have nothing to act on.
func TestGetDeleteWithoutSession(t *testing.T) {
	env := newEnv(t, testConfig(), HandlerOptions{}, nil)
	for _, m := range []string{http.MethodGet, http.MethodDelete} {
		r := env.do(m, "", "", map[string]string{"Accept": "text/event-stream", "MCP-Protocol-Version": mcp.Version20260728})
		if r.status != http.StatusMethodNotAllowed || !strings.Contains(r.header.Get("Allow"), "POST") {
			t.Errorf("%s: %d %v %s", m, r.status, r.header, r.body)
		}
	}
}

// Log messages flow on a stateless request's stream only when its _meta
// asks for them, from the level it names; progress always when asked.
func TestModernLogLevel(t *testing.T) {
	env := newEnv(t, testConfig(), HandlerOptions{}, func(s *Server) {
		mustAddTool(t, s, mcp.Tool{Name: "chatty"}, func(_ context.Context, c *Call, _ json.RawMessage) (*mcp.CallToolResult, error) {
			_ = c.Log(mcp.LevelDebug, "t", "debug line")
			_ = c.Log(mcp.LevelWarning, "t", "warning line")
			_ = c.Progress(1, 2, "half")
			return mcp.ToolText("done"), nil
		})
	})
	tests := []struct {
		level string
		want  []string
		not   []string
	}{
		{"", []string{"half", "done"}, []string{"debug line", "warning line"}},
		{"warning", []string{"warning line", "half", "done"}, []string{"debug line"}},
		{"debug", []string{"debug line", "warning line", "done"}, nil},
	}
	for _, tt := range tests {
		t.Run("level="+tt.level, func(t *testing.T) {
			meta := `"progressToken":"p1",`
			if tt.level != "" {
				meta += `"io.modelcontextprotocol/logLevel":"` + tt.level + `",`
			}
			body := strings.Replace(modernBody(1, "tools/call", `"name":"chatty"`), `"_meta":{`, `"_meta":{`+meta, 1)
			r := env.do(http.MethodPost, "", body, modernHeaders("tools/call", "chatty"))
			for _, w := range tt.want {
				if !strings.Contains(string(r.body), w) {
					t.Errorf("missing %q in %s", w, r.body)
				}
			}
			for _, n := range tt.not {
				if strings.Contains(string(r.body), n) {
					t.Errorf("unexpected %q in %s", n, r.body)
				}
			}
			if strings.Contains(string(r.body), "id: ") {
				t.Errorf("stateless streams carry no event ids: %s", r.body)
			}
		})
	}
}

// subscriptions/listen acknowledges its filter first, then carries only the
// changes asked for, each tagged with the subscription id; a server
// shutdown ends it with a completion result.
func TestSubscriptionsListen(t *testing.T) {
	cfg := testConfig()
	env := newEnv(t, cfg, HandlerOptions{}, nil)
	body := modernBody(42, "subscriptions/listen", `"notifications":{"toolsListChanged":true,"resourceSubscriptions":["test://r"]}`)
	req, _ := http.NewRequest(http.MethodPost, env.url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	for k, v := range modernHeaders("subscriptions/listen", "") {
		req.Header.Set(k, v)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			if d, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				lines <- d
			}
		}
		close(lines)
	}()
	next := func() string {
		t.Helper()
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatal("stream ended")
			}
			return l
		case <-ctx.Done():
			t.Fatal("timed out")
		}
		return ""
	}
	ack := next()
	if !strings.Contains(ack, mcp.NotificationSubscriptionsAcknowledged) || !strings.Contains(ack, `"io.modelcontextprotocol/subscriptionId":42`) || !strings.Contains(ack, `"toolsListChanged":true`) {
		t.Fatalf("ack %s", ack)
	}
	// Not asked for: prompts; asked for: tools and test://r.
	_ = env.srv.AddPrompt(mcp.Prompt{Name: "new"}, func(context.Context, *Call, map[string]string) (*mcp.GetPromptResult, error) { return nil, nil })
	env.srv.NotifyResourceUpdated("test://other")
	mustAddTool(t, env.srv, mcp.Tool{Name: "late"}, func(context.Context, *Call, json.RawMessage) (*mcp.CallToolResult, error) { return nil, nil })
	if l := next(); !strings.Contains(l, mcp.NotificationToolsListChanged) || !strings.Contains(l, `"io.modelcontextprotocol/subscriptionId":42`) {
		t.Fatalf("got %s", l)
	}
	env.srv.NotifyResourceUpdated("test://r")
	if l := next(); !strings.Contains(l, mcp.NotificationResourcesUpdated) || !strings.Contains(l, `"uri":"test://r"`) {
		t.Fatalf("got %s", l)
	}
	env.h.Close()
	if l := next(); !strings.Contains(l, `"id":42`) || !strings.Contains(l, `"resultType":"complete"`) {
		t.Fatalf("closing result %s", l)
	}
}

// One tool, written once, asks in two rounds; the stateless era answers
// input_required, the retries carry the answers and the sealed state.
func TestMultiRoundTrip(t *testing.T) {
	env := newEnv(t, testConfig(), HandlerOptions{}, func(s *Server) {
		mustAddTool(t, s, mcp.Tool{Name: "interview"}, func(ctx context.Context, c *Call, _ json.RawMessage) (*mcp.CallToolResult, error) {
			var step int
			if !c.Recall("step", &step) {
				_ = c.Remember("step", 1)
			}
			var name mcp.ElicitResult
			if err := c.Ask(ctx, Input{Key: "name", Method: mcp.MethodElicitationCreate, Params: &mcp.ElicitParams{Message: "name?", RequestedSchema: json.RawMessage(`{"type":"object"}`)}, Result: &name}); err != nil {
				return nil, err
			}
			roots, err := c.ListRoots(ctx)
			if err != nil {
				return nil, err
			}
			return mcp.ToolText(fmt.Sprintf("%v %d roots, remembered %v", name.Content["name"], len(roots.Roots), c.Recall("step", &step))), nil
		})
	})
	caps := `"io.modelcontextprotocol/clientCapabilities":{"elicitation":{},"roots":{}}`
	call := func(id int, extra string) (map[string]json.RawMessage, *mcp.Error, int) {
		t.Helper()
		params := `"name":"interview","arguments":{}`
		if extra != "" {
			params += "," + extra
		}
		body := strings.Replace(modernBody(id, "tools/call", params), `"io.modelcontextprotocol/clientCapabilities":{}`, caps, 1)
		r := env.do(http.MethodPost, "", body, modernHeaders("tools/call", "interview"))
		var out struct {
			Result map[string]json.RawMessage `json:"result"`
			Error  *mcp.Error                 `json:"error"`
		}
		if err := json.Unmarshal(r.body, &out); err != nil {
			t.Fatalf("%d %s", r.status, r.body)
		}
		return out.Result, out.Error, r.status
	}
	// Round 1: the first question.
	r1, _, _ := call(1, "")
	if string(r1["resultType"]) != `"input_required"` || !strings.Contains(string(r1["inputRequests"]), `"name":{"method":"elicitation/create"`) || r1["requestState"] == nil || r1["ttlMs"] != nil {
		t.Fatalf("round 1: %v", r1)
	}
	// A retry without the answer asks again.
	again, _, _ := call(2, `"requestState":`+string(r1["requestState"]))
	if string(again["resultType"]) != `"input_required"` || !strings.Contains(string(again["inputRequests"]), `"name"`) {
		t.Fatalf("missing answer: %v", again)
	}
	// Round 2: the answer to the first, and an unknown key, which is ignored.
	answer := `"inputResponses":{"name":{"action":"accept","content":{"name":"Ada"}},"junk":{"x":1}}`
	r2, _, _ := call(3, answer+`,"requestState":`+string(again["requestState"]))
	if string(r2["resultType"]) != `"input_required"` || !strings.Contains(string(r2["inputRequests"]), `"roots-1":{"method":"roots/list"`) {
		t.Fatalf("round 2: %v", r2)
	}
	// The state of round 2 is single-use, bound to its request and sealed.
	done, _, _ := call(4, `"inputResponses":{"roots-1":{"roots":[{"uri":"file:///a"}]}},"requestState":`+string(r2["requestState"]))
	if string(done["resultType"]) != `"complete"` || !strings.Contains(string(done["content"]), "Ada 1 roots, remembered true") {
		t.Fatalf("round 3: %v", done)
	}
	if _, e, _ := call(5, `"inputResponses":{"roots-1":{"roots":[]}},"requestState":`+string(r2["requestState"])); e == nil || e.Code != mcp.CodeInvalidParams || !strings.Contains(e.Message, "already used") {
		t.Fatalf("replay: %v", e)
	}
	var st string
	_ = json.Unmarshal(r1["requestState"], &st)
	tampered := st[:len(st)-2] + map[bool]string{true: "AA", false: "BB"}[st[len(st)-2:] != "AA"]
	if _, e, _ := call(6, `"requestState":"`+tampered+`"`); e == nil || e.Code != mcp.CodeInvalidParams || !strings.Contains(e.Message, "requestState") {
		t.Fatalf("tampered: %v", e)
	}
	// A malformed answer is asked for again, never completes.
	bad, _, _ := call(7, `"inputResponses":{"name":12345}`)
	if string(bad["resultType"]) != `"input_required"` {
		t.Fatalf("bad answer: %v", bad)
	}
	if _, e, _ := call(8, `"inputResponses":null`); e == nil || e.Code != mcp.CodeInvalidParams {
		t.Fatalf("null inputResponses: %v", e)
	}
	// Without the capability: -32021, HTTP 400, naming what is missing.
	r := env.do(http.MethodPost, "", modernBody(9, "tools/call", `"name":"interview","arguments":{}`), modernHeaders("tools/call", "interview"))
	m := r.msg(t)
	if r.status != 400 || m.Error == nil || m.Error.Code != mcp.CodeMissingRequiredClientCapability || !strings.Contains(string(m.Error.Data), `"requiredCapabilities":{"elicitation":{}}`) {
		t.Fatalf("no capability: %d %s", r.status, r.body)
	}
	// Methods other than tools/call, prompts/get, resources/read take no state.
	r = env.do(http.MethodPost, "", modernBody(10, "tools/list", `"requestState":"x"`), modernHeaders("tools/list", ""))
	if m := r.msg(t); m.Error == nil || m.Error.Code != mcp.CodeInvalidParams {
		t.Fatalf("tools/list with state: %s", r.body)
	}
}

// Authorization works in the stateless era exactly as in sessions: the
// challenge, the principal; a requestState belongs to its principal.
func TestModernAuth(t *testing.T) {
	auth := AuthenticatorFunc(func(r *http.Request) (*Principal, error) {
		tok, _ := BearerToken(r)
		if tok == "" {
			return nil, &AuthError{Status: 401, Challenge: `Bearer realm="mcp"`, Message: "authentication required"}
		}
		return &Principal{Issuer: "test", Subject: tok, ClientID: "c"}, nil
	})
	env := newEnv(t, testConfig(), HandlerOptions{Auth: auth}, func(s *Server) {
		mustAddTool(t, s, mcp.Tool{Name: "whoami"}, func(ctx context.Context, c *Call, _ json.RawMessage) (*mcp.CallToolResult, error) {
			var ok mcp.ElicitResult
			if err := c.Ask(ctx, Input{Key: "ok", Method: mcp.MethodElicitationCreate, Params: &mcp.ElicitParams{Message: "ok?"}, Result: &ok}); err != nil {
				return nil, err
			}
			return mcp.ToolText("you are " + c.Principal().Subject), nil
		})
	})
	body := strings.Replace(modernBody(1, "tools/call", `"name":"whoami","arguments":{}`), `clientCapabilities":{}`, `clientCapabilities":{"elicitation":{}}`, 1)
	hdr := modernHeaders("tools/call", "whoami")
	if r := env.do(http.MethodPost, "", body, hdr); r.status != 401 || r.header.Get("WWW-Authenticate") == "" {
		t.Fatalf("no token: %d %v", r.status, r.header)
	}
	r := env.do(http.MethodPost, "", body, with(hdr, "Authorization", "Bearer alice"))
	var first struct {
		Result struct {
			RequestState string `json:"requestState"`
		} `json:"result"`
	}
	if json.Unmarshal(r.body, &first) != nil || first.Result.RequestState == "" {
		t.Fatalf("round 1: %s", r.body)
	}
	retry := strings.Replace(body, `"arguments":{}`, `"arguments":{},"inputResponses":{"ok":{"action":"accept"}},"requestState":"`+first.Result.RequestState+`"`, 1)
	if r := env.do(http.MethodPost, "", retry, with(hdr, "Authorization", "Bearer bob")); !strings.Contains(string(r.body), "failed verification") {
		t.Fatalf("bob used alice's state: %s", r.body)
	}
	if r := env.do(http.MethodPost, "", retry, with(hdr, "Authorization", "Bearer alice")); !strings.Contains(string(r.body), "you are alice") {
		t.Fatalf("alice's retry: %s", r.body)
	}
}

// Batches belong to 2025-03-26 sessions; a stateless batch says why it is
// refused.
func TestModernBatchRefused(t *testing.T) {
	env := newEnv(t, testConfig(), HandlerOptions{}, nil)
	r := env.do(http.MethodPost, "", "["+modernBody(1, "tools/list", "")+"]", modernHeaders("tools/list", ""))
	if m := r.msg(t); r.status != 400 || m.Error == nil || !strings.Contains(m.Error.Message, "no JSON-RPC batches") {
		t.Fatalf("%d %s", r.status, r.body)
	}
}

// FuzzPostModern throws arbitrary stateless requests (body, Mcp-Method and
// Mcp-Name) at the handler: no panic, a status the stateless era uses, a
// JSON body whenever there is one, and never a session.
func FuzzPostModern(f *testing.F) {
	seeds := []struct{ body, method, name string }{
		{modernBody(1, "tools/call", `"name":"echo","arguments":{"text":"x"}`), "tools/call", "echo"},
		{modernBody(1, "tools/call", `"name":"ask","arguments":{},"inputResponses":{"a":{"action":"accept"}},"requestState":"AQ"`), "tools/call", "ask"},
		{modernBody(1, "resources/read", `"uri":"test://r"`), "resources/read", "test://r"},
		{modernBody(1, "server/discover", ""), "server/discover", ""},
		{modernBody(1, "prompts/get", `"name":"p","arguments":{"who":"a"}`), "prompts/get", "=?base64?cA==?="},
		{strings.Replace(modernBody(1, "tools/list", ""), "2026-07-28", "1900-01-01", 1), "tools/list", ""},
		{`{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"_meta":{}}}`, "tools/list", ""},
		{`{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":7}}}`, "tools/list", ""},
		{`[` + modernBody(1, "tools/list", "") + `]`, "tools/list", ""},
		{`{`, "", ""},
	}
	for _, s := range seeds {
		f.Add([]byte(s.body), s.method, s.name)
	}
	srv := New(Options{})
	mustAddTool(f, srv, mcp.Tool{Name: "echo", InputSchema: json.RawMessage(`{"type":"object","properties":{"text":{"type":"string","x-mcp-header":"Text"}}}`)},
		func(_ context.Context, _ *Call, a json.RawMessage) (*mcp.CallToolResult, error) {
			return mcp.ToolText(string(a)), nil
		})
	mustAddTool(f, srv, mcp.Tool{Name: "ask"}, func(ctx context.Context, c *Call, _ json.RawMessage) (*mcp.CallToolResult, error) {
		var r mcp.ElicitResult
		if err := c.Ask(ctx, Input{Key: "a", Method: mcp.MethodElicitationCreate, Params: &mcp.ElicitParams{Message: "?"}, Result: &r}); err != nil {
			return nil, err
		}
		return mcp.ToolText(r.Action), nil
	})
	cfg := testConfig()
	cfg.RequestTimeout = time.Second
	h := NewHandler(srv, cfg, HandlerOptions{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	defer h.Close()
	f.Fuzz(func(t *testing.T, body []byte, method, name string) {
		r := newPost(string(body), "")
		r.Header.Set("MCP-Protocol-Version", mcp.Version20260728)
		if method != "" {
			r.Header["Mcp-Method"] = []string{method}
		}
		if name != "" {
			r.Header["Mcp-Name"] = []string{name}
		}
		rec := newRecorder()
		h.ServeHTTP(rec, r)
		switch rec.code {
		case 200, 202, 400, 404, 413:
		default:
			t.Fatalf("status %d for %q", rec.code, body)
		}
		if rec.Header().Get("Mcp-Session-Id") != "" {
			t.Fatalf("a stateless request minted a session: %q", body)
		}
		if rec.body.Len() > 0 && rec.Header().Get("Content-Type") == "application/json" && !json.Valid(rec.body.Bytes()) {
			t.Fatalf("invalid JSON answer %q", rec.body.Bytes())
		}
	})
}
