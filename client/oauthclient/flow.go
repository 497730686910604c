// Package oauthclient is the OAuth 2.1 client of the MCP client: discovery
// from the server's 401 challenge (RFC 9728, RFC 8414), login with the
// authorization code grant, PKCE S256 and the RFC 8707 resource parameter
// through the system browser and a loopback callback, client registration
// (pre-registered, Client ID Metadata Document or RFC 7591 dynamic
// registration), a token store, refresh with rotation, step-up
// authorization and logout with RFC 7009 revocation.
//
// *Flow implements the client package's Authorizer (Authorize, Challenge)
// without importing it.
//
// Tokens, codes, verifiers and secrets are never logged or printed.
package oauthclient

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"mcplambda/oauth"
)

// DefaultRedirectURI is where the authorization server sends the browser
// back when OAUTH_REDIRECT_URI is not set.
const DefaultRedirectURI = "http://localhost:8000/callback"

// refreshMargin: an access token this close to expiry is refreshed before
// use rather than sent and refused.
const refreshMargin = 60 * time.Second

// maxStepUps bounds step-up logins for one scope set in a Flow's lifetime,
// so a server that keeps asking for scopes it never accepts cannot keep
// opening browser windows.
const maxStepUps = 2

// ErrLoginRequired is wrapped by every error that a new (interactive) login
// would resolve.
var ErrLoginRequired = errors.New("login required")

