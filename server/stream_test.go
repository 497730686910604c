package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"mcplambda/mcp"
)

// slowTool sends n log messages, waiting for release between them when a
// channel is given, then answers "done".
func slowTool(n int, release <-chan struct{}) ToolHandler {
	return func(ctx context.Context, call *Call, _ json.RawMessage) (*mcp.CallToolResult, error) {
		for i := range n {
			if release != nil {
				select {
				case <-release:
				case <-ctx.Done():
					return nil, ctx.Err()
				}
			}
			if err := call.Log(mcp.LevelInfo, "slow", fmt.Sprintf("step %d", i)); err != nil {
				return nil, err
			}
			_ = call.Progress(float64(i+1), float64(n), "")
		}
		return mcp.ToolText("done"), nil
	}
}

func TestNotificationsStreamBeforeResult(t *testing.T) {
	release := make(chan struct{})
	env := newEnv(t, testConfig(), HandlerOptions{}, func(s *Server) {
		mustAddTool(t, s, mcp.Tool{Name: "slow", Description: "d"}, slowTool(3, release))
	})
	sid := env.initialize(mcp.LatestVersion, nil)
	// Headers go out with the first notification, so release it first.
	go func() { release <- struct{}{} }()
	resp, dec := env.sse(context.Background(), http.MethodPost, sid,
		`{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"slow","_meta":{"progressToken":"tok"}}}`, nil)
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("content type %q", ct)
	}
	// Each notification arrives while the handler is still blocked: it was
	// streamed, not buffered.
	for i := range 3 {
		m, id := nextMessage(t, dec)
		if m.Method != mcp.NotificationMessage || !strings.Contains(string(m.Params), fmt.Sprintf("step %d", i)) || id == "" {
			t.Fatalf("event %d: %s %s (id %q)", i, m.Method, m.Params, id)
		}
		m, _ = nextMessage(t, dec)
		var p mcp.ProgressParams
		if m.Method != mcp.NotificationProgress || json.Unmarshal(m.Params, &p) != nil || string(p.ProgressToken) != `"tok"` || p.Progress != float64(i+1) {
			t.Fatalf("progress %d: %s", i, m.Params)
		}
		if i < 2 {
			release <- struct{}{}
		}
	}
	m, _ := nextMessage(t, dec)
	if m.ID.String() != "7" || !strings.Contains(string(m.Result), `"done"`) {
		t.Fatalf("result %s", m.Result)
	}
	if _, err := dec.Next(); err != io.EOF {
		t.Fatalf("stream not closed after the response: %v", err)
	}
}

func TestLoggingLevelFilters(t *testing.T) {
	env := newEnv(t, testConfig(), HandlerOptions{}, func(s *Server) {
		mustAddTool(t, s, mcp.Tool{Name: "levels", Description: "d"}, func(_ context.Context, call *Call, _ json.RawMessage) (*mcp.CallToolResult, error) {
			for _, l := range []mcp.LoggingLevel{mcp.LevelDebug, mcp.LevelInfo, mcp.LevelWarning, mcp.LevelError} {
				_ = call.Log(l, "", string(l))
			}
			return mcp.ToolText("ok"), nil
		})
	})
	sid := env.initialize(mcp.LatestVersion, nil)
	if r := env.post(sid, `{"jsonrpc":"2.0","id":1,"method":"logging/setLevel","params":{"level":"warning"}}`); string(r.msg(t).Result) != "{}" {
		t.Fatalf("setLevel: %s", r.body)
	}
	_, dec := env.sse(context.Background(), http.MethodPost, sid, `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"levels"}}`, nil)
	var got []string
	for {
		m, _ := nextMessage(t, dec)
		if m.Method == "" {
			break
		}
		var p mcp.LoggingMessageParams
		_ = json.Unmarshal(m.Params, &p)
		got = append(got, string(p.Level))
	}
	if strings.Join(got, ",") != "warning,error" {
		t.Fatalf("delivered levels %v", got)
	}
}

