package bedrock

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"

	"mcplambda/mcp"
	"mcplambda/server"
	"mcplambda/test/moto"
)

const insGroup = "/aws/bedrock/modelinvocations"

// insEvents generates n valid records at whole seconds in [from, from+span)
// with userCount distinct users, plus one record of each malformed kind
// and a few valid records without region or cache fields, sorted by time.
func insEvents(rng *rand.Rand, n int, from time.Time, span time.Duration, userCount int) []cwEvent {
	var evs []cwEvent
	at := func() time.Time {
		return from.Add(time.Duration(rng.Int64N(int64(span)))).Truncate(time.Second)
	}
	for range n {
		b, r := genRecord(nil, rng, 1)
		ts := at()
		b = bytes.Replace(b, []byte(r.Timestamp.Format(time.RFC3339)), []byte(ts.Format(time.RFC3339)), 1)
		b = bytes.Replace(b, []byte(r.IdentityARN), []byte(fmt.Sprintf("arn:aws:sts::123456789012:assumed-role/Dev/u%03d", rng.IntN(userCount))), 1)
		evs = append(evs, cwEvent{ts: ts.UnixMilli(), msg: string(b)})
	}
	for _, tmpl := range []string{
		`{"schemaType":"ModelInvocationLog","timestamp":"%s","input":{"inputTokenCount":"many"`, // truncated JSON
		`{"timestamp":"%s","region":"us-east-1","input":{"inputTokenCount":5}}`,                 // no modelId
		`{"timestamp":"%s","modelId":"","input":{"inputTokenCount":5}}`,                         // empty modelId
		`{"modelId":"amazon.nova-lite-v1:0","region":"us-east-1","x":"%s"}`,                     // no timestamp
		`not JSON at all %s`,
		`{"timestamp":"%s","modelId":"amazon.nova-lite-v1:0","input":{"inputTokenCount":7},"output":{"outputTokenCount":3}}`, // valid, sparse
		`{"timestamp":"%s","modelId":"amazon.nova-lite-v1:0","region":null,"identity":{"arn":"arn:x"},"operation":"Converse"}`,
	} {
		ts := at()
		evs = append(evs, cwEvent{ts: ts.UnixMilli(), msg: fmt.Sprintf(tmpl, ts.Format(time.RFC3339))})
	}
	slices.SortStableFunc(evs, func(a, b cwEvent) int { return int(a.ts - b.ts) })
	return evs
}

// decodeReference aggregates events in w the way the FilterLogEvents path
// does, as the expected answer.
func decodeReference(evs []cwEvent, w Window) *Aggregator {
	agg := NewAggregator()
	var dec Decoder
	for _, e := range evs {
		if e.ts < w.Start.UnixMilli() || e.ts >= w.End.UnixMilli() {
			continue
		}
		r, err := dec.Decode([]byte(e.msg))
		if err != nil {
			var re *RecordError
			if errors.As(err, &re) {
				agg.AddMalformed(re.Reason)
			} else {
				agg.AddMalformed(err.Error())
			}
			continue
		}
		agg.Add(r)
	}
	return agg
}

func newFake(t *testing.T, evs []cwEvent) (*fakeInsights, *cloudwatchlogs.Client, string) {
	f := &fakeInsights{t: t, events: func(g string) ([]cwEvent, bool) { return evs, g == insGroup }}
	url := f.start()
	return f, f.client(url), url
}

func fastInsights(c InsightsAPI) *InsightsSource {
	return &InsightsSource{Client: c, LogGroup: insGroup, PollInterval: time.Millisecond, MaxPollInterval: 4 * time.Millisecond,
		BaseBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond}
}

