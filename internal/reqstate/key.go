package reqstate

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// KeySetting is the name of the setting ParseKey reads.
const KeySetting = "REQUEST_STATE_KEY"

const keyHelp = "generate one with: openssl rand -base64 32"

// ParseKey decodes the REQUEST_STATE_KEY setting: at least MinSecretLen
// bytes written in hex (only hex digits, even length) or in base64
// (standard or URL-safe alphabet, padded or not). Surrounding whitespace is
// ignored. A key whose bytes are all equal is refused as a placeholder.
// Errors never quote the value.
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, fmt.Errorf("reqstate: %s is not set; %s", KeySetting, keyHelp)
	}
	key, err := decodeKey(s)
	if err != nil {
		return nil, fmt.Errorf("reqstate: %s is neither hex nor base64; %s", KeySetting, keyHelp)
	}
	if len(key) < MinSecretLen {
		return nil, fmt.Errorf("reqstate: %s is too short: it must hold at least %d random bytes; %s", KeySetting, MinSecretLen, keyHelp)
	}
	if allEqual(key) {
		return nil, fmt.Errorf("reqstate: %s is a placeholder (every byte the same); %s", KeySetting, keyHelp)
	}
	return key, nil
}

func decodeKey(s string) ([]byte, error) {
	// A string of hex digits is also valid base64; hex wins, which is what
	// `openssl rand -hex 32` users mean. `openssl rand -base64 32` output
	// (44 characters, with padding) is never all hex digits.
	if len(s)%2 == 0 && isHex(s) {
		return hex.DecodeString(s)
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, errors.New("undecodable")
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

func allEqual(b []byte) bool {
	for _, c := range b[1:] {
		if c != b[0] {
			return false
		}
	}
	return true
}
