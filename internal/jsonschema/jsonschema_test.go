package jsonschema

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
)

type vcase struct {
	name   string
	schema string
	inst   string
	want   string // "" = valid; otherwise the exact Error() text
}

func runCases(t *testing.T, cases []vcase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Compile([]byte(tc.schema))
			if err != nil {
				t.Fatalf("Compile(%s): %v", tc.schema, err)
			}
			err = s.Validate([]byte(tc.inst))
			got := ""
			if err != nil {
				var ve *ValidationError
				if !errors.As(err, &ve) {
					t.Fatalf("error %T is not a *ValidationError", err)
				}
				got = err.Error()
			}
			if got != tc.want {
				t.Errorf("schema %s\ninstance %s\n got: %q\nwant: %q", tc.schema, tc.inst, got, tc.want)
			}
		})
	}
}

func TestType(t *testing.T) {
	runCases(t, []vcase{
		{"string ok", `{"type":"string"}`, `"x"`, ""},
		{"string bad", `{"type":"string"}`, `5`, "expected string, got number"},
		{"object ok", `{"type":"object"}`, `{}`, ""},
		{"object got array", `{"type":"object"}`, `[]`, "expected object, got array"},
		{"array ok", `{"type":"array"}`, `[1]`, ""},
		{"array got object", `{"type":"array"}`, `{"a":1}`, "expected array, got object"},
		{"boolean true", `{"type":"boolean"}`, `true`, ""},
		{"boolean false", `{"type":"boolean"}`, `false`, ""},
		{"boolean got null", `{"type":"boolean"}`, `null`, "expected boolean, got null"},
		{"null ok", `{"type":"null"}`, `null`, ""},
		{"null got boolean", `{"type":"null"}`, `false`, "expected null, got boolean"},
		{"number ok int", `{"type":"number"}`, `3`, ""},
		{"number ok frac", `{"type":"number"}`, `-3.25e-2`, ""},
		{"number got string", `{"type":"number"}`, `"3"`, "expected number, got string"},
		{"union ok string", `{"type":["string","null"]}`, `"a"`, ""},
		{"union ok null", `{"type":["string","null"]}`, `null`, ""},
		{"union bad", `{"type":["string","null"]}`, `1`, "expected string or null, got number"},
		{"union of three", `{"type":["string","integer","null"]}`, `true`, "expected string, integer or null, got boolean"},
		{"union int and string", `{"type":["integer","string"]}`, `2.5`, "expected integer or string, got number"},
		{"whitespace around", `{"type":"object"}`, " \t\r\n{ } \n", ""},
		{"nullable is not a thing", `{"type":"string","nullable":true}`, `null`, "expected string, got null"},
		{"no type accepts all", `{"description":"anything"}`, `[1,{"a":null}]`, ""},
	})
}

func TestInteger(t *testing.T) {
	ok := []string{"3", "-3", "0", "-0", "3.0", "3.000", "1e2", "1E2", "1e+2", "1.5e1", "12.50e1", "100e-2",
		"10e-1", "0.0", "0e-5", "-0.0e-99", "1e400", "-1.0e0", "123456789012345678901234567890", "9007199254740993",
		"1.00000000000000000000e3", "1234.5e1", "1e99999999999999999999"}
	bad := []string{"3.5", "-3.5", "1e-2", "1.25e1", "100e-3", "1e-400", "1.0000000000000001", "0.1", "-0.5",
		"123.456e2", "1e-99999999999999999999", "5e-1"}
	var cases []vcase
	for _, n := range ok {
		cases = append(cases, vcase{"ok " + n, `{"type":"integer"}`, n, ""})
	}
	for _, n := range bad {
		cases = append(cases, vcase{"bad " + n, `{"type":"integer"}`, n, "expected integer, got number"})
	}
	cases = append(cases,
		vcase{"string is not integer", `{"type":"integer"}`, `"3"`, "expected integer, got string"},
		vcase{"bool is not integer", `{"type":"integer"}`, `true`, "expected integer, got boolean"},
		vcase{"integer or null", `{"type":["integer","null"]}`, `4.0`, ""},
		vcase{"number and integer", `{"type":["integer","number"]}`, `4.5`, ""},
		vcase{"integer with max", `{"type":"integer","maximum":10}`, `1e1`, ""},
		vcase{"integer with max bad", `{"type":"integer","maximum":10}`, `1.1e1`, "must be <= 10"},
	)
	runCases(t, cases)
}

func TestIsIntegerLiteral(t *testing.T) {
	for _, tc := range []struct {
		n    string
		want bool
	}{
		{"0", true}, {"7", true}, {"7.0", true}, {"7.1", false}, {"70e-1", true}, {"71e-1", false},
		{"0.07e2", true}, {"0.071e2", false}, {"-0.0", true}, {"1000e-3", true}, {"1000e-4", false},
	} {
		if got := isIntegerLiteral([]byte(tc.n)); got != tc.want {
			t.Errorf("isIntegerLiteral(%s) = %v, want %v", tc.n, got, tc.want)
		}
	}
}

