package jsonschema

import (
	"math/big"
)

// Exact decimal arithmetic on JSON number text, for multipleOf and for
// number equality in uniqueItems. Nothing here goes through float64, so
// 0.3 is a multiple of 0.1 and 9007199254740993 differs from
// 9007199254740992.

// decimal is the exact value of a JSON number, ±digits × 10^exp, where
// digits has neither leading nor trailing zeros (it is empty for zero).
type decimal struct {
	digits []byte
	exp    int64
	neg    bool
	huge   bool // the written exponent exceeded maxDecExp and was clamped
}

// maxDecExp bounds written exponents: larger ones are clamped (and the
// number marked huge) so that hostile input like 1e999999999999 costs
// nothing.
const maxDecExp = 1 << 40

// parseDecimal decodes the well-formed JSON number b. Its digits are kept in
// dst (reused), which it returns.
func parseDecimal(dst, b []byte) ([]byte, decimal) {
	var x decimal
	i := 0
	if b[0] == '-' {
		x.neg = true
		i++
	}
	dst = dst[:0]
	for ; i < len(b) && isDigit(b[i]); i++ {
		dst = append(dst, b[i])
	}
	var frac int64
	if i < len(b) && b[i] == '.' {
		for i++; i < len(b) && isDigit(b[i]); i++ {
			dst = append(dst, b[i])
			frac++
		}
	}
	var e int64
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		eneg := false
		if b[i] == '+' || b[i] == '-' {
			eneg = b[i] == '-'
			i++
		}
		for ; i < len(b); i++ {
			if e < maxDecExp {
				e = e*10 + int64(b[i]-'0')
			}
		}
		if e >= maxDecExp {
			e, x.huge = maxDecExp, true
		}
		if eneg {
			e = -e
		}
	}
	k := 0
	for k < len(dst) && dst[k] == '0' {
		k++
	}
	digits := dst[k:]
	exp := e - frac
	for len(digits) > 0 && digits[len(digits)-1] == '0' {
		digits = digits[:len(digits)-1]
		exp++
	}
	if len(digits) == 0 {
		return dst, decimal{} // zero, however written
	}
	x.digits, x.exp = digits, exp
	return dst, x
}

// sameNumber reports whether two decimals are numerically equal. Numbers
// with clamped exponents are only equal when written identically, which
// the caller checks.
func sameNumber(a, b decimal) bool {
	return !a.huge && !b.huge && a.neg == b.neg && a.exp == b.exp && string(a.digits) == string(b.digits)
}

// multiple is a compiled multipleOf: a positive decimal D × 10^exp.
type multiple struct {
	digits string
	exp    int64
	small  uint64   // D when it has at most 18 digits
	big    *big.Int // D otherwise
	msg    string
}

// maxMultipleExp bounds the exponent of a multipleOf value; it is far
// below maxDecExp so that a clamped instance exponent still compares right.
const maxMultipleExp = 1 << 32

func newMultiple(d decimal, text string) *multiple {
	m := &multiple{digits: string(d.digits), exp: d.exp, msg: "must be a multiple of " + text}
	if len(d.digits) <= 18 {
		for _, c := range d.digits {
			m.small = m.small*10 + uint64(c-'0')
		}
	} else {
		m.big, _ = new(big.Int).SetString(m.digits, 10)
	}
	return m
}

// divides reports whether x is an integer multiple of m.
//
// With x = X × 10^ex and m = D × 10^ed, x/m = X × 10^k / D for k = ex-ed.
// For k < 0 that is never an integer (X has no trailing zero, so D × 10^-k
// cannot divide it) unless x is zero. For k ≥ 0, D = 2^p 5^q D' with D'
// coprime to 10 divides X × 10^k exactly when D' | X and the powers of 2
// and 5 are covered; beyond k = max(p, q) more factors of 10 change
// nothing, so k is capped at a bound on p and q (4 × digits of D). The
// work is linear in the digits of x and never depends on its exponent.
func (m *multiple) divides(x decimal) bool {
	if len(x.digits) == 0 {
		return true
	}
	k := x.exp - m.exp
	if k < 0 {
		return false
	}
	if lim := int64(4*len(m.digits) + 4); k > lim {
		k = lim
	}
	if m.big == nil {
		var r uint64 // r < D < 10^18, so r*10+9 fits
		for _, c := range x.digits {
			r = (r*10 + uint64(c-'0')) % m.small
		}
		for ; k > 0; k-- {
			r = r * 10 % m.small
		}
		return r == 0
	}
	var r, chunk, scale big.Int
	ten18 := new(big.Int).SetUint64(1e18)
	ds := x.digits
	for len(ds) > 0 {
		n := min(len(ds), 18)
		var c uint64
		for _, b := range ds[:n] {
			c = c*10 + uint64(b-'0')
		}
		if n == 18 {
			r.Mul(&r, ten18)
		} else {
			r.Mul(&r, scale.Exp(big.NewInt(10), big.NewInt(int64(n)), nil))
		}
		r.Add(&r, chunk.SetUint64(c))
		r.Mod(&r, m.big)
		ds = ds[n:]
	}
	r.Mul(&r, scale.Exp(big.NewInt(10), big.NewInt(k), m.big))
	return r.Mod(&r, m.big).Sign() == 0
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// isIntegerLiteral reports whether a well-formed JSON number denotes an
// integer, exactly (1e2 and 3.0 do, 3.5 and 1e-400 do not).
func isIntegerLiteral(n []byte) bool {
	i := 0
	if n[0] == '-' {
		i++
	}
	intStart := i
	for i < len(n) && isDigit(n[i]) {
		i++
	}
	intPart := n[intStart:i]
	var frac []byte
	if i < len(n) && n[i] == '.' {
		i++
		fs := i
		for i < len(n) && isDigit(n[i]) {
			i++
		}
		frac = n[fs:i]
	}
	exp := 0
	if i < len(n) && (n[i] == 'e' || n[i] == 'E') {
		i++
		neg := false
		if n[i] == '+' || n[i] == '-' {
			neg = n[i] == '-'
			i++
		}
		for ; i < len(n); i++ {
			if exp < 1<<30 {
				exp = exp*10 + int(n[i]-'0')
			}
		}
		if neg {
			exp = -exp
		}
	}
	// value = digits(intPart frac) * 10^(exp-len(frac)); strip trailing zeros.
	scale := exp - len(frac)
	for len(frac) > 0 && frac[len(frac)-1] == '0' {
		frac = frac[:len(frac)-1]
		scale++
	}
	if len(frac) == 0 {
		for len(intPart) > 0 && intPart[len(intPart)-1] == '0' {
			intPart = intPart[:len(intPart)-1]
			scale++
		}
		if len(intPart) == 0 {
			return true // zero
		}
	}
	return scale >= 0
}
