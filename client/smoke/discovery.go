package smoke

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"

	"mcplambda/client/oauthclient"
	"mcplambda/mcp"
	"mcplambda/oauth"
)

// maxDocument bounds a discovery document or an answer read whole.
const maxDocument = 1 << 20

// Discovery checks what a spec-following MCP client does first: it sends
// initialize without a token, expects 401 with a Bearer challenge naming
// the RFC 9728 resource metadata, reads that document, and loads the
// authorization server's RFC 8414 (or OpenID Connect) metadata. A server
// that needs no token is a skip; an API-key deployment, which has no OAuth
// to discover, passes on a Bearer challenge alone.
func (t *Target) Discovery(ctx context.Context) Result {
	const name = "discovery"
	ctx, cancel := t.checkContext(ctx)
	defer cancel()
	resp, err := t.initializeWithoutToken(ctx)
	if err != nil {
		return fail(name, "%s", t.failure(ctx, "initialize without a token", err))
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxDocument))
	resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
		// Left open, the session would hold a slot until it expires.
		sid := resp.Header.Get("Mcp-Session-Id")
		if sid == "" {
			return Result{Name: name, Status: Skipped, Detail: "the server needs no token"}
		}
		if err := t.deleteSession(ctx, sid); err != nil {
			return Result{Name: name, Status: Skipped, Detail: fmt.Sprintf("the server needs no token (ending the session it opened failed: %v)", err)}
		}
		return Result{Name: name, Status: Skipped, Detail: "the server needs no token"}
	case http.StatusUnauthorized:
		return t.fromChallenge(ctx, resp.Header)
	}
	return fail(name, "initialize without a token got HTTP %d, not 401 with a Bearer challenge (nor 200 from a server without authorization): is MCP_SERVER_URL %s the MCP endpoint?", resp.StatusCode, t.URL)
}

// initializeWithoutToken POSTs initialize as a client that has no token
// yet. Redirects are not followed: a client must not carry an MCP POST to
// another URL, so a redirect is an answer to report.
func (t *Target) initializeWithoutToken(ctx context.Context) (*http.Response, error) {
	body, err := mcp.AppendRequest(nil, mcp.IntID(1), mcp.MethodInitialize, &mcp.InitializeParams{
		ProtocolVersion: mcp.LatestVersion,
		ClientInfo:      mcp.Implementation{Name: "mcp-client smoke", Version: "1"},
	})
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.URL, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	hc := *t.httpClient()
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return hc.Do(req)
}

// deleteSession ends a session opened by initializeWithoutToken. A 405
// means the server does not let clients end sessions, which the
// specification allows.
func (t *Target) deleteSession(ctx context.Context, sid string) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), closeTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodDelete, t.URL, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Mcp-Session-Id", sid)
	resp, err := t.httpClient().Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
	resp.Body.Close()
	if resp.StatusCode/100 != 2 && resp.StatusCode != http.StatusMethodNotAllowed {
		return fmt.Errorf("DELETE got HTTP %d", resp.StatusCode)
	}
	return nil
}

