package mcp

import (
	"encoding/json"
	"errors"
	"strconv"
	"unicode/utf8"
)

// A small JSON scanner for the hot path: it validates and slices raw values
// without decoding them, so a message's envelope and a tools/call's params
// are read with no allocation and one pass (encoding/json scans twice and
// copies every RawMessage).

// maxDepth bounds nesting, as encoding/json does.
const maxDepth = 10000

// SyntaxError reports malformed JSON at a byte offset.
type SyntaxError struct {
	Offset int
	Msg    string
}

func (e *SyntaxError) Error() string {
	return "invalid JSON at byte " + strconv.Itoa(e.Offset) + ": " + e.Msg
}

func syntaxErr(i int, msg string) error { return &SyntaxError{Offset: i, Msg: msg} }

func skipSpace(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// skipValue validates the JSON value starting at b[i] (after leading
// space) and returns where it ends.
func skipValue(b []byte, i, depth int) (int, error) {
	i = skipSpace(b, i)
	if i >= len(b) {
		return i, syntaxErr(i, "unexpected end of input")
	}
	switch c := b[i]; {
	case c == '"':
		end, _, err := skipString(b, i)
		return end, err
	case c == '{':
		if depth >= maxDepth {
			return i, syntaxErr(i, "nested too deeply")
		}
		i = skipSpace(b, i+1)
		if i < len(b) && b[i] == '}' {
			return i + 1, nil
		}
		for {
			i = skipSpace(b, i)
			if i >= len(b) || b[i] != '"' {
				return i, syntaxErr(i, "expected a string key")
			}
			end, _, err := skipString(b, i)
			if err != nil {
				return end, err
			}
			i = skipSpace(b, end)
			if i >= len(b) || b[i] != ':' {
				return i, syntaxErr(i, "expected ':'")
			}
			if i, err = skipValue(b, i+1, depth+1); err != nil {
				return i, err
			}
			i = skipSpace(b, i)
			if i < len(b) && b[i] == ',' {
				i++
				continue
			}
			if i < len(b) && b[i] == '}' {
				return i + 1, nil
			}
			return i, syntaxErr(i, "expected ',' or '}'")
		}
	case c == '[':
		if depth >= maxDepth {
			return i, syntaxErr(i, "nested too deeply")
		}
		i = skipSpace(b, i+1)
		if i < len(b) && b[i] == ']' {
			return i + 1, nil
		}
		for {
			var err error
			if i, err = skipValue(b, i, depth+1); err != nil {
				return i, err
			}
			i = skipSpace(b, i)
			if i < len(b) && b[i] == ',' {
				i++
				continue
			}
			if i < len(b) && b[i] == ']' {
				return i + 1, nil
			}
			return i, syntaxErr(i, "expected ',' or ']'")
		}
	case c == '-' || (c >= '0' && c <= '9'):
		return skipNumber(b, i)
	case c == 't':
		return skipLiteral(b, i, "true")
	case c == 'f':
		return skipLiteral(b, i, "false")
	case c == 'n':
		return skipLiteral(b, i, "null")
	}
	return i, syntaxErr(i, "unexpected character "+strconv.QuoteRune(rune(b[i])))
}

func skipLiteral(b []byte, i int, lit string) (int, error) {
	if len(b)-i >= len(lit) && string(b[i:i+len(lit)]) == lit {
		return i + len(lit), nil
	}
	return i, syntaxErr(i, "invalid literal")
}

func skipString(b []byte, i int) (end int, escaped bool, err error) {
	i++ // opening quote
	for i < len(b) {
		c := b[i]
		switch {
		case c == '"':
			return i + 1, escaped, nil
		case c == '\\':
			escaped = true
			if i+1 >= len(b) {
				return i, escaped, syntaxErr(i, "unterminated escape")
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(b) {
					return i, escaped, syntaxErr(i, "short \\u escape")
				}
				for _, h := range b[i+2 : i+6] {
					if !(h >= '0' && h <= '9' || h >= 'a' && h <= 'f' || h >= 'A' && h <= 'F') {
						return i, escaped, syntaxErr(i, "bad \\u escape")
					}
				}
				i += 6
			default:
				return i, escaped, syntaxErr(i, "bad escape")
			}
		case c < 0x20:
			return i, escaped, syntaxErr(i, "control character in string")
		default:
			i++
		}
	}
	return i, escaped, syntaxErr(i, "unterminated string")
}

func skipNumber(b []byte, i int) (int, error) {
	start := i
	if b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		return start, syntaxErr(start, "invalid number")
	}
	if i < len(b) && b[i] == '.' {
		i++
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			return start, syntaxErr(start, "invalid number")
		}
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			return start, syntaxErr(start, "invalid number")
		}
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	}
	return i, nil
}

