package server

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"mcplambda/oauth"
)

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestAuthConfigFromEnv(t *testing.T) {
	local := DefaultConfig()
	public := DefaultConfig()
	public.Host = "0.0.0.0"
	onLambda := DefaultConfig() // HOST keeps its loopback default, which means nothing on Lambda
	onLambda.Lambda = true
	key := strings.Repeat("ab", 32)
	pool := map[string]string{"AUTH_METHOD": "oauth", "COGNITO_REGION": "eu-west-1", "COGNITO_USER_POOL_ID": "eu-west-1_Abc", "COGNITO_ALLOWED_CLIENT_IDS": "c1, c2"}
	with := func(base map[string]string, kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	tests := []struct {
		name    string
		env     map[string]string
		cfg     Config
		wantErr string
		check   func(*testing.T, AuthConfig)
	}{
		{name: "default is none on loopback", env: map[string]string{}, cfg: local, check: func(t *testing.T, ac AuthConfig) {
			if ac.Method != AuthNone {
				t.Fatal(ac.Method)
			}
		}},
		{name: "none refused beyond loopback", env: map[string]string{}, cfg: public, wantErr: "only allowed on a loopback address"},
		{name: "oauth without issuer", env: map[string]string{"AUTH_METHOD": "oauth"}, cfg: local, wantErr: "needs an issuer"},
		{name: "two issuers", env: with(pool, "OAUTH_ISSUER", "https://as.example"), cfg: local, wantErr: "use one issuer"},
		{name: "pool in another region", env: with(pool, "COGNITO_REGION", "us-east-1"), cfg: local, wantErr: "belongs to region eu-west-1"},
		{name: "cognito", env: pool, cfg: local, check: func(t *testing.T, ac AuthConfig) {
			v := ac.Verifier
			if v.Issuer != "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Abc" || v.JWKSURL != v.Issuer+"/.well-known/jwks.json" ||
				v.TokenUse != "access" || !slices.Equal(v.ClientIDs, []string{"c1", "c2"}) || v.Audience != "http://localhost:3000/mcp" || v.AllowMissingAudience {
				t.Fatalf("%+v", v)
			}
		}},
		{name: "jwks override and missing audience allowed", env: with(pool, "OAUTH_JWKS_URL", "http://127.0.0.1:5000/x/.well-known/jwks.json", "OAUTH_ALLOW_MISSING_AUDIENCE", "true"), cfg: local, check: func(t *testing.T, ac AuthConfig) {
			if ac.Verifier.JWKSURL != "http://127.0.0.1:5000/x/.well-known/jwks.json" || !ac.Verifier.AllowMissingAudience {
				t.Fatalf("%+v", ac.Verifier)
			}
		}},
		{name: "missing audience needs client list", env: map[string]string{"AUTH_METHOD": "oauth", "OAUTH_ISSUER": "https://as.example", "OAUTH_ALLOW_MISSING_AUDIENCE": "true"}, cfg: local, wantErr: "needs COGNITO_ALLOWED_CLIENT_IDS"},
		{name: "plain-http JWKS beyond loopback", env: with(pool, "OAUTH_JWKS_URL", "http://keys.example/jwks"), cfg: local, wantErr: "https"},
		{name: "resource URL needed beyond loopback", env: pool, cfg: public, wantErr: "MCP_RESOURCE_URL"},
		{name: "resource URL must be https", env: with(pool, "MCP_RESOURCE_URL", "http://api.example.com/mcp"), cfg: public, wantErr: "https"},
		{name: "generic issuer discovers keys", env: map[string]string{"AUTH_METHOD": "lambda", "OAUTH_ISSUER": "https://as.example/t", "OAUTH_REQUIRED_SCOPES": "mcp:read mcp:call"}, cfg: local, check: func(t *testing.T, ac AuthConfig) {
			if !ac.DiscoverJWKS || ac.Verifier.TokenUse != "" || !slices.Equal(ac.RequiredScopes, []string{"mcp:read", "mcp:call"}) || !slices.Equal(ac.ScopesSupported, ac.RequiredScopes) {
				t.Fatalf("%+v", ac)
			}
		}},
		{name: "none refused on Lambda", env: map[string]string{}, cfg: onLambda, wantErr: "this is AWS Lambda"},
		{name: "resource URL needed on Lambda", env: pool, cfg: onLambda, wantErr: "MCP_RESOURCE_URL"},
		{name: "API keys alone in lambda mode", env: map[string]string{"AUTH_METHOD": "lambda", "API_KEY_SHA256": key + "," + strings.Repeat("0", 64)}, cfg: onLambda, check: func(t *testing.T, ac AuthConfig) {
			if len(ac.APIKeyHashes) != 2 || ac.Verifier.Issuer != "" {
				t.Fatalf("%+v", ac)
			}
		}},
		{name: "API keys with an issuer", env: with(pool, "AUTH_METHOD", "lambda", "API_KEY_SHA256", key), cfg: local, check: func(t *testing.T, ac AuthConfig) {
			if len(ac.APIKeyHashes) != 1 || ac.Verifier.Issuer == "" {
				t.Fatalf("%+v", ac)
			}
		}},
		{name: "API keys need lambda mode", env: with(pool, "API_KEY_SHA256", key), cfg: local, wantErr: "needs AUTH_METHOD=lambda"},
		{name: "API key hash malformed", env: map[string]string{"AUTH_METHOD": "lambda", "API_KEY_SHA256": "my-secret-api-key-value"}, cfg: local, wantErr: `"my-secre..." is not a SHA-256 hash`},
		{name: "lambda mode names API keys", env: map[string]string{"AUTH_METHOD": "lambda"}, cfg: local, wantErr: "or API_KEY_SHA256"},
		{name: "unknown method", env: map[string]string{"AUTH_METHOD": "basic"}, cfg: local, wantErr: "use none, oauth or lambda"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ac, err := AuthConfigFromEnv(envOf(tt.env), tt.cfg)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, ac)
		})
	}
}

