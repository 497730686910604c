package authorizer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"mcplambda/authorizer/apikey"
	"mcplambda/oauth"
	"mcplambda/server"
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
	APIKeys *APIKeys
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

// jwtVariables are the variables that configure JWT verification; setting
// any of them asks for JWT mode, so a half-done configuration is reported
// instead of being ignored in favour of API keys. MCP_RESOURCE_URL is not
// one: it names the endpoint, and an API-key deployment may well set it.
var jwtVariables = []string{
	"COGNITO_REGION", "COGNITO_USER_POOL_ID", "COGNITO_ALLOWED_CLIENT_IDS", "COGNITO_DOMAIN",
	"OAUTH_ISSUER", "OAUTH_JWKS_URL", "OAUTH_CLIENT_IDS", "OAUTH_REQUIRED_SCOPES",
	"OAUTH_ALGORITHMS", "OAUTH_ALLOW_MISSING_AUDIENCE",
}

// ConfigFromEnv builds the configuration from the environment. JWT mode
// reads the server's own variables through server.AuthConfigFromEnv, as
// the server would with AUTH_METHOD=oauth on a public address (so
// MCP_RESOURCE_URL, the audience, is required); API-key mode reads
// API_KEY_SHA256. With neither, or with anything malformed, it fails: the
// authorizer never starts in a mode that lets everything through.
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
	if s := get("API_KEY_SHA256"); s != "" {
		k, err := ParseAPIKeys(s)
		if err != nil {
			return cfg, err
		}
		cfg.APIKeys = k
	}
	jwtMode := false
	for _, k := range jwtVariables {
		jwtMode = jwtMode || get(k) != ""
	}
	if jwtMode {
		env := func(k string) string {
			switch k {
			case "AUTH_METHOD":
				return server.AuthOAuth
			case "API_KEY_SHA256":
				// Parsed above; the server accepts keys only with
				// AUTH_METHOD=lambda, which would also relax the issuer
				// requirement this call is here to enforce.
				return ""
			}
			return getenv(k)
		}
		sc := server.DefaultConfig()
		// Not loopback: nothing local (such as a localhost audience) may
		// apply to a deployed authorizer.
		sc.Host, sc.Path = "0.0.0.0", cfg.MCPPath
		ac, err := server.AuthConfigFromEnv(env, sc)
		if err != nil {
			return cfg, err
		}
		cfg.RequiredScopes = ac.Verifier.RequiredScopes
		ac.Verifier.RequiredScopes = nil
		client := &http.Client{Timeout: 10 * time.Second}
		v, err := ac.NewVerifier(ctx, client)
		if err != nil {
			return cfg, err
		}
		cfg.Verifier = v
	}
	if cfg.Verifier == nil && cfg.APIKeys == nil {
		return cfg, errors.New("no authorization configured: set COGNITO_REGION, COGNITO_USER_POOL_ID and MCP_RESOURCE_URL (Cognito JWTs), OAUTH_ISSUER and MCP_RESOURCE_URL (another issuer's JWTs), and/or API_KEY_SHA256 (SHA-256 hashes of API keys)")
	}
	return cfg, nil
}

// APIKeys is the set of accepted API keys (see package apikey).
type APIKeys = apikey.Keys

// ParseAPIKeys parses API_KEY_SHA256: comma-separated lowercase hex SHA-256
// hashes, each exactly 64 digits.
func ParseAPIKeys(list string) (*APIKeys, error) { return apikey.Parse(list) }

// DefaultCacheTTL is API Gateway's default authorizerResultTtlInSeconds,
// assumed when AUTHORIZER_RESULT_TTL is not set.
const DefaultCacheTTL = 300 * time.Second

// cacheTTL parses AUTHORIZER_RESULT_TTL: whole seconds, 0 to 3600 as API
// Gateway allows.
func cacheTTL(s string) (time.Duration, error) {
	if s == "" {
		return DefaultCacheTTL, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > 3600 {
		return 0, fmt.Errorf("AUTHORIZER_RESULT_TTL=%q: want the authorizer's result TTL in whole seconds, 0 to 3600", s)
	}
	return time.Duration(n) * time.Second, nil
}
