package jsonschema

import "unicode/utf8"

// ValidationError describes why an instance does not match a schema.
type ValidationError struct {
	// Path locates the offending value: "" for the root, "name",
	// "items[2].id", or a["b.c"] for keys that are not plain identifiers
	// (such keys are written as JSON strings in brackets).
	Path string
	// Message says what is wrong, e.g. "required property is missing".
	Message string
}

// Error returns `"<path>": <message>`, or just the message at the root.
func (e *ValidationError) Error() string {
	if e.Path == "" {
		return e.Message
	}
	return `"` + e.Path + `": ` + e.Message
}

// isPlainKey reports whether a key can be written bare in a path.
func isPlainKey(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

func appendPathKey(b []byte, k string, first bool) []byte {
	if isPlainKey(k) {
		if !first {
			b = append(b, '.')
		}
		return append(b, k...)
	}
	b = append(b, '[')
	b = appendJSONString(b, k)
	return append(b, ']')
}

// appendJSONString appends s as a JSON string literal (no HTML escaping;
// invalid UTF-8 becomes U+FFFD).
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c < 0x20 || c == 0x7f:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == '\u2028' || r == '\u2029' {
			b = append(b, `\u202`...)
			b = append(b, hex[r&0xf])
		} else {
			b = utf8.AppendRune(b, r)
		}
		i += size
	}
	return append(b, '"')
}
