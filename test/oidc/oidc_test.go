package oidc

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestProviderMetadata(t *testing.T) {
	p := Start(t, Options{})
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, p.Issuer+"/.well-known/openid-configuration", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var md struct {
		Issuer                        string   `json:"issuer"`
		TokenEndpoint                 string   `json:"token_endpoint"`
		RevocationEndpoint            string   `json:"revocation_endpoint"`
		RegistrationEndpoint          string   `json:"registration_endpoint"`
		JWKSURI                       string   `json:"jwks_uri"`
		CodeChallengeMethodsSupported []string `json:"code_challenge_methods_supported"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&md); err != nil {
		t.Fatal(err)
	}
	if md.Issuer != p.Issuer || md.TokenEndpoint != p.TokenEndpoint() || md.RevocationEndpoint != p.RevocationEndpoint() ||
		md.JWKSURI != p.JWKSURL() || md.RegistrationEndpoint == "" || !slices.Equal(md.CodeChallengeMethodsSupported, []string{"S256"}) {
		t.Fatalf("metadata %+v", md)
	}
	// PKCE is required even of the pre-registered public client.
	q := url.Values{"response_type": {"code"}, "client_id": {p.ClientID}, "redirect_uri": {"http://127.0.0.1:9/callback"}, "scope": {"mcp:read"}}
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp2, err := noRedirect.Get(p.Issuer + "/auth?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp2.Body.Close()
	loc, _ := url.Parse(resp2.Header.Get("Location"))
	if loc == nil || loc.Query().Get("error") != "invalid_request" {
		t.Fatalf("authorization request without PKCE: HTTP %d, Location %q; want an invalid_request redirect", resp2.StatusCode, resp2.Header.Get("Location"))
	}
}

func TestParseForm(t *testing.T) {
	page := `<h1>Sign-in</h1><form autocomplete="off" action="/interaction/abc&amp;x" method="post">
  <input type="hidden" name="prompt" value="login"/>
  <input required type="text" name="login" placeholder="Enter any login" >
  <input required type="password" name="password" placeholder="and password">
  <button type="submit">Sign-in</button></form>`
	action, fields, err := parseForm(page)
	if err != nil {
		t.Fatal(err)
	}
	if action != "/interaction/abc&x" || fields.Get("prompt") != "login" || !fields.Has("login") || !fields.Has("password") {
		t.Fatalf("action %q fields %v", action, fields)
	}
	if _, _, err := parseForm("<p>no form</p>"); err == nil {
		t.Fatal("a page without a form parsed")
	}
}

func TestBrowserReportsAnErrorPage(t *testing.T) {
	p := Start(t, Options{})
	q := url.Values{"response_type": {"code"}, "client_id": {"no-such-client"}, "redirect_uri": {"http://127.0.0.1:9/callback"},
		"code_challenge": {"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"}, "code_challenge_method": {"S256"}}
	b := &Browser{}
	err := b.Open(t.Context(), p.Issuer+"/auth?"+q.Encode())
	if err == nil || !strings.Contains(err.Error(), "invalid_client") {
		t.Fatalf("an unknown client's error page: %v, want an error naming invalid_client", err)
	}
}
