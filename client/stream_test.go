package client

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"mcplambda/greetings"
	"mcplambda/mcp"
	"mcplambda/server"
)

// streamEvents reports OnStandaloneStream calls on channels.
type streamEvents struct {
	opened chan struct{}
	ended  chan error
}

func newStreamEvents() *streamEvents {
	return &streamEvents{opened: make(chan struct{}, 100), ended: make(chan error, 1)}
}

func (e *streamEvents) note(open bool, err error) {
	if open {
		e.opened <- struct{}{}
		return
	}
	e.ended <- err
}

func receive[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	ctx := testContext(t)
	select {
	case v := <-ch:
		return v
	case <-ctx.Done():
		t.Fatalf("timed out waiting for %s", what)
	}
	panic("unreachable")
}

// The GET stream delivers what the server sends outside any request.
func TestStandaloneStream(t *testing.T) {
	checkGoroutines(t)
	s := newTestServer(t, nil)
	rec, ev := newRecorder(), newStreamEvents()
	c := connect(t, Options{URL: s.url, ProtocolVersion: mcp.LatestVersion, OpenStandaloneStream: true, OnNotification: rec.note, OnStandaloneStream: ev.note})
	receive(t, ev.opened, "the GET stream")

	if err := c.Subscribe(testContext(t), greetings.ResourceURI); err != nil {
		t.Fatal(err)
	}
	mustAddTool(t, s.srv, mcp.Tool{Name: "late", InputSchema: objectSchema}, func(context.Context, *server.Call, json.RawMessage) (*mcp.CallToolResult, error) {
		return mcp.ToolText("late"), nil
	})
	rec.waitFor(t, mcp.NotificationToolsListChanged)
	s.srv.NotifyResourceUpdated(greetings.ResourceURI)
	rec.waitFor(t, mcp.NotificationResourcesUpdated+` {"uri":"`+greetings.ResourceURI+`"}`)
	s.srv.Log(mcp.LevelWarning, "srv", "hello everyone")
	rec.waitFor(t, `"hello everyone"`)

	sid := c.SessionID()
	for _, r := range s.proxy.requests() {
		if r.verb == http.MethodGet && r.session != sid {
			t.Errorf("GET with session %q, want %q", r.session, sid)
		}
	}
}

// A server without a GET stream answers 405: the client stops trying, says
// so, and works on.
func TestStandaloneStreamNotOffered(t *testing.T) {
	checkGoroutines(t)
	s := newTestServer(t, nil)
	s.proxy.answerVerb(http.MethodGet, http.StatusMethodNotAllowed)
	ev := newStreamEvents()
	c := connect(t, Options{URL: s.url, ProtocolVersion: mcp.LatestVersion, OpenStandaloneStream: true, OnStandaloneStream: ev.note})
	if err := receive(t, ev.ended, "the end of the GET stream"); err != nil {
		t.Errorf("405 reported as %v, want nil", err)
	}
	if err := c.Ping(testContext(t)); err != nil {
		t.Fatal(err)
	}
	if n := s.proxy.count(http.MethodGet, ""); n != 1 {
		t.Errorf("%d GETs after a 405, want 1", n)
	}
}

// A dropped GET stream is reopened with Last-Event-ID, and what the server
// sent meanwhile is replayed.
func TestStandaloneStreamReconnects(t *testing.T) {
	checkGoroutines(t)
	s := newTestServer(t, nil)
	rec, ev := newRecorder(), newStreamEvents()
	connect(t, Options{URL: s.url, ProtocolVersion: mcp.LatestVersion, OpenStandaloneStream: true, OnNotification: rec.note, OnStandaloneStream: ev.note})
	receive(t, ev.opened, "the GET stream")

	arrived, release := make(chan string, 1), make(chan struct{})
	s.proxy.setHook(func(w http.ResponseWriter, r *http.Request, _ []byte) bool {
		if r.Method == http.MethodGet {
			arrived <- r.Header.Get("Last-Event-ID")
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}
		return false
	})
	s.ts.CloseClientConnections()
	last := receive(t, arrived, "the reconnection")
	if last == "" {
		t.Fatal("reconnected without Last-Event-ID")
	}
	// Sent while no connection is attached: kept for the replay.
	mustAddTool(t, s.srv, mcp.Tool{Name: "late", InputSchema: objectSchema}, func(context.Context, *server.Call, json.RawMessage) (*mcp.CallToolResult, error) {
		return mcp.ToolText("late"), nil
	})
	s.proxy.setHook(nil)
	close(release)
	rec.waitFor(t, mcp.NotificationToolsListChanged)
	receive(t, ev.opened, "the reopened GET stream")
}

