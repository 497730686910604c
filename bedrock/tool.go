package bedrock

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"mcplambda/mcp"
	"mcplambda/server"
)

// Source yields raw invocation-log records for a time window (see
// CloudWatchSource.Read for the contract).
type Source interface {
	Read(ctx context.Context, w Window, emit func(msg []byte) error, progress func(Progress)) error
}

// Sources the report can read (BEDROCK_LOG_SOURCE). SourceCloudWatch
// chooses between the two CloudWatch Logs ways per report: FilterLogEvents
// when the window's events fit in a few pages (ToolConfig.FilterMaxPages),
// Logs Insights otherwise; SourceInsights and SourceFilter force one.
const (
	SourceCloudWatch = "cloudwatch"
	SourceInsights   = "insights"
	SourceFilter     = "filter"
	SourceS3         = "s3"
	SourceFile       = "file"
	SourceSample     = "sample"
)

// DefaultLogGroup is where Bedrock delivers invocation logs by default.
const DefaultLogGroup = "/aws/bedrock/modelinvocations"

// ToolConfig configures get_bedrock_usage_report. The source is the
// server's choice, never the client's: a client cannot make the server
// read an arbitrary file or bucket.
type ToolConfig struct {
	// Source is SourceCloudWatch (default), SourceInsights, SourceFilter,
	// SourceS3, SourceFile or SourceSample.
	Source string
	// Insights holds the Logs Insights settings (concurrency, polling,
	// retries); Client and LogGroup are filled in per report.
	Insights InsightsSource
	// FilterMaxPages is how many FilterLogEvents pages SourceCloudWatch
	// reads before it decides the window is too big for FilterLogEvents
	// and asks Logs Insights instead (default DefaultFilterMaxPages;
	// negative: always Logs Insights).
	FilterMaxPages int
	Path           string // SourceFile: a file or directory of JSON Lines (optionally gzipped)
	// S3URI is s3://BUCKET/PREFIX where invocation logging delivers
	// (SourceS3); S3PathStyle selects path-style addressing (S3-compatible
	// endpoints).
	S3URI       string
	S3PathStyle bool
	// Sample is the embedded sample data set and SampleEnd returns the end
	// of its last day: with SourceSample, the report's window ends there
	// instead of now, so "the past N days" covers the sample. A function,
	// because finding it reads the data: only reports pay for that, never
	// start-up.
	Sample    Source
	SampleEnd func() time.Time
	// DefaultRegion is used when the client names none.
	DefaultRegion string
	// LoadAWSConfig loads the SDK configuration for a region (the default
	// credential chain); called per report, so start-up stays fast.
	LoadAWSConfig func(ctx context.Context, region string) (aws.Config, error)
	// CrossAccount turns a base configuration into one for accountID
	// (STS AssumeRole; see CrossAccount.Config, which enforces the
	// allow-list); nil refuses aws_account_id.
	CrossAccount func(ctx context.Context, base aws.Config, accountID string) (aws.Config, error)
	// CrossAccountScope, when set, is the OAuth scope a caller needs to
	// name an aws_account_id at all (BEDROCK_CROSS_ACCOUNT_SCOPE): the
	// allow-list says which accounts the server may read, the scope which
	// users may ask it to.
	CrossAccountScope string
	// Logger receives the details of AWS failures, which clients are not
	// shown (default slog.Default()).
	Logger  *slog.Logger
	MaxDays int // default 90
	Now     func() time.Time
}

