// Package jsonschema is a small, allocation-conscious JSON Schema validator
// for MCP tool arguments.
//
// A schema is compiled once (Compile) and then used to validate raw JSON
// instances (Validate) without decoding them into map[string]any: the
// validator walks the instance bytes directly and only decodes the scalars a
// keyword actually needs.
//
// Supported keywords (JSON Schema 2020-12, plus the older forms noted):
//
//   - any type: type, enum, const, allOf, anyOf, oneOf, not, if/then/else,
//     $ref (see below);
//   - objects: properties, required, additionalProperties, patternProperties,
//     propertyNames, minProperties, maxProperties, dependentRequired,
//     dependentSchemas, dependencies (draft-07), unevaluatedProperties;
//   - arrays: items, prefixItems, items as an array with additionalItems
//     (draft-07), contains, minContains, maxContains, minItems, maxItems,
//     uniqueItems;
//   - strings: minLength, maxLength, pattern;
//   - numbers: minimum, maximum, exclusiveMinimum and exclusiveMaximum (as
//     numbers, or as booleans beside minimum/maximum as in draft-04),
//     multipleOf (exact on the decimal text).
//
// Boolean schemas (true/false) are accepted anywhere a schema is.
// Annotation keywords (title, description, default, examples, format,
// $schema, $comment, ...) are ignored, and so are $defs/definitions that
// nothing references.
//
// "$ref" resolves within the schema document only: "#", JSON pointers
// ("#/$defs/name", "#/definitions/name", any "#/..." with ~0, ~1 and
// percent-escapes), anchors ("#name" from $anchor, $dynamicAnchor or a
// draft-07 "$id":"#name") and URIs of embedded resources ("$id"). Remote
// references make Compile fail. Recursive schemas work; a reference cycle
// that never descends into the instance (such as {"$ref":"#"}) makes
// Compile fail. As in 2020-12, keywords beside "$ref" apply too, except in
// documents whose $schema is draft-04, -06 or -07, where they are ignored.
//
// Keywords that would change what is valid but are not implemented
// ($dynamicRef, $recursiveRef, unevaluatedItems, ...) make Compile fail
// rather than being silently ignored. Patterns use Go's RE2 syntax.
package jsonschema

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"mcplambda/internal/jsonlex"
)

