package authorizer

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"mcplambda/internal/authctx"
)

const (
	testARN      = "arn:aws:execute-api:us-east-1:123456789012:abc123defg/prod/POST/mcp"
	testResource = "https://api.example.com/prod/mcp"
)

var mcpResources = []string{
	"arn:aws:execute-api:us-east-1:123456789012:abc123defg/prod/POST/mcp",
	"arn:aws:execute-api:us-east-1:123456789012:abc123defg/prod/GET/mcp",
	"arn:aws:execute-api:us-east-1:123456789012:abc123defg/prod/DELETE/mcp",
}

// logBuffer collects the authorizer's log lines.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// lines decodes every log line, failing on anything that is not JSON.
func (l *logBuffer) lines(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(l.String()))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("log line is not JSON: %q", sc.Text())
		}
		out = append(out, m)
	}
	return out
}

// noSecrets fails if any secret, or anything that looks like a JWT, is in
// the logs.
func (l *logBuffer) noSecrets(t *testing.T, secrets ...string) {
	t.Helper()
	s := l.String()
	for _, sec := range secrets {
		if sec != "" && strings.Contains(s, sec) {
			t.Errorf("the logs contain a secret (%d bytes):\n%s", len(sec), s)
		}
	}
	if strings.Contains(s, "eyJ") {
		t.Errorf("the logs contain something that looks like a JWT:\n%s", s)
	}
}

func envFunc(env map[string]string) func(string) string {
	return func(k string) string { return env[k] }
}

// newAuthorizer builds an authorizer from environment variables exactly as
// cmd/mcp-authorizer does, logging into a buffer.
func newAuthorizer(t *testing.T, env map[string]string) (*Authorizer, *logBuffer) {
	t.Helper()
	cfg, err := ConfigFromEnv(t.Context(), envFunc(env))
	if err != nil {
		t.Fatalf("ConfigFromEnv: %v", err)
	}
	lb := &logBuffer{}
	cfg.Logger = slog.New(slog.NewJSONHandler(lb, nil))
	a, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return a, lb
}

// request is a REQUEST authorizer event as API Gateway sends it: the
// Authorization header in both header maps.
func request(arn, authorization string) events.APIGatewayCustomAuthorizerRequestTypeRequest {
	r := events.APIGatewayCustomAuthorizerRequestTypeRequest{
		Type:       "REQUEST",
		MethodArn:  arn,
		HTTPMethod: "POST",
		Path:       "/mcp",
		Resource:   "/mcp",
		Headers:    map[string]string{"Accept": "application/json, text/event-stream"},
		MultiValueHeaders: map[string][]string{
			"Accept": {"application/json, text/event-stream"},
		},
	}
	r.RequestContext.RequestID = "req-1"
	if authorization != "\x00none" {
		r.Headers["Authorization"] = authorization
		r.MultiValueHeaders["Authorization"] = []string{authorization}
	}
	return r
}

func bearer(tok string) events.APIGatewayCustomAuthorizerRequestTypeRequest {
	return request(testARN, "Bearer "+tok)
}

func handle(t *testing.T, a *Authorizer, req events.APIGatewayCustomAuthorizerRequestTypeRequest) (events.APIGatewayCustomAuthorizerResponse, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), contextTimeout)
	defer cancel()
	return a.Handle(ctx, req)
}

// wantUnauthorized checks the exact error API Gateway maps to 401, with
// no policy at all.
func wantUnauthorized(t *testing.T, resp events.APIGatewayCustomAuthorizerResponse, err error) {
	t.Helper()
	if !errors.Is(err, errUnauthorized) || err.Error() != "Unauthorized" {
		t.Fatalf("err = %v, want Unauthorized", err)
	}
	if resp.PrincipalID != "" || len(resp.PolicyDocument.Statement) != 0 || resp.Context != nil {
		t.Fatalf("a refusal carries a policy: %+v", resp)
	}
}

// wantPolicy checks a policy of one statement covering exactly the MCP
// methods of the stage.
func wantPolicy(t *testing.T, resp events.APIGatewayCustomAuthorizerResponse, err error, principal, effect string) {
	t.Helper()
	if err != nil {
		t.Fatalf("err = %v, want a %s policy", err, effect)
	}
	if resp.PrincipalID != principal {
		t.Errorf("principalId = %q, want %q", resp.PrincipalID, principal)
	}
	p := resp.PolicyDocument
	if p.Version != "2012-10-17" || len(p.Statement) != 1 {
		t.Fatalf("policy = %+v", p)
	}
	st := p.Statement[0]
	if st.Effect != effect || !slices.Equal(st.Action, []string{"execute-api:Invoke"}) || !slices.Equal(st.Resource, mcpResources) {
		t.Fatalf("statement = %+v, want %s on %q", st, effect, mcpResources)
	}
}

// checkContract asserts the context contract the server relies on: exactly
// these keys, with values API Gateway can pass on (strings and numbers, no
// nesting), naming a principal for lambdahttp.
func checkContract(t *testing.T, ctx map[string]any, want map[string]any) {
	t.Helper()
	keys := slices.Sorted(maps.Keys(ctx))
	if wantKeys := slices.Sorted(maps.Keys(want)); !slices.Equal(keys, wantKeys) {
		t.Fatalf("context keys = %q, want %q", keys, wantKeys)
	}
	for k, v := range ctx {
		switch v.(type) {
		case string, int64, bool, float64:
		default:
			t.Errorf("context %s has type %T: API Gateway accepts only strings, numbers and booleans", k, v)
		}
		if v != want[k] {
			t.Errorf("context %s = %#v, want %#v", k, v, want[k])
		}
	}
	// The same after the JSON round trip Lambda does.
	b, err := json.Marshal(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var back map[string]any
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	for k, v := range back {
		switch v.(type) {
		case string, float64, bool:
		default:
			t.Errorf("context %s is %T after JSON", k, v)
		}
	}
	// What the server makes of it, as API Gateway hands it over (the
	// authorizer's context plus its principalId).
	back["principalId"] = want["sub"]
	if !authctx.Present(back) {
		t.Errorf("the adapter does not see a principal in %v", back)
	}
	p, ok := authctx.Decode(back)
	if !ok {
		t.Fatalf("the server finds no principal in %v", back)
	}
	if p.Subject != want["sub"] || p.ClientID != want["client_id"] || p.Username != want["username"] ||
		p.Issuer != want["iss"] || strings.Join(p.Scopes, " ") != want["scope"] || p.Method != want["auth"] {
		t.Errorf("decoded identity %+v from context %v", p, back)
	}
	if exp, ok := want["exp"].(int64); ok && p.Expires.Unix() != exp {
		t.Errorf("decoded expiry %v, want %d", p.Expires, exp)
	}
}

func mustKey(t testing.TB) func(*rsa.PrivateKey, error) *rsa.PrivateKey {
	return func(k *rsa.PrivateKey, err error) *rsa.PrivateKey {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
}
