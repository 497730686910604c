package server

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"mcplambda/mcp"
)

// A stream carries the server's messages for one POST (its notifications,
// its requests to the client, and finally its response or responses) or
// for one standalone GET. A POST stream starts undecided: if the handler
// returns without sending anything, the answer goes out as plain JSON; the
// first notification or request switches it to SSE. SSE events are kept in
// a bounded buffer so a client that lost the connection can resume with
// Last-Event-ID, and the stream's writer ("sink") can be replaced by the
// resuming GET.
type stream struct {
	id      uint64 // unique within the session; 0 for streams that cannot be resumed
	sess    *liveSession
	h       *Handler
	version string

	mu sync.Mutex
	// The small fields sit together: a stream is allocated per request,
	// and padding would push it into a larger size class.
	mode    streamMode
	done    bool
	batch   bool
	code    int32               // the HTTP status of a JSON answer; 0: 200
	w       http.ResponseWriter // the sink; nil while detached
	rc      *http.ResponseController
	kicked  chan struct{} // closed when the sink is replaced or the stream ends
	buf     []byte
	events  []storedEvent // ring of the last events, for replay
	evBytes int           // bytes of data in events, counted in sess.bufBytes too
	lost    uint64        // last sequence number dropped from events (0: none)
	seq     uint64        // last event sequence number issued (0 = priming)
	doneCh  chan struct{}
	pending int      // responses still owed (a batch owes several)
	jsonOne []byte   // the response, in JSON mode (one request)
	jsonOut [][]byte // the responses, in JSON mode (a batch)
	// gone is closed when the sink's request ends (the client went away):
	// events written since may be lost in transit, so the stream does not
	// count as delivered. nil: unknown.
	gone <-chan struct{}
	ka   *time.Timer
}

type streamMode uint8

const (
	modeUndecided streamMode = iota
	modeSSE
)

type storedEvent struct {
	seq  uint64
	data []byte
}

var (
	hdrJSON        = []string{"application/json"}
	hdrEventStream = []string{"text/event-stream"}
	hdrNoCache     = []string{"no-cache, no-transform"}
	hdrNoBuffering = []string{"no"}
)

// newPostStream is the stream of a POST that owes responses to pending
// requests; batch: they go out as a JSON array in JSON mode.
func newPostStream(h *Handler, sess *liveSession, w http.ResponseWriter, version string, pending int, batch bool) *stream {
	return &stream{h: h, sess: sess, w: w, version: version, pending: pending, batch: batch}
}

// openStandalone opens a standalone (GET) stream of sess on w: registered
// for server-initiated messages and resumption, its SSE head written. It
// returns a channel closed when the stream ends or another GET takes it
// over, or false when the session has ended.
func openStandalone(h *Handler, sess *liveSession, w http.ResponseWriter, version string) (*stream, <-chan struct{}, bool) {
	st := &stream{h: h, sess: sess, version: version, pending: 1}
	st.mu.Lock()
	defer st.mu.Unlock()
	id, ok := sess.register(st, true)
	if !ok {
		return nil, nil, false
	}
	st.id = id
	st.w = w
	st.mode = modeSSE
	st.doneCh = make(chan struct{})
	st.startSSELocked(w)
	kicked := make(chan struct{})
	st.kicked = kicked
	st.armKeepAliveLocked()
	return st, kicked, true
}

// status is the HTTP status the stream answered with.
func (st *stream) status() int {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.mode == modeUndecided && st.jsonOne == nil && len(st.jsonOut) == 0 {
		return http.StatusAccepted
	}
	if st.mode == modeUndecided && st.code != 0 {
		return int(st.code)
	}
	return http.StatusOK
}

// resumable reports whether a client that loses this stream can come back
// for the rest (a session's SSE stream): otherwise losing it cancels the
// request.
func (st *stream) resumable() bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.sess != nil && st.mode == modeSSE
}

// eventID encodes the stream and the sequence number so that a
// Last-Event-ID names the stream to resume.
func (st *stream) eventID(seq uint64) string {
	return strconv.FormatUint(st.id, 10) + "-" + strconv.FormatUint(seq, 10)
}

func parseEventID(s string) (streamID, seq uint64, ok bool) {
	a, b, found := strings.Cut(s, "-")
	if !found {
		return 0, 0, false
	}
	streamID, err1 := strconv.ParseUint(a, 10, 64)
	seq, err2 := strconv.ParseUint(b, 10, 64)
	return streamID, seq, err1 == nil && err2 == nil && streamID > 0
}

// send puts a notification or a server-to-client request on the stream.
func (st *stream) send(msg []byte) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.done {
		return ErrNotConnected
	}
	st.switchToSSELocked()
	st.appendLocked(msg)
	return nil
}

// finishStatus is finish for a request whose answer, when it goes out as
// plain JSON, has an HTTP status of its own (a stateless-era error).
func (st *stream) finishStatus(resp []byte, code int) {
	st.mu.Lock()
	if st.mode == modeUndecided && code != http.StatusOK {
		st.code = int32(code)
	}
	st.mu.Unlock()
	st.finish(resp)
}