// TestInsightsMatchesDecoder: the queries, evaluated by the test double,
// give the same report as decoding every record, for several windows.
func TestInsightsMatchesDecoder(t *testing.T) {
	day0 := time.Date(2026, 11, 10, 0, 0, 0, 0, time.UTC)
	evs := insEvents(rand.New(rand.NewPCG(1, 2)), 1500, day0, 4*24*time.Hour, 30)
	_, client, _ := newFake(t, evs)
	for _, w := range []Window{
		{Start: day0, End: day0.Add(4 * 24 * time.Hour)},
		{Start: day0.Add(30*time.Hour + 250*time.Millisecond), End: day0.Add(70*time.Hour + 999*time.Millisecond)},
		{Start: day0.Add(-48 * time.Hour), End: day0}, // empty
	} {
		t.Run(w.Start.Format(time.RFC3339Nano), func(t *testing.T) {
			var mu sync.Mutex
			var seen []InsightsProgress
			res, err := fastInsights(client).Aggregate(context.Background(), w, func(p InsightsProgress) {
				mu.Lock()
				seen = append(seen, p)
				mu.Unlock()
			})
			if err != nil {
				t.Fatal(err)
			}
			want := decodeReference(evs, w).Structured(1, "us-east-1", w.Start, w.End)
			got := res.Structured(1, "us-east-1", w.Start, w.End)
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("Insights report differs from decoding:\n got %+v\nwant %+v", got, want)
			}
			if len(res.Truncated) != 0 {
				t.Errorf("truncated: %+v", res.Truncated)
			}
			for i := 1; i < len(seen); i++ {
				a, b := seen[i-1], seen[i]
				if b.Done < a.Done || b.RecordsScanned < a.RecordsScanned || b.BytesScanned < a.BytesScanned {
					t.Fatalf("progress went backwards: %+v after %+v", b, a)
				}
			}
			wantQueries := 7
			if want.MalformedRecords > 0 {
				wantQueries = 8
			}
			if res.Stats.Queries != wantQueries || res.Stats.Done != wantQueries {
				t.Errorf("stats %+v, want %d queries", res.Stats, wantQueries)
			}
			if want.Totals.Requests > 0 && (res.Stats.BytesScanned == 0 || res.Stats.RecordsScanned == 0) {
				t.Errorf("no scan statistics: %+v", res.Stats)
			}
			t.Logf("%d requests, %d malformed; %+v", got.Totals.Requests, got.MalformedRecords, res.Stats)
		})
	}
}

// TestInsightsQueriesParse keeps the report's queries within the subset
// the test double (and this file's comments on Logs Insights) cover.
func TestInsightsQueriesParse(t *testing.T) {
	qs := buildInsightsQueries(1, 2, 10)
	for _, q := range append(qs, insightsQuery{name: "samples", text: malformedSamplesQuery(1, 2)}) {
		if _, err := parseQuery(q.text); err != nil {
			t.Errorf("%s: %v\n%s", q.name, err, q.text)
		}
		if len(q.text) > 10000 {
			t.Errorf("%s: query longer than StartQuery accepts", q.name)
		}
	}
	if len(qs) != 7 {
		t.Fatalf("%d queries", len(qs))
	}
}

