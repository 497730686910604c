package lambdaemu

import (
	"bytes"
	"errors"
	"io"
	"sync"
)

// stream carries a response from the Runtime API handler to the invoker.
// Unlike io.Pipe it buffers, so a function never waits for a slow (or
// absent) reader and its instance frees up when it is done, as on Lambda;
// the handler bounds the total.
type stream struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	end     error // io.EOF or the *FunctionError the response ended with
	rclosed bool
	ready   chan struct{} // a token after each change, for the blocked reader
}

func newStream() *stream { return &stream{ready: make(chan struct{}, 1)} }

func (s *stream) signal() {
	select {
	case s.ready <- struct{}{}:
	default:
	}
}

// write appends p; it drops it once either side closed.
func (s *stream) write(p []byte) {
	s.mu.Lock()
	if s.end == nil && !s.rclosed {
		s.buf.Write(p)
	}
	s.mu.Unlock()
	s.signal()
}

// closeWrite ends the stream with end (io.EOF or a *FunctionError) after
// what was written; only the first call counts.
func (s *stream) closeWrite(end error) {
	s.mu.Lock()
	if s.end == nil {
		s.end = end
	}
	s.mu.Unlock()
	s.signal()
}

// Read blocks until there are bytes or the stream ended.
func (s *stream) Read(p []byte) (int, error) {
	for {
		s.mu.Lock()
		switch {
		case s.rclosed:
			s.mu.Unlock()
			return 0, io.ErrClosedPipe
		case s.buf.Len() > 0:
			n, _ := s.buf.Read(p)
			s.mu.Unlock()
			return n, nil
		case s.end != nil:
			end := s.end
			s.mu.Unlock()
			return 0, end
		}
		s.mu.Unlock()
		<-s.ready
	}
}

// Close discards the rest of the stream and unblocks a pending Read.
func (s *stream) Close() error {
	s.mu.Lock()
	s.rclosed = true
	s.buf = bytes.Buffer{}
	s.mu.Unlock()
	s.signal()
	return nil
}

// resultBody is Result.Body: it records a failure in the Result in the
// reader's own goroutine, so reading FunctionError after Read needs no
// locking.
type resultBody struct {
	s   *stream
	res *Result
}

func (b *resultBody) Read(p []byte) (int, error) {
	n, err := b.s.Read(p)
	var fe *FunctionError
	if errors.As(err, &fe) && b.res.FunctionError == nil {
		b.res.FunctionError = fe
	}
	return n, err
}

func (b *resultBody) Close() error { return b.s.Close() }
