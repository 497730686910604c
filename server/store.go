package server

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"mcplambda/mcp"
)

// SessionState is the part of a session that any instance of the server can
// serve it from: what a DynamoDB-backed store persists. Values returned by a
// store are shared and must not be modified; Update takes a modified copy.
type SessionState struct {
	ID                 string                 `json:"session_id"`
	Principal          string                 `json:"principal"` // Principal.Key() of the creator; "" when auth is off
	ProtocolVersion    string                 `json:"protocol_version"`
	ClientInfo         mcp.Implementation     `json:"client_info"`
	ClientCapabilities mcp.ClientCapabilities `json:"client_capabilities"`
	LogLevel           mcp.LoggingLevel       `json:"log_level,omitempty"`
	Subscriptions      []string               `json:"subscriptions,omitempty"`
	CreatedAt          time.Time              `json:"created_at"`
}

// Clone returns a copy that may be modified and passed to Update.
func (s *SessionState) Clone() *SessionState {
	c := *s
	c.Subscriptions = slices.Clone(s.Subscriptions)
	return &c
}

// Errors a SessionStore returns.
var (
	ErrSessionNotFound = errors.New("session not found")
	ErrSessionLimit    = errors.New("session limit reached")
)

// SessionStore keeps session state where every instance of the server can
// find it. The in-memory store serves one process; a shared store (DynamoDB)
// lets a request land on any instance.
type SessionStore interface {
	// Create stores a new session; ErrSessionLimit when full.
	Create(ctx context.Context, s *SessionState) error
	// Load returns a live session and marks it used (extending its idle
	// expiry); ErrSessionNotFound when it does not exist or has expired.
	Load(ctx context.Context, id string) (*SessionState, error)
	// Update replaces a session's state; ErrSessionNotFound if it is gone.
	Update(ctx context.Context, s *SessionState) error
	// Delete ends a session; deleting an unknown session is not an error.
	Delete(ctx context.Context, id string) error
}

// MemoryStore is a SessionStore in this process's memory, with an idle TTL
// and a cap on live sessions. Expired sessions are removed lazily and by
// sweep.
type MemoryStore struct {
	ttl   time.Duration
	limit int
	now   func() time.Time

	mu       sync.RWMutex
	sessions map[string]*memEntry
}

type memEntry struct {
	state    atomic.Pointer[SessionState]
	lastUsed atomic.Int64 // unix nanoseconds
}

// NewMemoryStore returns a store whose sessions expire after ttl without
// use; at most limit sessions live at once (0 = no limit).
func NewMemoryStore(ttl time.Duration, limit int) *MemoryStore {
	return &MemoryStore{ttl: ttl, limit: limit, now: time.Now, sessions: map[string]*memEntry{}}
}

func (m *MemoryStore) expired(e *memEntry, now int64) bool {
	return m.ttl > 0 && now-e.lastUsed.Load() > int64(m.ttl)
}

func (m *MemoryStore) Create(_ context.Context, s *SessionState) error {
	now := m.now().UnixNano()
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.limit > 0 && len(m.sessions) >= m.limit {
		m.sweepLocked(now)
		if len(m.sessions) >= m.limit {
			return ErrSessionLimit
		}
	}
	e := &memEntry{}
	e.state.Store(s)
	e.lastUsed.Store(now)
	m.sessions[s.ID] = e
	return nil
}

func (m *MemoryStore) Load(_ context.Context, id string) (*SessionState, error) {
	m.mu.RLock()
	e := m.sessions[id]
	m.mu.RUnlock()
	now := m.now().UnixNano()
	if e == nil || m.expired(e, now) {
		return nil, ErrSessionNotFound
	}
	e.lastUsed.Store(now)
	return e.state.Load(), nil
}

func (m *MemoryStore) Update(_ context.Context, s *SessionState) error {
	m.mu.RLock()
	e := m.sessions[s.ID]
	m.mu.RUnlock()
	if e == nil {
		return ErrSessionNotFound
	}
	e.state.Store(s)
	return nil
}

func (m *MemoryStore) Delete(_ context.Context, id string) error {
	m.mu.Lock()
	delete(m.sessions, id)
	m.mu.Unlock()
	return nil
}

// sweep removes expired sessions and returns their ids.
func (m *MemoryStore) sweep() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.sweepLocked(m.now().UnixNano())
}

func (m *MemoryStore) sweepLocked(now int64) []string {
	var gone []string
	for id, e := range m.sessions {
		if m.expired(e, now) {
			delete(m.sessions, id)
			gone = append(gone, id)
		}
	}
	return gone
}

// Len returns the number of stored sessions (expired ones included until
// swept).
func (m *MemoryStore) Len() int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return len(m.sessions)
}
