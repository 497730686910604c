package jsonschema

import (
	"bytes"
	"strconv"
	"sync"
	"unicode/utf8"

	"mcplambda/internal/jsonlex"
)

// Messages for errors that do not come from a schema keyword.
const (
	msgNotJSON     = "arguments are not valid JSON"
	msgTooDeep     = "nested too deeply"
	msgDuplicate   = "duplicate property"
	msgRequired    = "required property is missing"
	msgAdditional  = "additional property is not allowed"
	msgPropFalse   = "property is not allowed"
	msgFalse       = "value is not allowed"
	msgNot         = "must not match the schema in not"
	msgAnyOf       = "must match at least one schema in anyOf"
	msgOneOfNone   = "must match exactly one schema in oneOf, but matches none"
	msgOneOfMany   = "must match exactly one schema in oneOf, but matches more than one"
	msgAddItem     = "additional item is not allowed"
	msgUnevaluated = "unevaluated property is not allowed"
	msgPropName    = "invalid property name: "
	msgUnique      = "must not contain duplicate items"
	msgTooComplex  = "arguments are too costly to validate against this schema"
	maxLinearKeys  = 32      // objects with more keys use a map for duplicate detection
	maxPooledBytes = 1 << 16 // larger scratch buffers are not kept in the pool
)

// Validation work is metered so that a schema whose subschemas apply to
// the same value many times over (through $ref, or nested anyOf) cannot
// make Validate run for an unbounded time. A unit is roughly one byte of
// instance scanned; the budget is far above what any sensible schema
// needs (each value is visited by a handful of subschemas).
const (
	workBase    = 1 << 24
	workPerByte = 256
	workCall    = 32 // one subschema applied to one value
	workMember  = 8  // one object member or array item visited
)

// failure codes
const (
	codeOther uint8 = iota
	codeType
)

// seg is one path segment: an object key (raw string content data[a:b]) or
// an array index (a).
type seg struct {
	a, b int
	key  bool
}

// keyRef is an object key seen while checking for duplicates.
type keyRef struct {
	a, b int
	dec  bool // raw content differs from the decoded key
}

type level struct {
	obj      bool
	idx      int
	keyStart int                 // start of this object's keys in state.keys
	set      map[string]struct{} // used instead of keys for big objects
}

// state is the per-call scratch space; it is pooled so that validation
// does not allocate.
type state struct {
	data  []byte
	depth int
	path  [maxDepth]seg

	// Metering (see workBase).
	work    int
	budget  int
	aborted bool // the budget ran out: the instance is rejected

	// The most recent failure.
	fcode    uint8
	fprefix  string // prepended to the message (propertyNames)
	fmsg     string
	fgot     string
	fextra   string // a property name appended to the path (required)
	hasExtra bool
	flen     int
	fpath    [maxDepth]seg

	levels [maxDepth]level
	keys   []keyRef
	buf1   []byte
	buf2   []byte
	ev     []uint64   // unevaluatedProperties: evaluated-member bit sets, used as a stack
	uniq   []uniqItem // uniqueItems scratch
}

var statePool = sync.Pool{New: func() any { return new(state) }}

// Validate checks instance (raw JSON bytes) against the schema. The error,
// if any, is a *ValidationError describing the first problem in document
// order. Syntactically invalid JSON, instances nested deeper than 64 levels
// and objects with duplicate keys are rejected before schema checks.
// A nil Schema accepts every well-formed instance.
//
// The work is bounded in proportion to the instance's size: a schema that
// makes subschemas apply to the same values exponentially many times
// (through $ref or nested anyOf) gets the instance rejected with "arguments
// are too costly to validate against this schema" rather than a hang.
func (s *Schema) Validate(instance []byte) error {
	v := statePool.Get().(*state)
	v.data = instance
	v.depth = 0
	v.work, v.budget, v.aborted = 0, workBase+workPerByte*len(instance), false
	var err error
	if !v.wellFormed() {
		err = v.makeError()
		for i := range v.levels {
			v.levels[i].set = nil
		}
	} else if s != nil && s.root != nil {
		_, ok := v.value(s.root, jsonlex.SkipSpace(instance, 0))
		if v.aborted {
			err = &ValidationError{Message: msgTooComplex}
		} else if !ok {
			err = v.makeError()
		}
	}
	v.data = nil
	v.keys = v.keys[:0]
	v.ev = v.ev[:0]
	v.uniq = v.uniq[:0]
	v.fmsg, v.fgot, v.fextra, v.fprefix = "", "", "", ""
	if cap(v.buf1) > maxPooledBytes {
		v.buf1 = nil
	}
	if cap(v.buf2) > maxPooledBytes {
		v.buf2 = nil
	}
	if cap(v.keys) > maxPooledBytes {
		v.keys = nil
	}
	if cap(v.ev) > maxPooledBytes/8 {
		v.ev = nil
	}
	if cap(v.uniq) > maxPooledBytes/24 {
		v.uniq = nil
	}
	statePool.Put(v)
	return err
}

