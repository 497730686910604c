package client

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"mcplambda/mcp"
	"mcplambda/server"
)

const metadataURL = "http://127.0.0.1/.well-known/oauth-protected-resource/mcp"

// tokenAuth accepts "good" and refuses everything else, as the real
// resource server does (RFC 6750 challenges).
var tokenAuth = server.AuthenticatorFunc(func(r *http.Request) (*server.Principal, error) {
	tok, presented := server.BearerToken(r)
	switch {
	case !presented:
		return nil, &server.AuthError{Status: 401, Challenge: `Bearer resource_metadata="` + metadataURL + `"`, Message: "Unauthorized"}
	case tok == "good":
		return &server.Principal{Issuer: "iss", Subject: "ada", ClientID: "c"}, nil
	case tok == "narrow":
		return nil, &server.AuthError{Status: 403, Challenge: `Bearer error="insufficient_scope", scope="mcp:tools", resource_metadata="` + metadataURL + `"`, Message: "Forbidden"}
	}
	return nil, &server.AuthError{Status: 401, Challenge: `Bearer error="invalid_token", error_description="the token has expired", resource_metadata="` + metadataURL + `"`, Message: "Unauthorized"}
})

// renewingAuth hands out tokens in turn: each challenge moves to the next.
type renewingAuth struct {
	mu         sync.Mutex
	tokens     []string
	fail       error
	challenges []int // statuses seen
}

func (a *renewingAuth) Authorize(_ context.Context, req *http.Request) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	req.Header.Set("Authorization", "Bearer "+a.tokens[0])
	return nil
}

func (a *renewingAuth) Challenge(_ context.Context, resp *http.Response) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.challenges = append(a.challenges, resp.StatusCode)
	if a.fail != nil {
		return a.fail
	}
	if len(a.tokens) > 1 {
		a.tokens = a.tokens[1:]
	}
	return nil
}

