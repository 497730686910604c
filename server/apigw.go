package server

import (
	"context"
	"strconv"
	"strings"
)

// PrincipalFromAuthorizer builds the principal from the context an API
// Gateway authorizer attached to a request (requestContext.authorizer of
// the proxy event). It reads the fields our Lambda authorizer sets (sub,
// client_id, scope, username, iss; principalId when there is no sub) at the
// top level, or, for a Cognito user pool authorizer, under "claims". It
// reports false when no subject is named: such a request was not
// authenticated upstream and must be authenticated here.
//
// The map comes from API Gateway, never from the client: a client cannot
// forge it, which is what makes trusting it safe.
func PrincipalFromAuthorizer(authorizer map[string]any) (*Principal, bool) {
	fields := authorizer
	if claims, ok := authorizer["claims"].(map[string]any); ok {
		fields = claims
	}
	str := func(k string) string {
		switch v := fields[k].(type) {
		case string:
			return v
		case float64:
			return strconv.FormatFloat(v, 'f', -1, 64)
		case bool:
			return strconv.FormatBool(v)
		}
		return ""
	}
	p := &Principal{
		Issuer:   str("iss"),
		Subject:  str("sub"),
		ClientID: str("client_id"),
		Username: str("username"),
		Scopes:   strings.Fields(str("scope")),
	}
	if p.Subject == "" {
		p.Subject, _ = authorizer["principalId"].(string)
	}
	if p.Subject == "" {
		return nil, false
	}
	if p.ClientID == "" {
		// Cognito ID-token claims name the client "aud"; access tokens,
		// which our authorizer requires, carry client_id.
		p.ClientID = str("aud")
	}
	return p, true
}

// WithAPIGatewayAuthorizer is the lambdahttp WithAuthorizer hook: it marks
// the request as authenticated by the authorizer's principal.
func WithAPIGatewayAuthorizer(ctx context.Context, authorizer map[string]any) context.Context {
	if p, ok := PrincipalFromAuthorizer(authorizer); ok {
		return WithAuthorizerPrincipal(ctx, p)
	}
	return ctx
}
