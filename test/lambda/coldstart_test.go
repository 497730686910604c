package lambda_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"mcplambda/test/testproc"
)

// runtimeAPI plays the Lambda service's side of the runtime API for one
// invocation, recording when the runtime first asked for work (the end of
// INIT) and when the response was complete.
type runtimeAPI struct {
	event      []byte
	next, done chan time.Time
	nextCalled bool
}

func (r *runtimeAPI) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	switch {
	case req.Method == http.MethodGet && req.URL.Path == "/2018-06-01/runtime/invocation/next":
		if r.nextCalled {
			<-req.Context().Done() // one invocation per run: hold the runtime like a frozen environment
			return
		}
		r.nextCalled = true
		r.next <- time.Now()
		w.Header().Set("Lambda-Runtime-Aws-Request-Id", "req-1")
		w.Header().Set("Lambda-Runtime-Deadline-Ms", fmt.Sprint(time.Now().Add(time.Minute).UnixMilli()))
		w.Header().Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:123456789012:function:mcp-server")
		_, _ = w.Write(r.event)
	case req.Method == http.MethodPost && req.URL.Path == "/2018-06-01/runtime/invocation/req-1/response":
		_, _ = io.Copy(io.Discard, req.Body)
		r.done <- time.Now()
		w.WriteHeader(http.StatusAccepted)
	default:
		b, _ := io.ReadAll(io.LimitReader(req.Body, 4096))
		http.Error(w, "unexpected "+req.Method+" "+req.URL.Path+": "+string(b), http.StatusBadRequest)
	}
}

// BenchmarkColdStart measures a cold start of the Lambda build of
// mcp-server (CGO_ENABLED=0, -trimpath, lambda.norpc, as the Dockerfile
// builds it): from exec to the runtime's first request for work (what
// Lambda reports as Init Duration) and to the complete response of a first
// initialize. The runtime API is played by this benchmark.
func BenchmarkColdStart(b *testing.B) {
	ev, _ := json.Marshal(mcpPost(initialize, "", ourAuthorizer("alice")))
	coldStart(b, "./cmd/mcp-server", ev, "AUTH_METHOD=lambda", "API_KEY_SHA256="+keyHash(apiKey),
		"MCP_RESOURCE_URL="+resource, "REQUEST_STATE_KEY="+stateKey, "BEDROCK_LOG_SOURCE=cloudwatch", "AWS_REGION=us-east-1", "LOG_LEVEL=warn")
}

// BenchmarkAuthorizerColdStart is the same measurement for mcp-authorizer,
// answering one REQUEST authorization with an API key. It also reports the
// binary's size, since the authorizer's dependencies are what its cold
// start pays for.
func BenchmarkAuthorizerColdStart(b *testing.B) {
	ev, _ := json.Marshal(map[string]any{
		"type":      "REQUEST",
		"methodArn": "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod/POST/mcp",
		"headers":   map[string]string{"authorization": "Bearer " + apiKey},
	})
	coldStart(b, "./cmd/mcp-authorizer", ev, "API_KEY_SHA256="+keyHash(apiKey), "MCP_RESOURCE_URL="+resource)
}

func coldStart(b *testing.B, pkg string, ev []byte, env ...string) {
	root := testproc.RepoRoot(b)
	bin := filepath.Join(b.TempDir(), "bootstrap")
	build := exec.Command("go", "build", "-trimpath", "-tags", "lambda.norpc", "-ldflags", "-s -w", "-o", bin, pkg)
	build.Dir = root
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("%v\n%s", err, out)
	}
	fi, err := os.Stat(bin)
	if err != nil {
		b.Fatal(err)
	}
	var initTotal, firstTotal time.Duration
	b.ResetTimer()
	for range b.N {
		rt := &runtimeAPI{event: ev, next: make(chan time.Time, 1), done: make(chan time.Time, 1)}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		srv := &http.Server{Handler: rt}
		go func() { _ = srv.Serve(ln) }()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		cmd := exec.CommandContext(ctx, bin)
		cmd.Env = append([]string{"AWS_LAMBDA_RUNTIME_API=" + ln.Addr().String(), "PATH=" + os.Getenv("PATH")}, env...)
		start := time.Now()
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		var next, done time.Time
		select {
		case next = <-rt.next:
		case <-ctx.Done():
			b.Fatal("the runtime never asked for an invocation")
		}
		select {
		case done = <-rt.done:
		case <-ctx.Done():
			b.Fatal("no response")
		}
		initTotal += next.Sub(start)
		firstTotal += done.Sub(start)
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		cancel()
		_ = srv.Close()
	}
	b.ReportMetric(float64(initTotal.Microseconds())/1000/float64(b.N), "ms-init")
	b.ReportMetric(float64(firstTotal.Microseconds())/1000/float64(b.N), "ms-first-response")
	b.ReportMetric(float64(fi.Size())/1e6, "MB-binary")
	b.ReportMetric(0, "ns/op")
}
