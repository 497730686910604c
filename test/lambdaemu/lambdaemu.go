package lambdaemu

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	defaultFunctionName = "function"
	defaultRegion       = "us-east-1"
	defaultMaxInstances = 10
	defaultTimeout      = 30 * time.Second
	defaultInitTimeout  = 15 * time.Second

	// Lambda's own limits: the synchronous invocation payload, the error
	// document a runtime may post, and a streamed response.
	maxPayloadBytes  = 6 << 20
	maxErrorBytes    = 1 << 20
	maxResponseBytes = 200 << 20

	// maxLogBytes bounds what Logs keeps, so a chatty function cannot
	// exhaust the test's memory.
	maxLogBytes = 16 << 20
	// maxUnexpected bounds the record of calls the emulator refused.
	maxUnexpected = 100

	// shutdownGrace is Lambda's shutdown phase for a runtime that has only
	// internal extensions (aws-lambda-go's SIGTERM support is one).
	shutdownGrace = 500 * time.Millisecond

	// accountID is the documentation account ID: function ARNs need one.
	accountID = "123456789012"
)

// Options describe the function to emulate. Only Binary is required.
type Options struct {
	// Binary is the function's executable, its "bootstrap".
	Binary string
	// Env holds the function's environment variables (KEY=VALUE). They are
	// added to what Lambda sets and win over it, as a function's
	// configuration does for AWS_LAMBDA_FUNCTION_MEMORY_SIZE.
	Env []string
	// FunctionName defaults to "function".
	FunctionName string
	// Region defaults to "us-east-1"; it sets AWS_REGION,
	// AWS_DEFAULT_REGION and the region of the invoked function ARN.
	Region string
	// MaxInstances is how many execution environments may be alive at once
	// (default 10). An Invoke beyond it waits for one to become idle.
	MaxInstances int
	// Timeout is the function timeout (default 30s): the invocation fails
	// with a Sandbox.Timedout FunctionError and its instance is killed.
	Timeout time.Duration
	// InitTimeout bounds the time from starting an instance to its first
	// request for an invocation (default 15s).
	InitTimeout time.Duration
	// Stderr, when set, receives the output of every instance as it is
	// written, each line prefixed "[NAME #N] ". Logs keeps it regardless.
	// Writes to it are serialized.
	Stderr io.Writer
}

// Result is a function's response to Invoke.
type Result struct {
	// Instance is the 1-based number of the execution environment that
	// served the invocation.
	Instance int
	// ContentType is the Content-Type of the runtime's response.
	ContentType string
	// Body delivers the response as the function writes it. When the
	// function fails after it started its response (an error trailer, a
	// crash, a timeout), Read returns the bytes streamed so far and then
	// that *FunctionError, which it also stores in FunctionError. Close
	// releases the body; the function still runs to its end.
	Body io.ReadCloser
	// FunctionError is set when the function failed. If it failed before
	// its response started, Invoke returns it set and Body is nil;
	// otherwise Body's Read sets it when it reaches the failure, so read it
	// only in the goroutine that reads Body, after Read has returned an
	// error.
	FunctionError *FunctionError
}

// FunctionError is a function failure as Lambda reports it to a synchronous
// caller: its errorType and errorMessage.
type FunctionError struct {
	Type    string
	Message string
}

func (e *FunctionError) Error() string { return e.Type + ": " + e.Message }

// Function emulates one Lambda function: its execution environments and the
// Runtime API each of them talks to.
type Function struct {
	opts     Options
	arn      string
	taskRoot string
	logs     *logSink

	closeOnce sync.Once
	closeErr  error

	// wg counts the goroutines the Function owns (listeners, process
	// waiters, Runtime API handlers) so Close can wait for all of them.
	wg sync.WaitGroup

	mu        sync.Mutex
	instances []*instance
	// changed is closed, and replaced, whenever an instance frees up or
	// exits or the Function closes, to wake a waiting Invoke.
	changed    chan struct{}
	closing    bool
	draining   bool // no more additions to wg: Close is waiting on it
	unexpected []string
}

