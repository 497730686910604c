package authorizer

import (
	"strings"
	"testing"

	"mcplambda/server"
)

// The server checks API keys itself when no authorizer is in front of it
// (server.APIKeyAuth). A key must name the same principal, and be accepted
// or refused alike, whichever of the two checks it; and a value of
// API_KEY_SHA256 one accepts the other must accept too.
func TestAPIKeysAgreeWithServer(t *testing.T) {
	keys := []string{apiKey1, apiKey2}
	hashes := []string{hashHex(apiKey1), hashHex(apiKey2)}
	ours, err := ParseAPIKeys(strings.Join(hashes, ","))
	if err != nil {
		t.Fatal(err)
	}
	theirs, err := server.NewAPIKeyAuth(hashes)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range append(keys, "", "nope", apiKey1+" ", hashes[0], strings.ToUpper(apiKey2)) {
		p1, ok1 := ours.Check(k)
		p2, ok2 := theirs.Check(k)
		if p1 != p2 || ok1 != ok2 {
			t.Errorf("key %d bytes: authorizer %q %v, server %q %v", len(k), p1, ok1, p2, ok2)
		}
	}
	for _, h := range []string{strings.ToUpper(hashes[0]), hashes[0][:63], hashes[0] + "0", strings.Repeat("z", 64)} {
		_, err1 := ParseAPIKeys(h)
		_, err2 := server.NewAPIKeyAuth([]string{h})
		if (err1 == nil) != (err2 == nil) {
			t.Errorf("hash %q: authorizer %v, server %v", h, err1, err2)
		}
	}
}
