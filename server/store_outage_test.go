package server

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"mcplambda/mcp"
)

// outageStore is a store that can be made to fail every call the way an
// unreachable or throttling DynamoDB does (an error that is not
// ErrSessionNotFound).
type outageStore struct {
	SessionStore
	down       atomic.Bool
	deleteDown atomic.Bool // only Delete fails
}

var errOutage = errors.New("operation error DynamoDB: GetItem, dial tcp 127.0.0.1:9: connect: connection refused")

func (s *outageStore) Create(ctx context.Context, st *SessionState) error {
	if s.down.Load() {
		return errOutage
	}
	return s.SessionStore.Create(ctx, st)
}

func (s *outageStore) Load(ctx context.Context, id string) (*SessionState, error) {
	if s.down.Load() {
		return nil, errOutage
	}
	return s.SessionStore.Load(ctx, id)
}

func (s *outageStore) Update(ctx context.Context, st *SessionState) error {
	if s.down.Load() {
		return errOutage
	}
	return s.SessionStore.Update(ctx, st)
}

func (s *outageStore) Delete(ctx context.Context, id string) error {
	if s.down.Load() || s.deleteDown.Load() {
		return errOutage
	}
	return s.SessionStore.Delete(ctx, id)
}

// A store outage is a retryable 503 with Retry-After for every kind of
// request, ends no live session, and loses none: once the store is back
// the same session serves calls and can be deleted.
func TestStoreOutageIsRetryable(t *testing.T) {
	cfg := testConfig()
	store := &outageStore{SessionStore: NewMemoryStore(cfg.SessionTTL, cfg.MaxSessions)}
	e := newEnv(t, cfg, HandlerOptions{Store: store}, nil)
	sid := e.initialize(mcp.Version20251125, nil)
	e.h.sessions.mu.RLock()
	ls := e.h.sessions.live[sid]
	e.h.sessions.mu.RUnlock()
	if ls == nil {
		t.Fatal("the new session is not live")
	}
	call := `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"echo","arguments":{"text":"x"}}}`

	store.down.Store(true)
	for _, tc := range []struct {
		name, method, sid, body string
		hdr                     map[string]string
	}{
		{"initialize", http.MethodPost, "", initBody(mcp.Version20251125), nil},
		{"tools/call", http.MethodPost, sid, call, nil},
		{"GET stream", http.MethodGet, sid, "", map[string]string{"Accept": "text/event-stream"}},
		{"DELETE", http.MethodDelete, sid, "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do(tc.method, tc.sid, tc.body, tc.hdr)
			if r.status != http.StatusServiceUnavailable || r.header.Get("Retry-After") != "2" {
				t.Fatalf("got %d Retry-After %q (%s), want 503 with Retry-After 2", r.status, r.header.Get("Retry-After"), r.body)
			}
			if m := r.msg(t); m.Error == nil || m.Error.Code != mcp.CodeServerError {
				t.Fatalf("body %s: want a JSON-RPC error %d", r.body, mcp.CodeServerError)
			}
		})
	}
	select {
	case <-ls.closed:
		t.Fatal("the outage ended the live session (its streams and replay buffers are lost)")
	default:
	}

	store.down.Store(false)
	if r := e.post(sid, call); r.status != http.StatusOK {
		t.Fatalf("after the outage, tools/call: %d %s", r.status, r.body)
	}
	// A DELETE the store fails to apply must say so: a 200 would leave the
	// session in the store, to be served again until its TTL.
	store.deleteDown.Store(true)
	if r := e.do(http.MethodDelete, sid, "", nil); r.status != http.StatusServiceUnavailable || r.header.Get("Retry-After") == "" {
		t.Fatalf("DELETE the store could not apply: %d Retry-After %q %s, want 503 with Retry-After", r.status, r.header.Get("Retry-After"), r.body)
	}
	store.deleteDown.Store(false)
	if r := e.do(http.MethodDelete, sid, "", nil); r.status != http.StatusOK {
		t.Fatalf("DELETE retried: %d %s", r.status, r.body)
	}
	if r := e.post(sid, call); r.status != http.StatusNotFound {
		t.Fatalf("after DELETE, tools/call: %d %s, want 404", r.status, r.body)
	}
}

// deadlineStore counts the store calls made without a deadline of at most
// storeTimeout: a store that never answers would hold those requests.
type deadlineStore struct {
	SessionStore
	calls, unbounded atomic.Int64
}

func (s *deadlineStore) check(ctx context.Context) {
	s.calls.Add(1)
	if dl, ok := ctx.Deadline(); !ok || time.Until(dl) > storeTimeout {
		s.unbounded.Add(1)
	}
}

func (s *deadlineStore) Create(ctx context.Context, st *SessionState) error {
	s.check(ctx)
	return s.SessionStore.Create(ctx, st)
}

func (s *deadlineStore) Load(ctx context.Context, id string) (*SessionState, error) {
	s.check(ctx)
	return s.SessionStore.Load(ctx, id)
}

func (s *deadlineStore) Update(ctx context.Context, st *SessionState) error {
	s.check(ctx)
	return s.SessionStore.Update(ctx, st)
}

func (s *deadlineStore) Delete(ctx context.Context, id string) error {
	s.check(ctx)
	return s.SessionStore.Delete(ctx, id)
}

// Every use of the store is bounded by storeTimeout, so a stalled store
// turns into a 503 within seconds rather than requests held until
// REQUEST_TIMEOUT.
func TestStoreCallsAreBounded(t *testing.T) {
	cfg := testConfig()
	store := &deadlineStore{SessionStore: NewMemoryStore(cfg.SessionTTL, cfg.MaxSessions)}
	e := newEnv(t, cfg, HandlerOptions{Store: store}, nil)
	sid := e.initialize(mcp.Version20251125, nil)
	for _, body := range []string{
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"x"}}}`,
		`{"jsonrpc":"2.0","id":2,"method":"logging/setLevel","params":{"level":"debug"}}`,
	} {
		if r := e.post(sid, body); r.status != http.StatusOK {
			t.Fatalf("%s: %d %s", body, r.status, r.body)
		}
	}
	if r := e.do(http.MethodDelete, sid, "", nil); r.status != http.StatusOK {
		t.Fatalf("DELETE: %d %s", r.status, r.body)
	}
	if store.calls.Load() == 0 || store.unbounded.Load() != 0 {
		t.Fatalf("%d of %d store calls had no deadline within %s", store.unbounded.Load(), store.calls.Load(), storeTimeout)
	}
}