const toolSchema = `{
	"$schema": "https://json-schema.org/draft/2020-12/schema",
	"title": "weather",
	"description": "Get the weather",
	"type": "object",
	"properties": {
		"name": {"type": "string", "description": "city", "examples": ["Paris"]},
		"days": {"type": "integer", "minimum": 1, "maximum": 14, "default": 3},
		"unit": {"enum": ["c", "f"]},
		"items": {"type": "array", "items": {"type": "object", "properties": {"id": {"type": "string"}}, "required": ["id"]}}
	},
	"required": ["name"],
	"additionalProperties": false
}`

func TestObject(t *testing.T) {
	runCases(t, []vcase{
		{"ok", toolSchema, `{"name":"Alice"}`, ""},
		{"ok full", toolSchema, `{"name":"Alice","days":3,"unit":"c","items":[{"id":"a"},{"id":"b","x":1}]}`, ""},
		{"required missing", toolSchema, `{}`, `"name": required property is missing`},
		{"required missing with others", toolSchema, `{"days":2}`, `"name": required property is missing`},
		{"integer got string", toolSchema, `{"name":"a","days":"3"}`, `"days": expected integer, got string`},
		{"enum", toolSchema, `{"name":"a","unit":"k"}`, `"unit": must be one of "c", "f"`},
		{"array item field", toolSchema, `{"name":"a","items":[{"id":"a"},{"id":"b"},{"id":3}]}`, `"items[2].id": expected string, got number`},
		{"array item required", toolSchema, `{"name":"a","items":[{"id":"a"},{}]}`, `"items[1].id": required property is missing`},
		{"additional", toolSchema, `{"name":"a","extra":true}`, `"extra": additional property is not allowed`},
		{"minimum", toolSchema, `{"name":"a","days":0}`, `"days": must be >= 1`},
		{"maximum", toolSchema, `{"name":"a","days":15}`, `"days": must be <= 14`},
		{"root type", toolSchema, `[]`, `expected object, got array`},
		{"property errors before required", toolSchema, `{"days":"x"}`, `"days": expected integer, got string`},
		{"instance key order", toolSchema, `{"unit":"x","days":"x","name":"a"}`, `"unit": must be one of "c", "f"`},
		{"instance key order 2", toolSchema, `{"days":"x","unit":"x","name":"a"}`, `"days": expected integer, got string`},
		{"escaped key matches property", toolSchema, `{"n\u0061me":5}`, `"name": expected string, got number`},
		{"escaped key satisfies required", toolSchema, `{"n\u0061me":"x"}`, ""},
		{"required schema order", `{"required":["b","a"]}`, `{"c":1}`, `"b": required property is missing`},
		{"required without properties", `{"required":["a"]}`, `{"a":null}`, ""},
		{"required ignored for non-objects", `{"required":["a"]}`, `[1]`, ""},
		{"required duplicate names", `{"required":["a","a","b"]}`, `{"a":1}`, `"b": required property is missing`},
		{"required key needs brackets", `{"required":["a.b"]}`, `{}`, `"["a.b"]": required property is missing`},
		{"nested required", `{"properties":{"a":{"required":["x"]}}}`, `{"a":{"y":1}}`, `"a.x": required property is missing`},
		{"nested type", `{"properties":{"a":{"properties":{"b":{"type":"integer"}}}}}`, `{"a":{"b":"x"}}`, `"a.b": expected integer, got string`},
		{"properties ignored for non-objects", `{"properties":{"a":{"type":"string"}}}`, `"str"`, ""},
		{"unlisted properties allowed", `{"properties":{"a":{"type":"string"}}}`, `{"b":1,"a":"x"}`, ""},
		{"additional schema", `{"properties":{"a":{}},"additionalProperties":{"type":"integer"}}`, `{"a":"s","b":1,"c":"x"}`, `"c": expected integer, got string`},
		{"additional true", `{"additionalProperties":true}`, `{"a":1}`, ""},
		{"required-only name is additional", `{"required":["a"],"additionalProperties":false}`, `{"a":1}`, `"a": additional property is not allowed`},
		{"false property", `{"properties":{"x":false}}`, `{"x":1}`, `"x": property is not allowed`},
		{"true property", `{"properties":{"x":true}}`, `{"x":1}`, ""},
		{"minProperties", `{"minProperties":2}`, `{"a":1}`, `must have at least 2 properties`},
		{"minProperties ok", `{"minProperties":1}`, `{"a":1}`, ""},
		{"maxProperties", `{"maxProperties":1}`, `{"a":1,"b":2}`, `must have at most 1 property`},
		{"maxProperties ok", `{"maxProperties":2}`, `{"a":1,"b":2}`, ""},
		{"empty object required", `{"type":"object","required":["q"]}`, `{ }`, `"q": required property is missing`},
	})
}

