package client

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"mcplambda/mcp"
	"mcplambda/server"
)

// addBlockTool registers "block": it logs (so its answer becomes a
// resumable SSE stream, which a dropped connection does not cancel), then
// waits for cancellation and reports its cause on the returned channel.
func addBlockTool(t *testing.T, s *testServer) (started chan struct{}) {
	t.Helper()
	started = make(chan struct{}, 10)
	mustAddTool(t, s.srv, mcp.Tool{Name: "block", InputSchema: objectSchema}, func(ctx context.Context, call *server.Call, _ json.RawMessage) (*mcp.CallToolResult, error) {
		_ = call.Log(mcp.LevelInfo, "block", "blocking")
		started <- struct{}{}
		<-ctx.Done()
		return nil, ctx.Err()
	})
	return started
}

// addCauseTool is like block but reports why it was cancelled.
func addCauseTool(t *testing.T, s *testServer) (causes chan string) {
	t.Helper()
	causes = make(chan string, 10)
	mustAddTool(t, s.srv, mcp.Tool{Name: "wait-cancel", InputSchema: objectSchema}, func(ctx context.Context, call *server.Call, _ json.RawMessage) (*mcp.CallToolResult, error) {
		_ = call.Log(mcp.LevelInfo, "wait", "waiting")
		<-ctx.Done()
		causes <- server.CancelCause(ctx).Error()
		return nil, ctx.Err()
	})
	return causes
}

// A request that outlives RequestTimeout or its context is abandoned with
// a clear error, and the server is told with notifications/cancelled.
func TestTimeoutAndCancel(t *testing.T) {
	tests := []struct {
		name     string
		timeout  time.Duration
		cancelOn bool // cancel the caller's context once the tool runs
		check    func(error) bool
		wantText string
		wantWhy  string // reason in notifications/cancelled
	}{
		{
			name: "request timeout", timeout: 200 * time.Millisecond,
			check: func(err error) bool {
				var te *TimeoutError
				return errors.As(err, &te) && te.Method == mcp.MethodToolsCall && te.After == 200*time.Millisecond &&
					errors.Is(err, context.DeadlineExceeded)
			},
			wantText: "tools/call timed out after 200ms",
			wantWhy:  "tools/call timed out after 200ms",
		},
		{
			name: "caller cancels", timeout: -1, cancelOn: true,
			check:    func(err error) bool { return errors.Is(err, context.Canceled) },
			wantText: "context canceled",
			wantWhy:  "cancelled by the client",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkGoroutines(t)
			s := newTestServer(t, nil)
			causes := addCauseTool(t, s)
			ctx, cancel := context.WithCancel(testContext(t))
			defer cancel()
			c := connect(t, Options{URL: s.url, ProtocolVersion: mcp.LatestVersion, RequestTimeout: tt.timeout, OnNotification: func(method string, _ json.RawMessage) {
				if tt.cancelOn && method == mcp.NotificationMessage {
					cancel()
				}
			}})
			_, err := c.CallTool(ctx, "wait-cancel", nil)
			if !tt.check(err) || !strings.Contains(err.Error(), tt.wantText) {
				t.Fatalf("error %v (%T), want %q", err, err, tt.wantText)
			}
			if got := receive(t, causes, "the tool's cancellation"); got != "cancelled by the client" {
				t.Errorf("server-side cause %q, want notifications/cancelled", got)
			}
			var sent, callID string
			for _, r := range s.proxy.requests() {
				switch r.rpcMethod {
				case mcp.NotificationCancelled:
					sent = r.body
				case mcp.MethodToolsCall:
					callID = requestID([]byte(r.body))
				}
			}
			if !strings.Contains(sent, `"requestId":`+callID) || callID == "" || !strings.Contains(sent, tt.wantWhy) {
				t.Errorf("notifications/cancelled body %s, want requestId %s and reason %q", sent, callID, tt.wantWhy)
			}
		})
	}
}

// A server that never answers initialize cannot hang Connect.
func TestConnectTimeout(t *testing.T) {
	checkGoroutines(t)
	s := newTestServer(t, nil)
	s.proxy.setHook(func(w http.ResponseWriter, r *http.Request, _ []byte) bool {
		<-r.Context().Done()
		return true
	})
	_, err := Connect(testContext(t), Options{URL: s.url, ProtocolVersion: mcp.LatestVersion, RequestTimeout: 100 * time.Millisecond})
	var te *TimeoutError
	if !errors.As(err, &te) || te.Method != mcp.MethodInitialize {
		t.Fatalf("error %v, want an initialize timeout", err)
	}
	if n := s.proxy.count(http.MethodPost, mcp.NotificationCancelled); n != 0 {
		t.Errorf("initialize was cancelled with a notification (%d); the spec forbids it", n)
	}
}

// slowLogin is an Authorizer whose Challenge takes longer than the request
// timeout, as a person logging in through the browser does.
type slowLogin struct {
	renewingAuth
	hold time.Duration
}

func (a *slowLogin) Challenge(ctx context.Context, resp *http.Response) error {
	t := time.NewTimer(a.hold)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
		return context.Cause(ctx)
	}
	return a.renewingAuth.Challenge(ctx, resp)
}

// The request timeout measures the server, not the login a 401 leads to:
// a Challenge that outlasts RequestTimeout still ends in a session.
func TestTimeoutPausedDuringChallenge(t *testing.T) {
	checkGoroutines(t)
	s := newTestServerWith(t, nil, server.HandlerOptions{Auth: tokenAuth})
	const limit = 2 * time.Second // what the exchanges themselves may take, on a loaded machine
	auth := &slowLogin{renewingAuth: renewingAuth{tokens: []string{"stale", "good"}}, hold: limit + limit/2}
	c, err := Connect(testContext(t), Options{URL: s.url, ProtocolVersion: mcp.LatestVersion, Auth: auth, RequestTimeout: limit})
	if err != nil {
		t.Fatalf("connect with a login longer than the request timeout: %v", err)
	}
	defer c.Disconnect()
	if got := auth.challenges; !equalInts(got, []int{401}) {
		t.Errorf("challenges %v, want one 401", got)
	}
	if err := c.Ping(testContext(t)); err != nil {
		t.Fatal(err)
	}
}

// A call whose context has already ended is not sent, so the server is
// not told to cancel anything either.
func TestCallWithEndedContext(t *testing.T) {
	checkGoroutines(t)
	s := newTestServer(t, nil)
	c := connect(t, Options{URL: s.url, ProtocolVersion: mcp.LatestVersion})
	ctx, cancel := context.WithCancel(testContext(t))
	cancel()
	if _, err := c.CallTool(ctx, "greet", nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
	c.wg.Wait() // any notification in flight (no GET stream was asked for)
	for _, m := range []string{mcp.MethodToolsCall, mcp.NotificationCancelled} {
		if n := s.proxy.count(http.MethodPost, m); n != 0 {
			t.Errorf("%d %s requests for a call whose context had ended", n, m)
		}
	}
}
