package mcpheader

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// customHeadersSchema is the inputSchema of test_custom_headers in the
// conformance client scenario http-custom-headers.
const customHeadersSchema = `{
  "type": "object",
  "properties": {
    "region": {"type": "string", "description": "Plain ASCII string value", "x-mcp-header": "Region"},
    "priority": {"type": "integer", "x-mcp-header": "Priority"},
    "verbose": {"type": "boolean", "x-mcp-header": "Verbose"},
    "debug": {"type": "boolean", "x-mcp-header": "Debug"},
    "empty_val": {"type": "string", "x-mcp-header": "EmptyVal"},
    "method_val": {"type": "string", "x-mcp-header": "Method"},
    "float_val": {"type": "number", "description": "no x-mcp-header annotation"},
    "non_ascii_val": {"type": "string", "x-mcp-header": "NonAscii"},
    "whitespace_val": {"type": "string", "x-mcp-header": "Whitespace"},
    "leading_space_val": {"type": "string", "x-mcp-header": "LeadingSpace"},
    "trailing_space_val": {"type": "string", "x-mcp-header": "TrailingSpace"},
    "internal_space_val": {"type": "string", "x-mcp-header": "InternalSpace"},
    "control_char_val": {"type": "string", "x-mcp-header": "ControlChar"},
    "crlf_val": {"type": "string", "x-mcp-header": "CrLf"},
    "tab_val": {"type": "string", "x-mcp-header": "Tab"},
    "query": {"type": "string", "description": "No x-mcp-header annotation - should not be mirrored"}
  },
  "required": ["region", "priority", "query"]
}`

func mustParse(t *testing.T, schema string) []Param {
	t.Helper()
	params, err := ParseToolHeaders(json.RawMessage(schema))
	if err != nil {
		t.Fatalf("ParseToolHeaders: %v", err)
	}
	return params
}

func TestParseToolHeadersConformance(t *testing.T) {
	params := mustParse(t, customHeadersSchema)
	want := []Param{
		{"Region", "Mcp-Param-Region", []string{"region"}, TypeString},
		{"Priority", "Mcp-Param-Priority", []string{"priority"}, TypeInteger},
		{"Verbose", "Mcp-Param-Verbose", []string{"verbose"}, TypeBoolean},
		{"Debug", "Mcp-Param-Debug", []string{"debug"}, TypeBoolean},
		{"EmptyVal", "Mcp-Param-EmptyVal", []string{"empty_val"}, TypeString},
		{"Method", "Mcp-Param-Method", []string{"method_val"}, TypeString},
		{"NonAscii", "Mcp-Param-NonAscii", []string{"non_ascii_val"}, TypeString},
		{"Whitespace", "Mcp-Param-Whitespace", []string{"whitespace_val"}, TypeString},
		{"LeadingSpace", "Mcp-Param-LeadingSpace", []string{"leading_space_val"}, TypeString},
		{"TrailingSpace", "Mcp-Param-TrailingSpace", []string{"trailing_space_val"}, TypeString},
		{"InternalSpace", "Mcp-Param-InternalSpace", []string{"internal_space_val"}, TypeString},
		{"ControlChar", "Mcp-Param-ControlChar", []string{"control_char_val"}, TypeString},
		{"CrLf", "Mcp-Param-CrLf", []string{"crlf_val"}, TypeString},
		{"Tab", "Mcp-Param-Tab", []string{"tab_val"}, TypeString},
	}
	if !reflect.DeepEqual(params, want) {
		t.Errorf("got\n%+v\nwant\n%+v", params, want)
	}
}

