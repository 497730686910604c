// Package auth_test runs bin/mcp-server with AUTH_METHOD=oauth against a
// Cognito user pool on moto_server: real tokens from the AWS SDK, real
// JWKS, the real binary.
package auth_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"mcplambda/oauth"
	"mcplambda/test/moto"
	"mcplambda/test/testproc"
)

type mcpServer struct {
	base string // http://localhost:PORT
	url  string // base + /mcp
}

func startServer(t *testing.T, env ...string) (*mcpServer, *testproc.Process) {
	t.Helper()
	root := testproc.RepoRoot(t)
	bin := testproc.BuildRace(t, root, "./cmd/mcp-server")
	port := testproc.FreePort(t)
	p := testproc.Start(t, bin, testproc.Options{
		Name:  "mcp-server",
		Unset: testproc.ServerEnv(),
		Env:   append([]string{"HOST=127.0.0.1", "PORT=" + strconv.Itoa(port), "LOG_LEVEL=debug"}, env...),
	})
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	p.WaitListening(t, addr, 30*time.Second)
	t.Cleanup(func() {
		if p.HasDataRace() {
			t.Errorf("data race in the server:\n%s", p.RaceReport())
		}
		if strings.Contains(p.Output(), "eyJ") {
			t.Errorf("the server logged something that looks like a token:\n%s", p.Tail(40))
		}
	})
	base := "http://localhost:" + strconv.Itoa(port)
	return &mcpServer{base: base, url: base + "/mcp"}, p
}

type reply struct {
	status int
	header http.Header
	body   string
}

func call(t *testing.T, method, url, token, sid, body string) reply {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if sid != "" {
		req.Header.Set("Mcp-Session-Id", sid)
	}
	// A deadline, so that a server that never answers fails the test with
	// this message instead of hanging it until go test's -timeout.
	hc := &http.Client{Timeout: 30 * time.Second}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the answer: %v", method, url, err)
	}
	return reply{resp.StatusCode, resp.Header, string(b)}
}

