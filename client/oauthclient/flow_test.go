package oauthclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"mcplambda/oauth"
)

// testAS is a small authorization server and resource metadata host for
// the cases a real server cannot be made to produce on demand (forged
// callbacks, odd metadata, confidential clients). It records each token
// request.
type testAS struct {
	*httptest.Server
	mu       sync.Mutex
	md       oauth.AuthorizationServerMetadata
	requests []recordedRequest
	answer   func(form url.Values) (int, string) // token endpoint answer
}

type recordedRequest struct {
	form          url.Values
	authorization string
}

func newTestAS(t *testing.T) *testAS {
	a := &testAS{answer: func(url.Values) (int, string) {
		return 200, `{"access_token":"at-1","token_type":"Bearer","expires_in":300,"refresh_token":"rt-1"}`
	}}
	a.Server = httptest.NewServer(http.HandlerFunc(a.serve))
	a.md = asMetadata(a.URL)
	t.Cleanup(a.Close)
	return a
}

func (a *testAS) resource() string { return a.URL + "/mcp" }

func (a *testAS) serve(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	defer a.mu.Unlock()
	switch r.URL.Path {
	case "/.well-known/oauth-protected-resource/mcp":
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(oauth.ProtectedResourceMetadata{Resource: a.resource(), AuthorizationServers: []string{a.URL}, ScopesSupported: []string{"s1", "s2"}})
	case "/.well-known/oauth-authorization-server":
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(a.md)
	case "/token":
		_ = r.ParseForm()
		a.requests = append(a.requests, recordedRequest{form: r.PostForm, authorization: r.Header.Get("Authorization")})
		status, body := a.answer(r.PostForm)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	default:
		http.NotFound(w, r)
	}
}

func (a *testAS) setMetadata(fn func(*oauth.AuthorizationServerMetadata)) {
	a.mu.Lock()
	fn(&a.md)
	a.mu.Unlock()
}

func (a *testAS) tokenRequests() []recordedRequest {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]recordedRequest(nil), a.requests...)
}

// callbackBrowser plays the authorization server's redirect: it sends the
// browser to the redirect URI with the query that tweak makes from the
// real state, and keeps the page it got.
type callbackBrowser struct {
	tweak  func(authQuery url.Values) url.Values
	mu     sync.Mutex
	auth   url.Values
	status int
	page   string
}

