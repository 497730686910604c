package oauthclient

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestStoreTokens(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "mcp-lambda-go")
	if err := os.Mkdir(dir, 0o755); err != nil { // too open: the store tightens it
		t.Fatal(err)
	}
	s := Store{Dir: dir}
	const server = "https://api.example.com/mcp"
	if tok, err := s.LoadTokens(server); tok != nil || err != nil {
		t.Fatalf("empty store: %v, %v", tok, err)
	}
	t0 := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	older := &Tokens{ServerURL: server, Issuer: "https://as1.example", AccessToken: "a1", RefreshToken: "r1", Scopes: []string{"x"}, ExpiresAt: t0.Add(time.Hour), SavedAt: t0}
	newer := &Tokens{ServerURL: server, Issuer: "https://as2.example", AccessToken: "a2", SavedAt: t0.Add(time.Minute)}
	other := &Tokens{ServerURL: "https://other.example/mcp", Issuer: "https://as1.example", AccessToken: "a3", SavedAt: t0.Add(time.Hour)}
	for _, tok := range []*Tokens{older, newer, other} {
		if err := s.SaveTokens(tok); err != nil {
			t.Fatal(err)
		}
	}
	st, err := os.Stat(dir)
	if err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("directory mode %v (%v), want 0700", st.Mode().Perm(), err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 3 {
		t.Fatalf("store holds %d files, want 3 (no temporary files left)", len(entries))
	}
	for _, e := range entries {
		info, _ := e.Info()
		if info.Mode().Perm() != 0o600 || strings.HasSuffix(e.Name(), ".tmp") {
			t.Errorf("%s: mode %v", e.Name(), info.Mode().Perm())
		}
	}
	got, err := s.LoadTokens(server)
	if err != nil || got.AccessToken != "a2" {
		t.Fatalf("LoadTokens = %+v, %v; want the newest for this server", got, err)
	}
	// Overwriting keeps one file per (server, issuer).
	older.AccessToken, older.SavedAt = "a1b", t0.Add(2*time.Minute)
	if err := s.SaveTokens(older); err != nil {
		t.Fatal(err)
	}
	got, _ = s.LoadTokens(server)
	if !reflect.DeepEqual(got, older) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, older)
	}
	if err := s.DeleteTokens(server, older.Issuer); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteTokens(server, older.Issuer); err != nil {
		t.Fatalf("deleting twice: %v", err)
	}
	if got, _ = s.LoadTokens(server); got.AccessToken != "a2" {
		t.Fatalf("after delete: %+v", got)
	}

	if err := os.WriteFile(s.TokensPath(server, newer.Issuer), []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := s.LoadTokens(server); err == nil || !strings.Contains(err.Error(), "corrupt") {
		t.Fatalf("corrupt file: %v", err)
	}
}

func TestStoreRegistration(t *testing.T) {
	s := Store{Dir: t.TempDir()}
	if r, err := s.LoadRegistration("https://as.example"); r != nil || err != nil {
		t.Fatalf("none yet: %v, %v", r, err)
	}
	reg := &Registration{Issuer: "https://as.example", ClientID: "c", ClientSecret: "s", TokenEndpointAuthMethod: "client_secret_basic",
		RedirectURIs: []string{"http://localhost:8000/callback"}, RegisteredAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	if err := s.SaveRegistration(reg); err != nil {
		t.Fatal(err)
	}
	got, err := s.LoadRegistration("https://as.example")
	if err != nil || !reflect.DeepEqual(got, reg) {
		t.Fatalf("round trip: %+v, %v", got, err)
	}
	if r, _ := s.LoadRegistration("https://other.example"); r != nil {
		t.Fatal("a registration for another issuer was returned")
	}
	if err := s.DeleteRegistration("https://as.example"); err != nil {
		t.Fatal(err)
	}
	if r, _ := s.LoadRegistration("https://as.example"); r != nil {
		t.Fatal("registration survived its deletion")
	}
	if err := (Store{}).SaveRegistration(reg); err == nil {
		t.Fatal("a store without a directory saved")
	}
}
