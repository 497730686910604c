package jsonschema

import (
	"bytes"
	"encoding/json"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"mcplambda/internal/jsonlex"
)

// This file holds what Compile needs to resolve "$ref": a lazily parsed
// view of the schema document, a walk that records every schema's base URI
// ("$id") and anchors ("$anchor"), and the resolution of a reference to a
// location in the document. Only references into the document itself are
// resolved; nothing is ever fetched.

// jv is a JSON value of the schema document, parsed on first use. The
// document is known to be valid JSON (Compile checks it first).
type jv struct {
	raw    []byte // the value's text, without surrounding whitespace
	parsed bool
	names  []string       // object: member names in document order, decoded
	vals   []*jv          // object member values, or array elements
	index  map[string]int // object: name → index in vals (the last one wins, as in encoding/json)
}

func newJV(raw []byte) *jv { return &jv{raw: bytes.Trim(raw, " \t\r\n")} }

func (j *jv) isObject() bool { return j.raw[0] == '{' }
func (j *jv) isArray() bool  { return j.raw[0] == '[' }

// isSchema reports whether the value has the form of a schema (an object
// or a boolean).
func (j *jv) isSchema() bool {
	return j.raw[0] == '{' || string(j.raw) == "true" || string(j.raw) == "false"
}

func (j *jv) parse() {
	if j.parsed {
		return
	}
	j.parsed = true
	d := j.raw
	obj := d[0] == '{'
	if !obj && d[0] != '[' {
		return
	}
	if obj {
		j.index = map[string]int{}
	}
	i := jsonlex.SkipSpace(d, 1)
	if d[i] == '}' || d[i] == ']' {
		return
	}
	for {
		if obj {
			ks := i + 1
			ke, fl := jsonlex.ContentEnd(d, ks)
			name := d[ks:ke]
			var s string
			if jsonlex.NeedsUnescape(name, fl) {
				s = string(jsonlex.Unescape(nil, name))
			} else {
				s = string(name)
			}
			j.index[s] = len(j.vals)
			j.names = append(j.names, s)
			i = jsonlex.SkipSpace(d, jsonlex.SkipSpace(d, ke+1)+1)
		}
		e := jsonlex.ValueEnd(d, i)
		j.vals = append(j.vals, &jv{raw: d[i:e]})
		i = jsonlex.SkipSpace(d, e)
		if d[i] != ',' {
			return
		}
		i = jsonlex.SkipSpace(d, i+1)
	}
}

// get returns the member name of an object, or nil.
func (j *jv) get(name string) *jv {
	j.parse()
	if k, ok := j.index[name]; ok {
		return j.vals[k]
	}
	return nil
}

// elems returns the elements of an array.
func (j *jv) elems() []*jv {
	j.parse()
	return j.vals
}

