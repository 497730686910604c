// Package oauth holds what both sides of OAuth 2.1 share: verification of
// JWT access tokens against a cached JWKS (the resource server side),
// metadata documents and PKCE.
package oauth

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Config configures a Verifier. Zero values select the documented defaults.
type Config struct {
	Issuer     string   // exact "iss" required
	JWKSURL    string   // where signing keys are fetched (https, or http for loopback)
	Algorithms []string // allowed "alg"s; default ["RS256"]; "none" and HS* are refused
	// ClientIDs, when non-empty, lists the accepted clients: the token's
	// client_id (Cognito), or azp when client_id is absent, must be one of
	// them. A token with neither is rejected.
	ClientIDs []string
	// Audience, when set, must be contained in the token's "aud" (RFC 8707).
	Audience string
	// AllowMissingAudience (only with Audience set) accepts tokens with no
	// aud claim at all, as Cognito issues without resource binding. A token
	// whose aud is present but lacks Audience is always rejected.
	AllowMissingAudience bool
	// RequiredScopes must all be in "scope" (space separated) or "scp".
	RequiredScopes []string
	// TokenUse, when set (Cognito: "access"), must equal "token_use".
	TokenUse string
	// Leeway is the clock skew allowed for exp/nbf/iat: default 30s, max 60s.
	Leeway time.Duration
	// HTTPClient fetches the JWKS; default a client with JWKSTimeout.
	HTTPClient *http.Client
	// JWKSTimeout bounds one JWKS fetch; default 5s.
	JWKSTimeout time.Duration
	// JWKSMaxBytes bounds the JWKS document; default 1 MiB.
	JWKSMaxBytes int64
	// JWKSDefaultTTL is used when the response has no usable Cache-Control
	// max-age; default 1h. max-age is honoured but clamped to [1m, 24h].
	JWKSDefaultTTL time.Duration
	// UnknownKidRefetchInterval: at most one refetch per interval is
	// triggered by unknown kids (and by retries after a failed fetch);
	// default 1m.
	UnknownKidRefetchInterval time.Duration
	// MaxTokenBytes: longer tokens are rejected before parsing; default 8192.
	MaxTokenBytes int
	// CacheSize is the number of verified tokens cached: 0 means 10000,
	// negative disables the cache.
	CacheSize int
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// Claims are the verified claims of an access token. Values returned by
// Verify may be shared with the verified-token cache: treat the slices and
// Raw as read-only.
type Claims struct {
	Issuer, Subject, ClientID, Username, TokenUse string
	Audience                                      []string
	Scopes                                        []string
	ExpiresAt, IssuedAt, NotBefore                time.Time
	Raw                                           map[string]any // all claims
}

// Verifier verifies JWT access tokens. It is safe for concurrent use.
type Verifier struct {
	cfg     Config
	parser  *jwt.Parser
	keys    *jwksCache
	cache   *tokenCache
	clients map[string]struct{}
}

var supportedAlgs = map[string]bool{
	"RS256": true, "RS384": true, "RS512": true,
	"PS256": true, "PS384": true, "PS512": true,
	"ES256": true, "ES384": true, "ES512": true,
}

// NewVerifier validates cfg and applies defaults. It never fetches.
func NewVerifier(cfg Config) (*Verifier, error) {
	if cfg.Issuer == "" {
		return nil, errors.New("oauth: Config.Issuer is required")
	}
	if err := checkJWKSURL(cfg.JWKSURL); err != nil {
		return nil, err
	}
	if len(cfg.Algorithms) == 0 {
		cfg.Algorithms = []string{"RS256"}
	} else {
		algs := make([]string, 0, len(cfg.Algorithms))
		for _, a := range cfg.Algorithms {
			if !supportedAlgs[a] {
				return nil, fmt.Errorf("oauth: algorithm %q is not accepted (only RS*, PS*, ES*)", a)
			}
			if !slices.Contains(algs, a) {
				algs = append(algs, a)
			}
		}
		cfg.Algorithms = algs
	}
	for _, id := range cfg.ClientIDs {
		if id == "" {
			return nil, errors.New("oauth: Config.ClientIDs contains an empty client id")
		}
	}
	cfg.ClientIDs = slices.Clone(cfg.ClientIDs)
	if cfg.AllowMissingAudience && cfg.Audience == "" {
		return nil, errors.New("oauth: Config.AllowMissingAudience requires Config.Audience")
	}
	for _, s := range cfg.RequiredScopes {
		if s == "" || strings.ContainsAny(s, " \t\r\n") {
			return nil, fmt.Errorf("oauth: invalid required scope %q", s)
		}
	}
	cfg.RequiredScopes = slices.Clone(cfg.RequiredScopes)
	switch {
	case cfg.Leeway < 0:
		return nil, errors.New("oauth: Config.Leeway must not be negative")
	case cfg.Leeway == 0:
		cfg.Leeway = 30 * time.Second
	case cfg.Leeway > 60*time.Second:
		return nil, errors.New("oauth: Config.Leeway must not exceed 60s")
	}
	if cfg.JWKSTimeout < 0 || cfg.JWKSMaxBytes < 0 || cfg.JWKSDefaultTTL < 0 ||
		cfg.UnknownKidRefetchInterval < 0 || cfg.MaxTokenBytes < 0 {
		return nil, errors.New("oauth: durations and sizes in Config must not be negative")
	}
	if cfg.JWKSTimeout == 0 {
		cfg.JWKSTimeout = 5 * time.Second
	}
	if cfg.JWKSMaxBytes == 0 {
		cfg.JWKSMaxBytes = 1 << 20
	}
	if cfg.JWKSDefaultTTL == 0 {
		cfg.JWKSDefaultTTL = time.Hour
	}
	cfg.JWKSDefaultTTL = min(max(cfg.JWKSDefaultTTL, minJWKSTTL), maxJWKSTTL)
	if cfg.UnknownKidRefetchInterval == 0 {
		cfg.UnknownKidRefetchInterval = time.Minute
	}
	if cfg.MaxTokenBytes == 0 {
		cfg.MaxTokenBytes = 8192
	}
	if cfg.CacheSize == 0 {
		cfg.CacheSize = 10000
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: cfg.JWKSTimeout}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}

	v := &Verifier{
		cfg: cfg,
		// Claims are checked by Verify itself so that every failure maps
		// to one fixed description.
		parser: jwt.NewParser(jwt.WithValidMethods(cfg.Algorithms), jwt.WithoutClaimsValidation()),
		keys: &jwksCache{
			url:        cfg.JWKSURL,
			client:     cfg.HTTPClient,
			timeout:    cfg.JWKSTimeout,
			maxBytes:   cfg.JWKSMaxBytes,
			defaultTTL: cfg.JWKSDefaultTTL,
			interval:   cfg.UnknownKidRefetchInterval,
			now:        cfg.Now,
		},
		cache: newTokenCache(cfg.CacheSize),
	}
	if len(cfg.ClientIDs) > 0 {
		v.clients = make(map[string]struct{}, len(cfg.ClientIDs))
		for _, id := range cfg.ClientIDs {
			v.clients[id] = struct{}{}
		}
	}
	return v, nil
}

