package reqstate

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

// Version is the token format version, the first byte of every token.
const Version = 1

// DefaultTTL is how long a sealed state stays valid when NewSealer is given
// a zero TTL.
const DefaultTTL = 10 * time.Minute

// MinSecretLen is the shortest secret NewSealer accepts, in bytes.
const MinSecretLen = 32

const (
	nonceLen = 12
	idLen    = 16
	tagLen   = 16
	// headerLen is the clear part of a token: version and nonce.
	headerLen = 1 + nonceLen
	// fixedPlainLen is the plaintext before the payload: id, issued, expires.
	fixedPlainLen = idLen + 8 + 8
	// Overhead is the length of a decoded token beyond its payload.
	Overhead = headerLen + fixedPlainLen + tagLen

	// MaxTokenLen bounds the length of a token Open accepts, checked
	// before decoding.
	MaxTokenLen = 64 << 10
	// MaxPayload bounds the payload Seal accepts: the largest payload
	// whose token still fits in MaxTokenLen.
	MaxPayload = MaxTokenLen*6/8 - Overhead
)

// keyInfo is the HKDF info label of the AES key: changing it (or the
// version) makes every outstanding token fail to open.
const keyInfo = "mcplambda/reqstate/v1 AES-256-GCM"

// Errors of Seal and Open. Open's errors wrap exactly one of ErrMalformed,
// ErrInvalid and ErrExpired; test them with errors.Is.
var (
	// ErrMalformed: not a token of this format (empty, too long, not
	// canonical unpadded URL-safe base64, unknown version, too short).
	ErrMalformed = errors.New("reqstate: malformed request state")
	// ErrInvalid: the token does not authenticate. It was modified, or
	// sealed under another key, or is presented with a Binding other than
	// the one it was sealed with (another principal, method or params
	// digest). AES-GCM cannot tell these apart, by design.
	ErrInvalid = errors.New("reqstate: request state failed authentication (modified, foreign, or bound to another principal or request)")
	// ErrExpired: the token authenticates but its TTL has passed.
	ErrExpired = errors.New("reqstate: request state expired")
	// ErrPayloadTooLarge: Seal was given more than MaxPayload bytes.
	ErrPayloadTooLarge = fmt.Errorf("reqstate: request state payload larger than %d bytes", MaxPayload)
)

// Binding is what a state is bound to: it goes into the AEAD's additional
// data, so Open succeeds only with the Binding Seal was given.
type Binding struct {
	// Principal identifies the authenticated caller (e.g. the server's
	// Principal.Key()); empty for an unauthenticated server.
	Principal string
	// Method is the JSON-RPC method (tools/call, prompts/get,
	// resources/read).
	Method string
	// Digest is ParamsDigest(Method, params) of the request.
	Digest [32]byte
}

// BindingFor returns the Binding of a request from principal.
func BindingFor(principal, method string, params json.RawMessage) Binding {
	return Binding{Principal: principal, Method: method, Digest: ParamsDigest(method, params)}
}

// State is an opened token.
type State struct {
	// ID is the random state id, 32 lowercase hex digits: the key of the
	// Ledger.
	ID string
	// IssuedAt and Expires are the times Seal recorded (millisecond
	// precision).
	IssuedAt time.Time
	Expires  time.Time
	// Payload is what was sealed.
	Payload []byte
}

// Sealer seals and opens request states under one key. It is safe for
// concurrent use.
type Sealer struct {
	aead cipher.AEAD
	ttl  time.Duration
	// random replaces crypto/rand in tests that need reproducible tokens.
	random io.Reader

	// Now is the clock; time.Now by default. Set it before use.
	Now func() time.Time
}

