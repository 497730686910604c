// Package smoke checks a deployed MCP server the way a user meets it: OAuth
// discovery from the unauthenticated 401, a session with the demonstration
// tools, log notifications streamed while a tool runs, and a session that
// stays the same while requests spread over Lambda instances. It is behind
// `mcp-client smoke` (`make smoke` after `make deploy`), so checking a
// deployment needs only the client binary.
//
// Each check yields one Result, printed as one line: "ok   NAME: detail",
// "FAIL NAME: detail with what to do" or "skip NAME: why". Nothing printed
// ever contains a token or a part of one.
package smoke

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"time"
	"unicode"

	"mcplambda/client"
	"mcplambda/client/oauthclient"
	"mcplambda/mcp"
)

// Defaults of a run.
const (
	DefaultCheckTimeout = 60 * time.Second
	DefaultRunTimeout   = 5 * time.Minute
	// NoTokenFix is what to do when no token was found and the server
	// wants one.
	NoTokenFix = `run make client and then "auth login" (or set ACCESS_TOKEN)`
)

// closeTimeout bounds ending a session (DELETE) after its check, which
// runs even when the check's own time is up so that no session is left
// behind to expire.
const closeTimeout = 10 * time.Second

// maxDetail bounds a line: details quote the server's words, which are not
// ours to trust to be short.
const maxDetail = 600

// smokeName is the name the checks send to the greeting tools.
const smokeName = "smoke"

// Status is a check's outcome.
type Status int

const (
	Passed Status = iota
	Failed
	Skipped
)

func (s Status) String() string {
	switch s {
	case Passed:
		return "ok"
	case Failed:
		return "FAIL"
	case Skipped:
		return "skip"
	}
	return fmt.Sprintf("Status(%d)", int(s))
}

// Result is what one check found.
type Result struct {
	Name   string
	Status Status
	Detail string
}

// String is the result's line, without a newline. The detail is folded
// onto one line, so that one check is always one line of output.
func (r Result) String() string {
	return fmt.Sprintf("%-4s %s: %s", r.Status, r.Name, oneLine(r.Detail))
}

func pass(name, format string, args ...any) Result {
	return Result{Name: name, Status: Passed, Detail: fmt.Sprintf(format, args...)}
}

func skip(name, format string, args ...any) Result {
	return Result{Name: name, Status: Skipped, Detail: fmt.Sprintf(format, args...)}
}

func fail(name, format string, args ...any) Result {
	return Result{Name: name, Status: Failed, Detail: fmt.Sprintf(format, args...)}
}

// Target is the server under test and how to reach it.
type Target struct {
	// URL is the MCP endpoint (MCP_SERVER_URL).
	URL string
	// Auth supplies the token of the session, streaming and instances
	// checks (discovery never sends one). nil sends none, which is enough
	// for a server without authorization; a server that wants a token then
	// fails those checks with "no token: " and AuthFix.
	Auth client.Authorizer
	// AuthFix tells the user what to do when the server wants a token it
	// was not given or refuses the one it was; default NoTokenFix.
	AuthFix string
	// APIKey says the deployment authenticates with an API key
	// (AUTH_METHOD=lambda and ACCESS_TOKEN), whose 401 rightly announces no
	// OAuth discovery.
	APIKey bool
	// HTTPClient makes every request; nil: the client library's transport
	// for sessions and a plain client for discovery.
	HTTPClient *http.Client
	// CheckTimeout bounds each check; 0: DefaultCheckTimeout.
	CheckTimeout time.Duration
	// ProtocolVersion is the revision the checks speak
	// (MCP_PROTOCOL_VERSION): "" negotiates the era, a session-era
	// revision forces the session era, "2026-07-28" the stateless era.
	ProtocolVersion string
}

// Run runs the checks in order, writing each result's line to w as soon as
// its check ends, and returns the results. A failed check does not stop the
// next ones: each needs only the server and a token. When ctx ends
// (Ctrl-C, the run's time limit), the check under way fails and the rest
// are not run, so fewer results than checks mean the run was cut short.
func Run(ctx context.Context, t Target, w io.Writer) []Result {
	checks := []func(*Target, context.Context) Result{
		(*Target).Discovery,
		(*Target).Session,
		(*Target).Streaming,
		(*Target).Instances,
	}
	var out []Result
	for _, check := range checks {
		if ctx.Err() != nil {
			break
		}
		r := check(&t, ctx)
		out = append(out, r)
		fmt.Fprintln(w, r)
	}
	return out
}

// NumChecks is how many checks Run runs.
const NumChecks = 4

// Summary counts the results: "4 passed", "1 failed, 3 passed",
// "3 passed, 1 skipped".
func Summary(results []Result) string {
	n := map[Status]int{}
	for _, r := range results {
		n[r.Status]++
	}
	var parts []string
	for _, c := range []struct {
		s    Status
		word string
	}{{Failed, "failed"}, {Passed, "passed"}, {Skipped, "skipped"}} {
		if n[c.s] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n[c.s], c.word))
		}
	}
	if len(parts) == 0 {
		return "no checks run"
	}
	return strings.Join(parts, ", ")
}

