package mcp

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

// sseCRSplitReader returns its input in pieces that end right after every
// CR, so a CRLF line ending is always split across two reads.
type sseCRSplitReader struct{ b []byte }

func (r *sseCRSplitReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	n := len(r.b)
	if i := bytes.IndexByte(r.b, '\r'); i >= 0 {
		n = i + 1
	}
	n = copy(p, r.b[:n])
	r.b = r.b[n:]
	return n, nil
}

// sseRepeatReader is an endless stream of one byte.
type sseRepeatReader byte

func (r sseRepeatReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(r)
	}
	return len(p), nil
}

// sseReaders returns the ways each test input is fed to the decoder.
func sseReaders() map[string]func([]byte) io.Reader {
	return map[string]func([]byte) io.Reader{
		"whole":   func(b []byte) io.Reader { return bytes.NewReader(b) },
		"onebyte": func(b []byte) io.Reader { return iotest.OneByteReader(bytes.NewReader(b)) },
		"half":    func(b []byte) io.Reader { return iotest.HalfReader(bytes.NewReader(b)) },
		"dataerr": func(b []byte) io.Reader { return iotest.DataErrReader(bytes.NewReader(b)) },
		"crsplit": func(b []byte) io.Reader { return &sseCRSplitReader{b: b} },
	}
}

type sseResult struct {
	events []Event
	err    error
	lastID string
	retry  int
}

// sseDecodeAll decodes r until Next fails. limit caps the number of events,
// guarding against a decoder that loops forever.
func sseDecodeAll(r io.Reader, maxLine, maxEvent, limit int) sseResult {
	d := NewDecoder(r)
	if maxLine != 0 || maxEvent != 0 {
		d.SetLimits(maxLine, maxEvent)
	}
	var res sseResult
	for {
		ev, err := d.Next()
		if err != nil {
			res.err = err
			break
		}
		res.events = append(res.events, ev)
		if len(res.events) > limit {
			res.err = errors.New("too many events")
			break
		}
	}
	res.lastID, res.retry = d.LastEventID(), d.Retry()
	// Errors are sticky.
	if _, err := d.Next(); err != res.err && res.err.Error() != "too many events" {
		res.err = fmt.Errorf("non-sticky error: first %v, then %v", res.err, err)
	}
	return res
}

func sseEventString(e Event) string {
	return fmt.Sprintf("{ID:%q Name:%q Data:%q Retry:%d}", e.ID, e.Name, e.Data, e.Retry)
}

func sseEventsEqual(a, b []Event) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].ID != b[i].ID || a[i].Name != b[i].Name || !bytes.Equal(a[i].Data, b[i].Data) || a[i].Retry != b[i].Retry {
			return false
		}
	}
	return true
}

func sseEventsString(evs []Event) string {
	var s []string
	for _, e := range evs {
		s = append(s, sseEventString(e))
	}
	return "[" + strings.Join(s, " ") + "]"
}

// sseDiff reports the difference between two results, or "".
func sseDiff(got, want sseResult) string {
	var b strings.Builder
	if !sseEventsEqual(got.events, want.events) {
		fmt.Fprintf(&b, "\nevents:\n got  %s\n want %s", sseEventsString(got.events), sseEventsString(want.events))
	}
	if got.err != want.err {
		fmt.Fprintf(&b, "\nerr: got %v, want %v", got.err, want.err)
	}
	if got.lastID != want.lastID {
		fmt.Fprintf(&b, "\nLastEventID: got %q, want %q", got.lastID, want.lastID)
	}
	if got.retry != want.retry {
		fmt.Fprintf(&b, "\nRetry: got %d, want %d", got.retry, want.retry)
	}
	return b.String()
}

func sseNormalize(b []byte) []byte {
	b = bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n"))
	return bytes.ReplaceAll(b, []byte("\r"), []byte("\n"))
}

func sseEv(id, name, data string, retry int) Event {
	return Event{ID: id, Name: name, Data: []byte(data), Retry: retry}
}

