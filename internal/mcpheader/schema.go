package mcpheader

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Type is the declared JSON Schema type of an x-mcp-header parameter.
type Type uint8

const (
	TypeString Type = iota + 1
	TypeInteger
	TypeBoolean
)

func (t Type) String() string {
	switch t {
	case TypeString:
		return "string"
	case TypeInteger:
		return "integer"
	case TypeBoolean:
		return "boolean"
	}
	return fmt.Sprintf("Type(%d)", uint8(t))
}

// Param is one tool parameter mirrored into a header.
type Param struct {
	Name   string   // the x-mcp-header value as declared, e.g. "Region"
	Header string   // "Mcp-Param-" + Name
	Path   []string // property keys from the schema root: ["region"], ["location", "region"]
	Type   Type
}

// ParamPrefix starts every tool-parameter header name.
const ParamPrefix = "Mcp-Param-"

// Bounds on the work a hostile inputSchema can cause. Real schemas are far
// inside them; the specification lets implementations impose limits.
const (
	maxSchemaBytes = 4 << 20
	maxSchemaDepth = 128 // nested JSON objects and arrays
	maxParams      = 128 // annotations per tool; each becomes a request header
)

// ParseToolHeaders returns the x-mcp-header parameters of a tool's
// inputSchema, in document order, or an error naming the offending property
// (as a JSON pointer) and the violated rule. A client excludes a tool with
// such an error from tools/list and logs it; a server should refuse to
// register it. A schema without annotations yields nil, nil.
//
// The rules (transport spec, "Schema Extension"): the value is a non-empty
// string of RFC 9110 token characters (so no control characters, spaces,
// colons or non-ASCII), unique ignoring case; the property declares type
// "string", "integer" or "boolean" ("number" is not permitted); and the
// property is statically reachable: reached from the root through a chain
// of "properties" keys only. An annotation anywhere else (under items,
// prefixItems, additionalProperties, patternProperties, oneOf/anyOf/allOf,
// not, if/then/else, $defs, dependentSchemas, or any unknown keyword) makes
// the tool invalid. const, enum, default and examples hold instance data,
// not schemas, and are not searched.
//
// Decisions where the specification is silent:
//   - "type" must be on the annotated property itself; it is not looked up
//     through $ref or allOf (that would not be static). A missing type is an
//     error: the encoding depends on it.
//   - A type array of one permitted type plus "null", such as
//     ["string","null"], is accepted: a null argument just omits the header
//     (spec table: "Parameter value is null: Client MUST omit the header").
//     Arrays naming two non-null types are rejected as ambiguous.
//   - Nested properties are allowed (the 2026-07-28 text: "Nested object
//     properties are permitted"), overriding SEP-2243's older test table.
//   - A repeated key on a static chain is an error when it can change an
//     annotation (a copy holds one below it, or it repeats "x-mcp-header"
//     or "type" of an annotated property): parsers differ on which copy
//     wins, so client and server could disagree. Other repeats are ignored.
//   - An annotation on the root schema itself is an error (it is not a
//     property).
//   - Limits: 4 MiB of schema, 128 levels of nesting, 128 annotations.
func ParseToolHeaders(inputSchema json.RawMessage) ([]Param, error) {
	if len(inputSchema) > maxSchemaBytes {
		return nil, fmt.Errorf("inputSchema is %d bytes, more than the %d this implementation inspects for x-mcp-header", len(inputSchema), maxSchemaBytes)
	}
	dec := json.NewDecoder(bytes.NewReader(inputSchema))
	dec.UseNumber()
	w := &walker{dec: dec}
	tok, err := dec.Token()
	if err != nil {
		return nil, w.syntax(err)
	}
	if tok != json.Delim('{') {
		return nil, fmt.Errorf("inputSchema must be a JSON object, not %s", describeToken(tok))
	}
	if err := w.object(1, true, ""); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("inputSchema is followed by more JSON data")
	}
	return w.params, nil
}

// walker streams through a schema once. ptr holds the JSON pointer of the
// current location. Its methods take static (the location is reachable from
// the root through "properties" alone) and via (when not static: a quoted
// phrase naming what broke the chain, for the error message).
type walker struct {
	dec    *json.Decoder
	ptr    []string
	params []Param
	where  []string // JSON pointer of each entry of params
}

