// Package apikey checks API keys against their SHA-256 hashes (the
// API_KEY_SHA256 variable): the Lambda authorizer's simple token mode, which
// the server also checks itself when no authorizer is in front of it. It
// imports nothing of this module.
package apikey

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"unicode"
)

// Keys is a set of accepted API keys, known only by their SHA-256, so
// that the configuration never holds a usable secret.
type Keys struct {
	hashes [][sha256.Size]byte
}

// Parse parses a comma- or space-separated list of lowercase hex SHA-256 hashes (the
// value of API_KEY_SHA256). Every entry must be exactly 64 hex digits: a
// truncated or mistyped hash is a configuration error, not a key that
// silently never matches.
func Parse(list string) (*Keys, error) {
	k := &Keys{}
	// Commas and/or whitespace separate entries, as in every list variable.
	for i, f := range strings.FieldsFunc(list, func(r rune) bool { return r == ',' || unicode.IsSpace(r) }) {
		if len(f) != 2*sha256.Size {
			return nil, fmt.Errorf("API_KEY_SHA256: entry %d has %d characters, want the 64 hex digits of a SHA-256 (for example: printf %%s \"$KEY\" | sha256sum)", i+1, len(f))
		}
		// Lowercase only, as the server requires of the same variable, so
		// that a value one accepts the other never refuses.
		var h [sha256.Size]byte
		if strings.ToLower(f) != f {
			return nil, fmt.Errorf("API_KEY_SHA256: entry %d is not lowercase hexadecimal", i+1)
		}
		if _, err := hex.Decode(h[:], []byte(f)); err != nil {
			return nil, fmt.Errorf("API_KEY_SHA256: entry %d is not lowercase hexadecimal", i+1)
		}
		k.hashes = append(k.hashes, h)
	}
	if len(k.hashes) == 0 {
		return nil, fmt.Errorf("API_KEY_SHA256 lists no hash")
	}
	return k, nil
}

// Len is the number of accepted keys.
func (k *Keys) Len() int { return len(k.hashes) }

// Check reports whether token is one of the keys, and if so names its
// principal: "apikey:" and the first 12 hex digits of its hash, enough to
// tell keys apart in logs and sessions without being usable to guess one.
//
// Every hash is compared in constant time and the loop never exits early,
// so the time taken says nothing about which key, or how much of one,
// matched.
func (k *Keys) Check(token string) (principal string, ok bool) {
	if k == nil || token == "" {
		return "", false
	}
	sum := sha256.Sum256([]byte(token))
	match := -1
	for i := range k.hashes {
		eq := subtle.ConstantTimeCompare(sum[:], k.hashes[i][:])
		match = subtle.ConstantTimeSelect(eq, i, match)
	}
	if match < 0 {
		return "", false
	}
	return "apikey:" + hex.EncodeToString(sum[:6]), true
}

// LooksLikeJWT tells a compact JWS from an opaque API key: three dot-
// separated parts whose first decodes to a JSON object. An API key that
// happened to look like this would be sent to the verifier and refused, so
// keys should be random strings without dots. The authorizer and the server
// both route tokens with it, so they cannot disagree.
func LooksLikeJWT(tok string) bool {
	if strings.Count(tok, ".") != 2 {
		return false
	}
	head, _, _ := strings.Cut(tok, ".")
	b, err := base64.RawURLEncoding.DecodeString(head)
	if err != nil {
		return false
	}
	s := strings.TrimLeft(string(b), " \t\r\n")
	return strings.HasPrefix(s, "{")
}
