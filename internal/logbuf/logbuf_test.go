package logbuf

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
	n  int // writes
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.n++
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestBuffersFlushesAndKeepsLinesWhole(t *testing.T) {
	out := &syncBuf{}
	w := New(out, 64, 20*time.Millisecond)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 50 {
				fmt.Fprintf(w, "g%d line %d %s\n", g, i, strings.Repeat("x", g*5))
			}
		})
	}
	wg.Wait()
	deadline := time.Now().Add(2 * time.Second)
	for strings.Count(out.String(), "\n") < 400 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 400 {
		t.Fatalf("%d lines reached the writer by the interval", len(lines))
	}
	for _, l := range lines {
		if !strings.HasPrefix(l, "g") || strings.Count(l, "line") != 1 {
			t.Fatalf("torn line %q", l)
		}
	}
	if out.n >= 400 {
		t.Errorf("%d writes for 400 lines: not buffered", out.n)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	fmt.Fprint(w, "after close\n")
	if !strings.HasSuffix(out.String(), "after close\n") {
		t.Error("write after Close lost")
	}
	_ = w.Close()
}