// Config configures a Flow. Zero values select the defaults.
type Config struct {
	// ServerURL is the MCP endpoint (required).
	ServerURL string
	// ClientID of a client registered in advance (OAUTH_CLIENT_ID), and its
	// secret for a confidential client (OAUTH_CLIENT_SECRET).
	ClientID     string
	ClientSecret string
	// ClientMetadataURL is the HTTPS URL of this client's Client ID
	// Metadata Document (OAUTH_CLIENT_METADATA_URL), used as client_id when
	// the authorization server supports such documents and no ClientID is
	// set.
	ClientMetadataURL string
	// ClientName is sent in dynamic client registration.
	ClientName string
	// RedirectURI (OAUTH_REDIRECT_URI) must be http on localhost or a
	// loopback address; port 0 picks a free port at each login.
	RedirectURI string
	// Scopes, when set, are requested instead of the ones discovery
	// suggests (the challenge's scope, else the resource's scopes_supported).
	Scopes []string
	// Interactive allows Challenge to start a browser login by itself. A
	// non-interactive Flow returns an error wrapping ErrLoginRequired
	// instead; Login always runs.
	Interactive bool
	// OpenBrowser opens the authorization URL; default xdg-open (open on
	// macOS). When it fails, the printed URL is the way in.
	OpenBrowser func(ctx context.Context, url string) error
	// Out receives the messages for the user (the URL to open); default
	// os.Stderr.
	Out io.Writer
	// HTTPClient talks to the metadata, token, revocation and registration
	// endpoints; default a client with a 10 s timeout.
	HTTPClient *http.Client
	// StoreDir holds tokens and registrations (OAUTH_TOKEN_DIR); default
	// DefaultStoreDir().
	StoreDir string
	// LoginTimeout bounds the wait for the browser; default 5 minutes.
	LoginTimeout time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// ConfigFromEnv reads OAUTH_CLIENT_ID, OAUTH_CLIENT_SECRET,
// OAUTH_REDIRECT_URI, OAUTH_CLIENT_METADATA_URL and OAUTH_TOKEN_DIR.
// ServerURL and the rest are left to the caller.
func ConfigFromEnv(getenv func(string) string) Config {
	get := func(k string) string { return strings.TrimSpace(getenv(k)) }
	return Config{
		ClientID:          get("OAUTH_CLIENT_ID"),
		ClientSecret:      get("OAUTH_CLIENT_SECRET"),
		RedirectURI:       get("OAUTH_REDIRECT_URI"),
		ClientMetadataURL: get("OAUTH_CLIENT_METADATA_URL"),
		StoreDir:          get("OAUTH_TOKEN_DIR"),
	}
}

// Flow logs in to one MCP server and keeps its tokens fresh. It is safe for
// concurrent use; logins and refreshes are serialised.
type Flow struct {
	cfg    Config
	server string // canonical ServerURL
	origin string // scheme://host of the server: tokens go nowhere else
	hc     *http.Client
	store  Store

	// opMu serialises what changes the tokens (refresh, login, logout), so
	// that requests refused at once lead to one login, not one each.
	opMu sync.Mutex

	mu          sync.Mutex // guards the fields below
	interactive bool
	tokens      *Tokens // nil: not logged in
	loaded      bool    // the store has been read
	disc        *Discovery
	metadataURL string   // resource_metadata of the last challenge
	challenged  []string // scope of the last challenge
	stepUps     map[string]int
	refreshedAt string // hash of the access token a Challenge refresh produced
}

// New checks cfg and returns a Flow. It does not touch the network or the
// store.
func New(cfg Config) (*Flow, error) {
	server, err := CanonicalResource(cfg.ServerURL)
	if err != nil {
		return nil, err
	}
	u, _ := url.Parse(server)
	origin := originOf(u)
	if cfg.RedirectURI == "" {
		cfg.RedirectURI = DefaultRedirectURI
	}
	if ru, err := url.Parse(cfg.RedirectURI); err != nil || ru.Scheme != "http" || !isLoopbackHost(ru.Hostname()) {
		return nil, fmt.Errorf("OAUTH_REDIRECT_URI %q must be an http:// URL on localhost or a loopback address", cfg.RedirectURI)
	}
	if cfg.ClientSecret != "" && cfg.ClientID == "" {
		return nil, errors.New("OAUTH_CLIENT_SECRET is set without OAUTH_CLIENT_ID")
	}
	if cfg.ClientMetadataURL != "" {
		mu, err := url.Parse(cfg.ClientMetadataURL)
		if err != nil || mu.Scheme != "https" || mu.Host == "" || mu.Path == "" || mu.Path == "/" {
			return nil, fmt.Errorf("OAUTH_CLIENT_METADATA_URL %q must be an https URL with a path", cfg.ClientMetadataURL)
		}
	}
	if cfg.ClientName == "" {
		cfg.ClientName = "mcp-lambda-go client"
	}
	if cfg.OpenBrowser == nil {
		cfg.OpenBrowser = SystemBrowser
	}
	if cfg.Out == nil {
		cfg.Out = os.Stderr
	}
	if cfg.LoginTimeout <= 0 {
		cfg.LoginTimeout = 5 * time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.StoreDir == "" {
		if cfg.StoreDir, err = DefaultStoreDir(); err != nil {
			return nil, err
		}
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: fetchTimeout}
	}
	return &Flow{
		cfg:         cfg,
		server:      server,
		origin:      origin,
		hc:          hc,
		store:       Store{Dir: cfg.StoreDir},
		interactive: cfg.Interactive,
		stepUps:     map[string]int{},
	}, nil
}

// SetInteractive switches whether Challenge may start a browser login.
func (f *Flow) SetInteractive(on bool) {
	f.mu.Lock()
	f.interactive = on
	f.mu.Unlock()
}

func (f *Flow) isInteractive() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.interactive
}

