package lambdahttp

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
)

type principalKey struct{}

// wire is what the Lambda runtime sends for a streaming response: the JSON
// prelude, then eight NUL bytes, then the body.
type wire struct {
	Prelude struct {
		StatusCode        int                 `json:"statusCode"`
		Headers           map[string]string   `json:"headers"`
		MultiValueHeaders map[string][]string `json:"multiValueHeaders"`
		Cookies           []string            `json:"cookies"`
	}
	Body *bufio.Reader
}

// invoke calls the adapter as lambda.Start would and reads the response
// as the runtime does, through the response's own Read.
func invoke(t *testing.T, fn func(context.Context, events.APIGatewayProxyRequest) (*events.APIGatewayProxyStreamingResponse, error), ev events.APIGatewayProxyRequest) (*wire, *events.APIGatewayProxyStreamingResponse) {
	t.Helper()
	resp, err := fn(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = resp.Close() })
	if ct := resp.ContentType(); ct != "application/vnd.awslambda.http-integration-response" {
		t.Fatalf("content type %q", ct)
	}
	r := bufio.NewReader(resp)
	js, err := r.ReadBytes(0)
	if err != nil {
		t.Fatalf("reading prelude: %v", err)
	}
	sep := make([]byte, 7)
	if _, err := io.ReadFull(r, sep); err != nil || !bytes.Equal(sep, make([]byte, 7)) {
		t.Fatalf("prelude separator: %q %v", sep, err)
	}
	w := &wire{Body: r}
	if err := json.Unmarshal(js[:len(js)-1], &w.Prelude); err != nil {
		t.Fatalf("prelude %q: %v", js, err)
	}
	return w, resp
}

func TestProxyRoundTrip(t *testing.T) {
	type seen struct {
		method, path, rawQuery, host, remote, stage, principal string
		query                                                  url.Values
		accept                                                 []string
		body                                                   []byte
		contentLength                                          int64
	}
	var got seen
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rc, _ := RequestContext(r.Context())
		p, _ := r.Context().Value(principalKey{}).(string)
		got = seen{
			method: r.Method, path: r.URL.Path, rawQuery: r.URL.RawQuery, host: r.Host, remote: r.RemoteAddr,
			stage: rc.Stage, principal: p, query: r.URL.Query(), accept: r.Header.Values("Accept"),
			body: b, contentLength: r.ContentLength,
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Add("X-Multi", "a")
		w.Header().Add("X-Multi", "b")
		http.SetCookie(w, &http.Cookie{Name: "c1", Value: "v1"})
		http.SetCookie(w, &http.Cookie{Name: "c2", Value: "v2"})
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, `{"ok":true}`)
	})
	fn := Handler(h, Options{WithAuthorizer: func(ctx context.Context, a map[string]any) context.Context {
		return context.WithValue(ctx, principalKey{}, a["principalId"].(string)+"/"+a["client_id"].(string))
	}})
	payload := []byte{0, 1, 2, 0xff, 'x'}
	ev := events.APIGatewayProxyRequest{
		Resource:                        "/{proxy+}",
		Path:                            "/mcp/sub",
		HTTPMethod:                      http.MethodPost,
		Headers:                         map[string]string{"Host": "ignored.example", "Accept": "ignored"},
		MultiValueHeaders:               map[string][]string{"Host": {"abc.execute-api.eu-west-1.amazonaws.com"}, "Accept": {"application/json", "text/event-stream"}},
		QueryStringParameters:           map[string]string{"a": "ignored"},
		MultiValueQueryStringParameters: map[string][]string{"a": {"1", "2"}, "b c": {"x&y"}},
		Body:                            base64.StdEncoding.EncodeToString(payload),
		IsBase64Encoded:                 true,
		RequestContext: events.APIGatewayProxyRequestContext{
			Stage:      "prod",
			Identity:   events.APIGatewayRequestIdentity{SourceIP: "203.0.113.7"},
			Authorizer: map[string]any{"principalId": "user-1", "client_id": "cli", "scope": "mcp:tools"},
		},
	}
	w, _ := invoke(t, fn, ev)
	body, err := io.ReadAll(w.Body)
	if err != nil {
		t.Fatal(err)
	}
	if got.method != "POST" || got.path != "/mcp/sub" || got.host != "abc.execute-api.eu-west-1.amazonaws.com" ||
		got.remote != "203.0.113.7:0" || got.stage != "prod" || got.principal != "user-1/cli" {
		t.Errorf("request: %+v", got)
	}
	if q := got.query; len(q["a"]) != 2 || q["a"][0] != "1" || q["a"][1] != "2" || q.Get("b c") != "x&y" || len(q) != 2 {
		t.Errorf("query %q (%s)", q, got.rawQuery)
	}
	if len(got.accept) != 2 || got.accept[1] != "text/event-stream" {
		t.Errorf("accept %q", got.accept)
	}
	if !bytes.Equal(got.body, payload) || got.contentLength != int64(len(payload)) {
		t.Errorf("body %q (%d)", got.body, got.contentLength)
	}
	p := w.Prelude
	if p.StatusCode != http.StatusCreated || p.Headers["Content-Type"] != "application/json" ||
		strings.Join(p.MultiValueHeaders["X-Multi"], ",") != "a,b" || strings.Join(p.Cookies, ";") != "c1=v1;c2=v2" {
		t.Errorf("prelude %+v", p)
	}
	if _, ok := p.Headers["Set-Cookie"]; ok {
		t.Error("Set-Cookie left in headers")
	}
	if string(body) != `{"ok":true}` {
		t.Errorf("response body %q", body)
	}

	// Single-value fallbacks, stage prefix, and no authorizer: no hook.
	called := false
	fn = Handler(h, Options{StagePrefix: true, WithAuthorizer: func(ctx context.Context, _ map[string]any) context.Context {
		called = true
		return ctx
	}})
	ev = events.APIGatewayProxyRequest{
		Path: "/mcp", HTTPMethod: http.MethodGet,
		Headers:               map[string]string{"host": "h.example", "accept": "text/plain"},
		QueryStringParameters: map[string]string{"k": "v"},
		Body:                  "plain",
		RequestContext:        events.APIGatewayProxyRequestContext{Stage: "dev", Authorizer: map[string]any{"integrationLatency": 3}},
	}
	w, _ = invoke(t, fn, ev)
	_, _ = io.ReadAll(w.Body)
	if called || got.path != "/dev/mcp" || got.host != "h.example" || got.query.Get("k") != "v" ||
		len(got.accept) != 1 || string(got.body) != "plain" || got.method != "GET" {
		t.Errorf("single-value request: called=%v %+v", called, got)
	}
}