func TestSSEAppendEvent(t *testing.T) {
	tests := []struct {
		name string
		ev   Event
		want string
	}{
		{"empty", Event{}, "data:\n\n"},
		{"priming", Event{ID: "abc"}, "id: abc\ndata:\n\n"},
		{"simple", sseEv("", "", "hello", 0), "data: hello\n\n"},
		{"all fields", sseEv("42", "message", "a\nb\r\nc\rd", 3000),
			"id: 42\nevent: message\nretry: 3000\ndata: a\ndata: b\ndata: c\ndata: d\n\n"},
		{"trailing LF", sseEv("", "", "a\n", 0), "data: a\ndata:\n\n"},
		{"only CRLF", sseEv("", "", "\r\n", 0), "data:\ndata:\n\n"},
		{"LF then CR", sseEv("", "", "\n\r", 0), "data:\ndata:\ndata:\n\n"},
		{"CR CR LF", sseEv("", "", "x\r\r\ny", 0), "data: x\ndata:\ndata: y\n\n"},
		{"leading space kept", sseEv(" id", " name", " lead", 0), "id:  id\nevent:  name\ndata:  lead\n\n"},
		{"colons", sseEv("a:b", "c:d", "e: f", 0), "id: a:b\nevent: c:d\ndata: e: f\n\n"},
		{"negative retry omitted", sseEv("", "", "x", -5), "data: x\n\n"},
		{"json", sseEv("1", "", `{"jsonrpc":"2.0","id":1,"result":{}}`, 0),
			"id: 1\ndata: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}\n\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prefix := []byte("prefix|")
			got, err := AppendEvent(prefix, tt.ev)
			if err != nil {
				t.Fatalf("AppendEvent: %v", err)
			}
			if string(got) != "prefix|"+tt.want {
				t.Errorf("AppendEvent(%s)\n got  %q\n want %q", sseEventString(tt.ev), got, "prefix|"+tt.want)
			}
		})
	}
}

func TestSSEAppendEventErrors(t *testing.T) {
	tests := []struct {
		name string
		ev   Event
	}{
		{"id LF", Event{ID: "a\nb"}},
		{"id CR", Event{ID: "a\rb"}},
		{"id CRLF", Event{ID: "a\r\n"}},
		{"id NUL", Event{ID: "a\x00b"}},
		{"name LF", Event{Name: "x\n"}},
		{"name CR", Event{Name: "\rx"}},
		{"name NUL", Event{Name: "\x00"}},
		{"good id bad name", Event{ID: "1", Name: "a\nb", Data: []byte("d")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst := []byte("keep")
			got, err := AppendEvent(dst, tt.ev)
			if err == nil {
				t.Fatalf("AppendEvent(%s) = %q, want error", sseEventString(tt.ev), got)
			}
			if string(got) != "keep" {
				t.Errorf("dst modified on error: %q", got)
			}
		})
	}
}

func TestSSEAppendComment(t *testing.T) {
	tests := []struct{ text, want string }{
		{"", ":\n\n"},
		{"ping", ": ping\n\n"},
		{"a\nb", ": a\n: b\n\n"},
		{"a\r\nb\rc", ": a\n: b\n: c\n\n"},
		{"a\n", ": a\n:\n\n"},
		{" x", ":  x\n\n"},
	}
	for _, tt := range tests {
		if got := AppendComment([]byte("p"), tt.text); string(got) != "p"+tt.want {
			t.Errorf("AppendComment(%q) = %q, want %q", tt.text, got, "p"+tt.want)
		}
		// A comment alone decodes to nothing.
		if res := sseDecodeAll(strings.NewReader(tt.want), 0, 0, 10); len(res.events) != 0 || res.err != io.EOF {
			t.Errorf("decoding comment %q: events %s, err %v", tt.want, sseEventsString(res.events), res.err)
		}
	}
}

// sseDecodeTests are shared by the spec-example and general decoder tests.
type sseDecodeTest struct {
	name  string
	in    string
	want  []Event
	err   error // final error; nil means io.EOF
	last  string
	retry int
}

func sseRunDecodeTests(t *testing.T, tests []sseDecodeTest) {
	t.Helper()
	for _, tt := range tests {
		for rname, mk := range sseReaders() {
			t.Run(tt.name+"/"+rname, func(t *testing.T) {
				want := sseResult{events: tt.want, err: tt.err, lastID: tt.last, retry: tt.retry}
				if want.err == nil {
					want.err = io.EOF
				}
				got := sseDecodeAll(mk([]byte(tt.in)), 0, 0, 100)
				if d := sseDiff(got, want); d != "" {
					t.Errorf("input %q:%s", tt.in, d)
				}
			})
		}
	}
}

