package client

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"mcplambda/mcp"
)

// Answers the client must refuse, each with an error rather than a hang or
// an unbounded read.
func TestBadAnswers(t *testing.T) {
	// The limit is lowered so the race detector need not scan 16 MiB;
	// TestDefaultLimit checks the real one.
	const limit = 64 << 10
	big := bytes.Repeat([]byte("x"), limit)
	tests := []struct {
		name   string
		answer func(w http.ResponseWriter, id string)
		check  func(t *testing.T, err error)
	}{
		{
			name: "JSON response over the limit",
			answer: func(w http.ResponseWriter, id string) {
				w.Header().Set("Content-Type", "application/json")
				fmt.Fprintf(w, `{"jsonrpc":"2.0","id":%s,"result":{"content":[{"type":"text","text":"%s"}]}}`, id, big)
			},
			check: wantText("exceeds"),
		},
		{
			name: "SSE event over the limit",
			answer: func(w http.ResponseWriter, id string) {
				sse(w, mcp.Event{Data: fmt.Appendf(nil, `{"jsonrpc":"2.0","id":%s,"result":{"x":"%s"}}`, id, big)})
			},
			check: func(t *testing.T, err error) {
				if !errors.Is(err, mcp.ErrSSETooLarge) {
					t.Errorf("error %v, want ErrSSETooLarge", err)
				}
			},
		},
		{
			name: "error body is read only in part",
			answer: func(w http.ResponseWriter, _ string) {
				w.WriteHeader(http.StatusInternalServerError)
				_, _ = w.Write(big)
			},
			check: func(t *testing.T, err error) {
				var he *HTTPError
				if !errors.As(err, &he) || he.StatusCode != 500 || len(he.Body) != maxErrorBody {
					t.Errorf("error %T with a body of %d bytes, want HTTPError 500 with %d", err, len(fmt.Sprint(err)), maxErrorBody)
				}
			},
		},
		{
			name: "JSON-RPC error body is shown by its message",
			answer: func(w http.ResponseWriter, _ string) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusBadRequest)
				_, _ = w.Write([]byte(`{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"Bad Request: something"}}`))
			},
			// A *HTTPError in the session era, an *RPCError in the
			// stateless era (which answers protocol errors with 400).
			check: func(t *testing.T, err error) {
				t.Helper()
				var he *HTTPError
				var re *RPCError
				switch {
				case errors.As(err, &he):
					wantText("HTTP 400: Bad Request: something")(t, err)
				case errors.As(err, &re):
					wantText("-32600: Bad Request: something")(t, err)
				default:
					t.Errorf("error %T %q, want an *HTTPError or an *RPCError", err, err)
				}
			},
		},
		{
			name: "202 for a request",
			answer: func(w http.ResponseWriter, _ string) {
				w.WriteHeader(http.StatusAccepted)
			},
			check: wantText("without answering"),
		},
		{
			name: "unexpected content type",
			answer: func(w http.ResponseWriter, _ string) {
				w.Header().Set("Content-Type", "text/html")
				_, _ = w.Write([]byte("<html>"))
			},
			check: wantText(`unexpected Content-Type "text/html"`),
		},
		{
			name: "response to another request",
			answer: func(w http.ResponseWriter, _ string) {
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write([]byte(`{"jsonrpc":"2.0","id":"other","result":{}}`))
			},
			check: wantText("something other than the response"),
		},
		{
			name: "not JSON",
			answer: func(w http.ResponseWriter, _ string) {
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write([]byte(`{"jsonrpc":`))
			},
			check: wantText("malformed response"),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkGoroutines(t)
			s := newTestServer(t, nil)
			s.proxy.setHook(func(w http.ResponseWriter, r *http.Request, body []byte) bool {
				if !strings.Contains(string(body), `"tools/call"`) {
					return false
				}
				tt.answer(w, requestID(body))
				return true
			})
			c := connect(t, Options{URL: s.url})
			c.maxMessage = limit
			_, err := c.CallTool(testContext(t), "greet", map[string]string{"name": "x"})
			if err == nil {
				t.Fatal("no error")
			}
			tt.check(t, err)
			// The client is still usable.
			if err := c.Ping(testContext(t)); err != nil {
				t.Errorf("ping after a bad answer: %v", err)
			}
		})
	}
}

func wantText(s string) func(*testing.T, error) {
	return func(t *testing.T, err error) {
		t.Helper()
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q, want %q", err, s)
		}
	}
}

