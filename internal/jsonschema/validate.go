package jsonschema

import (
	"bytes"
	"strconv"
	"sync"
	"unicode/utf8"
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
	maxLinearKeys  = 32      // objects with more keys use a map for duplicate detection
	maxPooledBytes = 1 << 16 // larger scratch buffers are not kept in the pool
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

	// The most recent failure.
	fcode    uint8
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
}

var statePool = sync.Pool{New: func() any { return new(state) }}

// Validate checks instance (raw JSON bytes) against the schema. The error,
// if any, is a *ValidationError describing the first problem in document
// order. Syntactically invalid JSON, instances nested deeper than 64 levels
// and objects with duplicate keys are rejected before schema checks.
// A nil Schema accepts every well-formed instance.
func (s *Schema) Validate(instance []byte) error {
	v := statePool.Get().(*state)
	v.data = instance
	v.depth = 0
	var err error
	if !v.wellFormed() {
		err = v.makeError()
		for i := range v.levels {
			v.levels[i].set = nil
		}
	} else if s != nil && s.root != nil {
		if _, ok := v.value(s.root, skipWS(instance, 0)); !ok {
			err = v.makeError()
		}
	}
	v.data = nil
	v.keys = v.keys[:0]
	v.fmsg, v.fgot, v.fextra = "", "", ""
	if cap(v.buf1) > maxPooledBytes {
		v.buf1 = nil
	}
	if cap(v.buf2) > maxPooledBytes {
		v.buf2 = nil
	}
	if cap(v.keys) > maxPooledBytes {
		v.keys = nil
	}
	statePool.Put(v)
	return err
}

// fail records a failure at the current path and returns false.
func (v *state) fail(code uint8, msg, got string) bool {
	v.fcode, v.fmsg, v.fgot = code, msg, got
	v.fextra, v.hasExtra = "", false
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
			b = appendPathKey(b, string(unescape(make([]byte, 0, len(raw)), raw)), i == 0)
		} else {
			b = append(b, '[')
			b = strconv.AppendInt(b, int64(s.a), 10)
			b = append(b, ']')
		}
	}
	if v.hasExtra {
		b = appendPathKey(b, v.fextra, v.flen == 0)
	}
	return &ValidationError{Path: string(b), Message: v.fmsg + v.fgot}
}

func (v *state) decode1(s []byte) []byte {
	v.buf1 = unescape(v.buf1[:0], s)
	return v.buf1
}