func TestManyRequired(t *testing.T) {
	var names, props []string
	for i := range 70 {
		names = append(names, fmt.Sprintf("%q", fmt.Sprint("p", i)))
		props = append(props, fmt.Sprintf(`"p%d":%d`, i, i))
	}
	schema := `{"required":[` + strings.Join(names, ",") + `]}`
	full := `{` + strings.Join(props, ",") + `}`
	missing65 := `{` + strings.Join(append(append([]string{}, props[:65]...), props[66:]...), ",") + `}`
	missing3 := `{` + strings.Join(append(append([]string{}, props[:3]...), props[4:]...), ",") + `}`
	runCases(t, []vcase{
		{"all present", schema, full, ""},
		{"missing beyond 64", schema, missing65, `"p65": required property is missing`},
		{"missing below 64", schema, missing3, `"p3": required property is missing`},
	})
}

func TestEnumConst(t *testing.T) {
	mixed := `{"enum":[null,true,"a",1.5,[1,2],{"k":[1,2]}]}`
	var many []string
	for i := range 25 {
		many = append(many, fmt.Sprint(i))
	}
	runCases(t, []vcase{
		{"string ok", `{"enum":["c","f"]}`, `"f"`, ""},
		{"string bad", `{"enum":["c","f"]}`, `"C"`, `must be one of "c", "f"`},
		{"escaped string", `{"enum":["c","f"]}`, `"\u0063"`, ""},
		{"unicode string", `{"enum":["é"]}`, `"\u00e9"`, ""},
		{"unicode raw", `{"enum":["é"]}`, `"é"`, ""},
		{"escaped quote", `{"enum":["a\"b"]}`, `"a\"b"`, ""},
		{"surrogate pair", `{"enum":["😀"]}`, `"\ud83d\ude00"`, ""},
		{"numbers numerically", `{"enum":[1,2.5]}`, `1.0`, ""},
		{"numbers exp", `{"enum":[1,2.5]}`, `25e-1`, ""},
		{"numbers bad", `{"enum":[1,2.5]}`, `3`, `must be one of 1, 2.5`},
		{"string is not number", `{"enum":[1]}`, `"1"`, `must be one of 1`},
		{"false is not 0", `{"enum":[0]}`, `false`, `must be one of 0`},
		{"null ok", mixed, `null`, ""},
		{"true ok", mixed, `true`, ""},
		{"false bad", mixed, `false`, `must be one of null, true, "a", 1.5, [1,2], {"k":[1,2]}`},
		{"array ok", mixed, `[1, 2.0]`, ""},
		{"array short", mixed, `[1]`, `must be one of null, true, "a", 1.5, [1,2], {"k":[1,2]}`},
		{"array long", mixed, `[1,2,3]`, `must be one of null, true, "a", 1.5, [1,2], {"k":[1,2]}`},
		{"array order", mixed, `[2,1]`, `must be one of null, true, "a", 1.5, [1,2], {"k":[1,2]}`},
		{"empty array", mixed, `[]`, `must be one of null, true, "a", 1.5, [1,2], {"k":[1,2]}`},
		{"object ok", mixed, `{"k":[1,2]}`, ""},
		{"object escaped key", mixed, `{"\u006b":[1,2e0]}`, ""},
		{"object extra key", mixed, `{"k":[1,2],"z":1}`, `must be one of null, true, "a", 1.5, [1,2], {"k":[1,2]}`},
		{"object wrong key", mixed, `{"j":[1,2]}`, `must be one of null, true, "a", 1.5, [1,2], {"k":[1,2]}`},
		{"object empty", mixed, `{}`, `must be one of null, true, "a", 1.5, [1,2], {"k":[1,2]}`},
		{"empty object enum", `{"enum":[{}]}`, `{}`, ""},
		{"empty array enum", `{"enum":[[]]}`, `[ ]`, ""},
		{"nested enum path", `{"properties":{"u":{"enum":["c"]}}}`, `{"u":"x"}`, `"u": must be one of "c"`},
		{"long enum truncated", `{"enum":[` + strings.Join(many, ",") + `]}`, `99`,
			"must be one of 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, ..."},
		{"const ok", `{"const":"x"}`, `"x"`, ""},
		{"const bad", `{"const":"x"}`, `"y"`, `must be equal to "x"`},
		{"const object", `{"const":{"a":1,"b":[true]}}`, `{"b":[true],"a":1.0}`, ""},
		{"const object bad", `{"const":{"a":1}}`, `{"a":2}`, `must be equal to {"a":1}`},
		{"const null", `{"const":null}`, `null`, ""},
		{"const null bad", `{"const":null}`, `0`, `must be equal to null`},
		{"enum and type", `{"type":"string","enum":["a",1]}`, `1`, `expected string, got number`},
	})
}

