package lambdaemu

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"time"
)

const (
	headerRequestID   = "Lambda-Runtime-Aws-Request-Id"
	headerDeadline    = "Lambda-Runtime-Deadline-Ms"
	headerFunctionARN = "Lambda-Runtime-Invoked-Function-Arn"
	headerTraceID     = "Lambda-Runtime-Trace-Id"
	headerErrorType   = "Lambda-Runtime-Function-Error-Type"
	trailerErrorBody  = "Lambda-Runtime-Function-Error-Body"
)

type instanceState int

const (
	// stateInit: the process has not asked for an invocation yet; current
	// is the invocation whose cold start it is.
	stateInit instanceState = iota
	// stateRunning: serving current, or done with it and not yet asking
	// for the next one.
	stateRunning
	// stateIdle: the runtime's request for the next invocation is waiting.
	stateIdle
	// stateDiscarded: being stopped, never to be used again.
	stateDiscarded
)

// instance is one execution environment: a process of the function's
// binary and the Runtime API server only it talks to.
type instance struct {
	f      *Function
	n      int
	cmd    *exec.Cmd
	stop   context.CancelFunc // SIGTERM, then SIGKILL after shutdownGrace
	srv    *http.Server
	wake   chan struct{} // an invocation was assigned to the waiting /next
	exited chan struct{} // closed once the process is reaped
	stdout *lineWriter
	stderr *lineWriter

	// Guarded by f.mu.
	state     instanceState
	current   *invocation
	parked    bool // a /next request is waiting in the handler
	ready     bool // the runtime has asked for an invocation: init is over
	gone      bool // the process has been reaped
	initTimer *time.Timer
}

// invocation is one Invoke, from dispatch to the end of its response.
type invocation struct {
	id      string
	traceID string
	payload []byte
	started chan struct{} // closed once result is set
	requeue chan struct{} // its instance died before taking it: dispatch it again
	stream  *stream

	// Guarded by f.mu.
	inst        *instance
	result      *Result
	contentType string
	delivered   bool // the runtime received the event
	responding  bool // the runtime began posting a response or an error
	finished    bool
	timer       *time.Timer
}

// startInstanceLocked cold-starts an instance for inv.
func (f *Function) startInstanceLocked(inv *invocation) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("lambdaemu: runtime API listener: %w", err)
	}
	n := len(f.instances) + 1
	prefix := fmt.Sprintf("[%s #%d] ", f.opts.FunctionName, n)
	inst := &instance{
		f:       f,
		n:       n,
		wake:    make(chan struct{}, 1),
		exited:  make(chan struct{}),
		stdout:  f.logs.writer(prefix),
		stderr:  f.logs.writer(prefix),
		state:   stateInit,
		current: inv,
	}
	ctx, stop := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, f.opts.Binary)
	// Lambda lets the runtime shut down before it kills it.
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = shutdownGrace
	cmd.Dir = f.taskRoot
	cmd.Env = f.environ(ln.Addr().String())
	cmd.Stdout, cmd.Stderr = inst.stdout, inst.stderr
	inst.cmd, inst.stop = cmd, stop

	mux := http.NewServeMux()
	mux.HandleFunc("GET /2018-06-01/runtime/invocation/next", inst.next)
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/response", inst.response)
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/error", inst.invocationError)
	mux.HandleFunc("POST /2018-06-01/runtime/init/error", inst.initError)
	mux.HandleFunc("/", inst.unknown)
	inst.srv = &http.Server{
		Handler:           f.tracked(mux),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          log.New(f.logs.writer(prefix+"runtime API: "), "", 0),
	}
	if err := cmd.Start(); err != nil {
		stop()
		_ = ln.Close()
		return fmt.Errorf("lambdaemu: starting %s: %w", f.opts.Binary, err)
	}
	inv.inst = inst
	f.instances = append(f.instances, inst)
	inst.initTimer = time.AfterFunc(f.opts.InitTimeout, inst.initTimedOut)
	f.goLocked(func() { _ = inst.srv.Serve(ln) })
	f.goLocked(inst.wait)
	return nil
}

