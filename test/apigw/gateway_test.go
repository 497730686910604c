package apigw_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"mcplambda/test/apigw"
)

func TestRouting(t *testing.T) {
	b := &backend{}
	_, srv := setup(t, b, func(c *apigw.Config) {
		c.GatewayResponses = map[string]apigw.GatewayResponse{
			apigw.MissingAuthenticationToken: {
				StatusCode: 404,
				Templates:  map[string]string{"application/json": `{"error":"not found","message":$context.error.messageString}`},
			},
		}
	})
	notFound := `{"error":"not found","message":"Missing Authentication Token"}`
	tests := []struct {
		name, method, path string
		wantStatus         int
		wantErrType        string
		wantBody           string // exact, when set
		wantResource       string // the integration's event, when it is invoked
		wantParams         map[string]string
	}{
		{name: "greedy proxy", method: "GET", path: "/prod/.well-known/oauth-protected-resource",
			wantStatus: 200, wantResource: "/.well-known/{proxy+}", wantParams: map[string]string{"proxy": "oauth-protected-resource"}},
		{name: "greedy proxy takes several segments", method: "POST", path: "/prod/.well-known/oauth-protected-resource/mcp",
			wantStatus: 200, wantResource: "/.well-known/{proxy+}", wantParams: map[string]string{"proxy": "oauth-protected-resource/mcp"}},
		{name: "exact beats proxy", method: "GET", path: "/prod/.well-known/exact",
			wantStatus: 200, wantResource: "/.well-known/exact"},
		{name: "exact resource without the method does not fall to proxy", method: "POST", path: "/prod/.well-known/exact",
			wantStatus: 404, wantErrType: "MissingAuthenticationTokenException", wantBody: notFound},
		{name: "ANY serves every verb", method: "DELETE", path: "/prod/.well-known/x",
			wantStatus: 200, wantResource: "/.well-known/{proxy+}", wantParams: map[string]string{"proxy": "x"}},
		{name: "proxy needs a segment", method: "GET", path: "/prod/.well-known",
			wantStatus: 404, wantErrType: "MissingAuthenticationTokenException", wantBody: notFound},
		{name: "path variable", method: "GET", path: "/prod/items/42",
			wantStatus: 200, wantResource: "/items/{id}", wantParams: map[string]string{"id": "42"}},
		{name: "path variable is one segment", method: "GET", path: "/prod/items/42/more",
			wantStatus: 404, wantErrType: "MissingAuthenticationTokenException", wantBody: notFound},
		{name: "trailing slash", method: "GET", path: "/prod/items/42/",
			wantStatus: 200, wantResource: "/items/{id}", wantParams: map[string]string{"id": "42"}},
		{name: "missing method", method: "PUT", path: "/prod/mcp",
			wantStatus: 404, wantErrType: "MissingAuthenticationTokenException", wantBody: notFound},
		{name: "missing resource", method: "GET", path: "/prod/nothing",
			wantStatus: 404, wantErrType: "MissingAuthenticationTokenException", wantBody: notFound},
		{name: "root without methods", method: "GET", path: "/prod",
			wantStatus: 404, wantErrType: "MissingAuthenticationTokenException", wantBody: notFound},
		{name: "OPTIONS is open", method: "OPTIONS", path: "/prod/mcp",
			wantStatus: 200, wantResource: "/mcp"},
		{name: "host root is no stage", method: "GET", path: "/.well-known/oauth-protected-resource",
			wantStatus: 403, wantErrType: "ForbiddenException", wantBody: `{"message":"Forbidden"}`},
		{name: "unknown stage", method: "POST", path: "/staging/mcp",
			wantStatus: 403, wantErrType: "ForbiddenException", wantBody: `{"message":"Forbidden"}`},
		{name: "stage prefix is not the stage", method: "GET", path: "/production/.well-known/x",
			wantStatus: 403, wantErrType: "ForbiddenException", wantBody: `{"message":"Forbidden"}`},
		{name: "bare host", method: "GET", path: "/",
			wantStatus: 403, wantErrType: "ForbiddenException", wantBody: `{"message":"Forbidden"}`},
		{name: "method without integration", method: "GET", path: "/prod/noint",
			wantStatus: 500, wantErrType: "InternalServerErrorException", wantBody: `{"message":"Internal server error"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := b.proxyCalls()
			res := send(t, srv, tt.method, tt.path, nil, "")
			if res.status != tt.wantStatus {
				t.Fatalf("status %d, want %d (body %s)", res.status, tt.wantStatus, res.body)
			}
			if got := res.header.Get("X-Amzn-Errortype"); got != tt.wantErrType {
				t.Errorf("X-Amzn-Errortype %q, want %q", got, tt.wantErrType)
			}
			if res.header.Get("X-Amzn-Requestid") == "" {
				t.Error("no X-Amzn-Requestid")
			}
			if tt.wantBody != "" && res.body != tt.wantBody {
				t.Errorf("body %s, want %s", res.body, tt.wantBody)
			}
			if tt.wantResource == "" {
				if b.proxyCalls() != before {
					t.Error("the integration was invoked")
				}
				return
			}
			ev := b.lastProxy(t)
			if ev.Resource != tt.wantResource || ev.RequestContext.ResourcePath != tt.wantResource {
				t.Errorf("resource %q / %q, want %q", ev.Resource, ev.RequestContext.ResourcePath, tt.wantResource)
			}
			if !reflect.DeepEqual(ev.PathParameters, tt.wantParams) {
				t.Errorf("path parameters %v, want %v", ev.PathParameters, tt.wantParams)
			}
		})
	}
}

func TestAuthorizer(t *testing.T) {
	b := &backend{}
	g, srv := setup(t, b, func(c *apigw.Config) {
		c.GatewayResponses = map[string]apigw.GatewayResponse{
			apigw.Unauthorized: {
				StatusCode: 401,
				Parameters: map[string]string{"gatewayresponse.header.WWW-Authenticate": `'Bearer resource_metadata="https://example.test/.well-known/oauth-protected-resource"'`},
				Templates:  map[string]string{"application/json": `{"error":{"code":-32001,"message":"Unauthorized"}}`},
			},
			apigw.AccessDenied: {
				StatusCode: 403,
				Parameters: map[string]string{"gatewayresponse.header.WWW-Authenticate": `'Bearer error="insufficient_scope"'`},
				Templates:  map[string]string{"application/json": `{"error":"$context.authorizer.error","principal":"$context.authorizer.principalId","message":$context.error.messageString}`},
			},
		}
	})
	challenge := `Bearer resource_metadata="https://example.test/.well-known/oauth-protected-resource"`
	tests := []struct {
		name        string
		method      string
		header      http.Header
		wantStatus  int
		wantCalls   int // authorizer invocations by this request
		wantErrType string
		wantBody    string
		wantWWWAuth string
	}{
		{name: "no Authorization", method: "POST", wantStatus: 401, wantErrType: "UnauthorizedException",
			wantBody: `{"error":{"code":-32001,"message":"Unauthorized"}}`, wantWWWAuth: challenge},
		{name: "empty Authorization", method: "POST", header: http.Header{"Authorization": {""}}, wantStatus: 401,
			wantErrType: "UnauthorizedException", wantWWWAuth: challenge},
		{name: "Unauthorized error", method: "POST", header: bearer("unauth"), wantStatus: 401, wantCalls: 1,
			wantErrType: "UnauthorizedException", wantWWWAuth: challenge},
		{name: "other error", method: "POST", header: bearer("boom"), wantStatus: 500, wantCalls: 1,
			wantErrType: "AuthorizerConfigurationException", wantBody: `{"message":null}`},
		{name: "context with an object", method: "POST", header: bearer("nested"), wantStatus: 500, wantCalls: 1,
			wantErrType: "AuthorizerConfigurationException", wantBody: `{"message":null}`},
		{name: "explicit deny", method: "GET", header: bearer("deny"), wantStatus: 403, wantCalls: 1,
			wantErrType: "AccessDeniedException", wantWWWAuth: `Bearer error="insufficient_scope"`,
			wantBody: `{"error":"insufficient_scope","principal":"user-1","message":"User is not authorized to access this resource with an explicit deny"}`},
		{name: "no matching allow", method: "GET", header: bearer("elsewhere"), wantStatus: 403, wantCalls: 1,
			wantErrType: "AccessDeniedException", wantWWWAuth: `Bearer error="insufficient_scope"`,
			// A reference without a value is left as written, as VTL does.
			wantBody: `{"error":"$context.authorizer.error","principal":"user-1","message":"User is not authorized to access this resource"}`},
		{name: "allow", method: "POST", header: bearer("alice"), wantStatus: 200, wantCalls: 1, wantBody: "ok"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before, proxied := g.AuthorizerCalls(), b.proxyCalls()
			res := send(t, srv, tt.method, "/prod/mcp", tt.header, `{"jsonrpc":"2.0"}`)
			if res.status != tt.wantStatus {
				t.Fatalf("status %d, want %d (body %s)", res.status, tt.wantStatus, res.body)
			}
			if got := g.AuthorizerCalls() - before; got != tt.wantCalls {
				t.Errorf("authorizer invoked %d times, want %d", got, tt.wantCalls)
			}
			if got := res.header.Get("X-Amzn-Errortype"); got != tt.wantErrType {
				t.Errorf("X-Amzn-Errortype %q, want %q", got, tt.wantErrType)
			}
			if tt.wantBody != "" && res.body != tt.wantBody {
				t.Errorf("body\n%s\nwant\n%s", res.body, tt.wantBody)
			}
			if got := res.header.Get("WWW-Authenticate"); got != tt.wantWWWAuth {
				t.Errorf("WWW-Authenticate %q, want %q", got, tt.wantWWWAuth)
			}
			if tt.wantStatus != 200 {
				if b.proxyCalls() != proxied {
					t.Error("the integration was invoked")
				}
				return
			}

			az := b.lastAuthz(t)
			reqID := res.header.Get("X-Amzn-Requestid")
			wantAz := events.APIGatewayCustomAuthorizerRequestTypeRequest{
				Type:       "REQUEST",
				MethodArn:  "arn:aws:execute-api:us-east-1:123456789012:abc123/prod/POST/mcp",
				Resource:   "/mcp",
				Path:       "/mcp",
				HTTPMethod: "POST",
				RequestContext: events.APIGatewayCustomAuthorizerRequestTypeRequestContext{
					Path: "/prod/mcp", AccountID: "123456789012", ResourceID: "mcp001", Stage: "prod",
					RequestID: reqID, Identity: events.APIGatewayCustomAuthorizerRequestTypeRequestIdentity{SourceIP: "127.0.0.1"},
					ResourcePath: "/mcp", HTTPMethod: "POST", APIID: "abc123",
				},
			}
			gotAz := az
			gotAz.Headers, gotAz.MultiValueHeaders = nil, nil
			if !reflect.DeepEqual(gotAz, wantAz) {
				t.Errorf("authorizer event\n%+v\nwant\n%+v", gotAz, wantAz)
			}
			if az.Headers["Authorization"] != "Bearer alice" || !reflect.DeepEqual(az.MultiValueHeaders["Authorization"], []string{"Bearer alice"}) {
				t.Errorf("authorizer headers %v / %v", az.Headers, az.MultiValueHeaders)
			}

			ev := b.lastProxy(t)
			wantCtx := map[string]any{
				"principalId": "user-alice", "sub": "alice", "exp": "1700000000", "admin": "true",
				"ratio": "0.5", "scope": "mcp", "integrationLatency": float64(0),
			}
			if !reflect.DeepEqual(ev.RequestContext.Authorizer, wantCtx) {
				t.Errorf("authorizer context %#v\nwant %#v", ev.RequestContext.Authorizer, wantCtx)
			}
			if ev.RequestContext.RequestID != reqID {
				t.Errorf("request id %q, response says %q", ev.RequestContext.RequestID, reqID)
			}
		})
	}
}

func TestAuthorizerIdentitySources(t *testing.T) {
	b := &backend{}
	g, srv := setup(t, b, func(c *apigw.Config) {
		c.Authorizers["az1"].IdentitySource = "method.request.header.Authorization, method.request.querystring.tenant"
		c.Authorizers["az1"].TTL = time.Minute
	})
	tests := []struct {
		name       string
		query      string
		header     http.Header
		wantStatus int
		wantCalls  int
	}{
		{name: "header only", header: bearer("alice"), wantStatus: 401},
		{name: "query only", query: "?tenant=t1", wantStatus: 401},
		{name: "empty query value", query: "?tenant=", header: bearer("alice"), wantStatus: 401},
		{name: "both", query: "?tenant=t1", header: bearer("alice"), wantStatus: 200, wantCalls: 1},
		{name: "both again: cached", query: "?tenant=t1", header: bearer("alice"), wantStatus: 200},
		{name: "another tenant is another key", query: "?tenant=t2", header: bearer("alice"), wantStatus: 200, wantCalls: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := g.AuthorizerCalls()
			res := send(t, srv, "GET", "/prod/mcp"+tt.query, tt.header, "")
			if res.status != tt.wantStatus {
				t.Fatalf("status %d, want %d (body %s)", res.status, tt.wantStatus, res.body)
			}
			if got := g.AuthorizerCalls() - before; got != tt.wantCalls {
				t.Errorf("authorizer invoked %d times, want %d", got, tt.wantCalls)
			}
		})
	}
}

func TestAuthorizerCache(t *testing.T) {
	b := &backend{}
	clock := newClock()
	g, srv := setup(t, b, func(c *apigw.Config) {
		c.Now = clock.Now
		c.Authorizers["az1"].TTL = 300 * time.Second
	})
	// The steps run in order: each depends on the cache the previous left.
	steps := []struct {
		name       string
		advance    time.Duration
		method     string
		token      string
		wantStatus int
		wantCalls  int // total so far
	}{
		{name: "first call invokes", method: "POST", token: "alice", wantStatus: 200, wantCalls: 1},
		{name: "same identity is cached", method: "POST", token: "alice", wantStatus: 200, wantCalls: 1},
		{name: "cached policy covers GET", method: "GET", token: "alice", wantStatus: 200, wantCalls: 1},
		{name: "another identity invokes", method: "POST", token: "bob", wantStatus: 200, wantCalls: 2},
		{name: "just before the TTL", advance: 299 * time.Second, method: "DELETE", token: "alice", wantStatus: 200, wantCalls: 2},
		{name: "after the TTL invokes again", advance: 2 * time.Second, method: "POST", token: "alice", wantStatus: 200, wantCalls: 3},
		{name: "policy for POST only", method: "POST", token: "post-only", wantStatus: 200, wantCalls: 4},
		{name: "cached policy judged against the GET ARN", method: "GET", token: "post-only", wantStatus: 403, wantCalls: 4},
		{name: "and the POST ARN again", method: "POST", token: "post-only", wantStatus: 200, wantCalls: 4},
		{name: "a deny is cached too", method: "POST", token: "deny", wantStatus: 403, wantCalls: 5},
		{name: "cached deny", method: "POST", token: "deny", wantStatus: 403, wantCalls: 5},
		{name: "401 is not cached", method: "POST", token: "unauth", wantStatus: 401, wantCalls: 6},
		{name: "401 again", method: "POST", token: "unauth", wantStatus: 401, wantCalls: 7},
		{name: "500 is not cached", method: "POST", token: "boom", wantStatus: 500, wantCalls: 8},
		{name: "500 again", method: "POST", token: "boom", wantStatus: 500, wantCalls: 9},
	}
	for _, st := range steps {
		clock.Advance(st.advance)
		res := send(t, srv, st.method, "/prod/mcp", bearer(st.token), "")
		if res.status != st.wantStatus {
			t.Fatalf("%s: status %d, want %d (body %s)", st.name, res.status, st.wantStatus, res.body)
		}
		if got := g.AuthorizerCalls(); got != st.wantCalls {
			t.Fatalf("%s: %d authorizer calls, want %d", st.name, got, st.wantCalls)
		}
	}
	// The cached context still reaches the integration.
	if got := b.lastProxy(t).RequestContext.Authorizer["principalId"]; got != "user-1" {
		t.Errorf("principalId from the cache %v", got)
	}
}

func TestAuthorizerCacheConcurrent(t *testing.T) {
	b := &backend{}
	g, srv := setup(t, b, func(c *apigw.Config) { c.Authorizers["az1"].TTL = time.Minute })
	const workers = 8
	var wg sync.WaitGroup
	errs := make(chan error, workers*4)
	for i := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 4 {
				req, _ := http.NewRequest("POST", srv.URL+"/prod/mcp", nil)
				req.Header.Set("Authorization", fmt.Sprintf("Bearer user%d", (i+j)%3))
				resp, err := srv.Client().Do(req)
				if err != nil {
					errs <- err
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					errs <- fmt.Errorf("status %d", resp.StatusCode)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := g.AuthorizerCalls(); n < 3 || n > workers*4 {
		t.Errorf("%d authorizer calls", n)
	}
}

func TestGatewayResponses(t *testing.T) {
	jsonTpl := func(s string) map[string]string { return map[string]string{"application/json": s} }
	tests := []struct {
		name        string
		responses   map[string]apigw.GatewayResponse
		integration func(ctx context.Context, ev events.APIGatewayProxyRequest) (*apigw.IntegrationResponse, error)
		method      string
		path        string
		header      http.Header
		wantStatus  int
		wantErrType string
		wantBody    string // {requestId} stands for X-Amzn-Requestid
		wantHeaders map[string]string
	}{
		{
			name: "defaults", method: "GET", path: "/prod/nothing",
			wantStatus: 403, wantErrType: "MissingAuthenticationTokenException",
			wantBody: `{"message":"Missing Authentication Token"}`,
		},
		{
			name: "static, header, query, path and context parameters",
			responses: map[string]apigw.GatewayResponse{apigw.Unauthorized: {
				Parameters: map[string]string{
					"gatewayresponse.header.WWW-Authenticate":            `'Bearer realm="mcp"'`,
					"gatewayresponse.header.Access-Control-Allow-Origin": "method.request.header.Origin",
					"gatewayresponse.header.X-Trace":                     "method.request.querystring.trace",
					"gatewayresponse.header.X-Item":                      "method.request.path.id",
					"gatewayresponse.header.X-Request":                   "context.requestId",
					"gatewayresponse.header.X-Absent":                    "method.request.header.X-Not-Sent",
				},
			}},
			method: "GET", path: "/prod/secure/42?trace=t1", header: http.Header{"Origin": {"https://app.example"}},
			wantStatus: 401, wantErrType: "UnauthorizedException", wantBody: `{"message":"Unauthorized"}`,
			wantHeaders: map[string]string{
				"WWW-Authenticate": `Bearer realm="mcp"`, "Access-Control-Allow-Origin": "https://app.example",
				"X-Trace": "t1", "X-Item": "42", "X-Request": "{requestId}", "X-Absent": "", "Content-Type": "application/json",
			},
		},
		{
			name: "DEFAULT_4XX shapes a type without its own",
			responses: map[string]apigw.GatewayResponse{apigw.Default4XX: {
				Parameters: map[string]string{"gatewayresponse.header.X-Fallback": "'yes'"},
				Templates:  jsonTpl(`{"type":"$context.error.responseType","message":$context.error.messageString,"id":"$context.requestId","stage":"$context.stage"}`),
			}},
			method: "GET", path: "/prod/nothing",
			wantStatus: 403, wantErrType: "MissingAuthenticationTokenException",
			wantBody:    `{"type":"MISSING_AUTHENTICATION_TOKEN","message":"Missing Authentication Token","id":"{requestId}","stage":"prod"}`,
			wantHeaders: map[string]string{"X-Fallback": "yes"},
		},
		{
			name:      "DEFAULT_4XX status replaces the type's",
			responses: map[string]apigw.GatewayResponse{apigw.Default4XX: {StatusCode: 400}},
			method:    "GET", path: "/prod/nothing",
			wantStatus: 400, wantErrType: "MissingAuthenticationTokenException",
			wantBody: `{"message":"Missing Authentication Token"}`,
		},
		{
			name: "own customisation beats DEFAULT_4XX",
			responses: map[string]apigw.GatewayResponse{
				apigw.Default4XX:                 {StatusCode: 400, Templates: jsonTpl(`{"fallback":true}`)},
				apigw.MissingAuthenticationToken: {StatusCode: 404, Templates: jsonTpl(`{"own":true}`)},
			},
			method: "GET", path: "/prod/nothing",
			wantStatus: 404, wantBody: `{"own":true}`, wantErrType: "MissingAuthenticationTokenException",
		},
		{
			name:      "own customisation without status keeps the default",
			responses: map[string]apigw.GatewayResponse{apigw.MissingAuthenticationToken: {Templates: jsonTpl(`{"own":true}`)}},
			method:    "GET", path: "/prod/nothing",
			wantStatus: 403, wantBody: `{"own":true}`, wantErrType: "MissingAuthenticationTokenException",
		},
		{
			name:      "DEFAULT_5XX does not shape a 4XX",
			responses: map[string]apigw.GatewayResponse{apigw.Default5XX: {StatusCode: 503, Templates: jsonTpl(`{"five":true}`)}},
			method:    "GET", path: "/prod/nothing",
			wantStatus: 403, wantBody: `{"message":"Missing Authentication Token"}`, wantErrType: "MissingAuthenticationTokenException",
		},
		{
			name:      "DEFAULT_5XX shapes an authorizer failure",
			responses: map[string]apigw.GatewayResponse{apigw.Default5XX: {Templates: jsonTpl(`{"code":-32603,"message":$context.error.messageString,"type":"$context.error.responseType"}`)}},
			method:    "POST", path: "/prod/mcp", header: bearer("boom"),
			wantStatus: 500, wantErrType: "AuthorizerConfigurationException",
			wantBody: `{"code":-32603,"message":null,"type":"AUTHORIZER_FAILURE"}`,
		},
		{
			name:      "only template is used whatever its type",
			responses: map[string]apigw.GatewayResponse{apigw.MissingAuthenticationToken: {Templates: map[string]string{"text/plain": `no $context.httpMethod here`}}},
			method:    "DELETE", path: "/prod/nothing",
			wantStatus: 403, wantBody: `no DELETE here`, wantErrType: "MissingAuthenticationTokenException",
			wantHeaders: map[string]string{"Content-Type": "application/json"},
		},
		{
			name: "integration error is a 502",
			integration: func(context.Context, events.APIGatewayProxyRequest) (*apigw.IntegrationResponse, error) {
				return nil, errors.New("function crashed")
			},
			method: "GET", path: "/prod/.well-known/x",
			wantStatus: 502, wantErrType: "InternalServerErrorException",
			wantBody: `{"message": "Internal server error"}`,
		},
		{
			name: "malformed proxy response is a 502",
			integration: func(context.Context, events.APIGatewayProxyRequest) (*apigw.IntegrationResponse, error) {
				return &apigw.IntegrationResponse{StatusCode: 42}, nil
			},
			method: "GET", path: "/prod/.well-known/x",
			wantStatus: 502, wantErrType: "InternalServerErrorException",
			wantBody: `{"message": "Internal server error"}`,
		},
		{
			name:      "integration error through DEFAULT_5XX",
			responses: map[string]apigw.GatewayResponse{apigw.Default5XX: {Templates: jsonTpl(`{"code":-32603,"message":$context.error.messageString}`)}},
			integration: func(context.Context, events.APIGatewayProxyRequest) (*apigw.IntegrationResponse, error) {
				return nil, errors.New("function crashed")
			},
			method: "GET", path: "/prod/.well-known/x",
			wantStatus: 502, wantErrType: "InternalServerErrorException",
			wantBody: `{"code":-32603,"message":"Internal server error"}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := &backend{response: tt.integration}
			_, srv := setup(t, b, func(c *apigw.Config) { c.GatewayResponses = tt.responses })
			res := send(t, srv, tt.method, tt.path, tt.header, "")
			reqID := res.header.Get("X-Amzn-Requestid")
			if res.status != tt.wantStatus {
				t.Fatalf("status %d, want %d (body %s)", res.status, tt.wantStatus, res.body)
			}
			if got := res.header.Get("X-Amzn-Errortype"); got != tt.wantErrType {
				t.Errorf("X-Amzn-Errortype %q, want %q", got, tt.wantErrType)
			}
			if want := strings.ReplaceAll(tt.wantBody, "{requestId}", reqID); res.body != want {
				t.Errorf("body\n%s\nwant\n%s", res.body, want)
			}
			for k, v := range tt.wantHeaders {
				if want := strings.ReplaceAll(v, "{requestId}", reqID); res.header.Get(k) != want {
					t.Errorf("%s: %q, want %q", k, res.header.Get(k), want)
				}
			}
			// Gateway responses are not remapped.
			for k := range res.header {
				if strings.HasPrefix(strings.ToLower(k), "x-amzn-remapped-") {
					t.Errorf("remapped header %s on a gateway response", k)
				}
			}
		})
	}
}

