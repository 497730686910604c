package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"mcplambda/internal/authconfig"
	"mcplambda/oauth"
)

// Discovery serves the OAuth discovery documents: the RFC 9728 protected
// resource metadata and, when the resource stands in for an authorization
// server that publishes none usable (Cognito), RFC 8414 metadata. Nothing
// here needs a token: clients read it before they have one.
type Discovery struct {
	Resource   oauth.ProtectedResourceMetadata
	AuthServer *oauth.AuthorizationServerMetadata // nil: not served
	// Prefix is the path the public URL has before the server's own paths:
	// the API Gateway stage ("/prod") when the resource is
	// https://host/prod/mcp and the server serves /mcp. Empty when the
	// server sees the public paths unchanged.
	Prefix string
}

// Paths returns the request paths, as the server sees them, that each
// document is served at. They come from the resource URL and the facade
// issuer (never from a request's Host): the RFC 9728 / RFC 8414 locations,
// and, under a stage prefix, the same paths with the prefix removed, which
// is how the server sees https://host/prod/.well-known/... behind API
// Gateway (the RFC forms at the host's root are not routed to a stage).
func (d *Discovery) paths() (resource, authServer []string, err error) {
	urls, err := oauth.ProtectedResourceMetadataURLs(d.Resource.Resource)
	if err != nil {
		return nil, nil, err
	}
	if d.Prefix != "" {
		urls = append(urls, d.stagedMetadataURL())
	}
	if resource, err = d.serverPaths(urls); err != nil {
		return nil, nil, err
	}
	if d.AuthServer != nil {
		urls, err := oauth.WellKnownURLs(d.AuthServer.Issuer)
		if err != nil {
			return nil, nil, err
		}
		if authServer, err = d.serverPaths(urls); err != nil {
			return nil, nil, err
		}
	}
	return resource, authServer, nil
}

// serverPaths maps public URLs to the paths the server serves them at.
func (d *Discovery) serverPaths(urls []string) ([]string, error) {
	var out []string
	add := func(p string) {
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	for _, u := range urls {
		p, err := urlPath(u)
		if err != nil {
			return nil, err
		}
		add(p)
		if d.Prefix != "" && strings.HasPrefix(p, d.Prefix+"/") {
			add(strings.TrimPrefix(p, d.Prefix))
		}
	}
	return out, nil
}

// stagedMetadataURL is the metadata URL under the stage:
// https://host/prod/.well-known/oauth-protected-resource/mcp.
func (d *Discovery) stagedMetadataURL() string {
	u, _ := url.Parse(d.Resource.Resource)
	rest := strings.TrimPrefix(u.EscapedPath(), d.Prefix)
	return u.Scheme + "://" + u.Host + d.Prefix + "/.well-known/oauth-protected-resource" + rest
}

func urlPath(u string) (string, error) {
	parsed, err := url.Parse(u)
	if err != nil {
		return "", err
	}
	return parsed.EscapedPath(), nil
}

// Register adds the documents' routes to mux.
func (d *Discovery) Register(mux *http.ServeMux) error {
	resPaths, asPaths, err := d.paths()
	if err != nil {
		return err
	}
	res, err := jsonDocument(d.Resource)
	if err != nil {
		return err
	}
	for _, p := range resPaths {
		mux.Handle(p, res)
	}
	if d.AuthServer != nil {
		as, err := jsonDocument(d.AuthServer)
		if err != nil {
			return err
		}
		for _, p := range asPaths {
			mux.Handle(p, as)
		}
	}
	return nil
}

// ResourceMetadataURL is the URL announced in WWW-Authenticate challenges:
// the path-suffixed RFC 9728 form, which names this resource exactly, or,
// under a stage prefix, the staged form that API Gateway routes.
func (d *Discovery) ResourceMetadataURL() string {
	if d.Prefix != "" {
		return d.stagedMetadataURL()
	}
	urls, err := oauth.ProtectedResourceMetadataURLs(d.Resource.Resource)
	if err != nil || len(urls) == 0 {
		return ""
	}
	return urls[0]
}

// jsonDocument serves a fixed JSON document, cacheable and readable from
// browsers (CORS), to GET and HEAD.
func jsonDocument(v any) (http.Handler, error) {
	body, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("metadata document: %w", err)
	}
	body = append(body, '\n')
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", "*")
		switch r.Method {
		case http.MethodGet, http.MethodHead:
		case http.MethodOptions:
			h.Set("Access-Control-Allow-Methods", "GET, HEAD, OPTIONS")
			h.Set("Access-Control-Allow-Headers", "MCP-Protocol-Version, Content-Type")
			h.Set("Access-Control-Max-Age", "86400")
			w.WriteHeader(http.StatusNoContent)
			return
		default:
			h.Set("Allow", "GET, HEAD, OPTIONS")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		h.Set("Content-Type", "application/json")
		h.Set("Cache-Control", "public, max-age=3600")
		if r.Method == http.MethodHead {
			return
		}
		_, _ = w.Write(body)
	}), nil
}

// resourcePrefix is the part of the resource URL's path before the MCP
// path: "/prod" for https://host/prod/mcp served at /mcp.
func resourcePrefix(resource, mcpPath string) string {
	u, err := url.Parse(resource)
	if err != nil {
		return ""
	}
	p := strings.TrimSuffix(u.Path, "/")
	if p == mcpPath || !strings.HasSuffix(p, mcpPath) {
		return ""
	}
	return strings.TrimSuffix(p, mcpPath)
}

// issuerFromResource is the facade issuer: the resource URL without its MCP
// path (https://host/prod/mcp -> https://host/prod).
func issuerFromResource(resource, mcpPath string) (string, error) {
	u, err := url.Parse(resource)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return "", fmt.Errorf("MCP_RESOURCE_URL %q is not an absolute URL", resource)
	}
	p := strings.TrimSuffix(u.Path, "/")
	p = strings.TrimSuffix(p, mcpPath)
	return u.Scheme + "://" + u.Host + p, nil
}

// NewDiscovery builds the discovery documents for an authentication
// configuration with an issuer. For a Cognito pool with a domain the
// server publishes authorization-server metadata of its own (the facade
// issuer is the resource URL without the MCP path); for any other issuer
// the resource metadata names the issuer.
func NewDiscovery(auth authconfig.Server, cfg Config, resourceName string) (*Discovery, error) {
	if auth.Issuer == nil {
		return nil, errors.New("discovery needs an issuer: this configuration accepts API keys only")
	}
	d := &Discovery{Prefix: resourcePrefix(auth.ResourceURL, cfg.Path), Resource: oauth.ProtectedResourceMetadata{
		Resource:               auth.ResourceURL,
		ScopesSupported:        auth.ScopesSupported,
		BearerMethodsSupported: []string{"header"},
		ResourceName:           resourceName,
	}}
	if c := auth.Issuer.Cognito; c != nil && c.Domain != "" {
		issuer, err := issuerFromResource(auth.ResourceURL, cfg.Path)
		if err != nil {
			return nil, err
		}
		md, err := c.FacadeMetadata(issuer, auth.ScopesSupported)
		if err != nil {
			return nil, err
		}
		d.AuthServer = &md
		d.Resource.AuthorizationServers = []string{issuer}
	} else {
		d.Resource.AuthorizationServers = []string{auth.Issuer.Verifier.Issuer}
	}
	return d, nil
}

// AuthSite is where cfg serves, in the terms of authconfig.ServerFromEnv.
func AuthSite(cfg Config) authconfig.Site {
	return authconfig.Site{Host: cfg.Host, Port: cfg.Port, Path: cfg.Path, Lambda: cfg.Lambda}
}
