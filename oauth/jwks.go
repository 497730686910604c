package oauth

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

const (
	minJWKSTTL = time.Minute
	maxJWKSTTL = 24 * time.Hour
	// minRSABits is the smallest RSA modulus accepted from a JWKS.
	minRSABits = 2048
	// emptyCacheRetry bounds how often a fetch is retried while no keys
	// have ever been obtained (cold start during an outage).
	emptyCacheRetry = 5 * time.Second
)

// jwk is one usable verification key.
type jwk struct {
	kid string
	kty string // "RSA" or "EC"
	alg string // optional "alg" from the JWK
	key crypto.PublicKey
}

// compatible reports whether the key may verify a token signed with alg.
func (k *jwk) compatible(alg string) bool {
	if k.alg != "" && k.alg != alg {
		return false
	}
	switch alg {
	case "RS256", "RS384", "RS512", "PS256", "PS384", "PS512":
		_, ok := k.key.(*rsa.PublicKey)
		return ok
	case "ES256", "ES384", "ES512":
		pk, ok := k.key.(*ecdsa.PublicKey)
		return ok && pk.Curve == curveForAlg(alg)
	}
	return false
}

func curveForAlg(alg string) elliptic.Curve {
	switch alg {
	case "ES256":
		return elliptic.P256()
	case "ES384":
		return elliptic.P384()
	case "ES512":
		return elliptic.P521()
	}
	return nil
}

// keySet is an immutable snapshot of a fetched JWKS.
type keySet struct {
	byKID     map[string][]*jwk
	all       []*jwk
	fetchedAt time.Time
	expiresAt time.Time
}

// lookup finds the key for kid (or, when kid is empty, the single key
// compatible with alg).
func (s *keySet) lookup(kid string, hasKID bool, alg string) *jwk {
	if s == nil {
		return nil
	}
	if hasKID {
		for _, k := range s.byKID[kid] {
			if k.compatible(alg) {
				return k
			}
		}
		return nil
	}
	var found *jwk
	for _, k := range s.all {
		if k.compatible(alg) {
			if found != nil {
				return nil // ambiguous: refuse
			}
			found = k
		}
	}
	return found
}

type fetchCall struct {
	done chan struct{}
	err  error
}

// jwksCache holds the authorization server's keys and refreshes them with
// single-flight fetches that are rate limited.
type jwksCache struct {
	url        string
	client     *http.Client
	timeout    time.Duration
	maxBytes   int64
	defaultTTL time.Duration
	interval   time.Duration
	now        func() time.Time

	mu          sync.Mutex
	set         *keySet    // nil until the first successful fetch
	lastAttempt time.Time  // start of the last fetch, successful or not
	lastErr     error      // result of the last completed fetch
	inflight    *fetchCall // the fetch in progress, if any
}

// errThrottled means a refetch was wanted but not allowed yet.
var errThrottled = errors.New("jwks refetch suppressed by rate limit")

// key returns the verification key for a token's kid and alg.
func (c *jwksCache) key(ctx context.Context, kid string, hasKID bool, alg string) (crypto.PublicKey, *Error) {
	now := c.now()
	c.mu.Lock()
	set := c.set
	c.mu.Unlock()

	if set != nil {
		if k := set.lookup(kid, hasKID, alg); k != nil {
			if now.Before(set.expiresAt) {
				return k.key, nil
			}
			// Known key but stale set: try to refresh (rate limited
			// after a failure), and fall back to the stale key.
			fresh, _ := c.refresh(ctx, false)
			if k2 := fresh.lookup(kid, hasKID, alg); k2 != nil {
				return k2.key, nil
			}
			// The refreshed set no longer has the key: it was revoked.
			return nil, invalid(DescUnknownKey, errors.New("signing key no longer published"))
		}
	}

	// Unknown key (or no keys at all): refetch at most once per interval.
	fresh, err := c.refresh(ctx, true)
	if k := fresh.lookup(kid, hasKID, alg); k != nil {
		return k.key, nil
	}
	if fresh == nil {
		if err == nil || errors.Is(err, errThrottled) {
			err = errors.Join(errors.New("no signing keys cached"), c.lastError())
		}
		return nil, &Error{Kind: ErrUnavailable, Description: DescKeysUnavailable, Err: err}
	}
	if err == nil {
		err = errors.New("no published key matches the token's kid and alg")
	}
	return nil, invalid(DescUnknownKey, err)
}