// fail records a failure at the current path and returns false.
func (v *state) fail(code uint8, msg, got string) bool {
	v.fcode, v.fmsg, v.fgot = code, msg, got
	v.fextra, v.hasExtra, v.fprefix = "", false, ""
	v.flen = copy(v.fpath[:], v.path[:v.depth])
	return false
}

func (v *state) failRoot(msg string) bool {
	v.depth = 0
	return v.fail(codeOther, msg, "")
}

func (v *state) makeError() *ValidationError {
	var b []byte
	for i, s := range v.fpath[:v.flen] {
		if s.key {
			raw := v.data[s.a:s.b]
			b = appendPathKey(b, string(jsonlex.Unescape(make([]byte, 0, len(raw)), raw)), i == 0)
		} else {
			b = append(b, '[')
			b = strconv.AppendInt(b, int64(s.a), 10)
			b = append(b, ']')
		}
	}
	if v.hasExtra {
		b = appendPathKey(b, v.fextra, v.flen == 0)
	}
	return &ValidationError{Path: string(b), Message: v.fprefix + v.fmsg + v.fgot}
}

func (v *state) decode1(s []byte) []byte {
	v.buf1 = jsonlex.Unescape(v.buf1[:0], s)
	return v.buf1
}

// wellFormed checks JSON syntax, the nesting limit and duplicate keys in a
// single iterative pass.
func (v *state) wellFormed() bool {
	d := v.data
	i := jsonlex.SkipSpace(d, 0)
	depth := 0
	for {
		// A value starts at i.
		if i >= len(d) {
			return v.failRoot(msgNotJSON)
		}
		code := jsonlex.OK
		switch c := d[i]; {
		case c == '{' || c == '[':
			if depth == maxDepth {
				return v.failRoot(msgTooDeep)
			}
			lv := &v.levels[depth]
			depth++
			lv.obj, lv.idx, lv.keyStart, lv.set = c == '{', 0, len(v.keys), nil
			i = jsonlex.SkipSpace(d, i+1)
			if i < len(d) && d[i] == c+2 { // '}' or ']'
				i++
				depth--
				break
			}
			if lv.obj {
				if i = v.key(i, depth); i < 0 {
					return false
				}
			} else {
				v.path[depth-1] = seg{}
			}
			continue
		case c == '"':
			i, _, code = jsonlex.ScanString(d, i)
		case c == '-' || isDigit(c):
			i, code = jsonlex.SkipNumber(d, i)
		case c == 't':
			i, code = jsonlex.SkipLiteral(d, i, "true")
		case c == 'f':
			i, code = jsonlex.SkipLiteral(d, i, "false")
		case c == 'n':
			i, code = jsonlex.SkipLiteral(d, i, "null")
		default:
			code = jsonlex.UnexpectedChar
		}
		if code != jsonlex.OK {
			return v.failRoot(msgNotJSON)
		}
		// After a value: close containers or move to the next element.
		for {
			i = jsonlex.SkipSpace(d, i)
			if depth == 0 {
				if i != len(d) {
					return v.failRoot(msgNotJSON)
				}
				return true
			}
			if i >= len(d) {
				return v.failRoot(msgNotJSON)
			}
			lv := &v.levels[depth-1]
			c := d[i]
			if c == ',' {
				i = jsonlex.SkipSpace(d, i+1)
				if lv.obj {
					if i = v.key(i, depth); i < 0 {
						return false
					}
				} else {
					lv.idx++
					v.path[depth-1] = seg{a: lv.idx}
				}
				break
			}
			if (lv.obj && c == '}') || (!lv.obj && c == ']') {
				i++
				v.keys = v.keys[:lv.keyStart]
				lv.set = nil
				depth--
				continue
			}
			return v.failRoot(msgNotJSON)
		}
	}
}