// environ is what Lambda gives a provided.al2023 runtime, the test
// process's PATH and HOME (so tools and caches still resolve), then the
// function's own variables; exec.Cmd keeps the last of duplicate keys, so
// those win. Nothing else leaks in from the test's environment.
func (f *Function) environ(api string) []string {
	logStream := time.Now().UTC().Format("2006/01/02") + "/[$LATEST]" + randomHex(16)
	env := []string{
		"AWS_LAMBDA_RUNTIME_API=" + api,
		"AWS_LAMBDA_FUNCTION_NAME=" + f.opts.FunctionName,
		"AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128",
		"AWS_REGION=" + f.opts.Region,
		"AWS_DEFAULT_REGION=" + f.opts.Region,
		"_HANDLER=bootstrap",
		"LAMBDA_TASK_ROOT=" + f.taskRoot,
		"TZ=:UTC",
		"AWS_LAMBDA_LOG_GROUP_NAME=/aws/lambda/" + f.opts.FunctionName,
		"AWS_LAMBDA_LOG_STREAM_NAME=" + logStream,
	}
	for _, k := range []string{"PATH", "HOME"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return append(env, f.opts.Env...)
}

// wait reaps the process and fails whatever it left unfinished.
func (inst *instance) wait() {
	err := inst.cmd.Wait()
	inst.stop()
	inst.stdout.flush()
	inst.stderr.flush()
	f := inst.f
	f.mu.Lock()
	inst.initTimer.Stop()
	if inv := inst.current; inv != nil {
		if inst.ready && !inv.delivered {
			// Given to a warm instance that died before taking it; Lambda
			// would have routed it elsewhere.
			inst.current, inv.inst = nil, nil
			select {
			case inv.requeue <- struct{}{}:
			default: // cannot happen: an invocation waits in one place at a time
			}
		} else {
			f.finishLocked(inv, exitError(inv.id, err))
		}
	}
	inst.state, inst.gone, inst.parked = stateDiscarded, true, false
	close(inst.exited)
	f.broadcastLocked()
	f.mu.Unlock()
	_ = inst.srv.Close()
}

// discardLocked takes the instance out of service and stops its process:
// at once when kill is set (as Lambda does on a timeout), else gracefully.
func (inst *instance) discardLocked(kill bool) {
	if inst.gone {
		return
	}
	inst.state = stateDiscarded
	if kill {
		_ = inst.cmd.Process.Kill()
	} else {
		inst.stop()
	}
}

func (inst *instance) timedOut(inv *invocation) {
	f := inst.f
	f.mu.Lock()
	defer f.mu.Unlock()
	if inv.finished {
		return
	}
	f.finishLocked(inv, &FunctionError{
		Type:    "Sandbox.Timedout",
		Message: fmt.Sprintf("RequestId: %s Error: Task timed out after %.2f seconds", inv.id, f.opts.Timeout.Seconds()),
	})
	inst.discardLocked(true)
}

func (inst *instance) initTimedOut() {
	f := inst.f
	f.mu.Lock()
	defer f.mu.Unlock()
	if inst.state != stateInit {
		return
	}
	if inv := inst.current; inv != nil {
		f.finishLocked(inv, &FunctionError{
			Type:    "Sandbox.Timedout",
			Message: fmt.Sprintf("RequestId: %s Error: Init timed out after %.2f seconds", inv.id, f.opts.InitTimeout.Seconds()),
		})
	}
	inst.discardLocked(true)
}

// finishLocked decides how inv ends (fe nil: success) unless that is
// already decided, and frees its instance for the runtime's next request.
func (f *Function) finishLocked(inv *invocation, fe *FunctionError) {
	if inv.finished {
		return
	}
	inv.finished = true
	if inv.timer != nil {
		inv.timer.Stop()
	}
	if inv.result == nil {
		inv.result = &Result{Instance: inv.inst.n, ContentType: inv.contentType, FunctionError: fe}
		if fe == nil {
			inv.result.Body = &resultBody{s: inv.stream, res: inv.result}
		}
		close(inv.started)
	}
	var end error = io.EOF
	if fe != nil {
		end = fe
	}
	inv.stream.closeWrite(end)
	if inv.inst.current == inv {
		inv.inst.current = nil
		f.broadcastLocked()
	}
}

// publishLocked hands the started response to Invoke.
func (f *Function) publishLocked(inv *invocation) {
	inv.result = &Result{Instance: inv.inst.n, ContentType: inv.contentType}
	inv.result.Body = &resultBody{s: inv.stream, res: inv.result}
	close(inv.started)
}

func exitError(requestID string, err error) *FunctionError {
	msg := "Runtime exited without providing a reason"
	if err != nil {
		msg = "Runtime exited with error: " + err.Error()
	}
	return &FunctionError{Type: "Runtime.ExitError", Message: fmt.Sprintf("RequestId: %s Error: %s", requestID, msg)}
}

// tracked makes Close wait for the Runtime API handlers too.
func (f *Function) tracked(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		ok := f.enterLocked()
		f.mu.Unlock()
		if !ok {
			writeJSON(w, http.StatusServiceUnavailable, apiError{Message: "the emulator is shutting down", Type: "ServiceUnavailable"})
			return
		}
		defer f.wg.Done()
		h.ServeHTTP(w, r)
	})
}

