package server

// In-process measurements of the tools/call path (`make bench`), and a
// concurrency test that runs under -race.
//
// What BenchmarkToolsCallGreet counts per op: one POST tools/call of greet
// through Handler.ServeHTTP into a reusable ResponseWriter, plus the little
// the harness does per request to look like net/http: a fresh cancelable
// request context (net/http makes one per request, and our handler hangs an
// AfterFunc on it) and a shallow copy of a template *http.Request
// (Request.WithContext). The "harness" sub-benchmark runs exactly that loop
// with a handler that only drains the body, so its allocs/op and B/op are
// the part of every other row that is not the handler's: subtract them. The
// "bare" sub-benchmark is test/bench/barehandler, the floor the loopback
// load generator compares against, in the same harness. Not counted: what
// net/http itself does per request on a real connection (reading and
// parsing the request, the response writer, bufio), which the loopback
// measurement (test/bench/loadgen) includes for both servers alike.
//
// BenchmarkToolsCallGreetStateless (and its Parallel variant) is the same
// measurement for a stateless request of revision 2026-07-28: no
// initialize and no session, the headers MCP-Protocol-Version, Mcp-Method
// and Mcp-Name on every POST, and params._meta naming the protocol
// version, the client's capabilities and the client. Every row, harness and
// bare included, gets those very bytes, so the Stateless rows set beside
// the session-era ones show what the era changes per call.

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"mcplambda/mcp"
	"mcplambda/test/bench/barehandler"
)

// benchNameSchema is greetings' input schema for greet (package greetings
// imports server, so it cannot be used from here: greet is registered
// inline, identically).
const benchNameSchema = `{"type":"object","properties":{"name":{"type":"string","description":"Name to greet","minLength":1,"maxLength":200}},"required":["name"],"additionalProperties":false}`

func benchGreet(_ context.Context, _ *Call, raw json.RawMessage) (*mcp.CallToolResult, error) {
	var a struct {
		Name string `json:"name"`
	}
	if err := json.Unmarshal(raw, &a); err != nil {
		return nil, err
	}
	return mcp.ToolText("Hello, " + a.Name + "!"), nil
}

func benchServer(tb testing.TB) *Server {
	tb.Helper()
	srv := New(Options{Info: mcp.Implementation{Name: "bench", Version: "1"}})
	readOnly := true
	if err := srv.AddTool(mcp.Tool{
		Name:        "greet",
		Title:       "Greet",
		Description: "A simple greeting tool: returns \"Hello, NAME!\".",
		InputSchema: json.RawMessage(benchNameSchema),
		Annotations: &mcp.ToolAnnotations{Title: "Greet", ReadOnlyHint: &readOnly},
	}, benchGreet); err != nil {
		tb.Fatal(err)
	}
	return srv
}

// newBenchHandler is the handler as cmd/mcp-server builds it (JSON logs),
// writing its logs to io.Discard.
func newBenchHandler(tb testing.TB, logRequests bool) *Handler {
	tb.Helper()
	cfg := DefaultConfig()
	cfg.LogRequests = logRequests
	log := slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: cfg.LogLevel}))
	h := NewHandler(benchServer(tb), cfg, HandlerOptions{Logger: log})
	tb.Cleanup(h.Close)
	return h
}

// benchWriter is a minimal reusable ResponseWriter.
type benchWriter struct {
	hdr    http.Header
	status int
	body   bytes.Buffer
}

func newBenchWriter() *benchWriter { return &benchWriter{hdr: http.Header{}} }

func (w *benchWriter) Header() http.Header { return w.hdr }

func (w *benchWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
}

func (w *benchWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.body.Write(p)
}

func (w *benchWriter) reset() {
	clear(w.hdr)
	w.status = 0
	w.body.Reset()
}

// benchBody is a rewindable request body.
type benchBody struct{ bytes.Reader }

func (*benchBody) Close() error { return nil }

const benchURL = "http://127.0.0.1:3000/mcp"

const benchInitBody = `{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"bench","version":"1"}}}`

func benchHeaders(h http.Header, session string) {
	h["Content-Type"] = []string{"application/json"}
	h["Accept"] = []string{"application/json, text/event-stream"}
	if session != "" {
		h["Mcp-Session-Id"] = []string{session}
		h["Mcp-Protocol-Version"] = []string{mcp.Version20251125}
	}
}

// benchModernMeta is the params._meta of a stateless (2026-07-28)
// request, spliced into params after the arguments.
const benchModernMeta = `,"_meta":{"` + mcp.MetaProtocolVersion + `":"` + mcp.Version20260728 + `","` +
	mcp.MetaClientCapabilities + `":{},"` + mcp.MetaClientInfo + `":{"name":"bench","version":"1"}}`

