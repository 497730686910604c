package reqstate

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// testClock is a settable clock safe for concurrent use.
type testClock struct{ ns atomic.Int64 }

func newTestClock() *testClock {
	c := &testClock{}
	c.ns.Store(time.Date(2026, 7, 28, 12, 0, 0, 0, time.UTC).UnixNano())
	return c
}
func (c *testClock) Now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *testClock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

func testSecret(fill byte) []byte {
	b := make([]byte, 32)
	for i := range b {
		b[i] = fill + byte(i)
	}
	return b
}

func newTestSealer(t testing.TB, ttl time.Duration) (*Sealer, *testClock) {
	t.Helper()
	s, err := NewSealer(testSecret(1), ttl)
	if err != nil {
		t.Fatal(err)
	}
	clk := newTestClock()
	s.Now = clk.Now
	return s, clk
}

var testBinding = BindingFor("cognito:us-east-1_x:alice", "tools/call",
	[]byte(`{"name":"transfer","arguments":{"to":"bob","amount":10}}`))

func TestRoundTrip(t *testing.T) {
	s, clk := newTestSealer(t, 0)
	if s.TTL() != DefaultTTL {
		t.Fatalf("TTL() = %v, want %v", s.TTL(), DefaultTTL)
	}
	big := bytes.Repeat([]byte{0xa5}, MaxPayload)
	tests := []struct {
		name    string
		b       Binding
		payload []byte
	}{
		{"empty payload", testBinding, nil},
		{"json payload", testBinding, []byte(`{"answers":{"confirm":{"action":"accept"}}}`)},
		{"binary payload", testBinding, []byte{0, 1, 2, 0xff, 0xfe}},
		{"max payload", testBinding, big},
		{"no principal", Binding{Method: "prompts/get"}, []byte("x")},
		{"unicode principal", Binding{Principal: "ünïcødé:😀", Method: "resources/read", Digest: ParamsDigest("resources/read", []byte(`{"uri":"file:///a"}`))}, []byte("y")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := s.Seal(tt.b, tt.payload)
			if err != nil {
				t.Fatal(err)
			}
			if len(tok) > MaxTokenLen {
				t.Fatalf("token of %d bytes exceeds MaxTokenLen", len(tok))
			}
			if strings.ContainsAny(tok, "=+/\r\n") {
				t.Fatalf("token is not unpadded URL-safe base64")
			}
			st, err := s.Open(tok, tt.b)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(st.Payload, tt.payload) {
				t.Fatalf("payload = %q, want %q", st.Payload, tt.payload)
			}
			if len(st.ID) != 32 {
				t.Fatalf("ID %q is not 128 bits of hex", st.ID)
			}
			if want := clk.Now().Truncate(time.Millisecond); !st.IssuedAt.Equal(want) {
				t.Fatalf("IssuedAt = %v, want %v", st.IssuedAt, want)
			}
			if want := clk.Now().Add(DefaultTTL).Truncate(time.Millisecond); !st.Expires.Equal(want) {
				t.Fatalf("Expires = %v, want %v", st.Expires, want)
			}
		})
	}
}

func TestSealUnique(t *testing.T) {
	s, _ := newTestSealer(t, 0)
	a, _ := s.Seal(testBinding, []byte("same"))
	b, _ := s.Seal(testBinding, []byte("same"))
	if a == b {
		t.Fatal("two Seals of the same payload gave the same token")
	}
	sa, _ := s.Open(a, testBinding)
	sb, _ := s.Open(b, testBinding)
	if sa.ID == sb.ID {
		t.Fatal("two Seals gave the same state id")
	}
}

func TestConfidential(t *testing.T) {
	s, _ := newTestSealer(t, 0)
	secret := []byte("card=4111111111111111")
	tok, err := s.Seal(testBinding, secret)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, secret) || bytes.Contains(raw, []byte("4111")) || strings.Contains(tok, "alice") {
		t.Fatal("token shows its payload or binding in clear")
	}
}

