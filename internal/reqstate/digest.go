package reqstate

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"slices"
	"strconv"
	"strings"
)

// MaxParamsSize bounds the params ParamsDigest canonicalises; larger params
// get a digest of their raw bytes (see ParamsDigest).
const MaxParamsSize = 1 << 20

// maxDepth bounds the nesting of params ParamsDigest canonicalises.
const maxDepth = 256

// Domain labels: a canonical digest and a raw one can never be equal
// without a SHA-256 collision.
const (
	canonicalLabel = "mcplambda/reqstate params v1 canonical\x00"
	rawLabel       = "mcplambda/reqstate params v1 raw\x00"
)

// ParamsDigest returns the SHA-256 digest of method and of a canonical form
// of the salient part of params, for Binding.Digest:
//
//   - tools/call, prompts/get: name and arguments (arguments absent, null
//     and {} are the same);
//   - resources/read: uri;
//   - any other method: all of params but _meta, inputResponses and
//     requestState.
//
// Everything else in params is ignored, in particular _meta,
// inputResponses and requestState, which differ between the rounds of one
// request.
//
// The retry is re-serialised by the client, perhaps by another JSON
// library than the one that wrote the first round, so the digest is over
// values, not bytes: whitespace and object key order do not matter,
// strings are compared after unescaping ("\u00e9" and "é" are equal; as in
// encoding/json, invalid UTF-8 reads as U+FFFD), and numbers are compared
// by exact decimal value (1, 1.0, 10e-1 and 1E0 are equal; -0 is 0). Number
// comparison is exact, not by float64: a client that rounds
// 12345678901234567891 to 12345678901234567000 on retry (as JavaScript
// does) gets a different digest and its state is refused, rather than two
// different amounts sharing one state.
//
// Params that cannot be canonicalised (not a JSON object, invalid JSON,
// duplicate keys at any depth, nesting deeper than 256, exponents beyond
// ±10^9, more than MaxParamsSize bytes) get a digest of method and the
// raw bytes instead, under a different label. That fails closed: the
// retry's raw params include inputResponses and requestState, so they
// never match the first round's, and the state is refused.
func ParamsDigest(method string, params json.RawMessage) [32]byte {
	if len(params) <= MaxParamsSize {
		if canon, err := salient(method, params); err == nil {
			return digest(canonicalLabel, method, canon)
		}
	}
	return digest(rawLabel, method, params)
}

func digest(label, method string, body []byte) [32]byte {
	h := sha256.New()
	var n [4]byte
	h.Write([]byte(label))
	binary.BigEndian.PutUint32(n[:], uint32(len(method)))
	h.Write(n[:])
	h.Write([]byte(method))
	h.Write(body)
	var d [32]byte
	h.Sum(d[:0])
	return d
}

var errNotCanonical = errors.New("reqstate: params cannot be canonicalised")

// salient returns the canonical JSON of the salient members of params.
func salient(method string, params []byte) ([]byte, error) {
	trimmed := bytes.TrimSpace(params)
	if len(trimmed) == 0 || string(trimmed) == "null" {
		trimmed = []byte("{}")
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.UseNumber()
	members, err := readObject(dec, 0)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errNotCanonical // trailing data
	}
	var keep func(key string, value []byte) bool
	switch method {
	case "tools/call", "prompts/get":
		keep = func(key string, value []byte) bool {
			switch key {
			case "name":
				return string(value) != "null"
			case "arguments":
				return string(value) != "null" && string(value) != "{}"
			}
			return false
		}
	case "resources/read":
		keep = func(key string, value []byte) bool { return key == "uri" && string(value) != "null" }
	default:
		keep = func(key string, _ []byte) bool {
			return key != "_meta" && key != "inputResponses" && key != "requestState"
		}
	}
	kept := members[:0]
	for _, m := range members {
		if keep(m.key, m.value) {
			kept = append(kept, m)
		}
	}
	return writeObject(nil, kept), nil
}

type member struct {
	key   string
	value []byte // canonical JSON
}

// readObject reads an object (the next token must be '{') and returns its
// members with canonical values, sorted by key.
func readObject(dec *json.Decoder, depth int) ([]member, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, errNotCanonical
	}
	return readMembers(dec, depth+1)
}

