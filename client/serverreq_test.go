package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"mcplambda/mcp"
	"mcplambda/server"
)

var objectSchema = json.RawMessage(`{"type":"object"}`)

// addAskTools registers tools that ask the client something mid-call and
// report what they got, so a test sees both directions of the exchange.
func addAskTools(t *testing.T, s *testServer) {
	t.Helper()
	tools := map[string]server.ToolHandler{
		"ask-elicit": func(ctx context.Context, call *server.Call, _ json.RawMessage) (*mcp.CallToolResult, error) {
			r, err := call.Elicit(ctx, &mcp.ElicitParams{Message: "Your name?", RequestedSchema: json.RawMessage(`{"type":"object","properties":{"name":{"type":"string"}}}`)})
			if err != nil {
				return mcp.ToolError(err.Error()), nil
			}
			return mcp.ToolText(fmt.Sprintf("%s %v", r.Action, r.Content["name"])), nil
		},
		"ask-sample": func(ctx context.Context, call *server.Call, _ json.RawMessage) (*mcp.CallToolResult, error) {
			r, err := call.CreateMessage(ctx, &mcp.CreateMessageParams{MaxTokens: 10, Messages: []mcp.SamplingMessage{{Role: mcp.RoleUser, Content: mcp.TextContent("2+2?")}}})
			if err != nil {
				return mcp.ToolError(err.Error()), nil
			}
			return mcp.ToolText(r.Model + ": " + r.Content.Text), nil
		},
		"ask-roots": func(ctx context.Context, call *server.Call, _ json.RawMessage) (*mcp.CallToolResult, error) {
			r, err := call.ListRoots(ctx)
			if err != nil {
				return mcp.ToolError(err.Error()), nil
			}
			var uris []string
			for _, root := range r.Roots {
				uris = append(uris, root.URI)
			}
			return mcp.ToolText("roots " + strings.Join(uris, ",")), nil
		},
		"ask-ping": func(ctx context.Context, call *server.Call, _ json.RawMessage) (*mcp.CallToolResult, error) {
			if _, err := call.Request(ctx, mcp.MethodPing, nil); err != nil {
				return mcp.ToolError(err.Error()), nil
			}
			return mcp.ToolText("pong"), nil
		},
		// ask-raw sends any request, bypassing the server's own check of
		// the client's capabilities.
		"ask-raw": func(ctx context.Context, call *server.Call, args json.RawMessage) (*mcp.CallToolResult, error) {
			var a struct{ Method string }
			_ = json.Unmarshal(args, &a)
			_, err := call.Request(ctx, a.Method, map[string]any{"message": "m", "messages": []any{}, "maxTokens": 1})
			return mcp.ToolText(fmt.Sprint(err)), nil
		},
		"capabilities": func(ctx context.Context, call *server.Call, _ json.RawMessage) (*mcp.CallToolResult, error) {
			b, _ := json.Marshal(call.ClientCapabilities())
			return mcp.ToolText(string(b)), nil
		},
	}
	for name, h := range tools {
		if err := s.srv.AddTool(mcp.Tool{Name: name, InputSchema: objectSchema}, h); err != nil {
			t.Fatal(err)
		}
	}
}

