package oauthclient

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"mcplambda/oauth"
)

// metadataServer serves JSON documents at fixed paths and records what was
// asked for; every other path is 404.
type metadataServer struct {
	*httptest.Server
	mu   sync.Mutex
	docs map[string]any
	hits []string
}

func newMetadataServer(t *testing.T) *metadataServer {
	m := &metadataServer{docs: map[string]any{}}
	m.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m.mu.Lock()
		m.hits = append(m.hits, r.URL.Path)
		doc, ok := m.docs[r.URL.Path]
		m.mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(doc)
	}))
	t.Cleanup(m.Close)
	return m
}

func (m *metadataServer) set(path string, doc any) {
	m.mu.Lock()
	m.docs[path] = doc
	m.mu.Unlock()
}

func (m *metadataServer) visited() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.hits...)
}

func asMetadata(issuer string) oauth.AuthorizationServerMetadata {
	return oauth.AuthorizationServerMetadata{
		Issuer:                        issuer,
		AuthorizationEndpoint:         issuer + "/authorize",
		TokenEndpoint:                 issuer + "/token",
		ResponseTypesSupported:        []string{"code"},
		CodeChallengeMethodsSupported: []string{"S256"},
	}
}

func TestDiscover(t *testing.T) {
	tests := []struct {
		name string
		// setup publishes documents; base is the server's URL. It returns
		// the resource_metadata of the challenge ("" for none).
		setup   func(m *metadataServer, base string) string
		wantErr string
		wantPRM string // path the resource metadata came from
		wantIss string // issuer relative to base
		// wantRes is the resource tokens are asked for, relative to
		// base; "" means "/mcp".
		wantRes   string
		wantVisit []string
	}{
		{
			name: "path-suffixed resource metadata first, RFC 8414 root",
			setup: func(m *metadataServer, base string) string {
				m.set("/.well-known/oauth-protected-resource/mcp", oauth.ProtectedResourceMetadata{Resource: base + "/mcp", AuthorizationServers: []string{base}})
				m.set("/.well-known/oauth-protected-resource", oauth.ProtectedResourceMetadata{Resource: base + "/other", AuthorizationServers: []string{"https://wrong.example"}})
				m.set("/.well-known/oauth-authorization-server", asMetadata(base))
				return ""
			},
			wantPRM:   "/.well-known/oauth-protected-resource/mcp",
			wantVisit: []string{"/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-authorization-server"},
		},
		{
			name: "root resource metadata when the path-suffixed one is missing",
			setup: func(m *metadataServer, base string) string {
				m.set("/.well-known/oauth-protected-resource", oauth.ProtectedResourceMetadata{Resource: base + "/mcp", AuthorizationServers: []string{base}})
				m.set("/.well-known/oauth-authorization-server", asMetadata(base))
				return ""
			},
			wantPRM: "/.well-known/oauth-protected-resource",
			wantVisit: []string{"/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-protected-resource",
				"/.well-known/oauth-authorization-server"},
		},
		{
			name: "the challenge's resource_metadata wins over the well-known URLs",
			setup: func(m *metadataServer, base string) string {
				m.set("/.well-known/oauth-protected-resource/mcp", oauth.ProtectedResourceMetadata{Resource: base + "/mcp", AuthorizationServers: []string{"https://wrong.example"}})
				m.set("/meta/prm.json", oauth.ProtectedResourceMetadata{Resource: base + "/mcp", AuthorizationServers: []string{base}})
				m.set("/.well-known/oauth-authorization-server", asMetadata(base))
				return base + "/meta/prm.json"
			},
			wantPRM:   "/meta/prm.json",
			wantVisit: []string{"/meta/prm.json", "/.well-known/oauth-authorization-server"},
		},
		{
			name: "issuer with a path: OpenID Connect path-append form",
			setup: func(m *metadataServer, base string) string {
				m.set("/.well-known/oauth-protected-resource/mcp", oauth.ProtectedResourceMetadata{Resource: base + "/mcp", AuthorizationServers: []string{base + "/tenant"}})
				m.set("/tenant/.well-known/openid-configuration", asMetadata(base+"/tenant"))
				return ""
			},
			wantIss: "/tenant",
			wantPRM: "/.well-known/oauth-protected-resource/mcp",
			wantVisit: []string{"/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-authorization-server/tenant",
				"/.well-known/openid-configuration/tenant", "/tenant/.well-known/openid-configuration"},
		},
		{
			name: "issuer with a path: RFC 8414 path-insert form first",
			setup: func(m *metadataServer, base string) string {
				m.set("/.well-known/oauth-protected-resource/mcp", oauth.ProtectedResourceMetadata{Resource: base + "/mcp", AuthorizationServers: []string{base + "/tenant"}})
				m.set("/.well-known/oauth-authorization-server/tenant", asMetadata(base+"/tenant"))
				m.set("/tenant/.well-known/openid-configuration", asMetadata("https://never.example"))
				return ""
			},
			wantIss:   "/tenant",
			wantPRM:   "/.well-known/oauth-protected-resource/mcp",
			wantVisit: []string{"/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-authorization-server/tenant"},
		},
		{
			name: "root resource metadata naming the origin: the origin is the resource",
			setup: func(m *metadataServer, base string) string {
				m.set("/.well-known/oauth-protected-resource", oauth.ProtectedResourceMetadata{Resource: base, AuthorizationServers: []string{base}})
				m.set("/.well-known/oauth-authorization-server", asMetadata(base))
				return ""
			},
			wantPRM: "/.well-known/oauth-protected-resource",
			wantRes: "-",
			wantVisit: []string{"/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-protected-resource",
				"/.well-known/oauth-authorization-server"},
		},
		{
			name: "resource metadata naming a parent path of the MCP URL",
			setup: func(m *metadataServer, base string) string {
				m.set("/meta", oauth.ProtectedResourceMetadata{Resource: base + "/", AuthorizationServers: []string{base}})
				m.set("/.well-known/oauth-authorization-server", asMetadata(base))
				return base + "/meta"
			},
			wantPRM:   "/meta",
			wantRes:   "/",
			wantVisit: []string{"/meta", "/.well-known/oauth-authorization-server"},
		},
		{
			name: "resource metadata for a sibling path sharing a prefix is refused",
			setup: func(m *metadataServer, base string) string {
				m.set("/.well-known/oauth-protected-resource/mcp", oauth.ProtectedResourceMetadata{Resource: base + "/mc", AuthorizationServers: []string{base}})
				return ""
			},
			wantErr: "is for resource",
		},
		{
			name: "resource metadata for a path below the MCP URL is refused",
			setup: func(m *metadataServer, base string) string {
				m.set("/.well-known/oauth-protected-resource/mcp", oauth.ProtectedResourceMetadata{Resource: base + "/mcp/admin", AuthorizationServers: []string{base}})
				return ""
			},
			wantErr: "is for resource",
		},
		{
			name: "resource metadata for another port of the same host is refused",
			setup: func(m *metadataServer, base string) string {
				m.set("/.well-known/oauth-protected-resource", oauth.ProtectedResourceMetadata{Resource: "http://127.0.0.1:1", AuthorizationServers: []string{base}})
				return ""
			},
			wantErr: "is for resource",
		},
		{
			name: "resource metadata for another resource is refused",
			setup: func(m *metadataServer, base string) string {
				m.set("/.well-known/oauth-protected-resource/mcp", oauth.ProtectedResourceMetadata{Resource: "https://evil.example/mcp", AuthorizationServers: []string{base}})
				return ""
			},
			wantErr: "is for resource",
		},
		{
			name: "issuer mismatch is refused",
			setup: func(m *metadataServer, base string) string {
				m.set("/.well-known/oauth-protected-resource/mcp", oauth.ProtectedResourceMetadata{Resource: base + "/mcp", AuthorizationServers: []string{base}})
				m.set("/.well-known/oauth-authorization-server", asMetadata("https://other.example"))
				return ""
			},
			wantErr: "refusing it",
		},
		{
			name: "missing S256 is refused",
			setup: func(m *metadataServer, base string) string {
				m.set("/.well-known/oauth-protected-resource/mcp", oauth.ProtectedResourceMetadata{Resource: base + "/mcp", AuthorizationServers: []string{base}})
				md := asMetadata(base)
				md.CodeChallengeMethodsSupported = []string{"plain"}
				m.set("/.well-known/oauth-authorization-server", md)
				return ""
			},
			wantErr: "does not advertise PKCE with S256",
		},
		{
			name: "no authorization server named",
			setup: func(m *metadataServer, base string) string {
				m.set("/.well-known/oauth-protected-resource/mcp", oauth.ProtectedResourceMetadata{Resource: base + "/mcp"})
				return ""
			},
			wantErr: "names no authorization server",
		},
		{
			name:    "no resource metadata at all",
			setup:   func(m *metadataServer, base string) string { return "" },
			wantErr: "publishes no protected resource metadata",
		},
		{
			name: "a token endpoint in the clear on a public host is refused",
			setup: func(m *metadataServer, base string) string {
				m.set("/.well-known/oauth-protected-resource/mcp", oauth.ProtectedResourceMetadata{Resource: base + "/mcp", AuthorizationServers: []string{base}})
				md := asMetadata(base)
				md.TokenEndpoint = "http://as.example.com/token"
				m.set("/.well-known/oauth-authorization-server", md)
				return ""
			},
			wantErr: "is not HTTPS",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMetadataServer(t)
			rm := tt.setup(m, m.URL)
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			d, err := Discover(ctx, nil, m.URL+"/mcp", rm)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Discover error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d.ResourceMetadataURL != m.URL+tt.wantPRM {
				t.Errorf("resource metadata from %s, want %s", d.ResourceMetadataURL, m.URL+tt.wantPRM)
			}
			if d.Issuer != m.URL+tt.wantIss || d.AuthServer.Issuer != d.Issuer {
				t.Errorf("issuer %q (metadata %q), want %q", d.Issuer, d.AuthServer.Issuer, m.URL+tt.wantIss)
			}
			wantRes := m.URL + "/mcp"
			switch tt.wantRes {
			case "":
			case "-":
				wantRes = m.URL // exactly as published: no slash appended
			default:
				wantRes = m.URL + tt.wantRes
			}
			if d.Resource != wantRes {
				t.Errorf("resource %q, want %q", d.Resource, wantRes)
			}
			if got := m.visited(); strings.Join(got, " ") != strings.Join(tt.wantVisit, " ") {
				t.Errorf("visited %v, want %v", got, tt.wantVisit)
			}
		})
	}
}

