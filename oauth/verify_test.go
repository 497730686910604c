package oauth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// ---- shared fixtures -------------------------------------------------------

const (
	testIssuer   = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_TESTPOOL"
	testKID      = "kid-pool-a"
	otherKID     = "kid-pool-b"
	rotatedKID   = "kid-rotated"
	ecKID        = "kid-ec"
	testClientID = "client-1"
	testResource = "https://mcp.example.com/mcp"
)

var (
	keysOnce         sync.Once
	keyA, keyB, keyC *rsa.PrivateKey
	keyEC            *ecdsa.PrivateKey
	testEpoch              = time.Unix(1_750_000_000, 0)
	_                error = (*Error)(nil)
)

func testKeys(tb testing.TB) {
	tb.Helper()
	keysOnce.Do(func() {
		var err error
		for _, k := range []**rsa.PrivateKey{&keyA, &keyB, &keyC} {
			if *k, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
				panic(err)
			}
		}
		if keyEC, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
			panic(err)
		}
	})
}

// fakeClock is an injectable, advanceable clock.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *fakeClock { return &fakeClock{now: testEpoch} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func b64u(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func rsaJWK(kid string, pub *rsa.PublicKey) map[string]any {
	return map[string]any{
		"kty": "RSA", "kid": kid, "alg": "RS256", "use": "sig",
		"n": b64u(pub.N.Bytes()), "e": b64u(big.NewInt(int64(pub.E)).Bytes()),
	}
}

func ecJWK(kid string, pub *ecdsa.PublicKey) map[string]any {
	b, err := pub.Bytes()
	if err != nil {
		panic(err)
	}
	return map[string]any{
		"kty": "EC", "kid": kid, "crv": "P-256", "use": "sig",
		"x": b64u(b[1:33]), "y": b64u(b[33:]),
	}
}

// jwksServer is an httptest JWKS endpoint that counts fetches and can be
// switched into failure modes.
type jwksServer struct {
	*httptest.Server
	fetches      atomic.Int64
	mu           sync.Mutex
	keys         []map[string]any
	status       int
	cacheControl string
	contentType  string
	delay        time.Duration
	padding      int
}

func newJWKSServer(tb testing.TB, keys ...map[string]any) *jwksServer {
	tb.Helper()
	s := &jwksServer{keys: keys, status: http.StatusOK, contentType: "application/json"}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	tb.Cleanup(s.Close)
	return s
}

func (s *jwksServer) serve(w http.ResponseWriter, r *http.Request) {
	s.fetches.Add(1)
	s.mu.Lock()
	keys, status, cc, ct, delay, pad := s.keys, s.status, s.cacheControl, s.contentType, s.delay, s.padding
	s.mu.Unlock()
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
	}
	doc := map[string]any{"keys": keys}
	if pad > 0 {
		doc["padding"] = strings.Repeat("x", pad)
	}
	body, _ := json.Marshal(doc)
	if cc != "" {
		w.Header().Set("Cache-Control", cc)
	}
	w.Header().Set("Content-Type", ct)
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func (s *jwksServer) set(f func(s *jwksServer)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(s)
}

func (s *jwksServer) url() string { return s.URL + "/.well-known/jwks.json" }

// fixture bundles a JWKS server, a clock and a base configuration.
type fixture struct {
	srv   *jwksServer
	clock *fakeClock
	cfg   Config
}

func newFixture(tb testing.TB) *fixture {
	tb.Helper()
	testKeys(tb)
	f := &fixture{clock: newClock()}
	f.srv = newJWKSServer(tb, rsaJWK(testKID, &keyA.PublicKey), ecJWK(ecKID, &keyEC.PublicKey))
	f.cfg = Config{
		Issuer:         testIssuer,
		JWKSURL:        f.srv.url(),
		Algorithms:     []string{"RS256", "ES256"},
		ClientIDs:      []string{testClientID},
		TokenUse:       "access",
		RequiredScopes: []string{"mcp/tools"},
		Now:            f.clock.Now,
	}
	return f
}