// keys returns the distinct member names of an object, sorted.
func (j *jv) keys() []string {
	j.parse()
	keys := make([]string, 0, len(j.index))
	for k := range j.index {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// str decodes a JSON string value.
func (j *jv) str() (string, bool) {
	if j.raw[0] != '"' {
		return "", false
	}
	var s string
	return s, json.Unmarshal(j.raw, &s) == nil
}

// scope is the schema resource a subschema belongs to: its base URI and
// the location of the resource's root in the document.
type scope struct {
	base  *url.URL
	key   string // base without fragment, as a string
	root  string
	rootJ *jv
}

// target is a location in the document ("" when ambiguous).
type target struct {
	at string
	j  *jv
}

// defaultBase is the base URI of a document without "$id". It only serves
// to resolve relative "$id"s and references against each other: the
// document itself cannot be referenced by it.
const defaultBase = "https://schema.invalid/root.json"

// Keywords whose values are subschemas, maps of subschemas, or arrays of
// subschemas ("items" may be a subschema or an array).
var (
	schemaKeywords = []string{"additionalItems", "additionalProperties", "contains", "else", "if", "items",
		"not", "propertyNames", "then", "unevaluatedItems", "unevaluatedProperties"}
	schemaMapKeywords  = []string{"$defs", "definitions", "dependencies", "dependentSchemas", "patternProperties", "properties"}
	schemaListKeywords = []string{"allOf", "anyOf", "items", "oneOf", "prefixItems"}
)

// walk visits every subschema of the document, including unreferenced
// $defs, recording the scope in effect inside each one, the resources
// ("$id") and the anchors. It bounds the nesting and the number of
// subschemas. Malformed keyword values are skipped: compiling reports them
// where they matter.
func (c *compiler) walk(j *jv, at string, sc *scope, depth int) error {
	if depth > maxSchemaDepth {
		return errorf(at, "schema is nested too deeply")
	}
	if c.walked++; c.walked > maxSchemaNodes {
		return errorf("#", "schema has more than %d subschemas", maxSchemaNodes)
	}
	if c.locBytes += len(at); c.locBytes > maxLocationBytes {
		return errorf("#", "schema is too large")
	}
	if !j.isObject() {
		c.scopes[at] = sc
		return nil
	}
	j.parse()
	legacyRef := c.legacy && j.get("$ref") != nil
	if !legacyRef {
		if id := j.get("$id"); id != nil {
			s, ok := id.str()
			if !ok {
				return errorf(at, "$id must be a string")
			}
			if name, ok := strings.CutPrefix(s, "#"); ok {
				if name != "" {
					c.addAnchor(sc, name, at, j)
				}
			} else {
				u, err := url.Parse(s)
				if err != nil {
					return errorf(at, "invalid $id %q", s)
				}
				abs := sc.base.ResolveReference(u)
				frag := abs.Fragment
				abs.Fragment, abs.RawFragment = "", ""
				sc = &scope{base: abs, key: abs.String(), root: at, rootJ: j}
				c.addResource(sc.key, at, j)
				if frag != "" {
					c.addAnchor(sc, frag, at, j)
				}
			}
		}
		for _, kw := range []string{"$anchor", "$dynamicAnchor"} {
			if a := j.get(kw); a != nil {
				s, ok := a.str()
				if !ok || s == "" {
					return errorf(at, "%s must be a non-empty string", kw)
				}
				c.addAnchor(sc, s, at, j)
			}
		}
	}
	c.scopes[at] = sc
	if legacyRef {
		return nil // draft-07 and earlier: everything beside "$ref" is ignored
	}
	for _, kw := range schemaKeywords {
		if s := j.get(kw); s != nil && s.isSchema() {
			if err := c.walk(s, child(at, kw), sc, depth+1); err != nil {
				return err
			}
		}
	}
	for _, kw := range schemaMapKeywords {
		if m := j.get(kw); m != nil && m.isObject() {
			for _, name := range m.keys() {
				if s := m.get(name); s.isSchema() {
					if err := c.walk(s, child(at, kw, name), sc, depth+1); err != nil {
						return err
					}
				}
			}
		}
	}
	for _, kw := range schemaListKeywords {
		if l := j.get(kw); l != nil && l.isArray() {
			l.parse()
			for i, s := range l.vals {
				if s.isSchema() {
					if err := c.walk(s, child(at, kw, strconv.Itoa(i)), sc, depth+1); err != nil {
						return err
					}
				}
			}
		}
	}
	return nil
}

func (c *compiler) addResource(key, at string, j *jv) {
	if t, dup := c.resources[key]; dup && t.at != at {
		c.resources[key] = target{} // ambiguous
		return
	}
	c.resources[key] = target{at, j}
}

func (c *compiler) addAnchor(sc *scope, name, at string, j *jv) {
	key := sc.key + "#" + name
	if t, dup := c.anchors[key]; dup && t.at != at {
		c.anchors[key] = target{} // ambiguous
		return
	}
	c.anchors[key] = target{at, j}
}

// scopeOf returns the scope in effect at a location: that of the location
// itself, or of its nearest enclosing subschema.
func (c *compiler) scopeOf(at string) *scope {
	for {
		if sc := c.scopes[at]; sc != nil {
			return sc
		}
		i := strings.LastIndexByte(at, '/')
		if i < 0 {
			return c.scopes["#"]
		}
		at = at[:i]
	}
}

// resolve finds the target of a "$ref" that appears in the schema at
// location at.
func (c *compiler) resolve(ref, at string) (target, error) {
	sc := c.scopeOf(at)
	pre, frag, _ := strings.Cut(ref, "#")
	res := target{sc.root, sc.rootJ}
	key := sc.key
	if pre != "" {
		u, err := url.Parse(pre)
		if err != nil {
			return target{}, errorf(at, "invalid $ref %q", ref)
		}
		abs := sc.base.ResolveReference(u)
		abs.Fragment, abs.RawFragment = "", ""
		key = abs.String()
		t, ok := c.resources[key]
		if !ok {
			return target{}, errorf(at, "$ref %q: remote $ref not supported (only references into the schema itself)", ref)
		}
		if t.at == "" {
			return target{}, errorf(at, "$ref %q: $id %q is defined more than once", ref, key)
		}
		res = t
	}
	f, err := url.PathUnescape(frag)
	if err != nil {
		return target{}, errorf(at, "invalid $ref %q: %v", ref, err)
	}
	if f == "" {
		return res, nil
	}
	if f[0] != '/' {
		t, ok := c.anchors[key+"#"+f]
		if !ok {
			return target{}, errorf(at, "$ref %q: no such $anchor", ref)
		}
		if t.at == "" {
			return target{}, errorf(at, "$ref %q: $anchor %q is defined more than once", ref, f)
		}
		return t, nil
	}
	loc, j := res.at, res.j
	for _, tok := range strings.Split(f[1:], "/") {
		for i := 0; i < len(tok); i++ {
			if tok[i] == '~' && (i+1 == len(tok) || (tok[i+1] != '0' && tok[i+1] != '1')) {
				return target{}, errorf(at, "invalid $ref %q: bad ~ escape in JSON pointer", ref)
			}
		}
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		j.parse()
		var next *jv
		switch {
		case j.isObject():
			next = j.get(tok)
		case j.isArray():
			if k, ok := arrayIndex(tok); ok && k < len(j.vals) {
				next = j.vals[k]
			}
		}
		if next == nil {
			return target{}, errorf(at, "$ref %q does not resolve to anything in the schema", ref)
		}
		loc, j = child(loc, tok), next
	}
	return target{loc, j}, nil
}

// arrayIndex parses a JSON pointer array index (no sign, no leading zero).
func arrayIndex(tok string) (int, bool) {
	if tok == "" || len(tok) > 9 || (tok[0] == '0' && len(tok) > 1) {
		return 0, false
	}
	n := 0
	for i := 0; i < len(tok); i++ {
		if !isDigit(tok[i]) {
			return 0, false
		}
		n = n*10 + int(tok[i]-'0')
	}
	return n, true
}
