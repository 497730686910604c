package server

import (
	"context"

	"mcplambda/internal/authctx"
)

// principalFromAuthorizer builds the principal from the context an API
// Gateway authorizer attached to a request (requestContext.authorizer of
// the proxy event), as package authctx decodes it. It reports false when no
// subject is named: such a request was not authenticated upstream and must
// be authenticated here.
func principalFromAuthorizer(authorizer map[string]any) (*Principal, bool) {
	id, ok := authctx.Decode(authorizer)
	if !ok {
		return nil, false
	}
	return &Principal{Issuer: id.Issuer, Subject: id.Subject, ClientID: id.ClientID, Username: id.Username, Scopes: id.Scopes, Expires: id.Expires}, true
}

// WithAPIGatewayAuthorizer is the lambdahttp WithAuthorizer hook: it marks
// the request as authenticated by the authorizer's principal.
func WithAPIGatewayAuthorizer(ctx context.Context, authorizer map[string]any) context.Context {
	if p, ok := principalFromAuthorizer(authorizer); ok {
		return WithAuthorizerPrincipal(ctx, p)
	}
	return ctx
}
