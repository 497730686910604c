package mcpheader

import (
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

// The arguments the conformance client scenario http-custom-headers has the
// client send to test_custom_headers, and the headers it then expects.
const customHeadersArgs = `{
  "region": "us-west1", "priority": 42, "verbose": false, "debug": true,
  "empty_val": "", "method_val": "test-method", "float_val": 3.14159,
  "non_ascii_val": "Hello, 世界", "whitespace_val": " padded ",
  "leading_space_val": " us-west1", "trailing_space_val": "us-west1 ",
  "internal_space_val": "us west 1", "control_char_val": "line1\nline2",
  "crlf_val": "line1\r\nline2", "tab_val": "\tindented",
  "query": "SELECT * FROM users"
}`

func TestParamHeadersConformance(t *testing.T) {
	params := mustParse(t, customHeadersSchema)
	h, err := ParamHeaders(params, json.RawMessage(customHeadersArgs))
	if err != nil {
		t.Fatal(err)
	}
	want := http.Header{}
	for k, v := range map[string]string{
		"Mcp-Param-Region":        "us-west1",
		"Mcp-Param-Priority":      "42",
		"Mcp-Param-Verbose":       "false",
		"Mcp-Param-Debug":         "true",
		"Mcp-Param-EmptyVal":      "",
		"Mcp-Param-Method":        "test-method",
		"Mcp-Param-NonAscii":      "=?base64?SGVsbG8sIOS4lueVjA==?=",
		"Mcp-Param-Whitespace":    "=?base64?IHBhZGRlZCA=?=",
		"Mcp-Param-LeadingSpace":  "=?base64?IHVzLXdlc3Qx?=",
		"Mcp-Param-TrailingSpace": "=?base64?dXMtd2VzdDEg?=",
		"Mcp-Param-InternalSpace": "us west 1",
		"Mcp-Param-ControlChar":   "=?base64?bGluZTEKbGluZTI=?=",
		"Mcp-Param-CrLf":          "=?base64?bGluZTENCmxpbmUy?=",
		"Mcp-Param-Tab":           "=?base64?CWluZGVudGVk?=",
	} {
		want.Set(k, v)
	}
	if !reflect.DeepEqual(h, want) {
		t.Errorf("got\n%v\nwant\n%v", h, want)
	}
	// What the client sends, the server accepts.
	if err := CheckParams(params, h, json.RawMessage(customHeadersArgs)); err != nil {
		t.Errorf("CheckParams: %v", err)
	}

	// test_custom_headers_null: null verbose, so no Mcp-Param-Verbose.
	nullArgs := json.RawMessage(`{"region":"us-east1","priority":1,"verbose":null,"query":"SELECT 1"}`)
	h, err = ParamHeaders(params, nullArgs)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(h); got != 2 || h.Get("Mcp-Param-Region") != "us-east1" || h.Get("Mcp-Param-Priority") != "1" {
		t.Errorf("null args: got %v", h)
	}
	if _, ok := h["Mcp-Param-Verbose"]; ok {
		t.Errorf("null verbose mirrored: %v", h)
	}
	if err := CheckParams(params, h, nullArgs); err != nil {
		t.Errorf("CheckParams(null args): %v", err)
	}
}

func TestParamHeaders(t *testing.T) {
	str := []Param{{"R", "Mcp-Param-R", []string{"r"}, TypeString}}
	integer := []Param{{"N", "Mcp-Param-N", []string{"n"}, TypeInteger}}
	boolean := []Param{{"B", "Mcp-Param-B", []string{"b"}, TypeBoolean}}
	nested := []Param{{"R", "Mcp-Param-R", []string{"loc", "region"}, TypeString}, {"Z", "Mcp-Param-Z", []string{"loc", "zone"}, TypeInteger}}
	tests := []struct {
		name   string
		params []Param
		args   string
		want   map[string]string // nil: no headers
		err    string
	}{
		{name: "string", params: str, args: `{"r":"us-west1"}`, want: map[string]string{"Mcp-Param-R": "us-west1"}},
		{name: "escaped string", params: str, args: `{"r":"a\u00e9"}`, want: map[string]string{"Mcp-Param-R": "=?base64?YcOp?="}},
		{name: "empty string", params: str, args: `{"r":""}`, want: map[string]string{"Mcp-Param-R": ""}},
		{name: "absent", params: str, args: `{"q":1}`},
		{name: "null", params: str, args: `{"r":null}`},
		{name: "no arguments", params: str, args: ``},
		{name: "null arguments", params: str, args: `null`},
		{name: "empty object", params: str, args: ` {} `},
		{name: "arguments not an object", params: str, args: `["r"]`},
		{name: "no params", params: nil, args: `{"r":1}`},
		{name: "integer", params: integer, args: `{"n":42}`, want: map[string]string{"Mcp-Param-N": "42"}},
		{name: "negative integer", params: integer, args: `{"n":-7}`, want: map[string]string{"Mcp-Param-N": "-7"}},
		{name: "integer 42.0", params: integer, args: `{"n":42.0}`, want: map[string]string{"Mcp-Param-N": "42"}},
		{name: "integer exponent", params: integer, args: `{"n":1e2}`, want: map[string]string{"Mcp-Param-N": "100"}},
		{name: "negative zero", params: integer, args: `{"n":-0}`, want: map[string]string{"Mcp-Param-N": "0"}},
		{name: "max safe", params: integer, args: `{"n":9007199254740991}`, want: map[string]string{"Mcp-Param-N": "9007199254740991"}},
		{name: "min safe", params: integer, args: `{"n":-9007199254740991}`, want: map[string]string{"Mcp-Param-N": "-9007199254740991"}},
		{name: "2^53", params: integer, args: `{"n":9007199254740992}`,
			err: "arguments.n for header Mcp-Param-N: '9007199254740992' is outside the safe integer range ±(2^53−1)"},
		{name: "fraction", params: integer, args: `{"n":1.5}`, err: "'1.5' is not a whole number"},
		{name: "fraction near max", params: integer, args: `{"n":9007199254740990.5}`, err: "is not a whole number"},
		{name: "integer as string", params: integer, args: `{"n":"42"}`,
			err: "arguments.n for header Mcp-Param-N: value is a string, but x-mcp-header N declares type integer"},
		{name: "boolean true", params: boolean, args: `{"b":true}`, want: map[string]string{"Mcp-Param-B": "true"}},
		{name: "boolean false", params: boolean, args: `{"b":false}`, want: map[string]string{"Mcp-Param-B": "false"}},
		{name: "boolean as string", params: boolean, args: `{"b":"true"}`, err: "value is a string, but x-mcp-header B declares type boolean"},
		{name: "string as number", params: str, args: `{"r":5}`, err: "value is a number, but x-mcp-header R declares type string"},
		{name: "string as object", params: str, args: `{"r":{}}`, err: "value is an object"},
		{name: "string as array", params: str, args: `{"r":[]}`, err: "value is an array"},
		{name: "nested", params: nested, args: `{"loc":{"region":"eu","zone":3},"other":{"region":"x"}}`,
			want: map[string]string{"Mcp-Param-R": "eu", "Mcp-Param-Z": "3"}},
		{name: "nested partly absent", params: nested, args: `{"loc":{"zone":3}}`, want: map[string]string{"Mcp-Param-Z": "3"}},
		{name: "nested parent null", params: nested, args: `{"loc":null}`},
		{name: "nested parent not an object", params: nested, args: `{"loc":"eu"}`},
		{name: "nested type error names path", params: nested, args: `{"loc":{"zone":"3"}}`,
			err: "arguments.loc.zone for header Mcp-Param-Z: value is a string"},
		{name: "odd key in path", params: []Param{{"X", "Mcp-Param-X", []string{"a.b"}, TypeInteger}}, args: `{"a.b":"x"}`,
			err: `arguments["a.b"] for header Mcp-Param-X`},
		{name: "escaped key", params: str, args: `{"\u0072":"x"}`, want: map[string]string{"Mcp-Param-R": "x"}},
		{name: "repeated key", params: str, args: `{"r":"a","r":"b"}`,
			err: `arguments has key "r" more than once, so which value applies depends on the JSON parser`},
		{name: "repeated key via escape", params: str, args: `{"r":"a","\u0072":"b"}`, err: `has key "r" more than once`},
		{name: "repeated parent key", params: nested, args: `{"loc":{"zone":1},"loc":{"zone":2}}`, err: `arguments has key "loc" more than once`},
		{name: "repeated nested key", params: nested, args: `{"loc":{"zone":1,"zone":2}}`, err: `arguments.loc has key "zone" more than once`},
		{name: "repeated unrelated key is fine", params: str, args: `{"q":1,"q":2,"r":"x"}`, want: map[string]string{"Mcp-Param-R": "x"}},
		{name: "invalid JSON", params: str, args: `{"r":}`, err: "arguments are not valid JSON"},
		{name: "truncated JSON", params: str, args: `{"r":"x"`, err: "arguments are not valid JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := ParamHeaders(tt.params, json.RawMessage(tt.args))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error = %v, want it to contain %q", err, tt.err)
				}
				if h != nil {
					t.Errorf("headers %v returned with error", h)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var want http.Header
			if tt.want != nil {
				want = http.Header{}
				for k, v := range tt.want {
					want.Set(k, v)
				}
			}
			if !reflect.DeepEqual(h, want) {
				t.Errorf("got %v, want %v", h, want)
			}
			if err := CheckParams(tt.params, h, json.RawMessage(tt.args)); err != nil {
				t.Errorf("server rejects what the client sent: %v", err)
			}
		})
	}
}

