package server

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"mcplambda/mcp"
)

// TestBadInput is the table of every malformed or refused request: the
// HTTP status, the JSON-RPC code, and a message a person can act on.
func TestBadInput(t *testing.T) {
	cfg := testConfig()
	cfg.MaxBodyBytes = 2048
	env := newEnv(t, cfg, HandlerOptions{}, nil)
	sid := env.initialize(mcp.LatestVersion, nil)
	oldSID := env.initialize(mcp.Version20250326, nil)
	ended := env.initialize(mcp.LatestVersion, nil)
	if r := env.do(http.MethodDelete, ended, "", nil); r.status != http.StatusOK {
		t.Fatalf("delete: %d", r.status)
	}
	const list = `{"jsonrpc":"2.0","id":9,"method":"tools/list"}`
	call := func(params string) string {
		return `{"jsonrpc":"2.0","id":9,"method":"tools/call","params":` + params + `}`
	}

	tests := []struct {
		name    string
		method  string
		sid     string
		body    string
		hdr     map[string]string
		status  int
		code    int    // 0: no JSON-RPC error expected
		id      string // expected id in the error response
		msg     string // substring of the error message (or tool error text)
		toolErr bool   // a tool result with isError
	}{
		{name: "accept missing", method: "POST", sid: sid, body: list, hdr: map[string]string{"Accept": ""}, status: 406, code: mcp.CodeInvalidRequest, msg: "Accept"},
		{name: "accept json only", method: "POST", sid: sid, body: list, hdr: map[string]string{"Accept": "application/json"}, status: 406, code: mcp.CodeInvalidRequest, msg: "text/event-stream"},
		{name: "accept refuses sse", method: "POST", sid: sid, body: list, hdr: map[string]string{"Accept": "application/json, text/event-stream;q=0"}, status: 406, code: mcp.CodeInvalidRequest},
		{name: "content type text", method: "POST", sid: sid, body: list, hdr: map[string]string{"Content-Type": "text/plain"}, status: 415, code: mcp.CodeInvalidRequest, msg: "application/json"},
		{name: "content type missing", method: "POST", sid: sid, body: list, hdr: map[string]string{"Content-Type": ""}, status: 415, code: mcp.CodeInvalidRequest},
		{name: "body too large", method: "POST", sid: sid, body: `{"jsonrpc":"2.0","id":1,"method":"ping","params":{"x":"` + strings.Repeat("a", 3000) + `"}}`, status: 413, code: mcp.CodeInvalidRequest, msg: "MAX_BODY_BYTES"},
		{name: "not json", method: "POST", sid: sid, body: `{"jsonrpc":`, status: 400, code: mcp.CodeParseError, id: "null", msg: "not valid JSON"},
		{name: "empty body", method: "POST", sid: sid, body: ``, status: 400, code: mcp.CodeParseError, id: "null"},
		{name: "wrong jsonrpc version", method: "POST", sid: sid, body: `{"jsonrpc":"1.0","id":5,"method":"ping"}`, status: 400, code: mcp.CodeInvalidRequest, id: "5", msg: `"2.0"`},
		{name: "id is an object", method: "POST", sid: sid, body: `{"jsonrpc":"2.0","id":{},"method":"ping"}`, status: 400, code: mcp.CodeInvalidRequest, id: "null", msg: "string or a number"},
		{name: "no session id", method: "POST", body: list, status: 400, code: mcp.CodeInvalidRequest, msg: "Mcp-Session-Id header is required"},
		{name: "unknown session", method: "POST", sid: "nope", body: list, status: 404, code: mcp.CodeSessionNotFound, msg: "initialize"},
		{name: "ended session", method: "POST", sid: ended, body: list, status: 404, code: mcp.CodeSessionNotFound},
		{name: "unsupported protocol header", method: "POST", sid: sid, body: list, hdr: map[string]string{"MCP-Protocol-Version": "1999-01-01"}, status: 400, code: mcp.CodeInvalidRequest, msg: "unsupported MCP-Protocol-Version"},
		{name: "protocol header differs", method: "POST", sid: sid, body: list, hdr: map[string]string{"MCP-Protocol-Version": "2025-06-18"}, status: 400, code: mcp.CodeInvalidRequest, msg: "negotiated"},
		{name: "batch refused after 2025-03-26", method: "POST", sid: sid, body: `[` + list + `]`, status: 400, code: mcp.CodeInvalidRequest, msg: "batches are not supported in protocol version 2025-11-25"},
		{name: "initialize in a batch", method: "POST", sid: oldSID, body: `[` + initBody("2025-03-26") + `]`, status: 400, code: mcp.CodeInvalidRequest, msg: "batch"},
		{name: "empty batch", method: "POST", sid: oldSID, body: `[]`, status: 400, code: mcp.CodeInvalidRequest, msg: "empty"},
		{name: "initialize without version", method: "POST", body: `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"capabilities":{}}}`, status: 400, code: mcp.CodeInvalidParams, id: "1", msg: "protocolVersion"},
		{name: "initialize as notification", method: "POST", body: `{"jsonrpc":"2.0","method":"initialize","params":{}}`, status: 400, code: mcp.CodeInvalidRequest},
		{name: "unknown method", method: "POST", sid: sid, body: `{"jsonrpc":"2.0","id":"m","method":"nope/nope"}`, status: 200, code: mcp.CodeMethodNotFound, id: `"m"`, msg: "nope/nope"},
		{name: "unknown tool", method: "POST", sid: sid, body: call(`{"name":"missing"}`), status: 200, code: mcp.CodeInvalidParams, id: "9", msg: `unknown tool: "missing"`},
		{name: "tool name missing", method: "POST", sid: sid, body: call(`{}`), status: 200, code: mcp.CodeInvalidParams, msg: `"name" is required`},
		{name: "tool name wrong type", method: "POST", sid: sid, body: call(`{"name":5}`), status: 200, code: mcp.CodeInvalidParams, msg: `"name" must be of type string`},
		{name: "tool argument missing", method: "POST", sid: sid, body: call(`{"name":"echo","arguments":{}}`), status: 200, toolErr: true, msg: `"text": required property is missing`},
		{name: "tool argument wrong type", method: "POST", sid: sid, body: call(`{"name":"echo","arguments":{"text":1}}`), status: 200, toolErr: true, msg: `"text": expected string, got number`},
		{name: "tool argument below minimum", method: "POST", sid: sid, body: call(`{"name":"echo","arguments":{"text":"a","n":-1}}`), status: 200, toolErr: true, msg: `"n"`},
		{name: "tool arguments not an object", method: "POST", sid: sid, body: call(`{"name":"echo","arguments":[1]}`), status: 200, code: mcp.CodeInvalidParams},
		{name: "bad cursor", method: "POST", sid: sid, body: `{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"cursor":"zzz"}}`, status: 200, code: mcp.CodeInvalidParams, msg: "cursor"},
		{name: "cursor of another list", method: "POST", sid: sid, body: `{"jsonrpc":"2.0","id":1,"method":"prompts/list","params":{"cursor":"` + encodeCursor("tools", 1) + `"}}`, status: 200, code: mcp.CodeInvalidParams, msg: "cursor"},
		{name: "unknown resource", method: "POST", sid: sid, body: `{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"uri":"test://none"}}`, status: 200, code: mcp.CodeResourceNotFound, msg: "test://none"},
		{name: "resource uri missing", method: "POST", sid: sid, body: `{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{}}`, status: 200, code: mcp.CodeInvalidParams, msg: `"uri"`},
		{name: "unknown prompt", method: "POST", sid: sid, body: `{"jsonrpc":"2.0","id":1,"method":"prompts/get","params":{"name":"x"}}`, status: 200, code: mcp.CodeInvalidParams, msg: "unknown prompt"},
		{name: "prompt argument missing", method: "POST", sid: sid, body: `{"jsonrpc":"2.0","id":1,"method":"prompts/get","params":{"name":"p"}}`, status: 200, code: mcp.CodeInvalidParams, msg: `"who"`},
		{name: "bad logging level", method: "POST", sid: sid, body: `{"jsonrpc":"2.0","id":1,"method":"logging/setLevel","params":{"level":"loud"}}`, status: 200, code: mcp.CodeInvalidParams, msg: "loud"},
		{name: "completion bad ref", method: "POST", sid: sid, body: `{"jsonrpc":"2.0","id":1,"method":"completion/complete","params":{"ref":{"type":"ref/x"},"argument":{"name":"a","value":""}}}`, status: 200, code: mcp.CodeInvalidParams, msg: "ref.type"},
		{name: "second initialize is a new session, not an error", method: "POST", sid: sid, body: initBody("2025-11-25"), status: 200},
		{name: "method not allowed", method: "PUT", sid: sid, status: 405, code: mcp.CodeInvalidRequest, msg: "POST"},
		{name: "get without event-stream", method: "GET", sid: sid, hdr: map[string]string{"Accept": "application/json"}, status: 406, code: mcp.CodeInvalidRequest},
		{name: "get without session", method: "GET", hdr: map[string]string{"Accept": "text/event-stream"}, status: 405, code: mcp.CodeInvalidRequest, msg: "Mcp-Session-Id"},
		{name: "get unknown Last-Event-ID", method: "GET", sid: sid, hdr: map[string]string{"Accept": "text/event-stream", "Last-Event-ID": "99-1"}, status: 400, code: mcp.CodeInvalidRequest, msg: "Last-Event-ID"},
		{name: "delete without session", method: "DELETE", status: 405, code: mcp.CodeInvalidRequest, msg: "Mcp-Session-Id"},
		{name: "delete unknown session", method: "DELETE", sid: "nope", status: 404, code: mcp.CodeSessionNotFound},
		{name: "foreign origin", method: "POST", sid: sid, body: list, hdr: map[string]string{"Origin": "http://evil.example.com"}, status: 403, code: mcp.CodeInvalidRequest, msg: "ALLOWED_ORIGINS"},
		{name: "null origin", method: "POST", sid: sid, body: list, hdr: map[string]string{"Origin": "null"}, status: 403},
		{name: "foreign host (DNS rebinding)", method: "POST", sid: sid, body: list, hdr: map[string]string{"Host": "evil.example.com"}, status: 403, code: mcp.CodeInvalidRequest, msg: "ALLOWED_HOSTS"},
		{name: "loopback origin allowed", method: "POST", sid: sid, body: list, hdr: map[string]string{"Origin": "http://localhost:6274"}, status: 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := env.do(tt.method, tt.sid, tt.body, tt.hdr)
			if r.status != tt.status {
				t.Fatalf("status %d, want %d: %s", r.status, tt.status, r.body)
			}
			if tt.code == 0 && !tt.toolErr {
				return
			}
			if ct := r.header.Get("Content-Type"); ct != "application/json" {
				t.Fatalf("content type %q", ct)
			}
			m := r.msg(t)
			if tt.toolErr {
				var res mcp.CallToolResult
				if m.Error != nil || json.Unmarshal(m.Result, &res) != nil || !res.IsError {
					t.Fatalf("want a tool error result, got %s", r.body)
				}
				if !strings.Contains(res.Content[0].Text, tt.msg) {
					t.Fatalf("tool error %q lacks %q", res.Content[0].Text, tt.msg)
				}
				return
			}
			if m.Error == nil {
				t.Fatalf("want error %d, got %s", tt.code, r.body)
			}
			if m.Error.Code != tt.code {
				t.Errorf("code %d, want %d (%s)", m.Error.Code, tt.code, m.Error.Message)
			}
			if tt.id != "" && m.ID.String() != tt.id {
				t.Errorf("id %s, want %s", m.ID.String(), tt.id)
			}
			if !strings.Contains(m.Error.Message, tt.msg) {
				t.Errorf("message %q lacks %q", m.Error.Message, tt.msg)
			}
		})
	}
}

