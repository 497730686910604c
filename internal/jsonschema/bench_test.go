package jsonschema

import (
	"encoding/json"
	"testing"
)

func benchValidate(b *testing.B, schema, inst string, wantErr bool) {
	s := mustCompile(b, schema)
	in := []byte(inst)
	if err := s.Validate(in); (err != nil) != wantErr {
		b.Fatalf("Validate: %v", err)
	}
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		_ = s.Validate(in)
	}
}

// BenchmarkValidateSimple is the typical tool call.
func BenchmarkValidateSimple(b *testing.B) {
	benchValidate(b, simpleSchema, `{"name":"Alice"}`, false)
}

const benchToolArgs = `{"name":"Alice","days":3,"unit":"c","items":[{"id":"a"},{"id":"b"},{"id":"caf\u00e9"},{"id":"d"}]}`

func BenchmarkValidateTool(b *testing.B) {
	benchValidate(b, toolSchema, benchToolArgs, false)
}

func BenchmarkValidateStringKeywords(b *testing.B) {
	benchValidate(b, `{"type":"object","properties":{"q":{"type":"string","minLength":1,"maxLength":200,"pattern":"^[a-z ]+$"},`+
		`"opt":{"anyOf":[{"type":"string"},{"type":"null"}]}},"required":["q"]}`,
		`{"q":"the quick brown fox jumps over the lazy dog","opt":null}`, false)
}

func BenchmarkValidateError(b *testing.B) {
	benchValidate(b, toolSchema, `{"name":"Alice","items":[{"id":"a"},{"id":"b"},{"id":3}]}`, true)
}

func BenchmarkValidateInvalidJSON(b *testing.B) {
	benchValidate(b, toolSchema, `{"name":"Alice","days":}`, true)
}

// BenchmarkUnmarshalAny is the baseline this package avoids: decoding the
// same arguments into map[string]any.
func BenchmarkUnmarshalAny(b *testing.B) {
	in := []byte(benchToolArgs)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		var v map[string]any
		if err := json.Unmarshal(in, &v); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCompile(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Compile([]byte(toolSchema)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkValidateConformance is the MCP conformance schema ($ref, allOf,
// anyOf, if/then/else, additionalProperties).
func BenchmarkValidateConformance(b *testing.B) {
	benchValidate(b, conformanceSchema, `{"name":"Alice","address":{"street":"1 Main St","city":"Paris"},"contactMethod":"phone","phone":"555"}`, false)
}

// BenchmarkValidateRecursive is a tree schema referencing itself.
func BenchmarkValidateRecursive(b *testing.B) {
	benchValidate(b, `{"$defs":{"node":{"type":"object","properties":{"value":{"type":"integer"},"children":{"type":"array",`+
		`"items":{"$ref":"#/$defs/node"}}},"required":["value"],"additionalProperties":false}},"$ref":"#/$defs/node"}`,
		`{"value":1,"children":[{"value":2,"children":[{"value":3},{"value":4}]},{"value":5,"children":[{"value":6}]}]}`, false)
}

// BenchmarkValidateUnevaluated is a Pydantic-like model composed with allOf
// and closed with unevaluatedProperties.
func BenchmarkValidateUnevaluated(b *testing.B) {
	benchValidate(b, `{"$defs":{"Base":{"properties":{"id":{"type":"integer"},"tags":{"type":"array","items":{"type":"string"},"uniqueItems":true}},"required":["id"]}},`+
		`"allOf":[{"$ref":"#/$defs/Base"}],"properties":{"price":{"type":"number","multipleOf":0.01}},"unevaluatedProperties":false}`,
		`{"id":7,"tags":["a","b","c"],"price":19.99}`, false)
}

func BenchmarkCompileConformance(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Compile([]byte(conformanceSchema)); err != nil {
			b.Fatal(err)
		}
	}
}
