package oauthclient

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"mcplambda/oauth"
)

// Bounds on everything discovery reads from the network.
const (
	maxDocumentBytes = 1 << 20
	fetchTimeout     = 10 * time.Second
)

// Discovery is what a client learns about an MCP server before it can ask
// for a token: the server's protected-resource metadata (RFC 9728) and the
// metadata of the authorization server it names (RFC 8414).
type Discovery struct {
	// Resource is the canonical URL of the MCP server: the RFC 8707
	// resource parameter of every authorization and token request.
	Resource            string
	ResourceMetadataURL string
	ResourceMetadata    oauth.ProtectedResourceMetadata
	Issuer              string
	AuthServer          oauth.AuthorizationServerMetadata
	// IssParameterSupported is the authorization server's
	// authorization_response_iss_parameter_supported (RFC 9207): when
	// set, an authorization response without iss is refused.
	IssParameterSupported bool
}

// Discover follows the MCP authorization specification's discovery order:
// the resource_metadata URL of the server's 401 challenge when there is
// one, else the path-suffixed and then the root well-known URL of the MCP
// URL. The document must name mcpURL, or a parent of it on the same
// origin, as its resource; that resource is the one tokens are asked for.
// The first
// authorization server it lists is then looked up at its RFC 8414 and
// OpenID Connect well-known URLs, and its document must name that exact
// issuer and support PKCE with S256 (see CognitoIssuer for the one
// exception).
func Discover(ctx context.Context, hc *http.Client, mcpURL, resourceMetadataURL string) (*Discovery, error) {
	if hc == nil {
		hc = &http.Client{Timeout: fetchTimeout}
	}
	resource, err := CanonicalResource(mcpURL)
	if err != nil {
		return nil, err
	}
	d := &Discovery{Resource: resource}
	candidates := []string{resourceMetadataURL}
	if resourceMetadataURL == "" {
		if candidates, err = oauth.ProtectedResourceMetadataURLs(resource); err != nil {
			return nil, err
		}
	}
	var errs []error
	found := false
	for _, u := range candidates {
		if err := checkEndpoint("resource metadata URL", u); err != nil {
			return nil, err
		}
		var md oauth.ProtectedResourceMetadata
		status, err := getJSON(ctx, hc, u, &md)
		if err != nil {
			if status != http.StatusNotFound {
				errs = append(errs, fmt.Errorf("%s: %w", u, err))
			}
			continue
		}
		// RFC 9728 section 3.3: a document that speaks for another resource
		// must not be used, or a server could send a client's tokens for
		// its own audience.
		got, err := CanonicalResource(md.Resource)
		if err != nil || !resourceCovers(got, resource) {
			return nil, fmt.Errorf("the protected resource metadata at %s is for resource %q, not %q: refusing it", u, md.Resource, resource)
		}
		// The resource parameter is the identifier as the server
		// published it: a server that names its origin gets tokens for
		// its origin, and an authorization server may only know that one.
		d.Resource = got
		d.ResourceMetadataURL, d.ResourceMetadata, found = u, md, true
		break
	}
	if !found {
		if len(errs) > 0 {
			return nil, fmt.Errorf("discovering the authorization server of %s: %w", resource, errors.Join(errs...))
		}
		return nil, fmt.Errorf("%s publishes no protected resource metadata (tried %s): it does not support OAuth login", resource, strings.Join(candidates, ", "))
	}
	if len(d.ResourceMetadata.AuthorizationServers) == 0 {
		return nil, fmt.Errorf("the protected resource metadata at %s names no authorization server", d.ResourceMetadataURL)
	}
	d.Issuer = d.ResourceMetadata.AuthorizationServers[0]
	if err := checkEndpoint("issuer", d.Issuer); err != nil {
		return nil, err
	}
	fctx, cancel := context.WithTimeout(ctx, 3*fetchTimeout) // up to three well-known URLs
	defer cancel()
	as, err := oauth.FetchAuthorizationServerMetadata(fctx, hc, d.Issuer)
	if err != nil {
		return nil, fmt.Errorf("authorization server metadata of %s: %w", d.Issuer, err)
	}
	d.IssParameterSupported = as.AuthorizationResponseIssParameterSupported
	if err := CheckAuthServer(as); err != nil {
		return nil, err
	}
	fillCognitoGaps(as)
	d.AuthServer = *as
	return d, nil
}

// CheckAuthServer checks that an authorization server can be used for an
// MCP login: authorization and token endpoints over HTTPS (or HTTP on
// loopback), and PKCE with S256 advertised.
func CheckAuthServer(as *oauth.AuthorizationServerMetadata) error {
	if as.AuthorizationEndpoint == "" || as.TokenEndpoint == "" {
		return fmt.Errorf("the authorization server %s advertises no authorization or token endpoint", as.Issuer)
	}
	for _, e := range []struct{ name, url string }{
		{"authorization endpoint", as.AuthorizationEndpoint},
		{"token endpoint", as.TokenEndpoint},
		{"registration endpoint", as.RegistrationEndpoint},
		{"revocation endpoint", as.RevocationEndpoint},
	} {
		if e.url == "" {
			continue
		}
		if err := checkEndpoint(e.name, e.url); err != nil {
			return err
		}
	}
	if slices.Contains(as.CodeChallengeMethodsSupported, "S256") {
		return nil
	}
	if CognitoIssuer(as.Issuer) {
		return nil
	}
	// The MCP authorization specification: without the field the client
	// cannot know that PKCE is enforced, so it must refuse to proceed.
	return fmt.Errorf("the authorization server %s does not advertise PKCE with S256 (code_challenge_methods_supported): refusing to log in with it", as.Issuer)
}

