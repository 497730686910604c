// Package lambdahttp runs an http.Handler on AWS Lambda behind an API
// Gateway REST API whose integration streams responses (integration URI
// .../2021-11-15/functions/FUNCTION/response-streaming-invocations,
// responseTransferMode STREAM).
//
// Handler converts the proxy event (events.APIGatewayProxyRequest) into an
// *http.Request, runs the handler in its own goroutine and returns an
// *events.APIGatewayProxyStreamingResponse as soon as the handler has
// committed its status and headers; the body is an io.Pipe that the Lambda
// runtime reads while the handler still runs, so every Flush reaches the
// client at once (Server-Sent Events work).
//
//	lambda.Start(lambdahttp.Handler(mux, lambdahttp.Options{...}))
package lambdahttp

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"runtime/debug"
	"strings"
	"sync"

	"github.com/aws/aws-lambda-go/events"

	"mcplambda/internal/authctx"
)

// DefaultMaxBodyBytes is the default request body bound: Lambda's
// synchronous invocation payload limit.
const DefaultMaxBodyBytes = 6 << 20

// bufferSize is how much unflushed body the writer holds before it pushes
// it to the stream by itself (net/http holds 4 KiB).
const bufferSize = 32 << 10

// errHandlerPanic ends the response stream when the handler panicked after
// it had started its response.
var errHandlerPanic = errors.New("lambdahttp: handler panicked")

// Options configure Handler; the zero value is usable.
type Options struct {
	// MaxBodyBytes bounds the decoded request body; a larger one is
	// answered 413 without calling the handler. Default DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// StagePrefix, when set, makes the request path "/STAGE" + ev.Path.
	// By default the handler sees ev.Path, the path without the stage
	// (what the client asked for below https://HOST/STAGE); the stage is
	// always available through RequestContext.
	StagePrefix bool
	// WithAuthorizer, if set, is applied to the request context when the
	// event carries authorizer context that names a caller (see
	// authctx.Present); the server passes a function that turns the map into
	// a principal and calls server.WithAuthorizerPrincipal.
	WithAuthorizer func(ctx context.Context, authorizer map[string]any) context.Context
	// Logger receives handler panics; nil means they are not logged.
	Logger *slog.Logger
}

type eventKey struct{}

// RequestContext returns the API Gateway request context (stage, request
// id, identity, authorizer) of a request served by Handler.
func RequestContext(ctx context.Context) (events.APIGatewayProxyRequestContext, bool) {
	rc, ok := ctx.Value(eventKey{}).(*events.APIGatewayProxyRequestContext)
	if !ok || rc == nil {
		return events.APIGatewayProxyRequestContext{}, false
	}
	return *rc, true
}

// Handler adapts h to a Lambda handler for API Gateway REST proxy events
// with a streaming integration. Pass it to lambda.Start.
func Handler(h http.Handler, opts Options) func(ctx context.Context, ev events.APIGatewayProxyRequest) (*events.APIGatewayProxyStreamingResponse, error) {
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	return func(ctx context.Context, ev events.APIGatewayProxyRequest) (*events.APIGatewayProxyStreamingResponse, error) {
		body, err := decodeBody(ev, opts.MaxBodyBytes)
		if err != nil {
			if errors.Is(err, errTooLarge) {
				return staticResponse(http.StatusRequestEntityTooLarge, `{"error":"request body too large"}`+"\n"), nil
			}
			return staticResponse(http.StatusBadRequest, `{"error":"malformed request body"}`+"\n"), nil
		}
		invocation := ctx
		ctx, cancel := context.WithCancel(ctx)
		rc := ev.RequestContext
		ctx = context.WithValue(ctx, eventKey{}, &rc)
		if opts.WithAuthorizer != nil && authctx.Present(ev.RequestContext.Authorizer) {
			ctx = opts.WithAuthorizer(ctx, ev.RequestContext.Authorizer)
		}
		req, err := newRequest(ctx, ev, body, opts.StagePrefix)
		if err != nil {
			cancel()
			return staticResponse(http.StatusBadRequest, `{"error":"malformed request"}`+"\n"), nil
		}

		pr, pw := io.Pipe()
		w := &responseWriter{
			header: http.Header{},
			pw:     pw,
			head:   req.Method == http.MethodHead,
			ready:  make(chan struct{}),
		}
		go serve(h, w, req, cancel, opts.Logger)

		// Wait on the invocation's context, not the handler's: serve cancels
		// the latter as soon as the handler returns, which may be just after
		// it committed an empty response.
		select {
		case <-w.ready:
		case <-invocation.Done():
			select {
			case <-w.ready: // committed at the deadline: still answer
			default:
				// The handler has not started its response by the deadline.
				cancel()
				_ = pr.CloseWithError(invocation.Err())
				return nil, invocation.Err()
			}
		}
		resp := w.resp // written before ready was closed
		resp.Body = &body2{pr: pr, cancel: cancel}
		return resp, nil
	}
}

