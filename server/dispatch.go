package server

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"mcplambda/internal/jsonlex"
	"mcplambda/internal/mcpheader"
	"mcplambda/mcp"
)

// dispatch runs one request method. It assumes no handshake: everything it
// needs about the peer comes from the Call, which the transport builds from a
// session (session era) or from the request itself (stateless era).
// initialize is the transport's business and never reaches here.
func (s *Server) dispatch(ctx context.Context, c *Call, method string, params json.RawMessage) (any, error) {
	switch method {
	case mcp.MethodPing:
		return mcp.EmptyResult{}, nil
	case mcp.MethodToolsCall:
		return s.callTool(ctx, c, params)
	case mcp.MethodToolsList:
		return s.listTools(params)
	case mcp.MethodResourcesList:
		return s.listResources(params)
	case mcp.MethodResourcesTemplatesList:
		return s.listTemplates(params)
	case mcp.MethodResourcesRead:
		return s.readResource(ctx, c, params)
	case mcp.MethodResourcesSubscribe, mcp.MethodResourcesUnsubscribe:
		var p mcp.SubscribeParams
		if err := decodeParams(params, &p); err != nil {
			return nil, err
		}
		if p.URI == "" {
			return nil, mcp.Errorf(mcp.CodeInvalidParams, `invalid params: "uri" is required`)
		}
		if c.subs == nil {
			return nil, mcp.Errorf(mcp.CodeMethodNotFound, "%s needs a session: this request has none", method)
		}
		if err := c.subs.subscribe(ctx, p.URI, method == mcp.MethodResourcesSubscribe); err != nil {
			return nil, err
		}
		return mcp.EmptyResult{}, nil
	case mcp.MethodPromptsList:
		return s.listPrompts(params)
	case mcp.MethodPromptsGet:
		return s.getPrompt(ctx, c, params)
	case mcp.MethodLoggingSetLevel:
		var p mcp.SetLevelParams
		if err := decodeParams(params, &p); err != nil {
			return nil, err
		}
		if p.Level.Severity() < 0 {
			return nil, mcp.Errorf(mcp.CodeInvalidParams, "invalid params: unknown logging level %q (use debug, info, notice, warning, error, critical, alert or emergency)", p.Level)
		}
		if c.subs == nil {
			return nil, mcp.Errorf(mcp.CodeMethodNotFound, "logging/setLevel needs a session: this request has none")
		}
		if err := c.subs.setLogLevel(ctx, p.Level); err != nil {
			return nil, err
		}
		return mcp.EmptyResult{}, nil
	case mcp.MethodCompletionComplete:
		return s.complete(ctx, c, params)
	case mcp.MethodInitialize:
		return nil, mcp.Errorf(mcp.CodeInvalidRequest, "initialize is only valid as the first request of a session")
	}
	return nil, mcp.Errorf(mcp.CodeMethodNotFound, "method not found: %q", method)
}

// sessionOps is what a transport offers the dispatcher for per-session
// state. It is nil where there is no session.
type sessionOps interface {
	subscribe(ctx context.Context, uri string, on bool) error
	setLogLevel(ctx context.Context, level mcp.LoggingLevel) error
}

func decodeParams(params json.RawMessage, v any) error {
	if len(params) == 0 {
		return nil
	}
	if err := json.Unmarshal(params, v); err != nil {
		var ute *json.UnmarshalTypeError
		if errors.As(err, &ute) && ute.Field != "" {
			return mcp.Errorf(mcp.CodeInvalidParams, "invalid params: %q must be of type %s", ute.Field, jsonTypeName(ute.Type.Kind().String()))
		}
		return mcp.Errorf(mcp.CodeInvalidParams, "invalid params: %v", err)
	}
	return nil
}

func jsonTypeName(kind string) string {
	switch kind {
	case "string":
		return "string"
	case "struct", "map":
		return "object"
	case "slice", "array":
		return "array"
	case "bool":
		return "boolean"
	}
	return "number"
}

