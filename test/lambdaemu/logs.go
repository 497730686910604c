package lambdaemu

import (
	"bytes"
	"io"
	"sync"
)

// maxLineBytes splits a line that never ends, so one cannot grow without
// bound.
const maxLineBytes = 64 << 10

// logSink collects the instances' output, one whole line at a time so that
// concurrent instances do not interleave mid-line.
type logSink struct {
	mu        sync.Mutex
	out       io.Writer // Options.Stderr, may be nil
	buf       bytes.Buffer
	truncated bool
}

func (s *logSink) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

func (s *logSink) emitLocked(prefix string, line []byte) {
	full := make([]byte, 0, len(prefix)+len(line)+1)
	full = append(append(append(full, prefix...), line...), '\n')
	if s.out != nil {
		_, _ = s.out.Write(full) // a failing test writer must not stop the function
	}
	switch {
	case s.buf.Len()+len(full) <= maxLogBytes:
		s.buf.Write(full)
	case !s.truncated:
		s.truncated = true
		s.buf.WriteString("[lambdaemu] output truncated\n")
	}
}

// writer returns a writer whose lines go to the sink prefixed by prefix.
func (s *logSink) writer(prefix string) *lineWriter {
	return &lineWriter{sink: s, prefix: prefix}
}

type lineWriter struct {
	sink    *logSink
	prefix  string
	partial []byte // guarded by sink.mu
}

func (w *lineWriter) Write(p []byte) (int, error) {
	n := len(p)
	w.sink.mu.Lock()
	defer w.sink.mu.Unlock()
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			w.partial = append(w.partial, p...)
			if len(w.partial) >= maxLineBytes {
				w.sink.emitLocked(w.prefix, w.partial)
				w.partial = w.partial[:0]
			}
			break
		}
		if len(w.partial) > 0 {
			w.partial = append(w.partial, p[:i]...)
			w.sink.emitLocked(w.prefix, w.partial)
			w.partial = w.partial[:0]
		} else {
			w.sink.emitLocked(w.prefix, p[:i])
		}
		p = p[i+1:]
	}
	return n, nil
}

// flush emits an unterminated last line.
func (w *lineWriter) flush() {
	w.sink.mu.Lock()
	defer w.sink.mu.Unlock()
	if len(w.partial) > 0 {
		w.sink.emitLocked(w.prefix, w.partial)
		w.partial = nil
	}
}
