package authorizer

import (
	"strings"
	"testing"

	"mcplambda/internal/apikey"
)

func TestBearerToken(t *testing.T) {
	const tok = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln"
	tests := []struct {
		name    string
		headers map[string]string
		multi   map[string][]string
		want    string
		err     tokenError
	}{
		{"canonical", map[string]string{"Authorization": "Bearer " + tok}, nil, tok, ""},
		{"lower-case header and scheme", map[string]string{"authorization": "bearer " + tok}, nil, tok, ""},
		{"upper-case", map[string]string{"AUTHORIZATION": "BEARER " + tok}, nil, tok, ""},
		{"multi-value only", nil, map[string][]string{"authorization": {"Bearer " + tok}}, tok, ""},
		{"both maps, same value", map[string]string{"Authorization": "Bearer " + tok}, map[string][]string{"Authorization": {"Bearer " + tok}}, tok, ""},
		{"padding and extra spaces", map[string]string{"Authorization": "  Bearer   abc+/==  "}, nil, "abc+/==", ""},
		{"no header", map[string]string{"Accept": "*/*"}, nil, "", errNoHeader},
		{"nil maps", nil, nil, "", errNoHeader},
		{"two values", nil, map[string][]string{"Authorization": {"Bearer a", "Bearer b"}}, "", errManyHeaders},
		{"different values in the two maps", map[string]string{"Authorization": "Bearer a"}, map[string][]string{"Authorization": {"Bearer b"}}, "", errManyHeaders},
		{"two spellings", map[string]string{"Authorization": "Bearer a", "authorization": "Bearer b"}, nil, "", errManyHeaders},
		{"empty value", map[string]string{"Authorization": ""}, nil, "", errNotBearer},
		{"scheme only", map[string]string{"Authorization": "Bearer"}, nil, "", errNotBearer},
		{"scheme and space", map[string]string{"Authorization": "Bearer "}, nil, "", errNotBearer},
		{"basic", map[string]string{"Authorization": "Basic dXNlcjpwYXNz"}, nil, "", errNotBearer},
		{"token without scheme", map[string]string{"Authorization": tok}, nil, "", errNotBearer},
		{"two tokens", map[string]string{"Authorization": "Bearer a b"}, nil, "", errBadTokenChars},
		{"comma-joined tokens", map[string]string{"Authorization": "Bearer a,Bearer b"}, nil, "", errBadTokenChars},
		{"control character", map[string]string{"Authorization": "Bearer a\x00b"}, nil, "", errBadTokenChars},
		{"only padding", map[string]string{"Authorization": "Bearer =="}, nil, "", errBadTokenChars},
		{"padding inside", map[string]string{"Authorization": "Bearer a=b"}, nil, "", errBadTokenChars},
		{"too large", map[string]string{"Authorization": "Bearer " + strings.Repeat("a", MaxHeaderBytes)}, nil, "", errTooLong},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := bearerToken(tt.headers, tt.multi)
			if tt.err != "" {
				if err != tt.err {
					t.Fatalf("got %q, %v; want error %v", got, err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestLooksLikeJWT(t *testing.T) {
	for tok, want := range map[string]bool{
		"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln": true,
		"eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.":      true, // alg none, empty signature
		"IHsiYWxnIjoibm9uZSJ9.e30.":                 true, // " {" with a leading space
		"a.b.c":                                     false,
		"plain-api-key":                             false,
		"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0":      false,
		"eyJhbGciOiJSUzI1NiJ9.e30.c2ln.extra":       false,
	} {
		if got := apikey.LooksLikeJWT(tok); got != want {
			t.Errorf("looksLikeJWT(%q) = %v, want %v", tok, got, want)
		}
	}
}
