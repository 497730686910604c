package jsonschema

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math/big"
	"strconv"
	"strings"
	"testing"
)

// fuzzSchemas use only keywords the reference validator below implements.
var fuzzSchemas = []string{
	`{}`,
	`{"type":"object","properties":{"name":{"type":"string"},"days":{"type":"integer"},"unit":{"enum":["c","f"]},` +
		`"tags":{"type":"array","items":{"type":["string","null"]}}},"required":["name"]}`,
	`{"type":"array","items":{"type":["number","boolean"]}}`,
	`{"enum":[1,"a",null,true,[1,2],{"k":"v"},"é",{}]}`,
	`{"type":"object","properties":{"items":{"type":"array","items":{"type":"object","properties":{"id":{"type":"string"}},` +
		`"required":["id"],"additionalProperties":false}}},"additionalProperties":{"type":["integer","object"]}}`,
	`{"type":["integer","string"],"enum":[0,"\u0000","a\"b",2.5,-1]}`,
}

func FuzzValidate(f *testing.F) {
	for _, seed := range []string{
		`{"name":"Alice"}`, `{"name":"Alice","days":3,"unit":"c","tags":["x",null]}`, `{"days":"3"}`,
		`{"name":1}`, `{"name":"a","unit":"k"}`, `[1,true,2.5,"x"]`, `[1e400,-0,1E-7]`, `[]`, `{}`, `null`,
		`{"items":[{"id":"a"},{"id":3},{}]}`, `{"items":[{"id":"a","x":1}],"n":1.0,"o":{"a":1}}`, `{"n":1.5}`,
		`{"k":"v"}`, `{"\u006b":"\u0076"}`, `[1,2.0]`, `"é"`, `"\u00e9"`, `"\ud83d\ude00"`, `"\ud800"`, "\"\xff\"",
		`{"a":1,"a":2}`, `{"a":1,"\u0061":2}`, `[[[[[[[[[[]]]]]]]]]]`, strings.Repeat("[", 70) + strings.Repeat("]", 70),
		`{"a":}`, `[1,]`, `01`, `1.`, `-`, `"\u12"`, "\"a\tb\"", `{"a" 1}`, `tru`, ` 1 `, `1 2`, `"a\"b"`,
		`0`, `2.50`, `-1.0`, `1e-400`, `"\u0000"`, `{"name":"x","tags":[1]}`,
	} {
		for i := range fuzzSchemas {
			f.Add(uint8(i), []byte(seed))
		}
	}
	var compiled []*Schema
	var decoded []any
	for _, s := range fuzzSchemas {
		compiled = append(compiled, mustCompile(f, s))
		var d any
		if err := json.Unmarshal([]byte(s), &d); err != nil {
			f.Fatal(err)
		}
		decoded = append(decoded, d)
	}
	f.Fuzz(func(t *testing.T, which uint8, inst []byte) {
		i := int(which) % len(fuzzSchemas)
		err := compiled[i].Validate(inst)
		var ve *ValidationError
		if err != nil && !errors.As(err, &ve) {
			t.Fatalf("error %T is not a *ValidationError", err)
		}
		if !json.Valid(inst) {
			if err == nil {
				t.Fatalf("invalid JSON %q accepted", inst)
			}
			return
		}
		if ve != nil && ve.Message == msgNotJSON {
			t.Fatalf("valid JSON %q reported as invalid", inst)
		}
		depth, dup := scanStructure(t, inst)
		if depth > maxDepth {
			if err == nil || err.Error() != msgTooDeep {
				t.Fatalf("depth %d: got %v", depth, err)
			}
			return
		}
		if dup {
			if ve == nil || ve.Message != msgDuplicate {
				t.Fatalf("duplicate keys in %q: got %v", inst, err)
			}
			return
		}
		dec := json.NewDecoder(bytes.NewReader(inst))
		dec.UseNumber()
		var x any
		if err := dec.Decode(&x); err != nil {
			t.Fatalf("decoding valid JSON %q: %v", inst, err)
		}
		want, ok := refValid(decoded[i], x)
		if !ok {
			return // the reference cannot decide (extreme exponents)
		}
		if want != (err == nil) {
			t.Fatalf("schema %s\ninstance %q\nreference valid=%v, Validate: %v", fuzzSchemas[i], inst, want, err)
		}
	})
}