func TestArray(t *testing.T) {
	runCases(t, []vcase{
		{"items ok", `{"items":{"type":"integer"}}`, `[1,2,3]`, ""},
		{"items bad root path", `{"items":{"type":"integer"}}`, `[1,"x"]`, `"[1]": expected integer, got string`},
		{"nested arrays", `{"items":{"items":{"type":"integer"}}}`, `[[1],[2,"x"]]`, `"[1][1]": expected integer, got string`},
		{"array of objects", `{"properties":{"a":{"items":{"properties":{"b":{"items":{"type":"null"}}}}}}}`,
			`{"a":[{},{"b":[null,1]}]}`, `"a[1].b[1]": expected null, got number`},
		{"items ignored for non-arrays", `{"items":{"type":"integer"}}`, `{"a":"x"}`, ""},
		{"minItems", `{"minItems":1}`, `[]`, `must have at least 1 item`},
		{"minItems 2", `{"minItems":2}`, `[1]`, `must have at least 2 items`},
		{"minItems ok", `{"minItems":2}`, `[1,2]`, ""},
		{"maxItems", `{"maxItems":2}`, `[1,2,3]`, `must have at most 2 items`},
		{"maxItems ok", `{"maxItems":2}`, `[1,2]`, ""},
		{"maxItems 0", `{"maxItems":0}`, `[[]]`, `must have at most 0 items`},
		{"item error before maxItems", `{"maxItems":2,"items":{"type":"integer"}}`, `[1,"x",3]`, `"[1]": expected integer, got string`},
		{"maxItems before later item error", `{"maxItems":2,"items":{"type":"integer"}}`, `[1,2,"x"]`, `must have at most 2 items`},
		{"items false", `{"items":false}`, `[]`, ""},
		{"items false bad", `{"items":false}`, `[1]`, `"[0]": value is not allowed`},
	})
}

func TestString(t *testing.T) {
	runCases(t, []vcase{
		{"minLength ok", `{"minLength":2}`, `"ab"`, ""},
		{"minLength bad", `{"minLength":2}`, `"a"`, `must be at least 2 characters long`},
		{"minLength 1", `{"minLength":1}`, `""`, `must be at least 1 character long`},
		{"maxLength bad", `{"maxLength":3}`, `"abcd"`, `must be at most 3 characters long`},
		{"maxLength unicode ok", `{"maxLength":5}`, `"héllo"`, ""},
		{"maxLength unicode bad", `{"maxLength":4}`, `"héllo"`, `must be at most 4 characters long`},
		{"emoji is one", `{"maxLength":1}`, `"😀"`, ""},
		{"escaped pair is one", `{"maxLength":1,"minLength":1}`, `"\ud83d\ude00"`, ""},
		{"escaped bmp is one", `{"maxLength":1,"minLength":1}`, `"\u00e9"`, ""},
		{"escape is one", `{"maxLength":1,"minLength":1}`, `"\n"`, ""},
		{"lone surrogate is one", `{"maxLength":1,"minLength":1}`, `"\ud800"`, ""},
		{"combining counts two", `{"maxLength":1}`, `"e\u0301"`, `must be at most 1 character long`},
		{"invalid utf8 byte counts one", `{"maxLength":1,"minLength":1}`, "\"\xff\"", ""},
		{"invalid utf8 bytes count each", `{"maxLength":1}`, "\"\xe2\x82\"", `must be at most 1 character long`},
		{"lengths ignored for non-strings", `{"maxLength":1}`, `12345`, ""},
		{"pattern ok", `{"pattern":"^[a-z]+$"}`, `"abc"`, ""},
		{"pattern bad", `{"pattern":"^[a-z]+$"}`, `"ab1"`, `must match pattern "^[a-z]+$"`},
		{"pattern unanchored", `{"pattern":"b"}`, `"abc"`, ""},
		{"pattern on escaped", `{"pattern":"^a\\nb$"}`, `"a\nb"`, ""},
		{"pattern on unicode escape", `{"pattern":"^é$"}`, `"\u00e9"`, ""},
		{"pattern ignored for non-strings", `{"pattern":"^a$"}`, `5`, ""},
		{"pattern in property", `{"properties":{"id":{"type":"string","pattern":"^[0-9]{3}$"}}}`, `{"id":"12"}`, `"id": must match pattern "^[0-9]{3}$"`},
	})
}

func TestNumber(t *testing.T) {
	runCases(t, []vcase{
		{"minimum ok", `{"minimum":1}`, `1`, ""},
		{"minimum bad", `{"minimum":1}`, `0.999`, `must be >= 1`},
		{"exclusiveMinimum bad", `{"exclusiveMinimum":0}`, `0`, `must be > 0`},
		{"exclusiveMinimum ok", `{"exclusiveMinimum":0}`, `1e-300`, ""},
		{"maximum ok", `{"maximum":10}`, `10`, ""},
		{"maximum bad", `{"maximum":10}`, `10.5`, `must be <= 10`},
		{"exclusiveMaximum bad", `{"exclusiveMaximum":10}`, `10.0`, `must be < 10`},
		{"exclusiveMaximum ok", `{"exclusiveMaximum":10}`, `9.99`, ""},
		{"limit as written", `{"minimum":1e2}`, `99`, `must be >= 1e2`},
		{"negative", `{"minimum":-5.5}`, `-6`, `must be >= -5.5`},
		{"huge", `{"maximum":10}`, `1e400`, `must be <= 10`},
		{"huge negative", `{"minimum":-10}`, `-1e400`, `must be >= -10`},
		{"order of checks", `{"minimum":5,"maximum":1}`, `3`, `must be >= 5`},
		{"ignored for non-numbers", `{"minimum":5}`, `"1"`, ""},
	})
}

