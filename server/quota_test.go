package server

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"mcplambda/mcp"
)

// Issue 13, finding 3: one principal cannot take every session slot,
// replay buffers are bounded in bytes, and what a client names is bounded
// in size.

func TestSessionQuotaPerPrincipal(t *testing.T) {
	cfg := testConfig()
	cfg.MaxSessions = 100
	cfg.MaxSessionsPerPrincipal = 2
	env := newEnv(t, cfg, HandlerOptions{Auth: testUsers}, nil)
	alice := map[string]string{"X-Test-User": "alice"}
	bob := map[string]string{"X-Test-User": "bob"}
	a1 := env.initialize(mcp.LatestVersion, alice)
	env.initialize(mcp.LatestVersion, alice)

	r := env.do(http.MethodPost, "", initBody(mcp.LatestVersion), alice)
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" || r.header.Get("Mcp-Session-Id") != "" {
		t.Fatalf("third session: %d %v %s", r.status, r.header, r.body)
	}
	if m := r.msg(t); m.ID.String() != "0" || m.Error.Code != mcp.CodeServerError || !strings.Contains(m.Error.Message, "MAX_SESSIONS_PER_PRINCIPAL") {
		t.Fatalf("answer %s", r.body)
	}
	env.initialize(mcp.LatestVersion, bob) // others are not locked out
	if r := env.do(http.MethodDelete, a1, "", alice); r.status != http.StatusNoContent && r.status != http.StatusOK {
		t.Fatalf("delete: %d", r.status)
	}
	env.initialize(mcp.LatestVersion, alice) // a slot freed by DELETE is usable again
	if n := env.h.sessions.sessionsOf(testUsersKey("alice")); n != 2 {
		t.Fatalf("alice holds %d sessions, want 2", n)
	}
}

func testUsersKey(user string) string {
	return (&Principal{Issuer: "iss", Subject: user, ClientID: "c1"}).Key()
}

// Without authentication there is no principal to tell apart: the quota
// does not apply (MAX_SESSIONS still does).
func TestSessionQuotaNotForAnonymous(t *testing.T) {
	cfg := testConfig()
	cfg.MaxSessionsPerPrincipal = 1
	env := newEnv(t, cfg, HandlerOptions{}, nil)
	for range 3 {
		env.initialize(mcp.LatestVersion, nil)
	}
}

func TestLimitsFromEnv(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		want    func(Config) bool
		wantErr string
	}{
		{"defaults", nil, func(c Config) bool {
			return c.MaxSessionsPerPrincipal == 1000 && c.MaxBatchLength == 100 && c.BatchConcurrency == 8 &&
				c.MaxInflightPerSession == 32 && c.MaxInflightPerPrincipal == 64 && c.EventBufferBytes == 1<<20
		}, ""},
		{"quota follows MAX_SESSIONS", map[string]string{"MAX_SESSIONS": "50"}, func(c Config) bool { return c.MaxSessionsPerPrincipal == 5 }, ""},
		{"quota of a tiny cap", map[string]string{"MAX_SESSIONS": "3"}, func(c Config) bool { return c.MaxSessionsPerPrincipal == 1 }, ""},
		{"explicit quota", map[string]string{"MAX_SESSIONS": "50", "MAX_SESSIONS_PER_PRINCIPAL": "0"}, func(c Config) bool { return c.MaxSessionsPerPrincipal == 0 }, ""},
		{"all set", map[string]string{"MAX_BATCH_LENGTH": "10", "BATCH_CONCURRENCY": "2", "MAX_INFLIGHT_PER_SESSION": "0", "MAX_INFLIGHT_PER_PRINCIPAL": "7", "SSE_BUFFER_BYTES": "65536"},
			func(c Config) bool {
				return c.MaxBatchLength == 10 && c.BatchConcurrency == 2 && c.MaxInflightPerSession == 0 && c.MaxInflightPerPrincipal == 7 && c.EventBufferBytes == 65536
			}, ""},
		{"batch length 0", map[string]string{"MAX_BATCH_LENGTH": "0"}, nil, "MAX_BATCH_LENGTH"},
		{"concurrency 0", map[string]string{"BATCH_CONCURRENCY": "0"}, nil, "BATCH_CONCURRENCY"},
		{"negative in-flight cap", map[string]string{"MAX_INFLIGHT_PER_PRINCIPAL": "-1"}, nil, "MAX_INFLIGHT_PER_PRINCIPAL"},
		{"bytes not a number", map[string]string{"SSE_BUFFER_BYTES": "1MiB"}, nil, "SSE_BUFFER_BYTES"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ConfigFromEnv(func(k string) string { return tt.env[k] })
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one naming %s", err, tt.wantErr)
				}
				return
			}
			if err != nil || !tt.want(c) {
				t.Fatalf("%+v %v", c, err)
			}
		})
	}
}