const (
	// maxDepth bounds the nesting of instances (objects and arrays).
	maxDepth = 64
	// maxSchemaDepth bounds the nesting of subschemas in the document.
	maxSchemaDepth = 128
	// maxSchemaNodes bounds the number of subschemas in the document.
	maxSchemaNodes = 1 << 16
	// maxLocationBytes bounds the total length of the subschemas' locations
	// (JSON pointers), which long keys above many subschemas could inflate.
	maxLocationBytes = 1 << 25
	// maxInPlaceDepth bounds chains of subschemas that apply to the same
	// instance value ($ref, allOf, anyOf, oneOf, not, if/then/else,
	// dependentSchemas), which bounds the recursion of Validate together
	// with maxDepth.
	maxInPlaceDepth = 512
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

// node is one compiled (sub)schema. Nodes form a graph: "$ref" and
// recursive schemas make them shared and cyclic.
type node struct {
	trivial bool // accepts every value (true, {} or annotations only)
	never   bool // accepts nothing (false)
	lit     bool // the schema itself has no constraint (true, {}, annotations): compile-time only

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
	addlPresent bool  // "additionalProperties" is present (even as true)
	patterns    []patternProp
	propNames   *node
	depReq      []depRequired
	minProps    int // -1: unset
	maxProps    int
	minPropsMsg string
	maxPropsMsg string

	hasArr         bool
	tuple          bool    // prefixItems, or items as an array, is present
	prefix         []*node // prefixItems, or items as an array
	items          *node   // the items after prefix; nil: any item
	contains       *node
	minContains    int
	maxContains    int // -1: unset
	minContainsMsg string
	maxContainsMsg string
	unique         bool
	minItems       int
	maxItems       int
	minItemsMsg    string
	maxItemsMsg    string

	hasStr     bool
	minLen     int
	maxLen     int
	minLenMsg  string
	maxLenMsg  string
	pattern    *regexp.Regexp
	patternMsg string

	hasNum bool
	nums   []numCheck
	mult   *multiple

	ref      *node
	allOf    []*node
	anyOf    []*node
	oneOf    []*node
	not      *node
	anyOfMsg string // type-union message when every anyOf branch has a type
	oneOfMsg string
	ifs      *node
	then     *node
	els      *node
	depSch   []depSchema

	unevaluated *node // unevaluatedProperties (nil if absent or true)
	unevPresent bool

	// Compile-time bookkeeping.
	at    string   // location in the document, for messages
	mark  uint8    // cycle detection: 0 new, 1 in progress, 2 done
	chain int      // longest chain of in-place subschemas from here
	eff   typeMask // types accepted, following $ref (0: any)
}

// prop is what an object key maps to: its properties schema (nil when the
// name only appears in "required") and its index in required (-1 if none).
type prop struct {
	schema *node
	req    int
}

type patternProp struct {
	re     *regexp.Regexp
	schema *node // nil: matches, but accepts any value
}

type depRequired struct {
	name string // when this property is present...
	req  []string
	msg  string
}

type depSchema struct {
	name   string // when this property is present...
	schema *node
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
var unsupported = map[string]string{
	"$dynamicRef":      "",
	"$recursiveRef":    "",
	"unevaluatedItems": "",
	"divisibleBy":      " (draft-03; use multipleOf)",
	"extends":          " (draft-03; use allOf)",
	"disallow":         " (draft-03; use not)",
}

// compiler holds the state of one Compile.
type compiler struct {
	legacy    bool              // draft-04/06/07: keywords beside $ref are ignored
	scopes    map[string]*scope // location → scope in effect inside it
	resources map[string]target // absolute URI → location of an embedded resource
	anchors   map[string]target // URI#name → location
	nodes     map[string]*node  // location → compiled node
	all       []*node
	queue     []pending
	walked    int
	locBytes  int
}

type pending struct {
	n *node
	j *jv
}

// Compile parses a JSON Schema document (a tool's inputSchema as raw JSON).
// It returns an error for schemas it cannot honour: malformed JSON, a
// malformed keyword value, a keyword that changes what is valid but is not
// implemented, a remote or unresolvable $ref, a $ref cycle that never
// descends into the instance, or a document nested too deeply or too big.
// Unknown annotation keywords are ignored.
func Compile(raw []byte) (*Schema, error) {
	if !json.Valid(raw) {
		return nil, fmt.Errorf("jsonschema: schema is not valid JSON")
	}
	doc := newJV(raw)
	c := &compiler{
		scopes:    map[string]*scope{},
		resources: map[string]target{},
		anchors:   map[string]target{},
		nodes:     map[string]*node{},
	}
	if doc.isObject() {
		if s, ok := doc.get("$schema").strOK(); ok {
			c.legacy = strings.Contains(s, "json-schema.org/draft-0")
		}
	}
	base, _ := url.Parse(defaultBase)
	root := &scope{base: base, key: defaultBase, root: "#", rootJ: doc}
	if err := c.walk(doc, "#", root, 0); err != nil {
		return nil, err
	}
	n := c.node("#", doc)
	for i := 0; i < len(c.queue); i++ {
		if len(c.all) > maxSchemaNodes {
			return nil, errorf("#", "schema has more than %d subschemas", maxSchemaNodes)
		}
		if err := c.fill(c.queue[i].n, c.queue[i].j); err != nil {
			return nil, err
		}
	}
	if err := c.link(); err != nil {
		return nil, err
	}
	return &Schema{root: n}, nil
}

// strOK is jv.str on a possibly nil value.
func (j *jv) strOK() (string, bool) {
	if j == nil {
		return "", false
	}
	return j.str()
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

// node returns the node for the schema at a location, queueing it to be
// compiled the first time. Nodes are filled in later, so that references
// (including to a schema being compiled) are just pointers.
func (c *compiler) node(at string, j *jv) *node {
	if n := c.nodes[at]; n != nil {
		return n
	}
	n := &node{at: at, minProps: -1, maxProps: -1, minItems: -1, maxItems: -1, minLen: -1, maxLen: -1,
		minContains: 1, maxContains: -1}
	c.nodes[at] = n
	c.all = append(c.all, n)
	c.queue = append(c.queue, pending{n, j})
	return n
}

// fill compiles the keywords of one schema. It does not look into other
// nodes (they may not be compiled yet); link derives what depends on them.
func (c *compiler) fill(n *node, j *jv) error {
	at := n.at
	switch string(j.raw) {
	case "true":
		n.lit = true
		return nil
	case "false":
		n.never = true
		return nil
	}
	if !j.isObject() {
		return errorf(at, "schema must be an object or a boolean")
	}
	kw := j.get
	legacyRef := c.legacy && kw("$ref") != nil
	if !legacyRef {
		for _, k := range j.keys() {
			if why, bad := unsupported[k]; bad {
				return errorf(at, "unsupported keyword %q%s", k, why)
			}
		}
	}
	if r := kw("$ref"); r != nil {
		s, ok := r.str()
		if !ok {
			return errorf(at, "$ref must be a string")
		}
		t, err := c.resolve(s, at)
		if err != nil {
			return err
		}
		n.ref = c.node(t.at, t.j)
		if legacyRef {
			return nil
		}
	}
	var err error

	if r := kw("type"); r != nil {
		var names []string
		if n.types, names, err = parseType(r.raw); err != nil {
			return errorf(at, "%v", err)
		}
		n.typeMsg = "expected " + joinOr(names) + ", got "
	}

	if r := kw("enum"); r != nil {
		if !r.isArray() || len(r.elems()) == 0 {
			return errorf(at, "enum must be a non-empty array")
		}
		var msg strings.Builder
		msg.WriteString("must be one of ")
		for i, it := range r.vals {
			v, err := decodeValue(it.raw)
			if err != nil {
				return errorf(at, "enum: %v", err)
			}
			n.enum = append(n.enum, v)
			if i == maxEnumInMessage {
				msg.WriteString(", ...")
			} else if i < maxEnumInMessage {
				if i > 0 {
					msg.WriteString(", ")
				}
				msg.Write(compact(it.raw))
			}
		}
		n.enumMsg = msg.String()
	}

	if r := kw("const"); r != nil {
		v, err := decodeValue(r.raw)
		if err != nil {
			return errorf(at, "const: %v", err)
		}
		n.cnst = []value{v}
		n.constMsg = "must be equal to " + string(compact(r.raw))
	}

	if err := c.fillObject(n, j); err != nil {
		return err
	}
	if err := c.fillArray(n, j); err != nil {
		return err
	}

	// String keywords.
	if n.minLen, err = count(kw("minLength"), "minLength"); err != nil {
		return errorf(at, "%v", err)
	}
	if n.maxLen, err = count(kw("maxLength"), "maxLength"); err != nil {
		return errorf(at, "%v", err)
	}
	n.minLenMsg = "must be at least " + plural(n.minLen, "character", "characters") + " long"
	n.maxLenMsg = "must be at most " + plural(n.maxLen, "character", "characters") + " long"
	if r := kw("pattern"); r != nil {
		p, ok := r.str()
		if !ok {
			return errorf(at, "pattern must be a string")
		}
		re, err := regexp.Compile(p)
		if err != nil {
			return errorf(at, "pattern %q: %v", p, err)
		}
		n.pattern = re
		n.patternMsg = "must match pattern " + string(appendJSONString(nil, p))
	}

	if err := c.fillNumber(n, j); err != nil {
		return err
	}

	// Combinators.
	for _, k := range []struct {
		name string
		dst  *[]*node
	}{
		{"allOf", &n.allOf},
		{"anyOf", &n.anyOf},
		{"oneOf", &n.oneOf},
	} {
		r := kw(k.name)
		if r == nil {
			continue
		}
		if !r.isArray() || len(r.elems()) == 0 {
			return errorf(at, "%s must be a non-empty array of schemas", k.name)
		}
		for i, s := range r.vals {
			*k.dst = append(*k.dst, c.node(child(at, k.name, strconv.Itoa(i)), s))
		}
	}
	if r := kw("not"); r != nil {
		n.not = c.node(child(at, "not"), r)
	}
	if r := kw("if"); r != nil { // "then" and "else" without "if" are ignored
		n.ifs = c.node(child(at, "if"), r)
		if r := kw("then"); r != nil {
			n.then = c.node(child(at, "then"), r)
		}
		if r := kw("else"); r != nil {
			n.els = c.node(child(at, "else"), r)
		}
	}

	n.lit = !n.constrained() && n.ref == nil && n.ifs == nil && !n.addlPresent && !n.unevPresent
	return nil
}

func (c *compiler) fillObject(n *node, j *jv) error {
	at, kw := n.at, j.get
	if r := kw("properties"); r != nil {
		if !r.isObject() {
			return errorf(at, "properties must be an object")
		}
		names := r.keys()
		n.props = make(map[string]*prop, len(names))
		for _, name := range names {
			n.props[name] = &prop{schema: c.node(child(at, "properties", name), r.get(name)), req: -1}
		}
	}
	if r := kw("required"); r != nil {
		var req []string
		if json.Unmarshal(r.raw, &req) != nil || !r.isArray() {
			return errorf(at, "required must be an array of strings")
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
	if r := kw("additionalProperties"); r != nil {
		n.additional = c.node(child(at, "additionalProperties"), r)
		n.addlPresent = true
	}
	if r := kw("patternProperties"); r != nil {
		if !r.isObject() {
			return errorf(at, "patternProperties must be an object")
		}
		for _, p := range r.keys() {
			re, err := regexp.Compile(p)
			if err != nil {
				return errorf(at, "patternProperties: pattern %q: %v", p, err)
			}
			n.patterns = append(n.patterns, patternProp{re: re, schema: c.node(child(at, "patternProperties", p), r.get(p))})
		}
	}
	if r := kw("propertyNames"); r != nil {
		n.propNames = c.node(child(at, "propertyNames"), r)
	}
	addDepReq := func(kwName, name string, r *jv) error {
		var req []string
		if json.Unmarshal(r.raw, &req) != nil || !r.isArray() {
			return errorf(at, "%s: %q must be an array of strings", kwName, name)
		}
		d := depRequired{name: name, msg: "property is required when " + string(appendJSONString(nil, name)) + " is present"}
		for _, q := range req {
			if !slices.Contains(d.req, q) {
				d.req = append(d.req, q)
			}
		}
		if len(d.req) > 0 {
			n.depReq = append(n.depReq, d)
		}
		return nil
	}
	if r := kw("dependentRequired"); r != nil {
		if !r.isObject() {
			return errorf(at, "dependentRequired must be an object")
		}
		for _, name := range r.keys() {
			if err := addDepReq("dependentRequired", name, r.get(name)); err != nil {
				return err
			}
		}
	}
	if r := kw("dependentSchemas"); r != nil {
		if !r.isObject() {
			return errorf(at, "dependentSchemas must be an object")
		}
		for _, name := range r.keys() {
			n.depSch = append(n.depSch, depSchema{name, c.node(child(at, "dependentSchemas", name), r.get(name))})
		}
	}
	if r := kw("dependencies"); r != nil { // draft-07: both of the above in one
		if !r.isObject() {
			return errorf(at, "dependencies must be an object")
		}
		for _, name := range r.keys() {
			if d := r.get(name); d.isArray() {
				if err := addDepReq("dependencies", name, d); err != nil {
					return err
				}
			} else {
				n.depSch = append(n.depSch, depSchema{name, c.node(child(at, "dependencies", name), d)})
			}
		}
	}
	if r := kw("unevaluatedProperties"); r != nil {
		n.unevaluated = c.node(child(at, "unevaluatedProperties"), r)
		n.unevPresent = true
	}
	var err error
	if n.minProps, err = count(kw("minProperties"), "minProperties"); err != nil {
		return errorf(at, "%v", err)
	}
	if n.maxProps, err = count(kw("maxProperties"), "maxProperties"); err != nil {
		return errorf(at, "%v", err)
	}
	n.minPropsMsg = "must have at least " + plural(n.minProps, "property", "properties")
	n.maxPropsMsg = "must have at most " + plural(n.maxProps, "property", "properties")
	return nil
}

func (c *compiler) fillArray(n *node, j *jv) error {
	at, kw := n.at, j.get
	schemas := func(name string, r *jv) error {
		if !r.isArray() {
			return errorf(at, "%s must be an array of schemas", name)
		}
		n.tuple = true
		r.parse()
		for i, s := range r.vals {
			n.prefix = append(n.prefix, c.node(child(at, name, strconv.Itoa(i)), s))
		}
		return nil
	}
	items := kw("items")
	if r := kw("prefixItems"); r != nil {
		if err := schemas("prefixItems", r); err != nil {
			return err
		}
		if items != nil && items.isArray() {
			return errorf(at, "items must be a schema when prefixItems is present")
		}
	}
	if items != nil {
		if items.isArray() { // draft-2019-09 and earlier: a tuple, then additionalItems
			if err := schemas("items", items); err != nil {
				return err
			}
			if r := kw("additionalItems"); r != nil {
				n.items = c.node(child(at, "additionalItems"), r)
			}
		} else {
			n.items = c.node(child(at, "items"), items)
		}
	}
	var err error
	if r := kw("contains"); r != nil {
		n.contains = c.node(child(at, "contains"), r)
		if min, err := count(kw("minContains"), "minContains"); err != nil {
			return errorf(at, "%v", err)
		} else if min >= 0 {
			n.minContains = min
		}
		if n.maxContains, err = count(kw("maxContains"), "maxContains"); err != nil {
			return errorf(at, "%v", err)
		}
		n.minContainsMsg = "must contain at least " + plural(n.minContains, "item", "items") + " matching the contains schema"
		n.maxContainsMsg = "must contain at most " + plural(n.maxContains, "item", "items") + " matching the contains schema"
	}
	if r := kw("uniqueItems"); r != nil {
		switch string(r.raw) {
		case "true":
			n.unique = true
		case "false":
		default:
			return errorf(at, "uniqueItems must be a boolean")
		}
	}
	if n.minItems, err = count(kw("minItems"), "minItems"); err != nil {
		return errorf(at, "%v", err)
	}
	if n.maxItems, err = count(kw("maxItems"), "maxItems"); err != nil {
		return errorf(at, "%v", err)
	}
	n.minItemsMsg = "must have at least " + plural(n.minItems, "item", "items")
	n.maxItemsMsg = "must have at most " + plural(n.maxItems, "item", "items")
	return nil
}

func (c *compiler) fillNumber(n *node, j *jv) error {
	at, kw := n.at, j.get
	// Draft-04 booleans: exclusiveMinimum/Maximum: true make minimum/maximum
	// exclusive.
	exclusive := map[string]bool{}
	for _, p := range [][2]string{{"exclusiveMinimum", "minimum"}, {"exclusiveMaximum", "maximum"}} {
		r := kw(p[0])
		if r == nil || (string(r.raw) != "true" && string(r.raw) != "false") {
			continue
		}
		if string(r.raw) == "true" {
			if kw(p[1]) == nil {
				return errorf(at, "%s: true requires %s", p[0], p[1])
			}
			exclusive[p[1]] = true
		}
		exclusive[p[0]] = false // consumed
	}
	// In a fixed order.
	for _, k := range []struct {
		name string
		op   numOp
		msg  string
	}{
		{"minimum", opMin, "must be >= "},
		{"exclusiveMinimum", opExMin, "must be > "},
		{"maximum", opMax, "must be <= "},
		{"exclusiveMaximum", opExMax, "must be < "},
	} {
		r := kw(k.name)
		if r == nil {
			continue
		}
		ex, isBool := exclusive[k.name]
		if isBool && !ex {
			continue // a boolean exclusiveMinimum/Maximum
		}
		if !isNumber(r.raw) {
			return errorf(at, "%s must be a number", k.name)
		}
		if ex {
			k.op++                                     // opMin → opExMin, opMax → opExMax
			k.msg = strings.Replace(k.msg, "=", "", 1) // ">= " → "> "
		}
		f, _ := strconv.ParseFloat(string(r.raw), 64) // out of range: ±Inf
		n.nums = append(n.nums, numCheck{op: k.op, limit: f, msg: k.msg + string(r.raw)})
	}
	if r := kw("multipleOf"); r != nil {
		if !isNumber(r.raw) {
			return errorf(at, "multipleOf must be a number greater than 0")
		}
		_, d := parseDecimal(nil, r.raw)
		if d.neg || len(d.digits) == 0 {
			return errorf(at, "multipleOf must be a number greater than 0")
		}
		if d.huge || d.exp > maxMultipleExp || d.exp < -maxMultipleExp {
			return errorf(at, "multipleOf %s is out of range", r.raw)
		}
		n.mult = newMultiple(d, string(r.raw))
	}
	return nil
}

// constrained reports whether the schema's own keywords (not counting
// "$ref", nor annotations) can reject a value.
func (n *node) constrained() bool {
	return n.never || n.types != 0 || n.enum != nil || n.cnst != nil ||
		n.props != nil || n.additional != nil || n.patterns != nil || n.propNames != nil || n.depReq != nil ||
		n.minProps >= 0 || n.maxProps >= 0 || n.depSch != nil || n.unevaluated != nil ||
		n.prefix != nil || n.items != nil || n.contains != nil || n.unique || n.minItems >= 0 || n.maxItems >= 0 ||
		n.minLen >= 0 || n.maxLen >= 0 || n.pattern != nil || n.nums != nil || n.mult != nil ||
		n.allOf != nil || n.anyOf != nil || n.oneOf != nil || n.not != nil || (n.ifs != nil && (n.then != nil || n.els != nil))
}

// inPlace calls f for each subschema that applies to the same instance
// value as n (as opposed to one of its members or items).
func (n *node) inPlace(f func(*node) error) error {
	if n.ref != nil {
		if err := f(n.ref); err != nil {
			return err
		}
	}
	for _, list := range [][]*node{n.allOf, n.anyOf, n.oneOf} {
		for _, b := range list {
			if err := f(b); err != nil {
				return err
			}
		}
	}
	for _, b := range []*node{n.not, n.ifs, n.then, n.els} {
		if b != nil {
			if err := f(b); err != nil {
				return err
			}
		}
	}
	for _, d := range n.depSch {
		if err := f(d.schema); err != nil {
			return err
		}
	}
	return nil
}

// link finishes the graph once every node is filled: it drops subschemas
// that accept everything, rejects reference cycles that never descend into
// the instance, bounds chains of in-place subschemas, and derives the
// flags and messages that depend on other nodes.
func (c *compiler) link() error {
	for _, n := range c.all {
		if n.additional != nil && n.additional.lit {
			n.additional = nil
		}
		if n.items != nil && n.items.lit {
			n.items = nil
		}
		if n.propNames != nil && n.propNames.lit {
			n.propNames = nil
		}
		if n.unevaluated != nil && n.unevaluated.lit {
			n.unevaluated = nil
		}
		for i := range n.patterns {
			if n.patterns[i].schema.lit {
				n.patterns[i].schema = nil
			}
		}
		if n.contains != nil && n.minContains == 0 && n.maxContains < 0 {
			n.contains = nil // always satisfied
		}
		n.hasObj = n.props != nil || n.additional != nil || n.patterns != nil || n.propNames != nil ||
			n.depReq != nil || n.minProps >= 0 || n.maxProps >= 0
		n.hasArr = n.tuple || n.items != nil || n.contains != nil || n.unique || n.minItems >= 0 || n.maxItems >= 0
		n.hasStr = n.minLen >= 0 || n.maxLen >= 0 || n.pattern != nil
		n.hasNum = n.nums != nil || n.mult != nil
	}
	for _, n := range c.all {
		if err := c.visit(n); err != nil {
			return err
		}
	}
	return nil
}

// visit walks in-place subschemas depth first and finishes each node after
// the ones it applies in place (so a $ref target is finished first).
func (c *compiler) visit(n *node) error {
	switch n.mark {
	case 2:
		return nil
	case 1:
		return errorf(n.at, "$ref cycle: the schema applies itself to the same value without descending into it")
	}
	n.mark = 1
	err := n.inPlace(func(b *node) error {
		if err := c.visit(b); err != nil {
			return err
		}
		n.chain = max(n.chain, b.chain+1)
		return nil
	})
	if err != nil {
		return err
	}
	if n.chain > maxInPlaceDepth {
		return errorf(n.at, "schema is nested too deeply (through $ref)")
	}
	n.mark = 2

	n.trivial = !n.constrained() && (n.ref == nil || n.ref.trivial)
	n.eff = n.types
	if n.ref != nil {
		n.eff = meetTypes(n.eff, n.ref.eff)
	}
	n.anyOfMsg = unionMsg(n.anyOf)
	n.oneOfMsg = unionMsg(n.oneOf)
	return nil
}

// meetTypes intersects two type sets (0 meaning any type).
func meetTypes(a, b typeMask) typeMask {
	if a == 0 || b == 0 {
		return a | b
	}
	widen := func(m typeMask) typeMask {
		if m&tNumber != 0 {
			m |= tInteger
		}
		return m
	}
	m := widen(a) & widen(b)
	if m&tNumber != 0 {
		m &^= tInteger
	}
	return m
}

// unionMsg returns the type-union message of anyOf/oneOf branches when
// every branch restricts the type, or "".
func unionMsg(branches []*node) string {
	if branches == nil {
		return ""
	}
	var names []string
	for _, b := range branches {
		if b.eff == 0 {
			return ""
		}
		for name, bit := range typeByName {
			if b.eff&bit != 0 && !slices.Contains(names, name) {
				names = append(names, name)
			}
		}
	}
	slices.SortFunc(names, func(a, b string) int { return int(typeByName[a]) - int(typeByName[b]) })
	return "expected " + joinOr(names) + ", got "
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

// count reads a non-negative integer keyword; -1 when absent (r == nil).
func count(r *jv, name string) (int, error) {
	if r == nil {
		return -1, nil
	}
	if !isNumber(r.raw) {
		return 0, fmt.Errorf("%s must be a non-negative integer", name)
	}
	f, err := strconv.ParseFloat(string(r.raw), 64)
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

func isNumber(r []byte) bool {
	end, code := jsonlex.SkipNumber(r, 0)
	return code == jsonlex.OK && end == len(r)
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