// benchStatelessHeaders are the headers of a stateless tools/call of greet:
// no session, the protocol version, and the method and tool name mirrored
// from the body.
func benchStatelessHeaders(h http.Header) {
	benchHeaders(h, "")
	h["Mcp-Protocol-Version"] = []string{mcp.Version20260728}
	h["Mcp-Method"] = []string{mcp.MethodToolsCall}
	h["Mcp-Name"] = []string{"greet"}
}

// benchInitialize starts a session through h and returns its id.
func benchInitialize(tb testing.TB, h http.Handler) string {
	tb.Helper()
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPost, benchURL, strings.NewReader(benchInitBody))
	benchHeaders(req.Header, "")
	h.ServeHTTP(rec, req)
	id := rec.Header().Get("Mcp-Session-Id")
	if rec.Code != http.StatusOK || id == "" {
		tb.Fatalf("initialize: %d %q: %s", rec.Code, id, rec.Body)
	}
	rec = httptest.NewRecorder()
	req = httptest.NewRequest(http.MethodPost, benchURL, strings.NewReader(`{"jsonrpc":"2.0","method":"notifications/initialized"}`))
	benchHeaders(req.Header, id)
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusAccepted {
		tb.Fatalf("notifications/initialized: %d: %s", rec.Code, rec.Body)
	}
	return id
}

// benchCaller makes tools/call requests of one session in the benchmark
// harness (see the top of the file for what it costs), or stateless
// requests that belong to no session.
type benchCaller struct {
	h       http.Handler
	tmpl    *http.Request
	base    context.Context
	body    benchBody
	buf     []byte
	w       *benchWriter
	next    int64
	want    []byte
	wantID  []byte
	checkID bool
	meta    string // benchModernMeta for a stateless caller, else ""
	// wantModern is what a stateless answer of our handler must hold (the
	// modern result shape), so that a request handled as session-era
	// cannot pass unnoticed; nil for the harness and bare.
	wantModern []byte
}

func newBenchCaller(h http.Handler, session, name string, checkID bool) *benchCaller {
	tmpl := httptest.NewRequest(http.MethodPost, benchURL, nil)
	benchHeaders(tmpl.Header, session)
	return &benchCaller{h: h, tmpl: tmpl, base: context.Background(), w: newBenchWriter(),
		want: []byte(`"text":"Hello, ` + name + `!"`), checkID: checkID}
}

// newStatelessBenchCaller makes stateless tools/call requests of greet;
// modern says h is our Handler, whose answers must be modern results.
func newStatelessBenchCaller(h http.Handler, name string, checkID, modern bool) *benchCaller {
	c := newBenchCaller(h, "", name, checkID)
	benchStatelessHeaders(c.tmpl.Header)
	c.meta = benchModernMeta
	if modern {
		c.wantModern = []byte(`"result":{"resultType":"complete",`)
	}
	return c
}

// call serves one tools/call and reports whether the answer is right.
func (c *benchCaller) call() bool {
	c.next++
	b := append(c.buf[:0], `{"jsonrpc":"2.0","id":`...)
	b = strconv.AppendInt(b, c.next, 10)
	b = append(b, `,"method":"tools/call","params":{"name":"greet","arguments":{"name":"`...)
	b = append(b, c.want[len(`"text":"Hello, `):len(c.want)-2]...)
	b = append(b, `"}`...)
	b = append(b, c.meta...)
	b = append(b, `}}`...)
	c.buf = b
	c.body.Reset(b)

	ctx, cancel := context.WithCancel(c.base)
	req := c.tmpl.WithContext(ctx)
	req.Body = &c.body
	req.ContentLength = int64(len(b))
	c.w.reset()
	c.h.ServeHTTP(c.w, req)
	cancel()

	out := c.w.body.Bytes()
	if c.w.status != http.StatusOK || !bytes.Contains(out, c.want) {
		return false
	}
	if c.wantModern != nil && !bytes.Contains(out, c.wantModern) {
		return false
	}
	if c.checkID {
		c.wantID = strconv.AppendInt(append(c.wantID[:0], `"id":`...), c.next, 10)
		return bytes.HasPrefix(out, []byte(`{"jsonrpc":"2.0",`)) && bytes.Contains(out, c.wantID)
	}
	return true
}

// benchDrainHandler is the harness's own cost: it reads the body and writes a
// fixed answer.
type benchDrainHandler struct{ answer []byte }

func (d benchDrainHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	w.Header()["Content-Type"] = hdrJSON
	_, _ = w.Write(d.answer)
}

type benchCase struct {
	name    string
	handler func(testing.TB) (http.Handler, bool) // the handler, and whether it is ours (it keeps sessions)
}