// NewSealer derives the key from secret (at least MinSecretLen bytes, as
// from ParseKey; the Sealer does not keep it) and returns a Sealer whose
// states live for ttl (0: DefaultTTL).
func NewSealer(secret []byte, ttl time.Duration) (*Sealer, error) {
	if len(secret) < MinSecretLen {
		return nil, fmt.Errorf("reqstate: REQUEST_STATE_KEY is too short: it must hold at least %d random bytes; generate one with: openssl rand -base64 32", MinSecretLen)
	}
	if ttl < 0 {
		return nil, fmt.Errorf("reqstate: negative request state TTL %v", ttl)
	}
	if ttl == 0 {
		ttl = DefaultTTL
	}
	key, err := hkdf.Key(sha256.New, secret, nil, keyInfo, 32)
	if err != nil {
		return nil, fmt.Errorf("reqstate: derive key: %w", err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("reqstate: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("reqstate: %w", err)
	}
	return &Sealer{aead: aead, ttl: ttl, Now: time.Now}, nil
}

// MustRandomSealer returns a Sealer with a fresh random key and DefaultTTL,
// for a server without REQUEST_STATE_KEY: only this process can open its
// states, so a retry that reaches another instance (or this one after a
// restart) is refused with ErrInvalid and the client has to start over.
// It panics only if the system's random source fails.
func MustRandomSealer() *Sealer {
	secret := make([]byte, MinSecretLen)
	if _, err := rand.Read(secret); err != nil {
		panic("reqstate: random key: " + err.Error())
	}
	s, err := NewSealer(secret, 0)
	if err != nil {
		panic(err)
	}
	return s
}

// TTL returns how long sealed states stay valid.
func (s *Sealer) TTL() time.Duration { return s.ttl }

func (s *Sealer) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Sealer) read(b []byte) error {
	if s.random != nil {
		_, err := io.ReadFull(s.random, b)
		return err
	}
	_, err := rand.Read(b)
	return err
}

// additionalData encodes b (and the version) unambiguously: the strings
// are length-prefixed, so no two Bindings give the same bytes.
func additionalData(b *Binding) []byte {
	ad := make([]byte, 0, 1+4+len(b.Principal)+4+len(b.Method)+len(b.Digest))
	ad = append(ad, Version)
	ad = binary.BigEndian.AppendUint32(ad, uint32(len(b.Principal)))
	ad = append(ad, b.Principal...)
	ad = binary.BigEndian.AppendUint32(ad, uint32(len(b.Method)))
	ad = append(ad, b.Method...)
	return append(ad, b.Digest[:]...)
}

// Seal returns a token holding payload, bound to b, valid for the TTL from
// now, with a fresh random state id. The payload is copied; it may be
// empty.
func (s *Sealer) Seal(b Binding, payload []byte) (string, error) {
	if len(payload) > MaxPayload {
		return "", fmt.Errorf("%w (got %d)", ErrPayloadTooLarge, len(payload))
	}
	now := s.now()
	plainLen := fixedPlainLen + len(payload)
	buf := make([]byte, headerLen+plainLen, headerLen+plainLen+tagLen)
	buf[0] = Version
	nonce := buf[1:headerLen]
	// The id and the nonce are both random: one read for the two.
	if err := s.read(buf[1 : headerLen+idLen]); err != nil {
		return "", fmt.Errorf("reqstate: random: %w", err)
	}
	plain := buf[headerLen:]
	binary.BigEndian.PutUint64(plain[idLen:], uint64(now.UnixMilli()))
	binary.BigEndian.PutUint64(plain[idLen+8:], uint64(now.Add(s.ttl).UnixMilli()))
	copy(plain[fixedPlainLen:], payload)
	// Encrypt in place: dst ends where plain begins.
	sealed := s.aead.Seal(buf[:headerLen], nonce, plain, additionalData(&b))
	return base64.RawURLEncoding.EncodeToString(sealed), nil
}

// strictB64 rejects non-zero trailing bits; validToken rejects everything
// else the decoder would tolerate (line breaks, padding), so that a token
// has exactly one spelling.
var strictB64 = base64.RawURLEncoding.Strict()

func validAlphabet(tok string) bool {
	for i := 0; i < len(tok); i++ {
		c := tok[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// Open authenticates token against b and returns its state. The error
// wraps ErrMalformed, ErrInvalid or ErrExpired; it never quotes the
// token. A state is expired once its own expiry has passed, or once this
// Sealer's TTL has passed since it was issued (so lowering the TTL takes
// effect at once).
func (s *Sealer) Open(token string, b Binding) (State, error) {
	minLen := strictB64.EncodedLen(Overhead)
	switch {
	case len(token) > MaxTokenLen:
		return State{}, fmt.Errorf("%w: longer than %d bytes", ErrMalformed, MaxTokenLen)
	case len(token) < minLen:
		return State{}, fmt.Errorf("%w: shorter than %d bytes", ErrMalformed, minLen)
	case !validAlphabet(token):
		return State{}, fmt.Errorf("%w: not unpadded URL-safe base64", ErrMalformed)
	}
	raw, err := strictB64.DecodeString(token)
	if err != nil {
		return State{}, fmt.Errorf("%w: not canonical unpadded URL-safe base64", ErrMalformed)
	}
	if raw[0] != Version {
		return State{}, fmt.Errorf("%w: unknown version %d", ErrMalformed, raw[0])
	}
	if len(raw) < Overhead {
		return State{}, fmt.Errorf("%w: too short", ErrMalformed)
	}
	plain, err := s.aead.Open(raw[headerLen:headerLen], raw[1:headerLen], raw[headerLen:], additionalData(&b))
	if err != nil {
		return State{}, ErrInvalid
	}
	issued := time.UnixMilli(int64(binary.BigEndian.Uint64(plain[idLen:])))
	expires := time.UnixMilli(int64(binary.BigEndian.Uint64(plain[idLen+8:])))
	now := s.now()
	if !now.Before(expires) || !now.Before(issued.Add(s.ttl)) {
		return State{}, ErrExpired
	}
	st := State{
		ID:       hex.EncodeToString(plain[:idLen]),
		IssuedAt: issued,
		Expires:  expires,
	}
	if len(plain) > fixedPlainLen {
		st.Payload = plain[fixedPlainLen:]
	}
	return st, nil
}

// Redeem opens token against b and then consumes its id in l, so that it
// opens at most once wherever l remembers (ErrReplayed after the first
// time). Only authentic, unexpired states reach the ledger.
func (s *Sealer) Redeem(ctx context.Context, token string, b Binding, l Ledger) (State, error) {
	if l == nil {
		return State{}, errors.New("reqstate: Redeem without a ledger")
	}
	st, err := s.Open(token, b)
	if err != nil {
		return State{}, err
	}
	if err := l.Consume(ctx, st.ID, st.Expires); err != nil {
		return State{}, err
	}
	return st, nil
}