func TestSealTooLarge(t *testing.T) {
	s, _ := newTestSealer(t, 0)
	_, err := s.Seal(testBinding, make([]byte, MaxPayload+1))
	if !errors.Is(err, ErrPayloadTooLarge) {
		t.Fatalf("Seal of MaxPayload+1 bytes: %v, want ErrPayloadTooLarge", err)
	}
}

// Changing any character of a token to any other base64 character, or any
// bit of the decoded token, must be refused.
func TestTamperEveryByte(t *testing.T) {
	s, _ := newTestSealer(t, 0)
	tok, err := s.Seal(testBinding, []byte(`{"confirm":true}`))
	if err != nil {
		t.Fatal(err)
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	for i := range len(tok) {
		for _, c := range []byte(alphabet) {
			if c == tok[i] {
				continue
			}
			bad := tok[:i] + string(c) + tok[i+1:]
			if _, err := s.Open(bad, testBinding); err == nil {
				t.Fatalf("token with char %d changed to %q was accepted", i, c)
			} else if !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrMalformed) {
				t.Fatalf("char %d changed: %v", i, err)
			}
		}
	}
	raw, _ := base64.RawURLEncoding.DecodeString(tok)
	for i := range raw {
		for bit := range 8 {
			mod := bytes.Clone(raw)
			mod[i] ^= 1 << bit
			_, err := s.Open(base64.RawURLEncoding.EncodeToString(mod), testBinding)
			want := ErrInvalid
			if i == 0 {
				want = ErrMalformed // the version byte
			}
			if !errors.Is(err, want) {
				t.Fatalf("byte %d bit %d flipped: %v, want %v", i, bit, err, want)
			}
		}
	}
	// Every truncation, and every extension.
	for n := range len(tok) {
		if _, err := s.Open(tok[:n], testBinding); err == nil {
			t.Fatalf("token truncated to %d chars was accepted", n)
		}
	}
	for _, ext := range []string{"A", "AA", "AAA", "AAAA", "_"} {
		if _, err := s.Open(tok+ext, testBinding); err == nil {
			t.Fatalf("token extended by %q was accepted", ext)
		}
	}
	if _, err := s.Open(tok, testBinding); err != nil {
		t.Fatalf("the untouched token: %v", err)
	}
}

func TestWrongBinding(t *testing.T) {
	s, _ := newTestSealer(t, 0)
	b := Binding{Principal: "ab", Method: "c", Digest: testBinding.Digest}
	tok, err := s.Seal(b, []byte("p"))
	if err != nil {
		t.Fatal(err)
	}
	otherDigest := b.Digest
	otherDigest[31] ^= 1
	tests := []struct {
		name string
		b    Binding
	}{
		{"other principal", Binding{Principal: "mallory", Method: b.Method, Digest: b.Digest}},
		{"no principal", Binding{Method: b.Method, Digest: b.Digest}},
		{"other method", Binding{Principal: b.Principal, Method: "prompts/get", Digest: b.Digest}},
		{"other digest", Binding{Principal: b.Principal, Method: b.Method, Digest: otherDigest}},
		{"zero digest", Binding{Principal: b.Principal, Method: b.Method}},
		{"boundary moved", Binding{Principal: "a", Method: "bc", Digest: b.Digest}},
		{"zero binding", Binding{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := s.Open(tok, tt.b); !errors.Is(err, ErrInvalid) {
				t.Fatalf("Open = %v, want ErrInvalid", err)
			}
		})
	}
}

