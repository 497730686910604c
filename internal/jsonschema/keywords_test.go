package jsonschema

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// conformanceSchema is the json-schema-2020-12 tool of the MCP conformance
// suite (also registered by test/conformance/fixture).
const conformanceSchema = `{"$schema":"https://json-schema.org/draft/2020-12/schema","type":"object",` +
	`"$defs":{"address":{"$anchor":"addressDef","type":"object","properties":{"street":{"type":"string"},"city":{"type":"string"}}}},` +
	`"properties":{"name":{"type":"string"},"address":{"$ref":"#/$defs/address"},"contactMethod":{"type":"string","enum":["phone","email"]},` +
	`"phone":{"type":"string"},"email":{"type":"string"}},"allOf":[{"anyOf":[{"required":["phone"]},{"required":["email"]}]}],` +
	`"if":{"properties":{"contactMethod":{"const":"phone"}},"required":["contactMethod"]},"then":{"required":["phone"]},` +
	`"else":{"required":["email"]},"additionalProperties":false}`

func TestConformanceSchema(t *testing.T) {
	s := conformanceSchema
	runCases(t, []vcase{
		{"name and email", s, `{"name":"a","email":"x"}`, ""},
		{"phone contact with phone", s, `{"contactMethod":"phone","phone":"1"}`, ""},
		{"email contact", s, `{"contactMethod":"email","email":"x"}`, ""},
		{"address", s, `{"address":{"street":"s","city":"c","zip":1},"email":"x"}`, ""},
		{"phone contact without phone", s, `{"contactMethod":"phone","email":"x"}`, `"phone": required property is missing`},
		{"address street", s, `{"address":{"street":1},"email":"x"}`, `"address.street": expected string, got number`},
		{"address type", s, `{"address":"x","email":"x"}`, `"address": expected object, got string`},
		{"additional", s, `{"x":1,"email":"e"}`, `"x": additional property is not allowed`},
		{"neither phone nor email", s, `{"name":"a"}`, `must match at least one schema in anyOf`},
		{"phone only, no contactMethod", s, `{"phone":"1"}`, `"email": required property is missing`},
		{"bad contactMethod", s, `{"contactMethod":"fax","email":"x"}`, `"contactMethod": must be one of "phone", "email"`},
		{"not an object", s, `[]`, `expected object, got array`},
	})
	// The anchor resolves too.
	anchored := strings.Replace(s, `"$ref":"#/$defs/address"`, `"$ref":"#addressDef"`, 1)
	runCases(t, []vcase{
		{"anchor ok", anchored, `{"address":{"city":"c"},"email":"x"}`, ""},
		{"anchor bad", anchored, `{"address":{"city":2},"email":"x"}`, `"address.city": expected string, got number`},
	})
}

