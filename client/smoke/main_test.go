package smoke

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mcplambda/client/oauthclient"
	"mcplambda/mcp"
)

// TestCommand runs the command as `mcp-client smoke` does: settings from the
// environment and the outputs file, the token from ACCESS_TOKEN or from
// the store `auth login` writes, the lines, the summary and the status.
func TestCommand(t *testing.T) {
	oauthSrv := newServer(t, serverOpts{auth: authOAuth})
	keySrv := newServer(t, serverOpts{auth: authAPIKey})
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	oauthOutputs := write("oauth.env", "# written by scripts/outputs.sh\nMCP_SERVER_URL="+oauthSrv.url+"\nAUTH_METHOD=oauth\nOAUTH_CLIENT_ID="+testClientID+"\nACCESS_TOKEN="+oauthSrv.token+"\n")
	keyOutputs := write("apikey.env", "MCP_SERVER_URL="+keySrv.url+"\nAUTH_METHOD=lambda\nACCESS_TOKEN='"+keySrv.token+"'\n")
	badOutputs := write("bad.env", "$(reboot)\n")
	noOutputs := filepath.Join(dir, "none.env")

	// A login as `auth login` leaves it in the store.
	storeDir := filepath.Join(dir, "store")
	canonical, err := oauthclient.CanonicalResource(oauthSrv.url)
	if err != nil {
		t.Fatal(err)
	}
	if err := (oauthclient.Store{Dir: storeDir}).SaveTokens(&oauthclient.Tokens{
		ServerURL: canonical, Issuer: strings.TrimSuffix(canonical, "/mcp"), Resource: canonical,
		ClientID: testClientID, ClientKind: "configured", AuthMethod: "none",
		AccessToken: oauthSrv.token, TokenType: "Bearer", ExpiresAt: time.Now().Add(time.Hour),
		TokenEndpoint: "https://smoke-test.auth.us-east-1.amazoncognito.com/oauth2/token", SavedAt: time.Now(),
	}); err != nil {
		t.Fatal(err)
	}
	emptyStore := filepath.Join(dir, "empty-store")

	noToken := "no token: " + NoTokenFix
	tests := []struct {
		name   string
		args   []string
		env    map[string]string
		cancel bool // Ctrl-C before the run
		status int
		out    []string
		errOut []string
	}{
		{name: "help", args: []string{"-h"}, status: 0, errOut: []string{"usage: mcp-client smoke [-url URL] [-outputs FILE]"}},
		{name: "unknown flag", args: []string{"-frob"}, status: 2, errOut: []string{"usage: mcp-client smoke"}},
		{name: "stray argument", args: []string{"-outputs", noOutputs, "now"}, status: 2, errOut: []string{`unexpected argument "now"`}},
		{name: "bad outputs file", args: []string{"-outputs", badOutputs}, status: 2, errOut: []string{"bad.env: line 1: not KEY=VALUE"}},
		{name: "bad environment", args: []string{"-outputs", noOutputs}, env: map[string]string{"AUTH_METHOD": "password"}, status: 2, errOut: []string{"AUTH_METHOD"}},
		{name: "bad URL", args: []string{"-outputs", noOutputs, "-url", "ftp://example.com/mcp"}, status: 2, errOut: []string{"not an absolute http(s) URL"}},
		{
			name: "ACCESS_TOKEN from the outputs file", args: []string{"-outputs", oauthOutputs},
			status: 0,
			out: []string{
				"smoke: " + oauthSrv.url + " (settings from " + oauthOutputs + "; token from ACCESS_TOKEN)\n",
				"\nok   discovery: 401 Bearer challenge", "\nok   session: ", "\nok   streaming: ", "\nok   instances: ",
				"\nsmoke: 4 passed\n",
			},
		},
		{
			name: "token stored by auth login", args: []string{"-outputs", noOutputs},
			env:    map[string]string{"MCP_SERVER_URL": oauthSrv.url, "AUTH_METHOD": "oauth", "OAUTH_TOKEN_DIR": storeDir},
			status: 0,
			out: []string{
				"smoke: " + oauthSrv.url + " (settings from the environment (no " + noOutputs + "); token stored by auth login)\n",
				"\nsmoke: 4 passed\n",
			},
		},
		{
			name: "negotiated: stateless era", args: []string{"-outputs", oauthOutputs},
			env:    map[string]string{"MCP_PROTOCOL_VERSION": "auto"},
			status: 0,
			out: []string{
				"\nok   discovery: 401 Bearer challenge", "\nok   session: server/discover (protocol 2026-07-28), tools/list (2 tools), greet -> \"Hello, smoke!\"",
				"\nok   streaming: ", "\nskip instances: the server speaks the stateless era (2026-07-28)",
				"\nsmoke: 3 passed, 1 skipped\n",
			},
		},
		{
			name: "bad protocol version", args: []string{"-outputs", noOutputs},
			env:    map[string]string{"MCP_PROTOCOL_VERSION": "2024-11-05"},
			status: 2, errOut: []string{"MCP_PROTOCOL_VERSION"},
		},
		{
			name: "API key deployment", args: []string{"-outputs", keyOutputs},
			status: 0,
			out:    []string{"\nok   discovery: API key deployment: no OAuth discovery", "\nsmoke: 4 passed\n"},
		},
		{
			name: "no token", args: []string{"-outputs", noOutputs, "-url", oauthSrv.url},
			env:    map[string]string{"OAUTH_TOKEN_DIR": emptyStore},
			status: 1,
			out: []string{
				"(settings from the -url flag (no " + noOutputs + "); no token)",
				"\nok   discovery: ", "\nFAIL session: " + noToken + "\n", "\nFAIL streaming: " + noToken + "\n", "\nFAIL instances: " + noToken + "\n",
				"\nsmoke: 3 failed, 1 passed\n",
			},
		},
		{
			name: "environment over the outputs file", args: []string{"-outputs", oauthOutputs},
			env:    map[string]string{"ACCESS_TOKEN": "refused-token", "OAUTH_TOKEN_DIR": emptyStore},
			status: 1,
			out: []string{
				"(settings from " + oauthOutputs + " and the environment; token from ACCESS_TOKEN)",
				"\nFAIL session: initialize: the configured access token was refused", "check ACCESS_TOKEN (from the environment)",
			},
		},
		{
			name: "interrupted", args: []string{"-outputs", oauthOutputs}, cancel: true,
			status: 1,
			out:    []string{"\nsmoke: stopped after 0 of 4 checks (interrupted): no checks run\n"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), wait)
			defer cancel()
			if tc.cancel {
				cancel()
			}
			var out, errOut bytes.Buffer
			status := Main(ctx, tc.args, &out, &errOut, func(k string) string {
				if v, ok := tc.env[k]; ok || k != "MCP_PROTOCOL_VERSION" {
					return v
				}
				// These checks are about a session-era deployment
				// unless the case says otherwise.
				return mcp.LatestVersion
			})
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
			for _, secret := range []string{oauthSrv.token[:16], keySrv.token[:16]} {
				if strings.Contains(out.String()+errOut.String(), secret) {
					t.Errorf("the output shows a token:\n%s%s", out.String(), errOut.String())
				}
			}
			if len(tc.out) > 0 {
				lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
				if !strings.HasPrefix(lines[0], "smoke: ") || !strings.HasPrefix(lines[len(lines)-1], "smoke: ") {
					t.Errorf("not a header, the checks and a summary:\n%s", out.String())
				}
			}
		})
	}
}