const toolInputSchema = `{
  "type": "object",
  "properties": {
    "region": {"type": "string", "description": "AWS region whose Bedrock invocation logs to read (default: the server's region, else us-east-1)", "pattern": "^[a-z]{2}(-[a-z]+)+-[0-9]$"},
    "log_group_name": {"type": "string", "description": "CloudWatch Logs group holding the invocation logs (default /aws/bedrock/modelinvocations)", "minLength": 1, "maxLength": 512, "pattern": "^[A-Za-z0-9_./#-]+$"},
    "days": {"type": "integer", "description": "How many days back from now to report (default 1)", "minimum": 1, "maximum": 90},
    "aws_account_id": {"type": "string", "description": "Another AWS account to report on, through its cross-account role (12 digits)", "pattern": "^[0-9]{12}$"},
    "chart": {"type": "boolean", "description": "Also return two PNG charts: tokens per day and tokens per model, stacked by input, output, cache read and cache write"}
  },
  "additionalProperties": false
}`

type toolArgs struct {
	Region       string `json:"region"`
	LogGroupName string `json:"log_group_name"`
	Days         int    `json:"days"`
	AccountID    string `json:"aws_account_id"`
	Chart        bool   `json:"chart"`
}

// RegisterTool adds get_bedrock_usage_report to srv.
func RegisterTool(srv *server.Server, cfg ToolConfig) error {
	if cfg.Source == "" {
		cfg.Source = SourceCloudWatch
	}
	switch cfg.Source {
	case SourceCloudWatch, SourceInsights, SourceFilter:
		if cfg.LoadAWSConfig == nil {
			return errors.New("bedrock report: the CloudWatch source needs an AWS configuration loader")
		}
		if cfg.FilterMaxPages == 0 {
			cfg.FilterMaxPages = DefaultFilterMaxPages
		}
	case SourceS3:
		if _, _, err := parseS3URI(cfg.S3URI); err != nil {
			return err
		}
		if cfg.LoadAWSConfig == nil {
			return errors.New("bedrock report: the S3 source needs an AWS configuration loader")
		}
	case SourceFile:
		if cfg.Path == "" {
			return errors.New("BEDROCK_LOG_SOURCE=file needs BEDROCK_LOG_PATH (a file or directory of JSON Lines)")
		}
		if _, err := os.Stat(cfg.Path); err != nil {
			return fmt.Errorf("BEDROCK_LOG_PATH: %w", err)
		}
	case SourceSample:
		if cfg.Sample == nil || cfg.SampleEnd == nil {
			return errors.New("bedrock report: no sample data set")
		}
	default:
		return fmt.Errorf("BEDROCK_LOG_SOURCE=%q: use cloudwatch (Logs Insights, or FilterLogEvents for small windows), insights, filter, s3, file or sample", cfg.Source)
	}
	if cfg.MaxDays <= 0 {
		cfg.MaxDays = 90
	}
	if cfg.DefaultRegion == "" {
		cfg.DefaultRegion = "us-east-1"
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	readOnly := true
	return srv.AddTool(mcp.Tool{
		Name:  "get_bedrock_usage_report",
		Title: "Bedrock usage report",
		Description: "Reports Amazon Bedrock usage from the model-invocation logs: requests, input, output and cache tokens, " +
			"in total and per day, region, model, user and operation, for the past N days.",
		InputSchema:  json.RawMessage(toolInputSchema),
		OutputSchema: json.RawMessage(ReportOutputSchema),
		Annotations:  &mcp.ToolAnnotations{Title: "Bedrock usage report", ReadOnlyHint: &readOnly, OpenWorldHint: &readOnly},
	}, func(ctx context.Context, call *server.Call, raw json.RawMessage) (*mcp.CallToolResult, error) {
		var a toolArgs
		if err := json.Unmarshal(raw, &a); err != nil {
			return nil, err
		}
		if a.AccountID != "" && cfg.CrossAccountScope != "" && !hasScope(call.Principal(), cfg.CrossAccountScope) {
			return mcp.ToolError(fmt.Sprintf("reading another account (aws_account_id) needs the OAuth scope %q, which this token lacks: log in again asking for it, or leave aws_account_id out to read the server's own account", cfg.CrossAccountScope)), nil
		}
		res, err := report(ctx, call, cfg, a)
		if err != nil && ctx.Err() == nil {
			return nil, publicError(ctx, cfg.Logger, err, a)
		}
		return res, err
	})
}

func report(ctx context.Context, call *server.Call, cfg ToolConfig, a toolArgs) (*mcp.CallToolResult, error) {
	if a.Days == 0 {
		a.Days = 1
	}
	if a.Days > cfg.MaxDays {
		return mcp.ToolError(fmt.Sprintf("invalid arguments: \"days\" must be at most %d", cfg.MaxDays)), nil
	}
	if a.Region == "" {
		a.Region = cfg.DefaultRegion
	}
	if a.LogGroupName == "" {
		a.LogGroupName = DefaultLogGroup
	}
	end := cfg.Now().UTC()
	if cfg.Source == SourceSample {
		end = cfg.SampleEnd()
	}
	w := Window{Start: end.Add(-time.Duration(a.Days) * 24 * time.Hour), End: end}

	prog := &progressSender{call: call}
	var (
		agg       *Aggregator
		scan      *ReportScan
		truncated []Truncation
	)
	switch cfg.Source {
	case SourceCloudWatch, SourceInsights, SourceFilter:
		awsCfg, err := awsConfig(ctx, cfg, a)
		if err != nil {
			return nil, err
		}
		client := cloudwatchlogs.NewFromConfig(awsCfg)
		if cfg.Source == SourceFilter || (cfg.Source == SourceCloudWatch && cfg.FilterMaxPages > 0) {
			maxPages := 0
			if cfg.Source == SourceCloudWatch {
				maxPages = cfg.FilterMaxPages
			}
			agg, scan, err = readAll(ctx, &CloudWatchSource{Client: client, LogGroup: a.LogGroupName}, w, maxPages, prog)
			if errors.Is(err, errTooManyPages) {
				prog.rebase()
				agg, err = nil, nil
			}
			if err != nil {
				return nil, err
			}
			if scan != nil {
				scan.Source = "filter-log-events"
			}
		}
		if agg == nil {
			ins := cfg.Insights
			ins.Client, ins.LogGroup = client, a.LogGroupName
			res, err := ins.Aggregate(ctx, w, func(p InsightsProgress) {
				prog.send(float64(p.RecordsScanned+int64(p.Done)), fmt.Sprintf("Logs Insights: %d of %d queries done, %d records (%s) scanned",
					p.Done, p.Queries, p.RecordsScanned, humanBytes(p.BytesScanned)))
			})
			if err != nil {
				if ctx.Err() != nil {
					return nil, ctx.Err()
				}
				return nil, err
			}
			agg, truncated = res.Aggregator, res.Truncated
			scan = &ReportScan{Source: "logs-insights", Queries: res.Stats.Queries,
				RecordsScanned: res.Stats.RecordsScanned, BytesScanned: res.Stats.BytesScanned}
		}
	default:
		src, err := openSource(ctx, cfg, a)
		if err != nil {
			return nil, err
		}
		if agg, scan, err = readAll(ctx, src, w, 0, prog); err != nil {
			return nil, err
		}
		scan.Source = cfg.Source
	}
	text := annotateTruncated(agg.Text(a.Days, a.Region), truncated)
	switch scan.Source {
	case "logs-insights":
		text += fmt.Sprintf("Computed by CloudWatch Logs Insights: %d queries scanned %d records, %s (billed per GB scanned).\n",
			scan.Queries, scan.RecordsScanned, humanBytes(scan.BytesScanned))
	case "filter-log-events":
		text += fmt.Sprintf("Read with CloudWatch Logs FilterLogEvents: %d records, %s.\n", scan.RecordsScanned, humanBytes(scan.BytesScanned))
	}
	if cfg.Source == SourceSample {
		text = "Sample data (synthetic, shipped with the server; set BEDROCK_LOG_SOURCE=cloudwatch for your account's logs), through " +
			end.Add(-time.Second).Format("2006-01-02") + ".\n\n" + text
	}
	structured := agg.Structured(a.Days, a.Region, w.Start, w.End)
	structured.Scan = scan
	for _, t := range truncated {
		structured.Truncated = append(structured.Truncated, TruncatedDimension{Dimension: t.Dimension, GroupsShown: t.Shown})
	}
	res := &mcp.CallToolResult{
		Content:           []mcp.Content{mcp.TextContent(text)},
		StructuredContent: structured,
	}
	if a.Chart {
		daily, models, err := UsageChartsPNG(agg, ChartInfo{Region: a.Region, Start: w.Start, End: w.End})
		if err != nil {
			return nil, fmt.Errorf("drawing the charts: %w", err)
		}
		for _, c := range []struct {
			png  []byte
			name string
		}{{daily, "bedrock-daily-tokens"}, {models, "bedrock-tokens-per-model"}} {
			img := mcp.ImageContent(base64.StdEncoding.EncodeToString(c.png), "image/png")
			img.Meta = mcp.Meta{ChartFileNameMeta: c.name}
			res.Content = append(res.Content, img)
		}
	}
	return res, nil
}

// DefaultFilterMaxPages is the size, in FilterLogEvents pages (each at most
// 1 MB or 10,000 events, at about 5 pages a second per account), up to
// which SourceCloudWatch reads the window itself instead of asking Logs
// Insights: a second or two of free API calls beats seven billed queries
// that take seconds each to schedule.
const DefaultFilterMaxPages = 5

// errTooManyPages stops a FilterLogEvents read that outgrew its page budget.
var errTooManyPages = errors.New("window larger than the FilterLogEvents page budget")

// readAll decodes and aggregates every record src yields in w. With
// maxPages > 0 it gives up with errTooManyPages once that many pages were
// read and more remain.
func readAll(ctx context.Context, src Source, w Window, maxPages int, prog *progressSender) (*Aggregator, *ReportScan, error) {
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		agg      Aggregator
		dec      = Decoder{SkipRequestID: true} // the report never reads it
		scan     ReportScan
		overflow bool
	)
	err := src.Read(rctx, w, func(msg []byte) error {
		scan.RecordsScanned++
		scan.BytesScanned += int64(len(msg))
		r, err := dec.Decode(msg)
		if err != nil {
			var re *RecordError
			if errors.As(err, &re) {
				agg.AddMalformed(re.Reason)
				return nil
			}
			agg.AddMalformed(err.Error())
			return nil
		}
		// Files and S3 objects are not filtered by the source.
		if r.Timestamp.Before(w.Start) || !r.Timestamp.Before(w.End) {
			return nil
		}
		agg.Add(r)
		return nil
	}, func(p Progress) {
		msg := fmt.Sprintf("%d events read, %d pages", p.Events, p.Pages)
		if !p.Covered.IsZero() {
			msg += ", through " + p.Covered.UTC().Format(time.RFC3339)
		}
		prog.send(float64(p.Events), msg)
		// Cancelling here still lets a read whose last page this was
		// return normally: Read checks for more pages before the context.
		if maxPages > 0 && p.Pages >= int64(maxPages) {
			overflow = true
			cancel()
		}
	})
	if err != nil {
		if ctx.Err() != nil {
			return nil, nil, ctx.Err()
		}
		if overflow && errors.Is(err, context.Canceled) {
			return nil, nil, errTooManyPages
		}
		return nil, nil, err
	}
	return &agg, &scan, nil
}