// Examples from the WHATWG HTML standard, section 9.2 "Server-sent events".
func TestSSESpecExamples(t *testing.T) {
	sseRunDecodeTests(t, []sseDecodeTest{
		{
			name: "stock ticker",
			in:   "data: YHOO\ndata: +2\ndata: 10\n\n",
			want: []Event{sseEv("", "", "YHOO\n+2\n10", 0)},
		},
		{
			name: "four blocks",
			in:   ": test stream\n\ndata: first event\nid: 1\n\ndata:second event\nid\n\ndata:  third event\n",
			// The last block has no blank line after it, so it is discarded.
			want: []Event{sseEv("1", "", "first event", 0), sseEv("", "", "second event", 0)},
			err:  io.ErrUnexpectedEOF,
			last: "",
		},
		{
			name: "four blocks terminated",
			in:   ": test stream\n\ndata: first event\nid: 1\n\ndata:second event\nid\n\ndata:  third event\n\n",
			want: []Event{sseEv("1", "", "first event", 0), sseEv("", "", "second event", 0), sseEv("", "", " third event", 0)},
		},
		{
			name: "empty data blocks",
			in:   "data\n\ndata\ndata\n\ndata:",
			want: []Event{sseEv("", "", "", 0), sseEv("", "", "\n", 0)},
			err:  io.ErrUnexpectedEOF,
		},
		{
			name: "space after colon optional",
			in:   "data:test\n\ndata: test\n\n",
			want: []Event{sseEv("", "", "test", 0), sseEv("", "", "test", 0)},
		},
		{
			name: "named events",
			in:   "event: add\ndata: 73857293\n\nevent: remove\ndata: 2153\n\nevent: add\ndata: 113411\n\n",
			want: []Event{sseEv("", "add", "73857293", 0), sseEv("", "remove", "2153", 0), sseEv("", "add", "113411", 0)},
		},
		{
			name: "keep-alive comments",
			in:   ":\n\n: keepalive\n\ndata: x\n\n:\n",
			want: []Event{sseEv("", "", "x", 0)},
		},
	})
}

