package lineedit

import (
	"errors"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// chunks is a reader that gives one chunk per Read, as a terminal gives
// what was typed since the last read; then io.EOF.
type chunks []string

func (c *chunks) Read(p []byte) (int, error) {
	if len(*c) == 0 {
		return 0, io.EOF
	}
	n := copy(p, (*c)[0])
	if n < len((*c)[0]) {
		(*c)[0] = (*c)[0][n:]
	} else {
		*c = (*c)[1:]
	}
	return n, nil
}

// screen is a small model of a terminal (xterm's wrap rules and the
// sequences the Editor writes), so tests check what the user would see.
type screen struct {
	mu      sync.Mutex
	w       int
	rows    [][]rune
	r, c    int
	pending bool // the last column was written: the next character wraps
	bells   int
	esc     []byte
}

func newScreen(w int) *screen { return &screen{w: w, rows: [][]rune{nil}} }

func (s *screen) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range string(p) {
		s.put(r)
	}
	return len(p), nil
}

func (s *screen) row(i int) []rune {
	for len(s.rows) <= i {
		s.rows = append(s.rows, nil)
	}
	return s.rows[i]
}

func (s *screen) put(r rune) {
	if s.esc != nil {
		s.esc = append(s.esc, byte(r))
		if len(s.esc) == 1 {
			if r != '[' {
				s.esc = nil
			}
			return
		}
		if r < 0x40 || r > 0x7e {
			return
		}
		n, err := strconv.Atoi(string(s.esc[1 : len(s.esc)-1]))
		if err != nil || n == 0 {
			n = 1
		}
		s.esc = nil
		s.pending = false
		switch r {
		case 'A':
			s.r = max(0, s.r-n)
		case 'B':
			s.r += n
			s.row(s.r)
		case 'C':
			s.c = min(s.w-1, s.c+n)
		case 'H':
			s.r, s.c = 0, 0
		case 'J':
			s.rows[s.r] = s.row(s.r)[:min(s.c, len(s.row(s.r)))]
			s.rows = s.rows[:s.r+1]
		case 'K':
			s.rows[s.r] = s.row(s.r)[:min(s.c, len(s.row(s.r)))]
		}
		return
	}
	switch r {
	case 0x1b:
		s.esc = []byte{}
	case '\a':
		s.bells++
	case '\r':
		s.c, s.pending = 0, false
	case '\n':
		s.r++
		s.row(s.r)
		s.pending = false
	default:
		cw := runeWidth(r)
		if s.pending || s.c+cw > s.w {
			s.r, s.c, s.pending = s.r+1, 0, false
		}
		line := s.row(s.r)
		for len(line) <= s.c {
			line = append(line, ' ')
		}
		line[s.c] = r
		if cw == 2 {
			// The second cell of a wide character: the model keeps it
			// as a zero-width joiner so the row text reads naturally.
			line = append(line[:s.c+1], append([]rune{0}, line[min(len(line), s.c+1):]...)...)
		}
		s.rows[s.r] = line
		if s.c+cw >= s.w {
			s.c = s.w - 1
			s.pending = true
		} else {
			s.c += cw
		}
	}
}

// readAll reads lines as the REPL does, adding each to the history, until
// an error other than ErrTooLong.
func readAll(e *Editor) (lines []string, err error) {
	for {
		line, err := e.ReadLine("> ")
		if errors.Is(err, ErrTooLong) {
			lines = append(lines, "<too long>")
			continue
		}
		if err != nil {
			return lines, err
		}
		lines = append(lines, line)
		e.AddHistory(line)
	}
}

