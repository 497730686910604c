package oauthclient

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"mcplambda/oauth"
)

// migrationAS is an authorization server with dynamic registration that
// records which client ids reach its registration and token endpoints.
type migrationAS struct {
	*httptest.Server
	name          string
	mu            sync.Mutex
	registrations int
	tokenClients  []string
	grants        []string
}

func newMigrationAS(t *testing.T, name string) *migrationAS {
	a := &migrationAS{name: name}
	a.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/.well-known/oauth-authorization-server":
			md := asMetadata(a.URL)
			md.RegistrationEndpoint = a.URL + "/register"
			_ = json.NewEncoder(w).Encode(struct {
				oauth.AuthorizationServerMetadata
				Iss bool `json:"authorization_response_iss_parameter_supported"`
			}{md, true})
		case "/register":
			a.mu.Lock()
			a.registrations++
			a.mu.Unlock()
			w.WriteHeader(http.StatusCreated)
			fmt.Fprintf(w, `{"client_id":%q,"token_endpoint_auth_method":"none"}`, a.name+"-client")
		case "/token":
			_ = r.ParseForm()
			a.mu.Lock()
			a.tokenClients = append(a.tokenClients, r.PostForm.Get("client_id"))
			a.grants = append(a.grants, r.PostForm.Get("grant_type"))
			n := len(a.grants)
			a.mu.Unlock()
			fmt.Fprintf(w, `{"access_token":"%s-at-%d","token_type":"Bearer","expires_in":3600,"refresh_token":"%s-rt"}`, a.name, n, a.name)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(a.Close)
	return a
}

func (a *migrationAS) seen() (registrations int, clients, grants []string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.registrations, append([]string(nil), a.tokenClients...), append([]string(nil), a.grants...)
}

// migrationFixture is a resource whose metadata names the authorization
// server in current, and a Flow logged in there.
type migrationFixture struct {
	current  *atomic.Pointer[migrationAS]
	resource string // the resource server's base URL
	flow     *Flow
	browser  *callbackBrowser
}

// loggedInAt logs a Flow (clientID "" registers dynamically) in at as,
// the browser coming back with iss as both servers advertise.
func loggedInAt(t *testing.T, as *migrationAS, clientID string) *migrationFixture {
	t.Helper()
	m := &migrationFixture{current: new(atomic.Pointer[migrationAS])}
	m.current.Store(as)
	rs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/.well-known/oauth-protected-resource/mcp" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(oauth.ProtectedResourceMetadata{
			Resource: "http://" + r.Host + "/mcp", AuthorizationServers: []string{m.current.Load().URL}})
	}))
	t.Cleanup(rs.Close)
	m.resource = rs.URL
	m.browser = &callbackBrowser{tweak: func(q url.Values) url.Values {
		return url.Values{"code": {"c"}, "state": {q.Get("state")}, "iss": {m.current.Load().URL}}
	}}
	f, err := New(Config{
		ServerURL:    rs.URL + "/mcp",
		ClientID:     clientID,
		RedirectURI:  "http://127.0.0.1:0/callback",
		Interactive:  true,
		OpenBrowser:  m.browser.open,
		Out:          io.Discard,
		StoreDir:     t.TempDir(),
		LoginTimeout: 30 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Login(t.Context()); err != nil {
		t.Fatal(err)
	}
	m.flow = f
	return m
}

// TestAuthorizationServerMigration: when the resource's metadata names a
// new authorization server, a refused token is not refreshed at the old
// one; the client registers with the new one and logs in there, never
// presenting the old client id to it.
func TestAuthorizationServerMigration(t *testing.T) {
	as1, as2 := newMigrationAS(t, "as1"), newMigrationAS(t, "as2")
	m := loggedInAt(t, as1, "")
	f, browser := m.flow, m.browser
	tok, _ := f.current()
	if tok == nil || tok.Issuer != as1.URL || tok.ClientID != "as1-client" {
		t.Fatalf("after the first login: %+v", tok)
	}

	m.current.Store(as2)
	req, _ := http.NewRequest(http.MethodPost, m.resource+"/mcp", nil)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	refusal := &http.Response{StatusCode: 401, Request: req, Header: http.Header{
		"Www-Authenticate": {`Bearer error="invalid_token"`}}}
	if err := f.Challenge(t.Context(), refusal); err != nil {
		t.Fatalf("401 after the migration: %v, want a login at the new server", err)
	}
	tok, _ = f.current()
	if tok == nil || tok.Issuer != as2.URL || tok.ClientID != "as2-client" {
		t.Fatalf("after the migration: %+v, want tokens of as2's client", tok)
	}
	if n, _, grants := as1.seen(); n != 1 || len(grants) != 1 {
		t.Errorf("as1 saw %d registrations and the grants %v; want 1 and only the first code exchange (no refresh after the migration)", n, grants)
	}
	n, clients, _ := as2.seen()
	if n != 1 {
		t.Errorf("as2 saw %d registrations, want 1", n)
	}
	for _, c := range clients {
		if c != "as2-client" {
			t.Errorf("as2's token endpoint saw client %q", c)
		}
	}
	if q := browser.auth; q.Get("client_id") != "as2-client" {
		t.Errorf("the authorization request to as2 named client %q", q.Get("client_id"))
	}
}

// TestAuthorizationServerMigrationConfiguredClient: a configured client
// belongs to the server it was set up with; after a migration the Flow
// says so rather than present it to the new server.
func TestAuthorizationServerMigrationConfiguredClient(t *testing.T) {
	as1, as2 := newMigrationAS(t, "as1"), newMigrationAS(t, "as2")
	m := loggedInAt(t, as1, "pre-registered")
	f := m.flow
	tok, _ := f.current()
	m.current.Store(as2)
	req, _ := http.NewRequest(http.MethodPost, m.resource+"/mcp", nil)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	err := f.Challenge(t.Context(), &http.Response{StatusCode: 401, Request: req, Header: http.Header{}})
	if !errors.Is(err, ErrLoginRequired) || !strings.Contains(err.Error(), as2.URL) {
		t.Fatalf("401 after the migration: %v, want ErrLoginRequired naming %s", err, as2.URL)
	}
	if n, clients, _ := as2.seen(); n != 0 || len(clients) != 0 {
		t.Errorf("as2 saw %d registrations and token requests from %v, want none", n, clients)
	}
	if cur, _ := f.current(); cur != nil {
		t.Errorf("the old server's tokens are still in use: %+v", cur)
	}
}
