package reqstate

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func newTestLedger(max int) (*MemoryLedger, *testClock) {
	l := NewMemoryLedger(max)
	clk := newTestClock()
	l.Now = clk.Now
	return l, clk
}

func TestMemoryLedgerReplay(t *testing.T) {
	ctx := context.Background()
	l, clk := newTestLedger(0)
	exp := clk.Now().Add(time.Minute)
	if err := l.Consume(ctx, "a", exp); err != nil {
		t.Fatal(err)
	}
	if err := l.Consume(ctx, "a", exp); !errors.Is(err, ErrReplayed) {
		t.Fatalf("second Consume: %v, want ErrReplayed", err)
	}
	// Another expiry does not make the same id new.
	if err := l.Consume(ctx, "a", exp.Add(time.Hour)); !errors.Is(err, ErrReplayed) {
		t.Fatalf("Consume with another expiry: %v, want ErrReplayed", err)
	}
	if err := l.Consume(ctx, "b", exp); err != nil {
		t.Fatal(err)
	}
	// Remembered until the expiry, not a moment less.
	clk.Advance(time.Minute - time.Nanosecond)
	if err := l.Consume(ctx, "a", exp); !errors.Is(err, ErrReplayed) {
		t.Fatalf("Consume just before expiry: %v, want ErrReplayed", err)
	}
	if err := l.Consume(ctx, "", exp); err == nil {
		t.Fatal("empty id accepted")
	}
	if err := l.Consume(ctx, "c", clk.Now()); !errors.Is(err, ErrExpired) {
		t.Fatalf("Consume of an expired id: %v, want ErrExpired", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := l.Consume(cctx, "d", exp); !errors.Is(err, context.Canceled) {
		t.Fatalf("Consume with a cancelled context: %v", err)
	}
	if NewMemoryLedger(0).max != DefaultLedgerSize {
		t.Fatal("NewMemoryLedger(0) is not DefaultLedgerSize")
	}
}

func TestMemoryLedgerEvictsExpired(t *testing.T) {
	ctx := context.Background()
	l, clk := newTestLedger(3)
	base := clk.Now()
	// Inserted out of expiry order.
	for i, d := range []time.Duration{3 * time.Minute, time.Minute, 2 * time.Minute} {
		if err := l.Consume(ctx, fmt.Sprint(i), base.Add(d)); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Consume(ctx, "x", base.Add(time.Hour)); !errors.Is(err, ErrLedgerFull) {
		t.Fatalf("Consume on a full ledger: %v, want ErrLedgerFull", err)
	}
	clk.Advance(time.Minute) // id 1 expires
	if err := l.Consume(ctx, "x", base.Add(time.Hour)); err != nil {
		t.Fatalf("Consume after an expiry freed room: %v", err)
	}
	if l.Len() != 3 {
		t.Fatalf("Len = %d, want 3", l.Len())
	}
	// The unexpired ones are still remembered.
	for _, id := range []string{"0", "2", "x"} {
		if err := l.Consume(ctx, id, base.Add(time.Hour)); !errors.Is(err, ErrReplayed) {
			t.Fatalf("Consume(%s): %v, want ErrReplayed", id, err)
		}
	}
	clk.Advance(5 * time.Minute) // 0 and 2 expire
	if err := l.Consume(ctx, "y", base.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if l.Len() != 2 {
		t.Fatalf("Len = %d after expiries, want 2", l.Len())
	}
}

// A ledger full of unexpired ids refuses; it never forgets one to make
// room, so no state can be replayed because of load.
func TestMemoryLedgerFullRefuses(t *testing.T) {
	ctx := context.Background()
	const n = 100
	l, clk := newTestLedger(n)
	exp := clk.Now().Add(time.Minute)
	for i := range n {
		if err := l.Consume(ctx, fmt.Sprint(i), exp); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 10 {
		if err := l.Consume(ctx, fmt.Sprint("new", i), exp); !errors.Is(err, ErrLedgerFull) {
			t.Fatalf("Consume on a full ledger: %v, want ErrLedgerFull", err)
		}
	}
	for i := range n {
		if err := l.Consume(ctx, fmt.Sprint(i), exp); !errors.Is(err, ErrReplayed) {
			t.Fatalf("id %d forgotten: %v", i, err)
		}
	}
}

func TestMemoryLedgerConcurrent(t *testing.T) {
	ctx := context.Background()
	l, clk := newTestLedger(1000)
	const ids, goroutines = 50, 8
	exp := clk.Now().Add(time.Minute)
	var wins [ids]atomic.Int32
	var wg sync.WaitGroup
	errs := make(chan error, ids*goroutines)
	for range goroutines {
		wg.Go(func() {
			for i := range ids {
				switch err := l.Consume(ctx, fmt.Sprint(i), exp); {
				case err == nil:
					wins[i].Add(1)
				case !errors.Is(err, ErrReplayed):
					errs <- err
				}
				clk.Advance(time.Millisecond)
				_ = l.Len()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for i := range ids {
		if n := wins[i].Load(); n != 1 {
			t.Errorf("id %d consumed %d times, want 1", i, n)
		}
	}
}

func TestRedeemConcurrent(t *testing.T) {
	s, clk := newTestSealer(t, time.Minute)
	l := NewMemoryLedger(100)
	l.Now = clk.Now
	tok, err := s.Seal(testBinding, []byte("once"))
	if err != nil {
		t.Fatal(err)
	}
	var ok atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if _, err := s.Redeem(context.Background(), tok, testBinding, l); err == nil {
				ok.Add(1)
			} else if !errors.Is(err, ErrReplayed) {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if ok.Load() != 1 {
		t.Fatalf("%d Redeems succeeded, want 1", ok.Load())
	}
}
