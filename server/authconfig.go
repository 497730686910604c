package server

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"mcplambda/oauth"
)

// Authentication modes (AUTH_METHOD).
const (
	AuthNone   = "none"
	AuthOAuth  = "oauth"
	AuthLambda = "lambda"
)

// AuthConfig is the authentication configuration read from the
// environment by AuthConfigFromEnv.
type AuthConfig struct {
	Method string

	// Verifier is the token verification configuration (oauth and lambda).
	Verifier oauth.Config
	// Cognito is set when the issuer is a Cognito user pool.
	Cognito *oauth.Cognito
	// ResourceURL is the canonical URL of the MCP endpoint (RFC 8707 / 9728).
	ResourceURL string
	// RequiredScopes every token needs; ScopesSupported is advertised.
	RequiredScopes  []string
	ScopesSupported []string
	// APIKeyHashes (API_KEY_SHA256, AUTH_METHOD=lambda only) are the
	// lowercase hex SHA-256 hashes of the API keys the Lambda authorizer's
	// simple token mode accepts; off Lambda the server checks them itself.
	APIKeyHashes []string
	// DiscoverJWKS: the issuer is generic and no OAUTH_JWKS_URL was given,
	// so jwks_uri is read from the issuer's metadata at start.
	DiscoverJWKS bool
}

// AuthConfigFromEnv reads AUTH_METHOD and the OAuth settings. cfg is the
// transport configuration (it decides what "local" means). Every problem is
// reported with the variable to fix; nothing is guessed and no pool or
// client id is built in.
func AuthConfigFromEnv(getenv func(string) string, cfg Config) (AuthConfig, error) {
	get := func(k string) string { return strings.TrimSpace(getenv(k)) }
	list := func(k string) []string {
		return strings.FieldsFunc(get(k), func(r rune) bool { return r == ',' || r == ' ' })
	}
	ac := AuthConfig{Method: strings.ToLower(get("AUTH_METHOD"))}
	if ac.Method == "" {
		ac.Method = AuthNone
	}
	loopback := isLoopbackHost(cfg.Host) && !cfg.Lambda
	switch ac.Method {
	case AuthNone:
		if cfg.Lambda {
			return ac, fmt.Errorf("AUTH_METHOD=none serves without authentication, which is only allowed on a loopback address, and this is AWS Lambda behind a public API: set AUTH_METHOD=oauth or lambda")
		}
		if !loopback {
			return ac, fmt.Errorf("AUTH_METHOD=none serves without authentication, which is only allowed on a loopback address, but HOST is %q: set AUTH_METHOD=oauth (or lambda), or HOST=127.0.0.1", cfg.Host)
		}
		return ac, nil
	case AuthOAuth, AuthLambda:
	default:
		return ac, fmt.Errorf("AUTH_METHOD=%q: use none, oauth or lambda", ac.Method)
	}

	keys := list("API_KEY_SHA256")
	for _, k := range keys {
		if !isSHA256Hex(k) {
			return ac, fmt.Errorf("API_KEY_SHA256: %q is not a SHA-256 hash in lowercase hex (64 characters); compute one with: printf %%s \"$KEY\" | sha256sum", shortValue(k))
		}
	}
	if len(keys) > 0 && ac.Method != AuthLambda {
		return ac, fmt.Errorf("API_KEY_SHA256 is the Lambda authorizer's API-key mode: it needs AUTH_METHOD=lambda")
	}
	ac.APIKeyHashes = keys

	pool, region, issuer := get("COGNITO_USER_POOL_ID"), get("COGNITO_REGION"), get("OAUTH_ISSUER")
	v := oauth.Config{JWKSURL: get("OAUTH_JWKS_URL")}
	switch {
	case issuer != "" && (pool != "" || region != ""):
		return ac, fmt.Errorf("both OAUTH_ISSUER and COGNITO_* are set: use one issuer (COGNITO_USER_POOL_ID with COGNITO_REGION, or OAUTH_ISSUER)")
	case pool != "" || region != "":
		c := oauth.Cognito{Region: region, PoolID: pool, Domain: get("COGNITO_DOMAIN")}
		if err := c.Validate(); err != nil {
			return ac, err
		}
		ac.Cognito = &c
		v.Issuer = c.Issuer()
		v.TokenUse = "access" // Cognito ID tokens are not access tokens
		if v.JWKSURL == "" {
			v.JWKSURL = c.JWKSURL()
		}
	case issuer != "":
		u, err := url.Parse(issuer)
		if err != nil || u.Scheme == "" || u.Host == "" {
			return ac, fmt.Errorf("OAUTH_ISSUER=%q is not an absolute URL", issuer)
		}
		v.Issuer = issuer
		ac.DiscoverJWKS = v.JWKSURL == ""
	case len(keys) > 0:
		// API keys only: no tokens to verify, no discovery to publish.
		return ac, nil
	default:
		return ac, fmt.Errorf("AUTH_METHOD=%s needs an issuer: set COGNITO_USER_POOL_ID and COGNITO_REGION (Amazon Cognito), or OAUTH_ISSUER (any OAuth 2.1 authorization server)%s", ac.Method, map[bool]string{true: ", or API_KEY_SHA256 (API keys)"}[ac.Method == AuthLambda])
	}
	if v.JWKSURL != "" {
		if u, err := url.Parse(v.JWKSURL); err != nil || (u.Scheme != "https" && !(u.Scheme == "http" && isLoopbackHost(u.Hostname()))) {
			return ac, fmt.Errorf("OAUTH_JWKS_URL=%q: use an https URL (http only on loopback)", v.JWKSURL)
		}
	}
	v.ClientIDs = append(list("COGNITO_ALLOWED_CLIENT_IDS"), list("OAUTH_CLIENT_IDS")...)
	if algs := list("OAUTH_ALGORITHMS"); len(algs) > 0 {
		v.Algorithms = algs
	}

	ac.ResourceURL = get("MCP_RESOURCE_URL")
	if ac.ResourceURL == "" {
		if !loopback {
			return ac, fmt.Errorf("AUTH_METHOD=%s needs MCP_RESOURCE_URL, the https URL clients use to reach the MCP endpoint (for example https://api.example.com/prod/mcp)", ac.Method)
		}
		ac.ResourceURL = "http://localhost:" + strconv.Itoa(cfg.Port) + cfg.Path
	}
	if u, err := url.Parse(ac.ResourceURL); err != nil || u.Host == "" || u.RawQuery != "" || u.Fragment != "" ||
		(u.Scheme != "https" && !(u.Scheme == "http" && isLoopbackHost(u.Hostname()))) {
		return ac, fmt.Errorf("MCP_RESOURCE_URL=%q: use an absolute https URL without query or fragment (http only for loopback)", ac.ResourceURL)
	}
	v.Audience = ac.ResourceURL
	if s := get("OAUTH_ALLOW_MISSING_AUDIENCE"); s != "" {
		b, err := strconv.ParseBool(s)
		if err != nil {
			return ac, fmt.Errorf("OAUTH_ALLOW_MISSING_AUDIENCE=%q: want true or false", s)
		}
		v.AllowMissingAudience = b
	}
	if v.AllowMissingAudience && len(v.ClientIDs) == 0 {
		return ac, fmt.Errorf("OAUTH_ALLOW_MISSING_AUDIENCE=true accepts tokens not bound to this resource; it needs COGNITO_ALLOWED_CLIENT_IDS (or OAUTH_CLIENT_IDS) so that only your app clients' tokens are accepted")
	}
	ac.RequiredScopes = list("OAUTH_REQUIRED_SCOPES")
	v.RequiredScopes = ac.RequiredScopes
	ac.ScopesSupported = list("OAUTH_SCOPES_SUPPORTED")
	if len(ac.ScopesSupported) == 0 {
		ac.ScopesSupported = ac.RequiredScopes
	}
	ac.Verifier = v
	return ac, nil
}

