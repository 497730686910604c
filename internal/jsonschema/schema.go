// Package jsonschema is a small, allocation-conscious JSON Schema validator
// for MCP tool arguments.
//
// A schema is compiled once (Compile) and then used to validate raw JSON
// instances (Validate) without decoding them into map[string]any: the
// validator walks the instance bytes directly and only decodes the scalars a
// keyword actually needs.
//
// Supported keywords: type, properties, required, additionalProperties,
// minProperties, maxProperties, enum, const, items (a single schema),
// minItems, maxItems, minLength, maxLength, pattern, minimum, maximum,
// exclusiveMinimum, exclusiveMaximum (2020-12 numeric form), allOf, anyOf,
// oneOf and not. Boolean schemas (true/false) are accepted anywhere a schema
// is. Annotation keywords (title, description, default, examples, format,
// $schema, $id, ...) and unreferenced $defs/definitions are ignored.
// Keywords that would change what is valid but are not implemented ($ref,
// patternProperties, uniqueItems, ...) make Compile fail rather than being
// silently ignored.
package jsonschema

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
)

const (
	// maxDepth bounds the nesting of instances (objects and arrays).
	maxDepth = 64
	// maxSchemaDepth bounds the nesting of subschemas.
	maxSchemaDepth = 128
	// maxEnumInMessage bounds how many enum values an error message lists.
	maxEnumInMessage = 20
)

// Schema is a compiled schema. Compile once at tool registration; Validate
// per call. A Schema is immutable and safe for concurrent use.
type Schema struct {
	root *node
}

// typeMask is a set of JSON Schema type names.
type typeMask uint8

const (
	tObject typeMask = 1 << iota
	tArray
	tString
	tNumber
	tInteger
	tBoolean
	tNull
)

var typeByName = map[string]typeMask{
	"object":  tObject,
	"array":   tArray,
	"string":  tString,
	"number":  tNumber,
	"integer": tInteger,
	"boolean": tBoolean,
	"null":    tNull,
}

// name returns the name of an instance kind (a single bit; never tInteger).
func (m typeMask) name() string {
	switch m {
	case tObject:
		return "object"
	case tArray:
		return "array"
	case tString:
		return "string"
	case tNumber:
		return "number"
	case tBoolean:
		return "boolean"
	case tNull:
		return "null"
	}
	return "integer"
}

// node is one compiled (sub)schema.
type node struct {
	trivial bool // accepts every value (true, {} or annotations only)
	never   bool // accepts nothing (false)

	types   typeMask // 0: any type
	typeMsg string   // "expected string or null, got "

	enum     []value
	enumMsg  string
	cnst     []value // nil, or the single const value
	constMsg string

	hasObj      bool
	props       map[string]*prop // properties and required names
	required    []string
	additional  *node // nil: any additional property is allowed
	minProps    int   // -1: unset
	maxProps    int
	minPropsMsg string
	maxPropsMsg string

	hasArr      bool
	items       *node // nil: any item
	minItems    int
	maxItems    int
	minItemsMsg string
	maxItemsMsg string

	hasStr     bool
	minLen     int
	maxLen     int
	minLenMsg  string
	maxLenMsg  string
	pattern    *regexp.Regexp
	patternMsg string

	nums []numCheck

	allOf    []*node
	anyOf    []*node
	oneOf    []*node
	not      *node
	anyOfMsg string // type-union message when every anyOf branch has "type"
	oneOfMsg string
}

// prop is what an object key maps to: its properties schema (nil when the
// name only appears in "required") and its index in required (-1 if none).
type prop struct {
	schema *node
	req    int
}

type numOp uint8

const (
	opMin numOp = iota
	opExMin
	opMax
	opExMax
)

type numCheck struct {
	op    numOp
	limit float64
	msg   string
}

// value is a decoded JSON value from enum or const.
type value struct {
	kind byte // 'z' null, 't' true, 'f' false, 'n' number, 's' string, 'a' array, 'o' object
	num  float64
	str  string
	arr  []value
	obj  map[string]*value
}

// unsupported lists keywords that change what is valid but are not
// implemented. Compile rejects schemas that use them.
var unsupported = map[string]bool{
	"$ref":                  true,
	"$dynamicRef":           true,
	"$recursiveRef":         true,
	"if":                    true,
	"dependentRequired":     true,
	"dependentSchemas":      true,
	"dependencies":          true,
	"patternProperties":     true,
	"propertyNames":         true,
	"unevaluatedProperties": true,
	"unevaluatedItems":      true,
	"prefixItems":           true,
	"contains":              true,
	"uniqueItems":           true,
	"multipleOf":            true,
	"divisibleBy":           true,
	"extends":               true,
	"disallow":              true,
}

