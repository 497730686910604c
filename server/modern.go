package server

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"mcplambda/internal/jsonlex"
	"mcplambda/internal/mcpheader"
	"mcplambda/mcp"
)

// The stateless era (2026-07-28) on the same endpoint as the session era.
// A request is modern when it carries no Mcp-Session-Id and declares its
// protocol version per request (params._meta or a modern
// MCP-Protocol-Version header); everything else keeps its session-era
// behaviour (see isModern). A modern request never touches the session
// table: it is checked, dispatched and answered on its own stream.

// isModern decides the era of a POSTed request. A session id always means
// the session era. Otherwise the request is modern when it says so: a
// modern MCP-Protocol-Version header, or a protocol version in
// params._meta (which no session-era client sends). Everything else,
// initialize included, keeps its session-era handling.
func isModern(r *http.Request, msg *mcp.Message) bool {
	if r.Header.Get("Mcp-Session-Id") != "" {
		return false
	}
	return mcp.IsModernVersion(r.Header.Get("Mcp-Protocol-Version")) || hasMetaVersion(msg.Params)
}

// hasMetaVersion reports whether params._meta names a protocol version.
func hasMetaVersion(params []byte) bool {
	if len(params) == 0 || !strings.Contains(string(params), mcp.MetaProtocolVersion) {
		return false // fast path: most session-era requests
	}
	found := false
	_ = jsonlex.ScanObject(params, func(key, val []byte) error {
		if string(key) == "_meta" && jsonlex.TypeOf(val) == jsonlex.Object {
			_ = jsonlex.ScanObject(val, func(k, _ []byte) error {
				found = found || string(k) == mcp.MetaProtocolVersion
				return nil
			})
		}
		return nil
	})
	return found
}

// modernParams is what the transport reads of a modern request's params
// before dispatch.
type modernParams struct {
	version    string
	hasVersion bool
	caps       []byte           // io.modelcontextprotocol/clientCapabilities, raw
	logLevel   mcp.LoggingLevel // "" when the client asked for no log messages

	name    string // params.name (tools/call, prompts/get) or params.uri (resources/read)
	hasName bool

	inputResponses []byte // raw; nil when absent
	requestState   string
	hasState       bool

	progressToken []byte
	call          mcp.CallToolParams // tools/call: name and arguments, read in the same pass
}

// metaError is a malformed _meta: -32602, HTTP 400.
func metaError(msg string) *mcp.Error {
	return &mcp.Error{Code: mcp.CodeInvalidParams, Message: "invalid params: " + msg}
}

