package repl

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"mcplambda/mcp"
	"mcplambda/server"
)

const askSchema = `{"type":"object","properties":{
  "name":{"type":"string","title":"Your name","minLength":2},
  "age":{"type":"integer","minimum":0,"maximum":150},
  "color":{"type":"string","enum":["red","green","blue"]},
  "subscribe":{"type":"boolean","default":false}
},"required":["name","color"]}`

// registerAsk adds a tool that elicits a form and returns what came back.
func registerAsk(srv *server.Server) {
	addTool(srv, mcp.Tool{Name: "ask", InputSchema: json.RawMessage(`{"type":"object"}`)},
		func(ctx context.Context, call *server.Call, _ json.RawMessage) (*mcp.CallToolResult, error) {
			res, err := call.Elicit(ctx, &mcp.ElicitParams{Message: "Tell me about you", RequestedSchema: json.RawMessage(askSchema)})
			if err != nil {
				return mcp.ToolError("elicitation failed: " + err.Error()), nil
			}
			b, _ := json.Marshal(res.Content)
			return mcp.ToolText("answer: " + res.Action + " " + string(b)), nil
		})
}

// TestElicitation answers the server's questions through the REPL's input.
func TestElicitation(t *testing.T) {
	s := newTestServer(t, registerAsk)
	cases := []struct {
		name    string
		answers string
		out     []string
		errOut  []string
	}{
		{name: "accept", answers: "a\nAda\n42\n2\n\n",
			out: []string{`answer: accept {"age":42,"color":"green","name":"Ada","subscribe":false}`}},
		{name: "bad answers asked again", answers: "accept\nA\nAda\nold\n200\n\nPurple\nBLUE\nyes\n",
			out:    []string{`answer: accept {"color":"blue","name":"Ada","subscribe":true}`},
			errOut: []string{"name: at least 2 characters", "age: not a whole number", "age: must be at most 150", "color: choose one of red, green, blue"}},
		{name: "required left empty", answers: "a\n\nBo\n\nred\n\n",
			out:    []string{`answer: accept {"color":"red","name":"Bo","subscribe":false}`},
			errOut: []string{"name is required."}},
		{name: "decline", answers: "d\n", out: []string{"answer: decline null"}},
		{name: "cancel", answers: "c\n", out: []string{"answer: cancel null"}},
		{name: "no valid answer", answers: "a\nx\ny\nz\n", out: []string{"answer: cancel null"}, errOut: []string{"No valid answer for name"}},
		{name: "end of input", answers: "a\nAda\n", out: []string{"answer: cancel null"}, errOut: []string{"End of input: the request is cancelled."}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			input := "call-tool ask\n" + tc.answers
			if !strings.Contains(tc.name, "end of input") {
				input += "greet After\n"
			}
			out, errOut, err := runScript(t, s, input, nil)
			if err != nil {
				t.Fatalf("Run: %v\n%s", err, errOut)
			}
			assertContains(t, "Out", out, "The server asks: Tell me about you",
				"  name (string, required): Your name.",
				"  age (integer, 0..150)",
				"  color (one of red, green, blue, required)",
				"  subscribe (boolean, default false)",
				"Answer? [a]ccept, [d]ecline, [c]ancel:")
			assertContains(t, "Out", out, tc.out...)
			assertContains(t, "Err", errOut, tc.errOut...)
			if !strings.Contains(tc.name, "end of input") {
				// The answers were consumed by the form, the next line is a command again.
				assertContains(t, "Out", out, "Hello, After!")
			}
		})
	}
}

// TestURLElicitation: a URL-mode request shows the URL and asks for consent.
func TestURLElicitation(t *testing.T) {
	s := newTestServer(t, func(srv *server.Server) {
		addTool(srv, mcp.Tool{Name: "visit", InputSchema: json.RawMessage(`{"type":"object"}`)},
			func(ctx context.Context, call *server.Call, _ json.RawMessage) (*mcp.CallToolResult, error) {
				res, err := call.Elicit(ctx, &mcp.ElicitParams{Mode: "url", Message: "Authorize the bank", URL: "https://bank.example/authorize?x=1", ElicitationID: "e1"})
				if err != nil {
					return mcp.ToolError("elicitation failed: " + err.Error()), nil
				}
				return mcp.ToolText("visit: " + res.Action), nil
			})
	})
	for answer, want := range map[string]string{"a": "visit: accept", "d": "visit: decline", "c": "visit: cancel"} {
		out, errOut, err := runScript(t, s, "call-tool visit\n"+answer+"\n", nil)
		if err != nil {
			t.Fatalf("Run: %v\n%s", err, errOut)
		}
		assertContains(t, "Out", out, "The server asks you to open a URL:\n  Authorize the bank\n  https://bank.example/authorize?x=1", want)
	}
}

