package server

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"mcplambda/internal/authconfig"
	"mcplambda/oauth"
)

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestDiscoveryDocuments(t *testing.T) {
	cfg := DefaultConfig()
	ac, err := authconfig.ServerFromEnv(envOf(map[string]string{
		"AUTH_METHOD": "oauth", "COGNITO_REGION": "us-east-1", "COGNITO_USER_POOL_ID": "us-east-1_X", "COGNITO_DOMAIN": "app",
		"MCP_RESOURCE_URL": "https://api.example.com/prod/mcp", "OAUTH_SCOPES_SUPPORTED": "openid profile",
	}), AuthSite(cfg))
	if err != nil {
		t.Fatal(err)
	}
	d, err := NewDiscovery(ac, cfg, "test")
	if err != nil {
		t.Fatal(err)
	}
	res, as, _ := d.paths()
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
	local, _ := authconfig.ServerFromEnv(envOf(map[string]string{"AUTH_METHOD": "oauth", "OAUTH_ISSUER": "https://as.example"}), AuthSite(cfg))
	ld, _ := NewDiscovery(local, cfg, "test")
	if res, _, _ := ld.paths(); ld.Prefix != "" || !slices.Equal(res, []string{"/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-protected-resource"}) ||
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
	ac, err := authconfig.ServerFromEnv(envOf(map[string]string{"AUTH_METHOD": "oauth", "OAUTH_ISSUER": issuer}), AuthSite(DefaultConfig()))
	if err != nil {
		t.Fatal(err)
	}
	v, err := ac.Issuer.NewVerifier(context.Background(), ts.Client())
	if err != nil {
		t.Fatal(err)
	}
	if v.Config().JWKSURL != issuer+"/jwks.json" {
		t.Fatal(v.Config().JWKSURL)
	}
	ac.Issuer.Verifier.Issuer = ts.URL + "/none"
	if _, err := ac.Issuer.NewVerifier(context.Background(), ts.Client()); err == nil || !strings.Contains(err.Error(), "OAUTH_JWKS_URL") {
		t.Fatalf("missing metadata: %v", err)
	}
}
