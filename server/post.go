package server

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"

	"mcplambda/mcp"
)

// POST: a client's message in. initialize starts a session; a request
// runs through the dispatcher and is answered on its own stream (JSON, or
// SSE once it sends anything before its response); notifications and
// responses are accepted with 202.

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
		if r.Header.Get("Mcp-Session-Id") == "" && mcp.IsModernVersion(r.Header.Get("Mcp-Protocol-Version")) {
			return h.writeError(w, http.StatusBadRequest, mcp.NullID, mcp.CodeInvalidRequest,
				"Bad Request: protocol "+mcp.Version20260728+" has no JSON-RPC batches: send one request per POST")
		}
		return h.postBatch(w, r, principal, body, info)
	}
	msg, err := mcp.DecodeMessage(body)
	if err != nil {
		var de *mcp.DecodeError
		if !errors.As(err, &de) {
			return h.writeError(w, http.StatusBadRequest, mcp.NullID, mcp.CodeParseError, err.Error())
		}
		id := de.ID
		if id.IsZero() {
			id = mcp.NullID
		}
		return h.writeError(w, http.StatusBadRequest, id, de.Code, de.Reason)
	}
	if e := idTooLong(msg.ID); e != nil {
		return h.writeError(w, http.StatusBadRequest, mcp.NullID, e.Code, e.Message)
	}
	info.rpcMethod = msg.Method
	if isModern(r, msg) {
		return h.postModern(w, r, principal, msg, info)
	}
	if msg.Method == mcp.MethodInitialize {
		if msg.Kind() != mcp.KindRequest {
			return h.writeError(w, http.StatusBadRequest, mcp.NullID, mcp.CodeInvalidRequest, "initialize must be a request (with an id)")
		}
		return h.initialize(w, r, principal, msg, info)
	}
	ls, version, status := h.session(w, r, principal, info)
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
	a, why := h.admit(ls, principal, 1)
	if why != "" {
		return h.tooBusy(w, msg.ID, why)
	}
	st := newPostStream(h, ls, w, version, 1, false)
	st.gone = r.Context().Done()
	h.runRequest(r, ls, st, principal, version, msg)
	h.release(a)
	return st.status()
}

// postBatch serves a JSON-RPC batch (protocol 2025-03-26 only).
func (h *Handler) postBatch(w http.ResponseWriter, r *http.Request, principal *Principal, body []byte, info *reqInfo) int {
	msgs, errs, err := mcp.DecodeBatch(body)
	if err != nil {
		var de *mcp.DecodeError
		if !errors.As(err, &de) {
			return h.writeError(w, http.StatusBadRequest, mcp.NullID, mcp.CodeParseError, err.Error())
		}
		return h.writeError(w, http.StatusBadRequest, mcp.NullID, de.Code, de.Reason)
	}
	if len(msgs) > h.cfg.MaxBatchLength {
		return h.writeError(w, http.StatusBadRequest, mcp.NullID, mcp.CodeInvalidRequest,
			"Invalid Request: the batch has "+strconv.Itoa(len(msgs))+" messages, more than the limit of "+strconv.Itoa(h.cfg.MaxBatchLength)+
				" (MAX_BATCH_LENGTH); split it over several POSTs")
	}
	for _, m := range msgs {
		if m != nil && m.Method == mcp.MethodInitialize {
			return h.writeError(w, http.StatusBadRequest, mcp.NullID, mcp.CodeInvalidRequest, "initialize must not be part of a JSON-RPC batch")
		}
	}
	ls, version, status := h.session(w, r, principal, info)
	if ls == nil {
		return status
	}
	if !mcp.AllowsBatch(version) {
		return h.writeError(w, http.StatusBadRequest, mcp.NullID, mcp.CodeInvalidRequest,
			"JSON-RPC batches are not supported in protocol version "+version+" (only in 2025-03-26): send one message per POST")
	}
	// Admission comes before any message of the batch takes effect, so a
	// refused batch can be resent whole. The batch runs at most workers
	// requests at once and holds that many slots, never more.
	workers := 0
	for i, m := range msgs {
		if m == nil {
			continue
		}
		if e := idTooLong(m.ID); e != nil {
			msgs[i], errs[i] = nil, e
			continue
		}
		if m.Kind() == mcp.KindRequest {
			workers++
		}
	}
	workers = min(workers, h.cfg.BatchConcurrency)
	if c := h.cfg.MaxInflightPerSession; c > 0 {
		workers = min(workers, c)
	}
	if c := h.cfg.MaxInflightPerPrincipal; c > 0 && principal != nil {
		workers = min(workers, c)
	}
	if workers > 0 {
		a, why := h.admit(ls, principal, workers)
		if why != "" {
			return h.tooBusy(w, mcp.NullID, why)
		}
		defer h.release(a)
	}
	var requests []*mcp.Message
	var immediate [][]byte
	for i, m := range msgs {
		if m == nil {
			id, rpcErr := mcp.NullID, mcp.AsError(errs[i])
			var de *mcp.DecodeError
			if errors.As(errs[i], &de) {
				rpcErr = de.RPCError()
				if !de.ID.IsZero() {
					id = de.ID
				}
			}
			immediate = append(immediate, mcp.AppendErrorResponse(nil, id, rpcErr))
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
	st := newPostStream(h, ls, w, version, len(requests)+len(immediate), true)
	st.gone = r.Context().Done()
	for _, resp := range immediate {
		st.finish(resp)
	}
	var wg sync.WaitGroup
	var next atomic.Int64
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(requests) {
					return
				}
				h.runRequest(r, ls, st, principal, version, requests[i])
			}
		})
	}
	wg.Wait()
	return st.status()
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
	if e := initializeTooLarge(msg.Params); e != nil {
		return h.writeError(w, http.StatusBadRequest, msg.ID, e.Code, e.Message)
	}
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
		CreatedAt:          h.sessions.now().UTC(),
	}
	ls, err := h.sessions.create(r.Context(), state)
	if err != nil {
		if errors.Is(err, errPrincipalSessionLimit) {
			w.Header().Set("Retry-After", "30")
			return h.writeError(w, http.StatusTooManyRequests, msg.ID, mcp.CodeServerError,
				"Too Many Requests: you already hold "+strconv.Itoa(h.cfg.MaxSessionsPerPrincipal)+" live sessions on this server (MAX_SESSIONS_PER_PRINCIPAL); end unused ones with DELETE, or retry once one has expired")
		}
		if errors.Is(err, ErrSessionLimit) {
			w.Header().Set("Retry-After", "30")
			return h.writeError(w, http.StatusServiceUnavailable, msg.ID, mcp.CodeServerError,
				"Service Unavailable: the server has reached its limit of "+strconv.Itoa(h.cfg.MaxSessions)+" live sessions (MAX_SESSIONS); end unused sessions with DELETE or retry later")
		}
		return h.storeUnavailable(w, msg.ID, err)
	}
	info.session = ls.fingerprint
	h.log.Info("session started", "session", ls.fingerprint, "protocol_version", version,
		"client", truncate(p.ClientInfo.Name, 64), "client_version", truncate(p.ClientInfo.Version, 32))

	w.Header().Set("Mcp-Session-Id", state.ID)
	st := newPostStream(h, ls, w, version, 1, false)
	st.finish(h.encodeResponse(msg.ID, msg.Method, h.srv.initializeResult(version), nil))
	return http.StatusOK
}
