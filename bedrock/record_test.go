package bedrock

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"
)

// mirror is an independent encoding/json decoding of the fields in Record.
type mirror struct {
	Timestamp time.Time `json:"timestamp"`
	AccountID string    `json:"accountId"`
	Identity  *struct {
		ARN string `json:"arn"`
	} `json:"identity"`
	Region    string `json:"region"`
	RequestID string `json:"requestId"`
	Operation string `json:"operation"`
	ModelID   string `json:"modelId"`
	Input     *struct {
		InputTokenCount           int64 `json:"inputTokenCount"`
		CacheReadInputTokenCount  int64 `json:"cacheReadInputTokenCount"`
		CacheWriteInputTokenCount int64 `json:"cacheWriteInputTokenCount"`
	} `json:"input"`
	Output *struct {
		OutputTokenCount int64 `json:"outputTokenCount"`
	} `json:"output"`
}

func (m *mirror) record() Record {
	r := Record{Timestamp: m.Timestamp, AccountID: m.AccountID, Region: m.Region,
		RequestID: m.RequestID, Operation: m.Operation, ModelID: m.ModelID}
	if m.Identity != nil {
		r.IdentityARN = m.Identity.ARN
	}
	if m.Input != nil {
		r.InputTokens = m.Input.InputTokenCount
		r.CacheReadTokens = m.Input.CacheReadInputTokenCount
		r.CacheWriteTokens = m.Input.CacheWriteInputTokenCount
	}
	if m.Output != nil {
		r.OutputTokens = m.Output.OutputTokenCount
	}
	return r
}

func mirrorDecode(data []byte) (Record, error) {
	var m mirror
	if err := json.Unmarshal(data, &m); err != nil {
		return Record{}, err
	}
	return m.record(), nil
}

func sameRecord(a, b Record) bool {
	if !a.Timestamp.Equal(b.Timestamp) {
		return false
	}
	a.Timestamp, b.Timestamp = time.Time{}, time.Time{}
	return a == b
}

var genModels = []string{
	"anthropic.claude-3-5-sonnet-20240620-v1:0",
	"us.anthropic.claude-3-5-sonnet-20240620-v1:0",
	"arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.meta.llama3-2-11b-instruct-v1:0",
	"arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-lite-v1:0",
	"amazon.nova-lite-v1:0",
	"eu.amazon.nova-pro-v1:0",
	"global.anthropic.claude-sonnet-4-20250514-v1:0",
	"cohere.command-r-v1:0",
}

var genRegions = []string{"us-east-1", "us-west-2", "eu-west-1", "ap-northeast-1"}
var genOps = []string{"Converse", "ConverseStream", "InvokeModel", "InvokeModelWithResponseStream"}

const lorem = `Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua. {\"nested\": [1, 2, {\"x\": \"}\"}]} Ut enim ad minim veniam, quis nostrud exercitation ullamco laboris \\ nisi ut aliquip ex ea commodo consequat. `

