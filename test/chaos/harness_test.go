package chaos

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"mcplambda/mcp"
	"mcplambda/test/testproc"
)

// settings are the figures of a run: the smoke defaults, the full ones with
// MCP_CHAOS=1, each overridable by its CHAOS_* variable.
type settings struct {
	full       bool
	sessions   int           // CHAOS_SESSIONS: concurrent sessions of the load test
	principals int           // CHAOS_PRINCIPALS: API keys the sessions are spread over
	duration   time.Duration // CHAOS_DURATION: how long sessions keep starting
	outage     time.Duration // CHAOS_OUTAGE: length of each store fault
	settle     time.Duration // CHAOS_SETTLE: wait after the load before the final RSS
	serverBin  string        // CHAOS_SERVER_BIN: the server to run; built when empty
	serverEnv  []string      // CHAOS_SERVER_ENV: KEY=VALUE pairs, space-separated, for the server
	report     string        // CHAOS_REPORT: a file the tables are appended to
}

func loadSettings(t *testing.T) settings {
	t.Helper()
	s := settings{sessions: 50, principals: 8, duration: 5 * time.Second, outage: 2 * time.Second, settle: 3 * time.Second}
	if os.Getenv("MCP_CHAOS") == "1" {
		s = settings{full: true, sessions: 1000, principals: 16, duration: 60 * time.Second, outage: 10 * time.Second, settle: 10 * time.Second}
	}
	intVar := func(name string, dst *int, min int) {
		if v := strings.TrimSpace(os.Getenv(name)); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < min {
				t.Fatalf("%s=%q: want a whole number of at least %d", name, v, min)
			}
			*dst = n
		}
	}
	durVar := func(name string, dst *time.Duration) {
		if v := strings.TrimSpace(os.Getenv(name)); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				t.Fatalf("%s=%q: want a positive Go duration such as 60s", name, v)
			}
			*dst = d
		}
	}
	intVar("CHAOS_SESSIONS", &s.sessions, 1)
	intVar("CHAOS_PRINCIPALS", &s.principals, 2)
	durVar("CHAOS_DURATION", &s.duration)
	durVar("CHAOS_OUTAGE", &s.outage)
	durVar("CHAOS_SETTLE", &s.settle)
	s.serverBin = os.Getenv("CHAOS_SERVER_BIN")
	for _, kv := range strings.Fields(os.Getenv("CHAOS_SERVER_ENV")) {
		if k, _, ok := strings.Cut(kv, "="); !ok || k == "" {
			t.Fatalf("CHAOS_SERVER_ENV: %q is not KEY=VALUE (give space-separated KEY=VALUE pairs)", kv)
		}
		s.serverEnv = append(s.serverEnv, kv)
	}
	s.report = os.Getenv("CHAOS_REPORT")
	return s
}

// serverBinary is CHAOS_SERVER_BIN, or the server built (as shipped: no
// race detector, which would change the memory and latency measured).
func serverBinary(t *testing.T, s settings) string {
	t.Helper()
	root := testproc.RepoRoot(t)
	if s.serverBin != "" {
		bin := s.serverBin
		if !filepath.IsAbs(bin) {
			bin = filepath.Join(root, bin)
		}
		if _, err := os.Stat(bin); err != nil {
			t.Fatalf("CHAOS_SERVER_BIN: %v (run make build first)", err)
		}
		return bin
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to build the server: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "mcp-server")
	cmd := exec.CommandContext(t.Context(), goBin, "build", "-o", bin, "./cmd/mcp-server")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/mcp-server: %v\n%s", err, out)
	}
	return bin
}

// principal is one API key and the principal key the server derives from
// it (Principal.Key of an API key: no issuer, "apikey:" and a hash prefix,
// no client), which is what the session store records as the owner.
type principal struct {
	key   string
	owner string
}

func newPrincipals(n int) []principal {
	ps := make([]principal, n)
	for i := range ps {
		key := "chaos-" + strconv.Itoa(i) + "-" + rand.Text()
		sum := sha256.Sum256([]byte(key))
		ps[i] = principal{key: key, owner: "\x00apikey:" + hex.EncodeToString(sum[:6]) + "\x00"}
	}
	return ps
}

