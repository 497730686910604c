package mcp

// Server-Sent Events (text/event-stream) framing, as used by the MCP
// Streamable HTTP transport.
//
// The encoder (AppendEvent, AppendComment) produces canonical wire form; the
// Decoder implements the WHATWG HTML "event stream interpretation" rules
// (https://html.spec.whatwg.org/multipage/server-sent-events.html), with
// limits so that it is safe to run on untrusted input.
//
// Bytes are passed through as-is: the decoder does not replace invalid UTF-8
// with U+FFFD, so Data, ID and Name round-trip arbitrary bytes.

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strconv"
	"strings"
)

// Event is one SSE event.
type Event struct {
	ID    string // "" = no id field
	Name  string // the `event:` field; "" = omitted (meaning "message")
	Data  []byte // may contain \n, \r\n or \r: each line becomes its own data: field
	Retry int    // milliseconds; >0 writes a retry: field
}

// ErrSSETooLarge is returned by Decoder.Next when a line or an event's data
// exceeds the decoder's limits (see Decoder.SetLimits).
var ErrSSETooLarge = errors.New("sse: line or event exceeds limit")

var (
	errSSEBadID   = errors.New("sse: event id contains CR, LF or NUL")
	errSSEBadName = errors.New("sse: event name contains CR, LF or NUL")
)

const (
	sseDefaultMaxLine  = 1 << 20 // 1 MiB
	sseDefaultMaxEvent = 8 << 20 // 8 MiB
	sseBufSize         = 16 << 10
	sseScanWindow      = 256
	sseBOM             = "\xEF\xBB\xBF"
)

// AppendEvent appends the wire form of e to dst and returns the extended
// slice. It allocates nothing beyond what growing dst requires.
//
// Fields are written in the order id, event, retry, data. Data is split on
// "\r\n", "\n" and "\r"; each line becomes its own data: field, so a decoder
// yields Data with every line ending normalised to "\n". Empty Data still
// produces a single "data:" line, so the event is dispatched (this is how MCP
// priming events, an id with empty data, are encoded).
//
// AppendEvent returns dst unchanged and an error if e.ID or e.Name contains
// CR, LF or NUL (an id containing NUL would be ignored by clients).
func AppendEvent(dst []byte, e Event) ([]byte, error) {
	if sseHasBadByte(e.ID) {
		return dst, errSSEBadID
	}
	if sseHasBadByte(e.Name) {
		return dst, errSSEBadName
	}
	if e.ID != "" {
		dst = sseAppendField(dst, "id", e.ID)
	}
	if e.Name != "" {
		dst = sseAppendField(dst, "event", e.Name)
	}
	if e.Retry > 0 {
		dst = append(dst, "retry: "...)
		dst = strconv.AppendInt(dst, int64(e.Retry), 10)
		dst = append(dst, '\n')
	}
	data := e.Data
	for {
		i := sseIndexEOL(data)
		if i < 0 {
			dst = sseAppendField(dst, "data", data)
			break
		}
		dst = sseAppendField(dst, "data", data[:i])
		if data[i] == '\r' && i+1 < len(data) && data[i+1] == '\n' {
			i++
		}
		data = data[i+1:]
	}
	return append(dst, '\n'), nil
}

// AppendComment appends the comment ": text\n\n" to dst and returns the
// extended slice. Comments are ignored by clients; they are typically used as
// keep-alives. If text contains CR or LF it is split into several comment
// lines (on "\r\n", "\n" or "\r"). An empty line of text is written as ":".
func AppendComment(dst []byte, text string) []byte {
	for {
		i := sseIndexEOLString(text)
		line := text
		if i >= 0 {
			line = text[:i]
		}
		dst = append(dst, ':')
		if line != "" {
			dst = append(dst, ' ')
			dst = append(dst, line...)
		}
		dst = append(dst, '\n')
		if i < 0 {
			break
		}
		if text[i] == '\r' && i+1 < len(text) && text[i+1] == '\n' {
			i++
		}
		text = text[i+1:]
	}
	return append(dst, '\n')
}

// sseAppendField appends "name: value\n", or "name:\n" if value is empty.
// The space after the colon is always written for non-empty values so a
// value with its own leading space survives the decoder's space stripping.
func sseAppendField[T string | []byte](dst []byte, name string, value T) []byte {
	dst = append(dst, name...)
	dst = append(dst, ':')
	if len(value) > 0 {
		dst = append(dst, ' ')
		dst = append(dst, value...)
	}
	return append(dst, '\n')
}

// sseIndexEOL returns the index of the first CR or LF in s, or -1.
//
// It runs vectorised IndexByte scans over windows of sseScanWindow bytes, so
// the cost is proportional to the distance to the line ending even when one
// of the two bytes never occurs (CR-only or LF-only streams).
func sseIndexEOL(s []byte) int {
	for off := 0; off < len(s); off += sseScanWindow {
		w := s[off:min(off+sseScanWindow, len(s))]
		i := bytes.IndexByte(w, '\n')
		if i >= 0 {
			w = w[:i]
		}
		if j := bytes.IndexByte(w, '\r'); j >= 0 {
			return off + j
		}
		if i >= 0 {
			return off + i
		}
	}
	return -1
}