// The real server's POST stream cut mid-call: the client resumes it with
// GET + Last-Event-ID and gets every notification once, then the result.
func TestPostStreamResumes(t *testing.T) {
	checkGoroutines(t)
	s := newTestServer(t, nil)
	var once sync.Once
	rec := newRecorder()
	c := connect(t, Options{URL: s.url, ProtocolVersion: mcp.LatestVersion, OnNotification: func(method string, params json.RawMessage) {
		rec.note(method, params)
		once.Do(s.ts.CloseClientConnections)
	}})
	res, err := c.CallTool(testContext(t), "multi-greet", map[string]string{"name": "Ada"})
	if err != nil || text(res) != "Good morning, Ada!" {
		t.Fatalf("%+v %v", res, err)
	}
	var logs []string
	for _, n := range rec.all() {
		if strings.HasPrefix(n, mcp.NotificationMessage) {
			logs = append(logs, n)
		}
	}
	if len(logs) != 3 || !strings.Contains(logs[0], "Starting") || !strings.Contains(logs[2], "second") {
		t.Errorf("log notifications %q, want the three in order, once each", logs)
	}
	resumed := false
	for _, r := range s.proxy.requests() {
		if r.verb == http.MethodGet && r.lastEventID != "" {
			resumed = true
		}
	}
	if !resumed {
		t.Error("no GET with Last-Event-ID")
	}
}

func sse(w http.ResponseWriter, events ...mcp.Event) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	sseMore(w, events...)
}

// sseMore writes further events on a stream sse started.
func sseMore(w http.ResponseWriter, events ...mcp.Event) {
	for _, e := range events {
		b, _ := mcp.AppendEvent(nil, e)
		_, _ = w.Write(b)
	}
	http.NewResponseController(w).Flush()
}

func hijackClose(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err == nil {
		conn.Close()
	}
}

func requestID(body []byte) string {
	var m struct{ ID json.RawMessage }
	_ = json.Unmarshal(body, &m)
	return string(m.ID)
}