func TestRemapIntegrationHeaders(t *testing.T) {
	tests := []struct {
		name string
		in   http.Header
		want http.Header
	}{
		{
			name: "remapped",
			in: http.Header{
				"WWW-Authenticate": {`Bearer realm="mcp"`}, "Authorization": {"a"}, "Connection": {"close"},
				"Content-MD5": {"md5"}, "Date": {"Mon, 01 Jan 2001 00:00:00 GMT"}, "Max-Forwards": {"3"},
				"Server": {"lambda"}, "User-Agent": {"fn"},
			},
			want: http.Header{
				"X-Amzn-Remapped-Www-Authenticate": {`Bearer realm="mcp"`}, "X-Amzn-Remapped-Authorization": {"a"},
				"X-Amzn-Remapped-Connection": {"close"}, "X-Amzn-Remapped-Content-Md5": {"md5"},
				"X-Amzn-Remapped-Date": {"Mon, 01 Jan 2001 00:00:00 GMT"}, "X-Amzn-Remapped-Max-Forwards": {"3"},
				"X-Amzn-Remapped-Server": {"lambda"}, "X-Amzn-Remapped-User-Agent": {"fn"},
			},
		},
		{
			name: "dropped",
			in: http.Header{
				"Expect": {"100-continue"}, "Proxy-Authenticate": {"Basic"}, "Te": {"trailers"},
				"Trailer": {"X-Sum"}, "Transfer-Encoding": {"chunked"}, "Upgrade": {"h2c"},
			},
			want: http.Header{},
		},
		{
			name: "passed through",
			in: http.Header{
				"Content-Type": {"text/event-stream"}, "Cache-Control": {"no-cache"},
				"Mcp-Session-Id": {"s1"}, "Set-Cookie": {"a=1", "b=2"}, "Content-Length": {"12"},
			},
			want: http.Header{
				"Content-Type": {"text/event-stream"}, "Cache-Control": {"no-cache"},
				"Mcp-Session-Id": {"s1"}, "Set-Cookie": {"a=1", "b=2"}, "Content-Length": {"12"},
			},
		},
		{
			name: "names compare case-insensitively",
			in:   http.Header{"www-authenticate": {"Basic"}, "WWW-AUTHENTICATE": {"Bearer"}, "transfer-encoding": {"chunked"}, "content-type": {"text/plain"}},
			want: http.Header{"X-Amzn-Remapped-Www-Authenticate": {"Bearer", "Basic"}, "Content-Type": {"text/plain"}},
		},
		{name: "nil", in: nil, want: http.Header{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := tt.in.Clone()
			got := apigw.RemapIntegrationHeaders(tt.in)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v\nwant %v", got, tt.want)
			}
			if !reflect.DeepEqual(tt.in, in) {
				t.Errorf("input modified: %v", tt.in)
			}
		})
	}
}

