package server

import (
	"context"
	"slices"
	"testing"
)

func TestPrincipalFromAuthorizer(t *testing.T) {
	tests := []struct {
		name string
		in   map[string]any
		want *Principal
	}{
		{"our authorizer", map[string]any{"principalId": "u-1", "sub": "u-1", "client_id": "c", "scope": "openid mcp", "username": "ada", "iss": "https://issuer", "auth": "jwt", "exp": float64(1700000000), "integrationLatency": float64(12)},
			&Principal{Issuer: "https://issuer", Subject: "u-1", ClientID: "c", Username: "ada", Scopes: []string{"openid", "mcp"}}},
		{"api key mode", map[string]any{"principalId": "apikey:0123456789ab", "sub": "apikey:0123456789ab", "auth": "api_key"},
			&Principal{Subject: "apikey:0123456789ab"}},
		{"principalId only", map[string]any{"principalId": "p"}, &Principal{Subject: "p"}},
		// Not our authorizer's shape (and it accepts ID tokens): the
		// request must be authenticated by the server instead.
		{"cognito user pool authorizer", map[string]any{"claims": map[string]any{"sub": "s", "client_id": "c", "scope": "a/b", "iss": "https://cognito", "token_use": "id"}}, nil},
		{"no subject", map[string]any{"integrationLatency": float64(3), "client_id": "c"}, nil},
		{"empty", nil, nil},
		{"non-string subject", map[string]any{"sub": map[string]any{"x": 1}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := principalFromAuthorizer(tt.in)
			if tt.want == nil {
				if ok || got != nil {
					t.Fatalf("got %+v", got)
				}
				return
			}
			if !ok || got.Issuer != tt.want.Issuer || got.Subject != tt.want.Subject || got.ClientID != tt.want.ClientID ||
				got.Username != tt.want.Username || !slices.Equal(got.Scopes, tt.want.Scopes) {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
			ctx := WithAPIGatewayAuthorizer(context.Background(), tt.in)
			if p, ok := authorizerPrincipal(ctx); !ok || p.Key() != tt.want.Key() {
				t.Fatalf("context principal %+v", p)
			}
		})
	}
	if _, ok := authorizerPrincipal(WithAPIGatewayAuthorizer(context.Background(), map[string]any{})); ok {
		t.Fatal("principal without subject")
	}
}