func TestReadLine(t *testing.T) {
	hist := []string{"greet Ada", "list-tools", "greet Bob", "status"}
	cases := []struct {
		name     string
		history  []string
		in       []string // one chunk per read
		want     []string
		err      error // after the lines; io.EOF when the input just ends
		history2 []string
	}{
		{name: "plain", in: []string{"hello\r"}, want: []string{"hello"}},
		{name: "newline", in: []string{"a\nb\r\nc\r"}, want: []string{"a", "b", "c"}},
		{name: "backspace", in: []string{"hellp\x7fo\r", "ab\x08c\r"}, want: []string{"hello", "ac"}},
		{name: "left and insert", in: []string{"hllo\x1b[D\x1b[D\x1b[De\r"}, want: []string{"hello"}},
		{name: "ss3 arrows", in: []string{"hllo\x1bOD\x1bOD\x1bODe\x1bOCX\r"}, want: []string{"helXlo"}},
		{name: "ctrl-b ctrl-f", in: []string{"hllo\x02\x02\x02e\x06\x06!\r"}, want: []string{"hell!o"}},
		{name: "home end", in: []string{"ello\x01h\x05!\r", "b\x1b[Ha\x1b[Fc\r", "b\x1b[1~a\x1b[4~c\r", "b\x1bOHa\x1bOFc\r", "b\x1b[7~a\x1b[8~c\r"},
			want: []string{"hello!", "abc", "abc", "abc", "abc"}},
		{name: "delete", in: []string{"xhello\x01\x1b[3~\r", "xhello\x01\x04\r", "abc\x1b[3~\r"}, want: []string{"hello", "hello", "abc"}},
		{name: "kill to end", in: []string{"hello world\x01\x06\x06\x06\x06\x06\x0b\r"}, want: []string{"hello"}},
		{name: "kill to start", in: []string{"junk hello\x01\x1b[C\x1b[C\x1b[C\x1b[C\x1b[C\x15\r"}, want: []string{"hello"}},
		{name: "kill word", in: []string{"hello big world  \x17\x17world\r", "\x17x\r"}, want: []string{"hello world", "x"}},
		{name: "word moves", in: []string{"hello world\x1bbX\r", "hello world\x1b[1;5DY\x1b[1;5CZ\r", "ab cd\x01\x1bf!\r", "ab cd\x1b\x7fX\r"},
			want: []string{"hello Xworld", "hello Yworld" + "Z", "ab! cd", "ab X"}},
		{name: "unknown sequences", in: []string{"a\x1b[15~b\x1b[1;2Pc\x1bOPd\x1b[200~e\x1bxf\x1b[?1;2cg\r"}, want: []string{"abcdefg"}},
		{name: "controls ignored", in: []string{"a\x00\x13\x16\x1fb\r"}, want: []string{"ab"}},
		{name: "tab is a space", in: []string{"a\tb\r"}, want: []string{"a b"}},
		{name: "utf-8", in: []string{"héllo wörld\x1b[D\x1b[D\x1b[D\x7fø\r"}, want: []string{"héllo wørld"}},
		{name: "utf-8 cut by the read", in: []string{"h\xc3", "\xa9llo\r"}, want: []string{"héllo"}},
		{name: "invalid utf-8 dropped", in: []string{"a\xffb\xc3(c\r"}, want: []string{"ab(c"}},
		{name: "sequence cut by the read", in: []string{"ab\x1b[", "D", "X\x1b[", "D\x1bO", "DY\r"}, want: []string{"YaXb"}},
		{name: "lone esc is nothing outside a search", in: []string{"ab", "\x1b", "c\r"}, want: []string{"abc"}},
		{name: "ctrl-l", in: []string{"ab\x0cc\r"}, want: []string{"abc"}},
		{name: "ctrl-d on an empty line", in: []string{"a\r\x04", "never\r"}, want: []string{"a"}, err: io.EOF},
		{name: "ctrl-c byte", in: []string{"abc\x03", "x\r"}, want: nil, err: ErrInterrupted},
		{name: "end of input ends the line", in: []string{"abc"}, want: []string{"abc"}},

		{name: "up recalls", in: []string{"one\r", "two\r", "\x1b[A\x1b[A\r"}, want: []string{"one", "two", "one"}, history2: []string{"one", "two", "one"}},
		{name: "up and down keep the line typed", in: []string{"one\r", "draft\x1b[A\x1b[B\r"}, want: []string{"one", "draft"}},
		{name: "up edit enter", in: []string{"greet Ada\r", "\x1b[A\x17Bob\r"}, want: []string{"greet Ada", "greet Bob"}, history2: []string{"greet Ada", "greet Bob"}},
		{name: "ctrl-p ctrl-n", history: hist, in: []string{"\x10\x10\x10\x0e\r"}, want: []string{"greet Bob"}},
		{name: "edits to an entry last the line only", history: hist, in: []string{"\x1b[A!\x1b[A\x1b[B\r", "\x1b[A\x1b[A\r"}, want: []string{"status!", "status"}},
		{name: "up at the oldest and down at the newest", history: []string{"a"}, in: []string{"\x1b[A\x1b[A\x1b[Ax\r", "y\x1b[B\x1b[B\r"}, want: []string{"ax", "y"}},
		{name: "no repeats, no blanks", in: []string{"a\r", "a\r", "  \r", "b\r", "a\r"}, want: []string{"a", "a", "  ", "b", "a"}, history2: []string{"a", "b", "a"}},

		{name: "search newest first", history: hist, in: []string{"\x12gre\r"}, want: []string{"greet Bob"}},
		{name: "search again for older", history: hist, in: []string{"\x12gre\x12\r"}, want: []string{"greet Ada"}},
		{name: "search past the oldest keeps the match", history: hist, in: []string{"\x12gre\x12\x12\x12\r"}, want: []string{"greet Ada"}},
		{name: "search narrows in place", history: hist, in: []string{"\x12e\x12", "et A\r"}, want: []string{"greet Ada"}},
		{name: "search esc restores", history: hist, in: []string{"typed\x12gre", "\x1b", "!\r"}, want: []string{"typed!"}},
		{name: "search ctrl-g restores", history: hist, in: []string{"typ\x1b[Ded\x12gre\x07!\r"}, want: []string{"tyed!p"}},
		{name: "search then edit", history: hist, in: []string{"\x12Ada\x05!\r"}, want: []string{"greet Ada!"}},
		{name: "search then arrow at the match", history: hist, in: []string{"\x12Bob\x1b[DX\r"}, want: []string{"greetX Bob"}},
		{name: "search then up goes on from the match", history: hist, in: []string{"\x12list\x1b[A\r"}, want: []string{"greet Ada"}},
		{name: "search backspace", history: hist, in: []string{"\x12Bobx\x7f\r"}, want: []string{"greet Bob"}},
		{name: "search without a match", history: hist, in: []string{"x\x12zzz\r"}, want: []string{"x"}},
		{name: "search on empty history", in: []string{"x\x12a\r"}, want: []string{"x"}},
		{name: "search sees lines of this run", in: []string{"alpha\r", "beta\r", "\x12al\r"}, want: []string{"alpha", "beta", "alpha"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := chunks(slices.Clone(tc.in))
			e := New(&in, newScreen(80), Options{})
			for _, h := range tc.history {
				e.AddHistory(h)
			}
			lines, err := readAll(e)
			want := tc.err
			if want == nil {
				want = io.EOF
			}
			if !errors.Is(err, want) {
				t.Errorf("error %v, want %v", err, want)
			}
			if !slices.Equal(lines, tc.want) {
				t.Errorf("lines %q, want %q", lines, tc.want)
			}
			if tc.history2 != nil && !slices.Equal(e.History(), tc.history2) {
				t.Errorf("history %q, want %q", e.History(), tc.history2)
			}
		})
	}
}

