package server

import (
	"encoding/json"
	"net/http"
	"sync"

	"mcplambda/mcp"
)

// subscriptions/listen: the stateless era's long-lived stream. The client
// opens it with a filter, the server acknowledges what it will honour, then
// sends only those change notifications, each tagged with the subscription
// id (the JSON-RPC id of the listen request). It ends when the client
// closes it, or with a completion result when the server shuts down.
//
// Like the session era's GET stream it holds a connection open, which on
// Lambda holds an invocation (billed for its duration, up to the function
// timeout) for notifications that only registrations made on that same
// instance produce. SSE_GET_STREAM=false (the default on Lambda) turns both
// off: a listen request is then acknowledged with an empty filter and
// closed at once.

// listener is one open subscriptions/listen stream.
type listener struct {
	id     mcp.ID
	filter mcp.SubscriptionFilter
	uris   map[string]bool
	st     *stream
}

// listenerSet is the open listen streams of one Handler: an audience of the
// registry's broadcasts.
type listenerSet struct {
	mu  sync.Mutex
	all map[*listener]struct{}
}

func (l *listenerSet) add(ln *listener, limit int) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if limit > 0 && len(l.all) >= limit {
		return false
	}
	if l.all == nil {
		l.all = map[*listener]struct{}{}
	}
	l.all[ln] = struct{}{}
	return true
}

func (l *listenerSet) remove(ln *listener) {
	l.mu.Lock()
	delete(l.all, ln)
	l.mu.Unlock()
}

func (l *listenerSet) snapshot() []*listener {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]*listener, 0, len(l.all))
	for ln := range l.all {
		out = append(out, ln)
	}
	return out
}

// notify implements audience: each listener that asked for this kind of
// change gets it, tagged with its subscription id. Log messages belong to
// requests in this era and never travel here.
func (l *listenerSet) notify(ev *change) {
	if ev.kind == changeLog {
		return
	}
	for _, ln := range l.snapshot() {
		if !ln.wants(ev) {
			continue
		}
		params := map[string]any{"_meta": map[string]json.RawMessage{mcp.MetaSubscriptionID: json.RawMessage(ln.id.String())}}
		if ev.kind == changeResource {
			params["uri"] = ev.uri
		}
		if msg, err := mcp.AppendRequest(nil, mcp.ID{}, ev.method, params); err == nil {
			_ = ln.st.send(msg)
		}
	}
}

func (ln *listener) wants(ev *change) bool {
	switch ev.method {
	case mcp.NotificationToolsListChanged:
		return ln.filter.ToolsListChanged
	case mcp.NotificationPromptsListChanged:
		return ln.filter.PromptsListChanged
	case mcp.NotificationResourcesListChanged:
		return ln.filter.ResourcesListChanged
	case mcp.NotificationResourcesUpdated:
		return ln.uris[ev.uri]
	}
	return false
}

// listen serves subscriptions/listen.
func (h *Handler) listen(w http.ResponseWriter, r *http.Request, principal *Principal, msg *mcp.Message, p *modernParams) int {
	var lp mcp.SubscriptionsListenParams
	if err := decodeParams(msg.Params, &lp); err != nil {
		e := mcp.AsError(err)
		return h.writeError(w, http.StatusBadRequest, msg.ID, e.Code, e.Message)
	}
	if n := len(lp.Notifications.ResourceSubscriptions); n > maxSubscriptions {
		return h.writeError(w, http.StatusBadRequest, msg.ID, mcp.CodeInvalidParams, "invalid params: too many resourceSubscriptions (limit 1000)")
	}
	ln := &listener{id: msg.ID}
	if h.cfg.StandaloneStream {
		ln.filter = lp.Notifications // every kind is honoured
		ln.uris = make(map[string]bool, len(ln.filter.ResourceSubscriptions))
		for _, u := range ln.filter.ResourceSubscriptions {
			ln.uris[u] = true
		}
	}
	st := newPostStream(h, nil, w, p.version, 1, false)
	ln.st = st
	if !h.listeners.add(ln, h.cfg.MaxSessions) {
		w.Header().Set("Retry-After", "30")
		return h.writeError(w, http.StatusServiceUnavailable, msg.ID, mcp.CodeServerError,
			"Service Unavailable: the server has reached its limit of open subscriptions/listen streams (MAX_SESSIONS); retry later")
	}
	defer h.listeners.remove(ln)
	meta := map[string]json.RawMessage{mcp.MetaSubscriptionID: json.RawMessage(msg.ID.String())}
	ack, err := mcp.AppendRequest(nil, mcp.ID{}, mcp.NotificationSubscriptionsAcknowledged,
		mcp.SubscriptionsAcknowledgedParams{Meta: meta, Notifications: ln.filter})
	if err != nil {
		return h.writeError(w, http.StatusInternalServerError, msg.ID, mcp.CodeInternalError, "internal error")
	}
	if st.send(ack) != nil {
		return http.StatusOK
	}
	if h.cfg.StandaloneStream {
		select {
		case <-r.Context().Done():
			st.finish(nil) // the client ended it
			return http.StatusOK
		case <-h.shutdown:
		}
	}
	// Ended by the server: a completion result says it was on purpose.
	result, _ := json.Marshal(struct {
		Meta map[string]json.RawMessage `json:"_meta"`
	}{meta})
	out := decorateResult(nil, result, mcp.ResultComplete, nil, h.serverInfo)
	st.finish(mcp.AppendResponse(nil, msg.ID, out))
	return http.StatusOK
}
