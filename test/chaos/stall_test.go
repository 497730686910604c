package chaos

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"mcplambda/mcp"
)

// stallWriteTimeout is the server's SSE_WRITE_TIMEOUT in this test: how
// long one write to a client that does not read may block before the
// server cuts it off (30 s by default; shorter here to keep the test short).
const stallWriteTimeout = 5 * time.Second

// pipelined is how many tools/list requests (about 4 KB of answer each)
// one stalled client sends on one connection without reading: some 6 MB,
// more than the socket buffers of a loopback connection hold (the
// sender's grows to 4 MiB here), so the server's write blocks. net/http
// answers pipelined requests one after the other on the connection.
const pipelined = 1500

// stalledKind is one way a client stops reading.
type stalledKind struct {
	name    string
	version string
	// request is the raw HTTP request, given the session id and the host;
	// {KEY} stands for the API key.
	request func(sid, host string) string
	// complete tells a full answer from one cut short.
	complete func(b []byte) bool
}

func stalledKinds() []stalledKind {
	post := func(version, body string) func(sid, host string) string {
		return func(sid, host string) string {
			return fmt.Sprintf("POST /mcp HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer {KEY}\r\nContent-Type: application/json\r\n"+
				"Accept: application/json, text/event-stream\r\nMcp-Session-Id: %s\r\nMcp-Protocol-Version: %s\r\nContent-Length: %d\r\n\r\n%s",
				host, sid, version, len(body), body)
		}
	}
	list := post(mcp.Version20251125, `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`)
	return []stalledKind{
		{
			name: "GET stream, never read", version: mcp.Version20251125,
			request: func(sid, host string) string {
				return fmt.Sprintf("GET /mcp HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer {KEY}\r\nAccept: text/event-stream\r\nMcp-Session-Id: %s\r\nMcp-Protocol-Version: %s\r\n\r\n",
					host, sid, mcp.Version20251125)
			},
			complete: func([]byte) bool { return false }, // a GET stream has no end
		},
		{
			name: "multi-greet stream, never read", version: mcp.Version20251125,
			request:  post(mcp.Version20251125, callBody(1, "multi-greet", "stalled", true)),
			complete: func(b []byte) bool { return bytes.Contains(b, []byte("Good morning, stalled!")) },
		},
		{
			name: fmt.Sprintf("%d pipelined tools/list (~%d MB of answers), never read", pipelined, pipelined*4/1000), version: mcp.Version20251125,
			request: func(sid, host string) string {
				return strings.Repeat(list(sid, host), pipelined)
			},
			complete: func(b []byte) bool { return bytes.Count(b, []byte(`"tools":[`)) >= pipelined },
		},
	}
}

// dialStalled connects with a small receive buffer, so that not reading
// closes the TCP window after little data, as a stuck client's would.
func dialStalled(ctx context.Context, addr string) (net.Conn, error) {
	d := net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		if err := c.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) }); err != nil {
			return err
		}
		return serr
	}}
	return d.DialContext(ctx, "tcp", addr)
}

