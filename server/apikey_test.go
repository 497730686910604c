package server

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"mcplambda/internal/apikey"
)

func TestAPIKeyAuth(t *testing.T) {
	hash := func(k string) string { s := sha256.Sum256([]byte(k)); return hex.EncodeToString(s[:]) }
	good := hash("key-one-0123456789")
	// Differs from good only in its last hex digit.
	near := good[:63] + string("0123456789abcdef"[(strings.IndexByte("0123456789abcdef", good[63])+1)%16])
	keys, err := apikey.Parse(near + "," + good)
	if err != nil {
		t.Fatal(err)
	}
	a := NewAPIKeyAuth(keys)
	jwt := AuthenticatorFunc(func(*http.Request) (*Principal, error) { return &Principal{Subject: "jwt-user"}, nil })
	tests := []struct {
		name, header string
		either       bool
		wantSub      string
		wantStatus   int
	}{
		{"valid key", "Bearer key-one-0123456789", false, "apikey:" + good[:12], 0},
		{"scheme case", "bearer key-one-0123456789", false, "apikey:" + good[:12], 0},
		{"wrong key", "Bearer key-one-012345678", false, "", 401},
		{"no header", "", false, "", 401},
		{"basic", "Basic a2V5", false, "", 401},
		{"empty bearer", "Bearer ", false, "", 401},
		{"either: jwt-shaped goes to the verifier", "Bearer eyJhbGciOiJSUzI1NiJ9.e30.c2ln", true, "jwt-user", 0},
		{"either: key goes to the keys", "Bearer key-one-0123456789", true, "apikey:" + good[:12], 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/mcp", nil)
			if tt.header != "" {
				r.Header.Set("Authorization", tt.header)
			}
			var auth Authenticator = a
			if tt.either {
				auth = EitherAuth{JWT: jwt, Keys: a}
			}
			p, err := auth.Authenticate(r)
			if tt.wantStatus != 0 {
				var ae *AuthError
				if !errors.As(err, &ae) || ae.Status != tt.wantStatus || !strings.HasPrefix(ae.Challenge, "Bearer") {
					t.Fatalf("err %v", err)
				}
				return
			}
			if err != nil || p.Subject != tt.wantSub {
				t.Fatalf("got %+v %v, want %s", p, err, tt.wantSub)
			}
		})
	}
}
