package authconfig

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
)

func TestServerFromEnv(t *testing.T) {
	local := Site{Host: "127.0.0.1", Port: 3000, Path: "/mcp"}
	public := local
	public.Host = "0.0.0.0"
	onLambda := local // HOST keeps its loopback default, which means nothing on Lambda
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
		cfg     Site
		wantErr string
		check   func(*testing.T, Server)
	}{
		{name: "default is none on loopback", env: map[string]string{}, cfg: local, check: func(t *testing.T, ac Server) {
			if ac.Method != None {
				t.Fatal(ac.Method)
			}
		}},
		{name: "none refused beyond loopback", env: map[string]string{}, cfg: public, wantErr: "only allowed on a loopback address"},
		{name: "oauth without issuer", env: map[string]string{"AUTH_METHOD": "oauth"}, cfg: local, wantErr: "needs an issuer"},
		{name: "two issuers", env: with(pool, "OAUTH_ISSUER", "https://as.example"), cfg: local, wantErr: "use one issuer"},
		{name: "pool in another region", env: with(pool, "COGNITO_REGION", "us-east-1"), cfg: local, wantErr: "belongs to region eu-west-1"},
		{name: "cognito", env: pool, cfg: local, check: func(t *testing.T, ac Server) {
			v := ac.Issuer.Verifier
			if v.Issuer != "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Abc" || v.JWKSURL != v.Issuer+"/.well-known/jwks.json" ||
				v.TokenUse != "access" || !slices.Equal(v.ClientIDs, []string{"c1", "c2"}) || v.Audience != "http://localhost:3000/mcp" || v.AllowMissingAudience {
				t.Fatalf("%+v", v)
			}
		}},
		{name: "jwks override and missing audience allowed", env: with(pool, "OAUTH_JWKS_URL", "http://127.0.0.1:5000/x/.well-known/jwks.json", "OAUTH_ALLOW_MISSING_AUDIENCE", "true"), cfg: local, check: func(t *testing.T, ac Server) {
			if ac.Issuer.Verifier.JWKSURL != "http://127.0.0.1:5000/x/.well-known/jwks.json" || !ac.Issuer.Verifier.AllowMissingAudience {
				t.Fatalf("%+v", ac.Issuer.Verifier)
			}
		}},
		{name: "missing audience needs client list", env: map[string]string{"AUTH_METHOD": "oauth", "OAUTH_ISSUER": "https://as.example", "OAUTH_ALLOW_MISSING_AUDIENCE": "true"}, cfg: local, wantErr: "needs COGNITO_ALLOWED_CLIENT_IDS"},
		{name: "plain-http JWKS beyond loopback", env: with(pool, "OAUTH_JWKS_URL", "http://keys.example/jwks"), cfg: local, wantErr: "https"},
		{name: "resource URL needed beyond loopback", env: pool, cfg: public, wantErr: "MCP_RESOURCE_URL"},
		{name: "resource URL must be https", env: with(pool, "MCP_RESOURCE_URL", "http://api.example.com/mcp"), cfg: public, wantErr: "https"},
		{name: "generic issuer discovers keys", env: map[string]string{"AUTH_METHOD": "lambda", "OAUTH_ISSUER": "https://as.example/t", "OAUTH_REQUIRED_SCOPES": "mcp:read mcp:call"}, cfg: local, check: func(t *testing.T, ac Server) {
			if !ac.Issuer.DiscoverJWKS || ac.Issuer.Verifier.TokenUse != "" || !slices.Equal(ac.RequiredScopes, []string{"mcp:read", "mcp:call"}) || !slices.Equal(ac.ScopesSupported, ac.RequiredScopes) {
				t.Fatalf("%+v", ac)
			}
		}},
		{name: "plain-http issuer on a public server", env: map[string]string{"AUTH_METHOD": "oauth", "OAUTH_ISSUER": "http://as.example", "MCP_RESOURCE_URL": "https://api.example.com/mcp"}, cfg: public, wantErr: "OAUTH_ISSUER=\"http://as.example\": use an https URL"},
		{name: "plain-http issuer on Lambda", env: map[string]string{"AUTH_METHOD": "lambda", "OAUTH_ISSUER": "http://as.example/t", "MCP_RESOURCE_URL": "https://api.example.com/mcp"}, cfg: onLambda, wantErr: "use an https URL"},
		{name: "plain-http issuer off loopback even on a local server", env: map[string]string{"AUTH_METHOD": "oauth", "OAUTH_ISSUER": "http://10.0.0.5:8080"}, cfg: local, wantErr: "use an https URL"},
		{name: "plain-http issuer on loopback", env: map[string]string{"AUTH_METHOD": "oauth", "OAUTH_ISSUER": "http://127.0.0.1:9000/oidc"}, cfg: local, check: func(t *testing.T, ac Server) {
			if ac.Issuer.Verifier.Issuer != "http://127.0.0.1:9000/oidc" || !ac.Issuer.DiscoverJWKS {
				t.Fatalf("%+v", ac.Issuer)
			}
		}},
		{name: "plain-http issuer on localhost", env: map[string]string{"AUTH_METHOD": "oauth", "OAUTH_ISSUER": "http://localhost:9000"}, cfg: local, check: func(t *testing.T, ac Server) {}},
		{name: "none refused on Lambda", env: map[string]string{}, cfg: onLambda, wantErr: "this is AWS Lambda"},
		{name: "resource URL needed on Lambda", env: pool, cfg: onLambda, wantErr: "MCP_RESOURCE_URL"},
		{name: "API keys alone in lambda mode", env: map[string]string{"AUTH_METHOD": "lambda", "API_KEY_SHA256": key + "," + strings.Repeat("0", 64)}, cfg: onLambda, check: func(t *testing.T, ac Server) {
			if ac.APIKeys.Len() != 2 || ac.Issuer != nil {
				t.Fatalf("%+v", ac)
			}
		}},
		{name: "API keys with an issuer", env: with(pool, "AUTH_METHOD", "lambda", "API_KEY_SHA256", key), cfg: local, check: func(t *testing.T, ac Server) {
			if ac.APIKeys.Len() != 1 || ac.Issuer == nil {
				t.Fatalf("%+v", ac)
			}
		}},
		{name: "API keys need lambda mode", env: with(pool, "API_KEY_SHA256", key), cfg: local, wantErr: "needs AUTH_METHOD=lambda"},
		{name: "API key hash malformed", env: map[string]string{"AUTH_METHOD": "lambda", "API_KEY_SHA256": "my-secret-api-key-value"}, cfg: local, wantErr: "entry 1 has 23 characters"},
		{name: "lambda mode names API keys", env: map[string]string{"AUTH_METHOD": "lambda"}, cfg: local, wantErr: "or API_KEY_SHA256"},
		{name: "unknown method", env: map[string]string{"AUTH_METHOD": "basic"}, cfg: local, wantErr: "use none, oauth or lambda"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ac, err := ServerFromEnv(envOf(tt.env), tt.cfg)
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

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// The authorizer reads the same variables as the server, but its mode is
// what they say, not AUTH_METHOD, and its audience is always required.
func TestAuthorizerFromEnv(t *testing.T) {
	key := strings.Repeat("ab", 32)
	cognito := map[string]string{"COGNITO_REGION": "us-east-1", "COGNITO_USER_POOL_ID": "us-east-1_Pool1", "MCP_RESOURCE_URL": "https://api.example.com/prod/mcp"}
	tests := []struct {
		name       string
		env        map[string]string
		wantErr    string
		jwt, keys  bool
		wantScopes []string
	}{
		{name: "nothing", env: nil, wantErr: "no authorization configured"},
		{name: "keys", env: map[string]string{"API_KEY_SHA256": key}, keys: true},
		{name: "keys, space-separated", env: map[string]string{"API_KEY_SHA256": key + " " + strings.Repeat("cd", 32)}, keys: true},
		{name: "cognito", env: cognito, jwt: true},
		{name: "scopes stay in the verifier configuration", env: map[string]string{"COGNITO_REGION": "us-east-1", "COGNITO_USER_POOL_ID": "us-east-1_Pool1", "MCP_RESOURCE_URL": "https://a.example/mcp", "OAUTH_REQUIRED_SCOPES": "x y"}, jwt: true, wantScopes: []string{"x", "y"}},
		{name: "AUTH_METHOD plays no part", env: map[string]string{"AUTH_METHOD": "none", "API_KEY_SHA256": key}, keys: true},
		{name: "JWT settings without an issuer", env: map[string]string{"OAUTH_CLIENT_IDS": "c", "API_KEY_SHA256": key}, wantErr: "needs an issuer"},
		{name: "no audience", env: map[string]string{"OAUTH_ISSUER": "https://as.example"}, wantErr: "MCP_RESOURCE_URL"},
		{name: "plain-http issuer", env: map[string]string{"OAUTH_ISSUER": "http://as.example", "MCP_RESOURCE_URL": "https://api.example.com/mcp"}, wantErr: "OAUTH_ISSUER=\"http://as.example\": use an https URL"},
		{name: "plain-http issuer with its own https JWKS", env: map[string]string{"OAUTH_ISSUER": "http://as.example", "OAUTH_JWKS_URL": "https://as.example/jwks", "MCP_RESOURCE_URL": "https://api.example.com/mcp"}, wantErr: "use an https URL"},
		{name: "loopback audience is not assumed", env: map[string]string{"OAUTH_ISSUER": "https://as.example", "MCP_RESOURCE_URL": "http://api.example.com/mcp"}, wantErr: "https"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := AuthorizerFromEnv(envOf(tt.env))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if (a.Issuer != nil) != tt.jwt || (a.APIKeys != nil) != tt.keys {
				t.Fatalf("%+v", a)
			}
			if a.Issuer != nil && !slices.Equal(a.Issuer.Verifier.RequiredScopes, tt.wantScopes) {
				t.Fatalf("scopes %v", a.Issuer.Verifier.RequiredScopes)
			}
		})
	}
}

// Discovery over https (or loopback) must not then fetch the keys over
// plain HTTP from elsewhere.
func TestDiscoveredJWKSMustBeSecure(t *testing.T) {
	tests := []struct {
		name, jwks, wantErr string
	}{
		{"plain-http key set elsewhere", "http://keys.example/jwks.json", "not https"},
		{"https key set", "https://keys.example/jwks.json", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var issuer string
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				fmt.Fprintf(w, `{"issuer":%q,"jwks_uri":%q,"authorization_endpoint":%q,"token_endpoint":%q,"response_types_supported":["code"]}`,
					issuer, tt.jwks, issuer+"/auth", issuer+"/token")
			}))
			defer ts.Close()
			issuer = ts.URL
			s, err := ServerFromEnv(envOf(map[string]string{"AUTH_METHOD": "oauth", "OAUTH_ISSUER": issuer}), Site{Host: "127.0.0.1", Port: 3000, Path: "/mcp"})
			if err != nil {
				t.Fatal(err)
			}
			_, err = s.Issuer.NewVerifier(t.Context(), ts.Client())
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error %v, want %q", err, tt.wantErr)
			}
		})
	}
}