func TestAuth(t *testing.T) {
	errLoginCancelled := errors.New("login cancelled by the user")
	tests := []struct {
		name       string
		auth       Authorizer
		wantStatus int   // AuthRequiredError expected with this status; 0 = success
		wantIs     error // or this error
		wantText   string
		challenges []int // statuses a renewingAuth saw
	}{
		{name: "no credentials", wantStatus: 401, wantText: "log in"},
		{name: "static token accepted", auth: StaticToken("good")},
		{name: "static token refused", auth: StaticToken("s3cr3t-expired-token"), wantStatus: 401, wantText: "the configured access token was refused"},
		{name: "static token, missing scope", auth: StaticToken("narrow"), wantStatus: 403, wantText: "insufficient scope"},
		{name: "renewed after 401", auth: &renewingAuth{tokens: []string{"stale", "good"}}, challenges: []int{401}},
		{name: "renewed after 403 insufficient_scope", auth: &renewingAuth{tokens: []string{"narrow", "good"}}, challenges: []int{403}},
		{name: "two renewals at most", auth: &renewingAuth{tokens: []string{"a", "b", "c", "good"}}, wantStatus: 401, wantText: "still refused after 2", challenges: []int{401, 401}},
		{name: "challenge fails", auth: &renewingAuth{tokens: []string{"stale"}, fail: errLoginCancelled}, wantIs: errLoginCancelled, challenges: []int{401}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkGoroutines(t)
			s := newTestServerWith(t, nil, server.HandlerOptions{Auth: tokenAuth})
			var logs bytes.Buffer
			logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			ev := newStreamEvents()
			c, err := Connect(testContext(t), Options{URL: s.url, ProtocolVersion: mcp.LatestVersion, Auth: tt.auth, Logger: logger, OpenStandaloneStream: true, OnStandaloneStream: ev.note})
			var ae *AuthRequiredError
			switch {
			case tt.wantStatus != 0:
				if !errors.As(err, &ae) || ae.Status != tt.wantStatus || ae.ResourceMetadata() != metadataURL {
					t.Fatalf("error %v, want AuthRequiredError %d with the metadata URL", err, tt.wantStatus)
				}
				if !strings.Contains(err.Error(), tt.wantText) || !strings.Contains(err.Error(), metadataURL) {
					t.Errorf("error text %q, want %q and the metadata URL", err, tt.wantText)
				}
			case tt.wantIs != nil:
				if !errors.Is(err, tt.wantIs) {
					t.Fatalf("error %v, want %v", err, tt.wantIs)
				}
			default:
				if err != nil {
					t.Fatal(err)
				}
				receive(t, ev.opened, "the GET stream")
				if err := c.Ping(testContext(t)); err != nil {
					t.Fatal(err)
				}
				if err := c.Close(testContext(t)); err != nil {
					t.Fatal(err)
				}
				// Every kind of request carried the credentials.
				for _, verb := range []string{http.MethodPost, http.MethodGet, http.MethodDelete} {
					ok := false
					for _, r := range s.proxy.requests() {
						if r.verb == verb && r.auth == "Bearer good" {
							ok = true
						}
					}
					if !ok {
						t.Errorf("no %s with the accepted token", verb)
					}
				}
			}
			if err != nil && strings.Contains(err.Error(), "s3cr3t") {
				t.Errorf("the token leaked into the error: %v", err)
			}
			if ra, ok := tt.auth.(*renewingAuth); ok {
				if got := ra.challenges; !equalInts(got, tt.challenges) {
					t.Errorf("challenges %v, want %v", got, tt.challenges)
				}
			}
			if strings.Contains(logs.String(), "s3cr3t") || strings.Contains(logs.String(), "good") || strings.Contains(logs.String(), "Bearer") {
				t.Errorf("credentials in the logs:\n%s", logs.String())
			}
			if !strings.Contains(logs.String(), "initialize") {
				t.Errorf("traffic not logged at debug:\n%s", logs.String())
			}
		})
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestBearerParams(t *testing.T) {
	tests := []struct {
		header string
		want   map[string]string
	}{
		{``, map[string]string{}},
		{`Bearer`, map[string]string{}},
		{`Bearer resource_metadata="https://x/.well-known/oauth-protected-resource/mcp"`,
			map[string]string{"resource_metadata": "https://x/.well-known/oauth-protected-resource/mcp"}},
		{`Bearer error="invalid_token", error_description="the token has \"expired\"", scope="a b"`,
			map[string]string{"error": "invalid_token", "error_description": `the token has "expired"`, "scope": "a b"}},
		{`bearer Error=insufficient_scope,scope=read`, map[string]string{"error": "insufficient_scope", "scope": "read"}},
		{`Basic realm="x", Bearer realm="api", error="invalid_token"`, map[string]string{"realm": "api", "error": "invalid_token"}},
		{`Bearer realm="api", DPoP algs="ES256"`, map[string]string{"realm": "api"}},
		{`Negotiate abc==, Bearer scope="s"`, map[string]string{"scope": "s"}},
		{`Bearer error="unterminated`, map[string]string{"error": "unterminated"}},
	}
	for _, tt := range tests {
		got := BearerParams(tt.header)
		if len(got) != len(tt.want) {
			t.Errorf("BearerParams(%q) = %v, want %v", tt.header, got, tt.want)
			continue
		}
		for k, v := range tt.want {
			if got[k] != v {
				t.Errorf("BearerParams(%q)[%s] = %q, want %q", tt.header, k, got[k], v)
			}
		}
	}
}

// TestAuthChallengeFields: the Bearer challenge may come in any
// WWW-Authenticate field, after other schemes'; a 403 is a challenge only
// with error="insufficient_scope".
func TestAuthChallengeFields(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		fields    []string
		remapped  bool // the fields come as API Gateway renames them
		challenge bool
		scope     string
	}{
		{name: "401 without header", status: 401, challenge: true},
		{name: "403 scope in second field", status: 403, fields: []string{`Basic realm="x"`, `Bearer error="insufficient_scope", scope="a b"`}, challenge: true, scope: "a b"},
		{name: "403 scope after another scheme", status: 403, fields: []string{`DPoP algs="ES256", Bearer error=insufficient_scope, scope=a`}, challenge: true, scope: "a"},
		{name: "403 other error", status: 403, fields: []string{`Bearer error="invalid_token"`}},
		{name: "403 insufficient_scope of another scheme", status: 403, fields: []string{`DPoP error="insufficient_scope"`}},
		{name: "500", status: 500, fields: []string{`Bearer error="insufficient_scope"`}},
		{name: "403 renamed by API Gateway", status: 403, remapped: true, fields: []string{`Bearer error="insufficient_scope", scope="s"`}, challenge: true, scope: "s"},
		{name: "401 renamed by API Gateway", status: 401, remapped: true, fields: []string{`Bearer scope="s", resource_metadata="https://h/m"`}, challenge: true, scope: "s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := "Www-Authenticate"
			if tt.remapped {
				name = "X-Amzn-Remapped-Www-Authenticate"
			}
			resp := &http.Response{StatusCode: tt.status, Header: http.Header{name: tt.fields}}
			if got := isAuthChallenge(resp); got != tt.challenge {
				t.Fatalf("isAuthChallenge = %t, want %t", got, tt.challenge)
			}
			if got := authRequired(resp).Scope(); got != tt.scope {
				t.Errorf("Scope() = %q, want %q", got, tt.scope)
			}
		})
	}
}
