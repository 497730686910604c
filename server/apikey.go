package server

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
)

// APIKeyAuth accepts Bearer API keys by their SHA-256 hashes: the Lambda
// authorizer's simple token mode, checked here when the server runs
// without the authorizer in front (AUTH_METHOD=lambda off Lambda). Only
// hashes are configured, so the environment never holds a key.
type APIKeyAuth struct {
	hashes [][sha256.Size]byte
}

// NewAPIKeyAuth takes lowercase hex SHA-256 hashes (AuthConfig.APIKeyHashes,
// already validated).
func NewAPIKeyAuth(hexHashes []string) (*APIKeyAuth, error) {
	a := &APIKeyAuth{}
	for _, h := range hexHashes {
		var sum [sha256.Size]byte
		if n, err := hex.Decode(sum[:], []byte(h)); err != nil || n != sha256.Size || !isSHA256Hex(h) {
			return nil, &AuthError{Status: http.StatusInternalServerError, Message: "API_KEY_SHA256: " + shortValue(h) + " is not a SHA-256 hash in lowercase hex"}
		}
		a.hashes = append(a.hashes, sum)
	}
	return a, nil
}

// Check reports whether key is one of the accepted keys, and the principal
// subject for it ("apikey:" and the first 12 hex digits of its hash). Every
// hash is compared, in constant time, whatever matched before.
func (a *APIKeyAuth) Check(key string) (subject string, ok bool) {
	sum := sha256.Sum256([]byte(key))
	match := 0
	for i := range a.hashes {
		match |= subtle.ConstantTimeCompare(sum[:], a.hashes[i][:])
	}
	if match != 1 || key == "" {
		return "", false
	}
	return "apikey:" + hex.EncodeToString(sum[:6]), true
}

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
	if e.Keys != nil && (e.JWT == nil || !looksLikeJWT(token)) {
		return e.Keys.Authenticate(r)
	}
	return e.JWT.Authenticate(r)
}

// looksLikeJWT: three base64url segments separated by dots.
func looksLikeJWT(s string) bool {
	dots := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '.':
			dots++
		case c == '-' || c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z':
		default:
			return false
		}
	}
	return dots == 2
}
