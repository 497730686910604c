package oauthclient_test

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"mcplambda/client/oauthclient"
	"mcplambda/test/oidc"
)

// The client identifies itself with a Client ID Metadata Document served
// over HTTPS; oidc-provider fetches and checks it.
func TestClientIDMetadataDocument(t *testing.T) {
	var fetched atomic.Int32
	var docURL string
	docs := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/mcp-client.json" {
			http.NotFound(w, r)
			return
		}
		fetched.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"client_id":                  docURL,
			"client_name":                "mcp-lambda-go test client",
			"application_type":           "native",
			"redirect_uris":              []string{"http://127.0.0.1/callback"},
			"grant_types":                []string{"authorization_code", "refresh_token"},
			"response_types":             []string{"code"},
			"token_endpoint_auth_method": "none",
		})
	}))
	defer docs.Close()
	docURL = docs.URL + "/mcp-client.json"
	certFile := filepath.Join(t.TempDir(), "docs.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: docs.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	p := oidc.Start(t, oidc.Options{ClientMetadataDocuments: true, TrustedCertFile: certFile})
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	endpoint := startMCP(t, p.Issuer, "mcp:read")

	h := newHarness(t, p)
	f := h.flow(endpoint, func(c *oauthclient.Config) {
		c.ClientID = ""
		c.ClientMetadataURL = docURL
		c.Interactive = true
	})
	if text, err := greet(ctx, t, f, endpoint); err != nil || text != "Hello, Ada!" {
		t.Fatalf("greet: %q, %v\nprovider:\n%s", text, err, p.Output())
	}
	if fetched.Load() == 0 {
		t.Error("the authorization server never fetched the metadata document")
	}
	if q := mustQuery(t, h.browser.LastURL()); q.Get("client_id") != docURL {
		t.Errorf("client_id %q, want the document URL", q.Get("client_id"))
	}
	tok, _ := h.storedTokens()
	if tok.ClientID != docURL || tok.ClientKind != "metadata-document" {
		t.Errorf("tokens for client %q (%s)", tok.ClientID, tok.ClientKind)
	}
	if regs, _ := filepath.Glob(filepath.Join(h.dir, "client-*.json")); len(regs) != 0 {
		t.Errorf("a client was registered although the document was usable: %v", regs)
	}
	if err := f.Refresh(ctx); err != nil {
		t.Errorf("refresh as the document's client: %v", err)
	}
}