// Compile parses a JSON Schema document (a tool's inputSchema as raw JSON).
// It returns an error for schemas it cannot honour: malformed JSON, a
// malformed keyword value, or a keyword that changes what is valid but is
// not implemented ($ref, patternProperties, ...). Unknown annotation
// keywords are ignored.
func Compile(raw []byte) (*Schema, error) {
	if !json.Valid(raw) {
		return nil, fmt.Errorf("jsonschema: schema is not valid JSON")
	}
	n, err := compileNode(raw, "#", 0)
	if err != nil {
		return nil, err
	}
	return &Schema{root: n}, nil
}

func errorf(at, format string, args ...any) error {
	return fmt.Errorf("jsonschema: %s: %s", at, fmt.Sprintf(format, args...))
}

// child returns the location of a subschema in JSON Pointer fragment form.
func child(at string, parts ...string) string {
	var b strings.Builder
	b.WriteString(at)
	for _, p := range parts {
		b.WriteByte('/')
		p = strings.ReplaceAll(p, "~", "~0")
		b.WriteString(strings.ReplaceAll(p, "/", "~1"))
	}
	return b.String()
}

func compileNode(raw []byte, at string, depth int) (*node, error) {
	if depth > maxSchemaDepth {
		return nil, errorf(at, "schema is nested too deeply")
	}
	raw = bytes.Trim(raw, " \t\r\n")
	switch string(raw) {
	case "true":
		return &node{trivial: true}, nil
	case "false":
		return &node{never: true}, nil
	}
	if len(raw) == 0 || raw[0] != '{' {
		return nil, errorf(at, "schema must be an object or a boolean")
	}
	var kw map[string]json.RawMessage
	if err := json.Unmarshal(raw, &kw); err != nil {
		return nil, errorf(at, "invalid schema: %v", err)
	}
	keys := make([]string, 0, len(kw))
	for k := range kw {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if unsupported[k] {
			return nil, errorf(at, "unsupported keyword %q", k)
		}
	}

	n := &node{minProps: -1, maxProps: -1, minItems: -1, maxItems: -1, minLen: -1, maxLen: -1}
	var err error

	if r, ok := kw["type"]; ok {
		var names []string
		if n.types, names, err = parseType(r); err != nil {
			return nil, errorf(at, "%v", err)
		}
		n.typeMsg = "expected " + joinOr(names) + ", got "
	}

	if r, ok := kw["enum"]; ok {
		var items []json.RawMessage
		if json.Unmarshal(r, &items) != nil || items == nil || len(items) == 0 {
			return nil, errorf(at, "enum must be a non-empty array")
		}
		var msg strings.Builder
		msg.WriteString("must be one of ")
		for i, it := range items {
			v, err := decodeValue(it)
			if err != nil {
				return nil, errorf(at, "enum: %v", err)
			}
			n.enum = append(n.enum, v)
			if i == maxEnumInMessage {
				msg.WriteString(", ...")
			} else if i < maxEnumInMessage {
				if i > 0 {
					msg.WriteString(", ")
				}
				msg.Write(compact(it))
			}
		}
		n.enumMsg = msg.String()
	}

	if r, ok := kw["const"]; ok {
		v, err := decodeValue(r)
		if err != nil {
			return nil, errorf(at, "const: %v", err)
		}
		n.cnst = []value{v}
		n.constMsg = "must be equal to " + string(compact(r))
	}

	// Object keywords.
	if r, ok := kw["properties"]; ok {
		var props map[string]json.RawMessage
		if !isObject(r) || json.Unmarshal(r, &props) != nil {
			return nil, errorf(at, "properties must be an object")
		}
		names := make([]string, 0, len(props))
		for name := range props {
			names = append(names, name)
		}
		sort.Strings(names)
		n.props = make(map[string]*prop, len(props))
		for _, name := range names {
			sub, err := compileNode(props[name], child(at, "properties", name), depth+1)
			if err != nil {
				return nil, err
			}
			n.props[name] = &prop{schema: sub, req: -1}
		}
	}
	if r, ok := kw["required"]; ok {
		var req []string
		if json.Unmarshal(r, &req) != nil || !isArray(r) {
			return nil, errorf(at, "required must be an array of strings")
		}
		if n.props == nil && len(req) > 0 {
			n.props = make(map[string]*prop, len(req))
		}
		for _, name := range req {
			if slices.Contains(n.required, name) {
				continue
			}
			p := n.props[name]
			if p == nil {
				p = &prop{req: -1}
				n.props[name] = p
			}
			p.req = len(n.required)
			n.required = append(n.required, name)
		}
	}
	if r, ok := kw["additionalProperties"]; ok {
		sub, err := compileNode(r, child(at, "additionalProperties"), depth+1)
		if err != nil {
			return nil, err
		}
		if !sub.trivial {
			n.additional = sub
		}
	}
	if n.minProps, err = count(kw, "minProperties"); err != nil {
		return nil, errorf(at, "%v", err)
	}
	if n.maxProps, err = count(kw, "maxProperties"); err != nil {
		return nil, errorf(at, "%v", err)
	}
	n.minPropsMsg = "must have at least " + plural(n.minProps, "property", "properties")
	n.maxPropsMsg = "must have at most " + plural(n.maxProps, "property", "properties")
	n.hasObj = n.props != nil || n.additional != nil || n.minProps >= 0 || n.maxProps >= 0

	// Array keywords.
	if r, ok := kw["items"]; ok {
		if len(r) > 0 && r[0] == '[' {
			return nil, errorf(at, "unsupported keyword \"items\" with an array value (use a single schema)")
		}
		sub, err := compileNode(r, child(at, "items"), depth+1)
		if err != nil {
			return nil, err
		}
		if !sub.trivial {
			n.items = sub
		}
	}
	if n.minItems, err = count(kw, "minItems"); err != nil {
		return nil, errorf(at, "%v", err)
	}
	if n.maxItems, err = count(kw, "maxItems"); err != nil {
		return nil, errorf(at, "%v", err)
	}
	n.minItemsMsg = "must have at least " + plural(n.minItems, "item", "items")
	n.maxItemsMsg = "must have at most " + plural(n.maxItems, "item", "items")
	n.hasArr = n.items != nil || n.minItems >= 0 || n.maxItems >= 0

	// String keywords.
	if n.minLen, err = count(kw, "minLength"); err != nil {
		return nil, errorf(at, "%v", err)
	}
	if n.maxLen, err = count(kw, "maxLength"); err != nil {
		return nil, errorf(at, "%v", err)
	}
	n.minLenMsg = "must be at least " + plural(n.minLen, "character", "characters") + " long"
	n.maxLenMsg = "must be at most " + plural(n.maxLen, "character", "characters") + " long"
	if r, ok := kw["pattern"]; ok {
		var p string
		if json.Unmarshal(r, &p) != nil {
			return nil, errorf(at, "pattern must be a string")
		}
		re, err := regexp.Compile(p)
		if err != nil {
			return nil, errorf(at, "pattern %q: %v", p, err)
		}
		n.pattern = re
		n.patternMsg = "must match pattern " + string(appendJSONString(nil, p))
	}
	n.hasStr = n.minLen >= 0 || n.maxLen >= 0 || n.pattern != nil

	// Numeric keywords, in a fixed order.
	for _, c := range []struct {
		name string
		op   numOp
		msg  string
	}{
		{"minimum", opMin, "must be >= "},
		{"exclusiveMinimum", opExMin, "must be > "},
		{"maximum", opMax, "must be <= "},
		{"exclusiveMaximum", opExMax, "must be < "},
	} {
		r, ok := kw[c.name]
		if !ok {
			continue
		}
		r = bytes.Trim(r, " \t\r\n")
		if !isNumber(r) {
			return nil, errorf(at, "%s must be a number", c.name)
		}
		f, _ := strconv.ParseFloat(string(r), 64) // out of range: ±Inf
		n.nums = append(n.nums, numCheck{op: c.op, limit: f, msg: c.msg + string(r)})
	}

	// Combinators.
	for _, c := range []struct {
		name string
		dst  *[]*node
		msg  *string
	}{
		{"allOf", &n.allOf, nil},
		{"anyOf", &n.anyOf, &n.anyOfMsg},
		{"oneOf", &n.oneOf, &n.oneOfMsg},
	} {
		r, ok := kw[c.name]
		if !ok {
			continue
		}
		var subs []json.RawMessage
		if json.Unmarshal(r, &subs) != nil || len(subs) == 0 {
			return nil, errorf(at, "%s must be a non-empty array of schemas", c.name)
		}
		var names []string
		typed := true
		for i, s := range subs {
			sub, err := compileNode(s, child(at, c.name, strconv.Itoa(i)), depth+1)
			if err != nil {
				return nil, err
			}
			*c.dst = append(*c.dst, sub)
			if sub.types == 0 {
				typed = false
			}
			for name, bit := range typeByName {
				if sub.types&bit != 0 && !slices.Contains(names, name) {
					names = append(names, name)
				}
			}
		}
		if typed && c.msg != nil {
			slices.SortFunc(names, func(a, b string) int { return int(typeByName[a]) - int(typeByName[b]) })
			*c.msg = "expected " + joinOr(names) + ", got "
		}
	}
	if r, ok := kw["not"]; ok {
		if n.not, err = compileNode(r, child(at, "not"), depth+1); err != nil {
			return nil, err
		}
	}

	n.trivial = n.types == 0 && n.enum == nil && n.cnst == nil && !n.hasObj && !n.hasArr &&
		!n.hasStr && n.nums == nil && n.allOf == nil && n.anyOf == nil && n.oneOf == nil && n.not == nil
	return n, nil
}

