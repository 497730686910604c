// Command client is the program the official MCP conformance suite runs in
// its client mode (`conformance client --command ...`): a thin main on the
// client package and, for the auth/* scenarios, client/oauthclient.
//
// The suite passes the server URL as the last argument, the scenario name
// in MCP_CONFORMANCE_SCENARIO, the protocol revision in
// MCP_CONFORMANCE_PROTOCOL_VERSION (the client is forced to it: a
// stateless revision such as 2026-07-28 means server/discover and no
// session) and, for some scenarios, a JSON object of extra data
// (pre-registered client credentials, tool calls to make) in
// MCP_CONFORMANCE_CONTEXT. Where a scenario needs a browser, the
// authorization URL's redirect is followed by an HTTP client (see
// headlessBrowser), so the login runs through the real loopback callback.
//
// It exits 0 when the scenario's steps succeeded; the suite judges the
// traffic it saw, not this exit status.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"mcplambda/client"
	"mcplambda/client/oauthclient"
	"mcplambda/mcp"
)

// cimdURL is the Client ID Metadata Document URL the auth/basic-cimd
// scenario expects as client_id. The client offers it to every
// authorization server; only those advertising
// client_id_metadata_document_supported use it, the others get dynamic
// registration, which is how a real deployment would configure the client.
const cimdURL = "https://conformance-test.local/client-metadata.json"

// runTimeout bounds one scenario; the suite kills the process at its own
// timeout anyway, but a bounded context makes failures explicit.
const runTimeout = 2 * time.Minute

func main() {
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: client [flags...] SERVER_URL (scenario in MCP_CONFORMANCE_SCENARIO)")
		os.Exit(2)
	}
	serverURL := os.Args[len(os.Args)-1]
	scenario := os.Getenv("MCP_CONFORMANCE_SCENARIO")

	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	err := run(ctx, log, scenario, serverURL, os.Getenv("MCP_CONFORMANCE_CONTEXT"))
	cancel()
	if err != nil {
		log.Error("scenario failed", "scenario", scenario, "err", err)
		os.Exit(1)
	}
	log.Info("scenario done", "scenario", scenario)
}

// scenarioContext is the part of MCP_CONFORMANCE_CONTEXT this client uses.
type scenarioContext struct {
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
	// ToolCalls are the calls some scenarios (http-custom-headers) want
	// made, arguments as given (a null value stays null).
	ToolCalls []struct {
		Name      string          `json:"name"`
		Arguments json.RawMessage `json:"arguments"`
	} `json:"toolCalls"`
}

