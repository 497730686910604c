package bedrock

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/smithy-go"

	"mcplambda/test/moto"
)

// ---- helpers ----

func cwChecksum(msgs []string) string {
	s := slices.Clone(msgs)
	slices.Sort(s)
	h := sha256.New()
	for _, m := range s {
		h.Write([]byte(m))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

type cwCollector struct {
	msgs     []string
	progress []Progress
}

func (c *cwCollector) emit(b []byte) error { c.msgs = append(c.msgs, string(b)); return nil }
func (c *cwCollector) prog(p Progress)     { c.progress = append(c.progress, p) }

func (c *cwCollector) checkProgress(t *testing.T) {
	t.Helper()
	if len(c.progress) == 0 {
		t.Fatal("progress never called")
	}
	for i, p := range c.progress {
		if p.Pages != int64(i+1) {
			t.Fatalf("progress[%d].Pages = %d, want %d", i, p.Pages, i+1)
		}
		if i > 0 {
			prev := c.progress[i-1]
			if p.Events < prev.Events || p.Covered.Before(prev.Covered) {
				t.Fatalf("progress went backwards: %+v after %+v", p, prev)
			}
		}
	}
	last := c.progress[len(c.progress)-1]
	if last.Events != int64(len(c.msgs)) {
		t.Fatalf("last progress Events = %d, emitted %d", last.Events, len(c.msgs))
	}
}

// ---- moto ----

type cwEvent struct {
	ts  int64
	msg string
}

func TestCloudWatchMoto(t *testing.T) {
	srv := moto.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	client := cloudwatchlogs.NewFromConfig(srv.AWSConfig(ctx))

	const group = "/aws/bedrock/modelinvocations"
	const stream = "aws/bedrock/modelinvocations"
	if _, err := client.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(group)}); err != nil {
		t.Fatalf("CreateLogGroup: %v", err)
	}
	if _, err := client.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{
		LogGroupName: aws.String(group), LogStreamName: aws.String(stream)}); err != nil {
		t.Fatalf("CreateLogStream: %v", err)
	}

	// 3000 events over 5 days, one every 144 s, starting at a day boundary
	// (real CloudWatch rejects events older than 14 days; keep them recent).
	const n = 3000
	day0 := time.Now().UTC().Add(-7 * 24 * time.Hour).Truncate(24 * time.Hour)
	step := 5 * 24 * time.Hour / n
	events := make([]cwEvent, n)
	for i := range events {
		ts := day0.Add(time.Duration(i) * step).UnixMilli()
		events[i] = cwEvent{ts, fmt.Sprintf(`{"schemaType":"ModelInvocationLog","requestId":"req-%05d","timestamp":"%s","modelId":"anthropic.claude-3-haiku","input":{"inputTokenCount":%d},"output":{"outputTokenCount":%d}}`,
			i, time.UnixMilli(ts).UTC().Format(time.RFC3339), 100+i%50, 10+i%7)}
	}
	putEvents(ctx, t, client, group, stream, events)

	want := func(w Window) []string {
		var out []string
		for _, e := range events {
			if e.ts >= w.Start.UnixMilli() && e.ts < w.End.UnixMilli() {
				out = append(out, e.msg)
			}
		}
		return out
	}
	// Day 2 00:00 to day 3 12:00, and the end bound falls exactly on an event.
	win := Window{Start: day0.Add(24 * time.Hour), End: day0.Add(60 * time.Hour)}
	exp := want(win)
	if len(exp) != 900 {
		t.Fatalf("test setup: expected 900 events in window, got %d", len(exp))
	}

	for _, limit := range []int32{100, 0} {
		t.Run(fmt.Sprintf("PageLimit=%d", limit), func(t *testing.T) {
			src := &CloudWatchSource{Client: client, LogGroup: group, PageLimit: limit}
			var c cwCollector
			if err := src.Read(ctx, win, c.emit, c.prog); err != nil {
				t.Fatalf("Read: %v", err)
			}
			if len(c.msgs) != len(exp) {
				t.Fatalf("got %d messages, want %d", len(c.msgs), len(exp))
			}
			if got, w := cwChecksum(c.msgs), cwChecksum(exp); got != w {
				t.Fatalf("checksum %s, want %s", got, w)
			}
			c.checkProgress(t)
			t.Logf("PageLimit=%d: %d events in %d pages; covered %s", limit, len(c.msgs), len(c.progress),
				c.progress[len(c.progress)-1].Covered.UTC().Format(time.RFC3339))
			if limit == 100 && len(c.progress) < 9 {
				t.Errorf("PageLimit 100 gave only %d pages for %d events", len(c.progress), len(c.msgs))
			}
			last := c.progress[len(c.progress)-1].Covered
			if wantLast := time.UnixMilli(win.End.UnixMilli() - step.Milliseconds()); !last.Equal(wantLast) {
				t.Errorf("Covered = %s, want %s", last.UTC(), wantLast.UTC())
			}
		})
	}

	t.Run("whole range", func(t *testing.T) {
		src := &CloudWatchSource{Client: client, LogGroup: group, PageLimit: 1000}
		var c cwCollector
		all := Window{Start: day0, End: day0.Add(5 * 24 * time.Hour)}
		if err := src.Read(ctx, all, c.emit, c.prog); err != nil {
			t.Fatal(err)
		}
		if len(c.msgs) != n {
			t.Fatalf("got %d, want %d", len(c.msgs), n)
		}
		c.checkProgress(t)
	})

	t.Run("empty window", func(t *testing.T) {
		src := &CloudWatchSource{Client: client, LogGroup: group, PageLimit: 100}
		var c cwCollector
		empty := Window{Start: day0.Add(-3 * 24 * time.Hour), End: day0.Add(-time.Millisecond)}
		if err := src.Read(ctx, empty, c.emit, c.prog); err != nil {
			t.Fatal(err)
		}
		if len(c.msgs) != 0 {
			t.Fatalf("got %d messages from an empty window", len(c.msgs))
		}
		if len(c.progress) == 0 || c.progress[len(c.progress)-1].Events != 0 {
			t.Fatalf("progress = %+v", c.progress)
		}
	})

	t.Run("emit error stops", func(t *testing.T) {
		src := &CloudWatchSource{Client: client, LogGroup: group, PageLimit: 100}
		stop := errors.New("stop")
		count := 0
		err := src.Read(ctx, win, func([]byte) error {
			count++
			if count == 150 {
				return stop
			}
			return nil
		}, nil)
		if !errors.Is(err, stop) || count != 150 {
			t.Fatalf("err = %v after %d events", err, count)
		}
	})

	// The tests above prove something only where moto behaves as the real
	// API does on what Read relies on: both time bounds inclusive (Read
	// asks for End-1 ms, so the end bound stays exclusive) and Limit at
	// most 10000, to which Read clamps a larger PageLimit.
	t.Run("moto keeps the API's bounds and limit", func(t *testing.T) {
		ts := events[10].ts
		out, err := client.FilterLogEvents(ctx, &cloudwatchlogs.FilterLogEventsInput{
			LogGroupName: aws.String(group), StartTime: aws.Int64(ts), EndTime: aws.Int64(ts)})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Events) != 1 || aws.ToInt64(out.Events[0].Timestamp) != ts {
			t.Fatalf("StartTime = EndTime = an event's time: %d events, want that one event (both bounds inclusive)", len(out.Events))
		}
		_, err = client.FilterLogEvents(ctx, &cloudwatchlogs.FilterLogEventsInput{
			LogGroupName: aws.String(group), Limit: aws.Int32(DefaultPageLimit + 1)})
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != "InvalidParameterException" {
			t.Fatalf("Limit %d: %v, want InvalidParameterException as from the real API", DefaultPageLimit+1, err)
		}
		src := &CloudWatchSource{Client: client, LogGroup: group, PageLimit: 2 * DefaultPageLimit}
		var c cwCollector
		if err := src.Read(ctx, win, c.emit, c.prog); err != nil {
			t.Fatalf("Read with PageLimit %d (clamped to the API's %d): %v", src.PageLimit, DefaultPageLimit, err)
		}
		if len(c.msgs) != len(exp) {
			t.Fatalf("Read with PageLimit %d: %d messages, want %d", src.PageLimit, len(c.msgs), len(exp))
		}
	})

	t.Run("missing group", func(t *testing.T) {
		src := &CloudWatchSource{Client: client, LogGroup: "/aws/bedrock/nope"}
		err := src.Read(ctx, win, func([]byte) error { return nil }, nil)
		if !errors.Is(err, ErrLogGroupNotFound) {
			t.Fatalf("err = %v, want ErrLogGroupNotFound", err)
		}
		if !strings.Contains(err.Error(), "/aws/bedrock/nope") || !strings.Contains(err.Error(), "us-east-1") {
			t.Fatalf("error does not name group and region: %v", err)
		}
		t.Logf("moto missing group: %v", err)
	})
}

