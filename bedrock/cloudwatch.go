package bedrock

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/smithy-go"
)

// LogsAPI is the part of the CloudWatch Logs client the reader uses (for
// tests and fakes). *cloudwatchlogs.Client implements it.
type LogsAPI interface {
	FilterLogEvents(ctx context.Context, in *cloudwatchlogs.FilterLogEventsInput, optFns ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.FilterLogEventsOutput, error)
}

// Window is a half-open time range [Start, End) of log event timestamps.
// A zero Start means "from the beginning", a zero End means "up to now".
type Window struct{ Start, End time.Time }

// Progress reports how far a Read has got. Events and Pages are cumulative.
type Progress struct {
	Events, Pages int64
	// Covered is the newest event timestamp seen so far (zero if none).
	Covered time.Time
}

// Errors a person can act on. Read wraps them with %w and a message naming
// the log group and region, or the missing permission.
var (
	ErrLogGroupNotFound = errors.New("log group not found")
	ErrAccessDenied     = errors.New("access denied")
	ErrNoCredentials    = errors.New("no usable AWS credentials")
)

// Defaults for CloudWatchSource.
const (
	DefaultPageLimit   int32 = 10000 // API maximum for FilterLogEvents
	DefaultMaxRetries        = 8
	DefaultBaseBackoff       = 200 * time.Millisecond
	DefaultMaxBackoff        = 5 * time.Second
)

// CloudWatchSource reads Bedrock model-invocation log events from a
// CloudWatch Logs log group with FilterLogEvents.
type CloudWatchSource struct {
	Client LogsAPI
	// LogGroup is the log group name or ARN.
	LogGroup string
	// PageLimit is the maximum number of events per page request
	// (default 10000 = API max).
	PageLimit int32

	// Retry settings for ThrottlingException (on top of the SDK's own
	// retryer): MaxRetries (default 8) retries per page, backoff starting at
	// BaseBackoff (default 200ms), doubling with jitter, capped at MaxBackoff
	// (default 5s). The sleep honours ctx.
	MaxRetries  int
	BaseBackoff time.Duration
	MaxBackoff  time.Duration
}

// Read streams every event message in the window to emit (the raw message
// bytes; emit must not retain them, the buffer is reused), calling progress
// (if non-nil) after each page. Pages may be empty while a nextToken
// remains: Read keeps going. It stops on ctx cancellation (returning
// ctx.Err()); an error from emit stops the read and is returned as is.
func (s *CloudWatchSource) Read(ctx context.Context, w Window, emit func(msg []byte) error, progress func(Progress)) error {
	if s.Client == nil {
		return errors.New("cloudwatch: no CloudWatch Logs client")
	}
	if s.LogGroup == "" {
		return errors.New("cloudwatch: no log group given")
	}
	if !w.Start.IsZero() && !w.End.IsZero() && !w.End.After(w.Start) {
		if w.End.Equal(w.Start) {
			return nil // empty window
		}
		return fmt.Errorf("cloudwatch: window end %s is before start %s",
			w.End.Format(time.RFC3339), w.Start.Format(time.RFC3339))
	}

	in := &cloudwatchlogs.FilterLogEventsInput{}
	if strings.HasPrefix(s.LogGroup, "arn:") {
		in.LogGroupIdentifier = aws.String(s.LogGroup)
	} else {
		in.LogGroupName = aws.String(s.LogGroup)
	}
	limit := s.PageLimit
	if limit <= 0 || limit > DefaultPageLimit {
		limit = DefaultPageLimit
	}
	in.Limit = aws.Int32(limit)
	var startMs, endMs int64 // endMs is exclusive; 0 = unbounded
	if !w.Start.IsZero() {
		startMs = ceilMilli(w.Start)
		in.StartTime = aws.Int64(startMs)
	}
	if !w.End.IsZero() {
		endMs = ceilMilli(w.End)
		if endMs <= startMs {
			return nil
		}
		in.EndTime = aws.Int64(endMs - 1) // the API's EndTime is inclusive
	}

	var (
		p   Progress
		buf []byte
	)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		out, err := s.filter(ctx, in)
		if err != nil {
			return err
		}
		p.Pages++
		for _, ev := range out.Events {
			ts := aws.ToInt64(ev.Timestamp)
			// Defensive: keep the window half-open even if the service
			// (or an emulator) is lax about the bounds.
			if ev.Timestamp != nil && ((in.StartTime != nil && ts < startMs) || (in.EndTime != nil && ts >= endMs)) {
				continue
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			buf = append(buf[:0], aws.ToString(ev.Message)...)
			if err := emit(buf); err != nil {
				return err
			}
			p.Events++
			if ev.Timestamp != nil {
				if t := time.UnixMilli(ts); t.After(p.Covered) {
					p.Covered = t
				}
			}
		}
		if progress != nil {
			progress(p)
		}
		next := aws.ToString(out.NextToken)
		if next == "" {
			return nil
		}
		if in.NextToken != nil && *in.NextToken == next && len(out.Events) == 0 {
			return fmt.Errorf("cloudwatch: FilterLogEvents on log group %q returned the same nextToken twice without events", s.LogGroup)
		}
		in.NextToken = aws.String(next)
	}
}

