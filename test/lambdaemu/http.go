package lambdaemu

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"

	"github.com/aws/aws-lambda-go/events"
)

// streamingContentType marks a response as an HTTP integration stream: a
// JSON prelude, eight NUL bytes, then the body.
const streamingContentType = "application/vnd.awslambda.http-integration-response"

// maxPreludeBytes bounds the prelude; API Gateway's own header limits are
// far smaller.
const maxPreludeBytes = 1 << 20

// HTTPResult is a function's response to an API Gateway proxy event, as
// API Gateway would turn it into an HTTP response.
type HTTPResult struct {
	// Instance is the 1-based number of the execution environment that
	// served the invocation.
	Instance   int
	StatusCode int
	// Header merges the prelude's "multiValueHeaders" and "headers" (a
	// value in both appears once) and adds "cookies" as Set-Cookie.
	Header http.Header
	// Body is the HTTP body, streamed as the function writes it. If the
	// function fails mid-stream, Read returns the *FunctionError.
	Body io.ReadCloser
}

// InvokeHTTP invokes the function with a REST API proxy event and decodes
// its response: the streaming prelude of an
// events.APIGatewayProxyStreamingResponse, or a buffered
// events.APIGatewayProxyResponse. It returns once the status and headers
// are known. A function failure is returned as a *FunctionError error; a
// response API Gateway could not use is an error too.
func (f *Function) InvokeHTTP(ctx context.Context, ev events.APIGatewayProxyRequest) (*HTTPResult, error) {
	payload, err := json.Marshal(ev)
	if err != nil {
		return nil, fmt.Errorf("lambdaemu: event: %w", err)
	}
	res, err := f.Invoke(ctx, payload)
	if err != nil {
		return nil, err
	}
	if res.FunctionError != nil {
		return nil, res.FunctionError
	}
	// The prelude may be slow to come; closing the body unblocks its read.
	stop := context.AfterFunc(ctx, func() { _ = res.Body.Close() })
	var hr *HTTPResult
	if res.ContentType == streamingContentType {
		hr, err = readPrelude(res.Body)
	} else {
		hr, err = readProxyResponse(res.Body)
	}
	if !stop() {
		return nil, ctx.Err()
	}
	if err != nil {
		_ = res.Body.Close()
		return nil, err
	}
	hr.Instance = res.Instance
	return hr, nil
}

// readPrelude reads up to the prelude's end; the rest of body is the HTTP
// body.
func readPrelude(body io.ReadCloser) (*HTTPResult, error) {
	sep := make([]byte, 8)
	var head []byte
	buf := make([]byte, 4<<10)
	for {
		n, err := body.Read(buf)
		head = append(head, buf[:n]...)
		// JSON escapes control characters, so the first eight NULs end it.
		if js, rest, ok := bytes.Cut(head, sep); ok {
			var p struct {
				StatusCode        int                 `json:"statusCode"`
				Headers           map[string]string   `json:"headers"`
				MultiValueHeaders map[string][]string `json:"multiValueHeaders"`
				Cookies           []string            `json:"cookies"`
			}
			if err := json.Unmarshal(js, &p); err != nil {
				return nil, fmt.Errorf("lambdaemu: malformed streaming prelude %q: %w", js, err)
			}
			if p.StatusCode == 0 {
				p.StatusCode = http.StatusOK // the prelude omits a zero status: take the default
			}
			return &HTTPResult{
				StatusCode: p.StatusCode,
				Header:     mergeHeaders(p.Headers, p.MultiValueHeaders, p.Cookies),
				Body: struct {
					io.Reader
					io.Closer
				}{io.MultiReader(bytes.NewReader(rest), body), body},
			}, nil
		}
		if err == io.EOF {
			return nil, fmt.Errorf("lambdaemu: streaming response ended before its prelude did: %q", head)
		}
		if err != nil {
			return nil, err
		}
		if len(head) > maxPreludeBytes {
			return nil, fmt.Errorf("lambdaemu: streaming prelude exceeds %d bytes", maxPreludeBytes)
		}
	}
}

// readProxyResponse converts a buffered events.APIGatewayProxyResponse,
// which Lambda caps at 6 MB.
func readProxyResponse(body io.ReadCloser) (*HTTPResult, error) {
	raw, err := io.ReadAll(io.LimitReader(body, maxPayloadBytes+1))
	_ = body.Close()
	if err != nil {
		return nil, err
	}
	if len(raw) > maxPayloadBytes {
		return nil, fmt.Errorf("lambdaemu: response exceeds Lambda's %d-byte limit", maxPayloadBytes)
	}
	var resp events.APIGatewayProxyResponse
	if err := json.Unmarshal(raw, &resp); err != nil || resp.StatusCode == 0 {
		return nil, errors.New("lambdaemu: malformed Lambda proxy response: " + string(raw))
	}
	b := []byte(resp.Body)
	if resp.IsBase64Encoded {
		if b, err = base64.StdEncoding.DecodeString(resp.Body); err != nil {
			return nil, fmt.Errorf("lambdaemu: malformed Lambda proxy response: body: %w", err)
		}
	}
	return &HTTPResult{
		StatusCode: resp.StatusCode,
		Header:     mergeHeaders(resp.Headers, resp.MultiValueHeaders, nil),
		Body:       io.NopCloser(bytes.NewReader(b)),
	}, nil
}

// mergeHeaders does what API Gateway does with a proxy response's two
// header maps: all multi-value ones, then each single value not already
// there. Keys are sorted so that names differing only in case come out in
// a stable order.
func mergeHeaders(single map[string]string, multi map[string][]string, cookies []string) http.Header {
	h := http.Header{}
	for _, k := range slices.Sorted(maps.Keys(multi)) {
		for _, v := range multi[k] {
			h.Add(k, v)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(single)) {
		if !slices.Contains(h.Values(k), single[k]) {
			h.Add(k, single[k])
		}
	}
	for _, c := range cookies {
		h.Add("Set-Cookie", c)
	}
	return h
}