// readModernParams reads params (validated by DecodeMessage) without
// copying more than the strings it returns. nameKey is "name", "uri" or ""
// for methods without one. For tools/call it also keeps what the
// dispatcher would otherwise scan params again for.
func readModernParams(params []byte, nameKey string) (modernParams, *mcp.Error) {
	var p modernParams
	if len(params) == 0 || params[0] != '{' {
		return p, metaError(`"_meta" with "` + mcp.MetaProtocolVersion + `" and "` + mcp.MetaClientCapabilities + `" is required on every request of protocol ` + mcp.Version20260728)
	}
	var meta []byte
	var bad *mcp.Error
	members(params, func(key, val []byte) {
		switch string(key) {
		case "_meta":
			meta = val
		case "arguments":
			p.call.Arguments = val
		case "inputResponses":
			if jsonlex.TypeOf(val) != jsonlex.Object {
				bad = metaError(`"inputResponses" must be an object`)
			}
			p.inputResponses = val
		case "requestState":
			s, ok := jsonlex.Unquote(val)
			if !ok {
				bad = metaError(`"requestState" must be a string`)
			}
			p.requestState, p.hasState = s, true
		default:
			if nameKey != "" && string(key) == nameKey {
				s, ok := jsonlex.Unquote(val)
				if !ok {
					bad = metaError(`"` + nameKey + `" must be a string`)
				}
				p.name, p.hasName = s, true
			}
		}
	})
	if bad != nil {
		return p, bad
	}
	if meta == nil || jsonlex.TypeOf(meta) != jsonlex.Object {
		return p, metaError(`"_meta" with "` + mcp.MetaProtocolVersion + `" and "` + mcp.MetaClientCapabilities + `" is required on every request of protocol ` + mcp.Version20260728)
	}
	members(meta, func(key, val []byte) {
		switch string(key) {
		case mcp.MetaProtocolVersion:
			if v, ok := knownVersion(val); ok {
				p.version, p.hasVersion = v, true
				return
			}
			s, ok := jsonlex.Unquote(val)
			if !ok {
				bad = metaError(`"_meta.` + mcp.MetaProtocolVersion + `" must be a string`)
			}
			p.version, p.hasVersion = s, true
		case mcp.MetaClientCapabilities:
			if jsonlex.TypeOf(val) != jsonlex.Object {
				bad = metaError(`"_meta.` + mcp.MetaClientCapabilities + `" must be an object`)
			} else if e := clientDescTooLarge("_meta."+mcp.MetaClientCapabilities, val); e != nil {
				bad = e
			}
			p.caps = val
		case mcp.MetaClientInfo:
			if jsonlex.TypeOf(val) != jsonlex.Object {
				bad = metaError(`"_meta.` + mcp.MetaClientInfo + `" must be an object with name and version`)
			} else if e := clientDescTooLarge("_meta."+mcp.MetaClientInfo, val); e != nil {
				bad = e
			}
		case mcp.MetaLogLevel:
			s, ok := jsonlex.Unquote(val)
			if !ok || mcp.LoggingLevel(s).Severity() < 0 {
				bad = metaError(`"_meta.` + mcp.MetaLogLevel + `" must be one of debug, info, notice, warning, error, critical, alert, emergency`)
			}
			p.logLevel = mcp.LoggingLevel(s)
		case "progressToken":
			if t := jsonlex.TypeOf(val); t != jsonlex.String && t != jsonlex.Number {
				bad = metaError(`"_meta.progressToken" must be a string or a number`)
			} else if e := progressTokenTooLong(val); e != nil {
				bad = e
			}
			p.progressToken = val
		}
	})
	if bad != nil {
		return p, bad
	}
	switch {
	case !p.hasVersion && p.caps == nil:
		return p, metaError(`"_meta" lacks "` + mcp.MetaProtocolVersion + `" and "` + mcp.MetaClientCapabilities + `", both required on every request of protocol ` + mcp.Version20260728)
	case !p.hasVersion:
		return p, metaError(`"_meta" lacks "` + mcp.MetaProtocolVersion + `", required on every request`)
	case p.caps == nil:
		return p, metaError(`"_meta" lacks "` + mcp.MetaClientCapabilities + `", required on every request (send {} for none)`)
	}
	return p, nil
}

// members calls fn for each member of the JSON object b, which DecodeMessage
// has already validated: finding where things end is all that is left to
// do, and costs a fraction of a validating scan on the hot path.
func members(b []byte, fn func(key, val []byte)) {
	i := jsonlex.SkipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return
	}
	i = jsonlex.SkipSpace(b, i+1)
	for i < len(b) && b[i] == '"' {
		kend, _ := jsonlex.ContentEnd(b, i+1)
		key := b[i+1 : kend]
		i = jsonlex.SkipSpace(b, kend+1) // at ':'
		vstart := jsonlex.SkipSpace(b, i+1)
		vend := jsonlex.ValueEnd(b, vstart)
		fn(key, b[vstart:vend])
		i = jsonlex.SkipSpace(b, vend)
		if i < len(b) && b[i] == ',' {
			i = jsonlex.SkipSpace(b, i+1)
		}
	}
}

// knownVersion returns one of our version strings for a raw JSON string
// that spells it, without allocating a copy.
func knownVersion(raw []byte) (string, bool) {
	if len(raw) < 2 || raw[0] != '"' {
		return "", false
	}
	for _, v := range mcp.SupportedVersions {
		if string(raw[1:len(raw)-1]) == v {
			return v, true
		}
	}
	return "", false
}

