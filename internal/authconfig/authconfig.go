// Package authconfig reads the authorization settings that the MCP server
// and the Lambda authorizer share: which issuer's JWTs to accept (Cognito
// or any OAuth 2.1 issuer), for which resource, from which clients and with
// which scopes, and which API keys. Both binaries parse the same variables
// with the same code, so they can never disagree about what a valid token
// is; each gets a configuration type holding exactly what it needs
// ([Server], [Authorizer]).
//
// Every problem is reported with the variable to fix. Nothing is guessed,
// and no pool or client id is built in.
package authconfig

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"mcplambda/internal/apikey"
	"mcplambda/oauth"
)

// Method is the server's authentication mode (AUTH_METHOD).
type Method string

const (
	// None serves without authentication: loopback only.
	None Method = "none"
	// OAuth makes the server the OAuth resource server: it verifies every
	// token itself.
	OAuth Method = "oauth"
	// Lambda trusts API Gateway's Lambda authorizer in front of the server
	// (and verifies tokens or API keys itself when nothing is in front).
	Lambda Method = "lambda"
)

// Issuer is how JWT access tokens are verified.
type Issuer struct {
	// Verifier is the verification configuration, RequiredScopes included.
	Verifier oauth.Config
	// Cognito is set when the issuer is a Cognito user pool.
	Cognito *oauth.Cognito
	// DiscoverJWKS: the issuer is generic and no OAUTH_JWKS_URL was given,
	// so jwks_uri is read from the issuer's metadata at start.
	DiscoverJWKS bool
}

// NewVerifier builds the token verifier, discovering the JWKS URL from the
// issuer's metadata when needed (bounded by 10 s). client nil means
// http.DefaultClient.
func (i *Issuer) NewVerifier(ctx context.Context, client *http.Client) (*oauth.Verifier, error) {
	v := i.Verifier
	if i.DiscoverJWKS {
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		md, err := oauth.FetchAuthorizationServerMetadata(ctx, client, v.Issuer)
		if err != nil {
			return nil, fmt.Errorf("discovering the signing keys of %s (set OAUTH_JWKS_URL to skip discovery): %w", v.Issuer, err)
		}
		if md.JWKSURI == "" {
			return nil, fmt.Errorf("the metadata of %s has no jwks_uri: set OAUTH_JWKS_URL", v.Issuer)
		}
		if u, err := url.Parse(md.JWKSURI); err != nil || !secureURL(u) {
			return nil, fmt.Errorf("the metadata of %s names jwks_uri %q, which is not https: fix the issuer's metadata or set OAUTH_JWKS_URL to its https key set", v.Issuer, md.JWKSURI)
		}
		v.JWKSURL = md.JWKSURI
	}
	return oauth.NewVerifier(v)
}

// Server is what mcp-server needs.
type Server struct {
	Method Method
	// Issuer is nil with AUTH_METHOD=none, and with lambda when only API
	// keys are configured.
	Issuer *Issuer
	// APIKeys (API_KEY_SHA256, AUTH_METHOD=lambda only) are the keys the
	// Lambda authorizer's simple token mode accepts; off Lambda the server
	// checks them itself. Nil when none are configured.
	APIKeys *apikey.Keys
	// ResourceURL is the canonical URL of the MCP endpoint (RFC 8707/9728).
	ResourceURL string
	// RequiredScopes every token needs; ScopesSupported is advertised.
	RequiredScopes  []string
	ScopesSupported []string
}

// Site is where the server listens: it decides what "local" means.
type Site struct {
	Host   string // HOST
	Port   int    // PORT
	Path   string // MCP_PATH
	Lambda bool   // running inside AWS Lambda
}

func (s Site) loopback() bool { return IsLoopbackHost(s.Host) && !s.Lambda }

