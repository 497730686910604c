package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sort"

	"mcplambda/internal/jsonlex"
	"mcplambda/internal/mcpheader"
	"mcplambda/mcp"
)

// maxInputRounds bounds the input_required rounds of one request.
const maxInputRounds = 10

// errLegacyServer means the server/discover probe was answered in a way
// that is no stateless-era answer: the server is of the session era.
var errLegacyServer = errors.New("the server/discover probe got no stateless-era answer")

// legacyError carries what the probe got, for logs and error messages.
type legacyError struct{ err error }

func (e *legacyError) Error() string        { return errLegacyServer.Error() + ": " + e.err.Error() }
func (e *legacyError) Is(target error) bool { return target == errLegacyServer }
func (e *legacyError) Unwrap() error        { return e.err }

// isModernErrorCode reports whether code is one only a stateless-era
// server sends (the -32020 range allocated by the specification).
func isModernErrorCode(code int) bool {
	switch code {
	case mcp.CodeHeaderMismatch, mcp.CodeMissingRequiredClientCapability, mcp.CodeUnsupportedProtocolVersion:
		return true
	}
	return false
}

// rpcErrorInBody reads the JSON-RPC error of an HTTP error answer, if any.
func rpcErrorInBody(body string) *RPCError {
	var m struct {
		Error *mcp.Error `json:"error"`
	}
	if json.Unmarshal([]byte(body), &m) != nil || m.Error == nil {
		return nil
	}
	return &RPCError{Code: m.Error.Code, Message: m.Error.Message, Data: m.Error.Data}
}

// discover opens the stateless era with server/discover. An answer that
// identifies a session-era server is an error matching errLegacyServer;
// a recognized stateless-era error is reported as it is, except
// UnsupportedProtocolVersion, which is retried with a revision from its
// data.supported that we speak: one not tried yet, else (once) the one
// just refused when data.supported lists it all the same.
func (c *Client) discover(ctx context.Context) (session, error) {
	version := c.opts.ProtocolVersion
	if !mcp.IsModernVersion(version) {
		version = mcp.ModernVersions[0]
	}
	tried := map[string]bool{}
	retried := map[string]bool{}
	for {
		if tried[version] {
			retried[version] = true
		}
		tried[version] = true
		sess := session{version: version, modern: true}
		var err error
		if sess.meta, err = c.sessionMeta(version); err != nil {
			return session{}, err
		}
		id := mcp.IntID(c.nextID.Add(1))
		params, err := c.modernParams(nil, nil, sess, nil)
		if err != nil {
			return session{}, err
		}
		body, err := mcp.AppendRequest(nil, id, mcp.MethodServerDiscover, params)
		if err != nil {
			return session{}, err
		}
		hdr := http.Header{}
		mcpheader.SetStandard(hdr, mcp.MethodServerDiscover, "")
		msg, _, err := c.exchangeWith(ctx, mcp.MethodServerDiscover, id, body, sess, hdr)
		var rpcErr *RPCError
		if err != nil {
			var he *HTTPError
			if !errors.As(err, &he) || ctx.Err() != nil {
				return session{}, err
			}
			rpcErr = rpcErrorInBody(he.Body)
			modern := rpcErr != nil && (isModernErrorCode(rpcErr.Code) ||
				(he.StatusCode == http.StatusNotFound && rpcErr.Code == mcp.CodeMethodNotFound))
			if !modern {
				if he.StatusCode/100 == 4 {
					return session{}, &legacyError{err}
				}
				return session{}, err
			}
		} else if msg.Error != nil {
			rpcErr = &RPCError{Code: msg.Error.Code, Message: msg.Error.Message, Data: msg.Error.Data}
			if !isModernErrorCode(rpcErr.Code) {
				return session{}, &legacyError{rpcErr}
			}
		}
		if rpcErr != nil {
			if rpcErr.Code == mcp.CodeUnsupportedProtocolVersion {
				var data mcp.UnsupportedVersionData
				_ = json.Unmarshal(rpcErr.Data, &data)
				next := pickModern(data.Supported, tried)
				if next == "" && !retried[version] && slices.Contains(data.Supported, version) {
					// The server refused the revision it says it
					// supports: ask once more before giving up.
					next = version
				}
				if next != "" {
					c.log.Debug("mcp retrying server/discover", "protocol_version", next)
					version = next
					continue
				}
			}
			return session{}, fmt.Errorf("%s: %w", mcp.MethodServerDiscover, rpcErr)
		}
		var res struct {
			mcp.DiscoverResult
			Meta map[string]json.RawMessage `json:"_meta"`
		}
		if err := json.Unmarshal(msg.Result, &res); err != nil {
			return session{}, fmt.Errorf("%s: decoding the result: %w", mcp.MethodServerDiscover, err)
		}
		if len(res.SupportedVersions) > 0 && !slices.Contains(res.SupportedVersions, version) {
			next := pickModern(res.SupportedVersions, tried)
			if next == "" {
				return session{}, &legacyError{fmt.Errorf("the server speaks %q, no stateless revision this client speaks (%v)",
					truncateList(res.SupportedVersions), mcp.ModernVersions)}
			}
			version = next
			continue
		}
		sess.discover = res.DiscoverResult
		sess.init = mcp.InitializeResult{
			ProtocolVersion: version,
			Capabilities:    res.Capabilities,
			Instructions:    res.Instructions,
		}
		if raw, ok := res.Meta[mcp.MetaServerInfo]; ok {
			_ = json.Unmarshal(raw, &sess.init.ServerInfo)
		}
		c.log.Debug("mcp stateless era", "protocol_version", version, "server", truncate(sess.init.ServerInfo.Name, 64))
		return sess, nil
	}
}