func (b *callbackBrowser) open(ctx context.Context, authURL string) error {
	u, err := url.Parse(authURL)
	if err != nil {
		return err
	}
	q := u.Query()
	cb, err := url.Parse(q.Get("redirect_uri"))
	if err != nil {
		return err
	}
	cb.RawQuery = b.tweak(q).Encode()
	resp, err := http.Get(cb.String())
	if err != nil {
		return err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	b.mu.Lock()
	b.auth, b.status, b.page = q, resp.StatusCode, string(body)
	b.mu.Unlock()
	return nil
}

func newTestFlow(t *testing.T, a *testAS, b func(context.Context, string) error, mutate ...func(*Config)) *Flow {
	t.Helper()
	cfg := Config{
		ServerURL:    a.resource(),
		ClientID:     "client-1",
		RedirectURI:  "http://127.0.0.1:0/callback",
		OpenBrowser:  b,
		Out:          io.Discard,
		StoreDir:     t.TempDir(),
		LoginTimeout: 30 * time.Second,
	}
	for _, m := range mutate {
		m(&cfg)
	}
	f, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func withState(code string) func(url.Values) url.Values {
	return func(q url.Values) url.Values {
		return url.Values{"code": {code}, "state": {q.Get("state")}}
	}
}

func TestLoginCallbackChecks(t *testing.T) {
	tests := []struct {
		name       string
		tweak      func(url.Values) url.Values
		wantErr    func(error) bool
		wantStatus int
		wantPage   []string
		notInPage  []string
	}{
		{
			name:       "success",
			tweak:      withState("the-code"),
			wantErr:    func(err error) bool { return err == nil },
			wantStatus: 200,
			wantPage:   []string{"You are logged in"},
		},
		{
			name: "error from the authorization server, shown escaped",
			tweak: func(q url.Values) url.Values {
				return url.Values{"state": {q.Get("state")}, "error": {"invalid_scope"}, "error_description": {`<script>alert("x")</script> & more`}}
			},
			wantErr: func(err error) bool {
				var ae *AuthorizationError
				return errors.As(err, &ae) && ae.Code == "invalid_scope" && strings.Contains(ae.Description, "<script>")
			},
			wantStatus: 400,
			wantPage:   []string{"invalid_scope", "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; more"},
			notInPage:  []string{"<script>"},
		},
		{
			name: "issuer of another server (RFC 9207 mix-up)",
			tweak: func(q url.Values) url.Values {
				return url.Values{"state": {q.Get("state")}, "code": {"c"}, "iss": {"https://evil.example"}}
			},
			wantErr:    func(err error) bool { return err != nil && strings.Contains(err.Error(), "mix-up") },
			wantStatus: 400,
		},
		{
			name:       "neither code nor error",
			tweak:      func(q url.Values) url.Values { return url.Values{"state": {q.Get("state")}} },
			wantErr:    func(err error) bool { return err != nil && strings.Contains(err.Error(), "neither a code") },
			wantStatus: 400,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newTestAS(t)
			b := &callbackBrowser{tweak: tt.tweak}
			f := newTestFlow(t, a, b.open)
			err := f.Login(t.Context())
			if !tt.wantErr(err) {
				t.Fatalf("Login: %v", err)
			}
			if b.status != tt.wantStatus {
				t.Errorf("callback page status %d, want %d", b.status, tt.wantStatus)
			}
			for _, s := range tt.wantPage {
				if !strings.Contains(b.page, s) {
					t.Errorf("callback page lacks %q:\n%s", s, b.page)
				}
			}
			for _, s := range tt.notInPage {
				if strings.Contains(b.page, s) {
					t.Errorf("callback page contains %q unescaped:\n%s", s, b.page)
				}
			}
			reqs := a.tokenRequests()
			if err != nil {
				if len(reqs) != 0 {
					t.Errorf("a refused callback still led to %d token requests", len(reqs))
				}
				return
			}
			if len(reqs) != 1 {
				t.Fatalf("%d token requests, want 1", len(reqs))
			}
			form := reqs[0].form
			verifier := form.Get("code_verifier")
			if n := len(verifier); n < 43 || n > 128 {
				t.Errorf("code_verifier of %d characters", n)
			}
			if challengeS256(verifier) != b.auth.Get("code_challenge") {
				t.Error("the verifier does not match the challenge")
			}
			for k, want := range map[string]string{
				"grant_type": "authorization_code", "code": "the-code", "client_id": "client-1",
				"resource": a.resource(), "redirect_uri": b.auth.Get("redirect_uri"),
			} {
				if form.Get(k) != want {
					t.Errorf("token request %s = %q, want %q", k, form.Get(k), want)
				}
			}
			if b.auth.Get("scope") != "s1 s2" {
				t.Errorf("scope %q, want the resource's scopes_supported", b.auth.Get("scope"))
			}
		})
	}
}

// TestLoginSecretsAreFresh: each login draws a new state and a new PKCE
// verifier, of the intended size and in the base64url alphabet. A
// predictable state lets a forged callback through; a reused verifier
// lets a stolen code be redeemed.
func TestLoginSecretsAreFresh(t *testing.T) {
	a := newTestAS(t)
	b := &callbackBrowser{tweak: withState("the-code")}
	f := newTestFlow(t, a, b.open)
	type secrets struct{ state, challenge, verifier string }
	var logins []secrets
	for i := range 2 {
		if err := f.Login(t.Context()); err != nil {
			t.Fatalf("login %d: %v", i+1, err)
		}
		reqs := a.tokenRequests()
		if len(reqs) != i+1 {
			t.Fatalf("login %d: %d token requests in all, want %d", i+1, len(reqs), i+1)
		}
		logins = append(logins, secrets{b.auth.Get("state"), b.auth.Get("code_challenge"), reqs[i].form.Get("code_verifier")})
	}
	for i, l := range logins {
		for _, v := range []struct {
			name, value string
			length      int // base64url of the random bytes: 32 for state, 48 for the verifier, 32 (SHA-256) for the challenge
		}{
			{"state", l.state, 43},
			{"code_verifier", l.verifier, 64},
			{"code_challenge", l.challenge, 43},
		} {
			if len(v.value) != v.length {
				t.Errorf("login %d: %s %q has %d characters, want %d", i+1, v.name, v.value, len(v.value), v.length)
			}
			if j := strings.IndexFunc(v.value, func(r rune) bool {
				return !('A' <= r && r <= 'Z' || 'a' <= r && r <= 'z' || '0' <= r && r <= '9' || r == '-' || r == '_')
			}); j >= 0 {
				t.Errorf("login %d: %s %q has %q, outside the base64url alphabet", i+1, v.name, v.value, v.value[j])
			}
		}
		if challengeS256(l.verifier) != l.challenge {
			t.Errorf("login %d: the challenge is not the verifier's S256", i+1)
		}
		if l.state == l.verifier[:len(l.state)] {
			t.Errorf("login %d: the state is a prefix of the verifier: one secret where there should be two", i+1)
		}
	}
	if logins[0].state == logins[1].state {
		t.Errorf("two logins sent the same state %q", logins[0].state)
	}
	if logins[0].verifier == logins[1].verifier {
		t.Errorf("two logins used the same code_verifier %q", logins[0].verifier)
	}
}

func TestCallbackServerAnswersOnce(t *testing.T) {
	cs, err := startCallback("http://localhost:0/cb", "st", "https://as.example", false)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(cs.redirectURI)
	if u.Hostname() != "localhost" || u.Port() == "0" || u.Path != "/cb" {
		t.Fatalf("redirect URI %s", cs.redirectURI)
	}
	get := func(path string) int {
		resp, err := http.Get("http://127.0.0.1:" + u.Port() + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if s := get("/favicon.ico"); s != 404 {
		t.Errorf("other path: %d", s)
	}
	if s := get("/cb?state=st&code=c1"); s != 200 {
		t.Errorf("first callback: %d", s)
	}
	if s := get("/cb?state=st&code=c2"); s != http.StatusGone {
		t.Errorf("second callback: %d, want 410", s)
	}
	if r := cs.wait(t.Context()); r.err != nil || r.code != "c1" {
		t.Errorf("result %+v, want the first code", r)
	}
	cs.close()
	if resp, err := http.Get("http://127.0.0.1:" + u.Port() + "/cb"); err == nil {
		resp.Body.Close()
		t.Error("the callback server still answers after the login")
	}
	for _, bad := range []string{"https://localhost/cb", "http://example.com/cb", "http://10.0.0.1:8000/cb"} {
		if _, err := startCallback(bad, "s", "i", false); err == nil {
			t.Errorf("startCallback(%s) accepted", bad)
		}
	}
}

// A callback with another state is answered 400 and the login keeps
// waiting: a web page that makes the browser hit the callback cannot
// abort a login in progress.
func TestCallbackWrongStateKeepsWaiting(t *testing.T) {
	cs, err := startCallback("http://127.0.0.1:0/cb", "st", "https://as.example", false)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.close()
	tests := []struct {
		name, query string
		want        int
	}{
		{"wrong state", "state=forged&code=evil", http.StatusBadRequest},
		{"no state", "code=evil", http.StatusBadRequest},
		{"error with a wrong state", "state=forged&error=access_denied", http.StatusBadRequest},
		{"wrong state again", "state=st2&code=evil", http.StatusBadRequest},
		{"the login's own answer", "state=st&code=good", http.StatusOK},
		{"after the answer", "state=st&code=late", http.StatusGone},
	}
	for _, tt := range tests {
		resp, err := http.Get(cs.redirectURI + "?" + tt.query)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.want {
			t.Errorf("%s: status %d, want %d: %s", tt.name, resp.StatusCode, tt.want, body)
		}
		if tt.want == http.StatusBadRequest && !strings.Contains(string(body), "still waiting") {
			t.Errorf("%s: page does not say the login goes on: %s", tt.name, body)
		}
	}
	if r := cs.wait(t.Context()); r.err != nil || r.code != "good" {
		t.Fatalf("result %+v, want the login's own code", r)
	}
	if n := cs.wrongState.Load(); n != 4 {
		t.Errorf("%d wrong-state callbacks counted, want 4", n)
	}
}

// A login that only ever sees forged callbacks ends at its deadline, and
// says why; no code is exchanged.
func TestLoginWrongStateUntilDeadline(t *testing.T) {
	a := newTestAS(t)
	b := &callbackBrowser{tweak: func(q url.Values) url.Values {
		return url.Values{"code": {"the-code"}, "state": {q.Get("state") + "x"}}
	}}
	f := newTestFlow(t, a, b.open, func(c *Config) { c.LoginTimeout = 300 * time.Millisecond })
	err := f.Login(t.Context())
	if !errors.Is(err, ErrStateMismatch) || !strings.Contains(err.Error(), "no answer from the browser") {
		t.Fatalf("Login: %v", err)
	}
	if b.status != http.StatusBadRequest || !strings.Contains(b.page, "does not match this login") {
		t.Errorf("callback page %d: %s", b.status, b.page)
	}
	if n := len(a.tokenRequests()); n != 0 {
		t.Errorf("%d token requests after forged callbacks", n)
	}
}

func TestCallbackIssuerCheck(t *testing.T) {
	const issuer = "https://as.example"
	tests := []struct {
		name       string
		query      string
		requireIss bool
		wantCode   string // "" means refused
	}{
		{"no iss, not advertised", "state=st&code=c", false, "c"},
		{"no iss, advertised", "state=st&code=c", true, ""},
		{"right iss, advertised", "state=st&code=c&iss=" + url.QueryEscape(issuer), true, "c"},
		{"right iss, not advertised", "state=st&code=c&iss=" + url.QueryEscape(issuer), false, "c"},
		{"wrong iss", "state=st&code=c&iss=https%3A%2F%2Fevil.example", false, ""},
		{"wrong iss, advertised", "state=st&code=c&iss=https%3A%2F%2Fevil.example", true, ""},
		{"two iss", "state=st&code=c&iss=" + url.QueryEscape(issuer) + "&iss=" + url.QueryEscape(issuer), true, ""},
		{"iss not normalized", "state=st&code=c&iss=" + url.QueryEscape(issuer+"/"), false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs := &callbackServer{state: "st", issuer: issuer, requireIss: tt.requireIss}
			q, err := url.ParseQuery(tt.query)
			if err != nil {
				t.Fatal(err)
			}
			r := cs.check(q)
			if tt.wantCode == "" {
				if r.err == nil {
					t.Fatalf("accepted with code %q, want refused", r.code)
				}
				return
			}
			if r.err != nil || r.code != tt.wantCode {
				t.Fatalf("got code %q err %v, want code %q", r.code, r.err, tt.wantCode)
			}
		})
	}
}

// TestCallbackErrorNeedsIssuer: an error response is shown only once its
// issuer checks out (RFC 9207: on a mismatch the error is not acted on).
func TestCallbackErrorNeedsIssuer(t *testing.T) {
	cs := &callbackServer{state: "st", issuer: "https://as.example", requireIss: true}
	for _, q := range []string{
		"state=st&error=access_denied&error_description=evil",
		"state=st&error=access_denied&error_description=evil&iss=https%3A%2F%2Fevil.example",
	} {
		v, _ := url.ParseQuery(q)
		r := cs.check(v)
		var ae *AuthorizationError
		if r.err == nil || errors.As(r.err, &ae) || strings.Contains(r.err.Error(), "evil") && !strings.Contains(r.err.Error(), "evil.example") {
			t.Errorf("%s: %v, want the issuer refused without the error shown", q, r.err)
		}
	}
	v, _ := url.ParseQuery("state=st&error=access_denied&iss=https%3A%2F%2Fas.example")
	var ae *AuthorizationError
	if r := cs.check(v); !errors.As(r.err, &ae) || ae.Code != "access_denied" {
		t.Errorf("error with the right issuer: %v, want the AuthorizationError", r.err)
	}
}

func TestLoginTimesOut(t *testing.T) {
	a := newTestAS(t)
	opened := make(chan struct{}, 1)
	f := newTestFlow(t, a, func(context.Context, string) error {
		opened <- struct{}{}
		return errors.New("no browser here")
	}, func(c *Config) { c.LoginTimeout = 50 * time.Millisecond })
	err := f.Login(t.Context())
	if err == nil || !strings.Contains(err.Error(), "no answer from the browser") {
		t.Fatalf("Login without a browser: %v", err)
	}
	select {
	case <-opened:
	default:
		t.Error("the browser was never asked to open")
	}
}

func TestClientChoice(t *testing.T) {
	tests := []struct {
		name       string
		md         func(*oauth.AuthorizationServerMetadata)
		cfg        func(*Config)
		wantErr    string
		wantID     string
		wantBasic  bool   // the token request carries Basic client authentication
		wantSecret string // client_secret in the form
	}{
		{name: "configured public client", wantID: "client-1"},
		{
			name:      "configured confidential client, basic by default",
			cfg:       func(c *Config) { c.ClientSecret = "s3cr3t" },
			wantID:    "",
			wantBasic: true,
		},
		{
			name: "configured confidential client, post when only post is supported",
			md: func(m *oauth.AuthorizationServerMetadata) {
				m.TokenEndpointAuthMethodsSupported = []string{"client_secret_post"}
			},
			cfg:        func(c *Config) { c.ClientSecret = "s3cr3t" },
			wantID:     "client-1",
			wantSecret: "s3cr3t",
		},
		{
			name: "configured confidential client, no shared method",
			md: func(m *oauth.AuthorizationServerMetadata) {
				m.TokenEndpointAuthMethodsSupported = []string{"private_key_jwt"}
			},
			cfg:     func(c *Config) { c.ClientSecret = "s3cr3t" },
			wantErr: "neither client_secret_basic nor client_secret_post",
		},
		{
			name: "client ID metadata document",
			md:   func(m *oauth.AuthorizationServerMetadata) { m.ClientIDMetadataDocumentSupported = true },
			cfg: func(c *Config) {
				c.ClientID = ""
				c.ClientMetadataURL = "https://client.example/mcp-client.json"
			},
			wantID: "https://client.example/mcp-client.json",
		},
		{
			name:    "no way to get a client",
			cfg:     func(c *Config) { c.ClientID = "" },
			wantErr: "set OAUTH_CLIENT_ID",
		},
		{
			name: "metadata document configured but not supported, no registration",
			cfg: func(c *Config) {
				c.ClientID = ""
				c.ClientMetadataURL = "https://client.example/mcp-client.json"
			},
			wantErr: "set OAUTH_CLIENT_ID",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newTestAS(t)
			if tt.md != nil {
				a.setMetadata(tt.md)
			}
			b := &callbackBrowser{tweak: withState("c")}
			mut := []func(*Config){}
			if tt.cfg != nil {
				mut = append(mut, tt.cfg)
			}
			f := newTestFlow(t, a, b.open, mut...)
			err := f.Login(t.Context())
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Login: %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			req := a.tokenRequests()[0]
			if got := req.form.Get("client_id"); got != tt.wantID {
				t.Errorf("client_id in the form %q, want %q", got, tt.wantID)
			}
			if got := req.form.Get("client_secret"); got != tt.wantSecret {
				t.Errorf("client_secret in the form %q, want %q", got, tt.wantSecret)
			}
			if tt.wantBasic {
				r := &http.Request{Header: http.Header{"Authorization": {req.authorization}}}
				id, secret, ok := r.BasicAuth()
				if !ok || id != "client-1" || secret != "s3cr3t" {
					t.Errorf("basic authentication %q/%q (%t)", id, secret, ok)
				}
			} else if req.authorization != "" {
				t.Errorf("unexpected Authorization header on the token request")
			}
			// The refresh authenticates the same way.
			if err := f.Refresh(t.Context()); err != nil {
				t.Fatal(err)
			}
			rr := a.tokenRequests()[1]
			if rr.form.Get("grant_type") != "refresh_token" || rr.form.Get("client_id") != tt.wantID || rr.authorization != req.authorization {
				t.Errorf("refresh request authenticated differently: %v", rr.form)
			}
		})
	}
}

func TestTokenAnswers(t *testing.T) {
	tests := []struct {
		name    string
		status  int
		body    string
		wantErr string
	}{
		{name: "not a bearer token", status: 200, body: `{"access_token":"x","token_type":"DPoP"}`, wantErr: "only Bearer"},
		{name: "no access token", status: 200, body: `{"token_type":"Bearer"}`, wantErr: "no access_token"},
		{name: "error with a description", status: 400, body: "{\"error\":\"invalid_grant\",\"error_description\":\"code \\u001b[31mexpired\"}", wantErr: "invalid_grant): code  [31mexpired"},
		{name: "not JSON", status: 200, body: `<html>`, wantErr: "not a valid JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newTestAS(t)
			a.answer = func(url.Values) (int, string) { return tt.status, tt.body }
			f := newTestFlow(t, a, (&callbackBrowser{tweak: withState("c")}).open)
			err := f.Login(t.Context())
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Login: %v, want %q", err, tt.wantErr)
			}
			if st, _ := f.Status(); st.LoggedIn {
				t.Error("logged in after a bad token answer")
			}
		})
	}
}

