package jsonlex

import "bytes"

// Loose skipping: finding a value's end in untrusted input without
// validating more than that needs.

// SkipStringLoose returns the index just past the closing quote of the
// string whose opening quote is at b[i], or -1 if there is none. It finds
// the first quote not escaped by a backslash, at memory speed, and does
// not validate escapes or control characters.
func SkipStringLoose(b []byte, i int) int {
	j := i + 1
	for {
		k := bytes.IndexByte(b[j:], '"')
		if k < 0 {
			return -1
		}
		q := j + k
		// An odd run of backslashes before the quote escapes it.
		run := 0
		for p := q - 1; p > i && b[p] == '\\'; p-- {
			run++
		}
		if run&1 == 0 {
			return q + 1
		}
		j = q + 1
	}
}

// SkipValueLoose returns the index just past the value at b[i] (no white
// space before it). Strings are skipped with SkipStringLoose; containers
// are scanned for strings and bracket matching only, so their scalars and
// separators are not checked; top-level numbers and literals are
// validated. On error the index is len(b) if the input ended inside the
// value (UnterminatedString, UnexpectedEnd, BadNumber, BadLiteral);
// otherwise it is that of the Mismatched bracket, of the byte that breaks a
// BadNumber, or i (BadLiteral, UnexpectedChar).
func SkipValueLoose(b []byte, i int) (int, Code) {
	if i >= len(b) {
		return len(b), UnexpectedEnd
	}
	switch c := b[i]; c {
	case '"':
		if end := SkipStringLoose(b, i); end >= 0 {
			return end, OK
		}
		return len(b), UnterminatedString
	case 't':
		return SkipLiteral(b, i, "true")
	case 'f':
		return SkipLiteral(b, i, "false")
	case 'n':
		return SkipLiteral(b, i, "null")
	case '{', '[':
		return skipContainerLoose(b, i)
	default:
		if c == '-' || isDigit(c) {
			return SkipNumber(b, i)
		}
		return i, UnexpectedChar
	}
}

// skipContainerLoose skips the object or array at b[i], checking bracket
// matching. Nesting is not limited: past 64 levels the stack of open
// brackets moves to the heap.
func skipContainerLoose(b []byte, i int) (int, Code) {
	var stackBuf [64]byte
	stack := stackBuf[:0]
	for i < len(b) {
		c := b[i]
		if !structural[c] {
			i++
			continue
		}
		switch c {
		case '"':
			end := SkipStringLoose(b, i)
			if end < 0 {
				return len(b), UnterminatedString
			}
			i = end
			continue
		case '{', '[':
			stack = append(stack, c)
		default: // '}', ']'
			open := byte('{')
			if c == ']' {
				open = '['
			}
			if len(stack) == 0 || stack[len(stack)-1] != open {
				return i, Mismatched
			}
			stack = stack[:len(stack)-1]
			if len(stack) == 0 {
				return i + 1, OK
			}
		}
		i++
	}
	return i, UnexpectedEnd
}

// structural[c] reports whether byte c matters to skipContainerLoose.
var structural = [256]bool{'"': true, '{': true, '[': true, '}': true, ']': true}
