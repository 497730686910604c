package jsonlex

import (
	"unicode/utf16"
	"unicode/utf8"
)

// Unquote decodes the JSON string raw (quotes included) as encoding/json
// does: invalid UTF-8 and unpaired surrogates become U+FFFD. It reports
// false if raw is not a valid string. Strings without escapes, the common
// case, cost one allocation (none when empty), and so do short ones with
// escapes.
func Unquote(raw []byte) (string, bool) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return "", false
	}
	s := raw[1 : len(raw)-1]
	if Plain(s) {
		return string(s), true
	}
	if end, _, code := ScanString(raw, 0); code != OK || end != len(raw) {
		return "", false
	}
	var buf [64]byte
	return string(Unescape(buf[:0], s)), true
}

// Plain reports whether s is the content of a valid string that decodes to
// itself: it has no quote, no backslash and no control character, and is
// valid UTF-8.
func Plain(s []byte) bool {
	for i, c := range s {
		if !plain[c] {
			return c >= utf8.RuneSelf && plainNonASCII(s[i:])
		}
	}
	return true
}

func plainNonASCII(s []byte) bool {
	for _, c := range s {
		if !plain[c] && c < utf8.RuneSelf {
			return false
		}
	}
	return utf8.Valid(s)
}

// NeedsUnescape reports whether valid string content s, with the flags
// ScanString or ContentEnd gave it, differs from its decoded form (escapes,
// or invalid UTF-8 which decoding replaces with U+FFFD).
func NeedsUnescape(s []byte, fl Flags) bool {
	return fl&Escaped != 0 || (fl&NonASCII != 0 && !utf8.Valid(s))
}

// Unescape appends the decoded form of valid string content s (without
// the quotes) to dst, exactly as encoding/json decodes it: invalid UTF-8
// and unpaired surrogates become U+FFFD.
func Unescape(dst, s []byte) []byte {
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

// hex4 decodes four hex digits, or returns -1.
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