func TestSSEDecoder(t *testing.T) {
	sseRunDecodeTests(t, []sseDecodeTest{
		{name: "empty stream", in: ""},
		{name: "blank lines only", in: "\n\r\n\r\r\n"},
		{name: "CRLF", in: "id: 1\r\nevent: e\r\ndata: a\r\ndata: b\r\n\r\n",
			want: []Event{sseEv("1", "e", "a\nb", 0)}, last: "1"},
		{name: "CR only", in: "id: 1\revent: e\rdata: a\rdata: b\r\rdata: c\r\r",
			want: []Event{sseEv("1", "e", "a\nb", 0), sseEv("1", "", "c", 0)}, last: "1"},
		{name: "mixed endings", in: "data: a\rdata: b\r\ndata: c\n\r\n",
			want: []Event{sseEv("", "", "a\nb\nc", 0)}},
		{name: "CR CR is two endings", in: "data: a\r\rdata: b\r\n\r\n",
			want: []Event{sseEv("", "", "a", 0), sseEv("", "", "b", 0)}},
		{name: "LF CR is two endings", in: "data: a\n\rdata: b\n\n",
			want: []Event{sseEv("", "", "a", 0), sseEv("", "", "b", 0)}},
		{name: "BOM", in: "\xEF\xBB\xBFdata: x\n\n", want: []Event{sseEv("", "", "x", 0)}},
		{name: "BOM then blank", in: "\xEF\xBB\xBF\ndata: x\n\n", want: []Event{sseEv("", "", "x", 0)}},
		{name: "only one BOM skipped", in: "\xEF\xBB\xBF\xEF\xBB\xBFdata: x\n\ndata: y\n\n",
			want: []Event{sseEv("", "", "y", 0)}},
		{name: "BOM not at start", in: "data: x\n\n\xEF\xBB\xBFdata: y\n\n",
			want: []Event{sseEv("", "", "x", 0)}},
		{name: "partial BOM", in: "\xEF\xBBdata: x\n\n"},
		{name: "truncated BOM at EOF", in: "\xEF\xBB", err: io.ErrUnexpectedEOF},
		{name: "priming event", in: "id: p1\ndata:\n\n",
			want: []Event{sseEv("p1", "", "", 0)}, last: "p1"},
		{name: "priming with space", in: "id: p1\ndata: \n\n",
			want: []Event{sseEv("p1", "", "", 0)}, last: "p1"},
		{name: "id without data updates id", in: "id: 7\n\ndata: x\n\n",
			want: []Event{sseEv("7", "", "x", 0)}, last: "7"},
		{name: "id persists", in: "id: 1\ndata: a\n\ndata: b\n\nid: 2\ndata: c\n\n",
			want: []Event{sseEv("1", "", "a", 0), sseEv("1", "", "b", 0), sseEv("2", "", "c", 0)}, last: "2"},
		{name: "empty id resets", in: "id: 1\ndata: a\n\nid:\ndata: b\n\n",
			want: []Event{sseEv("1", "", "a", 0), sseEv("", "", "b", 0)}, last: ""},
		{name: "id with NUL ignored", in: "id: 1\ndata: a\n\nid: 2\x003\ndata: b\n\n",
			want: []Event{sseEv("1", "", "a", 0), sseEv("1", "", "b", 0)}, last: "1"},
		{name: "last id wins", in: "id: 1\nid: 2\ndata: a\n\n",
			want: []Event{sseEv("2", "", "a", 0)}, last: "2"},
		{name: "id not committed at EOF", in: "id: 1\ndata: a\n\nid: 2\ndata: b\n",
			want: []Event{sseEv("1", "", "a", 0)}, err: io.ErrUnexpectedEOF, last: "1"},
		{name: "id no data not committed at EOF", in: "id: 1\n", err: io.ErrUnexpectedEOF},
		{name: "event name reset", in: "event: e\ndata: a\n\ndata: b\n\n",
			want: []Event{sseEv("", "e", "a", 0), sseEv("", "", "b", 0)}},
		{name: "event without data discarded", in: "event: e\n\ndata: b\n\n",
			want: []Event{sseEv("", "", "b", 0)}},
		{name: "retry", in: "retry: 1500\ndata: a\n\ndata: b\n\n",
			want: []Event{sseEv("", "", "a", 1500), sseEv("", "", "b", 0)}, retry: 1500},
		{name: "retry without data", in: "retry: 10\n\n", retry: 10},
		{name: "retry at EOF applies", in: "retry: 10\n", retry: 10, err: io.ErrUnexpectedEOF},
		{name: "retry invalid", in: "retry: 10ms\ndata: a\n\nretry: -1\ndata: b\n\nretry:\ndata: c\n\nretry:  5\ndata: d\n\nretry: 99999999999999999999999\ndata: e\n\n",
			want: []Event{sseEv("", "", "a", 0), sseEv("", "", "b", 0), sseEv("", "", "c", 0), sseEv("", "", "d", 0), sseEv("", "", "e", 0)}},
		{name: "retry zero", in: "retry: 5\n\nretry: 0\n\n", retry: 0},
		{name: "retry latest", in: "retry: 5\nretry: 7\ndata: a\n\n", want: []Event{sseEv("", "", "a", 7)}, retry: 7},
		{name: "unknown fields", in: "foo: bar\nDATA: x\nData: y\ndata : z\n\ndata: ok\nbar\n\n",
			want: []Event{sseEv("", "", "ok", 0)}},
		{name: "no colon is empty value", in: "data\ndata\n\n", want: []Event{sseEv("", "", "\n", 0)}},
		{name: "one space stripped", in: "data:   three\n\n", want: []Event{sseEv("", "", "  three", 0)}},
		{name: "tab not stripped", in: "data:\tx\n\n", want: []Event{sseEv("", "", "\tx", 0)}},
		{name: "colon in value", in: "data: a: b:c\n\n", want: []Event{sseEv("", "", "a: b:c", 0)}},
		{name: "NUL in data", in: "data: a\x00b\n\n", want: []Event{sseEv("", "", "a\x00b", 0)}},
		{name: "invalid UTF-8 passes through", in: "data: \xff\xfe\n\n", want: []Event{sseEv("", "", "\xff\xfe", 0)}},
		{name: "comment between fields", in: "data: a\n: c\ndata: b\n\n", want: []Event{sseEv("", "", "a\nb", 0)}},
		{name: "incomplete event", in: "data: a\n\ndata: b\n", want: []Event{sseEv("", "", "a", 0)}, err: io.ErrUnexpectedEOF},
		{name: "unterminated line", in: "data: a\n\ndata: b", want: []Event{sseEv("", "", "a", 0)}, err: io.ErrUnexpectedEOF},
		{name: "unterminated comment", in: "data: a\n\n: bye", want: []Event{sseEv("", "", "a", 0)}},
		{name: "trailing CR then EOF", in: "data: a\r\r", want: []Event{sseEv("", "", "a", 0)}},
		{name: "long line", in: "data: " + strings.Repeat("x", 100000) + "\n\n",
			want: []Event{sseEv("", "", strings.Repeat("x", 100000), 0)}},
		{name: "long CR-only stream", in: strings.Repeat("data: y\r", 5000) + "\r",
			want: []Event{sseEv("", "", strings.Repeat("y\n", 4999)+"y", 0)}},
	})
}

