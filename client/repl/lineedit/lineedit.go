// Package lineedit is a small line editor for a terminal: history (Up and
// Down), cursor movement, the usual Emacs-style keys and Ctrl-R incremental
// reverse search. It reads key bytes from an io.Reader and draws on an
// io.Writer, and knows nothing about what the lines mean, so tests drive it
// with byte strings and no terminal.
//
// It is written here on the standard library rather than taken from
// golang.org/x/term: x/term's editor has no reverse search, and it would
// add two modules (x/term and x/sys) to a dependency list that auditors
// read. Raw mode (MakeRaw) is a pair of termios ioctls through package
// syscall on Linux, macOS and the BSDs; elsewhere MakeRaw reports
// ErrUnsupported and the caller keeps reading plain lines.
//
// History lives in memory only, for the life of the Editor: command lines
// can carry secrets (auth arguments, tool-call JSON), and nothing that is
// never written to disk can leak from it.
package lineedit

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// Defaults of Options.
const (
	DefaultMaxLine    = 1 << 20
	DefaultMaxHistory = 500
	defaultWidth      = 80
	// maxQuery bounds a reverse-search query: it is typed, not pasted.
	maxQuery = 1024
	// maxSeq bounds an escape sequence: longer ones are garbage and dropped.
	maxSeq = 32
)

var (
	// ErrTooLong is returned by ReadLine when the line grew past
	// Options.MaxLine: what did not fit was refused as it came, and the
	// whole line is discarded at Enter rather than run cut short.
	ErrTooLong = errors.New("line too long")
	// ErrInterrupted is returned when a Ctrl-C byte reaches the editor (a
	// terminal with ISIG off); with ISIG on, Ctrl-C is a signal instead.
	ErrInterrupted = errors.New("interrupted")
	// ErrUnsupported is MakeRaw's answer where this package has no raw
	// mode: Windows, and OpenBSD, whose kernel refuses the direct system
	// calls package syscall makes. Callers read plain lines there.
	ErrUnsupported = errors.New("line editing is not supported on this system")
)

// Options tune an Editor; the zero value takes the defaults.
type Options struct {
	MaxLine    int        // bytes in a line (DefaultMaxLine)
	MaxHistory int        // entries kept (DefaultMaxHistory)
	Width      func() int // the terminal's columns now; nil or <= 0: 80
}

// Editor edits one line at a time. ReadLine is called from one goroutine
// at a time; Above and AddHistory may be called from any goroutine.
type Editor struct {
	in   io.Reader
	out  io.Writer
	opts Options

	// Owned by the goroutine in ReadLine.
	rbuf    []byte
	pending []byte // read and not yet consumed: the next keys
	full    bool   // the last read filled rbuf: a trailing ESC may have more coming

	mu      sync.Mutex // guards everything below
	history []string
	active  bool   // a ReadLine is drawing
	prompt  string // its last line (earlier lines are printed once)
	buf     []rune
	pos     int      // cursor, index into buf
	size    int      // bytes of buf in UTF-8
	tooLong bool     // something was refused: Enter discards the line
	hist    []string // this ReadLine's copy of history plus the line being typed
	hidx    int      // which entry of hist buf shows
	search  *search  // reverse search in progress, or nil
	obuf    bytes.Buffer

	// What is on screen: drawn says an edit area is there; curRow is the
	// cursor's row counted from the area's first row.
	drawn          bool
	curRow         int
	endRow, endCol int
	shownPrompt    string
	shownLen       int  // runes of the line shown
	shownAtEnd     bool // the cursor was at the end of it
	dirty          bool // changed other than by typing at the end since the last render
	lastWidth      int
	wrappedAtEnd   bool // the last row is full: the cursor was moved to a fresh row
	beeped         bool
}

// search is the state of a Ctrl-R search: the query, the entry of hist
// that matches it (-1: none yet) and where.
type search struct {
	query    []rune
	idx      int
	at       int // rune index of the match in hist[idx]
	failed   bool
	savedBuf []rune
	savedPos int
}

