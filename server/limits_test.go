package server

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"mcplambda/mcp"
)

// Issue 13, finding 2: batches are bounded in length and concurrency, and
// the requests in flight are capped per session and per principal.

// gate is a tool that holds each call until released, counting the calls
// running at once.
type gate struct {
	release chan struct{}
	running atomic.Int32
	peak    atomic.Int32
}

func newGate() *gate { return &gate{release: make(chan struct{})} }

func (g *gate) handler(ctx context.Context, _ *Call, _ json.RawMessage) (*mcp.CallToolResult, error) {
	n := g.running.Add(1)
	defer g.running.Add(-1)
	for {
		p := g.peak.Load()
		if n <= p || g.peak.CompareAndSwap(p, n) {
			break
		}
	}
	select {
	case <-g.release:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return mcp.ToolText("done"), nil
}

func (g *gate) add(tb testing.TB) func(*Server) {
	return func(srv *Server) {
		mustAddTool(tb, srv, mcp.Tool{Name: "gate", InputSchema: json.RawMessage(`{"type":"object"}`)}, g.handler)
	}
}

// testUsers authenticates X-Test-User as the principal.
var testUsers = AuthenticatorFunc(func(r *http.Request) (*Principal, error) {
	user := r.Header.Get("X-Test-User")
	if user == "" {
		return nil, &AuthError{Status: 401, Challenge: `Bearer resource_metadata="x"`, Message: "Unauthorized: token required"}
	}
	return &Principal{Issuer: "iss", Subject: user, ClientID: "c1"}, nil
})

func gateCall(id int) string {
	return fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"gate","arguments":{}}}`, id)
}

// background posts body from another goroutine (env.do may not: it calls
// t.Fatal) and reports the status when the answer is complete.
func (e *testEnv) background(sid, body string, hdr map[string]string) <-chan int {
	done := make(chan int, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodPost, e.url, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		if sid != "" {
			req.Header.Set("Mcp-Session-Id", sid)
		}
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			done <- -1
			return
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		done <- resp.StatusCode
	}()
	return done
}

func rpcError(t *testing.T, r reply) *mcp.Error {
	t.Helper()
	m := r.msg(t)
	if m.Error == nil {
		t.Fatalf("no error in %s", r.body)
	}
	return m.Error
}

func TestBatchLengthLimit(t *testing.T) {
	cfg := testConfig()
	cfg.MaxBatchLength = 5
	env := newEnv(t, cfg, HandlerOptions{}, nil)
	sid := env.initialize(mcp.Version20250326, nil)
	batch := func(n int) string {
		parts := make([]string, n)
		for i := range parts {
			parts[i] = fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"ping"}`, i+1)
		}
		return "[" + strings.Join(parts, ",") + "]"
	}
	tests := []struct {
		name   string
		n      int
		status int
	}{
		{"at the limit", 5, http.StatusOK},
		{"one over", 6, http.StatusBadRequest},
		{"far over", 5000, http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := env.post(sid, batch(tt.n))
			if r.status != tt.status {
				t.Fatalf("status %d, want %d: %.200s", r.status, tt.status, r.body)
			}
			if tt.status == http.StatusOK {
				var out []json.RawMessage
				if err := json.Unmarshal(r.body, &out); err != nil || len(out) != tt.n {
					t.Fatalf("%d responses (%v): %s", len(out), err, r.body)
				}
				return
			}
			e := rpcError(t, r)
			if e.Code != mcp.CodeInvalidRequest || !strings.Contains(e.Message, "MAX_BATCH_LENGTH") || !strings.Contains(e.Message, "limit of 5") {
				t.Errorf("error %d %q", e.Code, e.Message)
			}
		})
	}
}

