package authorizer

import (
	"strings"
	"testing"
)

// Whatever the method ARN, a policy built from it names only the MCP
// endpoint and never holds an IAM wildcard.
func FuzzParseMethodARN(f *testing.F) {
	f.Add(testARN)
	f.Add("arn:aws:execute-api:us-east-1:123456789012:abc/prod/GET/a/b/c")
	f.Add("arn:aws:execute-api:us-east-1:123456789012:*/*/*/*")
	f.Add("arn:aws-cn:execute-api:cn-north-1:123456789012:a1/prod/DELETE/")
	f.Fuzz(func(t *testing.T, s string) {
		a, err := parseMethodARN(s)
		if err != nil {
			return
		}
		for _, r := range a.Resources("/mcp") {
			if strings.ContainsAny(r, "*?") || !strings.HasSuffix(r, "/mcp") || !strings.HasPrefix(r, "arn:") ||
				strings.Count(r, ":") != 5 || strings.Count(r, "/") != 3 {
				t.Fatalf("%q gives resource %q", s, r)
			}
		}
	})
}

// Whatever the headers, a token taken from them is one non-empty b64token
// no longer than the bound.
func FuzzBearerToken(f *testing.F) {
	f.Add("Authorization", "Bearer abc", "authorization", "Bearer abc")
	f.Add("Authorization", "Bearer a b", "X", "")
	f.Add("AUTHORIZATION", "bearer   x==", "Authorization", "Basic y")
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2 string) {
		tok, err := bearerToken(map[string]string{k1: v1}, map[string][]string{k2: {v2}})
		if err != nil {
			return
		}
		if tok == "" || len(tok) > MaxHeaderBytes || strings.ContainsAny(tok, " \t\r\n,") || !isB64Token(tok) {
			t.Fatalf("token %q from %q=%q, %q=%q", tok, k1, v1, k2, v2)
		}
	})
}
