package repl

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"strings"

	"mcplambda/client"
	"mcplambda/mcp"
)

// usageError is a command used wrongly: shown as is, and the REPL goes on.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{fmt.Sprintf(format, args...)}
}

// command is one REPL command. run gets the raw line and its words (the
// command name first).
type command struct {
	name    string
	args    string
	help    string
	aliases []string
	run     func(r *REPL, ctx context.Context, line string, w []word) (quit bool, err error)
}

// commands is filled in init: help refers to the table itself.
var commands []command

func init() {
	commands = []command{
		{name: "connect", args: "[url]", help: "connect to the MCP server (default MCP_SERVER_URL); ends the current session first", run: cmdConnect},
		{name: "disconnect", help: "drop the connection, leaving the server session to expire", run: noArgs(cmdDisconnect)},
		{name: "terminate-session", help: "end the server session (HTTP DELETE) and disconnect", run: noArgs(cmdTerminate)},
		{name: "reconnect", help: "end the session (DELETE) and open a new one with the same server", run: noArgs(cmdReconnect)},
		{name: "status", help: "server URL, session, protocol, server info, auth method and where settings came from", run: noArgs(cmdStatus)},
		{name: "list-tools", help: "list the server's tools and their arguments", run: noArgs(cmdListTools)},
		{name: "call-tool", args: "<name> [json-args]", help: `call a tool: call-tool greet {"name":"Ada"}`, run: cmdCallTool},
		{name: "greet", args: "[name]", help: "call greet (default name: MCP User)", run: cmdGreet("greet")},
		{name: "multi-greet", args: "[name]", help: "call multi-greet: notifications stream while it runs", run: cmdGreet("multi-greet")},
		{name: "bedrock-report", args: "[region] [log_group] [days] [account_id] [--chart]", help: "Bedrock usage report (defaults us-east-1, /aws/bedrock/modelinvocations, 1 day); --chart saves two PNG charts (tokens per day, per model)", run: cmdBedrock},
		{name: "list-resources", help: "list the server's resources and resource templates", run: noArgs(cmdListResources)},
		{name: "read-resource", args: "<uri|name>", help: "read a resource (by URI, or by the name list-resources shows)", run: cmdReadResource},
		{name: "subscribe", args: "<uri>", help: "be told when a resource changes (shown as it happens)", run: cmdSubscribe(true)},
		{name: "unsubscribe", args: "<uri>", help: "stop being told about a resource", run: cmdSubscribe(false)},
		{name: "list-prompts", help: "list the server's prompts", run: noArgs(cmdListPrompts)},
		{name: "get-prompt", args: "<name> [json-args]", help: `get a prompt: get-prompt greeting-template {"name":"Ada"}`, run: cmdGetPrompt},
		{name: "set-log-level", args: "<level>", help: "ask the server for log messages at level and above (debug, info, notice, warning, error, ...)", run: cmdSetLogLevel},
		{name: "ping", help: "check the server answers", run: noArgs(cmdPing)},
		{name: "auth", args: "login|logout|status|refresh", help: "OAuth 2.1 login (browser + PKCE), logout (revokes), stored token status, refresh", run: func(r *REPL, ctx context.Context, _ string, w []word) (bool, error) {
			return false, r.cmdAuth(ctx, texts(w[1:]))
		}},
		{name: "set-auth-method", args: "oauth|lambda|auto", help: "how to authorize; applies to the next connection (reconnect applies it now)", run: cmdSetAuthMethod},
		{name: "debug", args: "on|off", help: "show the client's HTTP and JSON-RPC traffic (never tokens) on stderr", run: cmdDebug},
		{name: "help", help: "this list", run: cmdHelp},
		{name: "quit", aliases: []string{"exit"}, help: "end the session and exit", run: func(*REPL, context.Context, string, []word) (bool, error) { return true, nil }},
	}
}

func texts(w []word) []string {
	out := make([]string, len(w))
	for i, x := range w {
		out[i] = x.text
	}
	return out
}

func noArgs(fn func(r *REPL, ctx context.Context) error) func(*REPL, context.Context, string, []word) (bool, error) {
	return func(r *REPL, ctx context.Context, _ string, w []word) (bool, error) {
		if len(w) > 1 {
			return false, usagef("%s takes no arguments", w[0].text)
		}
		return false, fn(r, ctx)
	}
}

