package server

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"mcplambda/mcp"
)

// HandlerOptions are the collaborators of a Handler; all are optional.
type HandlerOptions struct {
	// Store keeps session state; default an in-memory store with the
	// configured TTL and session cap.
	Store SessionStore
	// Auth authenticates every MCP request; nil means no authentication.
	Auth Authenticator
	// Logger receives structured logs; default slog.Default().
	Logger *slog.Logger
}

// Handler is the Streamable HTTP transport: it serves the MCP endpoint
// (POST, GET, DELETE) for a Server, with sessions.
type Handler struct {
	srv     *Server
	cfg     Config
	store   SessionStore
	auth    Authenticator
	log     *slog.Logger
	origins originPolicy
	now     func() time.Time

	mu       sync.RWMutex
	live     map[string]*liveSession
	updateMu sync.Mutex

	shutdown  chan struct{}
	closeOnce sync.Once
	janitor   *time.Ticker
	janDone   chan struct{}
}

// NewHandler returns the transport for srv. Close it to stop its
// background work.
func NewHandler(srv *Server, cfg Config, opts HandlerOptions) *Handler {
	if cfg.MaxStreamsPerSession <= 0 {
		cfg.MaxStreamsPerSession = 32
	}
	h := &Handler{
		srv:      srv,
		cfg:      cfg,
		store:    opts.Store,
		auth:     opts.Auth,
		log:      opts.Logger,
		origins:  newOriginPolicy(cfg),
		now:      time.Now,
		live:     map[string]*liveSession{},
		shutdown: make(chan struct{}),
		janDone:  make(chan struct{}),
	}
	if h.store == nil {
		h.store = NewMemoryStore(cfg.SessionTTL, cfg.MaxSessions)
	}
	if h.log == nil {
		h.log = slog.Default()
	}
	srv.listeners.Store(changeListener(h), struct{}{})
	interval := time.Minute
	if cfg.SessionTTL > 0 {
		interval = min(max(cfg.SessionTTL/4, time.Second), time.Minute)
	}
	h.janitor = time.NewTicker(interval)
	go h.sweepLoop()
	return h
}

// Close ends every session's streams and stops background work. In-flight
// POST requests are left to finish (http.Server.Shutdown waits for them).
func (h *Handler) Close() {
	h.closeOnce.Do(func() {
		close(h.shutdown)
		h.janitor.Stop()
		<-h.janDone
		h.srv.listeners.Delete(changeListener(h))
		h.mu.RLock()
		sessions := make([]*liveSession, 0, len(h.live))
		for _, ls := range h.live {
			sessions = append(sessions, ls)
		}
		h.mu.RUnlock()
		for _, ls := range sessions {
			ls.mu.Lock()
			gets := append([]*stream(nil), ls.getStreams...)
			ls.mu.Unlock()
			for _, st := range gets {
				st.close()
			}
		}
	})
}

func (h *Handler) sweepLoop() {
	defer close(h.janDone)
	for {
		select {
		case <-h.shutdown:
			return
		case <-h.janitor.C:
			h.sweep()
		}
	}
}

// sweep ends sessions idle for longer than the TTL, and forgets live state
// of sessions the store no longer has.
func (h *Handler) sweep() {
	// Sessions with work in flight or a listening client stay alive.
	for _, ls := range h.sessions() {
		if ls.busy() {
			ls.keepFresh()
		}
	}
	if ms, ok := h.store.(*MemoryStore); ok {
		for _, id := range ms.Sweep() {
			if ls := h.forget(id); ls != nil {
				ls.end(errors.New("session expired"))
			}
		}
	}
	if h.cfg.SessionTTL <= 0 {
		return
	}
	now := h.now()
	h.mu.RLock()
	var idle []*liveSession
	for _, ls := range h.live {
		if ls.idleFor(now) > h.cfg.SessionTTL && !ls.busy() {
			idle = append(idle, ls)
		}
	}
	h.mu.RUnlock()
	for _, ls := range idle {
		h.endSession(ls, "expired after "+h.cfg.SessionTTL.String()+" idle")
	}
}

