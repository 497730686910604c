package lambdaemu

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// req is an event for testdata/fn: "action" says what the function does.
type req map[string]any

// TestFunction runs the function in testdata/fn, built once for all the
// subtests, under the emulator.
func TestFunction(t *testing.T) {
	bin := buildFunction(t)
	tests := []struct {
		name string
		run  func(*testing.T, string)
	}{
		{"Echo", testEcho},
		{"Environment", testEnvironment},
		{"StreamingHTTP", testStreamingHTTP},
		{"StreamFailure", testStreamFailure},
		{"BufferedHTTP", testBufferedHTTP},
		{"FunctionErrors", testFunctionErrors},
		{"InitFailures", testInitFailures},
		{"UnknownPath", testUnknownPath},
		{"Concurrency", testConcurrency},
		{"MaxInstances", testMaxInstances},
		{"Stderr", testStderr},
		{"Close", testClose},
		{"NoLeaks", testNoLeaks},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, bin) })
	}
}

func buildFunction(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "bootstrap")
	cmd := exec.Command("go", "build", "-o", bin, "./testdata/fn")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building testdata/fn: %v\n%s", err, out)
	}
	return bin
}

// testContext bounds a subtest generously: only a hung emulator reaches it.
func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func invoke(t *testing.T, f *Function, r req) *Result {
	t.Helper()
	payload, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	res, err := f.Invoke(testContext(t), payload)
	if err != nil {
		t.Fatalf("Invoke(%s): %v", payload, err)
	}
	return res
}

// readAll reads a successful response to its end.
func readAll(t *testing.T, body io.ReadCloser) string {
	t.Helper()
	defer body.Close()
	b, err := io.ReadAll(body)
	if err != nil {
		t.Fatalf("reading response: %v", err)
	}
	return string(b)
}