// TestRootsAndSampling: roots/list answers the working directory; sampling
// is declined with an error the tool sees.
func TestRootsAndSampling(t *testing.T) {
	s := newTestServer(t, func(srv *server.Server) {
		addTool(srv, mcp.Tool{Name: "roots", InputSchema: json.RawMessage(`{"type":"object"}`)},
			func(ctx context.Context, call *server.Call, _ json.RawMessage) (*mcp.CallToolResult, error) {
				res, err := call.ListRoots(ctx)
				if err != nil {
					return mcp.ToolError(err.Error()), nil
				}
				b, _ := json.Marshal(res.Roots)
				return mcp.ToolText(string(b)), nil
			})
		addTool(srv, mcp.Tool{Name: "sample", InputSchema: json.RawMessage(`{"type":"object"}`)},
			func(ctx context.Context, call *server.Call, _ json.RawMessage) (*mcp.CallToolResult, error) {
				_, err := call.CreateMessage(ctx, &mcp.CreateMessageParams{MaxTokens: 10,
					Messages: []mcp.SamplingMessage{{Role: mcp.RoleUser, Content: mcp.TextContent("hi")}}})
				if err == nil {
					return mcp.ToolText("sampling answered"), nil
				}
				return mcp.ToolError("sampling refused: " + err.Error()), nil
			})
	})
	out, errOut, err := runScript(t, s, "call-tool roots\ncall-tool sample", func(o *Options) {
		o.Getwd = func() (string, error) { return "/home/ada/my project", nil }
	})
	if !errors.Is(err, ErrFailed) {
		t.Errorf("Run: %v, want the sample tool's error to count", err)
	}
	assertContains(t, "Out", out, `[{"uri":"file:///home/ada/my%20project","name":"my project"}]`)
	assertContains(t, "Err", errOut, "Tool error from sample:", "sampling refused")
	assertLacks(t, "Out", out, "sampling answered")
}

// hangTool blocks until its request is cancelled or the test releases it,
// after one log message (so the answer is an SSE stream).
type hangTool struct {
	started   chan struct{}
	cancelled chan struct{}
	release   chan struct{}
	once      sync.Once
}

// newHangServer is a test server with the hang tool, released before the
// server closes (httptest waits for running handlers).
func newHangServer(t *testing.T) (*hangTool, *testServer) {
	h := &hangTool{started: make(chan struct{}, 10), cancelled: make(chan struct{}, 10), release: make(chan struct{})}
	s := newTestServer(t, h.register)
	t.Cleanup(func() { h.once.Do(func() { close(h.release) }) })
	return h, s
}

func (h *hangTool) register(srv *server.Server) {
	{
		addTool(srv, mcp.Tool{Name: "hang", InputSchema: json.RawMessage(`{"type":"object"}`)},
			func(ctx context.Context, call *server.Call, _ json.RawMessage) (*mcp.CallToolResult, error) {
				_ = call.Log(mcp.LevelInfo, "hang", "hanging")
				h.started <- struct{}{}
				select {
				case <-ctx.Done():
					h.cancelled <- struct{}{}
					return nil, ctx.Err()
				case <-h.release:
					return mcp.ToolText("released"), nil
				}
			})
	}
}

func receive(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(wait):
		t.Fatalf("%s did not happen", what)
	}
}

// TestCtrlCCancelsCall: an interrupt during a call cancels it on the server
// (notifications/cancelled) and the REPL takes the next command.
func TestCtrlCCancelsCall(t *testing.T) {
	hang, s := newHangServer(t)
	a := startAsync(t, s, nil)
	a.send(t, "call-tool hang")
	receive(t, hang.started, "the tool's start")
	a.out.waitFor(t, "[info] hang: hanging")
	a.sigs <- os.Interrupt
	receive(t, hang.cancelled, "the tool's cancellation on the server")
	a.err.waitFor(t, "Cancelled.")
	a.send(t, "greet After")
	a.out.waitFor(t, "Hello, After!")
	if err := a.finish(t); !errors.Is(err, ErrFailed) {
		t.Errorf("Run: %v, want the cancelled command counted as failed", err)
	}
	assertLacks(t, "Out", a.out.String(), "released")
}

