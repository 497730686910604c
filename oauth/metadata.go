package oauth

import (
	"fmt"
	"net/url"
	"strings"
)

// ProtectedResourceMetadata is the RFC 9728 document a resource server
// publishes at /.well-known/oauth-protected-resource.
type ProtectedResourceMetadata struct {
	Resource               string   `json:"resource"`
	AuthorizationServers   []string `json:"authorization_servers,omitempty"`
	ScopesSupported        []string `json:"scopes_supported,omitempty"`
	BearerMethodsSupported []string `json:"bearer_methods_supported,omitempty"`
	ResourceName           string   `json:"resource_name,omitempty"`
	ResourceDocumentation  string   `json:"resource_documentation,omitempty"`
}

// AuthorizationServerMetadata is the RFC 8414 document (a subset of OpenID
// Connect Discovery's fields is included so that the same document serves
// both well-known locations).
type AuthorizationServerMetadata struct {
	Issuer                                 string   `json:"issuer"`
	AuthorizationEndpoint                  string   `json:"authorization_endpoint,omitempty"`
	TokenEndpoint                          string   `json:"token_endpoint,omitempty"`
	JWKSURI                                string   `json:"jwks_uri,omitempty"`
	RegistrationEndpoint                   string   `json:"registration_endpoint,omitempty"`
	RevocationEndpoint                     string   `json:"revocation_endpoint,omitempty"`
	UserinfoEndpoint                       string   `json:"userinfo_endpoint,omitempty"`
	ScopesSupported                        []string `json:"scopes_supported,omitempty"`
	ResponseTypesSupported                 []string `json:"response_types_supported"`
	GrantTypesSupported                    []string `json:"grant_types_supported,omitempty"`
	CodeChallengeMethodsSupported          []string `json:"code_challenge_methods_supported,omitempty"`
	TokenEndpointAuthMethodsSupported      []string `json:"token_endpoint_auth_methods_supported,omitempty"`
	RevocationEndpointAuthMethodsSupported []string `json:"revocation_endpoint_auth_methods_supported,omitempty"`
	SubjectTypesSupported                  []string `json:"subject_types_supported,omitempty"`
	IDTokenSigningAlgValuesSupported       []string `json:"id_token_signing_alg_values_supported,omitempty"`
	ClientIDMetadataDocumentSupported      bool     `json:"client_id_metadata_document_supported,omitempty"`
	// AuthorizationResponseIssParameterSupported (RFC 9207): the server
	// puts iss in every authorization response, and a client must refuse
	// one without it.
	AuthorizationResponseIssParameterSupported bool `json:"authorization_response_iss_parameter_supported,omitempty"`
}

// Cognito describes an Amazon Cognito user pool as an authorization server.
type Cognito struct {
	Region string
	PoolID string
	// Domain is the hosted UI / OAuth 2.0 domain: a bare prefix ("my-app")
	// or a full host name ("my-app.auth.us-east-1.amazoncognito.com", or a
	// custom domain).
	Domain string
}

// Validate checks the pool id's form (REGION_ID) and that it matches the
// region.
func (c Cognito) Validate() error {
	if c.Region == "" || c.PoolID == "" {
		return fmt.Errorf("a Cognito user pool needs COGNITO_REGION and COGNITO_USER_POOL_ID")
	}
	region, id, ok := strings.Cut(c.PoolID, "_")
	if !ok || id == "" || strings.ContainsAny(c.PoolID, "/?#: ") {
		return fmt.Errorf("COGNITO_USER_POOL_ID %q is not of the form REGION_ID (for example us-east-1_AbCdEf123)", c.PoolID)
	}
	if region != c.Region {
		return fmt.Errorf("COGNITO_USER_POOL_ID %q belongs to region %s, but COGNITO_REGION is %s", c.PoolID, region, c.Region)
	}
	return nil
}

// Issuer is the "iss" of the pool's tokens.
func (c Cognito) Issuer() string {
	return "https://cognito-idp." + c.Region + ".amazonaws.com/" + c.PoolID
}

// JWKSURL is where the pool publishes its signing keys.
func (c Cognito) JWKSURL() string { return c.Issuer() + "/.well-known/jwks.json" }

