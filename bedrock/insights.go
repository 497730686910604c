package bedrock

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/smithy-go"
)

// The Logs Insights source answers the usage report with `stats` queries
// that CloudWatch runs next to the data, so only aggregates travel: a busy
// account's gigabytes of invocation logs never pass through the Lambda.
//
// What was checked against AWS documentation, and what only on paper
// (no AWS account is reachable from the tests; the test double in
// insights_fake_test.go evaluates the same query subset):
//   - documented: StartQuery takes epoch seconds, both bounds inclusive;
//     GetQueryResults returns at most 10,000 rows a page, a status
//     (Scheduled, Running, Complete, Failed, Cancelled, Timeout, Unknown) and
//     statistics (recordsScanned, recordsMatched, bytesScanned); queries time
//     out after 60 minutes; StopQuery ends a running query; the concurrent
//     query limit is per account and region (30 in the API reference,
//     shared with dashboards); toMillis(@timestamp), ispresent, coalesce,
//     bin, count(*), sum, sort and limit are part of the query language;
//     JSON events are flattened with dotted names (identity.arn); Insights
//     extracts at most 200 fields from a JSON event.
//   - on paper only: the exact text of a bin(1d) value in the results
//     (we accept "2006-01-02 15:04:05.000", RFC 3339 and epoch
//     milliseconds); that `fields` adds fields without hiding the others
//     from later commands (stats ... by region after fields); that a group
//     whose key field is absent comes back with
//     the key missing or empty (we count it under ""); that sums come back
//     as decimal text, possibly with a fraction; that LimitExceededException
//     is StartQuery's answer to too many concurrent queries; that a JSON
//     null counts as absent. And the 200-field limit: a record whose
//     request body flattens to more than ~190 fields may lose the token
//     counts that follow the body (input.inputTokenCount); FilterLogEvents
//     and S3 decode the whole record and are not affected.

// InsightsAPI is the part of the CloudWatch Logs client the Logs Insights
// source uses. *cloudwatchlogs.Client implements it.
type InsightsAPI interface {
	StartQuery(ctx context.Context, in *cloudwatchlogs.StartQueryInput, optFns ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.StartQueryOutput, error)
	GetQueryResults(ctx context.Context, in *cloudwatchlogs.GetQueryResultsInput, optFns ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.GetQueryResultsOutput, error)
	StopQuery(ctx context.Context, in *cloudwatchlogs.StopQueryInput, optFns ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.StopQueryOutput, error)
}

// Defaults and limits of InsightsSource.
const (
	// MaxInsightsRows is the most rows one query returns in one page.
	MaxInsightsRows = 10000
	// DefaultInsightsConcurrency runs a whole report at once (seven
	// queries) while leaving most of the account's 30 concurrent queries
	// to others.
	DefaultInsightsConcurrency = 7
	DefaultPollInterval        = 500 * time.Millisecond
	DefaultMaxPollInterval     = 5 * time.Second
	DefaultStopTimeout         = 10 * time.Second
	// DefaultInsightsRetries bounds StartQuery retries when the account is
	// at its concurrent-query limit; queries of other reports end within
	// seconds to minutes, so it waits longer than FilterLogEvents does.
	DefaultInsightsRetries = 16
)

// Dimensions of the report, named as in Report's JSON.
const (
	DimDaily      = "daily"
	DimRegions    = "regions"
	DimModels     = "models"
	DimUsers      = "users"
	DimOperations = "operations"
)

// InsightsSource computes the usage report with CloudWatch Logs Insights
// queries: one per dimension, run concurrently.
type InsightsSource struct {
	Client InsightsAPI
	// LogGroup is the log group name or ARN.
	LogGroup string
	// MaxConcurrent bounds the queries of one report running at once
	// (default DefaultInsightsConcurrency).
	MaxConcurrent int
	// MaxRows bounds the groups one dimension query returns (default and
	// maximum MaxInsightsRows); beyond it the result says which dimensions
	// were cut to their top groups.
	MaxRows int
	// PollInterval is the first delay before GetQueryResults (default
	// 500ms); it grows by half each poll up to MaxPollInterval (default 5s).
	PollInterval, MaxPollInterval time.Duration
	// StartQuery throttling (ThrottlingException, LimitExceededException)
	// is retried MaxRetries times (default 16) with jittered backoff from
	// BaseBackoff (default 200ms) to MaxBackoff (default 5s).
	MaxRetries              int
	BaseBackoff, MaxBackoff time.Duration
	// StopTimeout bounds the StopQuery calls made after cancellation
	// (default 10s); they run on a context of their own, since the
	// request's is already done.
	StopTimeout time.Duration
}

