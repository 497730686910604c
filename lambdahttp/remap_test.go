package lambdahttp

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"mcplambda/client"
	"mcplambda/greetings"
	"mcplambda/oauth"
	"mcplambda/server"
	"mcplambda/test/apigw"
)

const (
	remapResource = "https://" + apiHost + "/prod/mcp"
	remapMetadata = "https://" + apiHost + "/prod/.well-known/oauth-protected-resource/mcp"
)

// refuseAll is a verifier that finds every token invalid.
type refuseAll struct{}

func (refuseAll) Verify(context.Context, string) (*oauth.Claims, error) {
	return nil, &oauth.Error{Kind: oauth.ErrInvalidToken, Description: "the token has expired"}
}

// integration runs a Lambda handler built by Handler as API Gateway's
// streaming Lambda proxy integration.
func integration(fn func(context.Context, events.APIGatewayProxyRequest) (*events.APIGatewayProxyStreamingResponse, error)) apigw.Integration {
	return func(ctx context.Context, ev events.APIGatewayProxyRequest) (*apigw.IntegrationResponse, error) {
		resp, err := fn(ctx, ev)
		if err != nil {
			return nil, err
		}
		h := http.Header{}
		for k, v := range resp.Headers {
			h.Set(k, v)
		}
		for k, vs := range resp.MultiValueHeaders {
			h[http.CanonicalHeaderKey(k)] = vs
		}
		body, ok := resp.Body.(io.ReadCloser)
		if !ok {
			body = io.NopCloser(resp.Body)
		}
		return &apigw.IntegrationResponse{StatusCode: resp.StatusCode, Header: h, Body: body}, nil
	}
}

// TestChallengeThroughAPIGateway reproduces API Gateway's documented
// renaming of a Lambda proxy integration's WWW-Authenticate (to
// x-amzn-Remapped-WWW-Authenticate), with the real server behind this
// adapter and the gateway double:
//   - a 401 the function writes reaches the client without a
//     WWW-Authenticate header: the challenge is in the renamed header and
//     in the JSON-RPC error body, and our client still finds
//     resource_metadata;
//   - a 401 the gateway writes (the authorizer refused) keeps the real
//     header: why make deploy puts the authorizer in front of /mcp.
func TestChallengeThroughAPIGateway(t *testing.T) {
	srv := server.New(server.Options{})
	if err := greetings.Register(srv, greetings.Options{}); err != nil {
		t.Fatal(err)
	}
	cfg := server.DefaultConfig()
	cfg.LogRequests = false
	cfg.AllowedHosts = []string{apiHost, "127.0.0.1"}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	h := server.NewHandler(srv, cfg, server.HandlerOptions{Logger: log,
		Auth: &server.BearerAuth{Verifier: refuseAll{}, ResourceMetadataURL: remapMetadata, Scopes: []string{remapResource + "/mcp"}}})
	t.Cleanup(h.Close)
	fn := Handler(server.NewMux(cfg, h), Options{})

	challenge := `Bearer scope="` + remapResource + `/mcp", resource_metadata="` + remapMetadata + `"`
	gw, err := apigw.New(apigw.Config{
		Resources: []apigw.Resource{
			// /mcp as the function alone guards it; /guarded as make deploy wires /mcp.
			{Path: "/mcp", Methods: map[string]apigw.Method{"POST": {AuthorizationType: "NONE", Integration: true}}},
			{Path: "/guarded", Methods: map[string]apigw.Method{"POST": {AuthorizationType: "CUSTOM", AuthorizerID: "a1", Integration: true}}},
		},
		Authorizers: map[string]*apigw.Authorizer{"a1": {
			ID: "a1", Name: "mcp-authorizer", Type: "REQUEST", IdentitySource: "method.request.header.Authorization",
			Invoke: func(context.Context, events.APIGatewayCustomAuthorizerRequestTypeRequest) (events.APIGatewayCustomAuthorizerResponse, error) {
				return events.APIGatewayCustomAuthorizerResponse{}, errors.New("Unauthorized")
			},
		}},
		GatewayResponses: map[string]apigw.GatewayResponse{
			apigw.Unauthorized: {StatusCode: 401, Parameters: map[string]string{"gatewayresponse.header.WWW-Authenticate": "'" + challenge + "'"}},
		},
		Integration: integration(fn),
	})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(gw)
	t.Cleanup(ts.Close)
	hc := &http.Client{Timeout: 30 * time.Second}
	const initialize = `{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`

	post := func(path, token string) (*http.Response, []byte) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, ts.URL+"/prod"+path, strings.NewReader(initialize))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, b
	}

	for _, tt := range []struct {
		name, token string
		want        string // the challenge the function wrote
	}{
		{"no token", "", challenge},
		{"an invalid token", "expired.token.x", `Bearer error="invalid_token", error_description="the token has expired", scope="` + remapResource + `/mcp", resource_metadata="` + remapMetadata + `"`},
	} {
		t.Run("function's 401, "+tt.name, func(t *testing.T) {
			resp, body := post("/mcp", tt.token)
			if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("X-Amzn-Errortype") != "" {
				t.Fatalf("status %d (error type %q), want the function's 401: %s", resp.StatusCode, resp.Header.Get("X-Amzn-Errortype"), body)
			}
			if got := resp.Header.Values("WWW-Authenticate"); len(got) != 0 {
				t.Fatalf("WWW-Authenticate %q reached the client: the double no longer renames it as API Gateway does", got)
			}
			if got := resp.Header.Get("X-Amzn-Remapped-Www-Authenticate"); got != tt.want {
				t.Errorf("x-amzn-Remapped-WWW-Authenticate %q, want %q", got, tt.want)
			}
			var msg struct {
				Error struct {
					Code int
					Data struct {
						WWWAuthenticate string `json:"www_authenticate"`
					}
				}
			}
			if err := json.Unmarshal(body, &msg); err != nil || msg.Error.Code != -32000 || msg.Error.Data.WWWAuthenticate != tt.want {
				t.Errorf("body %s: want a JSON-RPC error carrying the challenge %q", body, tt.want)
			}
			if c, ok := oauth.BearerChallenge(resp.Header); !ok || c.Param("resource_metadata") != remapMetadata {
				t.Errorf("oauth.BearerChallenge found %+v, %t in the renamed header", c, ok)
			}
		})
	}

	t.Run("the client library finds the renamed challenge", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		defer cancel()
		_, err := client.Connect(ctx, client.Options{URL: ts.URL + "/prod/mcp", HTTPClient: hc})
		var ae *client.AuthRequiredError
		if !errors.As(err, &ae) || ae.Status != http.StatusUnauthorized || ae.ResourceMetadata() != remapMetadata {
			t.Fatalf("Connect: %v; want an AuthRequiredError naming %s", err, remapMetadata)
		}
	})

	t.Run("the gateway's 401 keeps its header", func(t *testing.T) {
		for _, token := range []string{"", "any.token.x"} {
			resp, body := post("/guarded", token)
			if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("X-Amzn-Errortype") != "UnauthorizedException" {
				t.Fatalf("status %d (error type %q), want the gateway's 401: %s", resp.StatusCode, resp.Header.Get("X-Amzn-Errortype"), body)
			}
			if got := resp.Header.Get("WWW-Authenticate"); got != challenge {
				t.Errorf("WWW-Authenticate %q, want %q", got, challenge)
			}
			if got := resp.Header.Get("X-Amzn-Remapped-Www-Authenticate"); got != "" {
				t.Errorf("a gateway response carries a renamed header %q", got)
			}
		}
	})
}