// genRecord appends a realistic record (about 3 KB with bodies when
// bodyChunks is 5) to buf and returns it with the values it encodes.
func genRecord(buf []byte, rng *rand.Rand, bodyChunks int) ([]byte, Record) {
	r := Record{
		Timestamp:        time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(rng.Int64N(int64(30 * 24 * time.Hour)))).Truncate(time.Second),
		AccountID:        "123456789012",
		IdentityARN:      "arn:aws:sts::123456789012:assumed-role/Dev/user" + strconv.Itoa(rng.IntN(20)),
		Region:           genRegions[rng.IntN(len(genRegions))],
		RequestID:        "req-" + strconv.FormatUint(rng.Uint64(), 16),
		Operation:        genOps[rng.IntN(len(genOps))],
		ModelID:          genModels[rng.IntN(len(genModels))],
		InputTokens:      rng.Int64N(5000),
		OutputTokens:     rng.Int64N(2000),
		CacheReadTokens:  rng.Int64N(3) * rng.Int64N(1000),
		CacheWriteTokens: rng.Int64N(3) * rng.Int64N(500),
	}
	buf = append(buf, `{"schemaType":"ModelInvocationLog","schemaVersion":"1.0","timestamp":"`...)
	buf = r.Timestamp.AppendFormat(buf, time.RFC3339)
	buf = append(buf, `","accountId":"`...)
	buf = append(buf, r.AccountID...)
	buf = append(buf, `","identity":{"arn":"`...)
	buf = append(buf, r.IdentityARN...)
	buf = append(buf, `"},"region":"`...)
	buf = append(buf, r.Region...)
	buf = append(buf, `","requestId":"`...)
	buf = append(buf, r.RequestID...)
	buf = append(buf, `","operation":"`...)
	buf = append(buf, r.Operation...)
	buf = append(buf, `","modelId":"`...)
	buf = append(buf, r.ModelID...)
	buf = append(buf, `","input":{"inputContentType":"application/json","inputBodyJson":{"messages":[{"role":"user","content":[{"text":"`...)
	for range bodyChunks {
		buf = append(buf, lorem...)
	}
	buf = append(buf, `"}]}],"inferenceConfig":{"maxTokens":512,"temperature":0.5,"stopSequences":["}","]"]}},"inputTokenCount":`...)
	buf = strconv.AppendInt(buf, r.InputTokens, 10)
	buf = append(buf, `,"cacheReadInputTokenCount":`...)
	buf = strconv.AppendInt(buf, r.CacheReadTokens, 10)
	buf = append(buf, `,"cacheWriteInputTokenCount":`...)
	buf = strconv.AppendInt(buf, r.CacheWriteTokens, 10)
	buf = append(buf, `},"output":{"outputContentType":"application/json","outputBodyJson":{"output":{"message":{"role":"assistant","content":[{"text":"`...)
	for range bodyChunks {
		buf = append(buf, lorem...)
	}
	buf = append(buf, `"}]}},"stopReason":"end_turn","usage":{"inputTokens":1,"outputTokens":2,"totalTokens":3},"metrics":{"latencyMs":1234}},"outputTokenCount":`...)
	buf = strconv.AppendInt(buf, r.OutputTokens, 10)
	buf = append(buf, `}}`...)
	return buf, r
}

func TestDecodeGenerated(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var buf []byte
	for i := range 500 {
		var want Record
		buf, want = genRecord(buf[:0], rng, i%7)
		got, err := DecodeRecord(buf)
		if err != nil {
			t.Fatalf("record %d: %v\n%s", i, err, buf)
		}
		if !sameRecord(got, want) {
			t.Fatalf("record %d: got %+v want %+v", i, got, want)
		}
		m, err := mirrorDecode(buf)
		if err != nil || !sameRecord(m, want) {
			t.Fatalf("record %d: mirror %+v %v", i, m, err)
		}
	}
}

const baseRecord = `{"schemaType":"ModelInvocationLog","schemaVersion":"1.0","timestamp":"2026-11-20T10:15:30Z","accountId":"123456789012","identity":{"arn":"arn:aws:sts::123456789012:assumed-role/Dev/alice"},"region":"us-east-1","requestId":"r1","operation":"Converse","modelId":"MODEL","input":{"inputContentType":"application/json","inputBodyJson":INBODY,"inputTokenCount":123,"cacheReadInputTokenCount":7,"cacheWriteInputTokenCount":9},"output":{"outputContentType":"application/json","outputBodyJson":OUTBODY,"outputTokenCount":45}}`

func makeRecord(model, in, out string) []byte {
	return []byte(strings.NewReplacer("MODEL", model, "INBODY", in, "OUTBODY", out).Replace(baseRecord))
}