// The first SSE event reaches the reader while the handler is blocked.
func TestStreaming(t *testing.T) {
	release := make(chan struct{})
	done := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer close(done)
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, "data: first\n\n")
		if err := http.NewResponseController(w).Flush(); err != nil {
			t.Errorf("flush: %v", err)
		}
		select {
		case <-release:
		case <-r.Context().Done():
			return
		}
		_, _ = io.WriteString(w, "data: second\n\n")
		w.(http.Flusher).Flush()
		_, _ = io.WriteString(w, "data: third\n\n")
	})
	w, _ := invoke(t, Handler(h, Options{}), events.APIGatewayProxyRequest{Path: "/sse", HTTPMethod: "GET"})
	if w.Prelude.StatusCode != 200 || w.Prelude.Headers["Content-Type"] != "text/event-stream" {
		t.Fatalf("prelude %+v", w.Prelude)
	}
	line, err := w.Body.ReadString('\n')
	if err != nil || line != "data: first\n" {
		t.Fatalf("first event %q %v", line, err)
	}
	select {
	case <-done:
		t.Fatal("handler finished before the channel was released")
	default:
	}
	close(release)
	rest, err := io.ReadAll(w.Body)
	if err != nil {
		t.Fatal(err)
	}
	if string(rest) != "\ndata: second\n\ndata: third\n\n" {
		t.Fatalf("rest %q", rest)
	}
	<-done
}

