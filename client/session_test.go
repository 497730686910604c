package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"mcplambda/greetings"
	"mcplambda/mcp"
	"mcplambda/server"
)

// endSession deletes a session behind the client's back, as an expiry or
// a server restart would.
func endSession(t *testing.T, url, sid string) {
	t.Helper()
	req, _ := http.NewRequestWithContext(testContext(t), http.MethodDelete, url, nil)
	req.Header.Set("Mcp-Session-Id", sid)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("DELETE: %d", resp.StatusCode)
	}
}

// A 404 on a session makes the client re-initialize once and retry; if
// that fails, ErrSessionExpired.
func TestReinitializeAfter404(t *testing.T) {
	tests := []struct {
		name       string
		hook       func(w http.ResponseWriter, r *http.Request, body []byte) bool
		concurrent int
		wantErr    error
		wantAuth   bool // the error is also an AuthRequiredError
		inits      int  // initialize requests in all
	}{
		{name: "one call", concurrent: 1, inits: 2},
		{name: "concurrent calls share one re-initialization", concurrent: 12, inits: 2},
		{
			name: "re-initialization refused",
			hook: func(w http.ResponseWriter, _ *http.Request, body []byte) bool {
				if !strings.Contains(string(body), `"initialize"`) {
					return false
				}
				w.WriteHeader(http.StatusServiceUnavailable)
				return true
			},
			concurrent: 1, wantErr: ErrSessionExpired, inits: 2,
		},
		{
			name: "re-initialization needs a login",
			hook: func(w http.ResponseWriter, _ *http.Request, body []byte) bool {
				if !strings.Contains(string(body), `"initialize"`) {
					return false
				}
				w.Header().Set("WWW-Authenticate", `Bearer resource_metadata="`+metadataURL+`"`)
				w.WriteHeader(http.StatusUnauthorized)
				return true
			},
			concurrent: 1, wantErr: ErrSessionExpired, wantAuth: true, inits: 2,
		},
		{
			name: "the new session is not found either",
			hook: func(w http.ResponseWriter, _ *http.Request, body []byte) bool {
				if !strings.Contains(string(body), `"tools/call"`) {
					return false
				}
				w.WriteHeader(http.StatusNotFound)
				return true
			},
			concurrent: 1, wantErr: ErrSessionExpired, inits: 2,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkGoroutines(t)
			s := newTestServer(t, nil)
			c := connect(t, Options{URL: s.url, ProtocolVersion: mcp.LatestVersion})
			old := c.SessionID()
			endSession(t, s.url, old)
			s.proxy.setHook(tt.hook)
			var wg sync.WaitGroup
			errs := make(chan error, tt.concurrent)
			for i := range tt.concurrent {
				wg.Go(func() {
					res, err := c.CallTool(testContext(t), "greet", map[string]string{"name": fmt.Sprint(i)})
					if err == nil && text(res) != fmt.Sprintf("Hello, %d!", i) {
						err = fmt.Errorf("result %q", text(res))
					}
					errs <- err
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
					t.Errorf("error %v, want %v", err, tt.wantErr)
				}
				var ae *AuthRequiredError
				if errors.As(err, &ae) != tt.wantAuth {
					t.Errorf("error %v: AuthRequiredError %v, want %v", err, !tt.wantAuth, tt.wantAuth)
				}
			}
			if n := s.proxy.count(http.MethodPost, mcp.MethodInitialize); n != tt.inits {
				t.Errorf("%d initialize requests, want %d", n, tt.inits)
			}
			if tt.wantErr == nil {
				if c.SessionID() == old || c.SessionID() == "" {
					t.Errorf("session id %q after re-initialization (old %q)", c.SessionID(), old)
				}
				if n := s.proxy.count(http.MethodPost, mcp.NotificationInitialized); n != 2 {
					t.Errorf("%d notifications/initialized, want 2", n)
				}
			}
		})
	}
}

func TestNotifyReinitializes(t *testing.T) {
	s := newTestServer(t, nil)
	c := connect(t, Options{URL: s.url, ProtocolVersion: mcp.LatestVersion})
	old := c.SessionID()
	endSession(t, s.url, old)
	if err := c.RootsChanged(testContext(t)); err != nil {
		t.Fatal(err)
	}
	if c.SessionID() == old {
		t.Error("no new session")
	}
}

// initialize itself is never retried on a 404 (it carries no session).
func TestInitialize404IsAnError(t *testing.T) {
	s := newTestServer(t, nil)
	s.proxy.setHook(func(w http.ResponseWriter, _ *http.Request, _ []byte) bool {
		w.WriteHeader(http.StatusNotFound)
		return true
	})
	_, err := Connect(testContext(t), Options{URL: s.url, ProtocolVersion: mcp.LatestVersion})
	var he *HTTPError
	if !errors.As(err, &he) || he.StatusCode != http.StatusNotFound {
		t.Fatalf("error %v, want HTTP 404", err)
	}
	if n := s.proxy.count(http.MethodPost, mcp.MethodInitialize); n != 1 {
		t.Errorf("%d initialize requests, want 1", n)
	}
}