var benchCases = []benchCase{
	{"harness", func(testing.TB) (http.Handler, bool) {
		return benchDrainHandler{[]byte(`{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"Hello, bench!"}]}}`)}, false
	}},
	{"bare", func(testing.TB) (http.Handler, bool) { return barehandler.Handler{}, false }},
	{"LogRequests=false", func(tb testing.TB) (http.Handler, bool) { return newBenchHandler(tb, false), true }},
	{"LogRequests=true", func(tb testing.TB) (http.Handler, bool) { return newBenchHandler(tb, true), true }},
}

// benchNewCaller makes the caller of one benchmark client: a session-era
// session (initialized first on our handler), or a stateless client.
func benchNewCaller(tb testing.TB, bc benchCase, h http.Handler, ours, stateless bool, name string) *benchCaller {
	checkID := bc.name != "harness"
	if stateless {
		return newStatelessBenchCaller(h, name, checkID, ours)
	}
	id := ""
	if ours {
		id = benchInitialize(tb, h)
	}
	return newBenchCaller(h, id, name, checkID)
}

// benchSerial is one client calling greet, serially, for every benchCase.
func benchSerial(b *testing.B, stateless bool) {
	for _, bc := range benchCases {
		b.Run(bc.name, func(b *testing.B) {
			h, ours := bc.handler(b)
			c := benchNewCaller(b, bc, h, ours, stateless, "bench")
			if !c.call() {
				b.Fatalf("bad answer: %d %s", c.w.status, c.w.body.Bytes())
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if !c.call() {
					b.Fatalf("bad answer: %d %s", c.w.status, c.w.body.Bytes())
				}
			}
		})
	}
}

// benchParallel is 16 clients (at least: one per goroutine) calling greet
// concurrently, for every benchCase.
func benchParallel(b *testing.B, stateless bool) {
	const sessions = 16
	for _, bc := range benchCases {
		b.Run(bc.name, func(b *testing.B) {
			h, ours := bc.handler(b)
			procs := runtime.GOMAXPROCS(0)
			par := (sessions + procs - 1) / procs
			callers := make([]*benchCaller, par*procs)
			for i := range callers {
				name := "s" + strconv.Itoa(i)
				if bc.name == "harness" {
					name = "bench" // its answer is fixed
				}
				callers[i] = benchNewCaller(b, bc, h, ours, stateless, name)
			}
			var next atomic.Int32
			b.SetParallelism(par)
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				c := callers[int(next.Add(1)-1)%len(callers)]
				for pb.Next() {
					if !c.call() {
						b.Errorf("bad answer: %d %s", c.w.status, c.w.body.Bytes())
						return
					}
				}
			})
		})
	}
}

// BenchmarkToolsCallGreet is one session calling greet, serially.
func BenchmarkToolsCallGreet(b *testing.B) { benchSerial(b, false) }

// BenchmarkToolsCallGreetParallel is 16 sessions (at least: one per
// goroutine) calling greet concurrently.
func BenchmarkToolsCallGreetParallel(b *testing.B) { benchParallel(b, false) }

// BenchmarkToolsCallGreetStateless is one client calling greet serially
// with stateless (2026-07-28) requests: no initialize, no session.
func BenchmarkToolsCallGreetStateless(b *testing.B) { benchSerial(b, true) }

// BenchmarkToolsCallGreetStatelessParallel is 16 stateless clients (at
// least: one per goroutine) calling greet concurrently.
func BenchmarkToolsCallGreetStatelessParallel(b *testing.B) { benchParallel(b, true) }