func TestRef(t *testing.T) {
	tree := `{"type":"object","properties":{"value":{"type":"integer"},"children":{"type":"array","items":{"$ref":"#"}}},` +
		`"required":["value"],"additionalProperties":false}`
	escapes := `{"$defs":{"a/b":{"type":"string"},"c~d":{"type":"integer"},"e%f":{"type":"null"},"g h":{"type":"boolean"},"é":{"const":1}},` +
		`"properties":{"x":{"$ref":"#/$defs/a~1b"},"y":{"$ref":"#/$defs/c~0d"},"z":{"$ref":"#/$defs/e%25f"},"w":{"$ref":"#/$defs/g%20h"},` +
		`"v":{"$ref":"#/$defs/%C3%A9"},"u":{"$ref":"#/$defs/é"}}}`
	embedded := `{"$id":"https://example.com/root.json","$defs":{"num":{"type":"string"},"item":{"$id":"item.json","type":"object",` +
		`"properties":{"n":{"$ref":"#/$defs/num"}},"$defs":{"num":{"type":"integer"}}}},` +
		`"properties":{"i":{"$ref":"item.json"},"j":{"$ref":"https://example.com/item.json#/properties/n"},` +
		`"k":{"$ref":"https://example.com/root.json#/$defs/item"},"l":{"$ref":"#/$defs/num"},"m":{"$ref":"root.json#/$defs/num"}}}`
	mutual := `{"$defs":{"a":{"type":"object","properties":{"b":{"$ref":"#/$defs/b"}}},"b":{"type":"array","items":{"$ref":"#/$defs/a"}}},` +
		`"$ref":"#/$defs/a"}`
	runCases(t, []vcase{
		{"defs", `{"$defs":{"s":{"type":"string"}},"properties":{"a":{"$ref":"#/$defs/s"}}}`, `{"a":1}`, `"a": expected string, got number`},
		{"defs ok", `{"$defs":{"s":{"type":"string"}},"properties":{"a":{"$ref":"#/$defs/s"}}}`, `{"a":"x"}`, ""},
		{"definitions", `{"definitions":{"s":{"type":"string"}},"properties":{"a":{"$ref":"#/definitions/s"}}}`, `{"a":1}`, `"a": expected string, got number`},
		{"root ref", `{"$defs":{"x":{"$ref":"#"}},"type":"object","properties":{"a":{"$ref":"#/$defs/x"}}}`, `{"a":{"a":[]}}`, `"a.a": expected object, got array`},
		{"tree ok", tree, `{"value":1,"children":[{"value":2,"children":[{"value":3}]},{"value":4,"children":[]}]}`, ""},
		{"tree deep error", tree, `{"value":1,"children":[{"value":2,"children":[{"value":"x"}]}]}`, `"children[0].children[0].value": expected integer, got string`},
		{"tree required", tree, `{"value":1,"children":[{"children":[]}]}`, `"children[0].value": required property is missing`},
		{"tree additional", tree, `{"value":1,"children":[{"value":1,"x":0}]}`, `"children[0].x": additional property is not allowed`},
		{"mutual ok", mutual, `{"b":[{"b":[{}]},{}]}`, ""},
		{"mutual bad", mutual, `{"b":[{"b":[{"b":5}]}]}`, `"b[0].b[0].b": expected array, got number`},
		{"pointer escapes ~1", escapes, `{"x":1}`, `"x": expected string, got number`},
		{"pointer escapes ~0", escapes, `{"y":"1"}`, `"y": expected integer, got string`},
		{"pointer escapes %25", escapes, `{"z":1}`, `"z": expected null, got number`},
		{"pointer escapes %20", escapes, `{"w":1}`, `"w": expected boolean, got number`},
		{"pointer escapes utf-8", escapes, `{"v":2,"u":1}`, `"v": must be equal to 1`},
		{"pointer raw non-ascii", escapes, `{"v":1,"u":2}`, `"u": must be equal to 1`},
		{"pointer into properties", `{"properties":{"a":{"type":"string","minLength":2},"b":{"$ref":"#/properties/a"}}}`, `{"b":"x"}`, `"b": must be at least 2 characters long`},
		{"pointer through array", `{"$defs":{"list":[{"type":"string"},{"type":"null"}]},"properties":{"b":{"$ref":"#/$defs/list/1"}}}`, `{"b":1}`, `"b": expected null, got number`},
		{"pointer to allOf item", `{"properties":{"a":{"allOf":[{"maximum":3}]},"b":{"$ref":"#/properties/a/allOf/0"}}}`, `{"b":4}`, `"b": must be <= 3`},
		{"anchor", `{"$defs":{"a":{"$anchor":"addr","type":"string"}},"properties":{"x":{"$ref":"#addr"}}}`, `{"x":1}`, `"x": expected string, got number`},
		{"dynamicAnchor as anchor", `{"$defs":{"a":{"$dynamicAnchor":"t","type":"string"}},"properties":{"x":{"$ref":"#t"}}}`, `{"x":1}`, `"x": expected string, got number`},
		{"draft-07 $id anchor", `{"$schema":"http://json-schema.org/draft-07/schema#","definitions":{"a":{"$id":"#foo","type":"string"}},"properties":{"x":{"$ref":"#foo"}}}`, `{"x":1}`, `"x": expected string, got number`},
		{"embedded resource", embedded, `{"i":{"n":"x"}}`, `"i.n": expected integer, got string`},
		{"embedded resource ok", embedded, `{"i":{"n":1},"j":2,"k":{"n":3},"l":"s","m":"t"}`, ""},
		{"embedded by absolute uri", embedded, `{"j":"x"}`, `"j": expected integer, got string`},
		{"root by absolute uri", embedded, `{"k":{"n":"x"}}`, `"k.n": expected integer, got string`},
		{"root defs not shadowed", embedded, `{"l":1}`, `"l": expected string, got number`},
		{"relative to root id", embedded, `{"m":1}`, `"m": expected string, got number`},
		{"siblings apply", `{"$defs":{"s":{"type":"string"}},"properties":{"a":{"$ref":"#/$defs/s","maxLength":2}}}`, `{"a":"abc"}`, `"a": must be at most 2 characters long`},
		{"own keywords before $ref", `{"$defs":{"s":{"type":"string"}},"properties":{"a":{"$ref":"#/$defs/s","minimum":5}}}`, `{"a":3}`, `"a": must be >= 5`},
		{"$ref after own keywords", `{"$defs":{"s":{"type":"string"}},"properties":{"a":{"$ref":"#/$defs/s","minimum":5}}}`, `{"a":7}`, `"a": expected string, got number`},
		{"draft-07 siblings ignored", `{"$schema":"http://json-schema.org/draft-07/schema#","definitions":{"s":{"type":"string"}},` +
			`"properties":{"a":{"$ref":"#/definitions/s","maxLength":2,"unevaluatedItems":false}}}`, `{"a":"abc"}`, ""},
		{"draft-07 ref still applies", `{"$schema":"http://json-schema.org/draft-07/schema#","definitions":{"s":{"type":"string"}},` +
			`"properties":{"a":{"$ref":"#/definitions/s","maxLength":2}}}`, `{"a":1}`, `"a": expected string, got number`},
		{"optional model union message", `{"$defs":{"M":{"type":"object"}},"properties":{"m":{"anyOf":[{"$ref":"#/$defs/M"},{"type":"null"}]}}}`,
			`{"m":"x"}`, `"m": expected object or null, got string`},
		{"optional model deep error", `{"$defs":{"M":{"type":"object","required":["id"]}},"properties":{"m":{"anyOf":[{"$ref":"#/$defs/M"},{"type":"null"}]}}}`,
			`{"m":{}}`, `"m.id": required property is missing`},
		{"ref chain", `{"$defs":{"a":{"$ref":"#/$defs/b"},"b":{"$ref":"#/$defs/c"},"c":{"type":"integer"}},"properties":{"x":{"$ref":"#/$defs/a"}}}`, `{"x":true}`, `"x": expected integer, got boolean`},
		{"ref to false", `{"$defs":{"no":false},"properties":{"a":{"$ref":"#/$defs/no"}}}`, `{"a":1}`, `"a": value is not allowed`},
		{"ref to true", `{"$defs":{"yes":true},"properties":{"a":{"$ref":"#/$defs/yes"}},"additionalProperties":false}`, `{"a":1}`, ""},
		{"ref to empty", `{"$defs":{"any":{}},"items":{"$ref":"#/$defs/any"}}`, `[1,"a",null]`, ""},
		{"pydantic allOf wrapper", `{"$defs":{"Color":{"enum":["red","green"],"type":"string"}},"properties":{"c":{"allOf":[{"$ref":"#/$defs/Color"}],"default":"red"}}}`,
			`{"c":"blue"}`, `"c": must be one of "red", "green"`},
	})
}

func TestRefDepth(t *testing.T) {
	s := mustCompile(t, `{"$defs":{"n":{"type":"array","items":{"$ref":"#/$defs/n"}}},"$ref":"#/$defs/n"}`)
	if err := s.Validate([]byte(strings.Repeat("[", 64) + strings.Repeat("]", 64))); err != nil {
		t.Errorf("64 levels: %v", err)
	}
	bad := strings.Repeat("[", 63) + "1" + strings.Repeat("]", 63)
	if err := s.Validate([]byte(bad)); err == nil || !strings.HasSuffix(err.Error(), `: expected array, got number`) {
		t.Errorf("63 levels with a number: %v", err)
	}
	if err := s.Validate([]byte(strings.Repeat("[", 65) + strings.Repeat("]", 65))); err == nil || err.Error() != msgTooDeep {
		t.Errorf("65 levels: %v", err)
	}
}