// snapshot is the screen with the cursor shown as '|'.
func (s *screen) snapshot() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var b strings.Builder
	for i, row := range s.rows {
		if i > 0 {
			b.WriteByte('\n')
		}
		line := string(row)
		if i == s.r {
			rs := []rune(line)
			for len(rs) < s.c {
				rs = append(rs, ' ')
			}
			line = string(rs[:s.c]) + "|" + string(rs[s.c:])
		}
		b.WriteString(strings.TrimRight(strings.ReplaceAll(line, "\x00", ""), " "))
	}
	return b.String()
}

// watched calls look when its chunks are used up, while the Editor waits
// for more, then fails the read.
type watched struct {
	chunks
	look func()
}

var errStop = errors.New("stop")

func (w *watched) Read(p []byte) (int, error) {
	if len(w.chunks) == 0 {
		w.look()
		return 0, errStop
	}
	return w.chunks.Read(p)
}

// TestScreen checks what the user sees: the prompt and line, wrapped at
// the terminal's width, the search prompt, and the cursor (|).
func TestScreen(t *testing.T) {
	cases := []struct {
		name   string
		width  int
		prompt string
		in     []string
		want   string // the screen while the Editor waits for more input
	}{
		{name: "typed", width: 80, in: []string{"hello"}, want: "> hello|"},
		{name: "cursor moved", width: 80, in: []string{"hello\x1b[D\x1b[D"}, want: "> hel|lo"},
		{name: "entered", width: 80, in: []string{"hello\r", "x"}, want: "> hello\n> x|"},
		{name: "wraps", width: 10, in: []string{"abcdefghijklmnop"}, want: "> abcdefgh\nijklmnop|"},
		{name: "fills a row exactly", width: 10, in: []string{"abcdefgh"}, want: "> abcdefgh\n|"},
		{name: "fills then continues", width: 10, in: []string{"abcdefgh", "ij"}, want: "> abcdefgh\nij|"},
		{name: "typed across the wrap", width: 10, in: []string{"abcdef", "gh", "ij", "\x1b[D\x1b[D\x1b[D"}, want: "> abcdefg|h\nij"},
		{name: "edit inside a wrapped line", width: 10, in: []string{"abcdefghijklmnop", "\x01X"}, want: "> X|abcdefg\nhijklmnop"},
		{name: "delete in a wrapped line", width: 10, in: []string{"abcdefghijklmnop", "\x01\x04\x04\x04\x04\x04\x04\x04\x04\x04"}, want: "> |jklmnop"},
		{name: "recall long then short", width: 10, in: []string{"abcdefghijklmnopqrst\r", "short\r", "\x1b[A\x1b[A", "\x1b[B"},
			want: "> abcdefgh\nijklmnopqr\nst\n> short\n> short|"},
		{name: "search prompt", width: 80, in: []string{"greet Ada\r", "list-tools\r", "\x12gr"}, want: "> greet Ada\n> list-tools\n(reverse-i-search)`gr': |greet Ada"},
		{name: "failed search", width: 80, in: []string{"greet Ada\r", "\x12Ax"}, want: "> greet Ada\n(failed reverse-i-search)`Ax': greet |Ada"},
		{name: "search accepted", width: 80, in: []string{"greet Ada\r", "\x12Ada\x1b[C"}, want: "> greet Ada\n> greet A|da"},
		{name: "ctrl-l", width: 80, in: []string{"one\r", "two\x0c"}, want: "> two|"},
		{name: "wide characters", width: 10, in: []string{"abcdefg世界"}, want: "> abcdefg\n世界|"},
		{name: "prompt with lines", width: 80, prompt: "The server asks:\n  name:\tstring\nname: ", in: []string{"Ada"}, want: "The server asks:\n  name: string\nname: Ada|"},
		{name: "too long beeps and keeps what fit", width: 80, in: []string{"0123456789abcdef"}, want: "> 0123456789|"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			scr := newScreen(tc.width)
			var got string
			in := &watched{chunks: chunks(slices.Clone(tc.in)), look: func() { got = scr.snapshot() }}
			max := 0
			if strings.HasPrefix(tc.name, "too long") {
				max = 10
			}
			e := New(in, scr, Options{Width: func() int { return tc.width }, MaxLine: max})
			prompt := tc.prompt
			if prompt == "" {
				prompt = "> "
			}
			for {
				line, err := e.ReadLine(prompt)
				if errors.Is(err, errStop) {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				e.AddHistory(line)
			}
			if got != tc.want {
				t.Errorf("screen:\n%s\nwant:\n%s", got, tc.want)
			}
			if strings.HasPrefix(tc.name, "too long") && scr.bells != 1 {
				t.Errorf("%d bells, want 1", scr.bells)
			}
		})
	}
}