// Stream endings the server controls, from polling (close after the
// priming event, answer on the resumed GET) to a server that vanishes.
func TestPostStreamEndings(t *testing.T) {
	note := []byte(`{"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","data":"working"}}`)
	tests := []struct {
		name    string
		post    func(w http.ResponseWriter, id string)
		get     func(w http.ResponseWriter, lastID, id string)
		want    string // result text, or the error's substring
		wantErr bool
		gets    int // GETs with Last-Event-ID
	}{
		{
			name: "polling: priming, close, answer on GET",
			post: func(w http.ResponseWriter, _ string) { sse(w, mcp.Event{ID: "s7-0", Retry: 5, Data: []byte{}}) },
			get: func(w http.ResponseWriter, lastID, id string) {
				if lastID != "s7-0" {
					w.WriteHeader(http.StatusBadRequest)
					return
				}
				sse(w, mcp.Event{ID: "s7-1", Data: note},
					mcp.Event{ID: "s7-2", Data: fmt.Appendf(nil, `{"jsonrpc":"2.0","id":%s,"result":{"content":[{"type":"text","text":"polled"}]}}`, id)})
			},
			want: "polled", gets: 1,
		},
		{
			name: "stream without ids cannot be resumed",
			post: func(w http.ResponseWriter, _ string) { sse(w, mcp.Event{Data: note}) },
			want: "cannot be resumed", wantErr: true,
		},
		{
			name:    "server vanishes before answering",
			post:    func(w http.ResponseWriter, _ string) { hijackClose(w) },
			want:    "tools/call", // the transport's error, named after the request
			wantErr: true,
		},
		{
			name: "server vanishes after priming",
			post: func(w http.ResponseWriter, _ string) {
				sse(w, mcp.Event{ID: "s8-0", Retry: 1, Data: []byte{}})
				hijackClose(w)
			},
			get:  func(w http.ResponseWriter, _, _ string) { hijackClose(w) },
			want: "attempts to resume it failed", wantErr: true, gets: maxResumeAttempts,
		},
		{
			name: "resumption retried after a 503",
			post: func(w http.ResponseWriter, _ string) { sse(w, mcp.Event{ID: "s6-0", Retry: 1, Data: []byte{}}) },
			get: func() func(w http.ResponseWriter, lastID, id string) {
				var mu sync.Mutex
				n := 0
				return func(w http.ResponseWriter, lastID, id string) {
					mu.Lock()
					n++
					first := n == 1
					mu.Unlock()
					if first {
						w.WriteHeader(http.StatusServiceUnavailable)
						return
					}
					sse(w, mcp.Event{ID: "s6-1", Data: fmt.Appendf(nil, `{"jsonrpc":"2.0","id":%s,"result":{"content":[{"type":"text","text":"second try"}]}}`, id)})
				}
			}(),
			want: "second try", gets: 2,
		},
		{
			name: "resumption refused",
			post: func(w http.ResponseWriter, _ string) { sse(w, mcp.Event{ID: "s9-0", Retry: 1, Data: []byte{}}) },
			get: func(w http.ResponseWriter, _, _ string) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusBadRequest)
				_, _ = w.Write([]byte(`{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"unknown stream"}}`))
			},
			want: "cannot resume the response stream: HTTP 400: unknown stream", wantErr: true, gets: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkGoroutines(t)
			s := newTestServer(t, nil)
			var mu sync.Mutex
			var callID string
			s.proxy.setHook(func(w http.ResponseWriter, r *http.Request, body []byte) bool {
				switch {
				case r.Method == http.MethodPost && strings.Contains(string(body), `"tools/call"`):
					mu.Lock()
					callID = requestID(body)
					mu.Unlock()
					tt.post(w, callID)
					return true
				case r.Method == http.MethodGet && r.Header.Get("Last-Event-ID") != "" && tt.get != nil:
					mu.Lock()
					id := callID
					mu.Unlock()
					tt.get(w, r.Header.Get("Last-Event-ID"), id)
					return true
				}
				return false
			})
			rec := newRecorder()
			c := connect(t, Options{URL: s.url, ProtocolVersion: mcp.LatestVersion, OnNotification: rec.note})
			res, err := c.CallTool(testContext(t), "greet", map[string]string{"name": "x"})
			if tt.wantErr {
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("error %v, want one with %q", err, tt.want)
				}
			} else if err != nil || text(res) != tt.want {
				t.Fatalf("%+v %v, want %q", res, err, tt.want)
			}
			gets := 0
			for _, r := range s.proxy.requests() {
				if r.verb == http.MethodGet && r.lastEventID != "" {
					gets++
				}
			}
			if gets != tt.gets {
				t.Errorf("%d resuming GETs, want %d", gets, tt.gets)
			}
		})
	}
}

// A server that goes away for good: the GET loop stops after its attempts
// and says why.
func TestStandaloneStreamGivesUp(t *testing.T) {
	checkGoroutines(t)
	s := newTestServer(t, nil)
	ev := newStreamEvents()
	c := connect(t, Options{URL: s.url, ProtocolVersion: mcp.LatestVersion, OpenStandaloneStream: true, OnStandaloneStream: ev.note})
	receive(t, ev.opened, "the GET stream")
	s.proxy.setHook(func(w http.ResponseWriter, r *http.Request, _ []byte) bool {
		if r.Method != http.MethodGet {
			return false
		}
		hijackClose(w)
		return true
	})
	s.ts.CloseClientConnections()
	err := receive(t, ev.ended, "the GET loop to give up")
	if err == nil || !strings.Contains(err.Error(), "reconnections failed") {
		t.Fatalf("gave up with %v", err)
	}
	if n := s.proxy.count(http.MethodGet, ""); n != 1+maxResumeAttempts {
		t.Errorf("%d GETs, want %d", n, 1+maxResumeAttempts)
	}
	// Requests still work: only the background stream is gone.
	if err := c.Ping(testContext(t)); err != nil {
		t.Fatal(err)
	}
}