func TestAuthorize(t *testing.T) {
	a := newTestAS(t)
	var refreshes int
	a.answer = func(form url.Values) (int, string) {
		if form.Get("grant_type") == "refresh_token" {
			refreshes++
			if form.Get("refresh_token") == "dead" {
				return 400, `{"error":"invalid_grant"}`
			}
			return 200, `{"access_token":"at-2","token_type":"bearer","expires_in":300}`
		}
		return 200, `{"access_token":"at-1","token_type":"Bearer","expires_in":300,"refresh_token":"rt-1","scope":"s1"}`
	}
	now := time.Now()
	f := newTestFlow(t, a, (&callbackBrowser{tweak: withState("c")}).open, func(c *Config) { c.Now = func() time.Time { return now } })
	authz := func(target string) (string, error) {
		req, _ := http.NewRequest(http.MethodPost, target, nil)
		err := f.Authorize(t.Context(), req)
		return req.Header.Get("Authorization"), err
	}
	if h, err := authz(a.resource()); h != "" || err != nil {
		t.Fatalf("before login: %q, %v; want no header", h, err)
	}
	if err := f.Login(t.Context()); err != nil {
		t.Fatal(err)
	}
	if h, err := authz(a.resource()); h != "Bearer at-1" || err != nil {
		t.Fatalf("after login: %q, %v", h, err)
	}
	if h, _ := authz("https://elsewhere.example/mcp"); h != "" {
		t.Error("the token was sent to another origin")
	}
	// 4 minutes 30 s later the token is within a minute of expiry.
	now = now.Add(270 * time.Second)
	if h, err := authz(a.resource()); h != "Bearer at-2" || err != nil || refreshes != 1 {
		t.Fatalf("near expiry: %q, %v, %d refreshes", h, err, refreshes)
	}
	st, _ := f.Status()
	if !st.CanRefresh || strings.Join(st.Scopes, " ") != "s1" {
		t.Errorf("after a refresh without rotation the refresh token or scopes were lost: %+v", st)
	}

	// A dead refresh token: non-interactive, the error says to log in.
	f.mu.Lock()
	f.tokens.RefreshToken = "dead"
	f.mu.Unlock()
	now = now.Add(280 * time.Second)
	_, err := authz(a.resource())
	if !errors.Is(err, ErrLoginRequired) || !strings.Contains(err.Error(), "log in again") {
		t.Fatalf("dead refresh token: %v", err)
	}
}

