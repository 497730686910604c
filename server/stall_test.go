package server

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"strings"
	"syscall"
	"testing"
	"time"

	"mcplambda/mcp"
)

// TestStalledReader: a client that opens an SSE stream and stops reading
// fills its TCP window, and the server's write then blocks. Without a
// write deadline it blocked for as long as the client kept the connection
// open, holding the stream's lock, so the tool never finished and the
// session's DELETE (and the idle sweep of every session) waited forever.
// The second case checks that the deadline of a stream's writes does not
// outlive its request on a kept-alive connection (net/http clears it).
func TestStalledReader(t *testing.T) {
	const writeTimeout = 300 * time.Millisecond
	// 16 MiB of notifications: more than the socket buffers of both ends
	// of a loopback connection hold, with the reader's kept small.
	const floodEvents, floodBytes = 256, 64 << 10
	big := strings.Repeat("x", floodBytes)

	tests := []struct {
		name string
		run  func(t *testing.T, e *testEnv, sid string, done <-chan error)
	}{
		{"stalled reader is cut off and its session stays usable", func(t *testing.T, e *testEnv, sid string, done <-chan error) {
			conn := dialSmallWindow(t, e.ts.Listener.Addr().String())
			body := `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"flood","arguments":{"n":` + fmt.Sprint(floodEvents) + `}}}`
			fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\n"+
				"Mcp-Session-Id: %s\r\nMcp-Protocol-Version: %s\r\nContent-Length: %d\r\n\r\n%s",
				e.h.cfg.Path, e.ts.Listener.Addr(), sid, mcp.Version20251125, len(body), body)
			// Never read: the tool must still finish, its events buffered.
			if err := await(t, done, "the flooding tool to finish although its client stopped reading"); err != nil {
				t.Fatalf("flood: %v", err)
			}
			if r := e.post(sid, callBody("echo", `{"text":"still here"}`)); r.status != http.StatusOK || !strings.Contains(string(r.body), "still here") {
				t.Fatalf("another call of the session: %d %s", r.status, r.body)
			}
			if r := e.do(http.MethodDelete, sid, "", nil); r.status != http.StatusOK {
				t.Fatalf("DELETE: %d %s", r.status, r.body)
			}
		}},
		{"a reader that keeps up reuses its connection after the stream", func(t *testing.T, e *testEnv, sid string, done <-chan error) {
			hc := &http.Client{Transport: &http.Transport{}, Timeout: testWait}
			defer hc.CloseIdleConnections()
			var reused []bool
			trace := &httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) { reused = append(reused, i.Reused) }}
			call := func(body string) string {
				t.Helper()
				req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), http.MethodPost, e.url, strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Accept", "application/json, text/event-stream")
				req.Header.Set("Mcp-Session-Id", sid)
				resp, err := hc.Do(req)
				if err != nil {
					t.Fatalf("POST: %v", err)
				}
				defer resp.Body.Close()
				b, err := io.ReadAll(resp.Body)
				if err != nil {
					t.Fatalf("reading the answer: %v", err)
				}
				return string(b)
			}
			if out := call(`{"jsonrpc":"2.0","id":8,"method":"tools/call","params":{"name":"flood","arguments":{"n":3}}}`); !strings.Contains(out, `"flooded"`) {
				t.Fatalf("flood of 3: %.200s", out)
			}
			<-done
			time.Sleep(2 * writeTimeout) // a deadline left behind has passed
			if out := call(callBody("echo", `{"text":"again"}`)); !strings.Contains(out, "again") {
				t.Fatalf("next call on the kept-alive connection: %.200s", out)
			}
			if len(reused) != 2 || !reused[1] {
				t.Fatalf("connection reuse %v: want the second call on the first call's connection", reused)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig()
			cfg.WriteTimeout = writeTimeout
			cfg.EventBuffer = 4 // keeps the test's memory small; the bound is not what is tested
			done := make(chan error, 1)
			e := newEnv(t, cfg, HandlerOptions{}, func(srv *Server) {
				mustAddTool(t, srv, mcp.Tool{
					Name:        "flood",
					InputSchema: json.RawMessage(`{"type":"object","properties":{"n":{"type":"integer"}},"required":["n"]}`),
				}, func(_ context.Context, c *Call, args json.RawMessage) (*mcp.CallToolResult, error) {
					var a struct{ N int }
					_ = json.Unmarshal(args, &a)
					var err error
					for range a.N {
						if err = c.Notify("notifications/message", map[string]string{"level": "info", "data": big}); err != nil {
							break
						}
					}
					done <- err
					return mcp.ToolText("flooded"), nil
				})
			})
			sid := e.initialize(mcp.Version20251125, nil)
			tc.run(t, e, sid, done)
		})
	}
}

func callBody(tool, args string) string {
	return `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"` + tool + `","arguments":` + args + `}}`
}

// dialSmallWindow connects with a small receive buffer, so that a client
// that does not read stops the server's writes after little data.
func dialSmallWindow(t *testing.T, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{Timeout: testWait, Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		if err := c.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) }); err != nil {
			return err
		}
		return serr
	}}
	conn, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}
