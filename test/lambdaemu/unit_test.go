package lambdaemu

import (
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

func TestOptionsValidation(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	plain := filepath.Join(dir, "plain")
	if err := os.WriteFile(plain, []byte("not a program"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		opts    Options
		wantErr string
	}{
		{"no binary", Options{}, "Binary is required"},
		{"missing binary", Options{Binary: filepath.Join(dir, "nope")}, "no such file"},
		{"not executable", Options{Binary: plain}, "not an executable file"},
		{"directory", Options{Binary: dir}, "not an executable file"},
		{"bad name", Options{Binary: exe, FunctionName: "my function"}, "function name"},
		{"long name", Options{Binary: exe, FunctionName: strings.Repeat("f", 65)}, "function name"},
		{"bad region", Options{Binary: exe, Region: "us east"}, "region"},
		{"negative instances", Options{Binary: exe, MaxInstances: -1}, "must not be negative"},
		{"negative timeout", Options{Binary: exe, Timeout: -time.Second}, "must not be negative"},
		{"env without value", Options{Binary: exe, Env: []string{"FOO"}}, "not KEY=VALUE"},
		{"env without key", Options{Binary: exe, Env: []string{"=x"}}, "not KEY=VALUE"},
		{"runtime API in env", Options{Binary: exe, Env: []string{"AWS_LAMBDA_RUNTIME_API=1.2.3.4:9"}}, "AWS_LAMBDA_RUNTIME_API"},
		{"valid", Options{Binary: exe, FunctionName: "my-fn_2", Region: "eu-west-1", Env: []string{"A=", "B=c=d"}}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := NewFunction(tc.opts)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("NewFunction: %v", err)
				}
				if err := f.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
				return
			}
			if err == nil {
				_ = f.Close()
				t.Fatalf("NewFunction succeeded, want an error containing %q", tc.wantErr)
			}
			if !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("error %q does not contain %q", err, tc.wantErr)
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	f := Start(t, Options{Binary: exe})
	want := Options{
		Binary:       exe,
		FunctionName: "function",
		Region:       "us-east-1",
		MaxInstances: 10,
		Timeout:      30 * time.Second,
		InitTimeout:  15 * time.Second,
	}
	got := f.opts
	got.Env = nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("options %+v, want %+v", got, want)
	}
	if f.arn != "arn:aws:lambda:us-east-1:123456789012:function:function" {
		t.Errorf("ARN %q", f.arn)
	}
	if n := f.Instances(); n != 0 {
		t.Errorf("%d instances before any invocation", n)
	}
}

func TestInvokeRejectsPayload(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	// The payload is checked before any instance starts, so the test binary
	// stands in for a function it never runs.
	f := Start(t, Options{Binary: exe})
	tests := []struct {
		name    string
		payload []byte
		wantErr string
	}{
		{"not JSON", []byte("{"), "not valid JSON"},
		{"too large", []byte(`"` + strings.Repeat("x", 6<<20) + `"`), "limit"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.Invoke(t.Context(), tc.payload)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("Invoke: %v, want an error containing %q", err, tc.wantErr)
			}
		})
	}
	if n := f.Instances(); n != 0 {
		t.Errorf("%d instances started for rejected payloads", n)
	}
}

func TestReadPrelude(t *testing.T) {
	const sep = "\x00\x00\x00\x00\x00\x00\x00\x00"
	tests := []struct {
		name       string
		stream     string
		wantStatus int
		wantHeader http.Header
		wantBody   string
		wantErr    string
	}{
		{
			name:       "headers, multi-value headers and cookies",
			stream:     `{"statusCode":202,"headers":{"content-type":"text/plain","X-Both":"1"},"multiValueHeaders":{"X-Multi":["a","b"],"X-Both":["1","2"]},"cookies":["a=1","b=2; Secure"]}` + sep + "hello",
			wantStatus: 202,
			wantHeader: http.Header{
				"Content-Type": {"text/plain"},
				"X-Multi":      {"a", "b"},
				"X-Both":       {"1", "2"},
				"Set-Cookie":   {"a=1", "b=2; Secure"},
			},
			wantBody: "hello",
		},
		{
			name:       "status omitted",
			stream:     `{}` + sep,
			wantStatus: 200,
			wantHeader: http.Header{},
		},
		{
			name:       "NUL bytes in the body",
			stream:     `{"statusCode":200}` + sep + sep + "x",
			wantStatus: 200,
			wantHeader: http.Header{},
			wantBody:   sep + "x",
		},
		{name: "no separator", stream: `{"statusCode":200}`, wantErr: "ended before its prelude"},
		{name: "malformed", stream: `{"statusCode":` + sep, wantErr: "malformed streaming prelude"},
		{name: "not an object", stream: `[1]` + sep, wantErr: "malformed streaming prelude"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// One byte at a time: the prelude arrives in pieces.
			hr, err := readPrelude(io.NopCloser(iotest.OneByteReader(strings.NewReader(tc.stream))))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("readPrelude: %v, want an error containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("readPrelude: %v", err)
			}
			if hr.StatusCode != tc.wantStatus {
				t.Errorf("status %d, want %d", hr.StatusCode, tc.wantStatus)
			}
			if !reflect.DeepEqual(hr.Header, tc.wantHeader) {
				t.Errorf("header %v, want %v", hr.Header, tc.wantHeader)
			}
			body, err := io.ReadAll(hr.Body)
			if err != nil || string(body) != tc.wantBody {
				t.Errorf("body %q (%v), want %q", body, err, tc.wantBody)
			}
		})
	}
}