// key checks an object key at d[i] (the object being at depth), records it
// for duplicate detection, and returns the index of the member's value, or
// -1 after recording a failure.
func (v *state) key(i, depth int) int {
	d := v.data
	if i >= len(d) || d[i] != '"' {
		v.failRoot(msgNotJSON)
		return -1
	}
	end, fl, code := jsonlex.ScanString(d, i)
	if code != jsonlex.OK {
		v.failRoot(msgNotJSON)
		return -1
	}
	k := keyRef{a: i + 1, b: end - 1}
	k.dec = jsonlex.NeedsUnescape(d[k.a:k.b], fl)
	v.path[depth-1] = seg{a: k.a, b: k.b, key: true}

	lv := &v.levels[depth-1]
	dup := false
	if lv.set != nil {
		name := d[k.a:k.b]
		if k.dec {
			name = v.decode1(name)
		}
		if _, dup = lv.set[string(name)]; !dup {
			lv.set[string(name)] = struct{}{}
		}
	} else {
		for _, o := range v.keys[lv.keyStart:] {
			if v.sameKey(o, k) {
				dup = true
				break
			}
		}
		v.keys = append(v.keys, k)
		if len(v.keys)-lv.keyStart > maxLinearKeys {
			lv.set = make(map[string]struct{}, 2*maxLinearKeys)
			for _, o := range v.keys[lv.keyStart:] {
				name := d[o.a:o.b]
				if o.dec {
					name = v.decode1(name)
				}
				lv.set[string(name)] = struct{}{}
			}
			v.keys = v.keys[:lv.keyStart]
		}
	}
	if dup {
		v.depth = depth
		v.fail(codeOther, msgDuplicate, "")
		return -1
	}

	i = jsonlex.SkipSpace(d, end)
	if i >= len(d) || d[i] != ':' {
		v.failRoot(msgNotJSON)
		return -1
	}
	return jsonlex.SkipSpace(d, i+1)
}

func (v *state) sameKey(x, y keyRef) bool {
	d := v.data
	if !x.dec && !y.dec {
		return bytes.Equal(d[x.a:x.b], d[y.a:y.b])
	}
	v.buf1 = jsonlex.Unescape(v.buf1[:0], d[x.a:x.b])
	v.buf2 = jsonlex.Unescape(v.buf2[:0], d[y.a:y.b])
	return bytes.Equal(v.buf1, v.buf2)
}

func kindOf(c byte) typeMask {
	switch c {
	case '{':
		return tObject
	case '[':
		return tArray
	case '"':
		return tString
	case 't', 'f':
		return tBoolean
	case 'n':
		return tNull
	}
	return tNumber
}

