package server

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"

	"mcplambda/internal/jsonschema"
	"mcplambda/internal/mcpheader"
	"mcplambda/mcp"
)

// ToolHandler runs a tool. args is the raw "arguments" object, already
// validated against the tool's input schema. Returning an error produces a
// tool result with isError set (the model sees the message); return an
// *mcp.Error to fail the request with a JSON-RPC error instead.
type ToolHandler func(ctx context.Context, call *Call, args json.RawMessage) (*mcp.CallToolResult, error)

// ResourceHandler reads a resource; for a template, uri is the concrete URI
// and vars holds the template's variables.
type ResourceHandler func(ctx context.Context, call *Call, uri string, vars map[string]string) (*mcp.ReadResourceResult, error)

// PromptHandler renders a prompt from its arguments (required arguments are
// checked before it is called).
type PromptHandler func(ctx context.Context, call *Call, args map[string]string) (*mcp.GetPromptResult, error)

// CompletionHandler offers completions for one argument of a prompt or a
// resource template variable.
type CompletionHandler func(ctx context.Context, call *Call, value string, context map[string]string) (mcp.Completion, error)

type toolEntry struct {
	tool    mcp.Tool
	schema  *jsonschema.Schema
	handler ToolHandler
	headers []mcpheader.Param // arguments mirrored in Mcp-Param-* headers (x-mcp-header)
}

type resourceEntry struct {
	res     mcp.Resource
	handler ResourceHandler
}

type templateEntry struct {
	tmpl    mcp.ResourceTemplate
	match   *regexp.Regexp
	vars    []string
	handler ResourceHandler
}

type promptEntry struct {
	prompt  mcp.Prompt
	handler PromptHandler
}

// Options describe the server to clients.
type Options struct {
	Info         mcp.Implementation
	Instructions string
	// PageSize bounds list results; further items come with a nextCursor.
	PageSize int
}

// Server is the registry of what the server offers and the dispatcher of
// MCP methods. It is safe for concurrent use; registration may happen while
// serving, and connected clients are told through list_changed
// notifications.
type Server struct {
	opts Options

	mu          sync.RWMutex
	tools       []*toolEntry
	toolIndex   map[string]*toolEntry
	resources   []*resourceEntry
	templates   []*templateEntry
	prompts     []*promptEntry
	completions map[string]CompletionHandler // key: ref type + "\x00" + name/uri + "\x00" + argument

	audiences sync.Map // audience -> struct{}: the transports' sessions, told about broadcasts (broadcast.go)
}

// New returns an empty server.
func New(opts Options) *Server {
	if opts.PageSize <= 0 {
		opts.PageSize = 100
	}
	if opts.Info.Name == "" {
		opts.Info.Name = "mcp-server"
	}
	if opts.Info.Version == "" {
		opts.Info.Version = "dev"
	}
	return &Server{
		opts:        opts,
		toolIndex:   map[string]*toolEntry{},
		completions: map[string]CompletionHandler{},
	}
}

// Info returns the server's implementation info.
func (s *Server) Info() mcp.Implementation { return s.opts.Info }