func TestCombinators(t *testing.T) {
	opt := `{"anyOf":[{"type":"string"},{"type":"null"}]}`
	runCases(t, []vcase{
		{"anyOf first", opt, `"a"`, ""},
		{"anyOf second", opt, `null`, ""},
		{"anyOf type union", opt, `5`, `expected string or null, got number`},
		{"anyOf one deep", `{"anyOf":[{"type":"string","minLength":2},{"type":"null"}]}`, `"a"`, `must be at least 2 characters long`},
		{"anyOf deep path", `{"properties":{"o":{"anyOf":[{"type":"object","required":["x"]},{"type":"null"}]}}}`, `{"o":{}}`, `"o.x": required property is missing`},
		{"anyOf generic", `{"anyOf":[{"type":"string","minLength":2},{"type":"string","pattern":"^[0-9]$"}]}`, `"a"`, `must match at least one schema in anyOf`},
		{"anyOf untyped", `{"anyOf":[{"enum":[1]},{"enum":[2]}]}`, `3`, `must match at least one schema in anyOf`},
		{"anyOf in array", `{"items":{"anyOf":[{"type":"integer"},{"type":"boolean"}]}}`, `[1,true,"x"]`, `"[2]": expected integer or boolean, got string`},
		{"oneOf ok", `{"oneOf":[{"type":"integer"},{"type":"string"}]}`, `1`, ""},
		{"oneOf many", `{"oneOf":[{"type":"integer"},{"type":"number"}]}`, `1`, `must match exactly one schema in oneOf, but matches more than one`},
		{"oneOf number only", `{"oneOf":[{"type":"integer"},{"type":"number"}]}`, `1.5`, ""},
		{"oneOf none typed", `{"oneOf":[{"type":"integer"},{"type":"string"}]}`, `null`, `expected string or integer, got null`},
		{"oneOf none generic", `{"oneOf":[{"minimum":5},{"maximum":1}]}`, `3`, `must match exactly one schema in oneOf, but matches none`},
		{"oneOf none deep", `{"oneOf":[{"minimum":5},{"type":"string"}]}`, `3`, `must be >= 5`},
		{"allOf ok", `{"allOf":[{"type":"object"},{"required":["a"]}]}`, `{"a":1}`, ""},
		{"allOf bad", `{"allOf":[{"type":"object"},{"required":["a"]}]}`, `{}`, `"a": required property is missing`},
		{"allOf first failing", `{"allOf":[{"minimum":5},{"maximum":1}]}`, `3`, `must be >= 5`},
		{"not ok", `{"not":{"type":"null"}}`, `1`, ""},
		{"not bad", `{"not":{"type":"null"}}`, `null`, `must not match the schema in not`},
		{"own keywords first", `{"type":"integer","anyOf":[{"minimum":5}]}`, `"x"`, `expected integer, got string`},
		{"combinators after", `{"type":"integer","anyOf":[{"minimum":5}]}`, `3`, `must be >= 5`},
		{"nested combinators", `{"anyOf":[{"allOf":[{"type":"array"},{"items":{"type":"string"}}]},{"type":"null"}]}`, `["a",1]`, `"[1]": expected string, got number`},
	})
}

func TestBooleanSchemas(t *testing.T) {
	runCases(t, []vcase{
		{"true", `true`, `{"a":[1,2,{"b":null}]}`, ""},
		{"empty", `{}`, `"x"`, ""},
		{"false", `false`, `1`, `value is not allowed`},
		{"false allOf", `{"allOf":[true,false]}`, `1`, `value is not allowed`},
		{"annotations and unreferenced defs", `{"$id":"x","title":"t","format":"email","readOnly":true,"x-custom":1,` +
			`"$defs":{"a":{"$ref":"#"}},"definitions":{"b":{"$ref":"#"}},"type":"string"}`, `"not an email"`, ""},
	})
}