func TestSessionCap(t *testing.T) {
	cfg := testConfig()
	cfg.MaxSessions = 2
	env := newEnv(t, cfg, HandlerOptions{}, nil)
	a := env.initialize(mcp.LatestVersion, nil)
	env.initialize(mcp.LatestVersion, nil)
	r := env.post("", initBody(mcp.LatestVersion))
	if r.status != http.StatusServiceUnavailable || r.header.Get("Retry-After") == "" {
		t.Fatalf("third session: %d %s", r.status, r.body)
	}
	if m := r.msg(t); m.Error.Code != mcp.CodeServerError || !strings.Contains(m.Error.Message, "MAX_SESSIONS") {
		t.Fatalf("error %+v", m.Error)
	}
	// Ending one makes room.
	env.do(http.MethodDelete, a, "", nil)
	env.initialize(mcp.LatestVersion, nil)
}

// TestSessionIdleExpiry: a session ends after SESSION_TTL without use, not
// before, and each use restarts the count. Time is a fake clock, so the
// result does not depend on the machine's load.
func TestSessionIdleExpiry(t *testing.T) {
	cfg := testConfig()
	cfg.SessionTTL = time.Hour // the real sweeper ticks each minute: never within the test
	clk := newFakeClock()
	env := newClockedEnv(t, cfg, clk)
	sid := env.initialize(mcp.LatestVersion, nil)
	const ping = `{"jsonrpc":"2.0","id":1,"method":"ping"}`
	steps := []struct {
		name    string
		advance time.Duration
		live    int // sessions left after the sweep
		status  int // of a ping after the sweep
	}{
		{"half the TTL idle", cfg.SessionTTL / 2, 1, 200},
		// 1.25 TTL since initialize, but 0.75 since the last ping.
		{"the ping restarted the count", cfg.SessionTTL * 3 / 4, 1, 200},
		{"just under the TTL idle", cfg.SessionTTL - time.Second, 1, 200},
		{"just over the TTL idle", cfg.SessionTTL + time.Second, 0, http.StatusNotFound},
	}
	for _, st := range steps {
		clk.advance(st.advance)
		env.h.sessions.sweep()
		if n := env.h.sessions.count(); n != st.live {
			t.Fatalf("%s: %d live sessions after the sweep, want %d", st.name, n, st.live)
		}
		if r := env.post(sid, ping); r.status != st.status {
			t.Fatalf("%s: ping answered %d, want %d: %s", st.name, r.status, st.status, r.body)
		}
	}
}

