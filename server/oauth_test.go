package server

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"mcplambda/mcp"
	"mcplambda/oauth"
)

// issuerFixture is an authorization server as far as a resource server can
// tell: a JWKS endpoint and the keys to mint tokens.
type issuerFixture struct {
	issuer  string
	key     *rsa.PrivateKey
	foreign *rsa.PrivateKey // another pool's key, not in our JWKS
	jwks    *httptest.Server
}

func newIssuer(t *testing.T) *issuerFixture {
	t.Helper()
	f := &issuerFixture{issuer: "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Test"}
	var err error
	if f.key, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		t.Fatal(err)
	}
	if f.foreign, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		t.Fatal(err)
	}
	pub := f.key.PublicKey
	doc, _ := json.Marshal(map[string]any{"keys": []map[string]string{{
		"kty": "RSA", "kid": "k1", "use": "sig", "alg": "RS256",
		"n": base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
		"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
	}}})
	f.jwks = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(doc)
	}))
	t.Cleanup(f.jwks.Close)
	return f
}

// claims are a valid Cognito access token's, for resource and client.
func (f *issuerFixture) claims(resource string) jwt.MapClaims {
	now := time.Now()
	return jwt.MapClaims{
		"iss": f.issuer, "sub": "user-1", "client_id": "client-1", "token_use": "access",
		"scope": "mcp:call openid", "username": "alice", "aud": resource,
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
	}
}