func putEvents(ctx context.Context, t *testing.T, client *cloudwatchlogs.Client, group, stream string, events []cwEvent) {
	t.Helper()
	const maxBatch, maxBytes = 10000, 1 << 20
	var batch []types.InputLogEvent
	size := 0
	flush := func() {
		if len(batch) == 0 {
			return
		}
		if _, err := client.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{
			LogGroupName: aws.String(group), LogStreamName: aws.String(stream), LogEvents: batch,
		}); err != nil {
			t.Fatalf("PutLogEvents: %v", err)
		}
		batch, size = nil, 0
	}
	for _, e := range events { // already chronological
		sz := len(e.msg) + 26 // per-event overhead counted by the API
		if len(batch) == maxBatch || size+sz > maxBytes {
			flush()
		}
		batch = append(batch, types.InputLogEvent{Timestamp: aws.Int64(e.ts), Message: aws.String(e.msg)})
		size += sz
	}
	flush()
}

// ---- fake ----

type fakeLogs struct {
	mu     sync.Mutex
	calls  int
	inputs []cloudwatchlogs.FilterLogEventsInput
	fn     func(call int, in *cloudwatchlogs.FilterLogEventsInput) (*cloudwatchlogs.FilterLogEventsOutput, error)
}

func (f *fakeLogs) FilterLogEvents(ctx context.Context, in *cloudwatchlogs.FilterLogEventsInput, _ ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.FilterLogEventsOutput, error) {
	f.mu.Lock()
	call := f.calls
	f.calls++
	f.inputs = append(f.inputs, *in)
	f.mu.Unlock()
	return f.fn(call, in)
}

