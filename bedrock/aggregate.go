package bedrock

import (
	"cmp"
	"slices"
	"time"
)

// MaxMalformedSamples is how many malformed-record reasons an Aggregator
// keeps as examples.
const MaxMalformedSamples = 10

// Totals accumulates request and token counts.
type Totals struct {
	Requests         int64
	InputTokens      int64
	OutputTokens     int64
	CacheReadTokens  int64
	CacheWriteTokens int64
}

// Total returns input plus output tokens (cache tokens are reported
// separately).
func (t Totals) Total() int64 { return t.InputTokens + t.OutputTokens }

func (t *Totals) add(r *Record) {
	t.Requests++
	t.InputTokens += r.InputTokens
	t.OutputTokens += r.OutputTokens
	t.CacheReadTokens += r.CacheReadTokens
	t.CacheWriteTokens += r.CacheWriteTokens
}

func (t *Totals) merge(o *Totals) {
	t.Requests += o.Requests
	t.InputTokens += o.InputTokens
	t.OutputTokens += o.OutputTokens
	t.CacheReadTokens += o.CacheReadTokens
	t.CacheWriteTokens += o.CacheWriteTokens
}

// Aggregator groups records by UTC day, region, model, user (identity ARN)
// and operation. Its memory grows with the number of distinct groups only.
// The zero value is ready to use. An Aggregator is not safe for concurrent
// use; aggregate in parallel with one Aggregator per goroutine and Merge.
type Aggregator struct {
	overall    Totals
	days       map[int32]*Totals // key: yyyymmdd (UTC)
	regions    map[string]*Totals
	models     map[string]*Totals
	users      map[string]*Totals
	operations map[string]*Totals
	malformed  int64
	samples    []string

	// The last groups used, looked at before the maps: a log repeats a
	// few keys, and a Decoder returns the same string for each
	// repetition, which makes these comparisons cheap.
	recent [4]recentGroups
	// The Unix seconds [dayFrom, dayTo) of dayLast's UTC day.
	dayFrom, dayTo int64
	dayLast        *Totals
}

// recentGroups remembers the last few groups of one dimension.
type recentGroups struct {
	keys [8]string
	tots [8]*Totals
	next uint8
}

// NewAggregator returns an empty Aggregator.
func NewAggregator() *Aggregator { return &Aggregator{} }

func dayKey(t time.Time) int32 {
	y, m, d := t.UTC().Date()
	return int32(y*10000 + int(m)*100 + d)
}

func group(m *map[string]*Totals, key string) *Totals {
	if *m == nil {
		*m = make(map[string]*Totals)
	}
	t := (*m)[key]
	if t == nil {
		t = new(Totals)
		(*m)[key] = t
	}
	return t
}

// Add accounts for one decoded record.
func (a *Aggregator) Add(r Record) {
	a.overall.add(&r)
	a.day(r.Timestamp).add(&r)
	a.group(0, &a.regions, r.Region).add(&r)
	a.group(1, &a.models, r.ModelID).add(&r)
	a.group(2, &a.users, r.IdentityARN).add(&r)
	a.group(3, &a.operations, r.Operation).add(&r)
}

// day returns the totals of t's UTC day.
func (a *Aggregator) day(t time.Time) *Totals {
	if u := t.Unix(); a.dayLast != nil && u >= a.dayFrom && u < a.dayTo {
		return a.dayLast
	}
	if a.days == nil {
		a.days = make(map[int32]*Totals)
	}
	k := dayKey(t)
	dt := a.days[k]
	if dt == nil {
		dt = new(Totals)
		a.days[k] = dt
	}
	y, m, d := t.UTC().Date()
	a.dayFrom = time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix()
	a.dayTo = a.dayFrom + 24*60*60
	a.dayLast = dt
	return dt
}

// group returns the totals of key in dimension dim, whose map is m.
func (a *Aggregator) group(dim int, m *map[string]*Totals, key string) *Totals {
	rg := &a.recent[dim]
	for i, t := range rg.tots[:] { // [:]: ranging over the array would copy it
		if t != nil && rg.keys[i] == key {
			return t
		}
	}
	t := group(m, key)
	rg.keys[rg.next], rg.tots[rg.next] = key, t
	rg.next = (rg.next + 1) % uint8(len(rg.keys))
	return t
}

