package reqstate

import (
	"strings"
	"testing"
)

func TestParamsDigestEqual(t *testing.T) {
	tests := []struct {
		name, method, a, b string
	}{
		{"key order", "tools/call",
			`{"name":"t","arguments":{"a":1,"b":{"x":true,"y":null}}}`,
			`{"arguments":{"b":{"y":null,"x":true},"a":1},"name":"t"}`},
		{"whitespace", "tools/call",
			`{"name":"t","arguments":{"a":[1,2,3]}}`,
			" {\n  \"name\" : \"t\",\r\n\t\"arguments\" : { \"a\" : [ 1 , 2 , 3 ] }\n} "},
		{"ignores _meta inputResponses requestState", "tools/call",
			`{"name":"t","arguments":{"a":1}}`,
			`{"_meta":{"progressToken":"p1"},"name":"t","arguments":{"a":1},"inputResponses":{"q":{"action":"accept"}},"requestState":"AQxyz"}`},
		{"ignores other members", "tools/call",
			`{"name":"t","arguments":{}}`,
			`{"name":"t","arguments":{},"task":{"ttl":1000}}`},
		{"arguments absent null empty", "tools/call", `{"name":"t"}`, `{"name":"t","arguments":null}`},
		{"arguments absent vs empty", "tools/call", `{"name":"t"}`, `{"name":"t","arguments":{}}`},
		{"string escapes", "tools/call",
			`{"name":"t","arguments":{"s":"é/\"<>&\u0001"}}`,
			`{"name":"t","arguments":{"s":"\u00e9\/\u0022\u003c\u003e\u0026\u0001"}}`},
		{"key escapes", "tools/call",
			`{"name":"t","arguments":{"é":1}}`,
			`{"name":"t","arguments":{"\u00e9":1}}`},
		{"integer vs float", "tools/call", `{"name":"t","arguments":{"n":1}}`, `{"name":"t","arguments":{"n":1.0}}`},
		{"exponent", "tools/call", `{"name":"t","arguments":{"n":1000}}`, `{"name":"t","arguments":{"n":1e3}}`},
		{"exponent case and sign", "tools/call", `{"name":"t","arguments":{"n":1E+3}}`, `{"name":"t","arguments":{"n":10e2}}`},
		{"fraction", "tools/call", `{"name":"t","arguments":{"n":0.5}}`, `{"name":"t","arguments":{"n":5e-1}}`},
		{"negative zero", "tools/call", `{"name":"t","arguments":{"n":-0}}`, `{"name":"t","arguments":{"n":0.0e5}}`},
		{"big int exact", "tools/call", `{"name":"t","arguments":{"n":12345678901234567891}}`, `{"name":"t","arguments":{"n":1.2345678901234567891e19}}`},
		{"prompts/get", "prompts/get",
			`{"name":"p","arguments":{"lang":"go","style":"terse"}}`,
			`{"arguments":{"style":"terse","lang":"go"},"name":"p","_meta":{}}`},
		{"resources/read", "resources/read",
			`{"uri":"file:///a b"}`,
			`{"uri":"file:///a b","_meta":{"x":1},"requestState":"s","inputResponses":{}}`},
		{"params absent and empty", "tools/call", ``, `{}`},
		{"params null", "tools/call", `null`, `{}`},
		{"other method strips the three", "completion/complete",
			`{"ref":{"type":"ref/prompt","name":"p"},"argument":{"name":"a","value":"v"}}`,
			`{"argument":{"value":"v","name":"a"},"ref":{"name":"p","type":"ref/prompt"},"_meta":{},"requestState":"x","inputResponses":{}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := salient(tt.method, []byte(tt.a)); err != nil {
				t.Fatalf("a not canonicalised: %v", err)
			}
			if _, err := salient(tt.method, []byte(tt.b)); err != nil {
				t.Fatalf("b not canonicalised: %v", err)
			}
			if ParamsDigest(tt.method, []byte(tt.a)) != ParamsDigest(tt.method, []byte(tt.b)) {
				t.Fatalf("digests differ:\n%s\n%s", tt.a, tt.b)
			}
		})
	}
}

func TestParamsDigestDiffers(t *testing.T) {
	tests := []struct {
		name         string
		ma, a, mb, b string
	}{
		{"argument value", "tools/call", `{"name":"t","arguments":{"amount":10}}`, "tools/call", `{"name":"t","arguments":{"amount":11}}`},
		{"argument type", "tools/call", `{"name":"t","arguments":{"amount":10}}`, "tools/call", `{"name":"t","arguments":{"amount":"10"}}`},
		{"argument name", "tools/call", `{"name":"t","arguments":{"a":1}}`, "tools/call", `{"name":"t","arguments":{"b":1}}`},
		{"extra argument", "tools/call", `{"name":"t","arguments":{"a":1}}`, "tools/call", `{"name":"t","arguments":{"a":1,"b":null}}`},
		{"nested value", "tools/call", `{"name":"t","arguments":{"a":{"b":[1,2]}}}`, "tools/call", `{"name":"t","arguments":{"a":{"b":[2,1]}}}`},
		{"tool name", "tools/call", `{"name":"t","arguments":{}}`, "tools/call", `{"name":"u","arguments":{}}`},
		{"no name", "tools/call", `{"name":"t"}`, "tools/call", `{}`},
		{"method", "tools/call", `{"name":"t"}`, "prompts/get", `{"name":"t"}`},
		{"uri", "resources/read", `{"uri":"file:///a"}`, "resources/read", `{"uri":"file:///b"}`},
		{"big int beyond float64", "tools/call", `{"name":"t","arguments":{"n":9007199254740993}}`, "tools/call", `{"name":"t","arguments":{"n":9007199254740992}}`},
		{"small difference", "tools/call", `{"name":"t","arguments":{"n":0.30000000000000001}}`, "tools/call", `{"name":"t","arguments":{"n":0.3}}`},
		{"sign", "tools/call", `{"name":"t","arguments":{"n":1}}`, "tools/call", `{"name":"t","arguments":{"n":-1}}`},
		{"string vs key shape", "tools/call", `{"name":"t","arguments":{"a":"b:c"}}`, "tools/call", `{"name":"t","arguments":{"a:b":"c"}}`},
		{"empty string vs null", "tools/call", `{"name":"t","arguments":{"a":""}}`, "tools/call", `{"name":"t","arguments":{"a":null}}`},
		{"other method other value", "completion/complete", `{"argument":{"value":"a"}}`, "completion/complete", `{"argument":{"value":"b"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if ParamsDigest(tt.ma, []byte(tt.a)) == ParamsDigest(tt.mb, []byte(tt.b)) {
				t.Fatalf("digests equal:\n%s %s\n%s %s", tt.ma, tt.a, tt.mb, tt.b)
			}
		})
	}
}

// Params that cannot be canonicalised fail closed: the retry (with
// requestState added) never gets the first round's digest.
func TestParamsDigestFallback(t *testing.T) {
	tests := []struct{ name, params string }{
		{"duplicate top-level key", `{"name":"t","name":"u"}`},
		{"duplicate nested key", `{"name":"t","arguments":{"a":1,"a":2}}`},
		{"duplicate key in ignored member", `{"name":"t","_meta":{"a":1,"a":2}}`},
		{"not an object", `["t"]`},
		{"string", `"t"`},
		{"invalid", `{"name":`},
		{"trailing data", `{"name":"t"} {}`},
		{"trailing garbage", `{"name":"t"}x`},
		{"deep", `{"name":"t","arguments":{"a":` + strings.Repeat("[", 300) + strings.Repeat("]", 300) + `}}`},
		{"deep objects", `{"name":"t","arguments":` + strings.Repeat(`{"a":`, 300) + "1" + strings.Repeat("}", 300) + `}`},
		{"huge exponent", `{"name":"t","arguments":{"n":1e2000000000}}`},
		{"exponent overflow", `{"name":"t","arguments":{"n":1e99999999999999999999}}`},
		{"too large", `{"name":"t","arguments":{"s":"` + strings.Repeat("x", MaxParamsSize) + `"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := salient("tools/call", []byte(tt.params)); err == nil && len(tt.params) <= MaxParamsSize {
				t.Fatal("canonicalised")
			}
			first := ParamsDigest("tools/call", []byte(tt.params))
			if first != ParamsDigest("tools/call", []byte(tt.params)) {
				t.Fatal("digest not deterministic")
			}
			if first == ParamsDigest("tools/call", []byte(`{"name":"t"}`)) {
				t.Fatal("fallback digest equals a canonical one")
			}
			retry := strings.Replace(tt.params, `{"name":"t"`, `{"requestState":"AQ","name":"t"`, 1)
			if retry != tt.params && first == ParamsDigest("tools/call", []byte(retry)) {
				t.Fatal("retry of an uncanonicalisable request has the same digest")
			}
		})
	}
	// Depth within the limit is fine.
	ok := `{"name":"t","arguments":{"a":` + strings.Repeat("[", 200) + strings.Repeat("]", 200) + `}}`
	if _, err := salient("tools/call", []byte(ok)); err != nil {
		t.Fatalf("nesting 200: %v", err)
	}
}

func TestCanonicalNumber(t *testing.T) {
	tests := []struct{ in, want string }{
		{"0", "0"},
		{"-0", "0"},
		{"0.000", "0"},
		{"0e10", "0"},
		{"-0.0E-3", "0"},
		{"1", "1"},
		{"-1", "-1"},
		{"10", "1e1"},
		{"1.0", "1"},
		{"1.50", "15e-1"},
		{"15e-1", "15e-1"},
		{"0.15E1", "15e-1"},
		{"0.001", "1e-3"},
		{"100e-2", "1"},
		{"123.456e3", "123456"},
		{"1E+2", "1e2"},
		{"1e-0", "1"},
		{"12345678901234567891", "12345678901234567891"},
		{"1e0000000000000000000005", "1e5"},
	}
	for _, tt := range tests {
		got, err := appendNumber(nil, tt.in)
		if err != nil || string(got) != tt.want {
			t.Errorf("appendNumber(%s) = %s, %v; want %s", tt.in, got, err, tt.want)
		}
	}
}

func TestCanonicalForm(t *testing.T) {
	got, err := salient("tools/call", []byte(` {"arguments":{"z":[1.0,"a\u0000\"\\",{"b":2,"a":1}],"y":false},"name":"t","_meta":{}}`))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"arguments":{"y":false,"z":[1,"a\u0000\"\\",{"a":1,"b":2}]},"name":"t"}`
	if string(got) != want {
		t.Fatalf("canonical form\n got %s\nwant %s", got, want)
	}
}