// SystemBrowser opens url with the desktop's opener (xdg-open; open on
// macOS; the URL handler on Windows). The URL is an argument, never shell
// text. The opener is not tied to ctx: some xdg-open setups run until the
// browser exits, and ending the login must not close the user's browser.
func SystemBrowser(_ context.Context, u string) error {
	var cmd *exec.Cmd
	switch runtime.GOOS {
	case "darwin":
		cmd = exec.Command("open", u)
	case "windows":
		cmd = exec.Command("rundll32", "url.dll,FileProtocolHandler", u)
	default:
		cmd = exec.Command("xdg-open", u)
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	go func() { _ = cmd.Wait() }() // reap it; some openers linger
	return nil
}

// current returns the tokens in use, reading the store the first time.
func (f *Flow) current() (*Tokens, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.loaded {
		t, err := f.store.LoadTokens(f.server)
		if err != nil {
			return nil, err
		}
		f.tokens, f.loaded = t, true
	}
	return f.tokens, nil
}

func (f *Flow) setTokens(t *Tokens) {
	f.mu.Lock()
	f.tokens, f.loaded = t, true
	f.mu.Unlock()
}

// Authorize sets the request's Authorization header from the stored
// token, refreshing it first when it expires within a minute. With no
// token it sends none (the server's 401 then leads to Challenge). A
// refresh token the server rejects is an error wrapping ErrLoginRequired,
// unless the Flow is interactive, in which case the request goes without a
// token so that the 401 starts a login.
func (f *Flow) Authorize(ctx context.Context, req *http.Request) error {
	if req.URL == nil || originOf(req.URL) != f.origin {
		return nil // a token is for its resource server only
	}
	tok, err := f.current()
	if err != nil || tok == nil {
		return err
	}
	now := f.cfg.Now()
	if tok.expiresWithin(now, refreshMargin) {
		if tok.RefreshToken == "" {
			if !tok.expiresWithin(now, 0) {
				return setBearer(req, tok) // still usable for a few seconds
			}
			if f.isInteractive() {
				return nil
			}
			return fmt.Errorf("%w: the access token has expired and there is no refresh token: log in again", ErrLoginRequired)
		}
		fresh, err := f.refreshIfStale(ctx, tok)
		switch {
		case err == nil:
			tok = fresh
		case errors.Is(err, ErrLoginRequired) && f.isInteractive():
			return nil
		case errors.Is(err, ErrLoginRequired) || tok.expiresWithin(now, 0):
			return err
		}
		// A transient refresh failure with a token still valid: use it.
	}
	return setBearer(req, tok)
}

// originOf is the canonical scheme://host[:port] of u ("" if u is not an
// absolute http(s) URL).
func originOf(u *url.URL) string {
	c, err := CanonicalResource(u.Scheme + "://" + u.Host + "/")
	if err != nil {
		return ""
	}
	return strings.TrimSuffix(c, "/")
}

func setBearer(req *http.Request, tok *Tokens) error {
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	return nil
}

// refreshIfStale refreshes unless another goroutine already did while
// this one waited.
func (f *Flow) refreshIfStale(ctx context.Context, seen *Tokens) (*Tokens, error) {
	f.opMu.Lock()
	defer f.opMu.Unlock()
	if cur, _ := f.current(); cur != nil && cur.AccessToken != seen.AccessToken {
		return cur, nil
	}
	return f.refreshLocked(ctx)
}

// Refresh exchanges the refresh token for a new access token now (the
// REPL's "auth refresh").
func (f *Flow) Refresh(ctx context.Context) error {
	f.opMu.Lock()
	defer f.opMu.Unlock()
	_, err := f.refreshLocked(ctx)
	return err
}

// refreshLocked runs the refresh grant (opMu held). The new refresh token,
// when the server rotates it, replaces the old one in the store; a grant
// the server rejects deletes the stored tokens, since nothing can revive
// them.
func (f *Flow) refreshLocked(ctx context.Context) (*Tokens, error) {
	tok, err := f.current()
	if err != nil {
		return nil, err
	}
	if tok == nil {
		return nil, fmt.Errorf("%w: not logged in to %s", ErrLoginRequired, f.server)
	}
	if tok.RefreshToken == "" {
		return nil, fmt.Errorf("%w: the authorization server issued no refresh token: log in again", ErrLoginRequired)
	}
	creds, err := f.credentialsFor(tok)
	if err != nil {
		return nil, err
	}
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}}
	if tok.Resource != "" {
		form.Set("resource", tok.Resource)
	}
	tr, err := requestToken(ctx, f.hc, tok.TokenEndpoint, creds, form)
	if err != nil {
		if IsInvalidGrant(err) {
			f.setTokens(nil)
			_ = f.store.DeleteTokens(tok.ServerURL, tok.Issuer)
			return nil, fmt.Errorf("%w: the refresh token was rejected (%v): log in again", ErrLoginRequired, err)
		}
		return nil, fmt.Errorf("refreshing the access token: %w", err)
	}
	next := *tok
	f.applyTokenResponse(&next, tr, tok.Scopes)
	if tr.RefreshToken == "" {
		next.RefreshToken = tok.RefreshToken // not rotated: keep using it
	}
	if err := f.store.SaveTokens(&next); err != nil {
		return nil, fmt.Errorf("saving the refreshed tokens: %w", err)
	}
	f.setTokens(&next)
	return &next, nil
}

