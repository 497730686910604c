package smoke

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"mcplambda/client"
	"mcplambda/client/oauthclient"
	"mcplambda/client/repl"
)

// Main is `mcp-client smoke [-url URL] [-outputs FILE]`: it reads the
// settings as the REPL does (the environment, then the deploy outputs
// file), runs the checks against MCP_SERVER_URL and prints a line per
// check and a summary on stdout. It returns the exit status: 0 when no
// check failed (skips are fine), 1 when one did or the run was cut short,
// 2 on a usage or settings error. ctx ending (Ctrl-C) cuts the run short.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	fs := flag.NewFlagSet("mcp-client smoke", flag.ContinueOnError)
	fs.SetOutput(stderr)
	serverURL := fs.String("url", "", "MCP server URL (overrides MCP_SERVER_URL)")
	outputs := fs.String("outputs", repl.DeployOutputsFile, "KEY=VALUE file read for settings the environment leaves unset (\"\" = none)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: mcp-client smoke [-url URL] [-outputs FILE]\n\n")
		fmt.Fprintf(stderr, "Checks a deployed MCP server: discovery, session, streaming, instances.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "mcp-client smoke: unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return 2
	}
	cfg, err := repl.LoadConfig(getenv, *outputs)
	if err != nil {
		fmt.Fprintln(stderr, "mcp-client smoke:", err)
		return 2
	}
	if *serverURL != "" {
		cfg.ServerURL = *serverURL
		cfg.Origin["MCP_SERVER_URL"] = "the -url flag"
	}
	if _, err := oauthclient.CanonicalResource(cfg.ServerURL); err != nil {
		fmt.Fprintln(stderr, "mcp-client smoke:", err)
		return 2
	}
	auth, fix, token := credentials(cfg, getenv, stderr)
	t := Target{
		URL:     cfg.ServerURL,
		Auth:    auth,
		AuthFix: fix,
		APIKey:  cfg.AuthMethod == repl.AuthLambda && cfg.AccessToken != "",

		ProtocolVersion: cfg.ProtocolVersion,
	}
	fmt.Fprintf(stdout, "smoke: %s (settings from %s; %s)\n", cfg.ServerURL, settingsOrigin(cfg, *outputs), token)

	ctx, cancel := context.WithTimeoutCause(ctx, DefaultRunTimeout, fmt.Errorf("the smoke run took longer than %s", DefaultRunTimeout))
	defer cancel()
	results := Run(ctx, t, stdout)
	summary := Summary(results)
	if len(results) < NumChecks {
		summary = fmt.Sprintf("stopped after %d of %d checks (%s): %s", len(results), NumChecks, stopReason(ctx), summary)
	}
	fmt.Fprintln(stdout, "smoke:", summary)
	if AnyFailed(results) || len(results) < NumChecks {
		return 1
	}
	return 0
}

// credentials finds the token the way `mcp-client` does, minus the
// browser: ACCESS_TOKEN, else the tokens `auth login` stored for this
// server, which the OAuth client refreshes when they are about to expire.
// It returns the authorizer (nil: none), what to tell the user when the
// server wants another token, and a note saying where the token comes
// from, never what it is.
func credentials(cfg repl.Config, getenv func(string) string, msgs io.Writer) (auth client.Authorizer, fix, note string) {
	if cfg.AccessToken != "" {
		from := cfg.Origin["ACCESS_TOKEN"]
		return client.StaticToken(cfg.AccessToken),
			fmt.Sprintf("check ACCESS_TOKEN (from %s): the server does not accept it", describeOrigin(from)),
			"token from ACCESS_TOKEN"
	}
	// The REPL's login configuration (cmd/mcp-client newOAuth), made
	// non-interactive: a check must never wait for a person.
	base := repl.OAuthConfig(cfg, getenv)
	base.ServerURL = cfg.ServerURL
	base.Interactive = false
	base.OpenBrowser = func(context.Context, string) error {
		return errors.New("the smoke test never opens a browser")
	}
	base.Out = msgs
	f, err := oauthclient.New(base)
	if err != nil {
		return nil, fmt.Sprintf("the login settings are unusable (%v): fix them, or set ACCESS_TOKEN", err), "no token"
	}
	st, err := f.Status()
	switch {
	case err != nil:
		return nil, fmt.Sprintf("the stored login cannot be read (%v): %s", err, NoTokenFix), "no token"
	case !st.LoggedIn:
		return nil, NoTokenFix, "no token"
	}
	return f, `run make client and then "auth login" again`, "token stored by auth login"
}

// settingsOrigin names where the client's settings came from: "the
// environment", the outputs file, the -url flag, or "defaults".
func settingsOrigin(cfg repl.Config, outputsPath string) string {
	var from []string
	for _, k := range []string{"MCP_SERVER_URL", "AUTH_METHOD", "OAUTH_CLIENT_ID", "OAUTH_REDIRECT_URI", "ACCESS_TOKEN"} {
		if o, ok := cfg.Origin[k]; ok && !slices.Contains(from, describeOrigin(o)) {
			from = append(from, describeOrigin(o))
		}
	}
	s := "defaults"
	if len(from) > 0 {
		s = strings.Join(from, " and ")
	}
	if outputsPath != "" {
		if _, err := os.Stat(outputsPath); errors.Is(err, os.ErrNotExist) {
			s += " (no " + outputsPath + ")"
		}
	}
	return s
}

func describeOrigin(o string) string {
	if o == "environment" {
		return "the environment"
	}
	return o
}
