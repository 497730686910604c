// Package bedrock analyses Amazon Bedrock model-invocation logs
// (schemaType "ModelInvocationLog", schemaVersion "1.0").
package bedrock

import (
	"bytes"
	"strconv"
	"strings"
	"time"

	"mcplambda/internal/jsonlex"
)

// DefaultMaxRecordSize is the largest record DecodeRecord accepts.
const DefaultMaxRecordSize = 16 << 20

// Record holds the fields of one invocation-log record that the usage
// report needs. Everything else (notably the request and response bodies)
// is skipped without being materialised.
type Record struct {
	Timestamp        time.Time
	AccountID        string
	IdentityARN      string
	Region           string
	RequestID        string // empty if the Decoder's SkipRequestID is set
	Operation        string
	ModelID          string
	InputTokens      int64
	OutputTokens     int64
	CacheReadTokens  int64
	CacheWriteTokens int64
}

// RecordError reports why a record could not be decoded.
type RecordError struct {
	Reason string // short, stable description such as "truncated JSON"
	Offset int    // byte offset where the problem was noticed (-1 if n/a)
}

func (e *RecordError) Error() string {
	if e.Offset >= 0 {
		return "bedrock: malformed record: " + e.Reason + " at offset " + strconv.Itoa(e.Offset)
	}
	return "bedrock: malformed record: " + e.Reason
}

// Decoder decodes records. The zero value uses DefaultMaxRecordSize.
//
// A Decoder remembers the account, identity, region, operation and model
// strings it has returned (a bounded table, see maxInterned), so that the
// records of a long log share them instead of allocating each: a Decoder is
// therefore not safe for concurrent use; give each goroutine its own.
type Decoder struct {
	// MaxRecordSize bounds the record size in bytes; <= 0 means
	// DefaultMaxRecordSize.
	MaxRecordSize int
	// SkipRequestID leaves Record.RequestID empty. The request id is the
	// one field that differs in every record, so keeping it costs an
	// allocation per record, a few percent of decoding, which callers that
	// never read it (the usage report) need not pay. The id is still
	// checked: a record is accepted or refused as without this option.
	SkipRequestID bool

	interned map[string]string
	recent   [fRequest]recentValues
	next     [numPredict]uint8 // see Decoder.member
	// The date of the last timestamp parsed (see Decoder.utcSeconds):
	// its first 8 and last 2 bytes, and its midnight in Unix seconds.
	dayHead  uint64
	dayTail  uint16
	dayStart int64
}

// DecodeRecord decodes one record with the default size bound.
func DecodeRecord(data []byte) (Record, error) {
	var d Decoder
	return d.Decode(data)
}

// Decode decodes one JSON record. It reads only the fields listed in Record
// and skips every other value (including the potentially huge
// inputBodyJson/outputBodyJson) by scanning bytes. Keys are matched exactly
// (case-sensitively); duplicate keys behave as in encoding/json (last wins),
// and a null value leaves a field unset.
func (d *Decoder) Decode(data []byte) (Record, error) {
	var r Record
	max := d.MaxRecordSize
	if max <= 0 {
		max = DefaultMaxRecordSize
	}
	if len(data) > max {
		return r, &RecordError{Reason: "record exceeds " + strconv.Itoa(max) + " bytes", Offset: -1}
	}
	if d.decodeFast(data, &r) {
		return r, nil
	}
	r, err := decodeRef(data)
	if d.SkipRequestID {
		r.RequestID = ""
	}
	return r, err
}

// decodeRef is the reference decoder: it handles every input, and the
// fast path (decodeFast) hands it whatever it does not accept, so that
// errors and rare forms (escapes, odd numbers, deep nesting) are decoded by
// one careful implementation. Tests check that both agree.
func decodeRef(data []byte) (Record, error) {
	var r Record
	p := parser{data: data}
	var hasTS, hasModel bool
	p.ws()
	if p.i >= len(p.data) {
		return r, p.errTrunc()
	}
	if p.data[p.i] != '{' {
		return r, p.fail("record is not a JSON object")
	}
	err := p.object(func(key []byte) error {
		switch string(key) {
		case "timestamp":
			lit, isNull, err := p.stringLit("timestamp")
			if err != nil || isNull {
				return err
			}
			if err := r.Timestamp.UnmarshalJSON(lit); err != nil {
				return p.failAt("invalid timestamp", p.i-len(lit))
			}
			hasTS = true
		case "accountId":
			return p.str(&r.AccountID, "accountId")
		case "region":
			return p.str(&r.Region, "region")
		case "requestId":
			return p.str(&r.RequestID, "requestId")
		case "operation":
			return p.str(&r.Operation, "operation")
		case "modelId":
			set, err := p.strSet(&r.ModelID, "modelId")
			if set {
				hasModel = true
			}
			return err
		case "identity":
			return p.sub("identity", func(k []byte) error {
				if string(k) == "arn" {
					return p.str(&r.IdentityARN, "identity.arn")
				}
				return p.skip()
			})
		case "input":
			return p.sub("input", func(k []byte) error {
				switch string(k) {
				case "inputTokenCount":
					return p.int(&r.InputTokens, "input.inputTokenCount")
				case "cacheReadInputTokenCount":
					return p.int(&r.CacheReadTokens, "input.cacheReadInputTokenCount")
				case "cacheWriteInputTokenCount":
					return p.int(&r.CacheWriteTokens, "input.cacheWriteInputTokenCount")
				}
				return p.skip()
			})
		case "output":
			return p.sub("output", func(k []byte) error {
				if string(k) == "outputTokenCount" {
					return p.int(&r.OutputTokens, "output.outputTokenCount")
				}
				return p.skip()
			})
		default:
			return p.skip()
		}
		return nil
	})
	if err != nil {
		return Record{}, err
	}
	p.ws()
	if p.i != len(p.data) {
		return Record{}, p.fail("trailing data after record")
	}
	if !hasTS {
		return Record{}, &RecordError{Reason: "missing timestamp", Offset: -1}
	}
	if !hasModel || r.ModelID == "" {
		return Record{}, &RecordError{Reason: "missing modelId", Offset: -1}
	}
	return r, nil
}

