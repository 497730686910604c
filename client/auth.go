package client

import (
	"context"
	"net/http"

	"mcplambda/oauth"
)

// Authorizer supplies credentials. The OAuth client (client/oauthclient)
// implements it; the client package never depends on it.
type Authorizer interface {
	// Authorize sets the Authorization header (or leaves it unset).
	Authorize(ctx context.Context, req *http.Request) error
	// Challenge is called when the server answers 401, or 403 with
	// error="insufficient_scope"; resp's body is already drained and closed;
	// header and status are readable. Returning nil means "credentials
	// changed, retry the request"; an error aborts with that error.
	Challenge(ctx context.Context, resp *http.Response) error
}

// StaticToken is a fixed Bearer access token, such as ACCESS_TOKEN from the
// environment. It cannot renew itself, so a challenge is final.
type StaticToken string

// Authorize sets the Bearer header.
func (t StaticToken) Authorize(_ context.Context, req *http.Request) error {
	if t != "" {
		req.Header.Set("Authorization", "Bearer "+string(t))
	}
	return nil
}

// Challenge explains the refusal; the token itself never appears in it.
func (t StaticToken) Challenge(_ context.Context, resp *http.Response) error {
	ae := authRequired(resp)
	if t == "" {
		return ae
	}
	return &staticTokenRefused{ae}
}

// staticTokenRefused keeps the typed AuthRequiredError reachable through
// errors.As while saying that the configured token was the one refused.
type staticTokenRefused struct{ *AuthRequiredError }

func (e *staticTokenRefused) Error() string {
	return "the configured access token was refused: " + e.AuthRequiredError.Error()
}

func (e *staticTokenRefused) Unwrap() error { return e.AuthRequiredError }

var errDeadline = context.DeadlineExceeded

// isAuthChallenge reports whether an answer asks for (other) credentials.
func isAuthChallenge(resp *http.Response) bool {
	switch resp.StatusCode {
	case http.StatusUnauthorized:
		return true
	case http.StatusForbidden:
		c, _ := oauth.BearerChallenge(resp.Header)
		return c.Param("error") == "insufficient_scope"
	}
	return false
}
