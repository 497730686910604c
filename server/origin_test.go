package server

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"mcplambda/internal/apikey"
	"mcplambda/mcp"
)

// originAuthMode is one way a deployment authenticates, with credentials
// it accepts: the Origin and Host checks must hold in every one of them,
// for requests that authenticate as well as for those that do not.
type originAuthMode struct {
	name string
	auth func(t *testing.T) Authenticator
	// creds makes r carry valid credentials.
	creds func(r *http.Request) *http.Request
}

func originAuthModes() []originAuthMode {
	const key = "origin-test-key-0123456789"
	bearer := func(*testing.T) Authenticator {
		return &BearerAuth{Verifier: fakeVerifier{}, ResourceMetadataURL: "https://mcp.example.com/.well-known/oauth-protected-resource/mcp"}
	}
	withToken := func(tok string) func(r *http.Request) *http.Request {
		return func(r *http.Request) *http.Request { r.Header.Set("Authorization", "Bearer "+tok); return r }
	}
	return []originAuthMode{
		{name: "none", auth: func(*testing.T) Authenticator { return nil }, creds: func(r *http.Request) *http.Request { return r }},
		{name: "oauth", auth: bearer, creds: withToken("tok")},
		{name: "api key", auth: func(t *testing.T) Authenticator {
			sum := sha256.Sum256([]byte(key))
			keys, err := apikey.Parse(hex.EncodeToString(sum[:]))
			if err != nil {
				t.Fatal(err)
			}
			return EitherAuth{JWT: bearer(t), Keys: NewAPIKeyAuth(keys)}
		}, creds: withToken(key)},
		{name: "lambda authorizer", auth: func(t *testing.T) Authenticator { return UpstreamAuth{Fallback: bearer(t)} },
			creds: func(r *http.Request) *http.Request {
				return r.WithContext(WithAuthorizerPrincipal(r.Context(), &Principal{Issuer: "iss", Subject: "alice", ClientID: "c1"}))
			}},
	}
}