func TestRefCompileErrors(t *testing.T) {
	chain := func(n int) string {
		var defs []string
		for i := range n {
			defs = append(defs, fmt.Sprintf(`"d%d":{"$ref":"#/$defs/d%d"}`, i, i+1))
		}
		defs = append(defs, fmt.Sprintf(`"d%d":{"type":"string"}`, n))
		return `{"$defs":{` + strings.Join(defs, ",") + `},"$ref":"#/$defs/d0"}`
	}
	var many []string
	for i := range maxSchemaNodes + 1 {
		many = append(many, fmt.Sprintf(`"p%d":{}`, i))
	}
	const cycle = "$ref cycle: the schema applies itself to the same value without descending into it"
	for _, tc := range []struct{ schema, want string }{
		{`{"$ref":"#"}`, "#: " + cycle},
		{`{"$ref":"#","type":"object"}`, cycle},
		{`{"$defs":{"a":{"$ref":"#/$defs/b"},"b":{"$ref":"#/$defs/a"}},"$ref":"#/$defs/a"}`, cycle},
		{`{"anyOf":[{"type":"string"},{"$ref":"#"}]}`, cycle},
		{`{"oneOf":[{"$ref":"#"}]}`, cycle},
		{`{"$defs":{"a":{"allOf":[{"$ref":"#/$defs/a"}]}},"properties":{"x":{"$ref":"#/$defs/a"}}}`, cycle},
		{`{"not":{"$ref":"#"}}`, cycle},
		{`{"if":{"$ref":"#"}}`, cycle},
		{`{"if":{},"then":{"$ref":"#"}}`, cycle},
		{`{"if":{},"else":{"$ref":"#"}}`, cycle},
		{`{"dependentSchemas":{"a":{"$ref":"#"}}}`, cycle},
		{`{"dependencies":{"a":{"$ref":"#"}}}`, cycle},
		{`{"properties":{"a":{"$ref":"#/properties/a"}}}`, cycle},
		{`{"$ref":"http://example.com/schema.json"}`, `$ref "http://example.com/schema.json": remote $ref not supported`},
		{`{"properties":{"a":{"$ref":"https://json-schema.org/draft/2020-12/schema"}}}`, `#/properties/a: $ref "https://json-schema.org/draft/2020-12/schema": remote $ref not supported`},
		{`{"$ref":"other.json#/x"}`, "remote $ref not supported"},
		{`{"$ref":"root.json"}`, "remote $ref not supported"},
		{`{"$ref":"https://schema.invalid/root.json#"}`, "remote $ref not supported"},
		{`{"properties":{"` + strings.Repeat("k", 1<<20) + `":` + strings.Repeat(`{"items":`, 100) + `{}` + strings.Repeat(`}`, 100) + `}}`, "schema is too large"},
		{`{"$id":"https://a.example/x.json","$ref":"y.json"}`, "remote $ref not supported"},
		{`{"$ref":"#/$defs/missing"}`, `$ref "#/$defs/missing" does not resolve to anything in the schema`},
		{`{"$defs":{"a":{}},"$ref":"#/$defs/a/b"}`, "does not resolve"},
		{`{"allOf":[{}],"$ref":"#/allOf/1"}`, "does not resolve"},
		{`{"allOf":[{}],"$ref":"#/allOf/00"}`, "does not resolve"},
		{`{"$ref":"#nope"}`, `$ref "#nope": no such $anchor`},
		{`{"$ref":"#/a~2b"}`, "bad ~ escape in JSON pointer"},
		{`{"$ref":"#/a~"}`, "bad ~ escape in JSON pointer"},
		{`{"$ref":"#/%zz"}`, `invalid $ref "#/%zz"`},
		{`{"$ref":5}`, "$ref must be a string"},
		{`{"$defs":{"a":{"$anchor":"x"},"b":{"$anchor":"x"}},"$ref":"#x"}`, `$anchor "x" is defined more than once`},
		{`{"$defs":{"a":{"$id":"a.json"},"b":{"$id":"a.json"}},"$ref":"a.json"}`, "is defined more than once"},
		{`{"$defs":{"a":{"$anchor":5}}}`, "$anchor must be a non-empty string"},
		{`{"$id":5}`, "$id must be a string"},
		{`{"$defs":{"n":5},"$ref":"#/$defs/n"}`, "#/$defs/n: schema must be an object or a boolean"},
		{`{"$defs":{"a":{"type":"strng"}},"properties":{"x":{"$ref":"#/$defs/a"}}}`, `#/$defs/a: invalid type name "strng"`},
		{chain(maxInPlaceDepth + 10), "schema is nested too deeply (through $ref)"},
		{`{"properties":{` + strings.Join(many, ",") + `}}`, "subschemas"},
		{`{"$defs":{"a":` + strings.Repeat(`{"not":`, 200) + `{}` + strings.Repeat(`}`, 200) + `}}`, "nested too deeply"},
	} {
		s, err := Compile([]byte(tc.schema))
		if err == nil {
			t.Errorf("Compile(%.80s) succeeded, want error containing %q", tc.schema, tc.want)
			continue
		}
		if s != nil {
			t.Errorf("Compile(%.80s) returned a schema with an error", tc.schema)
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Compile(%.80s) = %q, want it to contain %q", tc.schema, err, tc.want)
		}
	}
	for _, ok := range []string{
		`{"properties":{"a":{"$ref":"#"}}}`,
		`{"items":{"$ref":"#"}}`,
		`{"prefixItems":[{"$ref":"#"}]}`,
		`{"items":[{"$ref":"#"}],"additionalItems":{"$ref":"#"}}`,
		`{"additionalProperties":{"$ref":"#"}}`,
		`{"patternProperties":{"":{"$ref":"#"}}}`,
		`{"propertyNames":{"$ref":"#"}}`,
		`{"contains":{"$ref":"#"}}`,
		`{"unevaluatedProperties":{"$ref":"#"}}`,
		`{"$defs":{"a":{"$ref":"#/$defs/a"}}}`, // unreferenced
		`{"$defs":{"a":{"$ref":"http://example.com/x"}}}`,
		`{"$schema":"http://json-schema.org/draft-07/schema#","$ref":"#/definitions/a","definitions":{"a":{}},"if":{"$ref":"#"}}`,
		chain(100),
	} {
		if _, err := Compile([]byte(ok)); err != nil {
			t.Errorf("Compile(%.80s): %v", ok, err)
		}
	}
}