// finish delivers one response. The stream ends when every response owed
// is delivered. A nil response (a request cancelled by the client, which
// must not be answered) only counts down.
func (st *stream) finish(resp []byte) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.done {
		return
	}
	st.pending--
	if st.mode == modeSSE {
		if resp != nil {
			st.appendLocked(resp)
		}
	} else if resp != nil {
		if st.batch {
			st.jsonOut = append(st.jsonOut, resp)
		} else {
			st.jsonOne = resp
		}
	}
	if st.pending > 0 {
		return
	}
	if st.mode == modeUndecided {
		st.writeJSONLocked()
	}
	delivered := st.sinkAliveLocked()
	st.endLocked()
	if delivered {
		// The client has every event: nothing is left to replay.
		st.dropEventsLocked()
	}
}

func (st *stream) writeJSONLocked() {
	w := st.w
	if w == nil {
		return
	}
	if st.jsonOne == nil && len(st.jsonOut) == 0 {
		// Only cancelled requests: nothing to say.
		w.WriteHeader(http.StatusAccepted)
		return
	}
	w.Header()["Content-Type"] = hdrJSON
	if st.code != 0 {
		w.WriteHeader(int(st.code))
	}
	// The deadline also bounds net/http's final flush of the answer; it
	// clears it once the request is done.
	st.boundWriteLocked()
	if !st.batch {
		// A trailing newline keeps curl output readable; JSON ignores it.
		_, _ = w.Write(append(st.jsonOne, '\n'))
		return
	}
	buf := append(st.buf[:0], '[')
	for i, r := range st.jsonOut {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, r...)
	}
	buf = append(buf, ']', '\n')
	_, _ = w.Write(buf)
}

func (st *stream) endLocked() {
	st.done = true
	if st.doneCh != nil {
		close(st.doneCh)
	}
	if st.kicked != nil {
		close(st.kicked)
		st.kicked = nil
	}
	if st.ka != nil {
		st.ka.Stop()
	}
	st.w, st.rc = nil, nil
}

// close ends a stream that will get no more messages (session ended,
// shutdown).
func (st *stream) close() {
	st.mu.Lock()
	if !st.done {
		st.endLocked()
	}
	// Closed streams are not resumed (evicted, or the session is over).
	st.dropEventsLocked()
	st.mu.Unlock()
}

func (st *stream) switchToSSELocked() {
	if st.mode == modeSSE {
		return
	}
	st.mode = modeSSE
	st.doneCh = make(chan struct{})
	if st.sess != nil && st.id == 0 {
		st.id, _ = st.sess.register(st, false)
	}
	if st.w != nil {
		st.startSSELocked(st.w)
	}
	st.armKeepAliveLocked()
}

// startSSELocked writes the SSE response head and, for clients of
// 2025-11-25 and later, a priming event (an id and empty data) with a retry
// hint, so that a client that loses the connection can come back with
// Last-Event-ID.
func (st *stream) startSSELocked(w http.ResponseWriter) {
	hdr := w.Header()
	hdr["Content-Type"] = hdrEventStream
	hdr["Cache-Control"] = hdrNoCache
	hdr["X-Accel-Buffering"] = hdrNoBuffering
	w.WriteHeader(http.StatusOK)
	if st.id != 0 && st.version >= mcp.Version20251125 {
		st.buf, _ = mcp.AppendEvent(st.buf[:0], mcp.Event{ID: st.eventID(0), Retry: int(st.h.cfg.SSERetry / time.Millisecond)})
		st.writeLocked(st.buf)
	} else {
		st.flushLocked()
	}
}

func (st *stream) appendLocked(msg []byte) {
	st.seq++
	if st.id != 0 {
		if max := st.h.cfg.EventBuffer; len(st.events) >= max && max > 0 {
			st.dropOldestLocked()
		}
		st.events = append(st.events, storedEvent{seq: st.seq, data: msg})
		st.evBytes += len(msg)
		total := st.sess.bufBytes.Add(int64(len(msg)))
		// Over the session's byte budget, this stream gives up its oldest
		// events, the new one last: a client that resumes from before them
		// is told they are lost, and memory stays bounded however much a
		// detached stream is sent.
		if budget := int64(st.h.cfg.EventBufferBytes); budget > 0 {
			for total > budget && len(st.events) > 0 {
				total -= int64(len(st.events[0].data))
				st.dropOldestLocked()
			}
		}
	}
	if st.w == nil {
		return
	}
	ev := mcp.Event{Name: "message", Data: msg}
	if st.id != 0 {
		ev.ID = st.eventID(st.seq)
	}
	st.buf, _ = mcp.AppendEvent(st.buf[:0], ev)
	st.writeLocked(st.buf)
}

