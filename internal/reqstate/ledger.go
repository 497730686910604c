package reqstate

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

var (
	// ErrReplayed: the state id was consumed before.
	ErrReplayed = errors.New("reqstate: request state already used")
	// ErrLedgerFull: a MemoryLedger is full of unexpired ids and refuses
	// new ones rather than forget old ones.
	ErrLedgerFull = errors.New("reqstate: request state ledger full")
)

// Ledger remembers consumed state ids, so that a state is used at most
// once.
type Ledger interface {
	// Consume records id, remembering it at least until expires. It
	// returns nil the first time, an error wrapping ErrReplayed when id was
	// consumed before, and another error when it cannot tell (then the
	// state must be refused: failing open would allow a replay). Consuming
	// an id whose expires has passed is ErrExpired.
	Consume(ctx context.Context, id string, expires time.Time) error
}

// DefaultLedgerSize is the capacity of NewMemoryLedger(0).
const DefaultLedgerSize = 100_000

// MemoryLedger is a Ledger in this process's memory: single use holds per
// instance only. It holds at most a fixed number of ids; expired ids are
// dropped as new ones arrive, and when it is full of unexpired ids Consume
// returns ErrLedgerFull. It is safe for concurrent use.
type MemoryLedger struct {
	mu    sync.Mutex
	max   int
	seen  map[string]time.Time
	queue expiryQueue

	// Now is the clock; time.Now by default. Set it before use.
	Now func() time.Time
}

var _ Ledger = (*MemoryLedger)(nil)

// NewMemoryLedger returns a MemoryLedger holding at most max ids (0:
// DefaultLedgerSize).
func NewMemoryLedger(max int) *MemoryLedger {
	if max <= 0 {
		max = DefaultLedgerSize
	}
	return &MemoryLedger{max: max, seen: map[string]time.Time{}, Now: time.Now}
}

func (l *MemoryLedger) now() time.Time {
	if l.Now != nil {
		return l.Now()
	}
	return time.Now()
}

// Consume implements Ledger.
func (l *MemoryLedger) Consume(ctx context.Context, id string, expires time.Time) error {
	if id == "" {
		return errors.New("reqstate: empty state id")
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	// Drop what has expired: those ids can no longer be presented.
	for len(l.queue) > 0 && !now.Before(l.queue[0].expires) {
		e := heap.Pop(&l.queue).(entry)
		delete(l.seen, e.id)
	}
	if _, ok := l.seen[id]; ok {
		return ErrReplayed
	}
	if !now.Before(expires) {
		return ErrExpired
	}
	if len(l.seen) >= l.max {
		return fmt.Errorf("%w: %d unexpired request states", ErrLedgerFull, len(l.seen))
	}
	l.seen[id] = expires
	heap.Push(&l.queue, entry{id: id, expires: expires})
	return nil
}

// Len returns the number of ids held (some may have expired since the last
// Consume).
func (l *MemoryLedger) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.seen)
}

type entry struct {
	id      string
	expires time.Time
}

// expiryQueue is a min-heap of entries by expiry.
type expiryQueue []entry

func (q expiryQueue) Len() int           { return len(q) }
func (q expiryQueue) Less(i, j int) bool { return q[i].expires.Before(q[j].expires) }
func (q expiryQueue) Swap(i, j int)      { q[i], q[j] = q[j], q[i] }
func (q *expiryQueue) Push(x any)        { *q = append(*q, x.(entry)) }
func (q *expiryQueue) Pop() any {
	old := *q
	e := old[len(old)-1]
	old[len(old)-1] = entry{}
	*q = old[:len(old)-1]
	return e
}
