package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"mcplambda/oauth"
)

// Discovery serves the OAuth discovery documents: the RFC 9728 protected
// resource metadata and, when the resource stands in for an authorization
// server that publishes none usable (Cognito), RFC 8414 metadata. Nothing
// here needs a token: clients read it before they have one.
type Discovery struct {
	Resource   oauth.ProtectedResourceMetadata
	AuthServer *oauth.AuthorizationServerMetadata // nil: not served
}

// Paths returns the request paths each document is served at, derived from
// the resource URL and the facade issuer (never from a request's Host).
func (d *Discovery) Paths() (resource, authServer []string, err error) {
	urls, err := oauth.ProtectedResourceMetadataURLs(d.Resource.Resource)
	if err != nil {
		return nil, nil, err
	}
	for _, u := range urls {
		p, err := urlPath(u)
		if err != nil {
			return nil, nil, err
		}
		resource = append(resource, p)
	}
	if d.AuthServer != nil {
		urls, err := oauth.WellKnownURLs(d.AuthServer.Issuer)
		if err != nil {
			return nil, nil, err
		}
		for _, u := range urls {
			p, err := urlPath(u)
			if err != nil {
				return nil, nil, err
			}
			authServer = append(authServer, p)
		}
	}
	return resource, authServer, nil
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
	resPaths, asPaths, err := d.Paths()
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
// the path-suffixed form, which names this resource exactly.
func (d *Discovery) ResourceMetadataURL() string {
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
