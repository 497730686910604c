package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"mcplambda/mcp"
	"mcplambda/oauth"
)

// ErrSessionExpired means the server forgot the session (404) and starting a
// new one failed, or the new one was refused too.
var ErrSessionExpired = errors.New("mcp session expired and could not be re-initialized")

// ErrClosed is returned by calls on a Client after Close or Disconnect.
var ErrClosed = errors.New("mcp client is closed")

// RPCError is a JSON-RPC error response from the server.
type RPCError struct {
	Code    int
	Message string
	Data    json.RawMessage
}

func (e *RPCError) Error() string {
	return strconv.Itoa(e.Code) + ": " + e.Message
}

// HTTPError is a non-2xx answer the client could not handle itself.
type HTTPError struct {
	StatusCode int
	Body       string // at most maxErrorBody bytes of the answer
}

func (e *HTTPError) Error() string {
	msg := e.Body
	// The server explains most refusals in a JSON-RPC error body: show its
	// message rather than the raw JSON.
	var m struct {
		Error *mcp.Error `json:"error"`
	}
	if json.Unmarshal([]byte(e.Body), &m) == nil && m.Error != nil && m.Error.Message != "" {
		msg = m.Error.Message
	}
	msg = strings.TrimSpace(msg)
	if msg == "" {
		return fmt.Sprintf("HTTP %d", e.StatusCode)
	}
	return fmt.Sprintf("HTTP %d: %s", e.StatusCode, msg)
}

// AuthRequiredError is a 401, or a 403 with error="insufficient_scope", that
// the client could not satisfy: no Authorizer, the Authorizer gave up, or
// the retries ran out. Callers react to it by logging in.
type AuthRequiredError struct {
	Status          int
	WWWAuthenticate string
}

// ResourceMetadata is the RFC 9728 metadata URL the server announced, if any.
func (e *AuthRequiredError) ResourceMetadata() string {
	return BearerParams(e.WWWAuthenticate)["resource_metadata"]
}

// Scope is the scope the server asked for, if any.
func (e *AuthRequiredError) Scope() string { return BearerParams(e.WWWAuthenticate)["scope"] }

func (e *AuthRequiredError) Error() string {
	p := BearerParams(e.WWWAuthenticate)
	var b strings.Builder
	if e.Status == 403 {
		b.WriteString("insufficient scope (HTTP 403): log in again granting the needed scopes")
	} else {
		b.WriteString("authorization required (HTTP 401): log in first")
	}
	// Only the server's announced parameters are shown: they are ours to
	// display, unlike anything about the token.
	for _, k := range []string{"error", "error_description", "scope", "resource_metadata"} {
		if v := p[k]; v != "" {
			fmt.Fprintf(&b, "; %s=%q", k, truncate(v, 256))
		}
	}
	return b.String()
}

// TimeoutError says which request ran out of time, after how long.
type TimeoutError struct {
	Method string
	After  time.Duration
}

func (e *TimeoutError) Error() string {
	return fmt.Sprintf("%s timed out after %s without a response", e.Method, e.After)
}

// Timeout lets net.Error-style checks recognise it.
func (e *TimeoutError) Timeout() bool { return true }

// Unwrap makes errors.Is(err, context.DeadlineExceeded) hold.
func (e *TimeoutError) Unwrap() error { return errDeadline }

// BearerParams returns the auth-params of the first Bearer challenge in a
// WWW-Authenticate header (RFC 6750 section 3), names lower-cased and quoted
// values unescaped; an empty map when there is none. It is a convenience
// over oauth.ParseChallenges, the parser both the client and the OAuth
// client use.
func BearerParams(header string) map[string]string {
	c, ok := oauth.BearerChallenge(http.Header{"Www-Authenticate": {header}})
	if !ok {
		return map[string]string{}
	}
	return c.Params
}

// authRequired describes a refusal. Every WWW-Authenticate field is kept
// (joined as RFC 9110 section 5.3 allows), since the Bearer challenge need
// not be the first.
func authRequired(resp *http.Response) *AuthRequiredError {
	return &AuthRequiredError{
		Status:          resp.StatusCode,
		WWWAuthenticate: strings.Join(oauth.ChallengeValues(resp.Header), ", "),
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
