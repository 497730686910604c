// Package authctx is the identity the Lambda authorizer hands to the MCP
// function through API Gateway: the authorizer encodes it into the
// response's context, API Gateway passes it on as
// requestContext.authorizer, and the server's adapter decodes it. Both
// sides use this one pair of functions, so a field renamed on one side
// cannot silently go missing on the other.
//
// API Gateway flattens the context: values must be strings, numbers or
// booleans, never objects or arrays, so scopes travel space-separated and
// the expiry as Unix seconds.
//
// Only our authorizer's shape is read. A Cognito user pool authorizer puts
// the token's claims under "claims" instead, and accepts ID tokens, with no
// client allow-list and no scope check; our deployment never uses one, so
// such a context names nobody here and the server authenticates the
// request itself.
package authctx

import (
	"strconv"
	"strings"
	"time"
)

// The context keys. The gateway responses' templates read the denial keys
// ($context.authorizer.error ...), so they are part of the deployed API.
const (
	KeyPrincipalID = "principalId" // added by API Gateway from the policy's principalId
	KeySubject     = "sub"
	KeyClientID    = "client_id"
	KeyScope       = "scope"
	KeyUsername    = "username"
	KeyIssuer      = "iss"
	KeyMethod      = "auth"
	KeyExpires     = "exp"

	KeyError            = "error"
	KeyErrorDescription = "error_description"
	KeyRequiredScope    = "required_scope"
)

// How the authorizer authenticated the caller (the "auth" key).
const (
	MethodJWT    = "jwt"
	MethodAPIKey = "api_key"
)

// Identity is who the authorizer found behind a request.
type Identity struct {
	Subject  string
	ClientID string
	Username string
	Issuer   string
	Scopes   []string
	// Method is MethodJWT or MethodAPIKey; empty when the context came from
	// another authorizer.
	Method string
	// Expires is the token's expiry; zero for API keys and when not given.
	Expires time.Time
}

// Encode is the context of an Allow. Every identity key is present, empty
// when unknown, so a template or a log that reads one never meets an
// absent key.
func Encode(id Identity) map[string]any {
	m := map[string]any{
		KeySubject:  boxed(id.Subject),
		KeyClientID: boxed(id.ClientID),
		KeyScope:    boxed(strings.Join(id.Scopes, " ")),
		KeyUsername: boxed(id.Username),
		KeyIssuer:   boxed(id.Issuer),
		KeyMethod:   boxed(id.Method),
	}
	if !id.Expires.IsZero() {
		m[KeyExpires] = id.Expires.Unix()
	}
	return m
}

// boxed converts s to an interface value without allocating for the
// values most contexts hold (empty, the method names): the authorizer runs
// on every uncached request.
func boxed(s string) any {
	switch s {
	case "":
		return ""
	case MethodJWT:
		return MethodJWT
	case MethodAPIKey:
		return MethodAPIKey
	}
	return s
}

// Denial is the context of a Deny for a token that lacks a scope: what the
// gateway response's WWW-Authenticate challenge is built from.
type Denial struct {
	Error         string // "insufficient_scope"
	Description   string
	RequiredScope []string
}

// EncodeDenial is the context of a Deny.
func EncodeDenial(d Denial) map[string]any {
	return map[string]any{
		KeyError:            d.Error,
		KeyErrorDescription: d.Description,
		KeyRequiredScope:    strings.Join(d.RequiredScope, " "),
		KeyMethod:           MethodJWT,
	}
}

// Decode reads the identity from requestContext.authorizer: our
// authorizer's keys at the top level. It reports false when no subject is named (principalId stands in
// for a missing sub): such a request was not authenticated upstream.
//
// The map comes from API Gateway, never from the client, which is what
// makes trusting it safe.
func Decode(authorizer map[string]any) (Identity, bool) {
	str := func(k string) string { return scalar(authorizer[k]) }
	id := Identity{
		Subject:  str(KeySubject),
		ClientID: str(KeyClientID),
		Username: str(KeyUsername),
		Issuer:   str(KeyIssuer),
		Scopes:   strings.Fields(str(KeyScope)),
		Method:   str(KeyMethod),
	}
	if id.Subject == "" {
		id.Subject, _ = authorizer[KeyPrincipalID].(string)
	}
	if id.Subject == "" {
		return Identity{}, false
	}
	if s := str(KeyExpires); s != "" {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil && n > 0 {
			id.Expires = time.Unix(n, 0)
		}
	}
	return id, true
}

// Present reports whether an authorizer context names a caller at all: any
// identity key with a value. It is cheaper than Decode and decides whether
// the adapter looks further.
func Present(authorizer map[string]any) bool {
	for _, k := range [...]string{KeyPrincipalID, KeySubject, KeyClientID, KeyScope, KeyUsername, KeyIssuer} {
		if v, ok := authorizer[k]; ok && v != nil && v != "" {
			return true
		}
	}
	return false
}

// scalar renders a flattened context value. API Gateway delivers numbers as
// JSON numbers (float64 once decoded); an Unix time must not come back in
// exponent form.
func scalar(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case int64:
		return strconv.FormatInt(v, 10)
	case bool:
		return strconv.FormatBool(v)
	}
	return ""
}
