package repl

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"mcplambda/client"
)

// OAuth is the OAuth 2.1 login for one MCP server, as the REPL uses it.
// It authorizes the client's requests (client.Authorizer) and backs the
// auth commands. FlowFactory provides it with client/oauthclient.
type OAuth interface {
	client.Authorizer
	// SetInteractive says whether a 401 may start a browser login
	// (oauth and auto modes) or must fail asking for `auth login`
	// (lambda mode, which only sends stored tokens).
	SetInteractive(bool)
	// HasToken reports whether a token is stored for this server.
	HasToken(ctx context.Context) bool
	// Login runs a browser login now, even when not interactive: the
	// user asked for it.
	Login(ctx context.Context) error
	Refresh(ctx context.Context) error
	Logout(ctx context.Context) error
	Status(ctx context.Context) (AuthStatus, error)
}

// AuthStatus describes the stored login, for `auth status`. It never
// carries the token itself.
type AuthStatus struct {
	LoggedIn   bool
	Subject    string
	ClientID   string
	Issuer     string
	Scopes     []string
	Expiry     time.Time
	Refresh    bool   // a refresh token is stored
	StorePath  string // where the tokens live
	Additional string // anything else worth a line
}

// OAuthFactory makes the OAuth login for an MCP server URL.
type OAuthFactory func(serverURL string) (OAuth, error)

// oauthFor returns the OAuth login of the server at url, making it on first
// use and again when the URL changes.
func (r *REPL) oauthFor(url string) (OAuth, error) {
	if r.opts.OAuth == nil {
		return nil, errors.New("OAuth login is not available in this client")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.oauth != nil && r.oauthURL == url {
		return r.oauth, nil
	}
	o, err := r.opts.OAuth(url)
	if err != nil {
		return nil, err
	}
	r.oauth, r.oauthURL = o, url
	return o, nil
}

// authorizer picks the client's credentials for the auth method:
//   - lambda: ACCESS_TOKEN when set, else the stored OAuth token (refreshed,
//     never a browser login);
//   - oauth: the OAuth login, done now when no token is stored;
//   - auto: the stored token if any, else none until the server answers
//     401, which the OAuth login then follows.
func (r *REPL) authorizer(ctx context.Context, url string) (client.Authorizer, error) {
	method := r.currentAuthMethod()
	if method == AuthLambda && r.opts.Config.AccessToken != "" {
		return client.StaticToken(r.opts.Config.AccessToken), nil
	}
	o, err := r.oauthFor(url)
	if err != nil {
		switch method {
		case AuthOAuth:
			return nil, err
		case AuthLambda:
			return nil, fmt.Errorf("lambda auth needs ACCESS_TOKEN or a stored login: %w", err)
		}
		if r.opts.OAuth != nil {
			r.con.Errorf("OAuth is unavailable (%v): connecting without a token.", err)
		}
		return nil, nil // auto without OAuth: try without a token
	}
	o.SetInteractive(method != AuthLambda)
	if method == AuthOAuth && !o.HasToken(ctx) {
		r.con.Errorf("Logging in with OAuth (AUTH_METHOD=oauth)...")
		if err := o.Login(ctx); err != nil {
			return nil, fmt.Errorf("OAuth login: %w", err)
		}
	}
	return o, nil
}

func (r *REPL) cmdAuth(ctx context.Context, args []string) error {
	if len(args) != 1 {
		return usagef("usage: auth login|logout|status|refresh")
	}
	o, err := r.oauthFor(r.currentURL())
	if err != nil {
		return err
	}
	switch args[0] {
	case "login":
		if err := o.Login(ctx); err != nil {
			return fmt.Errorf("login: %w", err)
		}
		r.con.Printf("Logged in.")
		return r.printAuthStatus(ctx, o)
	case "logout":
		// End the session while its token still works, rather than leave
		// it open on the server with credentials no one holds.
		if r.current() != nil {
			if err := r.endSession(ctx, true); err != nil {
				r.con.Errorf("Ending the session: %s", describeError(err))
			} else {
				r.con.Printf("Session ended.")
			}
		}
		if err := o.Logout(ctx); err != nil {
			return fmt.Errorf("logout: %w", err)
		}
		r.con.Printf("Logged out: tokens revoked where the server supports it, and deleted.")
		return nil
	case "refresh":
		if err := o.Refresh(ctx); err != nil {
			return fmt.Errorf("refresh: %w (run `auth login` to log in again)", err)
		}
		r.con.Printf("Token refreshed.")
		return r.printAuthStatus(ctx, o)
	case "status":
		return r.printAuthStatus(ctx, o)
	}
	return usagef("auth: unknown subcommand %q; use login, logout, status or refresh", args[0])
}

func (r *REPL) printAuthStatus(ctx context.Context, o OAuth) error {
	st, err := o.Status(ctx)
	if err != nil {
		return fmt.Errorf("auth status: %w", err)
	}
	if !st.LoggedIn {
		r.con.Printf("Not logged in to %s (auth login logs in).", r.currentURL())
		return nil
	}
	r.con.Printf("Logged in to %s", r.currentURL())
	row := func(k, v string) {
		if v != "" {
			r.con.Printf("  %-10s %s", k+":", sanitize(v))
		}
	}
	row("subject", st.Subject)
	row("client", st.ClientID)
	row("issuer", st.Issuer)
	row("scopes", strings.Join(st.Scopes, " "))
	if !st.Expiry.IsZero() {
		left := time.Until(st.Expiry).Round(time.Second)
		state := fmt.Sprintf("in %s", left)
		if left <= 0 {
			state = fmt.Sprintf("%s ago", -left)
		}
		row("expires", st.Expiry.UTC().Format(time.RFC3339)+" ("+state+")")
	}
	if st.Refresh {
		row("refresh", "a refresh token is stored")
	}
	row("stored in", st.StorePath)
	row("note", st.Additional)
	return nil
}

// authAdvice tells the user what to do about a refusal, for the current
// auth method.
func (r *REPL) authAdvice() string {
	switch {
	case r.currentAuthMethod() == AuthLambda && r.opts.Config.AccessToken != "":
		return "ACCESS_TOKEN was refused: set a valid one, or unset it and run `auth login`."
	case r.opts.OAuth == nil:
		return "This client has no OAuth login: set AUTH_METHOD=lambda and ACCESS_TOKEN."
	case r.currentAuthMethod() == AuthLambda:
		return "Run `auth login` (lambda mode sends the stored token and never opens a browser by itself)."
	}
	return "Run `auth login`, then reconnect."
}