// TestCtrlCDuringElicitation: the interrupt cancels the question too, and
// the next line is a command, not an answer.
func TestCtrlCDuringElicitation(t *testing.T) {
	s := newTestServer(t, registerAsk)
	a := startAsync(t, s, nil)
	a.send(t, "call-tool ask")
	a.out.waitFor(t, "Answer? [a]ccept")
	a.sigs <- os.Interrupt
	a.err.waitFor(t, "Cancelled.")
	a.send(t, "greet After")
	a.out.waitFor(t, "Hello, After!")
	a.finish(t)
}

// TestCtrlCAtPrompt: one interrupt at the prompt only says how to leave; a
// second one exits. An interactive run exits 0 even after failures.
func TestCtrlCAtPrompt(t *testing.T) {
	s := newTestServer(t, nil)
	a := startAsync(t, s, func(o *Options) { o.Interactive = true })
	a.out.waitFor(t, "Type help for commands.")
	a.out.waitForCount(t, prompt, 1)
	a.send(t, "call-tool nope")
	a.err.waitFor(t, "JSON-RPC error -32602")
	a.out.waitForCount(t, prompt, 2) // back at the prompt
	a.sigs <- os.Interrupt
	a.out.waitFor(t, "(Ctrl-C again, quit or end of input to exit)")
	a.out.waitForCount(t, prompt, 3)
	a.send(t, "greet Still")
	a.out.waitFor(t, "Hello, Still!")
	a.out.waitForCount(t, prompt, 4)
	a.sigs <- os.Interrupt
	a.out.waitForCount(t, "(Ctrl-C again", 2)
	select {
	case err := <-a.done:
		t.Fatalf("one Ctrl-C after a command exited the REPL: %v", err)
	default:
	}
	a.out.waitForCount(t, prompt, 5)
	a.sigs <- os.Interrupt
	select {
	case err := <-a.done:
		a.done <- err
		if err != nil {
			t.Errorf("interactive Run returned %v, want nil", err)
		}
	case <-time.After(wait):
		t.Fatal("a second Ctrl-C did not exit")
	}
}

// TestServerGoneMidCall: the server dies during a call: a clear error, no
// hang, and the REPL goes on.
func TestServerGoneMidCall(t *testing.T) {
	hang, s := newHangServer(t)
	a := startAsync(t, s, nil)
	a.send(t, "call-tool hang")
	receive(t, hang.started, "the tool's start")
	a.out.waitFor(t, "[info] hang: hanging")
	s.ts.Listener.Close()
	s.ts.CloseClientConnections()
	a.err.waitFor(t, "Error: ")
	a.send(t, "status")
	a.out.waitFor(t, "Server URL:")
	a.send(t, "greet Nobody")
	a.err.waitFor(t, "connection refused")
	if err := a.finish(t); !errors.Is(err, ErrFailed) {
		t.Errorf("Run: %v, want ErrFailed", err)
	}
	t.Logf("what the user saw:\n%s", a.err.String())
}

// TestTimeout: MCP_CLIENT_TIMEOUT ends a call that takes too long, with a
// message naming the timeout, and the server is told.
func TestTimeout(t *testing.T) {
	hang, s := newHangServer(t)
	// Generous: initialize must not run into it on a loaded machine.
	out, errOut, err := runScript(t, s, "call-tool hang\ngreet After", func(o *Options) { o.Config.Timeout = 5 * time.Second })
	if !errors.Is(err, ErrFailed) {
		t.Errorf("Run: %v, want ErrFailed", err)
	}
	assertContains(t, "Err", errOut, "Error: tools/call timed out after 5s", "(MCP_CLIENT_TIMEOUT sets the limit)")
	t.Logf("what the user saw:\n%s", errOut)
	assertContains(t, "Out", out, "Hello, After!")
	receive(t, hang.cancelled, "the tool's cancellation on the server")
}

// TestLiveNotifications: list_changed and resources/updated arrive on the
// standalone stream between commands and are shown at once.
func TestLiveNotifications(t *testing.T) {
	s := newTestServer(t, nil)
	a := startAsync(t, s, nil)
	a.send(t, "subscribe https://example.com/greetings/default")
	a.out.waitFor(t, "Subscribed to https://example.com/greetings/default.")
	receive(t, a.r.streamUp, "the standalone stream's opening")
	addTool(s.srv, mcp.Tool{Name: "late", InputSchema: json.RawMessage(`{"type":"object"}`)},
		func(context.Context, *server.Call, json.RawMessage) (*mcp.CallToolResult, error) {
			return mcp.ToolText("late"), nil
		})
	a.out.waitFor(t, "[notice] the server's tools changed (list-tools shows them)")
	s.srv.NotifyResourceUpdated("https://example.com/greetings/default")
	a.out.waitFor(t, "[notice] resource updated: https://example.com/greetings/default")
	s.srv.Log(mcp.LevelWarning, "ops", "disk almost full")
	a.out.waitFor(t, "[warning] ops: disk almost full")
	a.send(t, "unsubscribe https://example.com/greetings/default")
	a.out.waitFor(t, "Unsubscribed")
	if err := a.finish(t); err != nil {
		t.Fatal(err)
	}
}