// InsightsProgress is the running total over a report's queries, from the
// statistics GetQueryResults returns.
type InsightsProgress struct {
	Queries, Done  int
	RecordsScanned int64
	RecordsMatched int64
	BytesScanned   int64
}

// Truncation says that a dimension has more groups than one query returns:
// only the top Shown groups (by total tokens) are in the report, while the
// totals still count every record.
type Truncation struct {
	Dimension string
	Shown     int
}

// InsightsResult is a report computed by Logs Insights.
type InsightsResult struct {
	*Aggregator
	Stats     InsightsProgress
	Truncated []Truncation
}

// insightsQuery is one query of a report. by is the group expression and
// also the name of its column in the results ("" for the totals).
type insightsQuery struct {
	name, by, text string
}

// validRecord is the subset of records the decoder accepts that a query can
// tell apart: a JSON event with a non-empty modelId and a timestamp field.
// Records the decoder rejects for other reasons (a token count that is not
// a number, say) are counted by Logs Insights as usual.
const validRecord = `ispresent(modelId) and modelId != "" and ispresent(timestamp)`

func windowFilter(startMs, endMs int64) string {
	return "fields toMillis(@timestamp) as ts" +
		" | filter ts >= " + strconv.FormatInt(startMs, 10) + " and ts < " + strconv.FormatInt(endMs, 10)
}

// buildInsightsQueries returns the totals query, one query per dimension
// and the malformed-record count, for events in [startMs, endMs).
func buildInsightsQueries(startMs, endMs int64, rows int) []insightsQuery {
	head := windowFilter(startMs, endMs) +
		" | filter " + validRecord +
		" | fields coalesce(input.inputTokenCount, 0) as inTok, coalesce(output.outputTokenCount, 0) as outTok," +
		" coalesce(input.cacheReadInputTokenCount, 0) as crTok, coalesce(input.cacheWriteInputTokenCount, 0) as cwTok" +
		" | fields inTok + outTok as tok" +
		" | stats count(*) as requests, sum(inTok) as inputTokens, sum(outTok) as outputTokens," +
		" sum(crTok) as cacheReadTokens, sum(cwTok) as cacheWriteTokens, sum(tok) as totalTokens"
	// Sorting by total tokens keeps the groups the report lists first when
	// a dimension has more groups than a query returns.
	tail := " | sort totalTokens desc | limit " + strconv.Itoa(rows)
	qs := []insightsQuery{{name: "totals", text: head}}
	for _, d := range [...]struct{ name, by string }{
		{DimDaily, "bin(1d)"}, {DimRegions, "region"}, {DimModels, "modelId"},
		{DimUsers, "identity.arn"}, {DimOperations, "operation"},
	} {
		qs = append(qs, insightsQuery{name: d.name, by: d.by, text: head + " by " + d.by + tail})
	}
	return append(qs, insightsQuery{name: "malformed",
		text: windowFilter(startMs, endMs) + " | filter not (" + validRecord + ") | stats count(*) as malformed"})
}

// malformedSamplesQuery fetches the first malformed records, so the report
// names their faults with the decoder's own words.
func malformedSamplesQuery(startMs, endMs int64) string {
	return windowFilter(startMs, endMs) + " | filter not (" + validRecord + ")" +
		" | fields ts, @message | sort ts asc | limit " + strconv.Itoa(MaxMalformedSamples)
}