func lookup(name string) *command {
	for i := range commands {
		c := &commands[i]
		if c.name == name {
			return c
		}
		for _, a := range c.aliases {
			if a == name {
				return c
			}
		}
	}
	return nil
}

// dispatch parses and runs one command line.
func (r *REPL) dispatch(ctx context.Context, line string) (bool, error) {
	w, err := splitWords(line)
	if err != nil {
		return false, usagef("cannot read the command: %v", err)
	}
	if len(w) == 0 {
		return false, nil
	}
	c := lookup(strings.ToLower(w[0].text))
	if c == nil {
		return false, usagef("unknown command %q (help lists the commands)", w[0].text)
	}
	return c.run(r, ctx, line, w)
}

const helpColumn = 34

func cmdHelp(r *REPL, _ context.Context, _ string, _ []word) (bool, error) {
	var b strings.Builder
	b.WriteString("Commands:\n")
	for _, c := range commands {
		name := c.name
		if len(c.aliases) > 0 {
			name += "|" + strings.Join(c.aliases, "|")
		}
		if c.args != "" {
			name += " " + c.args
		}
		if len(name) > helpColumn {
			fmt.Fprintf(&b, "  %s\n  %-*s %s\n", name, helpColumn, "", c.help)
		} else {
			fmt.Fprintf(&b, "  %-*s %s\n", helpColumn, name, c.help)
		}
	}
	b.WriteString(`
Commands that need a server connect to MCP_SERVER_URL first when not connected.
Ctrl-C cancels the running command; at the prompt, a second Ctrl-C exits.
On a terminal, Up and Down recall earlier commands and Ctrl-R searches them
(docs/client.md lists the keys; MCP_CLIENT_NO_EDIT=1 turns editing off).
Settings: MCP_SERVER_URL, AUTH_METHOD (auto|oauth|lambda), OAUTH_CLIENT_ID, OAUTH_REDIRECT_URI,
ACCESS_TOKEN, MCP_CLIENT_TIMEOUT, MCP_CLIENT_DEBUG, MCP_CLIENT_OUTPUT_DIR,
MCP_PROTOCOL_VERSION (auto|a revision, to force an era); values missing from the
environment are read from ` + DeployOutputsFile + ` when it exists (parsed as KEY=VALUE, not run by a shell).`)
	r.con.Printf("%s", b.String())
	return false, nil
}

func cmdConnect(r *REPL, ctx context.Context, _ string, w []word) (bool, error) {
	if len(w) > 2 {
		return false, usagef("usage: connect [url]")
	}
	u := r.currentURL()
	if len(w) == 2 {
		u = w[1].text
	}
	return false, r.connect(ctx, u, true)
}

func cmdDisconnect(r *REPL, ctx context.Context) error {
	if r.current() == nil {
		r.con.Printf("Not connected.")
		return nil
	}
	stateless := r.current().Era() == client.EraStateless
	_ = r.endSession(ctx, false)
	if stateless {
		r.con.Printf("Disconnected (the stateless era keeps no session on the server).")
		return nil
	}
	r.con.Printf("Disconnected (the server session stays until it expires; terminate-session ends it).")
	return nil
}

func cmdTerminate(r *REPL, ctx context.Context) error {
	c := r.current()
	if c == nil {
		return usagef("not connected: nothing to terminate")
	}
	id := c.SessionID()
	if err := r.endSession(ctx, true); err != nil {
		return fmt.Errorf("terminating the session: %w", err)
	}
	if c.Era() == client.EraStateless {
		r.con.Printf("Disconnected: the stateless era has no server session to end.")
		return nil
	}
	r.con.Printf("Session %s terminated.", sanitize(id))
	return nil
}

func cmdReconnect(r *REPL, ctx context.Context) error {
	return r.connect(ctx, r.currentURL(), true)
}

