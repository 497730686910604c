package server

import (
	"net/http"
	"strings"
	"time"
)

// Principal is who a request comes from, as an Authenticator established
// it. Sessions belong to the principal that created them.
type Principal struct {
	Issuer   string
	Subject  string
	ClientID string
	Username string
	Scopes   []string
	// Expires is when the credential behind this principal stops being
	// valid, when the authenticator knows it (the exp an upstream
	// authorizer passed on); zero otherwise.
	Expires time.Time

	key string
}

// Key identifies the principal for session ownership: issuer, subject and
// client together, so a token for another user or another client cannot
// drive the session.
func (p *Principal) Key() string {
	if p == nil {
		return ""
	}
	if p.key == "" {
		p.key = p.Issuer + "\x00" + p.Subject + "\x00" + p.ClientID
	}
	return p.key
}

// Authenticator decides who a request comes from. It returns an *AuthError
// to refuse the request; any other error is a 500. A nil Principal with a
// nil error means anonymous access (authentication off).
type Authenticator interface {
	Authenticate(r *http.Request) (*Principal, error)
}

// AuthenticatorFunc adapts a function to Authenticator.
type AuthenticatorFunc func(r *http.Request) (*Principal, error)

func (f AuthenticatorFunc) Authenticate(r *http.Request) (*Principal, error) { return f(r) }

// AuthError is a refused request: Status is 401 or 403, Challenge the
// WWW-Authenticate header value, Message what the JSON-RPC error says.
type AuthError struct {
	Status    int
	Challenge string
	Message   string
}

func (e *AuthError) Error() string { return e.Message }

// BearerToken returns the token of an "Authorization: Bearer" header, and
// whether one was presented at all.
func BearerToken(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return "", false
	}
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", true
	}
	return strings.TrimSpace(token), true
}
