package jsonschema

import (
	"bytes"
	"cmp"
	"hash/maphash"
	"slices"
	"strconv"

	"mcplambda/internal/jsonlex"
)

// uniqueItems: items are hashed (a hash consistent with JSON equality:
// strings compare decoded, numbers numerically, object members in any
// order), sorted by hash, and only items with equal hashes are compared.
// That keeps hostile arrays linearithmic; the seed is random per process.

var hashSeed = maphash.MakeSeed()

type uniqItem struct {
	h        uint64
	idx, pos int
}

func mix(h, x uint64) uint64 {
	h ^= x + 0x9e3779b97f4a7c15 + h<<6 + h>>2
	h *= 0xff51afd7ed558ccd
	return h ^ h>>32
}

// uniqueItems checks that the items of the array at data[pos] are
// distinct. The failure names the first item (in document order) that
// repeats an earlier one.
func (v *state) uniqueItems(pos int) bool {
	d := v.data
	i := jsonlex.SkipSpace(d, pos+1)
	if d[i] == ']' {
		return true
	}
	base := len(v.uniq)
	for idx := 0; ; idx++ {
		h, e := v.hash(i)
		v.uniq = append(v.uniq, uniqItem{h, idx, i})
		i = jsonlex.SkipSpace(d, e)
		if d[i] != ',' {
			break
		}
		i = jsonlex.SkipSpace(d, i+1)
	}
	items := v.uniq[base:]
	slices.SortFunc(items, func(a, b uniqItem) int {
		if c := cmp.Compare(a.h, b.h); c != 0 {
			return c
		}
		return a.idx - b.idx
	})
	first, second := -1, -1
	for s := 0; s < len(items); {
		e := s + 1
		for e < len(items) && items[e].h == items[s].h {
			e++
		}
	run:
		for b := s + 1; b < e; b++ {
			if second >= 0 && items[b].idx > second {
				break
			}
			for a := s; a < b; a++ {
				if v.rawEqual(items[a].pos, items[b].pos) {
					if second < 0 || items[b].idx < second {
						first, second = items[a].idx, items[b].idx
					}
					break run
				}
				if v.aborted {
					v.uniq = v.uniq[:base]
					return false
				}
			}
		}
		s = e
	}
	v.uniq = v.uniq[:base]
	if second < 0 {
		return true
	}
	got := " ([" + strconv.Itoa(first) + "] and [" + strconv.Itoa(second) + "] are equal)"
	return v.fail(codeOther, msgUnique, got)
}

// hash returns a hash of the value at data[pos] and the index past it.
func (v *state) hash(pos int) (uint64, int) {
	d := v.data
	v.work += workMember
	switch c := d[pos]; c {
	case '{':
		var sum uint64 // members combine commutatively
		i := jsonlex.SkipSpace(d, pos+1)
		if d[i] == '}' {
			return mix('o', 0), i + 1
		}
		for {
			ks := i + 1
			ke, fl := jsonlex.ContentEnd(d, ks)
			v.work += ke - ks
			kh := maphash.Bytes(hashSeed, v.keyName(ks, ke, fl))
			vh, e := v.hash(jsonlex.SkipSpace(d, jsonlex.SkipSpace(d, ke+1)+1))
			sum += mix(kh, vh)
			i = jsonlex.SkipSpace(d, e)
			if d[i] != ',' {
				return mix('o', sum), i + 1
			}
			i = jsonlex.SkipSpace(d, i+1)
		}
	case '[':
		h := mix('a', 0)
		i := jsonlex.SkipSpace(d, pos+1)
		if d[i] == ']' {
			return h, i + 1
		}
		for {
			eh, e := v.hash(i)
			h = mix(h, eh)
			i = jsonlex.SkipSpace(d, e)
			if d[i] != ',' {
				return h, i + 1
			}
			i = jsonlex.SkipSpace(d, i+1)
		}
	case '"':
		end, fl := jsonlex.ContentEnd(d, pos+1)
		v.work += end - pos
		return mix('s', maphash.Bytes(hashSeed, v.keyName(pos+1, end, fl))), end + 1
	case 't', 'n':
		return mix(uint64(c), 0), pos + 4
	case 'f':
		return mix('f', 0), pos + 5
	}
	end := jsonlex.NumberEnd(d, pos)
	v.work += end - pos
	var x decimal
	v.buf1, x = parseDecimal(v.buf1, d[pos:end])
	if x.huge {
		return mix('N', maphash.Bytes(hashSeed, d[pos:end])), end
	}
	h := mix('n', maphash.Bytes(hashSeed, x.digits))
	h = mix(h, uint64(x.exp))
	if x.neg {
		h = mix(h, 1)
	}
	return h, end
}

