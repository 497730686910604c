package authorizer

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"mcplambda/test/moto"
)

// motoFixture is a Cognito pool on moto_server, its real tokens, and a
// JWKS endpoint that serves moto's real key next to one of ours, so that
// tokens moto cannot produce (expired, other audience, foreign key...) can
// be minted and checked by the same verifier configuration.
type motoFixture struct {
	srv     *moto.Server
	c       *moto.Cognito
	own     *rsa.PrivateKey
	motoPub *rsa.PublicKey
	jwksURL string // moto's key plus ours
}

func newMotoFixture(t *testing.T) *motoFixture {
	srv := moto.Start(t)
	c := moto.NewCognito(t, srv, moto.CognitoOptions{})
	set, err := moto.FetchJWKS(t.Context(), c.JWKSURL)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := set.RSAKey("dummy")
	if err != nil {
		t.Fatal(err)
	}
	own := mustKey(t)(rsa.GenerateKey(rand.Reader, 2048))
	both := moto.JWKS{Keys: append(set.Keys, moto.PublicJWK(&own.PublicKey, "test-key"))}
	body, err := json.Marshal(both)
	if err != nil {
		t.Fatal(err)
	}
	js := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	}))
	t.Cleanup(js.Close)
	return &motoFixture{srv: srv, c: c, own: own, motoPub: pub, jwksURL: js.URL + "/jwks.json"}
}

// env is the configuration the server would use against this pool; moto,
// like Cognito without resource binding, issues access tokens without aud.
func (f *motoFixture) env(jwksURL string, kv ...string) map[string]string {
	m := map[string]string{
		"COGNITO_REGION":               moto.Region,
		"COGNITO_USER_POOL_ID":         f.c.PoolID,
		"COGNITO_ALLOWED_CLIENT_IDS":   f.c.ClientID,
		"OAUTH_JWKS_URL":               jwksURL,
		"MCP_RESOURCE_URL":             testResource,
		"OAUTH_ALLOW_MISSING_AUDIENCE": "true",
	}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

// claims are those of a valid access token of this pool.
func (f *motoFixture) claims(kv ...any) map[string]any {
	now := time.Now()
	m := map[string]any{
		"iss": f.c.Issuer, "sub": "minted-subject", "client_id": f.c.ClientID, "token_use": "access",
		"scope": "aws.cognito.signin.user.admin", "username": "mallory",
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(), "jti": "minted",
	}
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(m, kv[i].(string))
			continue
		}
		m[kv[i].(string)] = kv[i+1]
	}
	return m
}