// TestSessionStoreExpiresWithoutSweep: a session past its TTL is gone even
// before a sweep has run (the store checks on load).
func TestSessionStoreExpiresWithoutSweep(t *testing.T) {
	cfg := testConfig()
	cfg.SessionTTL = time.Hour
	clk := newFakeClock()
	env := newClockedEnv(t, cfg, clk)
	sid := env.initialize(mcp.LatestVersion, nil)
	clk.advance(cfg.SessionTTL + time.Second)
	if r := env.post(sid, `{"jsonrpc":"2.0","id":1,"method":"ping"}`); r.status != http.StatusNotFound {
		t.Fatalf("expired session answered %d: %s", r.status, r.body)
	}
}

func TestSessionIDsAreVisibleASCIIAndUnique(t *testing.T) {
	env := newEnv(t, testConfig(), HandlerOptions{}, nil)
	seen := map[string]bool{}
	for range 50 {
		sid := env.initialize(mcp.LatestVersion, nil)
		if seen[sid] || len(sid) < 22 {
			t.Fatalf("weak or repeated id %q", sid)
		}
		seen[sid] = true
		for _, c := range sid {
			if c < 0x21 || c > 0x7e {
				t.Fatalf("id %q has a non-visible character", sid)
			}
		}
	}
}

func TestVersionNegotiation(t *testing.T) {
	env := newEnv(t, testConfig(), HandlerOptions{}, nil)
	for requested, want := range map[string]string{"2025-03-26": "2025-03-26", "2025-06-18": "2025-06-18", "2025-11-25": "2025-11-25", "2024-11-05": "2025-11-25"} {
		r := env.post("", initBody(requested))
		var res mcp.InitializeResult
		if err := json.Unmarshal(r.msg(t).Result, &res); err != nil {
			t.Fatal(err)
		}
		if res.ProtocolVersion != want {
			t.Errorf("requested %s, got %s, want %s", requested, res.ProtocolVersion, want)
		}
		if res.Capabilities.Logging == nil || res.Capabilities.Tools == nil || res.ServerInfo.Name != "test" {
			t.Errorf("incomplete result %s", r.body)
		}
	}
}

