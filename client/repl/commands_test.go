package repl

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"mcplambda/mcp"
	"mcplambda/server"
)

// TestCommands drives every command through a non-interactive REPL against
// the real server: what it prints, on which stream, and whether the run
// counts as failed.
func TestCommands(t *testing.T) {
	s := newTestServer(t, nil)
	cases := []struct {
		name     string
		input    string
		out      []string // on Out
		errOut   []string // on Err
		notOut   []string
		wantFail bool
	}{
		{name: "help", input: "help", out: []string{"connect [url]", "call-tool <name> [json-args]", "bedrock-report", "auth login|logout|status|refresh", "set-auth-method", "quit|exit", ".deploy/outputs.env"}},
		{name: "connect", input: "connect", out: []string{"Connected to " + s.url + ": test-server 1.2.3, protocol 2025-11-25."}},
		{name: "connect to a given URL", input: "connect " + s.url, out: []string{"Connected to " + s.url}},
		{name: "connect to a non-URL", input: "connect ftp://x", errOut: []string{`"ftp://x" is not an http(s) URL`}, wantFail: true},
		{name: "connect with two arguments", input: "connect a b", errOut: []string{"usage: connect [url]"}, wantFail: true},
		{name: "connect to nothing", input: "connect http://127.0.0.1:1/mcp", errOut: []string{"Error:", "127.0.0.1:1"}, wantFail: true},
		{name: "list-tools", input: "list-tools", out: []string{"Tools (3):", "greet (Greet): A simple greeting tool", "name (string, required): Name to greet", "get_bedrock_usage_report", "days (integer, 1..90)"}, errOut: []string{"Connecting to " + s.url}},
		{name: "list-tools takes no argument", input: "list-tools x", errOut: []string{"list-tools takes no arguments"}, wantFail: true},
		{name: "greet", input: "greet Ada", out: []string{"Hello, Ada!"}},
		{name: "greet default", input: "greet", out: []string{"Hello, MCP User!"}},
		{name: "greet quoted", input: `greet "Ada Lovelace"`, out: []string{"Hello, Ada Lovelace!"}},
		{name: "greet several words", input: `greet Ada  Lovelace`, out: []string{"Hello, Ada Lovelace!"}},
		{name: "call-tool", input: `call-tool greet {"name": "Grace; Hopper"}`, out: []string{"Hello, Grace; Hopper!"}},
		{name: "call-tool without a name", input: "call-tool", errOut: []string{"usage: call-tool <name> [json-args]"}, wantFail: true},
		{name: "call-tool with bad JSON", input: `call-tool greet {"name":`, errOut: []string{"the tool arguments must be a JSON object"}, wantFail: true},
		{name: "call-tool with a JSON array", input: `call-tool greet ["x"]`, errOut: []string{"must be a JSON object, such as"}, wantFail: true},
		{name: "call-tool with two objects", input: `call-tool greet {} {}`, errOut: []string{"must be one JSON object"}, wantFail: true},
		{name: "tool error", input: `call-tool greet {}`, errOut: []string{"Tool error from greet:", `invalid arguments`, `"name"`}, notOut: []string{"No result content"}, wantFail: true},
		{name: "JSON-RPC error", input: `call-tool no-such-tool {}`, errOut: []string{"Error: JSON-RPC error -32602:", "no-such-tool"}, wantFail: true},
		{name: "multi-greet", input: "multi-greet Ada", out: []string{"[info] multi-greet: Sending first greeting to Ada", "[info] multi-greet: Sending second greeting to Ada", "Good morning, Ada!"}},
		{name: "list-resources", input: "list-resources", out: []string{"Resources (1):", "greeting-resource <https://example.com/greetings/default> text/plain"}},
		{name: "read-resource", input: "read-resource https://example.com/greetings/default", out: []string{"https://example.com/greetings/default (text/plain):\nHello, world!"}},
		{name: "read-resource unknown", input: "read-resource https://example.com/nothing", errOut: []string{"JSON-RPC error -32002"}, wantFail: true},
		{name: "read-resource by name", input: "read-resource greeting-resource", out: []string{"https://example.com/greetings/default (text/plain):\nHello, world!"}},
		{name: "read-resource unknown name", input: "read-resource no-such-thing", errOut: []string{`"no-such-thing" is neither a resource URI nor the name of a listed resource`}, wantFail: true},
		{name: "read-resource without a URI", input: "read-resource", errOut: []string{"usage: read-resource <uri>"}, wantFail: true},
		{name: "list-prompts", input: "list-prompts", out: []string{"Prompts (1):", "greeting-template: A simple prompt template", "name (required)"}},
		{name: "get-prompt", input: `get-prompt greeting-template {"name":"Ada"}`, out: []string{"A greeting for Ada", "[user]", "Ada"}},
		{name: "get-prompt with a number", input: `get-prompt greeting-template {"name":1}`, errOut: []string{`argument "name" must be a string`}, wantFail: true},
		{name: "get-prompt unknown", input: `get-prompt nope`, errOut: []string{"JSON-RPC error -326"}, wantFail: true},
		{name: "bedrock-report", input: "bedrock-report", out: []string{"Bedrock Daily Usage Report (Past 1 days - us-east-1)", "--- Model Summary ---"}, errOut: []string{"progress: "}},
		{name: "bedrock-report positional", input: "bedrock-report eu-west-1 /aws/bedrock/modelinvocations 7", out: []string{"(Past 7 days - eu-west-1)", "--- Daily Totals ---", "(structured content also returned: daily, days, "}},
		{name: "bedrock-report bad region", input: "bedrock-report Mars", errOut: []string{`"Mars" is not an AWS region`, "usage: bedrock-report"}, wantFail: true},
		{name: "bedrock-report bad days", input: "bedrock-report us-east-1 /aws/x 0", errOut: []string{"days must be a whole number from 1 to 90"}, wantFail: true},
		{name: "bedrock-report bad account", input: "bedrock-report us-east-1 /aws/x 1 123", errOut: []string{"the account id must be 12 digits"}, wantFail: true},
		{name: "bedrock-report too many", input: "bedrock-report a b c d e", errOut: []string{"too many arguments"}, wantFail: true},
		{name: "bedrock-report unknown option", input: "bedrock-report --pie", errOut: []string{"unknown option --pie"}, wantFail: true},
		{name: "status before connecting", input: "status", out: []string{"Server URL:   " + s.url, "Connection:   not connected", "Auth method:  auto", "Debug:        off"}},
		{name: "status connected", input: "connect\nstatus", out: []string{"Connection:   connected", "Protocol:     2025-11-25", "Server:       test-server 1.2.3", "Session:      "}},
		{name: "disconnect", input: "connect\ndisconnect\nstatus", out: []string{"Disconnected", "Connection:   not connected"}},
		{name: "disconnect when not connected", input: "disconnect", out: []string{"Not connected."}},
		{name: "terminate-session", input: "connect\nterminate-session", out: []string{"terminated."}},
		{name: "terminate-session when not connected", input: "terminate-session", errOut: []string{"not connected"}, wantFail: true},
		{name: "reconnect", input: "reconnect\nstatus", out: []string{"Connected to", "Connection:   connected"}},
		{name: "set-log-level", input: "set-log-level debug\nmulti-greet Bo", out: []string{"at debug and above", "[debug] multi-greet: Starting multi-greet for Bo"}},
		{name: "set-log-level error hides info", input: "set-log-level error\nmulti-greet Bo", out: []string{"Good morning, Bo!"}, notOut: []string{"[info]"}},
		{name: "set-log-level bad", input: "set-log-level loud", errOut: []string{"usage: set-log-level"}, wantFail: true},
		{name: "ping", input: "ping", out: []string{"pong"}},
		{name: "set-auth-method", input: "set-auth-method lambda\nstatus", out: []string{"Auth method: lambda.", "Auth method:  lambda"}},
		{name: "set-auth-method while connected", input: "connect\nset-auth-method oauth", out: []string{"reconnect to apply it now"}},
		{name: "set-auth-method bad", input: "set-auth-method magic", errOut: []string{`"magic" is not oauth, lambda or auto`}, wantFail: true},
		{name: "debug on and off", input: "debug on\nstatus\ndebug off\nstatus", out: []string{"Debug output on", "Debug:        on", "Debug output off", "Debug:        off"}},
		{name: "debug bad", input: "debug maybe", errOut: []string{"usage: debug on|off"}, wantFail: true},
		{name: "auth without OAuth", input: "auth status", errOut: []string{"OAuth login is not available"}, wantFail: true},
		{name: "auth without subcommand", input: "auth", errOut: []string{"usage: auth login|logout|status|refresh"}, wantFail: true},
		{name: "unknown command", input: "frobnicate", errOut: []string{`unknown command "frobnicate"`}, wantFail: true},
		{name: "unterminated quote", input: `greet "Ada`, errOut: []string{"unterminated double quote"}, wantFail: true},
		{name: "comments and blank lines", input: "# a comment\n\n   \ngreet X", out: []string{"Hello, X!"}},
		{name: "quit stops", input: "greet A\nquit\ngreet B", out: []string{"Hello, A!"}, notOut: []string{"Hello, B!"}},
		{name: "exit stops", input: "exit\ngreet B", notOut: []string{"Hello, B!"}},
		{name: "failure does not stop the script", input: "call-tool nope\ngreet After", out: []string{"Hello, After!"}, wantFail: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, err := runScript(t, s, tc.input, nil)
			if tc.wantFail != (err != nil) {
				t.Errorf("Run returned %v, want failure %v\nout:\n%s\nerr:\n%s", err, tc.wantFail, out, errOut)
			}
			if err != nil && !errors.Is(err, ErrFailed) {
				t.Errorf("Run returned %v, want ErrFailed", err)
			}
			assertContains(t, "Out", out, tc.out...)
			assertContains(t, "Err", errOut, tc.errOut...)
			assertLacks(t, "Out", out, tc.notOut...)
			assertLacks(t, "Err", errOut, "No result content", "panic")
		})
	}
}