func TestIntegrationResponseRemapped(t *testing.T) {
	clock := newClock()
	lambdaDate := "Mon, 01 Jan 2001 00:00:00 GMT"
	b := &backend{response: func(context.Context, events.APIGatewayProxyRequest) (*apigw.IntegrationResponse, error) {
		return &apigw.IntegrationResponse{
			StatusCode: http.StatusUnauthorized,
			Header: http.Header{
				"WWW-Authenticate":  {`Bearer resource_metadata="https://example.test/prm"`},
				"Content-Type":      {"application/json"},
				"Date":              {lambdaDate},
				"Server":            {"lambda"},
				"Transfer-Encoding": {"chunked"},
				"X-Custom":          {"1"},
			},
			Body: io.NopCloser(strings.NewReader(`{"error":"invalid_token"}`)),
		}, nil
	}}
	g, srv := setup(t, b, func(c *apigw.Config) { c.Now = clock.Now })

	t.Run("through HTTP", func(t *testing.T) {
		res := send(t, srv, "GET", "/prod/.well-known/x", nil, "")
		checks := []struct{ header, want string }{
			{"WWW-Authenticate", ""},
			{"X-Amzn-Remapped-WWW-Authenticate", `Bearer resource_metadata="https://example.test/prm"`},
			{"Content-Type", "application/json"},
			{"Date", clock.Now().Format(http.TimeFormat)},
			{"X-Amzn-Remapped-Date", lambdaDate},
			{"Server", ""},
			{"X-Amzn-Remapped-Server", "lambda"},
			{"X-Amzn-Remapped-Transfer-Encoding", ""},
			{"X-Custom", "1"},
			{"X-Amzn-Errortype", ""},
		}
		if res.status != http.StatusUnauthorized || res.body != `{"error":"invalid_token"}` {
			t.Fatalf("got %d %s", res.status, res.body)
		}
		for _, c := range checks {
			if got := res.header.Get(c.header); got != c.want {
				t.Errorf("%s: %q, want %q", c.header, got, c.want)
			}
		}
		if res.header.Get("X-Amzn-Requestid") == "" {
			t.Error("no X-Amzn-Requestid")
		}
	})
	t.Run("wire spelling", func(t *testing.T) {
		rec := httptest.NewRecorder()
		g.ServeHTTP(rec, httptest.NewRequest("GET", "/prod/.well-known/x", nil))
		h := rec.Header()
		//lint:ignore SA1008 API Gateway's own spelling of the name is what is checked
		if _, ok := h["x-amzn-Remapped-WWW-Authenticate"]; !ok {
			t.Errorf("no x-amzn-Remapped-WWW-Authenticate in %v", h)
		}
		if _, ok := h["Transfer-Encoding"]; ok {
			t.Error("Transfer-Encoding passed through")
		}
	})
}