// annotation is what one schema object says about x-mcp-header.
type annotation struct {
	has     bool
	name    string
	hasType bool
	types   []string
	badType string // non-empty: "type" is not a string or array of strings
}

func (w *walker) push(s string) { w.ptr = append(w.ptr, s) }
func (w *walker) pop()          { w.ptr = w.ptr[:len(w.ptr)-1] }

func (w *walker) pointer() string { return pointer(w.ptr) }

// pointer renders segments as a JSON pointer (RFC 6901).
func pointer(segs []string) string {
	if len(segs) == 0 {
		return "the schema root"
	}
	var b strings.Builder
	for _, s := range segs {
		b.WriteByte('/')
		s = strings.ReplaceAll(s, "~", "~0")
		b.WriteString(strings.ReplaceAll(s, "/", "~1"))
	}
	return b.String()
}

func (w *walker) syntax(err error) error {
	return fmt.Errorf("inputSchema is not valid JSON: %v", err)
}

func (w *walker) token() (json.Token, error) {
	tok, err := w.dec.Token()
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, w.syntax(err)
	}
	return tok, nil
}

func (w *walker) tooDeep(depth int) error {
	if depth > maxSchemaDepth {
		return fmt.Errorf("inputSchema nests more than %d levels deep (at %s)", maxSchemaDepth, w.pointer())
	}
	return nil
}

// Keywords whose object value maps names to subschemas; the names are not
// keywords, so "x-mcp-header" as a name there is no annotation.
var schemaMaps = map[string]bool{
	"properties": true, "patternProperties": true, "$defs": true,
	"definitions": true, "dependentSchemas": true, "dependencies": true,
}

// Keywords holding instance data rather than schemas.
var dataKeywords = map[string]bool{
	"const": true, "enum": true, "default": true, "examples": true,
}

// object walks a schema object whose '{' was just read. When static, the
// object lies on a "properties" chain from the root.
func (w *walker) object(depth int, static bool, via string) error {
	if err := w.tooDeep(depth); err != nil {
		return err
	}
	var a annotation
	var rep repeats
	for w.dec.More() {
		tok, err := w.token()
		if err != nil {
			return err
		}
		key := tok.(string) // object keys are always strings
		if static {
			rep.add(key)
		}
		before := len(w.params)
		w.push(key)
		switch {
		case key == "x-mcp-header":
			if err := w.annotationValue(&a, static, via); err != nil {
				return err
			}
		case key == "type" && static:
			if err := w.typeValue(&a, depth); err != nil {
				return err
			}
		case schemaMaps[key]:
			// Only "properties" keeps a chain static.
			childStatic := static && key == "properties"
			childVia := via
			if !childStatic && childVia == "" {
				childVia = strconv.Quote(key)
			}
			if err := w.schemaMap(depth+1, childStatic, childVia); err != nil {
				return err
			}
		case dataKeywords[key]:
			if err := w.skip(depth + 1); err != nil {
				return err
			}
		default:
			childVia := via
			if childVia == "" {
				childVia = strconv.Quote(key)
			}
			if err := w.value(depth+1, childVia); err != nil {
				return err
			}
		}
		w.pop()
		if len(w.params) > before {
			rep.annotated(key)
		}
	}
	if _, err := w.token(); err != nil { // '}'
		return err
	}
	if k, bad := rep.ambiguous(a.has); bad {
		return fmt.Errorf("inputSchema repeats key %q at %s; JSON parsers disagree on which copy counts, so the x-mcp-header annotation it affects is ambiguous", k, w.pointer())
	}
	if a.has {
		return w.finish(&a)
	}
	return nil
}

// repeats finds repeated keys in an object on a static chain. One is an
// error only if it can change an annotation (a copy holds one below it, or
// it is "x-mcp-header" or "type" of an annotated property): parsers differ
// on which copy wins, so client and server could disagree. Other repeats
// are left to schema validation.
type repeats struct {
	seen map[string]bool // key -> some copy's value held an annotation
	dups []string
}

func (r *repeats) add(key string) {
	if r.seen == nil {
		r.seen = make(map[string]bool)
	}
	if _, ok := r.seen[key]; ok {
		r.dups = append(r.dups, key)
		return
	}
	r.seen[key] = false
}

func (r *repeats) annotated(key string) {
	if r.seen != nil {
		r.seen[key] = true
	}
}