func (f *issuerFixture) sign(t *testing.T, c jwt.MapClaims, kid string, key *rsa.PrivateKey) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, c)
	tok.Header["kid"] = kid
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestTokenBattery sends every kind of bad token through the real
// verifier and transport: the right status, the right challenge, no panic,
// and nothing of the token echoed.
func TestTokenBattery(t *testing.T) {
	f := newIssuer(t)
	const resource = "http://localhost:3000/mcp"
	const md = "http://localhost:3000/.well-known/oauth-protected-resource/mcp"
	v, err := oauth.NewVerifier(oauth.Config{
		Issuer: f.issuer, JWKSURL: f.jwks.URL, ClientIDs: []string{"client-1"}, Audience: resource,
		TokenUse: "access", RequiredScopes: []string{"mcp:call"},
	})
	if err != nil {
		t.Fatal(err)
	}
	auth := &BearerAuth{Verifier: v, ResourceMetadataURL: md, Scopes: []string{"mcp:call"}}
	env := newEnv(t, testConfig(), HandlerOptions{Auth: auth}, nil)

	with := func(change func(jwt.MapClaims)) string {
		c := f.claims(resource)
		change(c)
		return f.sign(t, c, "k1", f.key)
	}
	valid := with(func(jwt.MapClaims) {})
	parts := strings.Split(valid, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(string(payload), "user-1", "user-2", 1))) + "." + parts[2]
	none := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + parts[1] + "."
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: must(x509.MarshalPKIXPublicKey(&f.key.PublicKey))})
	hmacTok := jwt.NewWithClaims(jwt.SigningMethodHS256, f.claims(resource))
	hmacTok.Header["kid"] = "k1"
	hs256, _ := hmacTok.SignedString(pubPEM)

	invalid := func(desc string) string {
		return `Bearer error="invalid_token", error_description="` + desc + `", scope="mcp:call", resource_metadata="` + md + `"`
	}
	tests := []struct {
		name      string
		header    string // Authorization header; "" = none
		status    int
		challenge string
	}{
		{"no token", "", 401, `Bearer scope="mcp:call", resource_metadata="` + md + `"`},
		{"malformed header", "Bearer", 400, ""},
		{"two tokens in the header", "Bearer a b", 400, ""},
		{"alg none", "Bearer " + none, 401, ""},
		{"HS256 signed with the RSA public key", "Bearer " + hs256, 401, invalid(oauth.DescBadAlgorithm)},
		{"unknown kid", "Bearer " + f.sign(t, f.claims(resource), "k9", f.key), 401, invalid(oauth.DescUnknownKey)},
		{"a kid from another pool", "Bearer " + f.sign(t, f.claims(resource), "other-pool", f.foreign), 401, invalid(oauth.DescUnknownKey)},
		{"our kid, another key", "Bearer " + f.sign(t, f.claims(resource), "k1", f.foreign), 401, invalid(oauth.DescBadSignature)},
		{"expired", "Bearer " + with(func(c jwt.MapClaims) { c["exp"] = time.Now().Add(-time.Hour).Unix() }), 401, invalid(oauth.DescExpired)},
		{"nbf in the future", "Bearer " + with(func(c jwt.MapClaims) { c["nbf"] = time.Now().Add(time.Hour).Unix() }), 401, invalid(oauth.DescNotYetValid)},
		{"wrong iss", "Bearer " + with(func(c jwt.MapClaims) { c["iss"] = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Other" }), 401, invalid(oauth.DescBadIssuer)},
		{"an ID token", "Bearer " + with(func(c jwt.MapClaims) { c["token_use"] = "id" }), 401, invalid(oauth.DescNotAccessToken)},
		{"disallowed client_id", "Bearer " + with(func(c jwt.MapClaims) { c["client_id"] = "client-2" }), 401, invalid(oauth.DescBadClient)},
		{"missing client_id", "Bearer " + with(func(c jwt.MapClaims) { delete(c, "client_id") }), 401, invalid(oauth.DescBadClient)},
		{"wrong aud", "Bearer " + with(func(c jwt.MapClaims) { c["aud"] = "https://other.example/mcp" }), 401, invalid(oauth.DescBadAudience)},
		{"missing aud", "Bearer " + with(func(c jwt.MapClaims) { delete(c, "aud") }), 401, invalid(oauth.DescBadAudience)},
		{"missing scope", "Bearer " + with(func(c jwt.MapClaims) { c["scope"] = "openid" }), 403,
			`Bearer error="insufficient_scope", error_description="` + oauth.DescInsufficientScope + `", scope="mcp:call", resource_metadata="` + md + `"`},
		{"tampered payload", "Bearer " + tampered, 401, invalid(oauth.DescBadSignature)},
		{"truncated token", "Bearer " + valid[:len(valid)-20], 401, invalid(oauth.DescBadSignature)},
		{"oversized token", "Bearer " + valid + strings.Repeat("A", 9000), 401, invalid(oauth.DescTooLarge)},
		{"garbage", "Bearer %%not-a-jwt%%", 401, invalid(oauth.DescMalformed)},
		{"valid", "Bearer " + valid, 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hdr := map[string]string{}
			if tt.header != "" {
				hdr["Authorization"] = tt.header
			}
			r := env.do(http.MethodPost, "", initBody(mcp.LatestVersion), hdr)
			if r.status != tt.status {
				t.Fatalf("status %d, want %d: %s %s", r.status, tt.status, r.header.Get("WWW-Authenticate"), r.body)
			}
			if tt.status == 200 {
				return
			}
			got := r.header.Get("WWW-Authenticate")
			if tt.challenge != "" && got != tt.challenge {
				t.Errorf("challenge\n got %s\nwant %s", got, tt.challenge)
			}
			if !strings.HasPrefix(got, "Bearer ") || !strings.Contains(got, `resource_metadata="`+md+`"`) {
				t.Errorf("challenge %q lacks resource_metadata", got)
			}
			if tok := strings.TrimPrefix(tt.header, "Bearer "); len(tok) > 10 && (strings.Contains(string(r.body), tok[:10]) || strings.Contains(got, tok[:10])) {
				t.Errorf("the refusal echoes the token")
			}
			m := r.msg(t)
			if m.Error == nil {
				t.Fatalf("no JSON-RPC error body: %s", r.body)
			}
			// The body repeats the challenge: API Gateway renames the header.
			var data struct {
				WWWAuthenticate string `json:"www_authenticate"`
			}
			if err := json.Unmarshal(m.Error.Data, &data); err != nil || data.WWWAuthenticate != got {
				t.Errorf("error data %s, want the challenge %q", m.Error.Data, got)
			}
		})
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
