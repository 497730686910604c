package moto

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"strings"
	"time"
)

// JWT is a compact JWS split into its parts. It is decoded, not verified.
type JWT struct {
	Header       map[string]any
	Claims       map[string]any
	SigningInput string // base64url(header) + "." + base64url(payload)
	Signature    []byte
}

// DecodeJWT splits and decodes a compact JWT without verifying it.
func DecodeJWT(token string) (*JWT, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, fmt.Errorf("jwt: %d parts, want 3", len(parts))
	}
	var j JWT
	for i, dst := range []*map[string]any{&j.Header, &j.Claims} {
		raw, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			return nil, fmt.Errorf("jwt: part %d: %w", i, err)
		}
		if err := json.Unmarshal(raw, dst); err != nil {
			return nil, fmt.Errorf("jwt: part %d: %w", i, err)
		}
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return nil, fmt.Errorf("jwt: signature: %w", err)
	}
	j.SigningInput = parts[0] + "." + parts[1]
	j.Signature = sig
	return &j, nil
}

// Kid returns the "kid" header, or "".
func (j *JWT) Kid() string { s, _ := j.Header["kid"].(string); return s }

// String returns a string claim, or "".
func (j *JWT) String(name string) string { s, _ := j.Claims[name].(string); return s }

// Time returns a NumericDate claim (exp, iat, auth_time) as a time.
func (j *JWT) Time(name string) time.Time {
	f, ok := j.Claims[name].(float64)
	if !ok {
		return time.Time{}
	}
	return time.Unix(int64(f), 0)
}

// JWK is one key of a JWKS as served by Cognito (and moto).
type JWK struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Alg string `json:"alg"`
	Use string `json:"use"`
	N   string `json:"n"`
	E   string `json:"e"`
}

// JWKS is a JSON Web Key Set.
type JWKS struct {
	Keys []JWK `json:"keys"`
}

// FetchJWKS GETs and decodes a JWKS.
func FetchJWKS(ctx context.Context, url string) (*JWKS, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s: %.200s", url, resp.Status, body)
	}
	var set JWKS
	if err := json.Unmarshal(body, &set); err != nil {
		return nil, fmt.Errorf("GET %s: %w", url, err)
	}
	return &set, nil
}

// RSAKey returns the RSA public key with the given kid.
func (s *JWKS) RSAKey(kid string) (*rsa.PublicKey, error) {
	for _, k := range s.Keys {
		if k.Kid != kid {
			continue
		}
		if k.Kty != "RSA" {
			return nil, fmt.Errorf("jwks: key %q has kty %q", kid, k.Kty)
		}
		n, err := base64.RawURLEncoding.DecodeString(k.N)
		if err != nil {
			return nil, fmt.Errorf("jwks: key %q: n: %w", kid, err)
		}
		e, err := base64.RawURLEncoding.DecodeString(k.E)
		if err != nil {
			return nil, fmt.Errorf("jwks: key %q: e: %w", kid, err)
		}
		eb := new(big.Int).SetBytes(e)
		if !eb.IsInt64() || eb.Int64() > 1<<31-1 {
			return nil, fmt.Errorf("jwks: key %q: exponent too large", kid)
		}
		return &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(eb.Int64())}, nil
	}
	return nil, fmt.Errorf("jwks: no key with kid %q", kid)
}

// VerifyRS256 checks the token's RS256 signature against the key in set
// named by the token's kid, and returns the decoded token. It checks
// nothing else (not iss, exp, token_use...).
func VerifyRS256(token string, set *JWKS) (*JWT, error) {
	j, err := DecodeJWT(token)
	if err != nil {
		return nil, err
	}
	if alg, _ := j.Header["alg"].(string); alg != "RS256" {
		return nil, fmt.Errorf("jwt: alg %q, want RS256", alg)
	}
	key, err := set.RSAKey(j.Kid())
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256([]byte(j.SigningInput))
	if err := rsa.VerifyPKCS1v15(key, crypto.SHA256, sum[:], j.Signature); err != nil {
		return nil, errors.New("jwt: bad signature")
	}
	return j, nil
}

// SignRS256 mints a compact RS256 JWT with the given kid and claims. Use it
// for cases moto cannot produce (an unknown kid, a foreign key, odd
// claims); see README.md.
func SignRS256(key *rsa.PrivateKey, kid string, claims map[string]any) (string, error) {
	hdr, err := json.Marshal(map[string]any{"alg": "RS256", "typ": "JWT", "kid": kid})
	if err != nil {
		return "", err
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	in := base64.RawURLEncoding.EncodeToString(hdr) + "." + base64.RawURLEncoding.EncodeToString(payload)
	sum := sha256.Sum256([]byte(in))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		return "", err
	}
	return in + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}

// PublicJWK returns the JWK form of an RSA public key, for serving a
// self-made JWKS next to SignRS256 tokens.
func PublicJWK(pub *rsa.PublicKey, kid string) JWK {
	return JWK{
		Kty: "RSA", Kid: kid, Alg: "RS256", Use: "sig",
		N: base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
		E: base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
	}
}
