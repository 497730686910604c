// Package repl is the interactive MCP client: a read-eval-print loop over
// package client that connects to an MCP server, lists and calls its tools,
// shows notifications and progress as they arrive, answers elicitation
// requests from the same input, and logs in with OAuth.
//
// The loop reads commands from an io.Reader and writes to io.Writers, so
// cmd/mcp-client is a thin main and tests drive it in-process. On a
// terminal (Options.Edit) lines are typed into package lineedit's editor
// (history, Ctrl-R); scripts and pipes are read line by line as they come.
package repl

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"mcplambda/client"
	"mcplambda/client/repl/lineedit"
	"mcplambda/mcp"
)

// Options configure a REPL. In, Out and Err are required.
type Options struct {
	In  io.Reader // commands, and answers to elicitation requests
	Out io.Writer // results and server notifications
	Err io.Writer // errors, progress, connection messages, debug logs

	// Interactive shows a prompt and makes Ctrl-C at the prompt ask for a
	// second one before exiting. When false (a script on stdin), failures
	// make Run return an error so the process exits non-zero.
	Interactive bool
	// Terminal says Err is a terminal: the progress bar is redrawn in
	// place instead of printed line by line.
	Terminal bool
	// Interrupts delivers Ctrl-C: during a command it cancels the command
	// (the client sends notifications/cancelled); at the prompt see
	// Interactive. nil: no interrupts.
	Interrupts <-chan os.Signal
	// Edit says In and Out are a terminal in raw mode (see
	// lineedit.MakeRaw): lines are read with the line editor (history,
	// cursor keys, Ctrl-R), output never tears the line being typed, and
	// Interactive is implied. Width gives the terminal's columns.
	Edit  bool
	Width func() int

	Config Config
	// HTTPClient is handed to the MCP client; nil: its default.
	HTTPClient *http.Client
	// OAuth makes the OAuth login for a server URL; nil: only ACCESS_TOKEN
	// (lambda mode) and no auth commands.
	OAuth OAuthFactory
	// Version is reported to servers as clientInfo.version.
	Version string
	// Getwd is the directory offered as the client's root (default os.Getwd).
	Getwd func() (string, error)
}

// ErrFailed is wrapped by what Run and Exec return when a command failed in
// a non-interactive run.
var ErrFailed = errors.New("a command failed")

// REPL is one client session with its settings. Run or Exec drive it; it is
// not for concurrent use by several loops.
type REPL struct {
	opts  Options
	con   *console
	level *slog.LevelVar
	log   *slog.Logger

	// lines is fed by the input reader goroutine, started on first use.
	startReader sync.Once
	lines       chan string
	readErr     error // set before lines is closed
	stop        chan struct{}
	stopOnce    sync.Once

	// With Options.Edit: the editor and its input (nil otherwise).
	ed   *lineedit.Editor
	term *termReader

	mu         sync.Mutex // guards the fields below, read by client callbacks
	c          *client.Client
	url        string
	authMethod string
	oauth      OAuth
	oauthURL   string
	outDir     string
	logLevel   mcp.LoggingLevel // set-log-level's, asked again of a stateless-era server after connect
	// cache outlives connections: results a server let us keep, and each
	// origin's era, so reconnecting to a session-era server does not
	// probe it again.
	cache *client.ResultCache
	// cmdCtx is the context of the running command (nil between
	// commands): an elicitation reading input ends with it, so Ctrl-C never
	// leaves a reader behind that would swallow the next command.
	cmdCtx context.Context

	// stream describes the standalone GET stream for status; streamUp is
	// signalled each time it opens.
	stream   string
	streamUp chan struct{}

	elicitMu sync.Mutex     // one question at a time on the one input
	elicits  sync.WaitGroup // questions being asked; added to only while cmdCtx is set
	failed   int
}