// ServerFromEnv reads AUTH_METHOD and the settings of that method.
func ServerFromEnv(getenv func(string) string, site Site) (Server, error) {
	e := env(getenv)
	s := Server{Method: Method(strings.ToLower(e.get("AUTH_METHOD")))}
	if s.Method == "" {
		s.Method = None
	}
	loopback := site.loopback()
	switch s.Method {
	case None:
		if site.Lambda {
			return s, errors.New("AUTH_METHOD=none serves without authentication, which is only allowed on a loopback address, and this is AWS Lambda behind a public API: set AUTH_METHOD=oauth or lambda")
		}
		if !loopback {
			return s, fmt.Errorf("AUTH_METHOD=none serves without authentication, which is only allowed on a loopback address, but HOST is %q: set AUTH_METHOD=oauth (or lambda), or HOST=127.0.0.1", site.Host)
		}
		return s, nil
	case OAuth, Lambda:
	default:
		return s, fmt.Errorf("AUTH_METHOD=%q: use none, oauth or lambda", string(s.Method))
	}

	keys, err := e.apiKeys()
	if err != nil {
		return s, err
	}
	if keys != nil && s.Method != Lambda {
		return s, errors.New("API_KEY_SHA256 is the Lambda authorizer's API-key mode: it needs AUTH_METHOD=lambda")
	}
	s.APIKeys = keys
	needIssuer := fmt.Sprintf("AUTH_METHOD=%s needs an issuer", s.Method)
	if s.Method == Lambda {
		needIssuer += ": set COGNITO_USER_POOL_ID and COGNITO_REGION (Amazon Cognito), OAUTH_ISSUER (any OAuth 2.1 authorization server), or API_KEY_SHA256 (API keys)"
	} else {
		needIssuer += ": set COGNITO_USER_POOL_ID and COGNITO_REGION (Amazon Cognito), or OAUTH_ISSUER (any OAuth 2.1 authorization server)"
	}
	iss, err := e.issuer(needIssuer, keys != nil)
	if err != nil || iss == nil {
		return s, err
	}
	missing := fmt.Sprintf("AUTH_METHOD=%s needs MCP_RESOURCE_URL, the https URL clients use to reach the MCP endpoint (for example https://api.example.com/prod/mcp)", s.Method)
	local := ""
	if loopback {
		local = "http://localhost:" + strconv.Itoa(site.Port) + site.Path
	}
	if s.ResourceURL, err = e.resource(local, missing); err != nil {
		return s, err
	}
	if err := e.audience(iss, s.ResourceURL); err != nil {
		return s, err
	}
	s.Issuer = iss
	s.RequiredScopes = iss.Verifier.RequiredScopes
	s.ScopesSupported = e.list("OAUTH_SCOPES_SUPPORTED")
	if len(s.ScopesSupported) == 0 {
		s.ScopesSupported = s.RequiredScopes
	}
	return s, nil
}

// Authorizer is what mcp-authorizer needs. At least one of Issuer and
// APIKeys is set.
type Authorizer struct {
	// Issuer verifies JWTs; nil in API-key-only mode.
	Issuer *Issuer
	// APIKeys are the accepted API keys; nil when none.
	APIKeys *apikey.Keys
}

// jwtVariables are the variables that configure JWT verification. Setting
// any of them asks the authorizer for JWT mode, so a half-done
// configuration is reported instead of being ignored in favour of API keys.
// MCP_RESOURCE_URL is not one: it names the endpoint, and an API-key
// deployment may well set it.
var jwtVariables = [...]string{
	"COGNITO_REGION", "COGNITO_USER_POOL_ID", "COGNITO_ALLOWED_CLIENT_IDS", "COGNITO_DOMAIN",
	"OAUTH_ISSUER", "OAUTH_JWKS_URL", "OAUTH_CLIENT_IDS", "OAUTH_REQUIRED_SCOPES",
	"OAUTH_ALGORITHMS", "OAUTH_ALLOW_MISSING_AUDIENCE",
}

// AuthorizerFromEnv reads the authorizer's settings: the same JWT variables
// as a deployed server's (so MCP_RESOURCE_URL, the audience, is required
// and must be https) and/or API_KEY_SHA256. AUTH_METHOD plays no part: JWT
// mode is what the variables say. With neither, or with anything
// malformed, it fails: the authorizer never starts in a mode that lets
// everything through.
func AuthorizerFromEnv(getenv func(string) string) (Authorizer, error) {
	e := env(getenv)
	var a Authorizer
	keys, err := e.apiKeys()
	if err != nil {
		return a, err
	}
	a.APIKeys = keys
	jwtMode := false
	for _, k := range jwtVariables {
		jwtMode = jwtMode || e.get(k) != ""
	}
	if jwtMode {
		iss, err := e.issuer("the authorizer needs an issuer for the JWT settings it was given: set COGNITO_USER_POOL_ID and COGNITO_REGION (Amazon Cognito) or OAUTH_ISSUER (any OAuth 2.1 authorization server), or remove the OAUTH_*/COGNITO_* variables to accept API keys only", false)
		if err != nil {
			return a, err
		}
		resource, err := e.resource("", "JWT verification needs MCP_RESOURCE_URL, the https URL clients use to reach the MCP endpoint (the tokens' audience, for example https://api.example.com/prod/mcp)")
		if err != nil {
			return a, err
		}
		if err := e.audience(iss, resource); err != nil {
			return a, err
		}
		a.Issuer = iss
	}
	if a.Issuer == nil && a.APIKeys == nil {
		return a, errors.New("no authorization configured: set COGNITO_REGION, COGNITO_USER_POOL_ID and MCP_RESOURCE_URL (Cognito JWTs), OAUTH_ISSUER and MCP_RESOURCE_URL (another issuer's JWTs), and/or API_KEY_SHA256 (SHA-256 hashes of API keys)")
	}
	return a, nil
}

type env func(string) string

func (e env) get(k string) string { return strings.TrimSpace(e(k)) }

func (e env) list(k string) []string {
	return strings.FieldsFunc(e.get(k), func(r rune) bool { return r == ',' || r == ' ' })
}