// writeLocked writes and flushes to the sink; a failed write detaches it
// (the events stay buffered for a resuming client).
func (st *stream) dropOldestLocked() {
	e := st.events[0]
	copy(st.events, st.events[1:])
	st.events[len(st.events)-1] = storedEvent{}
	st.events = st.events[:len(st.events)-1]
	st.lost = e.seq
	st.evBytes -= len(e.data)
	st.sess.bufBytes.Add(-int64(len(e.data)))
}

// dropEventsLocked forgets every buffered event.
func (st *stream) dropEventsLocked() {
	if len(st.events) == 0 {
		return
	}
	st.lost = st.events[len(st.events)-1].seq
	st.sess.bufBytes.Add(-int64(st.evBytes))
	st.events, st.evBytes = nil, 0
}

func (st *stream) writeLocked(b []byte) {
	st.boundWriteLocked()
	if _, err := st.w.Write(b); err != nil {
		st.w, st.rc = nil, nil
		return
	}
	st.flushLocked()
}

func (st *stream) flushLocked() {
	if st.rc == nil {
		st.rc = http.NewResponseController(st.w)
	}
	st.boundWriteLocked()
	if err := st.rc.Flush(); err != nil && !errors.Is(err, http.ErrNotSupported) {
		st.w, st.rc = nil, nil
	}
}

// boundWriteLocked gives the next write a deadline. A client that stops
// reading fills its TCP window, and the write would then block for as
// long as the connection stays open, holding the stream's lock: the
// session's DELETE, its expiry (and with it the sweep of every other
// session) and shutdown would wait on that lock forever. With the deadline
// the write fails, the sink is detached and the events stay buffered for
// the client to resume. Writers without deadlines (Lambda's) are left as
// they are.
func (st *stream) boundWriteLocked() {
	if st.h.cfg.WriteTimeout <= 0 {
		return
	}
	if st.rc == nil {
		st.rc = http.NewResponseController(st.w)
	}
	_ = st.rc.SetWriteDeadline(time.Now().Add(st.h.cfg.WriteTimeout))
}

func (st *stream) armKeepAliveLocked() {
	if st.h.cfg.KeepAlive <= 0 {
		return
	}
	if st.ka == nil {
		st.ka = time.AfterFunc(st.h.cfg.KeepAlive, st.keepAlive)
		return
	}
	st.ka.Reset(st.h.cfg.KeepAlive)
}

// keepAlive sends an SSE comment so idle proxies keep the connection open,
// and marks the session used while a client listens.
func (st *stream) keepAlive() {
	st.mu.Lock()
	if st.done {
		st.mu.Unlock()
		return
	}
	attached := st.w != nil
	if attached {
		st.buf = mcp.AppendComment(st.buf[:0], "keep-alive")
		st.writeLocked(st.buf)
		st.armKeepAliveLocked() // a detached stream rests until attach re-arms it
	}
	st.mu.Unlock()
	if attached && st.sess != nil {
		st.sess.keepFresh()
	}
}

// errEventsLost means the client asked to resume after events the buffer no
// longer holds.
var errEventsLost = errors.New("the events after that Last-Event-ID are no longer available")

// sinkAliveLocked reports whether the sink took every write so far and its
// client is still there.
func (st *stream) sinkAliveLocked() bool {
	if st.w == nil {
		return false
	}
	select {
	case <-st.gone:
		return false
	default:
		return true
	}
}

// attach makes w, the writer of request r, the stream's sink, first
// replaying the events after seq. It returns a channel closed when the
// sink is replaced or the stream ends.
func (st *stream) attach(w http.ResponseWriter, r *http.Request, afterSeq uint64) (<-chan struct{}, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if afterSeq > st.seq {
		return nil, errors.New("that Last-Event-ID was never sent on this stream")
	}
	if afterSeq < st.lost {
		return nil, errEventsLost
	}
	if st.kicked != nil {
		close(st.kicked) // the previous sink's owner returns
	}
	st.w, st.rc, st.gone = w, nil, r.Context().Done()
	hdr := w.Header()
	hdr["Content-Type"] = hdrEventStream
	hdr["Cache-Control"] = hdrNoCache
	hdr["X-Accel-Buffering"] = hdrNoBuffering
	w.WriteHeader(http.StatusOK)
	st.flushLocked()
	for _, e := range st.events {
		if e.seq <= afterSeq || st.w == nil {
			continue
		}
		st.buf, _ = mcp.AppendEvent(st.buf[:0], mcp.Event{ID: st.eventID(e.seq), Name: "message", Data: e.data})
		st.writeLocked(st.buf)
	}
	kicked := make(chan struct{})
	if st.done {
		if st.sinkAliveLocked() {
			st.dropEventsLocked() // replayed in full: the stream is delivered
		}
		st.w, st.rc = nil, nil
		close(kicked)
		return kicked, nil
	}
	st.kicked = kicked
	st.armKeepAliveLocked()
	return kicked, nil
}

// detach removes w as the sink if it still is.
func (st *stream) detach(w http.ResponseWriter) {
	st.mu.Lock()
	if st.w == w {
		st.w, st.rc = nil, nil
	}
	st.mu.Unlock()
}

func (st *stream) attached() bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.w != nil && !st.done
}
