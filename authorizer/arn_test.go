package authorizer

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestParseMethodARN(t *testing.T) {
	tests := []struct {
		arn  string
		want methodARN // zero = error
	}{
		{"arn:aws:execute-api:us-east-1:123456789012:abc123defg/prod/POST/mcp",
			methodARN{"aws", "us-east-1", "123456789012", "abc123defg", "prod", "POST", "mcp"}},
		{"arn:aws:execute-api:eu-west-3:123456789012:abc123defg/dev_2/GET/v1/mcp",
			methodARN{"aws", "eu-west-3", "123456789012", "abc123defg", "dev_2", "GET", "v1/mcp"}},
		{"arn:aws-cn:execute-api:cn-north-1:123456789012:a1/prod/DELETE/",
			methodARN{"aws-cn", "cn-north-1", "123456789012", "a1", "prod", "DELETE", ""}},
		{"arn:aws:execute-api:us-east-1:123456789012:abc/prod/GET",
			methodARN{"aws", "us-east-1", "123456789012", "abc", "prod", "GET", ""}},
		// A resource path is not used in the policy, so it may hold anything.
		{"arn:aws:execute-api:us-east-1:123456789012:abc/prod/GET/a:b/*",
			methodARN{"aws", "us-east-1", "123456789012", "abc", "prod", "GET", "a:b/*"}},
		{"", methodARN{}},
		{"garbage", methodARN{}},
		{"arn:aws:lambda:us-east-1:123456789012:abc/prod/GET/mcp", methodARN{}},
		{"arn:aws:execute-api:us-east-1:12345678901:abc/prod/GET/mcp", methodARN{}},
		{"arn:aws:execute-api:us-east-1:*:abc/prod/GET/mcp", methodARN{}},
		{"arn:aws:execute-api:*:123456789012:abc/prod/GET/mcp", methodARN{}},
		{"arn:aws:execute-api::123456789012:abc/prod/GET/mcp", methodARN{}},
		{"arn:aws:execute-api:us-east-1:123456789012:*/prod/GET/mcp", methodARN{}},
		{"arn:aws:execute-api:us-east-1:123456789012:abc/*/GET/mcp", methodARN{}},
		{"arn:aws:execute-api:us-east-1:123456789012:abc/pr?d/GET/mcp", methodARN{}},
		{"arn:aws:execute-api:us-east-1:123456789012:abc/prod/*/mcp", methodARN{}},
		{"arn:aws:execute-api:us-east-1:123456789012:abc/prod", methodARN{}},
		{"arn:aws:execute-api:us-east-1:123456789012:abc//GET/mcp", methodARN{}},
		{"arn:aws:execute-api:us-east-1:123456789012", methodARN{}},
		{"arn:aws:execute-api:us-east-1:123456789012:abc/prod/GET/" + strings.Repeat("a", 1600), methodARN{}},
		{"xrn:aws:execute-api:us-east-1:123456789012:abc/prod/GET/mcp", methodARN{}},
	}
	for _, tt := range tests {
		name := tt.arn
		if len(name) > 80 {
			name = name[:80] + "..."
		}
		t.Run(name, func(t *testing.T) {
			got, err := parseMethodARN(tt.arn)
			if tt.want == (methodARN{}) {
				if !errors.Is(err, errBadARN) {
					t.Fatalf("got %+v, %v; want an error", got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

func TestResources(t *testing.T) {
	a, err := parseMethodARN("arn:aws:execute-api:us-east-1:123456789012:abc123/prod/GET/anything/else")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		path string
		want []string
	}{
		{"/mcp", []string{
			"arn:aws:execute-api:us-east-1:123456789012:abc123/prod/POST/mcp",
			"arn:aws:execute-api:us-east-1:123456789012:abc123/prod/GET/mcp",
			"arn:aws:execute-api:us-east-1:123456789012:abc123/prod/DELETE/mcp",
		}},
		{"/v1/mcp", []string{
			"arn:aws:execute-api:us-east-1:123456789012:abc123/prod/POST/v1/mcp",
			"arn:aws:execute-api:us-east-1:123456789012:abc123/prod/GET/v1/mcp",
			"arn:aws:execute-api:us-east-1:123456789012:abc123/prod/DELETE/v1/mcp",
		}},
	} {
		if got := a.Resources(tt.path); !slices.Equal(got, tt.want) {
			t.Errorf("Resources(%q) = %q, want %q", tt.path, got, tt.want)
		}
	}
}

func TestValidMCPPath(t *testing.T) {
	for p, ok := range map[string]bool{
		"/mcp": true, "/v1/mcp": true, "/a-b_c.d": true,
		"/" + strings.Repeat("a", 255): true, "/" + strings.Repeat("a", 256): false,
		"": false, "mcp": false, "/": false, "/mcp/": false, "//mcp": false, "/m*": false, "/{proxy+}": false, "/a?b": false,
	} {
		if err := validMCPPath(p); (err == nil) != ok {
			t.Errorf("validMCPPath(%q) = %v, want ok=%v", p, err, ok)
		}
	}
}
