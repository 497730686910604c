package server

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"
)

// sessionTable is this instance's view of the sessions: the state in the
// SessionStore, which any instance can read, and the live part of each
// session this instance serves (liveSession: streams, calls in flight). It
// creates sessions, finds them (adopting those another instance created),
// and ends them: on DELETE, after the idle TTL, or when the store no longer
// has them. It knows nothing of HTTP.
type sessionTable struct {
	store   SessionStore
	ttl     time.Duration
	now     func() time.Time
	log     *slog.Logger
	newLive func(*SessionState) *liveSession

	mu   sync.RWMutex
	live map[string]*liveSession
	// owned counts the sessions live here per authenticated principal,
	// for the quota (MAX_SESSIONS_PER_PRINCIPAL). It is this instance's
	// count: a shared store would need a scan or a counter item written on
	// every create and end, and a Lambda fleet would contend on it.
	owned map[string]int
	quota int
	// updateMu serialises read-modify-write of session state in the store
	// (setLevel, subscribe): rare, and racy without it.
	updateMu sync.Mutex

	stop    chan struct{}
	ticker  *time.Ticker
	stopped chan struct{}
}

// storeTimeout bounds each use of the session store. A store that accepts
// connections but never answers (a network black hole, a stalled endpoint)
// would otherwise hold every request of the session era until
// REQUEST_TIMEOUT (5 min by default); bounded, the client gets a 503 with
// Retry-After. 5 s leaves room for the SDK's own retries of throttling.
const storeTimeout = 5 * time.Second

// sweepingStore is a store that expires idle sessions itself and reports
// which (MemoryStore); the table then ends their live part. A shared store
// (DynamoDB) expires sessions on its own schedule, and the table notices
// when a lookup misses.
type sweepingStore interface {
	sweep() []string
}

// errPrincipalSessionLimit: the principal holds its quota of sessions.
var errPrincipalSessionLimit = errors.New("session quota of the principal reached")

func newSessionTable(store SessionStore, ttl time.Duration, quota int, log *slog.Logger, newLive func(*SessionState) *liveSession) *sessionTable {
	now := time.Now
	if ms, ok := store.(*MemoryStore); ok {
		// One clock for the idle time kept here and the store's expiry, so
		// the two cannot disagree about a session (and a test can drive
		// both through the store's).
		now = ms.now
	}
	t := &sessionTable{
		owned:   map[string]int{},
		quota:   quota,
		store:   store,
		ttl:     ttl,
		now:     now,
		log:     log,
		newLive: newLive,
		live:    map[string]*liveSession{},
		stop:    make(chan struct{}),
		stopped: make(chan struct{}),
	}
	interval := time.Minute
	if ttl > 0 {
		interval = min(max(ttl/4, time.Second), time.Minute)
	}
	t.ticker = time.NewTicker(interval)
	go t.sweepLoop()
	return t
}

// close stops the sweeper and closes every session's standalone streams;
// sessions stay in the store for another instance (or a restart) to serve.
func (t *sessionTable) close() {
	close(t.stop)
	t.ticker.Stop()
	<-t.stopped
	for _, ls := range t.all() {
		ls.closeStandalone()
	}
}

// create stores a new session and makes it live here. The store's errors
// (ErrSessionLimit, an outage) are returned as they are.
func (t *sessionTable) create(ctx context.Context, state *SessionState) (*liveSession, error) {
	// The quota is taken before the store is asked, so concurrent
	// initializes cannot all slip under it.
	p := state.Principal
	if p != "" {
		t.mu.Lock()
		if t.quota > 0 && t.owned[p] >= t.quota {
			t.mu.Unlock()
			return nil, errPrincipalSessionLimit
		}
		t.owned[p]++
		t.mu.Unlock()
	}
	ctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	if err := t.store.Create(ctx, state); err != nil {
		if p != "" {
			t.mu.Lock()
			t.disownLocked(p)
			t.mu.Unlock()
		}
		return nil, err
	}
	ls := t.newLive(state)
	t.mu.Lock()
	t.live[state.ID] = ls
	t.mu.Unlock()
	return ls, nil
}