// pickModern is the first of supported that we speak and have not tried.
func pickModern(supported []string, tried map[string]bool) string {
	for _, v := range supported {
		if mcp.IsModernVersion(v) && !tried[v] {
			return v
		}
	}
	return ""
}

func truncateList(l []string) []string {
	if len(l) > 8 {
		l = l[:8]
	}
	out := make([]string, len(l))
	for i, v := range l {
		out[i] = truncate(v, 32)
	}
	return out
}

// modernParams returns params (nil or anything encoding as a JSON object)
// with _meta carrying the protocol version, the client's capabilities and
// identity, the log level if one was set, and extra; the keys of fields
// are set on the params object itself. It runs on every request, so the
// common case (params without a _meta of their own) splices _meta into
// the encoded params instead of decoding and encoding them again.
func (c *Client) modernParams(dst []byte, params any, sess session, extra map[string]json.RawMessage) (json.RawMessage, error) {
	var raw []byte
	if params != nil {
		var err error
		if raw, err = json.Marshal(params); err != nil {
			return nil, err
		}
		if string(raw) == "null" {
			raw = nil
		}
	}
	hasMeta := false
	if p, ok := params.(*mcp.CallToolParams); ok {
		// json.Marshal made an object; its _meta is the Meta field.
		hasMeta = p.Meta != nil
	} else if raw != nil {
		err := jsonlex.ScanObject(raw, func(key, _ []byte) error {
			hasMeta = hasMeta || string(key) == "_meta"
			return nil
		})
		if err != nil {
			return nil, errors.New("params must be a JSON object")
		}
	}
	c.mu.Lock()
	level := c.logLevel
	c.mu.Unlock()
	if hasMeta {
		merged, err := c.modernParamsMerged(params, sess, level, extra)
		return append(dst, merged...), err
	}
	meta := sess.meta
	if meta == nil {
		var err error
		if meta, err = c.sessionMeta(sess.version); err != nil {
			return nil, err
		}
	}
	buf := slices.Grow(dst, len(raw)+len(meta)+64)
	buf = append(buf, `{"_meta":{`...)
	buf = append(buf, meta...)
	if level != "" {
		buf = append(buf, `,"`+mcp.MetaLogLevel+`":`...)
		buf = mcp.AppendJSONString(buf, string(level))
	}
	for k, v := range extra {
		buf = append(buf, ',')
		buf = mcp.AppendJSONString(buf, k)
		buf = append(buf, ':')
		buf = append(buf, v...)
	}
	buf = append(buf, '}')
	// json.Marshal output is compact: raw is "{}" or "{" members "}".
	if len(raw) > 2 {
		buf = append(buf, ',')
		return append(buf, raw[1:]...), nil
	}
	return append(buf, '}'), nil
}

// sessionMeta encodes the _meta members every request of a stateless
// session carries: they change only with the protocol version.
func (c *Client) sessionMeta(version string) ([]byte, error) {
	buf := []byte(`"` + mcp.MetaProtocolVersion + `":`)
	buf = mcp.AppendJSONString(buf, version)
	for _, m := range []struct {
		key string
		v   any
	}{{mcp.MetaClientCapabilities, c.capabilities()}, {mcp.MetaClientInfo, c.opts.ClientInfo}} {
		b, err := json.Marshal(m.v)
		if err != nil {
			return nil, err
		}
		buf = append(buf, `,"`+m.key+`":`...)
		buf = append(buf, b...)
	}
	return buf, nil
}

