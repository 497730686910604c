package moto

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func fetchJWKS(t *testing.T, url string) *JWKS {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	set, err := FetchJWKS(ctx, url)
	if err != nil {
		t.Fatalf("fetching JWKS: %v", err)
	}
	return set
}

func logClaims(t *testing.T, what string, j *JWT) {
	t.Helper()
	h, _ := json.Marshal(j.Header)
	c, _ := json.MarshalIndent(j.Claims, "  ", "  ")
	t.Logf("%s header: %s\n  claims: %s", what, h, c)
}

func TestCognitoTokens(t *testing.T) {
	srv := Start(t)
	t.Logf("moto_server answered on %s after %v", srv.URL, srv.StartDuration.Round(time.Millisecond))

	began := time.Now()
	c := NewCognito(t, srv, CognitoOptions{Domain: "mcp-test-" + randHex(3)})
	t.Logf("NewCognito took %v", time.Since(began).Round(time.Millisecond))
	t.Logf("pool %s client %s issuer %s jwks %s", c.PoolID, c.ClientID, c.Issuer, c.JWKSURL)
	if !strings.HasPrefix(c.PoolID, "us-east-1_") {
		t.Errorf("pool id %q: want prefix us-east-1_", c.PoolID)
	}

	before := time.Now().Add(-2 * time.Second)
	access, idTok, refresh := c.Tokens(t)
	if access == "" || idTok == "" || refresh == "" {
		t.Fatalf("empty token: access %d id %d refresh %d bytes", len(access), len(idTok), len(refresh))
	}

	set := fetchJWKS(t, c.JWKSURL)
	raw, _ := json.Marshal(set)
	t.Logf("JWKS: %s", raw)

	// Access token: RS256 signature against the pool's JWKS.
	at, err := VerifyRS256(access, set)
	if err != nil {
		t.Fatalf("access token: %v", err)
	}
	logClaims(t, "access token", at)
	if got := at.Header["alg"]; got != "RS256" {
		t.Errorf("access alg = %v", got)
	}
	if at.Kid() == "" {
		t.Errorf("access token has no kid")
	}
	if _, err := set.RSAKey(at.Kid()); err != nil {
		t.Errorf("JWKS has no RSA key for the token's kid: %v", err)
	}
	checks := map[string]string{
		"iss":       c.Issuer,
		"client_id": c.ClientID,
		"token_use": "access",
		"username":  c.Username,
		"scope":     "aws.cognito.signin.user.admin",
	}
	for name, want := range checks {
		if got := at.String(name); got != want {
			t.Errorf("access %s = %q, want %q", name, got, want)
		}
	}
	if at.String("sub") == "" {
		t.Errorf("access token has no sub")
	}
	if _, ok := at.Claims["aud"]; ok {
		t.Logf("access token HAS aud: %v", at.Claims["aud"])
	} else {
		t.Logf("access token has no aud claim (as in real Cognito)")
	}
	exp, iat := at.Time("exp"), at.Time("iat")
	if iat.Before(before) || iat.After(time.Now().Add(2*time.Second)) {
		t.Errorf("access iat %v is not now", iat)
	}
	t.Logf("access token lifetime exp-iat = %v", exp.Sub(iat))
	if exp.Sub(iat) != time.Hour {
		t.Errorf("access lifetime = %v, want 1h", exp.Sub(iat))
	}

	// A tampered payload must fail verification.
	parts := strings.Split(access, ".")
	forged := parts[0] + "." + strings.TrimRight(parts[1], "A") + "B." + parts[2]
	if _, err := VerifyRS256(forged, set); err == nil {
		t.Errorf("tampered access token verified")
	}

	// ID token.
	it, err := VerifyRS256(idTok, set)
	if err != nil {
		t.Fatalf("id token: %v", err)
	}
	logClaims(t, "id token", it)
	for name, want := range map[string]string{
		"iss":              c.Issuer,
		"aud":              c.ClientID,
		"token_use":        "id",
		"cognito:username": c.Username,
		"sub":              at.String("sub"),
		"email":            c.Email,
	} {
		if got := it.String(name); got != want {
			t.Errorf("id %s = %q, want %q", name, got, want)
		}
	}
	if _, ok := it.Claims["client_id"]; ok {
		t.Errorf("id token has client_id (moto puts it only in access tokens)")
	}

	// Refresh.
	access2, id2 := c.Refresh(t, refresh)
	if _, err := VerifyRS256(access2, set); err != nil {
		t.Errorf("refreshed access token: %v", err)
	}
	if _, err := VerifyRS256(id2, set); err != nil {
		t.Errorf("refreshed id token: %v", err)
	}
}

