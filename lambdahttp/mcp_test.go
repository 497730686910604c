package lambdahttp

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"mcplambda/greetings"
	"mcplambda/mcp"
	"mcplambda/server"
)

const apiHost = "abc123.execute-api.eu-west-1.amazonaws.com"

func mcpEvent(sid, body string) events.APIGatewayProxyRequest {
	h := map[string][]string{
		"Host":         {apiHost},
		"Content-Type": {"application/json"},
		"Accept":       {"application/json, text/event-stream"},
	}
	if sid != "" {
		h["Mcp-Session-Id"] = []string{sid}
	}
	return events.APIGatewayProxyRequest{
		Resource: "/mcp", Path: "/mcp", HTTPMethod: http.MethodPost,
		MultiValueHeaders: h, Body: body,
		RequestContext: events.APIGatewayProxyRequestContext{Stage: "prod", Identity: events.APIGatewayRequestIdentity{SourceIP: "198.51.100.1"}},
	}
}

// The real server through the adapter: multi-greet's first log
// notification is read well before the stream ends.
func TestMCPServerStreams(t *testing.T) {
	const interval = 100 * time.Millisecond
	srv := server.New(server.Options{})
	if err := greetings.Register(srv, greetings.Options{Interval: interval}); err != nil {
		t.Fatal(err)
	}
	cfg := server.DefaultConfig()
	cfg.LogRequests = false
	cfg.AllowedHosts = []string{apiHost}
	h := server.NewHandler(srv, cfg, server.HandlerOptions{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	t.Cleanup(h.Close)
	fn := Handler(server.NewMux(cfg, h), Options{})

	w, resp := invoke(t, fn, mcpEvent("", `{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`))
	sid := resp.Headers["Mcp-Session-Id"]
	b, err := io.ReadAll(w.Body)
	if err != nil || w.Prelude.StatusCode != 200 || sid == "" {
		t.Fatalf("initialize: %d sid %q %s %v", w.Prelude.StatusCode, sid, b, err)
	}
	if !strings.Contains(string(b), `"protocolVersion"`) {
		t.Fatalf("initialize result %s", b)
	}
	w, _ = invoke(t, fn, mcpEvent(sid, `{"jsonrpc":"2.0","method":"notifications/initialized"}`))
	_, _ = io.ReadAll(w.Body)
	if w.Prelude.StatusCode != http.StatusAccepted {
		t.Fatalf("initialized: %d", w.Prelude.StatusCode)
	}

	start := time.Now()
	w, _ = invoke(t, fn, mcpEvent(sid, `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"multi-greet","arguments":{"name":"Ada"}}}`))
	if ct := w.Prelude.Headers["Content-Type"]; ct != "text/event-stream" {
		t.Fatalf("content type %q", ct)
	}
	dec := mcp.NewDecoder(w.Body)
	var logs []time.Duration
	var result string
	for {
		ev, err := dec.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if len(ev.Data) == 0 {
			continue
		}
		m, err := mcp.DecodeMessage(ev.Data)
		if err != nil {
			t.Fatalf("%s: %v", ev.Data, err)
		}
		switch {
		case m.Method == mcp.NotificationMessage:
			var p mcp.LoggingMessageParams
			_ = json.Unmarshal(m.Params, &p)
			logs = append(logs, time.Since(start))
			t.Logf("%v %s %v", time.Since(start), p.Level, p.Data)
		case m.Kind() == mcp.KindResponse:
			result = string(m.Result)
		}
	}
	end := time.Since(start)
	t.Logf("stream ended after %v", end)
	if len(logs) != 3 || !strings.Contains(result, "Good morning, Ada!") {
		t.Fatalf("logs %v result %s", logs, result)
	}
	if end < 2*interval || logs[0] > end-interval*3/2 {
		t.Errorf("first notification at %v, stream ended at %v: buffered, not streamed", logs[0], end)
	}
	if gap := logs[1] - logs[0]; gap < interval*2/3 {
		t.Errorf("notifications 0 and 1 arrived %v apart", gap)
	}
}