// TestNotificationsBeforeResult: multi-greet's log messages are shown as
// they arrive, before the result, and its progress is drawn.
func TestNotificationsBeforeResult(t *testing.T) {
	s := newTestServer(t, nil)
	out, errOut, err := runScript(t, s, "multi-greet Ada", nil)
	if err != nil {
		t.Fatal(err, errOut)
	}
	first := strings.Index(out, "Sending first greeting to Ada")
	second := strings.Index(out, "Sending second greeting to Ada")
	result := strings.Index(out, "Good morning, Ada!")
	if first < 0 || second < first || result < second {
		t.Errorf("want both notifications before the result, in order; got:\n%s", out)
	}
	// Plain progress lines (Err is not a terminal), with the known total.
	assertContains(t, "Err", errOut,
		"progress: [########----------------]  33% 1/3 Starting multi-greet for Ada",
		"progress: [########################] 100% 3/3 Sending second greeting to Ada")
}

// TestProgressOnTerminal: on a terminal the bar is redrawn in place, and a
// notification arriving meanwhile clears it first.
func TestProgressOnTerminal(t *testing.T) {
	s := newTestServer(t, nil)
	term := newBuffer() // one stream for both, as on a terminal
	h := newHarness(t, s, strings.NewReader("multi-greet Ada\nbedrock-report us-east-1 /aws/bedrock/modelinvocations 7"), func(o *Options) {
		o.Terminal = true
		o.Out, o.Err = term, term
	})
	if err := h.r.Run(testContext(t)); err != nil {
		t.Fatal(err)
	}
	got := term.String()
	assertContains(t, "terminal", got,
		"\r\x1b[K[################--------]  67% 2/3 Sending first greeting to Ada",
		"\r\x1b[K[info] multi-greet: Sending second greeting to Ada\n",
		"events read", // the report's progress has no total: a count
	)
	assertLacks(t, "terminal", got, "progress: ")
	// Each bar ends with a newline before the next output, never mid-line.
	if !regexp.MustCompile(`3/3 Sending second greeting to Ada\nGood morning, Ada!`).MatchString(got) {
		t.Errorf("the bar was not finished before the result:\n%q", got)
	}
}

