package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"mcplambda/mcp"
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

// BearerParams parses the auth-params of the Bearer challenge in a
// WWW-Authenticate header (RFC 6750 section 3): names are lower-cased,
// quoted values unescaped. Other schemes' parameters are ignored.
func BearerParams(header string) map[string]string {
	out := map[string]string{}
	s := header
	inBearer := false
	for {
		s = strings.TrimLeft(s, " \t,")
		if s == "" {
			return out
		}
		// A token followed by space (not '=') starts a new challenge.
		i := strings.IndexAny(s, " \t=,")
		if i < 0 {
			return out
		}
		name := s[:i]
		rest := strings.TrimLeft(s[i:], " \t")
		if !strings.HasPrefix(rest, "=") || strings.HasPrefix(rest, "==") {
			inBearer = strings.EqualFold(name, "Bearer")
			s = rest
			if strings.HasPrefix(s, "=") { // token68 of another scheme
				s = strings.TrimLeft(s, "=")
			}
			continue
		}
		rest = strings.TrimLeft(rest[1:], " \t")
		var val string
		if strings.HasPrefix(rest, `"`) {
			var b strings.Builder
			j := 1
			for ; j < len(rest) && rest[j] != '"'; j++ {
				if rest[j] == '\\' && j+1 < len(rest) {
					j++
				}
				b.WriteByte(rest[j])
			}
			val = b.String()
			if j < len(rest) {
				j++
			}
			s = rest[j:]
		} else {
			j := strings.IndexAny(rest, " \t,")
			if j < 0 {
				j = len(rest)
			}
			val, s = rest[:j], rest[j:]
		}
		if inBearer {
			out[strings.ToLower(name)] = val
		}
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