// A 2025-03-26 client may batch; responses come back in one JSON array.
func TestBatch20250326(t *testing.T) {
	env := newEnv(t, testConfig(), HandlerOptions{}, nil)
	sid := env.initialize(mcp.Version20250326, nil)
	r := env.post(sid, `[{"jsonrpc":"2.0","id":1,"method":"ping"},
		{"jsonrpc":"2.0","method":"notifications/initialized"},
		{"jsonrpc":"2.0","id":"two","method":"tools/call","params":{"name":"echo","arguments":{"text":"x"}}},
		{"jsonrpc":"1.0","id":3,"method":"ping"}]`)
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	var out []json.RawMessage
	if err := json.Unmarshal(r.body, &out); err != nil || len(out) != 3 {
		t.Fatalf("want 3 responses, got %s", r.body)
	}
	ids := map[string]*mcp.Message{}
	for _, raw := range out {
		m, err := mcp.DecodeMessage(raw)
		if err != nil {
			t.Fatal(err)
		}
		ids[m.ID.String()] = m
	}
	if ids["1"] == nil || ids[`"two"`] == nil || ids["3"] == nil || ids["3"].Error == nil || ids["3"].Error.Code != mcp.CodeInvalidRequest {
		t.Fatalf("responses %s", r.body)
	}
	// Notifications only: 202.
	if r := env.post(sid, `[{"jsonrpc":"2.0","method":"notifications/initialized"}]`); r.status != http.StatusAccepted {
		t.Fatalf("notification batch: %d", r.status)
	}
}