// TestHostileSchemas checks that schemas whose subschemas apply to the
// same value exponentially many times are cut off by the work budget.
func TestHostileSchemas(t *testing.T) {
	nestedAnyOf := `{"type":"string","minLength":100}`
	for range 100 {
		nestedAnyOf = `{"anyOf":[` + nestedAnyOf + `,{"type":"null"}]}`
	}
	deep := strings.Repeat(`{"a":`, 60) + `1` + strings.Repeat(`}`, 60)
	for _, tc := range []struct{ schema, inst string }{
		{`{"allOf":[{"properties":{"a":{"$ref":"#"}}},{"properties":{"a":{"$ref":"#"}}}],"type":["object","number"]}`, deep},
		{`{"anyOf":[{"properties":{"a":{"$ref":"#"}}},{"properties":{"a":{"$ref":"#"}}}],"type":"object"}`, deep},
		{`{"$defs":{"d":{"allOf":[{"$ref":"#/$defs/e"},{"$ref":"#/$defs/e"},{"$ref":"#/$defs/e"}]},"e":{"allOf":[{"$ref":"#/$defs/f"},{"$ref":"#/$defs/f"},{"$ref":"#/$defs/f"}]},` +
			`"f":{"allOf":[{"$ref":"#/$defs/g"},{"$ref":"#/$defs/g"},{"$ref":"#/$defs/g"}]},"g":{"items":{"$ref":"#/$defs/d"}}},"$ref":"#/$defs/d"}`,
			strings.Repeat("[", 60) + strings.Repeat("]", 60)},
		{nestedAnyOf, `"a"`},
		{`{"properties":{"a":{"$ref":"#"}},"unevaluatedProperties":false,"anyOf":[{"$ref":"#"},{"$ref":"#"}]}`, deep},
	} {
		s, err := Compile([]byte(tc.schema))
		if err != nil {
			// A compile-time refusal is fine too.
			continue
		}
		start := time.Now()
		err = s.Validate([]byte(tc.inst))
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("Validate(%.60s) took %v", tc.schema, d)
		}
		var ve *ValidationError
		if err != nil && !errors.As(err, &ve) {
			t.Errorf("error %T", err)
		}
		if err == nil || (err.Error() != msgTooComplex && tc.schema != nestedAnyOf) {
			t.Errorf("Validate(%.60s) = %v, want %q", tc.schema, err, msgTooComplex)
		}
	}
}

func TestIfThenElse(t *testing.T) {
	ite := `{"if":{"properties":{"kind":{"const":"a"}},"required":["kind"]},"then":{"required":["x"]},"else":{"required":["y"]}}`
	runCases(t, []vcase{
		{"then ok", ite, `{"kind":"a","x":1}`, ""},
		{"then bad", ite, `{"kind":"a"}`, `"x": required property is missing`},
		{"else ok", ite, `{"kind":"b","y":1}`, ""},
		{"else bad", ite, `{"kind":"b"}`, `"y": required property is missing`},
		{"else when if's required fails", ite, `{"x":1}`, `"y": required property is missing`},
		{"non-object passes if", ite, `5`, ""},
		{"if alone has no effect", `{"if":false}`, `"x"`, ""},
		{"if alone has no effect 2", `{"if":{"type":"string"}}`, `1`, ""},
		{"then only", `{"if":{"type":"string"},"then":{"minLength":2}}`, `"a"`, `must be at least 2 characters long`},
		{"then only, if fails", `{"if":{"type":"string"},"then":{"minLength":2}}`, `5`, ""},
		{"else only", `{"if":{"type":"string"},"else":{"type":"null"}}`, `5`, `expected null, got number`},
		{"else only, if passes", `{"if":{"type":"string"},"else":{"type":"null"}}`, `"a"`, ""},
		{"then/else without if ignored", `{"then":false,"else":false}`, `1`, ""},
		{"nested path", `{"properties":{"p":` + ite + `}}`, `{"p":{"kind":"a","y":1}}`, `"p.x": required property is missing`},
		{"if true then false", `{"if":true,"then":false}`, `1`, `value is not allowed`},
		{"after allOf", `{"allOf":[{"minimum":0}],"if":{"minimum":10},"then":{"multipleOf":10}}`, `-1`, `must be >= 0`},
		{"then multipleOf", `{"allOf":[{"minimum":0}],"if":{"minimum":10},"then":{"multipleOf":10}}`, `15`, `must be a multiple of 10`},
	})
}

func TestDependent(t *testing.T) {
	dr := `{"dependentRequired":{"card":["billing","cvv","billing"]}}`
	ds := `{"dependentSchemas":{"card":{"required":["billing"],"properties":{"billing":{"type":"string"}}}}}`
	runCases(t, []vcase{
		{"required all", dr, `{"card":1,"billing":1,"cvv":1}`, ""},
		{"required missing", dr, `{"card":1,"billing":1}`, `"cvv": property is required when "card" is present`},
		{"required first missing", dr, `{"card":1}`, `"billing": property is required when "card" is present`},
		{"required not triggered", dr, `{"billing":1}`, ""},
		{"required non-object", dr, `[1]`, ""},
		{"required escaped trigger", dr, `{"c\u0061rd":1}`, `"billing": property is required when "card" is present`},
		{"required after required", `{"required":["a"],"dependentRequired":{"b":["c"]}}`, `{"b":1}`, `"a": required property is missing`},
		{"required triggers in order", `{"dependentRequired":{"b":["y"],"a":["x"]}}`, `{"b":1,"a":1}`, `"x": property is required when "a" is present`},
		{"dependencies array", `{"dependencies":{"a":["b"]}}`, `{"a":1}`, `"b": property is required when "a" is present`},
		{"schemas ok", ds, `{"card":1,"billing":"x"}`, ""},
		{"schemas required", ds, `{"card":1}`, `"billing": required property is missing`},
		{"schemas type", ds, `{"card":1,"billing":2}`, `"billing": expected string, got number`},
		{"schemas not triggered", ds, `{"billing":2}`, ""},
		{"schemas non-object", ds, `"card"`, ""},
		{"schemas false", `{"dependentSchemas":{"a":false}}`, `{"a":1}`, `value is not allowed`},
		{"dependencies schema", `{"dependencies":{"a":{"maxProperties":1}}}`, `{"a":1,"b":2}`, `must have at most 1 property`},
	})
}

