package authorizer

import (
	"strings"
)

// MaxHeaderBytes bounds the Authorization header value: a longer one is
// refused before anything is parsed or hashed.
const MaxHeaderBytes = 8 << 10

// tokenError names why no token could be taken from a request; the reason
// is logged, never the header.
type tokenError string

func (e tokenError) Error() string { return string(e) }

const (
	errNoHeader      tokenError = "missing_token"
	errManyHeaders   tokenError = "multiple_authorization_headers"
	errTooLong       tokenError = "header_too_large"
	errNotBearer     tokenError = "not_bearer"
	errBadTokenChars tokenError = "malformed_token"
)

// bearerToken returns the single Bearer token of a REQUEST authorizer
// event. Header names are matched case-insensitively in both headers and
// multiValueHeaders (API Gateway fills both); the same value seen in both
// counts once, but two different values are refused rather than one of
// them picked.
func bearerToken(headers map[string]string, multi map[string][]string) (string, error) {
	var value string
	n := 0
	add := func(v string) {
		if n > 0 && v == value {
			return
		}
		value = v
		n++
	}
	for k, vs := range multi {
		if strings.EqualFold(k, "Authorization") {
			for _, v := range vs {
				add(v)
			}
		}
	}
	for k, v := range headers {
		if strings.EqualFold(k, "Authorization") {
			add(v)
		}
	}
	switch {
	case n == 0:
		return "", errNoHeader
	case n > 1:
		return "", errManyHeaders
	case len(value) > MaxHeaderBytes:
		return "", errTooLong
	}
	scheme, tok, ok := strings.Cut(strings.Trim(value, " \t"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", errNotBearer
	}
	tok = strings.TrimLeft(tok, " ")
	if !isB64Token(tok) {
		return "", errBadTokenChars
	}
	return tok, nil
}

// isB64Token checks RFC 6750's b64token: 1*( ALPHA / DIGIT / "-" / "." /
// "_" / "~" / "+" / "/" ) *"=". This is also what refuses two tokens in one
// header, since a space is not allowed.
func isB64Token(s string) bool {
	body := strings.TrimRight(s, "=")
	if body == "" {
		return false
	}
	for i := 0; i < len(body); i++ {
		c := body[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '-', c == '.', c == '_', c == '~', c == '+', c == '/':
		default:
			return false
		}
	}
	return true
}