func (s *Server) callTool(ctx context.Context, c *Call, params json.RawMessage) (any, error) {
	var p mcp.CallToolParams
	if c.pre != nil {
		p = *c.pre
	} else {
		var err error
		if p, err = decodeCallToolParams(params); err != nil {
			return nil, err
		}
	}
	s.mu.RLock()
	e := s.toolIndex[p.Name]
	s.mu.RUnlock()
	if e == nil {
		return nil, mcp.Errorf(mcp.CodeInvalidParams, "unknown tool: %q", p.Name)
	}
	args := p.Arguments
	if len(args) == 0 || string(args) == "null" {
		args = json.RawMessage("{}")
	} else if args[0] != '{' {
		return nil, mcp.Errorf(mcp.CodeInvalidParams, `invalid params: "arguments" must be an object`)
	}
	if c.header != nil && len(e.headers) > 0 {
		// Stateless era over HTTP: the arguments the tool mirrors in
		// Mcp-Param-* headers must match them.
		if err := mcpheader.CheckParams(e.headers, c.header, args); err != nil {
			return nil, &mcp.Error{Code: mcp.CodeHeaderMismatch, Message: "Header mismatch: " + err.Error()}
		}
	}
	if err := e.schema.Validate(args); err != nil {
		return mcp.ToolError("invalid arguments: " + err.Error()), nil
	}
	if p.Meta != nil {
		c.progressToken = p.Meta.ProgressToken
	}
	res, err := e.handler(ctx, c, args)
	if err != nil {
		var rpcErr *mcp.Error
		if errors.As(err, &rpcErr) {
			return nil, rpcErr
		}
		if ctx.Err() != nil {
			return nil, ctxError(ctx)
		}
		return mcp.ToolError(err.Error()), nil
	}
	if res == nil {
		res = &mcp.CallToolResult{}
	}
	if res.Content == nil {
		res.Content = []mcp.Content{}
	}
	return res, nil
}

// decodeCallToolParams reads tools/call params in one pass without copying
// (this is the hot path); the result aliases params.
func decodeCallToolParams(params []byte) (mcp.CallToolParams, error) {
	var p mcp.CallToolParams
	if len(params) == 0 {
		return p, mcp.Errorf(mcp.CodeInvalidParams, `invalid params: "name" is required`)
	}
	var meta []byte
	err := jsonlex.ScanObject(params, func(key, val []byte) error {
		switch string(key) {
		case "name":
			name, ok := jsonlex.Unquote(val)
			if !ok {
				return mcp.Errorf(mcp.CodeInvalidParams, `invalid params: "name" must be of type string`)
			}
			p.Name = name
		case "arguments":
			p.Arguments = val
		case "_meta":
			meta = val
		}
		return nil
	})
	if err != nil {
		if e, ok := err.(*mcp.Error); ok {
			return p, e
		}
		return p, mcp.Errorf(mcp.CodeInvalidParams, "invalid params: must be an object")
	}
	if meta != nil && string(meta) != "null" {
		p.Meta = &mcp.RequestMeta{}
		err := jsonlex.ScanObject(meta, func(key, val []byte) error {
			if string(key) == "progressToken" {
				if t := jsonlex.TypeOf(val); t != jsonlex.String && t != jsonlex.Number {
					return mcp.Errorf(mcp.CodeInvalidParams, `invalid params: "_meta.progressToken" must be a string or a number`)
				}
				if e := progressTokenTooLong(val); e != nil {
					return e
				}
				p.Meta.ProgressToken = val
			}
			return nil
		})
		if err != nil {
			if e, ok := err.(*mcp.Error); ok {
				return p, e
			}
			return p, mcp.Errorf(mcp.CodeInvalidParams, `invalid params: "_meta" must be an object`)
		}
	}
	if p.Name == "" {
		return p, mcp.Errorf(mcp.CodeInvalidParams, `invalid params: "name" is required`)
	}
	return p, nil
}

// ctxError turns a finished context into the JSON-RPC error for the request.
func ctxError(ctx context.Context) *mcp.Error {
	cause := CancelCause(ctx)
	if errors.Is(cause, context.DeadlineExceeded) || errors.Is(cause, errRequestTimeout) {
		return mcp.Errorf(mcp.CodeInternalError, "request timed out")
	}
	var e *mcp.Error
	if errors.As(cause, &e) {
		return e
	}
	return mcp.Errorf(mcp.CodeRequestCancelled, "request cancelled: %v", cause)
}