func TestUniqueItems(t *testing.T) {
	u := `{"uniqueItems":true}`
	var distinct, dup []string
	for i := range 1000 {
		distinct = append(distinct, fmt.Sprintf(`{"id":%d,"tags":["t%d"]}`, i, i%7))
	}
	dup = append(append(dup, distinct...), distinct[500])
	runCases(t, []vcase{
		{"ok", u, `[1,2,3]`, ""},
		{"empty", u, `[]`, ""},
		{"one", u, `[{}]`, ""},
		{"dup", u, `[1,2,1]`, `must not contain duplicate items ([0] and [2] are equal)`},
		{"numeric", u, `[1,1.0]`, `must not contain duplicate items ([0] and [1] are equal)`},
		{"exponent", u, `[1e2,100]`, `must not contain duplicate items ([0] and [1] are equal)`},
		{"fraction", u, `[0.1,1e-1]`, `must not contain duplicate items ([0] and [1] are equal)`},
		{"zeros", u, `[0,-0,0.0]`, `must not contain duplicate items ([0] and [1] are equal)`},
		{"exact big integers", u, `[9007199254740993,9007199254740992]`, ""},
		{"number vs string", u, `[1,"1"]`, ""},
		{"escaped string", u, `["a","\u0061"]`, `must not contain duplicate items ([0] and [1] are equal)`},
		{"object key order", u, `[{"a":1,"b":[2]},{"b":[2.0],"a":1}]`, `must not contain duplicate items ([0] and [1] are equal)`},
		{"object escaped key", u, `[{"a":1},{"\u0061":1}]`, `must not contain duplicate items ([0] and [1] are equal)`},
		{"object subset", u, `[{"a":1},{"a":1,"b":2}]`, ""},
		{"object values differ", u, `[{"a":1,"b":2},{"a":1,"b":3}]`, ""},
		{"array order", u, `[[1,2],[2,1]]`, ""},
		{"array length", u, `[[1],[1,1]]`, ""},
		{"empty containers", u, `[[],[]]`, `must not contain duplicate items ([0] and [1] are equal)`},
		{"empty objects", u, `[{},{}]`, `must not contain duplicate items ([0] and [1] are equal)`},
		{"falsy values", u, `[null,false,0,"",[],{}]`, ""},
		{"booleans", u, `[true,false,true]`, `must not contain duplicate items ([0] and [2] are equal)`},
		{"first repeat in order", u, `["a","b","c","b","a"]`, `must not contain duplicate items ([1] and [3] are equal)`},
		{"many distinct", u, `[` + strings.Join(distinct, ",") + `]`, ""},
		{"many with dup", u, `[` + strings.Join(dup, ",") + `]`, `must not contain duplicate items ([500] and [1000] are equal)`},
		{"path", `{"properties":{"tags":{"uniqueItems":true}}}`, `{"tags":["x","x"]}`, `"tags": must not contain duplicate items ([0] and [1] are equal)`},
		{"false", `{"uniqueItems":false}`, `[1,1]`, ""},
		{"non-array", u, `{"a":1,"b":1}`, ""},
		{"items checked first", `{"uniqueItems":true,"items":{"type":"integer"}}`, `[1,1,"x"]`, `"[2]": expected integer, got string`},
		{"nested", `{"items":{"uniqueItems":true},"uniqueItems":true}`, `[[1,2],[3,3]]`, `"[1]": must not contain duplicate items ([0] and [1] are equal)`},
	})
}

func TestMultipleOf(t *testing.T) {
	var cases []vcase
	add := func(m string, ok, bad []string) {
		for _, n := range ok {
			cases = append(cases, vcase{m + " ok " + n, `{"multipleOf":` + m + `}`, n, ""})
		}
		for _, n := range bad {
			cases = append(cases, vcase{m + " bad " + n, `{"multipleOf":` + m + `}`, n, "must be a multiple of " + m})
		}
	}
	add("0.1", []string{"0.3", "0.7", "-0.7", "3", "1e-1", "1e300", "0", "-0", "0.0", "12345678901234567890.1", "4.20"},
		[]string{"0.35", "1e-2", "1e-400", "0.30000000000000004"})
	add("0.01", []string{"19.99", "1.10", "0.07", "100"}, []string{"0.075", "19.999"})
	add("2", []string{"4", "4.0", "1e2", "0", "-8", "12345678901234567890", "1e99999999999999999999"},
		[]string{"5", "4.5", "12345678901234567891", "1e-2"})
	add("2.5", []string{"10", "7.5", "-2.5", "25e-1"}, []string{"8", "2.4"})
	add("3", []string{"3e1000", "9", "0.3e1"}, []string{"1e1000", "10"})
	add("7", []string{"7e999999999", "700000000000000000000000000000000007"}, []string{"1e999999999", "1e99999999999999999999"})
	add("8", []string{"1e3", "1e99999999999", "16.0"}, []string{"1e2", "4"})
	add("1e-3", []string{"1.234", "5"}, []string{"1.2345"})
	add("1E2", []string{"1e2", "300", "1e5"}, []string{"150", "1"})
	add("123456789012345678901234567890", []string{"246913578024691357802469135780", "0", "123456789012345678901234567890e5"},
		[]string{"246913578024691357802469135781", "1.5", "1"})
	add("0.000000000000000000003", []string{"0.000000000000000000009", "3", "3e-21"}, []string{"0.000000000000000000004", "1"})
	cases = append(cases,
		vcase{"ignored for non-numbers", `{"multipleOf":2}`, `"3"`, ""},
		vcase{"integer type first", `{"type":"integer","multipleOf":0.5}`, `1.5`, "expected integer, got number"},
		vcase{"after maximum", `{"maximum":1,"multipleOf":2}`, `3`, "must be <= 1"},
		vcase{"path", `{"properties":{"q":{"multipleOf":5}}}`, `{"q":12}`, `"q": must be a multiple of 5`},
	)
	runCases(t, cases)
}

