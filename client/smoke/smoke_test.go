package smoke

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"mcplambda/client"
	"mcplambda/mcp"
)

// want is one expected result line.
type want struct {
	name     string
	status   Status
	contains []string
}

// TestChecks runs the checks against the real server in-process, as
// deployed in each way make deploy (or make run-local) can deploy it, and
// behind the proxies that break a deployment the way AWS can.
func TestChecks(t *testing.T) {
	// For scenarios about some checks alone.
	checkByName := map[string]func(*Target, context.Context) Result{
		"discovery": (*Target).Discovery,
		"session":   (*Target).Session,
		"streaming": (*Target).Streaming,
		"instances": (*Target).Instances,
	}
	noToken := "no token: " + NoTokenFix
	tests := []struct {
		name   string
		server serverOpts
		// target adjusts the target from the fixture (nil: no token).
		target func(*Target, *fixture)
		// only runs these checks; nil runs all of them with Run.
		only []string
		want []want
		// leaky: the scenario itself keeps a session from being ended.
		leaky bool
	}{
		{
			name:   "auth off (make run-local)",
			server: serverOpts{auth: authOff},
			want: []want{
				{"discovery", Skipped, []string{"the server needs no token"}},
				{"session", Passed, []string{`initialize (protocol 2025-11-25), tools/list (2 tools), greet -> "Hello, smoke!"`}},
				{"streaming", Passed, []string{"notifications at ", "; result at "}},
				{"instances", Passed, []string{"sessions A and B in parallel, 7 calls on A kept session "}},
			},
		},
		{
			name:   "OAuth with ACCESS_TOKEN",
			server: serverOpts{auth: authOAuth},
			target: func(tg *Target, f *fixture) { tg.Auth = client.StaticToken(f.token) },
			want: []want{
				{"discovery", Passed, []string{"401 Bearer challenge -> http://", "/.well-known/oauth-protected-resource/mcp -> authorization server http://", "PKCE S256"}},
				{"session", Passed, []string{`greet -> "Hello, smoke!"`}},
				{"streaming", Passed, []string{"notifications at "}},
				{"instances", Passed, []string{"kept session "}},
			},
		},
		{
			name:   "OAuth without a token",
			server: serverOpts{auth: authOAuth},
			want: []want{
				{"discovery", Passed, nil},
				{"session", Failed, []string{noToken}},
				{"streaming", Failed, []string{noToken}},
				{"instances", Failed, []string{noToken}},
			},
		},
		{
			name:   "OAuth with a token the server refuses",
			server: serverOpts{auth: authOAuth},
			target: func(tg *Target, _ *fixture) {
				tg.Auth = client.StaticToken("not-a-valid-token")
				tg.AuthFix = "check ACCESS_TOKEN"
			},
			only: []string{"session"},
			want: []want{{"session", Failed, []string{"initialize: ", "HTTP 401", "check ACCESS_TOKEN"}}},
		},
		{
			// The RFC 8414 path-inserted URL of the stage's issuer is not
			// routed to the stage: discovery falls back to OpenID's.
			name:   "OAuth under an API Gateway stage",
			server: serverOpts{auth: authOAuth, stage: true},
			target: func(tg *Target, f *fixture) { tg.Auth = client.StaticToken(f.token) },
			only:   []string{"discovery", "session"},
			want: []want{
				{"discovery", Passed, []string{"/prod/.well-known/oauth-protected-resource/mcp -> authorization server http://", "/prod (authorization"}},
				{"session", Passed, nil},
			},
		},
		{
			name:   "API Gateway renamed the challenge",
			server: serverOpts{auth: authOAuth, wrap: remapChallenge},
			only:   []string{"discovery"},
			want: []want{{"discovery", Failed, []string{
				"only x-amzn-Remapped-WWW-Authenticate",
				"spec-following MCP clients cannot discover the authorization server",
				"let the gateway produce the challenge",
			}}},
		},
		{
			name:   "API key deployment",
			server: serverOpts{auth: authAPIKey},
			target: func(tg *Target, f *fixture) { tg.Auth, tg.APIKey = client.StaticToken(f.token), true },
			only:   []string{"discovery", "session"},
			want: []want{
				{"discovery", Passed, []string{"API key deployment: no OAuth discovery"}},
				{"session", Passed, nil},
			},
		},
		{
			name:   "API key challenge where OAuth is expected",
			server: serverOpts{auth: authAPIKey},
			only:   []string{"discovery"},
			want:   []want{{"discovery", Failed, []string{"names no resource_metadata"}}},
		},
		{
			name:   "a proxy buffers the responses",
			server: serverOpts{auth: authOff, wrap: bufferBodies},
			only:   []string{"streaming"},
			want:   []want{{"streaming", Failed, []string{"buffered: all notifications arrived within ", " ms of the result", "responseTransferMode STREAM"}}},
		},
		{
			name:   "sessions lost on another instance",
			server: serverOpts{auth: authOff, wrap: loseFirstSession},
			only:   []string{"instances"},
			want: []want{{"instances", Failed, []string{
				"session A (", ") was lost during greet on A beside multi-greet on B", "the client started session ", "SESSION_TABLE",
			}}},
			leaky: true, // the proxy keeps A's first session from its DELETE
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newServer(t, tc.server)
			tg := Target{URL: f.url, CheckTimeout: wait, ProtocolVersion: mcp.LatestVersion}
			if tc.target != nil {
				tc.target(&tg, f)
			}
			ctx := testContext(t)
			var out bytes.Buffer
			var results []Result
			if tc.only == nil {
				results = Run(ctx, tg, &out)
			} else {
				for _, name := range tc.only {
					r := checkByName[name](&tg, ctx)
					results = append(results, r)
					fmt.Fprintln(&out, r)
				}
			}
			t.Logf("output:\n%s", out.String())
			lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
			if len(results) != len(tc.want) || len(lines) != len(tc.want) {
				t.Fatalf("%d results, %d lines, want %d:\n%s", len(results), len(lines), len(tc.want), out.String())
			}
			for i, w := range tc.want {
				r := results[i]
				if r.Name != w.name || r.Status != w.status {
					t.Errorf("result %d: %s %s, want %s %s:\n%s", i, r.Status, r.Name, w.status, w.name, r)
				}
				if lines[i] != r.String() {
					t.Errorf("line %d is %q, want %q", i, lines[i], r.String())
				}
				prefix := fmt.Sprintf("%-4s %s: ", w.status, w.name)
				if !strings.HasPrefix(lines[i], prefix) {
					t.Errorf("line %q does not start with %q", lines[i], prefix)
				}
				for _, c := range w.contains {
					if !strings.Contains(r.Detail, c) {
						t.Errorf("%s: detail lacks %q:\n%s", w.name, c, r)
					}
				}
			}
			if f.token != "" && strings.Contains(out.String(), f.token[:16]) {
				t.Errorf("the output shows the token:\n%s", out.String())
			}
			if open := f.log.openSessions(); !tc.leaky && len(open) > 0 {
				t.Errorf("sessions left open: %q\n%s", open, out.String())
			}
			if reqs := f.log.requests(); tc.only == nil && len(reqs) > 0 && reqs[0].authorization {
				t.Errorf("discovery sent a token with its initialize: %+v", reqs[0])
			}
		})
	}
}