func TestCheckParams(t *testing.T) {
	// The conformance server scenario finds the first top-level string
	// property with x-mcp-header; required params get "test-default", 0 or
	// false, and their headers String(value).
	params := mustParse(t, `{"type":"object","properties":{
		"region":{"type":"string","x-mcp-header":"Region"},
		"priority":{"type":"integer","x-mcp-header":"Priority"},
		"verbose":{"type":"boolean","x-mcp-header":"Verbose"},
		"loc":{"type":"object","properties":{"zone":{"type":"string","x-mcp-header":"Zone"}}}},
		"required":["region","priority","verbose"]}`)
	base := []string{"Mcp-Param-Priority", "0", "Mcp-Param-Verbose", "false"}
	with := func(kv ...string) http.Header { return hdr(append(append([]string{}, base...), kv...)...) }
	args := func(region string) string { return `{"region":` + region + `,"priority":0,"verbose":false}` }
	long := strings.Repeat("z", 500)

	tests := []struct {
		name string
		h    http.Header
		args string
		kind Kind   // 0: valid
		msg  string // exact message, or substring when it starts with "~"
	}{
		// Conformance http-custom-header-server-validation.
		{name: "ServerAcceptsValidBase64", h: with("Mcp-Param-Region", "=?base64?SGVsbG8=?="), args: args(`"Hello"`)},
		{name: "ServerRejectsInvalidBase64Padding", h: with("Mcp-Param-Region", "=?base64?SGVsbG8?="), args: args(`"Hello"`),
			kind: KindInvalid, msg: "Mcp-Param-Region header value '=?base64?SGVsbG8?=' is invalid: base64 payload length 7 is not a multiple of 4 (is the '=' padding missing?)"},
		{name: "ServerRejectsInvalidBase64Chars", h: with("Mcp-Param-Region", "=?base64?SGVs!!!bG8=?="), args: args(`"Hello"`),
			kind: KindInvalid, msg: "~is not in the standard base64 alphabet"},
		{name: "ServerLiteralMissingBase64Prefix", h: with("Mcp-Param-Region", "SGVsbG8="), args: args(`"SGVsbG8="`)},
		{name: "ServerLiteralMissingBase64Suffix", h: with("Mcp-Param-Region", "=?base64?SGVsbG8="), args: args(`"=?base64?SGVsbG8="`)},
		{name: "ServerRejectsMissingCustomHeader", h: with(), args: args(`"test-value"`),
			kind: KindMissing, msg: "Mcp-Param-Region header is missing, but arguments.region is 'test-value' in the body; a value present in the body must be mirrored"},
		// Literal and encoded forms of the same value.
		{name: "plain", h: with("Mcp-Param-Region", "us-west1"), args: args(`"us-west1"`)},
		{name: "lowercase header name", h: with("mcp-param-region", "us-west1"), args: args(`"us-west1"`)},
		{name: "uppercase header name", h: with("MCP-PARAM-REGION", "us-west1"), args: args(`"us-west1"`)},
		{name: "OWS trimmed", h: with("Mcp-Param-Region", "  us-west1\t"), args: args(`"us-west1"`)},
		{name: "base64 of plain value is accepted", h: with("Mcp-Param-Region", "=?base64?dXMtd2VzdDE=?="), args: args(`"us-west1"`)},
		{name: "padded value needs base64", h: with("Mcp-Param-Region", " padded "), args: args(`" padded "`),
			kind: KindMismatch, msg: "Mcp-Param-Region header value 'padded' does not match body value ' padded '"},
		{name: "padded value encoded", h: with("Mcp-Param-Region", "=?base64?IHBhZGRlZCA=?="), args: args(`" padded "`)},
		{name: "interior tab accepted plain", h: with("Mcp-Param-Region", "a\tb"), args: args(`"a\tb"`)},
		{name: "raw non-ASCII rejected", h: with("Mcp-Param-Region", "Hello, 世界"), args: args(`"Hello, 世界"`),
			kind: KindInvalid, msg: "~contains non-ASCII byte 0xE4 at offset 7"},
		{name: "sentinel literal must be encoded", h: with("Mcp-Param-Region", "=?base64?literal?="), args: args(`"=?base64?literal?="`),
			kind: KindInvalid},
		{name: "sentinel literal encoded", h: with("Mcp-Param-Region", "=?base64?PT9iYXNlNjQ/bGl0ZXJhbD89?="), args: args(`"=?base64?literal?="`)},
		{name: "value is case-sensitive", h: with("Mcp-Param-Region", "US-WEST1"), args: args(`"us-west1"`), kind: KindMismatch},
		{name: "string mismatch", h: with("Mcp-Param-Region", "foo"), args: args(`"bar"`),
			kind: KindMismatch, msg: "Mcp-Param-Region header value 'foo' does not match body value 'bar'"},
		{name: "empty value matches empty string", h: with("Mcp-Param-Region", ""), args: args(`""`)},
		{name: "empty value does not match", h: with("Mcp-Param-Region", ""), args: args(`"x"`), kind: KindMismatch},
		{name: "empty string still needs its header", h: with(), args: args(`""`), kind: KindMissing},
		// Absent and null body values.
		{name: "absent, no header", h: with(), args: `{"priority":0,"verbose":false}`},
		{name: "null, no header", h: with(), args: args(`null`)},
		{name: "null, header present", h: with("Mcp-Param-Region", "us-west1"), args: args(`null`),
			kind: KindMismatch, msg: "Mcp-Param-Region header value 'us-west1' has no counterpart: arguments.region is absent or null in the body"},
		{name: "absent, header present", h: hdr("Mcp-Param-Priority", "1"), args: `{}`, kind: KindMismatch,
			msg: "Mcp-Param-Priority header value '1' has no counterpart: arguments.priority is absent or null in the body"},
		{name: "no arguments at all", h: http.Header{}, args: ``},
		{name: "nil header, no values", h: nil, args: `{}`},
		// Integers compare numerically.
		{name: "integer", h: hdr("Mcp-Param-Priority", "42", "Mcp-Param-Verbose", "true"), args: `{"priority":42,"verbose":true}`},
		{name: "header 42, body 42.0", h: hdr("Mcp-Param-Priority", "42"), args: `{"priority":42.0}`},
		{name: "header 42.0, body 42", h: hdr("Mcp-Param-Priority", "42.0"), args: `{"priority":42}`},
		{name: "header 4.2e1, body 42", h: hdr("Mcp-Param-Priority", "4.2e1"), args: `{"priority":42}`},
		{name: "header -0, body 0", h: hdr("Mcp-Param-Priority", "-0"), args: `{"priority":0}`},
		{name: "integer base64", h: hdr("Mcp-Param-Priority", "=?base64?NDI=?="), args: `{"priority":42}`},
		{name: "integer mismatch", h: hdr("Mcp-Param-Priority", "43"), args: `{"priority":42}`,
			kind: KindMismatch, msg: "Mcp-Param-Priority header value '43' does not match body value 42"},
		{name: "integer not a number", h: hdr("Mcp-Param-Priority", "4x"), args: `{"priority":4}`,
			kind: KindInvalid, msg: "Mcp-Param-Priority header value '4x' is not a JSON number; an integer parameter needs a decimal integer"},
		{name: "integer with plus", h: hdr("Mcp-Param-Priority", "+4"), args: `{"priority":4}`, kind: KindInvalid},
		{name: "integer leading zero", h: hdr("Mcp-Param-Priority", "04"), args: `{"priority":4}`, kind: KindInvalid},
		{name: "integer fraction in header", h: hdr("Mcp-Param-Priority", "4.5"), args: `{"priority":4}`,
			kind: KindInvalid, msg: "~'4.5' is not a whole number"},
		{name: "integer header out of range", h: hdr("Mcp-Param-Priority", "9007199254740993"), args: `{"priority":1}`,
			kind: KindInvalid, msg: "~outside the safe integer range"},
		{name: "body integer out of range, header matching textually", h: hdr("Mcp-Param-Priority", "9007199254740993"), args: `{"priority":9007199254740993}`,
			kind: KindMismatch, msg: "Mcp-Param-Priority header cannot mirror arguments.priority: '9007199254740993' is outside the safe integer range ±(2^53−1)"},
		{name: "body integer out of range, no header", h: hdr(), args: `{"priority":-9007199254740992}`, kind: KindMismatch, msg: "~cannot mirror"},
		{name: "body fraction", h: hdr("Mcp-Param-Priority", "1"), args: `{"priority":1.5}`, kind: KindMismatch, msg: "~'1.5' is not a whole number"},
		{name: "body string for integer", h: hdr("Mcp-Param-Priority", "1"), args: `{"priority":"1"}`,
			kind: KindMismatch, msg: "Mcp-Param-Priority header cannot mirror arguments.priority: value is a string, but x-mcp-header Priority declares type integer"},
		// Booleans.
		{name: "boolean mismatch", h: hdr("Mcp-Param-Verbose", "true"), args: `{"verbose":false}`,
			kind: KindMismatch, msg: "Mcp-Param-Verbose header value 'true' does not match body value false"},
		{name: "boolean uppercase", h: hdr("Mcp-Param-Verbose", "TRUE"), args: `{"verbose":true}`,
			kind: KindInvalid, msg: `Mcp-Param-Verbose header value 'TRUE' is not a boolean: it must be "true" or "false" (lowercase)`},
		{name: "boolean 1", h: hdr("Mcp-Param-Verbose", "1"), args: `{"verbose":true}`, kind: KindInvalid},
		// Nested.
		{name: "nested", h: with("Mcp-Param-Region", "r", "Mcp-Param-Zone", "z1"), args: `{"region":"r","priority":0,"verbose":false,"loc":{"zone":"z1"}}`},
		{name: "nested missing", h: with("Mcp-Param-Region", "r"), args: `{"region":"r","priority":0,"verbose":false,"loc":{"zone":"z1"}}`,
			kind: KindMissing, msg: "~but arguments.loc.zone is 'z1'"},
		// Repeats and strays.
		{name: "header repeated", h: with("Mcp-Param-Region", "a", "mcp-param-region", "a"), args: args(`"a"`),
			kind: KindInvalid, msg: "Mcp-Param-Region header appears 2 times; send it exactly once"},
		{name: "body key repeated", h: with("Mcp-Param-Region", "a"), args: `{"region":"a","region":"b","priority":0,"verbose":false}`,
			kind: KindMismatch, msg: `Mcp-Param-Region header cannot be checked: arguments has key "region" more than once, so which value applies depends on the JSON parser`},
		{name: "nested parent repeated blames first param below", h: with(), args: `{"loc":{},"loc":{},"priority":0,"verbose":false}`,
			kind: KindMismatch, msg: `~Mcp-Param-Zone header cannot be checked: arguments has key "loc" more than once`},
		{name: "unknown param headers ignored", h: with("Mcp-Param-Region", "a", "Mcp-Param-Other", "\x01junk", "Mcp-Param-Query", "x"), args: args(`"a"`)},
		// Messages stay short.
		{name: "long values bounded", h: with("Mcp-Param-Region", long), args: args(`"` + long + `y"`),
			kind: KindMismatch, msg: "~value '" + long[:100] + "…' (500 bytes) does not match body value '" + long[:100] + "…' (501 bytes)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkMismatch(t, CheckParams(params, tt.h, json.RawMessage(tt.args)), tt.kind, tt.msg)
		})
	}
}