func (h *Handler) forget(id string) *liveSession {
	h.mu.Lock()
	defer h.mu.Unlock()
	ls := h.live[id]
	delete(h.live, id)
	return ls
}

func (h *Handler) endSession(ls *liveSession, why string) {
	h.forget(ls.id)
	_ = h.store.Delete(context.Background(), ls.id)
	ls.end(errors.New("session ended: " + why))
	h.log.Info("session ended", "session", ls.fingerprint, "reason", why)
}

// SessionCount returns the number of sessions live on this instance.
func (h *Handler) SessionCount() int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return len(h.live)
}

// changeListener: tell every session about list changes; tell subscribers
// about resource updates.
func (h *Handler) listChanged(method string) {
	msg, _ := mcp.AppendRequest(nil, mcp.ID{}, method, nil)
	for _, ls := range h.sessions() {
		ls.sendStandalone(msg)
	}
}

func (h *Handler) resourceUpdated(uri string) {
	msg, _ := mcp.AppendRequest(nil, mcp.ID{}, mcp.NotificationResourcesUpdated, mcp.ResourceUpdatedParams{URI: uri})
	for _, ls := range h.sessions() {
		if ls.subscribed(uri) {
			ls.sendStandalone(msg)
		}
	}
}

func (h *Handler) broadcastLog(level mcp.LoggingLevel, logger string, data any) {
	msg, err := mcp.AppendRequest(nil, mcp.ID{}, mcp.NotificationMessage, mcp.LoggingMessageParams{Level: level, Logger: logger, Data: data})
	if err != nil {
		h.log.Error("log notification not encodable", "error", err)
		return
	}
	for _, ls := range h.sessions() {
		if level.Severity() >= ls.logSeverity() {
			ls.sendStandalone(msg)
		}
	}
}

func (h *Handler) sessions() []*liveSession {
	h.mu.RLock()
	defer h.mu.RUnlock()
	out := make([]*liveSession, 0, len(h.live))
	for _, ls := range h.live {
		out = append(out, ls)
	}
	return out
}

// reqInfo collects what the access log says about a request.
type reqInfo struct {
	rpcMethod string
	session   string
	status    int
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	var info reqInfo
	h.serve(w, r, &info)
	if h.cfg.LogRequests {
		h.log.LogAttrs(r.Context(), slog.LevelInfo, "request",
			slog.String("http_method", r.Method),
			slog.String("rpc_method", info.rpcMethod),
			slog.Int("status", info.status),
			slog.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000),
			slog.String("session", info.session))
	}
}

func (h *Handler) serve(w http.ResponseWriter, r *http.Request, info *reqInfo) {
	h.cors(w, r)
	if why := h.origins.check(r); why != "" {
		info.status = h.writeError(w, http.StatusForbidden, mcp.NullID, mcp.CodeInvalidRequest, "Forbidden: "+why)
		return
	}
	switch r.Method {
	case http.MethodPost, http.MethodGet, http.MethodDelete:
	case http.MethodOptions:
		w.WriteHeader(http.StatusNoContent)
		info.status = http.StatusNoContent
		return
	default:
		w.Header().Set("Allow", "GET, POST, DELETE, OPTIONS")
		info.status = h.writeError(w, http.StatusMethodNotAllowed, mcp.NullID, mcp.CodeInvalidRequest, "Method not allowed: use POST to send messages, GET to listen, DELETE to end a session")
		return
	}
	var principal *Principal
	if h.auth != nil {
		p, err := h.auth.Authenticate(r)
		if err != nil {
			info.status = h.writeAuthError(w, err)
			return
		}
		principal = p
	}
	switch r.Method {
	case http.MethodPost:
		info.status = h.post(w, r, principal, info)
	case http.MethodGet:
		info.status = h.get(w, r, principal, info)
	case http.MethodDelete:
		info.status = h.delete(w, r, principal, info)
	}
}

var (
	corsAllowHeaders  = []string{"Content-Type, Authorization, Mcp-Session-Id, MCP-Protocol-Version, Last-Event-ID"}
	corsExposeHeaders = []string{"Mcp-Session-Id, MCP-Protocol-Version, WWW-Authenticate"}
	corsMethods       = []string{"GET, POST, DELETE, OPTIONS"}
	varyOrigin        = []string{"Origin"}
)