func (f *fixture) verifier(tb testing.TB, mod func(*Config)) *Verifier {
	tb.Helper()
	cfg := f.cfg
	if mod != nil {
		mod(&cfg)
	}
	v, err := NewVerifier(cfg)
	if err != nil {
		tb.Fatalf("NewVerifier: %v", err)
	}
	return v
}

// cognitoClaims returns the claims of a Cognito access token valid at now.
func cognitoClaims(now time.Time) jwt.MapClaims {
	return jwt.MapClaims{
		"sub":        "sub-1234-5678",
		"iss":        testIssuer,
		"client_id":  testClientID,
		"origin_jti": "origin-jti-1",
		"event_id":   "event-1",
		"token_use":  "access",
		"scope":      "openid mcp/tools",
		"auth_time":  now.Add(-time.Minute).Unix(),
		"exp":        now.Add(time.Hour).Unix(),
		"iat":        now.Add(-time.Minute).Unix(),
		"jti":        "jti-abcdef",
		"username":   "alice-user",
	}
}

func mint(tb testing.TB, method jwt.SigningMethod, key any, kid string, claims jwt.MapClaims) string {
	tb.Helper()
	tok := jwt.NewWithClaims(method, claims)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		tb.Fatalf("sign: %v", err)
	}
	return s
}

func with(m jwt.MapClaims, kv ...any) jwt.MapClaims {
	out := jwt.MapClaims{}
	for k, v := range m {
		out[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(out, kv[i].(string))
		} else {
			out[kv[i].(string)] = kv[i+1]
		}
	}
	return out
}

func asError(t *testing.T, err error) *Error {
	t.Helper()
	e, ok := err.(*Error)
	if !ok {
		t.Fatalf("error %T %v is not *Error", err, err)
	}
	return e
}

var allDescriptions = []string{
	DescMalformed, DescExpired, DescMissingExpiry, DescNotYetValid, DescIssuedInFuture,
	DescBadSignature, DescUnknownKey, DescBadIssuer, DescBadAudience, DescBadClient,
	DescNotAccessToken, DescBadAlgorithm, DescTooLarge, DescInsufficientScope,
	DescKeysUnavailable, DescVerificationFailed,
}

// checkDescription asserts the description is from the fixed vocabulary
// and leaks nothing of the token.
func checkDescription(t *testing.T, e *Error, token string, claims jwt.MapClaims) {
	t.Helper()
	found := false
	for _, d := range allDescriptions {
		if e.Description == d {
			found = true
		}
	}
	if !found {
		t.Errorf("description %q is not in the fixed vocabulary", e.Description)
	}
	if token != "" && strings.Contains(e.Description, token) {
		t.Errorf("description contains the token")
	}
	for _, part := range strings.Split(token, ".") {
		if len(part) >= 4 && strings.Contains(e.Description, part) {
			t.Errorf("description contains a token segment")
		}
	}
	for k, v := range claims {
		if k == "token_use" {
			continue // "access" is a word of the fixed vocabulary itself
		}
		if s, ok := v.(string); ok && len(s) >= 3 && strings.Contains(e.Description, s) {
			t.Errorf("description contains the value of claim %q", k)
		}
	}
}

// ---- the battery ------------------------------------------------------------