// Discovery builds the discovery documents for this configuration.
func (ac AuthConfig) Discovery(cfg Config, resourceName string) (*Discovery, error) {
	d := &Discovery{Prefix: resourcePrefix(ac.ResourceURL, cfg.Path), Resource: oauth.ProtectedResourceMetadata{
		Resource:               ac.ResourceURL,
		ScopesSupported:        ac.ScopesSupported,
		BearerMethodsSupported: []string{"header"},
		ResourceName:           resourceName,
	}}
	switch {
	case ac.Cognito != nil && ac.Cognito.Domain != "":
		issuer, err := issuerFromResource(ac.ResourceURL, cfg.Path)
		if err != nil {
			return nil, err
		}
		md, err := ac.Cognito.FacadeMetadata(issuer, ac.ScopesSupported)
		if err != nil {
			return nil, err
		}
		d.AuthServer = &md
		d.Resource.AuthorizationServers = []string{issuer}
	default:
		d.Resource.AuthorizationServers = []string{ac.Verifier.Issuer}
	}
	return d, nil
}

// NewVerifier builds the token verifier, discovering the JWKS URL from the
// issuer's metadata when needed.
func (ac AuthConfig) NewVerifier(ctx context.Context, client *http.Client) (*oauth.Verifier, error) {
	v := ac.Verifier
	if ac.DiscoverJWKS {
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		md, err := oauth.FetchAuthorizationServerMetadata(ctx, client, v.Issuer)
		if err != nil {
			return nil, fmt.Errorf("discovering the signing keys of %s (set OAUTH_JWKS_URL to skip discovery): %w", v.Issuer, err)
		}
		if md.JWKSURI == "" {
			return nil, fmt.Errorf("the metadata of %s has no jwks_uri: set OAUTH_JWKS_URL", v.Issuer)
		}
		v.JWKSURL = md.JWKSURI
	}
	return oauth.NewVerifier(v)
}

func isSHA256Hex(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// shortValue shows enough of a misconfigured value to find it, never a
// whole secret someone pasted by mistake.
func shortValue(s string) string {
	if len(s) > 8 {
		return s[:8] + "..."
	}
	return s
}
