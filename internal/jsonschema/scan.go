package jsonschema

import (
	"bytes"
	"unicode/utf16"
	"unicode/utf8"
)

// Low-level helpers over raw JSON bytes. Functions named check* validate
// syntax and return -1 on error; the others assume the input has already
// been checked and only find boundaries.

func isWS(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func skipWS(d []byte, i int) int {
	for i < len(d) && isWS(d[i]) {
		i++
	}
	return i
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// String flags.
const (
	strEscaped  = 1 << iota // contains a backslash escape
	strNonASCII             // contains a byte >= 0x80
)

// checkString validates the string whose opening quote is at d[i] and
// returns the index just past the closing quote (or -1) and its flags.
func checkString(d []byte, i int) (int, uint8) {
	var fl uint8
	for i++; i < len(d); {
		c := d[i]
		switch {
		case c == '"':
			return i + 1, fl
		case c == '\\':
			fl |= strEscaped
			if i+1 >= len(d) {
				return -1, 0
			}
			switch d[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(d) || hex4(d[i+2:i+6]) < 0 {
					return -1, 0
				}
				i += 6
			default:
				return -1, 0
			}
		case c < 0x20:
			return -1, 0
		case c >= utf8.RuneSelf:
			fl |= strNonASCII
			i++
		default:
			i++
		}
	}
	return -1, 0
}

// checkNumber validates the number starting at d[i] and returns the index
// just past it, or -1.
func checkNumber(d []byte, i int) int {
	if i < len(d) && d[i] == '-' {
		i++
	}
	switch {
	case i >= len(d):
		return -1
	case d[i] == '0':
		i++
	case d[i] >= '1' && d[i] <= '9':
		for i++; i < len(d) && isDigit(d[i]); i++ {
		}
	default:
		return -1
	}
	if i < len(d) && d[i] == '.' {
		i++
		if i >= len(d) || !isDigit(d[i]) {
			return -1
		}
		for i++; i < len(d) && isDigit(d[i]); i++ {
		}
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		if i >= len(d) || !isDigit(d[i]) {
			return -1
		}
		for i++; i < len(d) && isDigit(d[i]); i++ {
		}
	}
	return i
}

func hex4(b []byte) rune {
	var r rune
	for _, c := range b[:4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return -1
		}
		r = r<<4 | rune(c)
	}
	return r
}

// scanString returns the index of the closing quote of a well-formed string
// whose content starts at d[i], and the string's flags.
func scanString(d []byte, i int) (int, uint8) {
	var fl uint8
	for {
		c := d[i]
		switch {
		case c == '"':
			return i, fl
		case c == '\\':
			fl |= strEscaped
			i += 2
		case c >= utf8.RuneSelf:
			fl |= strNonASCII
			i++
		default:
			i++
		}
	}
}

// needsDecode reports whether string content differs from its decoded form
// (escapes, or invalid UTF-8 which decoding replaces with U+FFFD).
func needsDecode(s []byte, fl uint8) bool {
	return fl&strEscaped != 0 || (fl&strNonASCII != 0 && !utf8.Valid(s))
}

// skipString returns the index just past the closing quote of the
// well-formed string whose opening quote is at d[i].
func skipString(d []byte, i int) int {
	i++
	for {
		i += bytes.IndexByte(d[i:], '"')
		k := i - 1
		for d[k] == '\\' {
			k--
		}
		if (i-1-k)%2 == 0 {
			return i + 1
		}
		i++
	}
}

// skipNumber returns the index just past the well-formed number at d[i].
func skipNumber(d []byte, i int) int {
	for i < len(d) {
		switch c := d[i]; {
		case isDigit(c), c == '-', c == '+', c == '.', c == 'e', c == 'E':
			i++
		default:
			return i
		}
	}
	return i
}

// skipValue returns the index just past the well-formed value at d[i].
func skipValue(d []byte, i int) int {
	switch d[i] {
	case '"':
		return skipString(d, i)
	case 't', 'n':
		return i + 4
	case 'f':
		return i + 5
	case '{', '[':
		depth := 0
		for {
			switch d[i] {
			case '"':
				i = skipString(d, i)
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
	return skipNumber(d, i)
}

// isIntegerLiteral reports whether a well-formed JSON number denotes an
// integer, exactly (1e2 and 3.0 do, 3.5 and 1e-400 do not).
func isIntegerLiteral(n []byte) bool {
	i := 0
	if n[0] == '-' {
		i++
	}
	intStart := i
	for i < len(n) && isDigit(n[i]) {
		i++
	}
	intPart := n[intStart:i]
	var frac []byte
	if i < len(n) && n[i] == '.' {
		i++
		fs := i
		for i < len(n) && isDigit(n[i]) {
			i++
		}
		frac = n[fs:i]
	}
	exp := 0
	if i < len(n) && (n[i] == 'e' || n[i] == 'E') {
		i++
		neg := false
		if n[i] == '+' || n[i] == '-' {
			neg = n[i] == '-'
			i++
		}
		for ; i < len(n); i++ {
			if exp < 1<<30 {
				exp = exp*10 + int(n[i]-'0')
			}
		}
		if neg {
			exp = -exp
		}
	}
	// value = digits(intPart frac) * 10^(exp-len(frac)); strip trailing zeros.
	scale := exp - len(frac)
	for len(frac) > 0 && frac[len(frac)-1] == '0' {
		frac = frac[:len(frac)-1]
		scale++
	}
	if len(frac) == 0 {
		for len(intPart) > 0 && intPart[len(intPart)-1] == '0' {
			intPart = intPart[:len(intPart)-1]
			scale++
		}
		if len(intPart) == 0 {
			return true // zero
		}
	}
	return scale >= 0
}

// unescape appends the decoded form of well-formed string content s to dst,
// exactly as encoding/json decodes it (invalid UTF-8 and unpaired
// surrogates become U+FFFD).
func unescape(dst, s []byte) []byte {
	for r := 0; r < len(s); {
		c := s[r]
		switch {
		case c == '\\':
			r++
			switch s[r] {
			case 'b':
				dst = append(dst, '\b')
			case 'f':
				dst = append(dst, '\f')
			case 'n':
				dst = append(dst, '\n')
			case 'r':
				dst = append(dst, '\r')
			case 't':
				dst = append(dst, '\t')
			case 'u':
				rr := hex4(s[r+1:])
				r += 5
				if utf16.IsSurrogate(rr) {
					if r+6 <= len(s) && s[r] == '\\' && s[r+1] == 'u' {
						if dec := utf16.DecodeRune(rr, hex4(s[r+2:])); dec != utf8.RuneError {
							dst = utf8.AppendRune(dst, dec)
							r += 6
							continue
						}
					}
					rr = utf8.RuneError
				}
				dst = utf8.AppendRune(dst, rr)
				continue
			default: // '"', '\\', '/'
				dst = append(dst, s[r])
			}
			r++
		case c < utf8.RuneSelf:
			dst = append(dst, c)
			r++
		default:
			rr, size := utf8.DecodeRune(s[r:])
			if rr == utf8.RuneError && size == 1 {
				dst = utf8.AppendRune(dst, utf8.RuneError)
			} else {
				dst = append(dst, s[r:r+size]...)
			}
			r += size
		}
	}
	return dst
}