func keyHashes(ps []principal) string {
	hs := make([]string, len(ps))
	for i, p := range ps {
		sum := sha256.Sum256([]byte(p.key))
		hs[i] = hex.EncodeToString(sum[:])
	}
	return strings.Join(hs, ",")
}

// startServer runs bin on a free loopback port with API-key authentication
// for ps, then env, then CHAOS_SERVER_ENV (later values win).
func startServer(t *testing.T, s settings, bin string, ps []principal, env ...string) (*testproc.Process, string) {
	t.Helper()
	port := testproc.FreePort(t)
	full := []string{
		"HOST=127.0.0.1", "PORT=" + strconv.Itoa(port), "AUTH_METHOD=lambda", "API_KEY_SHA256=" + keyHashes(ps),
		"LOG_REQUESTS=false", "LOG_LEVEL=warn",
	}
	full = append(append(full, env...), s.serverEnv...)
	// No AWS setting of the caller's reaches the server: only those given.
	unset := testproc.ServerEnv()
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "AWS_") {
			unset = append(unset, k)
		}
	}
	p := testproc.Start(t, bin, testproc.Options{Name: "server", Unset: unset, Env: full})
	p.WaitListening(t, "127.0.0.1:"+strconv.Itoa(port), 30*time.Second)
	return p, "http://127.0.0.1:" + strconv.Itoa(port) + "/mcp"
}

// procStats are what /proc says of the server.
type procStats struct {
	rssKiB, hwmKiB int64
	threads        int64
	fds            int
}

func readProc(pid int) (procStats, error) {
	var ps procStats
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return ps, err
	}
	for line := range strings.Lines(string(b)) {
		k, v, _ := strings.Cut(line, ":")
		f := strings.Fields(v)
		if len(f) == 0 {
			continue
		}
		n, _ := strconv.ParseInt(f[0], 10, 64)
		switch k {
		case "VmRSS":
			ps.rssKiB = n
		case "VmHWM":
			ps.hwmKiB = n
		case "Threads":
			ps.threads = n
		}
	}
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return ps, err
	}
	ps.fds = len(fds)
	return ps, nil
}

func mib(kib int64) string { return fmt.Sprintf("%.1f MiB", float64(kib)/1024) }

// recorder counts outcomes per kind of request. Retryable answers (429 and
// 503 with Retry-After) are counted apart from errors: the load client
// retries them, as a well-behaved client would.
type recorder struct {
	// relabel, when set, names the row a request is counted in instead of
	// its kind (the outage test counts by phase).
	relabel func(kind string) string

	mu    sync.Mutex
	kinds map[string]*kindStats
	order []string
}

type kindStats struct {
	ok, tooMany, unavailable, errors int
	lat                              []time.Duration
	samples                          []string // the first few distinct errors
}

func newRecorder(order ...string) *recorder {
	r := &recorder{kinds: map[string]*kindStats{}, order: order}
	for _, k := range order {
		r.kinds[k] = &kindStats{}
	}
	return r
}

func (r *recorder) get(kind string) *kindStats {
	if r.relabel != nil {
		kind = r.relabel(kind)
	}
	k := r.kinds[kind]
	if k == nil {
		k = &kindStats{}
		r.kinds[kind] = k
		r.order = append(r.order, kind)
	}
	return k
}

func (r *recorder) ok(kind string, d time.Duration) {
	r.mu.Lock()
	k := r.get(kind)
	k.ok++
	k.lat = append(k.lat, d)
	r.mu.Unlock()
}

func (r *recorder) retryable(kind string, status int) {
	r.mu.Lock()
	k := r.get(kind)
	if status == http.StatusTooManyRequests {
		k.tooMany++
	} else {
		k.unavailable++
	}
	r.mu.Unlock()
}

func (r *recorder) fail(kind string, err error) {
	r.mu.Lock()
	k := r.get(kind)
	k.errors++
	msg := err.Error()
	if len(k.samples) < 5 && !slices.Contains(k.samples, msg) {
		k.samples = append(k.samples, msg)
	}
	r.mu.Unlock()
}

// totals returns the sums over every kind.
func (r *recorder) totals() (ok, tooMany, unavailable, errs int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, k := range r.kinds {
		ok += k.ok
		tooMany += k.tooMany
		unavailable += k.unavailable
		errs += k.errors
	}
	return
}

func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted)-1) * p)
	return sorted[i]
}

func ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 1, 64)
}

// table renders the counts and latencies (of the successful attempt, body
// read to the end) per kind as a Markdown table.
func (r *recorder) table(label string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var b strings.Builder
	fmt.Fprintf(&b, "| %s | ok | 429 (retried) | 503 (retried) | errors | p50 ms | p99 ms | max ms |\n|---|---:|---:|---:|---:|---:|---:|---:|\n", label)
	for _, name := range r.order {
		k := r.kinds[name]
		lat := slices.Clone(k.lat)
		slices.Sort(lat)
		var maxLat time.Duration
		if len(lat) > 0 {
			maxLat = lat[len(lat)-1]
		}
		fmt.Fprintf(&b, "| %s | %d | %d | %d | %d | %s | %s | %s |\n", name, k.ok, k.tooMany, k.unavailable, k.errors,
			ms(percentile(lat, 0.50)), ms(percentile(lat, 0.99)), ms(maxLat))
	}
	return b.String()
}

func (r *recorder) errorSamples() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var b strings.Builder
	for _, name := range r.order {
		for _, s := range r.kinds[name].samples {
			fmt.Fprintf(&b, "  %s: %s\n", name, s)
		}
	}
	return b.String()
}

// report prints a section and appends it to CHAOS_REPORT when set.
func report(t *testing.T, s settings, text string) {
	t.Helper()
	fmt.Print("\n" + text + "\n")
	if s.report == "" {
		return
	}
	if err := os.MkdirAll(filepath.Dir(s.report), 0o755); err != nil {
		t.Errorf("CHAOS_REPORT: %v", err)
		return
	}
	f, err := os.OpenFile(s.report, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		t.Errorf("CHAOS_REPORT: %v", err)
		return
	}
	defer f.Close()
	if _, err := io.WriteString(f, text+"\n"); err != nil {
		t.Errorf("CHAOS_REPORT: %v", err)
	}
}

// maxRetryWait caps how long the client honours a Retry-After: the harness
// must keep measuring, and it reports every retryable answer anyway.
const maxRetryWait = time.Second

// client is a minimal MCP client of the session era over raw HTTP, so that
// every status, header and SSE event id is seen as sent.
type client struct {
	hc  *http.Client
	url string
	p   principal
	rec *recorder
}

// errStatus is an answer that is neither a success nor retryable.
type errStatus struct {
	status int
	body   string
}

func (e *errStatus) Error() string {
	return fmt.Sprintf("HTTP %d: %.200s", e.status, e.body)
}

// retryAfter is the delay a 429 or 503 asks for; ok is false for any other
// answer, and for a 503 without Retry-After (not a clear retryable error).
func retryAfter(resp *http.Response) (time.Duration, bool) {
	if resp.StatusCode != http.StatusTooManyRequests && resp.StatusCode != http.StatusServiceUnavailable {
		return 0, false
	}
	n, err := strconv.Atoi(strings.TrimSpace(resp.Header.Get("Retry-After")))
	if err != nil || n < 0 {
		return 0, false
	}
	return time.Duration(n) * time.Second, true
}

func (c *client) request(ctx context.Context, method, sid, body string, hdr map[string]string) (*http.Request, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.url, rd)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.p.key)
	req.Header.Set("Accept", "application/json, text/event-stream")
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if sid != "" {
		req.Header.Set("Mcp-Session-Id", sid)
		req.Header.Set("Mcp-Protocol-Version", mcp.Version20251125)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	return req, nil
}

