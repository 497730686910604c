package oauthclient

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Tokens are what a login leaves behind for one (MCP server, issuer) pair.
// The file holding them is readable by its owner only.
type Tokens struct {
	ServerURL string `json:"server_url"` // canonical MCP URL
	Issuer    string `json:"issuer"`
	// Resource is the RFC 8707 resource the tokens are bound to.
	Resource     string    `json:"resource"`
	ClientID     string    `json:"client_id"`
	ClientKind   string    `json:"client_kind"` // "configured", "metadata-document" or "registered"
	AuthMethod   string    `json:"token_endpoint_auth_method"`
	AccessToken  string    `json:"access_token"`
	RefreshToken string    `json:"refresh_token,omitempty"`
	TokenType    string    `json:"token_type"`
	ExpiresAt    time.Time `json:"expires_at,omitzero"` // zero: unknown
	Scopes       []string  `json:"scopes,omitempty"`
	// The endpoints are kept so that refresh and logout in a later process
	// need no discovery round trips.
	TokenEndpoint      string    `json:"token_endpoint"`
	RevocationEndpoint string    `json:"revocation_endpoint,omitempty"`
	SavedAt            time.Time `json:"saved_at"`
}

// expiresWithin reports whether the access token expires within d of now
// (never, when the expiry is unknown).
func (t *Tokens) expiresWithin(now time.Time, d time.Duration) bool {
	return !t.ExpiresAt.IsZero() && now.Add(d).After(t.ExpiresAt)
}

// Registration is a client registered with an authorization server by this
// client (RFC 7591), kept per issuer so that later logins reuse it.
type Registration struct {
	Issuer                  string    `json:"issuer"`
	ClientID                string    `json:"client_id"`
	ClientSecret            string    `json:"client_secret,omitempty"`
	ClientSecretExpiresAt   int64     `json:"client_secret_expires_at,omitempty"` // 0: never
	TokenEndpointAuthMethod string    `json:"token_endpoint_auth_method"`
	RedirectURIs            []string  `json:"redirect_uris"`
	RegisteredAt            time.Time `json:"registered_at"`
}

// Store keeps tokens and registrations as JSON files in one directory
// (mode 0700; files 0600, replaced atomically).
type Store struct{ Dir string }

// DefaultStoreDir is os.UserConfigDir()/mcp-lambda-go (on Linux
// ~/.config/mcp-lambda-go).
func DefaultStoreDir() (string, error) {
	base, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("no directory for the token store (set OAUTH_TOKEN_DIR): %w", err)
	}
	return filepath.Join(base, "mcp-lambda-go"), nil
}

// maxStoredFile bounds a file read back from the store.
const maxStoredFile = 1 << 20

func nameHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:8])
}

func (s Store) tokensPrefix(serverURL string) string { return "tokens-" + nameHash(serverURL) + "-" }

// TokensPath is the file holding the tokens of (serverURL, issuer).
func (s Store) TokensPath(serverURL, issuer string) string {
	return filepath.Join(s.Dir, s.tokensPrefix(serverURL)+nameHash(issuer)+".json")
}

func (s Store) registrationPath(issuer string) string {
	return filepath.Join(s.Dir, "client-"+nameHash(issuer)+".json")
}

// LoadTokens returns the most recently saved tokens for serverURL, whatever
// their issuer, or nil if there are none.
func (s Store) LoadTokens(serverURL string) (*Tokens, error) {
	matches, err := filepath.Glob(filepath.Join(s.Dir, s.tokensPrefix(serverURL)+"*.json"))
	if err != nil {
		return nil, err
	}
	var newest *Tokens
	for _, m := range matches {
		var t Tokens
		if err := readJSON(m, &t); err != nil {
			return nil, err
		}
		if t.ServerURL != serverURL { // a hash prefix collision
			continue
		}
		if newest == nil || t.SavedAt.After(newest.SavedAt) {
			newest = &t
		}
	}
	return newest, nil
}

// SaveTokens writes t under (t.ServerURL, t.Issuer).
func (s Store) SaveTokens(t *Tokens) error {
	return s.writeJSON(s.TokensPath(t.ServerURL, t.Issuer), t)
}

// DeleteTokens removes the tokens of (serverURL, issuer); no file is not an
// error.
func (s Store) DeleteTokens(serverURL, issuer string) error {
	err := os.Remove(s.TokensPath(serverURL, issuer))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// LoadRegistration returns the client registered with issuer, or nil.
func (s Store) LoadRegistration(issuer string) (*Registration, error) {
	var r Registration
	if err := readJSON(s.registrationPath(issuer), &r); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, err
	}
	if r.Issuer != issuer {
		return nil, nil
	}
	return &r, nil
}

// SaveRegistration keeps r for its issuer.
func (s Store) SaveRegistration(r *Registration) error {
	return s.writeJSON(s.registrationPath(r.Issuer), r)
}

// DeleteRegistration forgets the client registered with issuer.
func (s Store) DeleteRegistration(issuer string) error {
	err := os.Remove(s.registrationPath(issuer))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

func readJSON(path string, v any) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	body, err := io.ReadAll(io.LimitReader(f, maxStoredFile+1))
	if err != nil {
		return err
	}
	if len(body) > maxStoredFile {
		return fmt.Errorf("%s is larger than %d bytes", path, maxStoredFile)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("%s is corrupt (delete it and log in again): %w", path, err)
	}
	return nil
}

// writeJSON replaces path atomically: a reader (another client process)
// sees the old file or the new one, never half of one, and a crash leaves
// at worst a stray temporary file, never a truncated token file.
func (s Store) writeJSON(path string, v any) error {
	if s.Dir == "" {
		return errors.New("the token store has no directory")
	}
	if err := os.MkdirAll(s.Dir, 0o700); err != nil {
		return err
	}
	// MkdirAll leaves an existing directory's mode alone.
	if err := os.Chmod(s.Dir, 0o700); err != nil {
		return err
	}
	body, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(s.Dir, "."+strings.TrimSuffix(filepath.Base(path), ".json")+"-*.tmp")
	if err != nil {
		return err
	}
	ok := false
	defer func() {
		if !ok {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	// CreateTemp already uses 0600; set it explicitly so the mode does not
	// depend on that detail.
	if err := tmp.Chmod(0o600); err != nil {
		return err
	}
	if _, err := tmp.Write(append(body, '\n')); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	ok = true
	return nil
}
