// Package jsonlex is the module's one JSON lexer: allocation-free functions
// over a []byte and an index that find where a JSON token or value ends,
// validating it or not, and report what is wrong and where.
//
// It exists so that the three places that read JSON without encoding/json
// share one implementation instead of three hand-written scanners: the
// protocol layer (package mcp, and the server's tools/call fast path) reads a
// message's envelope in one pass without copying; the schema validator
// (internal/jsonschema) checks an instance's syntax and then walks it several
// times; the Bedrock log decoder (package bedrock) picks a dozen fields out of
// multi-kilobyte records and skips the rest at memory speed.
//
// Those callers trust their input to different degrees, hence three families:
//
//   - Validating functions (ScanString, SkipNumber, SkipLiteral, SkipValue,
//     ScanObject, ScanArray, Unquote) accept exactly RFC 8259.
//   - Loose functions (SkipStringLoose, SkipValueLoose) check only what
//     finding a value's end needs (string quotes, bracket matching, top-level
//     numbers and literals), to skip large untrusted values quickly.
//   - Boundary functions (ContentEnd, NumberEnd, ValueEnd, Unescape) assume
//     input already validated and only find where things end; they may
//     panic on anything else.
//
// SkipSpace, Plain, NeedsUnescape and TypeOf serve all three.
//
// Functions report a problem as a Code and a byte offset, never as an
// allocated error, so that each caller wraps them in its own error type (or
// none) and the success path allocates nothing. Each function documents its
// offsets; SkipNumber, SkipLiteral and the loose functions report len(b)
// (or -1) exactly when the input ended inside the value, which tells
// truncated input from malformed input.
package jsonlex

import (
	"strconv"
	"unicode/utf8"
)

// MaxDepth is the nesting limit ScanObject and ScanArray apply, as
// encoding/json does.
const MaxDepth = 10000

// Code says what is wrong with malformed JSON. The zero Code, OK, means
// nothing is.
type Code uint8

const (
	OK                 Code = iota
	UnexpectedEnd           // a value was expected but the input ended
	UnexpectedChar          // a byte that starts no value
	TooDeep                 // containers nested deeper than allowed
	ExpectedKey             // an object member does not start with a string
	ExpectedColon           // no ':' after an object key
	ExpectedObjectNext      // no ',' or '}' after an object member
	ExpectedArrayNext       // no ',' or ']' after an array element
	BadLiteral              // not true, false or null
	BadNumber               // not the RFC 8259 number grammar
	UnterminatedString      // no closing quote
	UnterminatedEscape      // a backslash is the last byte
	ShortUnicodeEscape      // fewer than four bytes after \u
	BadUnicodeEscape        // \u not followed by four hex digits
	BadEscape               // a backslash followed by another byte
	ControlChar             // an unescaped byte below 0x20 in a string
	Mismatched              // a closing bracket that does not match (loose skipping)
	EmptyInput              // nothing but white space
	TrailingData            // something after the value
	NotArray                // a value other than the expected array
)

var messages = [...]string{
	OK:                 "ok",
	UnexpectedEnd:      "unexpected end of input",
	UnexpectedChar:     "unexpected character",
	TooDeep:            "nested too deeply",
	ExpectedKey:        "expected a string key",
	ExpectedColon:      "expected ':'",
	ExpectedObjectNext: "expected ',' or '}'",
	ExpectedArrayNext:  "expected ',' or ']'",
	BadLiteral:         "invalid literal",
	BadNumber:          "invalid number",
	UnterminatedString: "unterminated string",
	UnterminatedEscape: "unterminated escape",
	ShortUnicodeEscape: `short \u escape`,
	BadUnicodeEscape:   `bad \u escape`,
	BadEscape:          "bad escape",
	ControlChar:        "control character in string",
	Mismatched:         "mismatched bracket",
	EmptyInput:         "empty input",
	TrailingData:       "data after the value",
	NotArray:           "expected an array",
}

// String returns a short description, such as "invalid number".
func (c Code) String() string {
	if int(c) < len(messages) {
		return messages[c]
	}
	return "code " + strconv.Itoa(int(c))
}

// SyntaxError reports malformed JSON at a byte offset.
type SyntaxError struct {
	Offset int
	Code   Code
	Msg    string // Code's description, made more precise where it helps
}

func (e *SyntaxError) Error() string {
	return "invalid JSON at byte " + strconv.Itoa(e.Offset) + ": " + e.Msg
}

// NewSyntaxError returns the error for code c at offset off of b. For
// UnexpectedChar the message names the byte.
func NewSyntaxError(b []byte, off int, c Code) *SyntaxError {
	msg := c.String()
	if c == UnexpectedChar && off >= 0 && off < len(b) {
		msg += " " + strconv.QuoteRune(rune(b[off]))
	}
	return &SyntaxError{Offset: off, Code: c, Msg: msg}
}

// SkipSpace returns the index of the first byte at or after i that is not
// JSON white space (or len(b)).
func SkipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) { // faster than a switch once inlined
		i++
	}
	return i
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// Flags describe the content of a string.
type Flags uint8

const (
	Escaped  Flags = 1 << iota // contains a backslash escape
	NonASCII                   // contains a byte >= 0x80
)