func TestForeignKey(t *testing.T) {
	s, _ := newTestSealer(t, 0)
	other, err := NewSealer(testSecret(2), 0)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := other.Seal(testBinding, []byte("p"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Open(tok, testBinding); !errors.Is(err, ErrInvalid) {
		t.Fatalf("token of another key: %v, want ErrInvalid", err)
	}
}

func TestExpiry(t *testing.T) {
	const ttl = time.Minute
	s, clk := newTestSealer(t, ttl)
	tok, err := s.Seal(testBinding, []byte("p"))
	if err != nil {
		t.Fatal(err)
	}
	clk.Advance(ttl - time.Millisecond)
	if _, err := s.Open(tok, testBinding); err != nil {
		t.Fatalf("Open just before expiry: %v", err)
	}
	clk.Advance(time.Millisecond)
	if _, err := s.Open(tok, testBinding); !errors.Is(err, ErrExpired) {
		t.Fatalf("Open at expiry: %v, want ErrExpired", err)
	}
	clk.Advance(time.Hour)
	if _, err := s.Open(tok, testBinding); !errors.Is(err, ErrExpired) {
		t.Fatalf("Open long after expiry: %v, want ErrExpired", err)
	}

	// A Sealer with a shorter TTL (the setting was lowered) applies its own.
	long, _ := newTestSealer(t, time.Hour)
	short, sclk := newTestSealer(t, time.Minute)
	tok, err = long.Seal(testBinding, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := short.Open(tok, testBinding); err != nil {
		t.Fatal(err)
	}
	sclk.Advance(2 * time.Minute)
	if _, err := short.Open(tok, testBinding); !errors.Is(err, ErrExpired) {
		t.Fatalf("Open past the opener's TTL: %v, want ErrExpired", err)
	}
}

func TestMalformed(t *testing.T) {
	s, _ := newTestSealer(t, 0)
	good, err := s.Seal(testBinding, []byte("payload"))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := base64.RawURLEncoding.DecodeString(good)
	v2 := bytes.Clone(raw)
	v2[0] = 2
	// A token of 64 bytes (len%3 == 1) ends in a character with 4 unused
	// bits: setting one spells the same bytes another way.
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	odd, err := s.Seal(testBinding, []byte("pay"))
	if err != nil {
		t.Fatal(err)
	}
	last := strings.IndexByte(alphabet, odd[len(odd)-1])
	nonCanonical := odd[:len(odd)-1] + string(alphabet[last|1])
	if nonCanonical == odd {
		t.Fatal("test setup: could not make a non-canonical spelling")
	}
	tests := []struct {
		name, tok string
	}{
		{"empty", ""},
		{"short", "AQ"},
		{"not base64", strings.Repeat("!", 100)},
		{"std alphabet", strings.Repeat("+/", 50)},
		{"padded", good + "=="},
		{"line break", good[:40] + "\n" + good[40:]},
		{"CR LF", good[:40] + "\r\n" + good[40:]},
		{"space", " " + good},
		{"version 2", base64.RawURLEncoding.EncodeToString(v2)},
		{"version 0", base64.RawURLEncoding.EncodeToString(append([]byte{0}, raw[1:]...))},
		{"too long", strings.Repeat("A", MaxTokenLen+1)},
		{"huge", strings.Repeat("A", 10<<20)},
		{"header only", base64.RawURLEncoding.EncodeToString(raw[:headerLen])},
		{"one short", base64.RawURLEncoding.EncodeToString(raw[:Overhead-1])},
		{"non-canonical trailing bits", nonCanonical},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.Open(tt.tok, testBinding)
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("Open = %v, want ErrMalformed", err)
			}
			if len(tt.tok) > 8 && strings.Contains(err.Error(), tt.tok) {
				t.Fatal("error quotes the token")
			}
		})
	}
	if _, err := s.Open(odd, testBinding); err != nil {
		t.Fatalf("canonical spelling: %v", err)
	}
}

func TestErrorsDistinct(t *testing.T) {
	errs := []error{ErrMalformed, ErrInvalid, ErrExpired, ErrReplayed, ErrLedgerFull, ErrPayloadTooLarge}
	for i, a := range errs {
		for j, b := range errs {
			if i != j && errors.Is(a, b) {
				t.Errorf("%v is %v", a, b)
			}
		}
	}
}