// cors lets browser-based clients on allowed origins read our answers.
func (h *Handler) cors(w http.ResponseWriter, r *http.Request) {
	origin := r.Header.Get("Origin")
	if origin == "" || !h.origins.originAllowed(origin) {
		return
	}
	hdr := w.Header()
	hdr["Access-Control-Allow-Origin"] = []string{origin}
	hdr["Vary"] = varyOrigin
	hdr["Access-Control-Expose-Headers"] = corsExposeHeaders
	if r.Method == http.MethodOptions {
		hdr["Access-Control-Allow-Methods"] = corsMethods
		hdr["Access-Control-Allow-Headers"] = corsAllowHeaders
		hdr["Access-Control-Max-Age"] = []string{"600"}
	}
}

func (h *Handler) writeAuthError(w http.ResponseWriter, err error) int {
	var ae *AuthError
	if !errors.As(err, &ae) {
		h.log.Error("authentication failed", "error", err)
		return h.writeError(w, http.StatusInternalServerError, mcp.NullID, mcp.CodeInternalError, "authentication is unavailable; try again later")
	}
	e := &mcp.Error{Code: mcp.CodeServerError, Message: ae.Message}
	if ae.Challenge != "" {
		w.Header().Set("WWW-Authenticate", ae.Challenge)
		// The challenge is in the body too: behind an API Gateway REST API a
		// Lambda's WWW-Authenticate reaches the client renamed to
		// x-amzn-Remapped-WWW-Authenticate, and a person or client reading
		// only the body can still find resource_metadata.
		e.Data, _ = json.Marshal(struct {
			WWWAuthenticate string `json:"www_authenticate"`
		}{ae.Challenge})
	}
	w.Header()["Content-Type"] = hdrJSON
	w.WriteHeader(ae.Status)
	_, _ = w.Write(append(mcp.AppendErrorResponse(nil, mcp.NullID, e), '\n'))
	return ae.Status
}

// writeError answers with a JSON-RPC error body and an HTTP status.
func (h *Handler) writeError(w http.ResponseWriter, status int, id mcp.ID, code int, msg string) int {
	w.Header()["Content-Type"] = hdrJSON
	w.WriteHeader(status)
	_, _ = w.Write(append(mcp.AppendErrorResponse(nil, id, &mcp.Error{Code: code, Message: msg}), '\n'))
	return status
}

var bodyPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func (h *Handler) post(w http.ResponseWriter, r *http.Request, principal *Principal, info *reqInfo) int {
	if !acceptsBoth(r.Header.Get("Accept")) {
		return h.writeError(w, http.StatusNotAcceptable, mcp.NullID, mcp.CodeInvalidRequest, "Not Acceptable: the Accept header must list both application/json and text/event-stream")
	}
	if !isJSON(r.Header.Get("Content-Type")) {
		return h.writeError(w, http.StatusUnsupportedMediaType, mcp.NullID, mcp.CodeInvalidRequest, "Unsupported Media Type: send the message with Content-Type: application/json")
	}
	if r.ContentLength > h.cfg.MaxBodyBytes {
		return h.tooLarge(w)
	}
	body, err := h.readBody(w, r)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return h.tooLarge(w)
		}
		return h.writeError(w, http.StatusBadRequest, mcp.NullID, mcp.CodeParseError, "could not read the request body: "+err.Error())
	}
	if mcp.IsBatch(body) {
		info.rpcMethod = "batch"
		return h.postBatch(w, r, principal, body, info)
	}
	msg, err := mcp.DecodeMessage(body)
	if err != nil {
		de := err.(*mcp.DecodeError)
		id := de.ID
		if id.IsZero() {
			id = mcp.NullID
		}
		return h.writeError(w, http.StatusBadRequest, id, de.Code, de.Reason)
	}
	info.rpcMethod = msg.Method
	if msg.Method == mcp.MethodInitialize {
		if msg.Kind() != mcp.KindRequest {
			return h.writeError(w, http.StatusBadRequest, mcp.NullID, mcp.CodeInvalidRequest, "initialize must be a request (with an id)")
		}
		return h.initialize(w, r, principal, msg, info)
	}
	ls, version, status := h.lookup(w, r, principal, info)
	if ls == nil {
		return status
	}
	switch msg.Kind() {
	case mcp.KindNotification:
		h.notification(ls, msg)
		w.WriteHeader(http.StatusAccepted)
		return http.StatusAccepted
	case mcp.KindResponse:
		if !ls.deliver(msg) {
			h.log.Debug("response to an unknown server request", "session", ls.fingerprint, "id", truncate(msg.ID.String(), 64))
		}
		w.WriteHeader(http.StatusAccepted)
		return http.StatusAccepted
	}
	st := newStream(h, ls, w, version, 1)
	h.runRequest(r, ls, st, principal, version, msg)
	return st.status()
}

