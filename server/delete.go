package server

import "net/http"

// DELETE: the client ends its session.

func (h *Handler) delete(w http.ResponseWriter, r *http.Request, principal *Principal, info *reqInfo) int {
	ls, _, status := h.session(w, r, principal, info)
	if ls == nil {
		return status
	}
	h.sessions.end(ls, "deleted by the client")
	w.WriteHeader(http.StatusOK)
	return http.StatusOK
}
