package jsonlex

import (
	"bytes"
	"unicode/utf8"
)

// Boundaries of valid input: these functions assume that b has been
// validated (by SkipValue, encoding/json, ...) and only find where a token
// ends. They do not check bounds beyond what valid JSON guarantees.

// ContentEnd returns the index of the closing quote of the valid string
// whose content starts at b[i] (just past the opening quote), and the
// content's flags.
func ContentEnd(b []byte, i int) (int, Flags) {
	var fl Flags
	for {
		switch c := b[i]; {
		case plain[c]:
			i++
		case c == '"':
			return i, fl
		case c == '\\':
			fl |= Escaped
			i += 2
		case c >= utf8.RuneSelf:
			fl |= NonASCII
			i++
		default:
			i++
		}
	}
}

// stringEnd returns the index just past the closing quote of the valid
// string whose opening quote is at b[i].
func stringEnd(b []byte, i int) int {
	// Most strings in tool arguments are short: look at their first bytes
	// one by one, which is cheaper than calling IndexByte, before letting
	// it run.
	i++
	for n := 0; n < 16; n++ {
		switch b[i] {
		case '"':
			return i + 1
		case '\\':
			i++
		}
		i++
	}
	for {
		i += bytes.IndexByte(b[i:], '"')
		k := i - 1
		for b[k] == '\\' { // stops at the opening quote at the latest
			k--
		}
		if (i-1-k)&1 == 0 {
			return i + 1
		}
		i++
	}
}

// NumberEnd returns the index just past the valid number at b[i].
func NumberEnd(b []byte, i int) int {
	for i < len(b) {
		switch c := b[i]; {
		case isDigit(c), c == '-', c == '+', c == '.', c == 'e', c == 'E':
			i++
		default:
			return i
		}
	}
	return i
}

// ValueEnd returns the index just past the valid value at b[i] (no white
// space before it).
func ValueEnd(b []byte, i int) int {
	switch b[i] {
	case '"':
		return stringEnd(b, i)
	case 't', 'n':
		return i + 4
	case 'f':
		return i + 5
	case '{', '[':
		depth := 0
		for {
			switch b[i] {
			case '"':
				i = stringEnd(b, i)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
	}
	return NumberEnd(b, i)
}

// Type is the type of a JSON value.
type Type uint8

const (
	Invalid Type = iota // no value: empty input
	Null
	Bool
	Number
	String
	Array
	Object
)

var typeNames = [...]string{Invalid: "nothing", Null: "null", Bool: "boolean", Number: "number",
	String: "string", Array: "array", Object: "object"}

// String returns the type's JSON Schema name ("boolean", "object", ...),
// or "nothing" for Invalid.
func (t Type) String() string {
	if int(t) < len(typeNames) {
		return typeNames[t]
	}
	return "nothing"
}

// TypeOf returns the type of the valid value raw (no white space before
// it) by its first byte.
func TypeOf(raw []byte) Type {
	if len(raw) == 0 {
		return Invalid
	}
	switch raw[0] {
	case '"':
		return String
	case '{':
		return Object
	case '[':
		return Array
	case 't', 'f':
		return Bool
	case 'n':
		return Null
	}
	return Number
}