func TestDiscoveryDocuments(t *testing.T) {
	cfg := DefaultConfig()
	ac, err := AuthConfigFromEnv(envOf(map[string]string{
		"AUTH_METHOD": "oauth", "COGNITO_REGION": "us-east-1", "COGNITO_USER_POOL_ID": "us-east-1_X", "COGNITO_DOMAIN": "app",
		"MCP_RESOURCE_URL": "https://api.example.com/prod/mcp", "OAUTH_SCOPES_SUPPORTED": "openid profile",
	}), cfg)
	if err != nil {
		t.Fatal(err)
	}
	d, err := ac.Discovery(cfg, "test")
	if err != nil {
		t.Fatal(err)
	}
	res, as, _ := d.Paths()
	// The RFC locations, and under the stage the paths API Gateway hands the
	// server once the stage is removed.
	if !slices.Equal(res, []string{"/.well-known/oauth-protected-resource/prod/mcp", "/.well-known/oauth-protected-resource",
		"/prod/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-protected-resource/mcp"}) ||
		!slices.Equal(as, []string{"/.well-known/oauth-authorization-server/prod", "/.well-known/openid-configuration/prod",
			"/prod/.well-known/openid-configuration", "/.well-known/openid-configuration"}) {
		t.Fatalf("%v %v", res, as)
	}
	if d.ResourceMetadataURL() != "https://api.example.com/prod/.well-known/oauth-protected-resource/mcp" {
		t.Fatal(d.ResourceMetadataURL())
	}
	// Served at the root, nothing changes.
	local, _ := AuthConfigFromEnv(envOf(map[string]string{"AUTH_METHOD": "oauth", "OAUTH_ISSUER": "https://as.example"}), cfg)
	ld, _ := local.Discovery(cfg, "test")
	if res, _, _ := ld.Paths(); ld.Prefix != "" || !slices.Equal(res, []string{"/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-protected-resource"}) ||
		ld.ResourceMetadataURL() != "http://localhost:3000/.well-known/oauth-protected-resource/mcp" {
		t.Fatalf("%q %v %s", ld.Prefix, res, ld.ResourceMetadataURL())
	}
	mux := http.NewServeMux()
	if err := d.Register(mux); err != nil {
		t.Fatal(err)
	}
	for _, p := range append(res, as...) {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, p, nil))
		if rec.Code != 200 || rec.Header().Get("Access-Control-Allow-Origin") != "*" || !strings.Contains(rec.Header().Get("Cache-Control"), "max-age") {
			t.Fatalf("%s: %d %v", p, rec.Code, rec.Header())
		}
	}
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, res[0], nil))
	var md oauth.ProtectedResourceMetadata
	if err := json.Unmarshal(rec.Body.Bytes(), &md); err != nil || md.Resource != "https://api.example.com/prod/mcp" ||
		!slices.Equal(md.AuthorizationServers, []string{"https://api.example.com/prod"}) || !slices.Equal(md.ScopesSupported, []string{"openid", "profile"}) {
		t.Fatalf("%s", rec.Body)
	}
	rec = httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, res[0], nil))
	if rec.Code != http.StatusMethodNotAllowed {
		t.Fatalf("POST metadata: %d", rec.Code)
	}
}

func TestVerifierDiscoversJWKS(t *testing.T) {
	var issuer string
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/oauth-authorization-server/t", func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(oauth.AuthorizationServerMetadata{Issuer: issuer, JWKSURI: issuer + "/jwks.json"})
	})
	ts := httptest.NewServer(mux)
	defer ts.Close()
	issuer = ts.URL + "/t"
	ac, err := AuthConfigFromEnv(envOf(map[string]string{"AUTH_METHOD": "oauth", "OAUTH_ISSUER": issuer}), DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	v, err := ac.NewVerifier(context.Background(), ts.Client())
	if err != nil {
		t.Fatal(err)
	}
	if v.Config().JWKSURL != issuer+"/jwks.json" {
		t.Fatal(v.Config().JWKSURL)
	}
	ac.Verifier.Issuer = ts.URL + "/none"
	if _, err := ac.NewVerifier(context.Background(), ts.Client()); err == nil || !strings.Contains(err.Error(), "OAUTH_JWKS_URL") {
		t.Fatalf("missing metadata: %v", err)
	}
}