// validToolName checks the spec's SHOULD rule for tool names: 1-128 of
// A-Z a-z 0-9 _ - . (a byte loop: the equivalent regexp costs a millisecond
// of start-up to compile).
func validToolName(name string) bool {
	if len(name) == 0 || len(name) > 128 {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// AddTool registers (or replaces) a tool. A nil InputSchema means "no
// arguments" ({"type":"object"}). It fails for an invalid name, a schema
// the validator cannot honour, or invalid x-mcp-header annotations, so
// mistakes show at start, not per call.
func (s *Server) AddTool(tool mcp.Tool, h ToolHandler) error {
	if !validToolName(tool.Name) {
		return fmt.Errorf("tool name %q: use 1 to 128 letters, digits, underscores, hyphens and dots", tool.Name)
	}
	if len(tool.InputSchema) == 0 {
		tool.InputSchema = json.RawMessage(`{"type":"object"}`)
	}
	schema, err := jsonschema.Compile(tool.InputSchema)
	if err != nil {
		return fmt.Errorf("tool %q input schema: %w", tool.Name, err)
	}
	if len(tool.OutputSchema) > 0 {
		if _, err := jsonschema.Compile(tool.OutputSchema); err != nil {
			return fmt.Errorf("tool %q output schema: %w", tool.Name, err)
		}
	}
	headers, err := mcpheader.ParseToolHeaders(tool.InputSchema)
	if err != nil {
		// Clients drop a tool whose x-mcp-header annotations are invalid:
		// never offer one.
		return fmt.Errorf("tool %q input schema: %w", tool.Name, err)
	}
	e := &toolEntry{tool: tool, schema: schema, handler: h, headers: headers}
	s.mu.Lock()
	if old, ok := s.toolIndex[tool.Name]; ok {
		for i, t := range s.tools {
			if t == old {
				s.tools[i] = e
			}
		}
	} else {
		s.tools = append(s.tools, e)
	}
	s.toolIndex[tool.Name] = e
	s.mu.Unlock()
	s.listChanged(mcp.NotificationToolsListChanged)
	return nil
}

// upsert replaces the entry that same matches, keeping its place in the
// listing, or appends e.
func upsert[E any](list []E, e E, same func(E) bool) []E {
	if i := slices.IndexFunc(list, same); i >= 0 {
		list[i] = e
		return list
	}
	return append(list, e)
}

// AddResource registers a resource with a fixed URI.
func (s *Server) AddResource(res mcp.Resource, h ResourceHandler) error {
	if res.URI == "" || res.Name == "" {
		return fmt.Errorf("resource needs a uri and a name")
	}
	s.mu.Lock()
	s.resources = upsert(s.resources, &resourceEntry{res, h}, func(e *resourceEntry) bool { return e.res.URI == res.URI })
	s.mu.Unlock()
	s.listChanged(mcp.NotificationResourcesListChanged)
	return nil
}

// AddResourceTemplate registers a URI template (RFC 6570 simple {var}
// expansions; a variable matches one path segment, or any text with
// {+var}).
func (s *Server) AddResourceTemplate(t mcp.ResourceTemplate, h ResourceHandler) error {
	re, vars, err := compileTemplate(t.URITemplate)
	if err != nil {
		return err
	}
	if t.Name == "" {
		return fmt.Errorf("resource template %q needs a name", t.URITemplate)
	}
	s.mu.Lock()
	s.templates = append(s.templates, &templateEntry{tmpl: t, match: re, vars: vars, handler: h})
	s.mu.Unlock()
	s.listChanged(mcp.NotificationResourcesListChanged)
	return nil
}

func compileTemplate(t string) (*regexp.Regexp, []string, error) {
	var b strings.Builder
	var vars []string
	b.WriteString("^")
	rest := t
	for rest != "" {
		i := strings.IndexByte(rest, '{')
		if i < 0 {
			b.WriteString(regexp.QuoteMeta(rest))
			break
		}
		b.WriteString(regexp.QuoteMeta(rest[:i]))
		j := strings.IndexByte(rest[i:], '}')
		if j < 0 {
			return nil, nil, fmt.Errorf("uri template %q: unclosed {", t)
		}
		name := rest[i+1 : i+j]
		pattern := `([^/?#]+)`
		if strings.HasPrefix(name, "+") {
			name, pattern = name[1:], `(.+)`
		}
		if name == "" || strings.ContainsAny(name, "{,*:") {
			return nil, nil, fmt.Errorf("uri template %q: unsupported expression {%s}", t, name)
		}
		vars = append(vars, name)
		b.WriteString(pattern)
		rest = rest[i+j+1:]
	}
	b.WriteString("$")
	re, err := regexp.Compile(b.String())
	return re, vars, err
}

// AddPrompt registers a prompt.
func (s *Server) AddPrompt(p mcp.Prompt, h PromptHandler) error {
	if p.Name == "" {
		return fmt.Errorf("prompt needs a name")
	}
	s.mu.Lock()
	s.prompts = upsert(s.prompts, &promptEntry{p, h}, func(e *promptEntry) bool { return e.prompt.Name == p.Name })
	s.mu.Unlock()
	s.listChanged(mcp.NotificationPromptsListChanged)
	return nil
}

// AddCompletion registers completions for a prompt argument (refType
// mcp.RefPrompt, name = prompt name) or a template variable (mcp.RefResource,
// name = the template's URI template).
func (s *Server) AddCompletion(refType, name, argument string, h CompletionHandler) {
	s.mu.Lock()
	s.completions[refType+"\x00"+name+"\x00"+argument] = h
	s.mu.Unlock()
}

// discover answers server/discover: every revision we speak, what the
// server offers, and its instructions.
func (s *Server) discover() mcp.DiscoverResult {
	return mcp.DiscoverResult{SupportedVersions: mcp.SupportedVersions, Capabilities: s.capabilities(), Instructions: s.opts.Instructions}
}

func (s *Server) capabilities() mcp.ServerCapabilities {
	return mcp.ServerCapabilities{
		Logging:     &struct{}{},
		Completions: &struct{}{},
		Prompts:     &mcp.ListChangedCapability{ListChanged: true},
		Resources:   &mcp.ResourcesCapability{Subscribe: true, ListChanged: true},
		Tools:       &mcp.ListChangedCapability{ListChanged: true},
	}
}