// applyTokenResponse fills t from a token response; requested are the
// scopes asked for, which RFC 6749 section 5.1 says were granted when the
// response names none.
func (f *Flow) applyTokenResponse(t *Tokens, tr *tokenResponse, requested []string) {
	now := f.cfg.Now()
	t.AccessToken, t.RefreshToken, t.TokenType = tr.AccessToken, tr.RefreshToken, "Bearer"
	t.Scopes = requested
	if tr.Scope != "" {
		t.Scopes = strings.Fields(tr.Scope)
	}
	t.ExpiresAt = time.Time{}
	if tr.ExpiresIn > 0 {
		t.ExpiresAt = now.Add(time.Duration(tr.ExpiresIn) * time.Second)
	} else if c := unverifiedClaims(tr.AccessToken); c.Exp > 0 {
		t.ExpiresAt = time.Unix(c.Exp, 0)
	}
	t.SavedAt = now
}

// credentialsFor returns how to authenticate as the client the tokens were
// issued to.
func (f *Flow) credentialsFor(tok *Tokens) (clientCredentials, error) {
	c := clientCredentials{ID: tok.ClientID, Method: tok.AuthMethod}
	if c.Method == "" || c.Method == authNone {
		c.Method = authNone
		return c, nil
	}
	switch tok.ClientKind {
	case kindConfig:
		if f.cfg.ClientID != tok.ClientID || f.cfg.ClientSecret == "" {
			return c, fmt.Errorf("%w: the tokens belong to client %s, whose secret is not configured (OAUTH_CLIENT_SECRET)", ErrLoginRequired, tok.ClientID)
		}
		c.Secret = f.cfg.ClientSecret
	case kindDCR:
		reg, err := f.store.LoadRegistration(tok.Issuer)
		if err != nil {
			return c, err
		}
		if reg == nil || reg.ClientID != tok.ClientID {
			return c, fmt.Errorf("%w: the registration of client %s is gone", ErrLoginRequired, tok.ClientID)
		}
		c.Secret = reg.ClientSecret
	}
	return c, nil
}

// Challenge reacts to a 401 or a 403 from the MCP server (resp's body is
// no longer needed). It returns nil when the request should be retried
// with new credentials:
//   - the tokens changed since the request was sent (another request
//     already handled the same refusal);
//   - 401: the access token was refreshed (once per token), or, if the Flow
//     is interactive, a login completed. The resource's metadata is looked
//     up again first: when it names another authorization server than the
//     one that issued the tokens, they are dropped and never refreshed
//     there, and the login goes to the new server with a client of its
//     own (registered there; a client registered with the old one is
//     never presented to it). A configured client (Config.ClientID) is
//     bound to the server it was set up with, so that case is an error
//     wrapping ErrLoginRequired that names the new server;
//   - 403 insufficient_scope: an interactive step-up login for the union of
//     the current and the challenged scopes completed (at most twice per
//     scope set).
//
// Otherwise it returns an error; one wrapping ErrLoginRequired when a
// login is what is missing.
func (f *Flow) Challenge(ctx context.Context, resp *http.Response) error {
	ch, _ := oauth.BearerChallenge(resp.Header)
	f.mu.Lock()
	if u := ch.Param("resource_metadata"); u != "" && u != f.metadataURL {
		f.metadataURL, f.disc = u, nil
	}
	if s := ch.Scopes(); len(s) > 0 {
		f.challenged = s
	}
	f.mu.Unlock()

	var sent string
	if resp.Request != nil {
		if a := resp.Request.Header.Get("Authorization"); len(a) > 7 && strings.EqualFold(a[:7], "Bearer ") {
			sent = a[7:]
		}
	}
	f.opMu.Lock()
	defer f.opMu.Unlock()
	cur, err := f.current()
	if err != nil {
		return err
	}
	if cur != nil && cur.AccessToken != sent && !cur.expiresWithin(f.cfg.Now(), 0) {
		return nil // someone else already obtained new tokens: retry with them
	}
	switch resp.StatusCode {
	case http.StatusUnauthorized:
		return f.onUnauthorized(ctx, cur, ch)
	case http.StatusForbidden:
		if !strings.EqualFold(ch.Param("error"), "insufficient_scope") {
			return fmt.Errorf("the server refused access (HTTP 403%s)", describe(ch))
		}
		return f.stepUp(ctx, cur, ch)
	}
	return fmt.Errorf("unexpected HTTP %d challenge", resp.StatusCode)
}

