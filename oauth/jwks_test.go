package oauth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func wantErr(t *testing.T, err error, kind ErrorKind, desc string) *Error {
	t.Helper()
	if err == nil {
		t.Fatalf("accepted, want (%v, %q)", kind, desc)
	}
	e := asError(t, err)
	if e.Kind != kind || e.Description != desc {
		t.Fatalf("got (%v, %q), want (%v, %q); cause: %v", e.Kind, e.Description, kind, desc, e.Err)
	}
	return e
}

func wantFetches(t *testing.T, s *jwksServer, n int64) {
	t.Helper()
	if got := s.fetches.Load(); got != n {
		t.Fatalf("JWKS fetched %d times, want %d", got, n)
	}
}

// forgedToken builds an RS256 token with the given kid and a garbage
// signature: cheap, and never verifiable.
func forgedToken(kid string) string {
	h, _ := json.Marshal(map[string]string{"alg": "RS256", "typ": "JWT", "kid": kid})
	return base64.RawURLEncoding.EncodeToString(h) + ".eyJzdWIiOiJ4In0.c2lnbmF0dXJl"
}

func TestJWKSOutageKeepsCachedKeys(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	v := f.verifier(t, func(c *Config) { c.CacheSize = -1 })
	claims := cognitoClaims(f.clock.Now())
	claims["exp"] = f.clock.Now().Add(10 * time.Hour).Unix()
	tok := mint(t, jwt.SigningMethodRS256, keyA, testKID, claims)

	if _, err := v.Verify(ctx, tok); err != nil {
		t.Fatal(err)
	}
	wantFetches(t, f.srv, 1)

	// Outage, and the key set's TTL (1h default) runs out.
	f.srv.set(func(s *jwksServer) { s.status = http.StatusInternalServerError })
	f.clock.Advance(2 * time.Hour)
	if _, err := v.Verify(ctx, tok); err != nil {
		t.Fatalf("known kid during outage: %v", err)
	}
	wantFetches(t, f.srv, 2) // one refresh attempt, failed
	for range 10 {
		if _, err := v.Verify(ctx, tok); err != nil {
			t.Fatalf("known kid during outage: %v", err)
		}
	}
	wantFetches(t, f.srv, 2) // retries are limited by the interval
	// Unknown kids fail closed, as invalid tokens (keys are cached).
	wantErr(t, nilClaims(v.Verify(ctx, forgedToken("new-kid"))), ErrInvalidToken, DescUnknownKey)
	wantFetches(t, f.srv, 2)

	// After the interval, one more attempt; still down, still served stale.
	f.clock.Advance(time.Minute)
	if _, err := v.Verify(ctx, tok); err != nil {
		t.Fatalf("known kid during outage: %v", err)
	}
	wantFetches(t, f.srv, 3)

	// Recovery: the next allowed attempt succeeds and the set is fresh.
	f.srv.set(func(s *jwksServer) { s.status = http.StatusOK })
	f.clock.Advance(time.Minute)
	if _, err := v.Verify(ctx, tok); err != nil {
		t.Fatal(err)
	}
	wantFetches(t, f.srv, 4)
	for range 5 {
		if _, err := v.Verify(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	wantFetches(t, f.srv, 4)
}

func nilClaims(_ *Claims, err error) error { return err }

func TestJWKSUnavailableWithoutCachedKeys(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.srv.set(func(s *jwksServer) { s.status = http.StatusServiceUnavailable })
	v := f.verifier(t, nil)
	tok := mint(t, jwt.SigningMethodRS256, keyA, testKID, cognitoClaims(f.clock.Now()))
	e := wantErr(t, nilClaims(v.Verify(ctx, tok)), ErrUnavailable, DescKeysUnavailable)
	if e.Err == nil || !strings.Contains(e.Err.Error(), "503") {
		t.Errorf("cause = %v", e.Err)
	}
	wantFetches(t, f.srv, 1)
	// Immediate retries do not hammer the endpoint.
	wantErr(t, nilClaims(v.Verify(ctx, tok)), ErrUnavailable, DescKeysUnavailable)
	wantFetches(t, f.srv, 1)
	// The endpoint recovers: the next attempt after the back-off succeeds.
	f.srv.set(func(s *jwksServer) { s.status = http.StatusOK })
	f.clock.Advance(emptyCacheRetry)
	if _, err := v.Verify(ctx, tok); err != nil {
		t.Fatal(err)
	}
	wantFetches(t, f.srv, 2)
}

func TestJWKSBadResponses(t *testing.T) {
	cases := map[string]func(s *jwksServer){
		"404":                   func(s *jwksServer) { s.status = http.StatusNotFound },
		"html":                  func(s *jwksServer) { s.contentType = "text/html" },
		"no usable keys":        func(s *jwksServer) { s.keys = []map[string]any{{"kty": "oct", "k": "c2VjcmV0"}} },
		"encryption key":        func(s *jwksServer) { s.keys[0]["use"] = "enc"; s.keys = s.keys[:1] },
		"oversize":              func(s *jwksServer) { s.padding = 2 << 20 },
		"302 without location":  func(s *jwksServer) { s.status = http.StatusFound },
		"malformed key":         func(s *jwksServer) { s.keys = []map[string]any{{"kty": "RSA", "n": "!!", "e": "AQAB"}} },
		"jwk-set+json accepted": nil,
	}
	for name, mod := range cases {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			if mod == nil {
				f.srv.set(func(s *jwksServer) { s.contentType = "application/jwk-set+json; charset=utf-8" })
			} else {
				f.srv.set(mod)
			}
			v := f.verifier(t, nil)
			tok := mint(t, jwt.SigningMethodRS256, keyA, testKID, cognitoClaims(f.clock.Now()))
			_, err := v.Verify(context.Background(), tok)
			if mod == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			wantErr(t, err, ErrUnavailable, DescKeysUnavailable)
		})
	}
}

