package authorizer

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"mcplambda/test/moto"
)

const contextTimeout = 30 * time.Second

const (
	apiKey1 = "k1-7Qm2Vx9Lp4Rt8Zs3Wn6Yb1Hc5Jd0Fg"
	apiKey2 = "k2-Ae4Bf8Cg2Dh6Ei0Fj3Gk7Hl1Im5Jn9"
)

func TestAPIKeyMode(t *testing.T) {
	h1, h2 := hashHex(apiKey1), hashHex(apiKey2)
	a, logs := newAuthorizer(t, map[string]string{"API_KEY_SHA256": h1 + "," + h2})

	t.Run("allow", func(t *testing.T) {
		for _, tt := range []struct{ key, hash string }{{apiKey1, h1}, {apiKey2, h2}} {
			resp, err := handle(t, a, bearer(tt.key))
			principal := "apikey:" + tt.hash[:12]
			wantPolicy(t, resp, err, principal, "Allow")
			checkContract(t, resp.Context, map[string]any{
				"sub": principal, "client_id": "", "scope": "", "username": "", "iss": "", "auth": "api_key",
			})
		}
	})
	t.Run("the policy is the same whatever method was asked for", func(t *testing.T) {
		for _, arn := range []string{
			"arn:aws:execute-api:us-east-1:123456789012:abc123defg/prod/GET/mcp",
			"arn:aws:execute-api:us-east-1:123456789012:abc123defg/prod/DELETE/mcp",
			"arn:aws:execute-api:us-east-1:123456789012:abc123defg/prod/PUT/admin/users",
		} {
			resp, err := handle(t, a, request(arn, "Bearer "+apiKey1))
			wantPolicy(t, resp, err, "apikey:"+h1[:12], "Allow")
		}
	})
	t.Run("refuse", func(t *testing.T) {
		for name, authz := range map[string]string{
			"unknown key":              "Bearer not-a-configured-key",
			"key plus a char":          "Bearer " + apiKey1 + "x",
			"key minus a char":         "Bearer " + apiKey1[:len(apiKey1)-1],
			"the hash as a key":        "Bearer " + h1,
			"basic":                    "Basic " + apiKey1,
			"no scheme":                apiKey1,
			"two tokens":               "Bearer " + apiKey1 + " " + apiKey2,
			"empty":                    "",
			"a JWT in key-only mode":   "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.",
			"the key in another case":  "Bearer " + strings.ToUpper(apiKey1),
			"header over 8 KiB":        "Bearer " + strings.Repeat("A", MaxHeaderBytes),
			"no authorization header:": "\x00none",
		} {
			t.Run(name, func(t *testing.T) {
				resp, err := handle(t, a, request(testARN, authz))
				wantUnauthorized(t, resp, err)
			})
		}
	})
	t.Run("a hash differing in its last char does not match", func(t *testing.T) {
		last := byte('0')
		if h1[63] == '0' {
			last = '1'
		}
		b, _ := newAuthorizer(t, map[string]string{"API_KEY_SHA256": h1[:63] + string(last)})
		resp, err := handle(t, b, bearer(apiKey1))
		wantUnauthorized(t, resp, err)
	})
	t.Run("malformed methodArn is a 500, not a wildcard", func(t *testing.T) {
		for _, arn := range []string{"", "arn:aws:execute-api:us-east-1:123456789012:*/*/*/*", "arn:aws:execute-api:us-east-1:123456789012:abc/prod"} {
			resp, err := handle(t, a, request(arn, "Bearer "+apiKey1))
			if err == nil || errors.Is(err, errUnauthorized) || len(resp.PolicyDocument.Statement) != 0 {
				t.Fatalf("%q: %+v, %v; want a non-Unauthorized error and no policy", arn, resp, err)
			}
		}
	})
	t.Run("logs", func(t *testing.T) {
		lines := logs.lines(t)
		if len(lines) == 0 {
			t.Fatal("no log lines")
		}
		decisions := map[string]int{}
		for _, l := range lines {
			d, _ := l["decision"].(string)
			decisions[d]++
			if l["msg"] != "authorizer decision" || l["reason"] == nil {
				t.Errorf("log line %v lacks msg or reason", l)
			}
		}
		if decisions["allow"] == 0 || decisions["unauthorized"] == 0 || decisions["error"] == 0 {
			t.Errorf("decisions logged: %v", decisions)
		}
		logs.noSecrets(t, apiKey1, apiKey2, h1, h2, strings.ToUpper(apiKey1), apiKey1[:len(apiKey1)-1])
	})
}