func TestNewRejects(t *testing.T) {
	for _, tt := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"no server", Config{}, "not an absolute"},
		{"redirect off loopback", Config{ServerURL: "https://h/mcp", RedirectURI: "http://example.com:8000/callback"}, "OAUTH_REDIRECT_URI"},
		{"redirect https", Config{ServerURL: "https://h/mcp", RedirectURI: "https://localhost:8000/callback"}, "OAUTH_REDIRECT_URI"},
		{"secret without id", Config{ServerURL: "https://h/mcp", ClientSecret: "x"}, "OAUTH_CLIENT_SECRET"},
		{"metadata URL over http", Config{ServerURL: "https://h/mcp", ClientMetadataURL: "http://c.example/m.json"}, "OAUTH_CLIENT_METADATA_URL"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.StoreDir = t.TempDir()
			if _, err := New(tt.cfg); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New: %v, want %q", err, tt.want)
			}
		})
	}
	cfg := ConfigFromEnv(func(k string) string {
		return map[string]string{"OAUTH_CLIENT_ID": " id ", "OAUTH_REDIRECT_URI": "http://127.0.0.1:9/cb", "OAUTH_TOKEN_DIR": "/x"}[k]
	})
	if cfg.ClientID != "id" || cfg.RedirectURI != "http://127.0.0.1:9/cb" || cfg.StoreDir != "/x" {
		t.Errorf("ConfigFromEnv = %+v", cfg)
	}
}

