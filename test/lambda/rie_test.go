// Package lambda_test runs bin/mcp-server as a Lambda function under the
// Lambda Runtime Interface Emulator (aws-lambda-rie), with real REST API
// proxy events: the same binary, the same runtime API, the same streaming
// response framing as on AWS (the emulator buffers the stream, so
// incremental delivery is proven by the lambdahttp tests instead).
package lambda_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"mcplambda/server/dynamostore"
	"mcplambda/test/moto"
	"mcplambda/test/testproc"
)

const (
	apiHost  = "abc123.execute-api.us-east-1.amazonaws.com"
	resource = "https://" + apiHost + "/prod/mcp"
	apiKey   = "rie-test-key-0123456789"
	stateKey = "bWNwbGFtYmRhLXRlc3Qtc3RhdGUta2V5LTAxMjM0NTY3ODk="
)

// binDir outlives the tests: every test shares one race-enabled build.
var binDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "mcp-lambda-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

func buildServer(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(binDir, "mcp-server")
	if _, err := os.Stat(bin); err == nil {
		return bin
	}
	cmd := exec.Command("go", "build", "-race", "-tags", "lambda.norpc", "-o", bin, "./cmd/mcp-server")
	cmd.Dir = testproc.RepoRoot(t)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building mcp-server: %v\n%s", err, out)
	}
	return bin
}

// function is one Lambda execution environment: the emulator running the
// server binary.
type function struct {
	t    *testing.T
	url  string
	proc *testproc.Process
}

func startFunction(t *testing.T, env ...string) *function {
	t.Helper()
	rie := testproc.RIE(t)
	bin := buildServer(t)
	apiPort, port := testproc.FreePort(t), testproc.FreePort(t)
	p := testproc.Start(t, rie, testproc.Options{
		Name:  "aws-lambda-rie",
		Args:  []string{"--runtime-api-address", fmt.Sprintf("127.0.0.1:%d", apiPort), "--runtime-interface-emulator-address", fmt.Sprintf("127.0.0.1:%d", port), bin},
		Unset: append(testproc.ServerEnv(), "AWS_ENDPOINT_URL"),
		Env:   append([]string{"BEDROCK_LOG_SOURCE=sample", "MCP_RESOURCE_URL=" + resource, "REQUEST_STATE_KEY=" + stateKey}, env...),
	})
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	p.WaitListening(t, addr, 30*time.Second)
	t.Cleanup(func() { _ = p.Stop(t) }) // the emulator's exit status is not ours to judge
	return &function{t: t, url: "http://" + addr + "/2015-03-31/functions/function/invocations", proc: p}
}

// event is a REST API proxy event as API Gateway sends it.
type event struct {
	Resource        string            `json:"resource"`
	Path            string            `json:"path"`
	HTTPMethod      string            `json:"httpMethod"`
	Headers         map[string]string `json:"headers"`
	PathParameters  map[string]string `json:"pathParameters,omitempty"`
	Body            string            `json:"body,omitempty"`
	IsBase64Encoded bool              `json:"isBase64Encoded"`
	RequestContext  map[string]any    `json:"requestContext"`
}

type response struct {
	Status  int               `json:"statusCode"`
	Headers map[string]string `json:"headers"`
	Body    string
}

func (f *function) invoke(ev event) response {
	f.t.Helper()
	if ev.RequestContext == nil {
		ev.RequestContext = map[string]any{}
	}
	ev.RequestContext["stage"] = "prod"
	ev.RequestContext["domainName"] = apiHost
	ev.RequestContext["identity"] = map[string]any{"sourceIp": "203.0.113.9"}
	if ev.Headers == nil {
		ev.Headers = map[string]string{}
	}
	ev.Headers["Host"] = apiHost
	b, _ := json.Marshal(ev)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, f.url, bytes.NewReader(b))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatalf("invoke: %v\n%s", err, f.proc.Tail(30))
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(res.Body, 8<<20))
	// A streaming response is the JSON prelude, eight NUL bytes, the body.
	prelude, body, ok := bytes.Cut(raw, make([]byte, 8))
	var r response
	if !ok || json.Unmarshal(prelude, &r) != nil || r.Status == 0 {
		f.t.Fatalf("not a streaming HTTP integration response: %q\n%s", raw, f.proc.Tail(30))
	}
	r.Body = string(body)
	return r
}