// domainHost returns the host name of the pool's OAuth 2.0 endpoints: a
// bare prefix becomes PREFIX.auth.REGION.amazoncognito.com.
func (c Cognito) domainHost() (string, error) {
	d := strings.TrimSpace(c.Domain)
	if d == "" {
		return "", fmt.Errorf("COGNITO_DOMAIN is not set")
	}
	if u, err := url.Parse(d); err == nil && u.Host != "" {
		d = u.Host
	}
	d = strings.TrimSuffix(d, "/")
	if !strings.Contains(d, ".") {
		d = d + ".auth." + c.Region + ".amazoncognito.com"
	}
	if strings.ContainsAny(d, "/?#@ ") {
		return "", fmt.Errorf("COGNITO_DOMAIN %q is neither a domain prefix nor a host name", c.Domain)
	}
	return d, nil
}

// FacadeMetadata is the authorization-server metadata the resource server
// publishes on Cognito's behalf, under its own issuer URL. Cognito serves no
// RFC 8414 document and its OpenID discovery omits
// code_challenge_methods_supported, so MCP clients that follow the
// specification refuse to use it. The facade names Cognito's real
// endpoints (authorization, token, revocation, keys), with the issuer being
// the URL the document is served from, as RFC 8414 section 3.3 requires.
// Access tokens still carry Cognito's issuer; the resource server checks
// that one.
func (c Cognito) FacadeMetadata(issuer string, scopes []string) (AuthorizationServerMetadata, error) {
	host, err := c.domainHost()
	if err != nil {
		return AuthorizationServerMetadata{}, err
	}
	base := "https://" + host
	return AuthorizationServerMetadata{
		Issuer:                                 issuer,
		AuthorizationEndpoint:                  base + "/oauth2/authorize",
		TokenEndpoint:                          base + "/oauth2/token",
		RevocationEndpoint:                     base + "/oauth2/revoke",
		UserinfoEndpoint:                       base + "/oauth2/userInfo",
		JWKSURI:                                c.JWKSURL(),
		ScopesSupported:                        scopes,
		ResponseTypesSupported:                 []string{"code"},
		GrantTypesSupported:                    []string{"authorization_code", "refresh_token"},
		CodeChallengeMethodsSupported:          []string{"S256"},
		TokenEndpointAuthMethodsSupported:      []string{"none", "client_secret_basic", "client_secret_post"},
		RevocationEndpointAuthMethodsSupported: []string{"none", "client_secret_basic", "client_secret_post"},
		SubjectTypesSupported:                  []string{"public"},
		IDTokenSigningAlgValuesSupported:       []string{"RS256"},
	}, nil
}

// WellKnownURLs lists where a client looks for an authorization server's
// metadata, in the order of the MCP authorization specification: for an
// issuer with a path, the RFC 8414 path-insert form, the OpenID Connect
// path-insert form, then the OpenID Connect path-append form; for an issuer
// without a path, the RFC 8414 and OpenID Connect root forms.
func WellKnownURLs(issuer string) ([]string, error) {
	u, err := url.Parse(issuer)
	if err != nil || u.Scheme == "" || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("issuer %q is not an absolute URL without query or fragment", issuer)
	}
	origin := u.Scheme + "://" + u.Host
	path := strings.TrimSuffix(u.EscapedPath(), "/")
	if path == "" {
		return []string{
			origin + "/.well-known/oauth-authorization-server",
			origin + "/.well-known/openid-configuration",
		}, nil
	}
	return []string{
		origin + "/.well-known/oauth-authorization-server" + path,
		origin + "/.well-known/openid-configuration" + path,
		origin + path + "/.well-known/openid-configuration",
	}, nil
}

// ProtectedResourceMetadataURLs lists where a client looks for a resource's
// RFC 9728 metadata: the path-suffixed form first, then the root.
func ProtectedResourceMetadataURLs(resource string) ([]string, error) {
	u, err := url.Parse(resource)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("resource %q is not an absolute URL", resource)
	}
	origin := u.Scheme + "://" + u.Host
	root := origin + "/.well-known/oauth-protected-resource"
	if path := strings.TrimSuffix(u.EscapedPath(), "/"); path != "" {
		return []string{root + path, root}, nil
	}
	return []string{root}, nil
}