func TestPagination(t *testing.T) {
	env := newEnv(t, testConfig(), HandlerOptions{}, func(s *Server) {
		for i := range 250 {
			mustAddTool(t, s, mcp.Tool{Name: "t" + strconv.Itoa(i), Description: "d"}, nil)
		}
	})
	sid := env.initialize(mcp.LatestVersion, nil)
	cursor, total := "", 0
	for pages := 0; ; pages++ {
		params := `{}`
		if cursor != "" {
			params = `{"cursor":"` + cursor + `"}`
		}
		r := env.post(sid, `{"jsonrpc":"2.0","id":1,"method":"tools/list","params":`+params+`}`)
		var res mcp.ListToolsResult
		if err := json.Unmarshal(r.msg(t).Result, &res); err != nil {
			t.Fatal(err)
		}
		total += len(res.Tools)
		if len(res.Tools) > 100 || pages > 5 {
			t.Fatalf("page of %d after %d pages", len(res.Tools), pages)
		}
		if cursor = res.NextCursor; cursor == "" {
			break
		}
	}
	if total != 251 { // 250 + echo
		t.Fatalf("listed %d tools", total)
	}
}

// A principal's session is invisible to anyone else.
func TestSessionBoundToPrincipal(t *testing.T) {
	auth := AuthenticatorFunc(func(r *http.Request) (*Principal, error) {
		user := r.Header.Get("X-Test-User")
		if user == "" {
			return nil, &AuthError{Status: 401, Challenge: `Bearer resource_metadata="x"`, Message: "Unauthorized: token required"}
		}
		return &Principal{Issuer: "iss", Subject: user, ClientID: r.Header.Get("X-Test-Client")}, nil
	})
	env := newEnv(t, testConfig(), HandlerOptions{Auth: auth}, nil)
	alice := map[string]string{"X-Test-User": "alice", "X-Test-Client": "c1"}
	sid := env.initialize(mcp.LatestVersion, alice)
	ping := `{"jsonrpc":"2.0","id":1,"method":"ping"}`
	if r := env.do("POST", sid, ping, alice); r.status != 200 {
		t.Fatalf("owner: %d", r.status)
	}
	// POST first: were the session shared, a GET would open its stream and
	// a DELETE would end it, so the plainest evidence comes first and stops
	// the test.
	for _, c := range []struct {
		name string
		hdr  map[string]string
	}{
		{"other client of the same user", map[string]string{"X-Test-User": "alice", "X-Test-Client": "c2"}},
		{"other user of the same client", map[string]string{"X-Test-User": "bob", "X-Test-Client": "c1"}},
	} {
		for _, method := range []string{"POST", "GET", "DELETE"} {
			h := map[string]string{"Accept": "application/json, text/event-stream"}
			for k, v := range c.hdr {
				h[k] = v
			}
			if r := env.do(method, sid, ping, h); r.status != http.StatusNotFound {
				t.Fatalf("%s, %s: %d, want 404 (the session is another principal's): %s", c.name, method, r.status, r.body)
			}
		}
	}
	r := env.do("POST", "", initBody(mcp.LatestVersion), nil)
	if r.status != 401 || r.header.Get("WWW-Authenticate") == "" {
		t.Fatalf("unauthenticated initialize: %d %v", r.status, r.header)
	}
	// Still alive for its owner.
	if r := env.do("POST", sid, ping, alice); r.status != 200 {
		t.Fatalf("owner after attempts: %d", r.status)
	}
}

