package server

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"mcplambda/oauth"
)

type fakeVerifier struct{ err *oauth.Error }

func (f fakeVerifier) Verify(_ context.Context, token string) (*oauth.Claims, error) {
	if f.err != nil {
		return nil, f.err
	}
	return &oauth.Claims{Issuer: "iss", Subject: "sub-" + token, ClientID: "c1", Scopes: []string{"mcp"}}, nil
}

func TestBearerChallenges(t *testing.T) {
	const md = "https://api.example.com/.well-known/oauth-protected-resource/mcp"
	tests := []struct {
		name      string
		auth      []string
		err       *oauth.Error
		scopes    []string
		status    int
		challenge string
	}{
		{name: "no token: no error code", status: 401, challenge: `Bearer resource_metadata="` + md + `"`},
		{name: "no token, scopes configured", scopes: []string{"mcp:read", "mcp:call"}, status: 401, challenge: `Bearer scope="mcp:read mcp:call", resource_metadata="` + md + `"`},
		{name: "basic scheme counts as no token", auth: []string{"Basic YTpi"}, status: 401, challenge: `Bearer resource_metadata="` + md + `"`},
		{name: "empty bearer", auth: []string{"Bearer "}, status: 400, challenge: `Bearer error="invalid_request", error_description="the Authorization header is malformed: use \"Authorization: Bearer <token>\"", resource_metadata="` + md + `"`},
		{name: "two tokens", auth: []string{"Bearer a b"}, status: 400},
		{name: "two headers", auth: []string{"Bearer a", "Bearer b"}, status: 400},
		{name: "invalid token", auth: []string{"Bearer x.y.z"}, err: &oauth.Error{Kind: oauth.ErrInvalidToken, Description: "the token has expired"}, status: 401,
			challenge: `Bearer error="invalid_token", error_description="the token has expired", resource_metadata="` + md + `"`},
		{name: "insufficient scope names every needed scope", auth: []string{"Bearer x.y.z"}, scopes: []string{"a", "b"},
			err: &oauth.Error{Kind: oauth.ErrInsufficientScope, Description: "the token lacks the required scope", MissingScopes: []string{"b"}}, status: 403,
			challenge: `Bearer error="insufficient_scope", error_description="the token lacks the required scope", scope="a b", resource_metadata="` + md + `"`},
		{name: "keys unavailable", auth: []string{"Bearer x.y.z"}, err: &oauth.Error{Kind: oauth.ErrUnavailable, Description: "the authorization server's keys are unavailable"}, status: 503},
		{name: "valid", auth: []string{"bearer tok"}, status: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := &BearerAuth{Verifier: fakeVerifier{tt.err}, ResourceMetadataURL: md, Scopes: tt.scopes}
			r := httptest.NewRequest(http.MethodPost, "/mcp", nil)
			for _, a := range tt.auth {
				r.Header.Add("Authorization", a)
			}
			p, err := b.Authenticate(r)
			if tt.status == 0 {
				if err != nil || p.Subject != "sub-tok" || p.ClientID != "c1" {
					t.Fatalf("%+v %v", p, err)
				}
				return
			}
			ae, ok := err.(*AuthError)
			if !ok {
				t.Fatalf("error %T %v", err, err)
			}
			if ae.Status != tt.status {
				t.Errorf("status %d, want %d", ae.Status, tt.status)
			}
			if tt.challenge != "" && ae.Challenge != tt.challenge {
				t.Errorf("challenge\n got %s\nwant %s", ae.Challenge, tt.challenge)
			}
			for _, a := range tt.auth {
				if tok := strings.TrimPrefix(a, "Bearer "); len(tok) > 3 && strings.Contains(ae.Message+ae.Challenge, tok) {
					t.Errorf("the refusal repeats the token: %s", ae.Message)
				}
			}
		})
	}
}

func TestUpstreamAuth(t *testing.T) {
	u := UpstreamAuth{Fallback: &BearerAuth{Verifier: fakeVerifier{&oauth.Error{Kind: oauth.ErrInvalidToken, Description: oauth.DescMalformed}}}}
	r := httptest.NewRequest(http.MethodPost, "/mcp", nil)
	r.Header.Set("Authorization", "Bearer forged")
	if _, err := u.Authenticate(r); err == nil {
		t.Fatal("a token was accepted without verification")
	}
	// A header cannot impersonate the authorizer: only the context can.
	r.Header.Set("X-Authorizer-Principal", "admin")
	if _, err := u.Authenticate(r); err == nil {
		t.Fatal("a header set the principal")
	}
	want := &Principal{Issuer: "iss", Subject: "alice", ClientID: "c1"}
	p, err := u.Authenticate(r.WithContext(WithAuthorizerPrincipal(r.Context(), want)))
	if err != nil || p != want {
		t.Fatalf("%+v %v", p, err)
	}
}
