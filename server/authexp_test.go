package server

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"mcplambda/mcp"
	"mcplambda/oauth"
)

// A cached authorizer Allow must not outlive the token: the exp the
// authorizer put in its context is checked on every request (issue 13,
// finding 4).
func TestUpstreamAuthRefusesExpiredContext(t *testing.T) {
	const md = "https://api.example.com/.well-known/oauth-protected-resource/mcp"
	now := time.Unix(1_800_000_000, 0)
	bearer := &BearerAuth{Verifier: fakeVerifier{&oauth.Error{Kind: oauth.ErrInvalidToken, Description: oauth.DescMalformed}}, ResourceMetadataURL: md}
	tests := []struct {
		name      string
		fallback  Authenticator
		exp       any // the context's exp, as API Gateway delivers it; nil: absent
		status    int // 0: accepted
		challenge string
	}{
		{name: "no exp (API key)", fallback: bearer},
		{name: "exp ahead", fallback: bearer, exp: float64(now.Unix() + 60)},
		{name: "exp passed within the leeway", fallback: bearer, exp: float64(now.Unix() - 10)},
		{name: "exp passed", fallback: bearer, exp: float64(now.Unix() - 31), status: 401,
			challenge: `Bearer error="invalid_token", error_description="the token has expired", resource_metadata="` + md + `"`},
		{name: "exp passed long ago, as a string", fallback: bearer, exp: "1700000000", status: 401,
			challenge: `Bearer error="invalid_token", error_description="the token has expired", resource_metadata="` + md + `"`},
		{name: "exp passed, JWT or API keys", fallback: EitherAuth{JWT: bearer}, exp: float64(now.Unix() - 3600), status: 401,
			challenge: `Bearer error="invalid_token", error_description="the token has expired", resource_metadata="` + md + `"`},
		{name: "exp passed, another fallback", fallback: AuthenticatorFunc(func(*http.Request) (*Principal, error) { return nil, nil }),
			exp: float64(now.Unix() - 3600), status: 401, challenge: `Bearer error="invalid_token", error_description="the token has expired"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig()
			h := NewHandler(New(Options{Info: mcp.Implementation{Name: "t", Version: "1"}}), cfg,
				HandlerOptions{Auth: UpstreamAuth{Fallback: tt.fallback, Now: func() time.Time { return now }}, Logger: discardLogger()})
			t.Cleanup(h.Close)
			authz := map[string]any{"principalId": "u-1", "sub": "u-1", "client_id": "c", "iss": "https://issuer", "auth": "jwt"}
			if tt.exp != nil {
				authz["exp"] = tt.exp
			}
			r := httptest.NewRequest(http.MethodPost, cfg.Path, strings.NewReader(initBody(mcp.Version20251125)))
			r.Host = "127.0.0.1"
			r.Header.Set("Content-Type", "application/json")
			r.Header.Set("Accept", "application/json, text/event-stream")
			r.Header.Set("Authorization", "Bearer cached.jwt.token")
			r = r.WithContext(WithAPIGatewayAuthorizer(r.Context(), authz))
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if tt.status == 0 {
				if w.Code != http.StatusOK {
					t.Fatalf("status %d: %s", w.Code, w.Body)
				}
				return
			}
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", w.Code, tt.status, w.Body)
			}
			if got := w.Header().Get("WWW-Authenticate"); got != tt.challenge {
				t.Errorf("challenge\n got %s\nwant %s", got, tt.challenge)
			}
			var body struct {
				Error struct {
					Message string `json:"message"`
				} `json:"error"`
			}
			if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || !strings.Contains(body.Error.Message, "expired") {
				t.Errorf("body %s (%v)", w.Body, err)
			}
			if strings.Contains(w.Body.String(), "cached.jwt.token") {
				t.Error("the refusal repeats the token")
			}
		})
	}
}

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
