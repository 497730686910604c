package mcpheader

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzEncodeDecode: every valid UTF-8 string survives the header, and the
// encoded form is always a legal field value that no receiver would trim.
func FuzzEncodeDecode(f *testing.F) {
	for _, s := range []string{
		"", "us-west1", "Hello, 世界", " padded ", "line1\nline2", "=?base64?literal?=",
		"=?base64?", "?=", "=?base64?=", "=?base64??=", "\t", "a\tb", "\x7f", "\x00", " ", "a ",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		enc := EncodeValue(s)
		for i := 0; i < len(enc); i++ {
			if c := enc[i]; c < 0x20 || c > 0x7e {
				t.Fatalf("EncodeValue(%q) = %q has byte 0x%02x", s, enc, c)
			}
		}
		if trimOWS(enc) != enc {
			t.Fatalf("EncodeValue(%q) = %q has surrounding whitespace", s, enc)
		}
		if !utf8.ValidString(s) {
			return
		}
		dec, err := DecodeValue(enc)
		if err != nil {
			t.Fatalf("DecodeValue(EncodeValue(%q) = %q): %v", s, enc, err)
		}
		if dec != s {
			t.Fatalf("DecodeValue(EncodeValue(%q)) = %q", s, dec)
		}
		// Plain values go as-is; only unsafe ones are wrapped.
		if enc != s && !needsEncoding(s) {
			t.Fatalf("EncodeValue(%q) = %q changed a safe value", s, enc)
		}
	})
}

// FuzzDecodeValue: decoding never panics, and whatever decodes re-encodes
// to something that decodes to the same value.
func FuzzDecodeValue(f *testing.F) {
	for _, s := range []string{
		"=?base64?SGVsbG8=?=", "=?base64?SGVsbG8?=", "=?base64?SGVs!!!bG8=?=", "SGVsbG8=",
		"=?base64?SGVsbG8=", "=?BASE64?SGVsbG8=?=", "  foo  ", "=?base64??=", "=?base64?//79?=",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		v, err := DecodeValue(h)
		if err != nil {
			return
		}
		if v2, err := DecodeValue(EncodeValue(v)); err != nil || v2 != v {
			t.Fatalf("DecodeValue(%q) = %q, re-encoded decodes to %q, %v", h, v, v2, err)
		}
	})
}

// FuzzParseToolHeaders: hostile schemas never panic, and what is accepted
// obeys the rules.
func FuzzParseToolHeaders(f *testing.F) {
	// Short seeds: an input that finds new coverage is minimized, and
	// minimizing a long one would eat the whole fuzzing time.
	for _, s := range []string{
		`{"type":"object","properties":{"region":{"type":"string","x-mcp-header":"Region"},"n":{"type":"integer","x-mcp-header":"N"}}}`,
		`{}`, `[]`, `null`, ``, `{"properties":{"a":{"type":"string","x-mcp-header":"A"}}}`,
		`{"properties":{"a":{"properties":{"b":{"type":["integer","null"],"x-mcp-header":"B"}}}}}`,
		`{"items":{"x-mcp-header":"I"}}`, `{"$defs":{"x-mcp-header":{"x-mcp-header":1}}}`,
		`{"properties":{"a":{"type":"string","x-mcp-header":"A"},"a":{}}}`,
		`{"properties":{"a":[{"x-mcp-header":"A"}]},"default":{"x-mcp-header":"D"}}`,
		`{"properties":{"a":{"type":{"x":[1,{"y":2}]},"x-mcp-header":"A"}}}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, schema string) {
		params, err := ParseToolHeaders(json.RawMessage(schema))
		if err != nil {
			if params != nil {
				t.Fatal("params with error")
			}
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		names := map[string]bool{}
		for _, p := range params {
			if checkName(p.Name) != "" || p.Header != ParamPrefix+p.Name || len(p.Path) == 0 {
				t.Fatalf("bad param %+v", p)
			}
			if p.Type != TypeString && p.Type != TypeInteger && p.Type != TypeBoolean {
				t.Fatalf("bad type in %+v", p)
			}
			low := strings.ToLower(p.Name)
			if names[low] {
				t.Fatalf("duplicate name %q", p.Name)
			}
			names[low] = true
		}
		// The client's headers for arbitrary-ish arguments are accepted by
		// the server, or the client refuses to send.
		args := json.RawMessage(`{"a":"x","b":1,"region":"us","priority":42,"verbose":true}`)
		if h, err := ParamHeaders(params, args); err == nil {
			if err := CheckParams(params, h, args); err != nil {
				t.Fatalf("server rejects client headers: %v", err)
			}
		}
	})
}

// FuzzParamsRoundTrip: for any arguments, the client either refuses or
// sends headers the server accepts; and the server never accepts the
// arguments without headers when the client would have sent some.
func FuzzParamsRoundTrip(f *testing.F) {
	f.Add(customHeadersArgs)
	f.Add(`{"region":null,"priority":42.0,"verbose":false}`)
	f.Add(`{"region":"=?base64?x?=","priority":-0,"empty_val":""}`)
	f.Add(`{"priority":9007199254740992}`)
	f.Add(`{"region":"a","region":"b"}`)
	params, err := ParseToolHeaders(json.RawMessage(customHeadersSchema))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, args string) {
		h, err := ParamHeaders(params, json.RawMessage(args))
		if err != nil {
			return
		}
		if err := CheckParams(params, h, json.RawMessage(args)); err != nil {
			t.Fatalf("server rejects client headers %v for %s: %v", h, args, err)
		}
		if len(h) > 0 {
			if err := CheckParams(params, http.Header{}, json.RawMessage(args)); err == nil {
				t.Fatalf("server accepts %s without the headers %v", args, h)
			}
		}
	})
}