// fromChallenge follows the 401's challenge to the discovery documents.
func (t *Target) fromChallenge(ctx context.Context, h http.Header) Result {
	const name = "discovery"
	// Read on purpose without oauth.ChallengeValues' fallback to the
	// renamed header: this client copes with it, but clients that follow
	// the specification only read WWW-Authenticate.
	values := h.Values("WWW-Authenticate")
	if len(values) == 0 {
		if len(h.Values(oauth.RemappedChallengeHeader)) > 0 {
			return fail(name, "the 401 carries no WWW-Authenticate header, only x-amzn-Remapped-WWW-Authenticate: API Gateway renamed the server's own challenge, so spec-following MCP clients cannot discover the authorization server; let the gateway produce the challenge (a REQUEST authorizer on /mcp and an UNAUTHORIZED gateway response with WWW-Authenticate, as make deploy sets up)")
		}
		return fail(name, "the 401 carries no WWW-Authenticate header: clients cannot tell how to authenticate; the UNAUTHORIZED gateway response should send WWW-Authenticate: Bearer resource_metadata=\"...\" (make deploy sets it up)")
	}
	var bearer *oauth.Challenge
	for _, c := range oauth.ParseChallenges(values) {
		if strings.EqualFold(c.Scheme, "Bearer") {
			bearer = &c
			break
		}
	}
	if bearer == nil {
		return fail(name, "the 401's WWW-Authenticate has no Bearer challenge (%s): MCP clients expect Bearer with resource_metadata", quoteShort(strings.Join(values, ", ")))
	}
	metadataURL := bearer.Param("resource_metadata")
	if metadataURL == "" {
		if t.APIKey {
			return pass(name, "API key deployment: no OAuth discovery (401 with a Bearer challenge)")
		}
		return fail(name, "the 401's Bearer challenge names no resource_metadata, so MCP clients cannot discover the authorization server; the challenge should be Bearer resource_metadata=\"...\" (make deploy AUTH=oauth sets it up; an API-key deployment has AUTH_METHOD=lambda and ACCESS_TOKEN in .deploy/outputs.env)")
	}
	return t.followMetadata(ctx, metadataURL)
}

// followMetadata reads the resource metadata and the authorization
// server's, as a client about to log in would.
func (t *Target) followMetadata(ctx context.Context, metadataURL string) Result {
	const name = "discovery"
	hc := t.httpClient()
	var prm oauth.ProtectedResourceMetadata
	if _, err := oauth.FetchJSON(ctx, hc, metadataURL, maxDocument, &prm); err != nil {
		if ctx.Err() != nil {
			return fail(name, "resource metadata %s: %s", metadataURL, stopReason(ctx))
		}
		return fail(name, "resource metadata %s: %v: the /.well-known/ routes must reach the server without a token", metadataURL, err)
	}
	want, err := oauthclient.CanonicalResource(t.URL)
	if err != nil {
		return fail(name, "%v", err)
	}
	// Exact, not a parent path: the resource is the audience clients ask
	// tokens for, and the server checks tokens against its own URL.
	if got, err := oauthclient.CanonicalResource(prm.Resource); err != nil || got != want {
		return fail(name, "the resource metadata at %s names resource %s, not %s: clients would ask for tokens for another resource; set MCP_RESOURCE_URL of the function to %s (make deploy does)", metadataURL, quoteShort(prm.Resource), want, want)
	}
	if len(prm.AuthorizationServers) == 0 {
		return fail(name, "the resource metadata at %s names no authorization_servers: clients cannot tell where to log in", metadataURL)
	}
	issuer := prm.AuthorizationServers[0]
	as, err := oauth.FetchAuthorizationServerMetadata(ctx, hc, issuer)
	if err != nil {
		if ctx.Err() != nil {
			return fail(name, "authorization server metadata of %s: %s", issuer, stopReason(ctx))
		}
		return fail(name, "authorization server metadata of %s: %v: publish RFC 8414 metadata for it (with Cognito, set COGNITO_DOMAIN so the server publishes it)", issuer, err)
	}
	if err := oauthclient.CheckAuthServer(as); err != nil {
		return fail(name, "%v", err)
	}
	// Stricter than CheckAuthServer, which lets this client log in with a
	// bare Cognito pool: other MCP clients refuse to.
	if !slices.Contains(as.CodeChallengeMethodsSupported, "S256") {
		return fail(name, "the authorization server %s does not list S256 in code_challenge_methods_supported, so spec-following MCP clients refuse to log in with it; with Cognito, set COGNITO_DOMAIN so the server publishes metadata that does", issuer)
	}
	return pass(name, "401 Bearer challenge -> %s -> authorization server %s (authorization and token endpoints, PKCE S256)", metadataURL, issuer)
}