// send sends one request, retrying answers that ask for it until ctx ends.
// It returns the final response and when its attempt started.
func (c *client) send(ctx context.Context, kind, method, sid, body string, hdr map[string]string) (*http.Response, time.Time, error) {
	for {
		req, err := c.request(ctx, method, sid, body, hdr)
		if err != nil {
			return nil, time.Time{}, err
		}
		start := time.Now()
		resp, err := c.hc.Do(req)
		if err != nil {
			return nil, start, err
		}
		wait, retry := retryAfter(resp)
		if !retry {
			return resp, start, nil
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		c.rec.retryable(kind, resp.StatusCode)
		wait = min(wait, maxRetryWait)
		// Jitter, so that clients turned away together do not return together.
		wait = wait/2 + mrand.N(wait/2+1)
		select {
		case <-ctx.Done():
			return nil, start, ctx.Err()
		case <-time.After(wait):
		}
	}
}

// rpc posts a JSON-RPC request and reads its response, JSON or SSE. It
// records the outcome under kind.
func (c *client) rpc(ctx context.Context, kind, sid, body string) (*mcp.Message, http.Header, error) {
	m, hdr, start, err := c.rpcOnce(ctx, kind, sid, body)
	if err != nil {
		c.rec.fail(kind, err)
		return nil, nil, err
	}
	c.rec.ok(kind, time.Since(start))
	return m, hdr, nil
}

func (c *client) rpcOnce(ctx context.Context, kind, sid, body string) (*mcp.Message, http.Header, time.Time, error) {
	resp, start, err := c.send(ctx, kind, http.MethodPost, sid, body, nil)
	if err != nil {
		return nil, nil, start, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return nil, nil, start, &errStatus{resp.StatusCode, string(b)}
	}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		m, _, err := readResponse(mcp.NewDecoder(resp.Body), "")
		return m, resp.Header, start, err
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, nil, start, err
	}
	m, err := mcp.DecodeMessage(b)
	if err != nil {
		return nil, nil, start, fmt.Errorf("the answer is not JSON-RPC: %v: %.200s", err, b)
	}
	return m, resp.Header, start, nil
}

// readResponse reads SSE events up to the JSON-RPC response, and returns it
// with the number of notifications before it. Event ids must grow: after is
// the last id already seen ("" for none).
func readResponse(d *mcp.Decoder, after string) (*mcp.Message, int, error) {
	notes := 0
	last := after
	for {
		ev, err := d.Next()
		if err != nil {
			return nil, notes, fmt.Errorf("SSE ended before the response (after %d notifications): %w", notes, err)
		}
		if ev.ID != "" {
			if last != "" && !idAfter(ev.ID, last) {
				return nil, notes, fmt.Errorf("event id %q after %q: replayed or out of order", ev.ID, last)
			}
			last = ev.ID
		}
		if len(ev.Data) == 0 {
			continue
		}
		m, err := mcp.DecodeMessage(ev.Data)
		if err != nil {
			return nil, notes, fmt.Errorf("SSE data is not JSON-RPC: %v", err)
		}
		if m.Method != "" {
			notes++
			continue
		}
		return m, notes, nil
	}
}

// idAfter compares the server's event ids, STREAM-SEQ, within one stream.
func idAfter(id, last string) bool {
	s1, n1, ok1 := strings.Cut(id, "-")
	s2, n2, ok2 := strings.Cut(last, "-")
	if !ok1 || !ok2 || s1 != s2 {
		return id != last
	}
	a, err1 := strconv.Atoi(n1)
	b, err2 := strconv.Atoi(n2)
	return err1 == nil && err2 == nil && a > b
}

func toolText(m *mcp.Message) (string, error) {
	if m.Error != nil {
		return "", fmt.Errorf("JSON-RPC error %d: %s", m.Error.Code, m.Error.Message)
	}
	var r struct {
		IsError bool `json:"isError"`
		Content []struct {
			Text string `json:"text"`
		} `json:"content"`
	}
	if err := json.Unmarshal(m.Result, &r); err != nil || len(r.Content) == 0 {
		return "", fmt.Errorf("not a tool result: %.200s", m.Result)
	}
	if r.IsError {
		return "", fmt.Errorf("tool error: %s", r.Content[0].Text)
	}
	return r.Content[0].Text, nil
}

func callBody(id int, tool, name string, progress bool) string {
	meta := ""
	if progress {
		meta = `,"_meta":{"progressToken":"p` + strconv.Itoa(id) + `"}`
	}
	return `{"jsonrpc":"2.0","id":` + strconv.Itoa(id) + `,"method":"tools/call","params":{"name":"` + tool + `","arguments":{"name":"` + name + `"}` + meta + `}}`
}