// TestPrincipalKey: session ownership compares keys, so the key must
// separate whatever tells two principals apart. Two apps of one user are
// two principals: a token issued to another client (perhaps less trusted,
// perhaps with other scopes) must not drive the session.
func TestPrincipalKey(t *testing.T) {
	base := Principal{Issuer: "https://issuer", Subject: "alice", ClientID: "app-1"}
	tests := []struct {
		name  string
		other Principal
		same  bool
	}{
		{"same principal", base, true},
		{"username and scopes do not matter", Principal{Issuer: "https://issuer", Subject: "alice", ClientID: "app-1", Username: "Alice", Scopes: []string{"mcp"}}, true},
		{"other client", Principal{Issuer: "https://issuer", Subject: "alice", ClientID: "app-2"}, false},
		{"other subject", Principal{Issuer: "https://issuer", Subject: "bob", ClientID: "app-1"}, false},
		{"other issuer", Principal{Issuer: "https://other", Subject: "alice", ClientID: "app-1"}, false},
		{"fields do not run together", Principal{Issuer: "https://issuer", Subject: "alic", ClientID: "eapp-1"}, false},
		{"no client", Principal{Issuer: "https://issuer", Subject: "alice"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := base, tt.other
			if got := a.Key() == b.Key(); got != tt.same {
				t.Fatalf("keys %q and %q: equal %v, want %v", a.Key(), b.Key(), got, tt.same)
			}
		})
	}
	if (*Principal)(nil).Key() != "" {
		t.Fatal("anonymous (nil) principal has a non-empty key")
	}
	if base.Key() == "" {
		t.Fatal("an authenticated principal has the anonymous key")
	}
}

// TestSessionNotSharedBetweenClients is TestSessionBoundToPrincipal's case
// on its own, with plain POSTs only: the same user through two apps gets
// two sessions, neither usable through the other app.
func TestSessionNotSharedBetweenClients(t *testing.T) {
	auth := AuthenticatorFunc(func(r *http.Request) (*Principal, error) {
		return &Principal{Issuer: "iss", Subject: "alice", ClientID: r.Header.Get("X-Test-Client")}, nil
	})
	env := newEnv(t, testConfig(), HandlerOptions{Auth: auth}, nil)
	app1 := map[string]string{"X-Test-Client": "app-1"}
	app2 := map[string]string{"X-Test-Client": "app-2"}
	s1 := env.initialize(mcp.LatestVersion, app1)
	s2 := env.initialize(mcp.LatestVersion, app2)
	ping := `{"jsonrpc":"2.0","id":1,"method":"ping"}`
	for _, tt := range []struct {
		name string
		sid  string
		hdr  map[string]string
		want int
	}{
		{"app-1 on its session", s1, app1, 200},
		{"app-2 on app-1's session", s1, app2, 404},
		{"app-1 on app-2's session", s2, app1, 404},
		{"app-2 on its session", s2, app2, 200},
	} {
		if r := env.do(http.MethodPost, tt.sid, ping, tt.hdr); r.status != tt.want {
			t.Fatalf("%s: %d, want %d: %s", tt.name, r.status, tt.want, r.body)
		}
	}
}