func TestSSERoundTrip(t *testing.T) {
	events := []Event{
		{},
		{ID: "prime-1"},
		sseEv("", "", "hello", 0),
		sseEv("2", "update", "line1\nline2\nline3", 0),
		sseEv("", "", "crlf1\r\ncrlf2\r\n", 0),
		sseEv("", "", "cr1\rcr2\r", 0),
		sseEv("3", "", "mixed\r\nx\ry\nz", 250),
		sseEv("", "", "\n\n\n", 0),
		sseEv("", "", "\r\n\r\n", 0),
		sseEv("", "", "\r\r\n\n\r", 0),
		sseEv("", "", " leading and trailing ", 0),
		sseEv("id with spaces", "name with spaces", "x", 0),
		sseEv(" ", " ", " ", 1),
		sseEv("\xEF\xBB\xBF", "é", "日本語\x00\xff", 0),
		sseEv(":", ":", ":", 0),
		sseEv("", "message", strings.Repeat("big ", 20000), 0),
		sseEv("last", "", "bye", 60000),
	}
	var stream []byte
	var want []Event
	lastID, retry := "", 0
	for i, ev := range events {
		if i%3 == 0 {
			stream = AppendComment(stream, fmt.Sprintf("comment %d\nsecond line", i))
		}
		var err error
		stream, err = AppendEvent(stream, ev)
		if err != nil {
			t.Fatalf("AppendEvent(%s): %v", sseEventString(ev), err)
		}
		if ev.ID != "" {
			lastID = ev.ID
		}
		w := Event{ID: lastID, Name: ev.Name, Data: sseNormalize(ev.Data), Retry: max(ev.Retry, 0)}
		if ev.Retry > 0 {
			retry = ev.Retry
		}
		want = append(want, w)
	}
	for rname, mk := range sseReaders() {
		t.Run(rname, func(t *testing.T) {
			got := sseDecodeAll(mk(stream), 0, 0, 1000)
			if d := sseDiff(got, sseResult{events: want, err: io.EOF, lastID: lastID, retry: retry}); d != "" {
				t.Error(d)
			}
		})
	}
}

func TestSSELimits(t *testing.T) {
	tests := []struct {
		name              string
		in                string
		maxLine, maxEvent int
		want              []Event
		err               error
	}{
		{name: "line at limit", in: "data: 1234\n\n", maxLine: 10, maxEvent: 100,
			want: []Event{sseEv("", "", "1234", 0)}, err: io.EOF},
		{name: "line over limit", in: "data: 12345\n\n", maxLine: 10, maxEvent: 100,
			err: ErrSSETooLarge},
		{name: "comment over limit", in: ": 123456789\n\n", maxLine: 10, maxEvent: 100,
			err: ErrSSETooLarge},
		{name: "unterminated over limit", in: "data: 12345", maxLine: 10, maxEvent: 100,
			err: ErrSSETooLarge},
		{name: "CRLF not counted", in: "data: 1234\r\n\r\n", maxLine: 10, maxEvent: 100,
			want: []Event{sseEv("", "", "1234", 0)}, err: io.EOF},
		{name: "events before error", in: "data: a\n\ndata: 0123456789\n\n", maxLine: 10, maxEvent: 100,
			want: []Event{sseEv("", "", "a", 0)}, err: ErrSSETooLarge},
		{name: "event at limit", in: "data: 1234\ndata: 1234\ndata: 1\n\n", maxLine: 100, maxEvent: 11,
			want: []Event{sseEv("", "", "1234\n1234\n1", 0)}, err: io.EOF},
		{name: "event over limit", in: "data: 1234\ndata: 1234\ndata: 12\n\n", maxLine: 100, maxEvent: 11,
			err: ErrSSETooLarge},
		{name: "event limit is per event", in: "data: 12345678\n\ndata: 12345678\n\n", maxLine: 100, maxEvent: 8,
			want: []Event{sseEv("", "", "12345678", 0), sseEv("", "", "12345678", 0)}, err: io.EOF},
		{name: "empty data lines count", in: strings.Repeat("data\n", 10) + "\n", maxLine: 100, maxEvent: 8,
			err: ErrSSETooLarge},
		{name: "defaults", in: "data: " + strings.Repeat("x", 1<<20-6) + "\n\n",
			want: []Event{sseEv("", "", strings.Repeat("x", 1<<20-6), 0)}, err: io.EOF},
		{name: "default line limit", in: "data: " + strings.Repeat("x", 1<<20-5) + "\n\n",
			err: ErrSSETooLarge},
	}
	for _, tt := range tests {
		for rname, mk := range sseReaders() {
			if rname == "onebyte" && len(tt.in) > 1<<16 {
				continue // slow under -race; covered by the other readers
			}
			t.Run(tt.name+"/"+rname, func(t *testing.T) {
				got := sseDecodeAll(mk([]byte(tt.in)), tt.maxLine, tt.maxEvent, 100)
				if !sseEventsEqual(got.events, tt.want) || got.err != tt.err {
					t.Errorf("got %s, %v; want %s, %v", sseEventsString(got.events), got.err, sseEventsString(tt.want), tt.err)
				}
			})
		}
	}
}