func apiErr(code string) error {
	return &smithy.GenericAPIError{Code: code, Message: code + " message"}
}

func page(token string, msgs ...string) *cloudwatchlogs.FilterLogEventsOutput {
	out := &cloudwatchlogs.FilterLogEventsOutput{}
	for i, m := range msgs {
		out.Events = append(out.Events, types.FilteredLogEvent{Message: aws.String(m), Timestamp: aws.Int64(int64(1000 + i))})
	}
	if token != "" {
		out.NextToken = aws.String(token)
	}
	return out
}

var cwWin = Window{Start: time.UnixMilli(0), End: time.UnixMilli(1_000_000)}

func TestCloudWatchFakeEmptyPages(t *testing.T) {
	f := &fakeLogs{fn: func(call int, in *cloudwatchlogs.FilterLogEventsInput) (*cloudwatchlogs.FilterLogEventsOutput, error) {
		switch call {
		case 0:
			return page("t1"), nil
		case 1:
			return page("t2"), nil
		case 2:
			return page("t3", "a", "b"), nil
		case 3:
			return page("t4"), nil
		default:
			return page("", "c"), nil
		}
	}}
	src := &CloudWatchSource{Client: f, LogGroup: "g", PageLimit: 50}
	var c cwCollector
	if err := src.Read(context.Background(), cwWin, c.emit, c.prog); err != nil {
		t.Fatal(err)
	}
	if strings.Join(c.msgs, ",") != "a,b,c" || f.calls != 5 {
		t.Fatalf("msgs %v after %d calls", c.msgs, f.calls)
	}
	c.checkProgress(t)
	in := f.inputs[1]
	if aws.ToString(in.NextToken) != "t1" || aws.ToInt32(in.Limit) != 50 || aws.ToString(in.LogGroupName) != "g" ||
		aws.ToInt64(in.StartTime) != 0 || aws.ToInt64(in.EndTime) != 999_999 {
		t.Fatalf("input %+v", in)
	}
}