// Start returns a Function that t's cleanup closes, logging its instances'
// output if t failed (unless Options.Stderr already took it). It fails t if
// opts are invalid.
func Start(t testing.TB, opts Options) *Function {
	t.Helper()
	f, err := NewFunction(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := f.Close(); err != nil {
			t.Errorf("lambdaemu: closing %s: %v", f.opts.FunctionName, err)
		}
		if t.Failed() && opts.Stderr == nil {
			if logs := f.Logs(); logs != "" {
				t.Logf("lambdaemu: output of %s:\n%s", f.opts.FunctionName, tailLines(logs, 200))
			}
		}
	})
	return f
}

// NewFunction validates opts and returns a Function; no process starts
// until the first Invoke. Close it when done.
func NewFunction(opts Options) (*Function, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "lambdaemu-"+opts.FunctionName+"-")
	if err != nil {
		return nil, fmt.Errorf("lambdaemu: task root: %w", err)
	}
	return &Function{
		opts:     opts,
		arn:      fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", opts.Region, accountID, opts.FunctionName),
		taskRoot: dir,
		logs:     &logSink{out: opts.Stderr},
		changed:  make(chan struct{}),
	}, nil
}

func (o Options) withDefaults() (Options, error) {
	if o.Binary == "" {
		return o, errors.New("lambdaemu: Options.Binary is required")
	}
	// Instances run in the task root, so a relative path would not resolve.
	abs, err := filepath.Abs(o.Binary)
	if err != nil {
		return o, fmt.Errorf("lambdaemu: binary: %w", err)
	}
	st, err := os.Stat(abs)
	if err != nil {
		return o, fmt.Errorf("lambdaemu: binary: %w", err)
	}
	if !st.Mode().IsRegular() || st.Mode().Perm()&0o111 == 0 {
		return o, fmt.Errorf("lambdaemu: binary %s is not an executable file", abs)
	}
	o.Binary = abs
	if o.FunctionName == "" {
		o.FunctionName = defaultFunctionName
	}
	if !validName(o.FunctionName, 64, "-_") {
		return o, fmt.Errorf("lambdaemu: function name %q: want 1 to 64 letters, digits, hyphens or underscores", o.FunctionName)
	}
	if o.Region == "" {
		o.Region = defaultRegion
	}
	if !validName(o.Region, 32, "-") {
		return o, fmt.Errorf("lambdaemu: region %q is not a region name", o.Region)
	}
	if o.MaxInstances < 0 || o.Timeout < 0 || o.InitTimeout < 0 {
		return o, errors.New("lambdaemu: MaxInstances, Timeout and InitTimeout must not be negative")
	}
	if o.MaxInstances == 0 {
		o.MaxInstances = defaultMaxInstances
	}
	if o.Timeout == 0 {
		o.Timeout = defaultTimeout
	}
	if o.InitTimeout == 0 {
		o.InitTimeout = defaultInitTimeout
	}
	for _, kv := range o.Env {
		k, _, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return o, fmt.Errorf("lambdaemu: environment entry %q is not KEY=VALUE", kv)
		}
		if k == "AWS_LAMBDA_RUNTIME_API" {
			return o, errors.New("lambdaemu: AWS_LAMBDA_RUNTIME_API is the emulator's to set")
		}
	}
	o.Env = slices.Clone(o.Env) // the caller may reuse its slice
	return o, nil
}

func validName(s string, maxLen int, punct string) bool {
	if s == "" || len(s) > maxLen {
		return false
	}
	for _, c := range s {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.ContainsRune(punct, c)) {
			return false
		}
	}
	return true
}

