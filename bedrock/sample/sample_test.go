package sample

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"mcplambda/bedrock"
)

func TestSampleDecodesAndAggregates(t *testing.T) {
	agg := bedrock.NewAggregator()
	s := Source()
	var last bedrock.Progress
	err := s.Read(context.Background(), bedrock.Window{}, func(msg []byte) error {
		r, err := bedrock.DecodeRecord(msg)
		if err != nil {
			agg.AddMalformed(err.Error())
			return nil
		}
		agg.Add(r)
		return nil
	}, func(p bedrock.Progress) { last = p })
	if err != nil {
		t.Fatal(err)
	}
	if n, samples := agg.Malformed(); n != 0 {
		t.Fatalf("%d malformed records, e.g. %v", n, samples)
	}
	if s.SkippedLines != 0 {
		t.Fatalf("SkippedLines = %d", s.SkippedLines)
	}
	o := agg.Overall()
	if o.Requests <= 1000 || last.Events != o.Requests || last.Pages < 1 {
		t.Fatalf("requests = %d, progress = %+v", o.Requests, last)
	}
	if o.InputTokens <= o.OutputTokens || o.OutputTokens == 0 || o.CacheReadTokens == 0 || o.CacheWriteTokens == 0 {
		t.Fatalf("implausible totals %+v", o)
	}
	if m := agg.ModelsByDisplayName(); len(m) < 3 {
		t.Fatalf("%d models", len(m))
	}
	if r := agg.Regions(); len(r) < 2 {
		t.Fatalf("%d regions", len(r))
	}
	if u := agg.Users(); len(u) < 5 {
		t.Fatalf("%d users", len(u))
	}
	if ops := agg.Operations(); len(ops) != 4 {
		t.Fatalf("operations = %v", ops)
	}
	daily := agg.Daily()
	if len(daily) != 7 {
		t.Fatalf("%d days, want 7", len(daily))
	}
	if daily[len(daily)-1].Key != LastDay {
		t.Fatalf("last day %s, want %s", daily[len(daily)-1].Key, LastDay)
	}
	for _, g := range agg.Models() {
		if strings.Contains(g.Key, "titan-embed") && g.OutputTokens != 0 {
			t.Errorf("embedding model %s has %d output tokens", g.Key, g.OutputTokens)
		}
	}
}

func TestSampleEnd(t *testing.T) {
	day, err := time.Parse("2006-01-02", LastDay)
	if err != nil {
		t.Fatal(err)
	}
	if n := Newest(); n.Format("2006-01-02") != LastDay || n.Location() != time.UTC {
		t.Fatalf("Newest() = %v, want a time on %s UTC", n, LastDay)
	}
	if e, want := End(), day.AddDate(0, 0, 1); !e.Equal(want) {
		t.Fatalf("End() = %v, want %v", e, want)
	}
	// The generator's default -end must match LastDay.
	src, err := os.ReadFile("gen/main.go")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(src), `defaultEnd = "`+LastDay+`"`) {
		t.Fatalf("gen/main.go's defaultEnd does not match LastDay %q", LastDay)
	}
}