func TestBatchConcurrencyBounded(t *testing.T) {
	cfg := testConfig()
	cfg.BatchConcurrency = 3
	var running, peak atomic.Int32
	env := newEnv(t, cfg, HandlerOptions{}, func(srv *Server) {
		mustAddTool(t, srv, mcp.Tool{Name: "busy", InputSchema: json.RawMessage(`{"type":"object"}`)},
			func(context.Context, *Call, json.RawMessage) (*mcp.CallToolResult, error) {
				n := running.Add(1)
				defer running.Add(-1)
				for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
				}
				time.Sleep(2 * time.Millisecond) // long enough for the others to pile up if nothing bounds them
				return mcp.ToolText("ok"), nil
			})
	})
	sid := env.initialize(mcp.Version20250326, nil)
	parts := make([]string, 20)
	for i := range parts {
		parts[i] = fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"busy","arguments":{}}}`, i+1)
	}
	r := env.post(sid, "["+strings.Join(parts, ",")+"]")
	var out []mcp.Message
	if r.status != http.StatusOK || json.Unmarshal(r.body, &out) != nil || len(out) != 20 {
		t.Fatalf("%d: %s", r.status, r.body)
	}
	if p := peak.Load(); p > 3 {
		t.Fatalf("%d requests of one batch ran at once, want at most 3 (BATCH_CONCURRENCY)", p)
	}
}

func TestInflightPerSession(t *testing.T) {
	cfg := testConfig()
	cfg.MaxInflightPerSession = 2
	cfg.RequestTimeout = 10 * time.Second // without the cap, a held call would otherwise wait for the gate forever
	g := newGate()
	env := newEnv(t, cfg, HandlerOptions{}, g.add(t))
	sid := env.initialize(mcp.Version20250326, nil)
	a, b := env.background(sid, gateCall(1), nil), env.background(sid, gateCall(2), nil)
	waitFor(t, "two calls in flight", func() bool { return g.running.Load() == 2 })

	tests := []struct {
		name string
		body string
		id   string
	}{
		{"a third request", gateCall(3), "3"},
		{"a ping", `{"jsonrpc":"2.0","id":"p","method":"ping"}`, `"p"`},
		{"a batch", `[` + gateCall(4) + `,` + gateCall(5) + `]`, "null"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := env.post(sid, tt.body)
			if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") != "1" {
				t.Fatalf("status %d, Retry-After %q: %s", r.status, r.header.Get("Retry-After"), r.body)
			}
			m := r.msg(t)
			if m.ID.String() != tt.id || m.Error == nil || m.Error.Code != mcp.CodeServerError || !strings.Contains(m.Error.Message, "MAX_INFLIGHT_PER_SESSION") {
				t.Fatalf("answer %s", r.body)
			}
		})
	}
	// Notifications are no requests: a cancellation still gets through.
	if r := env.post(sid, `{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":1,"progress":1}}`); r.status != http.StatusAccepted {
		t.Fatalf("notification: %d", r.status)
	}
	// Another session of the same (anonymous) principal is not affected.
	other := env.initialize(mcp.Version20250326, nil)
	if r := env.post(other, `{"jsonrpc":"2.0","id":1,"method":"ping"}`); r.status != http.StatusOK {
		t.Fatalf("other session: %d %s", r.status, r.body)
	}
	close(g.release)
	if sa, sb := <-a, <-b; sa != 200 || sb != 200 {
		t.Fatalf("held calls: %d %d", sa, sb)
	}
	// The slots are given back.
	if r := env.post(sid, `[`+gateCall(6)+`,`+gateCall(7)+`,`+gateCall(8)+`]`); r.status != http.StatusOK {
		t.Fatalf("after release: %d %s", r.status, r.body)
	}
}

func TestInflightPerPrincipal(t *testing.T) {
	cfg := testConfig()
	cfg.MaxInflightPerPrincipal = 2
	cfg.MaxInflightPerSession = 0
	cfg.RequestTimeout = 10 * time.Second
	g := newGate()
	env := newEnv(t, cfg, HandlerOptions{Auth: testUsers}, g.add(t))
	alice := map[string]string{"X-Test-User": "alice"}
	bob := map[string]string{"X-Test-User": "bob"}
	modern := func(user map[string]string, id int) (string, map[string]string) {
		h := modernHeaders("tools/call", "gate")
		for k, v := range user {
			h[k] = v
		}
		return modernBody(id, "tools/call", `"name":"gate","arguments":{}`), h
	}
	// One session-era call and one stateless call: both count for alice.
	s1 := env.initialize(mcp.LatestVersion, alice)
	held := []<-chan int{env.background(s1, gateCall(1), alice)}
	body, hdr := modern(alice, 2)
	held = append(held, env.background("", body, hdr))
	waitFor(t, "two calls in flight", func() bool { return g.running.Load() == 2 })

	s2 := env.initialize(mcp.LatestVersion, alice) // sessions are not requests in flight
	body, hdr = modern(alice, 3)
	tests := []struct {
		name   string
		sid    string
		body   string
		hdr    map[string]string
		status int
	}{
		{"alice, another session", s2, gateCall(4), alice, http.StatusTooManyRequests},
		{"alice, stateless", "", body, hdr, http.StatusTooManyRequests},
		{"bob", env.initialize(mcp.LatestVersion, bob), `{"jsonrpc":"2.0","id":5,"method":"ping"}`, bob, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := env.do(http.MethodPost, tt.sid, tt.body, tt.hdr)
			if r.status != tt.status {
				t.Fatalf("status %d, want %d: %s", r.status, tt.status, r.body)
			}
			if tt.status == http.StatusTooManyRequests {
				e := rpcError(t, r)
				if r.header.Get("Retry-After") == "" || e.Code != mcp.CodeServerError || !strings.Contains(e.Message, "MAX_INFLIGHT_PER_PRINCIPAL") {
					t.Fatalf("answer %v %s", r.header, r.body)
				}
			}
		})
	}
	close(g.release)
	for _, c := range held {
		if s := <-c; s != 200 {
			t.Fatalf("held call: %d", s)
		}
	}
	body, hdr = modern(alice, 6)
	if r := env.do(http.MethodPost, "", body, hdr); r.status != http.StatusOK {
		t.Fatalf("after release: %d %s", r.status, r.body)
	}
	env.h.usage.mu.Lock()
	defer env.h.usage.mu.Unlock()
	for key, u := range env.h.usage.m {
		if u.inflight != 0 {
			t.Errorf("%q still counts %d requests in flight", key, u.inflight)
		}
	}
}
