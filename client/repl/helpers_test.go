package repl

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"mcplambda/bedrock"
	"mcplambda/bedrock/sample"
	"mcplambda/greetings"
	"mcplambda/mcp"
	"mcplambda/server"
)

// wait bounds every wait: the CI machine is slow, and nothing here asserts
// on timing.
const wait = 30 * time.Second

// testServer is the real MCP server (greetings and the Bedrock report on
// its embedded sample) on httptest.
type testServer struct {
	srv   *server.Server
	h     *server.Handler
	ts    *httptest.Server
	store *server.MemoryStore
	url   string

	mu      sync.Mutex
	deletes int    // DELETE requests answered 2xx
	authz   string // the last Authorization header received
}

func newTestServer(t *testing.T, register func(*server.Server)) *testServer {
	t.Helper()
	srv := server.New(server.Options{Info: mcp.Implementation{Name: "test-server", Version: "1.2.3"}})
	if err := greetings.Register(srv, greetings.Options{Interval: 20 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	if err := bedrock.RegisterTool(srv, bedrock.ToolConfig{
		Source: bedrock.SourceSample, Sample: sample.Source(), SampleEnd: sample.End,
	}); err != nil {
		t.Fatal(err)
	}
	if register != nil {
		register(srv)
	}
	cfg := server.DefaultConfig()
	cfg.LogRequests = false
	cfg.SSERetry = 10 * time.Millisecond
	store := server.NewMemoryStore(time.Hour, 100)
	h := server.NewHandler(srv, cfg, server.HandlerOptions{Store: store, Logger: slog.New(slog.DiscardHandler)})
	s := &testServer{srv: srv, h: h, store: store}
	mux := server.NewMux(cfg, h)
	s.ts = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		s.mu.Lock()
		s.authz = req.Header.Get("Authorization")
		s.mu.Unlock()
		rec := &statusRecorder{ResponseWriter: w}
		mux.ServeHTTP(rec, req)
		if req.Method == http.MethodDelete && rec.status/100 == 2 {
			s.mu.Lock()
			s.deletes++
			s.mu.Unlock()
		}
	}))
	t.Cleanup(func() { s.ts.Close(); h.Close() })
	s.url = s.ts.URL + cfg.Path
	return s
}

func (s *testServer) deleteCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.deletes
}

func (s *testServer) lastAuthorization() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.authz
}

// sessionAlive asks the server directly whether a session id still works.
func (s *testServer) sessionAlive(t *testing.T, id string) bool {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.url, strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"ping"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("Mcp-Session-Id", id)
	req.Header.Set("MCP-Protocol-Version", mcp.LatestVersion)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
		return true
	case http.StatusNotFound:
		return false
	}
	t.Fatalf("ping with session %s: HTTP %d", id, resp.StatusCode)
	return false
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// Flush keeps SSE streaming through the recorder.
func (r *statusRecorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// buffer is an output both the REPL's goroutines and the test use, with a
// way to wait for text to appear.
type buffer struct {
	mu      sync.Mutex
	b       bytes.Buffer
	changed chan struct{}
}

func newBuffer() *buffer { return &buffer{changed: make(chan struct{}, 1)} }

func (b *buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	n, err := b.b.Write(p)
	select {
	case b.changed <- struct{}{}:
	default:
	}
	return n, err
}

func (b *buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// waitFor waits until s appears in the buffer.
func (b *buffer) waitFor(t *testing.T, s string) {
	t.Helper()
	b.waitForCount(t, s, 1)
}

// waitForCount waits until s appears n times in the buffer.
func (b *buffer) waitForCount(t *testing.T, s string, n int) {
	t.Helper()
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	for strings.Count(b.String(), s) < n {
		select {
		case <-b.changed:
		case <-deadline.C:
			t.Fatalf("%q did not appear; got:\n%s", s, b.String())
		}
	}
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*wait)
	t.Cleanup(cancel)
	return ctx
}

// harness is a REPL under test with its outputs.
type harness struct {
	r        *REPL
	out, err *buffer
}

func newHarness(t *testing.T, s *testServer, in io.Reader, mod func(*Options)) *harness {
	t.Helper()
	h := &harness{out: newBuffer(), err: newBuffer()}
	url := DefaultServerURL
	if s != nil {
		url = s.url
	}
	opts := Options{
		In: in, Out: h.out, Err: h.err,
		// The session era unless mod says otherwise: most tests here are
		// about it (sessions, the GET stream, cancellation); era_test.go
		// runs the key commands in both eras.
		Config: Config{ServerURL: url, AuthMethod: AuthAuto, Timeout: wait, OutputDir: t.TempDir(),
			ProtocolVersion: mcp.LatestVersion},
	}
	if mod != nil {
		mod(&opts)
	}
	h.r = New(opts)
	return h
}

// runScript runs input through a non-interactive REPL.
func runScript(t *testing.T, s *testServer, input string, mod func(*Options)) (out, errOut string, err error) {
	t.Helper()
	h := newHarness(t, s, strings.NewReader(input), mod)
	err = h.r.Run(testContext(t))
	return h.out.String(), h.err.String(), err
}

// asyncRun runs the REPL in the background on a pipe the test writes to.
type asyncRun struct {
	*harness
	w    *io.PipeWriter
	done chan error
	sigs chan os.Signal
}

func startAsync(t *testing.T, s *testServer, mod func(*Options)) *asyncRun {
	t.Helper()
	pr, pw := io.Pipe()
	sigs := make(chan os.Signal, 4)
	h := newHarness(t, s, pr, func(o *Options) {
		o.Interrupts = sigs
		if mod != nil {
			mod(o)
		}
	})
	a := &asyncRun{harness: h, w: pw, done: make(chan error, 1), sigs: sigs}
	go func() { a.done <- h.r.Run(testContext(t)) }()
	t.Cleanup(func() {
		pw.Close()
		select {
		case <-a.done:
		case <-time.After(wait):
			t.Error("the REPL did not stop")
		}
	})
	return a
}

func (a *asyncRun) send(t *testing.T, line string) {
	t.Helper()
	if _, err := io.WriteString(a.w, line+"\n"); err != nil {
		t.Fatal(err)
	}
}

// finish ends the input and returns what Run returned.
func (a *asyncRun) finish(t *testing.T) error {
	t.Helper()
	a.w.Close()
	select {
	case err := <-a.done:
		a.done <- err // for the cleanup
		return err
	case <-time.After(wait):
		t.Fatal("the REPL did not stop at the end of its input")
		return nil
	}
}

func assertContains(t *testing.T, what, got string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("%s lacks %q; got:\n%s", what, w, got)
		}
	}
}

func assertLacks(t *testing.T, what, got string, bad ...string) {
	t.Helper()
	for _, b := range bad {
		if strings.Contains(got, b) {
			t.Errorf("%s has %q; got:\n%s", what, b, got)
		}
	}
}

// addTool registers a tool a test knows to be valid (the register
// callbacks of newTestServer have no *testing.T; a panic fails the test).
func addTool(srv *server.Server, tool mcp.Tool, h server.ToolHandler) {
	if err := srv.AddTool(tool, h); err != nil {
		panic(err)
	}
}