func TestVerifyBattery(t *testing.T) {
	f := newFixture(t)
	now := f.clock.Now()
	base := cognitoClaims(now)
	rs := func(c jwt.MapClaims) string { return mint(t, jwt.SigningMethodRS256, keyA, testKID, c) }
	valid := rs(base)

	pubDER, err := x509.MarshalPKIXPublicKey(&keyA.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	parts := strings.Split(valid, ".")
	tamperedClaims := with(base, "scope", "openid mcp/tools mcp/admin", "sub", "admin-sub")
	tamperedPayload, _ := json.Marshal(tamperedClaims)

	type tc struct {
		name    string
		mod     func(*Config)
		token   string
		claims  jwt.MapClaims
		kind    ErrorKind // 0: accepted
		desc    string
		missing []string
		check   func(t *testing.T, c *Claims)
	}
	cases := []tc{
		{name: "empty", token: "", kind: ErrInvalidToken, desc: DescMalformed},
		{name: "one part", token: "abcdef", kind: ErrInvalidToken, desc: DescMalformed},
		{name: "two parts", token: parts[0] + "." + parts[1], kind: ErrInvalidToken, desc: DescMalformed},
		{name: "four parts", token: valid + ".x", kind: ErrInvalidToken, desc: DescMalformed},
		{name: "garbage", token: "!!!.@@@.###", kind: ErrInvalidToken, desc: DescMalformed},
		{name: "header not json", token: b64u([]byte("nope")) + "." + parts[1] + "." + parts[2], kind: ErrInvalidToken, desc: DescMalformed},
		{name: "alg none", token: mint(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, testKID, base), claims: base, kind: ErrInvalidToken, desc: DescBadAlgorithm},
		{name: "alg missing", token: b64u([]byte(`{"typ":"JWT","kid":"`+testKID+`"}`)) + "." + parts[1] + "." + parts[2], kind: ErrInvalidToken, desc: DescBadAlgorithm},
		{name: "alg unknown", token: b64u([]byte(`{"alg":"XX999","kid":"`+testKID+`"}`)) + "." + parts[1] + "." + parts[2], kind: ErrInvalidToken, desc: DescBadAlgorithm},
		{name: "HS256 with RSA public key PEM", token: mint(t, jwt.SigningMethodHS256, pubPEM, testKID, base), claims: base, kind: ErrInvalidToken, desc: DescBadAlgorithm},
		{name: "HS256 with RSA public key DER", token: mint(t, jwt.SigningMethodHS256, pubDER, testKID, base), claims: base, kind: ErrInvalidToken, desc: DescBadAlgorithm},
		{name: "HS256 with RSA modulus", token: mint(t, jwt.SigningMethodHS256, keyA.PublicKey.N.Bytes(), "", base), claims: base, kind: ErrInvalidToken, desc: DescBadAlgorithm},
		{name: "RS512 when only RS256", mod: func(c *Config) { c.Algorithms = []string{"RS256"} }, token: mint(t, jwt.SigningMethodRS512, keyA, testKID, base), claims: base, kind: ErrInvalidToken, desc: DescBadAlgorithm},
		{name: "ES256 when only RS256", mod: func(c *Config) { c.Algorithms = []string{"RS256"} }, token: mint(t, jwt.SigningMethodES256, keyEC, ecKID, base), claims: base, kind: ErrInvalidToken, desc: DescBadAlgorithm},
		{name: "unknown kid", token: mint(t, jwt.SigningMethodRS256, keyA, "no-such-kid", base), claims: base, kind: ErrInvalidToken, desc: DescUnknownKey},
		{name: "kid from another pool", token: mint(t, jwt.SigningMethodRS256, keyB, otherKID, base), claims: base, kind: ErrInvalidToken, desc: DescUnknownKey},
		{name: "other pool key under our kid", token: mint(t, jwt.SigningMethodRS256, keyB, testKID, base), claims: base, kind: ErrInvalidToken, desc: DescBadSignature},
		{name: "RS256 token naming the EC kid", token: mint(t, jwt.SigningMethodRS256, keyA, ecKID, base), claims: base, kind: ErrInvalidToken, desc: DescUnknownKey},
		{name: "kid not a string", token: func() string {
			tok := jwt.NewWithClaims(jwt.SigningMethodRS256, base)
			tok.Header["kid"] = 42
			s, _ := tok.SignedString(keyA)
			return s
		}(), claims: base, kind: ErrInvalidToken, desc: DescMalformed},
		{name: "crit header", token: func() string {
			tok := jwt.NewWithClaims(jwt.SigningMethodRS256, base)
			tok.Header["kid"] = testKID
			tok.Header["crit"] = []string{"exp"}
			s, _ := tok.SignedString(keyA)
			return s
		}(), claims: base, kind: ErrInvalidToken, desc: DescMalformed},
		{name: "expired", token: rs(with(base, "exp", now.Add(-2*time.Minute).Unix())), kind: ErrInvalidToken, desc: DescExpired},
		{name: "expired within leeway", token: rs(with(base, "exp", now.Add(-10*time.Second).Unix()))},
		{name: "nbf in the future", token: rs(with(base, "nbf", now.Add(5*time.Minute).Unix())), kind: ErrInvalidToken, desc: DescNotYetValid},
		{name: "nbf within leeway", token: rs(with(base, "nbf", now.Add(10*time.Second).Unix()))},
		{name: "iat in the future", token: rs(with(base, "iat", now.Add(5*time.Minute).Unix())), kind: ErrInvalidToken, desc: DescIssuedInFuture},
		{name: "missing exp", token: rs(with(base, "exp", nil)), kind: ErrInvalidToken, desc: DescMissingExpiry},
		{name: "exp not a number", token: rs(with(base, "exp", "tomorrow")), kind: ErrInvalidToken, desc: DescMalformed},
		{name: "wrong iss", token: rs(with(base, "iss", "https://evil.example.com")), kind: ErrInvalidToken, desc: DescBadIssuer},
		{name: "missing iss", token: rs(with(base, "iss", nil)), kind: ErrInvalidToken, desc: DescBadIssuer},
		{name: "iss not a string", token: rs(with(base, "iss", 7)), kind: ErrInvalidToken, desc: DescMalformed},
		{name: "cognito id token", token: rs(with(base, "token_use", "id", "aud", testClientID, "client_id", nil)), kind: ErrInvalidToken, desc: DescNotAccessToken},
		{name: "missing token_use", token: rs(with(base, "token_use", nil)), kind: ErrInvalidToken, desc: DescNotAccessToken},
		{name: "disallowed client_id", token: rs(with(base, "client_id", "evil-client")), kind: ErrInvalidToken, desc: DescBadClient},
		{name: "missing client_id", token: rs(with(base, "client_id", nil)), kind: ErrInvalidToken, desc: DescBadClient},
		{name: "azp allowed when client_id absent", token: rs(with(base, "client_id", nil, "azp", testClientID)), check: func(t *testing.T, c *Claims) {
			if c.ClientID != testClientID {
				t.Errorf("ClientID = %q", c.ClientID)
			}
		}},
		{name: "client_id wins over azp", token: rs(with(base, "client_id", "evil-client", "azp", testClientID)), kind: ErrInvalidToken, desc: DescBadClient},
		{name: "no client restriction", mod: func(c *Config) { c.ClientIDs = nil }, token: rs(with(base, "client_id", nil))},
		{name: "wrong aud", mod: func(c *Config) { c.Audience = testResource }, token: rs(with(base, "aud", "https://other.example.com")), kind: ErrInvalidToken, desc: DescBadAudience},
		{name: "wrong aud array", mod: func(c *Config) { c.Audience = testResource }, token: rs(with(base, "aud", []string{"a", "b"})), kind: ErrInvalidToken, desc: DescBadAudience},
		{name: "empty aud array", mod: func(c *Config) { c.Audience = testResource; c.AllowMissingAudience = true }, token: rs(with(base, "aud", []string{})), kind: ErrInvalidToken, desc: DescBadAudience},
		{name: "missing aud", mod: func(c *Config) { c.Audience = testResource }, token: rs(base), kind: ErrInvalidToken, desc: DescBadAudience},
		{name: "missing aud allowed", mod: func(c *Config) { c.Audience = testResource; c.AllowMissingAudience = true }, token: rs(base)},
		{name: "wrong aud with AllowMissingAudience", mod: func(c *Config) { c.Audience = testResource; c.AllowMissingAudience = true }, token: rs(with(base, "aud", "https://other.example.com")), kind: ErrInvalidToken, desc: DescBadAudience},
		{name: "aud not a string", mod: func(c *Config) { c.Audience = testResource }, token: rs(with(base, "aud", 12)), kind: ErrInvalidToken, desc: DescMalformed},
		{name: "aud string", mod: func(c *Config) { c.Audience = testResource }, token: rs(with(base, "aud", testResource))},
		{name: "aud array containing the resource", mod: func(c *Config) { c.Audience = testResource }, token: rs(with(base, "aud", []string{"https://other.example.com", testResource})), check: func(t *testing.T, c *Claims) {
			if want := []string{"https://other.example.com", testResource}; !reflect.DeepEqual(c.Audience, want) {
				t.Errorf("Audience = %q, want %q", c.Audience, want)
			}
		}},
		{name: "missing scope", mod: func(c *Config) { c.RequiredScopes = []string{"mcp/tools", "mcp/admin", "openid"} }, token: rs(with(base, "scope", "openid profile")), kind: ErrInsufficientScope, desc: DescInsufficientScope, missing: []string{"mcp/tools", "mcp/admin"}},
		{name: "no scope claim", token: rs(with(base, "scope", nil)), kind: ErrInsufficientScope, desc: DescInsufficientScope, missing: []string{"mcp/tools"}},
		{name: "scp array", mod: func(c *Config) { c.RequiredScopes = []string{"mcp/tools", "mcp/admin"} }, token: rs(with(base, "scope", nil, "scp", []string{"mcp/tools", "mcp/admin"}))},
		{name: "scope and scp merged", mod: func(c *Config) { c.RequiredScopes = []string{"mcp/tools", "mcp/admin"} }, token: rs(with(base, "scp", []string{"mcp/admin"}))},
		{name: "tampered payload", token: parts[0] + "." + b64u(tamperedPayload) + "." + parts[2], claims: tamperedClaims, kind: ErrInvalidToken, desc: DescBadSignature},
		{name: "tampered header", token: b64u([]byte(`{"alg":"RS256","kid":"`+testKID+`","typ":"at+jwt"}`)) + "." + parts[1] + "." + parts[2], kind: ErrInvalidToken, desc: DescBadSignature},
		{name: "truncated signature", token: valid[:len(valid)-4], kind: ErrInvalidToken, desc: DescBadSignature},
		{name: "empty signature", token: parts[0] + "." + parts[1] + ".", kind: ErrInvalidToken, desc: DescBadSignature},
		{name: "truncated token", token: valid[:len(valid)/2], kind: ErrInvalidToken, desc: DescMalformed},
		{name: "signature not base64", token: parts[0] + "." + parts[1] + ".***", kind: ErrInvalidToken, desc: DescMalformed},
		{name: "oversized token", token: rs(with(base, "pad", strings.Repeat("a", 9000))), kind: ErrInvalidToken, desc: DescTooLarge},
		{name: "MaxTokenBytes honoured", mod: func(c *Config) { c.MaxTokenBytes = 100 }, token: valid, kind: ErrInvalidToken, desc: DescTooLarge},
		{name: "ES256 accepted", token: mint(t, jwt.SigningMethodES256, keyEC, ecKID, base)},
		{name: "valid cognito access token", token: valid, check: func(t *testing.T, c *Claims) {
			want := Claims{
				Issuer: testIssuer, Subject: "sub-1234-5678", ClientID: testClientID,
				Username: "alice-user", TokenUse: "access", Scopes: []string{"openid", "mcp/tools"},
				ExpiresAt: now.Add(time.Hour), IssuedAt: now.Add(-time.Minute),
			}
			got := *c
			got.Raw = nil
			if !reflect.DeepEqual(got, want) {
				t.Errorf("claims\n got %+v\nwant %+v", got, want)
			}
			if c.Raw["jti"] != "jti-abcdef" || c.Raw["auth_time"] == nil {
				t.Errorf("Raw = %v", c.Raw)
			}
			if !slices.Contains(c.Scopes, "mcp/tools") || slices.Contains(c.Scopes, "mcp") {
				t.Errorf("scopes %v", c.Scopes)
			}
		}},
		{name: "cognito:username", token: rs(with(base, "username", nil, "cognito:username", "bob")), check: func(t *testing.T, c *Claims) {
			if c.Username != "bob" {
				t.Errorf("Username = %q", c.Username)
			}
		}},
		{name: "preferred_username and nbf", token: rs(with(base, "username", nil, "preferred_username", "carol", "nbf", now.Add(-time.Hour).Unix())), check: func(t *testing.T, c *Claims) {
			if c.Username != "carol" || !c.NotBefore.Equal(now.Add(-time.Hour)) {
				t.Errorf("Username = %q NotBefore = %v", c.Username, c.NotBefore)
			}
		}},
		{name: "generic AS token", mod: func(c *Config) { c.TokenUse = ""; c.Audience = testResource; c.ClientIDs = []string{"generic"} },
			token: rs(jwt.MapClaims{"iss": testIssuer, "sub": "u1", "aud": testResource, "azp": "generic", "scp": []string{"mcp/tools"}, "exp": now.Add(time.Minute).Unix()})},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := f.verifier(t, c.mod)
			// Twice: the second call may be served by the token cache and
			// must give the same answer.
			for i := range 2 {
				got, err := v.Verify(context.Background(), c.token)
				if c.kind == 0 {
					if err != nil {
						t.Fatalf("call %d: unexpected error %v", i, err)
					}
					if got == nil {
						t.Fatal("nil claims")
					}
					if c.check != nil {
						c.check(t, got)
					}
					continue
				}
				if got != nil {
					t.Fatalf("call %d: accepted, want %v", i, c.desc)
				}
				e := asError(t, err)
				if e.Kind != c.kind || e.Description != c.desc {
					t.Fatalf("call %d: got (%v, %q), want (%v, %q); cause: %v", i, e.Kind, e.Description, c.kind, c.desc, e.Err)
				}
				if !reflect.DeepEqual(e.MissingScopes, c.missing) {
					t.Errorf("MissingScopes = %q, want %q", e.MissingScopes, c.missing)
				}
				claims := c.claims
				if claims == nil {
					claims = base
				}
				checkDescription(t, e, c.token, claims)
			}
		})
	}
}

