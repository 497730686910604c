package oauthclient

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
)

// newVerifier returns a PKCE code verifier (RFC 7636 section 4.1): 48 random
// bytes, 64 characters of base64url, within the 43-128 the RFC allows.
func newVerifier() string { return randomString(48) }

// challengeS256 is the S256 code challenge of a verifier.
func challengeS256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// newState returns an unguessable state value binding a callback to the
// login that started it.
func newState() string { return randomString(32) }

func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (crypto/rand, Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}

// equalSecret compares secrets in constant time, so a forged callback
// cannot learn the state byte by byte from timing.
func equalSecret(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
