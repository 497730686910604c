package jsonlex

import "errors"

// ErrNotObject is returned by ScanObject for valid JSON that is not an
// object.
var ErrNotObject = errors.New("not a JSON object")

// ScanObject validates that b is exactly one JSON object (surrounded by
// optional white space, nested at most MaxDepth deep) and calls fn for each
// member, in order, with the raw key (between the quotes, still escaped)
// and the raw value. Keys and values alias b; duplicate keys are passed on
// as they come. It returns a *SyntaxError for malformed JSON, ErrNotObject
// for another valid value, or fn's error, which stops the scan.
func ScanObject(b []byte, fn func(key, value []byte) error) error {
	i := SkipSpace(b, 0)
	if i >= len(b) {
		return NewSyntaxError(b, i, EmptyInput)
	}
	if b[i] != '{' {
		end, code := SkipValue(b, i, MaxDepth)
		if code != OK {
			return NewSyntaxError(b, end, code)
		}
		if j := SkipSpace(b, end); j != len(b) {
			return NewSyntaxError(b, j, TrailingData)
		}
		return ErrNotObject
	}
	i = SkipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		i++
	} else {
		for {
			i = SkipSpace(b, i)
			if i >= len(b) || b[i] != '"' {
				return NewSyntaxError(b, i, ExpectedKey)
			}
			kend, _, code := ScanString(b, i)
			if code != OK {
				return NewSyntaxError(b, kend, code)
			}
			key := b[i+1 : kend-1]
			i = SkipSpace(b, kend)
			if i >= len(b) || b[i] != ':' {
				return NewSyntaxError(b, i, ExpectedColon)
			}
			vstart := SkipSpace(b, i+1)
			vend, code := SkipValue(b, vstart, MaxDepth-1)
			if code != OK {
				return NewSyntaxError(b, vend, code)
			}
			if err := fn(key, b[vstart:vend]); err != nil {
				return err
			}
			i = SkipSpace(b, vend)
			if i < len(b) && b[i] == ',' {
				i++
				continue
			}
			if i < len(b) && b[i] == '}' {
				i++
				break
			}
			return NewSyntaxError(b, i, ExpectedObjectNext)
		}
	}
	if j := SkipSpace(b, i); j != len(b) {
		return &SyntaxError{Offset: j, Code: TrailingData, Msg: "data after the object"}
	}
	return nil
}

// ScanArray validates that b is exactly one JSON array (surrounded by
// optional white space, nested at most MaxDepth deep) and calls fn for each
// element, in order, with the raw element, which aliases b. It returns a
// *SyntaxError for malformed JSON or for a value that is not an array
// (NotArray; that value is not checked), or fn's error, which stops the
// scan.
func ScanArray(b []byte, fn func(elem []byte) error) error {
	i := SkipSpace(b, 0)
	if i >= len(b) || b[i] != '[' {
		return NewSyntaxError(b, i, NotArray)
	}
	i = SkipSpace(b, i+1)
	if i < len(b) && b[i] == ']' {
		i++
	} else {
		for {
			start := SkipSpace(b, i)
			end, code := SkipValue(b, start, MaxDepth-1)
			if code != OK {
				return NewSyntaxError(b, end, code)
			}
			if err := fn(b[start:end]); err != nil {
				return err
			}
			i = SkipSpace(b, end)
			if i < len(b) && b[i] == ',' {
				i++
				continue
			}
			if i < len(b) && b[i] == ']' {
				i++
				break
			}
			return NewSyntaxError(b, i, ExpectedArrayNext)
		}
	}
	if j := SkipSpace(b, i); j != len(b) {
		return &SyntaxError{Offset: j, Code: TrailingData, Msg: "data after the array"}
	}
	return nil
}