// The GET stream notices a lost session too, and re-initializes.
func TestStandaloneStreamReinitializes(t *testing.T) {
	checkGoroutines(t)
	s := newTestServer(t, nil)
	ev := newStreamEvents()
	c := connect(t, Options{URL: s.url, ProtocolVersion: mcp.LatestVersion, OpenStandaloneStream: true, OnStandaloneStream: ev.note})
	receive(t, ev.opened, "the GET stream")
	old := c.SessionID()
	endSession(t, s.url, old)
	receive(t, ev.opened, "the GET stream of the new session")
	if c.SessionID() == old {
		t.Error("no new session")
	}
	if err := c.Ping(testContext(t)); err != nil {
		t.Fatal(err)
	}
}

func TestCloseAndDisconnect(t *testing.T) {
	tests := []struct {
		name       string
		deleteCode int // answered by the proxy; 0 = the real server
		disconnect bool
		wantErr    bool
		sessions   int // left on the server
	}{
		{name: "close deletes the session", sessions: 0},
		{name: "405 is tolerated", deleteCode: http.StatusMethodNotAllowed, sessions: 1},
		{name: "404 is tolerated", deleteCode: http.StatusNotFound, sessions: 1},
		{name: "500 is reported", deleteCode: http.StatusInternalServerError, wantErr: true, sessions: 1},
		{name: "disconnect leaves the session", disconnect: true, sessions: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkGoroutines(t)
			s := newTestServer(t, nil)
			if tt.deleteCode != 0 {
				s.proxy.answerVerb(http.MethodDelete, tt.deleteCode)
			}
			ev := newStreamEvents()
			c, err := Connect(testContext(t), Options{URL: s.url, ProtocolVersion: mcp.LatestVersion, OpenStandaloneStream: true, OnStandaloneStream: ev.note})
			if err != nil {
				t.Fatal(err)
			}
			receive(t, ev.opened, "the GET stream")
			if tt.disconnect {
				c.Disconnect()
			} else if err := c.Close(testContext(t)); (err != nil) != tt.wantErr {
				t.Errorf("Close: %v, want error %v", err, tt.wantErr)
			}
			if n := s.store.(*server.MemoryStore).Len(); n != tt.sessions {
				t.Errorf("%d sessions on the server, want %d", n, tt.sessions)
			}
			if err := c.Ping(testContext(t)); !errors.Is(err, ErrClosed) {
				t.Errorf("Ping after close: %v", err)
			}
			// Closing twice is harmless and sends nothing more.
			deletes := s.proxy.count(http.MethodDelete, "")
			if err := c.Close(testContext(t)); err != nil {
				t.Errorf("second Close: %v", err)
			}
			c.Disconnect()
			if n := s.proxy.count(http.MethodDelete, ""); n != deletes {
				t.Errorf("second Close sent DELETE")
			}
		})
	}
}

// Close ends calls in flight with ErrClosed, and waits for everything.
func TestCloseDuringCall(t *testing.T) {
	checkGoroutines(t)
	s := newTestServer(t, nil)
	started := addBlockTool(t, s)
	c, err := Connect(testContext(t), Options{URL: s.url, ProtocolVersion: mcp.LatestVersion, OpenStandaloneStream: true})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := c.CallTool(context.Background(), "block", nil)
		done <- err
	}()
	receive(t, started, "the blocking tool")
	if err := c.Close(testContext(t)); err != nil {
		t.Fatal(err)
	}
	if err := receive(t, done, "the call's end"); !errors.Is(err, ErrClosed) {
		t.Errorf("call ended with %v, want ErrClosed", err)
	}
}

// A replacement session gets the log level and subscriptions of the old.
func TestReinitializeRestoresState(t *testing.T) {
	checkGoroutines(t)
	s := newTestServer(t, nil)
	rec, ev := newRecorder(), newStreamEvents()
	c := connect(t, Options{URL: s.url, ProtocolVersion: mcp.LatestVersion, OnNotification: rec.note, OpenStandaloneStream: true, OnStandaloneStream: ev.note})
	receive(t, ev.opened, "the GET stream")
	ctx := testContext(t)
	if err := c.SetLogLevel(ctx, mcp.LevelError); err != nil {
		t.Fatal(err)
	}
	if err := c.Subscribe(ctx, greetings.ResourceURI); err != nil {
		t.Fatal(err)
	}
	old := c.SessionID()
	endSession(t, s.url, old)
	// Re-initialized by this call; multi-greet logs at debug and info only.
	if res, err := c.CallTool(ctx, "multi-greet", map[string]string{"name": "Ada"}); err != nil || res.IsError {
		t.Fatalf("%+v %v", res, err)
	}
	if c.SessionID() == old {
		t.Fatal("no new session")
	}
	for _, n := range rec.all() {
		if strings.HasPrefix(n, mcp.NotificationMessage) {
			t.Errorf("log level not restored: %s", n)
		}
	}
	receive(t, ev.opened, "the GET stream of the new session")
	s.srv.NotifyResourceUpdated(greetings.ResourceURI)
	rec.waitFor(t, mcp.NotificationResourcesUpdated)
	if n := s.proxy.count(http.MethodPost, mcp.MethodResourcesSubscribe); n != 2 {
		t.Errorf("%d subscribe requests, want 2", n)
	}
}