func cmdStatus(r *REPL, _ context.Context) error {
	r.mu.Lock()
	c, u, method, stream := r.c, r.url, r.authMethod, r.stream
	r.mu.Unlock()
	r.con.Printf("Server URL:   %s", u)
	if c == nil {
		r.con.Printf("Connection:   not connected")
	} else {
		info := c.ServerInfo()
		r.con.Printf("Connection:   connected")
		r.con.Printf("Era:          %s", c.Era())
		r.con.Printf("Protocol:     %s", sanitize(c.ProtocolVersion()))
		if c.Era() == client.EraSession {
			r.con.Printf("Session:      %s", sanitize(c.SessionID()))
		}
		name := info.ServerInfo.Name
		if info.ServerInfo.Title != "" {
			name += " (" + info.ServerInfo.Title + ")"
		}
		r.con.Printf("Server:       %s %s", sanitize(name), sanitize(info.ServerInfo.Version))
		r.con.Printf("Live stream:  %s", stream)
	}
	auth := method
	if method == AuthLambda && r.opts.Config.AccessToken != "" {
		auth += " (ACCESS_TOKEN)"
	}
	r.con.Printf("Auth method:  %s", auth)
	debug := "off"
	if r.level.Level() <= slog.LevelDebug {
		debug = "on"
	}
	r.con.Printf("Debug:        %s", debug)
	want := "auto (negotiated)"
	if v := r.opts.Config.ProtocolVersion; v != "" {
		want = sanitize(v) + " (forced)"
	}
	r.con.Printf("Version:      %s (MCP_PROTOCOL_VERSION)", want)
	var from []string
	for _, k := range configVars {
		if o := r.opts.Config.Origin[k]; o != "" {
			from = append(from, k+" from "+o)
		}
	}
	if len(from) > 0 {
		r.con.Printf("Settings:     %s", strings.Join(from, ", "))
	} else {
		r.con.Printf("Settings:     defaults (no variables set, no %s)", DeployOutputsFile)
	}
	return nil
}

func cmdListTools(r *REPL, ctx context.Context) error {
	c, err := r.session(ctx)
	if err != nil {
		return err
	}
	tools, err := c.ListTools(ctx)
	if err != nil {
		return err
	}
	r.renderTools(tools)
	return nil
}

// jsonObject parses a command's JSON argument, which must be an object.
func jsonObject(what, s string) (json.RawMessage, error) {
	if s == "" {
		return json.RawMessage("{}"), nil
	}
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, usagef("%s must be a JSON object: %v", what, err)
	}
	if dec.More() {
		return nil, usagef("%s must be one JSON object; found more after it", what)
	}
	if _, ok := v.(map[string]any); !ok {
		return nil, usagef("%s must be a JSON object, such as {\"name\":\"Ada\"}", what)
	}
	var b bytes.Buffer
	if err := json.Compact(&b, []byte(s)); err != nil {
		return nil, usagef("%s: %v", what, err)
	}
	return b.Bytes(), nil
}

func cmdCallTool(r *REPL, ctx context.Context, line string, w []word) (bool, error) {
	if len(w) < 2 {
		return false, usagef(`usage: call-tool <name> [json-args], e.g. call-tool greet {"name":"Ada"}`)
	}
	args, err := jsonObject("the tool arguments", rest(line, w, 1))
	if err != nil {
		return false, err
	}
	return false, r.callTool(ctx, w[1].text, args)
}

func (r *REPL) callTool(ctx context.Context, name string, args json.RawMessage) error {
	c, err := r.session(ctx)
	if err != nil {
		return err
	}
	res, err := c.CallTool(ctx, name, args, r.progress())
	r.con.EndProgress()
	if err == nil && ctx.Err() != nil {
		// A result that raced the user's Ctrl-C: the user asked to stop.
		err = ctx.Err()
	}
	if err != nil {
		return err
	}
	return r.renderToolResult(name, res)
}

func cmdGreet(tool string) func(*REPL, context.Context, string, []word) (bool, error) {
	return func(r *REPL, ctx context.Context, line string, w []word) (bool, error) {
		name := "MCP User"
		if len(w) == 2 {
			name = w[1].text
		} else if len(w) > 2 {
			name = strings.Join(texts(w[1:]), " ")
		}
		args, _ := json.Marshal(map[string]string{"name": name})
		return false, r.callTool(ctx, tool, args)
	}
}

// The checks below mirror the tool's input schema, so a typo gets a usage
// message naming the argument instead of a round trip. Hand-written: a
// regexp with {1,512} costs more to compile than the whole REPL's start.

