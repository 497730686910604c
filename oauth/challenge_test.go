package oauth

import (
	"net/http"
	"reflect"
	"strings"
	"testing"
)

func TestParseChallenges(t *testing.T) {
	tests := []struct {
		name   string
		values []string
		want   []Challenge
	}{
		{
			name:   "bare scheme",
			values: []string{"Bearer"},
			want:   []Challenge{{Scheme: "Bearer", Params: map[string]string{}}},
		},
		{
			name:   "the MCP server's 401",
			values: []string{`Bearer resource_metadata="https://api.example.com/.well-known/oauth-protected-resource/mcp", scope="mcp:read mcp:write"`},
			want: []Challenge{{Scheme: "Bearer", Params: map[string]string{
				"resource_metadata": "https://api.example.com/.well-known/oauth-protected-resource/mcp",
				"scope":             "mcp:read mcp:write",
			}}},
		},
		{
			name:   "escapes and commas inside quotes",
			values: []string{`Bearer error="insufficient_scope", error_description="needs \"a, b\" \\ now"`},
			want: []Challenge{{Scheme: "Bearer", Params: map[string]string{
				"error":             "insufficient_scope",
				"error_description": `needs "a, b" \ now`,
			}}},
		},
		{
			name:   "several schemes in one field",
			values: []string{`Basic realm="x", Bearer realm="api", error=invalid_token, DPoP algs="ES256"`},
			want: []Challenge{
				{Scheme: "Basic", Params: map[string]string{"realm": "x"}},
				{Scheme: "Bearer", Params: map[string]string{"realm": "api", "error": "invalid_token"}},
				{Scheme: "DPoP", Params: map[string]string{"algs": "ES256"}},
			},
		},
		{
			name:   "several fields",
			values: []string{`Basic realm="x"`, `bearer scope="a"`},
			want: []Challenge{
				{Scheme: "Basic", Params: map[string]string{"realm": "x"}},
				{Scheme: "bearer", Params: map[string]string{"scope": "a"}},
			},
		},
		{
			name:   "token68",
			values: []string{`Negotiate YIIB+/9x==, Bearer`},
			want: []Challenge{
				{Scheme: "Negotiate", Token68: "YIIB+/9x==", Params: map[string]string{}},
				{Scheme: "Bearer", Params: map[string]string{}},
			},
		},
		{
			name:   "spaces around equals, upper-case names, duplicate keeps the first",
			values: []string{`Bearer  Scope = "a b" , scope="c"`},
			want:   []Challenge{{Scheme: "Bearer", Params: map[string]string{"scope": "a b"}}},
		},
		{
			name:   "unquoted URL value",
			values: []string{`Bearer resource_metadata=https://h/.well-known/oauth-protected-resource`},
			want:   []Challenge{{Scheme: "Bearer", Params: map[string]string{"resource_metadata": "https://h/.well-known/oauth-protected-resource"}}},
		},
		{
			name:   "unterminated quote runs to the end",
			values: []string{`Bearer error_description="oops`},
			want:   []Challenge{{Scheme: "Bearer", Params: map[string]string{"error_description": "oops"}}},
		},
		{
			name:   "garbage is skipped",
			values: []string{`, ,="x" Bearer scope="a"`},
			want: []Challenge{
				{Scheme: "x", Params: map[string]string{}},
				{Scheme: "Bearer", Params: map[string]string{"scope": "a"}},
			},
		},
		{name: "empty", values: []string{"", "  ,  "}, want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ParseChallenges(tt.values)
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("ParseChallenges(%q)\n got %#v\nwant %#v", tt.values, got, tt.want)
			}
		})
	}
}

func TestBearerChallenge(t *testing.T) {
	h := http.Header{}
	h.Add("WWW-Authenticate", `Basic realm="x"`)
	h.Add("WWW-Authenticate", `Bearer error="insufficient_scope", scope="a b"`)
	c, ok := BearerChallenge(h)
	if !ok || c.Param("ERROR") != "insufficient_scope" || !reflect.DeepEqual(c.Scopes(), []string{"a", "b"}) {
		t.Fatalf("BearerChallenge = %#v, %t", c, ok)
	}
	if _, ok := BearerChallenge(http.Header{"Www-Authenticate": {`Basic realm="x"`}}); ok {
		t.Fatal("found a Bearer challenge in a Basic-only header")
	}
}