// next is GET .../invocation/next: it holds the request until there is an
// invocation for this instance, which is what makes the instance idle.
func (inst *instance) next(w http.ResponseWriter, r *http.Request) {
	f := inst.f
	f.mu.Lock()
	if inst.state == stateInit {
		inst.state, inst.ready = stateRunning, true
		inst.initTimer.Stop()
	}
	if inst.parked || (inst.current != nil && inst.current.delivered) {
		f.mu.Unlock()
		inst.refuse(w, r, http.StatusForbidden, "InvalidStateTransition", "asked for an invocation while one is in flight or another request waits")
		return
	}
	for {
		if inst.state == stateDiscarded {
			inst.parked = false
			f.mu.Unlock()
			// Lambda freezes and then kills a discarded environment; it
			// never answers it.
			select {
			case <-inst.exited:
			case <-r.Context().Done():
			}
			return
		}
		if inv := inst.current; inv != nil && !inv.delivered {
			inst.parked = false
			inv.delivered = true
			deadline := time.Now().Add(f.opts.Timeout)
			inv.timer = time.AfterFunc(f.opts.Timeout, func() { inst.timedOut(inv) })
			f.mu.Unlock()
			h := w.Header()
			h.Set("Content-Type", "application/json")
			h.Set("Content-Length", strconv.Itoa(len(inv.payload)))
			h.Set(headerRequestID, inv.id)
			h.Set(headerDeadline, strconv.FormatInt(deadline.UnixMilli(), 10))
			h.Set(headerFunctionARN, f.arn)
			h.Set(headerTraceID, inv.traceID)
			w.WriteHeader(http.StatusOK)
			// A failed write means the runtime is going away: its exit or
			// the deadline ends the invocation.
			_, _ = w.Write(inv.payload)
			return
		}
		if r.Context().Err() != nil {
			// The runtime dropped the request: not idle until it asks again.
			inst.parked = false
			if inst.state == stateIdle {
				inst.state = stateRunning
			}
			f.mu.Unlock()
			return
		}
		inst.state, inst.parked = stateIdle, true
		f.broadcastLocked()
		f.mu.Unlock()
		select {
		case <-inst.wake:
		case <-inst.exited:
		case <-r.Context().Done():
		}
		f.mu.Lock()
	}
}

// claim returns the in-flight invocation the request names, now marked as
// answered, or refuses the request and returns nil.
func (inst *instance) claim(w http.ResponseWriter, r *http.Request) *invocation {
	f := inst.f
	f.mu.Lock()
	inv := inst.current
	if inv == nil || !inv.delivered || inv.id != r.PathValue("id") {
		f.mu.Unlock()
		inst.refuse(w, r, http.StatusBadRequest, "InvalidRequestID", "no invocation in flight has this request ID")
		return nil
	}
	if inv.responding {
		f.mu.Unlock()
		inst.refuse(w, r, http.StatusForbidden, "InvalidStateTransition", "the invocation already has a response")
		return nil
	}
	inv.responding = true
	inv.contentType = r.Header.Get("Content-Type")
	f.mu.Unlock()
	return inv
}

// response is POST .../{id}/response. The body may be a long-lived chunked
// stream; each chunk goes to the invoker as it arrives.
func (inst *instance) response(w http.ResponseWriter, r *http.Request) {
	inv := inst.claim(w, r)
	if inv == nil {
		return
	}
	f := inst.f
	buf := make([]byte, 32<<10)
	var total int64
	for {
		n, err := r.Body.Read(buf)
		if n > 0 {
			total += int64(n)
			if total > maxResponseBytes {
				fe := &FunctionError{
					Type:    "Function.ResponseSizeTooLarge",
					Message: fmt.Sprintf("Response payload size exceeded maximum allowed payload size (%d bytes).", maxResponseBytes),
				}
				f.mu.Lock()
				f.finishLocked(inv, fe)
				f.mu.Unlock()
				writeJSON(w, http.StatusRequestEntityTooLarge, apiError{Message: fe.Message, Type: fe.Type})
				return
			}
			f.mu.Lock()
			if !inv.finished && inv.result == nil {
				f.publishLocked(inv)
			}
			f.mu.Unlock()
			inv.stream.write(buf[:n])
		}
		if err == io.EOF {
			// Trailers are only readable once the body is.
			fe := trailerError(r.Trailer)
			f.mu.Lock()
			f.finishLocked(inv, fe)
			f.mu.Unlock()
			accepted(w)
			return
		}
		if err != nil {
			// The runtime's connection broke: its exit, or the deadline,
			// decides how the invocation ends.
			return
		}
	}
}