// The server asks the client (elicitation) on the call's stream; the answer
// comes back in another POST and completes the tool call.
func TestServerToClientRequest(t *testing.T) {
	env := newEnv(t, testConfig(), HandlerOptions{}, func(s *Server) {
		mustAddTool(t, s, mcp.Tool{Name: "ask", Description: "d"}, func(ctx context.Context, call *Call, _ json.RawMessage) (*mcp.CallToolResult, error) {
			res, err := call.Elicit(ctx, &mcp.ElicitParams{Message: "name?", RequestedSchema: json.RawMessage(`{"type":"object","properties":{"n":{"type":"string"}}}`)})
			if err != nil {
				return nil, err
			}
			return mcp.ToolText(res.Action + ":" + fmt.Sprint(res.Content["n"])), nil
		})
	})
	sid := env.initialize(mcp.LatestVersion, nil)
	_, dec := env.sse(context.Background(), http.MethodPost, sid, `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"ask"}}`, nil)
	req, _ := nextMessage(t, dec)
	if req.Method != mcp.MethodElicitationCreate || req.Kind() != mcp.KindRequest {
		t.Fatalf("want elicitation request, got %+v", req)
	}
	// A response from another principal's perspective or unknown id is ignored.
	if r := env.post(sid, `{"jsonrpc":"2.0","id":12345,"result":{}}`); r.status != 202 {
		t.Fatal(r.status)
	}
	answer := `{"jsonrpc":"2.0","id":` + req.ID.String() + `,"result":{"action":"accept","content":{"n":"Zed"}}}`
	if r := env.post(sid, answer); r.status != 202 {
		t.Fatalf("answer: %d %s", r.status, r.body)
	}
	m, _ := nextMessage(t, dec)
	if !strings.Contains(string(m.Result), "accept:Zed") {
		t.Fatalf("result %s", m.Result)
	}
}

func TestServerRequestRefusedWithoutCapability(t *testing.T) {
	env := newEnv(t, testConfig(), HandlerOptions{}, func(s *Server) {
		mustAddTool(t, s, mcp.Tool{Name: "sample", Description: "d"}, func(ctx context.Context, call *Call, _ json.RawMessage) (*mcp.CallToolResult, error) {
			_, err := call.CreateMessage(ctx, &mcp.CreateMessageParams{MaxTokens: 1})
			return nil, err
		})
	})
	r := env.post("", `{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`)
	sid := r.header.Get("Mcp-Session-Id")
	res := env.post(sid, `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"sample"}}`)
	if !strings.Contains(string(res.body), "does not support sampling") || !strings.Contains(string(res.body), `"isError":true`) {
		t.Fatalf("%s", res.body)
	}
}