func TestPrefixItems(t *testing.T) {
	pi := `{"prefixItems":[{"type":"string"},{"type":"integer"}]}`
	closed := `{"prefixItems":[{"type":"string"}],"items":false}`
	rest := `{"prefixItems":[{"type":"string"}],"items":{"type":"integer"}}`
	legacy := `{"items":[{"type":"string"},{"type":"integer"}],"additionalItems":false}`
	runCases(t, []vcase{
		{"ok", pi, `["a",1]`, ""},
		{"bad second", pi, `["a","b"]`, `"[1]": expected integer, got string`},
		{"short", pi, `["a"]`, ""},
		{"empty", pi, `[]`, ""},
		{"longer", pi, `["a",1,{}]`, ""},
		{"closed ok", closed, `["a"]`, ""},
		{"closed extra", closed, `["a",1]`, `"[1]": additional item is not allowed`},
		{"rest ok", rest, `["a",1,2]`, ""},
		{"rest bad", rest, `["a",1,"x"]`, `"[2]": expected integer, got string`},
		{"rest prefix bad", rest, `[1]`, `"[0]": expected string, got number`},
		{"rest with maxItems", `{"prefixItems":[{}],"items":{"type":"integer"},"maxItems":2}`, `[null,1,2]`, `must have at most 2 items`},
		{"legacy ok", legacy, `["a",1]`, ""},
		{"legacy extra", legacy, `["a",1,2]`, `"[2]": additional item is not allowed`},
		{"legacy bad", legacy, `[1]`, `"[0]": expected string, got number`},
		{"legacy additional schema", `{"items":[{"type":"string"}],"additionalItems":{"type":"boolean"}}`, `["a",1]`, `"[1]": expected boolean, got number`},
		{"legacy without additionalItems", `{"items":[{"type":"string"}]}`, `["a",1]`, ""},
		{"additionalItems ignored with items schema", `{"items":{"type":"string"},"additionalItems":false}`, `["a","b"]`, ""},
		{"additionalItems ignored with prefixItems", `{"prefixItems":[{}],"additionalItems":false}`, `[1,2]`, ""},
		{"empty legacy tuple", `{"items":[],"additionalItems":false}`, `[1]`, `"[0]": additional item is not allowed`},
		{"prefix false", `{"prefixItems":[false]}`, `[1]`, `"[0]": value is not allowed`},
		{"non-array", pi, `{"0":1}`, ""},
	})
}

func TestPatternProperties(t *testing.T) {
	pp := `{"patternProperties":{"^x-":{"type":"string"},"^[a-z]+$":{"type":"integer"}},"additionalProperties":false}`
	runCases(t, []vcase{
		{"ok", pp, `{"x-a":"s","ab":1}`, ""},
		{"bad x-", pp, `{"x-a":1}`, `"x-a": expected string, got number`},
		{"bad lower", pp, `{"ab":"s"}`, `"ab": expected integer, got string`},
		{"additional", pp, `{"AB":1}`, `"AB": additional property is not allowed`},
		{"escaped key", pp, `{"\u0061b":"s"}`, `"ab": expected integer, got string`},
		{"every matching pattern applies", `{"patternProperties":{"a":{"type":"string"},"b":{"minLength":3}}}`, `{"ab":"x"}`, `"ab": must be at least 3 characters long`},
		{"patterns in sorted order", `{"patternProperties":{"a":{"type":"string"},"b":{"minLength":3}}}`, `{"ab":1}`, `"ab": expected string, got number`},
		{"properties then patterns", `{"properties":{"ab":{"type":"string"}},"patternProperties":{"^a":{"maxLength":1}}}`, `{"ab":"xy"}`, `"ab": must be at most 1 character long`},
		{"properties first", `{"properties":{"ab":{"type":"string"}},"patternProperties":{"^a":{"maxLength":1}}}`, `{"ab":1}`, `"ab": expected string, got number`},
		{"pattern false", `{"patternProperties":{"^_":false}}`, `{"_x":1}`, `"_x": property is not allowed`},
		{"pattern false escaped", `{"patternProperties":{"^_":false}}`, `{"\u005fx":1}`, `"_x": property is not allowed`},
		{"pattern true is not additional", `{"patternProperties":{"^_":true},"additionalProperties":false}`, `{"_x":1}`, ""},
		{"pattern true, other additional", `{"patternProperties":{"^_":{}},"additionalProperties":false}`, `{"_x":1,"y":1}`, `"y": additional property is not allowed`},
		{"unanchored", `{"patternProperties":{"id":{"type":"integer"}}}`, `{"user_id":"x"}`, `"user_id": expected integer, got string`},
		{"unicode", `{"patternProperties":{"^é":{"type":"integer"}}}`, `{"\u00e9t\u00e9":"x"}`, `"["été"]": expected integer, got string`},
		{"non-object", pp, `["AB"]`, ""},
	})
}

func TestPropertyNames(t *testing.T) {
	runCases(t, []vcase{
		{"ok", `{"propertyNames":{"pattern":"^[a-z]+$"}}`, `{"abc":1}`, ""},
		{"pattern", `{"propertyNames":{"pattern":"^[a-z]+$"}}`, `{"abc":1,"aBc":1}`, `"aBc": invalid property name: must match pattern "^[a-z]+$"`},
		{"maxLength", `{"propertyNames":{"maxLength":3}}`, `{"abcd":1}`, `"abcd": invalid property name: must be at most 3 characters long`},
		{"escaped maxLength", `{"propertyNames":{"maxLength":1}}`, `{"\u00e9":1}`, ""},
		{"enum", `{"propertyNames":{"enum":["a","b"]}}`, `{"c":1}`, `"c": invalid property name: must be one of "a", "b"`},
		{"false empty", `{"propertyNames":false}`, `{}`, ""},
		{"false", `{"propertyNames":false}`, `{"a":1}`, `"a": invalid property name: value is not allowed`},
		{"type", `{"propertyNames":{"type":"integer"}}`, `{"1":1}`, `"1": invalid property name: expected integer, got string`},
		{"before the value", `{"propertyNames":{"maxLength":1},"properties":{"ab":{"type":"string"}}}`, `{"ab":1}`, `"ab": invalid property name: must be at most 1 character long`},
		{"nested", `{"properties":{"o":{"propertyNames":{"minLength":2}}}}`, `{"o":{"x":1}}`, `"o.x": invalid property name: must be at least 2 characters long`},
		{"ref", `{"$defs":{"id":{"pattern":"^[0-9]+$"}},"propertyNames":{"$ref":"#/$defs/id"}}`, `{"12":1,"x":2}`, `"x": invalid property name: must match pattern "^[0-9]+$"`},
		{"prefix reset", `{"anyOf":[{"propertyNames":{"maxLength":1}},{"type":"null"}]}`, `{"ab":1}`, `"ab": invalid property name: must be at most 1 character long`},
		{"non-object", `{"propertyNames":false}`, `"a"`, ""},
	})
}

