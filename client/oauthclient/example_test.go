package oauthclient_test

import (
	"context"
	"errors"
	"fmt"
	"os"

	"mcplambda/client/oauthclient"
)

// A REPL builds its Flow from the environment and wires it as the MCP
// client's Authorizer (client.Options{URL: ..., Auth: flow}). Its commands
// map to the Flow's methods: "auth login" to Login (which opens the
// browser), "auth status" to Status, "auth refresh" to Refresh, "auth
// logout" to Logout. In an interactive "auto" mode (SetInteractive) a 401
// may open the browser by itself; in a script it must not, and the error
// says to log in. Before any login, the store is empty:
func ExampleNew() {
	dir, err := os.MkdirTemp("", "oauth-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	env := map[string]string{ // in a REPL: os.Getenv
		"OAUTH_CLIENT_ID":    "mcp-repl",
		"OAUTH_REDIRECT_URI": "http://127.0.0.1:0/callback",
		"OAUTH_TOKEN_DIR":    dir,
	}
	cfg := oauthclient.ConfigFromEnv(func(k string) string { return env[k] })
	cfg.ServerURL = "http://localhost:3000/mcp"
	flow, err := oauthclient.New(cfg)
	if err != nil {
		fmt.Println(err)
		return
	}

	if st, err := flow.Status(); err == nil { // "auth status"
		fmt.Println(st)
	}
	if err := flow.Refresh(context.Background()); errors.Is(err, oauthclient.ErrLoginRequired) { // "auth refresh"
		fmt.Println("refresh:", err)
	}

	// The browser returns to the redirect URI, so it must be this machine's.
	cfg.RedirectURI = "https://example.com/callback"
	if _, err := oauthclient.New(cfg); err != nil {
		fmt.Println(err)
	}
	// Output:
	// not logged in to http://localhost:3000/mcp
	// refresh: login required: not logged in to http://localhost:3000/mcp
	// OAUTH_REDIRECT_URI "https://example.com/callback" must be an http:// URL on localhost or a loopback address
}