// New makes a REPL; nothing happens until Run or Exec.
func New(opts Options) *REPL {
	if opts.Getwd == nil {
		opts.Getwd = os.Getwd
	}
	if opts.Config.ServerURL == "" {
		opts.Config.ServerURL = DefaultServerURL
	}
	if opts.Config.AuthMethod == "" {
		opts.Config.AuthMethod = AuthAuto
	}
	if opts.Version == "" {
		opts.Version = "dev"
	}
	if opts.Edit {
		opts.Interactive = true
	}
	r := &REPL{
		opts:       opts,
		con:        &console{out: opts.Out, err: opts.Err, term: opts.Terminal},
		level:      new(slog.LevelVar),
		lines:      make(chan string),
		stop:       make(chan struct{}),
		streamUp:   make(chan struct{}, 1),
		url:        opts.Config.ServerURL,
		authMethod: opts.Config.AuthMethod,
		cache:      client.NewResultCache(256),
	}
	if opts.Edit {
		r.term = newTermReader(opts.In, r.stop)
		r.ed = lineedit.New(r.term, opts.Out, lineedit.Options{MaxLine: maxLine, Width: opts.Width})
		r.con.edit = r.ed
	}
	r.level.Set(slog.LevelWarn)
	if opts.Config.Debug {
		r.level.Set(slog.LevelDebug)
	}
	r.log = slog.New(slog.NewTextHandler(logWriter{r.con}, &slog.HandlerOptions{Level: r.level}))
	return r
}

const prompt = "mcp> "

// Run reads commands until quit, end of input, a second Ctrl-C at the
// prompt or ctx's end, then ends the server session. It returns an error
// wrapping ErrFailed when the run was not interactive and a command failed.
func (r *REPL) Run(ctx context.Context) error {
	defer r.shutdown()
	if r.opts.Interactive {
		r.con.Printf("MCP client %s. Server: %s (auth %s). Type help for commands.", r.opts.Version, r.currentURL(), r.currentAuthMethod())
	}
	if r.ed != nil {
		return r.runEdit(ctx)
	}
	interrupted := false
	for {
		if r.opts.Interactive {
			r.con.Prompt(prompt)
		}
		var line string
		var ok bool
		select {
		case <-ctx.Done():
			return r.result()
		case <-r.opts.Interrupts:
			if !r.opts.Interactive {
				r.con.Errorf("Interrupted.")
				r.failed++ // a script cut short did not succeed
				return r.result()
			}
			if interrupted {
				r.con.Printf("")
				return r.result()
			}
			interrupted = true
			r.con.Printf("\n(Ctrl-C again, quit or end of input to exit)")
			continue
		case line, ok = <-r.input():
		}
		if !ok {
			if r.readErr != nil {
				r.con.Errorf("reading input: %v", r.readErr)
				r.failed++
			}
			if r.opts.Interactive {
				r.con.Printf("")
			}
			return r.result()
		}
		interrupted = false
		if quit := r.execLine(ctx, line); quit {
			return r.result()
		}
	}
}

// Exec runs a script of commands separated by ';' or newlines (quotes and
// JSON brackets protect them), as `mcp-client -c` does, then ends the
// server session. It returns an error wrapping ErrFailed if any failed.
func (r *REPL) Exec(ctx context.Context, script string) error {
	defer r.shutdown()
	for _, line := range splitScript(script) {
		if ctx.Err() != nil {
			break
		}
		if quit := r.execLine(ctx, line); quit {
			break
		}
	}
	if r.failed > 0 {
		return fmt.Errorf("%w (%d)", ErrFailed, r.failed)
	}
	return nil
}

func (r *REPL) result() error {
	if !r.opts.Interactive && r.failed > 0 {
		return fmt.Errorf("%w (%d)", ErrFailed, r.failed)
	}
	return nil
}

// shutdown ends the server session, so quitting does not leave it open
// until the server's idle timeout.
func (r *REPL) shutdown() {
	r.stopOnce.Do(func() { close(r.stop) })
	r.mu.Lock()
	c := r.c
	r.c = nil
	r.mu.Unlock()
	if c != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := c.Close(ctx); err != nil {
			r.con.Errorf("Error: %s", describeError(err))
		}
	}
}

// maxLine bounds one input line (a JSON argument can be long, not unbounded).
const maxLine = 1 << 20

func (r *REPL) input() <-chan string {
	r.startReader.Do(func() {
		go func() {
			defer close(r.lines)
			sc := bufio.NewScanner(r.opts.In)
			sc.Buffer(make([]byte, 0, 4096), maxLine)
			for sc.Scan() {
				select {
				case r.lines <- sc.Text():
				case <-r.stop:
					return
				}
			}
			r.readErr = sc.Err()
		}()
	})
	return r.lines
}