// readBody reads the whole body, at most MaxBodyBytes. Decoded messages
// alias the returned slice, so it is never reused.
func (h *Handler) readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	if n := r.ContentLength; n >= 0 && n <= h.cfg.MaxBodyBytes {
		// net/http stops the body at Content-Length: read it in one piece.
		body := make([]byte, n)
		_, err := io.ReadFull(r.Body, body)
		return body, err
	}
	buf := bodyPool.Get().(*bytes.Buffer)
	defer func() {
		if buf.Cap() <= 64<<10 {
			bodyPool.Put(buf)
		}
	}()
	buf.Reset()
	if _, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, h.cfg.MaxBodyBytes)); err != nil {
		return nil, err
	}
	return bytes.Clone(buf.Bytes()), nil
}

func (h *Handler) tooLarge(w http.ResponseWriter) int {
	return h.writeError(w, http.StatusRequestEntityTooLarge, mcp.NullID, mcp.CodeInvalidRequest,
		"Request Entity Too Large: the body exceeds "+strconv.FormatInt(h.cfg.MaxBodyBytes, 10)+" bytes (MAX_BODY_BYTES)")
}

// postBatch serves a JSON-RPC batch (protocol 2025-03-26 only).
func (h *Handler) postBatch(w http.ResponseWriter, r *http.Request, principal *Principal, body []byte, info *reqInfo) int {
	msgs, errs, err := mcp.DecodeBatch(body)
	if err != nil {
		de := err.(*mcp.DecodeError)
		return h.writeError(w, http.StatusBadRequest, mcp.NullID, de.Code, de.Reason)
	}
	for _, m := range msgs {
		if m != nil && m.Method == mcp.MethodInitialize {
			return h.writeError(w, http.StatusBadRequest, mcp.NullID, mcp.CodeInvalidRequest, "initialize must not be part of a JSON-RPC batch")
		}
	}
	ls, version, status := h.lookup(w, r, principal, info)
	if ls == nil {
		return status
	}
	if !mcp.AllowsBatch(version) {
		return h.writeError(w, http.StatusBadRequest, mcp.NullID, mcp.CodeInvalidRequest,
			"JSON-RPC batches are not supported in protocol version "+version+" (only in 2025-03-26): send one message per POST")
	}
	var requests []*mcp.Message
	var immediate [][]byte
	for i, m := range msgs {
		if m == nil {
			de := errs[i].(*mcp.DecodeError)
			id := de.ID
			if id.IsZero() {
				id = mcp.NullID
			}
			immediate = append(immediate, mcp.AppendErrorResponse(nil, id, de.RPCError()))
			continue
		}
		switch m.Kind() {
		case mcp.KindNotification:
			h.notification(ls, m)
		case mcp.KindResponse:
			ls.deliver(m)
		case mcp.KindRequest:
			requests = append(requests, m)
		}
	}
	if len(requests) == 0 && len(immediate) == 0 {
		w.WriteHeader(http.StatusAccepted)
		return http.StatusAccepted
	}
	st := newStream(h, ls, w, version, len(requests)+len(immediate))
	st.batch = true
	for _, resp := range immediate {
		st.finish(resp)
	}
	var wg sync.WaitGroup
	for _, m := range requests {
		wg.Go(func() { h.runRequest(r, ls, st, principal, version, m) })
	}
	wg.Wait()
	return st.status()
}