// TestImageSaved: the report's two charts are saved to PNG files, named
// by the server's suggestion, whose paths are printed.
func TestImageSaved(t *testing.T) {
	s := newTestServer(t, nil)
	dir := t.TempDir()
	out, errOut, err := runScript(t, s, "bedrock-report us-east-1 /aws/bedrock/modelinvocations 7 --chart", func(o *Options) {
		o.Config.OutputDir = dir
	})
	if err != nil {
		t.Fatal(err, errOut)
	}
	saved := regexp.MustCompile(`\[image image/png, (\d+) bytes, saved to (\S+)\]`).FindAllStringSubmatch(out, -1)
	if len(saved) != 2 {
		t.Fatalf("want two saved images in:\n%s", out)
	}
	for i, m := range saved {
		stem := []string{"bedrock-daily-tokens-", "bedrock-tokens-per-model-"}[i]
		if filepath.Dir(m[2]) != dir || !strings.HasPrefix(filepath.Base(m[2]), stem) || !strings.HasSuffix(m[2], ".png") {
			t.Errorf("image saved as %s, want %s*.png in %s", m[2], stem, dir)
		}
		b, err := os.ReadFile(m[2])
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(string(b), "\x89PNG\r\n\x1a\n") || fmt.Sprint(len(b)) != m[1] {
			t.Errorf("the file is not the %s-byte PNG announced (%d bytes, starts %q)", m[1], len(b), b[:min(8, len(b))])
		}
	}
}

