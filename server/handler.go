package server

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"mcplambda/internal/reqstate"
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
	// RequestState seals the requestState of multi-round-trip requests;
	// default a sealer with a random key, which only this process can
	// open (see REQUEST_STATE_KEY).
	RequestState *reqstate.Sealer
	// StateLedger makes each requestState usable once; default in memory,
	// which holds for this process only (a DynamoDB ledger holds across
	// instances).
	StateLedger reqstate.Ledger
}

// Handler is the Streamable HTTP transport: it serves the MCP endpoint
// (POST, GET, DELETE) for a Server, with sessions. This file routes a
// request: origin and method checks, authentication, then post.go,
// get.go or delete.go.
type Handler struct {
	srv      *Server
	cfg      Config
	auth     Authenticator
	log      *slog.Logger
	origins  originPolicy
	sessions *sessionTable
	usage    principalUsage // per-principal counts (limits.go)
	// The stateless era.
	listeners  listenerSet
	states     *reqstate.Sealer
	ledger     reqstate.Ledger
	serverInfo []byte // the encoded Implementation every modern result carries

	shutdown  chan struct{}
	closeOnce sync.Once
}

// NewHandler returns the transport for srv. Close it to stop its
// background work.
func NewHandler(srv *Server, cfg Config, opts HandlerOptions) *Handler {
	if cfg.MaxStreamsPerSession <= 0 {
		cfg.MaxStreamsPerSession = 32
	}
	if cfg.MaxBatchLength <= 0 {
		cfg.MaxBatchLength = 100
	}
	if cfg.BatchConcurrency <= 0 {
		cfg.BatchConcurrency = 8
	}
	h := &Handler{
		srv:      srv,
		cfg:      cfg,
		auth:     opts.Auth,
		log:      opts.Logger,
		origins:  newOriginPolicy(cfg),
		shutdown: make(chan struct{}),
	}
	if h.log == nil {
		h.log = slog.Default()
	}
	store := opts.Store
	if store == nil {
		store = NewMemoryStore(cfg.SessionTTL, cfg.MaxSessions)
	}
	h.sessions = newSessionTable(store, cfg.SessionTTL, cfg.MaxSessionsPerPrincipal, h.log, func(st *SessionState) *liveSession { return newLiveSession(h, st) })
	h.states, h.ledger = opts.RequestState, opts.StateLedger
	if h.states == nil {
		h.states = reqstate.MustRandomSealer()
	}
	if h.ledger == nil {
		h.ledger = reqstate.NewMemoryLedger(0)
	}
	h.serverInfo, _ = json.Marshal(srv.Info())
	srv.addAudience(h.sessions)
	srv.addAudience(&h.listeners)
	return h
}

// Close ends every session's streams and stops background work. In-flight
// POST requests are left to finish (http.Server.Shutdown waits for them).
func (h *Handler) Close() {
	h.closeOnce.Do(func() {
		close(h.shutdown)
		h.srv.removeAudience(h.sessions)
		h.srv.removeAudience(&h.listeners)
		h.sessions.close()
	})
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
	if r.Method != http.MethodPost && r.Header.Get("Mcp-Session-Id") == "" {
		// Without a session, GET and DELETE have nothing to act on: the
		// stateless era has neither (its long-lived stream is
		// subscriptions/listen).
		w.Header().Set("Allow", "POST, OPTIONS")
		info.status = h.writeError(w, http.StatusMethodNotAllowed, mcp.NullID, mcp.CodeInvalidRequest,
			"Method Not Allowed: "+r.Method+" needs an Mcp-Session-Id (session era); in protocol "+mcp.Version20260728+" every message is a POST")
		return
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

// session finds the session a request names (Mcp-Session-Id) for its
// principal, and checks the protocol version it speaks. On failure it has
// written the answer and returns the status.
func (h *Handler) session(w http.ResponseWriter, r *http.Request, principal *Principal, info *reqInfo) (*liveSession, string, int) {
	id := r.Header.Get("Mcp-Session-Id")
	if id == "" {
		return nil, "", h.writeError(w, http.StatusBadRequest, mcp.NullID, mcp.CodeInvalidRequest,
			"Bad Request: Mcp-Session-Id header is required (send initialize first to start a session)")
	}
	ls, err := h.sessions.lookup(r.Context(), id, principal.Key())
	if err != nil {
		if !errors.Is(err, ErrSessionNotFound) {
			return nil, "", h.storeUnavailable(w, mcp.NullID, err)
		}
		// Another principal's session looks exactly like a missing one.
		return nil, "", h.sessionNotFound(w)
	}
	info.session = ls.fingerprint
	version := ls.state.Load().ProtocolVersion
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

// storeRetryAfter is the Retry-After, in seconds, of a 503 for a session
// store outage: short, because DynamoDB throttling and brief network faults
// clear within seconds, and every request of the session era needs the store.
const storeRetryAfter = "2"

// storeUnavailable answers a request the session store could not serve
// (an outage, throttling): 503 with Retry-After, so clients retry rather
// than start a new session.
func (h *Handler) storeUnavailable(w http.ResponseWriter, id mcp.ID, err error) int {
	h.log.Error("session store unavailable", "error", err)
	w.Header().Set("Retry-After", storeRetryAfter)
	return h.writeError(w, http.StatusServiceUnavailable, id, mcp.CodeServerError, "Service Unavailable: the session store is unavailable; retry after "+storeRetryAfter+" s")
}

func (h *Handler) sessionNotFound(w http.ResponseWriter) int {
	return h.writeError(w, http.StatusNotFound, mcp.NullID, mcp.CodeSessionNotFound,
		"Not Found: session does not exist or has ended; start a new one with initialize")
}