func TestNoKid(t *testing.T) {
	f := newFixture(t)
	claims := cognitoClaims(f.clock.Now())
	tok := mint(t, jwt.SigningMethodRS256, keyA, "", claims)

	// One RSA key (plus an EC key, which does not match RS256): accepted.
	v := f.verifier(t, nil)
	if _, err := v.Verify(context.Background(), tok); err != nil {
		t.Fatalf("single key: %v", err)
	}
	// Two RSA keys: ambiguous, rejected.
	f2 := newFixture(t)
	f2.srv.set(func(s *jwksServer) {
		s.keys = append(s.keys, rsaJWK(rotatedKID, &keyC.PublicKey))
	})
	_, err := f2.verifier(t, nil).Verify(context.Background(), tok)
	if e := asError(t, err); e.Kind != ErrInvalidToken || e.Description != DescUnknownKey {
		t.Fatalf("two keys: got %v", err)
	}
}

func TestNewVerifierConfig(t *testing.T) {
	ok := Config{Issuer: testIssuer, JWKSURL: "https://cognito-idp.example.com/jwks.json"}
	bad := map[string]func(*Config){
		"no issuer":          func(c *Config) { c.Issuer = "" },
		"no jwks url":        func(c *Config) { c.JWKSURL = "" },
		"relative url":       func(c *Config) { c.JWKSURL = "/jwks.json" },
		"http non-loopback":  func(c *Config) { c.JWKSURL = "http://example.com/jwks.json" },
		"ftp":                func(c *Config) { c.JWKSURL = "ftp://example.com/jwks.json" },
		"alg none":           func(c *Config) { c.Algorithms = []string{"RS256", "none"} },
		"alg HS256":          func(c *Config) { c.Algorithms = []string{"HS256"} },
		"alg HS512":          func(c *Config) { c.Algorithms = []string{"HS512"} },
		"alg unknown":        func(c *Config) { c.Algorithms = []string{"RS257"} },
		"leeway too large":   func(c *Config) { c.Leeway = 61 * time.Second },
		"negative leeway":    func(c *Config) { c.Leeway = -time.Second },
		"negative timeout":   func(c *Config) { c.JWKSTimeout = -1 },
		"empty client id":    func(c *Config) { c.ClientIDs = []string{""} },
		"allow missing aud":  func(c *Config) { c.AllowMissingAudience = true },
		"scope with space":   func(c *Config) { c.RequiredScopes = []string{"a b"} },
		"negative max token": func(c *Config) { c.MaxTokenBytes = -1 },
	}
	for name, mod := range bad {
		t.Run(name, func(t *testing.T) {
			cfg := ok
			mod(&cfg)
			if v, err := NewVerifier(cfg); err == nil || v != nil {
				t.Fatalf("NewVerifier accepted %+v", cfg)
			}
		})
	}
	for _, u := range []string{"http://127.0.0.1:9/jwks", "http://localhost:8080/jwks", "http://[::1]:80/x", "https://x.example/jwks"} {
		cfg := ok
		cfg.JWKSURL = u
		if _, err := NewVerifier(cfg); err != nil {
			t.Errorf("%s: %v", u, err)
		}
	}

	v, err := NewVerifier(ok)
	if err != nil {
		t.Fatal(err)
	}
	got := v.Config()
	if !reflect.DeepEqual(got.Algorithms, []string{"RS256"}) || got.Leeway != 30*time.Second ||
		got.JWKSTimeout != 5*time.Second || got.JWKSMaxBytes != 1<<20 || got.JWKSDefaultTTL != time.Hour ||
		got.UnknownKidRefetchInterval != time.Minute || got.MaxTokenBytes != 8192 || got.CacheSize != 10000 ||
		got.HTTPClient == nil || got.HTTPClient.Timeout != 5*time.Second || got.Now == nil {
		t.Errorf("defaults not applied: %+v", got)
	}
	got.Algorithms[0] = "ES256"
	if v.Config().Algorithms[0] != "RS256" {
		t.Error("Config() exposes internal slices")
	}
	cfg := ok
	cfg.CacheSize = -1
	if v, _ := NewVerifier(cfg); v.cache != nil {
		t.Error("negative CacheSize must disable the cache")
	}
	cfg.Leeway = 60 * time.Second
	if _, err := NewVerifier(cfg); err != nil {
		t.Errorf("leeway 60s: %v", err)
	}
}