// errNotObject is returned by ScanObject for valid JSON that is not an object.
var errNotObject = errors.New("not a JSON object")

// ScanObject validates that b is exactly one JSON object (surrounded by
// optional space) and calls fn for each member with the raw key (between
// the quotes, still escaped) and the raw value. Values alias b. It returns
// a *SyntaxError for malformed JSON, errNotObject for other values, or
// fn's error.
func ScanObject(b []byte, fn func(key, value []byte) error) error {
	i := skipSpace(b, 0)
	if i >= len(b) {
		return syntaxErr(i, "empty input")
	}
	if b[i] != '{' {
		end, err := skipValue(b, i, 0)
		if err != nil {
			return err
		}
		if j := skipSpace(b, end); j != len(b) {
			return syntaxErr(j, "data after the value")
		}
		return errNotObject
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		i++
	} else {
		for {
			i = skipSpace(b, i)
			if i >= len(b) || b[i] != '"' {
				return syntaxErr(i, "expected a string key")
			}
			kend, _, err := skipString(b, i)
			if err != nil {
				return err
			}
			key := b[i+1 : kend-1]
			i = skipSpace(b, kend)
			if i >= len(b) || b[i] != ':' {
				return syntaxErr(i, "expected ':'")
			}
			vstart := skipSpace(b, i+1)
			vend, err := skipValue(b, vstart, 1)
			if err != nil {
				return err
			}
			if err := fn(key, b[vstart:vend]); err != nil {
				return err
			}
			i = skipSpace(b, vend)
			if i < len(b) && b[i] == ',' {
				i++
				continue
			}
			if i < len(b) && b[i] == '}' {
				i++
				break
			}
			return syntaxErr(i, "expected ',' or '}'")
		}
	}
	if j := skipSpace(b, i); j != len(b) {
		return syntaxErr(j, "data after the object")
	}
	return nil
}

// scanArray validates that b is one JSON array and returns its elements
// (aliasing b).
func scanArray(b []byte) ([][]byte, error) {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '[' {
		return nil, syntaxErr(i, "expected an array")
	}
	var out [][]byte
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == ']' {
		i++
	} else {
		for {
			start := skipSpace(b, i)
			end, err := skipValue(b, start, 1)
			if err != nil {
				return nil, err
			}
			out = append(out, b[start:end])
			i = skipSpace(b, end)
			if i < len(b) && b[i] == ',' {
				i++
				continue
			}
			if i < len(b) && b[i] == ']' {
				i++
				break
			}
			return nil, syntaxErr(i, "expected ',' or ']'")
		}
	}
	if j := skipSpace(b, i); j != len(b) {
		return nil, syntaxErr(j, "data after the array")
	}
	return out, nil
}

// UnquoteString decodes a raw JSON string value (with its quotes). Strings
// without escapes, the common case, cost one allocation; invalid UTF-8 is
// replaced as encoding/json does.
func UnquoteString(raw []byte) (string, bool) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return "", false
	}
	inner := raw[1 : len(raw)-1]
	simple := utf8.Valid(inner)
	if simple {
		for _, c := range inner {
			if c == '\\' || c < 0x20 {
				simple = false
				break
			}
		}
	}
	if simple {
		return string(inner), true
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return "", false
	}
	return s, true
}

// JSONType names the type of a raw JSON value by its first byte.
func JSONType(raw []byte) string {
	if len(raw) == 0 {
		return "nothing"
	}
	switch c := raw[0]; {
	case c == '"':
		return "string"
	case c == '{':
		return "object"
	case c == '[':
		return "array"
	case c == 't' || c == 'f':
		return "boolean"
	case c == 'n':
		return "null"
	}
	return "number"
}