func TestContains(t *testing.T) {
	c := `{"contains":{"type":"integer"}}`
	runCases(t, []vcase{
		{"ok", c, `["a",1]`, ""},
		{"none", c, `["a","b"]`, `must contain at least 1 item matching the contains schema`},
		{"empty", c, `[]`, `must contain at least 1 item matching the contains schema`},
		{"non-array", c, `{"a":"x"}`, ""},
		{"min 2", `{"contains":{"type":"integer"},"minContains":2}`, `["a",1]`, `must contain at least 2 items matching the contains schema`},
		{"min 2 ok", `{"contains":{"type":"integer"},"minContains":2}`, `[1,"a",2]`, ""},
		{"max 1", `{"contains":{"type":"integer"},"maxContains":1}`, `[1,2]`, `must contain at most 1 item matching the contains schema`},
		{"max 1 ok", `{"contains":{"type":"integer"},"maxContains":1}`, `[1,"a"]`, ""},
		{"min 0", `{"contains":{"type":"integer"},"minContains":0}`, `["a"]`, ""},
		{"min 0 empty", `{"contains":{"type":"integer"},"minContains":0}`, `[]`, ""},
		{"max 0", `{"contains":{"type":"integer"},"minContains":0,"maxContains":0}`, `["a",1]`, `must contain at most 0 items matching the contains schema`},
		{"min without contains", `{"minContains":2,"maxContains":0}`, `[1]`, ""},
		{"contains false", `{"contains":false}`, `[1]`, `must contain at least 1 item matching the contains schema`},
		{"contains true", `{"contains":true}`, `[]`, `must contain at least 1 item matching the contains schema`},
		{"path", `{"properties":{"l":{"contains":{"const":"x"}}}}`, `{"l":["y"]}`, `"l": must contain at least 1 item matching the contains schema`},
		{"items first", `{"items":{"type":"integer"},"contains":{"minimum":5}}`, `[1,"a"]`, `"[1]": expected integer, got string`},
		{"items then contains", `{"items":{"type":"integer"},"contains":{"minimum":5}}`, `[1,2]`, `must contain at least 1 item matching the contains schema`},
		{"with minItems", `{"contains":{"const":1},"minItems":3}`, `[2]`, `must have at least 3 items`},
		{"deep items", `{"contains":{"type":"object","required":["id"]}}`, `[{"x":1},{"id":2}]`, ""},
	})
}

func TestExclusiveBoolean(t *testing.T) {
	d4 := `{"$schema":"http://json-schema.org/draft-04/schema#","type":"number","minimum":0,"exclusiveMinimum":true,"maximum":1,"exclusiveMaximum":true}`
	runCases(t, []vcase{
		{"min excl", `{"minimum":5,"exclusiveMinimum":true}`, `5`, `must be > 5`},
		{"min excl ok", `{"minimum":5,"exclusiveMinimum":true}`, `5.1`, ""},
		{"max excl", `{"maximum":5,"exclusiveMaximum":true}`, `5.0`, `must be < 5`},
		{"max excl ok", `{"maximum":5,"exclusiveMaximum":true}`, `4`, ""},
		{"min incl", `{"minimum":5,"exclusiveMinimum":false}`, `5`, ""},
		{"min incl bad", `{"minimum":5,"exclusiveMinimum":false}`, `4`, `must be >= 5`},
		{"false alone", `{"exclusiveMaximum":false}`, `1e300`, ""},
		{"draft-04 low", d4, `0`, `must be > 0`},
		{"draft-04 high", d4, `1`, `must be < 1`},
		{"draft-04 ok", d4, `0.5`, ""},
		{"numeric form still works", `{"exclusiveMinimum":0,"exclusiveMaximum":1}`, `1`, `must be < 1`},
	})
}

func TestUnevaluatedProperties(t *testing.T) {
	var props, inst []string
	for i := range 100 {
		props = append(props, fmt.Sprintf(`"p%d":{}`, i))
		if i != 90 {
			inst = append(inst, fmt.Sprintf(`"p%d":%d`, i, i))
		} else {
			inst = append(inst, `"q":0`)
		}
	}
	anyOf := `{"anyOf":[{"properties":{"a":{"type":"string"}},"required":["a"]},{"properties":{"b":{"type":"string"}},"required":["b"]}],"unevaluatedProperties":false}`
	oneOf := `{"oneOf":[{"properties":{"a":{"const":1}},"required":["a"]},{"properties":{"b":{"const":1}},"required":["b"]}],"unevaluatedProperties":false}`
	ite := `{"if":{"properties":{"t":{"const":"a"}}},"then":{"properties":{"x":{}}},"else":{"properties":{"y":{}}},"unevaluatedProperties":false}`
	rec := `{"$defs":{"n":{"properties":{"v":{},"c":{"$ref":"#/$defs/n"}},"unevaluatedProperties":false}},"$ref":"#/$defs/n"}`
	ref := `{"$defs":{"base":{"properties":{"id":{"type":"integer"}}}},"$ref":"#/$defs/base","properties":{"name":{}},"unevaluatedProperties":false}`
	runCases(t, []vcase{
		{"properties ok", `{"properties":{"a":{}},"unevaluatedProperties":false}`, `{"a":1}`, ""},
		{"properties bad", `{"properties":{"a":{}},"unevaluatedProperties":false}`, `{"a":1,"b":2}`, `"b": unevaluated property is not allowed`},
		{"first in document order", `{"unevaluatedProperties":false}`, `{"z":1,"a":2}`, `"z": unevaluated property is not allowed`},
		{"empty ok", `{"unevaluatedProperties":false}`, `{}`, ""},
		{"non-object", `{"unevaluatedProperties":false}`, `[1]`, ""},
		{"allOf", `{"allOf":[{"properties":{"a":{}}}],"properties":{"b":{}},"unevaluatedProperties":false}`, `{"a":1,"b":1}`, ""},
		{"allOf bad", `{"allOf":[{"properties":{"a":{}}}],"properties":{"b":{}},"unevaluatedProperties":false}`, `{"a":1,"c":1}`, `"c": unevaluated property is not allowed`},
		{"anyOf first", anyOf, `{"a":"x"}`, ""},
		{"anyOf both match", anyOf, `{"a":"x","b":"y"}`, ""},
		{"anyOf failing branch evaluates nothing", anyOf, `{"a":"x","b":1}`, `"b": unevaluated property is not allowed`},
		{"oneOf", oneOf, `{"a":1}`, ""},
		{"oneOf failing branch", oneOf, `{"a":1,"b":2}`, `"b": unevaluated property is not allowed`},
		{"if then", ite, `{"t":"a","x":1}`, ""},
		{"if then, else's property", ite, `{"t":"a","y":1}`, `"y": unevaluated property is not allowed`},
		{"failed if evaluates nothing", ite, `{"t":"b","y":1}`, `"t": unevaluated property is not allowed`},
		{"vacuous if", ite, `{"x":1,"y":1}`, `"y": unevaluated property is not allowed`},
		{"if without then", `{"if":{"properties":{"a":{}}},"unevaluatedProperties":false}`, `{"a":1}`, ""},
		{"$ref", ref, `{"id":1,"name":"x"}`, ""},
		{"$ref bad", ref, `{"id":1,"z":0}`, `"z": unevaluated property is not allowed`},
		{"$ref validates first", ref, `{"id":"1"}`, `"id": expected integer, got string`},
		{"additionalProperties in allOf", `{"allOf":[{"additionalProperties":true}],"unevaluatedProperties":false}`, `{"a":1}`, ""},
		{"additionalProperties schema in allOf", `{"allOf":[{"additionalProperties":{"type":"integer"}}],"unevaluatedProperties":false}`, `{"a":1}`, ""},
		{"nested unevaluated", `{"allOf":[{"unevaluatedProperties":true}],"unevaluatedProperties":false}`, `{"a":1}`, ""},
		{"nested unevaluated false", `{"allOf":[{"properties":{"a":{}},"unevaluatedProperties":false}],"properties":{"b":{}},"unevaluatedProperties":false}`,
			`{"a":1,"b":1}`, `"b": unevaluated property is not allowed`},
		{"patternProperties", `{"patternProperties":{"^x":{}},"unevaluatedProperties":false}`, `{"xa":1}`, ""},
		{"patternProperties bad", `{"patternProperties":{"^x":{}},"unevaluatedProperties":false}`, `{"xa":1,"y":1}`, `"y": unevaluated property is not allowed`},
		{"dependentSchemas", `{"dependentSchemas":{"a":{"properties":{"b":{}}}},"properties":{"a":{}},"unevaluatedProperties":false}`, `{"a":1,"b":2}`, ""},
		{"dependentSchemas not triggered", `{"dependentSchemas":{"a":{"properties":{"b":{}}}},"properties":{"a":{}},"unevaluatedProperties":false}`, `{"b":2}`, `"b": unevaluated property is not allowed`},
		{"not evaluates nothing", `{"not":{"required":["a"],"properties":{"a":{"type":"string"}}},"unevaluatedProperties":false}`, `{"a":1}`, `"a": unevaluated property is not allowed`},
		{"required is not evaluation", `{"required":["a"],"unevaluatedProperties":false}`, `{"a":1}`, `"a": unevaluated property is not allowed`},
		{"schema", `{"properties":{"a":{}},"unevaluatedProperties":{"type":"integer"}}`, `{"a":"s","b":1}`, ""},
		{"schema bad", `{"properties":{"a":{}},"unevaluatedProperties":{"type":"integer"}}`, `{"b":"s"}`, `"b": expected integer, got string`},
		{"true", `{"unevaluatedProperties":true}`, `{"b":"s"}`, ""},
		{"many keys", `{"properties":{` + strings.Join(props, ",") + `},"unevaluatedProperties":false}`, `{` + strings.Join(inst, ",") + `}`, `"q": unevaluated property is not allowed`},
		{"recursive ok", rec, `{"v":1,"c":{"v":2,"c":{}}}`, ""},
		{"recursive bad", rec, `{"v":1,"c":{"v":2,"x":3}}`, `"c.x": unevaluated property is not allowed`},
		{"escaped key", `{"properties":{"a":{}},"unevaluatedProperties":false}`, `{"\u0061":1,"\u0062":2}`, `"b": unevaluated property is not allowed`},
	})
}

func TestNewKeywordAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items under the race detector")
	}
	tree := `{"type":"object","properties":{"value":{"type":"integer"},"children":{"type":"array","items":{"$ref":"#"}}},"required":["value"]}`
	for _, tc := range []struct{ schema, inst string }{
		{conformanceSchema, `{"name":"a","contactMethod":"phone","phone":"1","address":{"street":"s"}}`},
		{tree, `{"value":1,"children":[{"value":2,"children":[{"value":3}]}]}`},
		{`{"uniqueItems":true}`, `[1,"a",{"b":[1.5,null]},[true],"a\u00e9"]`},
		{`{"multipleOf":0.01}`, `19.99`},
		{`{"prefixItems":[{"type":"string"}],"items":{"type":"integer"},"contains":{"const":2}}`, `["a",1,2]`},
		{`{"patternProperties":{"^x-":{"type":"string"}},"propertyNames":{"maxLength":5},"additionalProperties":false}`, `{"x-a":"s"}`},
		{`{"dependentRequired":{"a":["b"]},"dependentSchemas":{"b":{"required":["a"]}}}`, `{"a":1,"b":2}`},
		{`{"allOf":[{"properties":{"a":{}}}],"anyOf":[{"properties":{"b":{}}}],"unevaluatedProperties":false}`, `{"a":1,"b":2}`},
	} {
		s := mustCompile(t, tc.schema)
		inst := []byte(tc.inst)
		if err := s.Validate(inst); err != nil {
			t.Fatalf("Validate(%s): %v", tc.inst, err)
		}
		if n := testing.AllocsPerRun(200, func() { _ = s.Validate(inst) }); n > 0 {
			t.Errorf("Validate(%s) against %.60s allocates %v times, want 0", tc.inst, tc.schema, n)
		}
	}
}

func TestConcurrentRef(t *testing.T) {
	s := mustCompile(t, conformanceSchema)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 300 {
				inst := fmt.Sprintf(`{"name":"n%d","address":{"street":%d},"email":"e"}`, g, i)
				if err := s.Validate([]byte(inst)); err == nil || err.Error() != `"address.street": expected string, got number` {
					t.Errorf("got %v", err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func TestDecimal(t *testing.T) {
	for _, tc := range []struct {
		in     string
		digits string
		exp    int64
		neg    bool
	}{
		{"0", "", 0, false}, {"-0.000", "", 0, false}, {"0e99", "", 0, false}, {"1", "1", 0, false},
		{"100", "1", 2, false}, {"1.50", "15", -1, false}, {"-0.0012e3", "12", -1, true}, {"12.5E-2", "125", -3, false},
		{"1000000000000000000000", "1", 21, false}, {"010", "1", 1, false},
	} {
		_, d := parseDecimal(nil, []byte(tc.in))
		if string(d.digits) != tc.digits || d.exp != tc.exp || d.neg != tc.neg || d.huge {
			t.Errorf("parseDecimal(%s) = %s e%d neg=%v huge=%v", tc.in, d.digits, d.exp, d.neg, d.huge)
		}
	}
	if _, d := parseDecimal(nil, []byte("1e99999999999999999")); !d.huge {
		t.Errorf("huge exponent not flagged")
	}
}
