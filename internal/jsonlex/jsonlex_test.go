package jsonlex

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestSkipValue(t *testing.T) {
	deep := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	tests := []struct {
		in    string
		depth int
		end   int
		code  Code
	}{
		// Valid values; the end is just past the value, trailing data
		// being the caller's business.
		{`0`, 0, 1, OK},
		{`-0.5e+10`, 0, 8, OK},
		{`01`, 0, 1, OK},
		{`  true `, 0, 6, OK},
		{`false`, 0, 5, OK},
		{`null,`, 0, 4, OK},
		{`"a\u00e9\n\"\\\/\b\f\r\t"`, 0, 25, OK},
		{"\"\xff\xfe\"", 0, 4, OK}, // invalid UTF-8 is not a syntax error
		{`{}`, 1, 2, OK},
		{`{ "a" : [ 1 , true , false , null , { } ] }x`, 3, 43, OK},
		{`[[]]`, 2, 4, OK},
		{deep(MaxDepth), MaxDepth, 2 * MaxDepth, OK},

		// Depth.
		{`[]`, 0, 0, TooDeep},
		{`{}`, 0, 0, TooDeep},
		{`[[]]`, 1, 1, TooDeep},
		{`{"a":{"b":1}}`, 1, 5, TooDeep},
		{deep(MaxDepth + 1), MaxDepth, MaxDepth, TooDeep},

		// Structure.
		{``, 1, 0, UnexpectedEnd},
		{`  `, 1, 2, UnexpectedEnd},
		{`[`, 1, 1, UnexpectedEnd},
		{`[1,`, 1, 3, UnexpectedEnd},
		{`{`, 1, 1, ExpectedKey},
		{`{"a":1,}`, 1, 7, ExpectedKey},
		{`{a:1}`, 1, 1, ExpectedKey},
		{`{"a"`, 1, 4, ExpectedColon},
		{`{"a" 1}`, 1, 5, ExpectedColon},
		{`{"a":}`, 1, 5, UnexpectedChar},
		{`{"a":1 "b":2}`, 1, 7, ExpectedObjectNext},
		{`{"a":1`, 1, 6, ExpectedObjectNext},
		{`[1 2]`, 1, 3, ExpectedArrayNext},
		{`[1,]`, 1, 3, UnexpectedChar},
		{`@`, 1, 0, UnexpectedChar},
		{`'a'`, 1, 0, UnexpectedChar},

		// Numbers and literals are reported at their first byte.
		{`-`, 1, 0, BadNumber},
		{`[1.]`, 1, 1, BadNumber},
		{`1.e5`, 1, 0, BadNumber},
		{`1e`, 1, 0, BadNumber},
		{`-a`, 1, 0, BadNumber},
		{`tru`, 1, 0, BadLiteral},
		{`[nul]`, 1, 1, BadLiteral},
		{`fals e`, 1, 0, BadLiteral},

		// Strings are reported at the offending byte.
		{`"abc`, 1, 4, UnterminatedString},
		{`"\`, 1, 1, UnterminatedEscape},
		{`"a\x"`, 1, 2, BadEscape},
		{`"\u12"`, 1, 1, ShortUnicodeEscape},
		{`"\u12x4"`, 1, 1, BadUnicodeEscape},
		{"\"a\x01\"", 1, 2, ControlChar},
		{"\"a\x7f\"", 1, 4, OK}, // DEL is allowed
	}
	for _, tt := range tests {
		end, code := SkipValue([]byte(tt.in), 0, tt.depth)
		if end != tt.end || code != tt.code {
			t.Errorf("SkipValue(%.40q, depth %d) = %d, %v; want %d, %v", tt.in, tt.depth, end, code, tt.end, tt.code)
		}
	}
}

func TestScanString(t *testing.T) {
	tests := []struct {
		in   string
		end  int
		fl   Flags
		code Code
	}{
		{`""`, 2, 0, OK},
		{`"abc"def`, 5, 0, OK},
		{`"a\nb"`, 6, Escaped, OK},
		{`"é"`, 4, NonASCII, OK},
		{`"\u00e9é"`, 10, Escaped | NonASCII, OK},
		{`"\"\\"`, 6, Escaped, OK},
		{`"\uD83D\uDE00"`, 14, Escaped, OK},
		{`"`, 1, 0, UnterminatedString},
		{`"abc\"`, 6, 0, UnterminatedString},
		{`"ab\`, 3, 0, UnterminatedEscape},
		{`"\a"`, 1, 0, BadEscape},
		{`"\U0041"`, 1, 0, BadEscape},
		{`"\u004`, 1, 0, ShortUnicodeEscape},
		{`"\u004"`, 1, 0, BadUnicodeEscape}, // the quote is not a hex digit
		{`"\u004g"`, 1, 0, BadUnicodeEscape},
		{"\"\t\"", 1, 0, ControlChar},
	}
	for _, tt := range tests {
		end, fl, code := ScanString([]byte(tt.in), 0)
		if end != tt.end || fl != tt.fl || code != tt.code {
			t.Errorf("ScanString(%q) = %d, %b, %v; want %d, %b, %v", tt.in, end, fl, code, tt.end, tt.fl, tt.code)
		}
	}
}

func TestSkipNumber(t *testing.T) {
	tests := []struct {
		in   string
		end  int
		code Code
	}{
		{`0`, 1, OK},
		{`-0`, 2, OK},
		{`0123`, 1, OK}, // the number is 0; what follows is not its business
		{`123,`, 3, OK},
		{`1.5`, 3, OK},
		{`1.50e+10]`, 8, OK},
		{`1E-7x`, 4, OK},
		{`1e400`, 5, OK},
		{`-12345678901234567890.123`, 25, OK},
		// Errors: the offset of the offending byte, len(b) when the
		// input ended inside the number.
		{``, 0, BadNumber},
		{`-`, 1, BadNumber},
		{`-a`, 1, BadNumber},
		{`+1`, 0, BadNumber},
		{`.5`, 0, BadNumber},
		{`1.`, 2, BadNumber},
		{`1.e5`, 2, BadNumber},
		{`1e`, 2, BadNumber},
		{`1e+`, 3, BadNumber},
		{`1e+x`, 3, BadNumber},
		{`-.5`, 1, BadNumber},
	}
	for _, tt := range tests {
		end, code := SkipNumber([]byte(tt.in), 0)
		if end != tt.end || code != tt.code {
			t.Errorf("SkipNumber(%q) = %d, %v; want %d, %v", tt.in, end, code, tt.end, tt.code)
		}
	}
}

func TestSkipLiteral(t *testing.T) {
	tests := []struct {
		in, lit string
		end     int
		code    Code
	}{
		{`true`, "true", 4, OK},
		{`null]`, "null", 4, OK},
		{`false`, "false", 5, OK},
		{`tr`, "true", 2, BadLiteral}, // input ended: len(b)
		{``, "null", 0, BadLiteral},
		{`trux`, "true", 0, BadLiteral},
		{`fals e`, "false", 0, BadLiteral},
		{`nil`, "null", 0, BadLiteral},
		{`nu`, "true", 0, BadLiteral},
		{`xtr`, "true", 0, BadLiteral},
	}
	for _, tt := range tests {
		end, code := SkipLiteral([]byte(tt.in), 0, tt.lit)
		if end != tt.end || code != tt.code {
			t.Errorf("SkipLiteral(%q, %s) = %d, %v; want %d, %v", tt.in, tt.lit, end, code, tt.end, tt.code)
		}
	}
}

func TestSkipValueLoose(t *testing.T) {
	tests := []struct {
		in   string
		end  int
		code Code
	}{
		{`"ab\"c"x`, 7, OK},
		{`"ab\\"x`, 6, OK},
		{`"\x01 \q"`, 9, OK}, // strings are not validated
		{`[1 2 ,, x]`, 10, OK},
		{`{"a":"}]"}`, 10, OK},
		{`{"a":[{"b":"\"}"}]},1`, 19, OK},
		{strings.Repeat("[", 100) + strings.Repeat("]", 100), 200, OK},
		{`-1.5e3,`, 6, OK},
		{`true`, 4, OK},
		{`"abc`, 4, UnterminatedString},
		{`["abc`, 5, UnterminatedString},
		{`[[`, 2, UnexpectedEnd},
		{``, 0, UnexpectedEnd},
		{`{"a":[}`, 6, Mismatched},
		{`[}`, 1, Mismatched},
		{`@`, 0, UnexpectedChar},
		{`tr`, 2, BadLiteral},
		{`trux`, 0, BadLiteral},
		{`1.`, 2, BadNumber},
		{`1.x`, 2, BadNumber},
	}
	for _, tt := range tests {
		end, code := SkipValueLoose([]byte(tt.in), 0)
		if end != tt.end || code != tt.code {
			t.Errorf("SkipValueLoose(%q) = %d, %v; want %d, %v", tt.in, end, code, tt.end, tt.code)
		}
	}
}

func TestSkipStringLoose(t *testing.T) {
	for in, want := range map[string]int{
		`""`: 2, `"a"`: 3, `"\""`: 4, `"\\"`: 4, `"\\\""x"`: 6, `"a\\\\"`: 7, `"`: -1, `"\"`: -1, `"abc`: -1,
	} {
		if got := SkipStringLoose([]byte(in), 0); got != want {
			t.Errorf("SkipStringLoose(%q) = %d, want %d", in, got, want)
		}
	}
	// The backslash scan stops at the opening quote.
	if got := SkipStringLoose([]byte(`\"\"`), 1); got != -1 {
		t.Errorf("escaped closing quote after a backslash before the string: %d", got)
	}
	if got := SkipStringLoose([]byte(`x"""`), 1); got != 3 {
		t.Errorf("empty string after a byte: %d", got)
	}
}

func TestBoundaries(t *testing.T) {
	for _, tt := range []struct {
		in  string
		end int
	}{
		{`"a\"b",`, 6}, {`true,`, 4}, {`false]`, 5}, {`null}`, 4}, {`-1.5e+3,`, 7}, {`0`, 1},
		{`{"a":["]",{"b":"}"}],"c":{}} `, 28}, {`[[],[[]]]`, 9},
	} {
		if got := ValueEnd([]byte(tt.in), 0); got != tt.end {
			t.Errorf("ValueEnd(%q) = %d, want %d", tt.in, got, tt.end)
		}
	}
	for _, tt := range []struct {
		in  string
		end int
		fl  Flags
	}{
		{`"abc"`, 4, 0}, {`"a\"b"`, 5, Escaped}, {`"é\n"`, 5, Escaped | NonASCII}, {`"é"`, 3, NonASCII},
	} {
		end, fl := ContentEnd([]byte(tt.in), 1)
		if end != tt.end || fl != tt.fl {
			t.Errorf("ContentEnd(%q) = %d, %b; want %d, %b", tt.in, end, fl, tt.end, tt.fl)
		}
	}
	if got := NumberEnd([]byte(`-1.5E-3}`), 0); got != 7 {
		t.Errorf("NumberEnd = %d", got)
	}
}

func TestUnquote(t *testing.T) {
	tests := []struct {
		raw  string
		want string
		ok   bool
	}{
		{`""`, "", true},
		{`"abc"`, "abc", true},
		{`"é"`, "é", true},
		{`"a\"b\\c\/d\b\f\n\r\t"`, "a\"b\\c/d\b\f\n\r\t", true},
		{`"\u00e9\u0041"`, "éA", true},
		{`"\ud83d\ude00"`, "😀", true},
		{`"\ud800"`, "\ufffd", true},
		{`"\ud800\u0041"`, "\ufffdA", true},
		{`"\ude00\ud83d"`, "\ufffd\ufffd", true},
		{`"\ud83d\ud83d\ude00"`, "\ufffd😀", true},
		{"\"a\xffb\"", "a\ufffdb", true},
		{"\"\xed\xa0\x80\"", "\ufffd\ufffd\ufffd", true}, // an encoded surrogate
		{"\"\xef\xbf\xbd\"", "\ufffd", true},
		{`"` + strings.Repeat(`\n`, 100) + `"`, strings.Repeat("\n", 100), true},
		{`"a"b"`, "", false},
		{`"\x"`, "", false},
		{`"\u12"`, "", false},
		{"\"\x01\"", "", false},
		{`"\"`, "", false},
		{`"`, "", false},
		{`abc`, "", false},
		{`"abc" `, "", false},
		{``, "", false},
	}
	for _, tt := range tests {
		got, ok := Unquote([]byte(tt.raw))
		if got != tt.want || ok != tt.ok {
			t.Errorf("Unquote(%q) = %q, %v; want %q, %v", tt.raw, got, ok, tt.want, tt.ok)
		}
		if tt.ok {
			var s string
			if err := json.Unmarshal([]byte(tt.raw), &s); err != nil || s != got {
				t.Errorf("encoding/json decodes %q as %q (%v)", tt.raw, s, err)
			}
		}
	}
}

func TestPlain(t *testing.T) {
	for in, want := range map[string]bool{
		"": true, "abc": true, "é€😀": true, "a\"": false, `a\n`: false, "a\x1f": false, "é\x1f": false, "é\\": false,
		"é\"": false, "\xff": false, "a\xe9": false, "\x7f": true,
	} {
		if got := Plain([]byte(in)); got != want {
			t.Errorf("Plain(%q) = %v", in, got)
		}
	}
	if NeedsUnescape([]byte("abc"), 0) || !NeedsUnescape([]byte(`\n`), Escaped) || NeedsUnescape([]byte("é"), NonASCII) ||
		!NeedsUnescape([]byte("\xff"), NonASCII) {
		t.Error("NeedsUnescape")
	}
}

func TestScanObject(t *testing.T) {
	type member struct{ k, v string }
	tests := []struct {
		in      string
		members []member
		err     string // "" for success
	}{
		{` {} `, nil, ""},
		{`{"a":1,"b" : [true, {"c":null}] ,"a":"x\"y"}`, []member{{"a", "1"}, {"b", `[true, {"c":null}]`}, {"a", `"x\"y"`}}, ""},
		{`{"\u0061":-0.5}`, []member{{`\u0061`, "-0.5"}}, ""},
		{``, nil, "invalid JSON at byte 0: empty input"},
		{"\n\t ", nil, "invalid JSON at byte 3: empty input"},
		{`42`, nil, "not a JSON object"},
		{`[1] x`, nil, "invalid JSON at byte 4: data after the value"},
		{`"\x"`, nil, `invalid JSON at byte 1: bad escape`},
		{`{"a":1} x`, []member{{"a", "1"}}, "invalid JSON at byte 8: data after the object"},
		{`{"a":@}`, nil, "invalid JSON at byte 5: unexpected character '@'"},
		{`{"a":"é` + "\x01" + `"}`, nil, "invalid JSON at byte 8: control character in string"},
		{`{"a":1,"b":01}`, []member{{"a", "1"}, {"b", "0"}}, "invalid JSON at byte 12: expected ',' or '}'"},
		{`{"a":1.}`, nil, "invalid JSON at byte 5: invalid number"},
		{`{"a":1,}`, []member{{"a", "1"}}, "invalid JSON at byte 7: expected a string key"},
		{`{"a" 1}`, nil, "invalid JSON at byte 5: expected ':'"},
		{`{"a`, nil, "invalid JSON at byte 3: unterminated string"},
		{`{"a":`, nil, "invalid JSON at byte 5: unexpected end of input"},
		{`{"a":` + strings.Repeat("[", MaxDepth-1) + strings.Repeat("]", MaxDepth-1) + `}`, []member{{"a", strings.Repeat("[", MaxDepth-1) + strings.Repeat("]", MaxDepth-1)}}, ""},
		{`{"a":` + strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth) + `}`, nil, "invalid JSON at byte 10004: nested too deeply"},
	}
	for _, tt := range tests {
		var got []member
		err := ScanObject([]byte(tt.in), func(k, v []byte) error {
			got = append(got, member{string(k), string(v)})
			return nil
		})
		if e := errString(err); e != tt.err {
			t.Errorf("ScanObject(%.40q): error %q, want %q", tt.in, e, tt.err)
		}
		if len(got) != len(tt.members) {
			t.Errorf("ScanObject(%.40q): members %q, want %q", tt.in, got, tt.members)
			continue
		}
		for i := range got {
			if got[i] != tt.members[i] {
				t.Errorf("ScanObject(%.40q): members %q, want %q", tt.in, got, tt.members)
			}
		}
	}
	var se *SyntaxError
	if err := ScanObject([]byte(`{"a":tru}`), func(k, v []byte) error { return nil }); !errors.As(err, &se) || se.Offset != 5 || se.Code != BadLiteral {
		t.Errorf("SyntaxError fields: %+v", se)
	}
	stop := errors.New("stop")
	n := 0
	err := ScanObject([]byte(`{"a":1,"b":2,"c":@}`), func(k, v []byte) error {
		n++
		if string(k) == "b" {
			return stop
		}
		return nil
	})
	if err != stop || n != 2 {
		t.Errorf("fn's error: %v after %d members", err, n)
	}
}

func TestScanArray(t *testing.T) {
	tests := []struct {
		in    string
		elems []string
		err   string
	}{
		{`[]`, nil, ""},
		{` [ 1 , "a" , {"b":[]} ] `, []string{"1", `"a"`, `{"b":[]}`}, ""},
		{`{}`, nil, "invalid JSON at byte 0: expected an array"},
		{`  `, nil, "invalid JSON at byte 2: expected an array"},
		{`[1,2] x`, []string{"1", "2"}, "invalid JSON at byte 6: data after the array"},
		{`[1 2]`, []string{"1"}, "invalid JSON at byte 3: expected ',' or ']'"},
		{`[1,]`, []string{"1"}, "invalid JSON at byte 3: unexpected character ']'"},
		{`[`, nil, "invalid JSON at byte 1: unexpected end of input"},
		{strings.Repeat("[", MaxDepth+1) + strings.Repeat("]", MaxDepth+1), nil, "invalid JSON at byte 10000: nested too deeply"},
	}
	for _, tt := range tests {
		var got []string
		err := ScanArray([]byte(tt.in), func(e []byte) error {
			got = append(got, string(e))
			return nil
		})
		if e := errString(err); e != tt.err || strings.Join(got, "\x00") != strings.Join(tt.elems, "\x00") {
			t.Errorf("ScanArray(%.40q) = %q, %q; want %q, %q", tt.in, got, e, tt.elems, tt.err)
		}
	}
}

func TestTypeOf(t *testing.T) {
	for in, want := range map[string]Type{
		``: Invalid, `"x"`: String, `{}`: Object, `[]`: Array, `true`: Bool, `false`: Bool, `null`: Null, `-1`: Number, `0`: Number,
	} {
		if got := TypeOf([]byte(in)); got != want {
			t.Errorf("TypeOf(%q) = %v, want %v", in, got, want)
		}
	}
	names := []string{"nothing", "null", "boolean", "number", "string", "array", "object"}
	for i, n := range names {
		if Type(i).String() != n {
			t.Errorf("Type(%d) = %s, want %s", i, Type(i), n)
		}
	}
}

func TestCodeString(t *testing.T) {
	for c := OK; c <= NotArray; c++ {
		if s := c.String(); s == "" || strings.HasPrefix(s, "code ") {
			t.Errorf("code %d has no message", c)
		}
	}
	if e := NewSyntaxError([]byte("ab"), 1, UnexpectedChar).Error(); e != "invalid JSON at byte 1: unexpected character 'b'" {
		t.Error(e)
	}
	if e := NewSyntaxError([]byte("é"), 0, UnexpectedChar).Error(); e != `invalid JSON at byte 0: unexpected character 'Ã'` {
		t.Error(e) // the byte, as a Latin-1 rune, as before
	}
}

func TestAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	obj := []byte(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"greet","arguments":{"name":"A\u00e9","n":[1,2.5e3,true,null]}}}`)
	arr := []byte(`[1,"2",[3]]`)
	deep := []byte(strings.Repeat(`{"a":[`, 30) + `"x\"]}"` + strings.Repeat(`]}`, 30))
	for name, f := range map[string]func(){
		"SkipValue": func() { SkipValue(obj, 0, MaxDepth) },
		"ScanObject": func() {
			var n int
			_ = ScanObject(obj, func(k, v []byte) error { n += len(k) + len(v); return nil })
		},
		"ScanArray":      func() { _ = ScanArray(arr, func([]byte) error { return nil }) },
		"SkipValueLoose": func() { SkipValueLoose(deep, 0) },
		"ValueEnd":       func() { ValueEnd(deep, 0) },
		"ScanString":     func() { ScanString(obj, 1) },
		"Unescape":       func() { var buf [32]byte; Unescape(buf[:0], []byte(`a\u00e9\n`)) },
	} {
		if a := testing.AllocsPerRun(100, f); a != 0 {
			t.Errorf("%s: %v allocations", name, a)
		}
	}
	if a := testing.AllocsPerRun(100, func() { Unquote([]byte(`"abc"`)) }); a > 1 {
		t.Errorf("Unquote: %v allocations", a)
	}
	if a := testing.AllocsPerRun(100, func() { Unquote([]byte(`"a\u00e9\n"`)) }); a > 1 {
		t.Errorf("Unquote with escapes: %v allocations", a)
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// FuzzSkipValue checks the validating functions against encoding/json, and
// the loose and boundary functions against the validating ones on valid
// input.
func FuzzSkipValue(f *testing.F) {
	for _, s := range []string{
		`{"a":1,"b":[true,false,null],"c":{"d":"\u00e9\n"}}`, `[]`, ` [1] `, `{"a":1e5,"b":-0.5E-3}`, `01`, `"\x01"`,
		`{"a" : 1 , }`, ` {"x":"\ud800"} `, `"\u12"`, `1.`, `-`, `tru`, `[1,]`, `{"a":"}"}`, `"a\\"`, "\"\xff\"",
		strings.Repeat("[", 30) + strings.Repeat("]", 30), "1" + strings.Repeat("0", 400), `-1e999`, `[1 2]`, `{"a" 1}`, `1 2`, `"\"`, `[{"a":"\"]"}]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		end, code := SkipValue(b, 0, MaxDepth)
		valid := code == OK && SkipSpace(b, end) == len(b)
		if valid != json.Valid(b) {
			t.Fatalf("SkipValue(%q) = %d, %v; json.Valid = %v", b, end, code, json.Valid(b))
		}
		if end < 0 || end > len(b) {
			t.Fatalf("SkipValue(%q): offset %d out of range", b, end)
		}
		if !valid {
			return
		}
		start := SkipSpace(b, 0)
		if e, c := SkipValueLoose(b, start); c != OK || e != end {
			t.Fatalf("SkipValueLoose(%q) = %d, %v; want %d", b, e, c, end)
		}
		if e := ValueEnd(b, start); e != end {
			t.Fatalf("ValueEnd(%q) = %d; want %d", b, e, end)
		}
		raw := b[start:end]
		var v any
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		if err := dec.Decode(&v); err != nil {
			t.Fatalf("encoding/json cannot decode valid %q: %v", b, err)
		}
		switch TypeOf(raw) {
		case String:
			s, ok := Unquote(raw)
			if !ok || s != v.(string) {
				t.Fatalf("Unquote(%q) = %q, %v; encoding/json %q", raw, s, ok, v)
			}
			ce, fl := ContentEnd(raw, 1)
			_, fl2, _ := ScanString(raw, 0)
			if ce != len(raw)-1 || fl != fl2 {
				t.Fatalf("ContentEnd(%q) = %d, %b; ScanString flags %b", raw, ce, fl, fl2)
			}
			if NeedsUnescape(raw[1:ce], fl) != (string(raw[1:ce]) != s) {
				t.Fatalf("NeedsUnescape(%q) wrong", raw)
			}
			if Plain(raw[1:ce]) && string(raw[1:ce]) != s {
				t.Fatalf("Plain(%q) but decodes to %q", raw, s)
			}
		case Number:
			if _, ok := v.(json.Number); !ok {
				t.Fatalf("TypeOf(%q) = Number; encoding/json %T", raw, v)
			}
			if NumberEnd(raw, 0) != len(raw) {
				t.Fatalf("NumberEnd(%q)", raw)
			}
		case Object:
			if _, ok := v.(map[string]any); !ok {
				t.Fatalf("TypeOf(%q) = Object; encoding/json %T", raw, v)
			}
		case Array:
			if _, ok := v.([]any); !ok {
				t.Fatalf("TypeOf(%q) = Array; encoding/json %T", raw, v)
			}
		case Bool:
			if _, ok := v.(bool); !ok {
				t.Fatalf("TypeOf(%q) = Bool; encoding/json %T", raw, v)
			}
		case Null:
			if v != nil {
				t.Fatalf("TypeOf(%q) = Null; encoding/json %T", raw, v)
			}
		}
	})
}

