package server

import (
	"net/http"

	"mcplambda/internal/apikey"
)

// APIKeyAuth accepts Bearer API keys by their SHA-256 hashes: the Lambda
// authorizer's simple token mode (package internal/apikey, shared), checked
// here when the server runs without the authorizer in front
// (AUTH_METHOD=lambda off Lambda). Only hashes are configured, so the
// environment never holds a key.
type APIKeyAuth struct {
	keys *apikey.Keys
}

// NewAPIKeyAuth accepts keys (authconfig.Server.APIKeys).
func NewAPIKeyAuth(keys *apikey.Keys) *APIKeyAuth { return &APIKeyAuth{keys: keys} }

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