func TestDeleteCancelsInflight(t *testing.T) {
	started := make(chan struct{})
	var cause error
	var mu sync.Mutex
	env := newEnv(t, testConfig(), HandlerOptions{}, func(s *Server) {
		mustAddTool(t, s, mcp.Tool{Name: "block", Description: "d"}, func(ctx context.Context, _ *Call, _ json.RawMessage) (*mcp.CallToolResult, error) {
			close(started)
			<-ctx.Done()
			mu.Lock()
			cause = CancelCause(ctx)
			mu.Unlock()
			return nil, ctx.Err()
		})
	})
	sid := env.initialize(mcp.LatestVersion, nil)
	done := make(chan reply)
	go func() {
		done <- env.post(sid, `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"block"}}`)
	}()
	await(t, started, "the tool to start")
	if r := env.do(http.MethodDelete, sid, "", nil); r.status != 200 {
		t.Fatalf("delete %d", r.status)
	}
	r := await(t, done, "the answer of the call the DELETE interrupted")
	m := r.msg(t)
	if m.Error == nil || !strings.Contains(m.Error.Message, "session ended") {
		t.Fatalf("in-flight call after DELETE: %s", r.body)
	}
	mu.Lock()
	defer mu.Unlock()
	if cause == nil || !strings.Contains(cause.Error(), "deleted") {
		t.Fatalf("cause %v", cause)
	}
}

func TestCancelledNotification(t *testing.T) {
	started := make(chan struct{})
	finished := make(chan error, 1)
	env := newEnv(t, testConfig(), HandlerOptions{}, func(s *Server) {
		mustAddTool(t, s, mcp.Tool{Name: "block", Description: "d"}, func(ctx context.Context, _ *Call, _ json.RawMessage) (*mcp.CallToolResult, error) {
			close(started)
			<-ctx.Done()
			finished <- CancelCause(ctx)
			return nil, ctx.Err()
		})
	})
	sid := env.initialize(mcp.LatestVersion, nil)
	done := make(chan reply)
	go func() {
		done <- env.post(sid, `{"jsonrpc":"2.0","id":"c1","method":"tools/call","params":{"name":"block"}}`)
	}()
	await(t, started, "the tool to start")
	if r := env.post(sid, `{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":"c1","reason":"user"}}`); r.status != 202 {
		t.Fatalf("cancel: %d", r.status)
	}
	if err := await(t, finished, "the tool to see its cancellation"); !errors.Is(err, errCancelledByClient) {
		t.Fatalf("cause %v", err)
	}
	// A cancelled request gets no response.
	if r := await(t, done, "the cancelled call's POST to end"); r.status != http.StatusAccepted || len(r.body) != 0 {
		t.Fatalf("cancelled call answered %d %s", r.status, r.body)
	}
	// The session goes on.
	if r := env.post(sid, `{"jsonrpc":"2.0","id":2,"method":"ping"}`); r.status != 200 {
		t.Fatal(r.status)
	}
}

func TestRequestTimeout(t *testing.T) {
	cfg := testConfig()
	cfg.RequestTimeout = 50 * time.Millisecond
	env := newEnv(t, cfg, HandlerOptions{}, func(s *Server) {
		mustAddTool(t, s, mcp.Tool{Name: "block", Description: "d"}, func(ctx context.Context, _ *Call, _ json.RawMessage) (*mcp.CallToolResult, error) {
			<-ctx.Done()
			return nil, ctx.Err()
		})
	})
	sid := env.initialize(mcp.LatestVersion, nil)
	m := env.post(sid, `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"block"}}`).msg(t)
	if m.Error == nil || !strings.Contains(m.Error.Message, "timed out") {
		t.Fatalf("%+v", m)
	}
}