// serve runs the handler and ends the stream when it returns or panics.
func serve(h http.Handler, w *responseWriter, req *http.Request, cancel context.CancelFunc, log *slog.Logger) {
	defer cancel()
	defer func() {
		v := recover()
		if v == nil {
			w.finish(nil)
			return
		}
		if log != nil && v != http.ErrAbortHandler {
			log.Error("lambdahttp: handler panicked", "method", req.Method, "path", req.URL.Path,
				"panic", fmt.Sprint(v), "stack", string(debug.Stack()))
		}
		w.finish(errHandlerPanic)
	}()
	h.ServeHTTP(w, req)
}

// body2 is the response body the runtime reads; its Close (the runtime
// stopped reading, or finished) cancels the handler's context.
type body2 struct {
	pr     *io.PipeReader
	cancel context.CancelFunc
}

func (b *body2) Read(p []byte) (int, error) { return b.pr.Read(p) }

func (b *body2) Close() error {
	b.cancel()
	return b.pr.CloseWithError(context.Canceled)
}

var errTooLarge = errors.New("body too large")

func decodeBody(ev events.APIGatewayProxyRequest, limit int64) ([]byte, error) {
	if !ev.IsBase64Encoded {
		if int64(len(ev.Body)) > limit {
			return nil, errTooLarge
		}
		return []byte(ev.Body), nil
	}
	if int64(base64.StdEncoding.DecodedLen(len(ev.Body))) > limit+3 {
		return nil, errTooLarge
	}
	b, err := base64.StdEncoding.DecodeString(ev.Body)
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, errTooLarge
	}
	return b, nil
}