// readMembers reads the rest of an object whose '{' has been read.
func readMembers(dec *json.Decoder, depth int) ([]member, error) {
	if depth > maxDepth {
		return nil, errNotCanonical
	}
	var ms []member
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		if tok == json.Delim('}') {
			break
		}
		key, ok := tok.(string)
		if !ok {
			return nil, errNotCanonical
		}
		v, err := readValue(dec, nil, depth)
		if err != nil {
			return nil, err
		}
		ms = append(ms, member{key: key, value: v})
	}
	slices.SortFunc(ms, func(a, b member) int { return strings.Compare(a.key, b.key) })
	for i := 1; i < len(ms); i++ {
		if ms[i].key == ms[i-1].key {
			return nil, errNotCanonical // ambiguous: parsers disagree on which wins
		}
	}
	return ms, nil
}

// readValue appends the canonical JSON of the next value to dst.
func readValue(dec *json.Decoder, dst []byte, depth int) ([]byte, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			ms, err := readMembers(dec, depth+1)
			if err != nil {
				return nil, err
			}
			return writeObject(dst, ms), nil
		case '[':
			if depth+1 > maxDepth {
				return nil, errNotCanonical
			}
			dst = append(dst, '[')
			for first := true; dec.More(); first = false {
				if !first {
					dst = append(dst, ',')
				}
				if dst, err = readValue(dec, dst, depth+1); err != nil {
					return nil, err
				}
			}
			if tok, err := dec.Token(); err != nil || tok != json.Delim(']') {
				return nil, errNotCanonical
			}
			return append(dst, ']'), nil
		}
		return nil, errNotCanonical
	case string:
		return appendString(dst, t), nil
	case json.Number:
		return appendNumber(dst, string(t))
	case bool:
		return strconv.AppendBool(dst, t), nil
	case nil:
		return append(dst, "null"...), nil
	}
	return nil, errNotCanonical
}

func writeObject(dst []byte, ms []member) []byte {
	dst = append(dst, '{')
	for i, m := range ms {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendString(dst, m.key)
		dst = append(dst, ':')
		dst = append(dst, m.value...)
	}
	return append(dst, '}')
}

// appendString appends s as a JSON string, escaping only what JSON
// requires: '"', '\\' and control characters. s is valid UTF-8 (the
// decoder replaced anything else).
func appendString(dst []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"
	dst = append(dst, '"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			dst = append(dst, '\\', c)
		case c < 0x20:
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		default:
			dst = append(dst, c)
		}
	}
	return append(dst, '"')
}

// maxExponent bounds the exponent of a number literal ParamsDigest
// accepts.
const maxExponent = 1_000_000_000

// appendNumber appends the canonical form of the JSON number literal lit
// (already validated by the decoder): an optional '-', the significant
// digits without leading or trailing zeros, and "e<exp>" unless the
// exponent is 0. Equal values give equal forms: 1.50, 15e-1 and 0.15E1 are
// all "15e-1"; zero is "0".
func appendNumber(dst []byte, lit string) ([]byte, error) {
	neg := strings.HasPrefix(lit, "-")
	if neg {
		lit = lit[1:]
	}
	mant, expPart := lit, ""
	if i := strings.IndexAny(lit, "eE"); i >= 0 {
		mant, expPart = lit[:i], lit[i+1:]
	}
	intPart, frac := mant, ""
	if i := strings.IndexByte(mant, '.'); i >= 0 {
		intPart, frac = mant[:i], mant[i+1:]
	}
	var exp int64
	if expPart != "" {
		e, err := strconv.ParseInt(expPart, 10, 64)
		if err != nil || e > maxExponent || e < -maxExponent {
			return nil, errNotCanonical
		}
		exp = e
	}
	digits := strings.TrimLeft(intPart+frac, "0")
	exp -= int64(len(frac))
	if digits == "" {
		return append(dst, '0'), nil
	}
	trimmed := strings.TrimRight(digits, "0")
	exp += int64(len(digits) - len(trimmed))
	if neg {
		dst = append(dst, '-')
	}
	dst = append(dst, trimmed...)
	if exp != 0 {
		dst = append(dst, 'e')
		dst = strconv.AppendInt(dst, exp, 10)
	}
	return dst, nil
}
