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