// An endless line must be rejected after reading about maxLine bytes, not
// buffered forever.
func TestSSEUnboundedLine(t *testing.T) {
	for _, b := range []byte{'x', ':'} {
		d := NewDecoder(sseRepeatReader(b))
		d.SetLimits(1000, 1000)
		if _, err := d.Next(); err != ErrSSETooLarge {
			t.Errorf("byte %q: err = %v, want ErrSSETooLarge", b, err)
		}
	}
	// Many empty data lines: each adds a "\n" to the data, so the event
	// limit applies.
	d := NewDecoder(iotest.OneByteReader(strings.NewReader(strings.Repeat("data\n", 2000))))
	d.SetLimits(1000, 1000)
	if _, err := d.Next(); err != ErrSSETooLarge {
		t.Errorf("many data lines: err = %v, want ErrSSETooLarge", err)
	}
}

// The decoder must return an event as soon as its blank line arrives, without
// waiting for more input (a live stream may be idle for a long time).
func TestSSENoReadAhead(t *testing.T) {
	for _, tt := range []struct{ name, chunk string }{
		{"LF", "data: a\n\n"},
		{"CRLF", "data: a\r\n\r\n"},
		{"CR", "data: a\r\r"},
		{"BOM", "\xEF\xBB\xBFdata: a\n\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			pr, pw := io.Pipe()
			defer pr.Close()
			d := NewDecoder(pr)
			type result struct {
				ev  Event
				err error
			}
			ch := make(chan result, 1)
			go func() {
				ev, err := d.Next()
				ch <- result{ev, err}
			}()
			go pw.Write([]byte(tt.chunk))
			select {
			case r := <-ch:
				if r.err != nil || string(r.ev.Data) != "a" {
					t.Fatalf("Next = %s, %v", sseEventString(r.ev), r.err)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("Next blocked waiting for more input")
			}
			// A following LF (after CR) must still be treated as part of the
			// previous line ending.
			go func() {
				pw.Write([]byte("\ndata: b\n\n"))
				pw.Close()
			}()
			ev, err := d.Next()
			if err != nil || string(ev.Data) != "b" {
				t.Fatalf("second Next = %s, %v", sseEventString(ev), err)
			}
			if _, err := d.Next(); err != io.EOF {
				t.Fatalf("third Next err = %v, want EOF", err)
			}
		})
	}
}

func TestSSEReadError(t *testing.T) {
	boom := errors.New("boom")
	for _, in := range []string{"", "\xEF", "data: a\n\n", "data: a\n\ndata: partial"} {
		r := io.MultiReader(strings.NewReader(in), iotest.ErrReader(boom))
		res := sseDecodeAll(r, 0, 0, 10)
		if res.err != boom {
			t.Errorf("input %q: err = %v, want boom", in, res.err)
		}
	}
}

func TestSSELastEventIDAndRetryAccessors(t *testing.T) {
	d := NewDecoder(strings.NewReader("id: a\nretry: 100\ndata: 1\n\nid: b\n\nretry: 200\ndata: 2\n\n"))
	if d.LastEventID() != "" || d.Retry() != 0 {
		t.Fatalf("initial state: %q %d", d.LastEventID(), d.Retry())
	}
	ev, err := d.Next()
	if err != nil || ev.ID != "a" || ev.Retry != 100 || d.LastEventID() != "a" || d.Retry() != 100 {
		t.Fatalf("first: %s %v %q %d", sseEventString(ev), err, d.LastEventID(), d.Retry())
	}
	ev, err = d.Next()
	if err != nil || ev.ID != "b" || ev.Retry != 200 || d.LastEventID() != "b" || d.Retry() != 200 {
		t.Fatalf("second: %s %v %q %d", sseEventString(ev), err, d.LastEventID(), d.Retry())
	}
}