func TestUnverifiedClaims(t *testing.T) {
	// header.payload.signature with payload {"sub":"alice","exp":2000000000}
	tok := "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSIsImV4cCI6MjAwMDAwMDAwMH0.sig"
	if c := unverifiedClaims(tok); c.Sub != "alice" || c.Exp != 2000000000 {
		t.Errorf("claims %+v", c)
	}
	for _, opaque := range []string{"", "opaque-token", "a.b", "a.!!!.c", "a.e30.c"} {
		if c := unverifiedClaims(opaque); c.Sub != "" || c.Exp != 0 {
			t.Errorf("claims of %q: %+v", opaque, c)
		}
	}
}

func TestPrintable(t *testing.T) {
	for _, tt := range []struct {
		in   string
		max  int
		want string
	}{
		{"plain", 10, "plain"},
		{"a\x1b[2Jb\nc", 20, "a [2Jb c"},
		{"ééé", 3, "é…"}, // never half a character
		{"abcdef", 3, "abc…"},
	} {
		if got := printable(tt.in, tt.max); got != tt.want {
			t.Errorf("printable(%q, %d) = %q, want %q", tt.in, tt.max, got, tt.want)
		}
	}
}

func TestChallengeWithoutScope(t *testing.T) {
	a := newTestAS(t)
	b := &callbackBrowser{tweak: withState("c")}
	f := newTestFlow(t, a, b.open, func(c *Config) { c.Interactive = true })
	if err := f.Login(t.Context(), "s1"); err != nil {
		t.Fatal(err)
	}
	refusal := func(status int, challenge string) *http.Response {
		req, _ := http.NewRequest(http.MethodPost, a.resource(), nil)
		if err := f.Authorize(t.Context(), req); err != nil {
			t.Fatal(err)
		}
		return &http.Response{StatusCode: status, Header: http.Header{"Www-Authenticate": {challenge}}, Request: req}
	}
	if err := f.Challenge(t.Context(), refusal(403, `Bearer error="insufficient_scope"`)); err != nil {
		t.Fatal(err)
	}
	if got := b.auth.Get("scope"); got != "s1 s2" {
		t.Errorf("step-up without a scope asked for %q, want the resource's scopes", got)
	}
	logins := len(a.tokenRequests())
	err := f.Challenge(t.Context(), refusal(403, `Bearer error="invalid_token", error_description="blocked"`))
	if err == nil || !strings.Contains(err.Error(), "blocked") || len(a.tokenRequests()) != logins {
		t.Errorf("a 403 that is not about scope: %v (token requests %d -> %d)", err, logins, len(a.tokenRequests()))
	}
	if err := f.Challenge(t.Context(), refusal(500, "")); err == nil {
		t.Error("a 500 was taken for a challenge")
	}
}