// FuzzUnquote checks Unquote against encoding/json on arbitrary bytes.
func FuzzUnquote(f *testing.F) {
	for _, s := range []string{`"abc"`, `"\u00e9\n"`, `"\ud83d\ude00"`, `"\ud800\u0041"`, "\"\xff\"", `"a"b"`, `"\"`, `"\x"`, `""`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		got, ok := Unquote(raw)
		if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
			if ok {
				t.Fatalf("Unquote(%q) accepted a non-string", raw)
			}
			return
		}
		var want string
		err := json.Unmarshal(raw, &want)
		if ok != (err == nil) || got != want {
			t.Fatalf("Unquote(%q) = %q, %v; encoding/json %q, %v", raw, got, ok, want, err)
		}
		if ok {
			if un := Unescape(nil, raw[1:len(raw)-1]); string(un) != want {
				t.Fatalf("Unescape(%q) = %q; want %q", raw, un, want)
			}
		}
	})
}

// FuzzScanObject checks ScanObject against encoding/json: the same inputs
// are valid JSON objects, and members come out the same.
func FuzzScanObject(f *testing.F) {
	for _, s := range []string{`{"a":1,"b":[true,false,null],"c":{"d":"\u00e9\n"}}`, `{}`, `[1]`, `{"a":1e5,"b":-0.5E-3}`, `{"a":01}`, `{"a":"\x01"}`, `{"a" : 1 , }`, " {\"x\":\"\\ud800\"} "} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		members := map[string]string{}
		err := ScanObject(data, func(k, v []byte) error {
			key, ok := Unquote(append(append([]byte{'"'}, k...), '"'))
			if !ok {
				t.Fatalf("key %q not a string", k)
			}
			members[key] = string(v)
			return nil
		})
		var want map[string]json.RawMessage
		jerr := json.Unmarshal(data, &want)
		valid := json.Valid(data)
		switch {
		case err == nil && jerr != nil:
			t.Fatalf("accepted %q; encoding/json: %v", data, jerr)
		case err != nil && errors.Is(err, ErrNotObject) && !valid:
			t.Fatalf("called invalid JSON %q valid", data)
		case err != nil && !errors.Is(err, ErrNotObject) && valid:
			t.Fatalf("rejected valid JSON %q: %v", data, err)
		}
		if err == nil && jerr == nil {
			for k, v := range want {
				// encoding/json keeps the last duplicate, as the map above does.
				if !bytes.Equal(compact(t, []byte(members[k])), compact(t, v)) {
					t.Fatalf("member %q: %q, encoding/json %q", k, members[k], v)
				}
			}
		}
	})
}

func compact(t *testing.T, b []byte) []byte {
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		t.Fatalf("compact %q: %v", b, err)
	}
	return buf.Bytes()
}
