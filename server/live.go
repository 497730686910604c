package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"mcplambda/mcp"
)

// liveSession is what this instance holds for a session beyond its stored
// state: in-flight requests (to cancel them), pending server-to-client
// requests (to route the answers), and SSE streams (to resume them). None of
// it crosses instances.
type liveSession struct {
	h           *Handler
	id          string
	fingerprint string // safe to log: a hash prefix, never the id itself
	principal   string

	state      atomic.Pointer[SessionState]
	logSev     atomic.Int32
	lastActive atomic.Int64
	bufBytes   atomic.Int64 // bytes its streams keep for replay (SSE_BUFFER_BYTES)

	mu         sync.Mutex
	inflight   map[string]*callCtx
	pending    map[string]chan *mcp.Message
	streams    map[uint64]*stream
	order      []uint64  // stream ids, oldest first, for eviction
	getStreams []*stream // standalone GET streams, newest last
	nextStream uint64
	nextReq    int64
	slots      int // requests admitted and not yet answered (MAX_INFLIGHT_PER_SESSION)
	closed     chan struct{}
	ended      bool
}

func newLiveSession(h *Handler, st *SessionState) *liveSession {
	sum := sha256.Sum256([]byte(st.ID))
	ls := &liveSession{
		h:           h,
		id:          st.ID,
		fingerprint: hex.EncodeToString(sum[:4]),
		principal:   st.Principal,
		inflight:    map[string]*callCtx{},
		pending:     map[string]chan *mcp.Message{},
		streams:     map[uint64]*stream{},
		closed:      make(chan struct{}),
	}
	ls.setState(st)
	ls.touch()
	return ls
}

func (ls *liveSession) setState(st *SessionState) {
	ls.state.Store(st)
	sev := int32(0)
	if st.LogLevel != "" {
		sev = int32(st.LogLevel.Severity())
	}
	ls.logSev.Store(sev)
}

func (ls *liveSession) logSeverity() int { return int(ls.logSev.Load()) }

func (ls *liveSession) touch() { ls.lastActive.Store(ls.h.sessions.now().UnixNano()) }

// keepFresh marks the session used here and in the store, so a client that
// only listens (an open GET stream) does not see its session expire.
func (ls *liveSession) keepFresh() {
	ls.touch()
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	_, _ = ls.h.sessions.store.Load(ctx, ls.id)
}

// register keeps a stream for resumption (and, if standalone, for
// server-initiated messages) and returns its id, evicting the oldest
// streams beyond the per-session bound. It reports false when the session
// has already ended.
func (ls *liveSession) register(st *stream, standalone bool) (uint64, bool) {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	ls.nextStream++
	id := ls.nextStream
	if ls.ended {
		return id, false
	}
	ls.streams[id] = st
	ls.order = append(ls.order, id)
	if standalone {
		ls.getStreams = append(ls.getStreams, st)
	}
	for len(ls.order) > ls.h.cfg.MaxStreamsPerSession {
		oldID := ls.order[0]
		old := ls.streams[oldID]
		ls.order = ls.order[1:]
		delete(ls.streams, oldID)
		if i := slices.Index(ls.getStreams, old); i >= 0 {
			ls.getStreams = slices.Delete(ls.getStreams, i, i+1)
		}
		go old.close() // it may hold its own lock now; never wait for it under ours
	}
	return id, true
}

// closeStandalone closes the session's standalone streams (shutdown): their
// clients reconnect elsewhere.
func (ls *liveSession) closeStandalone() {
	ls.mu.Lock()
	gets := slices.Clone(ls.getStreams)
	ls.mu.Unlock()
	for _, st := range gets {
		st.close()
	}
}

func (ls *liveSession) stream(id uint64) *stream {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	return ls.streams[id]
}

// sendStandalone delivers a server-initiated message on exactly one
// standalone stream: the newest one with a connected client, else the
// newest one (buffered for a client that resumes it). With no GET stream
// open the message is dropped, as the transport allows.
func (ls *liveSession) sendStandalone(msg []byte) bool {
	ls.mu.Lock()
	cands := slices.Clone(ls.getStreams)
	ls.mu.Unlock()
	for i := len(cands) - 1; i >= 0; i-- {
		if cands[i].attached() && cands[i].send(msg) == nil {
			return true
		}
	}
	for i := len(cands) - 1; i >= 0; i-- {
		if cands[i].send(msg) == nil {
			return true
		}
	}
	return false
}

func (ls *liveSession) addInflight(id mcp.ID, c *callCtx) bool {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	if ls.ended {
		return false
	}
	ls.inflight[id.String()] = c
	return true
}

// acquireSlots admits n more requests unless the session would then have
// more than limit in flight.
func (ls *liveSession) acquireSlots(n, limit int) bool {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	if ls.slots+n > limit {
		return false
	}
	ls.slots += n
	return true
}

func (ls *liveSession) releaseSlots(n int) {
	ls.mu.Lock()
	ls.slots -= n
	ls.mu.Unlock()
}

func (ls *liveSession) removeInflight(id mcp.ID) {
	ls.mu.Lock()
	delete(ls.inflight, id.String())
	ls.mu.Unlock()
}