func TestRetryHint(t *testing.T) {
	tests := []struct {
		ms   int
		want time.Duration
	}{
		{0, defaultRetry},
		{-5, defaultRetry},
		{5, 5 * time.Millisecond},
		{2500, 2500 * time.Millisecond},
		{1 << 30, maxRetry},
	}
	for _, tt := range tests {
		cur := streamCursor{retry: defaultRetry}
		cur.setRetry(tt.ms)
		if cur.retry != tt.want {
			t.Errorf("retry %d ms: %v, want %v", tt.ms, cur.retry, tt.want)
		}
	}
}

// A server that accepts the GET stream and closes it again and again is
// followed (polling), not given up on.
func TestStandaloneStreamPolls(t *testing.T) {
	checkGoroutines(t)
	s := newTestServer(t, nil)
	const polls = 3 * maxResumeAttempts
	gets := make(chan struct{}, polls+100)
	s.proxy.setHook(func(w http.ResponseWriter, r *http.Request, _ []byte) bool {
		if r.Method != http.MethodGet {
			return false
		}
		sse(w, mcp.Event{ID: "p-0", Retry: 1, Data: []byte{}})
		gets <- struct{}{}
		return true
	})
	ev := newStreamEvents()
	c := connect(t, Options{URL: s.url, ProtocolVersion: mcp.LatestVersion, OpenStandaloneStream: true, OnStandaloneStream: ev.note})
	for range polls {
		receive(t, gets, "a poll")
	}
	c.Disconnect()
	select {
	case err := <-ev.ended:
		t.Errorf("gave up polling: %v", err)
	default:
	}
}

// A request from the server on the GET stream is answered with a POST.
func TestRequestOnStandaloneStream(t *testing.T) {
	checkGoroutines(t)
	s := newTestServer(t, nil)
	answered := make(chan string, 1)
	s.proxy.setHook(func(w http.ResponseWriter, r *http.Request, body []byte) bool {
		switch {
		case r.Method == http.MethodGet:
			sse(w, mcp.Event{ID: "g-1", Data: []byte(`{"jsonrpc":"2.0","id":"srv-1","method":"roots/list"}`)})
			<-r.Context().Done()
			return true
		case strings.Contains(string(body), `"srv-1"`):
			answered <- string(body)
			w.WriteHeader(http.StatusAccepted)
			return true
		}
		return false
	})
	connect(t, Options{URL: s.url, ProtocolVersion: mcp.LatestVersion, OpenStandaloneStream: true,
		Roots: func(context.Context) ([]mcp.Root, error) { return []mcp.Root{{URI: "file:///r", Name: "r"}}, nil }})
	got := receive(t, answered, "the answer")
	if want := `{"jsonrpc":"2.0","id":"srv-1","result":{"roots":[{"uri":"file:///r","name":"r"}]}}`; got != want {
		t.Errorf("answer %s, want %s", got, want)
	}
}

// A GET stream that goes silent, or a GET the server never answers, is
// given up after StreamIdleTimeout and reopened, with Last-Event-ID when
// the server gave one.
func TestStandaloneStreamIdle(t *testing.T) {
	tests := []struct {
		name     string
		first    func(w http.ResponseWriter) // answers the first GET, before it stalls
		wantLast string
	}{
		{name: "silent after the priming event", first: func(w http.ResponseWriter) {
			sse(w, mcp.Event{ID: "p-1", Data: []byte{}})
		}, wantLast: "p-1"},
		{name: "no answer to the GET", first: func(http.ResponseWriter) {}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkGoroutines(t)
			s := newTestServer(t, nil)
			gets := make(chan string, 100)
			var n atomic.Int32
			s.proxy.setHook(func(w http.ResponseWriter, r *http.Request, _ []byte) bool {
				if r.Method != http.MethodGet {
					return false
				}
				if n.Add(1) > 1 {
					gets <- r.Header.Get("Last-Event-ID")
					return false
				}
				tt.first(w)
				<-r.Context().Done()
				return true
			})
			connect(t, Options{URL: s.url, ProtocolVersion: mcp.LatestVersion, OpenStandaloneStream: true, StreamIdleTimeout: 300 * time.Millisecond})
			if got := receive(t, gets, "the reconnection of the stalled GET stream"); got != tt.wantLast {
				t.Errorf("reconnected with Last-Event-ID %q, want %q", got, tt.wantLast)
			}
		})
	}
}