const initBody = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`

func TestCognitoOnMoto(t *testing.T) {
	srv := moto.Start(t)
	c := moto.NewCognito(t, srv, moto.CognitoOptions{Domain: "mcp-test"})
	// A second allowed app: the same user through it is another principal.
	secondApp := c.AddClient(t, "second-app")
	mcp, proc := startServer(t,
		"AUTH_METHOD=oauth",
		"COGNITO_REGION=us-east-1",
		"COGNITO_USER_POOL_ID="+c.PoolID,
		"COGNITO_ALLOWED_CLIENT_IDS="+c.ClientID+","+secondApp,
		"COGNITO_DOMAIN=mcp-test",
		"OAUTH_JWKS_URL="+c.JWKSURL,
		// moto, like Cognito without resource binding, issues access tokens without aud.
		"OAUTH_ALLOW_MISSING_AUDIENCE=true",
	)
	metadataURL := mcp.base + "/.well-known/oauth-protected-resource/mcp"

	t.Run("discovery needs no token", func(t *testing.T) {
		for _, path := range []string{"/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-protected-resource"} {
			r := call(t, http.MethodGet, mcp.base+path, "", "", "")
			var md oauth.ProtectedResourceMetadata
			if r.status != 200 || json.Unmarshal([]byte(r.body), &md) != nil {
				t.Fatalf("%s: %d %s", path, r.status, r.body)
			}
			if md.Resource != mcp.url || len(md.AuthorizationServers) != 1 || md.AuthorizationServers[0] != mcp.base ||
				md.BearerMethodsSupported[0] != "header" || r.header.Get("Access-Control-Allow-Origin") != "*" || r.header.Get("Cache-Control") == "" {
				t.Fatalf("%s: %s %v", path, r.body, r.header)
			}
		}
		for _, path := range []string{"/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"} {
			r := call(t, http.MethodGet, mcp.base+path, "", "", "")
			var md oauth.AuthorizationServerMetadata
			if r.status != 200 || json.Unmarshal([]byte(r.body), &md) != nil {
				t.Fatalf("%s: %d %s", path, r.status, r.body)
			}
			if md.Issuer != mcp.base || md.CodeChallengeMethodsSupported[0] != "S256" ||
				md.AuthorizationEndpoint != "https://mcp-test.auth.us-east-1.amazoncognito.com/oauth2/authorize" || md.JWKSURI == "" {
				t.Fatalf("%s: %s", path, r.body)
			}
		}
	})

	t.Run("the official SDK's OAuth client proceeds to Cognito with PKCE", func(t *testing.T) {
		root := testproc.RepoRoot(t)
		node := testproc.NodeTools(t, root, "@modelcontextprotocol/sdk")
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, node.Bin, "sdk_login.mjs", mcp.url, c.ClientID, "https://mcp-test.auth.us-east-1.amazoncognito.com/oauth2/authorize")
		out, err := cmd.CombinedOutput()
		t.Logf("%s", out)
		if err != nil || !strings.Contains(string(out), " 0 failed") {
			t.Fatalf("sdk_login.mjs: %v", err)
		}
	})

	t.Run("initialize needs a token", func(t *testing.T) {
		r := call(t, http.MethodPost, mcp.url, "", "", initBody)
		if r.status != 401 || r.header.Get("WWW-Authenticate") != `Bearer resource_metadata="`+metadataURL+`"` {
			t.Fatalf("%d %q %s", r.status, r.header.Get("WWW-Authenticate"), r.body)
		}
		if !strings.Contains(r.body, `"error"`) {
			t.Fatalf("no JSON-RPC error body: %s", r.body)
		}
	})

	access, id, _ := c.Tokens(t)
	var sid string
	t.Run("a Cognito access token works end to end", func(t *testing.T) {
		r := call(t, http.MethodPost, mcp.url, access, "", initBody)
		if r.status != 200 {
			t.Fatalf("initialize: %d %s", r.status, r.body)
		}
		sid = r.header.Get("Mcp-Session-Id")
		if sid == "" {
			t.Fatalf("initialize with a valid token opened no session (no Mcp-Session-Id): %v", r.header)
		}
		r = call(t, http.MethodPost, mcp.url, access, sid, `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"greet","arguments":{"name":"Alice"}}}`)
		if r.status != 200 || !strings.Contains(r.body, "Hello, Alice!") {
			t.Fatalf("tools/call: %d %s", r.status, r.body)
		}
	})

	c.AddUser(t, "bob")
	bob, _, _ := c.TokensFor(t, c.ClientID, "bob")
	other := c.AddClient(t, "not-allowed")
	otherClient, _, _ := c.TokensFor(t, other, "alice")
	aliceSecondApp, _, _ := c.TokensFor(t, secondApp, "alice")
	tests := []struct {
		name, token string
		status      int
		desc        string
	}{
		{"an ID token is not an access token", id, 401, "the token is not an access token"},
		{"a client that is not allowed", otherClient, 401, "the token's client is not allowed"},
		{"garbage", "not-a-token", 401, "the token is malformed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := call(t, http.MethodPost, mcp.url, tt.token, "", initBody)
			want := `Bearer error="invalid_token", error_description="` + tt.desc + `", resource_metadata="` + metadataURL + `"`
			if r.status != tt.status || r.header.Get("WWW-Authenticate") != want {
				t.Fatalf("%d %q, want %d %q", r.status, r.header.Get("WWW-Authenticate"), tt.status, want)
			}
		})
	}

	t.Run("another user's or another app's token cannot use the session", func(t *testing.T) {
		if sid == "" {
			// Not a skip: the session this case needs should exist.
			t.Fatal("no session to test: the end-to-end case above failed to open one")
		}
		const ping = `{"jsonrpc":"2.0","id":3,"method":"ping"}`
		if r := call(t, http.MethodPost, mcp.url, aliceSecondApp, "", initBody); r.status != 200 {
			t.Fatalf("alice through the second app is allowed: initialize %d %s", r.status, r.body)
		}
		for name, token := range map[string]string{"bob": bob, "alice through the second app": aliceSecondApp} {
			if r := call(t, http.MethodPost, mcp.url, token, sid, ping); r.status != 404 {
				t.Fatalf("%s on alice's session: %d %s", name, r.status, r.body)
			}
		}
		if r := call(t, http.MethodPost, mcp.url, access, sid, ping); r.status != 200 {
			t.Fatalf("alice after the others: %d", r.status)
		}
	})

	if err := proc.Stop(t); err != nil {
		t.Fatal(err)
	}
}

// The server refuses to start with an incomplete or unsafe configuration,
// and says which variable to fix.
func TestRefusesUnsafeConfiguration(t *testing.T) {
	root := testproc.RepoRoot(t)
	bin := testproc.BuildRace(t, root, "./cmd/mcp-server")
	tests := []struct {
		env  []string
		want string
	}{
		{[]string{"AUTH_METHOD=none", "HOST=0.0.0.0"}, "only allowed on a loopback address"},
		{[]string{"AUTH_METHOD=oauth"}, "needs an issuer"},
		{[]string{"AUTH_METHOD=oauth", "COGNITO_REGION=us-east-1", "COGNITO_USER_POOL_ID=bad"}, "REGION_ID"},
		{[]string{"AUTH_METHOD=oauth", "COGNITO_REGION=us-east-1", "COGNITO_USER_POOL_ID=us-east-1_x", "HOST=0.0.0.0"}, "MCP_RESOURCE_URL"},
		{[]string{"AUTH_METHOD=oauth", "COGNITO_REGION=us-east-1", "COGNITO_USER_POOL_ID=us-east-1_x", "OAUTH_ALLOW_MISSING_AUDIENCE=true"}, "COGNITO_ALLOWED_CLIENT_IDS"},
		{[]string{"AUTH_METHOD=magic"}, "use none, oauth or lambda"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.env, " "), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, bin)
			cmd.Env = append(withoutServerEnv(), append([]string{"PORT=0"}, tt.env...)...)
			out, err := cmd.CombinedOutput()
			if err == nil || ctx.Err() != nil || !strings.Contains(string(out), tt.want) {
				t.Fatalf("exit %v, output:\n%s", err, out)
			}
		})
	}
}

func withoutServerEnv() []string {
	return slices.DeleteFunc(os.Environ(), func(kv string) bool {
		k, _, _ := strings.Cut(kv, "=")
		return slices.Contains(testproc.ServerEnv(), k)
	})
}