// AnyFailed reports whether a check failed.
func AnyFailed(results []Result) bool {
	for _, r := range results {
		if r.Status == Failed {
			return true
		}
	}
	return false
}

// checkContext bounds one check. The cause names the bound, so that a
// check cut short says which limit it ran into.
func (t *Target) checkContext(ctx context.Context) (context.Context, context.CancelFunc) {
	d := t.CheckTimeout
	if d <= 0 {
		d = DefaultCheckTimeout
	}
	return context.WithTimeoutCause(ctx, d, fmt.Errorf("the check took longer than %s", d))
}

// stopReason says why ctx ended, for a check that could not finish.
func stopReason(ctx context.Context) string {
	if errors.Is(ctx.Err(), context.Canceled) {
		return "interrupted"
	}
	if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.DeadlineExceeded) {
		return cause.Error()
	}
	return "timed out"
}

func (t *Target) authFix() string {
	if t.AuthFix != "" {
		return t.AuthFix
	}
	return NoTokenFix
}

// httpClient is the client of the discovery requests.
func (t *Target) httpClient() *http.Client {
	if t.HTTPClient != nil {
		return t.HTTPClient
	}
	return &http.Client{Timeout: 30 * time.Second}
}

// connect opens a session as a user's client would (initialize and
// notifications/initialized), with the target's token.
func (t *Target) connect(ctx context.Context, onNote func(method string, params json.RawMessage)) (*client.Client, error) {
	return client.Connect(ctx, client.Options{
		URL:             t.URL,
		HTTPClient:      t.HTTPClient,
		Auth:            t.Auth,
		ClientInfo:      mcp.Implementation{Name: "mcp-client smoke", Version: "1"},
		OnNotification:  onNote,
		ProtocolVersion: t.ProtocolVersion,
	})
}

// closeAll ends the sessions (DELETE) with a time of their own, so that a
// check that ran out of time still leaves nothing behind on the server.
func closeAll(ctx context.Context, cs ...*client.Client) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), closeTimeout)
	defer cancel()
	var errs []error
	for _, c := range cs {
		if c != nil {
			errs = append(errs, c.Close(ctx))
		}
	}
	return errors.Join(errs...)
}

// failure turns the error of a step into a FAIL detail that says what to
// do about it.
func (t *Target) failure(ctx context.Context, step string, err error) string {
	if ctx.Err() != nil {
		return step + ": " + stopReason(ctx)
	}
	var ae *client.AuthRequiredError
	if errors.As(err, &ae) && t.Auth == nil {
		return "no token: " + t.authFix()
	}
	// The client's errors often start with the method already.
	msg := err.Error()
	if !strings.HasPrefix(msg, step+":") {
		msg = step + ": " + msg
	}
	var te *client.TimeoutError
	switch {
	case errors.As(err, &ae), errors.Is(err, oauthclient.ErrLoginRequired):
		return msg + ": " + t.authFix()
	case errors.As(err, &te):
		return msg + ": the server (or the gateway in front of it) did not answer in time; check the function's logs"
	case isUnreachable(err):
		return fmt.Sprintf("%s: is the server up and MCP_SERVER_URL (%s) right?", msg, t.URL)
	case errors.Is(err, client.ErrSessionExpired):
		return msg + ": the server forgot the session and refused a new one"
	}
	return msg
}

// isUnreachable reports errors that mean no server answered at all.
func isUnreachable(err error) bool {
	var dns *net.DNSError
	var op *net.OpError
	return errors.Is(err, syscall.ECONNREFUSED) || errors.As(err, &dns) || errors.As(err, &op)
}

// toolText is the text of a tool result.
func toolText(r *mcp.CallToolResult) string {
	var b strings.Builder
	for _, c := range r.Content {
		if c.Type == "text" {
			b.WriteString(c.Text)
		}
	}
	return b.String()
}

// callText calls a tool and returns its text, a tool error being an error.
func callText(ctx context.Context, c *client.Client, tool string) (string, error) {
	res, err := c.CallTool(ctx, tool, map[string]string{"name": smokeName})
	if err != nil {
		return "", err
	}
	if res.IsError {
		return "", fmt.Errorf("the tool answered with an error: %s", quoteShort(toolText(res)))
	}
	return toolText(res), nil
}

// quoteShort quotes a value from the server, shortened.
func quoteShort(s string) string {
	const n = 200
	if len(s) > n {
		s = s[:n] + "..."
	}
	return fmt.Sprintf("%q", s)
}

// oneLine folds s onto one line without control characters (the server's
// text must not move the cursor or start a line of its own) and bounds it.
func oneLine(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	if r := []rune(s); len(r) > maxDetail {
		s = string(r[:maxDetail]) + "..."
	}
	return s
}

// shortID tells sessions apart without printing any of a session id (with
// a token, it is what drives a session): 8 hex digits of its SHA-256, like
// the server's logs.
func shortID(id string) string {
	sum := sha256.Sum256([]byte(id))
	return "#" + hex.EncodeToString(sum[:4])
}
