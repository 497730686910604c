package mcpheader

import (
	"strings"
	"testing"
)

func TestEncodeValue(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		// Transport spec, "Value Encoding" examples.
		{"us-west1", "us-west1"},
		{"Hello, 世界", "=?base64?SGVsbG8sIOS4lueVjA==?="},
		{" padded ", "=?base64?IHBhZGRlZCA=?="},
		{"line1\nline2", "=?base64?bGluZTEKbGluZTI=?="},
		{"=?base64?literal?=", "=?base64?PT9iYXNlNjQ/bGl0ZXJhbD89?="},
		// SEP-2243 "Value Encoding Edge Cases" table.
		{" us-west1", "=?base64?IHVzLXdlc3Qx?="},
		{"us-west1 ", "=?base64?dXMtd2VzdDEg?="},
		{" us-west1 ", "=?base64?IHVzLXdlc3QxIA==?="},
		{"us west 1", "us west 1"},
		{"日本語", "=?base64?5pel5pys6Kqe?="},
		{"line1\r\nline2", "=?base64?bGluZTENCmxpbmUy?="},
		{"\tindented", "=?base64?CWluZGVudGVk?="},
		{"", ""},
		// SEP-2243 "Special Characters in Values": sent as-is.
		{"my-tool-name", "my-tool-name"},
		{"my_tool_name", "my_tool_name"},
		{"file:///path/to/file%20name.txt", "file:///path/to/file%20name.txt"},
		{"https://example.com/resource?id=123", "https://example.com/resource?id=123"},
		// Tabs anywhere, DEL and NUL are control characters.
		{"a\tb", "=?base64?YQli?="},
		{"a\x7fb", "=?base64?YX9i?="},
		{"\x00", "=?base64?AA==?="},
		// Sentinel-shaped values, also the degenerate overlapping one.
		{"=?base64??=", "=?base64?PT9iYXNlNjQ/Pz0=?="},
		{"=?base64?=", "=?base64?PT9iYXNlNjQ/PQ==?="},
		// Markers are case-sensitive, so these are plain literals.
		{"=?BASE64?SGVsbG8=?=", "=?BASE64?SGVsbG8=?="},
		{"=?base64?SGVsbG8=", "=?base64?SGVsbG8="},
		{"'quoted' \"double\" ~!@#$%^&*()", "'quoted' \"double\" ~!@#$%^&*()"},
	}
	for _, tt := range tests {
		if got := EncodeValue(tt.in); got != tt.want {
			t.Errorf("EncodeValue(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if got, err := DecodeValue(tt.want); err != nil || got != tt.in {
			t.Errorf("DecodeValue(%q) = %q, %v; want %q", tt.want, got, err, tt.in)
		}
	}
}

func TestDecodeValue(t *testing.T) {
	tests := []struct {
		in, want string
		err      string // substring of the error; "" for success
	}{
		// SEP-2243 "Base64 Decoding" table and the conformance server
		// scenario (http-standard-headers.ts, custom header cases).
		{in: "=?base64?SGVsbG8=?=", want: "Hello"},
		{in: "=?base64?SGVsbG8?=", err: "length 7 is not a multiple of 4"},
		{in: "=?base64?SGVs!!!bG8=?=", err: "'!' at offset 4, which is not in the standard base64 alphabet"},
		{in: "SGVsbG8=", want: "SGVsbG8="},
		{in: "=?base64?SGVsbG8=", want: "=?base64?SGVsbG8="},
		{in: "=?BASE64?SGVsbG8=?=", want: "=?BASE64?SGVsbG8=?="},
		// Optional whitespace around the value is not part of it.
		{in: "  foo  ", want: "foo"},
		{in: "\tfoo\t", want: "foo"},
		{in: " =?base64?SGVsbG8=?= ", want: "Hello"},
		{in: "a\tb c", want: "a\tb c"},
		{in: "", want: ""},
		{in: "   ", want: ""},
		{in: "=?base64??=", want: ""},
		{in: "=?base64?=", want: "=?base64?="},
		// Invalid characters.
		{in: "line1\nline2", err: "control character 0x0A at offset 5"},
		{in: "a\rb", err: "control character 0x0D at offset 1"},
		{in: "a\x00", err: "control character 0x00 at offset 1"},
		{in: "a\x7f", err: "control character 0x7F at offset 1"},
		{in: "Hello, 世界", err: "non-ASCII byte 0xE4 at offset 7"},
		// Malformed base64.
		{in: "=?base64?SGVs bG8=?=", err: "byte 0x20 at offset 4"},
		{in: "=?base64?SGVs-G8=?=", err: "'-' at offset 4"},
		{in: "=?base64?SG=sbG8=?=", err: "'=' at offset 2; padding may only end the payload"},
		{in: "=?base64?SGVsbG8=AAAA?=", err: "'=' at offset 7"},
		{in: "=?base64?SGVsbG9=?=", err: "not canonical"},
		{in: "=?base64?//79?=", err: "not decode to valid UTF-8"},
		{in: "=?base64?'?=", err: "byte 0x27 at offset 0"},
	}
	for _, tt := range tests {
		got, err := DecodeValue(tt.in)
		if tt.err == "" {
			if err != nil || got != tt.want {
				t.Errorf("DecodeValue(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.err) {
			t.Errorf("DecodeValue(%q) = %q, %v; want error containing %q", tt.in, got, err, tt.err)
		}
	}
}

func TestQuote(t *testing.T) {
	tests := []struct{ in, want string }{
		{"foo", "'foo'"},
		{"", "''"},
		{"it's", `'it\'s'`},
		{`a\b`, `'a\\b'`},
		{"a\nb\r\tc\x00\x7f", `'a\nb\r\tc\x00\x7f'`},
		{"世界", "'世界'"},
		{"\xff", `'\xff'`},
		{"\u200b", `'\u200b'`},
		{strings.Repeat("a", 100), "'" + strings.Repeat("a", 100) + "'"},
		{strings.Repeat("a", 5000), "'" + strings.Repeat("a", 100) + "…' (5000 bytes)"},
		// The cut never splits a rune: 99 bytes + a 3-byte rune.
		{strings.Repeat("a", 99) + "世界", "'" + strings.Repeat("a", 99) + "世…' (105 bytes)"},
	}
	for _, tt := range tests {
		if got := quote(tt.in); got != tt.want {
			t.Errorf("quote(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