func checkJWKSURL(raw string) error {
	if raw == "" {
		return errors.New("oauth: Config.JWKSURL is required")
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return fmt.Errorf("oauth: Config.JWKSURL %q is not an absolute URL", raw)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		host := u.Hostname()
		if host == "localhost" {
			return nil
		}
		if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
			return nil
		}
		return fmt.Errorf("oauth: Config.JWKSURL %q must use https (http only for loopback)", raw)
	}
	return fmt.Errorf("oauth: Config.JWKSURL %q must use https", raw)
}

// Config returns the configuration with defaults applied.
func (v *Verifier) Config() Config {
	c := v.cfg
	c.Algorithms = slices.Clone(c.Algorithms)
	c.ClientIDs = slices.Clone(c.ClientIDs)
	c.RequiredScopes = slices.Clone(c.RequiredScopes)
	return c
}

// Verify checks a JWT access token (without the "Bearer " prefix) and
// returns its claims. Every error is an *Error.
func (v *Verifier) Verify(ctx context.Context, token string) (*Claims, error) {
	c, e := v.verify(ctx, token)
	if e != nil {
		return nil, e
	}
	return c, nil
}

func (v *Verifier) verify(ctx context.Context, token string) (*Claims, *Error) {
	if token == "" {
		return nil, invalid(DescMalformed, errors.New("empty token"))
	}
	if len(token) > v.cfg.MaxTokenBytes {
		return nil, invalid(DescTooLarge, fmt.Errorf("token of %d bytes exceeds %d", len(token), v.cfg.MaxTokenBytes))
	}
	now := v.cfg.Now()

	var key tokenKey
	if v.cache != nil {
		key = hashToken(token)
		if c := v.cache.get(key, now); c != nil {
			cp := *c
			return v.checkScopes(&cp)
		}
	}

	claims, e := v.verifyFull(ctx, token, now)
	if e != nil {
		return nil, e
	}
	v.cache.put(key, claims, claims.ExpiresAt, now)
	cp := *claims
	return v.checkScopes(&cp)
}