// value validates the well-formed value at data[pos] against n. It returns
// the index just past the value, or -1 when it did not need to find it, or
// false after recording a failure.
//
// Keywords are checked in a fixed order, so that the first failure is
// deterministic: type, enum, const; the keywords of the value's kind
// (members or items in document order, then counts); then $ref, allOf,
// anyOf, oneOf, not, if/then/else, dependentSchemas and finally
// unevaluatedProperties.
func (v *state) value(n *node, pos int) (int, bool) {
	if n.trivial {
		return -1, true
	}
	if v.work += workCall; v.work > v.budget {
		v.aborted = true
	}
	if v.aborted {
		return 0, false
	}
	d := v.data
	if n.never {
		return 0, v.fail(codeOther, msgFalse, "")
	}
	k := kindOf(d[pos])
	if n.types != 0 && n.types&k == 0 {
		if k != tNumber || n.types&tInteger == 0 || !v.isInteger(pos) {
			return 0, v.fail(codeType, n.typeMsg, k.name())
		}
	}
	if n.enum != nil && !v.inEnum(n.enum, pos, k) {
		return 0, v.fail(codeOther, n.enumMsg, "")
	}
	if n.cnst != nil && !v.inEnum(n.cnst, pos, k) {
		return 0, v.fail(codeOther, n.constMsg, "")
	}

	end := -1
	ok := true
	switch k {
	case tObject:
		if n.hasObj {
			end, ok = v.object(n, pos)
		}
	case tArray:
		if n.hasArr {
			end, ok = v.array(n, pos)
		}
	case tString:
		if n.hasStr {
			end, ok = v.str(n, pos)
		}
	case tNumber:
		if n.hasNum {
			end, ok = v.number(n, pos)
		}
	}
	if !ok {
		return 0, false
	}
	var e int

	if n.ref != nil {
		if e, ok = v.value(n.ref, pos); !ok {
			return 0, false
		}
		end = max(end, e)
	}
	for _, b := range n.allOf {
		if e, ok = v.value(b, pos); !ok {
			return 0, false
		}
		end = max(end, e)
	}
	if n.anyOf != nil {
		matched := false
		deep, nDeep := -1, 0
		for bi, b := range n.anyOf {
			if e, matched = v.value(b, pos); matched {
				end = max(end, e)
				break
			}
			if v.aborted {
				return 0, false
			}
			if !v.typeFailHere() {
				nDeep++
				if deep < 0 {
					deep = bi
				}
			}
		}
		if !matched {
			return 0, v.noMatch(n.anyOf, n.anyOfMsg, msgAnyOf, deep, nDeep, pos, k)
		}
	}
	if n.oneOf != nil {
		matches := 0
		deep, nDeep := -1, 0
		for bi, b := range n.oneOf {
			if e, ok := v.value(b, pos); ok {
				if matches++; matches > 1 {
					return 0, v.fail(codeOther, msgOneOfMany, "")
				}
				end = max(end, e)
			} else if v.aborted {
				return 0, false
			} else if !v.typeFailHere() {
				nDeep++
				if deep < 0 {
					deep = bi
				}
			}
		}
		if matches == 0 {
			return 0, v.noMatch(n.oneOf, n.oneOfMsg, msgOneOfNone, deep, nDeep, pos, k)
		}
	}
	if n.not != nil {
		if _, ok := v.value(n.not, pos); ok {
			return 0, v.fail(codeOther, msgNot, "")
		}
		if v.aborted {
			return 0, false
		}
	}
	if n.ifs != nil && (n.then != nil || n.els != nil) {
		_, ok := v.value(n.ifs, pos)
		if v.aborted {
			return 0, false
		}
		b := n.els
		if ok {
			b = n.then
		}
		if b != nil {
			if e, ok = v.value(b, pos); !ok {
				return 0, false
			}
			end = max(end, e)
		}
	}
	if k == tObject {
		for _, dep := range n.depSch {
			if v.hasKey(pos, dep.name) {
				if e, ok = v.value(dep.schema, pos); !ok {
					return 0, false
				}
				end = max(end, e)
			}
		}
		if n.unevaluated != nil {
			if e, ok = v.unevaluatedProps(n, pos); !ok {
				return 0, false
			}
			end = max(end, e)
		}
	}
	return end, true
}

// isInteger reports whether the number at data[pos] is an integer.
func (v *state) isInteger(pos int) bool {
	end := jsonlex.NumberEnd(v.data, pos)
	v.work += end - pos
	return isIntegerLiteral(v.data[pos:end])
}

// typeFailHere reports whether the last failure was a type mismatch of the
// value at the current path itself.
func (v *state) typeFailHere() bool {
	return v.fcode == codeType && v.flen == v.depth && !v.hasExtra
}

