package server

import (
	"net/http"
	"strconv"
	"sync"

	"mcplambda/mcp"
)

// Limits that keep one caller from starving the others: requests in
// flight per session and per principal (MAX_INFLIGHT_PER_SESSION,
// MAX_INFLIGHT_PER_PRINCIPAL) and live sessions per principal
// (MAX_SESSIONS_PER_PRINCIPAL). Every count is this instance's: a fleet of
// Lambda instances shares no counter, and a count kept in DynamoDB would
// cost a write per request. On Lambda an instance serves one request at a
// time, so the in-flight caps matter where a batch or a listener runs
// many requests in one process; the session quota bounds what one
// principal takes of each instance.
//
// The per-principal limits apply to authenticated principals only: with
// authentication off (loopback development) every caller is the same
// anonymous principal, and the per-session caps still hold.

// principalUsage counts, per principal key, the requests that principal
// has in flight on this instance (its sessions are counted by the
// session table).
type principalUsage struct {
	mu sync.Mutex
	m  map[string]*usage
}

type usage struct {
	inflight int
}

func (u *principalUsage) get(key string) *usage {
	if u.m == nil {
		u.m = map[string]*usage{}
	}
	c := u.m[key]
	if c == nil {
		c = &usage{}
		u.m[key] = c
	}
	return c
}

// tidy forgets a principal that holds nothing, so the map does not grow
// with every principal ever seen.
func (u *principalUsage) tidy(key string, c *usage) {
	if c.inflight == 0 {
		delete(u.m, key)
	}
}

// acquireInflight reserves n request slots for key unless that would pass
// limit (0: no limit).
func (u *principalUsage) acquireInflight(key string, n, limit int) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	c := u.get(key)
	if limit > 0 && c.inflight+n > limit {
		u.tidy(key, c)
		return false
	}
	c.inflight += n
	return true
}

func (u *principalUsage) releaseInflight(key string, n int) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if c := u.m[key]; c != nil {
		c.inflight -= n
		u.tidy(key, c)
	}
}

// admission is what admit reserved, for release.
type admission struct {
	ls        *liveSession
	principal string // "" when the principal limits do not apply
	n         int
}

// admit reserves n request slots for a POST: in its session (nil in the
// stateless era) and for its principal. When a limit is reached it
// reserves nothing and names the limit and its setting.
func (h *Handler) admit(ls *liveSession, principal *Principal, n int) (admission, string) {
	a := admission{n: n}
	if ls != nil && h.cfg.MaxInflightPerSession > 0 {
		if !ls.acquireSlots(n, h.cfg.MaxInflightPerSession) {
			return admission{}, "this session already has " + strconv.Itoa(h.cfg.MaxInflightPerSession) + " requests in flight (MAX_INFLIGHT_PER_SESSION)"
		}
		a.ls = ls
	}
	if principal != nil && h.cfg.MaxInflightPerPrincipal > 0 {
		key := principal.Key()
		if !h.usage.acquireInflight(key, n, h.cfg.MaxInflightPerPrincipal) {
			if a.ls != nil {
				a.ls.releaseSlots(n)
			}
			return admission{}, "your requests in flight, all sessions together, are at the limit of " + strconv.Itoa(h.cfg.MaxInflightPerPrincipal) + " (MAX_INFLIGHT_PER_PRINCIPAL)"
		}
		a.principal = key
	}
	return a, ""
}

func (h *Handler) release(a admission) {
	if a.ls != nil {
		a.ls.releaseSlots(a.n)
	}
	if a.principal != "" {
		h.usage.releaseInflight(a.principal, a.n)
	}
}

// tooBusy answers a POST refused by admit: 429 with Retry-After for the
// whole POST. Nothing of it ran, so resending it unchanged is safe; a
// JSON-RPC error per request of a batch would leave the client to sort
// out which ran and which did not, and HTTP clients and retry middleware
// already know what 429 and Retry-After mean.
func (h *Handler) tooBusy(w http.ResponseWriter, id mcp.ID, why string) int {
	w.Header().Set("Retry-After", "1")
	return h.writeError(w, http.StatusTooManyRequests, id, mcp.CodeServerError,
		"Too Many Requests: "+why+"; wait for a response before sending more, or retry after 1 s")
}

// Size caps on what a client names and what a session remembers. A request
// id is echoed in every response and kept while the request runs; a
// progress token in every progress notification; clientInfo and
// capabilities are stored with the session (a DynamoDB item holds at most
// 400 KB) and read on every request.
const (
	maxIDBytes            = 256
	maxProgressTokenBytes = 256
	maxClientDescBytes    = 16 << 10
)

// idTooLong is the error for a message whose id is over maxIDBytes; the
// answer carries a null id rather than echoing it.
func idTooLong(id mcp.ID) *mcp.Error {
	if len(id.String()) <= maxIDBytes {
		return nil
	}
	return &mcp.Error{Code: mcp.CodeInvalidRequest, Message: "Invalid Request: the id is " + strconv.Itoa(len(id.String())) +
		" bytes long; ids of at most " + strconv.Itoa(maxIDBytes) + " bytes are accepted"}
}

func progressTokenTooLong(tok []byte) *mcp.Error {
	if len(tok) <= maxProgressTokenBytes {
		return nil
	}
	return &mcp.Error{Code: mcp.CodeInvalidParams, Message: `invalid params: "_meta.progressToken" is ` + strconv.Itoa(len(tok)) +
		" bytes long; at most " + strconv.Itoa(maxProgressTokenBytes) + " are accepted"}
}

// clientDescTooLarge checks the size of a clientInfo or capabilities
// object (name is what the message calls it).
func clientDescTooLarge(name string, raw []byte) *mcp.Error {
	if len(raw) <= maxClientDescBytes {
		return nil
	}
	return &mcp.Error{Code: mcp.CodeInvalidParams, Message: `invalid params: "` + name + `" is ` + strconv.Itoa(len(raw)) +
		" bytes long; at most " + strconv.Itoa(maxClientDescBytes) + " are accepted"}
}

// initializeTooLarge checks the clientInfo and capabilities of initialize
// params (valid JSON: DecodeMessage checked them) before they are decoded.
func initializeTooLarge(params []byte) *mcp.Error {
	var bad *mcp.Error
	members(params, func(key, val []byte) {
		if bad == nil && (string(key) == "clientInfo" || string(key) == "capabilities") {
			bad = clientDescTooLarge(string(key), val)
		}
	})
	return bad
}
