package jsonschema

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math/big"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
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
	// A recursive tree through $ref.
	`{"$defs":{"node":{"type":"object","properties":{"value":{"type":"integer"},"name":{"type":"string","maxLength":3},` +
		`"children":{"type":"array","items":{"$ref":"#/$defs/node"}}},"required":["value"],"additionalProperties":false}},` +
		`"anyOf":[{"$ref":"#/$defs/node"},{"type":"array","items":{"$ref":"#"}}]}`,
	// The MCP conformance schema: $ref, allOf/anyOf, if/then/else.
	conformanceSchema,
	// Object keywords, with unevaluatedProperties.
	`{"type":"object","properties":{"a":{},"b":{"type":["integer","string"]}},"patternProperties":{"^x-":{"type":"string"},` +
		`"^n":{"type":"number","multipleOf":0.5}},"propertyNames":{"maxLength":4},"dependentRequired":{"a":["b"]},` +
		`"dependentSchemas":{"b":{"properties":{"a":{"type":"integer"}}}},"anyOf":[{"properties":{"c":{"type":"boolean"}}},` +
		`{"properties":{"d":{"const":null}},"required":["d"]}],"if":{"required":["e"]},"then":{"properties":{"f":{}}},` +
		`"else":{"properties":{"g":{"minProperties":1}}},"unevaluatedProperties":false,"maxProperties":6}`,
	// Array keywords.
	`{"type":"array","prefixItems":[{"type":"integer"},{"type":"string"}],"items":{"type":["number","array","object"]},` +
		`"contains":{"type":"number","minimum":2},"minContains":1,"maxContains":3,"uniqueItems":true}`,
	`{"items":[{"type":"string"}],"additionalItems":{"uniqueItems":true},"maxItems":4,"minItems":1}`,
	// Numbers and combinators.
	`{"oneOf":[{"type":"integer","multipleOf":3},{"type":"number","exclusiveMinimum":0,"maximum":1,"multipleOf":0.125},` +
		`{"type":"number","minimum":-5,"exclusiveMaximum":-1}],"not":{"const":6}}`,
	`{"type":"object","additionalProperties":{"$ref":"#/$defs/v"},"$defs":{"v":{"type":["string","array"],"minLength":1,` +
		`"pattern":"^[a-z]","items":{"$ref":"#/$defs/v"},"uniqueItems":true}}}`,
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
		`{"value":1,"children":[{"value":2,"name":"ab"},{"value":3,"children":[]}]}`, `[{"value":1},[{"value":2}]]`,
		`{"value":1,"children":[{"value":"x"}]}`, `{"name":"a","email":"x"}`, `{"contactMethod":"phone","email":"x"}`,
		`{"address":{"street":1},"email":"x"}`, `{"x":1,"email":"e"}`, `{"contactMethod":"phone","phone":"1"}`,
		`{"a":1,"b":2,"x-y":"s","n1":1.5}`, `{"b":"s","c":true}`, `{"d":null,"e":1,"f":2}`, `{"abcde":1,"d":null}`,
		`{"g":{"h":1},"d":null}`, `[1,"a",2,3.0,[],{}]`, `[1,"a",2,2]`, `[1,"a",5,6,7,8]`, `["x",[1,2],[1,1]]`,
		`3`, `9`, `6`, `0.375`, `0.3`, `-2`, `-1`, `1e1`, `{"k":["ab",["c"]],"l":"x"}`, `{"k":["ab","ab"]}`,
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
		dec := json.NewDecoder(strings.NewReader(s))
		dec.UseNumber()
		if err := dec.Decode(&d); err != nil {
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

// refValidator is a slow reference validator over decoded values (numbers
// as json.Number), for the keywords used by fuzzSchemas. It is written
// independently of the package: it collects evaluated property names as
// JSON Schema 2020-12 annotations, evaluates every keyword, and compares
// numbers with math/big. ok is false when it cannot decide (extreme
// exponents).
type refValidator struct {
	root any
}

type refResult struct {
	valid, ok bool
	evaluated map[string]bool // property names evaluated (only when valid)
}

func refValid(schema, x any) (valid, ok bool) {
	r := (&refValidator{root: schema}).eval(schema, x)
	return r.valid, r.ok
}

func (c *refValidator) eval(schema, x any) refResult {
	if b, isBool := schema.(bool); isBool {
		return refResult{valid: b, ok: true}
	}
	s := schema.(map[string]any)
	res := refResult{valid: true, ok: true, evaluated: map[string]bool{}}
	undecided := false
	check := func(cond bool) {
		if !cond {
			res.valid = false
		}
	}
	sub := func(schema, x any) refResult {
		r := c.eval(schema, x)
		if !r.ok {
			undecided = true
		}
		return r
	}
	merge := func(r refResult) {
		for k := range r.evaluated {
			res.evaluated[k] = true
		}
	}

	if ref, has := s["$ref"]; has {
		r := sub(c.resolve(ref.(string)), x)
		check(r.valid)
		merge(r)
	}
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
				undecided = true
			}
			match = match || m
		}
		check(match)
	}
	if e, has := s["enum"]; has {
		found := false
		for _, v := range e.([]any) {
			found = found || refEqual(v, x)
		}
		check(found)
	}
	if v, has := s["const"]; has {
		check(refEqual(v, x))
	}

	if obj, isObj := x.(map[string]any); isObj {
		props, _ := s["properties"].(map[string]any)
		patterns, _ := s["patternProperties"].(map[string]any)
		for k, v := range obj {
			matched := false
			if p, has := props[k]; has {
				matched = true
				check(sub(p, v).valid)
			}
			for pat, p := range patterns {
				if regexp.MustCompile(pat).MatchString(k) {
					matched = true
					check(sub(p, v).valid)
				}
			}
			if a, has := s["additionalProperties"]; has && !matched {
				matched = true
				check(sub(a, v).valid)
			}
			if matched {
				res.evaluated[k] = true
			}
			if pn, has := s["propertyNames"]; has {
				check(sub(pn, k).valid)
			}
		}
		req, _ := s["required"].([]any)
		for _, r := range req {
			_, has := obj[r.(string)]
			check(has)
		}
		dr, _ := s["dependentRequired"].(map[string]any)
		for trigger, names := range dr {
			if _, has := obj[trigger]; has {
				for _, n := range names.([]any) {
					_, has := obj[n.(string)]
					check(has)
				}
			}
		}
		ds, _ := s["dependentSchemas"].(map[string]any)
		for trigger, d := range ds {
			if _, has := obj[trigger]; has {
				r := sub(d, x)
				check(r.valid)
				merge(r)
			}
		}
		if m, has := s["maxProperties"]; has {
			check(len(obj) <= refInt(m))
		}
		if m, has := s["minProperties"]; has {
			check(len(obj) >= refInt(m))
		}
	}

	if arr, isArr := x.([]any); isArr {
		var prefix []any
		rest, hasRest := s["items"]
		if p, has := s["prefixItems"]; has {
			prefix = p.([]any)
		} else if p, isList := rest.([]any); isList {
			prefix = p
			rest, hasRest = s["additionalItems"]
		}
		for i, v := range arr {
			if i < len(prefix) {
				check(sub(prefix[i], v).valid)
			} else if hasRest {
				check(sub(rest, v).valid)
			}
		}
		if ct, has := s["contains"]; has {
			n := 0
			for _, v := range arr {
				if sub(ct, v).valid {
					n++
				}
			}
			min := 1
			if m, has := s["minContains"]; has {
				min = refInt(m)
			}
			check(n >= min)
			if m, has := s["maxContains"]; has {
				check(n <= refInt(m))
			}
		}
		if u, _ := s["uniqueItems"].(bool); u {
			for i := range arr {
				for j := range i {
					eq, ok := refExactEqual(arr[i], arr[j])
					if !ok {
						undecided = true
					}
					check(!eq)
				}
			}
		}
		if m, has := s["maxItems"]; has {
			check(len(arr) <= refInt(m))
		}
		if m, has := s["minItems"]; has {
			check(len(arr) >= refInt(m))
		}
	}

	if str, isStr := x.(string); isStr {
		n := utf8.RuneCountInString(str)
		if m, has := s["minLength"]; has {
			check(n >= refInt(m))
		}
		if m, has := s["maxLength"]; has {
			check(n <= refInt(m))
		}
		if p, has := s["pattern"]; has {
			check(regexp.MustCompile(p.(string)).MatchString(str))
		}
	}

	if num, isNum := x.(json.Number); isNum {
		f, _ := strconv.ParseFloat(string(num), 64)
		limit := func(name string) (float64, bool) {
			l, has := s[name].(json.Number)
			lf, _ := strconv.ParseFloat(string(l), 64)
			return lf, has
		}
		if l, has := limit("minimum"); has {
			check(f >= l)
		}
		if l, has := limit("exclusiveMinimum"); has {
			check(f > l)
		}
		if l, has := limit("maximum"); has {
			check(f <= l)
		}
		if l, has := limit("exclusiveMaximum"); has {
			check(f < l)
		}
		if m, has := s["multipleOf"]; has {
			xr, ok1 := refRat(num)
			mr, ok2 := refRat(m.(json.Number))
			if !ok1 || !ok2 {
				undecided = true
			} else {
				check(new(big.Rat).Quo(xr, mr).IsInt())
			}
		}
	}

	if all, has := s["allOf"]; has {
		for _, b := range all.([]any) {
			r := sub(b, x)
			check(r.valid)
			merge(r)
		}
	}
	if anyOf, has := s["anyOf"]; has {
		n := 0
		for _, b := range anyOf.([]any) {
			if r := sub(b, x); r.valid {
				n++
				merge(r)
			}
		}
		check(n > 0)
	}
	if oneOf, has := s["oneOf"]; has {
		n := 0
		for _, b := range oneOf.([]any) {
			if r := sub(b, x); r.valid {
				n++
				merge(r)
			}
		}
		check(n == 1)
	}
	if not, has := s["not"]; has {
		check(!sub(not, x).valid)
	}
	if cond, has := s["if"]; has {
		if r := sub(cond, x); r.valid {
			merge(r)
			if then, has := s["then"]; has {
				r := sub(then, x)
				check(r.valid)
				merge(r)
			}
		} else if els, has := s["else"]; has {
			r := sub(els, x)
			check(r.valid)
			merge(r)
		}
	}
	if u, has := s["unevaluatedProperties"]; has {
		if obj, isObj := x.(map[string]any); isObj {
			for k, v := range obj {
				if !res.evaluated[k] {
					check(sub(u, v).valid)
					res.evaluated[k] = true
				}
			}
		}
	}

	if undecided {
		return refResult{}
	}
	if !res.valid {
		res.evaluated = nil
	}
	return res
}

