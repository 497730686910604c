package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"mcplambda/test/testproc"
)

// build compiles the binary exactly as it is deployed.
func build(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "bootstrap")
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-tags", "lambda.norpc", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// authEnv lists every variable the authorizer reads, so that the caller's
// environment cannot leak into a test.
var authEnv = []string{
	"API_KEY_SHA256", "MCP_PATH", "AUTH_METHOD",
	"COGNITO_REGION", "COGNITO_USER_POOL_ID", "COGNITO_ALLOWED_CLIENT_IDS", "COGNITO_DOMAIN",
	"OAUTH_ISSUER", "OAUTH_JWKS_URL", "OAUTH_CLIENT_IDS", "OAUTH_REQUIRED_SCOPES",
	"OAUTH_ALGORITHMS", "MCP_RESOURCE_URL", "OAUTH_ALLOW_MISSING_AUDIENCE", "OAUTH_SCOPES_SUPPORTED",
}

func cleanEnv(extra ...string) []string {
	env := slices.DeleteFunc(os.Environ(), func(kv string) bool {
		k, _, _ := strings.Cut(kv, "=")
		return slices.Contains(authEnv, k) || strings.HasPrefix(k, "AWS_LAMBDA_")
	})
	return append(env, extra...)
}

// A misconfigured authorizer stops at start, saying which variable to set,
// rather than starting in a mode that lets anything through.
func TestRefusesToStart(t *testing.T) {
	bin := build(t)
	tests := []struct {
		env       []string
		want      []string
		notEchoed string
	}{
		{nil, []string{"no authorization configured", "API_KEY_SHA256", "COGNITO_USER_POOL_ID", "OAUTH_ISSUER"}, ""},
		{[]string{"API_KEY_SHA256=my-plain-secret-key"}, []string{"API_KEY_SHA256", "64 hex digits"}, "my-plain-secret-key"},
		{[]string{"COGNITO_REGION=us-east-1", "COGNITO_USER_POOL_ID=us-east-1_abc"}, []string{"MCP_RESOURCE_URL"}, ""},
		{[]string{"COGNITO_ALLOWED_CLIENT_IDS=abc"}, []string{"needs an issuer"}, ""},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.env, " "), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, bin)
			cmd.Env = cleanEnv(tt.env...)
			out, err := cmd.CombinedOutput()
			if err == nil || ctx.Err() != nil {
				t.Fatalf("exit %v, output:\n%s", err, out)
			}
			for _, w := range tt.want {
				if !strings.Contains(string(out), w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			if tt.notEchoed != "" && strings.Contains(string(out), tt.notEchoed) {
				t.Errorf("output echoes the value:\n%s", out)
			}
		})
	}
}

// The deployed binary, invoked through the Lambda runtime API: an API key
// is allowed with the MCP policy, anything else gets the exact
// "Unauthorized" error message API Gateway maps to 401.
func TestUnderRuntimeEmulator(t *testing.T) {
	rie := testproc.RIE(t)
	bin := build(t)
	const key = "rie-test-key-9b1f0c7e5a3d2468"
	sum := sha256.Sum256([]byte(key))
	hash := hex.EncodeToString(sum[:])

	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(testproc.FreePort(t)))
	p := testproc.Start(t, rie, testproc.Options{
		Name:  "aws-lambda-rie",
		Args:  []string{"--runtime-interface-emulator-address", addr, "--runtime-api-address", net.JoinHostPort("127.0.0.1", strconv.Itoa(testproc.FreePort(t))), bin},
		Unset: authEnv,
		Env:   []string{"API_KEY_SHA256=" + hash},
	})
	p.WaitListening(t, addr, 30*time.Second)
	invoke := func(authz string) map[string]any {
		t.Helper()
		ev := events.APIGatewayCustomAuthorizerRequestTypeRequest{
			Type:              "REQUEST",
			MethodArn:         "arn:aws:execute-api:eu-west-1:123456789012:abcdef1234/prod/GET/mcp",
			Headers:           map[string]string{"authorization": authz},
			MultiValueHeaders: map[string][]string{"authorization": {authz}},
		}
		body, _ := json.Marshal(ev)
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+addr+"/2015-03-31/functions/function/invocations", bytes.NewReader(body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("invoke: %v\n%s", err, p.Tail(30))
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		var out map[string]any
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatalf("invoke: %d %s\n%s", resp.StatusCode, b, p.Tail(30))
		}
		return out
	}

	allow := invoke("Bearer " + key)
	if allow["principalId"] != "apikey:"+hash[:12] {
		t.Errorf("allow: %v", allow)
	}
	pol, _ := json.Marshal(allow["policyDocument"])
	for _, m := range []string{"POST", "GET", "DELETE"} {
		if !strings.Contains(string(pol), `"arn:aws:execute-api:eu-west-1:123456789012:abcdef1234/prod/`+m+`/mcp"`) || !strings.Contains(string(pol), `"Allow"`) {
			t.Errorf("policy lacks %s: %s", m, pol)
		}
	}
	ctx, _ := allow["context"].(map[string]any)
	if ctx["auth"] != "api_key" || ctx["sub"] != allow["principalId"] {
		t.Errorf("context: %v", ctx)
	}

	deny := invoke("Bearer not-the-key")
	if deny["errorMessage"] != "Unauthorized" {
		t.Errorf("refusal: %v", deny)
	}
	if err := p.Stop(t); err != nil {
		t.Logf("aws-lambda-rie stop: %v", err)
	}
	out := p.Output()
	if strings.Contains(out, key) || strings.Contains(out, hash) || strings.Contains(out, "not-the-key") {
		t.Errorf("the output contains a key or its hash:\n%s", out)
	}
	if !strings.Contains(out, `"decision":"allow"`) || !strings.Contains(out, `"decision":"unauthorized"`) {
		t.Errorf("no decision log lines:\n%s", testproc.Tail(out, 30))
	}
}
