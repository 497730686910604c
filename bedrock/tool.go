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

// Sources the report can read (BEDROCK_LOG_SOURCE).
const (
	SourceCloudWatch = "cloudwatch"
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
	Source string // SourceCloudWatch (default), SourceS3, SourceFile or SourceSample
	Path   string // SourceFile: a file or directory of JSON Lines (optionally gzipped)
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
    "chart": {"type": "boolean", "description": "Also return a PNG chart of daily tokens"}
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
	case SourceCloudWatch:
		if cfg.LoadAWSConfig == nil {
			return errors.New("bedrock report: the CloudWatch source needs an AWS configuration loader")
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
		return fmt.Errorf("BEDROCK_LOG_SOURCE=%q: use cloudwatch, s3, file or sample", cfg.Source)
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

	src, err := openSource(ctx, cfg, a)
	if err != nil {
		return nil, err
	}
	var agg Aggregator
	var dec Decoder
	err = src.Read(ctx, w, func(msg []byte) error {
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
		_ = call.Progress(float64(p.Events), 0, msg)
	})
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, err
	}
	text := agg.Text(a.Days, a.Region)
	if cfg.Source == SourceSample {
		text = "Sample data (synthetic, shipped with the server; set BEDROCK_LOG_SOURCE=cloudwatch for your account's logs), through " +
			end.Add(-time.Second).Format("2006-01-02") + ".\n\n" + text
	}
	res := &mcp.CallToolResult{
		Content:           []mcp.Content{mcp.TextContent(text)},
		StructuredContent: agg.Structured(a.Days, a.Region, w.Start, w.End),
	}
	if a.Chart {
		png, err := DailyChartPNG(agg.Daily(), 640, 320)
		if err != nil {
			return nil, fmt.Errorf("drawing the chart: %w", err)
		}
		res.Content = append(res.Content, mcp.ImageContent(base64.StdEncoding.EncodeToString(png), "image/png"))
	}
	return res, nil
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
	awsCfg, err := cfg.LoadAWSConfig(ctx, a.Region)
	if err != nil {
		return nil, awsFail(ErrNoCredentials, err, "the server's AWS configuration could not be loaded; the details are in the server log")
	}
	if a.AccountID != "" {
		if cfg.CrossAccount == nil {
			return nil, errors.New("cross-account reports are not configured on this server")
		}
		if awsCfg, err = cfg.CrossAccount(ctx, awsCfg, a.AccountID); err != nil {
			return nil, err
		}
	}
	if cfg.Source == SourceS3 {
		bucket, prefix, _ := parseS3URI(cfg.S3URI)
		client := s3.NewFromConfig(awsCfg, func(o *s3.Options) { o.UsePathStyle = cfg.S3PathStyle })
		return &S3Source{Client: client, Bucket: bucket, Prefix: prefix}, nil
	}
	return &CloudWatchSource{Client: cloudwatchlogs.NewFromConfig(awsCfg), LogGroup: a.LogGroupName}, nil
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