// Cursors are opaque to clients; ours encode an offset and the list they
// belong to, so a cursor from tools/list is refused by prompts/list.
func encodeCursor(list string, offset int) string {
	return base64.RawURLEncoding.EncodeToString([]byte(list + ":" + strconv.Itoa(offset)))
}

func decodeCursor(list, cursor string) (int, error) {
	if cursor == "" {
		return 0, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(cursor)
	if err == nil {
		if rest, ok := strings.CutPrefix(string(b), list+":"); ok {
			if n, err := strconv.Atoi(rest); err == nil && n >= 0 {
				return n, nil
			}
		}
	}
	return 0, mcp.Errorf(mcp.CodeInvalidParams, "invalid params: cursor %q is not one this server issued for %s", truncate(cursor, 64), list)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// page returns the window of n items starting at the cursor, and the cursor
// of the next window.
func page(list string, params json.RawMessage, n, size int) (start, end int, next string, err error) {
	var p mcp.PaginatedParams
	if err := decodeParams(params, &p); err != nil {
		return 0, 0, "", err
	}
	start, err = decodeCursor(list, p.Cursor)
	if err != nil {
		return 0, 0, "", err
	}
	start = min(start, n)
	end = min(start+size, n)
	if end < n {
		next = encodeCursor(list, end)
	}
	return start, end, next, nil
}

// listPage answers one page of a list method: project maps the registry's
// entries to what clients see.
func listPage[E, T any](s *Server, list string, params json.RawMessage, entries func() []E, project func(E) T) ([]T, string, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	all := entries()
	start, end, next, err := page(list, params, len(all), s.opts.PageSize)
	if err != nil {
		return nil, "", err
	}
	out := make([]T, 0, end-start)
	for _, e := range all[start:end] {
		out = append(out, project(e))
	}
	return out, next, nil
}

func (s *Server) listTools(params json.RawMessage) (any, error) {
	items, next, err := listPage(s, "tools", params, func() []*toolEntry { return s.tools }, func(e *toolEntry) mcp.Tool { return e.tool })
	return mcp.ListToolsResult{Tools: items, NextCursor: next}, err
}

func (s *Server) listResources(params json.RawMessage) (any, error) {
	items, next, err := listPage(s, "resources", params, func() []*resourceEntry { return s.resources }, func(e *resourceEntry) mcp.Resource { return e.res })
	return mcp.ListResourcesResult{Resources: items, NextCursor: next}, err
}

func (s *Server) listTemplates(params json.RawMessage) (any, error) {
	items, next, err := listPage(s, "templates", params, func() []*templateEntry { return s.templates }, func(e *templateEntry) mcp.ResourceTemplate { return e.tmpl })
	return mcp.ListResourceTemplatesResult{ResourceTemplates: items, NextCursor: next}, err
}

func (s *Server) listPrompts(params json.RawMessage) (any, error) {
	items, next, err := listPage(s, "prompts", params, func() []*promptEntry { return s.prompts }, func(e *promptEntry) mcp.Prompt { return e.prompt })
	return mcp.ListPromptsResult{Prompts: items, NextCursor: next}, err
}

func (s *Server) readResource(ctx context.Context, c *Call, params json.RawMessage) (any, error) {
	var p mcp.ReadResourceParams
	if err := decodeParams(params, &p); err != nil {
		return nil, err
	}
	if p.URI == "" {
		return nil, mcp.Errorf(mcp.CodeInvalidParams, `invalid params: "uri" is required`)
	}
	s.mu.RLock()
	var h ResourceHandler
	var vars map[string]string
	for _, e := range s.resources {
		if e.res.URI == p.URI {
			h = e.handler
			break
		}
	}
	if h == nil {
		for _, e := range s.templates {
			if m := e.match.FindStringSubmatch(p.URI); m != nil {
				h = e.handler
				vars = make(map[string]string, len(e.vars))
				for i, v := range e.vars {
					vars[v] = m[i+1]
				}
				break
			}
		}
	}
	s.mu.RUnlock()
	if h == nil {
		// -32002 in the session era; the stateless era made it invalid
		// params (SEP-2164), with the URI in data either way.
		code := mcp.CodeResourceNotFound
		if c.modern {
			code = mcp.CodeInvalidParams
		}
		return nil, &mcp.Error{Code: code, Message: "resource not found: " + truncate(p.URI, 256), Data: mustJSON(map[string]string{"uri": p.URI})}
	}
	res, err := h(ctx, c, p.URI, vars)
	if err != nil {
		return nil, err
	}
	if res.Contents == nil {
		res.Contents = []mcp.ResourceContents{}
	}
	return res, nil
}

func (s *Server) getPrompt(ctx context.Context, c *Call, params json.RawMessage) (any, error) {
	var p mcp.GetPromptParams
	if err := decodeParams(params, &p); err != nil {
		return nil, err
	}
	s.mu.RLock()
	var e *promptEntry
	for _, pe := range s.prompts {
		if pe.prompt.Name == p.Name {
			e = pe
			break
		}
	}
	s.mu.RUnlock()
	if e == nil {
		return nil, mcp.Errorf(mcp.CodeInvalidParams, "unknown prompt: %q", p.Name)
	}
	var missing []string
	for _, a := range e.prompt.Arguments {
		if _, ok := p.Arguments[a.Name]; a.Required && !ok {
			missing = append(missing, strconv.Quote(a.Name))
		}
	}
	if len(missing) > 0 {
		return nil, mcp.Errorf(mcp.CodeInvalidParams, "invalid params: prompt %q needs argument %s", p.Name, strings.Join(missing, ", "))
	}
	if p.Arguments == nil {
		p.Arguments = map[string]string{}
	}
	res, err := e.handler(ctx, c, p.Arguments)
	if err != nil {
		return nil, err
	}
	if res.Messages == nil {
		res.Messages = []mcp.PromptMessage{}
	}
	return res, nil
}

func (s *Server) complete(ctx context.Context, c *Call, params json.RawMessage) (any, error) {
	var p mcp.CompleteParams
	if err := decodeParams(params, &p); err != nil {
		return nil, err
	}
	var key string
	switch p.Ref.Type {
	case mcp.RefPrompt:
		if !s.hasPrompt(p.Ref.Name) {
			return nil, mcp.Errorf(mcp.CodeInvalidParams, "unknown prompt: %q", p.Ref.Name)
		}
		key = p.Ref.Type + "\x00" + p.Ref.Name
	case mcp.RefResource:
		key = p.Ref.Type + "\x00" + p.Ref.URI
	default:
		return nil, mcp.Errorf(mcp.CodeInvalidParams, `invalid params: ref.type must be "ref/prompt" or "ref/resource", not %q`, p.Ref.Type)
	}
	s.mu.RLock()
	h := s.completions[key+"\x00"+p.Argument.Name]
	s.mu.RUnlock()
	empty := mcp.CompleteResult{Completion: mcp.Completion{Values: []string{}}}
	if h == nil {
		return empty, nil
	}
	var cctx map[string]string
	if p.Context != nil {
		cctx = p.Context.Arguments
	}
	comp, err := h(ctx, c, p.Argument.Value, cctx)
	if err != nil {
		return nil, err
	}
	// The protocol caps a completion at 100 values.
	if len(comp.Values) > 100 {
		total := len(comp.Values)
		comp.Values, comp.Total, comp.HasMore = comp.Values[:100], &total, true
	}
	if comp.Values == nil {
		comp.Values = []string{}
	}
	return mcp.CompleteResult{Completion: comp}, nil
}

func (s *Server) hasPrompt(name string) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return slices.ContainsFunc(s.prompts, func(e *promptEntry) bool { return e.prompt.Name == name })
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("mustJSON: %v", err))
	}
	return b
}

// initializeResult answers initialize for the negotiated version.
func (s *Server) initializeResult(version string) mcp.InitializeResult {
	return mcp.InitializeResult{
		ProtocolVersion: version,
		Capabilities:    s.capabilities(),
		ServerInfo:      s.opts.Info,
		Instructions:    s.opts.Instructions,
	}
}