// rawEqual reports whether the values at data[a] and data[b] are equal as
// JSON values.
func (v *state) rawEqual(a, b int) bool {
	d := v.data
	if v.work += workMember; v.work > v.budget {
		v.aborted = true
	}
	if v.aborted {
		return false
	}
	ca, cb := d[a], d[b]
	switch ca {
	case '{':
		if cb != '{' || v.countMembers(a) != v.countMembers(b) {
			return false
		}
		i := jsonlex.SkipSpace(d, a+1)
		if d[i] == '}' {
			return true
		}
		for {
			ks := i + 1
			ke, fl := jsonlex.ContentEnd(d, ks)
			vb := v.member2(b, ks, ke, fl)
			if vb < 0 {
				return false
			}
			i = jsonlex.SkipSpace(d, jsonlex.SkipSpace(d, ke+1)+1)
			if !v.rawEqual(i, vb) {
				return false
			}
			i = jsonlex.SkipSpace(d, jsonlex.ValueEnd(d, i))
			if d[i] != ',' {
				return true
			}
			i = jsonlex.SkipSpace(d, i+1)
		}
	case '[':
		if cb != '[' {
			return false
		}
		i, j := jsonlex.SkipSpace(d, a+1), jsonlex.SkipSpace(d, b+1)
		for {
			if d[i] == ']' || d[j] == ']' {
				return d[i] == d[j]
			}
			if !v.rawEqual(i, j) {
				return false
			}
			i, j = jsonlex.SkipSpace(d, jsonlex.ValueEnd(d, i)), jsonlex.SkipSpace(d, jsonlex.ValueEnd(d, j))
			if d[i] == ',' {
				i = jsonlex.SkipSpace(d, i+1)
			}
			if d[j] == ',' {
				j = jsonlex.SkipSpace(d, j+1)
			}
		}
	case '"':
		if cb != '"' {
			return false
		}
		ea, fa := jsonlex.ContentEnd(d, a+1)
		eb, fb := jsonlex.ContentEnd(d, b+1)
		v.work += ea - a + eb - b
		sa, sb := d[a+1:ea], d[b+1:eb]
		if jsonlex.NeedsUnescape(sa, fa) {
			v.buf1 = jsonlex.Unescape(v.buf1[:0], sa)
			sa = v.buf1
		}
		if jsonlex.NeedsUnescape(sb, fb) {
			v.buf2 = jsonlex.Unescape(v.buf2[:0], sb)
			sb = v.buf2
		}
		return bytes.Equal(sa, sb)
	case 't', 'f', 'n':
		return ca == cb
	}
	if cb != '-' && !isDigit(cb) {
		return false
	}
	ta, tb := d[a:jsonlex.NumberEnd(d, a)], d[b:jsonlex.NumberEnd(d, b)]
	v.work += len(ta) + len(tb)
	if bytes.Equal(ta, tb) {
		return true
	}
	var x, y decimal
	v.buf1, x = parseDecimal(v.buf1, ta)
	v.buf2, y = parseDecimal(v.buf2, tb)
	return sameNumber(x, y)
}

// countMembers returns the number of members of the object at data[pos].
func (v *state) countMembers(pos int) int {
	d := v.data
	i := jsonlex.SkipSpace(d, pos+1)
	if d[i] == '}' {
		return 0
	}
	for n := 1; ; n++ {
		e, _ := jsonlex.ContentEnd(d, i+1)
		vs := jsonlex.SkipSpace(d, jsonlex.SkipSpace(d, e+1)+1)
		i = jsonlex.SkipSpace(d, jsonlex.ValueEnd(d, vs))
		v.work += workMember + i - vs
		if d[i] != ',' {
			return n
		}
		i = jsonlex.SkipSpace(d, i+1)
	}
}

// member2 returns the position of the value of the member of the object at
// data[obj] whose key equals the key data[ks:ke] (flags fl), or -1.
func (v *state) member2(obj, ks, ke int, fl jsonlex.Flags) int {
	d := v.data
	key := d[ks:ke]
	if jsonlex.NeedsUnescape(key, fl) {
		v.buf1 = jsonlex.Unescape(v.buf1[:0], key)
		key = v.buf1
	}
	i := jsonlex.SkipSpace(d, obj+1)
	for {
		v.work += workMember
		s := i + 1
		e, f := jsonlex.ContentEnd(d, s)
		k := d[s:e]
		if jsonlex.NeedsUnescape(k, f) {
			v.buf2 = jsonlex.Unescape(v.buf2[:0], k)
			k = v.buf2
		}
		vs := jsonlex.SkipSpace(d, jsonlex.SkipSpace(d, e+1)+1)
		if bytes.Equal(k, key) {
			return vs
		}
		i = jsonlex.SkipSpace(d, jsonlex.ValueEnd(d, vs))
		v.work += i - vs
		if d[i] != ',' {
			return -1
		}
		i = jsonlex.SkipSpace(d, i+1)
	}
}