func TestVerifyConcurrent(t *testing.T) {
	f := newFixture(t)
	now := f.clock.Now()
	v := f.verifier(t, func(c *Config) { c.CacheSize = 64 })
	var good, badTokens []string
	for i := range 8 {
		good = append(good, mint(t, jwt.SigningMethodRS256, keyA, testKID, with(cognitoClaims(now), "jti", fmt.Sprint("j", i))))
		badTokens = append(badTokens, mint(t, jwt.SigningMethodRS256, keyB, testKID, with(cognitoClaims(now), "jti", fmt.Sprint("b", i))))
	}
	var wg sync.WaitGroup
	var failures atomic.Int64
	for g := range 32 {
		wg.Go(func() {
			for i := range 40 {
				if i%10 == 0 {
					f.clock.Advance(time.Millisecond)
				}
				tok := good[(g+i)%len(good)]
				if _, err := v.Verify(context.Background(), tok); err != nil {
					failures.Add(1)
				}
				tok = badTokens[(g+i)%len(badTokens)]
				if _, err := v.Verify(context.Background(), tok); err == nil {
					failures.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if n := failures.Load(); n != 0 {
		t.Fatalf("%d wrong results", n)
	}
	if n := f.srv.fetches.Load(); n != 1 {
		t.Errorf("JWKS fetched %d times, want 1", n)
	}
}

// ---- fuzzing ----------------------------------------------------------------

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// memoryJWKSClient serves a JWKS from memory (no sockets: fast fuzzing).
func memoryJWKSClient(keys ...map[string]any) *http.Client {
	body, _ := json.Marshal(map[string]any{"keys": keys})
	return &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		return &http.Response{
			StatusCode: http.StatusOK,
			Header:     http.Header{"Content-Type": {"application/json"}},
			Body:       readCloser{strings.NewReader(string(body))},
			Request:    r,
		}, nil
	})}
}

type readCloser struct{ *strings.Reader }

func (readCloser) Close() error { return nil }

// signedByKeyA reports independently whether token carries a valid
// RS256 signature of keyA.
func signedByKeyA(token string) bool {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return false
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return false
	}
	return jwt.SigningMethodRS256.Verify(parts[0]+"."+parts[1], sig, &keyA.PublicKey) == nil
}

func FuzzVerify(f *testing.F) {
	testKeys(f)
	clock := newClock()
	now := clock.Now()
	base := cognitoClaims(now)
	v, err := NewVerifier(Config{
		Issuer:     testIssuer,
		JWKSURL:    "https://cognito-idp.example.com/jwks.json",
		ClientIDs:  []string{testClientID},
		TokenUse:   "access",
		HTTPClient: memoryJWKSClient(rsaJWK(testKID, &keyA.PublicKey)),
		Now:        clock.Now,
		CacheSize:  -1,
	})
	if err != nil {
		f.Fatal(err)
	}
	valid := mint(f, jwt.SigningMethodRS256, keyA, testKID, base)
	seeds := []string{
		"", ".", "..", "...", "a.b.c", valid, valid + "x", valid[:len(valid)-1],
		mint(f, jwt.SigningMethodRS256, keyA, "", base),
		mint(f, jwt.SigningMethodRS256, keyB, testKID, base),
		mint(f, jwt.SigningMethodRS512, keyA, testKID, base),
		mint(f, jwt.SigningMethodHS256, keyA.PublicKey.N.Bytes(), testKID, base),
		mint(f, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, testKID, base),
		mint(f, jwt.SigningMethodRS256, keyA, testKID, with(base, "exp", nil)),
		mint(f, jwt.SigningMethodRS256, keyA, testKID, with(base, "exp", 1e300, "aud", []any{1, 2})),
		mint(f, jwt.SigningMethodRS256, keyA, testKID, with(base, "scope", []string{"x"}, "nbf", -5)),
		"eyJhbGciOiJSUzI1NiJ9.e30.", "eyJ9.eyJ9.eyJ9", "\x00.\xff.\n",
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, token string) {
		c, err := v.Verify(context.Background(), token)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Kind == 0 || e.Description == "" {
				t.Fatalf("bad error %T %v", err, err)
			}
			if c != nil {
				t.Fatal("claims with error")
			}
			return
		}
		if c == nil {
			t.Fatal("nil claims without error")
		}
		if !signedByKeyA(token) {
			t.Fatalf("accepted a token not signed by the pool key: %q", token)
		}
		if c.Issuer != testIssuer || c.ClientID != testClientID || c.TokenUse != "access" || !now.Before(c.ExpiresAt.Add(30*time.Second)) {
			t.Fatalf("accepted claims that should fail: %+v", c)
		}
	})
}