func describe(ch oauth.Challenge) string {
	s := ""
	if e := ch.Param("error"); e != "" {
		s += ", " + printable(e, 64)
	}
	if d := ch.Param("error_description"); d != "" {
		s += ": " + printable(d, 300)
	}
	return s
}

func tokenHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return string(sum[:])
}

func (f *Flow) onUnauthorized(ctx context.Context, cur *Tokens, ch oauth.Challenge) error {
	if cur != nil && f.authServerChanged(ctx, cur) {
		// The resource now names another authorization server: the
		// tokens, and the client registered with the old one, are bound
		// to it and must not be presented to the new one. Log in anew
		// (registering there if need be).
		f.setTokens(nil)
		_ = f.store.DeleteTokens(cur.ServerURL, cur.Issuer)
		if cur.ClientKind == kindConfig {
			f.mu.Lock()
			issuer := ""
			if f.disc != nil {
				issuer = f.disc.Issuer
			}
			f.mu.Unlock()
			return fmt.Errorf("%w: %s now names the authorization server %s, not %s, with which the configured client %s was used: register a client with %s and set OAUTH_CLIENT_ID to it",
				ErrLoginRequired, f.server, issuer, cur.Issuer, cur.ClientID, issuer)
		}
		cur = nil
	}
	f.mu.Lock()
	refreshedAlready := cur != nil && f.refreshedAt == tokenHash(cur.AccessToken)
	f.mu.Unlock()
	if cur != nil && cur.RefreshToken != "" && !refreshedAlready {
		next, err := f.refreshLocked(ctx)
		if err == nil {
			f.mu.Lock()
			f.refreshedAt = tokenHash(next.AccessToken)
			f.mu.Unlock()
			return nil
		}
		if !errors.Is(err, ErrLoginRequired) {
			return err
		}
		if !f.isInteractive() {
			return err
		}
	}
	if !f.isInteractive() {
		why := "the server requires authorization"
		if cur != nil {
			why = "the server refused the access token" + describe(ch)
		}
		return fmt.Errorf("%w: %s: log in (auth login)", ErrLoginRequired, why)
	}
	return f.loginLocked(ctx, nil)
}

// authServerChanged runs discovery again after the server refused the
// access token cur and reports whether the resource's protected-resource
// metadata now names an authorization server other than the one that
// issued cur. A failed discovery reports no change (the refresh, or the
// login, that follows says what is wrong).
func (f *Flow) authServerChanged(ctx context.Context, cur *Tokens) bool {
	f.mu.Lock()
	f.disc = nil
	f.mu.Unlock()
	d, err := f.discover(ctx)
	if err != nil || cur.Issuer == "" {
		return false
	}
	return d.Issuer != cur.Issuer
}

func (f *Flow) stepUp(ctx context.Context, cur *Tokens, ch oauth.Challenge) error {
	var want []string
	if cur != nil {
		want = append(want, cur.Scopes...)
	}
	asked := ch.Scopes()
	if len(asked) == 0 {
		// A refusal that names no scope: ask for everything the resource
		// offers rather than repeat the login that was just refused.
		f.mu.Lock()
		if f.disc != nil {
			asked = f.disc.ResourceMetadata.ScopesSupported
		}
		f.mu.Unlock()
	}
	want = unionScopes(want, asked)
	key := strings.Join(want, " ")
	f.mu.Lock()
	n := f.stepUps[key]
	interactive := f.interactive
	if interactive && n < maxStepUps {
		f.stepUps[key] = n + 1
	}
	f.mu.Unlock()
	if !interactive {
		return fmt.Errorf("%w: the server needs the scopes %q%s: log in again to grant them", ErrLoginRequired, key, describe(ch))
	}
	if n >= maxStepUps {
		return fmt.Errorf("the server still refuses the scopes %q after %d step-up logins%s", key, maxStepUps, describe(ch))
	}
	return f.loginLocked(ctx, want)
}

// unionScopes returns the sorted union of two scope lists.
func unionScopes(a, b []string) []string {
	out := slices.Concat(a, b)
	slices.Sort(out)
	return slices.Compact(out)
}