// sseIndexEOLString is sseIndexEOL for strings.
func sseIndexEOLString(s string) int {
	for off := 0; off < len(s); off += sseScanWindow {
		w := s[off:min(off+sseScanWindow, len(s))]
		i := strings.IndexByte(w, '\n')
		if i >= 0 {
			w = w[:i]
		}
		if j := strings.IndexByte(w, '\r'); j >= 0 {
			return off + j
		}
		if i >= 0 {
			return off + i
		}
	}
	return -1
}

func sseHasBadByte(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '\r' || c == '\n' || c == 0 {
			return true
		}
	}
	return false
}

// Decoder reads events from an event stream following the WHATWG EventSource
// parsing rules:
//
//   - lines end with CRLF, LF or CR; a CR at the end of one Read followed by
//     an LF at the start of the next is a single line ending;
//   - one leading UTF-8 BOM is skipped;
//   - lines starting with ':' are comments and are ignored;
//   - "field:value" has one optional space after the colon stripped; a line
//     without a colon is a field with an empty value;
//   - data lines are joined with "\n";
//   - an id containing NUL is ignored; the last event id persists across
//     events and is committed when an event is dispatched (blank line), even
//     if that event has no data;
//   - retry is honoured only if it is non-empty and all ASCII digits;
//   - a blank line dispatches the event; an event without data lines is not
//     returned (but still updates the id); "data:" alone is a data line, so
//     "id: X\ndata:\n\n" is returned with empty Data;
//   - unknown fields are ignored; an incomplete event at EOF is discarded.
//
// The Decoder never reads past the blank line that ends an event before
// returning it, so it is suitable for live streams.
//
// A Decoder is not safe for concurrent use.
type Decoder struct {
	r        *bufio.Reader
	maxLine  int
	maxEvent int

	started bool  // BOM check done
	skipLF  bool  // previous line ended in CR; swallow a following LF
	discard int   // bytes of the last zero-copy line still to be discarded
	rerr    error // read error seen during the BOM check, not yet reported
	err     error // sticky error returned by Next

	line []byte // partial line spanning several buffer fills

	// Per-event state, reset on every blank line.
	data      []byte // data buffer: each data line followed by "\n"
	hasData   bool   // at least one data line seen
	eventType []byte
	evRetry   int
	pending   bool // a field line has been seen since the last blank line

	// Stream state.
	idBuf  []byte // last event ID buffer
	lastID string // last event ID string (committed at dispatch)
	name   string // cache of the previous event name, to avoid reallocation
	retry  int
}

// NewDecoder returns a Decoder reading from r, with the default limits
// (1 MiB per line, 8 MiB of data per event).
func NewDecoder(r io.Reader) *Decoder {
	return &Decoder{
		r:        bufio.NewReaderSize(r, sseBufSize),
		maxLine:  sseDefaultMaxLine,
		maxEvent: sseDefaultMaxEvent,
	}
}

// SetLimits bounds untrusted input: a single line (excluding its line ending)
// longer than maxLine bytes, or an event whose Data would exceed maxEvent
// bytes, makes Next return ErrSSETooLarge. A value <= 0 selects the default
// (1 MiB line, 8 MiB event).
func (d *Decoder) SetLimits(maxLine, maxEvent int) {
	if maxLine <= 0 {
		maxLine = sseDefaultMaxLine
	}
	if maxEvent <= 0 {
		maxEvent = sseDefaultMaxEvent
	}
	d.maxLine, d.maxEvent = maxLine, maxEvent
}

// LastEventID returns the id to send as Last-Event-ID when reconnecting: the
// last event ID committed by a blank line.
func (d *Decoder) LastEventID() string { return d.lastID }

// Retry returns the most recent valid retry value in milliseconds (0 if never
// set).
func (d *Decoder) Retry() int { return d.retry }

// Next returns the next dispatched event. Event.ID is the last event id in
// effect at dispatch, Event.Retry the retry value set within that event (0 if
// none), Event.Name the event type ("" if none was given, meaning "message").
// Event.Data is newly allocated and owned by the caller.
//
// Next returns io.EOF at a clean end of stream, io.ErrUnexpectedEOF if the
// stream ends in the middle of an event (a field line or a partial
// non-comment line without a terminating blank line), ErrSSETooLarge if a
// limit is exceeded, or the underlying reader's error. Errors are sticky.
func (d *Decoder) Next() (Event, error) {
	if d.err != nil {
		return Event{}, d.err
	}
	if !d.started {
		d.started = true
		d.sseSkipBOM()
	}
	for {
		line, err := d.sseReadLine()
		if err != nil {
			d.err = err
			return Event{}, err
		}
		if len(line) == 0 {
			if ev, ok := d.sseDispatch(); ok {
				return ev, nil
			}
			continue
		}
		if err := d.sseProcessLine(line); err != nil {
			d.err = err
			return Event{}, err
		}
	}
}