// modernMethods are the methods of the stateless era. initialize, ping,
// logging/setLevel and resources/(un)subscribe were removed from it.
func modernMethod(method string) bool {
	switch method {
	case mcp.MethodServerDiscover, mcp.MethodSubscriptionsListen,
		mcp.MethodToolsList, mcp.MethodToolsCall,
		mcp.MethodResourcesList, mcp.MethodResourcesTemplatesList, mcp.MethodResourcesRead,
		mcp.MethodPromptsList, mcp.MethodPromptsGet,
		mcp.MethodCompletionComplete:
		return true
	}
	return false
}

// errorStatus is the HTTP status of a modern request answered with a
// JSON-RPC error in JSON mode: the codes the transport specification ties
// to a status, 200 for the rest (the error is in the body).
func errorStatus(code int) int {
	switch code {
	case mcp.CodeMethodNotFound:
		return http.StatusNotFound
	case mcp.CodeHeaderMismatch, mcp.CodeMissingRequiredClientCapability, mcp.CodeUnsupportedProtocolVersion:
		return http.StatusBadRequest
	}
	return http.StatusOK
}

// unsupportedVersion is -32022 with the versions we speak.
func unsupportedVersion(requested string) *mcp.Error {
	data, _ := json.Marshal(mcp.UnsupportedVersionData{Supported: mcp.SupportedVersions, Requested: requested})
	return &mcp.Error{Code: mcp.CodeUnsupportedProtocolVersion, Message: "Unsupported protocol version " + quoteShort(requested) + ": this server speaks " + strings.Join(mcp.SupportedVersions, ", "), Data: data}
}

// postModern serves a stateless-era request, checked in the order the
// specification gives: the version header, the required _meta, the header
// against _meta, the version, the mirrored headers, the method; the
// client's capabilities are checked where a handler needs one.
func (h *Handler) postModern(w http.ResponseWriter, r *http.Request, principal *Principal, msg *mcp.Message, info *reqInfo) int {
	switch msg.Kind() {
	case mcp.KindNotification:
		// This revision defines no client notifications over HTTP (closing
		// a stream is the cancellation); accepting them costs nothing.
		w.WriteHeader(http.StatusAccepted)
		return http.StatusAccepted
	case mcp.KindResponse:
		return h.writeError(w, http.StatusBadRequest, mcp.NullID, mcp.CodeInvalidRequest,
			"Bad Request: protocol "+mcp.Version20260728+" has no server-to-client requests to answer; send input responses as inputResponses on a retry of the original request")
	}
	id := msg.ID
	hv := r.Header.Get("Mcp-Protocol-Version")
	if hv == "" {
		return h.writeError(w, http.StatusBadRequest, id, mcp.CodeHeaderMismatch,
			"Header mismatch: the MCP-Protocol-Version header is required and must equal _meta."+mcp.MetaProtocolVersion)
	}
	p, merr := readModernParams(msg.Params, mcpheader.NameSource(msg.Method))
	if merr != nil {
		return h.writeError(w, http.StatusBadRequest, id, merr.Code, merr.Message)
	}
	if hv != p.version {
		return h.writeError(w, http.StatusBadRequest, id, mcp.CodeHeaderMismatch,
			"Header mismatch: MCP-Protocol-Version header "+quoteShort(hv)+" does not match _meta."+mcp.MetaProtocolVersion+" "+quoteShort(p.version))
	}
	if !mcp.IsModernVersion(p.version) {
		return h.writeRPCError(w, http.StatusBadRequest, id, unsupportedVersion(p.version))
	}
	if err := mcpheader.CheckStandard(r.Header, msg.Method, p.name, p.hasName); err != nil {
		return h.writeError(w, http.StatusBadRequest, id, mcp.CodeHeaderMismatch, "Header mismatch: "+err.Error())
	}
	if !modernMethod(msg.Method) {
		return h.writeError(w, http.StatusNotFound, id, mcp.CodeMethodNotFound,
			"Method not found: "+quoteShort(msg.Method)+" is not a method of protocol "+p.version+modernHint(msg.Method))
	}
	info.session = ""
	if msg.Method == mcp.MethodSubscriptionsListen {
		return h.listen(w, r, principal, msg, &p)
	}
	a, why := h.admit(nil, principal, 1)
	if why != "" {
		return h.tooBusy(w, id, why)
	}
	st := newPostStream(h, nil, w, p.version, 1, false)
	h.runModern(r, st, principal, msg, &p)
	h.release(a)
	return st.status()
}