// Login runs an interactive login now (the REPL's "auth login"), whether
// or not the Flow is interactive. scopes, when given, are requested
// instead of the discovered ones.
func (f *Flow) Login(ctx context.Context, scopes ...string) error {
	f.opMu.Lock()
	defer f.opMu.Unlock()
	return f.loginLocked(ctx, scopes)
}

// discover returns the cached discovery, or runs it.
func (f *Flow) discover(ctx context.Context) (*Discovery, error) {
	f.mu.Lock()
	d, metadataURL := f.disc, f.metadataURL
	f.mu.Unlock()
	if d != nil {
		return d, nil
	}
	d, err := Discover(ctx, f.hc, f.server, metadataURL)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	f.disc = d
	f.mu.Unlock()
	return d, nil
}

// chooseScopes: explicit ones, else the configured ones, else the last
// challenge's scope, else the resource's scopes_supported (the MCP
// specification's order).
func (f *Flow) chooseScopes(d *Discovery, explicit []string) []string {
	if len(explicit) > 0 {
		return explicit
	}
	if len(f.cfg.Scopes) > 0 {
		return f.cfg.Scopes
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.challenged) > 0 {
		return f.challenged
	}
	return d.ResourceMetadata.ScopesSupported
}

// loginLocked runs the authorization code flow (opMu held).
func (f *Flow) loginLocked(ctx context.Context, scopes []string) error {
	d, err := f.discover(ctx)
	if err != nil {
		return err
	}
	scopes = f.chooseScopes(d, scopes)
	state, verifier := newState(), newVerifier()
	cb, err := startCallback(f.cfg.RedirectURI, state, d.Issuer, d.IssParameterSupported)
	if err != nil {
		return err
	}
	defer cb.close()
	creds, kind, err := f.client(ctx, d, cb.redirectURI)
	if err != nil {
		return err
	}
	q := url.Values{
		"response_type":         {"code"},
		"client_id":             {creds.ID},
		"redirect_uri":          {cb.redirectURI},
		"state":                 {state},
		"code_challenge":        {challengeS256(verifier)},
		"code_challenge_method": {"S256"},
		"resource":              {d.Resource},
	}
	if len(scopes) > 0 {
		q.Set("scope", strings.Join(scopes, " "))
	}
	authURL, err := url.Parse(d.AuthServer.AuthorizationEndpoint)
	if err != nil {
		return err
	}
	existing := authURL.Query()
	for k, v := range q {
		existing[k] = v
	}
	authURL.RawQuery = existing.Encode()

	fmt.Fprintf(f.cfg.Out, "Log in to %s with %s in your browser. If it does not open, visit:\n\n  %s\n\n", d.Resource, d.Issuer, authURL)
	if err := f.cfg.OpenBrowser(ctx, authURL.String()); err != nil {
		fmt.Fprintf(f.cfg.Out, "(could not open a browser: %v; open the URL above)\n", err)
	}
	wctx, cancel := context.WithTimeout(ctx, f.cfg.LoginTimeout)
	defer cancel()
	res := cb.wait(wctx)
	if res.err != nil {
		if errors.Is(res.err, context.DeadlineExceeded) && ctx.Err() == nil {
			if n := cb.wrongState.Load(); n > 0 {
				return fmt.Errorf("no answer from the browser within %s, and %d callback(s) refused (%w): log in again, in the browser tab this login opens", f.cfg.LoginTimeout, n, ErrStateMismatch)
			}
			return fmt.Errorf("no answer from the browser within %s: log in again", f.cfg.LoginTimeout)
		}
		return res.err
	}
	form := url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {res.code},
		"redirect_uri":  {cb.redirectURI},
		"code_verifier": {verifier},
		"resource":      {d.Resource},
	}
	tr, err := requestToken(ctx, f.hc, d.AuthServer.TokenEndpoint, creds, form)
	if err != nil {
		return fmt.Errorf("exchanging the authorization code: %w", err)
	}
	t := &Tokens{
		ServerURL:          f.server,
		Issuer:             d.Issuer,
		Resource:           d.Resource,
		ClientID:           creds.ID,
		ClientKind:         kind,
		AuthMethod:         creds.Method,
		TokenEndpoint:      d.AuthServer.TokenEndpoint,
		RevocationEndpoint: d.AuthServer.RevocationEndpoint,
	}
	f.applyTokenResponse(t, tr, scopes)
	if err := f.store.SaveTokens(t); err != nil {
		return fmt.Errorf("saving the tokens: %w", err)
	}
	f.setTokens(t)
	fmt.Fprintf(f.cfg.Out, "Logged in to %s.\n", d.Resource)
	return nil
}