// TestInsightsEquivalenceOnMoto puts invocation records into a log group on
// moto and asks for the report through the MCP server twice: with
// FilterLogEvents against moto, and with Logs Insights against the test
// double reading the same events back from moto. The reports must match
// field for field.
func TestInsightsEquivalenceOnMoto(t *testing.T) {
	ctx := context.Background()
	srv := moto.Start(t)
	awsCfg := srv.AWSConfig(ctx)
	logs := cloudwatchlogs.NewFromConfig(awsCfg)
	const stream = "aws/bedrock/modelinvocations"
	if _, err := logs.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(insGroup)}); err != nil {
		t.Fatal(err)
	}
	if _, err := logs.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String(insGroup), LogStreamName: aws.String(stream)}); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Second)
	evs := insEvents(rand.New(rand.NewPCG(5, 6)), 2500, now.Add(-3*24*time.Hour-time.Hour), 3*24*time.Hour+time.Hour-time.Minute, 40)
	putEvents(ctx, t, logs, insGroup, stream, evs)

	// The double reads the group back from moto, so both paths see what
	// moto stored.
	f := &fakeInsights{t: t, events: func(g string) ([]cwEvent, bool) {
		var out []cwEvent
		in := &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(g)}
		for {
			page, err := logs.FilterLogEvents(ctx, in)
			if err != nil {
				return nil, false
			}
			for _, e := range page.Events {
				out = append(out, cwEvent{ts: aws.ToInt64(e.Timestamp), msg: aws.ToString(e.Message)})
			}
			if page.NextToken == nil || len(page.Events) == 0 {
				return out, true
			}
			in.NextToken = page.NextToken
		}
	}}
	fakeCfg := fakeAWSConfig(f.start())

	report := func(source string, cfg aws.Config) (toolResult, []*mcp.Message) {
		s := server.New(server.Options{})
		if err := RegisterTool(s, ToolConfig{
			Source: source, DefaultRegion: "us-east-1",
			Insights:      InsightsSource{PollInterval: 5 * time.Millisecond, MaxPollInterval: 20 * time.Millisecond},
			LoadAWSConfig: func(context.Context, string) (aws.Config, error) { return cfg, nil },
			Now:           func() time.Time { return now },
		}); err != nil {
			t.Fatal(err)
		}
		notes, final := mcpCall(t, s, `{"days":3}`)
		var res toolResult
		if final.Error != nil || json.Unmarshal(final.Result, &res) != nil || res.IsError {
			t.Fatalf("%s: %s", source, final.Result)
		}
		return res, notes
	}
	filtered, _ := report(SourceFilter, awsCfg)
	insights, notes := report(SourceInsights, fakeCfg)

	fs, is := filtered.StructuredContent, insights.StructuredContent
	if fs.Scan == nil || fs.Scan.Source != "filter-log-events" || is.Scan == nil || is.Scan.Source != "logs-insights" {
		t.Fatalf("scan: %+v / %+v", fs.Scan, is.Scan)
	}
	if is.Scan.BytesScanned == 0 || is.Scan.Queries != 8 {
		t.Errorf("insights scan %+v", is.Scan)
	}
	fs.Scan, is.Scan = nil, nil
	if fs.Totals.Requests < 2000 || fs.MalformedRecords != 5 {
		t.Fatalf("test setup: %d requests, %d malformed", fs.Totals.Requests, fs.MalformedRecords)
	}
	if !reflect.DeepEqual(fs, is) {
		a, _ := json.MarshalIndent(fs, "", " ")
		b, _ := json.MarshalIndent(is, "", " ")
		t.Fatalf("reports differ:\nfilter:   %s\ninsights: %s", a, b)
	}
	ft, it := filtered.Content[0].Text, insights.Content[0].Text
	cut := func(s string) string { // the last line names the source
		s = strings.TrimSuffix(s, "\n")
		return s[:strings.LastIndexByte(s, '\n')+1]
	}
	if cut(ft) != cut(it) {
		t.Fatalf("texts differ:\n%s\n----\n%s", ft, it)
	}
	if !strings.Contains(it, "Computed by CloudWatch Logs Insights: 8 queries scanned") || !strings.Contains(ft, "Read with CloudWatch Logs FilterLogEvents") {
		t.Errorf("source lines:\n%s\n%s", it[strings.LastIndexByte(cut(it), '\n'):], ft[strings.LastIndexByte(cut(ft), '\n'):])
	}
	var scanned bool
	for _, n := range notes {
		if n.Method == mcp.NotificationProgress && strings.Contains(string(n.Params), "records (") && strings.Contains(string(n.Params), "scanned") {
			scanned = true
		}
	}
	if !scanned {
		t.Error("no progress notification with records and bytes scanned")
	}
	t.Logf("equal reports: %d requests, %d days, %d users, %d malformed", fs.Totals.Requests, len(fs.Daily), len(fs.Users), fs.MalformedRecords)
}

// TestInsightsPolling: queries are polled until complete, with the delay
// growing, and progress carries the scan statistics as they grow.
func TestInsightsPolling(t *testing.T) {
	day0 := time.Date(2026, 11, 10, 0, 0, 0, 0, time.UTC)
	rng := rand.New(rand.NewPCG(3, 3))
	var evs []cwEvent
	for _, e := range insEvents(rng, 300, day0, 24*time.Hour, 5) {
		if _, err := DecodeRecord([]byte(e.msg)); err == nil {
			evs = append(evs, e) // no malformed records: exactly 7 queries
		}
	}
	f, client, _ := newFake(t, evs)
	f.polls = 3
	var seen []InsightsProgress
	src := fastInsights(client)
	src.MaxConcurrent = 2
	res, err := src.Aggregate(context.Background(), Window{Start: day0, End: day0.Add(24 * time.Hour)}, func(p InsightsProgress) { seen = append(seen, p) })
	if err != nil {
		t.Fatal(err)
	}
	if f.polled != 7*4 {
		t.Errorf("GetQueryResults called %d times, want 28 (3 Running, then Complete, for 7 queries)", f.polled)
	}
	if f.maxRunning > 2 {
		t.Errorf("%d queries ran at once, limit 2", f.maxRunning)
	}
	if len(seen) < 7*3 {
		t.Errorf("%d progress reports", len(seen))
	}
	var partial bool
	for _, p := range seen {
		if p.Done < p.Queries && p.BytesScanned > 0 {
			partial = true
		}
	}
	last := seen[len(seen)-1]
	if !partial || last.Done != 7 || last != res.Stats || last.RecordsScanned != 7*int64(len(evs)) {
		t.Errorf("progress: partial=%v last=%+v stats=%+v", partial, last, res.Stats)
	}
}