func TestCheckParamsInvalidJSON(t *testing.T) {
	params := []Param{{"R", "Mcp-Param-R", []string{"r"}, TypeString}}
	err := CheckParams(params, hdr(), json.RawMessage(`{"r":`))
	var me *MismatchError
	if err == nil || errors.As(err, &me) || !strings.Contains(err.Error(), "arguments are not valid JSON") {
		t.Errorf("error = %v (%T)", err, err)
	}
	if err := CheckParams(nil, hdr("Mcp-Param-R", "x"), json.RawMessage(`garbage`)); err != nil {
		t.Errorf("no params: %v", err)
	}
}

// TestHandMadeParams covers Params not built by ParseToolHeaders.
func TestHandMadeParams(t *testing.T) {
	// An empty path designates the arguments themselves.
	root := []Param{{"A", "Mcp-Param-A", nil, TypeString}}
	if _, err := ParamHeaders(root, json.RawMessage(`{}`)); err == nil || !strings.Contains(err.Error(), "value is an object") {
		t.Errorf("empty path: %v", err)
	}
	// A zero Type is refused rather than guessed.
	bad := []Param{{"A", "Mcp-Param-A", []string{"a"}, 0}}
	if _, err := ParamHeaders(bad, json.RawMessage(`{"a":"x"}`)); err == nil || !strings.Contains(err.Error(), "no valid type") {
		t.Errorf("zero type: %v", err)
	}
	if err := CheckParams(bad, hdr("Mcp-Param-A", "x"), json.RawMessage(`{"a":"x"}`)); err == nil {
		t.Error("zero type accepted by CheckParams")
	}
}

