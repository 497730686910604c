package authorizer

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"slices"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"mcplambda/internal/apikey"
	"mcplambda/internal/authctx"
	"mcplambda/oauth"
)

// errUnauthorized is the error API Gateway turns into 401: its text must be
// exactly "Unauthorized".
var errUnauthorized = errors.New("Unauthorized")

// errUnavailable and errInternal are answered 500 by API Gateway: the
// request could not be judged, which must look neither like a bad token
// nor like a grant.
var (
	errUnavailable = errors.New("authorizer: signing keys unavailable")
	errInternal    = errors.New("authorizer: cannot build a policy for this request")
)

// Authorizer decides REQUEST authorizer events. It is safe for concurrent use.
type Authorizer struct {
	cfg Config
	log *slog.Logger
}

// New checks cfg and returns the authorizer.
func New(cfg Config) (*Authorizer, error) {
	if cfg.Verifier == nil && cfg.APIKeys == nil {
		return nil, errors.New("authorizer: neither a token verifier nor API keys are configured")
	}
	if cfg.MCPPath == "" {
		cfg.MCPPath = "/mcp"
	}
	if err := validMCPPath(cfg.MCPPath); err != nil {
		return nil, err
	}
	if len(cfg.RequiredScopes) > 0 && cfg.Verifier == nil {
		return nil, errors.New("authorizer: required scopes need a token verifier")
	}
	if cfg.Verifier != nil && len(cfg.Verifier.Config().RequiredScopes) > 0 {
		return nil, errors.New("authorizer: put required scopes in Config.RequiredScopes, not in the verifier")
	}
	if cfg.CacheTTL < 0 {
		return nil, errors.New("authorizer: negative CacheTTL")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.NewJSONHandler(os.Stderr, nil))
	}
	return &Authorizer{cfg: cfg, log: log}, nil
}

// Handle is the Lambda handler: pass it to lambda.Start.
func (a *Authorizer) Handle(ctx context.Context, req events.APIGatewayCustomAuthorizerRequestTypeRequest) (events.APIGatewayCustomAuthorizerResponse, error) {
	var none events.APIGatewayCustomAuthorizerResponse
	rid := req.RequestContext.RequestID
	arn, err := parseMethodARN(req.MethodArn)
	if err != nil {
		a.decision(ctx, "error", "malformed_method_arn", rid, "", "")
		return none, errInternal
	}
	tok, err := bearerToken(req.Headers, req.MultiValueHeaders)
	if err != nil {
		a.decision(ctx, "unauthorized", err.Error(), rid, "", "")
		return none, errUnauthorized
	}
	if a.cfg.Verifier != nil && (a.cfg.APIKeys == nil || apikey.LooksLikeJWT(tok)) {
		return a.jwt(ctx, arn, tok, rid)
	}
	principal, ok := a.cfg.APIKeys.Check(tok)
	if !ok {
		a.decision(ctx, "unauthorized", "unknown_api_key", rid, "", "")
		return none, errUnauthorized
	}
	a.decision(ctx, "allow", "api_key", rid, principal, "")
	return a.policy(principal, "Allow", arn, authctx.Encode(authctx.Identity{Subject: principal, Method: authctx.MethodAPIKey})), nil
}

func (a *Authorizer) jwt(ctx context.Context, arn methodARN, tok, rid string) (events.APIGatewayCustomAuthorizerResponse, error) {
	var none events.APIGatewayCustomAuthorizerResponse
	c, err := a.cfg.Verifier.Verify(ctx, tok)
	if err != nil {
		var e *oauth.Error
		if errors.As(err, &e) && e.Kind == oauth.ErrUnavailable {
			// The cause names the JWKS URL and the failure, never the token.
			cause := "unknown cause"
			if e.Err != nil {
				cause = e.Err.Error()
			}
			a.decision(ctx, "error", "jwks_fetch_failed", rid, "", "", slog.String("error", "JWKS fetch failed: "+cause))
			return none, errUnavailable
		}
		reason := "invalid_token"
		if e != nil {
			reason += ": " + e.Description // fixed vocabulary, no token content
		}
		a.decision(ctx, "unauthorized", reason, rid, "", "")
		return none, errUnauthorized
	}
	if a.cfg.CacheTTL > 0 && c.ExpiresAt.Sub(a.cfg.Now()) < a.cfg.CacheTTL {
		// API Gateway would cache an Allow past the token's expiry. Ask for
		// a fresh token now, through the gateway's 401 and its challenge.
		reason := "expires_within_cache_ttl"
		if !c.IssuedAt.IsZero() && c.ExpiresAt.Sub(c.IssuedAt) <= a.cfg.CacheTTL {
			// No token of this issuer can ever pass: say what to change.
			reason = "token_lifetime_not_above_cache_ttl: lower AUTHORIZER_RESULT_TTL"
		}
		a.decision(ctx, "unauthorized", reason, rid, c.Subject, c.ClientID)
		return none, errUnauthorized
	}
	var missing []string
	for _, s := range a.cfg.RequiredScopes {
		if !slices.Contains(c.Scopes, s) {
			missing = append(missing, s)
		}
	}
	if len(missing) > 0 {
		a.decision(ctx, "deny", "insufficient_scope", rid, c.Subject, c.ClientID)
		return a.policy(c.Subject, "Deny", arn, authctx.EncodeDenial(authctx.Denial{
			Error:         "insufficient_scope",
			Description:   oauth.DescInsufficientScope,
			RequiredScope: a.cfg.RequiredScopes,
		})), nil
	}
	a.decision(ctx, "allow", "jwt", rid, c.Subject, c.ClientID)
	return a.policy(c.Subject, "Allow", arn, authctx.Encode(authctx.Identity{
		Subject:  c.Subject,
		ClientID: c.ClientID,
		Scopes:   c.Scopes,
		Username: c.Username,
		Issuer:   c.Issuer,
		Method:   authctx.MethodJWT,
		Expires:  c.ExpiresAt,
	})), nil
}

// policy covers exactly the MCP endpoint's methods in the request's stage:
// see the package documentation for why not just the requested method.
func (a *Authorizer) policy(principal, effect string, arn methodARN, ctx map[string]any) events.APIGatewayCustomAuthorizerResponse {
	return events.APIGatewayCustomAuthorizerResponse{
		PrincipalID: principal,
		PolicyDocument: events.APIGatewayCustomAuthorizerPolicy{
			Version: "2012-10-17",
			Statement: []events.IAMPolicyStatement{{
				Action:   []string{"execute-api:Invoke"},
				Effect:   effect,
				Resource: arn.Resources(a.cfg.MCPPath),
			}},
		},
		Context: ctx,
	}
}

// decision logs one line per request: the outcome, why, and who, never
// the token, its hash or any header.
func (a *Authorizer) decision(ctx context.Context, decision, reason, rid, sub, clientID string, extra ...slog.Attr) {
	level := slog.LevelInfo
	if decision == "error" {
		level = slog.LevelError
	}
	attrs := append([]slog.Attr{slog.String("decision", decision), slog.String("reason", reason)}, extra...)
	if rid != "" {
		attrs = append(attrs, slog.String("request_id", rid))
	}
	if sub != "" {
		attrs = append(attrs, slog.String("sub", sub))
	}
	if clientID != "" {
		attrs = append(attrs, slog.String("client_id", clientID))
	}
	a.log.LogAttrs(ctx, level, "authorizer decision", attrs...)
}
