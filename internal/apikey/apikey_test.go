package apikey

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
)

func hashHex(key string) string {
	s := sha256.Sum256([]byte(key))
	return hex.EncodeToString(s[:])
}

func TestParse(t *testing.T) {
	h1, h2 := hashHex("key-one-0123456789abcdef"), hashHex("key-two-0123456789abcdef")
	tests := []struct {
		name, in string
		n        int
		wantErr  string
	}{
		{"one", h1, 1, ""},
		{"two with spaces and a trailing comma", " " + h1 + " , " + h2 + ",", 2, ""},
		{"upper case hex", strings.ToUpper(h1), 0, "entry 1 is not lowercase"},
		{"empty list", " , ", 0, "lists no hash"},
		{"too short", h1[:63], 0, "63 characters"},
		{"too long", h1 + "0", 0, "65 characters"},
		{"not hex", strings.Repeat("g", 64), 0, "not lowercase hexadecimal"},
		{"a raw key instead of a hash", "my-secret-api-key", 0, "entry 1 has 17 characters"},
		{"second entry bad", h1 + ",abc", 0, "entry 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := Parse(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "my-secret") {
					t.Fatalf("error echoes the value: %v", err)
				}
				return
			}
			if err != nil || k.Len() != tt.n {
				t.Fatalf("got %v, %v; want %d keys", k, err, tt.n)
			}
		})
	}
}

func TestCheck(t *testing.T) {
	const key1, key2 = "first-key-5f2c9a1e7d3b4c60", "second-key-0a9b8c7d6e5f4a3b"
	h1, h2 := hashHex(key1), hashHex(key2)
	// A hash that differs from h1 only in its last hex digit.
	last := h1[63]
	flip := byte('0')
	if last == '0' {
		flip = '1'
	}
	near := h1[:63] + string(flip)
	keys, err := Parse(h1 + "," + h2)
	if err != nil {
		t.Fatal(err)
	}
	nearKeys, err := Parse(near)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		keys  *Keys
		token string
		want  string // principal, "" = refused
	}{
		{"first key", keys, key1, "apikey:" + h1[:12]},
		{"second key", keys, key2, "apikey:" + h2[:12]},
		{"unknown key", keys, "not-a-configured-key", ""},
		{"key with one more char", keys, key1 + "x", ""},
		{"key one char short", keys, key1[:len(key1)-1], ""},
		{"empty", keys, "", ""},
		{"the hash itself is not the key", keys, h1, ""},
		{"hash differing in the last char", nearKeys, key1, ""},
		{"nil set", nil, key1, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, ok := tt.keys.Check(tt.token)
			if ok != (tt.want != "") || p != tt.want {
				t.Fatalf("Check = %q, %v; want %q", p, ok, tt.want)
			}
		})
	}
}