// Aggregate runs the report's queries over the window and returns the
// report. progress (if non-nil) is called, never concurrently, as query
// statistics arrive. On cancellation or timeout of ctx every query still
// running is stopped with StopQuery.
func (s *InsightsSource) Aggregate(ctx context.Context, w Window, progress func(InsightsProgress)) (*InsightsResult, error) {
	if s.Client == nil {
		return nil, errors.New("cloudwatch: no CloudWatch Logs client")
	}
	if s.LogGroup == "" {
		return nil, errors.New("cloudwatch: no log group given")
	}
	var startMs, endMs int64
	if !w.Start.IsZero() {
		startMs = ceilMilli(w.Start)
	}
	if w.End.IsZero() {
		endMs = ceilMilli(time.Now())
	} else {
		endMs = ceilMilli(w.End)
	}
	res := &InsightsResult{Aggregator: NewAggregator()}
	if endMs <= startMs {
		if !w.End.IsZero() && w.End.Before(w.Start) {
			return nil, fmt.Errorf("cloudwatch: window end %s is before start %s",
				w.End.Format(time.RFC3339), w.Start.Format(time.RFC3339))
		}
		return res, nil
	}
	rows := s.MaxRows
	if rows <= 0 || rows > MaxInsightsRows {
		rows = MaxInsightsRows
	}
	r := &insightsRun{s: s, startS: startMs / 1000, endS: (endMs + 999) / 1000, progress: progress}
	queries := buildInsightsQueries(startMs, endMs, rows)
	r.stats = make([]types.QueryStatistics, len(queries))
	r.total.Queries = len(queries)
	results, err := r.runAll(ctx, queries)
	if err != nil {
		return nil, err
	}
	for i, q := range queries {
		if err := res.add(q, results[i]); err != nil {
			return nil, fmt.Errorf("cloudwatch: Logs Insights query %q on log group %q: %w", q.name, s.LogGroup, err)
		}
		if q.by != "" && len(results[i]) >= rows {
			res.Truncated = append(res.Truncated, Truncation{Dimension: q.name, Shown: len(results[i])})
		}
	}
	if res.malformed > 0 {
		r.addQueries(1)
		got, err := r.runAll(ctx, []insightsQuery{{name: "malformed samples", text: malformedSamplesQuery(startMs, endMs)}})
		if err != nil {
			return nil, err
		}
		var dec Decoder
		for _, row := range got[0] {
			msg, _ := field(row, "@message")
			reason := "no modelId or timestamp found by Logs Insights"
			if _, err := dec.Decode([]byte(msg)); err != nil {
				var re *RecordError
				if errors.As(err, &re) {
					reason = re.Reason
				} else {
					reason = err.Error()
				}
			}
			if len(res.samples) < MaxMalformedSamples {
				res.samples = append(res.samples, reason)
			}
		}
	}
	res.Stats = r.snapshot()
	return res, nil
}

// insightsRun is the state of one report's queries.
type insightsRun struct {
	s            *InsightsSource
	startS, endS int64
	progress     func(InsightsProgress)
	mu           sync.Mutex // guards stats and total, and serialises progress
	stats        []types.QueryStatistics
	total        InsightsProgress
	statsOffset  int
}

func (r *insightsRun) addQueries(n int) {
	r.mu.Lock()
	r.statsOffset = len(r.stats)
	r.stats = append(r.stats, make([]types.QueryStatistics, n)...)
	r.total.Queries += n
	r.mu.Unlock()
}

func (r *insightsRun) snapshot() InsightsProgress {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.total
}

// update records query i's statistics (never letting a figure go down) and
// reports the new totals.
func (r *insightsRun) update(i int, st *types.QueryStatistics, done bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	i += r.statsOffset
	if st != nil {
		cur := &r.stats[i]
		cur.RecordsScanned = max(cur.RecordsScanned, st.RecordsScanned)
		cur.RecordsMatched = max(cur.RecordsMatched, st.RecordsMatched)
		cur.BytesScanned = max(cur.BytesScanned, st.BytesScanned)
	}
	var t InsightsProgress
	t.Queries, t.Done = r.total.Queries, r.total.Done
	if done {
		t.Done++
	}
	for _, q := range r.stats {
		t.RecordsScanned += int64(q.RecordsScanned)
		t.RecordsMatched += int64(q.RecordsMatched)
		t.BytesScanned += int64(q.BytesScanned)
	}
	changed := t != r.total
	r.total = t
	if r.progress != nil && changed {
		r.progress(t)
	}
}

