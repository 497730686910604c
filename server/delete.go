package server

import (
	"net/http"

	"mcplambda/mcp"
)

// DELETE: the client ends its session.

func (h *Handler) delete(w http.ResponseWriter, r *http.Request, principal *Principal, info *reqInfo) int {
	ls, _, status := h.session(w, r, principal, info)
	if ls == nil {
		return status
	}
	if err := h.sessions.end(ls, "deleted by the client"); err != nil {
		// The item is still in the store: a retried DELETE finds and
		// deletes it, where a 200 would leave it to be served until its TTL.
		return h.storeUnavailable(w, mcp.NullID, err)
	}
	w.WriteHeader(http.StatusOK)
	return http.StatusOK
}