// readLine reads one line of input for a command in progress (an
// elicitation answer). io.EOF at the end of input.
func (r *REPL) readLine(ctx context.Context) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err // before a line that may already wait: it is not ours
	}
	select {
	case <-ctx.Done():
		return "", ctx.Err()
	case line, ok := <-r.input():
		if !ok {
			return "", io.EOF
		}
		return line, nil
	}
}

// execLine runs one command line, cancelling it on Ctrl-C, and reports
// whether the REPL should stop.
func (r *REPL) execLine(ctx context.Context, line string) (quit bool) {
	line = strings.TrimSpace(line)
	if line == "" || strings.HasPrefix(line, "#") {
		return false
	}
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	r.mu.Lock()
	r.cmdCtx = cctx
	r.mu.Unlock()
	type outcome struct {
		quit bool
		err  error
	}
	done := make(chan outcome, 1)
	go func() {
		q, err := r.dispatch(cctx, line)
		done <- outcome{q, err}
	}()
	var o outcome
	interrupted := false
wait:
	for {
		select {
		case o = <-done:
			break wait
		case <-r.opts.Interrupts:
			interrupted = true
			cancel()
			msg := "Cancelling..."
			if !r.con.DropProgress() && r.opts.Interactive && r.ed == nil {
				msg = "\n" + msg // after the terminal's ^C echo (the editor's raw mode echoes nothing)
			}
			r.con.Errorf("%s", msg)
		}
	}
	// A question still being asked belongs to this command: end it and wait,
	// so it cannot take the next command line as its answer.
	cancel()
	r.mu.Lock()
	r.cmdCtx = nil
	r.mu.Unlock()
	r.elicits.Wait()
	r.con.EndProgress()
	if o.err != nil {
		r.failed++
		var ue *usageError
		switch {
		case errors.As(o.err, &ue):
			r.con.Errorf("%s", ue.Error())
		case interrupted || (errors.Is(o.err, context.Canceled) && ctx.Err() == nil):
			r.con.Errorf("Cancelled.")
		default:
			var te *toolError
			if !errors.As(o.err, &te) { // its text is already shown
				r.con.Errorf("Error: %s", describeError(o.err))
			}
			var ae *client.AuthRequiredError
			if errors.As(o.err, &ae) {
				r.con.Errorf("%s", r.authAdvice())
			}
		}
	}
	return o.quit
}

func (r *REPL) currentURL() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.url
}

func (r *REPL) currentAuthMethod() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.authMethod
}

func (r *REPL) current() *client.Client {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.c
}

// session returns the connected client, connecting to the current URL
// first when there is none, so `mcp-client -c list-tools` just works.
func (r *REPL) session(ctx context.Context) (*client.Client, error) {
	if c := r.current(); c != nil {
		return c, nil
	}
	if err := r.connect(ctx, r.currentURL(), false); err != nil {
		return nil, err
	}
	return r.current(), nil
}

// connect opens a session with url, ending the current one first (DELETE),
// so replacing a connection never leaks a server session.
func (r *REPL) connect(ctx context.Context, rawURL string, loud bool) error {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return usagef("connect: %q is not an http(s) URL", rawURL)
	}
	if err := r.endSession(ctx, true); err != nil {
		r.con.Errorf("Error: %s", describeError(err))
	}
	r.mu.Lock()
	r.url = rawURL
	r.mu.Unlock()
	auth, err := r.authorizer(ctx, rawURL)
	if err != nil {
		return err
	}
	timeout := r.opts.Config.Timeout
	if timeout == 0 {
		timeout = -1 // MCP_CLIENT_TIMEOUT=0: no limit
	}
	opts := client.Options{
		URL:                  rawURL,
		HTTPClient:           r.opts.HTTPClient,
		Auth:                 auth,
		ClientInfo:           mcp.Implementation{Name: "mcp-lambda-go-client", Title: "MCP REPL client", Version: r.opts.Version},
		RequestTimeout:       timeout,
		OnNotification:       r.onNotification,
		Elicit:               r.elicit,
		ElicitModes:          []string{"form", "url"},
		Roots:                r.roots,
		Logger:               r.log,
		OpenStandaloneStream: true,
		Cache:                r.cache,
		OnStandaloneStream:   r.onStream,
		ProtocolVersion:      r.opts.Config.ProtocolVersion, // "": negotiate
	}
	if !loud {
		r.con.Errorf("Connecting to %s...", rawURL)
	}
	c, err := client.Connect(ctx, opts)
	if err != nil {
		return fmt.Errorf("connecting to %s: %w", rawURL, err)
	}
	// The stateless era sends log messages only to requests that ask for
	// them (_meta logLevel); a session-era server sends them all until
	// set-log-level. Asking for debug, or what the user chose, shows the
	// same messages in both eras.
	r.mu.Lock()
	level := r.logLevel
	r.mu.Unlock()
	if c.Era() == client.EraStateless {
		if level == "" {
			level = mcp.LevelDebug
		}
		_ = c.SetLogLevel(ctx, level) // no request in this era: it cannot fail
	}
	r.mu.Lock()
	r.c = c
	if r.stream == "" {
		r.stream = "opening"
	}
	r.mu.Unlock()
	info := c.ServerInfo()
	msg := fmt.Sprintf("Connected to %s: %s %s, protocol %s.", rawURL, sanitize(info.ServerInfo.Name), sanitize(info.ServerInfo.Version), sanitize(c.ProtocolVersion()))
	if loud {
		r.con.Printf("%s", msg)
	} else {
		r.con.Errorf("%s", msg)
	}
	return nil
}