// A protocol revision the client does not speak ends Connect, and the
// session is not left behind.
func TestUnsupportedVersion(t *testing.T) {
	s := newTestServer(t, nil)
	s.proxy.setHook(func(w http.ResponseWriter, r *http.Request, body []byte) bool {
		if !strings.Contains(string(body), `"initialize"`) {
			return false
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Mcp-Session-Id", "abc")
		fmt.Fprintf(w, `{"jsonrpc":"2.0","id":%s,"result":{"protocolVersion":"2026-07-28","capabilities":{},"serverInfo":{"name":"x","version":"1"}}}`, requestID(body))
		return true
	})
	_, err := Connect(testContext(t), Options{URL: s.url, ProtocolVersion: mcp.LatestVersion})
	if err == nil || !strings.Contains(err.Error(), `"2026-07-28"`) {
		t.Fatalf("error %v", err)
	}
	if n := s.proxy.count(http.MethodDelete, ""); n != 1 {
		t.Errorf("%d DELETEs of the unusable session, want 1", n)
	}
}

// Pagination follows cursors and refuses a server whose cursors loop.
func TestPagination(t *testing.T) {
	tests := []struct {
		name    string
		pages   map[string]string // cursor -> result
		want    []string
		wantErr string
	}{
		{
			name: "three pages",
			pages: map[string]string{
				"":   `{"tools":[{"name":"a","inputSchema":{}}],"nextCursor":"c1"}`,
				"c1": `{"tools":[{"name":"b","inputSchema":{}}],"nextCursor":"c2"}`,
				"c2": `{"tools":[{"name":"c","inputSchema":{}}]}`,
			},
			want: []string{"a", "b", "c"},
		},
		{
			name: "looping cursor",
			pages: map[string]string{
				"":   `{"tools":[{"name":"a","inputSchema":{}}],"nextCursor":"c1"}`,
				"c1": `{"tools":[{"name":"b","inputSchema":{}}],"nextCursor":"c1"}`,
			},
			want: []string{"a", "b"}, wantErr: `repeated cursor "c1"`,
		},
		{
			name:  "malformed page",
			pages: map[string]string{"": `{"tools":"nope"}`},
			want:  nil, wantErr: "decoding the result",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestServer(t, nil)
			s.proxy.setHook(func(w http.ResponseWriter, r *http.Request, body []byte) bool {
				var m struct {
					Method string
					Params struct{ Cursor string }
				}
				_ = json.Unmarshal(body, &m)
				if m.Method != mcp.MethodToolsList {
					return false
				}
				w.Header().Set("Content-Type", "application/json")
				fmt.Fprintf(w, `{"jsonrpc":"2.0","id":%s,"result":%s}`, requestID(body), tt.pages[m.Params.Cursor])
				return true
			})
			c := connect(t, Options{URL: s.url})
			tools, err := c.ListTools(testContext(t))
			var names []string
			for _, tl := range tools {
				names = append(names, tl.Name)
			}
			if fmt.Sprint(names) != fmt.Sprint(tt.want) {
				t.Errorf("tools %v, want %v", names, tt.want)
			}
			if (err != nil) != (tt.wantErr != "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("error %v, want %q", err, tt.wantErr)
			}
		})
	}
}

// Results beyond the SSE decoder's default line limit (1 MiB) are read,
// whether JSON or SSE. (Not the full 16 MiB: under the race detector that
// alone takes seconds.)
func TestDefaultLimit(t *testing.T) {
	s := newTestServer(t, nil)
	pad := strings.Repeat("x", 2<<20)
	s.proxy.setHook(func(w http.ResponseWriter, r *http.Request, body []byte) bool {
		if !strings.Contains(string(body), `"tools/call"`) {
			return false
		}
		msg := fmt.Appendf(nil, `{"jsonrpc":"2.0","id":%s,"result":{"content":[{"type":"text","text":"%s"}]}}`, requestID(body), pad)
		if strings.Contains(string(body), "sse") {
			sse(w, mcp.Event{Data: msg})
		} else {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(msg)
		}
		return true
	})
	c := connect(t, Options{URL: s.url})
	for _, mode := range []string{"json", "sse"} {
		res, err := c.CallTool(testContext(t), "greet", map[string]string{"name": mode})
		if err != nil || len(text(res)) != len(pad) {
			t.Errorf("%s: %d bytes, %v", mode, len(fmt.Sprint(res)), err)
		}
	}
}
