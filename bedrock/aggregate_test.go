package bedrock

import (
	"encoding/json"
	"math/rand/v2"
	"sync"
	"testing"
)

func TestAggregateMatchesIndependent(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	const n = 3000
	var agg Aggregator
	parts := [4]*Aggregator{NewAggregator(), NewAggregator(), NewAggregator(), NewAggregator()}
	type key struct{ kind, k string }
	want := map[key]Totals{}
	var overall Totals
	malformed := 0
	var buf []byte
	for i := range n {
		buf, _ = genRecord(buf[:0], rng, i%3)
		if i%97 == 0 {
			buf = buf[:len(buf)-5] // truncated
		}
		r, err := DecodeRecord(buf)
		if err != nil {
			agg.AddMalformed(err.(*RecordError).Reason)
			parts[i%4].AddMalformed(err.(*RecordError).Reason)
		} else {
			agg.Add(r)
			parts[i%4].Add(r)
		}
		// Independent computation with encoding/json.
		var m mirror
		if json.Unmarshal(buf, &m) != nil {
			malformed++
			continue
		}
		add := func(kind, k string) {
			tt := want[key{kind, k}]
			tt.Requests++
			tt.InputTokens += m.Input.InputTokenCount
			tt.OutputTokens += m.Output.OutputTokenCount
			tt.CacheReadTokens += m.Input.CacheReadInputTokenCount
			tt.CacheWriteTokens += m.Input.CacheWriteInputTokenCount
			want[key{kind, k}] = tt
		}
		add("day", m.Timestamp.UTC().Format("2006-01-02"))
		add("region", m.Region)
		add("model", m.ModelID)
		add("short", ShortModelID(m.ModelID))
		add("user", m.Identity.ARN)
		add("op", m.Operation)
		overall.Requests++
		overall.InputTokens += m.Input.InputTokenCount
		overall.OutputTokens += m.Output.OutputTokenCount
		overall.CacheReadTokens += m.Input.CacheReadInputTokenCount
		overall.CacheWriteTokens += m.Input.CacheWriteInputTokenCount
	}
	var merged Aggregator
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, p := range parts {
		wg.Go(func() { mu.Lock(); merged.Merge(p); mu.Unlock() })
	}
	wg.Wait()
	for name, a := range map[string]*Aggregator{"sequential": &agg, "merged": &merged} {
		if a.Overall() != overall {
			t.Errorf("%s overall = %+v, want %+v", name, a.Overall(), overall)
		}
		if c, samples := a.Malformed(); int(c) != malformed || len(samples) == 0 || len(samples) > MaxMalformedSamples {
			t.Errorf("%s malformed = %d %q, want %d", name, c, samples, malformed)
		}
		check := func(kind string, gs []Group, sorted bool) {
			sum := 0
			for i, g := range gs {
				if g.Totals != want[key{kind, g.Key}] {
					t.Errorf("%s %s %q = %+v, want %+v", name, kind, g.Key, g.Totals, want[key{kind, g.Key}])
				}
				if sorted && i > 0 && (gs[i-1].Total() < g.Total() || gs[i-1].Total() == g.Total() && gs[i-1].Key >= g.Key) {
					t.Errorf("%s %s not sorted at %d", name, kind, i)
				}
				sum++
			}
			n := 0
			for k := range want {
				if k.kind == kind {
					n++
				}
			}
			if sum != n {
				t.Errorf("%s %s: %d groups, want %d", name, kind, sum, n)
			}
		}
		daily := a.Daily()
		for i := 1; i < len(daily); i++ {
			if daily[i-1].Key >= daily[i].Key {
				t.Errorf("daily not ascending")
			}
		}
		check("day", daily, false)
		check("region", a.Regions(), true)
		check("model", a.Models(), true)
		check("short", a.ModelsByDisplayName(), true)
		check("user", a.Users(), true)
		check("op", a.Operations(), true)
	}
}

func TestAggregatorZeroAndMalformedSamples(t *testing.T) {
	var a Aggregator
	if a.Overall() != (Totals{}) || len(a.Daily()) != 0 || len(a.Models()) != 0 {
		t.Fatal("zero aggregator not empty")
	}
	for range 25 {
		a.AddMalformed("truncated JSON")
	}
	if c, s := a.Malformed(); c != 25 || len(s) != MaxMalformedSamples {
		t.Fatalf("got %d %d", c, len(s))
	}
	a.Merge(nil)
	if (Totals{InputTokens: 2, OutputTokens: 3, CacheReadTokens: 10}).Total() != 5 {
		t.Fatal("Total")
	}
}