func TestStandaloneStreamGetsListChangedAndResourceUpdates(t *testing.T) {
	env := newEnv(t, testConfig(), HandlerOptions{}, nil)
	sid := env.initialize(mcp.LatestVersion, nil)
	other := env.initialize(mcp.LatestVersion, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	resp, dec := env.sse(ctx, http.MethodGet, sid, "", map[string]string{"Accept": "text/event-stream"})
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("GET: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	// Priming event first: an id and empty data.
	ev, err := dec.Next()
	if err != nil || ev.ID == "" || len(ev.Data) != 0 || ev.Retry == 0 {
		t.Fatalf("priming event %+v %v", ev, err)
	}
	waitFor(t, "GET stream registered", func() bool { return len(env.h.sessions.all()) == 2 })
	if r := env.post(sid, `{"jsonrpc":"2.0","id":1,"method":"resources/subscribe","params":{"uri":"test://r"}}`); string(r.msg(t).Result) != "{}" {
		t.Fatalf("subscribe: %s", r.body)
	}
	mustAddTool(t, env.srv, mcp.Tool{Name: "late", Description: "d"}, nil)
	m, _ := nextMessage(t, dec)
	if m.Method != mcp.NotificationToolsListChanged {
		t.Fatalf("got %s", m.Method)
	}
	env.srv.NotifyResourceUpdated("test://other") // not subscribed: nothing
	env.srv.NotifyResourceUpdated("test://r")
	m, _ = nextMessage(t, dec)
	if m.Method != mcp.NotificationResourcesUpdated || !strings.Contains(string(m.Params), "test://r") {
		t.Fatalf("got %s %s", m.Method, m.Params)
	}
	if r := env.post(sid, `{"jsonrpc":"2.0","id":1,"method":"resources/unsubscribe","params":{"uri":"test://r"}}`); r.status != 200 {
		t.Fatal(r.status)
	}
	// Server-wide log messages honour each session's level.
	if r := env.post(sid, `{"jsonrpc":"2.0","id":1,"method":"logging/setLevel","params":{"level":"warning"}}`); r.status != 200 {
		t.Fatal(r.status)
	}
	env.srv.Log(mcp.LevelInfo, "srv", "filtered")
	env.srv.Log(mcp.LevelError, "srv", "delivered")
	m, _ = nextMessage(t, dec)
	if m.Method != mcp.NotificationMessage || !strings.Contains(string(m.Params), "delivered") {
		t.Fatalf("got %s %s", m.Method, m.Params)
	}
	_ = other
}

// A client that loses a POST stream resumes it with GET + Last-Event-ID and
// receives what it missed and the rest, including the response.
func TestResumeWithLastEventID(t *testing.T) {
	release := make(chan struct{})
	env := newEnv(t, testConfig(), HandlerOptions{}, func(s *Server) {
		mustAddTool(t, s, mcp.Tool{Name: "slow", Description: "d"}, slowTool(3, release))
	})
	sid := env.initialize(mcp.LatestVersion, nil)
	ctx, cancel := context.WithCancel(context.Background())
	go func() { release <- struct{}{} }()
	_, dec := env.sse(ctx, http.MethodPost, sid, `{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"slow"}}`, nil)
	m, lastID := nextMessage(t, dec)
	if !strings.Contains(string(m.Params), "step 0") {
		t.Fatalf("%s", m.Params)
	}
	cancel() // the connection drops; the request must go on
	release <- struct{}{}
	time.Sleep(20 * time.Millisecond)

	resp, dec2 := env.sse(context.Background(), http.MethodGet, sid, "", map[string]string{"Accept": "text/event-stream", "Last-Event-ID": lastID})
	if resp.StatusCode != 200 {
		t.Fatalf("resume: %d", resp.StatusCode)
	}
	m, _ = nextMessage(t, dec2)
	if !strings.Contains(string(m.Params), "step 1") {
		t.Fatalf("replay: %s", m.Params)
	}
	release <- struct{}{}
	m, _ = nextMessage(t, dec2)
	if !strings.Contains(string(m.Params), "step 2") {
		t.Fatalf("live after resume: %s", m.Params)
	}
	m, _ = nextMessage(t, dec2)
	if m.ID.String() != "5" || !strings.Contains(string(m.Result), "done") {
		t.Fatalf("response after resume: %s", m.Result)
	}
	if _, err := dec2.Next(); err != io.EOF {
		t.Fatalf("resumed stream not closed after the response: %v", err)
	}
	// The stream has finished and was delivered in full: its events are
	// gone (issue 13: they held memory for the session's lifetime), and a
	// resumption from before its end says so.
	r := env.do(http.MethodGet, sid, "", map[string]string{"Accept": "text/event-stream", "Last-Event-ID": lastID})
	if r.status != 400 || !strings.Contains(string(r.body), "no longer available") {
		t.Fatalf("resume of a delivered stream: %d %s", r.status, r.body)
	}
}

func TestEventBufferBound(t *testing.T) {
	cfg := testConfig()
	cfg.EventBuffer = 2
	env := newEnv(t, cfg, HandlerOptions{}, func(s *Server) {
		mustAddTool(t, s, mcp.Tool{Name: "chatty", Description: "d"}, slowTool(5, nil))
	})
	sid := env.initialize(mcp.LatestVersion, nil)
	_, dec := env.sse(context.Background(), http.MethodPost, sid, `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"chatty"}}`, nil)
	_, first := nextMessage(t, dec)
	for {
		m, _ := nextMessage(t, dec)
		if m.Kind() == mcp.KindResponse {
			break
		}
	}
	r := env.do(http.MethodGet, sid, "", map[string]string{"Accept": "text/event-stream", "Last-Event-ID": first})
	if r.status != 400 || !strings.Contains(string(r.body), "no longer available") {
		t.Fatalf("resume beyond the buffer: %d %s", r.status, r.body)
	}
}

func TestGracefulShutdown(t *testing.T) {
	release := make(chan struct{})
	srv := New(Options{})
	mustAddTool(t, srv, mcp.Tool{Name: "slow", Description: "d"}, slowTool(1, release))
	cfg := testConfig()
	cfg.Port = 0
	cfg.ShutdownTimeout = 5 * time.Second
	h := NewHandler(srv, cfg, HandlerOptions{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan net.Addr, 1)
	served := make(chan error, 1)
	go func() {
		served <- Serve(ctx, cfg, NewMux(cfg, h), h, slog.New(slog.NewTextHandler(io.Discard, nil)), func(a net.Addr) { addrc <- a })
	}()
	env := &testEnv{t: t, srv: srv, h: h, url: "http://" + await(t, addrc, "Serve to listen").String() + cfg.Path}
	sid := env.initialize(mcp.LatestVersion, nil)
	getResp, getDec := env.sse(context.Background(), http.MethodGet, sid, "", map[string]string{"Accept": "text/event-stream"})
	_, _ = getDec.Next() // priming
	callDone := make(chan reply)
	go func() {
		callDone <- env.post(sid, `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"slow"}}`)
	}()
	waitFor(t, "call in flight", func() bool {
		ls := h.sessions.all()[0]
		ls.mu.Lock()
		defer ls.mu.Unlock()
		return len(ls.inflight) == 1
	})
	cancel()
	// The GET stream ends promptly...
	if _, err := io.ReadAll(getResp.Body); err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Logf("GET body: %v", err)
	}
	// ...while the in-flight call is allowed to finish.
	release <- struct{}{}
	r := await(t, callDone, "the in-flight call to finish")
	if !bytes.Contains(r.body, []byte("done")) {
		t.Fatalf("in-flight call: %d %s", r.status, r.body)
	}
	if err := await(t, served, "Serve to return"); err != nil {
		t.Fatalf("Serve: %v", err)
	}
}

func TestCompletion(t *testing.T) {
	env := newEnv(t, testConfig(), HandlerOptions{}, func(s *Server) {
		s.AddCompletion(mcp.RefPrompt, "p", "who", func(_ context.Context, _ *Call, v string, _ map[string]string) (mcp.Completion, error) {
			var out []string
			for i := range 150 {
				out = append(out, v+fmt.Sprint(i))
			}
			return mcp.Completion{Values: out}, nil
		})
	})
	sid := env.initialize(mcp.LatestVersion, nil)
	r := env.post(sid, `{"jsonrpc":"2.0","id":1,"method":"completion/complete","params":{"ref":{"type":"ref/prompt","name":"p"},"argument":{"name":"who","value":"a"}}}`)
	var res mcp.CompleteResult
	if err := json.Unmarshal(r.msg(t).Result, &res); err != nil {
		t.Fatal(err)
	}
	if len(res.Completion.Values) != 100 || !res.Completion.HasMore || *res.Completion.Total != 150 || res.Completion.Values[0] != "a0" {
		t.Fatalf("%s", r.body)
	}
	// No completer: an empty list, not null.
	r = env.post(sid, `{"jsonrpc":"2.0","id":1,"method":"completion/complete","params":{"ref":{"type":"ref/resource","uri":"x://{y}"},"argument":{"name":"y","value":""}}}`)
	if !strings.Contains(string(r.body), `"values":[]`) {
		t.Fatalf("%s", r.body)
	}
}

func TestResourceTemplates(t *testing.T) {
	env := newEnv(t, testConfig(), HandlerOptions{}, func(s *Server) {
		_ = s.AddResourceTemplate(mcp.ResourceTemplate{URITemplate: "test://item/{id}/data", Name: "item"},
			func(_ context.Context, _ *Call, uri string, vars map[string]string) (*mcp.ReadResourceResult, error) {
				return &mcp.ReadResourceResult{Contents: []mcp.ResourceContents{{URI: uri, Text: "item " + vars["id"]}}}, nil
			})
	})
	sid := env.initialize(mcp.LatestVersion, nil)
	r := env.post(sid, `{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"uri":"test://item/42/data"}}`)
	if !strings.Contains(string(r.body), `"text":"item 42"`) {
		t.Fatalf("%s", r.body)
	}
	r = env.post(sid, `{"jsonrpc":"2.0","id":1,"method":"resources/templates/list"}`)
	if !strings.Contains(string(r.body), `"uriTemplate":"test://item/{id}/data"`) {
		t.Fatalf("%s", r.body)
	}
	if r := env.post(sid, `{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"uri":"test://item/4/2/data"}}`); r.msg(t).Error == nil {
		t.Fatalf("a variable matched across segments: %s", r.body)
	}
}

// FuzzPost throws arbitrary bodies at a live session: no panic, a sane
// status, and a JSON body whenever there is one.
func FuzzPost(f *testing.F) {
	for _, s := range []string{
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"x"}}}`,
		`{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"cursor":"dG9vbHM6MQ"}}`,
		`{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":1}}`,
		`{"jsonrpc":"2.0","id":1,"result":{}}`,
		`[{"jsonrpc":"2.0","id":1,"method":"ping"}]`,
		`{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"uri":"test://r"}}`,
		`{"jsonrpc":"2.0","id":1,"method":"completion/complete","params":{"ref":{"type":"ref/prompt","name":"p"},"argument":{"name":"who","value":""}}}`,
		`{`, `null`, ``,
	} {
		f.Add([]byte(s))
	}
	srv := New(Options{})
	mustAddTool(f, srv, mcp.Tool{Name: "echo", InputSchema: json.RawMessage(`{"type":"object","properties":{"text":{"type":"string"}}}`)},
		func(_ context.Context, _ *Call, a json.RawMessage) (*mcp.CallToolResult, error) {
			return mcp.ToolText(string(a)), nil
		})
	cfg := testConfig()
	cfg.RequestTimeout = time.Second
	h := NewHandler(srv, cfg, HandlerOptions{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	defer h.Close()
	rec := newRecorder()
	h.ServeHTTP(rec, newPost(initBody(mcp.LatestVersion), ""))
	sid := rec.Header().Get("Mcp-Session-Id")
	f.Fuzz(func(t *testing.T, body []byte) {
		rec := newRecorder()
		h.ServeHTTP(rec, newPost(string(body), sid))
		switch rec.code {
		case 200, 202, 400, 404, 413:
		default:
			t.Fatalf("status %d for %q", rec.code, body)
		}
		if rec.body.Len() > 0 && rec.Header().Get("Content-Type") == "application/json" && !json.Valid(rec.body.Bytes()) {
			t.Fatalf("invalid JSON answer %q", rec.body.Bytes())
		}
	})
}

func newPost(body, sid string) *http.Request {
	r, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1/mcp", strings.NewReader(body))
	r.Host = "127.0.0.1"
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("Accept", "application/json, text/event-stream")
	if sid != "" {
		r.Header.Set("Mcp-Session-Id", sid)
	}
	return r
}

// recorder is a minimal ResponseWriter that supports flushing.
type recorder struct {
	hdr  http.Header
	code int
	body bytes.Buffer
}

func newRecorder() *recorder { return &recorder{hdr: http.Header{}} }

func (r *recorder) Header() http.Header { return r.hdr }
func (r *recorder) WriteHeader(c int) {
	if r.code == 0 {
		r.code = c
	}
}
func (r *recorder) Write(b []byte) (int, error) {
	if r.code == 0 {
		r.code = 200
	}
	return r.body.Write(b)
}
func (r *recorder) Flush() {}

func TestKeepAliveComments(t *testing.T) {
	cfg := testConfig()
	cfg.KeepAlive = 20 * time.Millisecond
	env := newEnv(t, cfg, HandlerOptions{}, nil)
	sid := env.initialize(mcp.LatestVersion, nil)
	ctx, cancel := context.WithTimeout(context.Background(), testWait)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, env.url, nil)
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Mcp-Session-Id", sid)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	buf := make([]byte, 4096)
	var got []byte
	deadline := time.Now().Add(5 * time.Second)
	for bytes.Count(got, []byte(": keep-alive\n\n")) < 3 && time.Now().Before(deadline) {
		n, err := resp.Body.Read(buf)
		got = append(got, buf[:n]...)
		if err != nil {
			t.Fatalf("%v after %q", err, got)
		}
	}
	if bytes.Count(got, []byte(": keep-alive\n\n")) < 3 {
		t.Fatalf("no keep-alive comments: %q", got)
	}
}