func (t *sessionTable) disownLocked(principal string) {
	if principal == "" {
		return
	}
	if t.owned[principal]--; t.owned[principal] <= 0 {
		delete(t.owned, principal)
	}
}

// sessionsOf is how many sessions of principal live here.
func (t *sessionTable) sessionsOf(principal string) int {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.owned[principal]
}

// lookup finds session id for the principal whose key is owner. A session
// that does not exist, has ended or expired, or belongs to another
// principal is ErrSessionNotFound (all look alike to the caller); any other
// error is the store's. A session another instance created is adopted.
func (t *sessionTable) lookup(ctx context.Context, id, owner string) (*liveSession, error) {
	ctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	state, err := t.store.Load(ctx, id)
	if err != nil {
		// Only a session the store no longer has is ended here: an outage
		// must not cost a live session its running calls and replay
		// buffers, which the client resumes once the store is back.
		if errors.Is(err, ErrSessionNotFound) {
			if ls := t.forget(id); ls != nil {
				ls.end(errors.New("session no longer in the store"))
			}
		}
		return nil, err
	}
	if state.Principal != owner {
		return nil, ErrSessionNotFound
	}
	t.mu.RLock()
	ls := t.live[id]
	t.mu.RUnlock()
	if ls == nil {
		t.mu.Lock()
		if ls = t.live[id]; ls == nil {
			// Adopted from another instance: counted, never refused (the
			// session exists already).
			ls = t.newLive(state)
			t.live[id] = ls
			if ls.principal != "" {
				t.owned[ls.principal]++
			}
		}
		t.mu.Unlock()
	} else if ls.state.Load() != state {
		ls.setState(state)
	}
	ls.touch()
	return ls, nil
}

// end ends a session here and in the store, and returns the store's error
// (the live part ends regardless).
func (t *sessionTable) end(ls *liveSession, why string) error {
	t.forget(ls.id)
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	err := t.store.Delete(ctx, ls.id)
	ls.end(errors.New("session ended: " + why))
	t.log.Info("session ended", "session", ls.fingerprint, "reason", why)
	return err
}

func (t *sessionTable) forget(id string) *liveSession {
	t.mu.Lock()
	defer t.mu.Unlock()
	ls := t.live[id]
	if ls != nil {
		delete(t.live, id)
		t.disownLocked(ls.principal)
	}
	return ls
}

// all lists the sessions live here, for broadcasts and sweeps.
func (t *sessionTable) all() []*liveSession {
	t.mu.RLock()
	defer t.mu.RUnlock()
	out := make([]*liveSession, 0, len(t.live))
	for _, ls := range t.live {
		out = append(out, ls)
	}
	return out
}

func (t *sessionTable) count() int {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return len(t.live)
}

func (t *sessionTable) sweepLoop() {
	defer close(t.stopped)
	for {
		select {
		case <-t.stop:
			return
		case <-t.ticker.C:
			t.sweep()
		}
	}
}

// sweep ends sessions idle for longer than the TTL, and forgets the live
// part of sessions the store has expired.
func (t *sessionTable) sweep() {
	// Sessions with work in flight or a listening client stay alive.
	for _, ls := range t.all() {
		if ls.busy() {
			ls.keepFresh()
		}
	}
	if ss, ok := t.store.(sweepingStore); ok {
		for _, id := range ss.sweep() {
			if ls := t.forget(id); ls != nil {
				ls.end(errors.New("session expired"))
			}
		}
	}
	if t.ttl <= 0 {
		return
	}
	now := t.now()
	var idle []*liveSession
	for _, ls := range t.all() {
		if ls.idleFor(now) > t.ttl && !ls.busy() {
			idle = append(idle, ls)
		}
	}
	for _, ls := range idle {
		_ = t.end(ls, "expired after "+t.ttl.String()+" idle")
	}
}

// update applies change to a session's stored state.
func (t *sessionTable) update(ctx context.Context, id string, change func(*SessionState)) (*SessionState, error) {
	t.updateMu.Lock()
	defer t.updateMu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	cur, err := t.store.Load(ctx, id)
	if err != nil {
		return nil, err
	}
	next := cur.Clone()
	change(next)
	if err := t.store.Update(ctx, next); err != nil {
		return nil, err
	}
	return next, nil
}
