package apigw

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// maxAuthorizerTTL is the largest authorizerResultTtlInSeconds API Gateway
// accepts (3600 s).
const maxAuthorizerTTL = time.Hour

// authorizer is a compiled Authorizer.
type authorizer struct {
	id      string
	sources []paramSource
	ttl     time.Duration
	invoke  AuthorizerFunc
}

func compileAuthorizer(id string, a *Authorizer) (*authorizer, error) {
	if a == nil {
		return nil, fmt.Errorf("authorizer %q: nil", id)
	}
	if a.ID != "" && a.ID != id {
		return nil, fmt.Errorf("authorizer %q: listed under id %q", a.ID, id)
	}
	if a.Type != "REQUEST" {
		return nil, fmt.Errorf("authorizer %q: type %q is not supported (only REQUEST)", id, a.Type)
	}
	if a.TTL < 0 || a.TTL > maxAuthorizerTTL {
		return nil, fmt.Errorf("authorizer %q: TTL %v out of range 0..1h", id, a.TTL)
	}
	out := &authorizer{id: id, ttl: a.TTL, invoke: a.Invoke}
	for _, expr := range strings.Split(a.IdentitySource, ",") {
		expr = strings.TrimSpace(expr)
		if expr == "" {
			continue
		}
		src, err := parseSource(expr, identityKinds)
		if err != nil {
			return nil, fmt.Errorf("authorizer %q: identity source: %w", id, err)
		}
		out.sources = append(out.sources, src)
	}
	// The cache key is made of the identity sources, so caching needs some
	// (Authorizer.identitySource: "required when authorization caching is
	// enabled").
	if a.TTL > 0 && len(out.sources) == 0 {
		return nil, fmt.Errorf("authorizer %q: caching (TTL %v) needs an identity source", id, a.TTL)
	}
	return out, nil
}

// authResult is an authorizer's answer as the cache keeps it: the policy
// and the context, not the decision, so that a cached answer is judged
// again against every request's method ARN.
type authResult struct {
	statements []statement
	context    map[string]string // principalId and the context, stringified
}

type statement struct {
	effect    string // "Allow" or "Deny"
	actions   []string
	resources []string
}

type cacheEntry struct {
	result  *authResult
	expires time.Time
}

// authorize runs the method's authorizer, from the cache when it may, and
// returns the failure to answer with, or nil to go on. It sets c.authz once
// the authorizer has answered, for the integration and for
// $context.authorizer in gateway responses.
func (g *Gateway) authorize(c *call, a *authorizer) *failure {
	// Every identity source must be present and non-empty, or API Gateway
	// answers 401 without calling the function (Authorizer.identitySource:
	// "...verifying all of the identity-related request parameters are
	// present, not null and non-empty. Only when this is true does the
	// authorizer invoke the authorizer Lambda function, otherwise, it
	// returns a 401 Unauthorized response").
	key := a.id
	for _, src := range a.sources {
		v, ok := g.sourceValue(c, src, nil)
		if !ok || v == "" {
			return &failure{typ: Unauthorized, message: ptr("Unauthorized")}
		}
		key += fmt.Sprintf("\x00%d:%s", len(v), v)
	}

	var res *authResult
	if a.ttl > 0 {
		res = g.cached(key)
	}
	if res == nil {
		g.calls.Add(1)
		out, err := a.invoke(c.r.Context(), g.authorizerEvent(c))
		if err != nil {
			// Only the exact message "Unauthorized" means 401 ("Use API
			// Gateway Lambda authorizers": callback("Unauthorized")). Any
			// other error is a 500 {"message":null} with x-amzn-ErrorType
			// AuthorizerConfigurationException, as API Gateway shows it;
			// the double files it under AUTHORIZER_FAILURE ("a custom
			// authorizer failed to authenticate the caller"), so that
			// customisation, else DEFAULT_5XX, shapes it.
			if err.Error() == "Unauthorized" {
				return &failure{typ: Unauthorized, message: ptr("Unauthorized")}
			}
			return &failure{typ: AuthorizerFailure}
		}
		var f *failure
		res, f = parseAuthResponse(out)
		if f != nil {
			return f
		}
		// Only an answer is cached: 401s and 500s are asked again.
		if a.ttl > 0 {
			g.store(key, res, a.ttl)
		}
	}
	c.authz = res.context

	switch evaluate(res.statements, g.methodARN(c)) {
	case explicitDeny:
		return &failure{typ: AccessDenied, message: ptr("User is not authorized to access this resource with an explicit deny")}
	case implicitDeny:
		return &failure{typ: AccessDenied, message: ptr("User is not authorized to access this resource")}
	}
	return nil
}

func (g *Gateway) cached(key string) *authResult {
	g.cacheMu.Lock()
	defer g.cacheMu.Unlock()
	e, ok := g.cache[key]
	if !ok {
		return nil
	}
	if !g.now().Before(e.expires) {
		delete(g.cache, key)
		return nil
	}
	return e.result
}

func (g *Gateway) store(key string, res *authResult, ttl time.Duration) {
	g.cacheMu.Lock()
	defer g.cacheMu.Unlock()
	g.cache[key] = cacheEntry{result: res, expires: g.now().Add(ttl)}
}