// retained is the bytes of events a session keeps for replay.
func retained(ls *liveSession) int {
	ls.mu.Lock()
	streams := make([]*stream, 0, len(ls.streams))
	for _, st := range ls.streams {
		streams = append(streams, st)
	}
	ls.mu.Unlock()
	n := 0
	for _, st := range streams {
		st.mu.Lock()
		for _, e := range st.events {
			n += len(e.data)
		}
		st.mu.Unlock()
	}
	return n
}

// chatty sends n log messages of about 1 KiB, the first at once and the
// others once released, then answers.
func chatty(n int, release <-chan struct{}, done chan<- struct{}) ToolHandler {
	return func(ctx context.Context, call *Call, _ json.RawMessage) (*mcp.CallToolResult, error) {
		defer close(done)
		for i := range n {
			if i == 1 {
				select {
				case <-release:
				case <-ctx.Done():
					return nil, ctx.Err()
				}
			}
			if err := call.Log(mcp.LevelInfo, "chatty", strconv.Itoa(i)+strings.Repeat("x", 1000)); err != nil {
				return nil, err
			}
		}
		return mcp.ToolText("done"), nil
	}
}

func TestReplayByteBudget(t *testing.T) {
	cfg := testConfig()
	cfg.EventBuffer = 1000
	cfg.EventBufferBytes = 4096
	release, done := make(chan struct{}), make(chan struct{})
	env := newEnv(t, cfg, HandlerOptions{}, func(s *Server) {
		mustAddTool(t, s, mcp.Tool{Name: "chatty"}, chatty(40, release, done))
	})
	sid := env.initialize(mcp.LatestVersion, nil)
	ctx, cancel := context.WithCancel(context.Background())
	_, dec := env.sse(ctx, http.MethodPost, sid, `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"chatty"}}`, nil)
	_, first := nextMessage(t, dec)
	env.h.sessions.mu.RLock()
	ls := env.h.sessions.live[sid]
	env.h.sessions.mu.RUnlock()
	only := func() *stream {
		ls.mu.Lock()
		defer ls.mu.Unlock()
		for _, st := range ls.streams {
			return st
		}
		return nil
	}
	st := only()
	cancel() // the client goes away; the call goes on and its events are buffered
	waitFor(t, "the server to see the client go", func() bool {
		select {
		case <-st.gone:
			return true
		default:
			return false
		}
	})
	close(release)
	<-done
	waitFor(t, "the response", func() bool {
		st.mu.Lock()
		defer st.mu.Unlock()
		return st.done
	})
	if n := retained(ls); n > 4096 {
		t.Fatalf("the session keeps %d bytes for replay, budget 4096", n)
	}
	// Resuming from the start: the client is told what it lost.
	r := env.do(http.MethodGet, sid, "", map[string]string{"Accept": "text/event-stream", "Last-Event-ID": first})
	if r.status != http.StatusBadRequest || !strings.Contains(string(r.body), "no longer available") {
		t.Fatalf("resume from the first event: %d %s", r.status, r.body)
	}
	// The newest events are kept: resuming just before the response gets it.
	streamID, _, _ := strings.Cut(first, "-")
	resp, dec2 := env.sse(context.Background(), http.MethodGet, sid, "", map[string]string{"Accept": "text/event-stream", "Last-Event-ID": streamID + "-40"})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("resume before the response: %d", resp.StatusCode)
	}
	if m, _ := nextMessage(t, dec2); m.ID.String() != "7" || !strings.Contains(string(m.Result), "done") {
		t.Fatalf("resumed: %s", m.Result)
	}
	// Delivered in full now: nothing is kept.
	waitFor(t, "the delivered stream's events to go", func() bool { return retained(ls) == 0 })
}

func TestDeliveredStreamKeepsNoEvents(t *testing.T) {
	release, done := make(chan struct{}), make(chan struct{})
	close(release)
	env := newEnv(t, testConfig(), HandlerOptions{}, func(s *Server) {
		mustAddTool(t, s, mcp.Tool{Name: "chatty"}, chatty(20, release, done))
	})
	sid := env.initialize(mcp.LatestVersion, nil)
	_, dec := env.sse(context.Background(), http.MethodPost, sid, `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"chatty"}}`, nil)
	for {
		if m, _ := nextMessage(t, dec); m.Kind() == mcp.KindResponse {
			break
		}
	}
	env.h.sessions.mu.RLock()
	ls := env.h.sessions.live[sid]
	env.h.sessions.mu.RUnlock()
	waitFor(t, "the stream to end", func() bool { <-done; return retained(ls) == 0 })
	if got := ls.bufBytes.Load(); got != 0 {
		t.Fatalf("the session still counts %d buffered bytes", got)
	}
}