// runAll runs queries concurrently, at most MaxConcurrent at a time. The
// first failure cancels (and so stops) the others.
func (r *insightsRun) runAll(parent context.Context, queries []insightsQuery) ([][][]types.ResultField, error) {
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	conc := r.s.MaxConcurrent
	if conc <= 0 {
		conc = DefaultInsightsConcurrency
	}
	sem := make(chan struct{}, conc)
	results := make([][][]types.ResultField, len(queries))
	var (
		wg       sync.WaitGroup
		errOnce  sync.Once
		firstErr error
	)
	for i, q := range queries {
		wg.Go(func() {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			defer func() { <-sem }()
			rows, err := r.run(ctx, i, q)
			if err != nil {
				errOnce.Do(func() { firstErr = err; cancel() })
				return
			}
			results[i] = rows
		})
	}
	wg.Wait()
	if err := parent.Err(); err != nil {
		return nil, err
	}
	if firstErr != nil {
		return nil, firstErr
	}
	return results, nil
}

// run starts query i, polls it to its end and returns its rows. If it
// returns before the query ended (cancellation, timeout, an error), the
// query is stopped.
func (r *insightsRun) run(ctx context.Context, i int, q insightsQuery) (_ [][]types.ResultField, err error) {
	s := r.s
	in := &cloudwatchlogs.StartQueryInput{
		StartTime:   aws.Int64(r.startS),
		EndTime:     aws.Int64(r.endS),
		QueryString: aws.String(q.text),
		Limit:       aws.Int32(MaxInsightsRows),
	}
	if strings.HasPrefix(s.LogGroup, "arn:") {
		in.LogGroupIdentifiers = []string{strings.TrimSuffix(s.LogGroup, ":*")}
	} else {
		in.LogGroupName = aws.String(s.LogGroup)
	}
	var started *cloudwatchlogs.StartQueryOutput
	retries := s.MaxRetries
	if retries <= 0 {
		retries = DefaultInsightsRetries
	}
	err, exhausted := retryThrottled(ctx, retries, s.BaseBackoff, s.MaxBackoff, isInsightsThrottle, func() error {
		var err error
		started, err = s.Client.StartQuery(ctx, in)
		return err
	})
	switch {
	case err == nil:
	case exhausted:
		return nil, fmt.Errorf("cloudwatch: Logs Insights StartQuery on log group %q still refused after %d retries: the account's concurrent-query limit (per region, shared with dashboards and other reports) is taken; lower BEDROCK_INSIGHTS_CONCURRENCY or try again later: %w",
			s.LogGroup, retries, err)
	case ctx.Err() != nil:
		return nil, ctx.Err()
	default:
		return nil, s.translate("StartQuery", err)
	}
	id := aws.ToString(started.QueryId)
	if id == "" {
		return nil, fmt.Errorf("cloudwatch: Logs Insights StartQuery on log group %q returned no query id", s.LogGroup)
	}
	ended := false
	defer func() {
		if !ended {
			s.stop(ctx, id)
		}
	}()
	delay := s.PollInterval
	if delay <= 0 {
		delay = DefaultPollInterval
	}
	maxDelay := s.MaxPollInterval
	if maxDelay <= 0 {
		maxDelay = DefaultMaxPollInterval
	}
	for {
		if err := sleepCtx(ctx, delay); err != nil {
			return nil, err
		}
		delay = min(delay+delay/2, maxDelay)
		out, err := s.Client.GetQueryResults(ctx, &cloudwatchlogs.GetQueryResultsInput{QueryId: aws.String(id)})
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			if isInsightsThrottle(err) {
				continue // the growing poll delay is the backoff
			}
			return nil, s.translate("GetQueryResults", err)
		}
		switch out.Status {
		case types.QueryStatusComplete:
			ended = true
			r.update(i, out.Statistics, true)
			return out.Results, nil
		case types.QueryStatusScheduled, types.QueryStatusRunning:
			r.update(i, out.Statistics, false)
		case types.QueryStatusTimeout:
			ended = true
			return nil, fmt.Errorf("cloudwatch: Logs Insights query %q on log group %q timed out in CloudWatch (queries may run 60 minutes); report fewer days", q.name, s.LogGroup)
		default: // Failed, Cancelled, Unknown
			ended = out.Status != types.QueryStatusUnknown
			return nil, fmt.Errorf("cloudwatch: Logs Insights query %q on log group %q ended with status %s", q.name, s.LogGroup, out.Status)
		}
	}
}