// New makes an Editor reading keys from in and drawing on out. in should
// deliver a terminal's bytes as they come (raw mode); see MakeRaw.
func New(in io.Reader, out io.Writer, opts Options) *Editor {
	if opts.MaxLine <= 0 {
		opts.MaxLine = DefaultMaxLine
	}
	if opts.MaxHistory <= 0 {
		opts.MaxHistory = DefaultMaxHistory
	}
	return &Editor{in: in, out: out, opts: opts, rbuf: make([]byte, 4096)}
}

// AddHistory appends a line to the history that Up, Down and Ctrl-R
// browse. Blank lines and a repeat of the newest entry are not kept; the
// oldest entries go past Options.MaxHistory.
func (e *Editor) AddHistory(line string) {
	if strings.TrimSpace(line) == "" {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if n := len(e.history); n > 0 && e.history[n-1] == line {
		return
	}
	e.history = append(e.history, line)
	if over := len(e.history) - e.opts.MaxHistory; over > 0 {
		e.history = slices.Delete(e.history, 0, over)
	}
}

// History returns the history, oldest first.
func (e *Editor) History() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.history)
}

// Above writes output from another goroutine without tearing a line being
// edited: the edit area is erased, write runs (it should end its output
// with a newline), and the prompt and line are drawn again below.
func (e *Editor) Above(write func()) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.active || !e.drawn {
		write()
		return
	}
	e.erase()
	e.flush()
	write()
	e.render()
}

// ReadLine shows prompt and edits a line until Enter, which returns it
// (without the newline). Ctrl-D on an empty line returns io.EOF; an error
// of the reader is returned as is, the line then lost. Keys typed ahead
// stay for the next call.
func (e *Editor) ReadLine(prompt string) (string, error) {
	e.begin(prompt)
	for {
		// One lock for all the keys of a read: a paste is one chunk.
		e.mu.Lock()
		for len(e.pending) > 0 {
			k, n := parseKey(e.pending, e.full)
			if n == 0 {
				break // the rest of a sequence or character is still coming
			}
			e.pending = e.pending[n:]
			if line, done, err := e.key(k); done {
				e.mu.Unlock()
				return line, err
			}
		}
		e.render()
		e.mu.Unlock()
		n, err := e.in.Read(e.rbuf)
		e.full = n == len(e.rbuf)
		if n > 0 {
			e.pending = append(e.pending, e.rbuf[:n]...)
			continue
		}
		if err == nil {
			continue
		}
		e.pending = nil // a half sequence before an error means nothing
		e.mu.Lock()
		defer e.mu.Unlock()
		line := string(e.buf)
		if errors.Is(err, io.EOF) && line != "" && !e.tooLong {
			return e.end(line, nil) // an unterminated last line, as bufio.Scanner gives it
		}
		return e.end("", err)
	}
}

// begin starts a line: prompt lines but the last are printed once, and the
// last is drawn with the empty line.
func (e *Editor) begin(prompt string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	prompt = strings.ReplaceAll(prompt, "\t", " ")
	if i := strings.LastIndexByte(prompt, '\n'); i >= 0 {
		e.obuf.WriteString(strings.ReplaceAll(prompt[:i+1], "\n", "\r\n"))
		prompt = prompt[i+1:]
	}
	e.prompt = strings.Map(func(r rune) rune {
		if unicode.IsPrint(r) {
			return r
		}
		return -1
	}, prompt)
	e.active = true
	e.buf, e.pos, e.size = nil, 0, 0
	e.tooLong, e.beeped = false, false
	e.search = nil
	e.hist = append(slices.Clip(e.history), "")
	e.hidx = len(e.hist) - 1
	e.drawn = false
	e.render()
}

// end finishes a line: the cursor goes below the edit area, which stays on
// screen as typed. Called with mu held.
func (e *Editor) end(line string, err error) (string, error) {
	e.render()
	if d := e.endRow - e.curRow; d > 0 {
		fmt.Fprintf(&e.obuf, "\x1b[%dB", d)
	}
	if e.wrappedAtEnd {
		e.obuf.WriteString("\r") // already on a fresh row
	} else {
		e.obuf.WriteString("\r\n")
	}
	e.flush()
	e.active, e.drawn = false, false
	e.search = nil
	e.buf, e.hist = nil, nil
	return line, err
}