func (f *motoFixture) mint(t *testing.T, kid string, claims map[string]any) string {
	tok, err := moto.SignRS256(f.own, kid, claims)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func b64json(t *testing.T, v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// hs256WithPublicKey is the algorithm-confusion attack: an HMAC whose
// secret is the RSA public key, under the RSA key's kid.
func (f *motoFixture) hs256WithPublicKey(t *testing.T) string {
	der, err := x509.MarshalPKIXPublicKey(f.motoPub)
	if err != nil {
		t.Fatal(err)
	}
	secret := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	in := b64json(t, map[string]any{"alg": "HS256", "typ": "JWT", "kid": "dummy"}) + "." + b64json(t, f.claims())
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(in))
	return in + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

func (f *motoFixture) algNone(t *testing.T) string {
	return b64json(t, map[string]any{"alg": "none", "typ": "JWT"}) + "." + b64json(t, f.claims()) + "."
}

func TestJWTOnMoto(t *testing.T) {
	f := newMotoFixture(t)
	access, id, _ := f.c.Tokens(t)
	claims, err := moto.DecodeJWT(access)
	if err != nil {
		t.Fatal(err)
	}
	a, logs := newAuthorizer(t, f.env(f.c.JWKSURL))
	var secrets []string
	secrets = append(secrets, access, id)

	t.Run("a Cognito access token is allowed on the MCP methods of the stage", func(t *testing.T) {
		sub := claims.String("sub")
		for _, arn := range []string{testARN,
			"arn:aws:execute-api:us-east-1:123456789012:abc123defg/prod/GET/mcp",
			"arn:aws:execute-api:us-east-1:123456789012:abc123defg/prod/DELETE/mcp"} {
			resp, err := handle(t, a, request(arn, "Bearer "+access))
			wantPolicy(t, resp, err, sub, "Allow")
			checkContract(t, resp.Context, map[string]any{
				"sub":       sub,
				"client_id": f.c.ClientID,
				"scope":     "aws.cognito.signin.user.admin",
				"username":  f.c.Username,
				"iss":       f.c.Issuer,
				"auth":      "jwt",
				"exp":       claims.Time("exp").Unix(),
			})
		}
	})

	t.Run("header and scheme in any case, multiValueHeaders only", func(t *testing.T) {
		req := request(testARN, "\x00none")
		req.MultiValueHeaders["authorization"] = []string{"bEaReR " + access}
		resp, err := handle(t, a, req)
		wantPolicy(t, resp, err, claims.String("sub"), "Allow")
	})

	// Another pool on the same server: moto signs it with the same key, so
	// only the issuer check tells its tokens apart.
	c2 := moto.NewCognito(t, f.srv, moto.CognitoOptions{})
	otherPool := c2.AccessToken(t)
	otherClientID := f.c.AddClient(t, "not-allowed")
	otherClient, _, _ := f.c.TokensFor(t, otherClientID, f.c.Username)
	secrets = append(secrets, otherPool, otherClient)

	// Minted tokens are checked against the JWKS that also holds our key.
	m, mlogs := newAuthorizer(t, f.env(f.jwksURL))
	valid := f.mint(t, "test-key", f.claims())
	t.Run("a minted token is valid", func(t *testing.T) {
		resp, err := handle(t, m, bearer(valid))
		wantPolicy(t, resp, err, "minted-subject", "Allow")
	})
	now := time.Now()
	battery := []struct {
		name, authz string
	}{
		{"expired", "Bearer " + f.mint(t, "test-key", f.claims("exp", now.Add(-time.Hour).Unix(), "iat", now.Add(-2*time.Hour).Unix()))},
		{"not yet valid", "Bearer " + f.mint(t, "test-key", f.claims("nbf", now.Add(time.Hour).Unix()))},
		{"no expiry", "Bearer " + f.mint(t, "test-key", f.claims("exp", nil))},
		{"wrong issuer (another pool, real token)", "Bearer " + otherPool},
		{"wrong issuer (minted)", "Bearer " + f.mint(t, "test-key", f.claims("iss", "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Other"))},
		{"client not allowed (real token)", "Bearer " + otherClient},
		{"no client id", "Bearer " + f.mint(t, "test-key", f.claims("client_id", nil))},
		{"id token instead of access token", "Bearer " + id},
		{"alg none", "Bearer " + f.algNone(t)},
		{"HS256 signed with the public key", "Bearer " + f.hs256WithPublicKey(t)},
		{"unknown kid", "Bearer " + f.mint(t, "no-such-key", f.claims())},
		{"moto's kid, another key", "Bearer " + f.mint(t, "dummy", f.claims())},
		{"wrong audience", "Bearer " + f.mint(t, "test-key", f.claims("aud", "https://other.example.com/mcp"))},
		{"tampered payload", "Bearer " + tamper(t, access)},
		{"garbage", "Bearer not-a-token"},
		{"garbage with dots", "Bearer a.b.c"},
		{"empty", ""},
		{"Bearer and nothing", "Bearer "},
		{"Basic", "Basic xxx"},
		{"Basic with a real token", "Basic " + access},
		{"two tokens", "Bearer " + access + " " + valid},
		{"no Authorization header", "\x00none"},
	}
	for _, tt := range battery {
		t.Run(tt.name, func(t *testing.T) {
			for _, az := range []*Authorizer{a, m} {
				resp, err := handle(t, az, request(testARN, tt.authz))
				wantUnauthorized(t, resp, err)
			}
		})
		secrets = append(secrets, strings.TrimPrefix(strings.TrimPrefix(tt.authz, "Bearer "), "Basic "))
	}
	t.Run("two Authorization headers", func(t *testing.T) {
		req := bearer(access)
		req.MultiValueHeaders["Authorization"] = []string{"Bearer " + access, "Bearer " + valid}
		resp, err := handle(t, a, req)
		wantUnauthorized(t, resp, err)
	})

	t.Run("missing scope is a Deny", func(t *testing.T) {
		s, slogs := newAuthorizer(t, f.env(f.jwksURL, "OAUTH_REQUIRED_SCOPES", "mcp:tools,mcp:read"))
		resp, err := handle(t, s, bearer(access))
		wantPolicy(t, resp, err, claims.String("sub"), "Deny")
		want := map[string]any{
			"error": "insufficient_scope", "error_description": "the token lacks the required scope",
			"required_scope": "mcp:tools mcp:read", "auth": "jwt",
		}
		if !maps.Equal(resp.Context, want) {
			t.Errorf("context %v, want %v", resp.Context, want)
		}
		// One of the two is not enough.
		partial := f.mint(t, "test-key", f.claims("scope", "openid mcp:tools"))
		resp, err = handle(t, s, bearer(partial))
		wantPolicy(t, resp, err, "minted-subject", "Deny")

		scoped := f.mint(t, "test-key", f.claims("scope", "openid mcp:read mcp:tools"))
		resp, err = handle(t, s, bearer(scoped))
		wantPolicy(t, resp, err, "minted-subject", "Allow")
		if resp.Context["scope"] != "openid mcp:read mcp:tools" {
			t.Errorf("scope %v", resp.Context["scope"])
		}
		// Scopes do not rescue an invalid token: still 401, not 403.
		resp, err = handle(t, s, bearer(f.mint(t, "test-key", f.claims("scope", "mcp:tools mcp:read", "exp", now.Add(-time.Hour).Unix()))))
		wantUnauthorized(t, resp, err)
		lines := slogs.lines(t)
		if len(lines) == 0 || lines[0]["decision"] != "deny" || lines[0]["reason"] != "insufficient_scope" || lines[0]["sub"] != claims.String("sub") || lines[0]["client_id"] != f.c.ClientID {
			t.Errorf("deny log line: %v", lines)
		}
		slogs.noSecrets(t, access, partial, scoped)
	})

	t.Run("JWTs and API keys together", func(t *testing.T) {
		h := hashHex(apiKey1)
		d, dlogs := newAuthorizer(t, f.env(f.jwksURL, "API_KEY_SHA256", h))
		resp, err := handle(t, d, bearer(access))
		wantPolicy(t, resp, err, claims.String("sub"), "Allow")
		if resp.Context["auth"] != "jwt" {
			t.Errorf("auth = %v", resp.Context["auth"])
		}
		resp, err = handle(t, d, bearer(apiKey1))
		wantPolicy(t, resp, err, "apikey:"+h[:12], "Allow")
		if resp.Context["auth"] != "api_key" {
			t.Errorf("auth = %v", resp.Context["auth"])
		}
		// A bad JWT is judged as a JWT: it never falls through to the keys.
		for _, tok := range []string{f.algNone(t), tamper(t, access), "not-a-key"} {
			resp, err = handle(t, d, bearer(tok))
			wantUnauthorized(t, resp, err)
		}
		dlogs.noSecrets(t, access, apiKey1, h)
	})

	t.Run("logs: one JSON line per decision, never a token", func(t *testing.T) {
		for _, lb := range []*logBuffer{logs, mlogs} {
			lines := lb.lines(t)
			if len(lines) == 0 {
				t.Fatal("no log lines")
			}
			for _, l := range lines {
				if l["msg"] != "authorizer decision" || l["decision"] == nil || l["reason"] == nil || l["level"] == nil {
					t.Errorf("log line %v", l)
				}
				switch l["decision"] {
				case "allow":
					if l["sub"] == nil || l["client_id"] == nil {
						t.Errorf("allow without subject or client: %v", l)
					}
				case "unauthorized":
					if l["sub"] != nil {
						t.Errorf("an unverified subject was logged: %v", l)
					}
				}
				for k := range l {
					switch k {
					case "time", "level", "msg", "decision", "reason", "request_id", "sub", "client_id":
					default:
						t.Errorf("unexpected log attribute %q in %v", k, l)
					}
				}
			}
			lb.noSecrets(t, secrets...)
		}
	})
}

// tamper changes the subject of a signed token without re-signing it.
func tamper(t *testing.T, tok string) string {
	parts := strings.Split(tok, ".")
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatal(err)
	}
	c["sub"] = "someone-else"
	parts[1] = b64json(t, c)
	return strings.Join(parts, ".")
}
