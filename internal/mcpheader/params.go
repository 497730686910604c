package mcpheader

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// ParamHeaders returns the Mcp-Param-{Name} headers a client adds to a
// tools/call of a tool whose [ParseToolHeaders] result is params, given the
// call's arguments (a JSON object). A parameter whose value is absent or
// JSON null gets no header. Strings are encoded with [EncodeValue],
// integers in decimal, booleans as "true"/"false".
//
// It fails, so that the call is not sent, when a value does not have the
// declared type, when an integer is fractional or outside ±(2^53−1) (the
// Transports WG resolved that such values "produce an error"; 42.0 is the
// integer 42), or when a key on a parameter's path appears twice in the
// arguments (which copy counts is parser-dependent). The result is nil when
// no header is needed.
func ParamHeaders(params []Param, arguments json.RawMessage) (http.Header, error) {
	if len(params) == 0 {
		return nil, nil
	}
	vals, err := extract(params, arguments)
	if err != nil {
		return nil, err
	}
	var h http.Header
	for i, p := range params {
		raw := vals[i]
		if isAbsent(raw) {
			continue
		}
		v, err := headerText(p, raw)
		if err != nil {
			return nil, fmt.Errorf("%s for header %s: %w", argPath(p.Path), p.Header, err)
		}
		if h == nil {
			h = make(http.Header, len(params))
		}
		h.Set(p.Header, v)
	}
	return h, nil
}

// CheckParams validates the Mcp-Param-{Name} headers of a tools/call
// against its arguments, for a tool whose [ParseToolHeaders] result is
// params. The error, if any, is a *[MismatchError] for the first failing
// parameter in params order, or another error if arguments is not JSON.
//
// Per the "Server Behavior for Custom Headers" table: a value in the body
// needs its header; a header must be valid and, once decoded, equal the
// body value; integers compare numerically ("42", "42.0" and 42.0 are
// equal) and must be within ±(2^53−1), in header and body alike. Headers
// of names not in params are ignored, as intermediaries forward unknown
// ones.
//
// Decision where the table is silent: a header whose body value is absent
// or null is a mismatch. "Server MUST NOT expect the header" makes its
// absence fine, but a present header asserts a value the body does not
// have, and "Servers MUST reject requests where the values specified in
// the headers do not match the corresponding values in the request body".
// Conforming clients never send one.
func CheckParams(params []Param, h http.Header, arguments json.RawMessage) error {
	if len(params) == 0 {
		return nil
	}
	vals, err := extract(params, arguments)
	if err != nil {
		var dup *dupKeyError
		if errors.As(err, &dup) {
			p := params[dup.param]
			return &MismatchError{Header: p.Header, Kind: KindMismatch, Reason: "cannot be checked: " + dup.Error()}
		}
		return err
	}
	for i, p := range params {
		if err := checkParam(p, h.Values(p.Header), vals[i]); err != nil {
			return err
		}
	}
	return nil
}

func checkParam(p Param, hv []string, raw json.RawMessage) *MismatchError {
	fail := func(k Kind, reason string) *MismatchError {
		return &MismatchError{Header: p.Header, Kind: k, Reason: reason}
	}
	if len(hv) > 1 {
		return repeated(p.Header, len(hv))
	}
	where := argPath(p.Path)
	if isAbsent(raw) {
		if len(hv) == 0 {
			return nil
		}
		return fail(KindMismatch, "value "+quote(trimOWS(hv[0]))+" has no counterpart: "+where+" is absent or null in the body")
	}
	// The body value must be mirrorable whatever the header says: a
	// conforming client refuses to send anything else.
	body, err := bodyValue(p, raw)
	if err != nil {
		return fail(KindMismatch, "cannot mirror "+where+": "+err.Error())
	}
	if len(hv) == 0 {
		return fail(KindMissing, "is missing, but "+where+" is "+shown(p, body)+" in the body; a value present in the body must be mirrored")
	}
	got, derr := DecodeValue(hv[0])
	if derr != nil {
		return fail(KindInvalid, "value "+quote(trimOWS(hv[0]))+" is invalid: "+derr.Error())
	}
	switch p.Type {
	case TypeInteger:
		n, err := parseSafeInt(got)
		if err != nil {
			return fail(KindInvalid, "value "+quote(got)+" "+err.Error()+"; an integer parameter needs a decimal integer")
		}
		if strconv.FormatInt(n, 10) == body {
			return nil
		}
	case TypeBoolean:
		if got != "true" && got != "false" {
			return fail(KindInvalid, "value "+quote(got)+` is not a boolean: it must be "true" or "false" (lowercase)`)
		}
		if got == body {
			return nil
		}
	default:
		if got == body {
			return nil
		}
	}
	return fail(KindMismatch, "value "+quote(got)+" does not match body value "+shown(p, body))
}