// progressSender keeps the progress value of one tool call increasing, as
// MCP requires, across the sources a report may try in turn.
type progressSender struct {
	call       *server.Call
	base, last float64
	sent       bool
}

func (p *progressSender) send(v float64, msg string) {
	v += p.base
	if p.sent && v <= p.last {
		return
	}
	p.last, p.sent = v, true
	_ = p.call.Progress(v, 0, msg)
}

// rebase makes the next source's figures count on from the last value sent.
func (p *progressSender) rebase() { p.base = p.last }

// humanBytes prints a byte count in B, kB, MB, GB or TB (powers of 1000,
// as AWS bills).
func humanBytes(n int64) string {
	const unit = 1000
	if n < unit {
		return strconv.FormatInt(n, 10) + " B"
	}
	f, i := float64(n), 0
	for f >= unit && i < 4 {
		f /= unit
		i++
	}
	return strconv.FormatFloat(f, 'f', 1, 64) + " " + [...]string{"B", "kB", "MB", "GB", "TB"}[i]
}

// annotateTruncated notes, under each cut dimension's heading in the text
// report, that only its top groups are listed.
func annotateTruncated(text string, truncated []Truncation) string {
	titles := map[string]string{DimDaily: "Daily Totals", DimRegions: "Region Summary", DimModels: "Model Summary",
		DimUsers: "User Summary", DimOperations: "Operation Summary"}
	for _, t := range truncated {
		head := "--- " + titles[t.Dimension] + " ---\n"
		note := fmt.Sprintf("(only the top %d %s by total tokens are listed: there are more than one Logs Insights query returns; the totals above count them all)\n", t.Shown, t.Dimension)
		text = strings.Replace(text, head, head+note, 1)
	}
	return text
}