// gate returns a file path the function waits for, and a func creating it.
func gate(t *testing.T) (string, func()) {
	path := filepath.Join(t.TempDir(), "gate")
	return path, func() {
		if err := os.WriteFile(path, nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

func mustJSON(t *testing.T, v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func testEcho(t *testing.T, bin string) {
	f := Start(t, Options{Binary: bin})
	// In sequence, every invocation lands on the one warm instance.
	for i := range 3 {
		res := invoke(t, f, req{"action": "echo", "data": req{"n": i}})
		if res.FunctionError != nil {
			t.Fatalf("function error: %v", res.FunctionError)
		}
		if res.Instance != 1 || res.ContentType != "application/json" {
			t.Errorf("instance %d, content type %q; want 1, application/json", res.Instance, res.ContentType)
		}
		if got, want := readAll(t, res.Body), mustJSON(t, req{"n": i}); got != want {
			t.Errorf("body %s, want %s", got, want)
		}
	}
	if n := f.Instances(); n != 1 {
		t.Errorf("%d instances, want 1", n)
	}
	if u := f.Unexpected(); len(u) != 0 {
		t.Errorf("unexpected Runtime API calls: %q", u)
	}
}

func testEnvironment(t *testing.T, bin string) {
	t.Setenv("LAMBDAEMU_NOT_FOR_THE_FUNCTION", "1")
	f := Start(t, Options{
		Binary:       bin,
		FunctionName: "env-fn",
		Region:       "eu-west-1",
		Timeout:      20 * time.Second,
		Env:          []string{"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=512", "GREETING=hello"},
	})
	before := time.Now()
	res := invoke(t, f, req{"action": "env"})
	after := time.Now()
	if res.FunctionError != nil {
		t.Fatalf("function error: %v", res.FunctionError)
	}
	var got struct {
		Env        []string
		Cwd        string
		RequestID  string
		ARN        string
		DeadlineMs int64
		TraceID    string
	}
	if err := json.Unmarshal([]byte(readAll(t, res.Body)), &got); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	for _, kv := range got.Env {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	want := map[string]string{
		"AWS_LAMBDA_FUNCTION_NAME":        "env-fn",
		"AWS_LAMBDA_FUNCTION_VERSION":     "$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
		"AWS_REGION":                      "eu-west-1",
		"AWS_DEFAULT_REGION":              "eu-west-1",
		"_HANDLER":                        "bootstrap",
		"TZ":                              ":UTC",
		"AWS_LAMBDA_LOG_GROUP_NAME":       "/aws/lambda/env-fn",
		"LAMBDA_TASK_ROOT":                got.Cwd,
		"PATH":                            os.Getenv("PATH"),
		"GREETING":                        "hello",
	}
	for k, v := range want {
		if env[k] != v {
			t.Errorf("%s=%q, want %q", k, env[k], v)
		}
	}
	patterns := map[string]string{
		"AWS_LAMBDA_RUNTIME_API":     `^127\.0\.0\.1:\d+$`,
		"AWS_LAMBDA_LOG_STREAM_NAME": `^\d{4}/\d{2}/\d{2}/\[\$LATEST\][0-9a-f]{32}$`,
	}
	for k, p := range patterns {
		if !regexp.MustCompile(p).MatchString(env[k]) {
			t.Errorf("%s=%q, want it to match %s", k, env[k], p)
		}
	}
	for k := range env {
		// aws-lambda-go itself sets _X_AMZN_TRACE_ID for each invocation.
		if _, ok := want[k]; !ok && patterns[k] == "" && k != "HOME" && k != "_X_AMZN_TRACE_ID" {
			t.Errorf("the function got %s from the test's environment", k)
		}
	}
	if got.ARN != "arn:aws:lambda:eu-west-1:123456789012:function:env-fn" {
		t.Errorf("invoked function ARN %q", got.ARN)
	}
	if !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(got.RequestID) {
		t.Errorf("request ID %q is not a UUID", got.RequestID)
	}
	if !strings.HasPrefix(got.TraceID, "Root=1-") {
		t.Errorf("trace ID %q", got.TraceID)
	}
	// The deadline is the timeout after the runtime got the event, which
	// happened between before and after.
	if lo, hi := before.Add(20*time.Second).UnixMilli(), after.Add(20*time.Second).UnixMilli(); got.DeadlineMs < lo || got.DeadlineMs > hi {
		t.Errorf("deadline %d outside [%d, %d]", got.DeadlineMs, lo, hi)
	}
}

func testStreamingHTTP(t *testing.T, bin string) {
	f := Start(t, Options{Binary: bin})
	gatePath, open := gate(t)
	ev := events.APIGatewayProxyRequest{
		HTTPMethod: http.MethodGet,
		Path:       "/events",
		Body: mustJSON(t, req{
			"action":            "stream",
			"status":            201,
			"headers":           map[string]string{"Content-Type": "text/event-stream", "X-Both": "one"},
			"multiValueHeaders": map[string][]string{"X-Multi": {"a", "b"}, "X-Both": {"one", "two"}},
			"cookies":           []string{"session=1; HttpOnly", "theme=dark"},
			"chunks":            []string{"data: first\n\n", "data: second\n\n", "data: third\n\n"},
			"gate":              gatePath,
		}),
	}
	hr, err := f.InvokeHTTP(testContext(t), ev)
	if err != nil {
		t.Fatalf("InvokeHTTP: %v", err)
	}
	defer hr.Body.Close()
	if hr.StatusCode != 201 || hr.Instance != 1 {
		t.Errorf("status %d on instance %d, want 201 on 1", hr.StatusCode, hr.Instance)
	}
	wantHeader := http.Header{
		"Content-Type": {"text/event-stream"},
		"X-Multi":      {"a", "b"},
		"X-Both":       {"one", "two"},
		"Set-Cookie":   {"session=1; HttpOnly", "theme=dark"},
	}
	if !reflect.DeepEqual(hr.Header, wantHeader) {
		t.Errorf("header %v, want %v", hr.Header, wantHeader)
	}
	// The function cannot write past its first chunk until the gate opens,
	// so reading it now proves it was delivered while the function ran.
	first := make([]byte, len("data: first\n\n"))
	if _, err := io.ReadFull(hr.Body, first); err != nil || string(first) != "data: first\n\n" {
		t.Fatalf("first chunk %q, %v", first, err)
	}
	open()
	if rest := readAll(t, hr.Body); rest != "data: second\n\ndata: third\n\n" {
		t.Errorf("rest of the stream %q", rest)
	}
}

func testStreamFailure(t *testing.T, bin string) {
	tests := []struct {
		name         string
		timeout      time.Duration
		event        req
		want         FunctionError // Message: a substring
		wantBody     string        // "": the failure comes before any byte
		wantInstance int           // of the next invocation
	}{
		{
			name:         "error after some bytes",
			event:        req{"action": "rawstream", "chunks": []string{"partial "}, "fail": "disk on fire"},
			want:         FunctionError{Type: "errorString", Message: "disk on fire"},
			wantBody:     "partial ",
			wantInstance: 1,
		},
		{
			name:         "error before any byte",
			event:        req{"action": "rawstream", "fail": "disk on fire"},
			want:         FunctionError{Type: "errorString", Message: "disk on fire"},
			wantInstance: 1,
		},
		{
			name:         "timeout mid-stream",
			timeout:      500 * time.Millisecond,
			event:        req{"action": "rawstream", "chunks": []string{"partial ", "never"}, "gate": filepath.Join(t.TempDir(), "never")},
			want:         FunctionError{Type: "Sandbox.Timedout", Message: "Task timed out after 0.50 seconds"},
			wantBody:     "partial ",
			wantInstance: 2,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := Start(t, Options{Binary: bin, Timeout: tc.timeout})
			res := invoke(t, f, tc.event)
			matches := func(fe *FunctionError) bool {
				return fe != nil && fe.Type == tc.want.Type && strings.Contains(fe.Message, tc.want.Message)
			}
			if tc.wantBody == "" {
				// Nothing was streamed: the failure is known at once.
				if res.Body != nil || !matches(res.FunctionError) {
					t.Fatalf("body %v, FunctionError %v; want none, %v", res.Body, res.FunctionError, tc.want)
				}
			} else {
				if res.FunctionError != nil {
					t.Fatalf("FunctionError %v before the body was read", res.FunctionError)
				}
				if res.ContentType != "application/octet-stream" {
					t.Errorf("content type %q", res.ContentType)
				}
				body, err := io.ReadAll(res.Body)
				var fe *FunctionError
				if string(body) != tc.wantBody || !errors.As(err, &fe) || !matches(fe) {
					t.Errorf("read %q, %v; want %q, %v", body, err, tc.wantBody, tc.want)
				}
				if res.FunctionError != fe {
					t.Errorf("Result.FunctionError %v, want the error Read returned", res.FunctionError)
				}
			}
			if next := invoke(t, f, req{"action": "echo", "data": 1}); next.Instance != tc.wantInstance {
				t.Errorf("next invocation on instance %d, want %d", next.Instance, tc.wantInstance)
			}
		})
	}
}

func testBufferedHTTP(t *testing.T, bin string) {
	f := Start(t, Options{Binary: bin})
	tests := []struct {
		name       string
		event      req
		wantStatus int
		wantHeader http.Header
		wantBody   string
		wantErr    string
	}{
		{
			name:       "proxy response",
			event:      req{"action": "proxy", "status": 404, "headers": map[string]string{"Content-Type": "text/plain"}, "multiValueHeaders": map[string][]string{"Vary": {"Origin", "Accept"}}, "body": "not here"},
			wantStatus: 404,
			wantHeader: http.Header{"Content-Type": {"text/plain"}, "Vary": {"Origin", "Accept"}},
			wantBody:   "not here",
		},
		{
			name:       "base64 body",
			event:      req{"action": "proxy", "status": 200, "body": "aGk=", "base64": true},
			wantStatus: 200,
			wantHeader: http.Header{},
			wantBody:   "hi",
		},
		{name: "not a proxy response", event: req{"action": "echo", "data": req{"hello": 1}}, wantErr: "malformed Lambda proxy response"},
		{name: "function error", event: req{"action": "fail", "message": "Unauthorized"}, wantErr: "errorString: Unauthorized"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			hr, err := f.InvokeHTTP(testContext(t), events.APIGatewayProxyRequest{HTTPMethod: http.MethodPost, Path: "/", Body: mustJSON(t, tc.event)})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("InvokeHTTP: %v, want an error containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("InvokeHTTP: %v", err)
			}
			if hr.StatusCode != tc.wantStatus || !reflect.DeepEqual(hr.Header, tc.wantHeader) {
				t.Errorf("status %d, header %v; want %d, %v", hr.StatusCode, hr.Header, tc.wantStatus, tc.wantHeader)
			}
			if body := readAll(t, hr.Body); body != tc.wantBody {
				t.Errorf("body %q, want %q", body, tc.wantBody)
			}
		})
	}
	var fe *FunctionError
	_, err := f.InvokeHTTP(testContext(t), events.APIGatewayProxyRequest{HTTPMethod: http.MethodPost, Body: mustJSON(t, req{"action": "fail", "message": "Unauthorized"})})
	if !errors.As(err, &fe) || fe.Message != "Unauthorized" {
		t.Errorf("InvokeHTTP error %v, want a *FunctionError", err)
	}
}

func testFunctionErrors(t *testing.T, bin string) {
	tests := []struct {
		name        string
		timeout     time.Duration
		event       req
		wantType    string
		wantMessage string // a substring
		discarded   bool   // the instance does not serve the next invocation
	}{
		{"returned error", 0, req{"action": "fail", "message": "Unauthorized"}, "errorString", "Unauthorized", false},
		{"panic", 0, req{"action": "panic", "message": "boom"}, "string", "boom", true},
		{"exit", 0, req{"action": "exit", "code": 3}, "Runtime.ExitError", "Runtime exited with error: exit status 3", true},
		{"timeout", 500 * time.Millisecond, req{"action": "sleep"}, "Sandbox.Timedout", "Task timed out after 0.50 seconds", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := Start(t, Options{Binary: bin, Timeout: tc.timeout})
			res := invoke(t, f, tc.event)
			if fe := res.FunctionError; fe == nil || fe.Type != tc.wantType || !strings.Contains(fe.Message, tc.wantMessage) {
				t.Fatalf("FunctionError %v, want %s containing %q", fe, tc.wantType, tc.wantMessage)
			}
			if res.Body != nil || res.Instance != 1 {
				t.Errorf("body %v on instance %d, want none on 1", res.Body, res.Instance)
			}
			next := invoke(t, f, req{"action": "echo", "data": "again"})
			if next.FunctionError != nil {
				t.Fatalf("next invocation: %v", next.FunctionError)
			}
			wantInstance := 1
			if tc.discarded {
				wantInstance = 2
			}
			if next.Instance != wantInstance || f.Instances() != wantInstance {
				t.Errorf("next invocation on instance %d of %d, want %d", next.Instance, f.Instances(), wantInstance)
			}
			if got := readAll(t, next.Body); got != `"again"` {
				t.Errorf("next body %s", got)
			}
		})
	}
}

func testInitFailures(t *testing.T, bin string) {
	tests := []struct {
		name        string
		init        string
		wantType    string
		wantMessage string
	}{
		{"exit", "exit", "Runtime.ExitError", "Runtime exited with error: exit status 2"},
		{"timeout", "hang", "Sandbox.Timedout", "Init timed out after 0.50 seconds"},
		{"init error", "error", "Runtime.ConfigError", "missing configuration"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := Start(t, Options{Binary: bin, InitTimeout: 500 * time.Millisecond, Env: []string{"FN_INIT=" + tc.init}})
			// Every invocation cold-starts a new instance, which fails too.
			for i := 1; i <= 2; i++ {
				res := invoke(t, f, req{"action": "echo"})
				if fe := res.FunctionError; fe == nil || fe.Type != tc.wantType || !strings.Contains(fe.Message, tc.wantMessage) {
					t.Fatalf("invocation %d: FunctionError %v, want %s containing %q", i, fe, tc.wantType, tc.wantMessage)
				}
				if res.Instance != i || f.Instances() != i {
					t.Errorf("invocation %d on instance %d of %d", i, res.Instance, f.Instances())
				}
			}
		})
	}
	t.Run("init output", func(t *testing.T) {
		f, err := NewFunction(Options{Binary: bin, Env: []string{"FN_INIT=exit"}})
		if err != nil {
			t.Fatal(err)
		}
		invoke(t, f, req{"action": "echo"})
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		if logs := f.Logs(); !strings.Contains(logs, "[function #1] init: missing configuration\n") {
			t.Errorf("logs %q lack the instance's output", logs)
		}
	})
}

func testUnknownPath(t *testing.T, bin string) {
	f := Start(t, Options{Binary: bin, Env: []string{"FN_INIT=probe"}})
	res := invoke(t, f, req{"action": "echo", "data": 1})
	if got := readAll(t, res.Body); got != "1" {
		t.Errorf("body %s", got)
	}
	want := []string{"GET /2018-06-01/runtime/bogus: not a Runtime API path"}
	if got := f.Unexpected(); !slices.Equal(got, want) {
		t.Errorf("unexpected calls %q, want %q", got, want)
	}
	if logs := f.Logs(); !strings.Contains(logs, "probe: 404 Not Found") {
		t.Errorf("logs %q lack the probe's answer", logs)
	}
}

func testConcurrency(t *testing.T, bin string) {
	f := Start(t, Options{Binary: bin})
	gatePath, open := gate(t)
	results := make(chan *Result, 2)
	for range 2 {
		go func() {
			payload, _ := json.Marshal(req{"action": "rawstream", "chunks": []string{"x", "y"}, "gate": gatePath})
			res, err := f.Invoke(testContext(t), payload)
			if err != nil {
				t.Errorf("Invoke: %v", err)
			}
			results <- res
		}()
	}
	// Both responses started while the gate was shut: two instances at once.
	a, b := <-results, <-results
	if a == nil || b == nil {
		t.FailNow()
	}
	if got := []int{a.Instance, b.Instance}; !slices.Contains(got, 1) || !slices.Contains(got, 2) {
		t.Errorf("instances %v, want 1 and 2", got)
	}
	open()
	for _, res := range []*Result{a, b} {
		if got := readAll(t, res.Body); got != "xy" {
			t.Errorf("body %q", got)
		}
	}
	// Both are free again: the lowest-numbered one serves the next.
	if res := invoke(t, f, req{"action": "echo", "data": 3}); res.Instance != 1 {
		t.Errorf("third invocation on instance %d, want 1", res.Instance)
	}
	if n := f.Instances(); n != 2 {
		t.Errorf("%d instances, want 2", n)
	}
}

func testMaxInstances(t *testing.T, bin string) {
	f := Start(t, Options{Binary: bin, MaxInstances: 1})
	gatePath, open := gate(t)
	first := invoke(t, f, req{"action": "rawstream", "chunks": []string{"x", "y"}, "gate": gatePath})

	// The only instance is busy until the gate opens, so this one cannot
	// be served, however long it waits.
	ctx, cancel := context.WithTimeout(testContext(t), 200*time.Millisecond)
	defer cancel()
	payload, _ := json.Marshal(req{"action": "echo", "data": 2})
	if res, err := f.Invoke(ctx, payload); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Invoke with the only instance busy: %+v, %v", res, err)
	}

	type outcome struct {
		res *Result
		err error
	}
	waiting := make(chan outcome, 1)
	go func() {
		res, err := f.Invoke(testContext(t), payload)
		waiting <- outcome{res, err}
	}()
	open()
	if got := readAll(t, first.Body); got != "xy" {
		t.Errorf("first body %q", got)
	}
	o := <-waiting
	if o.err != nil {
		t.Fatalf("waiting Invoke: %v", o.err)
	}
	if o.res.Instance != 1 || readAll(t, o.res.Body) != "2" {
		t.Errorf("waiting invocation on instance %d", o.res.Instance)
	}
	if n := f.Instances(); n != 1 {
		t.Errorf("%d instances, want 1", n)
	}
}