// TestConcurrentSessionsNoLeak runs many sessions at once over real
// loopback HTTP, then ends them and checks that nothing is left behind:
// no session, no goroutine. test/bench/loadgen -concurrency-test runs the
// full-scale version (1,000 sessions) against the built binary.
func TestConcurrentSessionsNoLeak(t *testing.T) {
	sessions, calls := 50, 20
	if testing.Short() {
		sessions = 10
	}
	cfg := DefaultConfig()
	cfg.LogRequests = false
	h := NewHandler(benchServer(t), cfg, HandlerOptions{Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))})
	t.Cleanup(h.Close)
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	baseline := runtime.NumGoroutine()

	type client struct {
		tr *http.Transport
		hc *http.Client
		id string
	}
	post := func(c *client, body string) (*http.Response, []byte, error) {
		req, err := http.NewRequest(http.MethodPost, ts.URL, strings.NewReader(body))
		if err != nil {
			return nil, nil, err
		}
		benchHeaders(req.Header, c.id)
		resp, err := c.hc.Do(req)
		if err != nil {
			return nil, nil, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp, b, err
	}
	clients := make([]*client, sessions)
	var errs atomic.Int64
	fail := func(format string, args ...any) {
		if errs.Add(1) <= 10 {
			t.Errorf(format, args...)
		}
	}
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range clients {
		tr := &http.Transport{MaxIdleConnsPerHost: 1}
		c := &client{tr: tr, hc: &http.Client{Transport: tr, Timeout: 30 * time.Second}}
		clients[i] = c
		wg.Go(func() {
			<-start
			resp, body, err := post(c, benchInitBody)
			if err != nil || resp.StatusCode != http.StatusOK || resp.Header.Get("Mcp-Session-Id") == "" {
				fail("session %d: initialize: %v %v %s", i, err, resp, body)
				return
			}
			c.id = resp.Header.Get("Mcp-Session-Id")
			if resp, body, err := post(c, `{"jsonrpc":"2.0","method":"notifications/initialized"}`); err != nil || resp.StatusCode != http.StatusAccepted {
				fail("session %d: notifications/initialized: %v %v %s", i, err, resp, body)
			}
			name := "s" + strconv.Itoa(i)
			want := `"result":{"content":[{"type":"text","text":"Hello, ` + name + `!"}]}`
			for n := 1; n <= calls; n++ {
				id := strconv.Itoa(n)
				resp, body, err := post(c, `{"jsonrpc":"2.0","id":`+id+`,"method":"tools/call","params":{"name":"greet","arguments":{"name":"`+name+`"}}}`)
				if err != nil || resp.StatusCode != http.StatusOK || !strings.Contains(string(body), want) || !strings.Contains(string(body), `"id":`+id+`,`) {
					fail("session %d call %d: %v %v %s", i, n, err, resp, body)
				}
			}
		})
	}
	close(start)
	wg.Wait()
	if got := h.sessions.count(); got != sessions {
		t.Errorf("sessions.count() = %d while the sessions are open, want %d", got, sessions)
	}

	// End every session; a later request on one of them must find it gone.
	for i, c := range clients {
		wg.Go(func() {
			if c.id == "" {
				return
			}
			req, _ := http.NewRequest(http.MethodDelete, ts.URL, nil)
			benchHeaders(req.Header, c.id)
			resp, err := c.hc.Do(req)
			if err != nil {
				fail("session %d: DELETE: %v", i, err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				fail("session %d: DELETE: status %d", i, resp.StatusCode)
			}
		})
	}
	wg.Wait()
	if c := clients[0]; c.id != "" {
		resp, body, err := post(c, `{"jsonrpc":"2.0","id":99,"method":"tools/call","params":{"name":"greet","arguments":{"name":"x"}}}`)
		if err != nil || resp.StatusCode != http.StatusNotFound {
			t.Errorf("tools/call after DELETE: %v %v %s, want 404", err, resp, body)
		}
	}
	for _, c := range clients {
		c.tr.CloseIdleConnections()
	}
	if got := h.sessions.count(); got != 0 {
		t.Errorf("sessions.count() = %d after every session ended, want 0", got)
	}
	if ms, ok := h.sessions.store.(*MemoryStore); ok && ms.Len() != 0 {
		t.Errorf("the store still holds %d sessions", ms.Len())
	}

	// Every connection's goroutines (server and client side) must be gone.
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > baseline && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > baseline {
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		t.Errorf("%d goroutines remain, %d before the sessions began:\n%s", n, baseline, buf)
	}
	if t.Failed() {
		t.Logf("%d errors in all", errs.Load())
	}
}

// toolsCallAllocBudget is the published target (docs/performance.md): at
// most 60 allocations per tools/call, in-process, less the harness's own.
const toolsCallAllocBudget = 60

// TestToolsCallAllocs holds tools/call of greet, in both eras and with and
// without the access log, to the allocation budget. It counts what
// BenchmarkToolsCallGreet reports as allocs/op, so `make bench` shows the
// figure this guards.
func TestToolsCallAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates on its own; make test runs this test without -race")
	}
	harness := benchCases[0]
	if harness.name != "harness" {
		t.Fatalf("benchCases[0] is %q, want the harness", harness.name)
	}
	for _, stateless := range []bool{false, true} {
		era := "session era"
		if stateless {
			era = "stateless"
		}
		perCall := func(bc benchCase) float64 {
			h, ours := bc.handler(t)
			c := benchNewCaller(t, bc, h, ours, stateless, "bench")
			n := testing.AllocsPerRun(200, func() {
				if !c.call() {
					t.Fatalf("%s, %s: bad answer: %d %s", era, bc.name, c.w.status, c.w.body.Bytes())
				}
			})
			return n
		}
		base := perCall(harness)
		for _, bc := range benchCases {
			if !strings.HasPrefix(bc.name, "LogRequests=") {
				continue
			}
			if n := perCall(bc) - base; n > toolsCallAllocBudget {
				t.Errorf("%s, %s: %.0f allocations per tools/call (less the harness's %.0f), budget %d", era, bc.name, n, base, toolsCallAllocBudget)
			} else {
				t.Logf("%s, %s: %.0f allocations per tools/call (less the harness's %.0f)", era, bc.name, n, base)
			}
		}
	}
}