func parseType(r json.RawMessage) (typeMask, []string, error) {
	var names []string
	var one string
	if err := json.Unmarshal(r, &one); err == nil {
		names = []string{one}
	} else if err := json.Unmarshal(r, &names); err != nil || len(names) == 0 {
		return 0, nil, fmt.Errorf("type must be a type name or a non-empty array of type names")
	}
	var m typeMask
	var uniq []string
	for _, name := range names {
		bit, ok := typeByName[name]
		if !ok {
			return 0, nil, fmt.Errorf("invalid type name %q", name)
		}
		if m&bit == 0 {
			uniq = append(uniq, name)
		}
		m |= bit
	}
	return m, uniq, nil
}

// count reads a non-negative integer keyword; -1 when absent.
func count(kw map[string]json.RawMessage, name string) (int, error) {
	r, ok := kw[name]
	if !ok {
		return -1, nil
	}
	r = bytes.Trim(r, " \t\r\n")
	if !isNumber(r) {
		return 0, fmt.Errorf("%s must be a non-negative integer", name)
	}
	f, err := strconv.ParseFloat(string(r), 64)
	if err != nil || f < 0 || f != math.Trunc(f) || f > math.MaxInt32 {
		return 0, fmt.Errorf("%s must be a non-negative integer", name)
	}
	return int(f), nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

func joinOr(names []string) string {
	switch len(names) {
	case 0:
		return ""
	case 1:
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

func isObject(r []byte) bool {
	r = bytes.TrimLeft(r, " \t\r\n")
	return len(r) > 0 && r[0] == '{'
}

func isArray(r []byte) bool {
	r = bytes.TrimLeft(r, " \t\r\n")
	return len(r) > 0 && r[0] == '['
}

func isNumber(r []byte) bool {
	return len(r) > 0 && checkNumber(r, 0) == len(r)
}

func compact(r []byte) []byte {
	var b bytes.Buffer
	if json.Compact(&b, r) != nil {
		return r
	}
	return b.Bytes()
}

// decodeValue decodes an enum or const value, keeping numbers exact until
// they are converted to float64 (out-of-range numbers become ±Inf).
func decodeValue(r []byte) (value, error) {
	dec := json.NewDecoder(bytes.NewReader(r))
	dec.UseNumber()
	var x any
	if err := dec.Decode(&x); err != nil {
		return value{}, err
	}
	return toValue(x), nil
}

func toValue(x any) value {
	switch t := x.(type) {
	case nil:
		return value{kind: 'z'}
	case bool:
		if t {
			return value{kind: 't'}
		}
		return value{kind: 'f'}
	case json.Number:
		f, _ := strconv.ParseFloat(string(t), 64)
		return value{kind: 'n', num: f}
	case string:
		return value{kind: 's', str: t}
	case []any:
		v := value{kind: 'a', arr: make([]value, len(t))}
		for i, e := range t {
			v.arr[i] = toValue(e)
		}
		return v
	case map[string]any:
		v := value{kind: 'o', obj: make(map[string]*value, len(t))}
		for k, e := range t {
			ev := toValue(e)
			v.obj[k] = &ev
		}
		return v
	}
	panic(fmt.Sprintf("jsonschema: unexpected decoded type %T", x))
}