func mcpPost(body, session string, authorizer map[string]any, headers ...string) event {
	h := map[string]string{"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
	if session != "" {
		h["Mcp-Session-Id"] = session
		h["MCP-Protocol-Version"] = "2025-11-25"
	}
	for i := 0; i+1 < len(headers); i += 2 {
		h[headers[i]] = headers[i+1]
	}
	ev := event{Resource: "/mcp", Path: "/mcp", HTTPMethod: http.MethodPost, Headers: h, Body: body}
	if authorizer != nil {
		ev.RequestContext = map[string]any{"authorizer": authorizer}
	}
	return ev
}

const initialize = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"rie-test","version":"1"}}}`

// ourAuthorizer is the context cmd/mcp-authorizer attaches.
func ourAuthorizer(sub string) map[string]any {
	return map[string]any{"principalId": sub, "sub": sub, "client_id": "client-1", "scope": "mcp", "iss": "https://issuer.example", "auth": "jwt"}
}

func keyHash(k string) string { s := sha256.Sum256([]byte(k)); return hex.EncodeToString(s[:]) }

func TestLambdaModeUnderEmulator(t *testing.T) {
	f := startFunction(t, "AUTH_METHOD=lambda", "API_KEY_SHA256="+keyHash(apiKey))
	alice := ourAuthorizer("alice")

	r := f.invoke(mcpPost(initialize, "", alice))
	sid := r.Headers["Mcp-Session-Id"]
	if r.Status != 200 || sid == "" || !strings.Contains(r.Body, `"protocolVersion":"2025-11-25"`) {
		t.Fatalf("initialize: %+v", r)
	}
	if r := f.invoke(mcpPost(`{"jsonrpc":"2.0","method":"notifications/initialized"}`, sid, alice)); r.Status != 202 {
		t.Fatalf("initialized: %+v", r)
	}
	r = f.invoke(mcpPost(`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"multi-greet","arguments":{"name":"Ada"}}}`, sid, alice))
	if r.Status != 200 || r.Headers["Content-Type"] != "text/event-stream" || strings.Count(r.Body, "notifications/message") != 3 ||
		!strings.Contains(r.Body, "Good morning, Ada!") || strings.Index(r.Body, "Sending second greeting") > strings.Index(r.Body, "Good morning") {
		t.Fatalf("multi-greet: %+v", r)
	}
	// Another principal cannot drive alice's session.
	if r := f.invoke(mcpPost(`{"jsonrpc":"2.0","id":3,"method":"tools/list"}`, sid, ourAuthorizer("mallory"))); r.Status != 404 {
		t.Fatalf("foreign session: %+v", r)
	}
	// The same API under a custom domain with a base path mapping.
	custom := mcpPost(`{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"greet","arguments":{"name":"Bo"}}}`, sid, alice)
	custom.Path = "/v1/mcp"
	if r := f.invoke(custom); r.Status != 200 || !strings.Contains(r.Body, "Hello, Bo!") {
		t.Fatalf("custom domain path: %+v", r)
	}
	// Without authorizer context (a method left without the authorizer) the
	// server checks the credentials itself: never "any Bearer string".
	for _, tc := range []struct {
		name, auth string
		want       int
	}{
		{"no token", "", 401},
		{"wrong key", "Bearer not-the-key", 401},
		{"valid key", "Bearer " + apiKey, 200},
	} {
		var hdr []string
		if tc.auth != "" {
			hdr = []string{"Authorization", tc.auth}
		}
		r := f.invoke(mcpPost(initialize, "", nil, hdr...))
		if r.Status != tc.want || (tc.want == 401 && !strings.HasPrefix(r.Headers["Www-Authenticate"], "Bearer")) {
			t.Errorf("%s: %+v", tc.name, r)
		}
	}
	if r := f.invoke(event{Resource: "/mcp", Path: "/mcp", HTTPMethod: http.MethodDelete, Headers: map[string]string{"Mcp-Session-Id": sid}, RequestContext: map[string]any{"authorizer": alice}}); r.Status != 200 && r.Status != 204 {
		t.Fatalf("delete: %+v", r)
	}
	if r := f.invoke(mcpPost(`{"jsonrpc":"2.0","id":5,"method":"tools/list"}`, sid, alice)); r.Status != 404 {
		t.Fatalf("after delete: %+v", r)
	}
}

// In oauth mode the advertised URLs carry the stage: the metadata and the
// challenge point where a client really reaches them.
func TestOAuthDiscoveryUnderEmulator(t *testing.T) {
	f := startFunction(t, "AUTH_METHOD=oauth", "OAUTH_ISSUER=https://issuer.example", "OAUTH_JWKS_URL=http://127.0.0.1:9/jwks.json")
	r := f.invoke(event{Resource: "/.well-known/{proxy+}", Path: "/.well-known/oauth-protected-resource/mcp", HTTPMethod: http.MethodGet,
		PathParameters: map[string]string{"proxy": "oauth-protected-resource/mcp"}})
	var md struct {
		Resource             string   `json:"resource"`
		AuthorizationServers []string `json:"authorization_servers"`
	}
	if r.Status != 200 || json.Unmarshal([]byte(r.Body), &md) != nil || md.Resource != resource || len(md.AuthorizationServers) != 1 || md.AuthorizationServers[0] != "https://issuer.example" {
		t.Fatalf("metadata: %+v", r)
	}
	r = f.invoke(mcpPost(initialize, "", nil))
	want := `Bearer resource_metadata="https://` + apiHost + `/prod/.well-known/oauth-protected-resource/mcp"`
	if r.Status != 401 || r.Headers["Www-Authenticate"] != want {
		t.Fatalf("challenge: %+v\nwant %s", r, want)
	}
	// In oauth mode an authorizer context is not trusted: the token is.
	if r := f.invoke(mcpPost(initialize, "", ourAuthorizer("alice"))); r.Status != 401 {
		t.Fatalf("authorizer context trusted in oauth mode: %+v", r)
	}
}

// Sessions in DynamoDB: initialize on one execution environment, call on a
// second, end the session on the second, and the first knows it is gone.
func TestSessionsAcrossInstancesUnderEmulator(t *testing.T) {
	testproc.RIE(t)
	m := moto.Start(t)
	ctx := context.Background()
	table := "mcp-sessions-rie"
	if err := dynamostore.CreateTable(ctx, dynamodb.NewFromConfig(m.AWSConfig(ctx)), table); err != nil {
		t.Fatal(err)
	}
	env := append(m.Environ(), "AUTH_METHOD=lambda", "API_KEY_SHA256="+keyHash(apiKey), "SESSION_TABLE="+table)
	a, b := startFunction(t, env...), startFunction(t, env...)
	alice := ourAuthorizer("alice")

	r := a.invoke(mcpPost(initialize, "", alice))
	sid := r.Headers["Mcp-Session-Id"]
	if r.Status != 200 || sid == "" {
		t.Fatalf("initialize on A: %+v", r)
	}
	if r := b.invoke(mcpPost(`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"greet","arguments":{"name":"Ada"}}}`, sid, alice)); r.Status != 200 || !strings.Contains(r.Body, "Hello, Ada!") {
		t.Fatalf("tools/call on B: %+v", r)
	}
	if r := b.invoke(mcpPost(`{"jsonrpc":"2.0","id":3,"method":"tools/list"}`, sid, ourAuthorizer("mallory"))); r.Status != 404 {
		t.Fatalf("foreign principal on B: %+v", r)
	}
	if r := b.invoke(event{Resource: "/mcp", Path: "/mcp", HTTPMethod: http.MethodDelete, Headers: map[string]string{"Mcp-Session-Id": sid}, RequestContext: map[string]any{"authorizer": alice}}); r.Status != 200 && r.Status != 204 {
		t.Fatalf("delete on B: %+v", r)
	}
	if r := a.invoke(mcpPost(`{"jsonrpc":"2.0","id":4,"method":"tools/list"}`, sid, alice)); r.Status != 404 {
		t.Fatalf("A after delete on B: %+v", r)
	}
}

// A wrong SESSION_TABLE stops the function at start (an init error on
// Lambda), with the table named, instead of failing the first request.
func TestMissingSessionTableFailsAtStart(t *testing.T) {
	m := moto.Start(t)
	bin := buildServer(t)
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), m.Environ()...)
	cmd.Env = append(cmd.Env, "AWS_LAMBDA_RUNTIME_API=127.0.0.1:9", "AUTH_METHOD=lambda", "API_KEY_SHA256="+keyHash(apiKey),
		"MCP_RESOURCE_URL="+resource, "SESSION_TABLE=no-such-table", "BEDROCK_LOG_SOURCE=sample", "REQUEST_STATE_KEY="+stateKey)
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "SESSION_TABLE=no-such-table") {
		t.Fatalf("err %v, output:\n%s", err, out)
	}
}

// Every instance must open the requestState another sealed: without
// REQUEST_STATE_KEY the function refuses to start on Lambda, saying how to
// make one, and never echoes a malformed value.
func TestRequestStateKeyRequiredOnLambda(t *testing.T) {
	bin := buildServer(t)
	for _, tt := range []struct{ key, want string }{
		{"", "REQUEST_STATE_KEY is not set"},
		{"REQUEST_STATE_KEY=short-secret-value", "REQUEST_STATE_KEY"},
	} {
		cmd := exec.Command(bin)
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "AWS_LAMBDA_RUNTIME_API=127.0.0.1:9", "AUTH_METHOD=lambda", "API_KEY_SHA256=" + keyHash(apiKey),
			"MCP_RESOURCE_URL=" + resource, "BEDROCK_LOG_SOURCE=sample"}
		if tt.key != "" {
			cmd.Env = append(cmd.Env, tt.key)
		}
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), tt.want) || strings.Contains(string(out), "short-secret-value") {
			t.Errorf("%q: err %v, output:\n%s", tt.key, err, out)
		}
	}
}

// The stateless era needs no session store: without SESSION_TABLE, every
// request of protocol 2026-07-28 is served on its own, by whichever
// instance gets it, including both rounds of a multi-round-trip request
// (the requestState is sealed with REQUEST_STATE_KEY, which every instance
// shares).
func TestStatelessUnderEmulator(t *testing.T) {
	f := startFunction(t, "AUTH_METHOD=lambda", "API_KEY_SHA256="+keyHash(apiKey))
	alice := ourAuthorizer("alice")
	const meta = `"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{},"progressToken":"p"}`
	modern := func(method, name, params string) event {
		ev := mcpPost(`{"jsonrpc":"2.0","id":1,"method":"`+method+`","params":{`+params+meta+`}}`, "", alice,
			"MCP-Protocol-Version", "2026-07-28", "Mcp-Method", method)
		if name != "" {
			ev.Headers["Mcp-Name"] = name
		}
		return ev
	}
	r := f.invoke(modern("server/discover", "", ""))
	if r.Status != 200 || !strings.Contains(r.Body, `"supportedVersions":["2026-07-28"`) || !strings.Contains(r.Body, `"resultType":"complete"`) {
		t.Fatalf("discover: %+v", r)
	}
	r = f.invoke(modern("tools/call", "multi-greet", `"name":"multi-greet","arguments":{"name":"Ada"},`))
	if r.Status != 200 || r.Headers["Mcp-Session-Id"] != "" || !strings.Contains(r.Body, "Good morning, Ada!") ||
		!strings.Contains(r.Body, "notifications/progress") || strings.Contains(r.Body, "notifications/message") {
		t.Fatalf("multi-greet: %+v", r)
	}
	r = f.invoke(modern("tools/list", "", ""))
	if r.Status != 200 || !strings.Contains(r.Body, `"cacheScope":"public"`) {
		t.Fatalf("tools/list: %+v", r)
	}
	get := mcpPost("", "", alice)
	get.HTTPMethod = http.MethodGet
	if r := f.invoke(get); r.Status != 405 {
		t.Fatalf("GET without a session: %+v", r)
	}
}
