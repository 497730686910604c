package reqstate

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"testing"
)

func TestParseKey(t *testing.T) {
	key := make([]byte, 32)
	for i := range key {
		key[i] = byte(i*37 + 0xfb) // has '+' and '/' in std base64
	}
	long := append(bytes.Clone(key), key...)
	good := []struct {
		name, in string
		want     []byte
	}{
		{"std base64 (openssl rand -base64 32)", base64.StdEncoding.EncodeToString(key), key},
		{"raw std base64", base64.RawStdEncoding.EncodeToString(key), key},
		{"url base64", base64.URLEncoding.EncodeToString(key), key},
		{"raw url base64", base64.RawURLEncoding.EncodeToString(key), key},
		{"hex (openssl rand -hex 32)", hex.EncodeToString(key), key},
		{"upper hex", strings.ToUpper(hex.EncodeToString(key)), key},
		{"surrounding whitespace", "  " + base64.StdEncoding.EncodeToString(key) + "\n", key},
		{"64 bytes", base64.StdEncoding.EncodeToString(long), long},
	}
	for _, tt := range good {
		t.Run(tt.name, func(t *testing.T) {
			if !strings.ContainsAny(base64.StdEncoding.EncodeToString(key), "+/") {
				t.Fatal("test key does not exercise the std alphabet")
			}
			got, err := ParseKey(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, tt.want) {
				t.Fatalf("ParseKey = %x, want %x", got, tt.want)
			}
		})
	}

	short := base64.StdEncoding.EncodeToString(key[:31])
	bad := []struct{ name, in, mention string }{
		{"empty", "", "not set"},
		{"blank", "   ", "not set"},
		{"short base64", short, "too short"},
		{"short hex", hex.EncodeToString(key[:31]), "too short"},
		{"password", "hunter2", "too short"},
		{"not base64", "this is not a key, it has spaces and commas!!", "neither hex nor base64"},
		{"placeholder", base64.StdEncoding.EncodeToString(make([]byte, 32)), "placeholder"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseKey(tt.in)
			if err == nil {
				t.Fatal("accepted")
			}
			msg := err.Error()
			for _, want := range []string{"REQUEST_STATE_KEY", "openssl rand -base64 32", tt.mention} {
				if !strings.Contains(msg, want) {
					t.Errorf("error %q does not mention %q", msg, want)
				}
			}
			if s := strings.TrimSpace(tt.in); len(s) >= 4 && strings.Contains(msg, s) {
				t.Errorf("error %q echoes the value", msg)
			}
		})
	}
	// A parsed key makes a Sealer.
	k, err := ParseKey(base64.StdEncoding.EncodeToString(key))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewSealer(k, 0); err != nil {
		t.Fatal(err)
	}
}
