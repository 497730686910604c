package apigw

import (
	"net/http"
	"sort"
	"strings"
)

// remapPrefix is what API Gateway puts before the name of a response
// header it will not pass on.
const remapPrefix = "x-amzn-Remapped-"

// Response header handling of a Lambda proxy integration, REST APIs
// ("Amazon API Gateway important notes for REST APIs", table of HTTP
// headers, Lambda integration response column), keyed by lower-case name.
// Date and Server are "Remapped, overwritten": the Lambda's value moves to
// x-amzn-Remapped-NAME and the gateway's own takes its place; the gateway
// sets its own Date, and sends no Server header at all (neither does
// execute-api), which is what the double does.
var responseHeaderRules = map[string]headerRule{
	"authorization":      remapped,
	"connection":         remapped,
	"content-md5":        remapped,
	"date":               remapped,
	"max-forwards":       remapped,
	"server":             remapped,
	"user-agent":         remapped,
	"www-authenticate":   remapped,
	"expect":             dropped,
	"proxy-authenticate": dropped,
	"te":                 dropped,
	"trailer":            dropped,
	"transfer-encoding":  dropped,
	"upgrade":            dropped,
}

type headerRule int

const (
	passed headerRule = iota
	remapped
	dropped
)

// renamedHeader is a remapped header as written on the wire.
type renamedHeader struct {
	wire   string // "x-amzn-Remapped-WWW-Authenticate"
	values []string
}

// remapHeaders applies the table to a Lambda's response headers. Names
// compare case-insensitively; a remapped name keeps the spelling the
// function gave it after the prefix, as API Gateway does.
func remapHeaders(h http.Header) (http.Header, []renamedHeader) {
	pass := http.Header{}
	var renamed []renamedHeader
	index := map[string]int{}
	// Sorted, so that a name given twice in different cases gets the same
	// spelling every time.
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		vs := h[k]
		switch responseHeaderRules[strings.ToLower(k)] {
		case dropped:
		case remapped:
			lower := strings.ToLower(k)
			if i, ok := index[lower]; ok {
				renamed[i].values = append(renamed[i].values, vs...)
				continue
			}
			index[lower] = len(renamed)
			renamed = append(renamed, renamedHeader{wire: remapPrefix + k, values: append([]string(nil), vs...)})
		default:
			for _, v := range vs {
				pass.Add(k, v)
			}
		}
	}
	return pass, renamed
}

// RemapIntegrationHeaders returns the headers a client receives for a
// Lambda proxy integration's response headers h: Authorization,
// Connection, Content-MD5, Date, Max-Forwards, Server, User-Agent and
// WWW-Authenticate renamed to x-amzn-Remapped-NAME; Expect,
// Proxy-Authenticate, TE, Trailer, Transfer-Encoding and Upgrade dropped;
// the rest as they are. Date is left unset: the gateway adds its own when
// it sends the response. h is not modified.
//
// The keys of the result are in Go's canonical form, so Get works
// (x-amzn-Remapped-WWW-Authenticate is under
// "X-Amzn-Remapped-Www-Authenticate"); ServeHTTP writes the remapped names
// with API Gateway's spelling.
func RemapIntegrationHeaders(h http.Header) http.Header {
	pass, renamed := remapHeaders(h)
	for _, rh := range renamed {
		for _, v := range rh.values {
			pass.Add(rh.wire, v)
		}
	}
	return pass
}
