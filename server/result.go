package server

import (
	"bytes"
	"encoding/json"
	"strconv"
	"sync"
	"time"

	"mcplambda/internal/jsonlex"
	"mcplambda/mcp"
)

// Results of the stateless era carry more than the session era's: every
// result its resultType and the server's identity in _meta, and the
// cacheable ones (server/discover, the lists, resources/read) a freshness
// hint (ttlMs) and who may share a cached copy (cacheScope). The handlers
// return the same values in both eras; the transport adds these fields to
// the encoded result, so the session era's answers stay exactly as they
// were.

// cacheHint is the caching advice for one result.
type cacheHint struct {
	ttl   time.Duration
	scope string
}

// The hints of each cacheable method, and why (docs/protocol.md repeats
// them for operators):
//   - server/discover: versions, capabilities and instructions change only
//     when a new build is deployed; an hour, shared by everyone.
//   - tools/list, prompts/list, resources/list, resources/templates/list:
//     the same for every caller (nothing here filters by user), and they
//     change with a deployment or a registration, which
//     subscriptions/listen announces at once; five minutes bounds how long
//     a client that does not listen works from a stale list.
//   - resources/read: a resource may well depend on who reads it, so by
//     default it is private and immediately stale; a resource handler that
//     knows better says so with Call.CacheResult.
var (
	hintDiscover = cacheHint{time.Hour, mcp.CachePublic}
	hintList     = cacheHint{5 * time.Minute, mcp.CachePublic}
	hintRead     = cacheHint{0, mcp.CachePrivate}
)

// cacheHintOf returns the default hint of method, or nil when its results
// are not cacheable.
func cacheHintOf(method string) *cacheHint {
	switch method {
	case mcp.MethodServerDiscover:
		return &hintDiscover
	case mcp.MethodToolsList, mcp.MethodPromptsList, mcp.MethodResourcesList, mcp.MethodResourcesTemplatesList:
		return &hintList
	case mcp.MethodResourcesRead:
		return &hintRead
	}
	return nil
}

var (
	keyResultType = []byte(`"resultType":"`)
	keyMeta       = []byte(`"_meta"`)
)

// decorateResult appends to dst the result object res with resultType, the
// caching hint (nil: none) and serverInfo (an encoded Implementation) added
// to its _meta. res is a JSON object the server encoded itself.
func decorateResult(dst, res []byte, resultType string, hint *cacheHint, serverInfo []byte) []byte {
	dst = append(dst, '{')
	dst = append(dst, keyResultType...)
	dst = append(dst, resultType...)
	dst = append(dst, '"')
	if hint != nil {
		dst = append(dst, `,"ttlMs":`...)
		dst = strconv.AppendInt(dst, hint.ttl.Milliseconds(), 10)
		dst = append(dst, `,"cacheScope":"`...)
		dst = append(dst, hint.scope...)
		dst = append(dst, '"')
	}
	dst = append(dst, `,"_meta":{"`+mcp.MetaServerInfo+`":`...)
	dst = append(dst, serverInfo...)
	body := bytes.TrimSpace(res)
	if !bytes.Contains(body, keyMeta) {
		// The common case: no _meta of the handler's own to merge.
		dst = append(dst, '}')
		if inner := bytes.TrimSpace(body[1 : len(body)-1]); len(inner) > 0 {
			dst = append(dst, ',')
			dst = append(dst, inner...)
		}
		return append(dst, '}')
	}
	var rest [][2][]byte
	var meta []byte
	_ = jsonlex.ScanObject(body, func(key, val []byte) error {
		if string(key) == "_meta" {
			meta = val
		} else {
			rest = append(rest, [2][]byte{key, val})
		}
		return nil
	})
	if jsonlex.TypeOf(meta) == jsonlex.Object {
		if inner := bytes.TrimSpace(meta[1 : len(meta)-1]); len(inner) > 0 {
			dst = append(dst, ',')
			dst = append(dst, inner...)
		}
	}
	dst = append(dst, '}')
	for _, m := range rest {
		dst = append(dst, ',', '"')
		dst = append(dst, m[0]...)
		dst = append(dst, '"', ':')
		dst = append(dst, m[1]...)
	}
	return append(dst, '}')
}

// encodeModern encodes the response to a stateless-era request and the
// HTTP status it is sent with in JSON mode.
func (h *Handler) encodeModern(id mcp.ID, method string, result any, err error, hint *cacheHint) ([]byte, int) {
	if err != nil {
		rpcErr := mcp.AsError(err)
		if rpcErr.Code == mcp.CodeInternalError {
			h.log.Error("request failed", "rpc_method", method, "error", err)
		}
		return mcp.AppendErrorResponse(nil, id, rpcErr), errorStatus(rpcErr.Code)
	}
	resultType := mcp.ResultComplete
	buf := resultPool.Get().(*[]byte)
	defer func() {
		if cap(*buf) <= 64<<10 {
			resultPool.Put(buf)
		}
	}()
	raw := (*buf)[:0]
	switch r := result.(type) {
	case *mcp.InputRequiredResult:
		resultType, hint = mcp.ResultInputRequired, nil // interim results are never cached
		raw, err = json.Marshal(r)
	case mcp.JSONAppender:
		raw, err = r.AppendJSON(raw)
	default:
		raw, err = json.Marshal(result)
	}
	*buf = raw[:0]
	if err != nil || jsonlex.TypeOf(bytes.TrimSpace(raw)) != jsonlex.Object {
		h.log.Error("result not encodable", "rpc_method", method, "error", err)
		return mcp.AppendErrorResponse(nil, id, &mcp.Error{Code: mcp.CodeInternalError, Message: "internal error: the result could not be encoded"}), http200
	}
	// +1: the newline added in JSON mode.
	out := mcp.AppendResponseHead(make([]byte, 0, len(raw)+len(h.serverInfo)+len(id.String())+160), id)
	out = decorateResult(out, raw, resultType, hint, h.serverInfo)
	return append(out, '}'), http200
}

// resultPool holds the buffers results are encoded into before they are
// decorated into the response.
var resultPool = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

const http200 = 200