// modernHint tells a client that used a removed method what replaced it.
func modernHint(method string) string {
	switch method {
	case mcp.MethodInitialize:
		return " (it has no initialize: send server/discover, or any request with its _meta)"
	case mcp.MethodPing:
		return " (ping was removed)"
	case mcp.MethodLoggingSetLevel:
		return " (set the level per request with _meta." + mcp.MetaLogLevel + ")"
	case mcp.MethodResourcesSubscribe, mcp.MethodResourcesUnsubscribe:
		return " (use subscriptions/listen with resourceSubscriptions)"
	}
	return ""
}

// writeRPCError answers with a JSON-RPC error that has data.
func (h *Handler) writeRPCError(w http.ResponseWriter, status int, id mcp.ID, e *mcp.Error) int {
	w.Header()["Content-Type"] = hdrJSON
	w.WriteHeader(status)
	_, _ = w.Write(append(mcp.AppendErrorResponse(nil, id, e), '\n'))
	return status
}

// modernExchange is one stateless-era request in flight, allocated at once.
type modernExchange struct {
	exchange
	inputs inputRound
}

// runModern dispatches a stateless-era request and answers it on st.
func (h *Handler) runModern(r *http.Request, st *stream, principal *Principal, msg *mcp.Message, p *modernParams) {
	x := &modernExchange{}
	x.ctx.init(r, h.cfg.RequestTimeout, st)
	x.call = Call{id: msg.ID, version: p.version, principal: principal, out: st, modern: true, capsRaw: p.caps, header: r.Header, logMin: -1}
	if p.logLevel != "" {
		x.call.logMin = p.logLevel.Severity()
	}
	if msg.Method == mcp.MethodToolsCall && p.name != "" {
		p.call.Name = p.name
		if p.progressToken != nil {
			p.call.Meta = &mcp.RequestMeta{ProgressToken: p.progressToken}
		}
		x.call.pre = &p.call
	}
	var result any
	err := h.openInputs(&x.ctx, &x.inputs, principal, msg.Method, msg.Params, p)
	if err == nil {
		x.call.inputs = &x.inputs
		if msg.Method == mcp.MethodServerDiscover {
			result = h.srv.discover()
		} else {
			result, err = h.srv.dispatch(&x.ctx, &x.call, msg.Method, msg.Params)
		}
		result, err = h.settle(&x.call, result, err)
	}
	cause := x.ctx.Cause()
	x.ctx.release()
	if errors.Is(cause, errClientGone) {
		st.finish(nil) // the client closed the stream: it cancelled the request
		return
	}
	hint := cacheHintOf(msg.Method)
	if x.call.cache != nil && msg.Method == mcp.MethodResourcesRead {
		hint = x.call.cache
	}
	resp, status := h.encodeModern(msg.ID, msg.Method, result, err, hint)
	st.finishStatus(resp, status)
}

// settle decides what a stateless-era handler's outcome means: a capability
// it needed and the client lacks is -32021, whatever the handler made of
// it; input it asked for and did not get is input_required.
func (h *Handler) settle(c *Call, result any, err error) (any, error) {
	if len(c.missing) > 0 {
		var need mcp.ClientCapabilities
		empty := json.RawMessage(`{}`)
		for _, m := range c.missing {
			switch m {
			case "elicitation":
				need.Elicitation = empty
			case "sampling":
				need.Sampling = empty
			case "roots":
				need.Roots = &struct {
					ListChanged bool `json:"listChanged,omitempty"`
				}{}
			}
		}
		data, _ := json.Marshal(mcp.MissingCapabilityData{RequiredCapabilities: need})
		return nil, &mcp.Error{Code: mcp.CodeMissingRequiredClientCapability,
			Message: "Missing required client capability: this request needs " + strings.Join(c.missing, ", ") + "; declare it in _meta." + mcp.MetaClientCapabilities, Data: data}
	}
	if c.inputs.pending() {
		return h.inputRequired(c.inputs)
	}
	return result, err
}