func TestParseSafeInt(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		err  error
	}{
		{"0", 0, nil}, {"-0", 0, nil}, {"7", 7, nil}, {"-7", -7, nil},
		{"42.0", 42, nil}, {"42.000", 42, nil}, {"4.2e1", 42, nil}, {"4.2E+1", 42, nil}, {"420e-1", 42, nil},
		{"1e2", 100, nil}, {"0.0", 0, nil}, {"0e99999999999999999999", 0, nil}, {"0.000e-5", 0, nil},
		{"100", 100, nil}, {"1000000e-6", 1, nil},
		{"9007199254740991", 9007199254740991, nil}, {"-9007199254740991", -9007199254740991, nil},
		{"9007199254740991.0", 9007199254740991, nil}, {"9.007199254740991e15", 9007199254740991, nil},
		{"9007199254740992", 0, errRange}, {"-9007199254740992", 0, errRange},
		{"9007199254740993", 0, errRange}, {"10000000000000000", 0, errRange},
		{"1e16", 0, errRange}, {"1e99999999999999999999", 0, errRange}, {"12345678901234567890123", 0, errRange},
		{"0.5", 0, errFraction}, {"1.5", 0, errFraction}, {"9007199254740991.4", 0, errFraction},
		{"1e-1", 0, errFraction}, {"1e-99999999999999999999", 0, errFraction}, {"-0.1", 0, errFraction},
		{"", 0, errNotNumber}, {"-", 0, errNotNumber}, {"+1", 0, errNotNumber}, {"01", 0, errNotNumber},
		{"1.", 0, errNotNumber}, {".1", 0, errNotNumber}, {"1e", 0, errNotNumber}, {"1e+", 0, errNotNumber},
		{"1x", 0, errNotNumber}, {" 1", 0, errNotNumber}, {"0x10", 0, errNotNumber}, {"NaN", 0, errNotNumber},
		{"Infinity", 0, errNotNumber}, {"1_000", 0, errNotNumber}, {"--1", 0, errNotNumber},
	}
	for _, tt := range tests {
		got, err := parseSafeInt(tt.in)
		if got != tt.want || err != tt.err {
			t.Errorf("parseSafeInt(%q) = %d, %v; want %d, %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}

// checkMismatch checks err against a table row: no error when kind is 0,
// else a *MismatchError of that kind whose message is msg, or contains
// msg without its leading "~" ("" checks no message).
func checkMismatch(t *testing.T, err error, kind Kind, msg string) *MismatchError {
	t.Helper()
	if kind == 0 {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return nil
	}
	var me *MismatchError
	if !errors.As(err, &me) {
		t.Fatalf("error = %v (%T), want *MismatchError", err, err)
	}
	if me.Kind != kind {
		t.Errorf("kind = %v, want %v (%v)", me.Kind, kind, err)
	}
	if sub, ok := strings.CutPrefix(msg, "~"); ok {
		if !strings.Contains(err.Error(), sub) {
			t.Errorf("error =\n  %s\nwant it to contain\n  %s", err, sub)
		}
	} else if msg != "" && err.Error() != msg {
		t.Errorf("error =\n  %s\nwant\n  %s", err, msg)
	}
	return me
}
