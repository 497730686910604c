package repl

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"mcplambda/client/oauthclient"
	"mcplambda/greetings"
	"mcplambda/test/oidc"
)

// oauthServer runs the MCP server as an OAuth resource server trusting the
// provider, on a fixed loopback port so its resource URL is known before
// it starts.
func oauthServer(t *testing.T, issuer string) string {
	return oidc.StartMCP(t, issuer, "mcp:read", greetings.Options{Interval: 10 * time.Millisecond})
}

// oauthSetup is the OAuth configuration of one REPL under test: its own
// token directory and a browser that logs in as alice.
type oauthSetup struct {
	dir    string
	opened atomic.Int32
	base   oauthclient.Config
}

func newOAuthSetup(t *testing.T, p *oidc.Provider, msgs io.Writer) *oauthSetup {
	s := &oauthSetup{dir: t.TempDir()}
	b := &oidc.Browser{Login: "alice"}
	s.base = oauthclient.Config{
		ClientID:     p.ClientID,
		RedirectURI:  "http://127.0.0.1:0/callback",
		StoreDir:     s.dir,
		Out:          msgs,
		LoginTimeout: wait,
		OpenBrowser: func(ctx context.Context, u string) error {
			s.opened.Add(1)
			return b.Open(ctx, u)
		},
	}
	return s
}

// storedAccessTokens reads every access token in the store, to check none
// is ever printed.
func (s *oauthSetup) storedAccessTokens(t *testing.T) []string {
	var toks []string
	filepath.WalkDir(s.dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		b, _ := os.ReadFile(path)
		var v map[string]any
		if json.Unmarshal(b, &v) == nil {
			collectTokens(v, &toks)
		}
		return nil
	})
	return toks
}

func collectTokens(v any, out *[]string) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if s, ok := e.(string); ok && strings.Contains(strings.ToLower(k), "token") && len(s) > 20 {
				*out = append(*out, s)
			}
			collectTokens(e, out)
		}
	case []any:
		for _, e := range x {
			collectTokens(e, out)
		}
	}
}

// TestOAuthLogin logs in through a real OAuth 2.1 server (oidc-provider):
// the REPL follows the 401 into the browser login, then lists tools and
// greets; auth status, refresh and logout work, lambda mode uses the stored
// token without a browser, and no token is ever printed.
func TestOAuthLogin(t *testing.T) {
	p := oidc.Start(t, oidc.Options{})
	endpoint := oauthServer(t, p.Issuer)

	t.Run("auto mode follows the 401 into a login", func(t *testing.T) {
		msgs := newBuffer()
		setup := newOAuthSetup(t, p, msgs)
		script := "list-tools\ngreet Ada\nauth status\nauth refresh\nset-auth-method lambda\nreconnect\ngreet Lambda\nauth logout\nauth status\n"
		out, errOut, err := runScript(t, nil, script, func(o *Options) {
			o.Config.ServerURL = endpoint
			o.OAuth = FlowFactory(setup.base)
		})
		if err != nil {
			t.Fatalf("Run: %v\nout:\n%s\nerr:\n%s\nprovider:\n%s", err, out, errOut, p.Output())
		}
		t.Logf("out:\n%s\nerr:\n%s\nmessages:\n%s", out, errOut, msgs.String())
		assertContains(t, "Out", out, "Tools (2):", "Hello, Ada!",
			"Logged in to "+endpoint, "subject:   alice", "client:    "+p.ClientID, "scopes:", "mcp:read", "expires:",
			"Token refreshed.", "Hello, Lambda!", "Session ended.", "Logged out", "Not logged in to "+endpoint)
		assertLacks(t, "Err", errOut, "Error")
		if n := setup.opened.Load(); n != 1 {
			t.Errorf("the browser was opened %d times, want once", n)
		}
		for _, tok := range setup.storedAccessTokens(t) {
			for _, o := range []string{out, errOut, msgs.String()} {
				if strings.Contains(o, tok) {
					t.Fatal("a token was printed")
				}
			}
		}
	})

	t.Run("oauth mode logs in before connecting", func(t *testing.T) {
		setup := newOAuthSetup(t, p, io.Discard)
		out, errOut, err := runScript(t, nil, "greet Ada\nstatus\n", func(o *Options) {
			o.Config.ServerURL = endpoint
			o.Config.AuthMethod = AuthOAuth
			o.OAuth = FlowFactory(setup.base)
		})
		if err != nil {
			t.Fatalf("Run: %v\n%s", err, errOut)
		}
		assertContains(t, "Out", out, "Hello, Ada!", "Auth method:  oauth")
		assertContains(t, "Err", errOut, "Logging in with OAuth")
		if n := setup.opened.Load(); n != 1 {
			t.Errorf("the browser was opened %d times, want once", n)
		}
	})

	t.Run("lambda mode never opens a browser", func(t *testing.T) {
		setup := newOAuthSetup(t, p, io.Discard)
		out, errOut, err := runScript(t, nil, "greet Ada\n", func(o *Options) {
			o.Config.ServerURL = endpoint
			o.Config.AuthMethod = AuthLambda
			o.OAuth = FlowFactory(setup.base)
		})
		if !errors.Is(err, ErrFailed) {
			t.Errorf("Run: %v, want a failure", err)
		}
		assertLacks(t, "Out", out, "Hello")
		t.Logf("err:\n%s", errOut)
		assertContains(t, "Err", errOut, "Error: ", "login")
		if n := setup.opened.Load(); n != 0 {
			t.Errorf("the browser was opened %d times", n)
		}
	})

	t.Run("auth login, then lambda mode sends the stored token", func(t *testing.T) {
		setup := newOAuthSetup(t, p, io.Discard)
		out, errOut, err := runScript(t, nil, "auth login\ngreet Ada\n", func(o *Options) {
			o.Config.ServerURL = endpoint
			o.Config.AuthMethod = AuthLambda
			o.OAuth = FlowFactory(setup.base)
		})
		if err != nil {
			t.Fatalf("Run: %v\n%s", err, errOut)
		}
		assertContains(t, "Out", out, "Logged in.", "subject:   alice", "Hello, Ada!")
		if n := setup.opened.Load(); n != 1 {
			t.Errorf("the browser was opened %d times, want once (auth login)", n)
		}
	})

	t.Run("no OAuth and no token: the 401 is explained", func(t *testing.T) {
		_, errOut, err := runScript(t, nil, "list-tools\n", func(o *Options) { o.Config.ServerURL = endpoint })
		if !errors.Is(err, ErrFailed) {
			t.Errorf("Run: %v, want a failure", err)
		}
		assertContains(t, "Err", errOut, "the server refused the request (HTTP 401)", "This client has no OAuth login")
	})

	t.Run("a wrong ACCESS_TOKEN is refused with advice", func(t *testing.T) {
		_, errOut, err := runScript(t, nil, "greet Ada\n", func(o *Options) {
			o.Config.ServerURL = endpoint
			o.Config.AuthMethod = AuthLambda
			o.Config.AccessToken = "not-a-valid-token"
		})
		if !errors.Is(err, ErrFailed) {
			t.Errorf("Run: %v, want a failure", err)
		}
		assertContains(t, "Err", errOut, "the server refused the request (HTTP 401: ", "ACCESS_TOKEN was refused")
		t.Logf("what the user saw:\n%s", errOut)
		assertLacks(t, "Err", errOut, "not-a-valid-token")
	})
}