// TestOriginAndHostChecks is every setting of the DNS-rebinding and
// cross-site guard (ALLOWED_HOSTS, ALLOWED_ORIGINS, the loopback default,
// the Lambda exemption) in every authentication mode: the status, the
// setting the refusal names, and the CORS answer, which must name an
// allowed origin and no other.
func TestOriginAndHostChecks(t *testing.T) {
	const (
		appOrigin = "https://app.example.com"
		mcpHost   = "mcp.example.com"
	)
	hosts := func(c *Config) { c.AllowedHosts = []string{mcpHost} }
	origins := func(c *Config) { c.AllowedOrigins = []string{appOrigin} }
	tests := []struct {
		name    string
		cfg     func(*Config)
		method  string // default POST
		host    string // default localhost:3000
		origin  string
		status  int
		msg     string // in the refusal
		allowed string // Access-Control-Allow-Origin; "" = absent
	}{
		// HOST is loopback and ALLOWED_HOSTS unset: loopback names only.
		{name: "loopback: localhost", status: 200},
		{name: "loopback: 127.0.0.1 with port", host: "127.0.0.1:3000", status: 200},
		{name: "loopback: [::1]", host: "[::1]:3000", status: 200},
		{name: "loopback: another name (DNS rebinding)", host: "evil.example.com", status: 403, msg: "ALLOWED_HOSTS"},
		{name: "loopback: a name that starts like localhost", host: "localhost.evil.example.com", status: 403, msg: "ALLOWED_HOSTS"},
		{name: "loopback: loopback origin", origin: "http://localhost:6274", status: 200, allowed: "http://localhost:6274"},
		{name: "loopback: foreign origin", origin: "http://evil.example.com", status: 403, msg: "ALLOWED_ORIGINS"},
		{name: "loopback: null origin", origin: "null", status: 403, msg: "ALLOWED_ORIGINS"},
		{name: "loopback: origin with a path", origin: "http://localhost:6274/x", status: 403, msg: "ALLOWED_ORIGINS"},

		// ALLOWED_HOSTS replaces the loopback rule.
		{name: "ALLOWED_HOSTS: listed", cfg: hosts, host: mcpHost, status: 200},
		{name: "ALLOWED_HOSTS: listed, other case and a port", cfg: hosts, host: "MCP.Example.com:443", status: 200},
		{name: "ALLOWED_HOSTS: not listed", cfg: hosts, host: "evil.example.com", status: 403, msg: "ALLOWED_HOSTS"},
		{name: "ALLOWED_HOSTS: listed name as a prefix", cfg: hosts, host: mcpHost + ".evil.net", status: 403, msg: "ALLOWED_HOSTS"},
		{name: "ALLOWED_HOSTS: a suffix of the listed name", cfg: hosts, host: "example.com", status: 403, msg: "ALLOWED_HOSTS"},
		{name: "ALLOWED_HOSTS: loopback no longer implied", cfg: hosts, host: "localhost:3000", status: 403, msg: "ALLOWED_HOSTS"},
		{name: "ALLOWED_HOSTS on a public listener", cfg: func(c *Config) { hosts(c); c.Host = "0.0.0.0" }, host: "evil.example.com", status: 403, msg: "ALLOWED_HOSTS"},

		// ALLOWED_ORIGINS: exact origins (any case), plus loopback ones.
		{name: "ALLOWED_ORIGINS: listed", cfg: origins, origin: appOrigin, status: 200, allowed: appOrigin},
		{name: "ALLOWED_ORIGINS: listed, other case", cfg: origins, origin: "HTTPS://APP.example.com", status: 200, allowed: "HTTPS://APP.example.com"},
		{name: "ALLOWED_ORIGINS: listed origin as a prefix", cfg: origins, origin: appOrigin + ".evil.net", status: 403, msg: "ALLOWED_ORIGINS"},
		{name: "ALLOWED_ORIGINS: listed origin with another port", cfg: origins, origin: appOrigin + ":8443", status: 403, msg: "ALLOWED_ORIGINS"},
		{name: "ALLOWED_ORIGINS: a prefix of the listed origin", cfg: origins, origin: "https://app.example.co", status: 403, msg: "ALLOWED_ORIGINS"},
		{name: "ALLOWED_ORIGINS: other scheme", cfg: origins, origin: "http://app.example.com", status: 403, msg: "ALLOWED_ORIGINS"},
		{name: "ALLOWED_ORIGINS: not listed", cfg: origins, origin: "https://evil.example.com", status: 403, msg: "ALLOWED_ORIGINS"},
		{name: "ALLOWED_ORIGINS: loopback still allowed", cfg: origins, origin: "http://127.0.0.1:6274", status: 200, allowed: "http://127.0.0.1:6274"},
		{name: "ALLOWED_ORIGINS=*", cfg: func(c *Config) { c.AllowedOrigins = []string{"*"} }, origin: "https://anything.example", status: 200, allowed: "https://anything.example"},

		// CORS preflight: answered before authentication, for allowed
		// origins only.
		{name: "preflight: allowed origin", cfg: origins, method: http.MethodOptions, origin: appOrigin, status: 204, allowed: appOrigin},
		{name: "preflight: foreign origin", cfg: origins, method: http.MethodOptions, origin: "https://evil.example.com", status: 403, msg: "ALLOWED_ORIGINS"},
		{name: "preflight: origin as a prefix", cfg: origins, method: http.MethodOptions, origin: appOrigin + ".evil.net", status: 403, msg: "ALLOWED_ORIGINS"},

		// Where rebinding a loopback name is no threat, any Host passes.
		{name: "public listener without ALLOWED_HOSTS", cfg: func(c *Config) { c.Host = "0.0.0.0" }, host: "mcp.example.net", status: 200},
		{name: "Lambda", cfg: func(c *Config) { c.Lambda = true }, host: "abc123.execute-api.us-east-1.amazonaws.com", status: 200},
		{name: "Lambda: foreign origin", cfg: func(c *Config) { c.Lambda = true }, host: "abc123.execute-api.us-east-1.amazonaws.com", origin: "https://evil.example.com", status: 403, msg: "ALLOWED_ORIGINS"},
	}
	for _, mode := range originAuthModes() {
		t.Run(mode.name, func(t *testing.T) {
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					cfg := testConfig()
					if tt.cfg != nil {
						tt.cfg(&cfg)
					}
					h := NewHandler(New(Options{Info: mcp.Implementation{Name: "test", Version: "1"}}), cfg,
						HandlerOptions{Auth: mode.auth(t), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
					t.Cleanup(h.Close)
					method := tt.method
					if method == "" {
						method = http.MethodPost
					}
					r := httptest.NewRequest(method, "http://localhost:3000"+cfg.Path, strings.NewReader(initBody(mcp.LatestVersion)))
					r.Host = "localhost:3000"
					if tt.host != "" {
						r.Host = tt.host
					}
					r.Header.Set("Content-Type", "application/json")
					r.Header.Set("Accept", "application/json, text/event-stream")
					if tt.origin != "" {
						r.Header.Set("Origin", tt.origin)
					}
					if method == http.MethodOptions {
						r.Header.Set("Access-Control-Request-Method", "POST")
					}
					w := httptest.NewRecorder()
					h.ServeHTTP(w, mode.creds(r))
					if w.Code != tt.status {
						t.Fatalf("status %d, want %d: %s", w.Code, tt.status, w.Body)
					}
					if tt.msg != "" && !strings.Contains(w.Body.String(), tt.msg) {
						t.Errorf("refusal %s does not name %s", w.Body, tt.msg)
					}
					if got := w.Header().Get("Access-Control-Allow-Origin"); got != tt.allowed {
						t.Errorf("Access-Control-Allow-Origin %q, want %q", got, tt.allowed)
					}
					if tt.allowed != "" && w.Header().Get("Vary") != "Origin" {
						t.Errorf("Vary %q: a cache could serve one origin's CORS answer to another", w.Header().Get("Vary"))
					}
					if method == http.MethodOptions && tt.allowed != "" && !strings.Contains(w.Header().Get("Access-Control-Allow-Methods"), "POST") {
						t.Errorf("preflight allows methods %q", w.Header().Get("Access-Control-Allow-Methods"))
					}
				})
			}
			if mode.name == "none" {
				return
			}
			// The allowed cases passed through authentication, not around it.
			h := NewHandler(New(Options{}), testConfig(), HandlerOptions{Auth: mode.auth(t), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
			t.Cleanup(h.Close)
			r := httptest.NewRequest(http.MethodPost, "http://localhost:3000/mcp", strings.NewReader(initBody(mcp.LatestVersion)))
			r.Header.Set("Content-Type", "application/json")
			r.Header.Set("Accept", "application/json, text/event-stream")
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != http.StatusUnauthorized {
				t.Fatalf("without credentials: %d, want 401", w.Code)
			}
		})
	}
}
