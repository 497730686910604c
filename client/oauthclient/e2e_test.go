package oauthclient_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"mcplambda/client/oauthclient"
	"mcplambda/greetings"
	"mcplambda/mcp"
	"mcplambda/oauth"
	"mcplambda/test/oidc"
)

// mcpServer is the repository's MCP server, in process, as a resource
// server of the provider: AUTH_METHOD=oauth, OAUTH_ISSUER=the provider,
// MCP_RESOURCE_URL=its own URL.
func startMCP(t *testing.T, issuer, requiredScopes string) string {
	return oidc.StartMCP(t, issuer, requiredScopes, greetings.Options{})
}

// call sends one JSON-RPC request the way the MCP client does: Authorize
// before each attempt, Challenge on 401 / 403 insufficient_scope, at most
// two retries.
func call(ctx context.Context, f *oauthclient.Flow, endpoint, sessionID, body string) (*http.Response, []byte, error) {
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(body))
		if err != nil {
			return nil, nil, err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		req.Header.Set("MCP-Protocol-Version", "2025-11-25")
		if sessionID != "" {
			req.Header.Set("Mcp-Session-Id", sessionID)
		}
		if err := f.Authorize(ctx, req); err != nil {
			return nil, nil, err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil, nil, err
		}
		data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		if err != nil {
			return nil, nil, err
		}
		ch, _ := oauth.BearerChallenge(resp.Header)
		retryable := resp.StatusCode == http.StatusUnauthorized ||
			resp.StatusCode == http.StatusForbidden && ch.Param("error") == "insufficient_scope"
		if !retryable || attempt == 2 {
			return resp, data, nil
		}
		if err := f.Challenge(ctx, resp); err != nil {
			return resp, data, err
		}
	}
}

const initialize = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"e2e","version":"1"}}}`

// greet opens a session and calls the greet tool; it returns the text.
func greet(ctx context.Context, t *testing.T, f *oauthclient.Flow, endpoint string) (string, error) {
	t.Helper()
	resp, body, err := call(ctx, f, endpoint, "", initialize)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("initialize: HTTP %d %s: %s", resp.StatusCode, resp.Header.Get("WWW-Authenticate"), body)
	}
	sid := resp.Header.Get("Mcp-Session-Id")
	if _, _, err := call(ctx, f, endpoint, sid, `{"jsonrpc":"2.0","method":"notifications/initialized"}`); err != nil {
		return "", err
	}
	resp, body, err = call(ctx, f, endpoint, sid, `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"greet","arguments":{"name":"Ada"}}}`)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("tools/call: HTTP %d %s: %s", resp.StatusCode, resp.Header.Get("WWW-Authenticate"), body)
	}
	var out struct {
		Result mcp.CallToolResult `json:"result"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		return "", fmt.Errorf("tools/call answer %s: %w", body, err)
	}
	if len(out.Result.Content) == 0 {
		return "", fmt.Errorf("tools/call answer without content: %s", body)
	}
	raw, _ := json.Marshal(out.Result.Content[0])
	var text struct{ Text string }
	_ = json.Unmarshal(raw, &text)
	return text.Text, nil
}

// clock is a Flow clock the test can move forward.
type clock struct{ offset atomic.Int64 }

func (c *clock) now() time.Time          { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *clock) advance(d time.Duration) { c.offset.Add(int64(d)) }
func (c *clock) Now() func() time.Time   { return c.now }
func (b *countingBrowser) Opened() int   { return int(b.n.Load()) }
func (b *countingBrowser) URLs() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.urls)
}
func (b *countingBrowser) LastURL() string { u := b.URLs(); return u[len(u)-1] }

// countingBrowser logs in through the provider's pages and records the
// authorization URLs it was given.
type countingBrowser struct {
	b    oidc.Browser
	n    atomic.Int32
	mu   sync.Mutex
	urls []string
}

func (b *countingBrowser) Open(ctx context.Context, u string) error {
	b.n.Add(1)
	b.mu.Lock()
	b.urls = append(b.urls, u)
	b.mu.Unlock()
	return b.b.Open(ctx, u)
}

