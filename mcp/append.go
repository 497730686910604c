package mcp

import (
	"encoding/json"
	"unicode/utf8"
)

// JSONAppender is implemented by results that can write their JSON form
// directly: the server's hot path (tools/call) skips encoding/json's
// reflection and its re-validation of custom marshalers. The output must
// equal what encoding/json produces for the same value.
type JSONAppender interface {
	AppendJSON(dst []byte) ([]byte, error)
}

// AppendJSON writes the result as encoding/json would, with a fast path for
// plain text blocks.
func (r *CallToolResult) AppendJSON(dst []byte) ([]byte, error) {
	dst = append(dst, `{"content":[`...)
	for i := range r.Content {
		c := &r.Content[i]
		if i > 0 {
			dst = append(dst, ',')
		}
		if c.Type == ContentText && c.Annotations == nil && len(c.Meta) == 0 {
			dst = append(dst, `{"type":"text","text":`...)
			dst = AppendJSONString(dst, c.Text)
			dst = append(dst, '}')
			continue
		}
		b, err := json.Marshal(c)
		if err != nil {
			return dst, err
		}
		dst = append(dst, b...)
	}
	dst = append(dst, ']')
	if r.StructuredContent != nil {
		b, err := json.Marshal(r.StructuredContent)
		if err != nil {
			return dst, err
		}
		dst = append(dst, `,"structuredContent":`...)
		dst = append(dst, b...)
	}
	if r.IsError {
		dst = append(dst, `,"isError":true`...)
	}
	if len(r.Meta) > 0 {
		b, err := json.Marshal(r.Meta)
		if err != nil {
			return dst, err
		}
		dst = append(dst, `,"_meta":`...)
		dst = append(dst, b...)
	}
	return append(dst, '}'), nil
}

const hexDigits = "0123456789abcdef"

// AppendJSONString appends s as a JSON string exactly as encoding/json
// writes it: HTML-sensitive characters and U+2028/U+2029 escaped, invalid
// UTF-8 replaced by U+FFFD.
func AppendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// AppendResultResponse appends a success response whose result writes
// itself.
func AppendResultResponse(dst []byte, id ID, result JSONAppender) ([]byte, error) {
	dst = append(dst, `{"jsonrpc":"2.0","id":`...)
	dst = appendID(dst, id)
	dst = append(dst, `,"result":`...)
	dst, err := result.AppendJSON(dst)
	return append(dst, '}'), err
}
