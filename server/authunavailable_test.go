package server

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"mcplambda/mcp"
	"mcplambda/oauth"
)

// When the authorization server's keys cannot be fetched, the answer is a
// retryable 503 with Retry-After, not a 401 that would send the client to
// log in again.
func TestKeysUnavailableIsRetryable(t *testing.T) {
	f := newIssuer(t)
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "down", http.StatusInternalServerError)
	}))
	t.Cleanup(down.Close)
	const resource = "http://localhost:3000/mcp"
	v, err := oauth.NewVerifier(oauth.Config{
		Issuer: f.issuer, JWKSURL: down.URL, ClientIDs: []string{"client-1"}, Audience: resource, TokenUse: "access",
	})
	if err != nil {
		t.Fatal(err)
	}
	env := newEnv(t, testConfig(), HandlerOptions{Auth: &BearerAuth{Verifier: v, ResourceMetadataURL: resource}}, nil)
	tok := f.sign(t, f.claims(resource), "k1", f.key)
	r := env.do(http.MethodPost, "", initBody(mcp.LatestVersion), map[string]string{"Authorization": "Bearer " + tok})
	if r.status != http.StatusServiceUnavailable || r.header.Get("Retry-After") != keysRetryAfter {
		t.Fatalf("status %d, Retry-After %q: %s", r.status, r.header.Get("Retry-After"), r.body)
	}
	if m := r.msg(t); m.Error == nil {
		t.Fatalf("no JSON-RPC error: %s", r.body)
	}
}