// wellFormed checks JSON syntax, the nesting limit and duplicate keys in a
// single iterative pass.
func (v *state) wellFormed() bool {
	d := v.data
	i := skipWS(d, 0)
	depth := 0
	for {
		// A value starts at i.
		if i >= len(d) {
			return v.failRoot(msgNotJSON)
		}
		switch c := d[i]; {
		case c == '{' || c == '[':
			if depth == maxDepth {
				return v.failRoot(msgTooDeep)
			}
			lv := &v.levels[depth]
			depth++
			lv.obj, lv.idx, lv.keyStart, lv.set = c == '{', 0, len(v.keys), nil
			i = skipWS(d, i+1)
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
			i, _ = checkString(d, i)
		case c == '-' || isDigit(c):
			i = checkNumber(d, i)
		case c == 't':
			i = literal(d, i, "true")
		case c == 'f':
			i = literal(d, i, "false")
		case c == 'n':
			i = literal(d, i, "null")
		default:
			i = -1
		}
		if i < 0 {
			return v.failRoot(msgNotJSON)
		}
		// After a value: close containers or move to the next element.
		for {
			i = skipWS(d, i)
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
				i = skipWS(d, i+1)
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

func literal(d []byte, i int, lit string) int {
	if len(d)-i >= len(lit) && string(d[i:i+len(lit)]) == lit {
		return i + len(lit)
	}
	return -1
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
	end, fl := checkString(d, i)
	if end < 0 {
		v.failRoot(msgNotJSON)
		return -1
	}
	k := keyRef{a: i + 1, b: end - 1}
	k.dec = needsDecode(d[k.a:k.b], fl)
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

	i = skipWS(d, end)
	if i >= len(d) || d[i] != ':' {
		v.failRoot(msgNotJSON)
		return -1
	}
	return skipWS(d, i+1)
}

func (v *state) sameKey(x, y keyRef) bool {
	d := v.data
	if !x.dec && !y.dec {
		return bytes.Equal(d[x.a:x.b], d[y.a:y.b])
	}
	v.buf1 = unescape(v.buf1[:0], d[x.a:x.b])
	v.buf2 = unescape(v.buf2[:0], d[y.a:y.b])
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
// the index just past the value, or false after recording a failure.
func (v *state) value(n *node, pos int) (int, bool) {
	d := v.data
	if n.trivial {
		return skipValue(d, pos), true
	}
	if n.never {
		return 0, v.fail(codeOther, msgFalse, "")
	}
	k := kindOf(d[pos])
	if n.types != 0 && n.types&k == 0 {
		if k != tNumber || n.types&tInteger == 0 || !isIntegerLiteral(d[pos:skipNumber(d, pos)]) {
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
		if n.nums != nil {
			end, ok = v.number(n, pos)
		}
	}
	if !ok {
		return 0, false
	}

	for _, b := range n.allOf {
		if end, ok = v.value(b, pos); !ok {
			return 0, false
		}
	}
	if n.anyOf != nil {
		matched := false
		deep, nDeep := -1, 0
		for bi, b := range n.anyOf {
			var e int
			if e, matched = v.value(b, pos); matched {
				end = e
				break
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
				end = e
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
	}

	if end < 0 {
		end = skipValue(d, pos)
	}
	return end, true
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

func (v *state) object(n *node, pos int) (int, bool) {
	d := v.data
	var seen uint64 // bit i: required[i] is present (i < 64)
	nkeys := 0
	i := skipWS(d, pos+1)
	if d[i] == '}' {
		i++
	} else {
		for {
			ks := i + 1
			ke, fl := scanString(d, ks)
			i = skipWS(d, skipWS(d, ke+1)+1) // past ':'
			nkeys++
			if n.maxProps >= 0 && nkeys > n.maxProps {
				return 0, v.fail(codeOther, n.maxPropsMsg, "")
			}
			var sub *node
			if n.props != nil {
				name := d[ks:ke]
				if needsDecode(name, fl) {
					name = v.decode1(name)
				}
				if p := n.props[string(name)]; p != nil {
					if p.req >= 0 && p.req < 64 {
						seen |= 1 << p.req
					}
					sub = p.schema
				}
			}
			if sub == nil {
				sub = n.additional
			}
			if sub == nil {
				i = skipValue(d, i)
			} else {
				v.path[v.depth] = seg{a: ks, b: ke, key: true}
				v.depth++
				var ok bool
				if sub.never {
					if sub == n.additional {
						ok = v.fail(codeOther, msgAdditional, "")
					} else {
						ok = v.fail(codeOther, msgPropFalse, "")
					}
				} else {
					i, ok = v.value(sub, i)
				}
				v.depth--
				if !ok {
					return 0, false
				}
			}
			i = skipWS(d, i)
			if d[i] == ',' {
				i = skipWS(d, i+1)
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
	if n.minProps >= 0 && nkeys < n.minProps {
		return 0, v.fail(codeOther, n.minPropsMsg, "")
	}
	return i, true
}

// hasKey reports whether the object at data[pos] has the key name.
func (v *state) hasKey(pos int, name string) bool {
	d := v.data
	i := skipWS(d, pos+1)
	if d[i] == '}' {
		return false
	}
	for {
		ks := i + 1
		ke, fl := scanString(d, ks)
		key := d[ks:ke]
		if needsDecode(key, fl) {
			key = v.decode1(key)
		}
		if string(key) == name {
			return true
		}
		i = skipWS(d, skipValue(d, skipWS(d, skipWS(d, ke+1)+1)))
		if d[i] == '}' {
			return false
		}
		i = skipWS(d, i+1)
	}
}

func (v *state) array(n *node, pos int) (int, bool) {
	d := v.data
	idx := 0
	i := skipWS(d, pos+1)
	if d[i] == ']' {
		i++
	} else {
		for {
			if n.maxItems >= 0 && idx >= n.maxItems {
				return 0, v.fail(codeOther, n.maxItemsMsg, "")
			}
			if n.items == nil {
				i = skipValue(d, i)
			} else {
				v.path[v.depth] = seg{a: idx}
				v.depth++
				var ok bool
				i, ok = v.value(n.items, i)
				v.depth--
				if !ok {
					return 0, false
				}
			}
			idx++
			i = skipWS(d, i)
			if d[i] == ',' {
				i = skipWS(d, i+1)
				continue
			}
			i++ // ']'
			break
		}
	}
	if idx < n.minItems {
		return 0, v.fail(codeOther, n.minItemsMsg, "")
	}
	return i, true
}

func (v *state) str(n *node, pos int) (int, bool) {
	d := v.data
	end, fl := scanString(d, pos+1)
	s := d[pos+1 : end]
	if n.minLen >= 0 || n.maxLen >= 0 {
		var cnt int
		switch {
		case fl == 0:
			cnt = len(s)
		case fl&strEscaped == 0:
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
		if needsDecode(s, fl) {
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
	end := skipNumber(v.data, pos)
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
	return end, true
}

// inEnum reports whether the value at data[pos] (of kind k) equals one of
// vals.
func (v *state) inEnum(vals []value, pos int, k typeMask) bool {
	d := v.data
	switch k {
	case tString:
		end, fl := scanString(d, pos+1)
		s := d[pos+1 : end]
		if needsDecode(s, fl) {
			s = v.decode1(s)
		}
		for i := range vals {
			if vals[i].kind == 's' && vals[i].str == string(s) {
				return true
			}
		}
	case tNumber:
		f := parseNumber(d[pos:skipNumber(d, pos)])
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
	switch d[pos] {
	case '{':
		if val.kind != 'o' {
			return false
		}
		i := skipWS(d, pos+1)
		if d[i] == '}' {
			return len(val.obj) == 0
		}
		n := 0
		for {
			ks := i + 1
			ke, fl := scanString(d, ks)
			name := d[ks:ke]
			if needsDecode(name, fl) {
				name = v.decode1(name)
			}
			sub := val.obj[string(name)]
			if sub == nil {
				return false
			}
			i = skipWS(d, skipWS(d, ke+1)+1)
			if !v.equal(i, sub) {
				return false
			}
			n++ // keys are unique: wellFormed rejects duplicates
			i = skipWS(d, skipValue(d, i))
			if d[i] == '}' {
				return n == len(val.obj)
			}
			i = skipWS(d, i+1)
		}
	case '[':
		if val.kind != 'a' {
			return false
		}
		i := skipWS(d, pos+1)
		if d[i] == ']' {
			return len(val.arr) == 0
		}
		for n := 0; ; n++ {
			if n >= len(val.arr) || !v.equal(i, &val.arr[n]) {
				return false
			}
			i = skipWS(d, skipValue(d, i))
			if d[i] == ']' {
				return n+1 == len(val.arr)
			}
			i = skipWS(d, i+1)
		}
	case '"':
		if val.kind != 's' {
			return false
		}
		end, fl := scanString(d, pos+1)
		s := d[pos+1 : end]
		if needsDecode(s, fl) {
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
	return val.kind == 'n' && val.num == parseNumber(d[pos:skipNumber(d, pos)])
}