// Invoke runs the function on payload, a JSON document of at most 6 MB,
// and returns once the response has started: when its first bytes arrive or
// the function finished. A failure of the function is a Result with
// FunctionError set, not an error; errors are the emulator's own (a bad
// payload, ctx done, the Function closed). If ctx ends after the event was
// handed to an instance, the function still runs to its end, as on Lambda.
func (f *Function) Invoke(ctx context.Context, payload []byte) (*Result, error) {
	if len(payload) > maxPayloadBytes {
		return nil, fmt.Errorf("lambdaemu: payload of %d bytes exceeds Lambda's %d-byte limit", len(payload), maxPayloadBytes)
	}
	if len(payload) > 0 && !json.Valid(payload) {
		return nil, errors.New("lambdaemu: payload is not valid JSON")
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	inv := &invocation{
		id:      newRequestID(),
		traceID: newTraceID(),
		payload: bytes.Clone(payload),
		started: make(chan struct{}),
		requeue: make(chan struct{}, 1),
		stream:  newStream(),
	}
	for {
		if err := f.dispatch(ctx, inv); err != nil {
			return nil, err
		}
		select {
		case <-inv.started:
			return inv.result, nil
		case <-inv.requeue:
			// The warm instance it was given died before taking it.
		case <-ctx.Done():
			// Nobody will read the response; drop it as it comes.
			_ = inv.stream.Close()
			return nil, ctx.Err()
		}
	}
}

// dispatch gives inv to the lowest-numbered instance that is idle or has
// finished its last invocation (it takes inv with its next request, so a
// caller invoking in sequence keeps the same instance, as on Lambda), else
// to a new instance, else waits until one of those is possible.
func (f *Function) dispatch(ctx context.Context, inv *invocation) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for {
		if f.closing {
			return fmt.Errorf("lambdaemu: function %s is closed", f.opts.FunctionName)
		}
		live := 0
		for _, inst := range f.instances {
			if inst.gone {
				continue
			}
			live++
			if inst.current == nil && (inst.state == stateIdle || inst.state == stateRunning) {
				inst.state = stateRunning
				inst.current = inv
				inv.inst = inst
				select {
				case inst.wake <- struct{}{}:
				default: // a wake-up is already pending
				}
				return nil
			}
		}
		if live < f.opts.MaxInstances {
			return f.startInstanceLocked(inv)
		}
		changed := f.changed
		f.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			f.mu.Lock()
			return ctx.Err()
		}
		f.mu.Lock()
	}
}

func (f *Function) broadcastLocked() {
	close(f.changed)
	f.changed = make(chan struct{})
}

// Instances returns how many execution environments have been started,
// alive or not.
func (f *Function) Instances() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.instances)
}

// Logs returns the output of all instances so far (up to 16 MB), each line
// prefixed "[NAME #N] ".
func (f *Function) Logs() string { return f.logs.String() }

// Unexpected returns the Runtime API calls the emulator refused, as
// "METHOD PATH: reason": unknown paths, unknown request IDs, calls out of
// order. A well-behaved runtime makes none.
func (f *Function) Unexpected() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.unexpected)
}

// Close stops every instance (SIGTERM, then SIGKILL after Lambda's 500 ms
// shutdown grace), fails the invocations still in flight with a
// Runtime.ExitError, closes the listeners and waits for all of it.
func (f *Function) Close() error {
	f.closeOnce.Do(func() {
		f.mu.Lock()
		f.closing = true
		for _, inst := range f.instances {
			inst.discardLocked(false)
		}
		f.broadcastLocked()
		all := slices.Clone(f.instances)
		f.mu.Unlock()
		for _, inst := range all {
			<-inst.exited
		}
		f.mu.Lock()
		f.draining = true
		f.mu.Unlock()
		f.wg.Wait()
		f.closeErr = os.RemoveAll(f.taskRoot)
	})
	return f.closeErr
}

// goLocked runs fn in a goroutine Close waits for; it reports false, and
// does not run fn, once Close has started waiting.
func (f *Function) goLocked(fn func()) bool {
	if !f.enterLocked() {
		return false
	}
	go func() {
		defer f.wg.Done()
		fn()
	}()
	return true
}

// enterLocked counts the calling goroutine among those Close waits for
// (until it calls f.wg.Done); it reports false once Close has started
// waiting.
func (f *Function) enterLocked() bool {
	if f.draining {
		return false
	}
	f.wg.Add(1)
	return true
}

func (f *Function) recordLocked(call string) {
	if len(f.unexpected) < maxUnexpected {
		f.unexpected = append(f.unexpected, call)
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return hex.EncodeToString(b)
}

// newRequestID returns a random (version 4) UUID, the form of Lambda's
// request IDs.
func newRequestID() string {
	h := randomHex(16)
	return h[0:8] + "-" + h[8:12] + "-4" + h[13:16] + "-" + string("89ab"[h[16]%4]) + h[17:20] + "-" + h[20:32]
}

// newTraceID returns an X-Ray trace header of the form Lambda passes.
func newTraceID() string {
	return fmt.Sprintf("Root=1-%08x-%s;Parent=%s;Sampled=0", time.Now().Unix(), randomHex(12), randomHex(8))
}

func tailLines(s string, n int) string {
	lines := strings.SplitAfter(s, "\n")
	if len(lines) <= n {
		return s
	}
	return strings.Join(lines[len(lines)-n:], "")
}