// validRegion accepts AWS region names: letters-letters(-letters)*-digit.
func validRegion(s string) bool {
	parts := strings.Split(s, "-")
	if len(parts) < 3 || len(parts[0]) != 2 {
		return false
	}
	for i, p := range parts {
		last := i == len(parts)-1
		if p == "" || (last && len(p) != 1) {
			return false
		}
		for _, c := range p {
			if (last && (c < '0' || c > '9')) || (!last && (c < 'a' || c > 'z')) {
				return false
			}
		}
	}
	return true
}

func validAccount(s string) bool {
	if len(s) != 12 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func validLogGroup(s string) bool {
	if s == "" || len(s) > 512 {
		return false
	}
	for _, c := range s {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', strings.ContainsRune("_./#-", c):
		default:
			return false
		}
	}
	return true
}

func cmdBedrock(r *REPL, ctx context.Context, _ string, w []word) (bool, error) {
	const usage = "usage: bedrock-report [region] [log_group] [days] [account_id] [--chart]"
	var pos []string
	chart := false
	for _, x := range w[1:] {
		switch {
		case x.text == "--chart":
			chart = true
		case strings.HasPrefix(x.text, "--"):
			return false, usagef("bedrock-report: unknown option %s\n%s", x.text, usage)
		default:
			pos = append(pos, x.text)
		}
	}
	if len(pos) > 4 {
		return false, usagef("bedrock-report: too many arguments\n%s", usage)
	}
	args := map[string]any{"region": "us-east-1", "log_group_name": "/aws/bedrock/modelinvocations", "days": 1}
	if len(pos) > 0 {
		if !validRegion(pos[0]) {
			return false, usagef("bedrock-report: %q is not an AWS region (like us-east-1)\n%s", pos[0], usage)
		}
		args["region"] = pos[0]
	}
	if len(pos) > 1 {
		if !validLogGroup(pos[1]) {
			return false, usagef("bedrock-report: %q is not a log group name\n%s", pos[1], usage)
		}
		args["log_group_name"] = pos[1]
	}
	if len(pos) > 2 {
		d, err := strconv.Atoi(pos[2])
		if err != nil || d < 1 || d > 90 {
			return false, usagef("bedrock-report: days must be a whole number from 1 to 90, not %q\n%s", pos[2], usage)
		}
		args["days"] = d
	}
	if len(pos) > 3 {
		if !validAccount(pos[3]) {
			return false, usagef("bedrock-report: the account id must be 12 digits, not %q\n%s", pos[3], usage)
		}
		args["aws_account_id"] = pos[3]
	}
	if chart {
		args["chart"] = true
	}
	raw, _ := json.Marshal(args)
	return false, r.callTool(ctx, "get_bedrock_usage_report", raw)
}

func cmdListResources(r *REPL, ctx context.Context) error {
	c, err := r.session(ctx)
	if err != nil {
		return err
	}
	res, err := c.ListResources(ctx)
	if err != nil {
		return err
	}
	var templates []mcp.ResourceTemplate
	if c.ServerInfo().Capabilities.Resources != nil {
		// Templates are optional; a server without them is not an error here.
		templates, _ = c.ListResourceTemplates(ctx)
	}
	r.renderResources(res, templates)
	return nil
}

func cmdReadResource(r *REPL, ctx context.Context, _ string, w []word) (bool, error) {
	if len(w) != 2 {
		return false, usagef("usage: read-resource <uri>")
	}
	c, err := r.session(ctx)
	if err != nil {
		return false, err
	}
	uri := w[1].text
	if !strings.Contains(uri, ":") {
		// Not a URI: people type the name list-resources shows.
		if uri, err = resourceByName(ctx, c, uri); err != nil {
			return false, err
		}
	}
	res, err := c.ReadResource(ctx, uri)
	if err != nil {
		return false, err
	}
	if len(res.Contents) == 0 {
		r.con.Printf("(the resource is empty)")
	}
	for _, rc := range res.Contents {
		r.renderResourceContents(rc, "")
	}
	return false, nil
}

// resourceByName finds the URI of the listed resource called name.
func resourceByName(ctx context.Context, c *client.Client, name string) (string, error) {
	list, err := c.ListResources(ctx)
	if err != nil {
		return "", err
	}
	for _, res := range list {
		if res.Name == name {
			return res.URI, nil
		}
	}
	return "", usagef("%q is neither a resource URI nor the name of a listed resource (see list-resources)", name)
}

