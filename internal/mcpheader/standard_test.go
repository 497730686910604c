package mcpheader

import (
	"net/http"
	"strings"
	"testing"
)

// hdr builds a header the way net/http does: Add canonicalizes names, so
// "mcp-method" and "MCP-METHOD" land on "Mcp-Method".
func hdr(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i < len(kv); i += 2 {
		h.Add(kv[i], kv[i+1])
	}
	return h
}

func TestCheckStandard(t *testing.T) {
	long := strings.Repeat("x", 10000)
	tests := []struct {
		name    string
		h       http.Header
		method  string
		body    string
		hasName bool
		kind    Kind   // 0: valid
		msg     string // exact Error() when set
		sub     string // substring of Error() when set
	}{
		// Conformance server scenario http-header-validation.
		{name: "ServerRejectsMismatchedMethodHeader", h: hdr("Mcp-Method", "prompts/list"), method: "tools/list",
			kind: KindMismatch, msg: "Mcp-Method header value 'prompts/list' does not match body value 'tools/list'"},
		{name: "ServerRejectsMissingMethodHeader", h: hdr(), method: "tools/list",
			kind: KindMissing, msg: "Mcp-Method header is missing; every request must carry it, equal to the body's method 'tools/list'"},
		{name: "ServerRejectsMismatchedNameHeader", h: hdr("Mcp-Method", "tools/call", "Mcp-Name", "wrong_tool_name"),
			method: "tools/call", body: "test_tool", hasName: true,
			kind: KindMismatch, msg: "Mcp-Name header value 'wrong_tool_name' does not match body value 'test_tool'"},
		{name: "ServerAcceptsWhitespaceHeaderValue", h: hdr("Mcp-Method", " tools/call\t", "Mcp-Name", "  test_tool  "),
			method: "tools/call", body: "test_tool", hasName: true},
		{name: "ServerRejectsMissingNameHeader", h: hdr("Mcp-Method", "tools/call"), method: "tools/call", body: "test_tool", hasName: true,
			kind: KindMissing, msg: "Mcp-Name header is missing; tools/call requests must mirror params.name ('test_tool') in it"},
		{name: "ServerAcceptsLowercaseHeaderName", h: hdr("mcp-method", "tools/list"), method: "tools/list"},
		{name: "ServerAcceptsUppercaseHeaderName", h: hdr("MCP-METHOD", "tools/list"), method: "tools/list"},
		{name: "ServerRejectsCaseMismatchValue", h: hdr("Mcp-Method", "TOOLS/LIST"), method: "tools/list",
			kind: KindMismatch, msg: "Mcp-Method header value 'TOOLS/LIST' does not match body value 'tools/list'"},
		// The specification's example error.
		{name: "spec example", h: hdr("Mcp-Method", "tools/call", "Mcp-Name", "foo"), method: "tools/call", body: "bar", hasName: true,
			kind: KindMismatch, msg: "Mcp-Name header value 'foo' does not match body value 'bar'"},
		// Each method and its source field.
		{name: "resources/read uri", h: hdr("Mcp-Method", "resources/read", "Mcp-Name", "file:///projects/myapp/config.json"),
			method: "resources/read", body: "file:///projects/myapp/config.json", hasName: true},
		{name: "resources/read missing", h: hdr("Mcp-Method", "resources/read"), method: "resources/read", body: "file:///a", hasName: true,
			kind: KindMissing, sub: "must mirror params.uri ('file:///a')"},
		{name: "prompts/get", h: hdr("Mcp-Method", "prompts/get", "Mcp-Name", "code_review"), method: "prompts/get", body: "code_review", hasName: true},
		{name: "prompts/get mismatch", h: hdr("Mcp-Method", "prompts/get", "Mcp-Name", "a"), method: "prompts/get", body: "b", hasName: true,
			kind: KindMismatch},
		{name: "query string uri", h: hdr("Mcp-Method", "resources/read", "Mcp-Name", "https://example.com/resource?id=123"),
			method: "resources/read", body: "https://example.com/resource?id=123", hasName: true},
		// Encoded names.
		{name: "base64 name", h: hdr("Mcp-Method", "tools/call", "Mcp-Name", "=?base64?SGVsbG8sIOS4lueVjA==?="),
			method: "tools/call", body: "Hello, 世界", hasName: true},
		{name: "base64 name mismatch shows decoded", h: hdr("Mcp-Method", "tools/call", "Mcp-Name", "=?base64?SGVsbG8=?="),
			method: "tools/call", body: "Hallo", hasName: true,
			kind: KindMismatch, msg: "Mcp-Name header value 'Hello' does not match body value 'Hallo'"},
		{name: "sentinel literal not accepted plain", h: hdr("Mcp-Method", "tools/call", "Mcp-Name", "=?base64?literal?="),
			method: "tools/call", body: "=?base64?literal?=", hasName: true,
			kind: KindInvalid, sub: "base64 payload length 7 is not a multiple of 4"},
		{name: "raw non-ASCII name", h: hdr("Mcp-Method", "tools/call", "Mcp-Name", "Hello, 世界"),
			method: "tools/call", body: "Hello, 世界", hasName: true,
			kind: KindInvalid, sub: "non-ASCII byte 0xE4 at offset 7"},
		{name: "bad base64 name", h: hdr("Mcp-Method", "tools/call", "Mcp-Name", "=?base64?SGVs!!!bG8=?="),
			method: "tools/call", body: "Hello", hasName: true,
			kind: KindInvalid, msg: "Mcp-Name header value '=?base64?SGVs!!!bG8=?=' is invalid: base64 payload has '!' at offset 4, which is not in the standard base64 alphabet (A-Z a-z 0-9 + /)"},
		// Other failures.
		{name: "control char in method", h: http.Header{"Mcp-Method": {"tools/list\n"}}, method: "tools/list",
			kind: KindInvalid, sub: `value 'tools/list\n' is invalid: contains control character 0x0A`},
		{name: "empty method", h: hdr("Mcp-Method", ""), method: "tools/list", kind: KindMismatch, msg: "Mcp-Method header value '' does not match body value 'tools/list'"},
		{name: "repeated method", h: hdr("Mcp-Method", "tools/list", "mcp-method", "tools/list"), method: "tools/list",
			kind: KindInvalid, msg: "Mcp-Method header appears 2 times; send it exactly once"},
		{name: "repeated name", h: hdr("Mcp-Method", "tools/call", "Mcp-Name", "a", "Mcp-Name", "b"), method: "tools/call", body: "a", hasName: true,
			kind: KindInvalid, sub: "appears 2 times"},
		{name: "comma-joined names", h: hdr("Mcp-Method", "tools/call", "Mcp-Name", "a,b"), method: "tools/call", body: "a", hasName: true,
			kind: KindMismatch},
		{name: "name without body field", h: hdr("Mcp-Method", "tools/call", "Mcp-Name", "a"), method: "tools/call",
			kind: KindMismatch, msg: "Mcp-Name header value 'a' has no counterpart: the body has no params.name"},
		{name: "no name anywhere is left to params validation", h: hdr("Mcp-Method", "tools/call"), method: "tools/call"},
		{name: "empty name matches empty body name", h: hdr("Mcp-Method", "tools/call", "Mcp-Name", ""), method: "tools/call", body: "", hasName: true},
		{name: "Mcp-Name ignored where it mirrors nothing", h: hdr("Mcp-Method", "tools/list", "Mcp-Name", "\x01junk"), method: "tools/list"},
		{name: "name is case-sensitive", h: hdr("Mcp-Method", "tools/call", "Mcp-Name", "Get_Weather"), method: "tools/call", body: "get_weather", hasName: true,
			kind: KindMismatch},
		// Long values are cut in messages.
		{name: "long values bounded", h: hdr("Mcp-Method", "tools/call", "Mcp-Name", long), method: "tools/call", body: long + "y", hasName: true,
			kind: KindMismatch, msg: "Mcp-Name header value '" + long[:100] + "…' (10000 bytes) does not match body value '" + long[:100] + "…' (10001 bytes)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckStandard(tt.h, tt.method, tt.body, tt.hasName)
			if checkMismatch(t, err, tt.kind, tt.msg) == nil {
				return
			}
			if tt.sub != "" && !strings.Contains(err.Error(), tt.sub) {
				t.Errorf("error = %s, want it to contain %s", err, tt.sub)
			}
			if len(err.Error()) > 400 {
				t.Errorf("error is %d bytes long", len(err.Error()))
			}
		})
	}
}