// A session whose client only listens (open GET stream) or has a call in
// flight does not expire; once idle, it does. The sweeps stand for the
// sweeper's ticks (a quarter of the TTL apart at most), on a fake clock.
func TestBusySessionDoesNotExpire(t *testing.T) {
	cfg := testConfig()
	cfg.SessionTTL = time.Hour // the real sweeper ticks each minute: never within the test
	clk := newFakeClock()
	env := newClockedEnv(t, cfg, clk)
	sid := env.initialize(mcp.LatestVersion, nil)
	ctx, cancel := context.WithCancel(context.Background())
	_, dec := env.sse(ctx, http.MethodGet, sid, "", map[string]string{"Accept": "text/event-stream"})
	if _, err := dec.Next(); err != nil {
		t.Fatal(err)
	}
	for range 8 { // two TTLs with nothing but the open stream
		clk.advance(cfg.SessionTTL / 4)
		env.h.sessions.sweep()
	}
	if r := env.post(sid, `{"jsonrpc":"2.0","id":1,"method":"ping"}`); r.status != 200 {
		t.Fatalf("listening session expired: %d", r.status)
	}
	cancel()
	waitFor(t, "stream detached", func() bool { return !env.h.sessions.all()[0].busy() })
	clk.advance(cfg.SessionTTL + time.Second)
	env.h.sessions.sweep()
	if n := env.h.sessions.count(); n != 0 {
		t.Fatalf("%d live sessions after an idle TTL", n)
	}
	if r := env.post(sid, `{"jsonrpc":"2.0","id":1,"method":"ping"}`); r.status != 404 {
		t.Fatalf("idle session kept: %d", r.status)
	}
}

// SSE_GET_STREAM=false (the Lambda default): GET without Last-Event-ID is
// 405, as the transport allows; unknown sessions are still 404 and
// resumption of a POST stream still works.
func TestNoStandaloneStream(t *testing.T) {
	cfg := testConfig()
	cfg.StandaloneStream = false
	env := newEnv(t, cfg, HandlerOptions{}, nil)
	sid := env.initialize(mcp.LatestVersion, nil)
	r := env.do(http.MethodGet, sid, "", map[string]string{"Accept": "text/event-stream"})
	if r.status != http.StatusMethodNotAllowed || !strings.Contains(r.header.Get("Allow"), "POST") || !strings.Contains(string(r.body), "SSE_GET_STREAM") {
		t.Fatalf("GET: %d %v %s", r.status, r.header, r.body)
	}
	if r := env.do(http.MethodGet, "unknown-session", "", map[string]string{"Accept": "text/event-stream"}); r.status != http.StatusNotFound {
		t.Fatalf("unknown session: %d", r.status)
	}
	// Last-Event-ID of a stream this session never had: the resumption
	// path answers (400), not the 405.
	if r := env.do(http.MethodGet, sid, "", map[string]string{"Accept": "text/event-stream", "Last-Event-ID": "9-1"}); r.status != http.StatusBadRequest {
		t.Fatalf("resume: %d %s", r.status, r.body)
	}
}

func TestStandaloneStreamDefaults(t *testing.T) {
	for _, tt := range []struct {
		env  map[string]string
		want bool
		err  bool
	}{
		{map[string]string{}, true, false},
		{map[string]string{"AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001"}, false, false},
		{map[string]string{"AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001", "SSE_GET_STREAM": "true"}, true, false},
		{map[string]string{"SSE_GET_STREAM": "false"}, false, false},
		{map[string]string{"SSE_GET_STREAM": "maybe"}, false, true},
	} {
		cfg, err := ConfigFromEnv(envOf(tt.env))
		if (err != nil) != tt.err || (err == nil && cfg.StandaloneStream != tt.want) {
			t.Errorf("%v: %v %v", tt.env, cfg.StandaloneStream, err)
		}
	}
}