// TestFileStem: a suggested file name is used only when it is a plain name.
func TestFileStem(t *testing.T) {
	tests := []struct {
		meta mcp.Meta
		want string
	}{
		{nil, "image"},
		{mcp.Meta{fileNameMeta: "bedrock-daily-tokens"}, "bedrock-daily-tokens"},
		{mcp.Meta{fileNameMeta: "../../etc/passwd"}, "image"},
		{mcp.Meta{fileNameMeta: "a/b"}, "image"},
		{mcp.Meta{fileNameMeta: ""}, "image"},
		{mcp.Meta{fileNameMeta: 42}, "image"},
		{mcp.Meta{fileNameMeta: strings.Repeat("x", 65)}, "image"},
		{mcp.Meta{fileNameMeta: "evil\x1b[2J"}, "image"},
	}
	for _, tc := range tests {
		if got := fileStem(mcp.Content{Type: mcp.ContentImage, Meta: tc.meta}); got != tc.want {
			t.Errorf("fileStem(%v) = %q, want %q", tc.meta, got, tc.want)
		}
	}
}

// TestContentKinds: audio, resource links and embedded resources, from a
// test tool.
func TestContentKinds(t *testing.T) {
	s := newTestServer(t, func(srv *server.Server) {
		addTool(srv, mcp.Tool{Name: "kinds", InputSchema: json.RawMessage(`{"type":"object"}`)},
			func(context.Context, *server.Call, json.RawMessage) (*mcp.CallToolResult, error) {
				return &mcp.CallToolResult{Content: []mcp.Content{
					mcp.AudioContent("UklGRg==", "audio/wav"),
					{Type: mcp.ContentResourceLink, URI: "https://example.com/a", Name: "a", MIMEType: "text/plain", Description: "a link"},
					mcp.EmbeddedResource(mcp.ResourceContents{URI: "https://example.com/b", MIMEType: "text/plain", Text: "embedded text"}),
					mcp.EmbeddedResource(mcp.ResourceContents{URI: "https://example.com/c", MIMEType: "application/octet-stream", Blob: "AAEC"}),
					mcp.ImageContent("not base64!", "image/png"),
					mcp.TextContent("evil \x1b[2Jtext"),
				}, StructuredContent: map[string]any{"n": 1}}, nil
			})
	})
	out, errOut, err := runScript(t, s, "call-tool kinds", nil)
	if err != nil {
		t.Fatal(err, errOut)
	}
	assertContains(t, "Out", out,
		"[audio audio/wav, 4 bytes, saved to ",
		"[resource link] https://example.com/a a (text/plain): a link",
		"[embedded resource] https://example.com/b (text/plain):\nembedded text",
		"[embedded resource] https://example.com/c (application/octet-stream): 3 bytes saved to ",
		"evil [2Jtext",
		"(structured content also returned: n; `debug on` shows it)")
	assertContains(t, "Err", errOut, "[image image/png: not saved: the data is not valid base64]")
	assertLacks(t, "Out", out, "\x1b")
}

