package bedrock

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"mcplambda/internal/jsonschema"
)

func fixedAggregator() *Aggregator {
	a := NewAggregator()
	ts := func(s string) time.Time { t, _ := time.Parse(time.RFC3339, s); return t }
	add := func(when, region, model, user, op string, in, out, cr, cw int64) {
		a.Add(Record{Timestamp: ts(when), Region: region, ModelID: model, IdentityARN: user, Operation: op,
			InputTokens: in, OutputTokens: out, CacheReadTokens: cr, CacheWriteTokens: cw})
	}
	alice := "arn:aws:sts::123456789012:assumed-role/Dev/alice"
	bob := "arn:aws:sts::123456789012:assumed-role/Dev/bob"
	add("2026-11-20T10:15:30Z", "us-east-1", "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-lite-v1:0", alice, "Converse", 100, 10, 0, 0)
	add("2026-11-20T23:59:59-01:00", "us-east-1", "amazon.nova-lite-v1:0", bob, "Converse", 50, 5, 0, 0)
	add("2026-11-19T08:00:00Z", "us-west-2", "us.anthropic.claude-3-5-sonnet-20240620-v1:0", alice, "InvokeModel", 1000, 200, 300, 40)
	add("2026-11-19T09:00:00Z", "us-west-2", "anthropic.claude-3-5-sonnet-20240620-v1:0", bob, "ConverseStream", 10, 1, 0, 5)
	a.AddMalformed("truncated JSON")
	a.AddMalformed("missing timestamp")
	return a
}

func TestTextGolden(t *testing.T) {
	got := fixedAggregator().Text(7, "us-east-1")
	want := `Bedrock Daily Usage Report (Past 7 days - us-east-1)
Total Requests: 4
Total Input Tokens: 1160
Total Completion Tokens: 216
Total Tokens: 1376
Total Cache Read Tokens: 300
Total Cache Write Tokens: 45

--- Daily Totals ---
2026-11-19: Requests=2, Input=1010, Completion=201, Total=1211, CacheRead=300, CacheWrite=45
2026-11-20: Requests=1, Input=100, Completion=10, Total=110, CacheRead=0, CacheWrite=0
2026-11-21: Requests=1, Input=50, Completion=5, Total=55, CacheRead=0, CacheWrite=0
--- Region Summary ---
us-west-2: Requests=2, Input=1010, Completion=201, Total=1211, CacheRead=300, CacheWrite=45
us-east-1: Requests=2, Input=150, Completion=15, Total=165, CacheRead=0, CacheWrite=0
--- Model Summary ---
claude-3-5-sonnet-20240620-v1:0: Requests=2, Input=1010, Completion=201, Total=1211, CacheRead=300, CacheWrite=45
nova-lite-v1:0: Requests=2, Input=150, Completion=15, Total=165, CacheRead=0, CacheWrite=0
--- User Summary ---
arn:aws:sts::123456789012:assumed-role/Dev/alice: Requests=2, Input=1100, Completion=210, Total=1310, CacheRead=300, CacheWrite=40
arn:aws:sts::123456789012:assumed-role/Dev/bob: Requests=2, Input=60, Completion=6, Total=66, CacheRead=0, CacheWrite=5
--- Operation Summary ---
InvokeModel: Requests=1, Input=1000, Completion=200, Total=1200, CacheRead=300, CacheWrite=40
Converse: Requests=2, Input=150, Completion=15, Total=165, CacheRead=0, CacheWrite=0
ConverseStream: Requests=1, Input=10, Completion=1, Total=11, CacheRead=0, CacheWrite=5
Malformed records skipped: 2 (e.g. truncated JSON)
`
	if got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

func TestTextEmpty(t *testing.T) {
	var a Aggregator
	want := "Bedrock Daily Usage Report (Past 1 days - eu-west-1)\nNo model invocations found in this window.\n"
	if got := a.Text(1, "eu-west-1"); got != want {
		t.Errorf("got %q", got)
	}
	a.AddMalformed("missing modelId")
	if got := a.Text(1, "eu-west-1"); !strings.HasSuffix(got, "No model invocations found in this window.\nMalformed records skipped: 1 (e.g. missing modelId)\n") {
		t.Errorf("got %q", got)
	}
}

func TestStructuredValidatesAgainstSchema(t *testing.T) {
	s, err := jsonschema.Compile([]byte(ReportOutputSchema))
	if err != nil {
		t.Fatal(err)
	}
	end := time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)
	for name, a := range map[string]*Aggregator{"full": fixedAggregator(), "empty": NewAggregator()} {
		rep := a.Structured(7, "us-east-1", end.AddDate(0, 0, -7), end)
		data, err := json.Marshal(rep)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Validate(data); err != nil {
			t.Errorf("%s: %v\n%s", name, err, data)
		}
	}
	rep := fixedAggregator().Structured(7, "us-east-1", end.AddDate(0, 0, -7), end)
	if rep.Totals.TotalTokens != 1376 || len(rep.Models) != 4 || rep.MalformedRecords != 2 || len(rep.Daily) != 3 {
		t.Errorf("unexpected report %+v", rep)
	}
	for _, m := range rep.Models {
		if m.DisplayName != ShortModelID(m.ModelID) {
			t.Errorf("display name %q for %q", m.DisplayName, m.ModelID)
		}
	}
	// The schema must reject what the structure does not allow.
	for _, bad := range []string{
		`{}`,
		strings.Replace(mustJSON(t, rep), `"region":"us-east-1"`, `"region":"us-east-1","extra":1`, 1),
		strings.Replace(mustJSON(t, rep), `"requests":4`, `"requests":"4"`, 1),
		strings.Replace(mustJSON(t, rep), `"date":"2026-11-19"`, `"date":"2026-11-19","x":0`, 1),
	} {
		if s.Validate([]byte(bad)) == nil {
			t.Errorf("schema accepted %s", bad)
		}
	}
}

func mustJSON(t *testing.T, v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