func (r *repeats) ambiguous(hasAnnotation bool) (string, bool) {
	for _, k := range r.dups {
		if r.seen[k] || (hasAnnotation && (k == "x-mcp-header" || k == "type")) {
			return k, true
		}
	}
	return "", false
}

// annotationValue reads the value of an "x-mcp-header" key.
func (w *walker) annotationValue(a *annotation, static bool, via string) error {
	tok, err := w.token()
	if err != nil {
		return err
	}
	// Report the annotated schema, not the keyword.
	where := pointer(w.ptr[:len(w.ptr)-1])
	if !static {
		return fmt.Errorf("x-mcp-header at %s is not statically reachable: the path to it goes through %s, but only chains of \"properties\" from the root may carry it", where, via)
	}
	s, ok := tok.(string)
	if !ok {
		return fmt.Errorf("x-mcp-header at %s must be a string, not %s", where, describeToken(tok))
	}
	a.has, a.name = true, s
	return nil
}

// typeValue reads "type" of a static schema: a string or array of strings.
func (w *walker) typeValue(a *annotation, depth int) error {
	tok, err := w.token()
	if err != nil {
		return err
	}
	a.hasType = true
	switch t := tok.(type) {
	case string:
		a.types = []string{t}
	case json.Delim:
		if t != '[' {
			a.badType = "an object"
			return w.skipRest(depth + 1)
		}
		for w.dec.More() {
			tok, err := w.token()
			if err != nil {
				return err
			}
			s, ok := tok.(string)
			if !ok {
				a.badType = "an array with " + describeToken(tok)
				if d, isDelim := tok.(json.Delim); isDelim && (d == '[' || d == '{') {
					if err := w.skipRest(depth + 2); err != nil {
						return err
					}
				}
				continue
			}
			a.types = append(a.types, s)
		}
		if _, err := w.token(); err != nil { // ']'
			return err
		}
	default:
		a.badType = describeToken(tok)
	}
	return nil
}

// schemaMap walks an object of name -> subschema.
func (w *walker) schemaMap(depth int, static bool, via string) error {
	if err := w.tooDeep(depth); err != nil {
		return err
	}
	tok, err := w.token()
	if err != nil {
		return err
	}
	if tok != json.Delim('{') {
		// Not a map (an invalid schema); still search it.
		if via == "" {
			via = "a \"properties\" value that is not an object"
		}
		return w.valueFrom(tok, depth, via)
	}
	var rep repeats
	for w.dec.More() {
		tok, err := w.token()
		if err != nil {
			return err
		}
		name := tok.(string)
		if static {
			rep.add(name)
		}
		before := len(w.params)
		w.push(name)
		tok, err = w.token()
		if err != nil {
			return err
		}
		if tok == json.Delim('{') {
			err = w.object(depth+1, static, via)
		} else {
			v := via
			if v == "" {
				v = "a property schema that is not an object"
			}
			err = w.valueFrom(tok, depth+1, v)
		}
		if err != nil {
			return err
		}
		w.pop()
		if len(w.params) > before {
			rep.annotated(name)
		}
	}
	if _, err := w.token(); err != nil { // '}'
		return err
	}
	if k, bad := rep.ambiguous(false); bad {
		return fmt.Errorf("inputSchema repeats property %q at %s; JSON parsers disagree on which copy counts, so the x-mcp-header annotation below it is ambiguous", k, w.pointer())
	}
	return nil
}

// value walks any value that is not on a static chain: objects are treated
// as schemas (so an annotation in one is found), arrays element-wise.
func (w *walker) value(depth int, via string) error {
	tok, err := w.token()
	if err != nil {
		return err
	}
	return w.valueFrom(tok, depth, via)
}

func (w *walker) valueFrom(tok json.Token, depth int, via string) error {
	d, ok := tok.(json.Delim)
	if !ok {
		return nil
	}
	if err := w.tooDeep(depth); err != nil {
		return err
	}
	if d == '{' {
		return w.object(depth, false, via)
	}
	for i := 0; w.dec.More(); i++ {
		w.push(strconv.Itoa(i))
		if err := w.value(depth+1, via); err != nil {
			return err
		}
		w.pop()
	}
	_, err := w.token() // ']'
	return err
}