// apiKeys parses API_KEY_SHA256; nil when it is unset.
func (e env) apiKeys() (*apikey.Keys, error) {
	s := e.get("API_KEY_SHA256")
	if s == "" {
		return nil, nil
	}
	return apikey.Parse(s)
}

// issuer reads the issuer settings. With no issuer named it returns
// needIssuer as the error, unless keysOnly allows a configuration of API
// keys alone (then nil, nil).
func (e env) issuer(needIssuer string, keysOnly bool) (*Issuer, error) {
	pool, region, issuer := e.get("COGNITO_USER_POOL_ID"), e.get("COGNITO_REGION"), e.get("OAUTH_ISSUER")
	iss := &Issuer{Verifier: oauth.Config{JWKSURL: e.get("OAUTH_JWKS_URL")}}
	v := &iss.Verifier
	switch {
	case issuer != "" && (pool != "" || region != ""):
		return nil, errors.New("both OAUTH_ISSUER and COGNITO_* are set: use one issuer (COGNITO_USER_POOL_ID with COGNITO_REGION, or OAUTH_ISSUER)")
	case pool != "" || region != "":
		c := oauth.Cognito{Region: region, PoolID: pool, Domain: e.get("COGNITO_DOMAIN")}
		if err := c.Validate(); err != nil {
			return nil, err
		}
		iss.Cognito = &c
		v.Issuer = c.Issuer()
		v.TokenUse = "access" // Cognito ID tokens are not access tokens
		if v.JWKSURL == "" {
			v.JWKSURL = c.JWKSURL()
		}
	case issuer != "":
		u, err := url.Parse(issuer)
		if err != nil || u.Scheme == "" || u.Host == "" {
			return nil, fmt.Errorf("OAUTH_ISSUER=%q is not an absolute URL", issuer)
		}
		// The issuer is where the signing keys are discovered: over plain
		// HTTP anyone on the path could hand us their own keys.
		if !secureURL(u) {
			return nil, fmt.Errorf("OAUTH_ISSUER=%q: use an https URL (http only on loopback, for local tests)", issuer)
		}
		v.Issuer = issuer
		iss.DiscoverJWKS = v.JWKSURL == ""
	case keysOnly:
		// API keys only: no tokens to verify, no discovery to publish.
		return nil, nil
	default:
		return nil, errors.New(needIssuer)
	}
	if v.JWKSURL != "" {
		if u, err := url.Parse(v.JWKSURL); err != nil || !secureURL(u) {
			return nil, fmt.Errorf("OAUTH_JWKS_URL=%q: use an https URL (http only on loopback)", v.JWKSURL)
		}
	}
	v.ClientIDs = append(e.list("COGNITO_ALLOWED_CLIENT_IDS"), e.list("OAUTH_CLIENT_IDS")...)
	if algs := e.list("OAUTH_ALGORITHMS"); len(algs) > 0 {
		v.Algorithms = algs
	}
	v.RequiredScopes = e.list("OAUTH_REQUIRED_SCOPES")
	return iss, nil
}

// resource reads MCP_RESOURCE_URL. local is the default on a loopback
// server ("" elsewhere: the variable is then required, and missing is the
// error).
func (e env) resource(local, missing string) (string, error) {
	r := e.get("MCP_RESOURCE_URL")
	if r == "" {
		if local == "" {
			return "", errors.New(missing)
		}
		r = local
	}
	if u, err := url.Parse(r); err != nil || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || !secureURL(u) {
		return "", fmt.Errorf("MCP_RESOURCE_URL=%q: use an absolute https URL without query or fragment (http only for loopback)", r)
	}
	return r, nil
}

// audience binds the verifier to the resource, and reads whether tokens
// without an audience are accepted.
func (e env) audience(iss *Issuer, resource string) error {
	v := &iss.Verifier
	v.Audience = resource
	if s := e.get("OAUTH_ALLOW_MISSING_AUDIENCE"); s != "" {
		b, err := strconv.ParseBool(s)
		if err != nil {
			return fmt.Errorf("OAUTH_ALLOW_MISSING_AUDIENCE=%q: want true or false", s)
		}
		v.AllowMissingAudience = b
	}
	if v.AllowMissingAudience && len(v.ClientIDs) == 0 {
		return errors.New("OAUTH_ALLOW_MISSING_AUDIENCE=true accepts tokens not bound to this resource; it needs COGNITO_ALLOWED_CLIENT_IDS (or OAUTH_CLIENT_IDS) so that only your app clients' tokens are accepted")
	}
	return nil
}

// secureURL: https, or http to this machine only (local tests), where no
// network lies between the two ends.
func secureURL(u *url.URL) bool {
	return u.Host != "" && (u.Scheme == "https" || (u.Scheme == "http" && IsLoopbackHost(u.Hostname())))
}

// IsLoopbackHost reports whether h (a name or an IP, without port,
// brackets allowed) is this machine only: "localhost" or a loopback address.
func IsLoopbackHost(h string) bool {
	h = strings.Trim(h, "[]")
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}
