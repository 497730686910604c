package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"mcplambda/internal/jsonlex"
	"mcplambda/mcp"
)

// maxPages stops a server whose cursors never end.
const maxPages = 1000

// listAll follows nextCursor until the last page.
func listAll[T any](ctx context.Context, c *Client, method string, items func(raw json.RawMessage) ([]T, string, error)) ([]T, error) {
	var all []T
	cursor := ""
	seen := map[string]bool{}
	for range maxPages {
		var params any
		if cursor != "" {
			params = &mcp.PaginatedParams{Cursor: cursor}
		}
		var raw json.RawMessage
		if err := c.Call(ctx, method, params, &raw); err != nil {
			return all, err
		}
		page, next, err := items(raw)
		if err != nil {
			return all, fmt.Errorf("%s: decoding the result: %w", method, err)
		}
		all = append(all, page...)
		if next == "" {
			return all, nil
		}
		if seen[next] {
			return all, fmt.Errorf("%s: the server repeated cursor %q", method, truncate(next, 64))
		}
		seen[next] = true
		cursor = next
	}
	return all, fmt.Errorf("%s: more than %d pages", method, maxPages)
}

// ListTools lists every tool, following pagination. In the stateless
// era, a tool whose x-mcp-header annotations are invalid is left out (and
// a warning naming it and the reason goes to Options.Logger), and the
// headers of the others are remembered for CallTool.
func (c *Client) ListTools(ctx context.Context) ([]mcp.Tool, error) {
	tools, err := listAll(ctx, c, mcp.MethodToolsList, func(raw json.RawMessage) ([]mcp.Tool, string, error) {
		var r mcp.ListToolsResult
		err := json.Unmarshal(raw, &r)
		return r.Tools, r.NextCursor, err
	})
	if err == nil && c.session().modern {
		tools = c.filterTools(tools)
	}
	return tools, err
}

// ListResources lists every resource, following pagination.
func (c *Client) ListResources(ctx context.Context) ([]mcp.Resource, error) {
	return listAll(ctx, c, mcp.MethodResourcesList, func(raw json.RawMessage) ([]mcp.Resource, string, error) {
		var r mcp.ListResourcesResult
		err := json.Unmarshal(raw, &r)
		return r.Resources, r.NextCursor, err
	})
}

// ListResourceTemplates lists every resource template, following pagination.
func (c *Client) ListResourceTemplates(ctx context.Context) ([]mcp.ResourceTemplate, error) {
	return listAll(ctx, c, mcp.MethodResourcesTemplatesList, func(raw json.RawMessage) ([]mcp.ResourceTemplate, string, error) {
		var r mcp.ListResourceTemplatesResult
		err := json.Unmarshal(raw, &r)
		return r.ResourceTemplates, r.NextCursor, err
	})
}

// ListPrompts lists every prompt, following pagination.
func (c *Client) ListPrompts(ctx context.Context) ([]mcp.Prompt, error) {
	return listAll(ctx, c, mcp.MethodPromptsList, func(raw json.RawMessage) ([]mcp.Prompt, string, error) {
		var r mcp.ListPromptsResult
		err := json.Unmarshal(raw, &r)
		return r.Prompts, r.NextCursor, err
	})
}

// CallTool calls a tool. args is anything that encodes as a JSON object
// (a map, a struct, json.RawMessage) or nil. A tool's own failure is a
// result with IsError set, not an error.
func (c *Client) CallTool(ctx context.Context, name string, args any, opts ...CallOption) (*mcp.CallToolResult, error) {
	p := &mcp.CallToolParams{Name: name}
	if args != nil {
		raw, err := json.Marshal(args)
		if err != nil {
			return nil, fmt.Errorf("tools/call %s: encoding the arguments: %w", name, err)
		}
		if string(raw) != "null" {
			p.Arguments = raw
		}
	}
	// _meta is decoded raw first: in the stateless era every result
	// carries the server's identity there, which ServerInfo already has and
	// which would cost a map per call.
	var res struct {
		mcp.CallToolResult
		Meta json.RawMessage `json:"_meta"`
	}
	if err := c.Call(ctx, mcp.MethodToolsCall, p, &res, opts...); err != nil {
		// An unknown tool or arguments the server no longer accepts hint
		// that the cached tool list is out of date.
		var re *RPCError
		if errors.As(err, &re) && (re.Code == mcp.CodeMethodNotFound || re.Code == mcp.CodeInvalidParams) {
			c.cache.invalidate(c.opts.URL, []string{mcp.MethodToolsList}, "")
		}
		return nil, err
	}
	meta, err := resultMeta(res.Meta)
	if err != nil {
		return nil, fmt.Errorf("tools/call %s: decoding the result's _meta: %w", name, err)
	}
	res.CallToolResult.Meta = meta
	return &res.CallToolResult, nil
}