// noMatch records the failure of an anyOf/oneOf where no branch matched.
// If every branch failed on type alone, it reports the union of types; if
// exactly one branch got past the type check, its error is the most
// helpful, so that branch is re-run to record it; otherwise it reports a
// generic message.
func (v *state) noMatch(branches []*node, typeMsg, generic string, deep, nDeep, pos int, k typeMask) bool {
	switch {
	case nDeep == 0 && typeMsg != "":
		return v.fail(codeType, typeMsg, k.name())
	case nDeep == 1:
		v.value(branches[deep], pos)
		return false
	}
	return v.fail(codeOther, generic, "")
}

// member validates the member or item at data[pos] against sub, the path
// segment for it being in place at v.path[v.depth]. never is the message
// if sub is false.
func (v *state) member(sub *node, pos int, never string) (int, bool) {
	v.depth++
	var end int
	var ok bool
	if sub.never {
		ok = v.fail(codeOther, never, "")
	} else {
		end, ok = v.value(sub, pos)
	}
	v.depth--
	return end, ok
}

// skip returns the index just past the value at data[pos].
func (v *state) skip(pos int) int {
	end := jsonlex.ValueEnd(v.data, pos)
	v.work += end - pos
	return end
}

// keyName returns the decoded key whose content is data[ks:ke].
func (v *state) keyName(ks, ke int, fl jsonlex.Flags) []byte {
	name := v.data[ks:ke]
	if jsonlex.NeedsUnescape(name, fl) {
		name = v.decode1(name)
	}
	return name
}

func (v *state) object(n *node, pos int) (int, bool) {
	d := v.data
	var seen uint64 // bit i: required[i] is present (i < 64)
	nkeys := 0
	i := jsonlex.SkipSpace(d, pos+1)
	if d[i] == '}' {
		i++
	} else {
		for {
			v.work += workMember
			ks := i + 1
			ke, fl := jsonlex.ContentEnd(d, ks)
			i = jsonlex.SkipSpace(d, jsonlex.SkipSpace(d, ke+1)+1) // past ':'
			nkeys++
			if n.maxProps >= 0 && nkeys > n.maxProps {
				return 0, v.fail(codeOther, n.maxPropsMsg, "")
			}
			v.path[v.depth] = seg{a: ks, b: ke, key: true}
			if n.propNames != nil {
				v.depth++
				_, ok := v.value(n.propNames, ks-1) // the key as a string value
				v.depth--
				if !ok {
					v.fprefix = msgPropName
					return 0, false
				}
			}
			end := -1
			matched := false
			var ok bool
			if n.props != nil {
				if p := n.props[string(v.keyName(ks, ke, fl))]; p != nil {
					if p.req >= 0 && p.req < 64 {
						seen |= 1 << p.req
					}
					if p.schema != nil {
						matched = true
						if end, ok = v.member(p.schema, i, msgPropFalse); !ok {
							return 0, false
						}
					}
				}
			}
			for pi := range n.patterns {
				p := &n.patterns[pi]
				if !p.re.Match(v.keyName(ks, ke, fl)) {
					continue
				}
				matched = true
				if p.schema != nil {
					var e int
					if e, ok = v.member(p.schema, i, msgPropFalse); !ok {
						return 0, false
					}
					end = max(end, e)
				}
			}
			if !matched && n.additional != nil {
				if end, ok = v.member(n.additional, i, msgAdditional); !ok {
					return 0, false
				}
			}
			if end < 0 {
				end = v.skip(i)
			}
			i = jsonlex.SkipSpace(d, end)
			if d[i] == ',' {
				i = jsonlex.SkipSpace(d, i+1)
				continue
			}
			i++ // '}'
			break
		}
	}
	for ri, name := range n.required {
		var present bool
		if ri < 64 {
			present = seen&(1<<ri) != 0
		} else {
			present = v.hasKey(pos, name)
		}
		if !present {
			v.fail(codeOther, msgRequired, "")
			v.fextra, v.hasExtra = name, true
			return 0, false
		}
	}
	for _, dep := range n.depReq {
		if !v.hasKey(pos, dep.name) {
			continue
		}
		for _, q := range dep.req {
			if !v.hasKey(pos, q) {
				v.fail(codeOther, dep.msg, "")
				v.fextra, v.hasExtra = q, true
				return 0, false
			}
		}
	}
	if n.minProps >= 0 && nkeys < n.minProps {
		return 0, v.fail(codeOther, n.minPropsMsg, "")
	}
	return i, true
}