// initialize opens a session: initialize, then notifications/initialized.
func (c *client) initialize(ctx context.Context, clientName string) (string, error) {
	body := `{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"` + mcp.Version20251125 +
		`","capabilities":{},"clientInfo":{"name":"` + clientName + `","version":"1"}}}`
	m, hdr, err := c.rpc(ctx, "initialize", "", body)
	if err != nil {
		return "", err
	}
	sid := hdr.Get("Mcp-Session-Id")
	if m.Error != nil || sid == "" {
		err := fmt.Errorf("initialize: no session (error %v)", m.Error)
		c.rec.fail("initialize", err)
		return "", err
	}
	resp, start, err := c.send(ctx, "initialized", http.MethodPost, sid, `{"jsonrpc":"2.0","method":"notifications/initialized"}`, nil)
	if err == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted {
			err = &errStatus{resp.StatusCode, ""}
		}
	}
	if err != nil {
		c.rec.fail("initialized", err)
		return "", err
	}
	c.rec.ok("initialized", time.Since(start))
	return sid, nil
}

func (c *client) greet(ctx context.Context, sid string, id int, name string) error {
	m, _, err := c.rpc(ctx, "greet", sid, callBody(id, "greet", name, false))
	if err != nil {
		return err
	}
	if text, err := toolText(m); err != nil || text != "Hello, "+name+"!" {
		err = fmt.Errorf("greet: got %q, %v", text, err)
		c.rec.fail("greet (answer)", err)
		return err
	}
	return nil
}

// stream calls multi-greet and reads its SSE stream to the end: the three
// log notifications and three progress notifications, then the result.
func (c *client) stream(ctx context.Context, sid string, id int, name string) error {
	err := func() error {
		resp, start, err := c.send(ctx, "stream", http.MethodPost, sid, callBody(id, "multi-greet", name, true), nil)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
			b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
			return &errStatus{resp.StatusCode, "not an SSE stream: " + string(b)}
		}
		m, notes, err := readResponse(mcp.NewDecoder(resp.Body), "")
		if err != nil {
			return err
		}
		if text, err := toolText(m); err != nil || text != "Good morning, "+name+"!" || notes < 6 {
			return fmt.Errorf("multi-greet: got %q after %d notifications (want 6), %v", text, notes, err)
		}
		c.rec.ok("stream", time.Since(start))
		return nil
	}()
	if err != nil {
		c.rec.fail("stream", err)
	}
	return err
}

// cutStream calls multi-greet and hangs up after its first notification,
// returning that event's id for a later resume.
func (c *client) cutStream(ctx context.Context, sid string, id int, name string) (string, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	resp, _, err := c.send(ctx, "resume", http.MethodPost, sid, callBody(id, "multi-greet", name, true), nil)
	if err != nil {
		c.rec.fail("resume", err)
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		err := &errStatus{resp.StatusCode, string(b)}
		c.rec.fail("resume", err)
		return "", err
	}
	d := mcp.NewDecoder(resp.Body)
	for {
		ev, err := d.Next()
		if err != nil {
			err = fmt.Errorf("multi-greet stream ended before its first notification: %w", err)
			c.rec.fail("resume", err)
			return "", err
		}
		if ev.ID != "" && len(ev.Data) > 0 {
			return ev.ID, nil
		}
	}
}

// resume reopens a cut stream with GET and Last-Event-ID and reads it to
// the result; the latency recorded is that of the GET.
func (c *client) resume(ctx context.Context, sid, lastID, name string) error {
	err := func() error {
		resp, start, err := c.send(ctx, "resume", http.MethodGet, sid, "", map[string]string{"Last-Event-ID": lastID, "Accept": "text/event-stream"})
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
			return &errStatus{resp.StatusCode, string(b)}
		}
		m, _, err := readResponse(mcp.NewDecoder(resp.Body), lastID)
		if err != nil {
			return err
		}
		if text, err := toolText(m); err != nil || text != "Good morning, "+name+"!" {
			return fmt.Errorf("resumed multi-greet: got %q, %v", text, err)
		}
		c.rec.ok("resume", time.Since(start))
		return nil
	}()
	if err != nil {
		c.rec.fail("resume", err)
	}
	return err
}

func (c *client) delete(ctx context.Context, sid string) error {
	resp, start, err := c.send(ctx, "delete", http.MethodDelete, sid, "", nil)
	if err == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			err = &errStatus{resp.StatusCode, ""}
		}
	}
	if err != nil {
		c.rec.fail("delete", err)
		return err
	}
	c.rec.ok("delete", time.Since(start))
	return nil
}

// isCanceled tells an error caused by the end of the run from a failure.
func isCanceled(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}
