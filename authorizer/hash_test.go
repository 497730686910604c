package authorizer

import (
	"crypto/sha256"
	"encoding/hex"
)

func hashHex(key string) string {
	s := sha256.Sum256([]byte(key))
	return hex.EncodeToString(s[:])
}