// TestStreaming proves that every chunk is flushed: the function writes its
// second event only after the client has read the first, which the client
// can do only if the gateway flushed it.
func TestStreaming(t *testing.T) {
	firstRead := make(chan struct{})
	b := &backend{response: func(ctx context.Context, _ events.APIGatewayProxyRequest) (*apigw.IntegrationResponse, error) {
		pr, pw := io.Pipe()
		go func() {
			_, _ = io.WriteString(pw, "data: one\n\n")
			select {
			case <-firstRead:
			case <-ctx.Done():
				pw.CloseWithError(ctx.Err())
				return
			}
			_, _ = io.WriteString(pw, "data: two\n\n")
			pw.Close()
		}()
		return &apigw.IntegrationResponse{
			StatusCode: 200,
			Header:     http.Header{"Content-Type": {"text/event-stream"}},
			Body:       pr,
		}, nil
	}}
	_, srv := setup(t, b, nil)

	// The deadline only turns a missing flush into a failure instead of a
	// hang; nothing is timed.
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/prod/.well-known/events", nil)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("Content-Type %q", ct)
	}
	r := bufio.NewReader(resp.Body)
	want := []string{"data: one\n", "\n", "data: two\n", "\n"}
	for i, w := range want {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("line %d: %v", i, err)
		}
		if line != w {
			t.Fatalf("line %d: %q, want %q", i, line, w)
		}
		if i == 1 {
			close(firstRead)
		}
	}
	if rest, err := io.ReadAll(r); err != nil || len(rest) != 0 {
		t.Fatalf("after the events: %q, %v", rest, err)
	}
}