func TestDecodeModelForms(t *testing.T) {
	for _, id := range []string{
		"anthropic.claude-3-5-sonnet-20240620-v1:0",
		"us.anthropic.claude-3-5-sonnet-20240620-v1:0",
		"arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.meta.llama3-2-11b-instruct-v1:0",
		"arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-lite-v1:0",
		"arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc123",
		"my-custom-thing",
	} {
		data := makeRecord(id, `{}`, `{}`)
		r, err := DecodeRecord(data)
		if err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		want := Record{
			Timestamp: time.Date(2026, 11, 20, 10, 15, 30, 0, time.UTC), AccountID: "123456789012",
			IdentityARN: "arn:aws:sts::123456789012:assumed-role/Dev/alice", Region: "us-east-1",
			RequestID: "r1", Operation: "Converse", ModelID: id,
			InputTokens: 123, OutputTokens: 45, CacheReadTokens: 7, CacheWriteTokens: 9,
		}
		if !sameRecord(r, want) {
			t.Errorf("%s: got %+v", id, r)
		}
	}
}

func bigBody(n int) string {
	var b strings.Builder
	b.WriteString(`{"messages":[`)
	for i := 0; b.Len() < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"role":"user","content":[{"text":"say \"hi\" {not a brace} [nor ] this \\\" \\\\"},[[1,2,[3,{"a":"}"}]],-1.5e3,true,null]]}`)
	}
	b.WriteString(`],"modelId":"decoy","timestamp":"1999-01-01T00:00:00Z","inputTokenCount":999999}`)
	return b.String()
}

func TestDecodeSkipsLargeBodies(t *testing.T) {
	body := bigBody(1 << 20)
	cases := []struct{ name, in, out string }{
		{"big input", body, `{}`},
		{"big output", `{}`, body},
		{"both", body, body},
		{"string body", strconv.Quote(body), `"x"`},
		{"array body", `[` + body + `,` + body + `]`, `[]`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			data := makeRecord("amazon.nova-lite-v1:0", c.in, c.out)
			got, err := DecodeRecord(data)
			if err != nil {
				t.Fatal(err)
			}
			want, err := mirrorDecode(data)
			if err != nil {
				t.Fatal(err)
			}
			if !sameRecord(got, want) || got.InputTokens != 123 || got.ModelID != "amazon.nova-lite-v1:0" {
				t.Fatalf("got %+v want %+v", got, want)
			}
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	good := string(makeRecord("amazon.nova-lite-v1:0", `{"a":[1,"}"]}`, `{}`))
	cases := []struct {
		name, data, reason string
	}{
		{"empty", ``, "truncated JSON"},
		{"not object", `[1,2]`, "record is not a JSON object"},
		{"truncated start", `{"timestamp":"2026-11-20T10:15:30Z","modelId":"m"`, "truncated JSON"},
		{"truncated in body", good[:len(good)/2], "truncated JSON"},
		{"truncated in string", good[:strings.Index(good, "Converse")+3], "truncated JSON"},
		{"truncated literal", `{"timestamp":"2026-11-20T10:15:30Z","modelId":"m","x":tr`, "truncated JSON"},
		{"missing timestamp", `{"modelId":"m"}`, "missing timestamp"},
		{"null timestamp", `{"timestamp":null,"modelId":"m"}`, "missing timestamp"},
		{"missing modelId", `{"timestamp":"2026-11-20T10:15:30Z"}`, "missing modelId"},
		{"empty modelId", `{"timestamp":"2026-11-20T10:15:30Z","modelId":""}`, "missing modelId"},
		{"bad timestamp", `{"timestamp":"yesterday","modelId":"m"}`, "invalid timestamp"},
		{"timestamp number", `{"timestamp":5,"modelId":"m"}`, "wrong type for timestamp"},
		{"modelId number", `{"timestamp":"2026-11-20T10:15:30Z","modelId":5}`, "wrong type for modelId"},
		{"tokens string", `{"timestamp":"2026-11-20T10:15:30Z","modelId":"m","input":{"inputTokenCount":"12"}}`, "wrong type for input.inputTokenCount"},
		{"tokens float", `{"timestamp":"2026-11-20T10:15:30Z","modelId":"m","output":{"outputTokenCount":1.5}}`, "wrong type for output.outputTokenCount"},
		{"tokens overflow", `{"timestamp":"2026-11-20T10:15:30Z","modelId":"m","input":{"cacheReadInputTokenCount":99999999999999999999}}`, "wrong type for input.cacheReadInputTokenCount"},
		{"tokens negative", `{"timestamp":"2026-11-20T10:15:30Z","modelId":"m","input":{"cacheWriteInputTokenCount":-3}}`, "negative input.cacheWriteInputTokenCount"},
		{"input array", `{"timestamp":"2026-11-20T10:15:30Z","modelId":"m","input":[]}`, "wrong type for input"},
		{"identity string", `{"timestamp":"2026-11-20T10:15:30Z","modelId":"m","identity":"x"}`, "wrong type for identity"},
		{"arn number", `{"timestamp":"2026-11-20T10:15:30Z","modelId":"m","identity":{"arn":1}}`, "wrong type for identity.arn"},
		{"mismatched", `{"timestamp":"2026-11-20T10:15:30Z","modelId":"m","x":[}]}`, "mismatched bracket"},
		{"trailing", `{"timestamp":"2026-11-20T10:15:30Z","modelId":"m"} x`, "trailing data after record"},
		{"missing colon", `{"timestamp" "x"}`, "expected ':' after object key"},
		{"bad key", `{timestamp:"x"}`, "expected object key"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := DecodeRecord([]byte(c.data))
			var re *RecordError
			if !errors.As(err, &re) {
				t.Fatalf("err = %v, want RecordError", err)
			}
			if re.Reason != c.reason {
				t.Fatalf("reason = %q, want %q", re.Reason, c.reason)
			}
		})
	}
}

func TestDecodeSizeLimit(t *testing.T) {
	data := makeRecord("m", bigBody(4096), `{}`)
	d := Decoder{MaxRecordSize: 1024}
	if _, err := d.Decode(data); err == nil || !strings.Contains(err.Error(), "exceeds") {
		t.Fatalf("err = %v", err)
	}
	d.MaxRecordSize = len(data)
	if _, err := d.Decode(data); err != nil {
		t.Fatal(err)
	}
}

func TestDecodeSemantics(t *testing.T) {
	// Behaviour shared with encoding/json: escapes, nulls, duplicates.
	for _, data := range []string{
		`{"timestamp":"2026-11-20T10:15:30.123+02:00","modelId":"a\u00e9\"b","region":null,"input":null,"output":{"outputTokenCount":null}}`,
		`{"timestamp":"2026-11-20T10:15:30Z","modelId":"x","modelId":"y","input":{"inputTokenCount":1},"input":{"cacheReadInputTokenCount":2}}`,
		`{"model\u0049d":"esc","timestamp":"2026-11-20T10:15:30Z","identity":{"arn":"\ud83d\ude00"}}`,
		"{\"timestamp\":\"2026-11-20T10:15:30Z\",\"modelId\":\"bad\xffutf8\"}",
		`  {"timestamp":"2026-11-20T10:15:30Z","modelId":"m","input":{"inputTokenCount":-0}}  `,
	} {
		got, err := DecodeRecord([]byte(data))
		if err != nil {
			t.Fatalf("%s: %v", data, err)
		}
		want, err := mirrorDecode([]byte(data))
		if err != nil {
			t.Fatal(err)
		}
		if !sameRecord(got, want) {
			t.Errorf("%s:\n got %+v\nwant %+v", data, got, want)
		}
	}
}

func TestShortModelID(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"anthropic.claude-3-5-sonnet-20240620-v1:0", "claude-3-5-sonnet-20240620-v1:0"},
		{"us.anthropic.claude-3-5-sonnet-20240620-v1:0", "claude-3-5-sonnet-20240620-v1:0"},
		{"eu.amazon.nova-pro-v1:0", "nova-pro-v1:0"},
		{"apac.amazon.nova-lite-v1:0", "nova-lite-v1:0"},
		{"global.anthropic.claude-sonnet-4-20250514-v1:0", "claude-sonnet-4-20250514-v1:0"},
		{"arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-lite-v1:0", "nova-lite-v1:0"},
		{"arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.meta.llama3-2-11b-instruct-v1:0", "llama3-2-11b-instruct-v1:0"},
		{"arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/a1b2c3", "a1b2c3"},
		{"arn:aws:bedrock:us-east-1:123456789012:provisioned-model/xyz", "xyz"},
		{"arn:aws:s3:::bucket/key", "arn:aws:s3:::bucket/key"},
		{"arn:aws:bedrock:us-east-1:1:something/else", "arn:aws:bedrock:us-east-1:1:something/else"},
		{"arn:bad", "arn:bad"},
		{"my-model", "my-model"},
		{"us.nothing", "us.nothing"},
		{"anthropic.", "anthropic."},
		{"unknownvendor.model-v1", "unknownvendor.model-v1"},
		{"", ""},
	} {
		if got := ShortModelID(c.in); got != c.want {
			t.Errorf("ShortModelID(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// ambiguousKeys reports whether data has an object key that encoding/json
// would match case-insensitively to a field but that is not the exact
// name (DecodeRecord matches exactly).
func ambiguousKeys(data []byte) bool {
	names := []string{"timestamp", "accountId", "identity", "arn", "region", "requestId", "operation",
		"modelId", "input", "output", "inputTokenCount", "cacheReadInputTokenCount",
		"cacheWriteInputTokenCount", "outputTokenCount"}
	dec := json.NewDecoder(bytes.NewReader(data))
	var stack []bool // true = object
	expectKey := false
	for {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		switch v := tok.(type) {
		case json.Delim:
			switch v {
			case '{':
				stack = append(stack, true)
				expectKey = true
				continue
			case '[':
				stack = append(stack, false)
			default:
				stack = stack[:len(stack)-1]
			}
		case string:
			if expectKey {
				for _, n := range names {
					if v != n && strings.EqualFold(v, n) {
						return true
					}
				}
				expectKey = false
				continue
			}
		}
		expectKey = len(stack) > 0 && stack[len(stack)-1]
	}
}

func FuzzDecodeRecord(f *testing.F) {
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range 4 {
		b, _ := genRecord(nil, rng, i)
		f.Add(b)
	}
	f.Add(makeRecord("amazon.nova-lite-v1:0", `{"a":"\"}"}`, `[[[]]]`))
	f.Add([]byte(`{"timestamp":"2026-11-20T10:15:30Z","modelId":"m","input":{"inputTokenCount":1e2}}`))
	f.Add([]byte(`{"timestamp":"2026-11-20T10:15:30Z","modelId":"a\u00e9","ModelId":"x"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var d Decoder
		checkSameAsRef(t, &d, data) // the fast path changes nothing
		noID := Decoder{SkipRequestID: true}
		checkSameAsRef(t, &noID, data) // nor does skipping the request id
		got, err := DecodeRecord(data)
		if err != nil {
			var re *RecordError
			if !errors.As(err, &re) {
				t.Fatalf("non-RecordError %T: %v", err, err)
			}
			return
		}
		if got.ModelID == "" || got.Timestamp.IsZero() && !bytes.Contains(data, []byte("0001-01-01")) {
			t.Fatalf("success without modelId/timestamp: %+v", got)
		}
		want, jerr := mirrorDecode(data)
		if jerr != nil || ambiguousKeys(data) {
			return // invalid JSON DecodeRecord tolerated, or case-folded keys
		}
		if !sameRecord(got, want) {
			t.Fatalf("mismatch for %q:\n got %+v\nwant %+v", data, got, want)
		}
	})
}