// skip consumes one value without looking inside it.
func (w *walker) skip(depth int) error {
	tok, err := w.token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); ok && (d == '{' || d == '[') {
		return w.skipRest(depth)
	}
	return nil
}

// skipRest consumes the rest of an object or array whose opening delimiter
// was read at nesting depth.
func (w *walker) skipRest(depth int) error {
	for open := 1; open > 0; {
		if err := w.tooDeep(depth + open - 1); err != nil {
			return err
		}
		tok, err := w.token()
		if err != nil {
			return err
		}
		if d, ok := tok.(json.Delim); ok {
			if d == '{' || d == '[' {
				open++
			} else {
				open--
			}
		}
	}
	return nil
}

// finish validates a complete annotation on the current (static) schema.
func (w *walker) finish(a *annotation) error {
	where := w.pointer()
	fail := func(format string, args ...any) error {
		return fmt.Errorf("x-mcp-header %q at %s: %s", a.name, where, fmt.Sprintf(format, args...))
	}
	if len(w.ptr) == 0 {
		return fail("the schema root is not a property; annotate a property under \"properties\"")
	}
	if reason := checkName(a.name); reason != "" {
		return fail("%s", reason)
	}
	typ, reason := paramType(a)
	if reason != "" {
		return fail("%s", reason)
	}
	lower := strings.ToLower(a.name)
	for i, p := range w.params {
		if strings.ToLower(p.Name) == lower {
			return fail("duplicates x-mcp-header %q at %s; names must be unique ignoring case", p.Name, w.where[i])
		}
	}
	if len(w.params) == maxParams {
		return fail("more than %d x-mcp-header annotations in one tool", maxParams)
	}
	// ptr alternates "properties", name, "properties", name, ...
	path := make([]string, 0, len(w.ptr)/2)
	for i := 1; i < len(w.ptr); i += 2 {
		path = append(path, w.ptr[i])
	}
	w.params = append(w.params, Param{Name: a.name, Header: ParamPrefix + a.name, Path: path, Type: typ})
	w.where = append(w.where, where)
	return nil
}

// checkName returns why name is not a valid x-mcp-header value, or "".
func checkName(name string) string {
	if name == "" {
		return "must not be empty"
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if isTchar(c) {
			continue
		}
		switch {
		case c < 0x20 || c == 0x7f:
			return fmt.Sprintf("contains control character 0x%02X; only RFC 9110 token characters are allowed in a header name", c)
		case c >= 0x80:
			r, _ := utf8.DecodeRuneInString(name[i:])
			return fmt.Sprintf("contains non-ASCII character %q; only RFC 9110 token characters are allowed in a header name", r)
		default:
			return fmt.Sprintf("contains %q, which is not an RFC 9110 token character (allowed: A-Z a-z 0-9 ! # $ %% & ' * + - . ^ _ ` | ~)", rune(c))
		}
	}
	return ""
}

// isTchar: RFC 9110 §5.6.2 tchar.
func isTchar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// paramType resolves the declared type, or explains why it is not allowed.
func paramType(a *annotation) (Type, string) {
	const allowed = `x-mcp-header needs type "string", "integer" or "boolean"`
	if !a.hasType {
		return 0, `the property declares no "type"; ` + allowed
	}
	if a.badType != "" {
		return 0, `"type" is ` + a.badType + `; ` + allowed
	}
	var found []string
	for _, t := range a.types {
		switch t {
		case "null":
			continue
		case "number":
			return 0, `type "number" is not permitted (decimals cannot be compared exactly); ` + allowed + ` (use "integer" for whole numbers)`
		}
		dup := false
		for _, f := range found {
			dup = dup || f == t
		}
		if !dup {
			found = append(found, t)
		}
	}
	switch len(found) {
	case 0:
		return 0, `type "null" carries no value to mirror; ` + allowed
	case 1:
	default:
		return 0, fmt.Sprintf("type %q is ambiguous; %s, optionally with \"null\"", found, allowed)
	}
	switch found[0] {
	case "string":
		return TypeString, ""
	case "integer":
		return TypeInteger, ""
	case "boolean":
		return TypeBoolean, ""
	}
	return 0, fmt.Sprintf("type %q is not a primitive; %s", found[0], allowed)
}

func describeToken(tok json.Token) string {
	switch t := tok.(type) {
	case json.Delim:
		if t == '{' {
			return "an object"
		}
		return "an array"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", tok)
}