// modernParamsMerged is modernParams for params that bring a _meta of
// their own: ours is merged into theirs.
func (c *Client) modernParamsMerged(params any, sess session, level mcp.LoggingLevel, extra map[string]json.RawMessage) (json.RawMessage, error) {
	obj, meta, err := openParams(params, "params must be a JSON object")
	if err != nil {
		return nil, err
	}
	set := func(k string, v any) error {
		b, err := json.Marshal(v)
		meta[k] = b
		return err
	}
	if err := errors.Join(
		set(mcp.MetaProtocolVersion, sess.version),
		set(mcp.MetaClientCapabilities, c.capabilities()),
		set(mcp.MetaClientInfo, c.opts.ClientInfo),
	); err != nil {
		return nil, err
	}
	if level != "" {
		if err := set(mcp.MetaLogLevel, level); err != nil {
			return nil, err
		}
	}
	for k, v := range extra {
		meta[k] = v
	}
	return closeParams(obj, meta)
}

// withFields returns the JSON object obj with fields set.
func withFields(obj json.RawMessage, fields map[string]json.RawMessage) (json.RawMessage, error) {
	m := map[string]json.RawMessage{}
	if err := json.Unmarshal(obj, &m); err != nil {
		return nil, err
	}
	for k, v := range fields {
		m[k] = v
	}
	return json.Marshal(m)
}

// modernHeaders are the standard headers of a stateless request and, for
// tools/call, the Mcp-Param-* headers its tool's inputSchema declares.
func (c *Client) modernHeaders(ctx context.Context, method string, typed any, params json.RawMessage) (http.Header, error) {
	var p struct {
		Name, URI string
		Arguments json.RawMessage
	}
	switch t := typed.(type) {
	case *mcp.CallToolParams: // the common case, known without reading params
		p.Name, p.Arguments = t.Name, t.Arguments
	default:
		// The lexer, not encoding/json: this runs on every request.
		_ = jsonlex.ScanObject(params, func(key, value []byte) error {
			switch string(key) {
			case "name":
				p.Name, _ = jsonlex.Unquote(value)
			case "uri":
				p.URI, _ = jsonlex.Unquote(value)
			case "arguments":
				p.Arguments = value
			}
			return nil
		})
	}
	name := p.Name
	if mcpheader.NameSource(method) == "uri" {
		name = p.URI
	}
	hdr := http.Header{}
	mcpheader.SetStandard(hdr, method, name)
	if method != mcp.MethodToolsCall {
		return hdr, nil
	}
	tparams, ok := c.toolParams(p.Name)
	if !ok {
		// Unknown tool: learn its schema once. A failure only costs the
		// headers; the server says if it needed them.
		if _, err := c.ListTools(ctx); err != nil {
			c.log.Debug("mcp tools/list for x-mcp-header failed", "error", err)
		}
		tparams, _ = c.toolParams(p.Name)
	}
	ph, err := mcpheader.ParamHeaders(tparams, p.Arguments)
	if err != nil {
		return nil, fmt.Errorf("tools/call %s: %w", truncate(p.Name, 64), err)
	}
	for k, v := range ph {
		hdr[k] = v
	}
	return hdr, nil
}

func (c *Client) toolParams(name string) ([]mcpheader.Param, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	p, ok := c.toolHeaders[name]
	return p, ok
}

// filterTools drops the tools whose x-mcp-header annotations are invalid
// (with a warning) and remembers the others' headers.
func (c *Client) filterTools(tools []mcp.Tool) []mcp.Tool {
	hdrs := make(map[string][]mcpheader.Param, len(tools))
	kept := tools[:0]
	for _, t := range tools {
		var params []mcpheader.Param
		if len(t.InputSchema) > 0 {
			var err error
			if params, err = mcpheader.ParseToolHeaders(t.InputSchema); err != nil {
				c.log.Warn("mcp tool ignored: invalid x-mcp-header annotation", "tool", truncate(t.Name, 128), "reason", err.Error())
				continue
			}
		}
		hdrs[t.Name] = params
		kept = append(kept, t)
	}
	c.mu.Lock()
	c.toolHeaders = hdrs
	c.mu.Unlock()
	return kept
}