func TestPaths(t *testing.T) {
	str := `{"type":"string"}`
	nested := func(key string) string {
		return `{"properties":{"a":{"properties":{` + key + `:` + str + `}}}}`
	}
	runCases(t, []vcase{
		{"dot key", nested(`"b.c"`), `{"a":{"b.c":1}}`, `"a["b.c"]": expected string, got number`},
		{"quote key", nested(`"say \"hi\""`), `{"a":{"say \"hi\"":1}}`, `"a["say \"hi\""]": expected string, got number`},
		{"space key", nested(`"b c"`), `{"a":{"b c":1}}`, `"a["b c"]": expected string, got number`},
		{"empty key", nested(`""`), `{"a":{"":1}}`, `"a[""]": expected string, got number`},
		{"unicode key", nested(`"名前"`), `{"a":{"名前":1}}`, `"a["名前"]": expected string, got number`},
		{"control key", nested(`"x\ny"`), `{"a":{"x\ny":1}}`, `"a["x\ny"]": expected string, got number`},
		{"escaped instance key", nested(`"b.c"`), `{"a":{"b\u002ec":1}}`, `"a["b.c"]": expected string, got number`},
		{"plain with dash and digits", nested(`"user-id_2"`), `{"a":{"user-id_2":1}}`, `"a.user-id_2": expected string, got number`},
		{"root bracket key", `{"properties":{"b.c":` + str + `}}`, `{"b.c":1}`, `"["b.c"]": expected string, got number`},
		{"root index", `{"items":` + str + `}`, `[1]`, `"[0]": expected string, got number`},
		{"key after index", `{"items":{"properties":{"k":` + str + `}}}`, `["x",{"k":1}]`, `"[1].k": expected string, got number`},
		{"bracket after index", `{"items":{"properties":{"k k":` + str + `}}}`, `[{"k k":1}]`, `"[0]["k k"]": expected string, got number`},
		{"additional key path", `{"additionalProperties":false}`, `{"a\"b":1}`, `"["a\"b"]": additional property is not allowed`},
	})
}

func TestValidationErrorFields(t *testing.T) {
	s := mustCompile(t, toolSchema)
	err := s.Validate([]byte(`{"name":"a","items":[{"id":"a"},{"id":"b"},{"id":3}]}`))
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("got %v", err)
	}
	if ve.Path != "items[2].id" || ve.Message != "expected string, got number" {
		t.Errorf("got %+v", ve)
	}
	err = s.Validate([]byte(`[`))
	if !errors.As(err, &ve) || ve.Path != "" || ve.Message != "arguments are not valid JSON" || err.Error() != ve.Message {
		t.Errorf("got %+v", err)
	}
	if err := s.Validate([]byte(`{"name":"a"}`)); err != nil {
		t.Errorf("got %v (%T)", err, err)
	}
	var nilSchema *Schema
	if err := nilSchema.Validate([]byte(`{"x":1}`)); err != nil {
		t.Errorf("nil schema: %v", err)
	}
	if err := nilSchema.Validate([]byte(`{"x":1`)); err == nil {
		t.Errorf("nil schema accepted invalid JSON")
	}
}

func TestInvalidJSON(t *testing.T) {
	bad := []string{
		"", " ", "{", "}", "[", "]", `{"a":}`, `{"a"}`, `{"a" 1}`, `{"a":1,}`, `{,}`, `[1,]`, `[,1]`, `[1 2]`,
		`1 2`, `{}x`, `{}{}`, `01`, `-01`, `1.`, `.5`, `-`, `+1`, `1e`, `1e+`, `1.e5`, `0x10`, `NaN`, `Infinity`,
		`tru`, `nul`, `fals`, `truee`, `nulll`, `True`, `"abc`, `"\x"`, `"\u12"`, `"\u12g4"`, "\"a\tb\"", "\"a\x00b\"",
		`{'a':1}`, `{a:1}`, `{"a":1]`, `[1}`, "\xef\xbb\xbf{}", `[1,,2]`, `{"a":1 "b":2}`, `"\`, `"\"`, `{"a":1}}`,
		`{"a"::1}`, `[-]`, `[1.0e]`, "{\"a\":1,\"b\"}", `/* */{}`, `{"a":[1,2}`,
	}
	s := mustCompile(t, `{}`)
	strict := mustCompile(t, toolSchema)
	for _, in := range bad {
		for _, sch := range []*Schema{s, strict} {
			err := sch.Validate([]byte(in))
			var ve *ValidationError
			if !errors.As(err, &ve) || ve.Path != "" || ve.Message != "arguments are not valid JSON" {
				t.Errorf("Validate(%q) = %v, want not valid JSON", in, err)
			}
		}
	}
	good := []string{`0`, `-0`, `1e5`, `1E-5`, `-1.5e+3`, `""`, `"\u00e9\ud83d\ude00\"\\\/\b\f\n\r\t"`, `"\ud800"`,
		"\"\xff\"", `[]`, `{}`, `[[],{}]`, ` {"a" : [ 1 , { } ] } `, `null`, `true`, `false`, "\"é\""}
	for _, in := range good {
		if err := s.Validate([]byte(in)); err != nil {
			t.Errorf("Validate(%q) = %v, want nil", in, err)
		}
	}
}

