// Command mcp-client is an interactive MCP client (a REPL) for the server in
// this repository, or any Streamable HTTP MCP server.
//
//	mcp-client                  interactive; `help` lists the commands
//	mcp-client -c 'list-tools'  run commands (';'-separated) and exit with their status
//	mcp-client < script         read commands from stdin; exit 1 if any failed
//	mcp-client smoke            check a deployment (make smoke): one line per check; exit 1 if any failed
//
// Settings come from the environment (MCP_SERVER_URL, AUTH_METHOD, ...) and,
// for variables it leaves unset, from .deploy/outputs.env in the working
// directory when `make deploy` wrote one.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"

	"mcplambda/client/repl"
	"mcplambda/client/smoke"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv))
}

// run is main without the process: it returns the exit status.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	if len(args) > 0 && args[0] == "smoke" {
		return runSmoke(args[1:], stdout, stderr, getenv)
	}
	fs := flag.NewFlagSet("mcp-client", flag.ContinueOnError)
	fs.SetOutput(stderr)
	script := fs.String("c", "", "run these commands (separated by ';' or newlines) and exit")
	serverURL := fs.String("url", "", "MCP server URL (overrides MCP_SERVER_URL)")
	outputs := fs.String("outputs", repl.DeployOutputsFile, "KEY=VALUE file read for settings the environment leaves unset (\"\" = none)")
	showVersion := fs.Bool("version", false, "print the version and exit")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: mcp-client [-c commands] [-url URL] [-outputs FILE]\n")
		fmt.Fprintf(stderr, "       mcp-client smoke [-url URL] [-outputs FILE]\n\n")
		fs.PrintDefaults()
		fmt.Fprintf(stderr, "\nRun without -c and type help for the commands.\n")
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 && fs.Arg(0) == "smoke" {
		fmt.Fprintln(stderr, "mcp-client: smoke is a subcommand and comes first: mcp-client smoke [-url URL] [-outputs FILE]")
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "mcp-client: unexpected argument %q (commands go in -c)\n", fs.Arg(0))
		return 2
	}
	if *showVersion {
		fmt.Fprintln(stdout, "mcp-client", version)
		return 0
	}
	cfg, err := repl.LoadConfig(getenv, *outputs)
	if err != nil {
		fmt.Fprintln(stderr, "mcp-client:", err)
		return 2
	}
	if *serverURL != "" {
		cfg.ServerURL = *serverURL
		cfg.Origin["MCP_SERVER_URL"] = "the -url flag"
	}

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt)
	defer signal.Stop(sigs)

	r := repl.New(repl.Options{
		In:          stdin,
		Out:         stdout,
		Err:         stderr,
		Interactive: *script == "" && isTerminal(stdin),
		Terminal:    isTerminal(stderr),
		Interrupts:  sigs,
		Config:      cfg,
		OAuth:       newOAuth(cfg, getenv, stderr),
		Version:     version,
	})
	ctx := context.Background()
	if *script != "" {
		err = r.Exec(ctx, *script)
	} else {
		err = r.Run(ctx)
	}
	if err != nil {
		if !errors.Is(err, repl.ErrFailed) {
			fmt.Fprintln(stderr, "mcp-client:", err)
		}
		return 1
	}
	return 0
}

// runSmoke runs `mcp-client smoke`. Ctrl-C cancels the run, which still
// ends the sessions it opened and prints its summary; once the run is
// cancelled, a second Ctrl-C ends the process at once.
func runSmoke(args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	context.AfterFunc(ctx, stop)
	return smoke.Main(ctx, args, stdout, stderr, getenv)
}

// isTerminal reports whether f is a character device: a terminal, for a
// prompt and an in-place progress bar, rather than a file or a pipe.
func isTerminal(f any) bool {
	file, ok := f.(*os.File)
	if !ok {
		return false
	}
	st, err := file.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// newOAuth configures the OAuth login from the environment (client secret,
// metadata document URL, token directory) and the settings that may come
// from the deploy outputs (client id, redirect URI).
func newOAuth(cfg repl.Config, getenv func(string) string, msgs io.Writer) repl.OAuthFactory {
	base := repl.OAuthConfig(cfg, getenv)
	base.Out = msgs
	return repl.FlowFactory(base)
}