// The signing keys cannot be fetched and none is cached: API Gateway must
// answer 500 (any error but "Unauthorized"), and the log says why.
func TestJWKSUnavailable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String() + "/.well-known/jwks.json"
	l.Close()
	a, logs := newAuthorizer(t, map[string]string{
		"COGNITO_REGION":               "us-east-1",
		"COGNITO_USER_POOL_ID":         "us-east-1_TestPool1",
		"COGNITO_ALLOWED_CLIENT_IDS":   "client-1",
		"OAUTH_JWKS_URL":               closed,
		"MCP_RESOURCE_URL":             testResource,
		"OAUTH_ALLOW_MISSING_AUDIENCE": "true",
	})
	key := mustKey(t)(rsa.GenerateKey(rand.Reader, 2048))
	now := time.Now()
	tok, err := moto.SignRS256(key, "k1", map[string]any{
		"iss": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_TestPool1", "sub": "s", "client_id": "client-1",
		"token_use": "access", "exp": now.Add(time.Hour).Unix(), "iat": now.Unix(),
	})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := handle(t, a, bearer(tok))
	if err == nil || errors.Is(err, errUnauthorized) || err.Error() == "Unauthorized" || len(resp.PolicyDocument.Statement) != 0 {
		t.Fatalf("got %+v, %v; want an error other than Unauthorized", resp, err)
	}
	lines := logs.lines(t)
	if len(lines) != 1 || lines[0]["decision"] != "error" || lines[0]["reason"] != "jwks_fetch_failed" || lines[0]["level"] != "ERROR" ||
		!strings.Contains(lines[0]["error"].(string), "JWKS fetch failed") {
		t.Errorf("want one error line about the JWKS fetch:\n%s", logs)
	}
	t.Logf("log: %s", logs)
	logs.noSecrets(t, tok)
}