// cognitoIssuerPattern matches the issuer of an Amazon Cognito user pool.
var cognitoIssuerPattern = regexp.MustCompile(`^https://cognito-idp\.[a-z]{2}(-[a-z]+)+-[0-9]+\.amazonaws\.com(\.cn)?/[a-z]{2}(-[a-z]+)+-[0-9]+_[0-9A-Za-z]+$`)

// CognitoIssuer reports whether issuer is an Amazon Cognito user pool's.
//
// Such an authorization server is the one deliberate exception to the
// S256 requirement: Cognito enforces PKCE with S256 when a code_challenge is
// sent, but its OpenID discovery document omits
// code_challenge_methods_supported, so a client that applies the rule
// literally can never log in with it. The exception is narrow: the issuer
// must be Cognito's own host over HTTPS, and this client sends S256
// challenges to every server anyway. (The MCP server of this repository
// avoids the question when COGNITO_DOMAIN is set by publishing metadata
// that includes the field.)
//
// Cognito's other gaps, handled deliberately: it has no RFC 8414 document,
// so discovery falls through to the OpenID Connect location; its discovery
// names no revocation endpoint although it has one (filled in, see
// fillCognitoGaps); it offers no dynamic registration, so a client must be
// configured (OAUTH_CLIENT_ID), which the error says; its refresh grant
// does not rotate refresh tokens by default and its token responses omit
// scope, so the old refresh token and the requested scopes are kept.
func CognitoIssuer(issuer string) bool { return cognitoIssuerPattern.MatchString(issuer) }

// fillCognitoGaps supplies what a Cognito user pool's discovery document
// leaves out although the pool offers it: the RFC 7009 revocation endpoint,
// which Cognito serves next to its token endpoint on the pool's domain
// (/oauth2/revoke; it revokes a refresh token and the access tokens issued
// from it). Without it, logout could only forget tokens that stay valid.
// Only a Cognito issuer whose token endpoint is Cognito's /oauth2/token
// over HTTPS gets one, so no other server's endpoints are guessed.
func fillCognitoGaps(as *oauth.AuthorizationServerMetadata) {
	if as.RevocationEndpoint != "" || !CognitoIssuer(as.Issuer) {
		return
	}
	u, err := url.Parse(as.TokenEndpoint)
	if err != nil || u.Scheme != "https" || u.Path != "/oauth2/token" || u.RawQuery != "" {
		return
	}
	u.Path = "/oauth2/revoke"
	as.RevocationEndpoint = u.String()
}

// CanonicalResource is the canonical form of an MCP server URL (the MCP
// authorization specification, RFC 8707): absolute, scheme and host in lower
// case, no fragment, no default port.
func CanonicalResource(raw string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return "", fmt.Errorf("the MCP server URL %q is not a URL: %w", raw, err)
	}
	u.Scheme = strings.ToLower(u.Scheme)
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "", fmt.Errorf("the MCP server URL %q is not an absolute http(s) URL", raw)
	}
	if u.User != nil {
		return "", fmt.Errorf("the MCP server URL must not carry credentials")
	}
	host, port := u.Hostname(), u.Port()
	host = strings.ToLower(host)
	if (u.Scheme == "https" && port == "443") || (u.Scheme == "http" && port == "80") {
		port = ""
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	u.Host = host
	if port != "" {
		u.Host += ":" + port
	}
	u.Fragment, u.RawFragment = "", ""
	return u.String(), nil
}

// resourceCovers reports whether the protected resource prm (canonical)
// includes the MCP endpoint mcp (canonical): the same origin and a path
// that is mcp's or a parent of it at a segment boundary, so https://h/api
// covers https://h/api/mcp but not https://h/apimcp. A server's root
// metadata speaks for its origin (RFC 9728 section 3.3 derives the root
// well-known URL from the origin), and tokens never leave the origin
// anyway, so accepting a parent widens nothing a token can reach.
func resourceCovers(prm, mcp string) bool {
	if prm == mcp {
		return true
	}
	p, err1 := url.Parse(prm)
	m, err2 := url.Parse(mcp)
	if err1 != nil || err2 != nil || p.Scheme != m.Scheme || p.Host != m.Host || p.RawQuery != "" {
		return false
	}
	parent := strings.TrimSuffix(p.EscapedPath(), "/")
	path := m.EscapedPath()
	return parent == "" || path == parent || strings.HasPrefix(path, parent+"/")
}

// checkEndpoint refuses an endpoint a token or code would travel to in the
// clear: HTTPS is required except on loopback, where there is no network to
// listen on.
func checkEndpoint(what, raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return fmt.Errorf("the %s %q is not an absolute URL", what, raw)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if isLoopbackHost(u.Hostname()) {
			return nil
		}
		return fmt.Errorf("the %s %s is not HTTPS: refusing it", what, raw)
	}
	return fmt.Errorf("the %s %q is not an http(s) URL", what, raw)
}

func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// getJSON fetches a JSON document with the size and time bounds of
// discovery; it returns the HTTP status.
func getJSON(ctx context.Context, hc *http.Client, u string, v any) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, fetchTimeout)
	defer cancel()
	return oauth.FetchJSON(ctx, hc, u, maxDocumentBytes, v)
}

// decodeBounded decodes one JSON document of at most maxDocumentBytes.
func decodeBounded(r io.Reader, v any) error { return oauth.ReadJSON(r, maxDocumentBytes, v) }