func TestJWKSOversizeLimit(t *testing.T) {
	f := newFixture(t)
	f.srv.set(func(s *jwksServer) { s.padding = 4096 })
	v := f.verifier(t, func(c *Config) { c.JWKSMaxBytes = 4096 })
	tok := mint(t, jwt.SigningMethodRS256, keyA, testKID, cognitoClaims(f.clock.Now()))
	e := wantErr(t, nilClaims(v.Verify(context.Background(), tok)), ErrUnavailable, DescKeysUnavailable)
	if !strings.Contains(e.Err.Error(), "exceeds 4096 bytes") {
		t.Errorf("cause = %v", e.Err)
	}
	// Below the limit it works.
	f.srv.set(func(s *jwksServer) { s.padding = 100 })
	f.clock.Advance(time.Minute)
	if _, err := v.Verify(context.Background(), tok); err != nil {
		t.Fatal(err)
	}
}

func TestJWKSSlowTimesOut(t *testing.T) {
	f := newFixture(t)
	f.srv.set(func(s *jwksServer) { s.delay = 10 * time.Second })
	v := f.verifier(t, func(c *Config) { c.JWKSTimeout = 100 * time.Millisecond })
	tok := mint(t, jwt.SigningMethodRS256, keyA, testKID, cognitoClaims(f.clock.Now()))
	start := time.Now()
	wantErr(t, nilClaims(v.Verify(context.Background(), tok)), ErrUnavailable, DescKeysUnavailable)
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("took %v", d)
	}
}

func TestJWKSCallerContextCancelled(t *testing.T) {
	f := newFixture(t)
	f.srv.set(func(s *jwksServer) { s.delay = 300 * time.Millisecond })
	v := f.verifier(t, nil)
	tok := mint(t, jwt.SigningMethodRS256, keyA, testKID, cognitoClaims(f.clock.Now()))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	wantErr(t, nilClaims(v.Verify(ctx, tok)), ErrUnavailable, DescKeysUnavailable)
	// The shared fetch carried on without the caller and fills the cache.
	time.Sleep(600 * time.Millisecond)
	if _, err := v.Verify(context.Background(), tok); err != nil {
		t.Fatal(err)
	}
	wantFetches(t, f.srv, 1)
}

