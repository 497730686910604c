package apigw_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"mcplambda/test/apigw"
)

// fakeClock is the injected Config.Now.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// backend records the events the integration and the authorizer receive.
type backend struct {
	mu       sync.Mutex
	proxy    []events.APIGatewayProxyRequest
	authz    []events.APIGatewayCustomAuthorizerRequestTypeRequest
	response func(ctx context.Context, ev events.APIGatewayProxyRequest) (*apigw.IntegrationResponse, error)
}

func (b *backend) integration(ctx context.Context, ev events.APIGatewayProxyRequest) (*apigw.IntegrationResponse, error) {
	b.mu.Lock()
	b.proxy = append(b.proxy, ev)
	respond := b.response
	b.mu.Unlock()
	if respond != nil {
		return respond(ctx, ev)
	}
	return &apigw.IntegrationResponse{
		StatusCode: http.StatusOK,
		Header:     http.Header{"Content-Type": {"text/plain"}},
		Body:       io.NopCloser(strings.NewReader("ok")),
	}, nil
}

func (b *backend) lastProxy(t *testing.T) events.APIGatewayProxyRequest {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.proxy) == 0 {
		t.Fatal("the integration was not invoked")
	}
	return b.proxy[len(b.proxy)-1]
}

func (b *backend) proxyCalls() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.proxy)
}

func (b *backend) lastAuthz(t *testing.T) events.APIGatewayCustomAuthorizerRequestTypeRequest {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.authz) == 0 {
		t.Fatal("the authorizer was not invoked")
	}
	return b.authz[len(b.authz)-1]
}

// authorizer behaves like ours: the token says what to answer.
//
//	unauth     the error "Unauthorized"
//	boom       another error
//	deny       an explicit Deny, context error=insufficient_scope
//	elsewhere  Allow for another path only
//	nested     Allow, with an object in the context
//	post-only  Allow POST /mcp only
//	anything else: Allow {POST,GET,DELETE} /mcp in this stage, with a context
//	of a string, an integer, a boolean and a fraction
func (b *backend) authorizer(_ context.Context, ev events.APIGatewayCustomAuthorizerRequestTypeRequest) (events.APIGatewayCustomAuthorizerResponse, error) {
	b.mu.Lock()
	b.authz = append(b.authz, ev)
	b.mu.Unlock()

	tok := strings.TrimPrefix(ev.Headers["Authorization"], "Bearer ")
	parts := strings.SplitN(ev.MethodArn, "/", 3) // arn...:API, STAGE, VERB/PATH
	base := parts[0] + "/" + parts[1]
	policy := func(effect string, resources ...string) events.APIGatewayCustomAuthorizerPolicy {
		return events.APIGatewayCustomAuthorizerPolicy{
			Version:   "2012-10-17",
			Statement: []events.IAMPolicyStatement{{Action: []string{"execute-api:Invoke"}, Effect: effect, Resource: resources}},
		}
	}
	switch tok {
	case "unauth":
		return events.APIGatewayCustomAuthorizerResponse{}, errors.New("Unauthorized")
	case "boom":
		return events.APIGatewayCustomAuthorizerResponse{}, errors.New("signing keys unavailable")
	case "deny":
		return events.APIGatewayCustomAuthorizerResponse{
			PrincipalID:    "user-1",
			PolicyDocument: policy("Deny", ev.MethodArn),
			Context:        map[string]any{"error": "insufficient_scope"},
		}, nil
	case "elsewhere":
		return events.APIGatewayCustomAuthorizerResponse{PrincipalID: "user-1", PolicyDocument: policy("Allow", base+"/GET/other")}, nil
	case "nested":
		return events.APIGatewayCustomAuthorizerResponse{
			PrincipalID:    "user-1",
			PolicyDocument: policy("Allow", base+"/*/mcp"),
			Context:        map[string]any{"claims": map[string]any{"sub": "x"}},
		}, nil
	case "post-only":
		return events.APIGatewayCustomAuthorizerResponse{PrincipalID: "user-1", PolicyDocument: policy("Allow", base+"/POST/mcp")}, nil
	}
	return events.APIGatewayCustomAuthorizerResponse{
		PrincipalID:    "user-" + tok,
		PolicyDocument: policy("Allow", base+"/POST/mcp", base+"/GET/mcp", base+"/DELETE/mcp"),
		Context: map[string]any{
			"sub": tok, "exp": int64(1700000000), "admin": true, "ratio": 0.5, "scope": "mcp",
		},
	}, nil
}

// baseResources mirror scripts/apigateway.sh, plus a few for routing.
func baseResources() []apigw.Resource {
	custom := apigw.Method{AuthorizationType: "CUSTOM", AuthorizerID: "az1", Integration: true}
	open := apigw.Method{AuthorizationType: "NONE", Integration: true}
	return []apigw.Resource{
		{Path: "/"},
		{Path: "/mcp", ID: "mcp001", Methods: map[string]apigw.Method{"POST": custom, "GET": custom, "DELETE": custom, "OPTIONS": open}},
		{Path: "/.well-known"},
		{Path: "/.well-known/{proxy+}", Methods: map[string]apigw.Method{"ANY": open}},
		{Path: "/.well-known/exact", Methods: map[string]apigw.Method{"GET": open}},
		{Path: "/items/{id}", ID: "item01", Methods: map[string]apigw.Method{"GET": open}},
		{Path: "/secure/{id}", Methods: map[string]apigw.Method{"GET": custom}},
		{Path: "/noint", Methods: map[string]apigw.Method{"GET": {AuthorizationType: "NONE"}}},
	}
}

// setup builds a gateway over b; change adjusts the config first.
func setup(t *testing.T, b *backend, change func(*apigw.Config)) (*apigw.Gateway, *httptest.Server) {
	t.Helper()
	cfg := apigw.Config{
		Resources: baseResources(),
		Authorizers: map[string]*apigw.Authorizer{
			"az1": {ID: "az1", Name: "mcp-authorizer", Type: "REQUEST", IdentitySource: "method.request.header.Authorization", Invoke: b.authorizer},
		},
		Integration: b.integration,
	}
	if change != nil {
		change(&cfg)
	}
	g, err := apigw.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	srv := httptest.NewServer(g)
	t.Cleanup(srv.Close)
	return g, srv
}

type result struct {
	status int
	header http.Header
	body   string
}

// send makes one request through srv; header values of "" are sent empty.
func send(t *testing.T, srv *httptest.Server, method, path string, header http.Header, body string) result {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	if h := header.Get("Host"); h != "" {
		req.Host = h
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return result{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

func bearer(tok string) http.Header {
	return http.Header{"Authorization": {"Bearer " + tok}}
}
