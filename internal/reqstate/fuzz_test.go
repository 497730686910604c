package reqstate

import (
	"encoding/base64"
	"encoding/json"
	"math/rand/v2"
	"testing"
	"time"
)

// FuzzOpen: Open never panics and accepts only tokens Seal produced.
func FuzzOpen(f *testing.F) {
	s, err := NewSealer(testSecret(7), time.Hour)
	if err != nil {
		f.Fatal(err)
	}
	clk := newTestClock()
	s.Now = clk.Now
	// Every fuzz worker runs this setup: the seed tokens must be the same
	// in each, so the nonces and ids come from a seeded stream.
	s.random = rand.NewChaCha8([32]byte{1})
	sealed := map[string]bool{}
	for _, p := range []string{"", "x", `{"answers":{"a":1}}`, string(make([]byte, 300))} {
		tok, err := s.Seal(testBinding, []byte(p))
		if err != nil {
			f.Fatal(err)
		}
		sealed[tok] = true
		f.Add(tok)
		raw, _ := base64.RawURLEncoding.DecodeString(tok)
		raw[len(raw)-1] ^= 1
		f.Add(base64.RawURLEncoding.EncodeToString(raw))
		f.Add(tok + "=")
		f.Add(tok[:len(tok)-1])
	}
	f.Add("")
	f.Add("AQ")
	f.Add("AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
	f.Fuzz(func(t *testing.T, tok string) {
		st, err := s.Open(tok, testBinding)
		if err == nil && !sealed[tok] {
			t.Fatalf("accepted a token Seal did not produce: %q (payload %q)", tok, st.Payload)
		}
		if err != nil && sealed[tok] {
			t.Fatalf("refused a sealed token: %v", err)
		}
	})
}

// FuzzParamsDigest: never panics; canonical forms are valid JSON and
// canonicalising is idempotent.
func FuzzParamsDigest(f *testing.F) {
	for _, p := range []string{
		`{"name":"t","arguments":{"a":1.50,"b":[true,null,"x"]}}`,
		`{"uri":"file:///x","_meta":{}}`,
		`{"a":{"a":{"a":-0.0e-0}}}`,
		`{"name":"t","name":"u"}`,
		`[`,
		``,
	} {
		f.Add("tools/call", p)
		f.Add("resources/read", p)
		f.Add("other", p)
	}
	f.Fuzz(func(t *testing.T, method, params string) {
		ParamsDigest(method, []byte(params))
		canon, err := salient(method, []byte(params))
		if err != nil {
			return
		}
		if !json.Valid(canon) {
			t.Fatalf("canonical form is not JSON: %s", canon)
		}
		again, err := salient("other", canon)
		if err != nil || string(again) != string(canon) {
			t.Fatalf("canonical form not stable:\n%s\n%s (%v)", canon, again, err)
		}
	})
}