// TestDebugSwitch: debug on shows the client's traffic at once, off hides
// it again; tokens never appear.
func TestDebugSwitch(t *testing.T) {
	s := newTestServer(t, nil)
	a := startAsync(t, s, func(o *Options) {
		o.Config.AuthMethod = AuthLambda
		o.Config.AccessToken = "secret-token-xyz"
	})
	a.send(t, "ping")
	a.out.waitFor(t, "pong")
	if strings.Contains(a.err.String(), "DEBUG") {
		t.Errorf("debug output before debug on:\n%s", a.err.String())
	}
	a.send(t, "debug on")
	a.send(t, "list-tools")
	a.out.waitFor(t, "Tools (3)")
	a.err.waitFor(t, "level=DEBUG")
	a.send(t, "debug off")
	a.out.waitFor(t, "Debug output off.")
	before := strings.Count(a.err.String(), "level=DEBUG")
	a.send(t, "ping")
	a.send(t, "status")
	a.out.waitFor(t, "Debug:        off")
	if after := strings.Count(a.err.String(), "level=DEBUG"); after != before {
		t.Errorf("debug output after debug off: %d lines, then %d", before, after)
	}
	if err := a.finish(t); err != nil {
		t.Fatal(err)
	}
	if got := s.lastAuthorization(); got != "Bearer secret-token-xyz" {
		t.Errorf("lambda mode sent Authorization %q, want the ACCESS_TOKEN", got)
	}
	for _, o := range []string{a.out.String(), a.err.String()} {
		assertLacks(t, "output", o, "secret-token-xyz")
	}
}

// TestAutoModeSendsNoToken: auto mode without a stored login sends no
// Authorization header at all.
func TestAutoModeSendsNoToken(t *testing.T) {
	s := newTestServer(t, nil)
	if _, errOut, err := runScript(t, s, "ping", func(o *Options) { o.Config.AccessToken = "unused" }); err != nil {
		t.Fatal(err, errOut)
	}
	if got := s.lastAuthorization(); got != "" {
		t.Errorf("auto mode sent Authorization %q", got)
	}
}

// TestExec runs -c scripts: the exit status is the worst command's.
func TestExec(t *testing.T) {
	s := newTestServer(t, nil)
	cases := []struct {
		script   string
		out      []string
		notOut   []string
		wantFail bool
	}{
		{script: "greet A; greet B", out: []string{"Hello, A!", "Hello, B!"}},
		{script: `call-tool greet {"name":"x;y"}; list-resources`, out: []string{"Hello, x;y!", "greeting-resource"}},
		{script: "greet A; call-tool nope; greet C", out: []string{"Hello, A!", "Hello, C!"}, wantFail: true},
		{script: "greet A\ngreet B", out: []string{"Hello, A!", "Hello, B!"}},
		{script: "greet A; quit; greet B", out: []string{"Hello, A!"}, notOut: []string{"Hello, B!"}},
		{script: "bogus", wantFail: true},
		{script: "  ;  ; "},
	}
	for _, tc := range cases {
		t.Run(tc.script, func(t *testing.T) {
			h := newHarness(t, s, strings.NewReader(""), nil)
			err := h.r.Exec(testContext(t), tc.script)
			if tc.wantFail != errors.Is(err, ErrFailed) {
				t.Errorf("Exec = %v, want failure %v\n%s", err, tc.wantFail, h.err.String())
			}
			assertContains(t, "Out", h.out.String(), tc.out...)
			assertLacks(t, "Out", h.out.String(), tc.notOut...)
		})
	}
	if n := s.store.Len(); n != 0 {
		t.Errorf("%d sessions left open after the scripts", n)
	}
}

// TestCtrlCEndsScript: Ctrl-C while a script waits for input ends it with
// a failure status.
func TestCtrlCEndsScript(t *testing.T) {
	a := startAsync(t, nil, nil)
	a.sigs <- os.Interrupt
	select {
	case err := <-a.done:
		a.done <- err
		if !errors.Is(err, ErrFailed) {
			t.Errorf("Run = %v, want ErrFailed", err)
		}
	case <-time.After(wait):
		t.Fatal("Ctrl-C did not end the script")
	}
	assertContains(t, "Err", a.err.String(), "Interrupted.")
}