// hasKey reports whether the object at data[pos] has the key name.
func (v *state) hasKey(pos int, name string) bool {
	d := v.data
	i := jsonlex.SkipSpace(d, pos+1)
	if d[i] == '}' {
		return false
	}
	for {
		v.work += workMember
		ks := i + 1
		ke, fl := jsonlex.ContentEnd(d, ks)
		if string(v.keyName(ks, ke, fl)) == name {
			return true
		}
		vs := jsonlex.SkipSpace(d, jsonlex.SkipSpace(d, ke+1)+1)
		i = jsonlex.SkipSpace(d, jsonlex.ValueEnd(d, vs))
		v.work += i - vs
		if d[i] == '}' {
			return false
		}
		i = jsonlex.SkipSpace(d, i+1)
	}
}

func (v *state) array(n *node, pos int) (int, bool) {
	d := v.data
	idx, matches := 0, 0
	i := jsonlex.SkipSpace(d, pos+1)
	if d[i] == ']' {
		i++
	} else {
		for {
			v.work += workMember
			if n.maxItems >= 0 && idx >= n.maxItems {
				return 0, v.fail(codeOther, n.maxItemsMsg, "")
			}
			v.path[v.depth] = seg{a: idx}
			sub, never := n.items, msgFalse
			if idx < len(n.prefix) {
				sub = n.prefix[idx]
			} else if n.tuple {
				never = msgAddItem
			}
			end := -1
			if sub != nil {
				var ok bool
				if end, ok = v.member(sub, i, never); !ok {
					return 0, false
				}
			}
			if n.contains != nil {
				v.depth++
				e, ok := v.value(n.contains, i)
				v.depth--
				if v.aborted {
					return 0, false
				}
				if ok {
					end = max(end, e)
					if matches++; n.maxContains >= 0 && matches > n.maxContains {
						return 0, v.fail(codeOther, n.maxContainsMsg, "")
					}
				}
			}
			if end < 0 {
				end = v.skip(i)
			}
			idx++
			i = jsonlex.SkipSpace(d, end)
			if d[i] == ',' {
				i = jsonlex.SkipSpace(d, i+1)
				continue
			}
			i++ // ']'
			break
		}
	}
	if idx < n.minItems {
		return 0, v.fail(codeOther, n.minItemsMsg, "")
	}
	if n.contains != nil && matches < n.minContains {
		return 0, v.fail(codeOther, n.minContainsMsg, "")
	}
	if n.unique && !v.uniqueItems(pos) {
		return 0, false
	}
	return i, true
}

func (v *state) str(n *node, pos int) (int, bool) {
	d := v.data
	end, fl := jsonlex.ContentEnd(d, pos+1)
	s := d[pos+1 : end]
	v.work += len(s)
	if n.minLen >= 0 || n.maxLen >= 0 {
		var cnt int
		switch {
		case fl == 0:
			cnt = len(s)
		case fl&jsonlex.Escaped == 0:
			cnt = utf8.RuneCount(s) // invalid bytes count one each, like U+FFFD
		default:
			cnt = utf8.RuneCount(v.decode1(s))
		}
		if cnt < n.minLen {
			return 0, v.fail(codeOther, n.minLenMsg, "")
		}
		if n.maxLen >= 0 && cnt > n.maxLen {
			return 0, v.fail(codeOther, n.maxLenMsg, "")
		}
	}
	if n.pattern != nil {
		if jsonlex.NeedsUnescape(s, fl) {
			s = v.decode1(s)
		}
		if !n.pattern.Match(s) {
			return 0, v.fail(codeOther, n.patternMsg, "")
		}
	}
	return end + 1, true
}

func parseNumber(b []byte) float64 {
	f, _ := strconv.ParseFloat(string(b), 64) // out of range: ±Inf or ±0
	return f
}