// closeRecorder is a pipe reader that reports its Close.
type closeRecorder struct {
	*io.PipeReader
	closed chan struct{}
	once   sync.Once
}

func (c *closeRecorder) Close() error {
	c.once.Do(func() { close(c.closed) })
	return c.PipeReader.Close()
}

func TestClientCancellation(t *testing.T) {
	tests := []struct {
		name string
		// cooperative bodies end when the ctx does; the others block until
		// the gateway closes them.
		cooperative bool
	}{
		{name: "body ends with the ctx", cooperative: true},
		{name: "body only the gateway can end"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctxDone := make(chan struct{})
			body := &closeRecorder{closed: make(chan struct{})}
			b := &backend{response: func(ctx context.Context, _ events.APIGatewayProxyRequest) (*apigw.IntegrationResponse, error) {
				pr, pw := io.Pipe()
				body.PipeReader = pr
				go func() {
					_, _ = io.WriteString(pw, "data: first\n\n")
					<-ctx.Done()
					close(ctxDone)
					if tt.cooperative {
						pw.CloseWithError(ctx.Err())
					}
				}()
				return &apigw.IntegrationResponse{StatusCode: 200, Header: http.Header{"Content-Type": {"text/event-stream"}}, Body: body}, nil
			}}
			_, srv := setup(t, b, nil)

			ctx, cancel := context.WithCancel(t.Context())
			req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/prod/.well-known/events", nil)
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			line, err := bufio.NewReader(resp.Body).ReadString('\n')
			if err != nil || line != "data: first\n" {
				t.Fatalf("first line %q, %v", line, err)
			}
			cancel()
			resp.Body.Close()

			// Generous bounds that only keep a broken gateway from hanging
			// the test.
			for _, w := range []struct {
				what string
				ch   chan struct{}
			}{{"integration ctx cancelled", ctxDone}, {"body closed", body.closed}} {
				select {
				case <-w.ch:
				case <-time.After(time.Minute):
					t.Fatalf("%s: never happened", w.what)
				}
			}
		})
	}
}