func TestNameSource(t *testing.T) {
	for method, want := range map[string]string{
		"tools/call": "name", "prompts/get": "name", "resources/read": "uri",
		"tools/list": "", "resources/subscribe": "", "server/discover": "", "": "",
		"TOOLS/CALL": "",
	} {
		if got := NameSource(method); got != want {
			t.Errorf("NameSource(%q) = %q, want %q", method, got, want)
		}
	}
}

// TestSetStandard checks that what the client sets is what the server
// accepts, including names that need encoding.
func TestSetStandard(t *testing.T) {
	for _, tc := range []struct{ method, name, wantName string }{
		{"tools/call", "get_weather", "get_weather"},
		{"tools/call", "Hello, 世界", "=?base64?SGVsbG8sIOS4lueVjA==?="},
		{"prompts/get", " padded ", "=?base64?IHBhZGRlZCA=?="},
		{"resources/read", "file:///path/to/file%20name.txt", "file:///path/to/file%20name.txt"},
		{"tools/list", "ignored", ""},
	} {
		h := http.Header{}
		SetStandard(h, tc.method, tc.name)
		if got := h.Get("Mcp-Method"); got != tc.method {
			t.Errorf("%s: Mcp-Method = %q", tc.method, got)
		}
		if got := h.Get("Mcp-Name"); got != tc.wantName {
			t.Errorf("%s %q: Mcp-Name = %q, want %q", tc.method, tc.name, got, tc.wantName)
		}
		if err := CheckStandard(h, tc.method, tc.name, NameSource(tc.method) != ""); err != nil {
			t.Errorf("%s %q: CheckStandard: %v", tc.method, tc.name, err)
		}
	}
}

func TestKindString(t *testing.T) {
	for k, want := range map[Kind]string{KindMissing: "missing", KindInvalid: "invalid", KindMismatch: "mismatch", 9: "Kind(9)"} {
		if got := k.String(); got != want {
			t.Errorf("Kind(%d).String() = %q, want %q", k, got, want)
		}
	}
}
