package oauthclient

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Token endpoint authentication methods (RFC 8414 / RFC 7591).
const (
	authNone   = "none"
	authBasic  = "client_secret_basic"
	authPost   = "client_secret_post"
	kindConfig = "configured"
	kindCIMD   = "metadata-document"
	kindDCR    = "registered"
)

// TokenError is an error response of a token, revocation or registration
// endpoint (RFC 6749 section 5.2, RFC 7591 section 3.2.2).
type TokenError struct {
	Endpoint    string // "token", "revocation", "registration"
	Status      int
	Code        string // "invalid_grant", ...
	Description string // from the server, sanitised for display
}

func (e *TokenError) Error() string {
	msg := fmt.Sprintf("the %s endpoint refused the request (HTTP %d", e.Endpoint, e.Status)
	if e.Code != "" {
		msg += ", " + e.Code
	}
	msg += ")"
	if e.Description != "" {
		msg += ": " + e.Description
	}
	return msg
}

// IsInvalidGrant reports whether err is the token endpoint rejecting a
// grant (an expired, revoked or replayed refresh token or code).
func IsInvalidGrant(err error) bool {
	var te *TokenError
	return errors.As(err, &te) && te.Code == "invalid_grant"
}

// clientCredentials is how the client authenticates at the endpoints.
type clientCredentials struct {
	ID, Secret, Method string
}

// apply adds the client's authentication to a form POST.
func (c clientCredentials) apply(req *http.Request, form url.Values) {
	switch c.Method {
	case authBasic:
		// RFC 6749 section 2.3.1: both parts form-encoded before base64.
		pair := url.QueryEscape(c.ID) + ":" + url.QueryEscape(c.Secret)
		req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(pair)))
	case authPost:
		form.Set("client_id", c.ID)
		form.Set("client_secret", c.Secret)
	default:
		form.Set("client_id", c.ID)
	}
}

// chooseAuthMethod picks client_secret_basic or client_secret_post from
// what the server supports (RFC 8414: client_secret_basic when it says
// nothing).
func chooseAuthMethod(secret string, supported []string) (string, error) {
	if secret == "" {
		return authNone, nil
	}
	switch {
	case len(supported) == 0, slices.Contains(supported, authBasic):
		return authBasic, nil
	case slices.Contains(supported, authPost):
		return authPost, nil
	}
	return "", fmt.Errorf("the authorization server supports neither client_secret_basic nor client_secret_post (it lists %s)", strings.Join(supported, ", "))
}

// tokenResponse is a successful token endpoint response (RFC 6749 5.1).
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	RefreshToken string `json:"refresh_token"`
	Scope        string `json:"scope"`
}

// postForm sends a form to an endpoint with client authentication and
// decodes a JSON answer into v (when v is not nil). Error responses become
// *TokenError.
func postForm(ctx context.Context, hc *http.Client, endpoint, what string, creds clientCredentials, form url.Values, v any) error {
	ctx, cancel := context.WithTimeout(ctx, fetchTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, nil)
	if err != nil {
		return err
	}
	creds.apply(req, form)
	body := form.Encode()
	req.Body = io.NopCloser(strings.NewReader(body))
	req.ContentLength = int64(len(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("the %s endpoint: %w", what, err)
	}
	defer resp.Body.Close()
	return readAnswer(resp, what, v)
}

func readAnswer(resp *http.Response, what string, v any) error {
	if resp.StatusCode/100 != 2 {
		te := &TokenError{Endpoint: what, Status: resp.StatusCode}
		var e struct {
			Error       string `json:"error"`
			Description string `json:"error_description"`
		}
		if decodeBounded(resp.Body, &e) == nil {
			te.Code, te.Description = printable(e.Error, 64), printable(e.Description, 300)
		}
		return te
	}
	if v == nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxDocumentBytes))
		return nil
	}
	if err := decodeBounded(resp.Body, v); err != nil {
		return fmt.Errorf("the %s endpoint's answer: %w", what, err)
	}
	return nil
}