func TestBodyLimit(t *testing.T) {
	tests := []struct {
		name        string
		max         int64 // Config.MaxBodyBytes; 0 is the default 10 MB
		size        int64
		chunked     bool // no Content-Length: the limit is found while reading
		wantStatus  int
		wantInvoked bool
	}{
		{name: "at the limit", max: 1024, size: 1024, wantStatus: 200, wantInvoked: true},
		{name: "over the limit", max: 1024, size: 1025, wantStatus: 413},
		{name: "over the limit, chunked", max: 1024, size: 1025, chunked: true, wantStatus: 413},
		{name: "at the limit, chunked", max: 1024, size: 1024, chunked: true, wantStatus: 200, wantInvoked: true},
		{name: "default 10 MB", size: 10<<20 + 1, chunked: true, wantStatus: 413},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := &backend{}
			g, _ := setup(t, b, func(c *apigw.Config) { c.MaxBodyBytes = tt.max })
			req := httptest.NewRequest("POST", "/prod/.well-known/upload", bytes.NewReader(bytes.Repeat([]byte("x"), int(tt.size))))
			if tt.chunked {
				req.ContentLength = -1
			}
			rec := httptest.NewRecorder()
			g.ServeHTTP(rec, req)
			if rec.Code != tt.wantStatus {
				t.Fatalf("status %d, want %d", rec.Code, tt.wantStatus)
			}
			if invoked := b.proxyCalls() > 0; invoked != tt.wantInvoked {
				t.Fatalf("integration invoked: %v", invoked)
			}
			if tt.wantInvoked {
				if got := int64(len(b.lastProxy(t).Body)); got != tt.size {
					t.Errorf("body of %d bytes reached the function, want %d", got, tt.size)
				}
				return
			}
			if got := rec.Body.String(); got != `{"message":"Request Too Long"}` {
				t.Errorf("body %s", got)
			}
			if got := rec.Header().Get("X-Amzn-Errortype"); got != "RequestTooLargeException" {
				t.Errorf("X-Amzn-Errortype %q", got)
			}
		})
	}
}