// ScanString validates the string whose opening quote is at b[i] and returns
// the index just past its closing quote and the content's flags. On error
// the index is that of the offending byte: the backslash of a bad escape,
// the control character, or len(b) (UnterminatedString).
func ScanString(b []byte, i int) (int, Flags, Code) {
	var fl Flags
	i++
	for {
		for i < len(b) && plain[b[i]] {
			i++
		}
		if i >= len(b) {
			return i, 0, UnterminatedString
		}
		switch c := b[i]; {
		case c == '"':
			return i + 1, fl, OK
		case c == '\\':
			fl |= Escaped
			if i+1 >= len(b) {
				return i, 0, UnterminatedEscape
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(b) {
					return i, 0, ShortUnicodeEscape
				}
				if hex4(b[i+2:i+6]) < 0 {
					return i, 0, BadUnicodeEscape
				}
				i += 6
			default:
				return i, 0, BadEscape
			}
		case c < 0x20:
			return i, 0, ControlChar
		default: // >= 0x80
			fl |= NonASCII
			i++
		}
	}
}

// plain[c] reports whether byte c stands for itself in string content:
// printable ASCII other than '"' and '\\'.
var plain = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// SkipNumber validates the number starting at b[i] and returns the index
// just past it. On error (BadNumber) the index is that of the first byte
// that breaks the grammar, len(b) if the input ended inside the number.
func SkipNumber(b []byte, i int) (int, Code) {
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i >= len(b):
		return i, BadNumber
	case b[i] == '0':
		i++
	case b[i] >= '1' && b[i] <= '9':
		for i++; i < len(b) && isDigit(b[i]); i++ {
		}
	default:
		return i, BadNumber
	}
	if i < len(b) && b[i] == '.' {
		i++
		if i >= len(b) || !isDigit(b[i]) {
			return i, BadNumber
		}
		for i++; i < len(b) && isDigit(b[i]); i++ {
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || !isDigit(b[i]) {
			return i, BadNumber
		}
		for i++; i < len(b) && isDigit(b[i]); i++ {
		}
	}
	return i, OK
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// SkipLiteral checks that lit (true, false or null) is at b[i] and returns
// the index just past it. On error (BadLiteral) the index is len(b) if the
// input ended inside the literal, i otherwise.
func SkipLiteral(b []byte, i int, lit string) (int, Code) {
	if len(b)-i >= len(lit) {
		if string(b[i:i+len(lit)]) == lit {
			return i + len(lit), OK
		}
		return i, BadLiteral
	}
	if string(b[i:]) == lit[:len(b)-i] {
		return len(b), BadLiteral
	}
	return i, BadLiteral
}

// SkipValue validates the JSON value at b[i], after optional white space,
// and returns the index just past it. Containers may nest depth levels
// deep (a scalar needs none). On error the index is where the problem is;
// a malformed number or literal is reported at its first byte.
func SkipValue(b []byte, i, depth int) (int, Code) {
	i = SkipSpace(b, i)
	if i >= len(b) {
		return i, UnexpectedEnd
	}
	switch c := b[i]; {
	case c == '"':
		end, _, code := ScanString(b, i)
		return end, code
	case c == '{':
		if depth <= 0 {
			return i, TooDeep
		}
		i = SkipSpace(b, i+1)
		if i < len(b) && b[i] == '}' {
			return i + 1, OK
		}
		for {
			i = SkipSpace(b, i)
			if i >= len(b) || b[i] != '"' {
				return i, ExpectedKey
			}
			end, _, code := ScanString(b, i)
			if code != OK {
				return end, code
			}
			i = SkipSpace(b, end)
			if i >= len(b) || b[i] != ':' {
				return i, ExpectedColon
			}
			if i, code = SkipValue(b, i+1, depth-1); code != OK {
				return i, code
			}
			i = SkipSpace(b, i)
			if i < len(b) && b[i] == ',' {
				i++
				continue
			}
			if i < len(b) && b[i] == '}' {
				return i + 1, OK
			}
			return i, ExpectedObjectNext
		}
	case c == '[':
		if depth <= 0 {
			return i, TooDeep
		}
		i = SkipSpace(b, i+1)
		if i < len(b) && b[i] == ']' {
			return i + 1, OK
		}
		for {
			var code Code
			if i, code = SkipValue(b, i, depth-1); code != OK {
				return i, code
			}
			i = SkipSpace(b, i)
			if i < len(b) && b[i] == ',' {
				i++
				continue
			}
			if i < len(b) && b[i] == ']' {
				return i + 1, OK
			}
			return i, ExpectedArrayNext
		}
	case c == '-' || isDigit(c):
		end, code := SkipNumber(b, i)
		if code != OK {
			return i, code
		}
		return end, OK
	case c == 't':
		return skipLiteralAt(b, i, "true")
	case c == 'f':
		return skipLiteralAt(b, i, "false")
	case c == 'n':
		return skipLiteralAt(b, i, "null")
	}
	return i, UnexpectedChar
}

// skipLiteralAt is SkipLiteral reporting errors at the literal's start.
func skipLiteralAt(b []byte, i int, lit string) (int, Code) {
	if len(b)-i >= len(lit) && string(b[i:i+len(lit)]) == lit {
		return i + len(lit), OK
	}
	return i, BadLiteral
}