func TestDiscoverBoundsDocuments(t *testing.T) {
	big := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"resource":"` + strings.Repeat("a", maxDocumentBytes) + `"}`))
	}))
	defer big.Close()
	_, err := Discover(t.Context(), nil, big.URL+"/mcp", "")
	if err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("an oversized document: %v", err)
	}
}

func TestCheckAuthServerCognitoException(t *testing.T) {
	const pool = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbC123xyz"
	cognito := oauth.AuthorizationServerMetadata{
		Issuer:                pool,
		AuthorizationEndpoint: "https://my-app.auth.us-east-1.amazoncognito.com/oauth2/authorize",
		TokenEndpoint:         "https://my-app.auth.us-east-1.amazoncognito.com/oauth2/token",
	}
	if err := CheckAuthServer(&cognito); err != nil {
		t.Errorf("Cognito without code_challenge_methods_supported: %v, want accepted", err)
	}
	for _, issuer := range []string{
		"http://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbC123xyz",          // not HTTPS
		"https://cognito-idp.us-east-1.amazonaws.com.evil.example/us-east-1_AbC1", // look-alike host
		"https://evil.example/cognito-idp.us-east-1.amazonaws.com/us-east-1_AbC1",
		"https://cognito-idp.us-east-1.amazonaws.com/",
	} {
		md := cognito
		md.Issuer = issuer
		if err := CheckAuthServer(&md); err == nil || !strings.Contains(err.Error(), "S256") {
			t.Errorf("issuer %s without S256: %v, want refused", issuer, err)
		}
	}
	for _, ok := range []string{pool, "https://cognito-idp.eu-central-1.amazonaws.com/eu-central-1_x9", "https://cognito-idp.cn-north-1.amazonaws.com.cn/cn-north-1_x9"} {
		if !CognitoIssuer(ok) {
			t.Errorf("CognitoIssuer(%s) = false", ok)
		}
	}
}

// Cognito's discovery names no revocation endpoint; the pool's domain has
// one, which logout needs. Nothing is guessed for other servers.
func TestFillCognitoGaps(t *testing.T) {
	const pool = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbC123xyz"
	const domain = "https://my-app.auth.us-east-1.amazoncognito.com"
	tests := []struct {
		name, issuer, token, revocation, want string
	}{
		{name: "cognito", issuer: pool, token: domain + "/oauth2/token", want: domain + "/oauth2/revoke"},
		{name: "custom domain", issuer: pool, token: "https://auth.example.com/oauth2/token", want: "https://auth.example.com/oauth2/revoke"},
		{name: "advertised one kept", issuer: pool, token: domain + "/oauth2/token", revocation: "https://r.example/revoke", want: "https://r.example/revoke"},
		{name: "not cognito", issuer: "https://as.example", token: "https://as.example/oauth2/token"},
		{name: "unexpected token path", issuer: pool, token: domain + "/token"},
		{name: "token endpoint not https", issuer: pool, token: "http://127.0.0.1/oauth2/token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			md := oauth.AuthorizationServerMetadata{Issuer: tt.issuer, TokenEndpoint: tt.token, RevocationEndpoint: tt.revocation}
			fillCognitoGaps(&md)
			if md.RevocationEndpoint != tt.want {
				t.Errorf("revocation endpoint %q, want %q", md.RevocationEndpoint, tt.want)
			}
		})
	}
}

func TestCanonicalResource(t *testing.T) {
	tests := []struct{ in, want, err string }{
		{in: "https://API.Example.com/mcp", want: "https://api.example.com/mcp"},
		{in: "HTTPS://api.example.com:443/prod/mcp#frag", want: "https://api.example.com/prod/mcp"},
		{in: "http://127.0.0.1:3000/mcp", want: "http://127.0.0.1:3000/mcp"},
		{in: "http://localhost:80/mcp", want: "http://localhost/mcp"},
		{in: "http://[::1]:3000/mcp", want: "http://[::1]:3000/mcp"},
		{in: "https://api.example.com/mcp?tenant=a", want: "https://api.example.com/mcp?tenant=a"},
		{in: "/mcp", err: "absolute"},
		{in: "ftp://h/mcp", err: "absolute"},
		{in: "https://user:pw@h/mcp", err: "credentials"},
	}
	for _, tt := range tests {
		got, err := CanonicalResource(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("CanonicalResource(%q) = %q, %v; want error %q", tt.in, got, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("CanonicalResource(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}