// scanStructure returns the nesting depth of valid JSON and whether any
// object has duplicate keys (compared after decoding).
func scanStructure(t *testing.T, inst []byte) (depth int, dup bool) {
	type frame struct {
		obj       bool
		expectKey bool
		keys      map[string]bool
	}
	var stack []*frame
	dec := json.NewDecoder(bytes.NewReader(inst))
	dec.UseNumber()
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return depth, dup
		}
		if err != nil {
			t.Fatalf("token stream of valid JSON %q: %v", inst, err)
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if d, ok := tok.(json.Delim); ok && (d == '}' || d == ']') {
			stack = stack[:len(stack)-1]
			continue
		}
		if top != nil && top.obj && top.expectKey {
			k := tok.(string)
			if top.keys[k] {
				dup = true
			}
			top.keys[k] = true
			top.expectKey = false
			continue
		}
		if top != nil && top.obj {
			top.expectKey = true
		}
		if d, ok := tok.(json.Delim); ok {
			stack = append(stack, &frame{obj: d == '{', expectKey: true, keys: map[string]bool{}})
			depth = max(depth, len(stack))
		}
	}
}

// refValid is a slow reference validator over decoded values, for the
// keywords used by fuzzSchemas. ok is false when it cannot decide.
func refValid(schema, x any) (valid, ok bool) {
	s := schema.(map[string]any)
	if t, has := s["type"]; has {
		var names []string
		if str, isStr := t.(string); isStr {
			names = []string{str}
		} else {
			for _, n := range t.([]any) {
				names = append(names, n.(string))
			}
		}
		match := false
		for _, n := range names {
			m, ok := refType(n, x)
			if !ok {
				return false, false
			}
			match = match || m
		}
		if !match {
			return false, true
		}
	}
	if e, has := s["enum"]; has {
		found := false
		for _, v := range e.([]any) {
			if refEqual(v, x) {
				found = true
			}
		}
		if !found {
			return false, true
		}
	}
	if obj, isObj := x.(map[string]any); isObj {
		props, _ := s["properties"].(map[string]any)
		for k, v := range obj {
			sub, has := props[k]
			if !has {
				sub, has = s["additionalProperties"]
			}
			if !has {
				continue
			}
			if b, isBool := sub.(bool); isBool {
				if !b {
					return false, true
				}
				continue
			}
			if valid, ok := refValid(sub, v); !ok || !valid {
				return valid, ok
			}
		}
		req, _ := s["required"].([]any)
		for _, r := range req {
			if _, has := obj[r.(string)]; !has {
				return false, true
			}
		}
	}
	if arr, isArr := x.([]any); isArr {
		if items, has := s["items"]; has {
			for _, v := range arr {
				if valid, ok := refValid(items, v); !ok || !valid {
					return valid, ok
				}
			}
		}
	}
	return true, true
}

func refType(name string, x any) (match, ok bool) {
	switch x := x.(type) {
	case nil:
		return name == "null", true
	case bool:
		return name == "boolean", true
	case string:
		return name == "string", true
	case []any:
		return name == "array", true
	case map[string]any:
		return name == "object", true
	case json.Number:
		switch name {
		case "number":
			return true, true
		case "integer":
			if i := strings.IndexAny(string(x), "eE"); i >= 0 {
				if e, err := strconv.Atoi(string(x)[i+1:]); err != nil || e > 1000 || e < -1000 {
					return false, false
				}
			}
			r, good := new(big.Rat).SetString(string(x))
			if !good {
				return false, false
			}
			return r.IsInt(), true
		}
		return false, true
	}
	panic("unexpected type")
}

// refEqual compares a value decoded from the schema (float64 numbers) with
// one decoded from the instance (json.Number).
func refEqual(schemaVal, x any) bool {
	switch s := schemaVal.(type) {
	case float64:
		n, ok := x.(json.Number)
		if !ok {
			return false
		}
		f, _ := strconv.ParseFloat(string(n), 64)
		return f == s
	case []any:
		a, ok := x.([]any)
		if !ok || len(a) != len(s) {
			return false
		}
		for i := range s {
			if !refEqual(s[i], a[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		o, ok := x.(map[string]any)
		if !ok || len(o) != len(s) {
			return false
		}
		for k, v := range s {
			ov, has := o[k]
			if !has || !refEqual(v, ov) {
				return false
			}
		}
		return true
	}
	return schemaVal == x
}