func TestSizeCaps(t *testing.T) {
	cfg := testConfig()
	env := newEnv(t, cfg, HandlerOptions{}, nil)
	sid := env.initialize(mcp.LatestVersion, nil)
	old := env.initialize(mcp.Version20250326, nil)
	long := func(n int) string { return `"` + strings.Repeat("i", n-2) + `"` } // a JSON string of n bytes
	big := `{"name":"t","version":"1","x":"` + strings.Repeat("a", 17<<10) + `"}`
	tool := func(id, meta string) string {
		return `{"jsonrpc":"2.0","id":` + id + `,"method":"tools/call","params":{"name":"echo","arguments":{"text":"a"}` + meta + `}}`
	}
	modernMetaWith := func(extra string) string {
		return `"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}` + extra + `}`
	}
	modernTool := func(id, meta string) string {
		return `{"jsonrpc":"2.0","id":` + id + `,"method":"tools/call","params":{"name":"echo","arguments":{"text":"a"},` + meta + `}}`
	}
	stateless := modernHeaders("tools/call", "echo")
	tests := []struct {
		name   string
		sid    string
		body   string
		hdr    map[string]string
		status int
		code   int    // 0: success
		id     string // the id of the answer
	}{
		{"id of 256 bytes", sid, `{"jsonrpc":"2.0","id":` + long(256) + `,"method":"ping"}`, nil, 200, 0, long(256)},
		{"id of 257 bytes", sid, `{"jsonrpc":"2.0","id":` + long(257) + `,"method":"ping"}`, nil, 400, mcp.CodeInvalidRequest, "null"},
		{"numeric id of 300 digits", sid, `{"jsonrpc":"2.0","id":` + strings.Repeat("9", 300) + `,"method":"ping"}`, nil, 400, mcp.CodeInvalidRequest, "null"},
		{"stateless: long id", "", modernTool(long(300), modernMetaWith("")), stateless, 400, mcp.CodeInvalidRequest, "null"},
		{"progressToken of 256 bytes", sid, tool("2", `,"_meta":{"progressToken":`+long(256)+`}`), nil, 200, 0, "2"},
		{"progressToken of 257 bytes", sid, tool("3", `,"_meta":{"progressToken":`+long(257)+`}`), nil, 200, mcp.CodeInvalidParams, "3"},
		{"stateless: long progressToken", "", modernTool("4", modernMetaWith(`,"progressToken":`+long(300))), stateless, 400, mcp.CodeInvalidParams, "4"},
		{"initialize: large clientInfo", "", `{"jsonrpc":"2.0","id":5,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":` + big + `}}`, nil, 400, mcp.CodeInvalidParams, "5"},
		{"initialize: large capabilities", "", `{"jsonrpc":"2.0","id":6,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{"experimental":` + big + `},"clientInfo":{"name":"t","version":"1"}}}`, nil, 400, mcp.CodeInvalidParams, "6"},
		{"stateless: large clientCapabilities", "", modernTool("7", `"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{"experimental":`+big+`}}`), stateless, 400, mcp.CodeInvalidParams, "7"},
		{"stateless: large clientInfo", "", modernTool("8", modernMetaWith(`,"io.modelcontextprotocol/clientInfo":`+big)), stateless, 400, mcp.CodeInvalidParams, "8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := env.do(http.MethodPost, tt.sid, tt.body, tt.hdr)
			if r.status != tt.status {
				t.Fatalf("status %d, want %d: %.300s", r.status, tt.status, r.body)
			}
			m := r.msg(t)
			if m.ID.String() != tt.id {
				t.Errorf("id %.40s, want %.40s", m.ID.String(), tt.id)
			}
			switch {
			case tt.code == 0 && m.Error != nil:
				t.Fatalf("error %v", m.Error)
			case tt.code != 0 && (m.Error == nil || m.Error.Code != tt.code || !strings.Contains(m.Error.Message, "at most")):
				t.Fatalf("answer %.300s, want code %d naming the limit", r.body, tt.code)
			}
		})
	}
	// In a batch, the message with a long id is refused alone.
	r := env.post(old, `[{"jsonrpc":"2.0","id":`+long(300)+`,"method":"ping"},{"jsonrpc":"2.0","id":1,"method":"ping"}]`)
	var raw []json.RawMessage
	if r.status != 200 || json.Unmarshal(r.body, &raw) != nil || len(raw) != 2 {
		t.Fatalf("batch: %d %s", r.status, r.body)
	}
	var ok, refused int
	for _, b := range raw {
		m, err := mcp.DecodeMessage(b)
		switch {
		case err != nil:
			t.Fatalf("%v: %s", err, b)
		case m.Error == nil && m.ID.String() == "1":
			ok++
		case m.Error != nil && m.Error.Code == mcp.CodeInvalidRequest && m.ID.String() == "null":
			refused++
		}
	}
	if ok != 1 || refused != 1 {
		t.Fatalf("batch answers %s", r.body)
	}
}
