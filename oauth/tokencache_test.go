package oauth

import (
	"context"
	"fmt"
	"net/http"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func TestTokenCacheHitSkipsSignatureCheck(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	v := f.verifier(t, nil)
	tok := mint(t, jwt.SigningMethodRS256, keyA, testKID, cognitoClaims(f.clock.Now()))
	first, err := v.Verify(ctx, tok)
	if err != nil {
		t.Fatal(err)
	}
	if v.cache.len() != 1 {
		t.Fatalf("cache len %d", v.cache.len())
	}
	// Take every key away: only a cache hit can still accept the token.
	f.srv.set(func(s *jwksServer) { s.status = http.StatusInternalServerError })
	v.keys.mu.Lock()
	v.keys.set = nil
	v.keys.mu.Unlock()
	second, err := v.Verify(ctx, tok)
	if err != nil {
		t.Fatalf("cache hit: %v", err)
	}
	if !reflect.DeepEqual(first, second) {
		t.Error("cached claims differ")
	}
	// Callers get their own copy of the struct.
	second.Subject = "mutated"
	third, _ := v.Verify(ctx, tok)
	if third.Subject != "sub-1234-5678" {
		t.Error("caller mutation leaked into the cache")
	}
	wantFetches(t, f.srv, 1)
	// A different token is not in the cache and needs keys.
	other := mint(t, jwt.SigningMethodRS256, keyA, testKID, with(cognitoClaims(f.clock.Now()), "jti", "other"))
	wantErr(t, nilClaims(v.Verify(ctx, other)), ErrUnavailable, DescKeysUnavailable)
}

func TestTokenCacheRechecksExpiry(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	v := f.verifier(t, nil)
	claims := cognitoClaims(f.clock.Now())
	claims["exp"] = f.clock.Now().Add(10 * time.Minute).Unix()
	tok := mint(t, jwt.SigningMethodRS256, keyA, testKID, claims)
	if _, err := v.Verify(ctx, tok); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(10*time.Minute - time.Second)
	if _, err := v.Verify(ctx, tok); err != nil {
		t.Fatalf("before exp: %v", err)
	}
	// Past exp + leeway: rejected, whatever the cache holds.
	f.clock.Advance(time.Minute)
	wantErr(t, nilClaims(v.Verify(ctx, tok)), ErrInvalidToken, DescExpired)
	if v.cache.len() != 0 {
		t.Errorf("expired entry kept: len %d", v.cache.len())
	}
}

func TestTokenCacheNeverBeyondExp(t *testing.T) {
	c := newTokenCache(10)
	now := testEpoch
	k := hashToken("t")
	c.put(k, &Claims{Subject: "s"}, now.Add(time.Second), now)
	if c.get(k, now) == nil {
		t.Fatal("miss")
	}
	if c.get(k, now.Add(time.Second)) != nil {
		t.Fatal("entry served at exp")
	}
	c.put(k, &Claims{}, now, now)
	if c.len() != 0 {
		t.Fatal("stored an already expired entry")
	}
}

func TestTokenCacheScopeCheckedEveryCall(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	v := f.verifier(t, func(c *Config) { c.RequiredScopes = []string{"mcp/tools", "mcp/admin"} })
	tok := mint(t, jwt.SigningMethodRS256, keyA, testKID, cognitoClaims(f.clock.Now()))
	for i := range 3 {
		e := wantErr(t, nilClaims(v.Verify(ctx, tok)), ErrInsufficientScope, DescInsufficientScope)
		if !reflect.DeepEqual(e.MissingScopes, []string{"mcp/admin"}) {
			t.Errorf("call %d: MissingScopes %q", i, e.MissingScopes)
		}
	}
}

func TestTokenCacheBounded(t *testing.T) {
	c := newTokenCache(64)
	now := testEpoch
	for i := range 5000 {
		c.put(hashToken(fmt.Sprint(i)), &Claims{}, now.Add(time.Hour), now)
	}
	if n := c.len(); n > 64 || n < 32 {
		t.Fatalf("len %d", n)
	}
	// The newest entries survive, the oldest were evicted.
	if c.get(hashToken("4999"), now) == nil {
		t.Error("newest entry evicted")
	}
	if c.get(hashToken("0"), now) != nil {
		t.Error("oldest entry kept")
	}
	if newTokenCache(0) != nil || newTokenCache(-1) != nil {
		t.Error("disabled cache not nil")
	}
	var nilCache *tokenCache
	nilCache.put(hashToken("x"), &Claims{}, now.Add(time.Hour), now)
	if nilCache.get(hashToken("x"), now) != nil || nilCache.len() != 0 {
		t.Error("nil cache")
	}
}

func TestTokenCacheConcurrent(t *testing.T) {
	c := newTokenCache(100)
	now := testEpoch
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			for i := range 2000 {
				k := hashToken(fmt.Sprint(g, "-", i%300))
				if i%3 == 0 {
					c.put(k, &Claims{Subject: "s"}, now.Add(time.Minute), now)
				} else {
					c.get(k, now.Add(time.Duration(i)*time.Millisecond))
				}
			}
		})
	}
	wg.Wait()
	if c.len() > 112 { // 16 shards × ceil(100/16)
		t.Fatalf("len %d", c.len())
	}
}