// Causes of a cancelled call. errCancelledByClient (notifications/cancelled)
// means the request gets no response.
var (
	errCancelledByClient = errors.New("cancelled by the client")
	errClientGone        = errors.New("the client disconnected")
	errRequestTimeout    = errors.New("request timed out (REQUEST_TIMEOUT)")
	errCallFinished      = errors.New("the request has finished")
)

func (ls *liveSession) cancelRequest(id mcp.ID, reason string) {
	ls.mu.Lock()
	c := ls.inflight[id.String()]
	ls.mu.Unlock()
	if c != nil {
		c.cancel(errCancelledByClient)
	}
}

func (ls *liveSession) busy() bool {
	ls.mu.Lock()
	n := len(ls.inflight)
	gets := slices.Clone(ls.getStreams)
	ls.mu.Unlock()
	if n > 0 {
		return true
	}
	return slices.ContainsFunc(gets, (*stream).attached)
}

// request sends a server-to-client request on out and waits for the
// client's answer, which arrives as a POSTed response (deliver).
func (ls *liveSession) request(ctx context.Context, out *stream, method string, params any) (json.RawMessage, error) {
	ls.mu.Lock()
	if ls.ended {
		ls.mu.Unlock()
		return nil, errors.New("session ended")
	}
	ls.nextReq++
	id := mcp.IntID(ls.nextReq)
	ch := make(chan *mcp.Message, 1)
	ls.pending[id.String()] = ch
	ls.mu.Unlock()
	defer func() {
		ls.mu.Lock()
		delete(ls.pending, id.String())
		ls.mu.Unlock()
	}()
	msg, err := mcp.AppendRequest(nil, id, method, params)
	if err != nil {
		return nil, err
	}
	if err := out.send(msg); err != nil {
		return nil, err
	}
	select {
	case resp := <-ch:
		if resp.Error != nil {
			return nil, fmt.Errorf("the client answered %s with error %d: %s", method, resp.Error.Code, resp.Error.Message)
		}
		return resp.Result, nil
	case <-ctx.Done():
		// Tell the client to stop working on it (best effort).
		if n, err := mcp.AppendRequest(nil, mcp.ID{}, mcp.NotificationCancelled, mcp.CancelledParams{RequestID: id, Reason: "the server no longer needs the answer"}); err == nil {
			_ = out.send(n)
		}
		return nil, ctxError(ctx)
	case <-ls.closed:
		return nil, errors.New("session ended while waiting for the client's answer")
	}
}

// deliver routes a client's response to the server request awaiting it.
func (ls *liveSession) deliver(m *mcp.Message) bool {
	ls.mu.Lock()
	ch := ls.pending[m.ID.String()]
	delete(ls.pending, m.ID.String())
	ls.mu.Unlock()
	if ch == nil {
		return false
	}
	ch <- m
	return true
}

// end cancels everything the session has running and closes its streams.
func (ls *liveSession) end(cause error) {
	ls.mu.Lock()
	if ls.ended {
		ls.mu.Unlock()
		return
	}
	ls.ended = true
	close(ls.closed)
	cancels := make([]*callCtx, 0, len(ls.inflight))
	for _, c := range ls.inflight {
		cancels = append(cancels, c)
	}
	streams := make([]*stream, 0, len(ls.streams))
	for _, st := range ls.streams {
		streams = append(streams, st)
	}
	ls.streams, ls.order, ls.getStreams = map[uint64]*stream{}, nil, nil
	ls.mu.Unlock()
	for _, c := range cancels {
		c.cancel(cause)
	}
	for _, st := range streams {
		st.close()
	}
}

// sessionOps for the dispatcher.

func (ls *liveSession) update(ctx context.Context, change func(*SessionState)) error {
	next, err := ls.h.sessions.update(ctx, ls.id, change)
	if err != nil {
		return mcp.Errorf(mcp.CodeInternalError, "could not save session state: %v", err)
	}
	ls.setState(next)
	return nil
}

func (ls *liveSession) setLogLevel(ctx context.Context, level mcp.LoggingLevel) error {
	return ls.update(ctx, func(s *SessionState) { s.LogLevel = level })
}

// maxSubscriptions bounds what one session can make us remember.
const maxSubscriptions = 1000

func (ls *liveSession) subscribe(ctx context.Context, uri string, on bool) error {
	if on && len(ls.state.Load().Subscriptions) >= maxSubscriptions && !slices.Contains(ls.state.Load().Subscriptions, uri) {
		return mcp.Errorf(mcp.CodeInvalidParams, "too many subscriptions (limit %d): unsubscribe from some first", maxSubscriptions)
	}
	return ls.update(ctx, func(s *SessionState) {
		i := slices.Index(s.Subscriptions, uri)
		switch {
		case on && i < 0:
			s.Subscriptions = append(s.Subscriptions, uri)
		case !on && i >= 0:
			s.Subscriptions = slices.Delete(s.Subscriptions, i, i+1)
		}
	})
}

func (ls *liveSession) subscribed(uri string) bool {
	return slices.Contains(ls.state.Load().Subscriptions, uri)
}

func (ls *liveSession) idleFor(now time.Time) time.Duration {
	return time.Duration(now.UnixNano() - ls.lastActive.Load())
}
