// Package oidc runs a real OAuth 2.1 authorization server, oidc-provider
// (pinned in test/package.json, run with the pinned Node 22), for the
// end-to-end tests of the OAuth client, and drives its login pages the way a
// person at a browser would.
//
// It is test support code: it is imported only by _test.go files.
package oidc

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"mcplambda/test/testproc"
)

// DefaultClientID is the public client registered in advance unless
// Options.ClientID says otherwise.
const DefaultClientID = "mcp-test-client"

// ConfidentialClientID is a confidential client (client_secret_basic)
// registered in advance, its secret being Provider.ConfidentialClientSecret.
const ConfidentialClientID = "mcp-test-confidential-client"

// DefaultScopes are the scopes every resource server offers unless
// Options.Scopes says otherwise.
var DefaultScopes = []string{"mcp:read", "mcp:write"}

// StartTimeout bounds how long Start waits for the provider to listen.
var StartTimeout = 30 * time.Second

// Options configure Start. Zero values select the defaults.
type Options struct {
	// ClientID of the pre-registered public client (token_endpoint_auth_method
	// none, native, so any loopback port is accepted in its redirect URIs
	// http://127.0.0.1/callback and http://localhost/callback).
	ClientID string
	// Scopes offered by every resource server (any RFC 8707 resource
	// indicator is accepted; its tokens are RS256 JWTs with aud = the
	// indicator).
	Scopes []string
	// AccessTokenTTL is the access tokens' lifetime (whole seconds).
	AccessTokenTTL time.Duration
	// ClientMetadataDocuments turns on Client ID Metadata Documents
	// (client_id_metadata_document_supported), loopback hosts allowed.
	ClientMetadataDocuments bool
	// TrustedCertFile, a PEM file, is added to the certificates Node
	// trusts (NODE_EXTRA_CA_CERTS): the test's TLS server that serves the
	// metadata documents.
	TrustedCertFile string
}

// Provider is a running oidc-provider.
type Provider struct {
	Issuer   string // http://127.0.0.1:PORT
	ClientID string
	Scopes   []string
	// ConfidentialClientSecret is the secret of ConfidentialClientID, made
	// up for each run.
	ConfidentialClientSecret string
	proc                     *testproc.Process
}

// Start runs test/oidc/provider.mjs on a free port and waits until it
// listens; the test's cleanup stops it. It skips the test when the pinned
// npm tools are missing, or fails it if MCP_REQUIRE_NODE_TOOLS=1.
func Start(t testing.TB, opts Options) *Provider {
	t.Helper()
	root := testproc.RepoRoot(t)
	node := testproc.NodeTools(t, root, "oidc-provider/package.json")
	script := filepath.Join(root, "test", "oidc", "provider.mjs")
	if _, err := os.Stat(script); err != nil {
		t.Fatalf("the provider script is missing: %v", err)
	}
	p := &Provider{ClientID: opts.ClientID, Scopes: opts.Scopes, ConfidentialClientSecret: rand.Text() + rand.Text()}
	if p.ClientID == "" {
		p.ClientID = DefaultClientID
	}
	if len(p.Scopes) == 0 {
		p.Scopes = DefaultScopes
	}
	ttl := int(opts.AccessTokenTTL / time.Second)
	if ttl <= 0 {
		ttl = 3600
	}
	port := testproc.FreePort(t)
	p.Issuer = "http://127.0.0.1:" + strconv.Itoa(port)
	env := []string{
		"PORT=" + strconv.Itoa(port),
		"ISSUER=" + p.Issuer,
		"CLIENT_ID=" + p.ClientID,
		"RESOURCE_SCOPES=" + strings.Join(p.Scopes, " "),
		"ACCESS_TOKEN_TTL=" + strconv.Itoa(ttl),
		"CONFIDENTIAL_CLIENT_ID=" + ConfidentialClientID,
		"CONFIDENTIAL_CLIENT_SECRET=" + p.ConfidentialClientSecret,
	}
	if opts.ClientMetadataDocuments {
		env = append(env, "CIMD=1")
	}
	if opts.TrustedCertFile != "" {
		env = append(env, "NODE_EXTRA_CA_CERTS="+opts.TrustedCertFile)
	}
	p.proc = testproc.Start(t, node.Bin, testproc.Options{
		Name: "oidc-provider",
		Args: []string{script},
		// Node resolves "oidc-provider" from the script's directory upwards:
		// test/node_modules.
		Dir: filepath.Join(root, "test"),
		Unset: []string{"PORT", "ISSUER", "CLIENT_ID", "RESOURCE_SCOPES", "ACCESS_TOKEN_TTL", "CIMD", "COOKIE_KEY",
			"CONFIDENTIAL_CLIENT_ID", "CONFIDENTIAL_CLIENT_SECRET",
			"NODE_OPTIONS", "NODE_ENV", "NODE_EXTRA_CA_CERTS"},
		Env: env,
	})
	p.proc.WaitListening(t, "127.0.0.1:"+strconv.Itoa(port), StartTimeout)
	return p
}

// Output is what the provider has written so far (for failure messages).
func (p *Provider) Output() string { return p.proc.Tail(40) }