func TestConfigFromEnv(t *testing.T) {
	cognito := map[string]string{
		"COGNITO_REGION":       "us-east-1",
		"COGNITO_USER_POOL_ID": "us-east-1_TestPool1",
		"MCP_RESOURCE_URL":     testResource,
	}
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
	h := hashHex(apiKey1)
	tests := []struct {
		name    string
		env     map[string]string
		wantErr string
		jwt     bool
		keys    int
		scopes  string
		path    string
	}{
		{"nothing set", nil, "API_KEY_SHA256", false, 0, "", ""},
		{"nothing set names the JWT variables too", nil, "COGNITO_USER_POOL_ID", false, 0, "", ""},
		{"only AUTH_METHOD", map[string]string{"AUTH_METHOD": "none"}, "no authorization configured", false, 0, "", ""},
		{"api keys", map[string]string{"API_KEY_SHA256": h}, "", false, 1, "", "/mcp"},
		{"api keys with the resource URL", map[string]string{"API_KEY_SHA256": h, "MCP_RESOURCE_URL": testResource}, "", false, 1, "", "/mcp"},
		{"only the resource URL", map[string]string{"MCP_RESOURCE_URL": testResource}, "no authorization configured", false, 0, "", ""},
		{"required scopes without an issuer", map[string]string{"API_KEY_SHA256": h, "OAUTH_REQUIRED_SCOPES": "mcp"}, "needs an issuer", false, 0, "", ""},
		{"bad hash", map[string]string{"API_KEY_SHA256": "abc"}, "API_KEY_SHA256", false, 0, "", ""},
		{"cognito", cognito, "", true, 0, "", "/mcp"},
		{"cognito and keys", with(cognito, "API_KEY_SHA256", h), "", true, 1, "", "/mcp"},
		{"cognito with scopes and a path", with(cognito, "OAUTH_REQUIRED_SCOPES", "mcp:tools, mcp:read", "MCP_PATH", "/v1/mcp"), "", true, 0, "mcp:tools mcp:read", "/v1/mcp"},
		{"AUTH_METHOD is ignored: JWT mode is what the variables say", with(cognito, "AUTH_METHOD", "none"), "", true, 0, "", "/mcp"},
		{"no audience", with(cognito, "MCP_RESOURCE_URL", ""), "MCP_RESOURCE_URL", false, 0, "", ""},
		{"no audience with keys is still an error", with(cognito, "MCP_RESOURCE_URL", "", "API_KEY_SHA256", h), "MCP_RESOURCE_URL", false, 0, "", ""},
		{"http audience", with(cognito, "MCP_RESOURCE_URL", "http://api.example.com/mcp"), "MCP_RESOURCE_URL", false, 0, "", ""},
		{"client ids without an issuer", map[string]string{"COGNITO_ALLOWED_CLIENT_IDS": "c1", "API_KEY_SHA256": h}, "needs an issuer", false, 0, "", ""},
		{"bad pool", with(cognito, "COGNITO_USER_POOL_ID", "nope"), "REGION_ID", false, 0, "", ""},
		{"missing audience allowed without clients", with(cognito, "OAUTH_ALLOW_MISSING_AUDIENCE", "true"), "COGNITO_ALLOWED_CLIENT_IDS", false, 0, "", ""},
		{"insecure JWKS", with(cognito, "OAUTH_JWKS_URL", "http://keys.example.com/jwks.json"), "OAUTH_JWKS_URL", false, 0, "", ""},
		{"HMAC", with(cognito, "OAUTH_ALGORITHMS", "HS256"), "HS256", false, 0, "", ""},
		{"both issuers", with(cognito, "OAUTH_ISSUER", "https://issuer.example.com"), "both OAUTH_ISSUER and COGNITO_", false, 0, "", ""},
		{"bad MCP_PATH", map[string]string{"API_KEY_SHA256": h, "MCP_PATH": "/*"}, "MCP_PATH", false, 0, "", ""},
		{"relative MCP_PATH", map[string]string{"API_KEY_SHA256": h, "MCP_PATH": "mcp"}, "MCP_PATH", false, 0, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := ConfigFromEnv(t.Context(), envFunc(tt.env))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if (cfg.Verifier != nil) != tt.jwt || (cfg.APIKeys != nil) != (tt.keys > 0) || (cfg.APIKeys != nil && cfg.APIKeys.Len() != tt.keys) {
				t.Fatalf("verifier %v, keys %v", cfg.Verifier != nil, cfg.APIKeys)
			}
			if got := strings.Join(cfg.RequiredScopes, " "); got != tt.scopes {
				t.Errorf("required scopes %q, want %q", got, tt.scopes)
			}
			if cfg.MCPPath != tt.path {
				t.Errorf("MCP path %q, want %q", cfg.MCPPath, tt.path)
			}
			if cfg.Verifier != nil {
				vc := cfg.Verifier.Config()
				if vc.Audience != testResource || vc.TokenUse != "access" || len(vc.RequiredScopes) != 0 ||
					vc.JWKSURL != "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_TestPool1/.well-known/jwks.json" {
					t.Errorf("verifier config %+v", vc)
				}
			}
			if _, err := New(cfg); err != nil {
				t.Errorf("New: %v", err)
			}
		})
	}
}

func TestNewRefusesEmptyConfig(t *testing.T) {
	if _, err := New(Config{}); err == nil {
		t.Fatal("New accepted a configuration that checks nothing")
	}
}

// Once the keys are known, a JWKS outage does not stop verification: the
// cached keys are kept, so tokens signed with them are still judged.
func TestJWKSOutageWithCachedKeys(t *testing.T) {
	key := mustKey(t)(rsa.GenerateKey(rand.Reader, 2048))
	body, err := json.Marshal(moto.JWKS{Keys: []moto.JWK{moto.PublicJWK(&key.PublicKey, "k1")}})
	if err != nil {
		t.Fatal(err)
	}
	var down atomic.Bool
	js := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if down.Load() {
			http.Error(w, "unavailable", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	}))
	defer js.Close()
	const iss = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_TestPool1"
	a, logs := newAuthorizer(t, map[string]string{
		"COGNITO_REGION":               "us-east-1",
		"COGNITO_USER_POOL_ID":         "us-east-1_TestPool1",
		"COGNITO_ALLOWED_CLIENT_IDS":   "client-1",
		"OAUTH_JWKS_URL":               js.URL + "/jwks.json",
		"MCP_RESOURCE_URL":             testResource,
		"OAUTH_ALLOW_MISSING_AUDIENCE": "true",
	})
	mint := func(sub, kid string) string {
		now := time.Now()
		tok, err := moto.SignRS256(key, kid, map[string]any{
			"iss": iss, "sub": sub, "client_id": "client-1", "token_use": "access",
			"exp": now.Add(time.Hour).Unix(), "iat": now.Unix(),
		})
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	resp, err := handle(t, a, bearer(mint("first", "k1")))
	wantPolicy(t, resp, err, "first", "Allow")
	down.Store(true)
	// A token never seen before, so not in the verified-token cache.
	resp, err = handle(t, a, bearer(mint("second", "k1")))
	wantPolicy(t, resp, err, "second", "Allow")
	// A key that cannot be fetched now never lets a token through.
	resp, err = handle(t, a, bearer(mint("third", "k2")))
	if err == nil || len(resp.PolicyDocument.Statement) != 0 {
		t.Fatalf("unknown kid during the outage: %+v, %v", resp, err)
	}
	logs.noSecrets(t)
}