func testStderr(t *testing.T, bin string) {
	var out bytes.Buffer // the emulator serializes its writes
	f := Start(t, Options{Binary: bin, FunctionName: "chatty", Stderr: &out})
	readAll(t, invoke(t, f, req{"action": "echo", "data": 1}).Body)
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{"[chatty #1] init done\n", "[chatty #1] action: echo\n"} {
		if !strings.Contains(out.String(), line) {
			t.Errorf("Stderr %q lacks %q", out.String(), line)
		}
	}
	if f.Logs() != out.String() {
		t.Errorf("Logs %q differ from what Stderr got, %q", f.Logs(), out.String())
	}
}

func testClose(t *testing.T, bin string) {
	f, err := NewFunction(Options{Binary: bin})
	if err != nil {
		t.Fatal(err)
	}
	gatePath, _ := gate(t) // never opened
	res := invoke(t, f, req{"action": "rawstream", "chunks": []string{"x", "y"}, "gate": gatePath})
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(res.Body)
	var fe *FunctionError
	if string(body) != "x" || !errors.As(err, &fe) || fe.Type != "Runtime.ExitError" {
		t.Errorf("in-flight response %q, %v; want \"x\" then a Runtime.ExitError", body, err)
	}
	if _, err := f.Invoke(testContext(t), []byte("{}")); err == nil || !strings.Contains(err.Error(), "closed") {
		t.Errorf("Invoke after Close: %v", err)
	}
	if _, err := os.Stat(f.taskRoot); !os.IsNotExist(err) {
		t.Errorf("task root left behind: %v", err)
	}
	if err := f.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func testNoLeaks(t *testing.T, bin string) {
	baseline := runtime.NumGoroutine()
	f, err := NewFunction(Options{Binary: bin, MaxInstances: 2})
	if err != nil {
		t.Fatal(err)
	}
	readAll(t, invoke(t, f, req{"action": "echo", "data": 1}).Body)
	invoke(t, f, req{"action": "fail", "message": "no"})
	invoke(t, f, req{"action": "exit", "code": 1})
	hr, err := f.InvokeHTTP(testContext(t), events.APIGatewayProxyRequest{HTTPMethod: http.MethodGet, Body: mustJSON(t, req{"action": "stream", "chunks": []string{"a", "b"}})})
	if err != nil {
		t.Fatal(err)
	}
	readAll(t, hr.Body)
	// Left in flight, unread, for Close to deal with.
	gatePath, _ := gate(t)
	stuck := invoke(t, f, req{"action": "rawstream", "chunks": []string{"x", "y"}, "gate": gatePath})
	ctx, cancel := context.WithCancel(testContext(t))
	cancel()
	if _, err := f.Invoke(ctx, []byte(`{"action":"echo"}`)); !errors.Is(err, context.Canceled) {
		t.Errorf("Invoke with a cancelled context: %v", err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	_ = stuck.Body.Close()

	var n int
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if n = runtime.NumGoroutine(); n <= baseline {
			return
		}
	}
	var stacks strings.Builder
	_ = pprof.Lookup("goroutine").WriteTo(&stacks, 1)
	t.Errorf("%d goroutines after Close, %d before:\n%s", n, baseline, stacks.String())
}