// Closing the response (the runtime stops reading) cancels the handler.
func TestCloseCancels(t *testing.T) {
	cancelled := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(200)
		w.(http.Flusher).Flush()
		<-r.Context().Done()
		close(cancelled)
	})
	resp, err := Handler(h, Options{})(context.Background(), events.APIGatewayProxyRequest{Path: "/"})
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Close()
	select {
	case <-cancelled:
	case <-time.After(5 * time.Second):
		t.Fatal("handler context not cancelled")
	}
}

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestPanic(t *testing.T) {
	var logs syncBuf
	log := slog.New(slog.NewTextHandler(&logs, nil))
	// Before the response started: a 500.
	h := http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") })
	w, _ := invoke(t, Handler(h, Options{Logger: log}), events.APIGatewayProxyRequest{Path: "/"})
	b, err := io.ReadAll(w.Body)
	if err != nil || w.Prelude.StatusCode != 500 || !strings.Contains(string(b), "Internal Server Error") {
		t.Errorf("early panic: %d %q %v", w.Prelude.StatusCode, b, err)
	}
	// After: the stream ends with errHandlerPanic, what was sent stays sent.
	h = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "data: x\n\n")
		w.(http.Flusher).Flush()
		panic("late boom")
	})
	w, _ = invoke(t, Handler(h, Options{Logger: log}), events.APIGatewayProxyRequest{Path: "/"})
	b, err = io.ReadAll(w.Body)
	if !errors.Is(err, errHandlerPanic) || string(b) != "data: x\n\n" {
		t.Errorf("late panic: %q %v", b, err)
	}
	if s := logs.String(); !strings.Contains(s, "boom") || !strings.Contains(s, "late boom") {
		t.Errorf("logs: %s", s)
	}
}

func TestBodyTooLarge(t *testing.T) {
	called := false
	h := http.HandlerFunc(func(http.ResponseWriter, *http.Request) { called = true })
	fn := Handler(h, Options{MaxBodyBytes: 10})
	for _, ev := range []events.APIGatewayProxyRequest{
		{Path: "/", HTTPMethod: "POST", Body: strings.Repeat("x", 11)},
		{Path: "/", HTTPMethod: "POST", Body: base64.StdEncoding.EncodeToString(make([]byte, 11)), IsBase64Encoded: true},
	} {
		w, _ := invoke(t, fn, ev)
		_, _ = io.ReadAll(w.Body)
		if w.Prelude.StatusCode != http.StatusRequestEntityTooLarge {
			t.Errorf("status %d", w.Prelude.StatusCode)
		}
	}
	if called {
		t.Error("handler called")
	}
	w, _ := invoke(t, fn, events.APIGatewayProxyRequest{Path: "/", HTTPMethod: "POST", Body: strings.Repeat("x", 10)})
	_, _ = io.ReadAll(w.Body)
	if !called || w.Prelude.StatusCode != 200 {
		t.Errorf("at the limit: called=%v status %d", called, w.Prelude.StatusCode)
	}
	if DefaultMaxBodyBytes != 6<<20 {
		t.Error("default")
	}
}

// lambda.Start accepts the adapter and sends the prelude and body as raw
// bytes (the response is an io.Reader that does not marshal to JSON).
func TestLambdaRuntimeAcceptsHandler(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "hi") })
	out, err := lambda.NewHandler(Handler(h, Options{})).Invoke(context.Background(), []byte(`{"path":"/","httpMethod":"GET"}`))
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"statusCode":200,"headers":{"Content-Type":"text/plain; charset=utf-8"}}` + "\x00\x00\x00\x00\x00\x00\x00\x00hi"; string(out) != want {
		t.Fatalf("got %q want %q", out, want)
	}
}

func TestResourcePath(t *testing.T) {
	tests := []struct {
		name, resource, path string
		params               map[string]string
		want                 string
	}{
		{"plain resource", "/mcp", "/mcp", nil, "/mcp"},
		{"custom domain base path dropped", "/mcp", "/v1/mcp", nil, "/mcp"},
		{"greedy proxy", "/.well-known/{proxy+}", "/v1/.well-known/oauth-protected-resource/v1/mcp",
			map[string]string{"proxy": "oauth-protected-resource/v1/mcp"}, "/.well-known/oauth-protected-resource/v1/mcp"},
		{"named parameter", "/items/{id}/x", "/items/7/x", map[string]string{"id": "7"}, "/items/7/x"},
		{"parameter missing: event path", "/{proxy+}", "/a/b", nil, "/a/b"},
		{"no resource: event path", "", "/a", nil, "/a"},
		{"unterminated: event path", "/{proxy", "/a", map[string]string{"proxy": "x"}, "/a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var seen string
			h := http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { seen = r.URL.Path })
			w, _ := invoke(t, Handler(h, Options{}), events.APIGatewayProxyRequest{Resource: tt.resource, Path: tt.path, PathParameters: tt.params, HTTPMethod: "GET"})
			_, _ = io.ReadAll(w.Body)
			if seen != tt.want {
				t.Fatalf("path %q, want %q", seen, tt.want)
			}
		})
	}
}
