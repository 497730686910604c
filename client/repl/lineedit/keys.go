package lineedit

import (
	"unicode"
	"unicode/utf8"
)

type keyKind int

const (
	kIgnore keyKind = iota // a key or sequence with no meaning here: consumed, nothing inserted
	kRune
	kEnter
	kBackspace
	kDelete
	kLeft
	kRight
	kWordLeft
	kWordRight
	kHome
	kEnd
	kUp
	kDown
	kKillEnd
	kKillStart
	kKillWord
	kSearch
	kCancel // Ctrl-G
	kEsc
	kClear
	kCtrlD
	kInterrupt
)

type key struct {
	kind keyKind
	r    rune // kRune
}

// controls maps the C0 control bytes that are keys here.
var controls = [0x20]keyKind{
	0x01: kHome,      // Ctrl-A
	0x02: kLeft,      // Ctrl-B
	0x03: kInterrupt, // Ctrl-C
	0x04: kCtrlD,
	0x05: kEnd,       // Ctrl-E
	0x06: kRight,     // Ctrl-F
	0x07: kCancel,    // Ctrl-G
	0x08: kBackspace, // Ctrl-H
	0x0a: kEnter,
	0x0b: kKillEnd, // Ctrl-K
	0x0c: kClear,   // Ctrl-L
	0x0d: kEnter,
	0x0e: kDown,      // Ctrl-N
	0x10: kUp,        // Ctrl-P
	0x12: kSearch,    // Ctrl-R
	0x15: kKillStart, // Ctrl-U
	0x17: kKillWord,  // Ctrl-W
}

// parseKey reads the first key of b and how many bytes it took; 0 bytes
// means b ends inside a key (a UTF-8 character or an escape sequence cut
// by the read) and more must be read first. A lone ESC at the end of b is
// the Esc key, since a terminal writes a sequence in one piece; unless
// more is set (the read filled its buffer, so the rest may be next).
func parseKey(b []byte, more bool) (key, int) {
	c := b[0]
	switch {
	case c == 0x1b:
		return parseEscape(b, more)
	case c == '\r':
		if len(b) > 1 && b[1] == '\n' {
			return key{kind: kEnter}, 2 // CRLF from a paste is one Enter
		}
		return key{kind: kEnter}, 1
	case c == '\t':
		return key{kind: kRune, r: ' '}, 1 // a tab would break the column count
	case c < 0x20:
		return key{kind: controls[c]}, 1
	case c == 0x7f:
		return key{kind: kBackspace}, 1
	case c < 0x80:
		return key{kind: kRune, r: rune(c)}, 1
	}
	if !utf8.FullRune(b) {
		return key{}, 0
	}
	r, n := utf8.DecodeRune(b)
	if r == utf8.RuneError || !unicode.IsPrint(r) {
		return key{kind: kIgnore}, n
	}
	return key{kind: kRune, r: r}, n
}

// parseEscape reads ESC [ ... (CSI), ESC O x (SS3) and ESC x (Alt-x).
func parseEscape(b []byte, more bool) (key, int) {
	if len(b) == 1 {
		if more {
			return key{}, 0
		}
		return key{kind: kEsc}, 1
	}
	switch b[1] {
	case '[':
		return parseCSI(b)
	case 'O':
		if len(b) < 3 {
			return key{}, 0
		}
		return key{kind: finalKey(b[2], "")}, 3
	case 'b', 'B':
		return key{kind: kWordLeft}, 2
	case 'f', 'F':
		return key{kind: kWordRight}, 2
	case 0x7f, 0x08:
		return key{kind: kKillWord}, 2
	case 0x1b:
		return key{kind: kEsc}, 1 // Esc pressed twice: the first one is a key
	}
	// Alt with any other key: not ours; swallow the whole character.
	if b[1] < 0x80 {
		return key{kind: kIgnore}, 2
	}
	if !utf8.FullRune(b[1:]) {
		return key{}, 0
	}
	_, n := utf8.DecodeRune(b[1:])
	return key{kind: kIgnore}, 1 + n
}

// parseCSI reads ESC [ parameters intermediates final.
func parseCSI(b []byte) (key, int) {
	i := 2
	for i < len(b) && b[i] >= 0x20 && b[i] <= 0x3f {
		i++
	}
	if i >= len(b) {
		if i >= maxSeq {
			return key{kind: kIgnore}, i // garbage that never ends: drop it
		}
		return key{}, 0
	}
	if b[i] < 0x40 || b[i] > 0x7e {
		return key{kind: kIgnore}, i // not a sequence after all; what follows is read as keys
	}
	return key{kind: finalKey(b[i], string(b[2:i]))}, i + 1
}

// finalKey names a CSI or SS3 sequence by its final byte and parameters.
func finalKey(final byte, params string) keyKind {
	// A modifier (";5" is Ctrl, ";3" Alt) turns the arrows into word moves.
	word := len(params) > 2 && params[len(params)-2] == ';' && (params[len(params)-1] == '5' || params[len(params)-1] == '3')
	switch final {
	case 'A':
		return kUp
	case 'B':
		return kDown
	case 'C':
		if word {
			return kWordRight
		}
		return kRight
	case 'D':
		if word {
			return kWordLeft
		}
		return kLeft
	case 'H':
		return kHome
	case 'F':
		return kEnd
	case '~':
		switch params {
		case "1", "7":
			return kHome
		case "4", "8":
			return kEnd
		case "3":
			return kDelete
		}
	}
	return kIgnore
}