// resolve follows a "#..." JSON pointer from the root of the schema.
func (c *refValidator) resolve(ref string) any {
	frag, err := url.PathUnescape(strings.TrimPrefix(ref, "#"))
	if err != nil {
		panic(err)
	}
	cur := c.root
	if frag == "" {
		return cur
	}
	for _, tok := range strings.Split(frag[1:], "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		switch t := cur.(type) {
		case map[string]any:
			cur = t[tok]
		case []any:
			i, _ := strconv.Atoi(tok)
			cur = t[i]
		}
	}
	return cur
}

func refInt(n any) int {
	i, err := strconv.Atoi(string(n.(json.Number)))
	if err != nil {
		panic(err)
	}
	return i
}

// refRat converts a number exactly; false for extreme exponents.
func refRat(n json.Number) (*big.Rat, bool) {
	if i := strings.IndexAny(string(n), "eE"); i >= 0 {
		if e, err := strconv.Atoi(string(n)[i+1:]); err != nil || e > 1000 || e < -1000 {
			return nil, false
		}
	}
	return new(big.Rat).SetString(string(n))
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
			r, good := refRat(x)
			if !good {
				return false, false
			}
			return r.IsInt(), true
		}
		return false, true
	}
	panic("unexpected type")
}

// refEqual compares a value decoded from the schema with one decoded from
// the instance, numbers as float64 (as enum and const do).
func refEqual(schemaVal, x any) bool {
	switch s := schemaVal.(type) {
	case json.Number:
		n, ok := x.(json.Number)
		if !ok {
			return false
		}
		f, _ := strconv.ParseFloat(string(n), 64)
		g, _ := strconv.ParseFloat(string(s), 64)
		return f == g
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

// refExactEqual compares two instance values, numbers exactly.
func refExactEqual(a, b any) (eq, ok bool) {
	switch a := a.(type) {
	case json.Number:
		bn, isNum := b.(json.Number)
		if !isNum {
			return false, true
		}
		ar, ok1 := refRat(a)
		br, ok2 := refRat(bn)
		if !ok1 || !ok2 {
			return false, false
		}
		return ar.Cmp(br) == 0, true
	case []any:
		bb, isArr := b.([]any)
		if !isArr || len(a) != len(bb) {
			return false, true
		}
		for i := range a {
			if eq, ok := refExactEqual(a[i], bb[i]); !ok || !eq {
				return eq, ok
			}
		}
		return true, true
	case map[string]any:
		bb, isObj := b.(map[string]any)
		if !isObj || len(a) != len(bb) {
			return false, true
		}
		for k, v := range a {
			bv, has := bb[k]
			if !has {
				return false, true
			}
			if eq, ok := refExactEqual(v, bv); !ok || !eq {
				return eq, ok
			}
		}
		return true, true
	}
	return a == b, true
}

// FuzzCompile feeds arbitrary schemas to Compile, and the schemas that
// compile to Validate: neither may panic or hang, and Validate must only
// return *ValidationError.
func FuzzCompile(f *testing.F) {
	for _, s := range fuzzSchemas {
		f.Add([]byte(s))
	}
	for _, s := range []string{
		`{"$ref":"#"}`, `{"properties":{"a":{"$ref":"#"}}}`, `{"$defs":{"a":{"$ref":"#/$defs/b"},"b":{"$ref":"#/$defs/a"}},"$ref":"#/$defs/a"}`,
		`{"$id":"https://x.example/a.json","$defs":{"b":{"$id":"b.json","$anchor":"c","items":{"$ref":"#c"}}},"$ref":"b.json"}`,
		`{"$schema":"http://json-schema.org/draft-07/schema#","definitions":{"a":{"$id":"#a","type":"string"}},"$ref":"#a"}`,
		`{"$ref":"#/$defs/a~0b%25","$defs":{"a~b%":{"minimum":1,"exclusiveMinimum":true}}}`,
		`{"unevaluatedProperties":false,"anyOf":[{"properties":{"a":{}}}],"dependentSchemas":{"a":{"properties":{"b":{}}}}}`,
		`{"items":[{"$ref":"#/items/0"}]}`, `{"allOf":[{"$ref":"#/allOf/1"},{"$ref":"#/allOf/0"}]}`,
		`{"$ref":"#/properties/a/enum/0","properties":{"a":{"enum":[{"type":"string"}]}}}`,
	} {
		f.Add([]byte(s))
	}
	insts := [][]byte{[]byte(`{"a":[1,{"b":"x"}],"c":null}`), []byte(`[1,"a",[2.5,{}],true]`), []byte(`"abc"`), []byte(`12.5`),
		[]byte(strings.Repeat(`{"a":`, 30) + `[]` + strings.Repeat(`}`, 30))}
	f.Fuzz(func(t *testing.T, schema []byte) {
		s, err := Compile(schema)
		if err != nil {
			if s != nil {
				t.Fatalf("schema and error")
			}
			return
		}
		for _, inst := range insts {
			if err := s.Validate(inst); err != nil {
				var ve *ValidationError
				if !errors.As(err, &ve) {
					t.Fatalf("error %T", err)
				}
			}
		}
	})
}