// Returned Data must not alias decoder buffers.
func TestSSEDataOwned(t *testing.T) {
	d := NewDecoder(strings.NewReader("data: aaaa\n\ndata: bbbb\n\n"))
	ev1, _ := d.Next()
	ev2, _ := d.Next()
	if string(ev1.Data) != "aaaa" || string(ev2.Data) != "bbbb" {
		t.Fatalf("got %q %q", ev1.Data, ev2.Data)
	}
}

func TestSSEAppendEventAllocs(t *testing.T) {
	ev := sseEv("12345", "message", "line one\nline two\r\nline three", 5000)
	dst := make([]byte, 0, 1024)
	allocs := testing.AllocsPerRun(100, func() {
		var err error
		dst, err = AppendEvent(dst[:0], ev)
		if err != nil {
			t.Fatal(err)
		}
		dst = AppendComment(dst, "keepalive")
	})
	if allocs != 0 {
		t.Errorf("AppendEvent with reused dst: %v allocs/op, want 0", allocs)
	}
}

func sseFuzzSeeds() [][]byte {
	return [][]byte{
		[]byte(""),
		[]byte("data: hello\n\n"),
		[]byte("id: 1\ndata:\n\n"),
		[]byte("\xEF\xBB\xBFdata: bom\r\n\r\n"),
		[]byte("data: a\rdata: b\r\r"),
		[]byte("data: a\r\ndata: b\n\r\n\r"),
		[]byte(": comment\n\nevent: e\nid: 7\nretry: 300\ndata: x\n\n"),
		[]byte("id: a\x00b\ndata: nul\n\n"),
		[]byte("data\n\ndata\ndata\n\ndata:"),
		[]byte("retry: 99999999999999999999\nretry: 12x\ndata: r\n\n"),
		[]byte("data: " + strings.Repeat("L", 100) + "\n\n"),
		[]byte(strings.Repeat("data: y\n", 40) + "\n"),
		[]byte("\xEF\xBB\xEF\xBB\xBF\r\r\r\n\n"),
		[]byte("id\nevent\nretry\ndata\n\n:x"),
	}
}

func FuzzSSEDecoder(f *testing.F) {
	for _, s := range sseFuzzSeeds() {
		f.Add(s)
	}
	const maxLine, maxEvent = 64, 200
	f.Fuzz(func(t *testing.T, in []byte) {
		limit := len(in) + 1
		whole := sseDecodeAll(bytes.NewReader(in), maxLine, maxEvent, limit)
		for _, ev := range whole.events {
			if len(ev.Data) > maxEvent {
				t.Fatalf("event data %d bytes exceeds limit %d", len(ev.Data), maxEvent)
			}
			if len(ev.ID) > maxLine || len(ev.Name) > maxLine {
				t.Fatalf("id/name exceeds line limit: %s", sseEventString(ev))
			}
			if strings.ContainsAny(ev.ID, "\r\n\x00") || strings.ContainsAny(ev.Name, "\r\n") || bytes.IndexByte(ev.Data, '\r') >= 0 {
				t.Fatalf("bad bytes in event %s", sseEventString(ev))
			}
			// Every decoded event (that the encoder can represent) re-encodes
			// to itself.
			if strings.IndexByte(ev.Name, 0) < 0 {
				enc, err := AppendEvent(nil, ev)
				if err != nil {
					t.Fatalf("re-encode %s: %v", sseEventString(ev), err)
				}
				re := sseDecodeAll(bytes.NewReader(enc), 0, 0, 2)
				want := sseResult{events: []Event{ev}, err: io.EOF, lastID: ev.ID, retry: ev.Retry}
				if d := sseDiff(re, want); d != "" {
					t.Fatalf("re-encoded %q:%s", enc, d)
				}
			}
		}
		switch whole.err {
		case io.EOF, io.ErrUnexpectedEOF, ErrSSETooLarge:
		default:
			t.Fatalf("unexpected error %v", whole.err)
		}
		for _, r := range []struct {
			name string
			r    io.Reader
		}{
			{"onebyte", iotest.OneByteReader(bytes.NewReader(in))},
			{"half", iotest.HalfReader(bytes.NewReader(in))},
			{"crsplit", &sseCRSplitReader{b: in}},
		} {
			got := sseDecodeAll(r.r, maxLine, maxEvent, limit)
			if d := sseDiff(got, whole); d != "" {
				t.Fatalf("%s reader differs from whole input %q:%s", r.name, in, d)
			}
		}
	})
}