// status is the HTTP status the stream answered with.
func (st *stream) status() int {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.mode == modeUndecided && st.jsonOne == nil && len(st.jsonOut) == 0 {
		return http.StatusAccepted
	}
	return http.StatusOK
}

// runRequest dispatches one request and delivers its response on st (see
// callCtx for what cancels it).
func (h *Handler) runRequest(r *http.Request, ls *liveSession, st *stream, principal *Principal, version string, msg *mcp.Message) {
	x := &exchange{}
	x.ctx.init(r, h.cfg.RequestTimeout, st)
	if !ls.addInflight(msg.ID, &x.ctx) {
		x.ctx.release()
		st.finish(mcp.AppendErrorResponse(nil, msg.ID, &mcp.Error{Code: mcp.CodeSessionNotFound, Message: "session ended"}))
		return
	}
	state := ls.state.Load()
	x.call = Call{id: msg.ID, version: version, principal: principal, clientCaps: &state.ClientCapabilities, out: st, sess: ls, subs: ls}
	result, err := h.srv.dispatch(&x.ctx, &x.call, msg.Method, msg.Params)
	ls.removeInflight(msg.ID)
	cause := x.ctx.Cause()
	x.ctx.release()
	if errors.Is(cause, errCancelledByClient) {
		st.finish(nil) // a cancelled request gets no response
		return
	}
	st.finish(h.encodeResponse(msg.ID, msg.Method, result, err))
}

// exchange is one request in flight: its Call and its context, allocated
// together.
type exchange struct {
	call Call
	ctx  callCtx
}

func (h *Handler) encodeResponse(id mcp.ID, method string, result any, err error) []byte {
	if err != nil {
		rpcErr := mcp.AsError(err)
		if rpcErr.Code == mcp.CodeInternalError {
			h.log.Error("request failed", "rpc_method", method, "error", err)
		}
		return mcp.AppendErrorResponse(nil, id, rpcErr)
	}
	if a, ok := result.(mcp.JSONAppender); ok {
		out, aerr := mcp.AppendResultResponse(make([]byte, 0, 256), id, a)
		if aerr == nil {
			return out
		}
		h.log.Error("result not encodable", "rpc_method", method, "error", aerr)
		return mcp.AppendErrorResponse(nil, id, &mcp.Error{Code: mcp.CodeInternalError, Message: "internal error: the result could not be encoded"})
	}
	b, merr := json.Marshal(result)
	if merr != nil {
		h.log.Error("result not encodable", "rpc_method", method, "error", merr)
		return mcp.AppendErrorResponse(nil, id, &mcp.Error{Code: mcp.CodeInternalError, Message: "internal error: the result could not be encoded"})
	}
	return mcp.AppendResponse(make([]byte, 0, len(b)+len(id.String())+len(`{"jsonrpc":"2.0","id":,"result":}`)+1), id, b) // +1: the newline added in JSON mode
}

// notification handles a client notification.
func (h *Handler) notification(ls *liveSession, m *mcp.Message) {
	switch m.Method {
	case mcp.NotificationCancelled:
		var p mcp.CancelledParams
		if json.Unmarshal(m.Params, &p) == nil && !p.RequestID.IsZero() {
			ls.cancelRequest(p.RequestID, p.Reason)
		}
	case mcp.NotificationInitialized, mcp.NotificationRootsListChanged, mcp.NotificationProgress:
		// Nothing to do: we neither gate requests on initialized nor cache roots.
	default:
		h.log.Debug("unhandled notification", "method", truncate(m.Method, 64))
	}
}

