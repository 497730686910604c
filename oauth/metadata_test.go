package oauth

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
)

func TestCognito(t *testing.T) {
	c := Cognito{Region: "us-east-1", PoolID: "us-east-1_AbC123", Domain: "my-app"}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.Issuer() != "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbC123" {
		t.Fatal(c.Issuer())
	}
	for domain, want := range map[string]string{
		"my-app": "my-app.auth.us-east-1.amazoncognito.com",
		"my-app.auth.us-east-1.amazoncognito.com":         "my-app.auth.us-east-1.amazoncognito.com",
		"https://my-app.auth.us-east-1.amazoncognito.com": "my-app.auth.us-east-1.amazoncognito.com",
		"auth.example.com":                                "auth.example.com",
	} {
		c.Domain = domain
		if got, err := c.domainHost(); err != nil || got != want {
			t.Errorf("%q: %q %v", domain, got, err)
		}
	}
	for _, bad := range []Cognito{
		{Region: "us-east-1", PoolID: "AbC123"},
		{Region: "eu-west-1", PoolID: "us-east-1_AbC123"},
		{Region: "us-east-1", PoolID: "us-east-1_A/b"},
		{PoolID: "us-east-1_AbC123"},
	} {
		if bad.Validate() == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
	c.Domain = "my-app"
	md, err := c.FacadeMetadata("https://mcp.example.com/prod", []string{"openid"})
	if err != nil {
		t.Fatal(err)
	}
	if md.Issuer != "https://mcp.example.com/prod" || md.AuthorizationEndpoint != "https://my-app.auth.us-east-1.amazoncognito.com/oauth2/authorize" ||
		!slices.Equal(md.CodeChallengeMethodsSupported, []string{"S256"}) || md.JWKSURI != c.JWKSURL() {
		t.Fatalf("%+v", md)
	}
}

func TestWellKnownURLs(t *testing.T) {
	got, _ := WellKnownURLs("https://a.example/tenant1")
	want := []string{"https://a.example/.well-known/oauth-authorization-server/tenant1", "https://a.example/.well-known/openid-configuration/tenant1", "https://a.example/tenant1/.well-known/openid-configuration"}
	if !slices.Equal(got, want) {
		t.Fatal(got)
	}
	got, _ = WellKnownURLs("https://a.example/")
	if !slices.Equal(got, []string{"https://a.example/.well-known/oauth-authorization-server", "https://a.example/.well-known/openid-configuration"}) {
		t.Fatal(got)
	}
	if _, err := WellKnownURLs("not a url"); err == nil {
		t.Fatal("accepted")
	}
	got, _ = ProtectedResourceMetadataURLs("https://a.example/prod/mcp")
	if !slices.Equal(got, []string{"https://a.example/.well-known/oauth-protected-resource/prod/mcp", "https://a.example/.well-known/oauth-protected-resource"}) {
		t.Fatal(got)
	}
}

func TestFetchAuthorizationServerMetadata(t *testing.T) {
	var issuer string
	mux := http.NewServeMux()
	mux.HandleFunc("/t/.well-known/openid-configuration", func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(AuthorizationServerMetadata{Issuer: issuer, CodeChallengeMethodsSupported: []string{"S256"}})
	})
	mux.HandleFunc("/.well-known/oauth-authorization-server/evil", func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(AuthorizationServerMetadata{Issuer: "https://other.example"})
	})
	mux.HandleFunc("/.well-known/oauth-authorization-server/big", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`{"issuer":"` + strings.Repeat("a", maxMetadataBytes) + `"}`))
	})
	ts := httptest.NewServer(mux)
	defer ts.Close()
	issuer = ts.URL + "/t"
	md, err := FetchAuthorizationServerMetadata(context.Background(), ts.Client(), issuer)
	if err != nil || md.Issuer != issuer {
		t.Fatalf("%+v %v", md, err)
	}
	if _, err := FetchAuthorizationServerMetadata(context.Background(), ts.Client(), ts.URL+"/evil"); err == nil || !strings.Contains(err.Error(), "refusing") {
		t.Fatalf("mismatched issuer: %v", err)
	}
	if _, err := FetchAuthorizationServerMetadata(context.Background(), ts.Client(), ts.URL+"/big"); err == nil || !strings.Contains(err.Error(), "larger") {
		t.Fatalf("oversized: %v", err)
	}
	if _, err := FetchAuthorizationServerMetadata(context.Background(), ts.Client(), ts.URL+"/none"); err == nil {
		t.Fatal("missing metadata accepted")
	}
}
