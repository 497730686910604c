package server

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"mcplambda/oauth"
)

// TokenVerifier checks an access token and returns its claims; errors are
// *oauth.Error.
type TokenVerifier interface {
	Verify(ctx context.Context, token string) (*oauth.Claims, error)
}

// BearerAuth authenticates requests with OAuth 2.0 bearer access tokens
// (RFC 6750) and answers refusals with the challenges the MCP authorization
// specification asks for: the RFC 9728 resource_metadata URL always, the
// scopes needed, and an error code only when a token was presented.
type BearerAuth struct {
	Verifier TokenVerifier
	// ResourceMetadataURL is where clients find the RFC 9728 document.
	ResourceMetadataURL string
	// Scopes are the scopes a token needs, announced in 401 challenges.
	Scopes []string
	Log    *slog.Logger
}

// Fixed descriptions for refusals that are not the verifier's.
const (
	descMalformedHeader = "the Authorization header is malformed: use \"Authorization: Bearer <token>\""
)

func (b *BearerAuth) Authenticate(r *http.Request) (*Principal, error) {
	header := r.Header.Values("Authorization")
	if len(header) == 0 {
		return nil, b.refuse(http.StatusUnauthorized, "", "", nil, "Unauthorized: this server needs an OAuth access token (Authorization: Bearer <token>); see the resource_metadata URL in WWW-Authenticate")
	}
	scheme, token, _ := strings.Cut(header[0], " ")
	if !strings.EqualFold(scheme, "Bearer") {
		// Another scheme is no bearer token at all (RFC 6750 3.1): no error code.
		return nil, b.refuse(http.StatusUnauthorized, "", "", nil, "Unauthorized: this server accepts only Bearer access tokens")
	}
	token = strings.TrimSpace(token)
	if len(header) > 1 || token == "" || strings.ContainsAny(token, " \t,") {
		return nil, b.refuse(http.StatusBadRequest, "invalid_request", descMalformedHeader, nil, "Bad Request: "+descMalformedHeader)
	}
	claims, err := b.Verifier.Verify(r.Context(), token)
	if err != nil {
		var oe *oauth.Error
		if !errors.As(err, &oe) {
			oe = &oauth.Error{Kind: oauth.ErrUnavailable, Description: "the token could not be checked", Err: err}
		}
		if b.Log != nil {
			// The cause may name claims; it never contains the token.
			b.Log.Info("token refused", "reason", oe.Description, "cause", errString(oe.Err))
		}
		switch oe.Kind {
		case oauth.ErrInsufficientScope:
			return nil, b.refuse(http.StatusForbidden, "insufficient_scope", oe.Description, b.Scopes,
				"Forbidden: the token lacks the scope "+strings.Join(oe.MissingScopes, " ")+"; ask for "+strings.Join(b.Scopes, " "))
		case oauth.ErrUnavailable:
			return nil, &AuthError{Status: http.StatusServiceUnavailable, Message: "Service Unavailable: " + oe.Description + "; retry later"}
		default:
			return nil, b.refuse(http.StatusUnauthorized, "invalid_token", oe.Description, nil, "Unauthorized: "+oe.Description)
		}
	}
	return &Principal{
		Issuer:   claims.Issuer,
		Subject:  claims.Subject,
		ClientID: claims.ClientID,
		Username: claims.Username,
		Scopes:   claims.Scopes,
	}, nil
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// refuse builds the refusal and its WWW-Authenticate challenge. scope
// defaults to the configured scopes.
func (b *BearerAuth) refuse(status int, code, desc string, scope []string, msg string) *AuthError {
	if scope == nil {
		scope = b.Scopes
	}
	var c strings.Builder
	c.WriteString("Bearer ")
	var params []string
	if code != "" {
		params = append(params, `error="`+quoteParam(code)+`"`)
		if desc != "" {
			params = append(params, `error_description="`+quoteParam(desc)+`"`)
		}
	}
	if len(scope) > 0 {
		params = append(params, `scope="`+quoteParam(strings.Join(scope, " "))+`"`)
	}
	if b.ResourceMetadataURL != "" {
		params = append(params, `resource_metadata="`+quoteParam(b.ResourceMetadataURL)+`"`)
	}
	c.WriteString(strings.Join(params, ", "))
	return &AuthError{Status: status, Challenge: c.String(), Message: msg}
}

// quoteParam escapes a value for an auth-param quoted-string (RFC 9110):
// backslash and double quote are escaped; control characters, which our
// fixed vocabulary never has, are dropped.
func quoteParam(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f:
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

type authorizerKey struct{}

// WithAuthorizerPrincipal marks a request context as authenticated
// upstream: API Gateway's Lambda authorizer verified the token and passed
// the principal in its context. Only in-process code (the Lambda adapter)
// can set it; nothing a client sends can.
func WithAuthorizerPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, authorizerKey{}, p)
}

// authorizerPrincipal returns the principal set by WithAuthorizerPrincipal.
func authorizerPrincipal(ctx context.Context) (*Principal, bool) {
	p, ok := ctx.Value(authorizerKey{}).(*Principal)
	return p, ok && p != nil
}

// UpstreamAuth is AUTH_METHOD=lambda: it takes the principal the Lambda
// authorizer established, and anywhere else (run locally, or a request
// without authorizer context) verifies the token itself with Fallback:
// never "any Bearer string".
//
// API Gateway caches an authorizer's Allow (300 s by default), so a token
// can expire while its cached context still reaches us; the exp the
// authorizer put in that context is checked on every request.
type UpstreamAuth struct {
	Fallback Authenticator
	// Leeway is the clock skew allowed past the context's exp: default
	// 30 s, the token verifier's default, so both sides agree on when a
	// token has expired.
	Leeway time.Duration
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

func (u UpstreamAuth) Authenticate(r *http.Request) (*Principal, error) {
	if p, ok := authorizerPrincipal(r.Context()); ok {
		if !p.Expires.IsZero() {
			now, leeway := time.Now, u.Leeway
			if u.Now != nil {
				now = u.Now
			}
			if leeway == 0 {
				leeway = 30 * time.Second
			}
			if !now().Before(p.Expires.Add(leeway)) {
				return nil, expiredRefusal(u.Fallback)
			}
		}
		return p, nil
	}
	return u.Fallback.Authenticate(r)
}

// descExpired is the refusal of a token that has expired behind a cached
// authorizer decision: the client's remedy is a fresh token.
const descExpired = "the token has expired"

const msgExpired = "Unauthorized: " + descExpired + "; refresh it or sign in again, then retry"

// expiredRefusal is the 401 for an expired token, with the challenge the
// fallback authenticator would have given for it (resource_metadata and
// scopes included) so a client reacts as to any other expired token.
func expiredRefusal(fallback Authenticator) *AuthError {
	switch a := fallback.(type) {
	case *BearerAuth:
		return a.refuse(http.StatusUnauthorized, "invalid_token", descExpired, nil, msgExpired)
	case EitherAuth:
		if a.JWT != nil {
			return expiredRefusal(a.JWT)
		}
	}
	return &AuthError{Status: http.StatusUnauthorized, Challenge: `Bearer error="invalid_token", error_description="` + descExpired + `"`, Message: msgExpired}
}