// TestSessions: reconnect and connect end the old session (DELETE) instead
// of leaking it; disconnect leaves it; quitting ends it.
func TestSessions(t *testing.T) {
	cases := []struct {
		name        string
		script      string
		oldAlive    bool // the first session after the script
		liveAtEnd   int  // sessions on the server after the REPL exits
		deletesSeen int
	}{
		{"reconnect", "reconnect", false, 0, 2},
		{"connect again", "connect", false, 0, 2},
		{"terminate-session", "terminate-session", false, 0, 1},
		{"disconnect", "disconnect", true, 1, 0},
		{"quit", "quit", false, 0, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newTestServer(t, nil)
			a := startAsync(t, s, nil)
			a.send(t, "connect")
			a.out.waitFor(t, "Connected to")
			first := a.r.current().SessionID()
			a.send(t, tc.script)
			if err := a.finish(t); err != nil {
				t.Fatalf("Run: %v\n%s", err, a.err.String())
			}
			if got := s.sessionAlive(t, first); got != tc.oldAlive {
				t.Errorf("first session alive = %v, want %v", got, tc.oldAlive)
			}
			if got := s.store.Len(); got != tc.liveAtEnd {
				t.Errorf("%d live sessions at the end, want %d", got, tc.liveAtEnd)
			}
			if got := s.deleteCount(); got != tc.deletesSeen {
				t.Errorf("%d DELETEs, want %d", got, tc.deletesSeen)
			}
		})
	}
}

// Structured content: named in one line beside text meant for people,
// shown in full with debug on or when it is all the tool returned.
func TestStructuredContentDisplay(t *testing.T) {
	s := newTestServer(t, func(srv *server.Server) {
		addTool(srv, mcp.Tool{Name: "both", InputSchema: json.RawMessage(`{"type":"object"}`)},
			func(context.Context, *server.Call, json.RawMessage) (*mcp.CallToolResult, error) {
				return &mcp.CallToolResult{Content: []mcp.Content{mcp.TextContent("a report")}, StructuredContent: map[string]any{"total": 3, "by_day": []int{1, 2}}}, nil
			})
		addTool(srv, mcp.Tool{Name: "only", InputSchema: json.RawMessage(`{"type":"object"}`)},
			func(context.Context, *server.Call, json.RawMessage) (*mcp.CallToolResult, error) {
				return &mcp.CallToolResult{StructuredContent: map[string]any{"total": 3}}, nil
			})
	})
	tests := []struct {
		script      string
		want, lacks []string
	}{
		{"call-tool both", []string{"a report", "(structured content also returned: by_day, total; `debug on` shows it)"}, []string{"Structured content:"}},
		{"debug on\ncall-tool both", []string{"a report", "Structured content:\n{\n  \"by_day\": [\n    1,\n    2\n  ],\n  \"total\": 3\n}"}, nil},
		{"call-tool only", []string{"Structured content:\n{\n  \"total\": 3\n}"}, []string{"also returned"}},
	}
	for _, tt := range tests {
		out, errOut, err := runScript(t, s, tt.script, nil)
		if err != nil {
			t.Fatal(err, errOut)
		}
		assertContains(t, "Out", out, tt.want...)
		for _, l := range tt.lacks {
			assertLacks(t, "Out", out, l)
		}
	}
}