func TestParseToolHeadersValid(t *testing.T) {
	tests := []struct {
		name   string
		schema string
		want   []Param
	}{
		{"no annotations", `{"type":"object","properties":{"a":{"type":"string"}}}`, nil},
		{"empty schema", `{}`, nil},
		{"no parameters", `{"type":"object","additionalProperties":false}`, nil},
		{"spec example", `{"type":"object","properties":{"region":{"type":"string","description":"The region","x-mcp-header":"Region"},"query":{"type":"string"}},"required":["region","query"]}`,
			[]Param{{"Region", "Mcp-Param-Region", []string{"region"}, TypeString}}},
		{"nested properties", `{"type":"object","properties":{"location":{"type":"object","properties":{"region":{"type":"string","x-mcp-header":"Region"}}}}}`,
			[]Param{{"Region", "Mcp-Param-Region", []string{"location", "region"}, TypeString}}},
		{"nested without intermediate type", `{"properties":{"a":{"properties":{"b":{"properties":{"c":{"type":"integer","x-mcp-header":"C"}}}}}}}`,
			[]Param{{"C", "Mcp-Param-C", []string{"a", "b", "c"}, TypeInteger}}},
		{"nullable string", `{"properties":{"r":{"type":["string","null"],"x-mcp-header":"R"}}}`,
			[]Param{{"R", "Mcp-Param-R", []string{"r"}, TypeString}}},
		{"nullable integer, null first", `{"properties":{"r":{"type":["null","integer"],"x-mcp-header":"R"}}}`,
			[]Param{{"R", "Mcp-Param-R", []string{"r"}, TypeInteger}}},
		{"single-element type array", `{"properties":{"r":{"type":["boolean"],"x-mcp-header":"R"}}}`,
			[]Param{{"R", "Mcp-Param-R", []string{"r"}, TypeBoolean}}},
		{"annotation before type", `{"properties":{"r":{"x-mcp-header":"R","type":"string"}}}`,
			[]Param{{"R", "Mcp-Param-R", []string{"r"}, TypeString}}},
		{"Method is allowed (Mcp-Param-Method)", `{"properties":{"m":{"type":"string","x-mcp-header":"Method"}}}`,
			[]Param{{"Method", "Mcp-Param-Method", []string{"m"}, TypeString}}},
		{"every tchar", "{\"properties\":{\"t\":{\"type\":\"string\",\"x-mcp-header\":\"!#$%&'*+-.^_`|~09AZaz\"}}}",
			[]Param{{"!#$%&'*+-.^_`|~09AZaz", "Mcp-Param-!#$%&'*+-.^_`|~09AZaz", []string{"t"}, TypeString}}},
		{"odd property names", `{"properties":{"a.b":{"properties":{"":{"type":"string","x-mcp-header":"X"}}},"~/":{"type":"string","x-mcp-header":"Y"}}}`,
			[]Param{{"X", "Mcp-Param-X", []string{"a.b", ""}, TypeString}, {"Y", "Mcp-Param-Y", []string{"~/"}, TypeString}}},
		// Instance data is not schema: annotations-lookalikes there are inert.
		{"data keywords", `{"properties":{"a":{"type":"object","default":{"x-mcp-header":"D"},"examples":[{"x-mcp-header":"E"}],"const":{"x-mcp-header":"C"},"enum":[{"x-mcp-header":"N"}]}}}`, nil},
		// A property may be named x-mcp-header.
		{"property named x-mcp-header", `{"properties":{"x-mcp-header":{"type":"string"}},"$defs":{"x-mcp-header":{"type":"string"}},"required":["x-mcp-header"]}`, nil},
		{"annotated and unannotated siblings", `{"properties":{"a":{"type":"string"},"b":{"type":"integer","x-mcp-header":"B"},"c":{"type":"array","items":{"type":"string"}}}}`,
			[]Param{{"B", "Mcp-Param-B", []string{"b"}, TypeInteger}}},
		{"deep chain within limits", strings.Repeat(`{"properties":{"a":`, 60) + `{"type":"boolean","x-mcp-header":"Deep"}` + strings.Repeat(`}}`, 60),
			[]Param{{"Deep", "Mcp-Param-Deep", strings.Split(strings.Repeat("a", 60), ""), TypeBoolean}}},
		{"$defs without annotations", `{"$defs":{"r":{"type":"string"}},"properties":{"a":{"$ref":"#/$defs/r"}}}`, nil},
		// Repeated keys that cannot change an annotation are not our business.
		{"repeats away from annotations", `{"description":"a","description":"b","properties":{"q":{"type":"string"},"q":{"type":"integer"},"r":{"type":"string","x-mcp-header":"R","description":"x","description":"y"}}}`,
			[]Param{{"R", "Mcp-Param-R", []string{"r"}, TypeString}}},
		{"repeated type without annotation", `{"properties":{"q":{"type":"string","type":"integer"}}}`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mustParse(t, tt.schema)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestParseToolHeadersInvalid(t *testing.T) {
	prop := func(p string) string { return `{"type":"object","properties":{"value":` + p + `}}` }
	deep := strings.Repeat(`{"properties":{"a":`, 70) + `{"type":"string"}` + strings.Repeat(`}}`, 70)
	var many strings.Builder
	many.WriteString(`{"properties":{`)
	for i := 0; i <= maxParams; i++ {
		if i > 0 {
			many.WriteByte(',')
		}
		many.WriteString(`"p` + itoa(i) + `":{"type":"string","x-mcp-header":"P` + itoa(i) + `"}`)
	}
	many.WriteString(`}}`)

	tests := []struct {
		name   string
		schema string
		err    string // exact error, or substring when it starts with "~"
	}{
		// Conformance client scenario http-invalid-tool-headers.
		{"invalid_empty_header", prop(`{"type":"string","x-mcp-header":""}`),
			`x-mcp-header "" at /properties/value: must not be empty`},
		{"invalid_object_header", `{"type":"object","properties":{"data":{"type":"object","x-mcp-header":"Data"}}}`,
			`x-mcp-header "Data" at /properties/data: type "object" is not a primitive; x-mcp-header needs type "string", "integer" or "boolean"`},
		{"invalid_array_header", `{"type":"object","properties":{"items":{"type":"array","items":{"type":"string"},"x-mcp-header":"Items"}}}`,
			`~type "array" is not a primitive`},
		{"invalid_null_header", `{"type":"object","properties":{"nil":{"type":"null","x-mcp-header":"Nil"}}}`,
			`x-mcp-header "Nil" at /properties/nil: type "null" carries no value to mirror; x-mcp-header needs type "string", "integer" or "boolean"`},
		{"invalid_duplicate_same_case", `{"type":"object","properties":{"field1":{"type":"string","x-mcp-header":"Region"},"field2":{"type":"string","x-mcp-header":"Region"}}}`,
			`x-mcp-header "Region" at /properties/field2: duplicates x-mcp-header "Region" at /properties/field1; names must be unique ignoring case`},
		{"invalid_duplicate_diff_case", `{"type":"object","properties":{"field1":{"type":"string","x-mcp-header":"MyField"},"field2":{"type":"string","x-mcp-header":"myfield"}}}`,
			`x-mcp-header "myfield" at /properties/field2: duplicates x-mcp-header "MyField" at /properties/field1; names must be unique ignoring case`},
		{"invalid_space_in_name", prop(`{"type":"string","x-mcp-header":"My Region"}`),
			`x-mcp-header "My Region" at /properties/value: contains ' ', which is not an RFC 9110 token character (allowed: A-Z a-z 0-9 ! # $ % & ' * + - . ^ _ ` + "`" + ` | ~)`},
		{"invalid_colon_in_name", prop(`{"type":"string","x-mcp-header":"Region:Primary"}`),
			`~contains ':', which is not an RFC 9110 token character`},
		{"invalid_non_ascii_name", prop(`{"type":"string","x-mcp-header":"Région"}`),
			`x-mcp-header "Région" at /properties/value: contains non-ASCII character 'é'; only RFC 9110 token characters are allowed in a header name`},
		{"invalid_control_char_name", prop(`{"type":"string","x-mcp-header":"Region\t1"}`),
			`x-mcp-header "Region\t1" at /properties/value: contains control character 0x09; only RFC 9110 token characters are allowed in a header name`},
		{"invalid_number_header", prop(`{"type":"number","x-mcp-header":"Score"}`),
			`~type "number" is not permitted`},
		// More charset cases.
		{"CR LF", prop(`{"type":"string","x-mcp-header":"A\r\nB"}`), `~control character 0x0D`},
		{"DEL", prop(`{"type":"string","x-mcp-header":"A\u007f"}`), `~control character 0x7F`},
		{"NUL", prop(`{"type":"string","x-mcp-header":"A\u0000"}`), `~control character 0x00`},
		{"separator", prop(`{"type":"string","x-mcp-header":"a/b"}`), `~contains '/'`},
		{"quote", prop(`{"type":"string","x-mcp-header":"a\"b"}`), `~contains '"'`},
		{"duplicate nested vs top", `{"properties":{"a":{"type":"string","x-mcp-header":"X"},"b":{"properties":{"c":{"type":"string","x-mcp-header":"x"}}}}}`,
			`~at /properties/b/properties/c: duplicates x-mcp-header "X" at /properties/a`},
		// Types.
		{"number in union", prop(`{"type":["number","null"],"x-mcp-header":"V"}`), `~type "number" is not permitted`},
		{"integer or number", prop(`{"type":["integer","number"],"x-mcp-header":"V"}`), `~type "number" is not permitted`},
		{"ambiguous union", prop(`{"type":["string","integer"],"x-mcp-header":"V"}`),
			`x-mcp-header "V" at /properties/value: type ["string" "integer"] is ambiguous; x-mcp-header needs type "string", "integer" or "boolean", optionally with "null"`},
		{"only null in array", prop(`{"type":["null"],"x-mcp-header":"V"}`), `~type "null" carries no value`},
		{"no type", prop(`{"x-mcp-header":"V"}`), `x-mcp-header "V" at /properties/value: the property declares no "type"; x-mcp-header needs type "string", "integer" or "boolean"`},
		{"type via enum only", prop(`{"enum":["a","b"],"x-mcp-header":"V"}`), `~declares no "type"`},
		{"type only via $ref", `{"$defs":{"r":{"type":"string"}},"properties":{"value":{"$ref":"#/$defs/r","x-mcp-header":"V"}}}`, `~declares no "type"`},
		{"type not a string", prop(`{"type":7,"x-mcp-header":"V"}`), `~"type" is a number;`},
		{"type object", prop(`{"type":{"a":[1]},"x-mcp-header":"V"}`), `~"type" is an object;`},
		{"type array with non-string", prop(`{"type":["string",{"a":1}],"x-mcp-header":"V"}`), `~"type" is an array with an object;`},
		{"unknown type", prop(`{"type":"str","x-mcp-header":"V"}`), `~type "str" is not a primitive`},
		{"annotation not a string", prop(`{"type":"string","x-mcp-header":42}`), `x-mcp-header at /properties/value must be a string, not a number`},
		{"annotation null", prop(`{"type":"string","x-mcp-header":null}`), `~must be a string, not null`},
		{"annotation object", prop(`{"type":"string","x-mcp-header":{"a":1}}`), `~must be a string, not an object`},
		// Static reachability.
		{"root annotation", `{"type":"string","x-mcp-header":"Root"}`, `~at the schema root: the schema root is not a property`},
		{"items", `{"properties":{"list":{"type":"array","items":{"type":"string","x-mcp-header":"Item"}}}}`,
			`x-mcp-header at /properties/list/items is not statically reachable: the path to it goes through "items", but only chains of "properties" from the root may carry it`},
		{"items array form", `{"properties":{"list":{"type":"array","items":[{"type":"string","x-mcp-header":"Item"}]}}}`,
			`~at /properties/list/items/0 is not statically reachable: the path to it goes through "items"`},
		{"prefixItems", `{"properties":{"t":{"prefixItems":[{"type":"string","x-mcp-header":"I"}]}}}`, `~goes through "prefixItems"`},
		{"contains", `{"properties":{"t":{"contains":{"type":"string","x-mcp-header":"I"}}}}`, `~goes through "contains"`},
		{"oneOf", `{"properties":{"r":{"oneOf":[{"type":"string","x-mcp-header":"R"},{"type":"integer"}]}}}`,
			`~at /properties/r/oneOf/0 is not statically reachable: the path to it goes through "oneOf"`},
		{"anyOf at root", `{"anyOf":[{"properties":{"r":{"type":"string","x-mcp-header":"R"}}}]}`,
			`~at /anyOf/0/properties/r is not statically reachable: the path to it goes through "anyOf"`},
		{"allOf", `{"allOf":[{"properties":{"r":{"type":"string","x-mcp-header":"R"}}}]}`, `~goes through "allOf"`},
		{"not", `{"properties":{"r":{"type":"string","not":{"type":"string","x-mcp-header":"R"}}}}`, `~goes through "not"`},
		{"if", `{"if":{"properties":{"r":{"type":"string","x-mcp-header":"R"}}}}`, `~goes through "if"`},
		{"then", `{"then":{"properties":{"r":{"type":"string","x-mcp-header":"R"}}}}`, `~goes through "then"`},
		{"else", `{"else":{"properties":{"r":{"type":"string","x-mcp-header":"R"}}}}`, `~goes through "else"`},
		{"$defs", `{"$defs":{"R":{"type":"string","x-mcp-header":"R"}},"properties":{"r":{"$ref":"#/$defs/R"}}}`,
			`x-mcp-header at /$defs/R is not statically reachable: the path to it goes through "$defs", but only chains of "properties" from the root may carry it`},
		{"definitions", `{"definitions":{"R":{"type":"string","x-mcp-header":"R"}}}`, `~goes through "definitions"`},
		{"additionalProperties", `{"additionalProperties":{"type":"string","x-mcp-header":"A"}}`, `~goes through "additionalProperties"`},
		{"patternProperties", `{"patternProperties":{"^r":{"type":"string","x-mcp-header":"R"}}}`, `~at /patternProperties/^r is not statically reachable: the path to it goes through "patternProperties"`},
		{"dependentSchemas", `{"dependentSchemas":{"a":{"properties":{"r":{"type":"string","x-mcp-header":"R"}}}}}`, `~goes through "dependentSchemas"`},
		{"unevaluatedProperties", `{"unevaluatedProperties":{"type":"string","x-mcp-header":"R"}}`, `~goes through "unevaluatedProperties"`},
		{"propertyNames", `{"propertyNames":{"type":"string","x-mcp-header":"R"}}`, `~goes through "propertyNames"`},
		{"unknown keyword", `{"x-vendor":{"nested":{"type":"string","x-mcp-header":"R"}}}`, `~at /x-vendor/nested is not statically reachable: the path to it goes through "x-vendor"`},
		{"properties below a break", `{"items":{"properties":{"r":{"type":"string","x-mcp-header":"R"}}}}`, `~at /items/properties/r is not statically reachable: the path to it goes through "items"`},
		{"properties not an object", `{"properties":[{"type":"string","x-mcp-header":"R"}]}`, `~goes through a "properties" value that is not an object`},
		{"property schema is an array", `{"properties":{"r":[{"type":"string","x-mcp-header":"R"}]}}`, `~goes through a property schema that is not an object`},
		{"invalid annotation under break is still reported as unreachable", `{"items":{"x-mcp-header":""}}`, `~is not statically reachable`},
		// Ambiguous JSON on static chains.
		{"repeated annotation key", prop(`{"type":"string","x-mcp-header":"A","x-mcp-header":"B"}`),
			`inputSchema repeats key "x-mcp-header" at /properties/value; JSON parsers disagree on which copy counts, so the x-mcp-header annotation it affects is ambiguous`},
		{"repeated type key", prop(`{"type":"string","type":"object","x-mcp-header":"A"}`), `~repeats key "type" at /properties/value`},
		{"repeated property, annotation in second", `{"properties":{"a":{"type":"string"},"a":{"type":"string","x-mcp-header":"A"}}}`,
			`inputSchema repeats property "a" at /properties; JSON parsers disagree on which copy counts, so the x-mcp-header annotation below it is ambiguous`},
		{"repeated property, annotation in first", `{"properties":{"a":{"type":"string","x-mcp-header":"A"},"a":{"type":"string"}}}`, `~repeats property "a" at /properties`},
		{"repeated nested property", `{"properties":{"o":{"properties":{"a":{"type":"string","x-mcp-header":"A"}}},"o":{}}}`, `~repeats property "o" at /properties`},
		{"repeated properties keyword", `{"properties":{},"properties":{"a":{"type":"string","x-mcp-header":"A"}}}`, `~repeats key "properties" at the schema root`},
		// Not a schema object, not JSON, too big.
		{"array root", `[]`, `inputSchema must be a JSON object, not an array`},
		{"null root", `null`, `inputSchema must be a JSON object, not null`},
		{"true root", `true`, `inputSchema must be a JSON object, not a boolean`},
		{"empty", ``, `~inputSchema is not valid JSON`},
		{"truncated", `{"properties":{"a":`, `~inputSchema is not valid JSON`},
		{"bad JSON", `{"properties":{"a":}}`, `~inputSchema is not valid JSON`},
		{"trailing data", `{} {}`, `inputSchema is followed by more JSON data`},
		{"too deep", deep, `~nests more than 128 levels deep`},
		{"too deep in data", `{"default":` + strings.Repeat("[", 200) + strings.Repeat("]", 200) + `}`, `~nests more than 128 levels deep`},
		{"too deep in type", prop(`{"type":[` + strings.Repeat("[", 200) + strings.Repeat("]", 200) + `]}`), `~nests more than 128 levels deep`},
		{"too many", many.String(), `~more than 128 x-mcp-header annotations`},
		{"too big", `{"description":"` + strings.Repeat("a", maxSchemaBytes) + `"}`, `~more than the 4194304 this implementation inspects`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			params, err := ParseToolHeaders(json.RawMessage(tt.schema))
			if err == nil {
				t.Fatalf("no error; params %+v", params)
			}
			if params != nil {
				t.Errorf("params %+v returned with error", params)
			}
			if sub, ok := strings.CutPrefix(tt.err, "~"); ok {
				if !strings.Contains(err.Error(), sub) {
					t.Errorf("error =\n  %s\nwant it to contain\n  %s", err, sub)
				}
			} else if err.Error() != tt.err {
				t.Errorf("error =\n  %s\nwant\n  %s", err, tt.err)
			}
		})
	}
}

func itoa(i int) string {
	return string(rune('0'+i/100)) + string(rune('0'+i/10%10)) + string(rune('0'+i%10))
}

func TestTypeString(t *testing.T) {
	for typ, want := range map[Type]string{TypeString: "string", TypeInteger: "integer", TypeBoolean: "boolean", 0: "Type(0)"} {
		if got := typ.String(); got != want {
			t.Errorf("Type(%d).String() = %q, want %q", typ, got, want)
		}
	}
}