// authorizerEvent is the REQUEST authorizer input ("Input to an API Gateway
// Lambda authorizer", REQUEST type), with its own copies of the maps.
func (g *Gateway) authorizerEvent(c *call) events.APIGatewayCustomAuthorizerRequestTypeRequest {
	single, multi := c.headerMaps()
	qs, mqs := c.queryMaps()
	return events.APIGatewayCustomAuthorizerRequestTypeRequest{
		Type:                            "REQUEST",
		MethodArn:                       g.methodARN(c),
		Resource:                        c.node.path,
		Path:                            c.path,
		HTTPMethod:                      c.r.Method,
		Headers:                         single,
		MultiValueHeaders:               multi,
		QueryStringParameters:           qs,
		MultiValueQueryStringParameters: mqs,
		PathParameters:                  c.pathParams(),
		StageVariables:                  g.stageVariables(),
		RequestContext: events.APIGatewayCustomAuthorizerRequestTypeRequestContext{
			Path:         "/" + g.stage + c.path,
			AccountID:    g.account,
			ResourceID:   c.node.id,
			Stage:        g.stage,
			RequestID:    c.id,
			Identity:     events.APIGatewayCustomAuthorizerRequestTypeRequestIdentity{SourceIP: sourceIP(c.r)},
			ResourcePath: c.node.path,
			HTTPMethod:   c.r.Method,
			APIID:        g.apiID,
		},
	}
}

// wireAuthResponse is the authorizer output as API Gateway reads it from
// the function's JSON ("Output from an API Gateway Lambda authorizer").
// Action and Resource may be a string or a list, as in any IAM policy.
type wireAuthResponse struct {
	PrincipalID    string `json:"principalId"`
	PolicyDocument struct {
		Version   string
		Statement []struct {
			Effect   string
			Action   stringList
			Resource stringList
		}
	} `json:"policyDocument"`
	Context map[string]any `json:"context"`
}

type stringList []string

func (l *stringList) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*l = []string{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return err
	}
	*l = many
	return nil
}

// parseAuthResponse judges the authorizer's output from its JSON encoding,
// which is what the Lambda runtime hands API Gateway, so that values reach
// the policy check and the context exactly as they would (an int64 and a
// float64 both become a JSON number). A policy without statements, a
// statement with another effect, or a context value that is not a string,
// number or boolean is an AUTHORIZER_CONFIGURATION_ERROR (500): API Gateway
// cannot use such an answer ("Output from an API Gateway Lambda
// authorizer": "You can't set a JSON object or array as a valid value of
// any key in the context map").
func parseAuthResponse(out events.APIGatewayCustomAuthorizerResponse) (*authResult, *failure) {
	confErr := &failure{typ: AuthorizerConfigurationError}
	raw, err := json.Marshal(out)
	if err != nil {
		// The runtime could not encode the answer: the invocation failed.
		return nil, &failure{typ: AuthorizerFailure}
	}
	var w wireAuthResponse
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&w); err != nil {
		return nil, confErr
	}
	if len(w.PolicyDocument.Statement) == 0 {
		return nil, confErr
	}
	res := &authResult{context: map[string]string{}}
	for _, s := range w.PolicyDocument.Statement {
		if s.Effect != "Allow" && s.Effect != "Deny" {
			return nil, confErr
		}
		res.statements = append(res.statements, statement{effect: s.Effect, actions: s.Action, resources: s.Resource})
	}
	for k, v := range w.Context {
		switch v := v.(type) {
		case string:
			res.context[k] = v
		case json.Number:
			res.context[k] = v.String()
		case bool:
			if v {
				res.context[k] = "true"
			} else {
				res.context[k] = "false"
			}
		default:
			return nil, confErr
		}
	}
	res.context["principalId"] = w.PrincipalID
	return res, nil
}

type decision int

const (
	implicitDeny decision = iota
	allow
	explicitDeny
)

// evaluate applies IAM's rule to the statements that cover
// execute-api:Invoke on arn: an explicit Deny wins, else an Allow allows,
// else the request is denied ("Output from an API Gateway Lambda
// authorizer"; IAM "Policy evaluation logic"). Action names compare
// case-insensitively, resources case-sensitively, both with the * and ?
// wildcards.
func evaluate(stmts []statement, arn string) decision {
	d := implicitDeny
	for _, s := range stmts {
		if !anyMatch(s.actions, "execute-api:invoke", true) || !anyMatch(s.resources, arn, false) {
			continue
		}
		if s.effect == "Deny" {
			return explicitDeny
		}
		d = allow
	}
	return d
}

func anyMatch(patterns []string, s string, fold bool) bool {
	for _, p := range patterns {
		if fold {
			p = strings.ToLower(p)
		}
		if wildcardMatch(p, s) {
			return true
		}
	}
	return false
}

// wildcardMatch matches IAM wildcards: * is any run of characters
// (slashes included), ? exactly one character.
func wildcardMatch(pattern, s string) bool {
	p, t := []rune(pattern), []rune(s)
	pi, ti := 0, 0
	star, mark := -1, 0
	for ti < len(t) {
		switch {
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, ti
			pi++
		case pi < len(p) && (p[pi] == '?' || p[pi] == t[ti]):
			pi++
			ti++
		case star >= 0:
			// Let the last * take one more character and retry.
			mark++
			pi, ti = star+1, mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}