func cmdSubscribe(on bool) func(*REPL, context.Context, string, []word) (bool, error) {
	return func(r *REPL, ctx context.Context, _ string, w []word) (bool, error) {
		if len(w) != 2 {
			return false, usagef("usage: %s <uri>", w[0].text)
		}
		c, err := r.session(ctx)
		if err != nil {
			return false, err
		}
		if on {
			err = c.Subscribe(ctx, w[1].text)
		} else {
			err = c.Unsubscribe(ctx, w[1].text)
		}
		if err != nil {
			return false, err
		}
		if on {
			r.con.Printf("Subscribed to %s.", w[1].text)
		} else {
			r.con.Printf("Unsubscribed from %s.", w[1].text)
		}
		return false, nil
	}
}

func cmdListPrompts(r *REPL, ctx context.Context) error {
	c, err := r.session(ctx)
	if err != nil {
		return err
	}
	ps, err := c.ListPrompts(ctx)
	if err != nil {
		return err
	}
	r.renderPrompts(ps)
	return nil
}

func cmdGetPrompt(r *REPL, ctx context.Context, line string, w []word) (bool, error) {
	if len(w) < 2 {
		return false, usagef(`usage: get-prompt <name> [json-args], e.g. get-prompt greeting-template {"name":"Ada"}`)
	}
	raw, err := jsonObject("the prompt arguments", rest(line, w, 1))
	if err != nil {
		return false, err
	}
	var obj map[string]any
	_ = json.Unmarshal(raw, &obj)
	args := map[string]string{}
	for k, v := range obj {
		s, ok := v.(string)
		if !ok {
			return false, usagef("get-prompt: argument %q must be a string (prompt arguments are strings)", k)
		}
		args[k] = s
	}
	c, err := r.session(ctx)
	if err != nil {
		return false, err
	}
	res, err := c.GetPrompt(ctx, w[1].text, args)
	if err != nil {
		return false, err
	}
	r.renderPrompt(res)
	return false, nil
}

func cmdSetLogLevel(r *REPL, ctx context.Context, _ string, w []word) (bool, error) {
	if len(w) != 2 || mcp.LoggingLevel(strings.ToLower(w[1].text)).Severity() < 0 {
		return false, usagef("usage: set-log-level debug|info|notice|warning|error|critical|alert|emergency")
	}
	c, err := r.session(ctx)
	if err != nil {
		return false, err
	}
	level := mcp.LoggingLevel(strings.ToLower(w[1].text))
	if err := c.SetLogLevel(ctx, level); err != nil {
		return false, err
	}
	r.mu.Lock()
	r.logLevel = level
	r.mu.Unlock()
	r.con.Printf("The server now sends log messages at %s and above.", level)
	return false, nil
}

func cmdPing(r *REPL, ctx context.Context) error {
	c, err := r.session(ctx)
	if err != nil {
		return err
	}
	if err := c.Ping(ctx); err != nil {
		return err
	}
	r.con.Printf("pong")
	return nil
}

func cmdSetAuthMethod(r *REPL, _ context.Context, _ string, w []word) (bool, error) {
	if len(w) != 2 {
		return false, usagef("usage: set-auth-method oauth|lambda|auto")
	}
	m := strings.ToLower(w[1].text)
	switch m {
	case AuthOAuth, AuthLambda, AuthAuto:
	default:
		return false, usagef("set-auth-method: %q is not oauth, lambda or auto", w[1].text)
	}
	r.mu.Lock()
	r.authMethod = m
	connected := r.c != nil
	r.mu.Unlock()
	msg := "Auth method: " + m + "."
	if connected {
		msg += " It applies to the next connection: reconnect to apply it now."
	}
	r.con.Printf("%s", msg)
	return false, nil
}

func cmdDebug(r *REPL, _ context.Context, _ string, w []word) (bool, error) {
	if len(w) != 2 {
		return false, usagef("usage: debug on|off")
	}
	switch strings.ToLower(w[1].text) {
	case "on":
		r.level.Set(slog.LevelDebug)
		r.con.Printf("Debug output on (stderr).")
	case "off":
		r.level.Set(slog.LevelWarn)
		r.con.Printf("Debug output off.")
	default:
		return false, usagef("usage: debug on|off")
	}
	return false, nil
}