// shown renders a body value for a message: strings quoted, integers and
// booleans bare (they are short and canonical by then).
func shown(p Param, body string) string {
	if p.Type == TypeString {
		return quote(body)
	}
	return body
}

// headerText is the unencoded-then-encoded header value of a present
// argument: the client's side of bodyValue.
func headerText(p Param, raw json.RawMessage) (string, error) {
	v, err := bodyValue(p, raw)
	if err != nil {
		return "", err
	}
	if p.Type == TypeString {
		return EncodeValue(v), nil
	}
	return v, nil
}

// bodyValue converts a present, non-null argument to its canonical header
// text before encoding: the string itself, the decimal integer, or
// "true"/"false".
func bodyValue(p Param, raw json.RawMessage) (string, error) {
	kind := jsonKind(raw)
	switch p.Type {
	case TypeString:
		if kind == "a string" {
			var s string
			if err := json.Unmarshal(raw, &s); err != nil {
				return "", err
			}
			return s, nil
		}
	case TypeInteger:
		if kind == "a number" {
			n, err := parseSafeInt(string(raw))
			if err != nil {
				return "", fmt.Errorf("%s %w", quote(string(raw)), err)
			}
			return strconv.FormatInt(n, 10), nil
		}
	case TypeBoolean:
		if kind == "a boolean" {
			return string(raw), nil
		}
	default:
		return "", fmt.Errorf("parameter has no valid type (%v)", p.Type)
	}
	return "", fmt.Errorf("value is %s, but x-mcp-header %s declares type %s", kind, p.Name, p.Type)
}

func jsonKind(raw json.RawMessage) string {
	switch raw[0] {
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case '{':
		return "an object"
	case '[':
		return "an array"
	case 'n':
		return "null"
	}
	return "a number"
}

func isAbsent(raw json.RawMessage) bool {
	return raw == nil || string(raw) == "null"
}

// argPath names an argument for messages: arguments.region,
// arguments.location.region, arguments["a.b"].
func argPath(path []string) string {
	var b strings.Builder
	b.WriteString("arguments")
	for _, k := range path {
		if isIdent(k) {
			b.WriteByte('.')
			b.WriteString(k)
		} else {
			b.WriteByte('[')
			b.WriteString(strconv.Quote(k))
			b.WriteByte(']')
		}
	}
	return b.String()
}

func isIdent(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// trie merges the params' paths so the arguments are read once per level.
type trie struct {
	key      string
	children []*trie
	params   []int // indexes into params of the paths ending here
}

func (t *trie) child(key string) *trie {
	for _, c := range t.children {
		if c.key == key {
			return c
		}
	}
	return nil
}

// dupKeyError: an object on a parameter's path has the same key twice.
type dupKeyError struct {
	param int
	at    []string
	key   string
}

func (e *dupKeyError) Error() string {
	return fmt.Sprintf("%s has key %q more than once, so which value applies depends on the JSON parser", argPath(e.at), e.key)
}

// extract returns, for each param, the raw JSON at its path in arguments,
// or nil when there is none. Arguments that are empty, null or not an
// object have no values; so does a path through a non-object.
func extract(params []Param, arguments json.RawMessage) ([]json.RawMessage, error) {
	root := &trie{}
	for i, p := range params {
		n := root
		for _, k := range p.Path {
			c := n.child(k)
			if c == nil {
				c = &trie{key: k}
				n.children = append(n.children, c)
			}
			n = c
		}
		n.params = append(n.params, i)
	}
	vals := make([]json.RawMessage, len(params))
	raw := bytes.TrimSpace(arguments)
	if len(raw) == 0 {
		return vals, nil
	}
	for _, i := range root.params {
		vals[i] = raw // only a hand-made Param has an empty path
	}
	if err := walkArgs(raw, root, nil, vals); err != nil {
		return nil, err
	}
	return vals, nil
}

func walkArgs(raw []byte, n *trie, at []string, vals []json.RawMessage) error {
	if len(n.children) == 0 || raw[0] != '{' {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if _, err := dec.Token(); err != nil {
		return fmt.Errorf("arguments are not valid JSON: %v", err)
	}
	seen := make([]bool, len(n.children))
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return fmt.Errorf("arguments are not valid JSON: %v", err)
		}
		key := tok.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return fmt.Errorf("arguments are not valid JSON: %v", err)
		}
		ci := -1
		for i, c := range n.children {
			if c.key == key {
				ci = i
				break
			}
		}
		if ci < 0 {
			continue
		}
		c := n.children[ci]
		if seen[ci] {
			return &dupKeyError{param: firstParam(c), at: at, key: key}
		}
		seen[ci] = true
		for _, i := range c.params {
			vals[i] = v
		}
		if err := walkArgs(v, c, append(at[:len(at):len(at)], key), vals); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil {
		return fmt.Errorf("arguments are not valid JSON: %v", err)
	}
	return nil
}

