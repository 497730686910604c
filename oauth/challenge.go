package oauth

import (
	"net/http"
	"strings"
)

// Challenge is one challenge of a WWW-Authenticate header (RFC 9110 section
// 11.6.1): a scheme with either a token68 or auth-params. The resource
// server writes such challenges (RFC 6750, RFC 9728); the MCP client and its
// OAuth client read them with ParseChallenges, the one parser of this
// repository, because the header is the server's text and is not trusted.
type Challenge struct {
	Scheme  string
	Token68 string
	// Params holds the auth-params, names lower-cased; values unquoted and
	// unescaped. A repeated name keeps its first value.
	Params map[string]string
}

// Param returns the value of the named parameter ("" if absent).
func (c Challenge) Param(name string) string { return c.Params[strings.ToLower(name)] }

// Scopes returns the space-separated scope parameter as a list.
func (c Challenge) Scopes() []string { return strings.Fields(c.Param("scope")) }

// maxChallengeHeader bounds the header text parsed, all fields together: a
// resource server's challenge is a few hundred bytes; anything far larger
// is not worth reading.
const maxChallengeHeader = 16 << 10

// ParseChallenges parses every WWW-Authenticate field value in values. It
// never fails: malformed parts are skipped, so a server that gets the syntax
// slightly wrong still yields what can be understood.
func ParseChallenges(values []string) []Challenge {
	var out []Challenge
	budget := maxChallengeHeader
	for _, v := range values {
		if budget <= 0 {
			break
		}
		if len(v) > budget {
			v = v[:budget]
		}
		budget -= len(v)
		out = append(out, parseChallengeField(v)...)
	}
	return out
}

// RemappedChallengeHeader is where an Amazon API Gateway REST API puts the
// WWW-Authenticate header of a Lambda proxy integration's response: REST
// APIs rename it (AWS documentation, "Amazon API Gateway important notes for
// REST APIs", header remapping). Only the gateway's own responses carry a
// real WWW-Authenticate.
const RemappedChallengeHeader = "X-Amzn-Remapped-Www-Authenticate"

// ChallengeValues returns a response's WWW-Authenticate field values or,
// when there are none, those of the header API Gateway renamed it to: a
// challenge that reached us under the renamed header is still the resource
// server's challenge, and reading it is what lets a client find the
// authorization server behind a REST API.
func ChallengeValues(h http.Header) []string {
	if v := h.Values("WWW-Authenticate"); len(v) > 0 {
		return v
	}
	return h.Values(RemappedChallengeHeader)
}

// BearerChallenge returns the first Bearer challenge of a response's
// WWW-Authenticate header fields (see ChallengeValues).
func BearerChallenge(h http.Header) (Challenge, bool) {
	for _, c := range ParseChallenges(ChallengeValues(h)) {
		if strings.EqualFold(c.Scheme, "Bearer") {
			return c, true
		}
	}
	return Challenge{}, false
}

type challengeLexer struct {
	s string
	i int
}

func (l *challengeLexer) more() bool { return l.i < len(l.s) }
func (l *challengeLexer) peek() byte { return l.s[l.i] }

func (l *challengeLexer) skipSpace() {
	for l.more() && (l.peek() == ' ' || l.peek() == '\t') {
		l.i++
	}
}

func (l *challengeLexer) token() string {
	start := l.i
	for l.more() && isTokenChar(l.peek()) {
		l.i++
	}
	return l.s[start:l.i]
}

// bareValue reads an unquoted parameter value. RFC 9110 allows only token
// characters, but servers send unquoted URLs and scopes ("a:b"), so it reads
// up to the next separator.
func (l *challengeLexer) bareValue() string {
	start := l.i
	for l.more() && l.peek() != ',' && l.peek() != ' ' && l.peek() != '\t' {
		l.i++
	}
	return l.s[start:l.i]
}

// quoted reads a quoted-string starting at the opening quote, undoing
// quoted-pairs. An unterminated string runs to the end of the field.
func (l *challengeLexer) quoted() string {
	l.i++ // opening quote
	var b strings.Builder
	for l.more() {
		c := l.peek()
		l.i++
		switch c {
		case '"':
			return b.String()
		case '\\':
			if l.more() {
				b.WriteByte(l.peek())
				l.i++
			}
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// token68 reads a token68 if one starts here and is the whole credential
// part of the challenge (followed by the end of the field or a comma).
func (l *challengeLexer) token68() (string, bool) {
	j := l.i
	for j < len(l.s) && isToken68Char(l.s[j]) {
		j++
	}
	if j == l.i {
		return "", false
	}
	for j < len(l.s) && l.s[j] == '=' {
		j++
	}
	k := j
	for k < len(l.s) && (l.s[k] == ' ' || l.s[k] == '\t') {
		k++
	}
	if k < len(l.s) && l.s[k] != ',' {
		return "", false
	}
	v := l.s[l.i:j]
	l.i = k
	return v, true
}

func parseChallengeField(s string) []Challenge {
	l := &challengeLexer{s: s}
	var out []Challenge
	for {
		for l.more() && (l.peek() == ' ' || l.peek() == '\t' || l.peek() == ',') {
			l.i++
		}
		if !l.more() {
			return out
		}
		scheme := l.token()
		if scheme == "" {
			l.i++ // not a scheme: skip the character and resynchronise
			continue
		}
		c := Challenge{Scheme: scheme, Params: map[string]string{}}
		l.skipSpace()
		if l.more() && l.peek() != ',' {
			if t, ok := l.token68(); ok {
				c.Token68 = t
				out = append(out, c)
				continue
			}
		}
		l.params(&c)
		out = append(out, c)
	}
}

// params reads auth-params until the next challenge begins (a token not
// followed by "=") or the field ends.
func (l *challengeLexer) params(c *Challenge) {
	for {
		l.skipSpace()
		start := l.i
		name := l.token()
		l.skipSpace()
		if name == "" || !l.more() || l.peek() != '=' {
			l.i = start
			return
		}
		l.i++ // '='
		l.skipSpace()
		var value string
		if l.more() && l.peek() == '"' {
			value = l.quoted()
		} else {
			value = l.bareValue()
		}
		key := strings.ToLower(name)
		if _, dup := c.Params[key]; !dup {
			c.Params[key] = value
		}
		l.skipSpace()
		if !l.more() || l.peek() != ',' {
			return
		}
		l.i++ // ',': another param, or the next challenge
	}
}

func isTokenChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

func isToken68Char(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("-._~+/", c) >= 0
}