// key applies one key; done says ReadLine returns line and err. Called
// with mu held.
func (e *Editor) key(k key) (line string, done bool, err error) {
	// Enter needs no redraw: the line stays on screen as it is.
	if (k.kind != kRune && k.kind != kEnter) || e.search != nil || e.pos != len(e.buf) {
		e.dirty = true
	}
	if e.search != nil {
		if line, done := e.searchKey(k); done {
			l, err := e.enter(line)
			return l, true, err
		}
		if e.search != nil {
			return "", false, nil
		}
		// The key ended the search with the match in the line: it now
		// edits that line.
	}
	switch k.kind {
	case kRune:
		e.insert(k.r)
	case kEnter:
		l, err := e.enter(string(e.buf))
		return l, true, err
	case kInterrupt:
		l, err := e.end("", ErrInterrupted)
		return l, true, err
	case kCtrlD:
		if len(e.buf) == 0 {
			l, err := e.end("", io.EOF)
			return l, true, err
		}
		e.deleteRange(e.pos, e.pos+1)
	case kBackspace:
		e.deleteRange(e.pos-1, e.pos)
	case kDelete:
		e.deleteRange(e.pos, e.pos+1)
	case kLeft:
		e.pos = max(0, e.pos-1)
	case kRight:
		e.pos = min(len(e.buf), e.pos+1)
	case kWordLeft:
		e.pos = e.wordStart()
	case kWordRight:
		e.pos = e.wordEnd()
	case kHome:
		e.pos = 0
	case kEnd:
		e.pos = len(e.buf)
	case kKillEnd:
		e.deleteRange(e.pos, len(e.buf))
	case kKillStart:
		e.deleteRange(0, e.pos)
	case kKillWord:
		e.deleteRange(e.wordStart(), e.pos)
	case kUp:
		e.recall(e.hidx - 1)
	case kDown:
		e.recall(e.hidx + 1)
	case kSearch:
		e.search = &search{idx: -1, savedBuf: slices.Clone(e.buf), savedPos: e.pos}
	case kClear:
		e.obuf.WriteString("\x1b[H\x1b[2J")
		e.drawn = false
	}
	return "", false, nil
}

// enter returns line, or ErrTooLong when part of it was refused. Called
// with mu held.
func (e *Editor) enter(line string) (string, error) {
	if e.tooLong {
		return e.end("", fmt.Errorf("%w: more than %d bytes", ErrTooLong, e.opts.MaxLine))
	}
	return e.end(line, nil)
}

func (e *Editor) insert(r rune) {
	n := utf8.RuneLen(r)
	if e.size+n > e.opts.MaxLine {
		e.tooLong = true
		if !e.beeped {
			e.obuf.WriteString("\a")
			e.beeped = true
		}
		return
	}
	e.buf = slices.Insert(e.buf, e.pos, r)
	e.pos++
	e.size += n
}

// deleteRange removes buf[from:to], clamped to the line.
func (e *Editor) deleteRange(from, to int) {
	from, to = max(0, from), min(len(e.buf), to)
	if from >= to {
		return
	}
	for _, r := range e.buf[from:to] {
		e.size -= utf8.RuneLen(r)
	}
	e.buf = slices.Delete(e.buf, from, to)
	if e.pos > to {
		e.pos -= to - from
	} else if e.pos > from {
		e.pos = from
	}
}

// setLine replaces the line, cursor at pos.
func (e *Editor) setLine(s string, pos int) {
	e.buf = []rune(s)
	e.size = len(s)
	e.pos = min(pos, len(e.buf))
}

// recall shows history entry i, keeping what the current one has become
// so that coming back to it (the line being typed above all) finds it as
// left.
func (e *Editor) recall(i int) {
	if i < 0 || i >= len(e.hist) || i == e.hidx {
		return
	}
	e.hist[e.hidx] = string(e.buf)
	e.hidx = i
	e.setLine(e.hist[i], len(e.hist[i]))
}

