package server

import (
	"net/http"

	"mcplambda/mcp"
)

// GET: the client listens. Without Last-Event-ID it opens the session's
// standalone stream (server-initiated messages); with one it resumes any
// stream of the session, POST streams included, after that event.

func (h *Handler) get(w http.ResponseWriter, r *http.Request, principal *Principal, info *reqInfo) int {
	if !acceptsEventStream(r.Header.Get("Accept")) {
		return h.writeError(w, http.StatusNotAcceptable, mcp.NullID, mcp.CodeInvalidRequest, "Not Acceptable: the Accept header must list text/event-stream")
	}
	ls, version, status := h.session(w, r, principal, info)
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
		if kicked, err = st.attach(w, r, seq); err != nil {
			return h.writeError(w, http.StatusBadRequest, mcp.NullID, mcp.CodeInvalidRequest, "Bad Request: cannot resume from "+quoteShort(last)+": "+err.Error())
		}
	} else {
		var ok bool
		if st, kicked, ok = openStandalone(h, ls, w, version); !ok {
			return h.sessionNotFound(w)
		}
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