// endSession drops the current session: with terminate, the server is told
// (DELETE); without, it is left to expire (the `disconnect` command).
func (r *REPL) endSession(ctx context.Context, terminate bool) error {
	r.mu.Lock()
	c := r.c
	r.c = nil
	r.stream = ""
	r.mu.Unlock()
	if c == nil {
		return nil
	}
	if !terminate {
		c.Disconnect()
		return nil
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	return c.Close(ctx)
}

// onNotification shows server notifications the moment they arrive.
// Progress is shown by the call it belongs to.
func (r *REPL) onNotification(method string, params json.RawMessage) {
	switch method {
	case mcp.NotificationProgress:
		return
	case mcp.NotificationMessage:
		var p mcp.LoggingMessageParams
		if err := json.Unmarshal(params, &p); err != nil {
			r.con.Printf("[log] (unreadable: %v)", err)
			return
		}
		text, ok := p.Data.(string)
		if !ok {
			text = compactJSON(p.Data)
		}
		logger := ""
		if p.Logger != "" {
			logger = " " + sanitize(p.Logger) + ":"
		}
		r.con.Printf("[%s]%s %s", sanitize(string(p.Level)), logger, sanitize(text))
	case mcp.NotificationToolsListChanged:
		r.con.Printf("[notice] the server's tools changed (list-tools shows them)")
	case mcp.NotificationPromptsListChanged:
		r.con.Printf("[notice] the server's prompts changed (list-prompts shows them)")
	case mcp.NotificationResourcesListChanged:
		r.con.Printf("[notice] the server's resources changed (list-resources shows them)")
	case mcp.NotificationResourcesUpdated:
		var p mcp.ResourceUpdatedParams
		_ = json.Unmarshal(params, &p)
		r.con.Printf("[notice] resource updated: %s", sanitize(p.URI))
	case mcp.NotificationCancelled:
		var p mcp.CancelledParams
		_ = json.Unmarshal(params, &p)
		r.con.Printf("[notice] the server cancelled request %s: %s", p.RequestID.String(), sanitize(p.Reason))
	default:
		s := "[notification] " + sanitize(method)
		if len(params) > 0 {
			s += " " + sanitize(string(params))
		}
		r.con.Printf("%s", s)
	}
}

// onStream follows the standalone stream, which carries what the server
// says between commands (list_changed, resources/updated, logs).
func (r *REPL) onStream(open bool, err error) {
	r.mu.Lock()
	switch {
	case open:
		r.stream = "open"
	case err == nil:
		r.stream = "not offered by the server"
	default:
		r.stream = "lost: " + sanitize(err.Error())
	}
	r.mu.Unlock()
	if open {
		select {
		case r.streamUp <- struct{}{}:
		default:
		}
	} else if err != nil {
		r.con.Errorf("The server's notification stream ended: %s", describeError(err))
	}
}

// roots offers the working directory, the natural scope of a command-line
// client.
func (r *REPL) roots(context.Context) ([]mcp.Root, error) {
	wd, err := r.opts.Getwd()
	if err != nil {
		return nil, err
	}
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(wd)}
	return []mcp.Root{{URI: u.String(), Name: filepath.Base(wd)}}, nil
}

// progress returns the call option that draws the call's progress.
func (r *REPL) progress() client.CallOption {
	return client.WithProgress(r.con.Progress)
}