// callModern sends a stateless request, answering input_required results
// until the request completes.
func (c *Client) callModern(ctx context.Context, method string, params any, result any, cfg callConfig, sess session) error {
	var key []byte // the cache key's params: the caller's own, without _meta
	if cacheable(method) {
		key, _ = json.Marshal(params)
		if raw, ok := c.cachedResult(ctx, method, key); ok {
			return decodeResult(&mcp.Message{Result: raw}, result)
		}
	}
	id := mcp.IntID(c.nextID.Add(1))
	var extra map[string]json.RawMessage
	if cfg.progress != nil {
		token := id.String()
		extra = map[string]json.RawMessage{"progressToken": json.RawMessage(token)}
		c.progMu.Lock()
		c.progress[token] = cfg.progress
		c.progMu.Unlock()
		defer func() {
			c.progMu.Lock()
			delete(c.progress, token)
			c.progMu.Unlock()
		}()
	}
	// The first round's params are encoded straight into its message.
	head := mcp.AppendRequestHead(make([]byte, 0, 512), id, method)
	first, err := c.modernParams(head, params, sess, extra)
	if err != nil {
		return fmt.Errorf("%s: %w", method, err)
	}
	base := first[len(head):len(first):len(first)]
	first = append(first, '}')
	hdr, err := c.modernHeaders(ctx, method, params, base)
	if err != nil {
		return err
	}
	cur := base
	for round := 1; ; round++ {
		body := first
		if round > 1 {
			body = mcp.AppendRequestRaw(make([]byte, 0, len(cur)+len(method)+48), id, method, cur)
		}
		msg, _, err := c.exchangeWith(ctx, method, id, body, sess, hdr)
		if err != nil {
			// The stateless era answers protocol errors with 400 or 404
			// and a JSON-RPC error body: report the JSON-RPC error.
			var he *HTTPError
			if errors.As(err, &he) && he.StatusCode/100 == 4 {
				if re := rpcErrorInBody(he.Body); re != nil {
					return re
				}
			}
			return err
		}
		if msg.Error != nil {
			return decodeResult(msg, nil)
		}
		var ir struct {
			InputRequests map[string]json.RawMessage `json:"inputRequests"`
			RequestState  json.RawMessage            `json:"requestState"`
		}
		if resultType(msg.Result) != mcp.ResultInputRequired || json.Unmarshal(msg.Result, &ir) != nil {
			if round == 1 && key != nil {
				c.storeResult(ctx, method, key, readURI(params), msg.Result)
			}
			return decodeResult(msg, result)
		}
		if round >= maxInputRounds {
			return fmt.Errorf("%s: the server still asked for input after %d rounds", method, maxInputRounds)
		}
		answers, err := c.answerInputs(ctx, method, ir.InputRequests)
		if err != nil {
			return err
		}
		fields := map[string]json.RawMessage{"inputResponses": answers}
		if len(ir.RequestState) > 0 {
			fields["requestState"] = ir.RequestState // echoed as received
		}
		if cur, err = withFields(base, fields); err != nil {
			return err
		}
		id = mcp.IntID(c.nextID.Add(1)) // a retry is a new request
	}
}

// resultType is a result's resultType ("" when absent or not a string),
// found with the lexer: a complete result is then decoded once only.
func resultType(result json.RawMessage) string {
	if !bytes.Contains(result, []byte(mcp.ResultInputRequired)) && bytes.IndexByte(result, '\\') < 0 {
		// Without the word, or an escape that could spell it, the
		// result cannot be input_required: skip the scan.
		return ""
	}
	var rt string
	_ = jsonlex.ScanObject(result, func(key, value []byte) error {
		if string(key) == "resultType" {
			rt, _ = jsonlex.Unquote(value)
		}
		return nil
	})
	return rt
}

// readURI is the uri of a resources/read request, which its
// resources/updated notifications name.
func readURI(params any) string {
	if p, ok := params.(*mcp.ReadResourceParams); ok {
		return p.URI
	}
	return ""
}

// answerInputs answers the inputRequests of an input_required result with
// the callbacks that answer server requests in the session era. The
// request's timer is paused meanwhile: a person may be answering.
func (c *Client) answerInputs(ctx context.Context, method string, reqs map[string]json.RawMessage) (json.RawMessage, error) {
	keys := make([]string, 0, len(reqs))
	for k := range reqs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	resume := pauseRequestTimer(ctx)
	defer resume()
	answers := make(map[string]json.RawMessage, len(reqs))
	for _, k := range keys {
		var in struct {
			Method string          `json:"method"`
			Params json.RawMessage `json:"params"`
		}
		if err := json.Unmarshal(reqs[k], &in); err != nil {
			return nil, fmt.Errorf("%s: malformed input request %q: %w", method, truncate(k, 64), err)
		}
		if in.Method == mcp.MethodPing {
			return nil, fmt.Errorf("%s: the server asked for input with unsupported method %q", method, truncate(in.Method, 64))
		}
		res, err := c.serveRequest(ctx, &mcp.Message{Method: in.Method, Params: in.Params})
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, fmt.Errorf("%s: answering the server's %s input request %q: %w", method, truncate(in.Method, 64), truncate(k, 64), err)
		}
		if answers[k], err = json.Marshal(res); err != nil {
			return nil, err
		}
	}
	return json.Marshal(answers)
}
