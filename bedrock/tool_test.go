package bedrock

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"mcplambda/mcp"
	"mcplambda/server"
	"mcplambda/test/moto"
)

// mcpCall runs one tools/call through a real Handler, in a session, and
// returns the notifications and the final message.
func mcpCall(t *testing.T, srv *server.Server, args string) (notes []*mcp.Message, final *mcp.Message) {
	t.Helper()
	return mcpCallEra(t, srv, args, false)
}

// mcpCallEra is mcpCall in either era: modern sends one stateless request
// of protocol 2026-07-28 instead of a session.
func mcpCallEra(t *testing.T, srv *server.Server, args string, modern bool) (notes []*mcp.Message, final *mcp.Message) {
	t.Helper()
	cfg := server.DefaultConfig()
	cfg.LogRequests = false
	h := server.NewHandler(srv, cfg, server.HandlerOptions{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	ts := httptest.NewServer(server.NewMux(cfg, h))
	defer func() { h.Close(); ts.Close() }()
	post := func(sid, body string) *http.Response {
		req, _ := http.NewRequest(http.MethodPost, ts.URL+"/mcp", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		if sid != "" {
			req.Header.Set("Mcp-Session-Id", sid)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	var resp *http.Response
	if modern {
		req, _ := http.NewRequest(http.MethodPost, ts.URL+"/mcp", strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_bedrock_usage_report","arguments":`+args+
			`,"_meta":{"progressToken":"p","io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		req.Header.Set("MCP-Protocol-Version", "2026-07-28")
		req.Header.Set("Mcp-Method", "tools/call")
		req.Header.Set("Mcp-Name", "get_bedrock_usage_report")
		var err error
		if resp, err = http.DefaultClient.Do(req); err != nil {
			t.Fatal(err)
		}
	} else {
		resp = post("", `{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`)
		resp.Body.Close()
		sid := resp.Header.Get("Mcp-Session-Id")
		resp = post(sid, `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_bedrock_usage_report","arguments":`+args+`,"_meta":{"progressToken":"p"}}}`)
	}
	defer resp.Body.Close()
	if resp.Header.Get("Content-Type") == "application/json" {
		b, _ := io.ReadAll(resp.Body)
		m, err := mcp.DecodeMessage(b)
		if err != nil {
			t.Fatal(err)
		}
		return nil, m
	}
	dec := mcp.NewDecoder(resp.Body)
	for {
		ev, err := dec.Next()
		if err != nil {
			t.Fatalf("SSE: %v", err)
		}
		if len(ev.Data) == 0 {
			continue
		}
		m, err := mcp.DecodeMessage(bytes.Clone(ev.Data))
		if err != nil {
			t.Fatal(err)
		}
		if m.Kind() == mcp.KindResponse {
			return notes, m
		}
		notes = append(notes, m)
	}
}

type toolResult struct {
	Content []struct {
		Type, Text, Data, MimeType string
		Meta                       map[string]any `json:"_meta"`
	} `json:"content"`
	StructuredContent Report `json:"structuredContent"`
	IsError           bool   `json:"isError"`
}

// TestReportFromCloudWatchOnMoto puts a few thousand invocation records
// into a CloudWatch Logs group on moto_server, asks for the report through
// the MCP server, and checks every figure against an independent sum.
func TestReportFromCloudWatchOnMoto(t *testing.T) {
	ctx := context.Background()
	srv := moto.Start(t)
	awsCfg := srv.AWSConfig(ctx)
	logs := cloudwatchlogs.NewFromConfig(awsCfg)
	const group, stream = "/aws/bedrock/modelinvocations", "aws/bedrock/modelinvocations"
	if _, err := logs.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(group)}); err != nil {
		t.Fatal(err)
	}
	if _, err := logs.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String(group), LogStreamName: aws.String(stream)}); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Second)
	rng := rand.New(rand.NewPCG(7, 9))
	var events []cwEvent
	var records []Record
	for range 3000 {
		b, r := genRecord(nil, rng, 1)
		ts := now.Add(-time.Duration(rng.Int64N(int64(3 * 24 * time.Hour)))).Add(-time.Minute).Truncate(time.Second)
		b = bytes.Replace(b, []byte(r.Timestamp.Format(time.RFC3339)), []byte(ts.Format(time.RFC3339)), 1)
		r.Timestamp = ts
		records = append(records, r)
		events = append(events, cwEvent{ts: ts.UnixMilli(), msg: string(b)})
	}
	for i := range 25 { // malformed: counted, never fatal
		ts := now.Add(-time.Duration(i+1) * time.Hour)
		events = append(events, cwEvent{ts: ts.UnixMilli(), msg: `{"schemaType":"ModelInvocationLog","timestamp":"` + ts.Format(time.RFC3339) + `","input":{"inputTokenCount":"many"`})
	}
	slices.SortFunc(events, func(a, b cwEvent) int { return int(a.ts - b.ts) })
	putEvents(ctx, t, logs, group, stream, events)

	s := server.New(server.Options{})
	err := RegisterTool(s, ToolConfig{
		Source:        SourceCloudWatch,
		DefaultRegion: "us-east-1",
		LoadAWSConfig: func(context.Context, string) (aws.Config, error) { return awsCfg, nil },
		Now:           func() time.Time { return now },
	})
	if err != nil {
		t.Fatal(err)
	}
	notes, final := mcpCall(t, s, `{"days":2,"chart":true}`)
	if final.Error != nil {
		t.Fatalf("JSON-RPC error: %+v", final.Error)
	}
	var res toolResult
	if err := json.Unmarshal(final.Result, &res); err != nil {
		t.Fatal(err)
	}
	if res.IsError {
		t.Fatalf("tool error: %s", res.Content[0].Text)
	}

	// The independent computation.
	start := now.Add(-48 * time.Hour)
	var want Totals
	perDay := map[string]int64{}
	perModel := map[string]int64{}
	perRegion, perUser, perOp := map[string]int64{}, map[string]int64{}, map[string]int64{}
	for _, r := range records {
		if r.Timestamp.Before(start) || !r.Timestamp.Before(now) {
			continue
		}
		want.Requests++
		want.InputTokens += r.InputTokens
		want.OutputTokens += r.OutputTokens
		want.CacheReadTokens += r.CacheReadTokens
		want.CacheWriteTokens += r.CacheWriteTokens
		perDay[r.Timestamp.Format("2006-01-02")]++
		perModel[r.ModelID]++
		perRegion[r.Region] += r.InputTokens + r.OutputTokens
		perUser[r.IdentityARN] += r.InputTokens + r.OutputTokens
		perOp[r.Operation] += r.CacheReadTokens
	}
	got := res.StructuredContent
	if got.Totals.Requests != want.Requests || got.Totals.InputTokens != want.InputTokens || got.Totals.OutputTokens != want.OutputTokens ||
		got.Totals.TotalTokens != want.Total() || got.Totals.CacheReadTokens != want.CacheReadTokens || got.Totals.CacheWriteTokens != want.CacheWriteTokens {
		t.Fatalf("totals %+v, want %+v", got.Totals, want)
	}
	if got.MalformedRecords == 0 {
		t.Error("malformed records were not counted")
	}
	for _, d := range got.Daily {
		if perDay[d.Date] != d.Requests {
			t.Errorf("day %s: %d requests, want %d", d.Date, d.Requests, perDay[d.Date])
		}
	}
	for _, m := range got.Models {
		if perModel[m.ModelID] != m.Requests {
			t.Errorf("model %s: %d requests, want %d", m.ModelID, m.Requests, perModel[m.ModelID])
		}
	}
	if len(got.Regions) != len(perRegion) || len(got.Users) != len(perUser) || len(got.Operations) != len(perOp) {
		t.Errorf("groups: %d regions, %d users, %d operations; want %d, %d, %d", len(got.Regions), len(got.Users), len(got.Operations), len(perRegion), len(perUser), len(perOp))
	}
	for _, g := range got.Regions {
		if perRegion[g.Region] != g.TotalTokens {
			t.Errorf("region %s: %d tokens, want %d", g.Region, g.TotalTokens, perRegion[g.Region])
		}
	}
	for _, g := range got.Users {
		if perUser[g.IdentityARN] != g.TotalTokens {
			t.Errorf("user %s: %d tokens, want %d", g.IdentityARN, g.TotalTokens, perUser[g.IdentityARN])
		}
	}
	for _, g := range got.Operations {
		if perOp[g.Operation] != g.CacheReadTokens {
			t.Errorf("operation %s: %d cache-read tokens, want %d", g.Operation, g.CacheReadTokens, perOp[g.Operation])
		}
	}
	text := res.Content[0].Text
	for _, part := range []string{"Bedrock Daily Usage Report (Past 2 days - us-east-1)", fmt.Sprintf("Total Requests: %d", want.Requests),
		"--- Daily Totals ---", "--- Region Summary ---", "--- Model Summary ---", "--- User Summary ---"} {
		if !strings.Contains(text, part) {
			t.Errorf("report text lacks %q:\n%s", part, text)
		}
	}
	if len(res.Content) != 3 {
		t.Errorf("want the text and two charts: %+v", res.Content)
	}
	for i, c := range res.Content[1:] {
		name := []string{"bedrock-daily-tokens", "bedrock-tokens-per-model"}[min(i, 1)]
		if c.Type != "image" || c.MimeType != "image/png" || c.Data == "" || c.Meta[ChartFileNameMeta] != name {
			t.Errorf("not the %s chart: %+v", name, c)
		}
	}
	var progress int
	for _, n := range notes {
		if n.Method == mcp.NotificationProgress {
			progress++
		}
	}
	if progress == 0 {
		t.Error("no progress notifications")
	}
	// The same report in the stateless era, progress streamed the same way.
	notes, modern := mcpCallEra(t, s, `{"days":2,"chart":true}`, true)
	var modernRes toolResult
	if modern.Error != nil || json.Unmarshal(modern.Result, &modernRes) != nil || modernRes.Content[0].Text != res.Content[0].Text ||
		!strings.Contains(string(modern.Result), `"resultType":"complete"`) {
		t.Errorf("stateless report differs: %s", modern.Result)
	}
	if !slices.ContainsFunc(notes, func(n *mcp.Message) bool { return n.Method == mcp.NotificationProgress }) {
		t.Error("no progress notifications in the stateless era")
	}

	// A missing log group is an error a person can act on.
	_, final = mcpCall(t, s, `{"log_group_name":"/aws/bedrock/elsewhere"}`)
	var bad toolResult
	_ = json.Unmarshal(final.Result, &bad)
	if !bad.IsError || !strings.Contains(bad.Content[0].Text, "/aws/bedrock/elsewhere") || !strings.Contains(bad.Content[0].Text, "us-east-1") {
		t.Fatalf("missing group: %s", final.Result)
	}
}

func TestToolArgumentsValidated(t *testing.T) {
	s := server.New(server.Options{})
	if err := RegisterTool(s, ToolConfig{Source: SourceCloudWatch, LoadAWSConfig: func(context.Context, string) (aws.Config, error) {
		t.Fatal("AWS must not be reached with invalid arguments")
		return aws.Config{}, nil
	}}); err != nil {
		t.Fatal(err)
	}
	for args, want := range map[string]string{
		`{"days":0}`:                 `"days"`,
		`{"days":365}`:               `"days"`,
		`{"aws_account_id":"12345"}`: `"aws_account_id"`,
		`{"region":"moon-1"}`:        `"region"`,
		`{"log_group_name":"a b"}`:   `"log_group_name"`,
		`{"path":"/etc/passwd"}`:     `"path"`,
		`{"days":"seven"}`:           `"days"`,
	} {
		_, final := mcpCall(t, s, args)
		var res toolResult
		_ = json.Unmarshal(final.Result, &res)
		if !res.IsError || !strings.Contains(res.Content[0].Text, want) {
			t.Errorf("%s: %s", args, final.Result)
		}
	}
}

// TestReportFromS3OnMoto: the same report from gzipped objects in
// Bedrock's S3 delivery layout, and across accounts through STS.
func TestReportFromS3OnMoto(t *testing.T) {
	ctx := context.Background()
	srv := moto.Start(t)
	awsCfg := srv.AWSConfig(ctx)
	client := s3.NewFromConfig(awsCfg, func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("logs")}); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Second)
	rng := rand.New(rand.NewPCG(3, 4))
	var want Totals
	byHour := map[string][]byte{}
	for range 1500 {
		b, r := genRecord(nil, rng, 1)
		ts := now.Add(-time.Duration(rng.Int64N(int64(47 * time.Hour)))).Add(-time.Minute).Truncate(time.Second)
		b = bytes.Replace(b, []byte(r.Timestamp.Format(time.RFC3339)), []byte(ts.Format(time.RFC3339)), 1)
		key := "bedrock/AWSLogs/123456789012/BedrockModelInvocationLogs/us-east-1/" + ts.Format("2006/01/02/15") + "/part.json.gz"
		byHour[key] = append(append(byHour[key], b...), '\n')
		want.Requests++
		want.InputTokens += r.InputTokens
		want.OutputTokens += r.OutputTokens
	}
	for key, body := range byHour {
		if _, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("logs"), Key: aws.String(key), Body: bytes.NewReader(gz(t, body))}); err != nil {
			t.Fatal(err)
		}
	}
	s := server.New(server.Options{})
	err := RegisterTool(s, ToolConfig{
		Source: SourceS3, S3URI: "s3://logs/bedrock", S3PathStyle: true,
		LoadAWSConfig: func(context.Context, string) (aws.Config, error) { return awsCfg, nil },
		CrossAccount:  (&CrossAccount{Allowed: []string{"210987654321"}, ExternalID: "mcp-usage-test"}).Config,
		Now:           func() time.Time { return now },
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, args := range []string{`{"days":2}`, `{"days":2,"aws_account_id":"210987654321"}`} {
		_, final := mcpCall(t, s, args)
		var res toolResult
		if err := json.Unmarshal(final.Result, &res); err != nil || res.IsError {
			t.Fatalf("%s: %s", args, final.Result)
		}
		got := res.StructuredContent.Totals
		if got.Requests != want.Requests || got.InputTokens != want.InputTokens || got.OutputTokens != want.OutputTokens {
			t.Fatalf("%s: totals %+v, want %+v", args, got, want)
		}
	}
}
