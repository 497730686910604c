package repl

import (
	"strings"
	"testing"

	"mcplambda/mcp"
)

// TestBothEras runs the key commands against this project's server, which
// speaks both eras on one endpoint: forced into the session era, and
// negotiated (MCP_PROTOCOL_VERSION=auto), which picks the stateless era.
func TestBothEras(t *testing.T) {
	s := newTestServer(t, nil)
	for _, tc := range []struct {
		name, version string // version: Config.ProtocolVersion ("" = auto)
		era, protocol string
	}{
		{name: "session", version: mcp.LatestVersion, era: "session", protocol: mcp.LatestVersion},
		{name: "auto", version: "", era: "stateless", protocol: mcp.Version20260728},
		{name: "stateless", version: mcp.Version20260728, era: "stateless", protocol: mcp.Version20260728},
	} {
		t.Run(tc.name, func(t *testing.T) {
			script := strings.Join([]string{
				"list-tools",
				"greet Ada",
				"set-log-level debug",
				"multi-greet Ada",
				"bedrock-report us-east-1 /aws/bedrock/modelinvocations 7",
				"list-resources",
				"read-resource https://example.com/greetings/default",
				"list-prompts",
				`get-prompt greeting-template {"name":"Ada"}`,
				"status",
			}, "\n")
			out, errOut, err := runScript(t, s, script, func(o *Options) { o.Config.ProtocolVersion = tc.version })
			if err != nil {
				t.Fatalf("%v\nout:\n%s\nerr:\n%s", err, out, errOut)
			}
			assertContains(t, "Out", out,
				"Tools (3):", "greet (Greet): A simple greeting tool",
				"Hello, Ada!",
				"at debug and above",
				"[debug] multi-greet: Starting multi-greet for Ada",
				"Bedrock Daily Usage Report (Past 7 days - us-east-1)",
				"Resources (1):", "https://example.com/greetings/default (text/plain):\nHello, world!",
				"Prompts (1):", "A greeting for Ada",
				"Connection:   connected",
				"Era:          "+tc.era,
				"Protocol:     "+tc.protocol,
			)
			// multi-greet's messages are shown live, before its result.
			first := strings.Index(out, "[info] multi-greet: Sending first greeting to Ada")
			second := strings.Index(out, "[info] multi-greet: Sending second greeting to Ada")
			result := strings.Index(out, "Good morning, Ada!")
			if first < 0 || second < first || result < second {
				t.Errorf("want multi-greet's messages before its result, in order; got:\n%s", out)
			}
			// Progress is drawn for multi-greet and for the Bedrock report.
			assertContains(t, "Err", errOut,
				"progress: [########################] 100% 3/3 Sending second greeting to Ada",
				"progress: [")
			if n := strings.Count(errOut, "progress: ["); n < 4 {
				t.Errorf("%d progress lines, want those of multi-greet and the report:\n%s", n, errOut)
			}
			if tc.era == "session" {
				assertContains(t, "Out", out, "Session:      ")
			} else {
				assertLacks(t, "Out", out, "Session:      ")
			}
			assertLacks(t, "Err", errOut, "Error:", "panic")
		})
	}
}

// Without set-log-level, multi-greet's three messages still show in both
// eras: a stateless-era server sends none unless a request asks, so the
// REPL asks for debug by default there; a session-era server sends them
// unasked.
func TestLogMessagesWithoutSetLevel(t *testing.T) {
	s := newTestServer(t, nil)
	for _, version := range []string{mcp.LatestVersion, mcp.Version20260728} {
		t.Run(version, func(t *testing.T) {
			out, errOut, err := runScript(t, s, "multi-greet Ada\nset-log-level info\nmulti-greet Bob", func(o *Options) { o.Config.ProtocolVersion = version })
			if err != nil {
				t.Fatalf("%v\nout:\n%s\nerr:\n%s", err, out, errOut)
			}
			assertContains(t, "Out", out,
				"[debug] multi-greet: Starting multi-greet for Ada",
				"[info] multi-greet: Sending first greeting to Ada",
				"[info] multi-greet: Sending second greeting to Ada",
				"[info] multi-greet: Sending second greeting to Bob")
			assertLacks(t, "Out", out, "Starting multi-greet for Bob")
		})
	}
}

// TestEveryCommandBothEras runs the commands TestBothEras leaves out, in
// each era: connecting and disconnecting, sessions, subscriptions, the
// report's charts, settings. (auth is tested with a real authorization
// server in oauth_test.go.)
func TestEveryCommandBothEras(t *testing.T) {
	s := newTestServer(t, nil)
	for _, tc := range []struct {
		version               string
		disconnect, terminate string
	}{
		{mcp.LatestVersion, "Disconnected (the server session stays", "Session "},
		{mcp.Version20260728, "Disconnected (the stateless era keeps no session", "Disconnected: the stateless era has no server session to end."},
	} {
		t.Run(tc.version, func(t *testing.T) {
			script := strings.Join([]string{
				"help", "status", "connect " + s.url, "ping", `call-tool greet {"name":"Bo"}`,
				"subscribe https://example.com/greetings/default", "unsubscribe https://example.com/greetings/default",
				"bedrock-report us-east-1 /aws/bedrock/modelinvocations 7 --chart",
				"debug on", "debug off", "set-auth-method auto",
				"disconnect", "reconnect", "terminate-session", "status", "quit", "greet never-run",
			}, "\n")
			out, errOut, err := runScript(t, s, script, func(o *Options) { o.Config.ProtocolVersion = tc.version })
			if err != nil {
				t.Fatalf("%v\nout:\n%s\nerr:\n%s", err, out, errOut)
			}
			assertContains(t, "Out", out,
				"Commands:", "Connection:   not connected", "protocol "+tc.version+".", "pong", "Hello, Bo!",
				"Subscribed to https://example.com/greetings/default.", "Unsubscribed from https://example.com/greetings/default.",
				"Bedrock Daily Usage Report (Past 7 days - us-east-1)",
				"/bedrock-daily-tokens-", "/bedrock-tokens-per-model-",
				"Debug output on (stderr).", "Debug output off.", "Auth method: auto.",
				tc.disconnect, tc.terminate)
			assertLacks(t, "Out", out, "Hello, never-run!", "Session  terminated")
			assertLacks(t, "Err", errOut, "Error:", "panic")
		})
	}
}
