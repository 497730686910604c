package server

import (
	"net/http"
	"strings"

	"mcplambda/authorizer/apikey"
)

// APIKeyAuth accepts Bearer API keys by their SHA-256 hashes: the Lambda
// authorizer's simple token mode (package authorizer/apikey, shared), checked
// here when the server runs without the authorizer in front
// (AUTH_METHOD=lambda off Lambda). Only hashes are configured, so the
// environment never holds a key.
type APIKeyAuth struct {
	keys *apikey.Keys
}

// NewAPIKeyAuth takes lowercase hex SHA-256 hashes (AuthConfig.APIKeyHashes).
func NewAPIKeyAuth(hexHashes []string) (*APIKeyAuth, error) {
	keys, err := apikey.Parse(strings.Join(hexHashes, ","))
	if err != nil {
		return nil, err
	}
	return &APIKeyAuth{keys: keys}, nil
}

// Check reports whether key is one of the accepted keys, and its principal
// subject.
func (a *APIKeyAuth) Check(key string) (subject string, ok bool) { return a.keys.Check(key) }

// Authenticate implements Authenticator: a missing or wrong key is a 401.
func (a *APIKeyAuth) Authenticate(r *http.Request) (*Principal, error) {
	token, presented := BearerToken(r)
	if !presented {
		return nil, &AuthError{Status: http.StatusUnauthorized, Challenge: `Bearer realm="mcp"`, Message: "authentication required: send the API key as Authorization: Bearer KEY"}
	}
	sub, ok := a.Check(token)
	if !ok {
		return nil, &AuthError{Status: http.StatusUnauthorized, Challenge: `Bearer realm="mcp", error="invalid_token", error_description="the API key is not valid"`, Message: "the API key is not valid"}
	}
	return &Principal{Subject: sub}, nil
}

// EitherAuth tries the JWT verifier for tokens that look like JWTs and the
// API keys for everything else, so one deployment can accept both.
type EitherAuth struct {
	JWT  Authenticator // nil: no issuer configured
	Keys *APIKeyAuth   // nil: no keys configured
}

func (e EitherAuth) Authenticate(r *http.Request) (*Principal, error) {
	token, _ := BearerToken(r)
	if e.Keys != nil && (e.JWT == nil || !apikey.LooksLikeJWT(token)) {
		return e.Keys.Authenticate(r)
	}
	return e.JWT.Authenticate(r)
}
