package authctx

import (
	"encoding/json"
	"slices"
	"testing"
	"time"
)

// An identity survives the trip API Gateway makes it take: encoded by the
// authorizer, flattened to JSON, decoded by the server's adapter.
func TestRoundTrip(t *testing.T) {
	exp := time.Unix(1767225600, 0)
	tests := []struct {
		name string
		in   Identity
	}{
		{"jwt", Identity{Subject: "u-1", ClientID: "c", Username: "ada", Issuer: "https://issuer", Scopes: []string{"openid", "mcp"}, Method: MethodJWT, Expires: exp}},
		{"api key", Identity{Subject: "apikey:0123456789ab", Method: MethodAPIKey}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := Encode(tt.in)
			for k, v := range m {
				switch v.(type) {
				case string, int64:
				default:
					t.Errorf("%s is %T: API Gateway takes only strings, numbers and booleans", k, v)
				}
			}
			b, err := json.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			var back map[string]any
			if err := json.Unmarshal(b, &back); err != nil {
				t.Fatal(err)
			}
			back[KeyPrincipalID] = tt.in.Subject // API Gateway adds it
			if !Present(back) {
				t.Fatalf("Present(%v) = false", back)
			}
			got, ok := Decode(back)
			if !ok || got.Subject != tt.in.Subject || got.ClientID != tt.in.ClientID || got.Username != tt.in.Username ||
				got.Issuer != tt.in.Issuer || !slices.Equal(got.Scopes, tt.in.Scopes) || got.Method != tt.in.Method || !got.Expires.Equal(tt.in.Expires) {
				t.Fatalf("Decode = %+v, %v; want %+v", got, ok, tt.in)
			}
		})
	}
}

func TestDecode(t *testing.T) {
	tests := []struct {
		name string
		in   map[string]any
		want *Identity
	}{
		{"principalId stands in for sub", map[string]any{"principalId": "p"}, &Identity{Subject: "p"}},
		// A Cognito user pool authorizer's claims (it accepts ID tokens, with
		// no client or scope check) name nobody: the server authenticates
		// such a request itself.
		{"cognito user pool authorizer claims are not read", map[string]any{"claims": map[string]any{"sub": "s", "client_id": "c", "scope": "a/b", "iss": "https://cognito"}}, nil},
		{"an ID token's claims are not read", map[string]any{"claims": map[string]any{"sub": "s", "aud": "c", "token_use": "id"}}, nil},
		{"aud does not stand in for client_id", map[string]any{"sub": "s", "aud": "c"}, &Identity{Subject: "s"}},
		{"exp as a JSON number", map[string]any{"sub": "s", "exp": float64(1767225600)}, &Identity{Subject: "s", Expires: time.Unix(1767225600, 0)}},
		{"exp as a string", map[string]any{"sub": "s", "exp": "1767225600"}, &Identity{Subject: "s", Expires: time.Unix(1767225600, 0)}},
		{"exp malformed is no expiry", map[string]any{"sub": "s", "exp": "soon"}, &Identity{Subject: "s"}},
		{"no subject", map[string]any{"integrationLatency": float64(3), "client_id": "c"}, nil},
		{"empty", nil, nil},
		{"non-scalar subject", map[string]any{"sub": map[string]any{"x": 1}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := Decode(tt.in)
			if tt.want == nil {
				if ok {
					t.Fatalf("got %+v", got)
				}
				return
			}
			if !ok || got.Subject != tt.want.Subject || got.ClientID != tt.want.ClientID || got.Issuer != tt.want.Issuer ||
				!slices.Equal(got.Scopes, tt.want.Scopes) || !got.Expires.Equal(tt.want.Expires) {
				t.Fatalf("got %+v, want %+v", got, *tt.want)
			}
		})
	}
}

func TestPresent(t *testing.T) {
	tests := []struct {
		in   map[string]any
		want bool
	}{
		{nil, false},
		{map[string]any{"integrationLatency": float64(3)}, false},
		{map[string]any{"sub": ""}, false},
		{map[string]any{"client_id": "c"}, true},
		{map[string]any{"claims": map[string]any{"iss": "i", "sub": "s"}}, false},
		{map[string]any{"claims": map[string]any{}}, false},
	}
	for _, tt := range tests {
		if got := Present(tt.in); got != tt.want {
			t.Errorf("Present(%v) = %v", tt.in, got)
		}
	}
}

// The denial carries what the gateway response templates read.
func TestEncodeDenial(t *testing.T) {
	m := EncodeDenial(Denial{Error: "insufficient_scope", Description: "d", RequiredScope: []string{"a", "b"}})
	if m[KeyError] != "insufficient_scope" || m[KeyErrorDescription] != "d" || m[KeyRequiredScope] != "a b" || m[KeyMethod] != MethodJWT {
		t.Fatalf("%v", m)
	}
	if Present(m) {
		t.Fatal("a denial names a caller")
	}
}
