// Package authorizer is the API Gateway REST API Lambda authorizer (REQUEST
// type) that guards the MCP endpoint.
//
// It accepts an "Authorization: Bearer" token that is either a JWT access
// token, verified with the same oauth.Verifier and the same environment
// variables as the server (package internal/authconfig reads them for both,
// so the two can never disagree about what a valid token is), or an API key whose SHA-256 is listed in API_KEY_SHA256.
//
// Outcomes map onto what API Gateway can express:
//   - no, malformed, invalid or expired token: the error "Unauthorized",
//     which API Gateway answers with 401;
//   - a valid token lacking a required scope: a Deny policy (403
//     ACCESS_DENIED) whose context carries error=insufficient_scope and the
//     required scopes, for a gateway response to turn into a challenge;
//   - the signing keys cannot be fetched, or the method ARN is malformed: any
//     other error, which API Gateway answers with 500, so an outage never
//     looks like a bad token and never turns into "allow".
//
// Policy and caching. API Gateway may cache an authorizer's answer, keyed by
// the identity source (the Authorization header), and reuse it for every
// method and resource of the API until the TTL ends. A policy naming only the
// requested method would then deny the next method the same client calls
// (the MCP transport uses POST, GET and DELETE on one path), while a
// wildcard would let a cached answer open routes it was never meant to
// cover. The Allow policy therefore names exactly the MCP endpoint's three
// methods in the stage the request came to:
//
//	arn:aws:execute-api:REGION:ACCOUNT:APIID/STAGE/{POST,GET,DELETE}/mcp
//
// and nothing else. A method ARN that cannot be parsed is an error, never a
// broader policy. A cached Allow outlives the token by up to the cache TTL,
// so keep that TTL short (the default 300 s is fine; 0 disables caching).
//
// The context passed to the integration (API Gateway flattens it, so values
// are strings or numbers) is: sub, client_id, scope (space-separated),
// username, iss, auth ("jwt" or "api_key") and, for JWTs, exp (Unix
// seconds); package internal/authctx encodes it here and decodes it in the
// server's API Gateway adapter.
package authorizer