func (c *jwksCache) lastError() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lastErr
}

// refresh fetches the JWKS unless the rate limit forbids it, sharing a
// fetch already in progress. It always returns the newest key set it has
// (possibly stale, possibly nil) and the error of the fetch, if any.
// unknownKID selects the rate limit for unknown keys: at most one fetch per
// interval. Otherwise (stale set) a fetch happens whenever the previous
// attempt succeeded or failed more than an interval ago.
func (c *jwksCache) refresh(ctx context.Context, unknownKID bool) (*keySet, error) {
	c.mu.Lock()
	call := c.inflight
	if call == nil {
		now := c.now()
		gate := c.interval
		if c.set == nil && gate > emptyCacheRetry {
			gate = emptyCacheRetry
		}
		allowed := c.lastAttempt.IsZero() || now.Sub(c.lastAttempt) >= gate
		if !unknownKID && c.set != nil && c.lastErr == nil && !now.Before(c.set.expiresAt) {
			allowed = true // plain TTL expiry after a successful fetch
		}
		if !allowed {
			set := c.set
			c.mu.Unlock()
			return set, errThrottled
		}
		call = &fetchCall{done: make(chan struct{})}
		c.inflight = call
		c.lastAttempt = now
		// The fetch is shared: it must not die with the caller that
		// happened to start it.
		go c.doFetch(context.WithoutCancel(ctx), call)
	}
	c.mu.Unlock()

	select {
	case <-call.done:
	case <-ctx.Done():
		c.mu.Lock()
		set := c.set
		c.mu.Unlock()
		return set, ctx.Err()
	}
	c.mu.Lock()
	set := c.set
	c.mu.Unlock()
	return set, call.err
}

func (c *jwksCache) doFetch(ctx context.Context, call *fetchCall) {
	set, err := c.fetch(ctx)
	c.mu.Lock()
	if err == nil {
		c.set = set
	}
	c.lastErr = err
	c.inflight = nil
	call.err = err
	c.mu.Unlock()
	close(call.done)
}

// fetch performs one HTTP request for the JWKS.
func (c *jwksCache) fetch(ctx context.Context) (*keySet, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.url, nil)
	if err != nil {
		return nil, fmt.Errorf("jwks request: %w", err)
	}
	req.Header.Set("Accept", "application/jwk-set+json, application/json")
	resp, err := c.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("jwks fetch: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
		return nil, fmt.Errorf("jwks fetch: HTTP status %d", resp.StatusCode)
	}
	if mt, _, err := mime.ParseMediaType(resp.Header.Get("Content-Type")); err != nil ||
		(mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
		return nil, fmt.Errorf("jwks fetch: content type %q is not JSON", resp.Header.Get("Content-Type"))
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, c.maxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("jwks read: %w", err)
	}
	if int64(len(body)) > c.maxBytes {
		return nil, fmt.Errorf("jwks document exceeds %d bytes", c.maxBytes)
	}
	set, err := parseJWKS(body)
	if err != nil {
		return nil, err
	}
	now := c.now()
	set.fetchedAt = now
	set.expiresAt = now.Add(cacheTTL(resp.Header.Values("Cache-Control"), c.defaultTTL))
	return set, nil
}

