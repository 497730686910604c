package bedrock

import (
	"context"
	"time"
)

// retryThrottled runs call until it succeeds, fails with an error that is
// not throttling, or has been retried maxRetries times (then exhausted is
// true), sleeping with jittered exponential backoff between attempts.
// Zero settings take the package defaults. Cancellation wins over
// everything.
func retryThrottled(ctx context.Context, maxRetries int, base, maxB time.Duration, throttled func(error) bool, call func() error) (err error, exhausted bool) {
	if maxRetries <= 0 {
		maxRetries = DefaultMaxRetries
	}
	if base <= 0 {
		base = DefaultBaseBackoff
	}
	if maxB <= 0 {
		maxB = DefaultMaxBackoff
	}
	for attempt := 0; ; attempt++ {
		err := call()
		if err == nil {
			return nil, false
		}
		if ctxErr := ctx.Err(); ctxErr != nil {
			return ctxErr, false
		}
		if !throttled(err) {
			return err, false
		}
		if attempt >= maxRetries {
			return err, true
		}
		if err := sleepCtx(ctx, backoff(attempt, base, maxB)); err != nil {
			return err, false
		}
	}
}