func TestDepth(t *testing.T) {
	s := mustCompile(t, `{}`)
	typed := mustCompile(t, `{"items":{"items":{"type":"array"}}}`)
	arr := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	obj := func(n int) string { return strings.Repeat(`{"a":`, n-1) + "{}" + strings.Repeat("}", n-1) }
	for _, sch := range []*Schema{s, typed} {
		if err := sch.Validate([]byte(arr(64))); err != nil {
			t.Errorf("64 arrays: %v", err)
		}
		if err := sch.Validate([]byte(obj(64))); err != nil && sch == s {
			t.Errorf("64 objects: %v", err)
		}
		for _, in := range []string{arr(65), obj(65), strings.Repeat("[", 1<<20), strings.Repeat(`{"a":`, 1<<18)} {
			err := sch.Validate([]byte(in))
			if err == nil || err.Error() != "nested too deeply" {
				t.Errorf("deep input (%d bytes): %v, want nested too deeply", len(in), err)
			}
		}
	}
}

func TestDuplicateKeys(t *testing.T) {
	var big, bigDup []string
	for i := range 100 {
		big = append(big, fmt.Sprintf(`"k%d":%d`, i, i))
	}
	bigDup = append(append(bigDup, big...), `"k\u0035":0`)
	runCases(t, []vcase{
		{"dup", `{}`, `{"a":1,"a":2}`, `"a": duplicate property`},
		{"dup escaped", `{}`, `{"a":1,"\u0061":2}`, `"a": duplicate property`},
		{"dup invalid utf8", `{}`, "{\"a\xff\":1,\"a\xfe\":2}", `"["a�"]": duplicate property`},
		{"dup nested", `{}`, `{"x":[{"k":1,"k":1}]}`, `"x[0].k": duplicate property`},
		{"dup beats schema error", `{"type":"string"}`, `{"a":1,"a":2}`, `"a": duplicate property`},
		{"same key other levels", `{}`, `{"a":{"a":{"a":1}},"b":[{"a":1},{"a":1}]}`, ""},
		{"same key sibling objects", `{}`, `[{"a":1,"b":2},{"b":1,"a":2}]`, ""},
		{"big object ok", `{}`, `{` + strings.Join(big, ",") + `}`, ""},
		{"big object dup", `{}`, `{` + strings.Join(bigDup, ",") + `}`, `"k5": duplicate property`},
		{"big nested in big", `{}`, `{"o":{` + strings.Join(big, ",") + `},` + strings.Join(big, ",") + `}`, ""},
	})
}

