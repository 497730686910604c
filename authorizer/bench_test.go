package authorizer

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"mcplambda/internal/apikey"
	"mcplambda/oauth"
	"mcplambda/test/moto"
)

const benchIssuer = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Bench"

// benchJWT returns an authorizer verifying against a local JWKS, and a
// token it accepts. cacheSize < 0 makes every request a full RSA check.
func benchJWT(b *testing.B, cacheSize int) (*Authorizer, string) {
	key := mustKey(b)(rsa.GenerateKey(rand.Reader, 2048))
	body, _ := json.Marshal(moto.JWKS{Keys: []moto.JWK{moto.PublicJWK(&key.PublicKey, "k")}})
	js := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	}))
	b.Cleanup(js.Close)
	v, err := oauth.NewVerifier(oauth.Config{
		Issuer: benchIssuer, JWKSURL: js.URL, ClientIDs: []string{"c"}, TokenUse: "access",
		Audience: testResource, AllowMissingAudience: true, CacheSize: cacheSize,
	})
	if err != nil {
		b.Fatal(err)
	}
	a, err := New(Config{Verifier: v, Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	tok, err := moto.SignRS256(key, "k", map[string]any{
		"iss": benchIssuer, "sub": "s", "client_id": "c", "token_use": "access", "scope": "openid mcp:tools",
		"exp": now.Add(time.Hour).Unix(), "iat": now.Unix(),
	})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := a.Handle(context.Background(), bearer(tok)); err != nil {
		b.Fatal(err)
	}
	return a, tok
}

func benchHandle(b *testing.B, a *Authorizer, tok string) {
	req := bearer(tok)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := a.Handle(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkHandleJWTCold(b *testing.B) {
	a, tok := benchJWT(b, -1)
	benchHandle(b, a, tok)
}

func BenchmarkHandleJWTCached(b *testing.B) {
	a, tok := benchJWT(b, 0)
	benchHandle(b, a, tok)
}

func BenchmarkHandleAPIKey(b *testing.B) {
	var list string
	for i := range 10 {
		if i > 0 {
			list += ","
		}
		list += hashHex("bench-key-" + string(rune('a'+i)) + "-0123456789abcdef")
	}
	keys, err := apikey.Parse(list)
	if err != nil {
		b.Fatal(err)
	}
	a, err := New(Config{APIKeys: keys, Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	benchHandle(b, a, "bench-key-j-0123456789abcdef")
}