func run(ctx context.Context, log *slog.Logger, scenario, serverURL, rawContext string) error {
	var sc scenarioContext
	if rawContext != "" {
		if err := json.Unmarshal([]byte(rawContext), &sc); err != nil {
			return fmt.Errorf("MCP_CONFORMANCE_CONTEXT is not a JSON object: %w", err)
		}
	}
	opts := client.Options{
		URL:            serverURL,
		ClientInfo:     mcp.Implementation{Name: "mcplambda-conformance-client", Version: "1.0.0"},
		Logger:         log,
		RequestTimeout: time.Minute,
	}
	// The suite names the revision it runs the scenario at; the client is
	// forced to it (a stateless revision means server/discover and no
	// session, a session-era one initialize). An unknown revision is a
	// clear failure, not a silent run at another revision.
	if v := os.Getenv("MCP_CONFORMANCE_PROTOCOL_VERSION"); v != "" {
		if !mcp.IsSessionVersion(v) && !mcp.IsModernVersion(v) {
			return fmt.Errorf("MCP_CONFORMANCE_PROTOCOL_VERSION %q: this client speaks the revisions %v and %v only", v, mcp.SessionVersions, mcp.ModernVersions)
		}
		opts.ProtocolVersion = v
	}

	switch {
	case scenario == "initialize":
		return session(ctx, opts, func(ctx context.Context, c *client.Client) error {
			_, err := c.ListTools(ctx)
			return err
		})

	case scenario == "tools_call":
		return session(ctx, opts, func(ctx context.Context, c *client.Client) error {
			if err := requireTool(ctx, c, "add_numbers"); err != nil {
				return err
			}
			return callTool(ctx, log, c, "add_numbers", map[string]any{"a": 5, "b": 3})
		})

	case scenario == "elicitation-sep1034-client-defaults":
		opts.Elicit = acceptDefaults
		// This server sends its elicitation/create outside the tools/call
		// stream, on the standalone GET stream, and drops it when that
		// stream is not open yet: the call waits for it.
		opts.OpenStandaloneStream = true
		streamOpen := make(chan error, 1)
		opts.OnStandaloneStream = func(open bool, err error) {
			if !open && err == nil {
				err = errors.New("the server offers no standalone GET stream")
			}
			select {
			case streamOpen <- err:
			default:
			}
		}
		return session(ctx, opts, func(ctx context.Context, c *client.Client) error {
			select {
			case err := <-streamOpen:
				if err != nil {
					return fmt.Errorf("standalone stream: %w", err)
				}
			case <-ctx.Done():
				return fmt.Errorf("waiting for the standalone stream: %w", ctx.Err())
			}
			return callTool(ctx, log, c, "test_client_elicitation_defaults", nil)
		})

	case scenario == "sse-retry":
		// The tool's answer arrives only after the client resumes the
		// closed SSE stream with GET and Last-Event-ID.
		return session(ctx, opts, func(ctx context.Context, c *client.Client) error {
			return callTool(ctx, log, c, "test_reconnection", nil)
		})

	case scenario == "json-schema-2020-12-preservation":
		// The tool's inputSchema goes back to the server as the client
		// received it, so the server sees which keywords survived.
		return session(ctx, opts, func(ctx context.Context, c *client.Client) error {
			tools, err := c.ListTools(ctx)
			if err != nil {
				return err
			}
			for _, t := range tools {
				if t.Name == "json_schema_2020_12_tool" {
					return callTool(ctx, log, c, "json_schema_echo", map[string]any{"schema": t.InputSchema})
				}
			}
			return errors.New("the server lists no json_schema_2020_12_tool")
		})

	case len(sc.ToolCalls) > 0:
		// The scenario names the calls to make (http-custom-headers: the
		// arguments whose x-mcp-header parameters must be mirrored).
		return session(ctx, opts, func(ctx context.Context, c *client.Client) error {
			if _, err := c.ListTools(ctx); err != nil {
				return err
			}
			for _, tc := range sc.ToolCalls {
				args := tc.Arguments
				if len(args) == 0 {
					args = json.RawMessage(`{}`)
				}
				if err := callTool(ctx, log, c, tc.Name, args); err != nil {
					return err
				}
			}
			return nil
		})

	case scenario == "http-standard-headers":
		// Every method whose Mcp-Method and Mcp-Name headers the scenario
		// checks: the listings, and a call, read or get of each item.
		return session(ctx, opts, func(ctx context.Context, c *client.Client) error {
			return exerciseAll(ctx, log, c)
		})

	case scenario == "http-invalid-tool-headers", scenario == "sep-2322-client-request-state":
		// http-invalid-tool-headers: the tools with invalid x-mcp-header
		// annotations are left out of the listing, the valid one is
		// called. sep-2322-client-request-state: each tool answers
		// input_required (an elicitation) before its result; the client
		// answers and sends the request again with requestState echoed.
		opts.Elicit = acceptDefaults
		return session(ctx, opts, func(ctx context.Context, c *client.Client) error {
			tools, err := c.ListTools(ctx)
			if err != nil {
				return err
			}
			for _, t := range tools {
				if err := callTool(ctx, log, c, t.Name, sampleArguments(t.InputSchema)); err != nil {
					return err
				}
			}
			return nil
		})

	case strings.HasPrefix(scenario, "auth/"):
		dir, err := os.MkdirTemp("", "mcp-conformance-tokens-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		flow, err := oauthclient.New(oauthclient.Config{
			ServerURL:         serverURL,
			ClientID:          sc.ClientID,
			ClientSecret:      sc.ClientSecret,
			ClientMetadataURL: cimdURL,
			ClientName:        "mcplambda conformance client",
			// Port 0: the suite runs scenarios in parallel, each login
			// gets its own free port.
			RedirectURI:  "http://127.0.0.1:0/callback",
			Interactive:  true,
			OpenBrowser:  headlessBrowser(log),
			Out:          io.Discard, // the message carries the authorization URL
			StoreDir:     dir,
			LoginTimeout: time.Minute,
		})
		if err != nil {
			return err
		}
		opts.Auth = flow
		return session(ctx, opts, func(ctx context.Context, c *client.Client) error {
			tools, err := c.ListTools(ctx)
			if err != nil {
				return err
			}
			// A tools/call exercises a second operation, which the
			// step-up scenario guards with a wider scope.
			for _, t := range tools {
				return callTool(ctx, log, c, t.Name, map[string]any{})
			}
			return nil
		})

	default:
		// Scenarios this client has no specific steps for: the handshake
		// and a listing, so the suite still sees a well-formed session.
		return session(ctx, opts, func(ctx context.Context, c *client.Client) error {
			_, err := c.ListTools(ctx)
			return err
		})
	}
}