func openSource(ctx context.Context, cfg ToolConfig, a toolArgs) (Source, error) {
	switch cfg.Source {
	case SourceSample:
		return cfg.Sample, nil
	case SourceFile:
		abs, err := filepath.Abs(cfg.Path)
		if err != nil {
			return nil, err
		}
		return &FileSource{FS: os.DirFS(filepath.Dir(abs)), Root: filepath.Base(abs)}, nil
	}
	awsCfg, err := awsConfig(ctx, cfg, a)
	if err != nil {
		return nil, err
	}
	if cfg.Source == SourceS3 {
		bucket, prefix, _ := parseS3URI(cfg.S3URI)
		client := s3.NewFromConfig(awsCfg, func(o *s3.Options) { o.UsePathStyle = cfg.S3PathStyle })
		return &S3Source{Client: client, Bucket: bucket, Prefix: prefix}, nil
	}
	return &CloudWatchSource{Client: cloudwatchlogs.NewFromConfig(awsCfg), LogGroup: a.LogGroupName}, nil
}

// awsConfig loads the SDK configuration for the report's region and, with
// aws_account_id, for that account.
func awsConfig(ctx context.Context, cfg ToolConfig, a toolArgs) (aws.Config, error) {
	awsCfg, err := cfg.LoadAWSConfig(ctx, a.Region)
	if err != nil {
		return aws.Config{}, awsFail(ErrNoCredentials, err, "the server's AWS configuration could not be loaded; the details are in the server log")
	}
	if a.AccountID != "" {
		if cfg.CrossAccount == nil {
			return aws.Config{}, errors.New("cross-account reports are not configured on this server")
		}
		if awsCfg, err = cfg.CrossAccount(ctx, awsCfg, a.AccountID); err != nil {
			return aws.Config{}, err
		}
	}
	return awsCfg, nil
}

// hasScope reports whether the caller's token carries scope. Without
// authentication (a loopback server) there is no principal and no scope.
func hasScope(p *server.Principal, scope string) bool {
	return p != nil && slices.Contains(p.Scopes, scope)
}

// parseS3URI splits s3://BUCKET/PREFIX.
func parseS3URI(uri string) (bucket, prefix string, err error) {
	rest, ok := strings.CutPrefix(uri, "s3://")
	bucket, prefix, _ = strings.Cut(rest, "/")
	if !ok || bucket == "" || strings.ContainsAny(bucket, " ?#") {
		return "", "", fmt.Errorf("BEDROCK_S3_URI=%q: want s3://BUCKET or s3://BUCKET/PREFIX", uri)
	}
	return bucket, prefix, nil
}