// client decides which client logs in, in the MCP specification's order:
// the configured one, else a Client ID Metadata Document when the server
// supports them and one is configured, else a client registered
// dynamically (reused per issuer), else an error saying what to set.
func (f *Flow) client(ctx context.Context, d *Discovery, redirectURI string) (clientCredentials, string, error) {
	as := &d.AuthServer
	if f.cfg.ClientID != "" {
		method, err := chooseAuthMethod(f.cfg.ClientSecret, as.TokenEndpointAuthMethodsSupported)
		if err != nil {
			return clientCredentials{}, "", err
		}
		return clientCredentials{ID: f.cfg.ClientID, Secret: f.cfg.ClientSecret, Method: method}, kindConfig, nil
	}
	if as.ClientIDMetadataDocumentSupported && f.cfg.ClientMetadataURL != "" {
		return clientCredentials{ID: f.cfg.ClientMetadataURL, Method: authNone}, kindCIMD, nil
	}
	if as.RegistrationEndpoint == "" {
		hint := ""
		if as.ClientIDMetadataDocumentSupported {
			hint = ", or OAUTH_CLIENT_METADATA_URL to the https URL of this client's metadata document"
		}
		return clientCredentials{}, "", fmt.Errorf("the authorization server %s offers no dynamic client registration: register a client there (redirect URI %s) and set OAUTH_CLIENT_ID%s", d.Issuer, f.cfg.RedirectURI, hint)
	}
	reg, err := f.store.LoadRegistration(d.Issuer)
	if err != nil {
		return clientCredentials{}, "", err
	}
	expired := reg != nil && reg.ClientSecretExpiresAt > 0 && f.cfg.Now().Unix() >= reg.ClientSecretExpiresAt
	if reg == nil || expired || !slices.Contains(reg.RedirectURIs, redirectURI) && !portless(reg.RedirectURIs, redirectURI) {
		if reg, err = register(ctx, f.hc, as.RegistrationEndpoint, d.Issuer, f.cfg.ClientName, redirectURI, f.cfg.Now()); err != nil {
			return clientCredentials{}, "", err
		}
		if err := f.store.SaveRegistration(reg); err != nil {
			return clientCredentials{}, "", fmt.Errorf("saving the client registration: %w", err)
		}
	}
	return clientCredentials{ID: reg.ClientID, Secret: reg.ClientSecret, Method: reg.TokenEndpointAuthMethod}, kindDCR, nil
}

// portless reports whether uri equals one of registered but for the port,
// which a native client's loopback redirect may change (RFC 8252 section
// 7.3) when OAUTH_REDIRECT_URI uses port 0.
func portless(registered []string, uri string) bool {
	strip := func(s string) string {
		u, err := url.Parse(s)
		if err != nil {
			return s
		}
		u.Host = u.Hostname()
		return u.String()
	}
	for _, r := range registered {
		if strip(r) == strip(uri) {
			return true
		}
	}
	return false
}