func newRequest(ctx context.Context, ev events.APIGatewayProxyRequest, body []byte, stagePrefix bool) (*http.Request, error) {
	method := ev.HTTPMethod
	if method == "" {
		method = http.MethodGet
	}
	path := ev.Path
	if p, ok := resourcePath(ev.Resource, ev.PathParameters); ok {
		path = p
	}
	if path == "" {
		path = "/"
	}
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	if stagePrefix && ev.RequestContext.Stage != "" {
		path = "/" + ev.RequestContext.Stage + path
	}
	q := url.Values{}
	if len(ev.MultiValueQueryStringParameters) > 0 {
		for k, vs := range ev.MultiValueQueryStringParameters {
			q[k] = append([]string(nil), vs...)
		}
	} else {
		for k, v := range ev.QueryStringParameters {
			q.Set(k, v)
		}
	}
	u := &url.URL{Path: path, RawQuery: q.Encode()}

	req, err := http.NewRequestWithContext(ctx, method, u.String(), bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.RequestURI = u.RequestURI()
	req.ContentLength = int64(len(body))
	if len(body) == 0 {
		req.Body = http.NoBody
		req.GetBody = nil
	}
	hdr := http.Header{}
	if len(ev.MultiValueHeaders) > 0 {
		for k, vs := range ev.MultiValueHeaders {
			for _, v := range vs {
				hdr.Add(k, v)
			}
		}
	} else {
		for k, v := range ev.Headers {
			hdr.Add(k, v)
		}
	}
	req.Host = hdr.Get("Host")
	if req.Host == "" {
		req.Host = ev.RequestContext.DomainName
	}
	hdr.Del("Host")
	req.Header = hdr
	if ip := ev.RequestContext.Identity.SourceIP; ip != "" {
		req.RemoteAddr = net.JoinHostPort(ip, "0")
	}
	return req, nil
}

// resourcePath rebuilds the request path from the API resource that
// matched ("/mcp", "/.well-known/{proxy+}") and its path parameters. Unlike
// ev.Path, it never includes the base path of a custom domain mapping
// (https://mcp.example.com/v1/mcp reaches the function as path "/v1/mcp"
// but resource "/mcp"), so the handler sees the same paths under the
// execute-api URL and under any custom domain.
func resourcePath(resource string, params map[string]string) (string, bool) {
	if resource == "" || !strings.HasPrefix(resource, "/") {
		return "", false
	}
	var b strings.Builder
	for rest := resource; rest != ""; {
		open := strings.IndexByte(rest, '{')
		if open < 0 {
			b.WriteString(rest)
			break
		}
		end := strings.IndexByte(rest[open:], '}')
		if end < 0 {
			return "", false
		}
		name := strings.TrimSuffix(rest[open+1:open+end], "+")
		v, ok := params[name]
		if !ok {
			return "", false
		}
		b.WriteString(rest[:open])
		b.WriteString(v)
		rest = rest[open+end+1:]
	}
	return b.String(), true
}

// staticResponse is a complete response that needs no handler.
func staticResponse(status int, body string) *events.APIGatewayProxyStreamingResponse {
	return &events.APIGatewayProxyStreamingResponse{
		StatusCode: status,
		Headers:    map[string]string{"Content-Type": "application/json"},
		Body:       strings.NewReader(body),
	}
}

// responseWriter is the handler's http.ResponseWriter. Body bytes collect
// in buf until Flush (or bufferSize) pushes them into the pipe; the status
// and headers are published (ready closed) just before the first push, so
// the streaming prelude always precedes the body.
type responseWriter struct {
	header http.Header
	pw     *io.PipeWriter
	head   bool

	mu        sync.Mutex
	status    int         // set by WriteHeader (final status only)
	snapshot  http.Header // header at WriteHeader time
	committed bool        // ready closed
	finished  bool
	buf       bytes.Buffer
	err       error // the pipe's write error, sticky
	ready     chan struct{}
	resp      *events.APIGatewayProxyStreamingResponse // built when ready closes
}

var (
	_ http.ResponseWriter = (*responseWriter)(nil)
	_ http.Flusher        = (*responseWriter)(nil)
)

func (w *responseWriter) Header() http.Header { return w.header }

func (w *responseWriter) WriteHeader(code int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.writeHeaderLocked(code)
}

func (w *responseWriter) writeHeaderLocked(code int) {
	if w.status != 0 || w.finished {
		return
	}
	if code >= 100 && code < 200 && code != http.StatusSwitchingProtocols {
		return // informational responses cannot be streamed through API Gateway
	}
	w.status = code
	w.snapshot = w.header.Clone()
}

func (w *responseWriter) bodyAllowed() bool {
	return w.status != http.StatusNoContent && w.status != http.StatusNotModified && !(w.status >= 100 && w.status < 200)
}

func (w *responseWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.finished {
		return 0, http.ErrHandlerTimeout
	}
	w.writeHeaderLocked(http.StatusOK)
	if !w.bodyAllowed() {
		return 0, http.ErrBodyNotAllowed
	}
	if w.err != nil {
		return 0, w.err
	}
	if w.head {
		return len(p), nil
	}
	w.buf.Write(p)
	if w.buf.Len() >= bufferSize {
		if err := w.flushLocked(); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// Flush implements http.Flusher.
func (w *responseWriter) Flush() { _ = w.FlushError() }

// FlushError is what http.ResponseController.Flush calls: it publishes the
// headers if need be and pushes the buffered body into the stream,
// returning once the runtime has taken it.
func (w *responseWriter) FlushError() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.finished {
		return http.ErrHandlerTimeout
	}
	w.writeHeaderLocked(http.StatusOK)
	return w.flushLocked()
}

func (w *responseWriter) commitLocked() {
	if w.committed {
		return
	}
	if w.status == 0 {
		w.status = http.StatusOK
		w.snapshot = w.header.Clone()
	}
	if w.snapshot.Get("Content-Type") == "" && w.buf.Len() > 0 && w.bodyAllowed() {
		if _, ok := w.snapshot["Content-Type"]; !ok {
			w.snapshot.Set("Content-Type", http.DetectContentType(w.buf.Bytes()))
		}
	}
	w.committed = true
	w.resp = w.prelude()
	close(w.ready)
}

func (w *responseWriter) flushLocked() error {
	if w.err != nil {
		return w.err
	}
	w.commitLocked()
	if w.buf.Len() == 0 {
		return nil
	}
	// io.Pipe hands the bytes straight to the reader: this returns when
	// the runtime has read them.
	_, err := w.pw.Write(w.buf.Bytes())
	w.buf.Reset()
	if err != nil {
		w.err = err
	}
	return err
}

// finish ends the response: a normal return pushes what is left and
// closes the stream; a panic before the response started becomes a 500,
// after it a stream closed with errHandlerPanic.
func (w *responseWriter) finish(panicErr error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if panicErr != nil && !w.committed {
		w.buf.Reset()
		w.status = http.StatusInternalServerError
		w.snapshot = http.Header{"Content-Type": {"text/plain; charset=utf-8"}}
		if !w.head {
			w.buf.WriteString("Internal Server Error\n")
		}
		panicErr = nil
	}
	_ = w.flushLocked()
	w.finished = true
	if panicErr != nil {
		_ = w.pw.CloseWithError(panicErr)
		return
	}
	_ = w.pw.Close()
}

// prelude builds the streaming response from the committed status and
// headers: single values go to Headers, repeated ones to
// MultiValueHeaders, Set-Cookie to Cookies. Called with mu held.
func (w *responseWriter) prelude() *events.APIGatewayProxyStreamingResponse {
	resp := &events.APIGatewayProxyStreamingResponse{StatusCode: w.status}
	for k, vs := range w.snapshot {
		switch {
		case len(vs) == 0:
		case http.CanonicalHeaderKey(k) == "Set-Cookie":
			resp.Cookies = append(resp.Cookies, vs...)
		case len(vs) == 1:
			if resp.Headers == nil {
				resp.Headers = map[string]string{}
			}
			resp.Headers[k] = vs[0]
		default:
			if resp.MultiValueHeaders == nil {
				resp.MultiValueHeaders = map[string][]string{}
			}
			resp.MultiValueHeaders[k] = append([]string(nil), vs...)
		}
	}
	return resp
}