func TestProxyEvent(t *testing.T) {
	clock := newClock()
	tests := []struct {
		name   string
		method string
		path   string
		header http.Header
		body   string
		check  func(t *testing.T, ev events.APIGatewayProxyRequest, reqID string)
	}{
		{
			name: "query, repeated headers, path parameter", method: "GET", path: "/prod/items/42?a=1&a=2&b=x",
			header: http.Header{"X-Multi": {"one", "two"}, "Host": {"api.example.test"}, "User-Agent": {"ua/1"}},
			check: func(t *testing.T, ev events.APIGatewayProxyRequest, reqID string) {
				want := events.APIGatewayProxyRequest{
					Resource: "/items/{id}", Path: "/items/42", HTTPMethod: "GET",
					QueryStringParameters:           map[string]string{"a": "2", "b": "x"},
					MultiValueQueryStringParameters: map[string][]string{"a": {"1", "2"}, "b": {"x"}},
					PathParameters:                  map[string]string{"id": "42"},
					RequestContext: events.APIGatewayProxyRequestContext{
						AccountID: "123456789012", ResourceID: "item01", Stage: "prod",
						DomainName: "api.example.test", DomainPrefix: "api", RequestID: reqID,
						ExtendedRequestID: ev.RequestContext.ExtendedRequestID, Protocol: "HTTP/1.1",
						Identity:     events.APIGatewayRequestIdentity{SourceIP: "127.0.0.1", UserAgent: "ua/1"},
						ResourcePath: "/items/{id}", Path: "/prod/items/42", HTTPMethod: "GET",
						RequestTime: "01/Mar/2026:12:00:00 +0000", RequestTimeEpoch: clock.Now().UnixMilli(), APIID: "abc123",
					},
				}
				got := ev
				got.Headers, got.MultiValueHeaders = nil, nil
				if !reflect.DeepEqual(got, want) {
					t.Errorf("event\n%+v\nwant\n%+v", got, want)
				}
				for k, v := range map[string]string{"X-Multi": "two", "Host": "api.example.test", "User-Agent": "ua/1", "X-Forwarded-For": "127.0.0.1"} {
					if ev.Headers[k] != v {
						t.Errorf("Headers[%s] = %q, want %q", k, ev.Headers[k], v)
					}
				}
				if !reflect.DeepEqual(ev.MultiValueHeaders["X-Multi"], []string{"one", "two"}) {
					t.Errorf("MultiValueHeaders[X-Multi] = %q", ev.MultiValueHeaders["X-Multi"])
				}
				if ev.RequestContext.ExtendedRequestID == "" {
					t.Error("no extendedRequestId")
				}
			},
		},
		{
			name: "body, no query, NONE method", method: "POST", path: "/prod/.well-known/x", body: `{"a":1}`,
			check: func(t *testing.T, ev events.APIGatewayProxyRequest, _ string) {
				if ev.Body != `{"a":1}` || ev.IsBase64Encoded {
					t.Errorf("body %q base64 %v", ev.Body, ev.IsBase64Encoded)
				}
				if ev.QueryStringParameters != nil || ev.MultiValueQueryStringParameters != nil || ev.StageVariables != nil {
					t.Errorf("empty maps not nil: %v %v %v", ev.QueryStringParameters, ev.MultiValueQueryStringParameters, ev.StageVariables)
				}
				if ev.RequestContext.Authorizer != nil {
					t.Errorf("authorizer %v on a NONE method", ev.RequestContext.Authorizer)
				}
				if ev.RequestContext.ResourceID == "" {
					t.Error("no resourceId")
				}
			},
		},
		{
			name: "encoded path", method: "GET", path: "/prod/items/a%20b",
			check: func(t *testing.T, ev events.APIGatewayProxyRequest, _ string) {
				if ev.Path != "/items/a b" || ev.PathParameters["id"] != "a b" {
					t.Errorf("path %q params %v", ev.Path, ev.PathParameters)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := &backend{}
			_, srv := setup(t, b, func(c *apigw.Config) { c.Now = clock.Now })
			res := send(t, srv, tt.method, tt.path, tt.header, tt.body)
			if res.status != 200 {
				t.Fatalf("status %d: %s", res.status, res.body)
			}
			tt.check(t, b.lastProxy(t), res.header.Get("X-Amzn-Requestid"))
		})
	}
}

func TestNew(t *testing.T) {
	invoke := (&backend{}).authorizer
	integ := (&backend{}).integration
	reqAuth := func() map[string]*apigw.Authorizer {
		return map[string]*apigw.Authorizer{"az1": {Type: "REQUEST", IdentitySource: "method.request.header.Authorization", Invoke: invoke}}
	}
	custom := map[string]apigw.Method{"POST": {AuthorizationType: "CUSTOM", AuthorizerID: "az1", Integration: true}}
	tests := []struct {
		name    string
		cfg     apigw.Config
		wantErr string // "" means valid
	}{
		{name: "valid", cfg: apigw.Config{Resources: []apigw.Resource{{Path: "/mcp", Methods: custom}}, Authorizers: reqAuth(), Integration: integ}},
		{name: "empty", cfg: apigw.Config{}},
		{name: "unknown authorizer id",
			cfg:     apigw.Config{Resources: []apigw.Resource{{Path: "/mcp", Methods: map[string]apigw.Method{"POST": {AuthorizationType: "CUSTOM", AuthorizerID: "nope"}}}}, Authorizers: reqAuth()},
			wantErr: `unknown authorizer id "nope"`},
		{name: "CUSTOM without authorizer",
			cfg:     apigw.Config{Resources: []apigw.Resource{{Path: "/mcp", Methods: map[string]apigw.Method{"POST": {AuthorizationType: "CUSTOM"}}}}},
			wantErr: "CUSTOM without an authorizer id"},
		{name: "TOKEN authorizer",
			cfg:     apigw.Config{Authorizers: map[string]*apigw.Authorizer{"t": {Type: "TOKEN", IdentitySource: "method.request.header.Authorization"}}},
			wantErr: `type "TOKEN" is not supported`},
		{name: "authorizer without function",
			cfg: apigw.Config{Resources: []apigw.Resource{{Path: "/mcp", Methods: custom}}, Integration: integ,
				Authorizers: map[string]*apigw.Authorizer{"az1": {Type: "REQUEST", IdentitySource: "method.request.header.Authorization"}}},
			wantErr: "no Invoke function"},
		{name: "authorizer under another id",
			cfg:     apigw.Config{Authorizers: map[string]*apigw.Authorizer{"az1": {ID: "az2", Type: "REQUEST", Invoke: invoke}}},
			wantErr: "listed under id"},
		{name: "identity source from the body",
			cfg:     apigw.Config{Authorizers: map[string]*apigw.Authorizer{"az1": {Type: "REQUEST", IdentitySource: "method.request.body.token", Invoke: invoke}}},
			wantErr: "not a supported mapping expression"},
		{name: "caching without identity source",
			cfg:     apigw.Config{Authorizers: map[string]*apigw.Authorizer{"az1": {Type: "REQUEST", TTL: time.Minute, Invoke: invoke}}},
			wantErr: "needs an identity source"},
		{name: "TTL over an hour",
			cfg:     apigw.Config{Authorizers: map[string]*apigw.Authorizer{"az1": {Type: "REQUEST", IdentitySource: "method.request.header.A", TTL: 2 * time.Hour, Invoke: invoke}}},
			wantErr: "out of range"},
		{name: "integration without Config.Integration",
			cfg:     apigw.Config{Resources: []apigw.Resource{{Path: "/x", Methods: map[string]apigw.Method{"GET": {Integration: true}}}}},
			wantErr: "Config.Integration is nil"},
		{name: "AWS_IAM", cfg: apigw.Config{Resources: []apigw.Resource{{Path: "/x", Methods: map[string]apigw.Method{"GET": {AuthorizationType: "AWS_IAM"}}}}},
			wantErr: `"AWS_IAM" is not supported`},
		{name: "unknown verb", cfg: apigw.Config{Resources: []apigw.Resource{{Path: "/x", Methods: map[string]apigw.Method{"FETCH": {}}}}},
			wantErr: "not an HTTP method"},
		{name: "relative path", cfg: apigw.Config{Resources: []apigw.Resource{{Path: "mcp"}}}, wantErr: "must start with /"},
		{name: "empty part", cfg: apigw.Config{Resources: []apigw.Resource{{Path: "/a//b"}}}, wantErr: "empty path part"},
		{name: "greedy not last", cfg: apigw.Config{Resources: []apigw.Resource{{Path: "/a/{proxy+}/b"}}}, wantErr: "must be the last part"},
		{name: "two variable siblings", cfg: apigw.Config{Resources: []apigw.Resource{{Path: "/{id}"}, {Path: "/{name}"}}}, wantErr: "sibling already has a variable"},
		{name: "variable and greedy siblings", cfg: apigw.Config{Resources: []apigw.Resource{{Path: "/{id}"}, {Path: "/{proxy+}"}}}, wantErr: "sibling already has a variable"},
		{name: "half a variable", cfg: apigw.Config{Resources: []apigw.Resource{{Path: "/a{id}"}}}, wantErr: "whole part"},
		{name: "resource twice", cfg: apigw.Config{Resources: []apigw.Resource{{Path: "/mcp"}, {Path: "/mcp"}}}, wantErr: "listed twice"},
		{name: "unknown response type", cfg: apigw.Config{GatewayResponses: map[string]apigw.GatewayResponse{"NOT_A_TYPE": {}}}, wantErr: "unknown response type"},
		{name: "unquoted static value",
			cfg:     apigw.Config{GatewayResponses: map[string]apigw.GatewayResponse{apigw.Unauthorized: {Parameters: map[string]string{"gatewayresponse.header.WWW-Authenticate": "Bearer"}}}},
			wantErr: "not a supported mapping expression"},
		{name: "not a header parameter",
			cfg:     apigw.Config{GatewayResponses: map[string]apigw.GatewayResponse{apigw.Unauthorized: {Parameters: map[string]string{"gatewayresponse.querystring.x": "'1'"}}}},
			wantErr: "only gatewayresponse.header.NAME"},
		{name: "bad header name",
			cfg:     apigw.Config{GatewayResponses: map[string]apigw.GatewayResponse{apigw.Unauthorized: {Parameters: map[string]string{"gatewayresponse.header.X Y": "'1'"}}}},
			wantErr: "only gatewayresponse.header.NAME"},
		{name: "multi-value source in a response",
			cfg:     apigw.Config{GatewayResponses: map[string]apigw.GatewayResponse{apigw.Unauthorized: {Parameters: map[string]string{"gatewayresponse.header.X": "method.request.multivalueheader.X"}}}},
			wantErr: "cannot be used here"},
		{name: "status out of range", cfg: apigw.Config{GatewayResponses: map[string]apigw.GatewayResponse{apigw.Unauthorized: {StatusCode: 700}}}, wantErr: "status code 700"},
		{name: "ambiguous templates",
			cfg:     apigw.Config{GatewayResponses: map[string]apigw.GatewayResponse{apigw.Unauthorized: {Templates: map[string]string{"text/plain": "a", "text/html": "b"}}}},
			wantErr: "several templates"},
		{name: "bad stage", cfg: apigw.Config{Stage: "a/b"}, wantErr: "not a stage name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := apigw.New(tt.cfg)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("New: %v", err)
			case tt.wantErr == "" && g == nil:
				t.Fatal("New returned nil")
			case tt.wantErr != "" && err == nil:
				t.Fatalf("New accepted it; want an error with %q", tt.wantErr)
			case tt.wantErr != "" && !strings.Contains(err.Error(), tt.wantErr):
				t.Fatalf("error %q, want %q in it", err, tt.wantErr)
			}
		})
	}
}