// TestTooLong: a line past MaxLine is refused whole at Enter, what follows
// is read normally, and a line at the bound is accepted.
func TestTooLong(t *testing.T) {
	big := strings.Repeat("x", 64<<10)
	cases := []struct {
		name string
		max  int
		in   []string
		want []string
	}{
		{name: "ascii", max: 8, in: []string{"123456789\r", "12345678\r", "ok\r"}, want: []string{"<too long>", "12345678", "ok"}},
		{name: "multi-byte counts bytes", max: 8, in: []string{"éééé\r", "ééééé\r"}, want: []string{"éééé", "<too long>"}},
		{name: "refused is refused after edits", max: 4, in: []string{"abcdef\x01\x0b\r", "ab\r"}, want: []string{"<too long>", "ab"}},
		{name: "ctrl-d after refusal ends", max: 2, in: []string{"abc\x01\x0b\x04"}, want: nil},
		{name: "a pasted line", max: len(big), in: []string{big + "y\r" + big + "\rnext\r"}, want: []string{"<too long>", big, "next"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := chunks(slices.Clone(tc.in))
			e := New(&in, newScreen(80), Options{MaxLine: tc.max})
			lines, err := readAll(e)
			if !errors.Is(err, io.EOF) {
				t.Errorf("error %v, want EOF", err)
			}
			if !slices.Equal(lines, tc.want) {
				t.Errorf("got %d lines, want %d", len(lines), len(tc.want))
				for i := range min(len(lines), len(tc.want)) {
					if lines[i] != tc.want[i] {
						t.Errorf("line %d: %.40q, want %.40q", i, lines[i], tc.want[i])
					}
				}
			}
		})
	}
	var err error
	_, err = New(strings.NewReader("123\r"), io.Discard, Options{MaxLine: 2}).ReadLine("")
	if !errors.Is(err, ErrTooLong) || !strings.Contains(err.Error(), "more than 2 bytes") {
		t.Errorf("error %v, want ErrTooLong saying the bound", err)
	}
}