// TestDiscoveryDeletesItsSession: against a server without authorization,
// the unauthenticated initialize opens a real session, which must not be
// left to expire.
func TestDiscoveryDeletesItsSession(t *testing.T) {
	f := newServer(t, serverOpts{auth: authOff})
	tg := Target{URL: f.url, CheckTimeout: wait, ProtocolVersion: mcp.LatestVersion}
	r := tg.Discovery(testContext(t))
	if r.Status != Skipped {
		t.Fatalf("got %s", r)
	}
	reqs := f.log.requests()
	if len(reqs) != 2 || reqs[0].method != "initialize" || reqs[0].authorization || reqs[1].verb != "DELETE" ||
		reqs[1].session != reqs[0].newSession || reqs[1].status != 200 {
		t.Errorf("requests: %+v, want an initialize without a token, then the DELETE of its session", reqs)
	}
}

// TestJudgeStreaming decides from arrival times given outright, so the
// verdicts do not depend on this machine's load.
func TestJudgeStreaming(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		out := make([]time.Duration, len(v))
		for i, n := range v {
			out[i] = time.Duration(n) * time.Millisecond
		}
		return out
	}
	tests := []struct {
		name     string
		notes    []time.Duration
		result   time.Duration
		status   Status
		contains string
	}{
		{"streamed", ms(10, 1010, 2010), 2020 * time.Millisecond, Passed, "notifications at 0.01s, 1.01s, 2.01s; result at 2.02s"},
		{"slow network, within tolerance", ms(400, 1300, 2900), 3000 * time.Millisecond, Passed, "notifications at 0.40s, 1.30s, 2.90s"},
		{"a fourth notification is ignored", ms(10, 1010, 2010, 2015), 2020 * time.Millisecond, Passed, "2.02s"},
		{"buffered until the result", ms(2005, 2006, 2007), 2010 * time.Millisecond, Failed, "buffered: all notifications arrived within 5 ms of the result"},
		{"buffered, received at once after a delay", ms(2400, 2400, 2401), 2402 * time.Millisecond, Failed, "buffered: all notifications arrived within 2 ms"},
		{"first streamed, the rest with the result", ms(10, 2000, 2001), 2002 * time.Millisecond, Failed, "notification 3 arrived 0.00s after"},
		{"the first two together", ms(10, 12, 1012), 2000 * time.Millisecond, Failed, "notification 2 arrived 0.00s after"},
		{"gaps too long", ms(10, 3010, 4010), 4020 * time.Millisecond, Failed, "notification 2 arrived 3.00s after"},
		{"first too close to the result", ms(1000, 1600, 2200), 2210 * time.Millisecond, Failed, "only 1.21s before the result"},
		{"debug notification missing", ms(1010, 2010), 2020 * time.Millisecond, Failed, "2 of the 3 log notifications"},
		{"none", nil, 2020 * time.Millisecond, Failed, "0 of the 3 log notifications of multi-greet arrived (no notifications; result at 2.02s)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := judgeStreaming(tc.notes, tc.result)
			if r.Name != "streaming" || r.Status != tc.status || !strings.Contains(r.Detail, tc.contains) {
				t.Errorf("got %s\nwant %s containing %q", r, tc.status, tc.contains)
			}
		})
	}
}

