// Command fn is the Lambda function the lambdaemu tests run. Its event says
// what to do (see request); FN_INIT makes its initialization misbehave.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

type request struct {
	Action  string          `json:"action"`
	Data    json.RawMessage `json:"data,omitempty"`
	Message string          `json:"message,omitempty"`
	Code    int             `json:"code,omitempty"`
	// Chunks are streamed one by one; Gate, a file path, holds back all
	// but the first until the file exists. Fail, if set, then fails the
	// stream.
	Chunks []string `json:"chunks,omitempty"`
	Gate   string   `json:"gate,omitempty"`
	Fail   string   `json:"fail,omitempty"`
	// The HTTP response of "stream" and "proxy".
	Status            int                 `json:"status,omitempty"`
	Headers           map[string]string   `json:"headers,omitempty"`
	MultiValueHeaders map[string][]string `json:"multiValueHeaders,omitempty"`
	Cookies           []string            `json:"cookies,omitempty"`
	Body              string              `json:"body,omitempty"`
	Base64            bool                `json:"base64,omitempty"`
}

func main() {
	api := os.Getenv("AWS_LAMBDA_RUNTIME_API")
	switch os.Getenv("FN_INIT") {
	case "exit":
		fmt.Fprintln(os.Stderr, "init: missing configuration")
		os.Exit(2)
	case "hang":
		time.Sleep(time.Hour)
	case "error":
		body := `{"errorMessage":"missing configuration","errorType":"Runtime.ConfigError"}`
		res, err := http.Post("http://"+api+"/2018-06-01/runtime/init/error", "application/json", strings.NewReader(body))
		if err == nil {
			fmt.Println("init error posted:", res.Status)
		}
		time.Sleep(time.Hour) // the emulator discards the instance
	case "probe":
		res, err := http.Get("http://" + api + "/2018-06-01/runtime/bogus")
		if err == nil {
			fmt.Println("probe:", res.Status)
		}
	}
	fmt.Println("init done")
	lambda.Start(handle)
}

func handle(ctx context.Context, raw json.RawMessage) (any, error) {
	var req request
	var ev events.APIGatewayProxyRequest
	if err := json.Unmarshal(raw, &ev); err == nil && ev.HTTPMethod != "" {
		// An API Gateway event carries the instructions in its body.
		raw = json.RawMessage(ev.Body)
	}
	if err := json.Unmarshal(raw, &req); err != nil {
		return nil, err
	}
	fmt.Println("action:", req.Action)
	switch req.Action {
	case "echo":
		return req.Data, nil
	case "env":
		lc, _ := lambdacontext.FromContext(ctx)
		deadline, _ := ctx.Deadline()
		wd, _ := os.Getwd()
		trace, _ := ctx.Value("x-amzn-trace-id").(string)
		return map[string]any{
			"env":        os.Environ(),
			"cwd":        wd,
			"requestId":  lc.AwsRequestID,
			"arn":        lc.InvokedFunctionArn,
			"deadlineMs": deadline.UnixMilli(),
			"traceId":    trace,
		}, nil
	case "fail":
		return nil, errors.New(req.Message)
	case "panic":
		panic(req.Message)
	case "exit":
		os.Exit(req.Code)
		return nil, nil
	case "sleep":
		time.Sleep(time.Hour) // past any timeout, ignoring ctx
		return nil, nil
	case "rawstream":
		return &chunks{req: req}, nil
	case "stream":
		return &events.APIGatewayProxyStreamingResponse{
			StatusCode:        req.Status,
			Headers:           req.Headers,
			MultiValueHeaders: req.MultiValueHeaders,
			Cookies:           req.Cookies,
			Body:              &chunks{req: req},
		}, nil
	case "proxy":
		return events.APIGatewayProxyResponse{
			StatusCode:        req.Status,
			Headers:           req.Headers,
			MultiValueHeaders: req.MultiValueHeaders,
			Body:              req.Body,
			IsBase64Encoded:   req.Base64,
		}, nil
	}
	return nil, fmt.Errorf("unknown action %q", req.Action)
}

// chunks streams req.Chunks. Having only unexported fields, it marshals to
// {}, which is how aws-lambda-go recognizes a reader to stream.
type chunks struct {
	req  request
	sent int
}

func (c *chunks) Read(p []byte) (int, error) {
	if c.sent == 1 && c.req.Gate != "" {
		for start := time.Now(); ; time.Sleep(5 * time.Millisecond) {
			if _, err := os.Stat(c.req.Gate); err == nil {
				break
			}
			if time.Since(start) > time.Minute {
				return 0, errors.New("the gate never opened")
			}
		}
	}
	if c.sent < len(c.req.Chunks) {
		c.sent++
		return copy(p, c.req.Chunks[c.sent-1]), nil
	}
	if c.req.Fail != "" {
		return 0, errors.New(c.req.Fail)
	}
	return 0, io.EOF
}