func (h *Handler) initialize(w http.ResponseWriter, r *http.Request, principal *Principal, msg *mcp.Message, info *reqInfo) int {
	var p mcp.InitializeParams
	if err := decodeParams(msg.Params, &p); err != nil {
		e := mcp.AsError(err)
		return h.writeError(w, http.StatusBadRequest, msg.ID, e.Code, e.Message)
	}
	if p.ProtocolVersion == "" {
		return h.writeError(w, http.StatusBadRequest, msg.ID, mcp.CodeInvalidParams, `invalid params: "protocolVersion" is required`)
	}
	version := mcp.NegotiateVersion(p.ProtocolVersion)
	state := &SessionState{
		ID:                 rand.Text(),
		Principal:          principal.Key(),
		ProtocolVersion:    version,
		ClientInfo:         p.ClientInfo,
		ClientCapabilities: p.Capabilities,
		CreatedAt:          h.now().UTC(),
	}
	if err := h.store.Create(r.Context(), state); err != nil {
		if errors.Is(err, ErrSessionLimit) {
			w.Header().Set("Retry-After", "30")
			return h.writeError(w, http.StatusServiceUnavailable, msg.ID, mcp.CodeServerError,
				"Service Unavailable: the server has reached its limit of "+strconv.Itoa(h.cfg.MaxSessions)+" live sessions (MAX_SESSIONS); end unused sessions with DELETE or retry later")
		}
		h.log.Error("session store unavailable", "error", err)
		return h.writeError(w, http.StatusServiceUnavailable, msg.ID, mcp.CodeServerError, "Service Unavailable: the session store is unavailable; retry later")
	}
	ls := newLiveSession(h, state)
	h.mu.Lock()
	h.live[state.ID] = ls
	h.mu.Unlock()
	info.session = ls.fingerprint
	h.log.Info("session started", "session", ls.fingerprint, "protocol_version", version,
		"client", truncate(p.ClientInfo.Name, 64), "client_version", truncate(p.ClientInfo.Version, 32))

	w.Header().Set("Mcp-Session-Id", state.ID)
	st := newStream(h, ls, w, version, 1)
	st.finish(h.encodeResponse(msg.ID, msg.Method, h.srv.initializeResult(version), nil))
	return http.StatusOK
}

// lookup finds the request's session and checks who asks and which
// protocol version they speak. On failure it has written the answer.
func (h *Handler) lookup(w http.ResponseWriter, r *http.Request, principal *Principal, info *reqInfo) (*liveSession, string, int) {
	id := r.Header.Get("Mcp-Session-Id")
	if id == "" {
		return nil, "", h.writeError(w, http.StatusBadRequest, mcp.NullID, mcp.CodeInvalidRequest,
			"Bad Request: Mcp-Session-Id header is required (send initialize first to start a session)")
	}
	state, err := h.store.Load(r.Context(), id)
	if err != nil {
		if ls := h.forget(id); ls != nil {
			ls.end(errors.New("session no longer in the store"))
		}
		if !errors.Is(err, ErrSessionNotFound) {
			h.log.Error("session store unavailable", "error", err)
			return nil, "", h.writeError(w, http.StatusServiceUnavailable, mcp.NullID, mcp.CodeServerError, "Service Unavailable: the session store is unavailable; retry later")
		}
		return nil, "", h.sessionNotFound(w)
	}
	// Another principal's session looks exactly like a missing one.
	if state.Principal != principal.Key() {
		return nil, "", h.sessionNotFound(w)
	}
	h.mu.RLock()
	ls := h.live[id]
	h.mu.RUnlock()
	if ls == nil {
		// Created by another instance (shared store): adopt it here.
		h.mu.Lock()
		if ls = h.live[id]; ls == nil {
			ls = newLiveSession(h, state)
			h.live[id] = ls
		}
		h.mu.Unlock()
	} else if ls.state.Load() != state {
		ls.setState(state)
	}
	ls.touch()
	info.session = ls.fingerprint
	version := state.ProtocolVersion
	if hv := r.Header.Get("Mcp-Protocol-Version"); hv != "" && hv != version {
		if !mcp.IsSessionVersion(hv) {
			return nil, "", h.writeError(w, http.StatusBadRequest, mcp.NullID, mcp.CodeInvalidRequest,
				"Bad Request: unsupported MCP-Protocol-Version "+quoteShort(hv)+" (supported: "+strings.Join(mcp.SessionVersions, ", ")+")")
		}
		return nil, "", h.writeError(w, http.StatusBadRequest, mcp.NullID, mcp.CodeInvalidRequest,
			"Bad Request: MCP-Protocol-Version "+quoteShort(hv)+" differs from the version negotiated for this session ("+version+")")
	}
	return ls, version, 0
}