// sseSkipBOM discards one leading UTF-8 BOM. It only waits for more input
// while what it has seen so far is a prefix of the BOM.
func (d *Decoder) sseSkipBOM() {
	for n := 1; n <= len(sseBOM); n++ {
		b, err := d.r.Peek(n)
		if len(b) < n {
			d.rerr = err
			return
		}
		if b[n-1] != sseBOM[n-1] {
			return
		}
	}
	d.r.Discard(len(sseBOM))
}

// ssePeek returns all buffered bytes, reading more if none are buffered.
func (d *Decoder) ssePeek() ([]byte, error) {
	if d.r.Buffered() == 0 {
		if d.rerr != nil {
			return nil, d.rerr
		}
		if _, err := d.r.Peek(1); err != nil {
			return nil, err
		}
	}
	return d.r.Peek(d.r.Buffered())
}

// sseReadLine returns the next line without its line ending. The slice is
// valid until the next call.
func (d *Decoder) sseReadLine() ([]byte, error) {
	if d.discard > 0 {
		d.r.Discard(d.discard)
		d.discard = 0
	}
	d.line = d.line[:0]
	for {
		buf, err := d.ssePeek()
		if err != nil {
			if err == io.EOF {
				if d.pending || (len(d.line) > 0 && d.line[0] != ':') {
					return nil, io.ErrUnexpectedEOF
				}
			}
			return nil, err
		}
		if d.skipLF {
			d.skipLF = false
			if buf[0] == '\n' {
				d.r.Discard(1)
				continue
			}
		}
		i := sseIndexEOL(buf)
		if i < 0 {
			if len(d.line)+len(buf) > d.maxLine {
				return nil, ErrSSETooLarge
			}
			d.line = append(d.line, buf...)
			d.r.Discard(len(buf))
			continue
		}
		if len(d.line)+i > d.maxLine {
			return nil, ErrSSETooLarge
		}
		d.skipLF = buf[i] == '\r'
		if len(d.line) == 0 {
			// Whole line is in the buffer: hand it out without copying and
			// discard it on the next call.
			d.discard = i + 1
			return buf[:i], nil
		}
		d.line = append(d.line, buf[:i]...)
		d.r.Discard(i + 1)
		return d.line, nil
	}
}

// sseProcessLine interprets one non-empty line.
func (d *Decoder) sseProcessLine(line []byte) error {
	if line[0] == ':' {
		return nil // comment
	}
	d.pending = true
	field, value := line, []byte(nil)
	if i := bytes.IndexByte(line, ':'); i >= 0 {
		field, value = line[:i], line[i+1:]
		if len(value) > 0 && value[0] == ' ' {
			value = value[1:]
		}
	}
	switch string(field) {
	case "data":
		if len(d.data)+len(value) > d.maxEvent {
			return ErrSSETooLarge
		}
		d.data = append(d.data, value...)
		d.data = append(d.data, '\n')
		d.hasData = true
	case "event":
		d.eventType = append(d.eventType[:0], value...)
	case "id":
		if bytes.IndexByte(value, 0) < 0 {
			d.idBuf = append(d.idBuf[:0], value...)
		}
	case "retry":
		if n, ok := sseParseRetry(value); ok {
			d.retry = n
			d.evRetry = n
		}
	}
	return nil
}

// sseParseRetry accepts a non-empty run of ASCII digits that fits in an int.
func sseParseRetry(v []byte) (int, bool) {
	if len(v) == 0 {
		return 0, false
	}
	const maxInt = int(^uint(0) >> 1)
	n := 0
	for _, c := range v {
		if c < '0' || c > '9' {
			return 0, false
		}
		digit := int(c - '0')
		if n > (maxInt-digit)/10 {
			return 0, false
		}
		n = n*10 + digit
	}
	return n, true
}

// sseDispatch handles a blank line: it commits the last event ID and, if the
// event has data, returns it. Per-event state is reset either way.
func (d *Decoder) sseDispatch() (Event, bool) {
	if string(d.idBuf) != d.lastID {
		d.lastID = string(d.idBuf)
	}
	var ev Event
	ok := d.hasData
	if ok {
		if string(d.eventType) != d.name {
			d.name = string(d.eventType)
		}
		ev = Event{
			ID:    d.lastID,
			Name:  d.name,
			Data:  bytes.Clone(d.data[:len(d.data)-1]),
			Retry: d.evRetry,
		}
	}
	d.data = d.data[:0]
	d.hasData = false
	d.eventType = d.eventType[:0]
	d.evRetry = 0
	d.pending = false
	return ev, ok
}