// session connects, runs steps and closes the session.
func session(ctx context.Context, opts client.Options, steps func(context.Context, *client.Client) error) error {
	c, err := client.Connect(ctx, opts)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	stepsErr := steps(ctx, c)
	closeCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Close(closeCtx); err != nil && stepsErr == nil {
		// Several scenario servers do not implement DELETE; that is not
		// what they test.
		opts.Logger.Warn("closing the session", "err", err)
	}
	return stepsErr
}

func requireTool(ctx context.Context, c *client.Client, name string) error {
	tools, err := c.ListTools(ctx)
	if err != nil {
		return err
	}
	for _, t := range tools {
		if t.Name == name {
			return nil
		}
	}
	return fmt.Errorf("the server lists no tool %q", name)
}

func callTool(ctx context.Context, log *slog.Logger, c *client.Client, name string, args any) error {
	res, err := c.CallTool(ctx, name, args)
	if err != nil {
		return fmt.Errorf("tools/call %s: %w", name, err)
	}
	if res.IsError {
		return fmt.Errorf("tools/call %s: the tool reported an error", name)
	}
	for _, ct := range res.Content {
		log.Info("tool result", "tool", name, "type", ct.Type, "text", ct.Text)
	}
	return nil
}

// exerciseAll lists the tools, resources and prompts the server declares
// and calls, reads or gets each of them.
func exerciseAll(ctx context.Context, log *slog.Logger, c *client.Client) error {
	caps := c.ServerInfo().Capabilities
	tools, err := c.ListTools(ctx)
	if err != nil {
		return err
	}
	for _, t := range tools {
		if err := callTool(ctx, log, c, t.Name, sampleArguments(t.InputSchema)); err != nil {
			return err
		}
	}
	if caps.Resources != nil {
		res, err := c.ListResources(ctx)
		if err != nil {
			return err
		}
		for _, r := range res {
			if _, err := c.ReadResource(ctx, r.URI); err != nil {
				return fmt.Errorf("resources/read %s: %w", r.URI, err)
			}
		}
	}
	if caps.Prompts != nil {
		prompts, err := c.ListPrompts(ctx)
		if err != nil {
			return err
		}
		for _, p := range prompts {
			args := map[string]string{}
			for _, a := range p.Arguments {
				if a.Required {
					args[a.Name] = "sample"
				}
			}
			if _, err := c.GetPrompt(ctx, p.Name, args); err != nil {
				return fmt.Errorf("prompts/get %s: %w", p.Name, err)
			}
		}
	}
	return nil
}