// TestRemappedChallenge: behind an API Gateway REST API, a Lambda's
// WWW-Authenticate arrives as x-amzn-Remapped-WWW-Authenticate. It is read
// when the real header is absent, never in preference to it.
func TestRemappedChallenge(t *testing.T) {
	const meta = "https://abc.execute-api.us-east-1.amazonaws.com/prod/.well-known/oauth-protected-resource/mcp"
	tests := []struct {
		name   string
		header http.Header
		want   string // resource_metadata found; "" = no Bearer challenge
	}{
		{"remapped only, as API Gateway sends it",
			http.Header{"X-Amzn-Remapped-Www-Authenticate": {`Bearer resource_metadata="` + meta + `"`}}, meta},
		{"remapped name in another case (HTTP/2 lower-cases it)",
			func() http.Header {
				h := http.Header{}
				h.Add("x-amzn-remapped-www-authenticate", `Bearer resource_metadata="`+meta+`"`)
				return h
			}(), meta},
		{"the real header wins",
			http.Header{"Www-Authenticate": {`Bearer resource_metadata="https://real/x"`},
				"X-Amzn-Remapped-Www-Authenticate": {`Bearer resource_metadata="https://remapped/x"`}}, "https://real/x"},
		{"a real non-Bearer header hides nothing it does not have",
			http.Header{"Www-Authenticate": {`Basic realm="x"`},
				"X-Amzn-Remapped-Www-Authenticate": {`Bearer resource_metadata="https://remapped/x"`}}, ""},
		{"neither", http.Header{}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, ok := BearerChallenge(tt.header)
			if got := c.Param("resource_metadata"); ok != (tt.want != "") || got != tt.want {
				t.Fatalf("BearerChallenge = %q, %t; want %q", got, ok, tt.want)
			}
		})
	}
}

// FuzzParseChallenges: the header is the server's (untrusted) text. The
// parser never panics, yields schemes and lower-case parameter names, and
// reads back any value written as a quoted string.
func FuzzParseChallenges(f *testing.F) {
	for _, s := range []string{
		`Bearer resource_metadata="https://h/x", scope="a b"`,
		`Basic realm="x", Bearer error="invalid_token"`,
		`Negotiate abc==`, `Bearer "\`, `=,=,"`, `Bearer a=,b="`, `Bearer a=b,,c="d\"`,
	} {
		f.Add(s, "v")
	}
	f.Add(`Bearer`, `a "quoted" \ value, with=signs`)
	f.Fuzz(func(t *testing.T, s, value string) {
		for _, c := range ParseChallenges([]string{s}) {
			if c.Scheme == "" {
				t.Fatalf("empty scheme from %q", s)
			}
			if c.Params == nil {
				t.Fatalf("nil params from %q", s)
			}
			for k := range c.Params {
				if k != strings.ToLower(k) {
					t.Fatalf("name %q not lower-cased", k)
				}
			}
		}
		if len(value) > maxChallengeHeader/2 {
			return // would be cut by the size bound
		}
		quoted := strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(value)
		got, ok := BearerChallenge(http.Header{"Www-Authenticate": {`Bearer realm="api", scope="` + quoted + `"`}})
		if !ok || got.Param("scope") != value || got.Param("realm") != "api" {
			t.Fatalf("value %q read back as %q (realm %q)", value, got.Param("scope"), got.Param("realm"))
		}
	})
}

func TestChallengeSizeBound(t *testing.T) {
	big := `Basic realm="` + strings.Repeat("x", maxChallengeHeader) + `"`
	got := ParseChallenges([]string{big, `Bearer scope="a"`})
	for _, c := range got {
		if strings.EqualFold(c.Scheme, "Bearer") {
			t.Fatalf("a challenge past the %d-byte bound was parsed: %#v", maxChallengeHeader, c)
		}
	}
	if len(got) != 1 || got[0].Scheme != "Basic" {
		t.Fatalf("got %#v, want the one (truncated) Basic challenge", got)
	}
}