func TestCloudWatchFakeThrottle(t *testing.T) {
	t.Run("retried then succeeds", func(t *testing.T) {
		f := &fakeLogs{fn: func(call int, _ *cloudwatchlogs.FilterLogEventsInput) (*cloudwatchlogs.FilterLogEventsOutput, error) {
			if call < 3 {
				return nil, apiErr("ThrottlingException")
			}
			return page("", "x"), nil
		}}
		src := &CloudWatchSource{Client: f, LogGroup: "g", BaseBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond}
		var c cwCollector
		if err := src.Read(context.Background(), cwWin, c.emit, c.prog); err != nil {
			t.Fatal(err)
		}
		if len(c.msgs) != 1 || f.calls != 4 || len(c.progress) != 1 {
			t.Fatalf("msgs %v calls %d progress %v", c.msgs, f.calls, c.progress)
		}
	})
	t.Run("too many", func(t *testing.T) {
		f := &fakeLogs{fn: func(int, *cloudwatchlogs.FilterLogEventsInput) (*cloudwatchlogs.FilterLogEventsOutput, error) {
			return nil, apiErr("ThrottlingException")
		}}
		src := &CloudWatchSource{Client: f, LogGroup: "g", MaxRetries: 3, BaseBackoff: time.Millisecond}
		err := src.Read(context.Background(), cwWin, func([]byte) error { return nil }, nil)
		if err == nil || !strings.Contains(strings.ToLower(err.Error()), "throttl") {
			t.Fatalf("err = %v", err)
		}
		if f.calls != 4 {
			t.Fatalf("calls = %d, want 4", f.calls)
		}
	})
	t.Run("cancel during backoff", func(t *testing.T) {
		f := &fakeLogs{fn: func(int, *cloudwatchlogs.FilterLogEventsInput) (*cloudwatchlogs.FilterLogEventsOutput, error) {
			return nil, apiErr("ThrottlingException")
		}}
		src := &CloudWatchSource{Client: f, LogGroup: "g", BaseBackoff: 10 * time.Second, MaxBackoff: 10 * time.Second}
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(50*time.Millisecond, cancel)
		began := time.Now()
		err := src.Read(ctx, cwWin, func([]byte) error { return nil }, nil)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v", err)
		}
		if d := time.Since(began); d > 2*time.Second {
			t.Fatalf("took %v to notice cancellation", d)
		}
	})
	t.Run("backoff bounds", func(t *testing.T) {
		for a := 0; a < 12; a++ {
			d := backoff(a, 200*time.Millisecond, 5*time.Second)
			hi := min(200*time.Millisecond<<a, 5*time.Second)
			if d < hi/2 || d > hi {
				t.Fatalf("backoff(%d) = %v, want in [%v, %v]", a, d, hi/2, hi)
			}
		}
	})
}

func TestCloudWatchFakeErrors(t *testing.T) {
	fail := func(err error) *fakeLogs {
		return &fakeLogs{fn: func(int, *cloudwatchlogs.FilterLogEventsInput) (*cloudwatchlogs.FilterLogEventsOutput, error) {
			return nil, err
		}}
	}
	nop := func([]byte) error { return nil }

	src := &CloudWatchSource{Client: fail(apiErr("ResourceNotFoundException")), LogGroup: "/aws/bedrock/missing"}
	err := src.Read(context.Background(), cwWin, nop, nil)
	if !errors.Is(err, ErrLogGroupNotFound) || !strings.Contains(err.Error(), "/aws/bedrock/missing") {
		t.Fatalf("not found: %v", err)
	}
	for _, code := range []string{"AccessDeniedException", "UnrecognizedClientException"} {
		src = &CloudWatchSource{Client: fail(apiErr(code)), LogGroup: "grp"}
		err = src.Read(context.Background(), cwWin, nop, nil)
		if !errors.Is(err, ErrAccessDenied) || !strings.Contains(err.Error(), "logs:FilterLogEvents") || !strings.Contains(err.Error(), "grp") {
			t.Fatalf("%s: %v", code, err)
		}
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != code {
			t.Fatalf("%s: original error lost: %v", code, err)
		}
	}
	other := errors.New("boom")
	src = &CloudWatchSource{Client: fail(other), LogGroup: "grp"}
	if err = src.Read(context.Background(), cwWin, nop, nil); !errors.Is(err, other) ||
		errors.Is(err, ErrAccessDenied) || errors.Is(err, ErrLogGroupNotFound) || errors.Is(err, ErrNoCredentials) {
		t.Fatalf("other: %v", err)
	}
}

// A real client whose credentials provider fails: the request never leaves
// the process, so no server is needed.
func TestCloudWatchNoCredentials(t *testing.T) {
	client := cloudwatchlogs.New(cloudwatchlogs.Options{
		Region:       "eu-west-1",
		BaseEndpoint: aws.String("http://127.0.0.1:1"),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{}, errors.New("no EC2 IMDS role found")
		}),
		RetryMaxAttempts: 1,
	})
	src := &CloudWatchSource{Client: client, LogGroup: "grp"}
	err := src.Read(context.Background(), cwWin, func([]byte) error { return nil }, nil)
	if !errors.Is(err, ErrNoCredentials) || !strings.Contains(err.Error(), "eu-west-1") {
		t.Fatalf("err = %v", err)
	}
	t.Log(err)
}

func TestCloudWatchCancelBetweenPages(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f := &fakeLogs{fn: func(call int, _ *cloudwatchlogs.FilterLogEventsInput) (*cloudwatchlogs.FilterLogEventsOutput, error) {
		if call == 2 {
			cancel()
		}
		return page("more", "m"), nil
	}}
	src := &CloudWatchSource{Client: f, LogGroup: "g"}
	err := src.Read(ctx, cwWin, func([]byte) error { return nil }, nil)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
}