func TestServerRequests(t *testing.T) {
	checkGoroutines(t)
	s := newTestServer(t, nil)
	addAskTools(t, s)
	full := Options{
		URL: s.url, ProtocolVersion: mcp.LatestVersion,
		Elicit: func(_ context.Context, p *mcp.ElicitParams) (*mcp.ElicitResult, error) {
			if p.Message != "Your name?" {
				return nil, errors.New("unexpected message " + p.Message)
			}
			return &mcp.ElicitResult{Action: "accept", Content: map[string]any{"name": "Ada"}}, nil
		},
		Sample: func(_ context.Context, p *mcp.CreateMessageParams) (*mcp.CreateMessageResult, error) {
			return &mcp.CreateMessageResult{Role: mcp.RoleAssistant, Model: "m1", Content: mcp.TextContent("4 (" + p.Messages[0].Content.Text + ")")}, nil
		},
		Roots: func(context.Context) ([]mcp.Root, error) {
			return []mcp.Root{{URI: "file:///a"}, {URI: "file:///b"}}, nil
		},
	}
	bare := Options{URL: s.url, ProtocolVersion: mcp.LatestVersion}
	tests := []struct {
		name string
		opts Options
		tool string
		args any
		want string
	}{
		{"elicit", full, "ask-elicit", nil, "accept Ada"},
		{"sample", full, "ask-sample", nil, "m1: 4 (2+2?)"},
		{"roots", full, "ask-roots", nil, "roots file:///a,file:///b"},
		{"ping", full, "ask-ping", nil, "pong"},
		{"unknown method", full, "ask-raw", map[string]string{"method": "no/such/method"}, "-32601"},
		{"capabilities", full, "capabilities", nil, `{"roots":{"listChanged":true},"sampling":{},"elicitation":{"form":{}}}`},
		{"no elicit", bare, "ask-raw", map[string]string{"method": mcp.MethodElicitationCreate}, "-32601"},
		{"no sample", bare, "ask-raw", map[string]string{"method": mcp.MethodSamplingCreateMessage}, "-32601"},
		{"no roots", bare, "ask-raw", map[string]string{"method": mcp.MethodRootsList}, "-32601"},
		{"ping without callbacks", bare, "ask-ping", nil, "pong"},
		{"no capabilities", bare, "capabilities", nil, `{}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := connect(t, tt.opts)
			res, err := c.CallTool(testContext(t), tt.tool, tt.args)
			if err != nil {
				t.Fatal(err)
			}
			if got := text(res); !strings.Contains(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// A callback's error reaches the server as a JSON-RPC error.
func TestServerRequestCallbackError(t *testing.T) {
	s := newTestServer(t, nil)
	addAskTools(t, s)
	c := connect(t, Options{URL: s.url, ProtocolVersion: mcp.LatestVersion,
		Elicit: func(context.Context, *mcp.ElicitParams) (*mcp.ElicitResult, error) {
			return nil, mcp.Errorf(mcp.CodeInvalidRequest, "the user closed the window")
		},
		Roots: func(context.Context) ([]mcp.Root, error) { return nil, errors.New("disk on fire") },
	})
	for tool, want := range map[string]string{"ask-elicit": "the user closed the window", "ask-roots": "disk on fire"} {
		res, err := c.CallTool(testContext(t), tool, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := text(res); !res.IsError || !strings.Contains(got, want) {
			t.Errorf("%s: %q, want an error with %q", tool, got, want)
		}
	}
}

func TestElicitURLModeAdvertised(t *testing.T) {
	s := newTestServer(t, nil)
	addAskTools(t, s)
	c := connect(t, Options{URL: s.url, ProtocolVersion: mcp.LatestVersion, ElicitModes: []string{"form", "url"},
		Elicit: func(context.Context, *mcp.ElicitParams) (*mcp.ElicitResult, error) { return nil, nil }})
	res, err := c.CallTool(testContext(t), "capabilities", nil)
	if err != nil || !strings.Contains(text(res), `"elicitation":{"form":{},"url":{}}`) {
		t.Fatalf("%v %v", text(res), err)
	}
}

// The server withdraws its request (notifications/cancelled): the callback's
// context ends and no answer is sent. A request replayed while it is being
// answered is answered once.
func TestServerCancelsItsRequest(t *testing.T) {
	checkGoroutines(t)
	s := newTestServer(t, nil)
	elicitStarted, elicitEnded := make(chan struct{}, 2), make(chan error, 2)
	elicit := []byte(`{"jsonrpc":"2.0","id":"e1","method":"elicitation/create","params":{"message":"?","requestedSchema":{"type":"object"}}}`)
	s.proxy.setHook(func(w http.ResponseWriter, r *http.Request, body []byte) bool {
		if !strings.Contains(string(body), `"tools/call"`) {
			return false
		}
		sse(w, mcp.Event{ID: "1-1", Data: elicit}, mcp.Event{ID: "1-2", Data: elicit})
		select {
		case <-elicitStarted:
		case <-r.Context().Done():
			return true
		}
		sseMore(w, mcp.Event{ID: "1-3", Data: []byte(`{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":"e1","reason":"changed my mind"}}`)})
		select {
		case <-elicitEnded:
		case <-r.Context().Done():
			return true
		}
		sseMore(w, mcp.Event{ID: "1-4", Data: fmt.Appendf(nil, `{"jsonrpc":"2.0","id":%s,"result":{"content":[{"type":"text","text":"done"}]}}`, requestID(body))})
		return true
	})
	calls := 0
	c := connect(t, Options{URL: s.url, ProtocolVersion: mcp.LatestVersion, Elicit: func(ctx context.Context, _ *mcp.ElicitParams) (*mcp.ElicitResult, error) {
		calls++
		elicitStarted <- struct{}{}
		<-ctx.Done()
		elicitEnded <- ctx.Err()
		return &mcp.ElicitResult{Action: "cancel"}, nil
	}})
	res, err := c.CallTool(testContext(t), "greet", nil)
	if err != nil || text(res) != "done" {
		t.Fatalf("%+v %v", res, err)
	}
	c.Disconnect() // waits for the answering goroutine
	if calls != 1 {
		t.Errorf("Elicit called %d times, want 1", calls)
	}
	for _, r := range s.proxy.requests() {
		if strings.Contains(r.body, `"id":"e1"`) {
			t.Errorf("answered a cancelled request: %s", r.body)
		}
	}
}

// A server that sends more requests than the client answers at once gets
// the surplus refused with an error, not a goroutine each.
func TestServerRequestFlood(t *testing.T) {
	checkGoroutines(t)
	s := newTestServer(t, nil)
	const extra = 2
	release := make(chan struct{})
	refusals := make(chan string, extra)
	s.proxy.setHook(func(w http.ResponseWriter, r *http.Request, body []byte) bool {
		b := string(body)
		switch {
		case strings.Contains(b, `"tools/call"`):
			var events []mcp.Event
			for i := 1; i <= maxIncoming+extra; i++ {
				events = append(events, mcp.Event{ID: fmt.Sprintf("1-%d", i), Data: fmt.Appendf(nil,
					`{"jsonrpc":"2.0","id":"e%d","method":"elicitation/create","params":{"message":"?","requestedSchema":{"type":"object"}}}`, i)})
			}
			sse(w, events...)
			select {
			case <-release:
			case <-r.Context().Done():
				return true
			}
			sseMore(w, mcp.Event{ID: "1-end", Data: fmt.Appendf(nil, `{"jsonrpc":"2.0","id":%s,"result":{"content":[{"type":"text","text":"done"}]}}`, requestID(body))})
			return true
		case strings.Contains(b, `"id":"e`):
			if strings.Contains(b, `"error"`) {
				refusals <- b
			}
			w.WriteHeader(http.StatusAccepted)
			return true
		}
		return false
	})
	started := make(chan struct{}, maxIncoming+extra)
	c := connect(t, Options{URL: s.url, ProtocolVersion: mcp.LatestVersion, Elicit: func(ctx context.Context, _ *mcp.ElicitParams) (*mcp.ElicitResult, error) {
		started <- struct{}{}
		select {
		case <-release:
		case <-ctx.Done():
		}
		return &mcp.ElicitResult{Action: "decline"}, nil
	}})
	done := make(chan error, 1)
	go func() {
		res, err := c.CallTool(testContext(t), "greet", nil)
		if err == nil && text(res) != "done" {
			err = fmt.Errorf("result %q", text(res))
		}
		done <- err
	}()
	for range maxIncoming {
		receive(t, started, "an elicitation within the limit")
	}
	for i := range extra {
		got := receive(t, refusals, "the refusal of a request beyond the limit")
		if want := fmt.Sprintf(`"id":"e%d"`, maxIncoming+1+i); !strings.Contains(got, want) || !strings.Contains(got, "already answering") {
			t.Errorf("refusal %s, want %s and the reason", got, want)
		}
	}
	if n := len(started); n != 0 {
		t.Errorf("%d elicitations beyond the limit of %d reached the callback", n, maxIncoming)
	}
	close(release)
	if err := receive(t, done, "the call's result"); err != nil {
		t.Fatal(err)
	}
}