// A 401 for a token the clock thinks valid (revoked, or the server's clock
// disagrees) is answered with one refresh; the rotated refresh token is
// stored; a second 401 for the refreshed token does not refresh again but
// asks for a login; a 401 for a token already replaced just retries.
func TestRefreshOnceOn401(t *testing.T) {
	a := newTestAS(t)
	var mu sync.Mutex
	refreshes := 0
	a.answer = func(form url.Values) (int, string) {
		if form.Get("grant_type") != "refresh_token" {
			return 200, `{"access_token":"at-1","token_type":"Bearer","expires_in":3600,"refresh_token":"rt-1"}`
		}
		mu.Lock()
		defer mu.Unlock()
		refreshes++
		n := refreshes + 1
		return 200, fmt.Sprintf(`{"access_token":"at-%d","token_type":"Bearer","expires_in":3600,"refresh_token":"rt-%d"}`, n, n)
	}
	countRefreshes := func() int {
		mu.Lock()
		defer mu.Unlock()
		return refreshes
	}
	var out syncBuffer
	f := newTestFlow(t, a, (&callbackBrowser{tweak: withState("c")}).open, func(c *Config) { c.Out = &out })
	if err := f.Login(t.Context()); err != nil {
		t.Fatal(err)
	}
	refusal := func(sent string) *http.Response {
		req, _ := http.NewRequest(http.MethodPost, a.resource(), nil)
		req.Header.Set("Authorization", "Bearer "+sent)
		return &http.Response{StatusCode: 401, Request: req, Header: http.Header{
			"Www-Authenticate": {`Bearer error="invalid_token", error_description="the token has expired"`}}}
	}

	if err := f.Challenge(t.Context(), refusal("at-1")); err != nil {
		t.Fatalf("first 401: %v, want a refresh and a retry", err)
	}
	if n := countRefreshes(); n != 1 {
		t.Fatalf("%d refreshes after the first 401, want 1", n)
	}
	stored, err := f.store.LoadTokens(f.server)
	if err != nil || stored == nil || stored.AccessToken != "at-2" || stored.RefreshToken != "rt-2" {
		t.Fatalf("stored after the refresh: %+v, %v; want at-2 and the rotated rt-2", stored, err)
	}

	// A request sent with at-1 before the refresh comes back: retry with at-2.
	if err := f.Challenge(t.Context(), refusal("at-1")); err != nil || countRefreshes() != 1 {
		t.Fatalf("late 401 for the replaced token: %v, %d refreshes; want a plain retry", err, countRefreshes())
	}

	err = f.Challenge(t.Context(), refusal("at-2"))
	if !errors.Is(err, ErrLoginRequired) || !strings.Contains(err.Error(), "the token has expired") {
		t.Fatalf("401 for the refreshed token: %v, want ErrLoginRequired with the server's reason", err)
	}
	if n := countRefreshes(); n != 1 {
		t.Errorf("%d refreshes, want 1: a token refreshed because of a 401 is not refreshed again", n)
	}

	// No revocation endpoint: logout deletes and says the tokens live on.
	if err := f.Logout(t.Context()); err != nil {
		t.Fatal(err)
	}
	if st, err := f.Status(); err != nil || st.LoggedIn {
		t.Errorf("after logout: %+v, %v", st, err)
	}
	if left, _ := f.store.LoadTokens(f.server); left != nil {
		t.Error("logout left the tokens in the store")
	}
	if !strings.Contains(out.String(), "offers no token revocation") {
		t.Errorf("logout without revocation did not say the tokens stay valid:\n%s", out.String())
	}
}

// syncBuffer is a bytes.Buffer safe for the Flow's writes and the test's
// reads.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
