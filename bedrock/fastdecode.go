package bedrock

import (
	"bytes"
	"encoding/binary"
	"math/bits"
	"time"

	"mcplambda/internal/jsonlex"
)

// The fast path of Decoder.Decode. Profiling the report over real-shaped
// records (about 0.9 KB, most of it keys, short strings and small bodies)
// showed the reference parser spending its time in per-string IndexByte
// calls, closures per object member and one string allocation per field.
// decodeFast walks the record in one loop without closures, tests short
// strings by 8-byte words (long ones still with IndexByte), tries first
// the key the last record had in the same place, and shares the strings
// that repeat across records.
//
// It accepts only the common, unambiguous form: on anything else (an
// escape in a key or a decoded string, a number that is not a plain
// non-negative integer, nesting deeper than fastMaxDepth, any syntax error)
// it returns false and Decode asks decodeRef, which owns every error
// message. Whenever decodeFast returns true, its Record is the one decodeRef
// would return (TestFastDecodeMatchesReference, FuzzDecodeRecord).

// fastMaxDepth bounds the nesting the fast path tracks; deeper values go
// to the reference decoder, whose stack grows.
const fastMaxDepth = 64

// maxInterned bounds the strings a Decoder shares, and maxInternLen their
// length, so that the table stays small whatever the log holds; past the
// bound, strings are allocated per record as before.
const (
	maxInterned  = 4096
	maxInternLen = 512
)

// structuralByte marks the bytes that matter when skipping a container.
var structuralByte = [256]bool{'"': true, '{': true, '[': true, '}': true, ']': true}

// skipContainer returns the index just past the object or array at b[i],
// checking only strings and bracket matching (as jsonlex.SkipValueLoose
// does), or -1. Measured on the sample's shape, a byte loop finds the
// structural bytes and bytes.IndexByte (in jsonlex.SkipStringLoose) the
// ends of strings faster than word-at-a-time (SWAR) scans do: bodies are
// dense with short strings and brackets. The open brackets are a stack of
// bits (1 for '['), hence fastMaxDepth.
func skipContainer(b []byte, i int) int {
	var stack uint64
	depth := 0
	for i < len(b) {
		c := b[i]
		if !structuralByte[c] {
			i++
			continue
		}
		switch c {
		case '"':
			if i = skipString(b, i); i < 0 {
				return -1
			}
			continue
		case '{', '[':
			if depth == fastMaxDepth {
				return -1
			}
			stack = stack<<1 | uint64(c>>5&1^1) // '[' is 0x5B, '{' is 0x7B
			depth++
		default: // '}' or ']'
			if depth == 0 || stack&1 != uint64(c>>5&1^1) {
				return -1
			}
			stack >>= 1
			depth--
			if depth == 0 {
				return i + 1
			}
		}
		i++
	}
	return -1
}

// skipString returns the index just past the string whose opening quote
// is at b[i], or -1, as jsonlex.SkipStringLoose. Strings in bodies are
// mostly short keys and words ("role", "text", "user") or sentences of a
// few dozen bytes: testing 8-byte words for a quote settles them without a
// call, which costs more than the scan for strings this short. Longer ones
// go on with bytes.IndexByte (in SkipStringLoose), whose vector loop wins
// past a few words.
func skipString(b []byte, i int) int {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	j := i + 1
	if len(b)-j >= 16 {
		// The first two words without a branch between them: whether
		// a string ends in the first or the second word is what a
		// branch predictor guesses worst.
		w := (*[16]byte)(b[j:])
		q0 := binary.LittleEndian.Uint64(w[:]) ^ (ones * '"')
		q1 := binary.LittleEndian.Uint64(w[8:]) ^ (ones * '"')
		m0 := (q0 - ones) &^ q0 & highs
		m1 := (q1 - ones) &^ q1 & highs
		// The first quote's place in the 16 bytes, or 16.
		k := bits.TrailingZeros64(m0) >> 3
		if m0 == 0 {
			k = 8 + bits.TrailingZeros64(m1)>>3
		}
		if k < 16 {
			if k += j; b[k-1] != '\\' {
				return k + 1
			}
			return jsonlex.SkipStringLoose(b, i)
		}
		j += 16
	}
	for w := 0; w < swarStringWords && j+8 <= len(b); w++ {
		q := binary.LittleEndian.Uint64(b[j:]) ^ (ones * '"')
		// The lowest flagged byte is exact (borrows only run upward).
		if m := (q - ones) &^ q & highs; m != 0 {
			k := j + bits.TrailingZeros64(m)>>3
			if b[k-1] != '\\' {
				return k + 1
			}
			// An escaped quote, perhaps: let the careful scan decide.
			return jsonlex.SkipStringLoose(b, i)
		}
		j += 8
	}
	return jsonlex.SkipStringLoose(b, i)
}