// ---- benchmarks ---------------------------------------------------------------

func benchVerifier(b *testing.B, cacheSize int) (*Verifier, string) {
	testKeys(b)
	clock := newClock()
	v, err := NewVerifier(Config{
		Issuer:         testIssuer,
		JWKSURL:        "https://cognito-idp.example.com/jwks.json",
		ClientIDs:      []string{testClientID},
		TokenUse:       "access",
		RequiredScopes: []string{"mcp/tools"},
		HTTPClient:     memoryJWKSClient(rsaJWK(testKID, &keyA.PublicKey)),
		Now:            clock.Now,
		CacheSize:      cacheSize,
	})
	if err != nil {
		b.Fatal(err)
	}
	tok := mint(b, jwt.SigningMethodRS256, keyA, testKID, cognitoClaims(clock.Now()))
	if _, err := v.Verify(context.Background(), tok); err != nil {
		b.Fatal(err)
	}
	return v, tok
}

func BenchmarkVerifyCold(b *testing.B) {
	v, tok := benchVerifier(b, -1)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(context.Background(), tok); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyCached(b *testing.B) {
	v, tok := benchVerifier(b, 0)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(context.Background(), tok); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyCachedParallel(b *testing.B) {
	v, tok := benchVerifier(b, 0)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := v.Verify(context.Background(), tok); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