func TestSecondClientAndUser(t *testing.T) {
	srv := Start(t)
	c := NewCognito(t, srv, CognitoOptions{})
	other := c.AddClient(t, "other-client")
	if other == c.ClientID {
		t.Fatalf("second client has the same id")
	}
	c.AddUser(t, "bob")
	access, idTok, _ := c.TokensFor(t, other, "bob")
	at, err := DecodeJWT(access)
	if err != nil {
		t.Fatal(err)
	}
	it, err := DecodeJWT(idTok)
	if err != nil {
		t.Fatal(err)
	}
	if got := at.String("client_id"); got != other {
		t.Errorf("client_id = %q, want the second client %q", got, other)
	}
	if got := it.String("aud"); got != other {
		t.Errorf("id aud = %q, want the second client %q", got, other)
	}
	if got := at.String("username"); got != "bob" {
		t.Errorf("username = %q, want bob", got)
	}
	if at.String("iss") != c.Issuer {
		t.Errorf("iss = %q, want %q", at.String("iss"), c.Issuer)
	}
}

// TestSecondPool records how a second pool's tokens and keys relate to the
// first's: issuers differ; moto (5.2.1) signs every pool with one fixed
// key, kid "dummy", so "key from another pool" cases need SignRS256.
func TestSecondPool(t *testing.T) {
	srv := Start(t)
	a := NewCognito(t, srv, CognitoOptions{})
	b := NewCognito(t, srv, CognitoOptions{})
	if a.PoolID == b.PoolID || a.Issuer == b.Issuer {
		t.Fatalf("pools share an id/issuer: %s %s", a.Issuer, b.Issuer)
	}
	ta, err := DecodeJWT(a.AccessToken(t))
	if err != nil {
		t.Fatal(err)
	}
	tb, err := DecodeJWT(b.AccessToken(t))
	if err != nil {
		t.Fatal(err)
	}
	if ta.String("iss") != a.Issuer || tb.String("iss") != b.Issuer {
		t.Errorf("iss: %q %q, want %q %q", ta.String("iss"), tb.String("iss"), a.Issuer, b.Issuer)
	}
	setA, setB := fetchJWKS(t, a.JWKSURL), fetchJWKS(t, b.JWKSURL)
	ka, err := setA.RSAKey(ta.Kid())
	if err != nil {
		t.Fatal(err)
	}
	kb, err := setB.RSAKey(tb.Kid())
	if err != nil {
		t.Fatal(err)
	}
	same := ta.Kid() == tb.Kid() && ka.Equal(kb)
	t.Logf("pool A kid %q, pool B kid %q, same key: %v", ta.Kid(), tb.Kid(), same)
	if same {
		// Pool B's token verifies against pool A's JWKS: only the iss
		// check can tell them apart.
		if _, err := VerifyRS256(b.AccessToken(t), setA); err != nil {
			t.Errorf("pool B token against pool A JWKS: %v", err)
		}
	}

	// moto serves the same JWKS for any path, even an unknown pool.
	bogus := fetchJWKS(t, srv.URL+"/us-east-1_doesnotexist/.well-known/jwks.json")
	t.Logf("JWKS for an unknown pool id: %d key(s)", len(bogus.Keys))
}

func TestSignRS256(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	claims := map[string]any{"iss": "https://example.test", "token_use": "access", "exp": time.Now().Add(time.Hour).Unix()}
	tok, err := SignRS256(key, "k1", claims)
	if err != nil {
		t.Fatal(err)
	}
	set := &JWKS{Keys: []JWK{PublicJWK(&key.PublicKey, "k1")}}
	j, err := VerifyRS256(tok, set)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	if j.String("iss") != "https://example.test" || j.Kid() != "k1" {
		t.Errorf("decoded %v %v", j.Header, j.Claims)
	}
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	if _, err := VerifyRS256(tok, &JWKS{Keys: []JWK{PublicJWK(&other.PublicKey, "k1")}}); err == nil {
		t.Errorf("verified against the wrong key")
	}
	if _, err := VerifyRS256(tok, &JWKS{Keys: []JWK{PublicJWK(&key.PublicKey, "k2")}}); err == nil {
		t.Errorf("verified with an unknown kid")
	}
}

func TestCloseStopsServer(t *testing.T) {
	srv := Start(t)
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-srv.done:
	default:
		t.Fatal("process still running after Close")
	}
	if err := srv.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}