// TestCacheTTL: API Gateway caches an Allow for the authorizer's TTL, keyed
// by the token. A token that would expire within that time is refused, so
// a cached Allow never outlives its token (the client gets the gateway's
// 401 challenge and refreshes, instead of reaching the function with an
// expired token).
func TestCacheTTL(t *testing.T) {
	key := mustKey(t)(rsa.GenerateKey(rand.Reader, 2048))
	body, err := json.Marshal(moto.JWKS{Keys: []moto.JWK{moto.PublicJWK(&key.PublicKey, "k1")}})
	if err != nil {
		t.Fatal(err)
	}
	js := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	}))
	defer js.Close()
	const iss = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_TestPool1"
	env := map[string]string{
		"COGNITO_REGION":               "us-east-1",
		"COGNITO_USER_POOL_ID":         "us-east-1_TestPool1",
		"COGNITO_ALLOWED_CLIENT_IDS":   "client-1",
		"OAUTH_JWKS_URL":               js.URL + "/jwks.json",
		"MCP_RESOURCE_URL":             testResource,
		"OAUTH_ALLOW_MISSING_AUDIENCE": "true",
	}
	now := time.Now()
	tests := []struct {
		name      string
		ttl       string // AUTHORIZER_RESULT_TTL; "" = unset
		lifetime  time.Duration
		remaining time.Duration
		reason    string // "" = allowed
	}{
		{"an hour left", "300", time.Hour, time.Hour, ""},
		{"more than the TTL left", "300", time.Hour, 301 * time.Second, ""},
		{"less than the TTL left", "300", time.Hour, 299 * time.Second, "expires_within_cache_ttl"},
		{"unset means API Gateway's default, 300 s", "", time.Hour, 200 * time.Second, "expires_within_cache_ttl"},
		{"a shorter TTL lets the token live longer", "60", time.Hour, 200 * time.Second, ""},
		{"no caching, no early refusal", "0", time.Hour, 30 * time.Second, ""},
		{"tokens that never outlive the cache", "300", 5 * time.Minute, 4 * time.Minute, "token_lifetime_not_above_cache_ttl: lower AUTHORIZER_RESULT_TTL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := maps.Clone(env)
			if tt.ttl != "" {
				e["AUTHORIZER_RESULT_TTL"] = tt.ttl
			}
			a, logs := newAuthorizer(t, e)
			exp := now.Add(tt.remaining)
			tok, err := moto.SignRS256(key, "k1", map[string]any{
				"iss": iss, "sub": "s1", "client_id": "client-1", "token_use": "access",
				"exp": exp.Unix(), "iat": exp.Add(-tt.lifetime).Unix(),
			})
			if err != nil {
				t.Fatal(err)
			}
			resp, err := handle(t, a, bearer(tok))
			if tt.reason == "" {
				wantPolicy(t, resp, err, "s1", "Allow")
				return
			}
			wantUnauthorized(t, resp, err)
			lines := logs.lines(t)
			if len(lines) != 1 || lines[0]["reason"] != tt.reason || lines[0]["sub"] != "s1" {
				t.Errorf("log %s, want reason %q", logs, tt.reason)
			}
			logs.noSecrets(t, tok)
		})
	}
	for _, bad := range []string{"-1", "3601", "5m", "x"} {
		if _, err := ConfigFromEnv(t.Context(), envFunc(map[string]string{"API_KEY_SHA256": hashHex(apiKey1), "AUTHORIZER_RESULT_TTL": bad})); err == nil ||
			!strings.Contains(err.Error(), "AUTHORIZER_RESULT_TTL") {
			t.Errorf("AUTHORIZER_RESULT_TTL=%s: err %v", bad, err)
		}
	}
}
