package oauthclient

import (
	"context"
	"errors"
	"fmt"
	"html"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// AuthorizationError is an error the authorization server sent to the
// callback instead of a code (RFC 6749 section 4.1.2.1), for example
// access_denied when the user declined.
type AuthorizationError struct {
	Code        string
	Description string
}

func (e *AuthorizationError) Error() string {
	msg := "the authorization server refused the login: " + e.Code
	if e.Description != "" {
		msg += ": " + e.Description
	}
	return msg
}

// ErrStateMismatch: a callback arrived whose state is not this login's. It
// may be a forged request (cross-site request forgery) or a stale tab, so
// it is refused; the login keeps waiting for the real answer, because any
// web page can make the browser send such a request and must not be able
// to abort a login in progress.
var ErrStateMismatch = errors.New("the callback's state does not match this login (a stale or forged request)")

// callbackResult is what the one callback of a login yields.
type callbackResult struct {
	code string
	err  error
}

// callbackServer receives the authorization response on the loopback
// redirect URI (RFC 8252 section 7.3). It answers one callback, then the
// login shuts it down.
type callbackServer struct {
	redirectURI string // with the real port when the configured one was 0
	path        string
	state       string
	issuer      string
	requireIss  bool // the server sends iss (RFC 9207): its absence is refused
	srv         *http.Server
	listeners   []net.Listener
	once        sync.Once
	result      chan callbackResult
	// wrongState counts callbacks refused for their state; a login that
	// times out says so, since the user may have finished in a stale tab.
	wrongState atomic.Int64
}

// startCallback listens on the redirect URI's loopback address. A
// redirect URI naming localhost is served on 127.0.0.1 and, when
// available, ::1, because browsers may resolve localhost to either; it is
// never served on other interfaces. Port 0 picks a free port.
func startCallback(redirectURI, state, issuer string, requireIss bool) (*callbackServer, error) {
	u, err := url.Parse(redirectURI)
	if err != nil {
		return nil, fmt.Errorf("OAUTH_REDIRECT_URI %q is not a URL: %w", redirectURI, err)
	}
	host, port := u.Hostname(), u.Port()
	if u.Scheme != "http" || !isLoopbackHost(host) {
		return nil, fmt.Errorf("OAUTH_REDIRECT_URI %q must be an http:// URL on localhost or a loopback address: the client receives the code on this machine", redirectURI)
	}
	if port == "" {
		port = "80"
	}
	cs := &callbackServer{path: u.Path, state: state, issuer: issuer, requireIss: requireIss, result: make(chan callbackResult, 1)}
	if cs.path == "" {
		cs.path = "/"
	}
	listenHost := host
	if strings.EqualFold(host, "localhost") {
		listenHost = "127.0.0.1"
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(listenHost, port))
	if err != nil {
		return nil, fmt.Errorf("listening for the login callback on %s (OAUTH_REDIRECT_URI): %w", net.JoinHostPort(listenHost, port), err)
	}
	cs.listeners = append(cs.listeners, ln)
	if port == "0" {
		port = strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
		u.Host = net.JoinHostPort(host, port)
	}
	if strings.EqualFold(host, "localhost") {
		if ln6, err := net.Listen("tcp", net.JoinHostPort("::1", port)); err == nil {
			cs.listeners = append(cs.listeners, ln6)
		} // else no IPv6 loopback: 127.0.0.1 suffices
	}
	cs.redirectURI = u.String()
	cs.srv = &http.Server{
		Handler:           http.HandlerFunc(cs.serveHTTP),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      10 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	for _, ln := range cs.listeners {
		go func() { _ = cs.srv.Serve(ln) }()
	}
	return cs, nil
}

// wait returns the callback's outcome, or an error when ctx ends first.
func (cs *callbackServer) wait(ctx context.Context) callbackResult {
	select {
	case r := <-cs.result:
		return r
	case <-ctx.Done():
		return callbackResult{err: ctx.Err()}
	}
}

// close stops the server once the page of the callback has been sent.
func (cs *callbackServer) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := cs.srv.Shutdown(ctx); err != nil {
		_ = cs.srv.Close()
	}
}

func (cs *callbackServer) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != cs.path {
		http.NotFound(w, r) // e.g. /favicon.ico
		return
	}
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if !equalSecret(r.URL.Query().Get("state"), cs.state) {
		// Not this login's answer: refuse it without ending the wait.
		cs.wrongState.Add(1)
		writePage(w, http.StatusBadRequest, fmt.Errorf("%w; this login is still waiting for its own answer", ErrStateMismatch))
		return
	}
	handled := false
	cs.once.Do(func() {
		handled = true
		res := cs.check(r.URL.Query())
		status := http.StatusOK
		if res.err != nil {
			status = http.StatusBadRequest
		}
		writePage(w, status, res.err)
		cs.result <- res
	})
	if !handled {
		writePage(w, http.StatusGone, errors.New("this login has already finished; go back to the terminal"))
	}
}

// check validates the authorization response: state first (serveHTTP has
// already turned away answers to another login, so this is a second guard),
// then the issuer (RFC 9207,
// against mix-up attacks: a present iss must be the recorded issuer, and
// an absent one is refused when the server advertises sending it), then
// an error from the server (only shown once the issuer checks out) and
// the code.
func (cs *callbackServer) check(q url.Values) callbackResult {
	if !equalSecret(q.Get("state"), cs.state) {
		return callbackResult{err: ErrStateMismatch}
	}
	iss, ok := q["iss"]
	if ok && (len(iss) != 1 || iss[0] != cs.issuer) {
		return callbackResult{err: fmt.Errorf("the callback names issuer %q, not %q: refusing it (possible mix-up attack)", printable(q.Get("iss"), 200), cs.issuer)}
	}
	if !ok && cs.requireIss {
		return callbackResult{err: fmt.Errorf("the callback names no issuer although %s sends one (authorization_response_iss_parameter_supported): refusing it (possible mix-up attack)", cs.issuer)}
	}
	if code := q.Get("error"); code != "" {
		return callbackResult{err: &AuthorizationError{Code: printable(code, 64), Description: printable(q.Get("error_description"), 300)}}
	}
	code := q.Get("code")
	if code == "" {
		return callbackResult{err: errors.New("the callback carries neither a code nor an error")}
	}
	return callbackResult{code: code}
}

// writePage answers the browser with a short page. Everything that came
// from the request or the server is escaped.
func writePage(w http.ResponseWriter, status int, err error) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	title, text := "Logged in", "You are logged in. You can close this window and return to the terminal."
	if err != nil {
		title, text = "Login failed", err.Error()+". You can close this window; the terminal says what to do next."
	}
	fmt.Fprintf(w, `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>%s</title>
<style>body{font-family:system-ui,sans-serif;max-width:36em;margin:4em auto;padding:0 1em;color:#222}h1{font-weight:500}</style>
</head><body><h1>%s</h1><p>%s</p></body></html>
`, html.EscapeString(title), html.EscapeString(title), html.EscapeString(text))
}
