package mcpheader

import (
	"net/http"
	"strconv"
)

// Canonical names of the standard headers (the form net/http keys them by).
const (
	HeaderMethod = "Mcp-Method"
	HeaderName   = "Mcp-Name"
)

// Kind classifies a [MismatchError]. All kinds get the same answer (HTTP
// 400, -32020); the kind is for tests, metrics and logs.
type Kind uint8

const (
	// KindMissing: a header the body requires is absent.
	KindMissing Kind = iota + 1
	// KindInvalid: the header is malformed (bad characters, bad base64,
	// not an integer or boolean where one is declared) or repeated.
	KindInvalid
	// KindMismatch: header and body disagree, including a header whose
	// body value is absent and a body value that cannot be mirrored.
	KindMismatch
)

func (k Kind) String() string {
	switch k {
	case KindMissing:
		return "missing"
	case KindInvalid:
		return "invalid"
	case KindMismatch:
		return "mismatch"
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// MismatchError is a failed header check. Error() reads, for example,
// "Mcp-Name header value 'foo' does not match body value 'bar'"; the server
// prefixes "Header mismatch: " as the specification's example does. Values
// in the message are quoted, escaped and cut to about 100 bytes.
type MismatchError struct {
	Header string // header name as declared, e.g. "Mcp-Name", "Mcp-Param-Region"
	Kind   Kind
	Reason string // the message after "<Header> header "
}

func (e *MismatchError) Error() string { return e.Header + " header " + e.Reason }

// NameSource is the params field that Mcp-Name mirrors for method: "name"
// for tools/call and prompts/get, "uri" for resources/read, "" for methods
// that carry no Mcp-Name (per the "Standard Request Headers" table).
func NameSource(method string) string {
	switch method {
	case "tools/call", "prompts/get":
		return "name"
	case "resources/read":
		return "uri"
	}
	return ""
}

// SetStandard sets the Mcp-Method header to method and, for methods that
// have a [NameSource], Mcp-Name to name (params.name or params.uri),
// encoded with [EncodeValue]. name is ignored for other methods.
func SetStandard(h http.Header, method, name string) {
	h[HeaderMethod] = []string{method}
	if NameSource(method) != "" {
		h[HeaderName] = []string{EncodeValue(name)}
	}
}

// CheckStandard validates the standard headers of a request against its
// body: Mcp-Method must equal method; for a method with a [NameSource],
// Mcp-Name must be present when the body has that field (hasName) and, once
// decoded, equal it (name). The error, if any, is a *[MismatchError].
//
// Mcp-Method is compared literally (the base64 form is defined for Mcp-Name
// and Mcp-Param-* only). When the body lacks params.name/uri and the header
// is absent too, CheckStandard passes and leaves the malformed body to
// params validation; a header present without a body value is a mismatch.
// An Mcp-Name header on other methods is ignored: it mirrors nothing there.
//
// It does not allocate when the request is valid and Mcp-Name is plain.
func CheckStandard(h http.Header, method, name string, hasName bool) error {
	mv := h[HeaderMethod]
	switch len(mv) {
	case 0:
		return &MismatchError{Header: HeaderMethod, Kind: KindMissing,
			Reason: "is missing; every request must carry it, equal to the body's method " + quote(method)}
	case 1:
	default:
		return repeated(HeaderMethod, len(mv))
	}
	v := trimOWS(mv[0])
	if i := invalidByte(v); i >= 0 {
		return &MismatchError{Header: HeaderMethod, Kind: KindInvalid,
			Reason: "value " + quote(v) + " is invalid: " + invalidByteError(v, i).Error()}
	}
	if v != method {
		return &MismatchError{Header: HeaderMethod, Kind: KindMismatch,
			Reason: "value " + quote(v) + " does not match body value " + quote(method)}
	}

	field := NameSource(method)
	if field == "" {
		return nil
	}
	nv := h[HeaderName]
	switch len(nv) {
	case 0:
		if !hasName {
			return nil
		}
		return &MismatchError{Header: HeaderName, Kind: KindMissing,
			Reason: "is missing; " + method + " requests must mirror params." + field + " (" + quote(name) + ") in it"}
	case 1:
	default:
		return repeated(HeaderName, len(nv))
	}
	got, err := DecodeValue(nv[0])
	if err != nil {
		return &MismatchError{Header: HeaderName, Kind: KindInvalid,
			Reason: "value " + quote(trimOWS(nv[0])) + " is invalid: " + err.Error()}
	}
	if !hasName {
		return &MismatchError{Header: HeaderName, Kind: KindMismatch,
			Reason: "value " + quote(got) + " has no counterpart: the body has no params." + field}
	}
	if got != name {
		return &MismatchError{Header: HeaderName, Kind: KindMismatch,
			Reason: "value " + quote(got) + " does not match body value " + quote(name)}
	}
	return nil
}

// repeated rejects a header sent more than once: which copy an
// intermediary routed on is unknowable.
func repeated(header string, n int) *MismatchError {
	return &MismatchError{Header: header, Kind: KindInvalid,
		Reason: "appears " + strconv.Itoa(n) + " times; send it exactly once"}
}