// filter calls FilterLogEvents, retrying throttling with backoff, and
// translates errors a person can act on.
func (s *CloudWatchSource) filter(ctx context.Context, in *cloudwatchlogs.FilterLogEventsInput) (*cloudwatchlogs.FilterLogEventsOutput, error) {
	var out *cloudwatchlogs.FilterLogEventsOutput
	err, exhausted := retryThrottled(ctx, s.MaxRetries, s.BaseBackoff, s.MaxBackoff, isThrottle, func() error {
		var err error
		out, err = s.Client.FilterLogEvents(ctx, in)
		return err
	})
	switch {
	case err == nil:
		if out == nil {
			out = &cloudwatchlogs.FilterLogEventsOutput{}
		}
		return out, nil
	case exhausted:
		retries := s.MaxRetries
		if retries <= 0 {
			retries = DefaultMaxRetries
		}
		return nil, fmt.Errorf("cloudwatch: FilterLogEvents on log group %q still throttled after %d retries (ThrottlingException; lower the request rate or raise the FilterLogEvents quota): %w",
			s.LogGroup, retries, err)
	case ctx.Err() != nil:
		return nil, err
	}
	return nil, s.translate(err)
}

// backoff returns the delay before retry number attempt (0-based): base
// doubled per attempt, capped at maxB, with "equal jitter" (half fixed,
// half random).
func backoff(attempt int, base, maxB time.Duration) time.Duration {
	d := base
	for i := 0; i < attempt && d < maxB; i++ {
		d *= 2
	}
	if d > maxB {
		d = maxB
	}
	half := d / 2
	if half <= 0 {
		return d
	}
	return half + rand.N(half+1)
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func ceilMilli(t time.Time) int64 {
	ms := t.UnixMilli()
	if time.UnixMilli(ms).Before(t) {
		ms++
	}
	return ms
}

func isThrottle(err error) bool {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "ThrottlingException", "Throttling", "TooManyRequestsException", "RequestLimitExceeded":
			return true
		}
	}
	return false
}

func (s *CloudWatchSource) region() string { return clientRegion(s.Client) }

// clientRegion names the region of an SDK client for error messages.
func clientRegion(client any) string {
	if c, ok := client.(interface{ Options() cloudwatchlogs.Options }); ok {
		if r := c.Options().Region; r != "" {
			return r
		}
	}
	return "(unknown region)"
}

// translate maps SDK errors to ErrLogGroupNotFound, ErrAccessDenied and
// ErrNoCredentials where it can, keeping the original error in the chain
// but out of the message (see awsError).
func (s *CloudWatchSource) translate(err error) error {
	return translateLogsError(err, "FilterLogEvents", `"logs:FilterLogEvents"`, s.LogGroup, s.region())
}

// translateLogsError is translate for any CloudWatch Logs operation op on
// group; perms names the IAM permissions the operation needs.
func translateLogsError(err error, op, perms, group, region string) error {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "ResourceNotFoundException":
			return awsFail(ErrLogGroupNotFound, err, "log group %q does not exist in region %s (check the name, the region, and that Bedrock model-invocation logging to CloudWatch Logs is enabled)",
				group, region)
		case "AccessDeniedException", "AccessDenied", "UnrecognizedClientException":
			return awsFail(ErrAccessDenied, err, "reading log group %q in region %s: check the role's logs permissions (it needs %s on that log group)",
				group, region, perms)
		case "ExpiredTokenException", "ExpiredToken", "InvalidClientTokenId", "MissingAuthenticationToken":
			return awsFail(ErrNoCredentials, err, "the AWS credentials for region %s are missing, invalid or expired (refresh them, e.g. `aws sso login`)", region)
		}
		return awsFail(nil, err, "cloudwatch: %s on log group %q in region %s failed (%s); the details are in the server log",
			op, group, region, ae.ErrorCode())
	}
	if isCredentialError(err) {
		return awsFail(ErrNoCredentials, err, "could not get AWS credentials to read log group %q in region %s (configure a profile, environment variables or a role)",
			group, region)
	}
	return fmt.Errorf("cloudwatch: %s on log group %q in region %s: %w", op, group, region, err)
}

func isCredentialError(err error) bool {
	var se *v4.SigningError
	if errors.As(err, &se) {
		return true
	}
	msg := err.Error()
	for _, s := range []string{
		"get identity:",                        // smithy auth: CredentialsProvider.Retrieve failed
		"failed to retrieve credentials",       // SigV4 signer
		"failed to refresh cached credentials", // aws.CredentialsCache
		"no identity resolver",
		"could not select an auth scheme",
	} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}
