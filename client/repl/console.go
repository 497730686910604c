package repl

import (
	"fmt"
	"io"
	"math"
	"strings"
	"sync"

	"mcplambda/client/repl/lineedit"
	"mcplambda/mcp"
)

// console serialises what the REPL writes: results from the command loop,
// and notifications, progress and logs from the client's goroutines. On a
// terminal it keeps one progress bar drawn on the last line of Err, cleared
// before anything else is written and drawn again after. With the line
// editor, everything goes above the line being typed (Editor.Above).
type console struct {
	mu   sync.Mutex
	out  io.Writer // results and notifications
	err  io.Writer // errors, progress, diagnostics
	term bool      // err is a terminal: redraw the bar in place
	bar  string    // the bar currently drawn ("" = none)
	edit *lineedit.Editor
}

// around runs a write with the line being edited, if any, out of its
// way. Called with mu held.
func (c *console) around(write func()) {
	if c.edit == nil {
		write()
		return
	}
	c.edit.Above(write)
}

const barWidth = 24

// clearBar must be called with mu held.
func (c *console) clearBar() {
	if c.bar != "" {
		io.WriteString(c.err, "\r\x1b[K")
	}
}

// redrawBar must be called with mu held.
func (c *console) redrawBar() {
	if c.bar != "" {
		io.WriteString(c.err, c.bar)
	}
}

func (c *console) write(w io.Writer, s string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.around(func() {
		if c.term {
			c.clearBar()
		}
		io.WriteString(w, s)
		if c.term {
			c.redrawBar()
		}
	})
}

// Printf writes a result line (a newline is added when missing).
func (c *console) Printf(format string, args ...any) {
	c.write(c.out, line(fmt.Sprintf(format, args...)))
}

// Errorf writes a diagnostic line to Err.
func (c *console) Errorf(format string, args ...any) {
	c.write(c.err, line(fmt.Sprintf(format, args...)))
}

// Prompt writes s without a newline.
func (c *console) Prompt(s string) {
	c.write(c.out, s)
}

func line(s string) string {
	if !strings.HasSuffix(s, "\n") {
		s += "\n"
	}
	return s
}

// logWriter sends the client's slog output through the console, so debug
// traffic does not tear the progress bar.
type logWriter struct{ c *console }

func (w logWriter) Write(p []byte) (int, error) {
	w.c.write(w.c.err, string(p))
	return len(p), nil
}

// Progress shows one progress notification: the bar redrawn in place on a
// terminal, one plain line per notification otherwise.
func (c *console) Progress(p mcp.ProgressParams) {
	text := progressText(p)
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.term {
		c.around(func() { io.WriteString(c.err, "progress: "+text+"\n") })
		return
	}
	c.around(func() {
		c.clearBar()
		c.bar = text
		c.redrawBar()
	})
}

// EndProgress finishes the bar of a call, leaving its last state on screen.
func (c *console) EndProgress() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.bar != "" {
		c.around(func() { io.WriteString(c.err, "\n") })
		c.bar = ""
	}
}

// DropProgress erases the bar of a call being cancelled (its last state
// means nothing any more) and reports whether there was one on screen.
func (c *console) DropProgress() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	drawn := c.term && c.bar != ""
	if drawn {
		c.around(c.clearBar)
	}
	c.bar = ""
	return drawn
}

// progressText renders a progress notification: a bar and a percentage
// when the total is known, the bare count otherwise (a report reading an
// unknown number of log events).
func progressText(p mcp.ProgressParams) string {
	msg := strings.Join(strings.Fields(sanitize(p.Message)), " ")
	if msg != "" {
		msg = " " + msg
	}
	if p.Total != nil && *p.Total > 0 {
		frac := p.Progress / *p.Total
		frac = math.Max(0, math.Min(1, frac))
		n := int(frac*barWidth + 0.5)
		return fmt.Sprintf("[%s%s] %3.0f%% %s/%s%s", strings.Repeat("#", n), strings.Repeat("-", barWidth-n),
			frac*100, num(p.Progress), num(*p.Total), msg)
	}
	// Without a total the message usually carries the count already.
	if msg == "" {
		msg = " " + num(p.Progress)
	}
	return fmt.Sprintf("[%s]%s", strings.Repeat("~", barWidth), msg)
}

func num(f float64) string {
	if f == math.Trunc(f) && math.Abs(f) < 1e15 {
		return fmt.Sprintf("%d", int64(f))
	}
	return fmt.Sprintf("%.2f", f)
}

// sanitize drops control characters from text the server chose, so a
// message cannot move the cursor or rewrite the terminal.
func sanitize(s string) string {
	if strings.IndexFunc(s, isControl) < 0 {
		return s
	}
	return strings.Map(func(r rune) rune {
		if isControl(r) {
			return -1
		}
		return r
	}, s)
}

func isControl(r rune) bool {
	return (r < 0x20 && r != '\n' && r != '\t') || r == 0x7f || (r >= 0x80 && r < 0xa0)
}