// resultMeta decodes a result's _meta, leaving out the stateless era's
// io.modelcontextprotocol/serverInfo (ServerInfo has it); nil when
// nothing else is there.
func resultMeta(raw json.RawMessage) (mcp.Meta, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	others := false
	if err := jsonlex.ScanObject(raw, func(key, _ []byte) error {
		others = others || string(key) != mcp.MetaServerInfo
		return nil
	}); err != nil {
		return nil, err
	}
	if !others {
		return nil, nil
	}
	var m mcp.Meta
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	delete(m, mcp.MetaServerInfo)
	return m, nil
}

// ReadResource reads the resource at uri.
func (c *Client) ReadResource(ctx context.Context, uri string) (*mcp.ReadResourceResult, error) {
	var res mcp.ReadResourceResult
	if err := c.Call(ctx, mcp.MethodResourcesRead, &mcp.ReadResourceParams{URI: uri}, &res); err != nil {
		return nil, err
	}
	return &res, nil
}

// GetPrompt renders a prompt with its arguments.
func (c *Client) GetPrompt(ctx context.Context, name string, args map[string]string) (*mcp.GetPromptResult, error) {
	var res mcp.GetPromptResult
	if err := c.Call(ctx, mcp.MethodPromptsGet, &mcp.GetPromptParams{Name: name, Arguments: args}, &res); err != nil {
		return nil, err
	}
	return &res, nil
}

// SetLogLevel sets the lowest level of notifications/message the server
// sends this session. The level is set again on a session that replaces
// this one. In the stateless era nothing is sent: the level goes in the
// _meta of every later request (io.modelcontextprotocol/logLevel).
func (c *Client) SetLogLevel(ctx context.Context, level mcp.LoggingLevel) error {
	if c.session().modern {
		c.mu.Lock()
		c.logLevel = level
		c.mu.Unlock()
		return nil
	}
	if err := c.Call(ctx, mcp.MethodLoggingSetLevel, &mcp.SetLevelParams{Level: level}, nil); err != nil {
		return err
	}
	c.mu.Lock()
	c.logLevel = level
	c.mu.Unlock()
	return nil
}

// Ping checks that the server answers. The stateless era has no ping:
// there it sends server/discover.
func (c *Client) Ping(ctx context.Context) error {
	if c.session().modern {
		return c.Call(ctx, mcp.MethodServerDiscover, nil, nil)
	}
	return c.Call(ctx, mcp.MethodPing, nil, nil)
}

// Subscribe asks for notifications/resources/updated about uri. The
// subscription is made again on a session that replaces this one. In the
// stateless era the subscriptions/listen stream is (re)opened with uri
// added, and Subscribe returns once the server acknowledged it (an error
// if the server does not honour it).
func (c *Client) Subscribe(ctx context.Context, uri string) error {
	if c.session().modern {
		return c.changeSubscription(ctx, uri, true)
	}
	if err := c.Call(ctx, mcp.MethodResourcesSubscribe, &mcp.SubscribeParams{URI: uri}, nil); err != nil {
		return err
	}
	c.mu.Lock()
	c.subs[uri] = true
	c.mu.Unlock()
	return nil
}

// Unsubscribe stops notifications about uri (in the stateless era, by
// reopening the subscriptions/listen stream without it).
func (c *Client) Unsubscribe(ctx context.Context, uri string) error {
	if c.session().modern {
		return c.changeSubscription(ctx, uri, false)
	}
	if err := c.Call(ctx, mcp.MethodResourcesUnsubscribe, &mcp.SubscribeParams{URI: uri}, nil); err != nil {
		return err
	}
	c.mu.Lock()
	delete(c.subs, uri)
	c.mu.Unlock()
	return nil
}

// Complete asks for completions of a prompt or resource-template argument.
func (c *Client) Complete(ctx context.Context, p *mcp.CompleteParams) (*mcp.Completion, error) {
	var res mcp.CompleteResult
	if err := c.Call(ctx, mcp.MethodCompletionComplete, p, &res); err != nil {
		return nil, err
	}
	return &res.Completion, nil
}

// RootsChanged tells the server the roots changed (notifications/roots/list_changed).
func (c *Client) RootsChanged(ctx context.Context) error {
	return c.Notify(ctx, mcp.NotificationRootsListChanged, nil)
}
