package repl

import (
	"context"
	"errors"
	"io"
	"sync"

	"mcplambda/client/repl/lineedit"
)

// termReader hands the line editor the terminal's bytes, and lets a wait
// for them end with a context (Ctrl-C at the prompt, the end of the command
// an elicitation belongs to), which a blocked read of a terminal cannot. A
// goroutine reads the terminal; it only moves bytes, and edits nothing
// until the REPL asks for a line.
type termReader struct {
	src  io.Reader
	stop <-chan struct{}

	start  sync.Once
	chunks chan []byte
	err    error // why chunks was closed; set before

	mu   sync.Mutex
	ctx  context.Context // of the ReadLine in progress
	rest []byte          // of a chunk that did not fit the last Read
}

func newTermReader(src io.Reader, stop <-chan struct{}) *termReader {
	return &termReader{src: src, stop: stop, chunks: make(chan []byte), ctx: context.Background()}
}

// use sets the context that ends the waits of the next ReadLine.
func (t *termReader) use(ctx context.Context) {
	t.mu.Lock()
	t.ctx = ctx
	t.mu.Unlock()
}

func (t *termReader) Read(p []byte) (int, error) {
	t.mu.Lock()
	ctx, rest := t.ctx, t.rest
	t.mu.Unlock()
	if len(rest) == 0 {
		t.start.Do(func() { go t.pump() })
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case b, ok := <-t.chunks:
			if !ok {
				return 0, t.err
			}
			rest = b
		}
	}
	n := copy(p, rest)
	t.mu.Lock()
	t.rest = rest[n:]
	t.mu.Unlock()
	return n, nil
}

// pump reads the terminal until it fails. The channel is unbuffered, so
// keys typed ahead stay in the terminal's queue until they are wanted.
func (t *termReader) pump() {
	for {
		buf := make([]byte, 4096)
		n, err := t.src.Read(buf)
		if n > 0 {
			select {
			case t.chunks <- buf[:n]:
			case <-t.stop:
				return
			}
		}
		if err != nil {
			t.err = err
			close(t.chunks)
			return
		}
	}
}

// errInterrupt is what editLine returns when Ctrl-C ended the wait.
var errInterrupt = errors.New("interrupted")

// editLine reads one line with the editor. ctx ends the wait; so does
// Ctrl-C when watchInterrupts is set (at the prompt: during a command,
// execLine owns the interrupts). A line past maxLine is refused with a
// message and read again.
func (r *REPL) editLine(ctx context.Context, prompt string, watchInterrupts bool) (string, error) {
	for {
		line, err := r.editOnce(ctx, prompt, watchInterrupts)
		if errors.Is(err, lineedit.ErrTooLong) {
			r.con.Errorf("Input line longer than %d bytes: ignored.", maxLine)
			continue
		}
		return line, err
	}
}

func (r *REPL) editOnce(ctx context.Context, prompt string, watchInterrupts bool) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	interrupted := make(chan bool, 1)
	if watchInterrupts && r.opts.Interrupts != nil {
		go func() {
			select {
			case <-r.opts.Interrupts:
				interrupted <- true
				cancel()
			case <-ctx.Done():
				interrupted <- false
			}
		}()
	} else {
		interrupted <- false
	}
	r.term.use(ctx)
	line, err := r.ed.ReadLine(prompt)
	cancel()
	// The watcher is gone before execLine listens for Ctrl-C: a signal is
	// never taken by both. One that came with the line wins over it.
	if <-interrupted || errors.Is(err, lineedit.ErrInterrupted) {
		return "", errInterrupt
	}
	return line, err
}

// runEdit is Run on a terminal with the line editor: the same loop, but
// the prompt belongs to the editor, and the editor has already ended the
// line when Ctrl-C or Ctrl-D comes.
func (r *REPL) runEdit(ctx context.Context) error {
	interrupted := false
	for {
		line, err := r.editLine(ctx, prompt, true)
		switch {
		case err == nil:
		case errors.Is(err, errInterrupt):
			if interrupted {
				return r.result()
			}
			interrupted = true
			r.con.Printf("(Ctrl-C again, quit or Ctrl-D to exit)")
			continue
		case ctx.Err() != nil || errors.Is(err, io.EOF):
			return r.result()
		default:
			r.con.Errorf("reading input: %v", err)
			r.failed++
			return r.result()
		}
		interrupted = false
		r.ed.AddHistory(line)
		if quit := r.execLine(ctx, line); quit {
			return r.result()
		}
	}
}