// cacheTTL derives the key-set lifetime from Cache-Control: max-age is
// honoured but clamped to [1m, 24h]; no-store/no-cache mean the minimum;
// otherwise def (also clamped).
func cacheTTL(values []string, def time.Duration) time.Duration {
	ttl := def
	found := false
	for _, v := range values {
		for d := range strings.SplitSeq(v, ",") {
			name, val, _ := strings.Cut(strings.TrimSpace(d), "=")
			switch strings.ToLower(strings.TrimSpace(name)) {
			case "max-age":
				n, err := strconv.ParseInt(strings.Trim(strings.TrimSpace(val), `"`), 10, 64)
				if err != nil || n < 0 {
					continue
				}
				if n > int64(maxJWKSTTL/time.Second) {
					n = int64(maxJWKSTTL / time.Second)
				}
				if !found || time.Duration(n)*time.Second < ttl {
					ttl = time.Duration(n) * time.Second
				}
				found = true
			case "no-store", "no-cache":
				ttl, found = 0, true
			}
		}
	}
	return min(max(ttl, minJWKSTTL), maxJWKSTTL)
}

type rawJWK struct {
	Kty string `json:"kty"`
	Use string `json:"use"`
	Alg string `json:"alg"`
	Kid string `json:"kid"`
	N   string `json:"n"`
	E   string `json:"e"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Y   string `json:"y"`
}

// parseJWKS parses a JWK Set (RFC 7517), keeping RSA and EC signature keys
// and ignoring everything else. A set with no usable key is an error.
func parseJWKS(body []byte) (*keySet, error) {
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, fmt.Errorf("jwks decode: %w", err)
	}
	set := &keySet{byKID: make(map[string][]*jwk)}
	var errs []error
	for i, raw := range doc.Keys {
		var r rawJWK
		if err := json.Unmarshal(raw, &r); err != nil {
			errs = append(errs, fmt.Errorf("key %d: %w", i, err))
			continue
		}
		if r.Use != "" && r.Use != "sig" {
			continue
		}
		k, err := parseJWK(&r)
		if err != nil {
			errs = append(errs, fmt.Errorf("key %d (kid %q): %w", i, r.Kid, err))
			continue
		}
		if k == nil {
			continue // unknown kty
		}
		set.all = append(set.all, k)
		set.byKID[k.kid] = append(set.byKID[k.kid], k)
	}
	if len(set.all) == 0 {
		return nil, errors.Join(errors.New("jwks has no usable signing key"), errors.Join(errs...))
	}
	return set, nil
}

func parseJWK(r *rawJWK) (*jwk, error) {
	switch r.Kty {
	case "RSA":
		nb, err := b64(r.N)
		if err != nil || len(nb) == 0 {
			return nil, errors.New("bad modulus")
		}
		eb, err := b64(r.E)
		if err != nil || len(eb) == 0 || len(eb) > 4 {
			return nil, errors.New("bad exponent")
		}
		e := 0
		for _, b := range eb {
			e = e<<8 | int(b)
		}
		if e < 3 || e%2 == 0 {
			return nil, errors.New("bad exponent")
		}
		n := new(big.Int).SetBytes(nb)
		if n.BitLen() < minRSABits {
			return nil, fmt.Errorf("RSA modulus of %d bits is too small", n.BitLen())
		}
		return &jwk{kid: r.Kid, kty: "RSA", alg: r.Alg, key: &rsa.PublicKey{N: n, E: e}}, nil
	case "EC":
		var curve elliptic.Curve
		var size int
		switch r.Crv {
		case "P-256":
			curve, size = elliptic.P256(), 32
		case "P-384":
			curve, size = elliptic.P384(), 48
		case "P-521":
			curve, size = elliptic.P521(), 66
		default:
			return nil, fmt.Errorf("unsupported curve %q", r.Crv)
		}
		x, err1 := b64(r.X)
		y, err2 := b64(r.Y)
		if err1 != nil || err2 != nil || len(x) != size || len(y) != size {
			return nil, errors.New("bad EC coordinates")
		}
		point := make([]byte, 0, 1+2*size)
		point = append(point, 4)
		point = append(point, x...)
		point = append(point, y...)
		pk, err := ecdsa.ParseUncompressedPublicKey(curve, point)
		if err != nil {
			return nil, fmt.Errorf("bad EC point: %w", err)
		}
		return &jwk{kid: r.Kid, kty: "EC", alg: r.Alg, key: pk}, nil
	}
	return nil, nil
}

func b64(s string) ([]byte, error) {
	return base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
}
