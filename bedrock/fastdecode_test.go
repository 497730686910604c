package bedrock

import (
	"bytes"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

// checkSameAsRef fails unless Decode (fast path with fallback) and the
// reference decoder agree exactly on data: the same Record (compared with
// ==, time location included; without RequestID if d skips it) or the same
// error.
func checkSameAsRef(t *testing.T, d *Decoder, data []byte) {
	t.Helper()
	want, werr := decodeRef(data)
	if d.SkipRequestID {
		want.RequestID = ""
	}
	var fast Record
	if d.decodeFast(data, &fast) {
		if werr != nil {
			t.Fatalf("fast path accepted what the reference rejects (%v): %q", werr, data)
		}
		if fast != want {
			t.Fatalf("fast path: %q\n got %+v\nwant %+v", data, fast, want)
		}
	}
	got, gerr := d.Decode(data)
	if (gerr == nil) != (werr == nil) || (gerr != nil && gerr.Error() != werr.Error()) || got != want {
		t.Fatalf("Decode(%q) = %+v, %v; reference %+v, %v", data, got, gerr, want, werr)
	}
}

func TestFastDecodeMatchesReference(t *testing.T) {
	var d Decoder
	var inputs [][]byte
	inputs = append(inputs, bytes.Split(bytes.TrimSpace(sampleLines(t)), []byte("\n"))...)
	rng := rand.New(rand.NewPCG(7, 8))
	for i := range 300 {
		b, _ := genRecord(nil, rng, i%6)
		inputs = append(inputs, b)
	}
	// Forms the fast path hands over, and near misses of the forms it takes.
	for _, s := range []string{
		`{"timestamp":"2026-11-20T10:15:30Z","modelId":"m"}`,
		`{"timestamp":"2026-11-20T10:15:30.5Z","modelId":"m"}`,
		`{"timestamp":"2026-11-20T10:15:30+02:00","modelId":"m"}`,
		`{"timestamp":"2026-02-29T10:15:30Z","modelId":"m"}`,
		`{"timestamp":"2028-02-29T10:15:30Z","modelId":"m"}`,
		`{"timestamp":"2026-11-31T10:15:30Z","modelId":"m"}`,
		`{"timestamp":"2026-11-20T24:00:00Z","modelId":"m"}`,
		`{"timestamp":"2026-11-20T10:15:60Z","modelId":"m"}`,
		`{"timestamp":"2026-13-20T10:15:30Z","modelId":"m"}`,
		`{"timestamp":"0000-01-01T00:00:00Z","modelId":"m"}`,
		`{"timestamp":"2026-11-20t10:15:30z","modelId":"m"}`,
		`{"timestamp":"2026-11-20T10:15:3xZ","modelId":"m"}`,
		// The day remembered from the record before (Decoder.utcSeconds).
		`{"timestamp":"2026-11-20T23:59:59Z","modelId":"m"}`,
		`{"timestamp":"2026-11-20T2:59:59Z","modelId":"m"}`,
		`{"timestamp":"2026-11-20T23:59:59+00:00","modelId":"m"}`,
		`{"timestamp":"2026-11-21T00:00:00Z","modelId":"m"}`,
		`{"timestamp":"2026-11-21T00:00:00Z","modelId":"m"}`,
		`{"timestamp":"2026-11-21X00:00:00Z","modelId":"m"}`,
		`{"timestamp":"2026-11-21T00:00:00z","modelId":"m"}`,
		`{"timestamp":"2026-11-21T:0:00:00Z","modelId":"m"}`,
		`{"timestamp":"2026-11-21T00:00:/0Z","modelId":"m"}`,
		`{"timestamp":"2026-11-21T19:59:59Z","modelId":"m"}`,
		`{"timestamp":"1969-12-31T23:59:59Z","modelId":"m"}`,
		`{"timestamp":"1969-12-31T00:00:01Z","modelId":"m"}`,
		`{"timestamp":"2026-11-20T10:15:30Z","timestamp":null,"modelId":"m","modelId":null}`,
		`{"timestamp":"2026-11-20T10:15:30Z","modelId":"m","input":{"inputTokenCount":0}}`,
		`{"timestamp":"2026-11-20T10:15:30Z","modelId":"m","input":{"inputTokenCount":00}}`,
		`{"timestamp":"2026-11-20T10:15:30Z","modelId":"m","input":{"inputTokenCount":-0}}`,
		`{"timestamp":"2026-11-20T10:15:30Z","modelId":"m","input":{"inputTokenCount":1e3}}`,
		`{"timestamp":"2026-11-20T10:15:30Z","modelId":"m","input":{"inputTokenCount":123456789012345678}}`,
		`{"timestamp":"2026-11-20T10:15:30Z","modelId":"m","input":{"inputTokenCount":1234567890123456789}}`,
		`{"timestamp":"2026-11-20T10:15:30Z","modelId":"m","output":{"outputTokenCount":7.0}}`,
		`{"timestamp":"2026-11-20T10:15:30Z","model\u0049d":"esc"}`,
		`{"timestamp":"2026-11-20T10:15:30Z","modelId":"m","identity":{"a\u0072n":"x"}}`,
		`{"timestamp":"2026-11-20T10:15:30Z","modelId":"m","x\"y":1}`,
		`{"timestamp":"2026-11-20T10:15:30Z","modelId":"m\"q"}`,
		"{\"timestamp\":\"2026-11-20T10:15:30Z\",\"modelId\":\"caf\xc3\xa9\"}",
		"{\"timestamp\":\"2026-11-20T10:15:30Z\",\"modelId\":\"bad\xff\"}",
		"{\"timestamp\":\"2026-11-20T10:15:30Z\",\"modelId\":\"tab\there\"}",
		`{"timestamp":"2026-11-20T10:15:30Z","modelId":"m","x":[{"a":[1,2,{"b":"]}"}]}]}`,
		`{"timestamp":"2026-11-20T10:15:30Z","modelId":"m","x":[}]}`,
		`{"timestamp":"2026-11-20T10:15:30Z","modelId":"m","x":{]}`,
		`{"timestamp":"2026-11-20T10:15:30Z","modelId":"m","x":tru}`,
		`{"timestamp":"2026-11-20T10:15:30Z","modelId":"m","x":nul}`,
		`{"timestamp":"2026-11-20T10:15:30Z","modelId":"m","x":-}`,
		`{"timestamp":"2026-11-20T10:15:30Z","modelId":"m","x":01}`,
		`{"timestamp":"2026-11-20T10:15:30Z","modelId":"m","x":"\\"}`,
		`{"timestamp":"2026-11-20T10:15:30Z","modelId":"m","x":"\\\"}`,
		`{"timestamp":"2026-11-20T10:15:30Z","modelId":"m",}`,
		`{"timestamp":"2026-11-20T10:15:30Z","modelId":"m"}}`,
		` {"timestamp" : "2026-11-20T10:15:30Z" , "modelId" : "m" , "input" : { "inputTokenCount" : 5 } } `,
		`{"timestamp":"2026-11-20T10:15:30Z","modelId":"m","identity":null,"input":null,"output":null}`,
		`{"timestamp":"2026-11-20T10:15:30Z","modelId":"m","identity":[],"input":{}}`,
		`{}`, `[]`, ``, `{`, `{"timestamp"`, `{"timestamp":`,
		`{"timestamp":"2026-11-20T10:15:30Z","modelId":"m","x":` + strings.Repeat("[", 70) + strings.Repeat("]", 70) + `}`,
		`{"timestamp":"2026-11-20T10:15:30Z","modelId":"m","x":` + strings.Repeat("[", 64) + strings.Repeat("]", 64) + `}`,
		`{"timestamp":"2026-11-20T10:15:30Z","modelId":"m","x":` + strings.Repeat("[", 63) + strings.Repeat("]", 63) + `}`,
	} {
		inputs = append(inputs, []byte(s))
	}
	// Keys in other orders, and near misses of the keys a Decoder expects
	// next (see Decoder.member), each followed by enough bytes for the
	// word comparison and then by none.
	pad := `,"x":"` + strings.Repeat("p", 40) + `"`
	for _, s := range []string{
		`{"modelId":"m","timestamp":"2026-11-20T10:15:30Z","region":"r","input":{"cacheReadInputTokenCount":2,"inputTokenCount":5}`,
		`{"timestamp":"2026-11-20T10:15:30Z","region":"r","modelId":"m","input":{"inputTokenCount":5,"cacheReadInputTokenCount":2}`,
		`{"timestamp":"2026-11-20T10:15:30Z","region" :"r","modelId":"m","input":{"inputTokenCount" : 5}`,
		`{"timestamp":"2026-11-20T10:15:30Z","regionX":"r","modelId":"m","input":{"inputTokenCountX":5}`,
		`{"timestamp":"2026-11-20T10:15:30Z","Region":"r","modelId":"m","input":{"InputTokenCount":5}`,
		`{"timestamp":"2026-11-20T10:15:30Z","regio\u006e":"r","modelId":"m","input":{"inputTokenCoun\u0074":5}`,
		`{"timestamp":"2026-11-20T10:15:30Z","region":"r","modelId":"m","input":{"inputTokenCount":5},"region":null`,
	} {
		for range 2 {
			inputs = append(inputs, []byte(s+pad+`}`), []byte(s+`}`))
		}
	}
	noID := Decoder{SkipRequestID: true}
	for _, in := range inputs {
		checkSameAsRef(t, &d, in)
		checkSameAsRef(t, &noID, in)
	}
	// Damaged records: truncations and single-byte changes of real ones,
	// with a fresh Decoder and with one that has remembered values.
	special := []byte(`"\{}[],:0-n \xff`)
	for i := range 20000 {
		src := inputs[rng.IntN(len(inputs))]
		b := bytes.Clone(src)
		switch i % 3 {
		case 0:
			b = b[:rng.IntN(len(b)+1)]
		case 1:
			if len(b) > 0 {
				b[rng.IntN(len(b))] = special[rng.IntN(len(special))]
			}
		default:
			if len(b) > 0 {
				b[rng.IntN(len(b))] = byte(rng.IntN(256))
			}
		}
		checkSameAsRef(t, &d, b)
		var fresh Decoder
		checkSameAsRef(t, &fresh, b)
		checkSameAsRef(t, &noID, b)
	}
}

// The strings a Decoder shares stay bounded whatever the log holds.
func TestDecoderInternBounded(t *testing.T) {
	var d Decoder
	for i := range 3 * maxInterned {
		rec := `{"timestamp":"2026-11-20T10:15:30Z","modelId":"model-` + strings.Repeat("x", i%7) + string(rune('a'+i%26)) + `-` + itoa(i) + `"}`
		r, err := d.Decode([]byte(rec))
		if err != nil || !strings.HasPrefix(r.ModelID, "model-") {
			t.Fatalf("%s: %+v %v", rec, r, err)
		}
	}
	if len(d.interned) > maxInterned {
		t.Fatalf("%d strings interned, bound %d", len(d.interned), maxInterned)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }
