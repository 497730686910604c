package oidc

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"mcplambda/greetings"
	"mcplambda/internal/authconfig"
	"mcplambda/mcp"
	"mcplambda/server"
)

// StartMCP runs the repository's MCP server in process as an OAuth resource
// server of issuer (AUTH_METHOD=oauth, OAUTH_ISSUER=issuer, MCP_RESOURCE_URL
// its own loopback URL, OAUTH_REQUIRED_SCOPES=requiredScopes) with the
// greetings tools, and returns its MCP endpoint. The listener is bound
// first so the resource URL is known before the server starts.
func StartMCP(t testing.TB, issuer, requiredScopes string, greet greetings.Options) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := server.DefaultConfig()
	cfg.Port = ln.Addr().(*net.TCPAddr).Port
	cfg.LogRequests = false
	resource := fmt.Sprintf("http://127.0.0.1:%d/mcp", cfg.Port)
	env := map[string]string{
		"AUTH_METHOD":           "oauth",
		"OAUTH_ISSUER":          issuer,
		"MCP_RESOURCE_URL":      resource,
		"OAUTH_REQUIRED_SCOPES": requiredScopes,
	}
	ac, err := authconfig.ServerFromEnv(func(k string) string { return env[k] }, server.AuthSite(cfg))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	verifier, err := ac.Issuer.NewVerifier(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	disc, err := server.NewDiscovery(ac, cfg, "oidc test resource")
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	srv := server.New(server.Options{Info: mcp.Implementation{Name: "oidc-test", Version: "1"}})
	if err := greetings.Register(srv, greet); err != nil {
		t.Fatal(err)
	}
	h := server.NewHandler(srv, cfg, server.HandlerOptions{
		Auth:   &server.BearerAuth{Verifier: verifier, ResourceMetadataURL: disc.ResourceMetadataURL(), Scopes: ac.RequiredScopes, Log: log},
		Logger: log,
	})
	mux := server.NewMux(cfg, h)
	if err := disc.Register(mux); err != nil {
		t.Fatal(err)
	}
	ts := &httptest.Server{Listener: ln, Config: &http.Server{Handler: mux}}
	ts.Start()
	t.Cleanup(func() { ts.Close(); h.Close() })
	return resource
}