// wordStart is where Ctrl-W and Alt-B go: back over spaces, then over the word.
func (e *Editor) wordStart() int {
	i := e.pos
	for i > 0 && unicode.IsSpace(e.buf[i-1]) {
		i--
	}
	for i > 0 && !unicode.IsSpace(e.buf[i-1]) {
		i--
	}
	return i
}

func (e *Editor) wordEnd() int {
	i := e.pos
	for i < len(e.buf) && unicode.IsSpace(e.buf[i]) {
		i++
	}
	for i < len(e.buf) && !unicode.IsSpace(e.buf[i]) {
		i++
	}
	return i
}

// searchKey applies a key during a reverse search. done says Enter
// accepted line; otherwise e.search is nil when the key ended the search
// (Esc and Ctrl-G restore the line, an editing key keeps the match and is
// then applied by the caller).
func (e *Editor) searchKey(k key) (line string, done bool) {
	s := e.search
	switch k.kind {
	case kRune:
		if len(s.query) < maxQuery {
			s.query = append(s.query, k.r)
			from := s.idx // a longer query may still match the same entry
			if from < 0 {
				from = len(e.hist) - 2
			}
			e.find(from)
		}
	case kBackspace:
		if len(s.query) > 0 {
			s.query = s.query[:len(s.query)-1]
			s.idx, s.failed = -1, false
			if len(s.query) > 0 {
				e.find(len(e.hist) - 2)
			}
		}
	case kSearch:
		if s.idx >= 0 {
			e.find(s.idx - 1)
		} else if len(s.query) > 0 {
			e.find(len(e.hist) - 2)
		}
	case kEnter:
		if s.idx >= 0 {
			return e.hist[s.idx], true
		}
		return string(s.savedBuf), true
	case kEsc, kCancel:
		e.search = nil
		e.buf, e.pos = s.savedBuf, s.savedPos
		e.size = len(string(e.buf))
	case kIgnore:
	default:
		e.search = nil
		if s.idx >= 0 {
			e.hist[e.hidx] = string(s.savedBuf)
			e.hidx = s.idx
			e.setLine(e.hist[s.idx], s.at)
		} else {
			e.buf, e.pos = s.savedBuf, s.savedPos
			e.size = len(string(e.buf))
		}
	}
	return "", false
}

// find looks for the query in hist[from], hist[from-1], ... (never the
// line being typed, the last entry). A miss keeps the previous match on
// screen, marked failed.
func (e *Editor) find(from int) {
	s := e.search
	q := string(s.query)
	for i := min(from, len(e.hist)-2); i >= 0; i-- {
		if j := strings.Index(e.hist[i], q); j >= 0 {
			s.idx, s.at, s.failed = i, utf8.RuneCountInString(e.hist[i][:j]), false
			return
		}
	}
	s.failed = true
	e.obuf.WriteString("\a")
}

// view is what the edit area shows: the prompt, the line, the cursor.
func (e *Editor) view() (prompt string, line []rune, cursor int) {
	s := e.search
	if s == nil {
		return e.prompt, e.buf, e.pos
	}
	label := "(reverse-i-search)"
	if s.failed {
		label = "(failed reverse-i-search)"
	}
	prompt = label + "`" + string(s.query) + "': "
	if s.idx < 0 {
		return prompt, s.savedBuf, s.savedPos
	}
	return prompt, []rune(e.hist[s.idx]), s.at
}

func (e *Editor) width() int {
	if e.opts.Width != nil {
		if w := e.opts.Width(); w > 0 {
			return w
		}
	}
	return defaultWidth
}

// erase moves to the first row of the edit area and clears to the end of
// the screen. Called with mu held.
func (e *Editor) erase() {
	if !e.drawn {
		return
	}
	if e.curRow > 0 {
		fmt.Fprintf(&e.obuf, "\x1b[%dA", e.curRow)
	}
	e.obuf.WriteString("\r\x1b[J")
	e.drawn, e.curRow = false, 0
}