// AddMalformed counts a record that could not be decoded.
func (a *Aggregator) AddMalformed(reason string) {
	a.malformed++
	if len(a.samples) < MaxMalformedSamples {
		a.samples = append(a.samples, reason)
	}
}

// Merge adds b's counts into a. b is not modified.
func (a *Aggregator) Merge(b *Aggregator) {
	if b == nil {
		return
	}
	a.overall.merge(&b.overall)
	for k, t := range b.days {
		if a.days == nil {
			a.days = make(map[int32]*Totals)
		}
		at := a.days[k]
		if at == nil {
			at = new(Totals)
			a.days[k] = at
		}
		at.merge(t)
	}
	for _, p := range [...]struct{ dst, src *map[string]*Totals }{
		{&a.regions, &b.regions}, {&a.models, &b.models},
		{&a.users, &b.users}, {&a.operations, &b.operations},
	} {
		for k, t := range *p.src {
			group(p.dst, k).merge(t)
		}
	}
	a.malformed += b.malformed
	for _, s := range b.samples {
		if len(a.samples) >= MaxMalformedSamples {
			break
		}
		a.samples = append(a.samples, s)
	}
}

// Overall returns the totals over all records.
func (a *Aggregator) Overall() Totals { return a.overall }

// Malformed returns the number of malformed records and up to
// MaxMalformedSamples example reasons.
func (a *Aggregator) Malformed() (int64, []string) {
	return a.malformed, append([]string(nil), a.samples...)
}

// Group is one row of a breakdown.
type Group struct {
	Key string
	Totals
}

func dayString(k int32) string {
	return time.Date(int(k/10000), time.Month(k/100%100), int(k%100), 0, 0, 0, 0, time.UTC).Format("2006-01-02")
}

// Daily returns per-UTC-day totals ("2006-01-02"), sorted by day.
func (a *Aggregator) Daily() []Group {
	keys := make([]int32, 0, len(a.days))
	for k := range a.days {
		keys = append(keys, k)
	}
	sortInt32(keys)
	out := make([]Group, len(keys))
	for i, k := range keys {
		out[i] = Group{Key: dayString(k), Totals: *a.days[k]}
	}
	return out
}

// Regions returns per-region totals, sorted by Total descending then key.
func (a *Aggregator) Regions() []Group { return sortedGroups(a.regions, nil) }

// Models returns per-model totals keyed by full model id, sorted by Total
// descending then key.
func (a *Aggregator) Models() []Group { return sortedGroups(a.models, nil) }

// ModelsByDisplayName returns per-model totals keyed by ShortModelID, with
// ids that share a display name merged.
func (a *Aggregator) ModelsByDisplayName() []Group { return sortedGroups(a.models, ShortModelID) }

// Users returns per-identity-ARN totals, sorted by Total descending then key.
func (a *Aggregator) Users() []Group { return sortedGroups(a.users, nil) }

// Operations returns per-operation totals, sorted by Total descending then
// key.
func (a *Aggregator) Operations() []Group { return sortedGroups(a.operations, nil) }

func sortInt32(keys []int32) { slices.Sort(keys) }

// sortedGroups flattens m (optionally re-keyed and merged by rekey) and
// sorts by Total descending, then key ascending.
func sortedGroups(m map[string]*Totals, rekey func(string) string) []Group {
	var out []Group
	if rekey == nil {
		out = make([]Group, 0, len(m))
		for k, t := range m {
			out = append(out, Group{Key: k, Totals: *t})
		}
	} else {
		merged := make(map[string]*Totals, len(m))
		for k, t := range m {
			group(&merged, rekey(k)).merge(t)
		}
		return sortedGroups(merged, nil)
	}
	slices.SortFunc(out, func(x, y Group) int {
		if c := cmp.Compare(y.Total(), x.Total()); c != 0 {
			return c
		}
		return cmp.Compare(x.Key, y.Key)
	})
	return out
}