// firstParam is the lowest param index at or below n, to blame in errors.
func firstParam(n *trie) int {
	best := -1
	for _, i := range n.params {
		if best < 0 || i < best {
			best = i
		}
	}
	for _, c := range n.children {
		if i := firstParam(c); i >= 0 && (best < 0 || i < best) {
			best = i
		}
	}
	return best
}

// maxSafeInt is 2^53−1, the largest integer every IEEE 754 double holds
// exactly, and so the bound the specification sets on mirrored integers.
const maxSafeInt = 1<<53 - 1

var (
	errNotNumber = errors.New("is not a JSON number")
	errFraction  = errors.New("is not a whole number")
	errRange     = errors.New("is outside the safe integer range ±(2^53−1)")
)

// parseSafeInt parses a JSON number exactly (no float rounding: 2^53−1 + 0.4
// must not pass as an integer) and returns it if it is a whole number
// within ±(2^53−1). "42", "42.0", "4.2e1" and "-0" are all integers.
func parseSafeInt(s string) (int64, error) {
	i := 0
	neg := i < len(s) && s[i] == '-'
	if neg {
		i++
	}
	start := i
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && '1' <= s[i] && s[i] <= '9':
		for i < len(s) && isDigit(s[i]) {
			i++
		}
	default:
		return 0, errNotNumber
	}
	intPart := s[start:i]
	frac := ""
	if i < len(s) && s[i] == '.' {
		i++
		fs := i
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		if i == fs {
			return 0, errNotNumber
		}
		frac = s[fs:i]
	}
	var exp int64
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		eneg := false
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			eneg = s[i] == '-'
			i++
		}
		es := i
		for i < len(s) && isDigit(s[i]) {
			if exp < 1<<40 { // beyond this the value is 0, fractional or huge anyway
				exp = exp*10 + int64(s[i]-'0')
			}
			i++
		}
		if i == es {
			return 0, errNotNumber
		}
		if eneg {
			exp = -exp
		}
	}
	if i != len(s) {
		return 0, errNotNumber
	}
	// value = digits × 10^exp10, digits without leading or trailing zeros.
	digits := strings.TrimLeft(intPart+frac, "0")
	if digits == "" {
		return 0, nil
	}
	exp10 := exp - int64(len(frac))
	trimmed := strings.TrimRight(digits, "0")
	exp10 += int64(len(digits) - len(trimmed))
	digits = trimmed
	if exp10 < 0 {
		return 0, errFraction // digits does not end in 0, so 10^-k never divides it
	}
	if int64(len(digits))+exp10 > 16 { // 2^53−1 has 16 digits
		return 0, errRange
	}
	var n int64
	for j := 0; j < len(digits); j++ {
		n = n*10 + int64(digits[j]-'0')
	}
	for ; exp10 > 0; exp10-- {
		n *= 10
	}
	if n > maxSafeInt {
		return 0, errRange
	}
	if neg {
		n = -n
	}
	return n, nil
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
