package oauthclient_test

import (
	"context"
	"errors"
	"fmt"
	"os"

	"mcplambda/client/oauthclient"
)

// A REPL wires the Flow as the MCP client's Authorizer
// (client.Options{URL: ..., Auth: flow}). In an interactive "auto" mode a
// 401 may open the browser; in a script it must not, and the error says to
// log in.
func ExampleNew() {
	cfg := oauthclient.ConfigFromEnv(os.Getenv) // OAUTH_CLIENT_ID, OAUTH_REDIRECT_URI, ...
	cfg.ServerURL = "http://localhost:3000/mcp"
	flow, err := oauthclient.New(cfg)
	if err != nil {
		fmt.Println(err)
		return
	}
	flow.SetInteractive(true) // "auto": follow a 401 into a browser login

	ctx := context.Background()
	if err := flow.Login(ctx); err != nil { // "auth login"
		fmt.Println(err)
	}
	if err := flow.Refresh(ctx); errors.Is(err, oauthclient.ErrLoginRequired) { // "auth refresh"
		fmt.Println("log in again")
	}
	if st, err := flow.Status(); err == nil { // "auth status"
		fmt.Println(st)
	}
	_ = flow.Logout(ctx) // "auth logout": revoke, then forget
}