// TestStalledClients: while clients that opened SSE streams (a GET stream,
// a multi-greet) or asked for a large answer (a batch of usage reports)
// stop reading, other sessions call greet and multi-greet as usual. Their
// latencies are compared before, during and after the stall; the server's
// RSS and descriptors are sampled; the stalled connections whose answer
// did not fit in the socket buffers must be cut by the server's write
// deadline (SSE_WRITE_TIMEOUT), and every stalled client's session must
// still answer and be deleted afterwards.
func TestStalledClients(t *testing.T) {
	s := loadSettings(t)
	bin := serverBinary(t, s)
	ps := newPrincipals(4)
	nStalled, nActive := 10, 10
	if s.full {
		nStalled, nActive = 60, 40
	}
	proc, url := startServer(t, s, bin, ps, "BEDROCK_LOG_SOURCE=sample", "SSE_WRITE_TIMEOUT="+stallWriteTimeout.String(), "SSE_KEEPALIVE=15s")
	pid := proc.Pid()
	host := strings.TrimSuffix(strings.TrimPrefix(url, "http://"), "/mcp")
	ctx := t.Context()
	time.Sleep(300 * time.Millisecond)
	start, err := readProc(pid)
	if err != nil {
		t.Fatalf("reading /proc of the server: %v", err)
	}

	var phase atomic.Pointer[string]
	setPhase := func(p string) { phase.Store(&p) }
	phases := []string{"before", fmt.Sprintf("%d stalled clients", nStalled), "after they hung up"}
	setPhase(phases[0])
	rec := newRecorder()
	for _, p := range phases {
		for _, k := range []string{"greet", "stream"} {
			rec.get(k + ", " + p)
		}
	}
	rec.relabel = func(kind string) string { return kind + ", " + *phase.Load() }
	tr := &http.Transport{MaxIdleConnsPerHost: 2 * nActive, DisableCompression: true}
	hc := &http.Client{Transport: tr, Timeout: 60 * time.Second}

	// Active sessions: greet, greet, multi-greet, again and again.
	var stopping atomic.Bool
	stopActive := func() { stopping.Store(true) }
	activeCtx := ctx
	var wg sync.WaitGroup
	for i := range nActive {
		c := &client{hc: hc, url: url, p: ps[i%len(ps)], rec: rec}
		wg.Go(func() {
			sid, err := c.initialize(activeCtx, "chaos-active")
			if err != nil {
				return
			}
			defer func() { _ = c.delete(ctx, sid) }()
			for n := 1; !stopping.Load() && ctx.Err() == nil; n += 3 {
				name := "a" + strconv.Itoa(i)
				if c.greet(activeCtx, sid, n, name) != nil || c.greet(activeCtx, sid, n+1, name) != nil || c.stream(activeCtx, sid, n+2, name) != nil {
					time.Sleep(100 * time.Millisecond)
				}
			}
		})
	}

	var peak procStats
	sample := func() {
		if p, err := readProc(pid); err == nil {
			peak.rssKiB = max(peak.rssKiB, p.rssKiB)
			peak.threads = max(peak.threads, p.threads)
			peak.fds = max(peak.fds, p.fds)
		}
	}
	sleepSampling := func(d time.Duration) {
		end := time.Now().Add(d)
		for time.Now().Before(end) {
			sample()
			time.Sleep(250 * time.Millisecond)
		}
	}
	phaseLen := 3 * time.Second
	sleepSampling(phaseLen)

	// The stalled clients: a session each, opened normally, then a raw
	// request on a connection that is never read.
	setPhase(phases[1])
	kinds := stalledKinds()
	type stalled struct {
		kind int
		p    principal
		sid  string
		conn net.Conn
		sent time.Time
	}
	stalls := make([]*stalled, nStalled)
	setupRec := newRecorder()
	var setupErr error
	for i := range stalls {
		k := i % len(kinds)
		c := &client{hc: hc, url: url, p: ps[i%len(ps)], rec: setupRec}
		sid, err := openSession(ctx, c, kinds[k].version)
		if err != nil {
			setupErr = fmt.Errorf("opening the session of stalled client %d: %w", i, err)
			break
		}
		conn, err := dialStalled(ctx, host)
		if err != nil {
			setupErr = err
			break
		}
		t.Cleanup(func() { conn.Close() })
		req := strings.ReplaceAll(kinds[k].request(sid, host), "{KEY}", c.p.key)
		// The server stops reading the pipelined requests once its writes
		// block: the rest waits in this goroutine until the end.
		go func() { _, _ = io.WriteString(conn, req) }()
		stalls[i] = &stalled{kind: k, p: c.p, sid: sid, conn: conn, sent: time.Now()}
	}
	if setupErr != nil {
		stopActive()
		wg.Wait()
		t.Fatalf("%v\n%s", setupErr, setupRec.errorSamples())
	}
	stallStart := time.Now()
	sleepSampling(stallWriteTimeout + 3*time.Second)
	during, _ := readProc(pid)

	// The stalled clients read what they were sent and hang up: was the
	// answer complete, or cut by the server?
	setPhase(phases[2])
	type outcome struct{ complete, cut, open int }
	outcomes := make([]outcome, len(kinds))
	var outMu sync.Mutex
	var readers sync.WaitGroup
	for _, st := range stalls {
		readers.Go(func() {
			_ = st.conn.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
			b, err := io.ReadAll(st.conn)
			st.conn.Close()
			outMu.Lock()
			defer outMu.Unlock()
			o := &outcomes[st.kind]
			switch {
			case kinds[st.kind].complete(b):
				o.complete++
			case err == nil || !isTimeout(err):
				o.cut++ // the server closed the connection before the answer was whole
			default:
				o.open++ // still open: nothing was left to write
			}
		})
	}
	readers.Wait()
	sleepSampling(phaseLen)
	stopActive()
	wg.Wait()

	// Every stalled client's session still answers its owner, and goes.
	var sessionErrs []string
	for i, st := range stalls {
		c := &client{hc: hc, url: url, p: st.p, rec: setupRec}
		v := kinds[st.kind].version
		if err := greetVersion(ctx, c, st.sid, v); err != nil {
			sessionErrs = append(sessionErrs, fmt.Sprintf("stalled client %d (%s): greet after: %v", i, kinds[st.kind].name, err))
			continue
		}
		if err := deleteVersion(ctx, c, st.sid, v); err != nil {
			sessionErrs = append(sessionErrs, fmt.Sprintf("stalled client %d (%s): DELETE: %v", i, kinds[st.kind].name, err))
		}
	}
	tr.CloseIdleConnections()
	trickle := settle(ctx, &client{hc: hc, url: url, p: ps[0], rec: newRecorder()}, s.settle)
	tr.CloseIdleConnections()
	final, err := readProc(pid)
	if err != nil {
		t.Fatalf("reading /proc of the server: %v", err)
	}
	if err := proc.Stop(t); err != nil {
		t.Errorf("the server did not stop cleanly: %v\n%s", err, proc.Tail(30))
	}

	var b strings.Builder
	fmt.Fprintf(&b, "### Slow or stalled clients: %d stalled, %d active sessions, SSE_WRITE_TIMEOUT=%s\n\n", nStalled, nActive, stallWriteTimeout)
	b.WriteString(rec.table("active sessions' request, phase"))
	b.WriteString("\n| stalled client | count | answer complete | cut by the server | still open, nothing pending |\n|---|---:|---:|---:|---:|\n")
	for i, k := range kinds {
		o := outcomes[i]
		fmt.Fprintf(&b, "| %s | %d | %d | %d | %d |\n", k.name, o.complete+o.cut+o.open, o.complete, o.cut, o.open)
	}
	b.WriteString("\n| server | start | peak | during the stall (after " + (stallWriteTimeout + 3*time.Second).String() + ") | end (after " + s.settle.String() + " settle) |\n|---|---:|---:|---:|---:|\n")
	fmt.Fprintf(&b, "| RSS | %s | %s | %s | %s |\n", mib(start.rssKiB), mib(peak.rssKiB), mib(during.rssKiB), mib(final.rssKiB))
	fmt.Fprintf(&b, "| threads | %d | %d | %d | %d |\n", start.threads, peak.threads, during.threads, final.threads)
	fmt.Fprintf(&b, "| open descriptors | %d | %d | %d | %d |\n", start.fds, peak.fds, during.fds, final.fds)
	fmt.Fprintf(&b, "\nThe stalled clients sent their requests within %.1f s; every stalled client's session answered greet afterwards and was deleted (%d failures).\n",
		stallStart.Sub(stalls[0].sent).Seconds(), len(sessionErrs))
	report(t, s, b.String())

	if _, _, _, errs := rec.totals(); errs > 0 {
		t.Errorf("%d requests of the active sessions failed:\n%s", errs, rec.errorSamples())
	}
	for _, e := range sessionErrs {
		t.Error(e)
	}
	if trickle < 0 {
		t.Errorf("the settle period's greet calls failed")
	}
	// The large answers cannot fit in the socket buffers: each must have
	// been cut, or the write deadline did not work.
	if o := outcomes[2]; o.complete > 0 || o.open > 0 {
		t.Errorf("%s: %d complete, %d still open after %s: want every one cut by SSE_WRITE_TIMEOUT", kinds[2].name, o.complete, o.open, stallWriteTimeout)
	}
	limit := max(rssFactor*start.rssKiB, start.rssKiB+rssSlackMiB*1024)
	if final.rssKiB > limit {
		t.Errorf("RSS after the stalled clients left: %s, over %s (start %s)", mib(final.rssKiB), mib(limit), mib(start.rssKiB))
	}
	if final.fds > start.fds+fdSlack {
		t.Errorf("the server holds %d descriptors after the stalled clients left, %d at start", final.fds, start.fds)
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return err != nil && errors.As(err, &ne) && ne.Timeout()
}

// openSession opens a session in version (initialize, initialized).
func openSession(ctx context.Context, c *client, version string) (string, error) {
	if version == mcp.Version20251125 {
		return c.initialize(ctx, "chaos-stalled")
	}
	body := `{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"` + version +
		`","capabilities":{},"clientInfo":{"name":"chaos-stalled","version":"1"}}}`
	_, hdr, err := c.rpc(ctx, "initialize", "", body)
	if err != nil {
		return "", err
	}
	sid := hdr.Get("Mcp-Session-Id")
	resp, _, err := c.send(ctx, "initialized", http.MethodPost, sid, `{"jsonrpc":"2.0","method":"notifications/initialized"}`,
		map[string]string{"Mcp-Protocol-Version": version})
	if err != nil {
		return "", err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		return "", fmt.Errorf("initialized: HTTP %d", resp.StatusCode)
	}
	return sid, nil
}

// greetVersion calls greet in a session of version.
func greetVersion(ctx context.Context, c *client, sid, version string) error {
	resp, _, err := c.send(ctx, "greet", http.MethodPost, sid, callBody(99, "greet", "after", false), map[string]string{"Mcp-Protocol-Version": version})
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK || !bytes.Contains(b, []byte("Hello, after!")) {
		return &errStatus{resp.StatusCode, string(b)}
	}
	return nil
}

// deleteVersion ends a session of version.
func deleteVersion(ctx context.Context, c *client, sid, version string) error {
	resp, _, err := c.send(ctx, "delete", http.MethodDelete, sid, "", map[string]string{"Mcp-Protocol-Version": version})
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return &errStatus{resp.StatusCode, ""}
	}
	return nil
}
