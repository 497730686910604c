package jsonschema

import "mcplambda/internal/jsonlex"

// unevaluatedProperties applies to the members of an object that no
// other keyword "evaluated": those not named by properties, not matched by
// patternProperties, not covered by additionalProperties (or by a nested
// unevaluatedProperties), in the schema itself or in any subschema that
// applies in place and succeeded: $ref, allOf, the anyOf and oneOf
// branches that match, if (when it matches) with then, else (when it does
// not), and dependentSchemas whose property is present. "not" never
// evaluates anything. This follows JSON Schema 2020-12 annotation
// collection, computed on demand rather than collected during validation,
// so that schemas without unevaluatedProperties pay nothing for it.

// unevaluatedProps checks the members of the object at data[pos] that n
// (which has passed all its other keywords) did not evaluate.
func (v *state) unevaluatedProps(n *node, pos int) (int, bool) {
	d := v.data
	nk := v.countMembers(pos)
	if nk == 0 {
		return -1, true
	}
	base := len(v.ev)
	for range (nk + 63) / 64 {
		v.ev = append(v.ev, 0)
	}
	all := v.markEvaluated(n, pos, base, true)
	ok := !v.aborted
	end := -1
	if ok && !all {
		i := jsonlex.SkipSpace(d, pos+1)
		for idx := 0; ; idx++ {
			ks := i + 1
			ke, _ := jsonlex.ContentEnd(d, ks)
			i = jsonlex.SkipSpace(d, jsonlex.SkipSpace(d, ke+1)+1)
			e := -1
			if v.ev[base+idx/64]&(1<<(idx%64)) == 0 {
				v.path[v.depth] = seg{a: ks, b: ke, key: true}
				if e, ok = v.member(n.unevaluated, i, msgUnevaluated); !ok {
					break
				}
			}
			if e < 0 {
				e = v.skip(i)
			}
			i = jsonlex.SkipSpace(d, e)
			if d[i] != ',' {
				end = i + 1
				break
			}
			i = jsonlex.SkipSpace(d, i+1)
		}
	}
	v.ev = v.ev[:base]
	return end, ok
}

// markEvaluated marks, in the bit set at v.ev[base:], the members of the
// object at data[pos] that n evaluates; n must have validated the object.
// It returns true when n evaluates every member. self is true for the
// schema whose own unevaluatedProperties is being applied.
func (v *state) markEvaluated(n *node, pos, base int, self bool) bool {
	if v.work += workCall; v.work > v.budget {
		v.aborted = true
	}
	if v.aborted {
		return true
	}
	if n.addlPresent || (n.unevPresent && !self) {
		return true
	}
	if n.props != nil || n.patterns != nil {
		d := v.data
		i := jsonlex.SkipSpace(d, pos+1)
		for idx := 0; ; idx++ {
			v.work += workMember
			ks := i + 1
			ke, fl := jsonlex.ContentEnd(d, ks)
			hit := false
			if p := n.props[string(v.keyName(ks, ke, fl))]; p != nil && p.schema != nil {
				hit = true
			}
			for pi := 0; pi < len(n.patterns) && !hit; pi++ {
				hit = n.patterns[pi].re.Match(v.keyName(ks, ke, fl))
			}
			if hit {
				v.ev[base+idx/64] |= 1 << (idx % 64)
			}
			i = jsonlex.SkipSpace(d, v.skip(jsonlex.SkipSpace(d, jsonlex.SkipSpace(d, ke+1)+1)))
			if d[i] != ',' {
				break
			}
			i = jsonlex.SkipSpace(d, i+1)
		}
	}
	if n.ref != nil && v.markEvaluated(n.ref, pos, base, false) {
		return true
	}
	for _, b := range n.allOf {
		if v.markEvaluated(b, pos, base, false) {
			return true
		}
	}
	for _, list := range [2][]*node{n.anyOf, n.oneOf} {
		for _, b := range list {
			if _, ok := v.value(b, pos); ok && v.markEvaluated(b, pos, base, false) {
				return true
			}
		}
	}
	if n.ifs != nil {
		if _, ok := v.value(n.ifs, pos); ok {
			if v.markEvaluated(n.ifs, pos, base, false) || (n.then != nil && v.markEvaluated(n.then, pos, base, false)) {
				return true
			}
		} else if n.els != nil && v.markEvaluated(n.els, pos, base, false) {
			return true
		}
	}
	for _, dep := range n.depSch {
		if v.hasKey(pos, dep.name) && v.markEvaluated(dep.schema, pos, base, false) {
			return true
		}
	}
	return false
}
