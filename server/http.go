package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"mcplambda/mcp"
)

// HTTP plumbing shared by the POST, GET and DELETE handlers: CORS, error
// bodies, reading the body, content negotiation.

var (
	corsAllowHeaders  = "Content-Type, Authorization, Mcp-Session-Id, MCP-Protocol-Version, Last-Event-ID, Mcp-Method, Mcp-Name"
	corsExposeHeaders = []string{"Mcp-Session-Id, MCP-Protocol-Version, WWW-Authenticate"}
	corsMethods       = []string{"GET, POST, DELETE, OPTIONS"}
	varyOrigin        = []string{"Origin"}
)

// cors lets browser-based clients on allowed origins read our answers. A
// preflight may also ask for the Mcp-Param-* headers a tool declares
// (x-mcp-header); those names are not known in advance, so the ones asked
// for are allowed by their prefix.
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
		allow := corsAllowHeaders
		for _, v := range r.Header.Values("Access-Control-Request-Headers") {
			for name := range strings.SplitSeq(v, ",") {
				name = strings.TrimSpace(name)
				if len(name) > len("mcp-param-") && len(name) <= 128 && strings.EqualFold(name[:len("mcp-param-")], "mcp-param-") && headerToken(name) {
					allow += ", " + name
				}
			}
		}
		hdr["Access-Control-Allow-Methods"] = corsMethods
		hdr["Access-Control-Allow-Headers"] = []string{allow}
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
	if ae.Status == http.StatusServiceUnavailable {
		// The keys could not be fetched; the verifier tries again at most
		// every few seconds, so a client that waits that long gets a fresh
		// answer.
		w.Header().Set("Retry-After", keysRetryAfter)
	}
	w.Header()["Content-Type"] = hdrJSON
	w.WriteHeader(ae.Status)
	_, _ = w.Write(append(mcp.AppendErrorResponse(nil, mcp.NullID, e), '\n'))
	return ae.Status
}

// keysRetryAfter is the Retry-After, in seconds, of a 503 for keys that
// could not be fetched: the verifier's shortest wait between attempts.
const keysRetryAfter = "5"

// writeError answers with a JSON-RPC error body and an HTTP status.
func (h *Handler) writeError(w http.ResponseWriter, status int, id mcp.ID, code int, msg string) int {
	w.Header()["Content-Type"] = hdrJSON
	w.WriteHeader(status)
	_, _ = w.Write(append(mcp.AppendErrorResponse(nil, id, &mcp.Error{Code: code, Message: msg}), '\n'))
	return status
}

var bodyPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

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

// headerToken reports whether s is made of letters, digits and the
// token punctuation of RFC 9110, so it can be echoed in a header.
func headerToken(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}