func TestNewSealer(t *testing.T) {
	secret := []byte("0123456789abcdef0123456789abcde") // 31 bytes
	_, err := NewSealer(secret, 0)
	if err == nil {
		t.Fatal("NewSealer accepted a 31-byte secret")
	}
	if !strings.Contains(err.Error(), "REQUEST_STATE_KEY") || !strings.Contains(err.Error(), "openssl rand") {
		t.Errorf("error %q does not name the setting or how to make one", err)
	}
	if strings.Contains(err.Error(), string(secret)) {
		t.Error("error echoes the secret")
	}
	if _, err := NewSealer(nil, 0); err == nil {
		t.Error("NewSealer accepted no secret")
	}
	if _, err := NewSealer(testSecret(1), -time.Second); err == nil {
		t.Error("NewSealer accepted a negative TTL")
	}
	s, err := NewSealer(testSecret(1), 3*time.Minute)
	if err != nil || s.TTL() != 3*time.Minute {
		t.Fatalf("NewSealer(ttl 3m) = %v, %v", s, err)
	}
	// Same secret, same key: another instance opens the token.
	a, _ := NewSealer(testSecret(1), 0)
	b, _ := NewSealer(testSecret(1), 0)
	tok, _ := a.Seal(testBinding, []byte("x"))
	if _, err := b.Open(tok, testBinding); err != nil {
		t.Fatalf("another Sealer with the same secret: %v", err)
	}
}

func TestMustRandomSealer(t *testing.T) {
	a, b := MustRandomSealer(), MustRandomSealer()
	if a.TTL() != DefaultTTL {
		t.Fatalf("TTL = %v", a.TTL())
	}
	tok, err := a.Seal(testBinding, []byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Open(tok, testBinding); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Open(tok, testBinding); !errors.Is(err, ErrInvalid) {
		t.Fatalf("another random Sealer opened the token: %v", err)
	}
}

func TestRedeem(t *testing.T) {
	s, clk := newTestSealer(t, time.Minute)
	l := NewMemoryLedger(10)
	l.Now = clk.Now
	ctx := context.Background()
	tok, err := s.Seal(testBinding, []byte("once"))
	if err != nil {
		t.Fatal(err)
	}
	// Refused tokens never reach the ledger.
	if _, err := s.Redeem(ctx, tok, Binding{}, l); !errors.Is(err, ErrInvalid) {
		t.Fatalf("Redeem with another binding: %v", err)
	}
	if _, err := s.Redeem(ctx, "garbage", testBinding, l); !errors.Is(err, ErrMalformed) {
		t.Fatalf("Redeem of garbage: %v", err)
	}
	if l.Len() != 0 {
		t.Fatalf("ledger holds %d ids after refused tokens", l.Len())
	}
	st, err := s.Redeem(ctx, tok, testBinding, l)
	if err != nil || string(st.Payload) != "once" {
		t.Fatalf("first Redeem = %q, %v", st.Payload, err)
	}
	if _, err := s.Redeem(ctx, tok, testBinding, l); !errors.Is(err, ErrReplayed) {
		t.Fatalf("second Redeem: %v, want ErrReplayed", err)
	}
	if _, err := s.Redeem(ctx, tok, testBinding, nil); err == nil {
		t.Fatal("Redeem without a ledger succeeded")
	}
	clk.Advance(2 * time.Minute)
	if _, err := s.Redeem(ctx, tok, testBinding, l); !errors.Is(err, ErrExpired) {
		t.Fatalf("Redeem after expiry: %v, want ErrExpired", err)
	}
}

func benchPayload() []byte {
	return bytes.Repeat([]byte(`{"confirm":{"action":"accept","content":{"ok":true}}},`), 20) // ~1 KiB
}

func BenchmarkSeal(b *testing.B) {
	s, _ := newTestSealer(b, 0)
	p := benchPayload()
	b.ReportAllocs()
	b.SetBytes(int64(len(p)))
	for b.Loop() {
		if _, err := s.Seal(testBinding, p); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOpen(b *testing.B) {
	s, _ := newTestSealer(b, 0)
	p := benchPayload()
	tok, err := s.Seal(testBinding, p)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(p)))
	for b.Loop() {
		if _, err := s.Open(tok, testBinding); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParamsDigest(b *testing.B) {
	params := []byte(`{"name":"transfer","arguments":{"to":"bob","amount":10.50,"memo":"rent","tags":["a","b"]},"_meta":{"progressToken":1},"requestState":"xyz"}`)
	b.ReportAllocs()
	for b.Loop() {
		ParamsDigest("tools/call", params)
	}
}