func (v *state) number(n *node, pos int) (int, bool) {
	end := jsonlex.NumberEnd(v.data, pos)
	v.work += end - pos
	f := parseNumber(v.data[pos:end])
	for _, c := range n.nums {
		var bad bool
		switch c.op {
		case opMin:
			bad = f < c.limit
		case opExMin:
			bad = f <= c.limit
		case opMax:
			bad = f > c.limit
		case opExMax:
			bad = f >= c.limit
		}
		if bad {
			return 0, v.fail(codeOther, c.msg, "")
		}
	}
	if n.mult != nil {
		var x decimal
		v.buf1, x = parseDecimal(v.buf1, v.data[pos:end])
		if !n.mult.divides(x) {
			return 0, v.fail(codeOther, n.mult.msg, "")
		}
	}
	return end, true
}

// inEnum reports whether the value at data[pos] (of kind k) equals one of
// vals.
func (v *state) inEnum(vals []value, pos int, k typeMask) bool {
	d := v.data
	switch k {
	case tString:
		end, fl := jsonlex.ContentEnd(d, pos+1)
		s := d[pos+1 : end]
		v.work += len(s)
		if jsonlex.NeedsUnescape(s, fl) {
			s = v.decode1(s)
		}
		for i := range vals {
			if vals[i].kind == 's' && vals[i].str == string(s) {
				return true
			}
		}
	case tNumber:
		f := parseNumber(d[pos:jsonlex.NumberEnd(d, pos)])
		for i := range vals {
			if vals[i].kind == 'n' && vals[i].num == f {
				return true
			}
		}
	case tBoolean, tNull:
		want := d[pos]
		if want == 'n' {
			want = 'z'
		}
		for i := range vals {
			if vals[i].kind == want {
				return true
			}
		}
	default:
		for i := range vals {
			if v.equal(pos, &vals[i]) {
				return true
			}
		}
	}
	return false
}

// equal reports whether the value at data[pos] deeply equals val.
func (v *state) equal(pos int, val *value) bool {
	d := v.data
	v.work += workMember
	switch d[pos] {
	case '{':
		if val.kind != 'o' {
			return false
		}
		i := jsonlex.SkipSpace(d, pos+1)
		if d[i] == '}' {
			return len(val.obj) == 0
		}
		n := 0
		for {
			ks := i + 1
			ke, fl := jsonlex.ContentEnd(d, ks)
			name := d[ks:ke]
			if jsonlex.NeedsUnescape(name, fl) {
				name = v.decode1(name)
			}
			sub := val.obj[string(name)]
			if sub == nil {
				return false
			}
			i = jsonlex.SkipSpace(d, jsonlex.SkipSpace(d, ke+1)+1)
			if !v.equal(i, sub) {
				return false
			}
			n++ // keys are unique: wellFormed rejects duplicates
			i = jsonlex.SkipSpace(d, jsonlex.ValueEnd(d, i))
			if d[i] == '}' {
				return n == len(val.obj)
			}
			i = jsonlex.SkipSpace(d, i+1)
		}
	case '[':
		if val.kind != 'a' {
			return false
		}
		i := jsonlex.SkipSpace(d, pos+1)
		if d[i] == ']' {
			return len(val.arr) == 0
		}
		for n := 0; ; n++ {
			if n >= len(val.arr) || !v.equal(i, &val.arr[n]) {
				return false
			}
			i = jsonlex.SkipSpace(d, jsonlex.ValueEnd(d, i))
			if d[i] == ']' {
				return n+1 == len(val.arr)
			}
			i = jsonlex.SkipSpace(d, i+1)
		}
	case '"':
		if val.kind != 's' {
			return false
		}
		end, fl := jsonlex.ContentEnd(d, pos+1)
		s := d[pos+1 : end]
		v.work += len(s)
		if jsonlex.NeedsUnescape(s, fl) {
			s = v.decode1(s)
		}
		return val.str == string(s)
	case 't':
		return val.kind == 't'
	case 'f':
		return val.kind == 'f'
	case 'n':
		return val.kind == 'z'
	}
	return val.kind == 'n' && val.num == parseNumber(d[pos:jsonlex.NumberEnd(d, pos)])
}