// printable keeps text from a server safe to show on a terminal: no control
// characters (escape sequences), bounded length.
func printable(s string, max int) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	if len(s) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut-- // keep whole characters
		}
		s = s[:cut] + "…"
	}
	return s
}

// requestToken runs one token request and checks the answer.
func requestToken(ctx context.Context, hc *http.Client, endpoint string, creds clientCredentials, form url.Values) (*tokenResponse, error) {
	var tr tokenResponse
	if err := postForm(ctx, hc, endpoint, "token", creds, form, &tr); err != nil {
		return nil, err
	}
	if tr.AccessToken == "" {
		return nil, errors.New("the token endpoint's answer has no access_token")
	}
	if !strings.EqualFold(tr.TokenType, "Bearer") {
		return nil, fmt.Errorf("the token endpoint issued a %q token; only Bearer tokens are supported", printable(tr.TokenType, 32))
	}
	return &tr, nil
}

// revoke asks the server to revoke one token (RFC 7009). An unknown or
// already invalid token is answered 200 by the RFC, so only transport
// failures and real refusals are errors.
func revoke(ctx context.Context, hc *http.Client, endpoint string, creds clientCredentials, token, hint string) error {
	form := url.Values{"token": {token}, "token_type_hint": {hint}}
	return postForm(ctx, hc, endpoint, "revocation", creds, form, nil)
}

// registrationRequest is the RFC 7591 client metadata this client sends.
type registrationRequest struct {
	ClientName              string   `json:"client_name"`
	RedirectURIs            []string `json:"redirect_uris"`
	GrantTypes              []string `json:"grant_types"`
	ResponseTypes           []string `json:"response_types"`
	TokenEndpointAuthMethod string   `json:"token_endpoint_auth_method"`
	// ApplicationType "native" (OpenID Connect Dynamic Client Registration)
	// lets the server accept any loopback port in the redirect URI (RFC
	// 8252 section 7.3); servers that do not know the field ignore it.
	ApplicationType string `json:"application_type"`
	Scope           string `json:"scope,omitempty"`
}

type registrationResponse struct {
	ClientID                string `json:"client_id"`
	ClientSecret            string `json:"client_secret"`
	ClientSecretExpiresAt   int64  `json:"client_secret_expires_at"`
	TokenEndpointAuthMethod string `json:"token_endpoint_auth_method"`
}

// register performs RFC 7591 dynamic client registration as a public client.
func register(ctx context.Context, hc *http.Client, endpoint, issuer, clientName, redirectURI string, now time.Time) (*Registration, error) {
	body, err := json.Marshal(registrationRequest{
		ClientName:              clientName,
		RedirectURIs:            []string{redirectURI},
		GrantTypes:              []string{"authorization_code", "refresh_token"},
		ResponseTypes:           []string{"code"},
		TokenEndpointAuthMethod: authNone,
		ApplicationType:         "native",
	})
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, fetchTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("the registration endpoint: %w", err)
	}
	defer resp.Body.Close()
	var rr registrationResponse
	if err := readAnswer(resp, "registration", &rr); err != nil {
		return nil, err
	}
	if rr.ClientID == "" {
		return nil, errors.New("the registration endpoint's answer has no client_id")
	}
	method := rr.TokenEndpointAuthMethod
	if method == "" {
		method = authNone
		if rr.ClientSecret != "" {
			method = authBasic // RFC 7591 section 2: the default
		}
	}
	return &Registration{
		Issuer:                  issuer,
		ClientID:                rr.ClientID,
		ClientSecret:            rr.ClientSecret,
		ClientSecretExpiresAt:   rr.ClientSecretExpiresAt,
		TokenEndpointAuthMethod: method,
		RedirectURIs:            []string{redirectURI},
		RegisteredAt:            now,
	}, nil
}
