// Command mcp-client is an interactive MCP client (a REPL) for the server in
// this repository, or any Streamable HTTP MCP server.
//
//	mcp-client                  interactive; `help` lists the commands; on a terminal,
//	                            lines are edited with history and Ctrl-R (MCP_CLIENT_NO_EDIT=1: not)
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
	"strings"
	"syscall"

	"mcplambda/client/repl"
	"mcplambda/client/repl/lineedit"
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

	edit, err := wantEditing(*script, stdin, stdout, getenv)
	if err != nil {
		fmt.Fprintln(stderr, "mcp-client:", err)
		return 2
	}

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt)
	defer signal.Stop(sigs)

	ctx := context.Background()
	var width func() int
	if edit {
		in, out := stdin.(*os.File), stdout.(*os.File)
		restore, err := lineedit.MakeRaw(in.Fd())
		if err != nil {
			if !errors.Is(err, lineedit.ErrUnsupported) {
				fmt.Fprintf(stderr, "mcp-client: no line editing: %v\n", err)
			}
			edit = false
		} else {
			// Deferred, so a return or a panic of this goroutine gives the
			// terminal back as it was. SIGTERM and SIGHUP would end the
			// process before any defer: they end the REPL instead, which
			// then ends its server session and returns.
			defer restore()
			defer rawOnContinue(in.Fd())()
			var stop context.CancelFunc
			ctx, stop = signal.NotifyContext(ctx, syscall.SIGTERM, syscall.SIGHUP)
			defer stop()
			width = func() int { return lineedit.Width(out.Fd()) }
		}
	}

	r := repl.New(repl.Options{
		In:          stdin,
		Out:         stdout,
		Err:         stderr,
		Interactive: *script == "" && isTerminal(stdin),
		Terminal:    isTerminal(stderr),
		Interrupts:  sigs,
		Edit:        edit,
		Width:       width,
		Config:      cfg,
		OAuth:       newOAuth(cfg, getenv, stderr),
		Version:     version,
	})
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

// wantEditing says whether to read commands with the line editor: on a
// terminal (stdin and stdout), without -c, unless MCP_CLIENT_NO_EDIT is set
// or TERM=dumb says the terminal cannot move its cursor.
func wantEditing(script string, stdin io.Reader, stdout io.Writer, getenv func(string) string) (bool, error) {
	if script != "" || !isTerminal(stdin) || !isTerminal(stdout) {
		return false, nil // scripts and pipes read plain lines, as they always did
	}
	switch v := strings.ToLower(strings.TrimSpace(getenv("MCP_CLIENT_NO_EDIT"))); v {
	case "", "0", "false", "no", "off":
	case "1", "true", "yes", "on":
		return false, nil
	default:
		return false, fmt.Errorf("MCP_CLIENT_NO_EDIT=%q: use true or false", v)
	}
	return getenv("TERM") != "dumb", nil
}

// newOAuth configures the OAuth login from the environment (client secret,
// metadata document URL, token directory) and the settings that may come
// from the deploy outputs (client id, redirect URI).
func newOAuth(cfg repl.Config, getenv func(string) string, msgs io.Writer) repl.OAuthFactory {
	base := repl.OAuthConfig(cfg, getenv)
	base.Out = msgs
	return repl.FlowFactory(base)
}