// syncBuffer is an io.Writer the Flow and the test share.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

type harness struct {
	t       *testing.T
	p       *oidc.Provider
	dir     string
	out     *syncBuffer
	browser *countingBrowser
	clock   *clock
}

func newHarness(t *testing.T, p *oidc.Provider) *harness {
	return &harness{t: t, p: p, dir: filepath.Join(t.TempDir(), "store"), out: &syncBuffer{},
		browser: &countingBrowser{b: oidc.Browser{Login: "alice"}}, clock: &clock{}}
}

func (h *harness) flow(serverURL string, mutate ...func(*oauthclient.Config)) *oauthclient.Flow {
	h.t.Helper()
	cfg := oauthclient.Config{
		ServerURL:    serverURL,
		ClientID:     h.p.ClientID,
		RedirectURI:  "http://127.0.0.1:0/callback",
		OpenBrowser:  h.browser.Open,
		Out:          h.out,
		StoreDir:     h.dir,
		LoginTimeout: 60 * time.Second,
		Now:          h.clock.Now(),
	}
	for _, m := range mutate {
		m(&cfg)
	}
	f, err := oauthclient.New(cfg)
	if err != nil {
		h.t.Fatal(err)
	}
	return f
}

// storedTokens reads the one token file of the store.
func (h *harness) storedTokens() (oauthclient.Tokens, string) {
	h.t.Helper()
	files, _ := filepath.Glob(filepath.Join(h.dir, "tokens-*.json"))
	if len(files) != 1 {
		h.t.Fatalf("want one token file in the store, have %v", files)
	}
	data, err := os.ReadFile(files[0])
	if err != nil {
		h.t.Fatal(err)
	}
	var tok oauthclient.Tokens
	if err := json.Unmarshal(data, &tok); err != nil {
		h.t.Fatal(err)
	}
	return tok, files[0]
}

// noSecretsPrinted checks that nothing the Flow printed holds a token.
func (h *harness) noSecretsPrinted(tok oauthclient.Tokens) {
	h.t.Helper()
	out := h.out.String()
	for name, secret := range map[string]string{"access token": tok.AccessToken, "refresh token": tok.RefreshToken} {
		if secret != "" && strings.Contains(out, secret) {
			h.t.Errorf("the %s was printed", name)
		}
	}
}

// directRefresh is a refresh request made by the test itself, to see what
// the authorization server thinks of a refresh token.
func directRefresh(t *testing.T, p *oidc.Provider, refreshToken, resource string) (int, string) {
	t.Helper()
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refreshToken}, "client_id": {p.ClientID}, "resource": {resource}}
	resp, err := http.PostForm(p.TokenEndpoint(), form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var e struct {
		Error string `json:"error"`
	}
	_ = json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&e)
	return resp.StatusCode, e.Error
}

func jwtPayload(t *testing.T, token string) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("the access token is not a JWT (%d parts)", len(parts))
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims map[string]any
	if err := json.Unmarshal(raw, &claims); err != nil {
		t.Fatal(err)
	}
	return claims
}

func mode(t *testing.T, path string) fs.FileMode {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Mode().Perm()
}