// TokenEndpoint and the other endpoints are oidc-provider's defaults.
func (p *Provider) TokenEndpoint() string      { return p.Issuer + "/token" }
func (p *Provider) RevocationEndpoint() string { return p.Issuer + "/token/revocation" }
func (p *Provider) JWKSURL() string            { return p.Issuer + "/jwks" }

// Browser logs in through oidc-provider's development interaction pages as a
// person would: it follows the authorization URL with a cookie jar, fills the
// login form (any login and password are accepted; the login becomes the
// subject), confirms the consent page, and follows the redirects to the
// client's callback.
type Browser struct {
	// Login is the user name typed into the login form ("alice" if empty).
	Login string
	// Deny presses Cancel on the first page instead of logging in, so the
	// authorization server redirects to the callback with
	// error=access_denied.
	Deny bool
	// Visited receives every URL the browser opened (optional).
	Visited func(u string)

	jar http.CookieJar
}

// maxPage bounds a page read by the browser.
const maxPage = 1 << 20

// Open is the OpenBrowser function of the OAuth client under test. It
// returns once the callback page has been loaded (or an error if a page
// could not be).
func (b *Browser) Open(ctx context.Context, authURL string) error {
	if b.jar == nil {
		jar, err := cookiejar.New(nil)
		if err != nil {
			return err
		}
		b.jar = jar
	}
	client := &http.Client{Jar: b.jar, Timeout: 30 * time.Second}
	if b.Visited != nil {
		client.CheckRedirect = func(req *http.Request, via []*http.Request) error {
			if len(via) >= 10 {
				return errors.New("too many redirects")
			}
			b.Visited(req.URL.String())
			return nil
		}
		b.Visited(authURL)
	}
	start, err := url.Parse(authURL)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, authURL, nil)
	if err != nil {
		return err
	}
	for step := 0; step < 8; step++ {
		page, pageURL, status, err := load(client, req)
		if err != nil {
			return err
		}
		if !strings.Contains(pageURL.Path, "/interaction/") {
			if pageURL.Host == start.Host && status >= 400 {
				// The authorization server showed an error page instead of
				// redirecting (a bad client_id or redirect_uri): no callback
				// will come.
				return fmt.Errorf("the authorization server answered %d at %s: %s", status, pageURL.Path, pageText(page))
			}
			return nil // the callback's page
		}
		if b.Deny {
			cancel := cancelLink.FindStringSubmatch(page)
			if cancel == nil {
				return fmt.Errorf("no Cancel link on %s", pageURL.Path)
			}
			u, err := pageURL.Parse(html.UnescapeString(cancel[1]))
			if err != nil {
				return err
			}
			if req, err = http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil); err != nil {
				return err
			}
			continue
		}
		action, fields, err := parseForm(page)
		if err != nil {
			return fmt.Errorf("%s (HTTP %d): %w", pageURL.Path, status, err)
		}
		if _, ok := fields["login"]; ok {
			login := b.Login
			if login == "" {
				login = "alice"
			}
			fields.Set("login", login)
			fields.Set("password", "any password will do")
		}
		u, err := pageURL.Parse(action)
		if err != nil {
			return err
		}
		req, err = http.NewRequestWithContext(ctx, http.MethodPost, u.String(), strings.NewReader(fields.Encode()))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	return errors.New("the login did not reach the callback within 8 pages")
}

func load(client *http.Client, req *http.Request) (page string, final *url.URL, status int, err error) {
	resp, err := client.Do(req)
	if err != nil {
		return "", nil, 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxPage))
	if err != nil {
		return "", nil, 0, err
	}
	return string(body), resp.Request.URL, resp.StatusCode, nil
}

// pageText is the visible text of an error page, shortened.
func pageText(page string) string {
	text := strings.Join(strings.Fields(html.UnescapeString(tags.ReplaceAllString(styles.ReplaceAllString(page, ""), " "))), " ")
	if len(text) > 300 {
		text = text[:300] + "..."
	}
	return text
}

var (
	tags       = regexp.MustCompile(`<[^>]*>`)
	styles     = regexp.MustCompile(`(?s)<style.*?</style>`)
	formTag    = regexp.MustCompile(`(?s)<form\b[^>]*\baction="([^"]*)"[^>]*>(.*?)</form>`)
	inputTag   = regexp.MustCompile(`<input\b[^>]*>`)
	attr       = regexp.MustCompile(`\b(name|value)="([^"]*)"`)
	cancelLink = regexp.MustCompile(`<a href="([^"]*)">\[ Cancel \]</a>`)
)

// parseForm reads the first form of a development interaction page: its
// action and its inputs with their values.
func parseForm(page string) (string, url.Values, error) {
	m := formTag.FindStringSubmatch(page)
	if m == nil {
		return "", nil, errors.New("no form on the page")
	}
	fields := url.Values{}
	for _, input := range inputTag.FindAllString(m[2], -1) {
		var name, value string
		for _, a := range attr.FindAllStringSubmatch(input, -1) {
			if a[1] == "name" {
				name = html.UnescapeString(a[2])
			} else {
				value = html.UnescapeString(a[2])
			}
		}
		if name != "" {
			fields.Set(name, value)
		}
	}
	return html.UnescapeString(m[1]), fields, nil
}