func TestJWKSSingleFlightColdStart(t *testing.T) {
	f := newFixture(t)
	f.srv.set(func(s *jwksServer) { s.delay = 100 * time.Millisecond })
	v := f.verifier(t, func(c *Config) { c.CacheSize = -1 })
	tok := mint(t, jwt.SigningMethodRS256, keyA, testKID, cognitoClaims(f.clock.Now()))
	var wg sync.WaitGroup
	errs := make(chan error, 50)
	for range 50 {
		wg.Go(func() {
			if _, err := v.Verify(context.Background(), tok); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	wantFetches(t, f.srv, 1)
}

func TestJWKSForgedKidFlood(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	v := f.verifier(t, nil)
	good := mint(t, jwt.SigningMethodRS256, keyA, testKID, cognitoClaims(f.clock.Now()))
	if _, err := v.Verify(ctx, good); err != nil {
		t.Fatal(err)
	}
	wantFetches(t, f.srv, 1)

	flood := func(round int) {
		t.Helper()
		var wg sync.WaitGroup
		bad := make(chan error, 1000)
		for i := range 1000 {
			wg.Go(func() {
				_, err := v.Verify(ctx, forgedToken(fmt.Sprintf("forged-%d-%d", round, i)))
				if e, ok := err.(*Error); !ok || e.Kind != ErrInvalidToken || e.Description != DescUnknownKey {
					bad <- fmt.Errorf("forged kid: %v", err)
				}
			})
		}
		wg.Wait()
		close(bad)
		for err := range bad {
			t.Fatal(err)
		}
	}

	// Within the interval of the first fetch: no extra fetch at all.
	flood(0)
	wantFetches(t, f.srv, 1)
	// The interval has passed: exactly one extra fetch for the whole flood.
	f.clock.Advance(time.Minute)
	flood(1)
	wantFetches(t, f.srv, 2)
	flood(2)
	wantFetches(t, f.srv, 2)
	f.clock.Advance(30 * time.Second)
	flood(3)
	wantFetches(t, f.srv, 2)
	f.clock.Advance(30 * time.Second)
	flood(4)
	wantFetches(t, f.srv, 3)
	// Genuine tokens kept working throughout.
	if _, err := v.Verify(ctx, good); err != nil {
		t.Fatal(err)
	}
}

func TestJWKSKeyRotation(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	v := f.verifier(t, nil)
	now := f.clock.Now()
	old := mint(t, jwt.SigningMethodRS256, keyA, testKID, cognitoClaims(now))
	if _, err := v.Verify(ctx, old); err != nil {
		t.Fatal(err)
	}
	// The pool rotates: a new key is published and tokens use it.
	f.srv.set(func(s *jwksServer) { s.keys = append(s.keys, rsaJWK(rotatedKID, &keyC.PublicKey)) })
	rotated := mint(t, jwt.SigningMethodRS256, keyC, rotatedKID, with(cognitoClaims(now), "jti", "rotated"))
	// Too soon after the last fetch: refused without fetching.
	wantErr(t, nilClaims(v.Verify(ctx, rotated)), ErrInvalidToken, DescUnknownKey)
	wantFetches(t, f.srv, 1)
	// After the interval, one refetch picks the new key up.
	f.clock.Advance(time.Minute)
	if _, err := v.Verify(ctx, rotated); err != nil {
		t.Fatal(err)
	}
	wantFetches(t, f.srv, 2)
	if _, err := v.Verify(ctx, mint(t, jwt.SigningMethodRS256, keyC, rotatedKID, cognitoClaims(now))); err != nil {
		t.Fatal(err)
	}
	wantFetches(t, f.srv, 2)
}

func TestJWKSKeyRemovedAfterTTL(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	v := f.verifier(t, func(c *Config) { c.CacheSize = -1 })
	claims := cognitoClaims(f.clock.Now())
	claims["exp"] = f.clock.Now().Add(5 * time.Hour).Unix()
	tok := mint(t, jwt.SigningMethodRS256, keyA, testKID, claims)
	if _, err := v.Verify(ctx, tok); err != nil {
		t.Fatal(err)
	}
	f.srv.set(func(s *jwksServer) { s.keys = []map[string]any{rsaJWK(rotatedKID, &keyC.PublicKey)} })
	f.clock.Advance(2 * time.Hour)
	wantErr(t, nilClaims(v.Verify(ctx, tok)), ErrInvalidToken, DescUnknownKey)
	wantFetches(t, f.srv, 2)
}

func TestJWKSCacheControlHonoured(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.srv.set(func(s *jwksServer) { s.cacheControl = "public, max-age=300" })
	v := f.verifier(t, func(c *Config) { c.CacheSize = -1 })
	claims := cognitoClaims(f.clock.Now())
	claims["exp"] = f.clock.Now().Add(10 * time.Hour).Unix()
	tok := mint(t, jwt.SigningMethodRS256, keyA, testKID, claims)
	if _, err := v.Verify(ctx, tok); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(299 * time.Second)
	if _, err := v.Verify(ctx, tok); err != nil {
		t.Fatal(err)
	}
	wantFetches(t, f.srv, 1)
	f.clock.Advance(time.Second)
	if _, err := v.Verify(ctx, tok); err != nil {
		t.Fatal(err)
	}
	wantFetches(t, f.srv, 2)

	// max-age below the floor is clamped up to one minute.
	f.srv.set(func(s *jwksServer) { s.cacheControl = "max-age=1" })
	f.clock.Advance(300 * time.Second)
	if _, err := v.Verify(ctx, tok); err != nil {
		t.Fatal(err)
	}
	wantFetches(t, f.srv, 3)
	f.clock.Advance(59 * time.Second)
	if _, err := v.Verify(ctx, tok); err != nil {
		t.Fatal(err)
	}
	wantFetches(t, f.srv, 3)
	f.clock.Advance(time.Second)
	if _, err := v.Verify(ctx, tok); err != nil {
		t.Fatal(err)
	}
	wantFetches(t, f.srv, 4)
}

func TestCacheTTL(t *testing.T) {
	def := time.Hour
	cases := []struct {
		cc   []string
		want time.Duration
	}{
		{nil, time.Hour},
		{[]string{"public"}, time.Hour},
		{[]string{"max-age=600"}, 10 * time.Minute},
		{[]string{"public, max-age=600, must-revalidate"}, 10 * time.Minute},
		{[]string{"MAX-AGE=\"120\""}, 2 * time.Minute},
		{[]string{"max-age=5"}, time.Minute},
		{[]string{"max-age=0"}, time.Minute},
		{[]string{"max-age=99999999999999999999"}, time.Hour}, // unparsable: default
		{[]string{"max-age=999999"}, 24 * time.Hour},
		{[]string{"max-age=-5"}, time.Hour},
		{[]string{"max-age=abc"}, time.Hour},
		{[]string{"no-store"}, time.Minute},
		{[]string{"max-age=600", "max-age=120"}, 2 * time.Minute},
	}
	for _, c := range cases {
		if got := cacheTTL(c.cc, def); got != c.want {
			t.Errorf("cacheTTL(%q) = %v, want %v", c.cc, got, c.want)
		}
	}
	if got := cacheTTL(nil, 48*time.Hour); got != 24*time.Hour {
		t.Errorf("default not clamped: %v", got)
	}
}

func TestParseJWKS(t *testing.T) {
	testKeys(t)
	small := rsaJWK("small", &keyA.PublicKey)
	small["n"] = base64.RawURLEncoding.EncodeToString(keyA.PublicKey.N.Bytes()[:64])
	badEC := ecJWK("bad-ec", &keyEC.PublicKey)
	badEC["y"] = badEC["x"]
	doc := map[string]any{"keys": []any{
		rsaJWK("a", &keyA.PublicKey),
		map[string]any{"kty": "oct", "kid": "sym", "k": "c2VjcmV0"},
		map[string]any{"kty": "OKP", "kid": "ed", "crv": "Ed25519", "x": "AAAA"},
		with2(rsaJWK("enc", &keyB.PublicKey), "use", "enc"),
		small,
		badEC,
		map[string]any{"kty": "RSA", "kid": "even-e", "n": rsaJWK("", &keyA.PublicKey)["n"], "e": "Ag"},
		"not an object",
		ecJWK("ec", &keyEC.PublicKey),
		with2(rsaJWK("noalg", &keyC.PublicKey), "alg", nil),
	}}
	body, _ := json.Marshal(doc)
	set, err := parseJWKS(body)
	if err != nil {
		t.Fatal(err)
	}
	var kids []string
	for _, k := range set.all {
		kids = append(kids, k.kid)
	}
	if strings.Join(kids, ",") != "a,ec,noalg" {
		t.Fatalf("kept %v", kids)
	}
	if set.lookup("a", true, "RS256") == nil || set.lookup("a", true, "RS384") != nil ||
		set.lookup("noalg", true, "PS256") == nil || set.lookup("ec", true, "ES256") == nil ||
		set.lookup("ec", true, "ES384") != nil || set.lookup("ec", true, "RS256") != nil {
		t.Error("lookup compatibility")
	}
	for _, bad := range []string{`{}`, `{"keys":[]}`, `[]`, `not json`, `{"keys":[{"kty":"oct"}]}`} {
		if _, err := parseJWKS([]byte(bad)); err == nil {
			t.Errorf("parseJWKS(%s) accepted", bad)
		}
	}
}

func with2(m map[string]any, k string, v any) map[string]any {
	out := map[string]any{}
	for kk, vv := range m {
		out[kk] = vv
	}
	if v == nil {
		delete(out, k)
	} else {
		out[k] = v
	}
	return out
}