func TestInsightsThrottlingAndLimits(t *testing.T) {
	day0 := time.Date(2026, 11, 10, 0, 0, 0, 0, time.UTC)
	evs := insEvents(rand.New(rand.NewPCG(4, 4)), 200, day0, 24*time.Hour, 5)
	w := Window{Start: day0, End: day0.Add(24 * time.Hour)}
	want := decodeReference(evs, w).Structured(1, "r", w.Start, w.End)
	for _, tc := range []struct {
		name         string
		startErr     func(int) string
		accountLimit int
		concurrent   int
		retries      int
		wantErr      string
	}{
		{name: "ThrottlingException retried", startErr: func(n int) string {
			if n < 3 {
				return "ThrottlingException"
			}
			return ""
		}},
		{name: "LimitExceededException retried", startErr: func(n int) string {
			if n%2 == 0 && n < 10 {
				return "LimitExceededException"
			}
			return ""
		}},
		{name: "account concurrency limit", accountLimit: 2},
		{name: "own concurrency limit", concurrent: 1},
		{name: "still throttled", retries: 2, startErr: func(int) string { return "LimitExceededException" },
			wantErr: "concurrent-query limit"},
		{name: "access denied", startErr: func(int) string { return "AccessDeniedException" }, wantErr: `"logs:StartQuery"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, client, _ := newFake(t, evs)
			f.polls, f.startErr, f.accountLimit = 1, tc.startErr, tc.accountLimit
			src := fastInsights(client)
			src.MaxRetries, src.MaxConcurrent = tc.retries, tc.concurrent
			res, err := src.Aggregate(context.Background(), w, nil)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), insGroup) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				if _, _, running := f.counts(); running != 0 {
					t.Errorf("%d queries left running", running)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := res.Structured(1, "r", w.Start, w.End); !reflect.DeepEqual(got, want) {
				t.Fatalf("report differs:\n got %+v\nwant %+v", got, want)
			}
			limit := max(tc.accountLimit, tc.concurrent)
			if limit > 0 && f.maxRunning > limit {
				t.Errorf("%d queries ran at once, limit %d", f.maxRunning, limit)
			}
			t.Logf("StartQuery calls %d, at most %d running", f.startCalls, f.maxRunning)
		})
	}
}

// TestInsightsCancellation: cancelling the call, or its deadline passing,
// stops every query still running (StopQuery), and the error says why.
func TestInsightsCancellation(t *testing.T) {
	day0 := time.Date(2026, 11, 10, 0, 0, 0, 0, time.UTC)
	evs := insEvents(rand.New(rand.NewPCG(8, 8)), 50, day0, 24*time.Hour, 5)
	for _, tc := range []struct {
		name string
		ctx  func() (context.Context, context.CancelFunc)
		want error
	}{
		{"cancel", func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(100*time.Millisecond, cancel)
			return ctx, cancel
		}, context.Canceled},
		{"timeout", func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 100*time.Millisecond)
		}, context.DeadlineExceeded},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, client, _ := newFake(t, evs)
			f.hang = true
			src := fastInsights(client)
			src.MaxConcurrent = 3
			ctx, cancel := tc.ctx()
			defer cancel()
			_, err := src.Aggregate(ctx, Window{Start: day0, End: day0.Add(24 * time.Hour)}, nil)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			started, stopped, running := f.counts()
			if started != 3 || stopped != started || running != 0 {
				t.Fatalf("%d queries started, %d stopped, %d still running", started, stopped, running)
			}
		})
	}
	t.Run("query timed out in CloudWatch", func(t *testing.T) {
		f, client, _ := newFake(t, evs)
		f.events = func(string) ([]cwEvent, bool) { return evs, true }
		src := fastInsights(client)
		src.Client = statusOverride{client, "Timeout"}
		_, err := src.Aggregate(context.Background(), Window{Start: day0, End: day0.Add(24 * time.Hour)}, nil)
		if err == nil || !strings.Contains(err.Error(), "timed out") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("missing log group", func(t *testing.T) {
		_, client, _ := newFake(t, evs)
		src := fastInsights(client)
		src.LogGroup = "/aws/bedrock/nope"
		_, err := src.Aggregate(context.Background(), Window{Start: day0, End: day0.Add(time.Hour)}, nil)
		if !errors.Is(err, ErrLogGroupNotFound) || !strings.Contains(err.Error(), "/aws/bedrock/nope") || !strings.Contains(err.Error(), "us-east-1") {
			t.Fatalf("err = %v", err)
		}
	})
}

// statusOverride answers every GetQueryResults with a fixed status.
type statusOverride struct {
	InsightsAPI
	status string
}

func (s statusOverride) GetQueryResults(ctx context.Context, in *cloudwatchlogs.GetQueryResultsInput, o ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.GetQueryResultsOutput, error) {
	out, err := s.InsightsAPI.GetQueryResults(ctx, in, o...)
	if out != nil {
		out.Status = types.QueryStatus(s.status)
	}
	return out, err
}

// TestInsightsRowLimit: a dimension with more groups than a query returns
// is listed by its top groups, and the report says so; totals stay exact.
func TestInsightsRowLimit(t *testing.T) {
	now := time.Date(2026, 11, 12, 0, 0, 0, 0, time.UTC)
	evs := insEvents(rand.New(rand.NewPCG(9, 9)), 800, now.Add(-24*time.Hour), 24*time.Hour, 40)
	_, _, url := newFake(t, evs)
	s := server.New(server.Options{})
	if err := RegisterTool(s, ToolConfig{
		Source: SourceInsights, DefaultRegion: "us-east-1",
		Insights:      InsightsSource{MaxRows: 10, PollInterval: time.Millisecond},
		LoadAWSConfig: func(context.Context, string) (aws.Config, error) { return fakeAWSConfig(url), nil },
		Now:           func() time.Time { return now },
	}); err != nil {
		t.Fatal(err)
	}
	_, final := mcpCall(t, s, `{"days":1}`)
	var res toolResult
	if err := json.Unmarshal(final.Result, &res); err != nil || res.IsError {
		t.Fatalf("%s", final.Result)
	}
	got := res.StructuredContent
	want := decodeReference(evs, Window{Start: now.Add(-24 * time.Hour), End: now}).Structured(1, "us-east-1", now.Add(-24*time.Hour), now)
	if got.Totals != want.Totals {
		t.Fatalf("totals %+v, want %+v", got.Totals, want.Totals)
	}
	if !reflect.DeepEqual(got.Truncated, []TruncatedDimension{{Dimension: DimUsers, GroupsShown: 10}}) {
		t.Fatalf("truncated = %+v", got.Truncated)
	}
	if len(got.Users) != 10 || !reflect.DeepEqual(got.Users, want.Users[:10]) {
		t.Fatalf("users are not the top 10:\n got %+v\nwant %+v", got.Users, want.Users[:10])
	}
	if !reflect.DeepEqual(got.Models, want.Models) || !reflect.DeepEqual(got.Daily, want.Daily) {
		t.Error("untruncated dimensions differ")
	}
	text := res.Content[0].Text
	if !strings.Contains(text, "--- User Summary ---\n(only the top 10 users by total tokens are listed") {
		t.Fatalf("the text does not say the users were cut:\n%s", text)
	}
	t.Logf("report:\n%s", text)
}

// TestSourceChoice: BEDROCK_LOG_SOURCE=cloudwatch reads small windows
// with FilterLogEvents and asks Logs Insights once a window needs more
// pages than FilterMaxPages; both give the same report.
func TestSourceChoice(t *testing.T) {
	now := time.Date(2026, 11, 12, 0, 0, 0, 0, time.UTC)
	evs := insEvents(rand.New(rand.NewPCG(10, 10)), 200, now.Add(-24*time.Hour), 24*time.Hour, 8)
	for _, tc := range []struct {
		name       string
		source     string
		pageSize   int
		maxPages   int
		wantSource string
		wantFilter int
	}{
		{"small window", SourceCloudWatch, 100, 0, "filter-log-events", 3},
		{"big window", SourceCloudWatch, 20, 0, "logs-insights", 5},
		{"never filter", SourceCloudWatch, 100, -1, "logs-insights", 0},
		{"insights forced", SourceInsights, 1000, 0, "logs-insights", 0},
		{"filter forced", SourceFilter, 20, 0, "filter-log-events", 11},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, _, url := newFake(t, evs)
			f.pageSize = tc.pageSize
			s := server.New(server.Options{})
			if err := RegisterTool(s, ToolConfig{
				Source: tc.source, FilterMaxPages: tc.maxPages, DefaultRegion: "us-east-1",
				Insights:      InsightsSource{PollInterval: time.Millisecond},
				LoadAWSConfig: func(context.Context, string) (aws.Config, error) { return fakeAWSConfig(url), nil },
				Now:           func() time.Time { return now },
			}); err != nil {
				t.Fatal(err)
			}
			notes, final := mcpCall(t, s, `{"days":1}`)
			var res toolResult
			if err := json.Unmarshal(final.Result, &res); err != nil || res.IsError {
				t.Fatalf("%s", final.Result)
			}
			got := res.StructuredContent
			if got.Scan == nil || got.Scan.Source != tc.wantSource || f.filterCalls != tc.wantFilter {
				t.Fatalf("scan %+v after %d FilterLogEvents calls; want %s after %d", got.Scan, f.filterCalls, tc.wantSource, tc.wantFilter)
			}
			got.Scan = nil
			w := Window{Start: now.Add(-24 * time.Hour), End: now}
			if want := decodeReference(evs, w).Structured(1, "us-east-1", w.Start, w.End); !reflect.DeepEqual(got, want) {
				t.Fatalf("report differs:\n got %+v\nwant %+v", got, want)
			}
			var last float64
			for _, n := range notes {
				var p struct{ Progress float64 }
				if n.Method == mcp.NotificationProgress && json.Unmarshal(n.Params, &p) == nil {
					if p.Progress <= last {
						t.Fatalf("progress %v after %v", p.Progress, last)
					}
					last = p.Progress
				}
			}
		})
	}
}

// TestInsightsRequestTimeoutStopsQueries: when the server's REQUEST_TIMEOUT
// ends a tool call, the queries it started are stopped before the answer
// goes out.
func TestInsightsRequestTimeoutStopsQueries(t *testing.T) {
	now := time.Date(2026, 11, 12, 0, 0, 0, 0, time.UTC)
	f, _, url := newFake(t, insEvents(rand.New(rand.NewPCG(11, 11)), 50, now.Add(-24*time.Hour), 24*time.Hour, 3))
	f.hang = true
	s := server.New(server.Options{})
	if err := RegisterTool(s, ToolConfig{
		Source: SourceInsights, DefaultRegion: "us-east-1",
		Insights:      InsightsSource{PollInterval: time.Millisecond, MaxPollInterval: 10 * time.Millisecond},
		LoadAWSConfig: func(context.Context, string) (aws.Config, error) { return fakeAWSConfig(url), nil },
		Now:           func() time.Time { return now },
	}); err != nil {
		t.Fatal(err)
	}
	cfg := server.DefaultConfig()
	cfg.LogRequests = false
	cfg.RequestTimeout = 300 * time.Millisecond
	h := server.NewHandler(s, cfg, server.HandlerOptions{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	ts := httptest.NewServer(server.NewMux(cfg, h))
	defer func() { h.Close(); ts.Close() }()
	req, _ := http.NewRequest(http.MethodPost, ts.URL+"/mcp", strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_bedrock_usage_report","arguments":{"days":1},`+
		`"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("MCP-Protocol-Version", "2026-07-28")
	req.Header.Set("Mcp-Method", "tools/call")
	req.Header.Set("Mcp-Name", "get_bedrock_usage_report")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(strings.ToLower(string(body)), "timed out") {
		t.Errorf("answer does not say the request timed out: %s", body)
	}
	started, stopped, running := f.counts()
	if started == 0 || stopped != started || running != 0 {
		t.Fatalf("%d queries started, %d stopped, %d still running", started, stopped, running)
	}
	t.Logf("%d queries stopped; answer %s", stopped, body)
}