func TestCompileErrors(t *testing.T) {
	for _, tc := range []struct{ schema, want string }{
		{`{`, "not valid JSON"},
		{``, "not valid JSON"},
		{`"string"`, "schema must be an object or a boolean"},
		{`5`, "schema must be an object or a boolean"},
		{`{"type":"strin"}`, `invalid type name "strin"`},
		{`{"type":"any"}`, `invalid type name "any"`},
		{`{"type":5}`, "type must be"},
		{`{"type":[]}`, "type must be"},
		{`{"type":["string",1]}`, "type must be"},
		{`{"required":"a"}`, "required must be an array of strings"},
		{`{"required":[1]}`, "required must be an array of strings"},
		{`{"required":null}`, "required must be an array of strings"},
		{`{"$ref":"#/$defs/x"}`, `#: $ref "#/$defs/x" does not resolve`},
		{`{"$dynamicRef":"#x"}`, `unsupported keyword "$dynamicRef"`},
		{`{"properties":{"a":{"$recursiveRef":"#"}}}`, `#/properties/a: unsupported keyword "$recursiveRef"`},
		{`{"properties":{"a/b":{"items":{"unevaluatedItems":false}}}}`, `#/properties/a~1b/items: unsupported keyword "unevaluatedItems"`},
		{`{"anyOf":[{},{"divisibleBy":2}]}`, `#/anyOf/1: unsupported keyword "divisibleBy" (draft-03; use multipleOf)`},
		{`{"prefixItems":{}}`, "prefixItems must be an array of schemas"},
		{`{"prefixItems":[{}],"items":[{}]}`, "items must be a schema when prefixItems is present"},
		{`{"dependentRequired":{"a":"b"}}`, `dependentRequired: "a" must be an array of strings`},
		{`{"dependentRequired":[]}`, "dependentRequired must be an object"},
		{`{"dependentSchemas":{"a":1}}`, "#/dependentSchemas/a: schema must be an object or a boolean"},
		{`{"dependencies":{"a":[1]}}`, `dependencies: "a" must be an array of strings`},
		{`{"patternProperties":{"(":{}}}`, `patternProperties: pattern "("`},
		{`{"patternProperties":[]}`, "patternProperties must be an object"},
		{`{"uniqueItems":1}`, "uniqueItems must be a boolean"},
		{`{"multipleOf":0}`, "multipleOf must be a number greater than 0"},
		{`{"multipleOf":-2}`, "multipleOf must be a number greater than 0"},
		{`{"multipleOf":"2"}`, "multipleOf must be a number greater than 0"},
		{`{"multipleOf":1e9999999999}`, "multipleOf 1e9999999999 is out of range"},
		{`{"contains":{},"minContains":-1}`, "minContains must be a non-negative integer"},
		{`{"contains":{},"maxContains":1.5}`, "maxContains must be a non-negative integer"},
		{`{"if":5,"then":{}}`, "#/if: schema must be an object or a boolean"},
		{`{"if":{},"then":[]}`, "#/then: schema must be an object or a boolean"},
		{`{"propertyNames":"x"}`, "#/propertyNames: schema must be an object or a boolean"},
		{`{"exclusiveMaximum":true}`, "exclusiveMaximum: true requires maximum"},
		{`{"minimum":1,"exclusiveMinimum":"x"}`, "exclusiveMinimum must be a number"},
		{`{"unevaluatedProperties":1}`, "#/unevaluatedProperties: schema must be an object or a boolean"},
		{`{"pattern":"("}`, "pattern"},
		{`{"pattern":5}`, "pattern must be a string"},
		{`{"minLength":-1}`, "minLength must be a non-negative integer"},
		{`{"maxLength":1.5}`, "maxLength must be a non-negative integer"},
		{`{"minItems":"1"}`, "minItems must be a non-negative integer"},
		{`{"maxProperties":null}`, "maxProperties must be a non-negative integer"},
		{`{"minimum":"1"}`, "minimum must be a number"},
		{`{"exclusiveMinimum":true}`, "exclusiveMinimum: true requires minimum"},
		{`{"enum":[]}`, "enum must be a non-empty array"},
		{`{"enum":"a"}`, "enum must be a non-empty array"},
		{`{"items":[5]}`, "#/items/0: schema must be an object or a boolean"},
		{`{"items":5}`, "schema must be an object or a boolean"},
		{`{"anyOf":[]}`, "anyOf must be a non-empty array of schemas"},
		{`{"oneOf":{}}`, "oneOf must be a non-empty array of schemas"},
		{`{"allOf":[5]}`, "#/allOf/0: schema must be an object or a boolean"},
		{`{"not":[]}`, "#/not: schema must be an object or a boolean"},
		{`{"properties":[]}`, "properties must be an object"},
		{`{"additionalProperties":5}`, "#/additionalProperties: schema must be an object or a boolean"},
		{strings.Repeat(`{"not":`, 200) + `{}` + strings.Repeat(`}`, 200), "nested too deeply"},
	} {
		s, err := Compile([]byte(tc.schema))
		if err == nil {
			t.Errorf("Compile(%.60s) succeeded, want error containing %q", tc.schema, tc.want)
			continue
		}
		if s != nil {
			t.Errorf("Compile(%.60s) returned a schema with an error", tc.schema)
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Compile(%.60s) = %q, want it to contain %q", tc.schema, err, tc.want)
		}
	}
	for _, ok := range []string{`true`, `false`, `{}`, ` {"type":"object"} `, `{"then":{},"else":{}}`,
		`{"then":5,"else":[]}`, `{"additionalItems":false}`, `{"type":["integer","integer"]}`, `{"exclusiveMaximum":1e400}`,
		`{"exclusiveMinimum":false}`, `{"uniqueItems":false}`, `{"minContains":3}`, `{"$defs":{"x":{"$dynamicRef":"#"}}}`,
		`{"multipleOf":1e-400}`, `{"items":[],"additionalItems":false}`} {
		if _, err := Compile([]byte(ok)); err != nil {
			t.Errorf("Compile(%s): %v", ok, err)
		}
	}
}

func TestConcurrent(t *testing.T) {
	s := mustCompile(t, toolSchema)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 500 {
				inst := fmt.Sprintf(`{"name":"n%d","days":%d,"items":[{"id":"x"},{"id":%d}]}`, g, 1+i%14, i)
				err := s.Validate([]byte(inst))
				if err == nil || err.Error() != `"items[1].id": expected string, got number` {
					t.Errorf("got %v", err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func TestAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items under the race detector")
	}
	for _, tc := range []struct{ schema, inst string }{
		{simpleSchema, `{"name":"Alice"}`},
		{toolSchema, `{"name":"Alice","days":3,"unit":"c","items":[{"id":"a"},{"id":"b\u00e9"}]}`},
		{`{"type":"string","pattern":"^[a-z]+$","maxLength":10}`, `"hello"`},
		{`{"enum":[{"a":[1,2]}]}`, `{"a":[1,2]}`},
		{`{"anyOf":[{"type":"string"},{"type":"null"}]}`, `null`},
	} {
		s := mustCompile(t, tc.schema)
		inst := []byte(tc.inst)
		if err := s.Validate(inst); err != nil {
			t.Fatal(err)
		}
		if n := testing.AllocsPerRun(200, func() { _ = s.Validate(inst) }); n > 0 {
			t.Errorf("Validate(%s) allocates %v times, want 0", tc.inst, n)
		}
	}
}

const simpleSchema = `{"type":"object","properties":{"name":{"type":"string"}},"required":["name"]}`

func mustCompile(t testing.TB, schema string) *Schema {
	t.Helper()
	s, err := Compile([]byte(schema))
	if err != nil {
		t.Fatalf("Compile(%s): %v", schema, err)
	}
	return s
}
