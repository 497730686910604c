package server

import (
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"mcplambda/internal/authconfig"
)

// originPolicy guards against DNS rebinding and cross-site requests: a web
// page on another site must not reach a server on the user's machine
// through the browser.
type originPolicy struct {
	origins    []string // exact origins allowed besides loopback ones; "*" allows any
	hosts      []string // Host header values allowed (host or host:port); empty = see loopbackOnly
	loopbackOK bool     // Host must be a loopback name when the server listens on loopback only
}

func newOriginPolicy(cfg Config) originPolicy {
	p := originPolicy{origins: cfg.AllowedOrigins, hosts: cfg.AllowedHosts}
	// On Lambda only API Gateway reaches the function, under its own or a
	// custom domain: rebinding a loopback name is not a threat there.
	p.loopbackOK = len(cfg.AllowedHosts) == 0 && isLoopbackHost(cfg.Host) && !cfg.Lambda
	return p
}

// check returns "" when the request may proceed, or why it may not.
func (p originPolicy) check(r *http.Request) string {
	if len(p.hosts) > 0 {
		if !slices.ContainsFunc(p.hosts, func(h string) bool { return strings.EqualFold(h, r.Host) || strings.EqualFold(h, hostOnly(r.Host)) }) {
			return "Host header " + quoteShort(r.Host) + " is not allowed (set ALLOWED_HOSTS)"
		}
	} else if p.loopbackOK && !isLoopbackHost(hostOnly(r.Host)) {
		return "Host header " + quoteShort(r.Host) + " is not a loopback name: this server listens on loopback only (set ALLOWED_HOSTS to serve other names)"
	}
	origin := r.Header.Get("Origin")
	if origin == "" || p.originAllowed(origin) {
		return ""
	}
	return "Origin " + quoteShort(origin) + " is not allowed (set ALLOWED_ORIGINS)"
}

func (p originPolicy) originAllowed(origin string) bool {
	for _, o := range p.origins {
		if o == "*" || strings.EqualFold(o, origin) {
			return true
		}
	}
	u, err := url.Parse(origin)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Path != "" {
		return false
	}
	return isLoopbackHost(u.Hostname())
}

func hostOnly(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return h
	}
	return strings.Trim(hostport, "[]")
}

func isLoopbackHost(h string) bool { return authconfig.IsLoopbackHost(h) }

func quoteShort(s string) string {
	if len(s) > 100 {
		s = s[:100] + "..."
	}
	return `"` + strings.ToValidUTF8(s, "?") + `"`
}
