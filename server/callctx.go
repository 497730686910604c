package server

import (
	"context"
	"net/http"
	"sync"
	"time"
)

// callCtx is the context of one request's handler. It is cancelled by
// notifications/cancelled, the end of the session, the request timeout, or
// a dropped connection that cannot be resumed; it outlives the HTTP request
// otherwise, because an SSE client may come back for the result.
//
// It exists for speed: the same behaviour built from context.WithCancelCause,
// WithoutCancel, WithTimeout and AfterFunc costs 16 allocations per request.
// Here the timer and the connection watch are armed only when a handler
// actually waits on Done (quick handlers never do), and Err checks the
// deadline by reading the clock.
type callCtx struct {
	parent   context.Context // the HTTP request's context without its cancellation: values only
	req      context.Context // the HTTP request's context: ends with the connection
	conn     <-chan struct{} // req.Done()
	deadline time.Time       // zero: none
	// st is the call's stream: a dropped connection cancels the call only
	// when the stream has nothing a client could resume (not SSE).
	st *stream

	mu       sync.Mutex
	done     chan struct{}
	err      error
	cause    error
	timer    *time.Timer
	stopConn func() bool
	afters   []func()
}

var closedChan = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

func (c *callCtx) init(r *http.Request, timeout time.Duration, st *stream) {
	// WithoutCancel keeps the request's values but hides its cancellation,
	// so context.Cause and derived contexts see ours.
	c.parent = context.WithoutCancel(r.Context())
	c.req = r.Context()
	c.conn = c.req.Done()
	if timeout > 0 {
		c.deadline = time.Now().Add(timeout)
	}
	c.st = st
}

func (c *callCtx) lost() bool { return c.st == nil || !c.st.resumable() }

func (c *callCtx) Deadline() (time.Time, bool) { return c.deadline, !c.deadline.IsZero() }

func (c *callCtx) Value(key any) any { return c.parent.Value(key) }

func (c *callCtx) Done() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done == nil {
		if c.err != nil {
			c.done = closedChan
			return c.done
		}
		c.done = make(chan struct{})
		c.armLocked()
	}
	return c.done
}

// armLocked starts what can cancel the call from outside once someone
// listens: the deadline timer and the connection watch.
func (c *callCtx) armLocked() {
	if !c.deadline.IsZero() {
		c.timer = time.AfterFunc(time.Until(c.deadline), c.expire)
	}
	if c.conn != nil {
		c.stopConn = context.AfterFunc(c.req, func() {
			if c.lost() {
				c.cancel(errClientGone)
			}
		})
	}
}

func (c *callCtx) expire() { c.cancelWith(context.DeadlineExceeded, errRequestTimeout) }

func (c *callCtx) Err() error {
	c.mu.Lock()
	err := c.err
	c.mu.Unlock()
	if err == nil && !c.deadline.IsZero() && !time.Now().Before(c.deadline) {
		c.expire()
		return context.DeadlineExceeded
	}
	if err == nil && c.done == nil && c.conn != nil {
		// Nobody armed the watch: look at the connection now.
		select {
		case <-c.conn:
			if c.lost() {
				c.cancel(errClientGone)
				return context.Canceled
			}
		default:
		}
	}
	return err
}

// cancel ends the call with cause (nil: plain cancellation).
func (c *callCtx) cancel(cause error) { c.cancelWith(context.Canceled, cause) }

func (c *callCtx) cancelWith(err, cause error) {
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return
	}
	if cause == nil {
		cause = err
	}
	c.err, c.cause = err, cause
	if c.done == nil {
		c.done = closedChan
	} else {
		close(c.done)
	}
	afters := c.afters
	c.afters = nil
	c.mu.Unlock()
	for _, f := range afters {
		if f != nil {
			go f()
		}
	}
}

// CancelCause returns why a handler's context was cancelled: the session
// ended, the client cancelled, the request timed out. It works on the
// context a handler receives and on contexts derived from it.
func CancelCause(ctx context.Context) error {
	if c, ok := ctx.(*callCtx); ok {
		return c.Cause()
	}
	return context.Cause(ctx)
}

// release stops the timer and the watch once the call is over.
func (c *callCtx) release() {
	c.mu.Lock()
	timer, stop := c.timer, c.stopConn
	c.mu.Unlock()
	if timer != nil {
		timer.Stop()
	}
	if stop != nil {
		stop()
	}
	c.cancel(errCallFinished)
}

// Cause is the reason the call was cancelled, or nil.
func (c *callCtx) Cause() error {
	if c.Err() == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cause
}

// AfterFunc lets contexts derived from this one (context.WithTimeout in a
// handler) follow its cancellation without a goroutine each.
func (c *callCtx) AfterFunc(f func()) func() bool {
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		go f()
		return func() bool { return false }
	}
	if c.done == nil {
		c.done = make(chan struct{})
		c.armLocked()
	}
	c.afters = append(c.afters, f)
	i := len(c.afters) - 1
	c.mu.Unlock()
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		if i < len(c.afters) && c.afters[i] != nil {
			c.afters[i] = nil
			return true
		}
		return false
	}
}