func (v *Verifier) checkScopes(c *Claims) (*Claims, *Error) {
	var missing []string
	for _, s := range v.cfg.RequiredScopes {
		if !slices.Contains(c.Scopes, s) {
			missing = append(missing, s)
		}
	}
	if len(missing) > 0 {
		return nil, &Error{
			Kind:          ErrInsufficientScope,
			Description:   DescInsufficientScope,
			MissingScopes: missing,
			Err:           fmt.Errorf("missing scopes %q", missing),
		}
	}
	return c, nil
}

func (v *Verifier) verifyFull(ctx context.Context, token string, now time.Time) (*Claims, *Error) {
	mc := jwt.MapClaims{}
	var keyErr *Error
	tok, err := v.parser.ParseWithClaims(token, mc, func(t *jwt.Token) (any, error) {
		if _, ok := t.Header["crit"]; ok {
			keyErr = invalid(DescMalformed, errors.New("unsupported crit header"))
			return nil, keyErr
		}
		kid, hasKID := t.Header["kid"].(string)
		if _, present := t.Header["kid"]; present && !hasKID {
			keyErr = invalid(DescMalformed, errors.New("kid header is not a string"))
			return nil, keyErr
		}
		k, e := v.keys.key(ctx, kid, hasKID, t.Method.Alg())
		if e != nil {
			keyErr = e
			return nil, e
		}
		return k, nil
	})
	if err != nil {
		if keyErr != nil {
			return nil, keyErr
		}
		switch {
		case tok == nil || errors.Is(err, jwt.ErrTokenMalformed):
			return nil, invalid(DescMalformed, err)
		case errors.Is(err, jwt.ErrTokenUnverifiable):
			// alg missing or not implemented
			return nil, invalid(DescBadAlgorithm, err)
		case errors.Is(err, jwt.ErrTokenSignatureInvalid):
			if tok.Method == nil || !slices.Contains(v.cfg.Algorithms, tok.Method.Alg()) {
				return nil, invalid(DescBadAlgorithm, err)
			}
			return nil, invalid(DescBadSignature, err)
		}
		return nil, invalid(DescVerificationFailed, err)
	}
	if !tok.Valid {
		return nil, invalid(DescVerificationFailed, errors.New("token not valid"))
	}
	return v.checkClaims(map[string]any(mc), now)
}