func TestResultLines(t *testing.T) {
	tests := []struct {
		r    Result
		want string
	}{
		{Result{"session", Passed, "fine"}, "ok   session: fine"},
		{Result{"streaming", Failed, "broken"}, "FAIL streaming: broken"},
		{Result{"discovery", Skipped, "no token needed"}, "skip discovery: no token needed"},
		{Result{"session", Failed, "server said:\n\x1b[2Jgone\r"}, "FAIL session: server said:  [2Jgone "},
		{Result{"session", Failed, strings.Repeat("x", 700)}, "FAIL session: " + strings.Repeat("x", maxDetail) + "..."},
	}
	for _, tc := range tests {
		if got := tc.r.String(); got != tc.want {
			t.Errorf("got %q, want %q", got, tc.want)
		}
	}
}

func TestSummary(t *testing.T) {
	tests := []struct {
		statuses []Status
		want     string
		failed   bool
	}{
		{[]Status{Passed, Passed, Passed, Passed}, "4 passed", false},
		{[]Status{Failed, Passed, Passed, Passed}, "1 failed, 3 passed", true},
		{[]Status{Skipped, Passed, Passed, Passed}, "3 passed, 1 skipped", false},
		{[]Status{Passed, Failed, Skipped, Failed}, "2 failed, 1 passed, 1 skipped", true},
		{nil, "no checks run", false},
	}
	for _, tc := range tests {
		var rs []Result
		for _, s := range tc.statuses {
			rs = append(rs, Result{Name: "x", Status: s})
		}
		if got := Summary(rs); got != tc.want {
			t.Errorf("Summary(%v) = %q, want %q", tc.statuses, got, tc.want)
		}
		if got := AnyFailed(rs); got != tc.failed {
			t.Errorf("AnyFailed(%v) = %t", tc.statuses, got)
		}
	}
}