// Logout revokes the refresh and access tokens where the server offers
// revocation (RFC 7009), then deletes them from the store whatever the
// revocation's outcome: an error reports a revocation that failed.
func (f *Flow) Logout(ctx context.Context) error {
	f.opMu.Lock()
	defer f.opMu.Unlock()
	tok, err := f.current()
	if err != nil || tok == nil {
		return err
	}
	var errs []error
	if tok.RevocationEndpoint != "" {
		creds, err := f.credentialsFor(tok)
		if err != nil {
			errs = append(errs, err)
		} else {
			if tok.RefreshToken != "" {
				if err := revoke(ctx, f.hc, tok.RevocationEndpoint, creds, tok.RefreshToken, "refresh_token"); err != nil {
					errs = append(errs, fmt.Errorf("revoking the refresh token: %w", err))
				}
			}
			err := revoke(ctx, f.hc, tok.RevocationEndpoint, creds, tok.AccessToken, "access_token")
			var te *TokenError
			switch {
			case errors.As(err, &te) && te.Code == "unsupported_token_type":
				// RFC 7009 section 2.2.1: the server cannot revoke this kind
				// of token (self-contained JWTs); it dies at its expiry.
				fmt.Fprintf(f.cfg.Out, "The authorization server cannot revoke access tokens; the current one stays valid until %s.\n", tok.ExpiresAt.Format(time.RFC3339))
			case err != nil:
				errs = append(errs, fmt.Errorf("revoking the access token: %w", err))
			}
		}
	}
	if tok.RevocationEndpoint == "" {
		fmt.Fprintf(f.cfg.Out, "The authorization server offers no token revocation: the tokens are deleted here but stay valid at %s until they expire.\n", tok.Issuer)
	}
	if err := f.store.DeleteTokens(tok.ServerURL, tok.Issuer); err != nil {
		errs = append(errs, err)
	}
	f.setTokens(nil)
	if len(errs) > 0 {
		return fmt.Errorf("logged out locally (tokens deleted), but: %w", errors.Join(errs...))
	}
	return nil
}

// Status is what "auth status" shows. Nothing in it is secret.
type Status struct {
	LoggedIn   bool
	ServerURL  string
	Issuer     string
	Subject    string // from the access token if it is a JWT: unverified, for display only
	ClientID   string
	ClientKind string
	Scopes     []string
	ExpiresAt  time.Time // zero: unknown
	Expired    bool
	CanRefresh bool
	StoreDir   string
}

// Status reports the stored login.
func (f *Flow) Status() (Status, error) {
	s := Status{ServerURL: f.server, StoreDir: f.store.Dir}
	tok, err := f.current()
	if err != nil || tok == nil {
		return s, err
	}
	s.LoggedIn = true
	s.Issuer, s.ClientID, s.ClientKind = tok.Issuer, tok.ClientID, tok.ClientKind
	s.Scopes = slices.Clone(tok.Scopes)
	s.ExpiresAt = tok.ExpiresAt
	s.Expired = tok.expiresWithin(f.cfg.Now(), 0)
	s.CanRefresh = tok.RefreshToken != ""
	s.Subject = unverifiedClaims(tok.AccessToken).Sub
	return s, nil
}

// String renders the status for a person.
func (s Status) String() string {
	if !s.LoggedIn {
		return fmt.Sprintf("not logged in to %s", s.ServerURL)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "logged in to %s\n", s.ServerURL)
	fmt.Fprintf(&b, "  issuer:  %s\n", s.Issuer)
	if s.Subject != "" {
		fmt.Fprintf(&b, "  subject: %s (as the token says; not verified by the client)\n", s.Subject)
	}
	fmt.Fprintf(&b, "  client:  %s (%s)\n", s.ClientID, s.ClientKind)
	fmt.Fprintf(&b, "  scopes:  %s\n", strings.Join(s.Scopes, " "))
	switch {
	case s.ExpiresAt.IsZero():
		b.WriteString("  expires: unknown\n")
	case s.Expired:
		fmt.Fprintf(&b, "  expires: %s (expired)\n", s.ExpiresAt.Format(time.RFC3339))
	default:
		fmt.Fprintf(&b, "  expires: %s\n", s.ExpiresAt.Format(time.RFC3339))
	}
	fmt.Fprintf(&b, "  refresh: %t", s.CanRefresh)
	return b.String()
}

// jwtClaims are the claims shown in the status.
type jwtClaims struct {
	Sub string `json:"sub"`
	Exp int64  `json:"exp"`
}

// unverifiedClaims reads a JWT's payload WITHOUT verifying it: the client
// is not the token's audience and must not trust it; the values are only
// displayed (and the expiry used when the server did not say expires_in).
// An opaque token yields zero claims.
func unverifiedClaims(token string) jwtClaims {
	var c jwtClaims
	parts := strings.Split(token, ".")
	if len(parts) != 3 || len(parts[1]) > 64<<10 {
		return c
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return c
	}
	_ = json.Unmarshal(payload, &c)
	c.Sub = printable(c.Sub, 200)
	return c
}