// checkClaims validates the signed claims and maps them to Claims.
func (v *Verifier) checkClaims(m map[string]any, now time.Time) (*Claims, *Error) {
	leeway := v.cfg.Leeway
	c := &Claims{Raw: m}
	var ok, present bool

	// Times.
	if c.ExpiresAt, present, ok = numericDate(m, "exp"); !ok {
		return nil, invalid(DescMalformed, errors.New("exp is not a valid NumericDate"))
	} else if !present {
		return nil, invalid(DescMissingExpiry, errors.New("exp claim missing"))
	}
	if !now.Before(c.ExpiresAt.Add(leeway)) {
		return nil, invalid(DescExpired, fmt.Errorf("expired at %s", c.ExpiresAt.UTC().Format(time.RFC3339)))
	}
	if c.NotBefore, present, ok = numericDate(m, "nbf"); !ok {
		return nil, invalid(DescMalformed, errors.New("nbf is not a valid NumericDate"))
	} else if present && now.Before(c.NotBefore.Add(-leeway)) {
		return nil, invalid(DescNotYetValid, fmt.Errorf("not valid before %s", c.NotBefore.UTC().Format(time.RFC3339)))
	}
	if c.IssuedAt, present, ok = numericDate(m, "iat"); !ok {
		return nil, invalid(DescMalformed, errors.New("iat is not a valid NumericDate"))
	} else if present && now.Before(c.IssuedAt.Add(-leeway)) {
		return nil, invalid(DescIssuedInFuture, fmt.Errorf("issued at %s", c.IssuedAt.UTC().Format(time.RFC3339)))
	}

	// String claims.
	var err *Error
	str := func(name string) string {
		s, e := stringClaim(m, name)
		if e != nil && err == nil {
			err = e
		}
		return s
	}
	c.Issuer = str("iss")
	c.Subject = str("sub")
	c.TokenUse = str("token_use")
	c.ClientID = str("client_id")
	azp := str("azp")
	for _, name := range []string{"username", "cognito:username", "preferred_username"} {
		if c.Username = str(name); c.Username != "" {
			break
		}
	}
	if err != nil {
		return nil, err
	}

	if c.Issuer != v.cfg.Issuer {
		return nil, invalid(DescBadIssuer, errors.New("issuer mismatch"))
	}
	if v.cfg.TokenUse != "" && c.TokenUse != v.cfg.TokenUse {
		return nil, invalid(DescNotAccessToken, fmt.Errorf("token_use is not %q", v.cfg.TokenUse))
	}

	// Audience.
	aud, audPresent, audOK := stringList(m, "aud")
	if !audOK {
		return nil, invalid(DescMalformed, errors.New("aud is neither a string nor an array of strings"))
	}
	c.Audience = aud
	if v.cfg.Audience != "" {
		if !audPresent {
			if !v.cfg.AllowMissingAudience {
				return nil, invalid(DescBadAudience, errors.New("aud claim missing"))
			}
		} else if !slices.Contains(aud, v.cfg.Audience) {
			return nil, invalid(DescBadAudience, errors.New("aud does not contain the resource"))
		}
	}

	// Client.
	if c.ClientID == "" {
		c.ClientID = azp
	}
	if v.clients != nil {
		if c.ClientID == "" {
			return nil, invalid(DescBadClient, errors.New("token has neither client_id nor azp"))
		}
		if _, ok := v.clients[c.ClientID]; !ok {
			return nil, invalid(DescBadClient, errors.New("client not in Config.ClientIDs"))
		}
	}

	// Scopes: "scope" (space separated) and/or "scp" (array or string).
	scope, e := stringClaim(m, "scope")
	if e != nil {
		return nil, e
	}
	c.Scopes = strings.Fields(scope)
	scp, _, scpOK := stringList(m, "scp")
	if !scpOK {
		return nil, invalid(DescMalformed, errors.New("scp is neither a string nor an array of strings"))
	}
	for _, s := range scp {
		for _, f := range strings.Fields(s) {
			if !slices.Contains(c.Scopes, f) {
				c.Scopes = append(c.Scopes, f)
			}
		}
	}
	return c, nil
}

// numericDate reads a NumericDate claim. ok is false for a wrong type or
// an out-of-range value.
func numericDate(m map[string]any, name string) (t time.Time, present, ok bool) {
	raw, present := m[name]
	if !present {
		return time.Time{}, false, true
	}
	f, isNum := raw.(float64)
	if !isNum || math.IsNaN(f) || math.IsInf(f, 0) || f < 0 || f > 1<<40 {
		return time.Time{}, true, false
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)), true, true
}

func stringClaim(m map[string]any, name string) (string, *Error) {
	raw, ok := m[name]
	if !ok || raw == nil {
		return "", nil
	}
	s, ok := raw.(string)
	if !ok {
		return "", invalid(DescMalformed, fmt.Errorf("%s is not a string", name))
	}
	return s, nil
}

// stringList reads a claim that is a string or an array of strings.
func stringList(m map[string]any, name string) (list []string, present, ok bool) {
	raw, present := m[name]
	if !present {
		return nil, false, true
	}
	switch x := raw.(type) {
	case string:
		return []string{x}, true, true
	case []any:
		list = make([]string, 0, len(x))
		for _, e := range x {
			s, isStr := e.(string)
			if !isStr {
				return nil, true, false
			}
			list = append(list, s)
		}
		return list, true, true
	}
	return nil, true, false
}