func (h *Handler) sessionNotFound(w http.ResponseWriter) int {
	return h.writeError(w, http.StatusNotFound, mcp.NullID, mcp.CodeSessionNotFound,
		"Not Found: session does not exist or has ended; start a new one with initialize")
}

func (h *Handler) get(w http.ResponseWriter, r *http.Request, principal *Principal, info *reqInfo) int {
	if !acceptsEventStream(r.Header.Get("Accept")) {
		return h.writeError(w, http.StatusNotAcceptable, mcp.NullID, mcp.CodeInvalidRequest, "Not Acceptable: the Accept header must list text/event-stream")
	}
	ls, version, status := h.lookup(w, r, principal, info)
	if ls == nil {
		return status
	}
	if !h.cfg.StandaloneStream && r.Header.Get("Last-Event-Id") == "" {
		// The transport lets a server offer no GET stream: 405. Resuming a
		// POST stream with Last-Event-ID stays possible.
		w.Header().Set("Allow", "GET, POST, DELETE, OPTIONS")
		return h.writeError(w, http.StatusMethodNotAllowed, mcp.NullID, mcp.CodeInvalidRequest,
			"Method Not Allowed: this server offers no standalone SSE stream (SSE_GET_STREAM=false); use POST, whose responses stream")
	}
	var st *stream
	var kicked <-chan struct{}
	if last := r.Header.Get("Last-Event-Id"); last != "" {
		sid, seq, ok := parseEventID(last)
		if ok {
			st = ls.stream(sid)
		}
		if st == nil {
			return h.writeError(w, http.StatusBadRequest, mcp.NullID, mcp.CodeInvalidRequest,
				"Bad Request: Last-Event-ID "+quoteShort(last)+" does not name a stream of this session (it may have been on another server instance or expired); open a new stream without Last-Event-ID")
		}
		var err error
		if kicked, err = st.attach(w, seq); err != nil {
			return h.writeError(w, http.StatusBadRequest, mcp.NullID, mcp.CodeInvalidRequest, "Bad Request: cannot resume from "+quoteShort(last)+": "+err.Error())
		}
	} else {
		st = &stream{h: h, sess: ls, version: version, standalone: true, pending: 1}
		if !ls.register(st) {
			return h.sessionNotFound(w)
		}
		st.mu.Lock()
		if st.done { // the session ended meanwhile: end() closed the stream
			st.mu.Unlock()
			return h.sessionNotFound(w)
		}
		st.w = w
		st.mode = modeSSE
		st.doneCh = make(chan struct{})
		st.startSSELocked(w)
		k := make(chan struct{})
		st.kicked, kicked = k, k
		st.armKeepAliveLocked()
		st.mu.Unlock()
	}
	select {
	case <-r.Context().Done():
	case <-kicked:
	case <-ls.closed:
	case <-h.shutdown:
	}
	st.detach(w)
	return http.StatusOK
}

func (h *Handler) delete(w http.ResponseWriter, r *http.Request, principal *Principal, info *reqInfo) int {
	ls, _, status := h.lookup(w, r, principal, info)
	if ls == nil {
		return status
	}
	h.endSession(ls, "deleted by the client")
	w.WriteHeader(http.StatusOK)
	return http.StatusOK
}

// acceptsBoth reports whether an Accept header admits both JSON and SSE
// (wildcards count).
func acceptsBoth(accept string) bool {
	return acceptsType(accept, "application", "json") && acceptsType(accept, "text", "event-stream")
}

func acceptsEventStream(accept string) bool { return acceptsType(accept, "text", "event-stream") }

func acceptsType(accept, typ, sub string) bool {
	for part := range strings.SplitSeq(accept, ",") {
		mt, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		t, s, ok := strings.Cut(strings.TrimSpace(mt), "/")
		if !ok {
			continue
		}
		if q, found := strings.CutPrefix(strings.TrimSpace(params), "q="); found && strings.TrimSpace(q) == "0" {
			continue
		}
		if (t == "*" || strings.EqualFold(t, typ)) && (s == "*" || strings.EqualFold(s, sub)) {
			return true
		}
	}
	return false
}

func isJSON(ct string) bool {
	if ct == "application/json" {
		return true
	}
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && mt == "application/json"
}