// stop ends a query that is still running. The request's context may be
// done already, so it gets a context of its own.
func (s *InsightsSource) stop(ctx context.Context, id string) {
	d := s.StopTimeout
	if d <= 0 {
		d = DefaultStopTimeout
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), d)
	defer cancel()
	// An error here (the query ended meanwhile, say) changes nothing for
	// the caller, who is already returning an error of its own.
	_, _ = s.Client.StopQuery(sctx, &cloudwatchlogs.StopQueryInput{QueryId: aws.String(id)})
}

func (s *InsightsSource) translate(op string, err error) error {
	var ae smithy.APIError
	if errors.As(err, &ae) && ae.ErrorCode() == "MalformedQueryException" {
		return fmt.Errorf("cloudwatch: Logs Insights rejected the report's query on log group %q (a bug in this server; please report it): %w", s.LogGroup, err)
	}
	return translateLogsError(err, op, `"logs:StartQuery", "logs:GetQueryResults" and "logs:StopQuery"`, s.LogGroup, clientRegion(s.Client))
}

func isInsightsThrottle(err error) bool {
	var ae smithy.APIError
	if errors.As(err, &ae) && ae.ErrorCode() == "LimitExceededException" {
		return true
	}
	return isThrottle(err)
}

// field returns a result row's value for name.
func field(row []types.ResultField, name string) (string, bool) {
	for _, f := range row {
		if aws.ToString(f.Field) == name {
			return aws.ToString(f.Value), true
		}
	}
	return "", false
}

// add folds one query's rows into the result.
func (res *InsightsResult) add(q insightsQuery, rows [][]types.ResultField) error {
	a := res.Aggregator
	if q.name == "malformed" {
		for _, row := range rows {
			v, _ := field(row, "malformed")
			n, err := parseCount(v)
			if err != nil {
				return err
			}
			a.malformed += n
		}
		return nil
	}
	for _, row := range rows {
		t, err := rowTotals(row)
		if err != nil {
			return err
		}
		key, _ := field(row, q.by)
		switch q.name {
		case "totals":
			a.overall.merge(&t)
		case DimDaily:
			day, err := parseBin(key)
			if err != nil {
				return err
			}
			if a.days == nil {
				a.days = make(map[int32]*Totals)
			}
			k := dayKey(day)
			if a.days[k] == nil {
				a.days[k] = new(Totals)
			}
			a.days[k].merge(&t)
		case DimRegions:
			group(&a.regions, key).merge(&t)
		case DimModels:
			group(&a.models, key).merge(&t)
		case DimUsers:
			group(&a.users, key).merge(&t)
		case DimOperations:
			group(&a.operations, key).merge(&t)
		}
	}
	return nil
}

func rowTotals(row []types.ResultField) (Totals, error) {
	var t Totals
	for _, c := range [...]struct {
		name string
		dst  *int64
	}{
		{"requests", &t.Requests}, {"inputTokens", &t.InputTokens}, {"outputTokens", &t.OutputTokens},
		{"cacheReadTokens", &t.CacheReadTokens}, {"cacheWriteTokens", &t.CacheWriteTokens},
	} {
		v, _ := field(row, c.name)
		n, err := parseCount(v)
		if err != nil {
			return t, fmt.Errorf("column %s: %w", c.name, err)
		}
		*c.dst = n
	}
	return t, nil
}

// parseCount reads a count or sum as Logs Insights prints it: an integer,
// possibly written with a fraction or exponent; empty means none.
func parseCount(v string) (int64, error) {
	if v == "" {
		return 0, nil
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		return n, nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f < 0 || f > 1<<62 {
		return 0, fmt.Errorf("unexpected number %q", v)
	}
	return int64(f + 0.5), nil
}

// parseBin reads a bin(1d) value as a UTC time.
func parseBin(v string) (time.Time, error) {
	for _, layout := range [...]string{"2006-01-02 15:04:05.000", "2006-01-02 15:04:05", time.RFC3339Nano} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC(), nil
		}
	}
	if ms, err := strconv.ParseInt(v, 10, 64); err == nil {
		return time.UnixMilli(ms).UTC(), nil
	}
	return time.Time{}, fmt.Errorf("unexpected bin(1d) value %q", v)
}