func TestReadPreludeFunctionError(t *testing.T) {
	s := newStream()
	s.write([]byte(`{"statusCode":200`))
	s.closeWrite(&FunctionError{Type: "errorString", Message: "boom"})
	_, err := readPrelude(s)
	var fe *FunctionError
	if !errors.As(err, &fe) || fe.Message != "boom" {
		t.Errorf("readPrelude: %v, want the function's error", err)
	}
}

func TestReadProxyResponse(t *testing.T) {
	tests := []struct {
		name       string
		response   string
		wantStatus int
		wantHeader http.Header
		wantBody   string
		wantErr    string
	}{
		{
			name:       "plain",
			response:   `{"statusCode":404,"headers":{"Content-Type":"text/plain","X-A":"1"},"multiValueHeaders":{"X-A":["1","2"],"X-B":["3"]},"body":"nope"}`,
			wantStatus: 404,
			wantHeader: http.Header{"Content-Type": {"text/plain"}, "X-A": {"1", "2"}, "X-B": {"3"}},
			wantBody:   "nope",
		},
		{
			name:       "single and multi-value headers with different values",
			response:   `{"statusCode":200,"headers":{"X-A":"single"},"multiValueHeaders":{"X-A":["multi"]}}`,
			wantStatus: 200,
			wantHeader: http.Header{"X-A": {"multi", "single"}},
		},
		{
			name:       "base64",
			response:   `{"statusCode":200,"body":"` + base64.StdEncoding.EncodeToString([]byte("\x00\x01bin")) + `","isBase64Encoded":true}`,
			wantStatus: 200,
			wantHeader: http.Header{},
			wantBody:   "\x00\x01bin",
		},
		{name: "no status", response: `{"body":"x"}`, wantErr: "malformed"},
		{name: "not JSON", response: `hello`, wantErr: "malformed"},
		{name: "bad base64", response: `{"statusCode":200,"body":"%%%","isBase64Encoded":true}`, wantErr: "body"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			hr, err := readProxyResponse(io.NopCloser(strings.NewReader(tc.response)))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("readProxyResponse: %v, want an error containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("readProxyResponse: %v", err)
			}
			if hr.StatusCode != tc.wantStatus {
				t.Errorf("status %d, want %d", hr.StatusCode, tc.wantStatus)
			}
			if !reflect.DeepEqual(hr.Header, tc.wantHeader) {
				t.Errorf("header %v, want %v", hr.Header, tc.wantHeader)
			}
			body, _ := io.ReadAll(hr.Body)
			if string(body) != tc.wantBody {
				t.Errorf("body %q, want %q", body, tc.wantBody)
			}
		})
	}
}

func TestStream(t *testing.T) {
	t.Run("bytes then the failure", func(t *testing.T) {
		s := newStream()
		res := &Result{}
		body := &resultBody{s: s, res: res}
		s.write([]byte("ab"))
		s.write([]byte("c"))
		fe := &FunctionError{Type: "T", Message: "M"}
		s.closeWrite(fe)
		s.closeWrite(io.EOF) // the first end counts
		s.write([]byte("late"))
		got, err := io.ReadAll(body)
		if string(got) != "abc" || !errors.Is(err, fe) {
			t.Errorf("read %q, %v; want \"abc\", %v", got, err, fe)
		}
		if res.FunctionError != fe {
			t.Errorf("Result.FunctionError %v, want %v", res.FunctionError, fe)
		}
	})
	t.Run("a blocked read sees bytes as they come", func(t *testing.T) {
		s := newStream()
		got := make(chan string)
		go func() {
			b := make([]byte, 10)
			n, _ := s.Read(b)
			got <- string(b[:n])
		}()
		s.write([]byte("x"))
		if g := <-got; g != "x" {
			t.Errorf("read %q", g)
		}
		s.closeWrite(io.EOF)
	})
	t.Run("close unblocks a read and drops later bytes", func(t *testing.T) {
		s := newStream()
		errc := make(chan error)
		go func() {
			_, err := s.Read(make([]byte, 1))
			errc <- err
		}()
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		if err := <-errc; !errors.Is(err, io.ErrClosedPipe) {
			t.Errorf("read after close: %v", err)
		}
		s.write([]byte("dropped"))
		if s.buf.Len() != 0 {
			t.Errorf("%d bytes kept after close", s.buf.Len())
		}
	})
}

func TestLineWriter(t *testing.T) {
	var out strings.Builder
	sink := &logSink{out: &out}
	a, b := sink.writer("[fn #1] "), sink.writer("[fn #2] ")
	for _, w := range []struct {
		w *lineWriter
		s string
	}{{a, "one\ntw"}, {b, "other"}, {a, "o\n"}, {b, "\n\nlast"}, {a, "tail"}} {
		if n, err := w.w.Write([]byte(w.s)); n != len(w.s) || err != nil {
			t.Fatalf("Write(%q) = %d, %v", w.s, n, err)
		}
	}
	a.flush()
	b.flush()
	want := "[fn #1] one\n[fn #1] two\n[fn #2] other\n[fn #2] \n[fn #1] tail\n[fn #2] last\n"
	if got := sink.String(); got != want {
		t.Errorf("logs %q, want %q", got, want)
	}
	if out.String() != want {
		t.Errorf("Stderr got %q, want %q", out.String(), want)
	}
}

func TestFunctionErrorString(t *testing.T) {
	var err error = &FunctionError{Type: "errorString", Message: "Unauthorized"}
	if err.Error() != "errorString: Unauthorized" {
		t.Errorf("Error() = %q", err)
	}
}