func FuzzSSERoundTrip(f *testing.F) {
	f.Add("", "", []byte(""), 0, "")
	f.Add("1", "message", []byte("hello"), 0, "ping")
	f.Add("prime", "", []byte{}, 0, "")
	f.Add("42", "update", []byte("a\nb\r\nc\rd"), 3000, "multi\nline")
	f.Add(" x", " y", []byte(" z"), 1, " c")
	f.Add("", "", []byte("\r\n\r\n"), -1, "\r")
	f.Add("", "", []byte("\n\r"), 0, "")
	f.Add("a\nb", "", []byte("x"), 0, "")
	f.Add("", "n\r", []byte("x"), 0, "")
	f.Add("nul\x00", "", []byte("x"), 0, "")
	f.Add("\xEF\xBB\xBF", "\xff", []byte("\xEF\xBB\xBFdata: inner\n\n"), 5, "")
	f.Add(":", ":", []byte(":\n:"), 1<<40, ":")
	f.Fuzz(func(t *testing.T, id, name string, data []byte, retry int, comment string) {
		ev := Event{ID: id, Name: name, Data: data, Retry: retry}
		first, err := AppendEvent(nil, ev)
		if sseHasBadByte(id) || sseHasBadByte(name) {
			if err == nil {
				t.Fatalf("AppendEvent(%s) accepted invalid id/name", sseEventString(ev))
			}
			return
		}
		if err != nil {
			t.Fatalf("AppendEvent(%s): %v", sseEventString(ev), err)
		}
		// Stream: comment, the event, comment, the data again without an id
		// (the id must persist).
		stream := AppendComment(nil, comment)
		stream = append(stream, first...)
		stream = AppendComment(stream, comment)
		stream, err = AppendEvent(stream, Event{Data: data})
		if err != nil {
			t.Fatal(err)
		}
		norm := sseNormalize(data)
		want := sseResult{
			events: []Event{
				{ID: id, Name: name, Data: norm, Retry: max(retry, 0)},
				{ID: id, Data: norm},
			},
			err:    io.EOF,
			lastID: id,
			retry:  max(retry, 0),
		}
		for _, r := range []struct {
			name string
			r    io.Reader
		}{
			{"whole", bytes.NewReader(stream)},
			{"onebyte", iotest.OneByteReader(bytes.NewReader(stream))},
			{"crsplit", &sseCRSplitReader{b: stream}},
		} {
			got := sseDecodeAll(r.r, 0, 0, 3)
			if d := sseDiff(got, want); d != "" {
				t.Fatalf("%s: stream %q:%s", r.name, stream, d)
			}
		}
	})
}

func BenchmarkAppendEvent(b *testing.B) {
	ev := Event{
		ID:   "1f6f8e2c-42",
		Name: "message",
		Data: []byte(`{"jsonrpc":"2.0","id":42,"result":{"content":[{"type":"text","text":"hello world"}]}}` + "\n" +
			`{"jsonrpc":"2.0","method":"notifications/progress","params":{"progress":50,"total":100}}`),
		Retry: 1000,
	}
	dst, _ := AppendEvent(nil, ev)
	b.SetBytes(int64(len(dst)))
	b.ReportAllocs()
	for b.Loop() {
		dst, _ = AppendEvent(dst[:0], ev)
	}
}

func BenchmarkDecoder(b *testing.B) {
	for _, eol := range []string{"\n", "\r\n", "\r"} {
		var stream []byte
		for i := range 1000 {
			data := `{"jsonrpc":"2.0","id":` + strconv.Itoa(i) + `,"result":{"content":[{"type":"text","text":"hello world"}]}}`
			var err error
			stream, err = AppendEvent(stream, Event{ID: strconv.Itoa(i), Data: []byte(data + "\n" + data)})
			if err != nil {
				b.Fatal(err)
			}
		}
		stream = bytes.ReplaceAll(stream, []byte("\n"), []byte(eol))
		b.Run(strconv.Quote(eol), func(b *testing.B) {
			b.SetBytes(int64(len(stream)))
			b.ReportAllocs()
			for b.Loop() {
				d := NewDecoder(bytes.NewReader(stream))
				n := 0
				for {
					_, err := d.Next()
					if err == io.EOF {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
					n++
				}
				if n != 1000 {
					b.Fatalf("decoded %d events, want 1000", n)
				}
			}
		})
	}
}
