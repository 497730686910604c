package authorizer

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"mcplambda/internal/apikey"
	"mcplambda/internal/authconfig"
	"mcplambda/oauth"
)

// Config configures an Authorizer. At least one of Verifier and APIKeys
// must be set.
type Config struct {
	// Verifier checks JWT access tokens. It should have no RequiredScopes:
	// the authorizer checks RequiredScopes itself, so that a token that is
	// valid but lacks a scope still yields its subject (for the Deny policy
	// and the log) rather than only an error.
	Verifier       *oauth.Verifier
	RequiredScopes []string
	// APIKeys are the accepted API keys.
	APIKeys *apikey.Keys
	// MCPPath is the MCP endpoint's path (MCP_PATH), default "/mcp".
	MCPPath string
	// CacheTTL is how long API Gateway caches this authorizer's policy for
	// a token (the authorizer's authorizerResultTtlInSeconds, passed as
	// AUTHORIZER_RESULT_TTL). A token that expires sooner is refused, so
	// that a cached Allow never outlives its token: the expired token then
	// meets the gateway's 401 with its WWW-Authenticate challenge, rather
	// than reaching the function, whose own 401 API Gateway would rename.
	CacheTTL time.Duration
	// Now is the clock of that check; nil means time.Now.
	Now func() time.Time
	// Logger receives one line per decision; default JSON on stderr.
	Logger *slog.Logger
}

// ConfigFromEnv builds the configuration from the environment: the JWT
// and API-key settings through authconfig.AuthorizerFromEnv, which the
// server's configuration shares, plus MCP_PATH and AUTHORIZER_RESULT_TTL.
//
// ctx bounds the one network call it may make: discovering jwks_uri from
// OAUTH_ISSUER's metadata when OAUTH_JWKS_URL is not set.
func ConfigFromEnv(ctx context.Context, getenv func(string) string) (Config, error) {
	get := func(k string) string { return strings.TrimSpace(getenv(k)) }
	cfg := Config{MCPPath: get("MCP_PATH")}
	if cfg.MCPPath == "" {
		cfg.MCPPath = "/mcp"
	}
	if err := validMCPPath(cfg.MCPPath); err != nil {
		return cfg, err
	}
	ttl, err := cacheTTL(get("AUTHORIZER_RESULT_TTL"))
	if err != nil {
		return cfg, err
	}
	cfg.CacheTTL = ttl
	ac, err := authconfig.AuthorizerFromEnv(getenv)
	if err != nil {
		return cfg, err
	}
	cfg.APIKeys = ac.APIKeys
	if ac.Issuer != nil {
		// The authorizer checks the scopes itself (see Config.Verifier).
		cfg.RequiredScopes = ac.Issuer.Verifier.RequiredScopes
		ac.Issuer.Verifier.RequiredScopes = nil
		v, err := ac.Issuer.NewVerifier(ctx, &http.Client{Timeout: 10 * time.Second})
		if err != nil {
			return cfg, err
		}
		cfg.Verifier = v
	}
	return cfg, nil
}

// defaultCacheTTL is API Gateway's default authorizerResultTtlInSeconds,
// assumed when AUTHORIZER_RESULT_TTL is not set.
const defaultCacheTTL = 300 * time.Second

// cacheTTL parses AUTHORIZER_RESULT_TTL: whole seconds, 0 to 3600 as API
// Gateway allows.
func cacheTTL(s string) (time.Duration, error) {
	if s == "" {
		return defaultCacheTTL, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > 3600 {
		return 0, fmt.Errorf("AUTHORIZER_RESULT_TTL=%q: want the authorizer's result TTL in whole seconds, 0 to 3600", s)
	}
	return time.Duration(n) * time.Second, nil
}