func TestEndToEndWithOIDCProvider(t *testing.T) {
	p := oidc.Start(t, oidc.Options{})
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()

	t.Run("401 leads through discovery to a login, then the call succeeds", func(t *testing.T) {
		endpoint := startMCP(t, p.Issuer, "mcp:read")
		h := newHarness(t, p)
		f := h.flow(endpoint, func(c *oauthclient.Config) { c.Interactive = true })
		text, err := greet(ctx, t, f, endpoint)
		if err != nil {
			t.Fatalf("%v\nprovider:\n%s", err, p.Output())
		}
		if text != "Hello, Ada!" {
			t.Fatalf("greet answered %q", text)
		}
		if h.browser.Opened() != 1 {
			t.Fatalf("the browser was opened %d times, want 1", h.browser.Opened())
		}
		au, err := url.Parse(h.browser.LastURL())
		if err != nil {
			t.Fatal(err)
		}
		q := au.Query()
		for k, want := range map[string]string{
			"response_type": "code", "client_id": p.ClientID, "code_challenge_method": "S256",
			"resource": endpoint, "scope": "mcp:read",
		} {
			if q.Get(k) != want {
				t.Errorf("authorization request %s = %q, want %q", k, q.Get(k), want)
			}
		}
		if n := len(q.Get("code_challenge")); n != 43 {
			t.Errorf("code_challenge has %d characters, want 43 (S256)", n)
		}
		if q.Get("state") == "" {
			t.Error("no state in the authorization request")
		}
		if !strings.Contains(h.out.String(), h.browser.LastURL()) {
			t.Errorf("the authorization URL was not printed for copy and paste:\n%s", h.out.String())
		}

		tok, path := h.storedTokens()
		if m := mode(t, path); m != 0o600 {
			t.Errorf("token file mode %v, want 0600", m)
		}
		if m := mode(t, h.dir); m != 0o700 {
			t.Errorf("store directory mode %v, want 0700", m)
		}
		if tok.RefreshToken == "" || tok.ExpiresAt.IsZero() || tok.Issuer != p.Issuer || tok.ClientID != p.ClientID {
			t.Errorf("stored tokens incomplete: refresh %t, expiry %v, issuer %q, client %q", tok.RefreshToken != "", tok.ExpiresAt, tok.Issuer, tok.ClientID)
		}
		if until := time.Until(tok.ExpiresAt); until < 50*time.Minute || until > 61*time.Minute {
			t.Errorf("expiry %v is not about an hour away (expires_in 3600)", tok.ExpiresAt)
		}
		claims := jwtPayload(t, tok.AccessToken)
		if claims["aud"] != endpoint {
			t.Errorf("access token aud = %v, want the MCP resource %s", claims["aud"], endpoint)
		}
		h.noSecretsPrinted(tok)

		st, err := f.Status()
		if err != nil {
			t.Fatal(err)
		}
		if !st.LoggedIn || st.Subject != "alice" || st.ClientID != p.ClientID || !slices.Contains(st.Scopes, "mcp:read") || st.Expired || !st.CanRefresh {
			t.Errorf("status %+v", st)
		}
		for _, want := range []string{"alice", p.ClientID, "mcp:read", p.Issuer} {
			if !strings.Contains(st.String(), want) {
				t.Errorf("status text lacks %q:\n%s", want, st)
			}
		}
		if strings.Contains(st.String(), tok.AccessToken) {
			t.Error("the status shows the access token")
		}

		// A new Flow (a new process) uses the stored token without a login.
		f2 := h.flow(endpoint)
		if text, err := greet(ctx, t, f2, endpoint); err != nil || text != "Hello, Ada!" {
			t.Fatalf("with the stored token: %q, %v", text, err)
		}
		if h.browser.Opened() != 1 {
			t.Errorf("the stored token was not used: the browser opened %d times", h.browser.Opened())
		}
	})

	t.Run("refresh rotates the refresh token; a rejected refresh asks to log in again", func(t *testing.T) {
		endpoint := startMCP(t, p.Issuer, "mcp:read")
		h := newHarness(t, p)
		f := h.flow(endpoint) // not interactive: only the explicit Login opens the browser
		if err := f.Login(ctx); err != nil {
			t.Fatalf("login: %v\n%s", err, p.Output())
		}
		first, _ := h.storedTokens()

		// Within a minute of expiry, Authorize refreshes before sending.
		h.clock.advance(time.Until(first.ExpiresAt) - 30*time.Second)
		req, _ := http.NewRequest(http.MethodPost, endpoint, nil)
		if err := f.Authorize(ctx, req); err != nil {
			t.Fatalf("authorize with a token about to expire: %v", err)
		}
		second, _ := h.storedTokens()
		if second.RefreshToken == first.RefreshToken || second.AccessToken == first.AccessToken {
			t.Fatal("the tokens were not refreshed and rotated")
		}
		if req.Header.Get("Authorization") != "Bearer "+second.AccessToken {
			t.Error("the request does not carry the refreshed access token")
		}
		if !second.ExpiresAt.After(first.ExpiresAt) {
			t.Errorf("the refreshed expiry %v is not later than %v", second.ExpiresAt, first.ExpiresAt)
		}
		if claims := jwtPayload(t, second.AccessToken); claims["aud"] != endpoint {
			t.Errorf("refreshed access token aud = %v, want %s", claims["aud"], endpoint)
		}
		h.clock.advance(-h.clock.offsetDuration())
		if text, err := greet(ctx, t, f, endpoint); err != nil || text != "Hello, Ada!" {
			t.Fatalf("with the refreshed token: %q, %v", text, err)
		}
		h.noSecretsPrinted(second)

		// The old refresh token is dead (rotation). oidc-provider treats its
		// reuse as a replay and revokes the whole grant, so the current
		// refresh token dies too: the next refresh must ask for a login,
		// not start one.
		if status, code := directRefresh(t, p, first.RefreshToken, endpoint); status != http.StatusBadRequest || code != "invalid_grant" {
			t.Fatalf("refresh with the rotated-out token: HTTP %d %q, want 400 invalid_grant", status, code)
		}
		opened := h.browser.Opened()
		err := f.Refresh(ctx)
		if !errors.Is(err, oauthclient.ErrLoginRequired) || !strings.Contains(err.Error(), "log in again") {
			t.Fatalf("refresh after the grant was revoked: %v, want ErrLoginRequired saying to log in again", err)
		}
		if files, _ := filepath.Glob(filepath.Join(h.dir, "tokens-*.json")); len(files) != 0 {
			t.Errorf("dead tokens kept: %v", files)
		}
		_, _, err = call(ctx, f, endpoint, "", initialize)
		if !errors.Is(err, oauthclient.ErrLoginRequired) {
			t.Fatalf("a call without tokens on a non-interactive flow: %v, want ErrLoginRequired", err)
		}
		if h.browser.Opened() != opened {
			t.Error("a non-interactive flow opened the browser")
		}
	})

	t.Run("403 insufficient_scope steps up to the union of the scopes", func(t *testing.T) {
		endpoint := startMCP(t, p.Issuer, "mcp:read mcp:write")
		h := newHarness(t, p)
		f := h.flow(endpoint)
		if err := f.Login(ctx, "mcp:read"); err != nil {
			t.Fatalf("login: %v\n%s", err, p.Output())
		}
		if tok, _ := h.storedTokens(); !slices.Equal(tok.Scopes, []string{"mcp:read"}) {
			t.Fatalf("first login granted %v", tok.Scopes)
		}
		// Not interactive: the refusal names the scopes and asks for a login.
		_, _, err := call(ctx, f, endpoint, "", initialize)
		if !errors.Is(err, oauthclient.ErrLoginRequired) || !strings.Contains(err.Error(), "mcp:write") {
			t.Fatalf("non-interactive step-up: %v", err)
		}
		f.SetInteractive(true)
		if text, err := greet(ctx, t, f, endpoint); err != nil || text != "Hello, Ada!" {
			t.Fatalf("after step-up: %q, %v", text, err)
		}
		if h.browser.Opened() != 2 {
			t.Errorf("browser opened %d times, want 2 (login, step-up)", h.browser.Opened())
		}
		if q := mustQuery(t, h.browser.LastURL()); q.Get("scope") != "mcp:read mcp:write" {
			t.Errorf("step-up asked for %q, want the union", q.Get("scope"))
		}
		tok, _ := h.storedTokens()
		if !slices.Contains(tok.Scopes, "mcp:write") || !slices.Contains(tok.Scopes, "mcp:read") {
			t.Errorf("after step-up the token has %v", tok.Scopes)
		}
	})

	t.Run("step-up stops after two logins for the same scopes", func(t *testing.T) {
		// A resource server that never accepts any token: its challenge
		// always asks for mcp:write.
		var prm string
		rs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasPrefix(r.URL.Path, "/.well-known/oauth-protected-resource") {
				w.Header().Set("Content-Type", "application/json")
				fmt.Fprintf(w, `{"resource":%q,"authorization_servers":[%q]}`, prm, p.Issuer)
				return
			}
			w.Header().Set("WWW-Authenticate", `Bearer error="insufficient_scope", scope="mcp:write", error_description="needs \"mcp:write\""`)
			w.WriteHeader(http.StatusForbidden)
		}))
		defer rs.Close()
		prm = rs.URL + "/mcp"
		h := newHarness(t, p)
		f := h.flow(prm, func(c *oauthclient.Config) { c.Interactive = true })
		if err := f.Login(ctx, "mcp:read"); err != nil {
			t.Fatal(err)
		}
		var err error
		for i := 0; i < 3 && err == nil; i++ {
			_, _, err = call(ctx, f, prm, "", initialize)
		}
		if err == nil || errors.Is(err, oauthclient.ErrLoginRequired) || !strings.Contains(err.Error(), "after 2 step-up logins") {
			t.Fatalf("want the step-up limit error, got %v", err)
		}
		if h.browser.Opened() != 3 {
			t.Errorf("browser opened %d times, want 3 (login + 2 step-ups)", h.browser.Opened())
		}
	})

	t.Run("logout revokes the tokens and deletes them", func(t *testing.T) {
		endpoint := startMCP(t, p.Issuer, "mcp:read")
		h := newHarness(t, p)
		f := h.flow(endpoint)
		if err := f.Login(ctx); err != nil {
			t.Fatalf("login: %v\n%s", err, p.Output())
		}
		tok, _ := h.storedTokens()
		if status, _ := directRefresh(t, p, tok.RefreshToken, endpoint); status != http.StatusOK {
			t.Fatalf("the refresh token does not work before logout: HTTP %d", status)
		}
		// That refresh rotated the token; the Flow learns nothing of it, so
		// log in again to have a live pair for the logout.
		if err := f.Login(ctx); err != nil {
			t.Fatal(err)
		}
		tok, path := h.storedTokens()
		if err := f.Logout(ctx); err != nil {
			t.Fatalf("logout: %v", err)
		}
		if !strings.Contains(h.out.String(), "cannot revoke access tokens") {
			t.Errorf("no word that the JWT access token outlives the logout:\n%s", h.out.String())
		}
		if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("the token file survived logout: %v", err)
		}
		if status, code := directRefresh(t, p, tok.RefreshToken, endpoint); status != http.StatusBadRequest || code != "invalid_grant" {
			t.Errorf("refresh after logout: HTTP %d %q, want 400 invalid_grant (revoked)", status, code)
		}
		st, err := f.Status()
		if err != nil || st.LoggedIn {
			t.Errorf("status after logout: %+v, %v", st, err)
		}
	})

	t.Run("dynamic client registration when no client id is set", func(t *testing.T) {
		endpoint := startMCP(t, p.Issuer, "mcp:read")
		h := newHarness(t, p)
		noClient := func(c *oauthclient.Config) { c.ClientID = ""; c.Interactive = true }
		f := h.flow(endpoint, noClient)
		if text, err := greet(ctx, t, f, endpoint); err != nil || text != "Hello, Ada!" {
			t.Fatalf("with a registered client: %q, %v\n%s", text, err, p.Output())
		}
		regs, _ := filepath.Glob(filepath.Join(h.dir, "client-*.json"))
		if len(regs) != 1 {
			t.Fatalf("want one stored registration, have %v", regs)
		}
		if m := mode(t, regs[0]); m != 0o600 {
			t.Errorf("registration file mode %v, want 0600", m)
		}
		tok, _ := h.storedTokens()
		if tok.ClientID == "" || tok.ClientID == p.ClientID || tok.ClientKind != "registered" {
			t.Fatalf("tokens issued to client %q (%s), want a newly registered one", tok.ClientID, tok.ClientKind)
		}
		// A later login (another process, another port) reuses the registration.
		if err := h.flow(endpoint, noClient).Login(ctx); err != nil {
			t.Fatal(err)
		}
		again, _ := h.storedTokens()
		if again.ClientID != tok.ClientID {
			t.Errorf("registered again: client %q, then %q", tok.ClientID, again.ClientID)
		}
		if err := f.Refresh(ctx); err != nil {
			t.Errorf("refresh as the registered client: %v", err)
		}
	})

	t.Run("a confidential client authenticates with its secret", func(t *testing.T) {
		endpoint := startMCP(t, p.Issuer, "mcp:read")
		h := newHarness(t, p)
		confidential := func(c *oauthclient.Config) {
			c.ClientID, c.ClientSecret, c.Interactive = oidc.ConfidentialClientID, p.ConfidentialClientSecret, true
		}
		f := h.flow(endpoint, confidential)
		if text, err := greet(ctx, t, f, endpoint); err != nil || text != "Hello, Ada!" {
			t.Fatalf("greet: %q, %v\n%s", text, err, p.Output())
		}
		tok, path := h.storedTokens()
		if tok.ClientID != oidc.ConfidentialClientID || tok.AuthMethod != "client_secret_basic" {
			t.Errorf("tokens for %q with %q", tok.ClientID, tok.AuthMethod)
		}
		raw, _ := os.ReadFile(path)
		if strings.Contains(string(raw), p.ConfidentialClientSecret) {
			t.Error("the configured client secret was written to the token file")
		}
		if err := f.Refresh(ctx); err != nil {
			t.Fatalf("refresh with the secret: %v", err)
		}
		// Without the secret (another process, unset variable) refresh cannot
		// authenticate and says what is missing.
		noSecret := h.flow(endpoint, confidential, func(c *oauthclient.Config) { c.ClientSecret = "" })
		if err := noSecret.Refresh(ctx); !errors.Is(err, oauthclient.ErrLoginRequired) || !strings.Contains(err.Error(), "OAUTH_CLIENT_SECRET") {
			t.Errorf("refresh without the secret: %v", err)
		}
		if err := f.Logout(ctx); err != nil {
			t.Fatalf("logout: %v", err)
		}
	})

	t.Run("a localhost redirect URI", func(t *testing.T) {
		endpoint := startMCP(t, p.Issuer, "mcp:read")
		h := newHarness(t, p)
		f := h.flow(endpoint, func(c *oauthclient.Config) { c.RedirectURI = "http://localhost:0/callback" })
		if err := f.Login(ctx); err != nil {
			t.Fatalf("login: %v\n%s", err, p.Output())
		}
		ru, err := url.Parse(mustQuery(t, h.browser.LastURL()).Get("redirect_uri"))
		if err != nil || ru.Hostname() != "localhost" || ru.Port() == "0" || ru.Path != "/callback" {
			t.Fatalf("redirect_uri %v (%v)", ru, err)
		}
		if text, err := greet(ctx, t, f, endpoint); err != nil || text != "Hello, Ada!" {
			t.Fatalf("greet: %q, %v", text, err)
		}
	})

	t.Run("the user declines: the server's error is reported", func(t *testing.T) {
		endpoint := startMCP(t, p.Issuer, "mcp:read")
		h := newHarness(t, p)
		h.browser.b.Deny = true
		err := h.flow(endpoint).Login(ctx)
		var ae *oauthclient.AuthorizationError
		if !errors.As(err, &ae) || ae.Code != "access_denied" {
			t.Fatalf("login declined: %v, want an access_denied AuthorizationError", err)
		}
		if files, _ := filepath.Glob(filepath.Join(h.dir, "tokens-*.json")); len(files) != 0 {
			t.Errorf("tokens stored after a refused login: %v", files)
		}
	})
}

func (c *clock) offsetDuration() time.Duration { return time.Duration(c.offset.Load()) }

func mustQuery(t *testing.T, raw string) url.Values {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query()
}