// invocationError is POST .../{id}/error: the function failed.
func (inst *instance) invocationError(w http.ResponseWriter, r *http.Request) {
	inv := inst.claim(w, r)
	if inv == nil {
		return
	}
	fe, tooLarge, err := readFunctionError(r)
	if err != nil {
		return
	}
	f := inst.f
	f.mu.Lock()
	f.finishLocked(inv, fe)
	f.mu.Unlock()
	if tooLarge {
		writeJSON(w, http.StatusRequestEntityTooLarge, apiError{Message: fe.Message, Type: fe.Type})
		return
	}
	accepted(w)
}

// initError is POST .../init/error: the invocation that caused the cold
// start fails with the runtime's error and the instance is discarded.
func (inst *instance) initError(w http.ResponseWriter, r *http.Request) {
	f := inst.f
	f.mu.Lock()
	initializing := inst.state == stateInit
	f.mu.Unlock()
	if !initializing {
		inst.refuse(w, r, http.StatusForbidden, "InvalidStateTransition", "init error after init")
		return
	}
	fe, tooLarge, err := readFunctionError(r)
	if err != nil {
		return
	}
	f.mu.Lock()
	if inst.state == stateInit { // not timed out meanwhile
		if inv := inst.current; inv != nil {
			f.finishLocked(inv, fe)
		}
		inst.discardLocked(false)
	}
	f.mu.Unlock()
	if tooLarge {
		writeJSON(w, http.StatusRequestEntityTooLarge, apiError{Message: fe.Message, Type: fe.Type})
		return
	}
	accepted(w)
}

func (inst *instance) unknown(w http.ResponseWriter, r *http.Request) {
	inst.refuse(w, r, http.StatusNotFound, "NotFound", "not a Runtime API path")
}

// refuse answers a call the Runtime API does not accept and records it
// for Function.Unexpected.
func (inst *instance) refuse(w http.ResponseWriter, r *http.Request, status int, typ, msg string) {
	f := inst.f
	f.mu.Lock()
	f.recordLocked(fmt.Sprintf("%s %s: %s", r.Method, r.URL.Path, msg))
	f.mu.Unlock()
	writeJSON(w, status, apiError{Message: msg, Type: typ})
}

type apiError struct {
	Message string `json:"errorMessage"`
	Type    string `json:"errorType"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func accepted(w http.ResponseWriter) {
	writeJSON(w, http.StatusAccepted, map[string]string{"status": "OK"})
}

// readFunctionError reads an error document of at most 1 MB; a larger one
// still fails the invocation, with the reason, and tooLarge set.
func readFunctionError(r *http.Request) (fe *FunctionError, tooLarge bool, err error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxErrorBytes+1))
	if err != nil {
		return nil, false, err
	}
	typ := r.Header.Get(headerErrorType)
	if len(body) > maxErrorBytes {
		if typ == "" {
			typ = "Runtime.Unknown"
		}
		return &FunctionError{Type: typ, Message: fmt.Sprintf("the function's error document exceeds %d bytes", maxErrorBytes)}, true, nil
	}
	return parseFunctionError(body, typ), false, nil
}

// parseFunctionError reads Lambda's error document, {"errorMessage",
// "errorType", ...}; typ is the error type from a header, used when the
// document has none.
func parseFunctionError(body []byte, typ string) *FunctionError {
	var doc apiError
	if json.Unmarshal(body, &doc) != nil {
		doc = apiError{Message: string(body)}
	}
	if doc.Type == "" {
		doc.Type = typ
	}
	if doc.Type == "" {
		doc.Type = "Runtime.Unknown"
	}
	return &FunctionError{Type: doc.Type, Message: doc.Message}
}

// trailerError is the failure a streamed response declares in its
// trailers (aws-lambda-go sets them when the function's reader fails), or
// nil.
func trailerError(tr http.Header) *FunctionError {
	typ, body := tr.Get(headerErrorType), tr.Get(trailerErrorBody)
	if typ == "" && body == "" {
		return nil
	}
	if len(body) > base64.StdEncoding.EncodedLen(maxErrorBytes) {
		body = body[:base64.StdEncoding.EncodedLen(maxErrorBytes)]
	}
	raw, err := base64.StdEncoding.DecodeString(body)
	if err != nil {
		raw = []byte(body)
	}
	return parseFunctionError(raw, typ)
}