// sampleArguments builds arguments satisfying the required properties of
// a tool's inputSchema with a plausible value of each declared type.
func sampleArguments(inputSchema json.RawMessage) map[string]any {
	var schema struct {
		Properties map[string]struct {
			Type any `json:"type"`
		} `json:"properties"`
		Required []string `json:"required"`
	}
	args := map[string]any{}
	if json.Unmarshal(inputSchema, &schema) != nil {
		return args
	}
	for _, name := range schema.Required {
		typ, _ := schema.Properties[name].Type.(string)
		switch typ {
		case "integer", "number":
			args[name] = 1
		case "boolean":
			args[name] = true
		case "object":
			args[name] = map[string]any{}
		case "array":
			args[name] = []any{}
		case "null":
			args[name] = nil
		default:
			args[name] = "sample"
		}
	}
	return args
}

// acceptDefaults answers a form elicitation as a user who accepts every
// proposed value: each property with a default gets it (SEP-1034), the
// others are left out, which the schema allows only for optional ones.
func acceptDefaults(_ context.Context, p *mcp.ElicitParams) (*mcp.ElicitResult, error) {
	if p.Mode != "" && p.Mode != "form" {
		return &mcp.ElicitResult{Action: "decline"}, nil
	}
	var schema struct {
		Properties map[string]struct {
			Default json.RawMessage `json:"default"`
		} `json:"properties"`
		Required []string `json:"required"`
	}
	if err := json.Unmarshal(p.RequestedSchema, &schema); err != nil {
		return nil, fmt.Errorf("elicitation schema: %w", err)
	}
	content := map[string]any{}
	for name, prop := range schema.Properties {
		if len(prop.Default) == 0 {
			continue
		}
		var v any
		if err := json.Unmarshal(prop.Default, &v); err != nil {
			return nil, fmt.Errorf("default of %q: %w", name, err)
		}
		content[name] = v
	}
	for _, name := range schema.Required {
		if _, ok := content[name]; !ok {
			// Nothing to accept without a person to fill it in.
			return &mcp.ElicitResult{Action: "decline"}, nil
		}
	}
	return &mcp.ElicitResult{Action: "accept", Content: content}, nil
}

// headlessBrowser stands in for the user's browser: it requests the
// authorization URL, takes the authorization server's redirect (the
// server approves at once in these scenarios) and delivers it to the
// oauthclient's loopback callback, as a browser would. It only follows a
// redirect to a loopback http URL, so it never carries the code elsewhere.
func headlessBrowser(log *slog.Logger) func(ctx context.Context, authURL string) error {
	hc := &http.Client{
		Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
	return func(ctx context.Context, authURL string) error {
		// The login waits for the callback while this runs, so it must not
		// block the caller.
		go func() {
			if err := visit(ctx, hc, authURL); err != nil {
				log.Error("headless browser", "err", err)
			}
		}()
		return nil
	}
}

func visit(ctx context.Context, hc *http.Client, authURL string) error {
	loc, err := redirectOf(ctx, hc, authURL)
	if err != nil {
		return fmt.Errorf("authorization request: %w", err)
	}
	u, err := url.Parse(loc)
	if err != nil {
		return fmt.Errorf("authorization redirect %q: %w", redact(loc), err)
	}
	if u.Scheme != "http" || !loopback(u.Hostname()) {
		return fmt.Errorf("authorization redirect to %s is not the loopback callback", redact(loc))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("callback: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("callback answered %s", resp.Status)
	}
	return nil
}

// redirectOf requests u and returns the Location of its redirect.
func redirectOf(ctx context.Context, hc *http.Client, u string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 300 || resp.StatusCode > 399 {
		return "", fmt.Errorf("answered %s, not a redirect", resp.Status)
	}
	loc, err := resp.Location()
	if err != nil {
		return "", errors.New("redirect without a usable Location")
	}
	return loc.String(), nil
}

func loopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// redact drops the query, which carries the authorization code.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparseable URL)"
	}
	u.RawQuery, u.Fragment = "", ""
	return u.String()
}