// TestAbove: output from another goroutine lands above the line being
// edited, which is drawn again below it, wrapped or not.
func TestAbove(t *testing.T) {
	cases := []struct {
		name  string
		width int
		typed string
		want  string
	}{
		{name: "one row", width: 20, typed: "abc", want: "[note]\n> abc|"},
		{name: "two rows", width: 10, typed: "abcdefghijkl", want: "[note]\n> abcdefgh\nijkl|"},
		{name: "cursor on the first row", width: 10, typed: "abcdefghijkl\x01", want: "[note]\n> |abcdefgh\nijkl"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			pr, pw := io.Pipe()
			defer pw.Close()
			scr := newScreen(tc.width)
			e := New(pr, scr, Options{Width: func() int { return tc.width }})
			type result struct {
				line string
				err  error
			}
			done := make(chan result, 1)
			go func() {
				line, err := e.ReadLine("> ")
				done <- result{line, err}
			}()
			e.Above(func() {}) // before anything is drawn or typed: harmless
			io.WriteString(pw, tc.typed)
			before := strings.TrimPrefix(tc.want, "[note]\n")
			for deadline := time.Now().Add(10 * time.Second); scr.snapshot() != before; time.Sleep(time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatalf("screen:\n%s\nwant:\n%s", scr.snapshot(), before)
				}
			}
			e.Above(func() { scr.Write([]byte("[note]\r\n")) })
			if got := scr.snapshot(); got != tc.want {
				t.Errorf("screen:\n%s\nwant:\n%s", got, tc.want)
			}
			io.WriteString(pw, "\r")
			if r := <-done; r.err != nil || r.line != strings.TrimSuffix(tc.typed, "\x01") {
				t.Errorf("ReadLine = %q, %v", r.line, r.err)
			}
			e.Above(func() { scr.Write([]byte("after\r\n")) }) // no line: written as is
			if got := scr.snapshot(); !strings.HasSuffix(got, "\nafter\n|") {
				t.Errorf("screen after the line:\n%s", got)
			}
		})
	}
}

// BenchmarkPaste measures a paste of a line at the REPL's bound (1 MiB),
// read 4 KiB at a time as from a terminal, drawn on an 80-column screen.
func BenchmarkPaste(b *testing.B) {
	line := strings.Repeat("x", DefaultMaxLine)
	var parts []string
	for i := 0; i < len(line); i += 4096 {
		parts = append(parts, line[i:min(i+4096, len(line))])
	}
	parts = append(parts, "\r")
	b.SetBytes(int64(len(line)))
	for b.Loop() {
		in := chunks(slices.Clone(parts))
		got, err := New(&in, io.Discard, Options{}).ReadLine("> ")
		if err != nil || len(got) != len(line) {
			b.Fatal(len(got), err)
		}
	}
}