// swarStringWords is how many 8-byte words skipString tests before it
// calls bytes.IndexByte.
const swarStringWords = 8

// skipValue skips any value at b[i] as decodeRef's skip does, or returns -1.
func skipValue(b []byte, i int) int {
	switch c := b[i]; c {
	case '"':
		return skipString(b, i)
	case '{', '[':
		return skipContainer(b, i)
	case 't':
		return literalEnd(b, i, "true")
	case 'f':
		return literalEnd(b, i, "false")
	case 'n':
		return literalEnd(b, i, "null")
	default:
		if c == '-' || (c >= '0' && c <= '9') {
			end, code := jsonlex.SkipNumber(b, i)
			if code != jsonlex.OK {
				return -1
			}
			return end
		}
	}
	return -1
}

func literalEnd(b []byte, i int, lit string) int {
	if len(b)-i >= len(lit) && string(b[i:i+len(lit)]) == lit {
		return i + len(lit)
	}
	return -1
}

func skipWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\n' || b[i] == '\r' || b[i] == '\t') {
		i++
	}
	return i
}

// intern returns b as a string, shared with earlier records when it
// repeats.
func (d *Decoder) intern(b []byte) string {
	if s, ok := d.interned[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(b) <= maxInternLen {
		if d.interned == nil {
			d.interned = make(map[string]string)
		}
		if len(d.interned) < maxInterned {
			d.interned[s] = s
		}
	}
	return s
}

// plainString returns the content of the string at b[i] and the index
// past it when it needs no decoding (no escapes or control bytes, valid
// UTF-8), or ok == false.
func plainString(b []byte, i int) (content []byte, end int, ok bool) {
	end = jsonlex.SkipStringLoose(b, i)
	if end < 0 {
		return nil, -1, false
	}
	content = b[i+1 : end-1]
	if !jsonlex.Plain(content) {
		return nil, -1, false
	}
	return content, end, true
}

// Which fields a string value goes to.
const (
	fAccount = iota
	fIdentity
	fRegion
	fOperation
	fModel
	fRequest // last: not remembered (see Decoder.recent)
)

// recentPerField is how many recent values of each repeating field a
// Decoder compares a value with before scanning it: logs repeat a few
// regions, operations, models and callers, and comparing with a known
// string is cheaper than finding the string's end, checking its bytes and
// looking it up.
const recentPerField = 8

// recentValues holds the last distinct values of one field.
type recentValues struct {
	vals [recentPerField]string
	next uint8 // the slot the next new value replaces
}

// match returns the remembered value that the string at b[i] holds, and
// the index past it. A remembered value has no quote, backslash or control
// byte, so the quote right after it closes the string.
func (rv *recentValues) match(b []byte, i int) (string, int) {
	for _, v := range rv.vals[:] { // [:]: ranging over the array would copy it
		if e := i + 1 + len(v); v != "" && e < len(b) && b[e] == '"' && string(b[i+1:e]) == v {
			return v, e + 1
		}
	}
	return "", -1
}

func (rv *recentValues) add(v string) {
	rv.vals[rv.next] = v
	rv.next = (rv.next + 1) % recentPerField
}

// str decodes the string (or null) at b[i] into the field f of r.
func (d *Decoder) str(b []byte, i int, r *Record, f int) int {
	if b[i] == 'n' {
		return literalEnd(b, i, "null")
	}
	if b[i] != '"' {
		return -1
	}
	var v string
	end := -1
	if f != fRequest {
		v, end = d.recent[f].match(b, i)
	}
	if end < 0 {
		s, e, ok := plainString(b, i)
		if !ok {
			return -1
		}
		end = e
		if f == fRequest {
			if d.SkipRequestID {
				return end // checked as the reference checks it, not kept
			}
			v = string(s) // unique per record: sharing would only fill the table
		} else {
			v = d.intern(s)
			if len(v) <= maxInternLen {
				d.recent[f].add(v)
			}
		}
	}
	switch f {
	case fAccount:
		r.AccountID = v
	case fIdentity:
		r.IdentityARN = v
	case fRegion:
		r.Region = v
	case fRequest:
		r.RequestID = v
	case fOperation:
		r.Operation = v
	case fModel:
		r.ModelID = v
	}
	return end
}

// count decodes the token count (or null) at b[i] into *dst: only plain
// non-negative integers of up to 18 digits, which cannot overflow.
func count(b []byte, i int, dst *int64) int {
	if b[i] == 'n' {
		return literalEnd(b, i, "null")
	}
	var v int64
	j := i
	for j < len(b) && b[j] >= '0' && b[j] <= '9' {
		v = v*10 + int64(b[j]-'0')
		j++
	}
	n := j - i
	if n == 0 || n > 18 || (n > 1 && b[i] == '0') {
		return -1
	}
	if j < len(b) && (b[j] == '.' || b[j] == 'e' || b[j] == 'E') {
		return -1
	}
	*dst = v
	return j
}

// Nested objects the fast path decodes.
const (
	subIdentity = iota
	subInput
	subOutput
)

// The keys of the invocation-log schema the fast path recognises.
const (
	kUnknown = iota // any other key
	kSchemaType
	kSchemaVersion
	kTimestamp
	kAccountID
	kIdentity
	kRegion
	kRequestID
	kOperation
	kModelID
	kInput
	kOutput
	kArn
	kInputContentType
	kInputBodyJSON
	kInputTokenCount
	kCacheReadInputTokenCount
	kCacheWriteInputTokenCount
	kOutputContentType
	kOutputBodyJSON
	kOutputTokenCount
)

var keyNames = [...]string{
	kSchemaType: "schemaType", kSchemaVersion: "schemaVersion", kTimestamp: "timestamp",
	kAccountID: "accountId", kIdentity: "identity", kRegion: "region", kRequestID: "requestId",
	kOperation: "operation", kModelID: "modelId", kInput: "input", kOutput: "output", kArn: "arn",
	kInputContentType: "inputContentType", kInputBodyJSON: "inputBodyJson",
	kInputTokenCount: "inputTokenCount", kCacheReadInputTokenCount: "cacheReadInputTokenCount",
	kCacheWriteInputTokenCount: "cacheWriteInputTokenCount", kOutputContentType: "outputContentType",
	kOutputBodyJSON: "outputBodyJson", kOutputTokenCount: "outputTokenCount",
}

// numKeys is the number of key numbers, kUnknown included.
const numKeys = kOutputTokenCount + 1

// Where a Decoder's key prediction (Decoder.next) starts in each kind of
// object: the slot after the last key number, one per kind.
const (
	startIdentity = numKeys + subIdentity
	startInput    = numKeys + subInput
	startOutput   = numKeys + subOutput
	startTop      = numKeys + 3
	numPredict    = numKeys + 4
)

// keyTable lists an object's keys by their first byte.
type keyTable [256][]uint8

// keyPattern is a key as it usually appears, quoted and followed by its
// colon ("name":), held as the little-endian 8-byte words a comparison
// loads, with a mask per word for the bytes the pattern covers: four
// masked word comparisons, without a branch between them, cost less than
// the call and the loop a string comparison makes, and the colon comes
// with them.
type keyPattern struct {
	n    int // length of the pattern
	w, m [4]uint64
}

// keyPatterns holds the pattern of every listed key, by number.
var keyPatterns = func() (ps [numKeys]keyPattern) {
	for id := kUnknown + 1; id < numKeys; id++ {
		t := `"` + keyNames[id] + `":`
		var buf [32]byte
		copy(buf[:], t)
		p := &ps[id]
		p.n = len(t)
		for k := range p.w {
			p.w[k] = binary.LittleEndian.Uint64(buf[8*k:])
			switch covered := len(t) - 8*k; {
			case covered >= 8:
				p.m[k] = ^uint64(0)
			case covered > 0:
				p.m[k] = 1<<(8*covered) - 1
			}
		}
	}
	return ps
}()

// at reports whether b[i:] starts with the pattern; false may also mean
// that fewer than 32 bytes are left.
func (p *keyPattern) at(b []byte, i int) bool {
	if b = b[i:]; len(b) < 32 {
		// The words would run past the end: member's slower
		// comparison of the name takes these few keys.
		return false
	}
	w := (*[32]byte)(b)
	return (binary.LittleEndian.Uint64(w[:])^p.w[0])&p.m[0]|
		(binary.LittleEndian.Uint64(w[8:])^p.w[1])&p.m[1]|
		(binary.LittleEndian.Uint64(w[16:])^p.w[2])&p.m[2]|
		(binary.LittleEndian.Uint64(w[24:])^p.w[3])&p.m[3] == 0
}

func newKeyTable(ids ...uint8) *keyTable {
	var t keyTable
	for _, id := range ids {
		n := keyNames[id]
		t[n[0]] = append(t[n[0]], id)
	}
	return &t
}

// The keys of each object, recognised by comparison (which spares a call
// to find the end of each of some twenty keys a record) and then told
// apart by number rather than by comparing strings again. Keys not listed
// are found the general way.
var (
	topKeys = newKeyTable(kSchemaType, kSchemaVersion, kTimestamp, kAccountID, kIdentity,
		kRegion, kRequestID, kOperation, kModelID, kInput, kOutput)
	identityKeys = newKeyTable(kArn)
	inputKeys    = newKeyTable(kInputContentType, kInputBodyJSON, kInputTokenCount,
		kCacheReadInputTokenCount, kCacheWriteInputTokenCount)
	outputKeys = newKeyTable(kOutputContentType, kOutputBodyJSON, kOutputTokenCount)
)

// member reads an object member's key at b[i] and the colon after it,
// returning the key's number in known (kUnknown if it is not listed), the
// key, and the index of the value. prev is the number of the key before
// it in the object, or the object's start slot (startTop...). An unlisted
// key may hold escapes: callers must refuse it (see skipUnknown) unless
// they skip its value.
//
// A log's writer puts the keys in the same order record after record, so
// the key that followed prev last time is tried first: one comparison
// instead of a look-up and a comparison per candidate.
func (d *Decoder) member(b []byte, i int, known *keyTable, prev int) (id int, key []byte, at int) {
	if pid := d.next[prev]; pid != kUnknown {
		if p := &keyPatterns[pid]; p.at(b, i) {
			if j := skipWS(b, i+p.n); j < len(b) {
				return int(pid), b[i+1 : i+p.n-2], j
			}
			return 0, nil, -1
		}
	}
	id, key, at = member(b, i, known)
	d.next[prev] = uint8(id)
	return id, key, at
}

// member reads a member's key as Decoder.member does, without prediction.
func member(b []byte, i int, known *keyTable) (id int, key []byte, at int) {
	if i+1 >= len(b) || b[i] != '"' {
		return 0, nil, -1
	}
	cands := known[b[i+1]]
	for _, k := range cands {
		if p := &keyPatterns[k]; p.at(b, i) {
			if j := skipWS(b, i+p.n); j < len(b) {
				return int(k), b[i+1 : i+p.n-2], j
			}
			return 0, nil, -1
		}
	}
	// A listed key with white space before its colon, or another key.
	end := -1
	for _, k := range cands {
		// A listed name has no quote or backslash, so the quote after
		// it closes the key.
		n := keyNames[k]
		if e := i + 1 + len(n); e < len(b) && b[e] == '"' && string(b[i+1:e]) == n {
			end, id = e+1, int(k)
			break
		}
	}
	if end < 0 {
		if end = jsonlex.SkipStringLoose(b, i); end < 0 {
			return 0, nil, -1
		}
	}
	key = b[i+1 : end-1]
	j := skipWS(b, end)
	if j >= len(b) || b[j] != ':' {
		return 0, nil, -1
	}
	j = skipWS(b, j+1)
	if j >= len(b) {
		return 0, nil, -1
	}
	return id, key, j
}

// skipUnknown skips the value at b[i] of a member whose key matched no
// name, or returns -1 if the key holds a backslash: decoded, it might be
// one of the names, which the reference decoder sorts out. Checking here,
// not in member, keeps the known keys (most of a record's) from paying for
// it.
func skipUnknown(b []byte, key []byte, i int) int {
	if bytes.IndexByte(key, '\\') >= 0 {
		return -1
	}
	return skipValue(b, i)
}

// sub decodes the nested object (or null) at b[i].
func (d *Decoder) sub(b []byte, i int, r *Record, which int) int {
	switch b[i] {
	case 'n':
		return literalEnd(b, i, "null")
	case '{':
	default:
		return -1
	}
	i = skipWS(b, i+1)
	if i < len(b) && b[i] == '}' {
		return i + 1
	}
	known := identityKeys
	switch which {
	case subInput:
		known = inputKeys
	case subOutput:
		known = outputKeys
	}
	prev := numKeys + which
	for {
		id, key, j := d.member(b, i, known, prev)
		if j < 0 {
			return -1
		}
		prev = id
		switch id {
		case kArn:
			j = d.str(b, j, r, fIdentity)
		case kInputTokenCount:
			j = count(b, j, &r.InputTokens)
		case kCacheReadInputTokenCount:
			j = count(b, j, &r.CacheReadTokens)
		case kCacheWriteInputTokenCount:
			j = count(b, j, &r.CacheWriteTokens)
		case kOutputTokenCount:
			j = count(b, j, &r.OutputTokens)
		case kUnknown:
			j = skipUnknown(b, key, j)
		default: // a listed key whose value is not needed
			j = skipValue(b, j)
		}
		if j < 0 {
			return -1
		}
		// The ',' or '}' after the member (next, by hand: this loop
		// runs some twenty times a record).
		if j = skipWS(b, j); j >= len(b) {
			return -1
		}
		switch b[j] {
		case ',':
			i = skipWS(b, j+1)
		case '}':
			return j + 1
		default:
			return -1
		}
	}
}

// decodeFast decodes data into *r if it is in the common form (see the
// top of this file), reporting whether it did.
func (d *Decoder) decodeFast(b []byte, r *Record) bool {
	i := skipWS(b, 0)
	if i >= len(b) || b[i] != '{' {
		return false
	}
	hasTS := false
	i = skipWS(b, i+1)
	if i < len(b) && b[i] == '}' {
		return false // no timestamp: decodeRef reports it
	}
	prev := startTop
	for {
		id, key, j := d.member(b, i, topKeys, prev)
		if j < 0 {
			return false
		}
		prev = id
		switch id {
		case kTimestamp:
			switch b[j] {
			case 'n':
				j = literalEnd(b, j, "null")
			case '"':
				// As decodeRef: the literal as it is, quotes included.
				end := jsonlex.SkipStringLoose(b, j)
				if end < 0 {
					return false
				}
				if t, ok := d.utcSeconds(b[j:end]); ok {
					r.Timestamp = t
				} else if r.Timestamp.UnmarshalJSON(b[j:end]) != nil {
					return false
				}
				hasTS = true
				j = end
			default:
				return false
			}
		case kAccountID:
			j = d.str(b, j, r, fAccount)
		case kRegion:
			j = d.str(b, j, r, fRegion)
		case kRequestID:
			j = d.str(b, j, r, fRequest)
		case kOperation:
			j = d.str(b, j, r, fOperation)
		case kModelID:
			j = d.str(b, j, r, fModel)
		case kIdentity:
			j = d.sub(b, j, r, subIdentity)
		case kInput:
			j = d.sub(b, j, r, subInput)
		case kOutput:
			j = d.sub(b, j, r, subOutput)
		case kUnknown:
			j = skipUnknown(b, key, j)
		default: // schemaType, schemaVersion
			j = skipValue(b, j)
		}
		if j < 0 {
			return false
		}
		if j = skipWS(b, j); j >= len(b) {
			return false
		}
		if b[j] == '}' {
			i = j + 1
			break
		}
		if b[j] != ',' {
			return false
		}
		i = skipWS(b, j+1)
	}
	return skipWS(b, i) == len(b) && hasTS && r.ModelID != ""
}

// utcSeconds parses the form Bedrock writes, "2006-01-02T15:04:05Z"
// (quotes included), to the time.Time that Time.UnmarshalJSON returns for
// it, reporting false for anything else (which UnmarshalJSON then judges).
func utcSeconds(lit []byte) (time.Time, bool) {
	if len(lit) != 22 || lit[5] != '-' || lit[8] != '-' || lit[11] != 'T' || lit[14] != ':' ||
		lit[17] != ':' || lit[20] != 'Z' {
		return time.Time{}, false
	}
	num := func(i, n int) int {
		v := 0
		for _, c := range lit[i : i+n] {
			if c < '0' || c > '9' {
				return -1
			}
			v = v*10 + int(c-'0')
		}
		return v
	}
	y, mo, d := num(1, 4), num(6, 2), num(9, 2)
	h, mi, s := num(12, 2), num(15, 2), num(18, 2)
	if y < 0 || mo < 1 || mo > 12 || d < 1 || d > daysIn(mo, y) || h < 0 || h > 23 || mi < 0 || mi > 59 || s < 0 || s > 59 {
		return time.Time{}, false
	}
	return time.Date(y, time.Month(mo), d, h, mi, s, 0, time.UTC), true
}

// utcSeconds is the package's utcSeconds, with the last day parsed
// remembered: records come in time order, so most share the day of the one
// before, and the time of day is all there is left to parse.
func (d *Decoder) utcSeconds(lit []byte) (time.Time, bool) {
	if len(lit) == 22 && binary.LittleEndian.Uint64(lit[1:]) == d.dayHead &&
		binary.LittleEndian.Uint16(lit[9:]) == d.dayTail &&
		lit[11] == 'T' && lit[14] == ':' && lit[17] == ':' && lit[20] == 'Z' {
		if sec := secondOfDay(lit); sec >= 0 {
			return time.Unix(d.dayStart+int64(sec), 0).UTC(), true
		}
	}
	t, ok := utcSeconds(lit)
	if ok {
		d.dayHead = binary.LittleEndian.Uint64(lit[1:])
		d.dayTail = binary.LittleEndian.Uint16(lit[9:])
		d.dayStart = t.Unix() - int64(secondOfDay(lit))
	}
	return t, ok
}

// secondOfDay parses the hh:mm:ss of a timestamp of the form utcSeconds
// takes, or returns -1.
func secondOfDay(lit []byte) int {
	h, ok1 := twoDigits(lit[12], lit[13])
	m, ok2 := twoDigits(lit[15], lit[16])
	s, ok3 := twoDigits(lit[18], lit[19])
	if !ok1 || !ok2 || !ok3 || h > 23 || m > 59 || s > 59 {
		return -1
	}
	return h*3600 + m*60 + s
}

func twoDigits(a, b byte) (int, bool) {
	return int(a-'0')*10 + int(b-'0'), a-'0' <= 9 && b-'0' <= 9
}

func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}