// parser walks a record with the shared lexer. Only the values it decodes
// are validated; skipped values are checked for structure (string quotes,
// bracket matching) and top-level scalars, which is all that finding their
// end requires.
type parser struct {
	data []byte
	i    int
}

func (p *parser) fail(reason string) error { return &RecordError{Reason: reason, Offset: p.i} }
func (p *parser) failAt(reason string, off int) error {
	return &RecordError{Reason: reason, Offset: off}
}
func (p *parser) errTrunc() error { return &RecordError{Reason: "truncated JSON", Offset: len(p.data)} }

func (p *parser) ws() { p.i = jsonlex.SkipSpace(p.data, p.i) }

// sub parses a nested object (or null) under a top-level key.
func (p *parser) sub(name string, field func(key []byte) error) error {
	if p.i >= len(p.data) {
		return p.errTrunc()
	}
	switch p.data[p.i] {
	case '{':
		return p.object(field)
	case 'n':
		return p.literal("null")
	}
	return p.fail("wrong type for " + name)
}

// object parses an object starting at '{', calling field for each key with
// the parser positioned at the value; field must consume the value.
func (p *parser) object(field func(key []byte) error) error {
	p.i++ // '{'
	p.ws()
	if p.i >= len(p.data) {
		return p.errTrunc()
	}
	if p.data[p.i] == '}' {
		p.i++
		return nil
	}
	for {
		if p.i >= len(p.data) {
			return p.errTrunc()
		}
		if p.data[p.i] != '"' {
			return p.fail("expected object key")
		}
		start := p.i
		hasEsc, err := p.skipString()
		if err != nil {
			return err
		}
		key := p.data[start+1 : p.i-1]
		if hasEsc {
			// Rare: decode (or reject) the key as encoding/json does.
			lit := p.data[start:p.i]
			if end, _, code := jsonlex.ScanString(lit, 0); code != jsonlex.OK || end != len(lit) {
				return p.failAt("invalid object key", start)
			}
			key = jsonlex.Unescape(nil, key)
		}
		p.ws()
		if p.i >= len(p.data) {
			return p.errTrunc()
		}
		if p.data[p.i] != ':' {
			return p.fail("expected ':' after object key")
		}
		p.i++
		p.ws()
		if p.i >= len(p.data) {
			return p.errTrunc()
		}
		if err := field(key); err != nil {
			return err
		}
		p.ws()
		if p.i >= len(p.data) {
			return p.errTrunc()
		}
		switch p.data[p.i] {
		case ',':
			p.i++
			p.ws()
		case '}':
			p.i++
			return nil
		default:
			return p.fail("expected ',' or '}' in object")
		}
	}
}

// skipString advances past a string literal starting at '"' without
// validating it. It reports whether the literal contains a backslash.
func (p *parser) skipString() (bool, error) {
	start := p.i
	end := jsonlex.SkipStringLoose(p.data, start)
	if end < 0 {
		return false, p.errTrunc()
	}
	p.i = end
	return bytes.IndexByte(p.data[start+1:end-1], '\\') >= 0, nil
}

func (p *parser) literal(lit string) error {
	end, code := jsonlex.SkipLiteral(p.data, p.i, lit)
	if code != jsonlex.OK {
		if end >= len(p.data) {
			return p.errTrunc()
		}
		return p.fail("invalid literal")
	}
	p.i = end
	return nil
}

// number advances past a JSON number and returns its text.
func (p *parser) number() ([]byte, error) {
	start := p.i
	end, code := jsonlex.SkipNumber(p.data, start)
	if code != jsonlex.OK {
		if end >= len(p.data) {
			return nil, p.errTrunc()
		}
		return nil, p.failAt("invalid number", end)
	}
	p.i = end
	return p.data[start:end], nil
}

