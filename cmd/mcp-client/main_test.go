package main

import (
	"bytes"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mcplambda/greetings"
	"mcplambda/mcp"
	"mcplambda/server"
)

func newServer(t *testing.T) string {
	t.Helper()
	srv := server.New(server.Options{Info: mcp.Implementation{Name: "cmd-test", Version: "1"}})
	if err := greetings.Register(srv, greetings.Options{Interval: 10 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	cfg := server.DefaultConfig()
	cfg.LogRequests = false
	h := server.NewHandler(srv, cfg, server.HandlerOptions{Logger: slog.New(slog.DiscardHandler)})
	ts := httptest.NewServer(server.NewMux(cfg, h))
	t.Cleanup(func() { ts.Close(); h.Close() })
	return ts.URL + cfg.Path
}

// TestRun runs the command in-process: -c and stdin scripts, exit statuses,
// flags, and settings from the deploy outputs file.
func TestRun(t *testing.T) {
	url := newServer(t)
	dir := t.TempDir()
	outputs := filepath.Join(dir, "outputs.env")
	if err := os.WriteFile(outputs, []byte("# from make deploy\nMCP_SERVER_URL="+url+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	badOutputs := filepath.Join(dir, "bad.env")
	os.WriteFile(badOutputs, []byte("$(reboot)\n"), 0o600)
	noOutputs := filepath.Join(dir, "none.env")
	cases := []struct {
		name   string
		args   []string
		stdin  string
		env    map[string]string
		status int
		out    []string
		errOut []string
	}{
		{name: "-c one command", args: []string{"-c", "greet Ada", "-outputs", noOutputs}, env: map[string]string{"MCP_SERVER_URL": url}, status: 0, out: []string{"Hello, Ada!"}},
		{name: "-c several", args: []string{"-c", "greet A; list-tools", "-outputs", noOutputs}, env: map[string]string{"MCP_SERVER_URL": url}, out: []string{"Hello, A!", "Tools (2):"}},
		{name: "-c failing", args: []string{"-c", "greet A; call-tool nope", "-outputs", noOutputs}, env: map[string]string{"MCP_SERVER_URL": url}, status: 1, out: []string{"Hello, A!"}, errOut: []string{"JSON-RPC error -32602"}},
		{name: "-url flag", args: []string{"-url", url, "-c", "greet Flag", "-outputs", noOutputs}, out: []string{"Hello, Flag!"}},
		{name: "stdin script", args: []string{"-outputs", noOutputs}, stdin: "greet S\nstatus\n", env: map[string]string{"MCP_SERVER_URL": url}, out: []string{"Hello, S!", "Connection:   connected"}},
		{name: "stdin script failing", args: []string{"-outputs", noOutputs}, stdin: "bogus\ngreet S\n", env: map[string]string{"MCP_SERVER_URL": url}, status: 1, out: []string{"Hello, S!"}, errOut: []string{`unknown command "bogus"`}},
		{name: "outputs file", args: []string{"-outputs", outputs, "-c", "greet File; status"}, out: []string{"Hello, File!", "MCP_SERVER_URL from " + outputs}},
		{name: "environment over outputs file", args: []string{"-outputs", outputs, "-c", "status"}, env: map[string]string{"MCP_SERVER_URL": "http://127.0.0.1:1/mcp"}, out: []string{"Server URL:   http://127.0.0.1:1/mcp"}},
		{name: "bad outputs file", args: []string{"-outputs", badOutputs, "-c", "status"}, status: 2, errOut: []string{"bad.env: line 1: not KEY=VALUE"}},
		{name: "bad environment", args: []string{"-outputs", noOutputs, "-c", "status"}, env: map[string]string{"AUTH_METHOD": "password"}, status: 2, errOut: []string{"AUTH_METHOD"}},
		{name: "auth status through oauthclient", args: []string{"-outputs", noOutputs, "-c", "auth status"}, env: map[string]string{"MCP_SERVER_URL": url, "OAUTH_TOKEN_DIR": filepath.Join(dir, "tokens")}, out: []string{"Not logged in to " + url}},
		{name: "version", args: []string{"-version"}, out: []string{"mcp-client dev"}},
		{name: "unknown flag", args: []string{"-frob"}, status: 2, errOut: []string{"usage: mcp-client"}},
		{name: "stray argument", args: []string{"list-tools"}, status: 2, errOut: []string{`unexpected argument "list-tools"`}},
		{name: "server down", args: []string{"-outputs", noOutputs, "-c", "list-tools"}, env: map[string]string{"MCP_SERVER_URL": "http://127.0.0.1:1/mcp"}, status: 1, errOut: []string{"connection refused (is the server running?)"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			getenv := func(k string) string { return tc.env[k] }
			status := run(tc.args, strings.NewReader(tc.stdin), &out, &errOut, getenv)
			if status != tc.status {
				t.Errorf("status %d, want %d\nout:\n%s\nerr:\n%s", status, tc.status, out.String(), errOut.String())
			}
			for _, w := range tc.out {
				if !strings.Contains(out.String(), w) {
					t.Errorf("stdout lacks %q:\n%s", w, out.String())
				}
			}
			for _, w := range tc.errOut {
				if !strings.Contains(errOut.String(), w) {
					t.Errorf("stderr lacks %q:\n%s", w, errOut.String())
				}
			}
			if strings.Contains(out.String(), "mcp> ") {
				t.Errorf("a prompt on stdout of a non-interactive run:\n%s", out.String())
			}
		})
	}
}

// TestSmoke runs `mcp-client smoke` through the command's dispatch: the
// exit statuses and the lines, against a server at the deployed pace of
// multi-greet (the streaming check expects 1 s between notifications).
func TestSmoke(t *testing.T) {
	srv := server.New(server.Options{Info: mcp.Implementation{Name: "cmd-test", Version: "1"}})
	if err := greetings.Register(srv, greetings.Options{}); err != nil {
		t.Fatal(err)
	}
	cfg := server.DefaultConfig()
	cfg.LogRequests = false
	h := server.NewHandler(srv, cfg, server.HandlerOptions{Logger: slog.New(slog.DiscardHandler)})
	ts := httptest.NewServer(server.NewMux(cfg, h))
	t.Cleanup(func() { ts.Close(); h.Close() })
	url := ts.URL + cfg.Path
	dir := t.TempDir()
	noOutputs := filepath.Join(dir, "none.env")
	tokens := filepath.Join(dir, "tokens") // never the user's own store

	cases := []struct {
		name   string
		args   []string
		env    map[string]string
		status int
		out    []string
		errOut []string
	}{
		{name: "passes", args: []string{"smoke", "-outputs", noOutputs}, env: map[string]string{"MCP_SERVER_URL": url, "OAUTH_TOKEN_DIR": tokens, "MCP_PROTOCOL_VERSION": "2025-11-25"}, status: 0,
			out: []string{"smoke: " + url + " (settings from the environment", "\nskip discovery: the server needs no token\n", "\nok   session: initialize (protocol 2025-11-25)", "\nok   streaming: ", "\nok   instances: ", "\nsmoke: 3 passed, 1 skipped\n"}},
		{name: "passes, negotiated", args: []string{"smoke", "-outputs", noOutputs}, env: map[string]string{"MCP_SERVER_URL": url, "OAUTH_TOKEN_DIR": tokens}, status: 0,
			out: []string{"\nok   session: server/discover (protocol 2026-07-28)", "\nok   streaming: ", "\nskip instances: the server speaks the stateless era", "\nsmoke: 2 passed, 2 skipped\n"}},
		{name: "fails", args: []string{"smoke", "-outputs", noOutputs, "-url", "http://127.0.0.1:1/mcp"}, env: map[string]string{"OAUTH_TOKEN_DIR": tokens}, status: 1,
			out: []string{"\nFAIL discovery: ", "connection refused", "\nsmoke: 4 failed\n"}},
		{name: "usage", args: []string{"smoke", "-frob"}, status: 2, errOut: []string{"usage: mcp-client smoke [-url URL] [-outputs FILE]"}},
		{name: "stray argument", args: []string{"smoke", "-outputs", noOutputs, "now"}, status: 2, errOut: []string{`unexpected argument "now"`}},
		{name: "after the flags", args: []string{"-outputs", noOutputs, "smoke"}, status: 2, errOut: []string{"smoke is a subcommand and comes first"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			status := run(tc.args, strings.NewReader(""), &out, &errOut, func(k string) string { return tc.env[k] })
			if status != tc.status {
				t.Errorf("status %d, want %d\nout:\n%s\nerr:\n%s", status, tc.status, out.String(), errOut.String())
			}
			for _, w := range tc.out {
				if !strings.Contains(out.String(), w) {
					t.Errorf("stdout lacks %q:\n%s", w, out.String())
				}
			}
			for _, w := range tc.errOut {
				if !strings.Contains(errOut.String(), w) {
					t.Errorf("stderr lacks %q:\n%s", w, errOut.String())
				}
			}
		})
	}
}
