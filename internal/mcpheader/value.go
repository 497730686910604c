package mcpheader

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The sentinel markers are case-sensitive: "=?BASE64?...?=" is a literal.
const (
	sentinelPrefix = "=?base64?"
	sentinelSuffix = "?="
)

// strictB64 rejects non-canonical encodings (non-zero padding bits), so a
// decoded value has exactly one header spelling. Built once: Strict returns
// a fresh pointer on every call.
var strictB64 = base64.StdEncoding.Strict()

// EncodeValue returns s as an Mcp-Name or Mcp-Param-{Name} header value.
//
// s goes as-is when it is printable ASCII (0x20-0x7E) without a leading or
// trailing space and does not itself look like the sentinel. Otherwise it
// goes as "=?base64?" + standard padded base64 of its bytes + "?=".
//
// Tabs are always encoded, although RFC 9110 allows one inside a value:
// SEP-2243's encoding rules base64 any control character (0x00-0x1F, 0x7F,
// and tab is 0x09), and the conformance client scenario
// (http-custom-headers.ts, needsBase64Encoding) fails a plain tab. Encoding
// more than needed is always safe; servers must decode either form.
//
// The empty string stays empty (an empty header value): the SEP-2243 test
// table lists `""` -> `Mcp-Param-Name: ` (empty value).
func EncodeValue(s string) string {
	if !needsEncoding(s) {
		return s
	}
	n := strictB64.EncodedLen(len(s))
	b := make([]byte, len(sentinelPrefix)+n+len(sentinelSuffix))
	copy(b, sentinelPrefix)
	strictB64.Encode(b[len(sentinelPrefix):], []byte(s))
	copy(b[len(sentinelPrefix)+n:], sentinelSuffix)
	return string(b)
}

func needsEncoding(s string) bool {
	if s == "" {
		return false
	}
	if s[0] == ' ' || s[len(s)-1] == ' ' {
		return true // a receiver strips it as optional whitespace
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e {
			return true
		}
	}
	// Broader than isSentinel (no length minimum): "=?base64?=" would
	// decode as a literal anyway, but encoding it costs nothing and keeps
	// every sentinel-shaped value unambiguous to any decoder.
	return strings.HasPrefix(s, sentinelPrefix) && strings.HasSuffix(s, sentinelSuffix)
}

// isSentinel reports whether v is in the encoded form: exact lowercase
// markers that do not overlap. Anything else, including a missing prefix
// or suffix, is a literal (conformance: ServerLiteralMissingBase64Prefix,
// ServerLiteralMissingBase64Suffix).
func isSentinel(v string) bool {
	return len(v) >= len(sentinelPrefix)+len(sentinelSuffix) &&
		strings.HasPrefix(v, sentinelPrefix) && strings.HasSuffix(v, sentinelSuffix)
}

// DecodeValue returns the value an Mcp-Name or Mcp-Param-{Name} header
// carries. Leading and trailing spaces and tabs are removed first (RFC 9110
// §5.5: they are not part of the field value). The rest must consist of
// visible ASCII, space and tab; a value in the =?base64?...?= form must hold
// canonical, padded standard base64 of valid UTF-8. Any other value is
// returned literally. An empty value decodes to the empty string.
//
// It does not allocate unless the value is base64-encoded or invalid.
func DecodeValue(h string) (string, error) {
	v := trimOWS(h)
	if i := invalidByte(v); i >= 0 {
		return "", invalidByteError(v, i)
	}
	if !isSentinel(v) {
		return v, nil
	}
	payload := v[len(sentinelPrefix) : len(v)-len(sentinelSuffix)]
	if err := checkBase64(payload); err != nil {
		return "", err
	}
	b, err := strictB64.DecodeString(payload)
	if err != nil {
		// checkBase64 accepted the alphabet, padding and length, so only
		// the strict check of the unused low bits can be left.
		return "", fmt.Errorf("base64 payload is not canonical: its last character before the padding sets bits that must be zero")
	}
	if !utf8.Valid(b) {
		return "", fmt.Errorf("base64 payload does not decode to valid UTF-8")
	}
	return string(b), nil
}

// trimOWS removes the optional whitespace (SP, HTAB) around a field value;
// net/http already does, but a Lambda event may not have.
func trimOWS(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

// invalidByte is the offset of the first byte RFC 9110 does not allow in a
// field value we accept (visible ASCII, SP, HTAB), or -1.
func invalidByte(v string) int {
	for i := 0; i < len(v); i++ {
		if c := v[i]; (c < 0x20 && c != '\t') || c > 0x7e {
			return i
		}
	}
	return -1
}

func invalidByteError(v string, i int) error {
	c := v[i]
	if c >= 0x80 {
		return fmt.Errorf("contains non-ASCII byte 0x%02X at offset %d; non-ASCII values must be sent as =?base64?...?=", c, i)
	}
	return fmt.Errorf("contains control character 0x%02X at offset %d; such values must be sent as =?base64?...?=", c, i)
}

// checkBase64 explains, more precisely than encoding/base64's offsets, why
// a sentinel payload is not padded standard base64.
func checkBase64(p string) error {
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '+', c == '/':
		case c == '=':
			// Padding: one '=' last, or two '=' last.
			if !(i == len(p)-1 || (i == len(p)-2 && p[i+1] == '=')) {
				return fmt.Errorf("base64 payload has '=' at offset %d; padding may only end the payload", i)
			}
		default:
			return fmt.Errorf("base64 payload has %s at offset %d, which is not in the standard base64 alphabet (A-Z a-z 0-9 + /)", quoteByte(c), i)
		}
	}
	if len(p)%4 != 0 {
		return fmt.Errorf("base64 payload length %d is not a multiple of 4 (is the '=' padding missing?)", len(p))
	}
	return nil
}

func quoteByte(c byte) string {
	if c > 0x20 && c < 0x7f && c != '\'' {
		return "'" + string(rune(c)) + "'"
	}
	return fmt.Sprintf("byte 0x%02X", c)
}

// maxQuoted bounds the bytes of a value an error message repeats: headers
// and bodies can be large, and messages end up in logs and responses.
const maxQuoted = 100

// quote renders s in single quotes, as in the specification's example
// error, with control characters, invalid UTF-8, quotes and backslashes
// escaped (no log injection), cut to maxQuoted bytes.
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('\'')
	for i := 0; i < len(s); {
		if i >= maxQuoted {
			b.WriteString("…' (")
			b.WriteString(strconv.Itoa(len(s)))
			b.WriteString(" bytes)")
			return b.String()
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\'' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case !unicode.IsPrint(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
		i += size
	}
	b.WriteByte('\'')
	return b.String()
}