// render brings the screen up to date: typing at the end of the line only
// writes what was typed (a paste of a long line stays linear); anything
// else redraws the edit area. Called with mu held.
func (e *Editor) render() {
	if !e.active {
		e.flush()
		return
	}
	prompt, line, cursor := e.view()
	w := e.width()
	if e.drawn && !e.dirty && w == e.lastWidth && prompt == e.shownPrompt &&
		e.shownAtEnd && cursor == len(line) && len(line) >= e.shownLen {
		e.appendRunes(line[e.shownLen:], w)
	} else {
		e.erase()
		e.endRow, e.endCol, e.wrappedAtEnd = 0, 0, false
		e.appendRunes([]rune(prompt), w)
		e.appendRunes(line, w)
		e.drawn = true
		e.curRow = e.endRow
	}
	e.shownPrompt, e.shownLen, e.shownAtEnd, e.lastWidth = prompt, len(line), cursor == len(line), w
	e.dirty = false
	// Put the cursor where it belongs, counting from the end of the area.
	row, col := e.endRow, e.endCol
	if cursor < len(line) {
		row, col = layout([]rune(prompt), line[:cursor], w)
	}
	if row < e.endRow {
		fmt.Fprintf(&e.obuf, "\x1b[%dA", e.endRow-row)
	}
	if row != e.curRow || col != e.endCol || row < e.endRow {
		e.obuf.WriteString("\r")
		if col > 0 {
			fmt.Fprintf(&e.obuf, "\x1b[%dC", col)
		}
	}
	e.curRow = row
	e.flush()
}

// appendRunes writes rs at the end of the area, following the wrap. A row
// filled to its last column leaves a terminal's cursor there until the next
// character: a line break is written so that the cursor is on a fresh row
// as counted. Called with mu held.
func (e *Editor) appendRunes(rs []rune, w int) {
	if len(rs) == 0 {
		return
	}
	for _, r := range rs {
		cw := runeWidth(r)
		if e.endCol+cw > w {
			e.endRow, e.endCol = e.endRow+1, 0
		}
		e.obuf.WriteRune(r)
		e.endCol += cw
		e.wrappedAtEnd = false
		if e.endCol >= w {
			e.endRow, e.endCol = e.endRow+1, 0
			e.wrappedAtEnd = true
		}
	}
	if e.wrappedAtEnd {
		e.obuf.WriteString("\r\n")
	}
	e.curRow = e.endRow
}

// layout is where the cell after prompt and line falls: row and column.
func layout(prompt, line []rune, w int) (row, col int) {
	for _, rs := range [][]rune{prompt, line} {
		for _, r := range rs {
			cw := runeWidth(r)
			if col+cw > w {
				row, col = row+1, 0
			}
			col += cw
			if col >= w {
				row, col = row+1, 0
			}
		}
	}
	return row, col
}

func (e *Editor) flush() {
	if e.obuf.Len() > 0 {
		e.out.Write(e.obuf.Bytes())
		e.obuf.Reset()
	}
}

// runeWidth is the columns a rune takes: none for combining marks, two for
// the wide East Asian ranges and emoji, one otherwise. An approximation
// of wcwidth that is right for what people type at a command prompt.
func runeWidth(r rune) int {
	switch {
	case r < 0x300: // Latin: the common case, and a paste's hot loop
		return 1
	case unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf):
		return 0
	case r >= 0x1100 && r <= 0x115f, r >= 0x2e80 && r <= 0xa4cf && r != 0x303f,
		r >= 0xac00 && r <= 0xd7a3, r >= 0xf900 && r <= 0xfaff, r >= 0xfe30 && r <= 0xfe4f,
		r >= 0xff00 && r <= 0xff60, r >= 0xffe0 && r <= 0xffe6,
		r >= 0x1f300 && r <= 0x1f64f, r >= 0x1f900 && r <= 0x1f9ff, r >= 0x20000 && r <= 0x3fffd:
		return 2
	}
	return 1
}