// stringLit consumes a string (returning the literal including quotes) or
// null.
func (p *parser) stringLit(name string) (lit []byte, isNull bool, err error) {
	switch p.data[p.i] {
	case '"':
		start := p.i
		end := jsonlex.SkipStringLoose(p.data, start)
		if end < 0 {
			return nil, false, p.errTrunc()
		}
		p.i = end
		return p.data[start:end], false, nil
	case 'n':
		return nil, true, p.literal("null")
	}
	return nil, false, p.fail("wrong type for " + name)
}

func (p *parser) str(dst *string, name string) error {
	_, err := p.strSet(dst, name)
	return err
}

// strSet decodes a string into dst; null leaves dst unchanged.
func (p *parser) strSet(dst *string, name string) (bool, error) {
	if p.data[p.i] != '"' {
		if p.data[p.i] == 'n' {
			return false, p.literal("null")
		}
		return false, p.fail("wrong type for " + name)
	}
	start := p.i
	end := jsonlex.SkipStringLoose(p.data, start)
	if end < 0 {
		return false, p.errTrunc()
	}
	p.i = end
	raw := p.data[start+1 : end-1]
	if jsonlex.Plain(raw) {
		*dst = string(raw)
		return true, nil
	}
	// Rare slow path: escapes, control characters or invalid UTF-8,
	// decoded (or rejected) as encoding/json does.
	s, ok := jsonlex.Unquote(p.data[start:end])
	if !ok {
		return false, p.failAt("invalid string for "+name, start)
	}
	*dst = s
	return true, nil
}

func (p *parser) int(dst *int64, name string) error {
	c := p.data[p.i]
	if c == 'n' {
		return p.literal("null")
	}
	if c != '-' && (c < '0' || c > '9') {
		return p.fail("wrong type for " + name)
	}
	start := p.i
	num, err := p.number()
	if err != nil {
		return err
	}
	// Fast path for short non-negative integers.
	if len(num) <= 18 && num[0] != '-' {
		var v int64
		ok := true
		for _, b := range num {
			if b < '0' || b > '9' {
				ok = false
				break
			}
			v = v*10 + int64(b-'0')
		}
		if ok {
			*dst = v
			return nil
		}
	}
	v, err := strconv.ParseInt(string(num), 10, 64)
	if err != nil {
		return p.failAt("wrong type for "+name, start)
	}
	if v < 0 {
		return p.failAt("negative "+name, start)
	}
	*dst = v
	return nil
}

// skip consumes any JSON value (see jsonlex.SkipValueLoose).
func (p *parser) skip() error {
	end, code := jsonlex.SkipValueLoose(p.data, p.i)
	switch {
	case code == jsonlex.OK:
		p.i = end
		return nil
	case end >= len(p.data):
		return p.errTrunc()
	case code == jsonlex.BadLiteral:
		return p.fail("invalid literal")
	case code == jsonlex.BadNumber:
		return p.failAt("invalid number", end)
	case code == jsonlex.Mismatched:
		return p.failAt("mismatched bracket", end)
	}
	return p.fail("invalid value")
}

// ShortModelID returns a display name for a model id: ARN prefixes are
// removed (keeping the last path segment), as are inference-profile region
// groups ("us.", "eu.", "apac.", "global.", ...) and the provider prefix
// ("anthropic.", "amazon.", ...). The version suffix is kept. Ids that do
// not look like a known form are returned unchanged.
func ShortModelID(id string) string {
	s := id
	if strings.HasPrefix(s, "arn:") {
		// arn:partition:bedrock:region:account:resource-type/resource-id
		parts := strings.SplitN(s, ":", 6)
		if len(parts) != 6 || parts[2] != "bedrock" {
			return id
		}
		res := parts[5]
		slash := strings.IndexByte(res, '/')
		if slash < 0 {
			return id
		}
		switch res[:slash] {
		case "foundation-model", "inference-profile", "application-inference-profile",
			"provisioned-model", "custom-model", "imported-model", "prompt-router",
			"default-prompt-router", "custom-model-deployment", "marketplace/model-endpoint":
		default:
			if !strings.Contains(res[:slash], "model") && !strings.Contains(res[:slash], "profile") {
				return id
			}
		}
		s = res[strings.LastIndexByte(res, '/')+1:]
		if s == "" {
			return id
		}
	}
	if dot := strings.IndexByte(s, '.'); dot > 0 && regionGroups[s[:dot]] {
		if rest := s[dot+1:]; strings.IndexByte(rest, '.') > 0 {
			s = rest
		}
	}
	if dot := strings.IndexByte(s, '.'); dot > 0 && providers[s[:dot]] && dot+1 < len(s) {
		s = s[dot+1:]
	}
	return s
}

var regionGroups = map[string]bool{
	"us": true, "eu": true, "apac": true, "global": true, "us-gov": true,
	"jp": true, "au": true, "ca": true,
}

var providers = map[string]bool{
	"anthropic": true, "amazon": true, "meta": true, "mistral": true,
	"cohere": true, "ai21": true, "stability": true, "deepseek": true,
	"writer": true, "luma": true, "twelvelabs": true, "openai": true,
	"qwen": true,
}
