package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"mcplambda/greetings"
	"mcplambda/mcp"
)

func TestConnectHandshake(t *testing.T) {
	s := newTestServer(t, nil)
	tests := []struct {
		requested, want string
	}{
		{"", mcp.Version20260728}, // negotiated: this server speaks the stateless era
		{mcp.Version20251125, mcp.Version20251125},
		{mcp.Version20250618, mcp.Version20250618},
		{mcp.Version20250326, mcp.Version20250326},
		{"2099-01-01", mcp.LatestVersion}, // the server answers with its own; we speak it
	}
	for _, tt := range tests {
		t.Run(tt.requested, func(t *testing.T) {
			c := connect(t, Options{URL: s.url, ProtocolVersion: tt.requested})
			if got := c.ProtocolVersion(); got != tt.want {
				t.Errorf("version %q, want %q", got, tt.want)
			}
			if stateless := tt.want == mcp.Version20260728; c.Era() == EraStateless != stateless {
				t.Errorf("era %v", c.Era())
			}
			if (c.SessionID() == "") != (c.Era() == EraStateless) {
				t.Errorf("session id %q in era %v", c.SessionID(), c.Era())
			}
			if info := c.ServerInfo(); info.ServerInfo.Name != "test-server" || info.Capabilities.Tools == nil {
				t.Errorf("server info %+v", info)
			}
			// The session works at this version: the header matches.
			if err := c.Ping(testContext(t)); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestConnectBadURL(t *testing.T) {
	for _, u := range []string{"", "ftp://x/mcp", "http://", "::"} {
		if _, err := Connect(testContext(t), Options{URL: u}); err == nil {
			t.Errorf("Connect(%q) succeeded", u)
		}
	}
}

func TestFeatures(t *testing.T) {
	s := newTestServer(t, nil)
	c := connect(t, Options{URL: s.url})
	ctx := testContext(t)

	tools, err := c.ListTools(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tl := range tools {
		names = append(names, tl.Name)
	}
	// PageSize 2 on the server: three tools need two pages.
	for _, want := range []string{"greet", "multi-greet"} {
		if !slices.Contains(names, want) {
			t.Errorf("tools %v lack %s", names, want)
		}
	}

	calls := []struct {
		name    string
		args    any
		want    string
		isError bool
	}{
		{"greet", map[string]string{"name": "Ada"}, "Hello, Ada!", false},
		{"greet", json.RawMessage(`{"name":"Bob"}`), "Hello, Bob!", false},
		{"greet", struct {
			Name string `json:"name"`
		}{"Cy"}, "Hello, Cy!", false},
		{"greet", nil, "required", true},
		{"multi-greet", map[string]string{"name": "Dee"}, "Good morning, Dee!", false},
	}
	for _, tt := range calls {
		res, err := c.CallTool(ctx, tt.name, tt.args)
		if err != nil {
			t.Fatalf("%s %v: %v", tt.name, tt.args, err)
		}
		if res.IsError != tt.isError || !strings.Contains(text(res), tt.want) {
			t.Errorf("%s %v: %+v, want %q isError=%v", tt.name, tt.args, res, tt.want, tt.isError)
		}
	}

	var rpcErr *RPCError
	if _, err := c.CallTool(ctx, "no-such-tool", nil); !errors.As(err, &rpcErr) || rpcErr.Code != mcp.CodeInvalidParams {
		t.Errorf("unknown tool: %v", err)
	} else if !strings.HasPrefix(rpcErr.Error(), "-32602: ") {
		t.Errorf("RPCError text %q", rpcErr.Error())
	}
	if err := c.Call(ctx, "no/such/method", nil, nil); !errors.As(err, &rpcErr) || rpcErr.Code != mcp.CodeMethodNotFound {
		t.Errorf("unknown method: %v", err)
	}

	res, err := c.ListResources(ctx)
	if err != nil || len(res) == 0 || res[0].URI != greetings.ResourceURI {
		t.Errorf("resources %+v %v", res, err)
	}
	if _, err := c.ListResourceTemplates(ctx); err != nil {
		t.Errorf("templates: %v", err)
	}
	rr, err := c.ReadResource(ctx, greetings.ResourceURI)
	if err != nil || len(rr.Contents) != 1 || rr.Contents[0].Text != "Hello, world!" {
		t.Errorf("read %+v %v", rr, err)
	}
	wantCode := mcp.CodeResourceNotFound
	if c.Era() == EraStateless {
		wantCode = mcp.CodeInvalidParams // 2026-07-28 answers an unknown resource with -32602
	}
	if _, err := c.ReadResource(ctx, "https://example.com/nothing"); !errors.As(err, &rpcErr) || rpcErr.Code != wantCode {
		t.Errorf("unknown resource: %v", err)
	}
	prompts, err := c.ListPrompts(ctx)
	if err != nil || len(prompts) != 1 || prompts[0].Name != "greeting-template" {
		t.Errorf("prompts %+v %v", prompts, err)
	}
	gp, err := c.GetPrompt(ctx, "greeting-template", map[string]string{"name": "Ada"})
	if err != nil || len(gp.Messages) != 1 || !strings.Contains(gp.Messages[0].Content.Text, "Ada") {
		t.Errorf("prompt %+v %v", gp, err)
	}
	comp, err := c.Complete(ctx, &mcp.CompleteParams{Ref: mcp.CompletionReference{Type: mcp.RefPrompt, Name: "greeting-template"},
		Argument: struct {
			Name  string `json:"name"`
			Value string `json:"value"`
		}{"name", "m"}})
	if err != nil || !slices.Contains(comp.Values, "Mallory") {
		t.Errorf("complete %+v %v", comp, err)
	}
	if err := c.Subscribe(ctx, greetings.ResourceURI); err != nil {
		t.Errorf("subscribe: %v", err)
	}
	if err := c.Unsubscribe(ctx, greetings.ResourceURI); err != nil {
		t.Errorf("unsubscribe: %v", err)
	}
}

// multi-greet's log notifications arrive through OnNotification, in order,
// before the result; the level set with SetLogLevel filters them.
func TestNotificationsOnPostStream(t *testing.T) {
	tests := []struct {
		level mcp.LoggingLevel
		want  []string
	}{
		{mcp.LevelDebug, []string{"Starting multi-greet for Ada", "Sending first greeting to Ada", "Sending second greeting to Ada"}},
		{mcp.LevelInfo, []string{"Sending first greeting to Ada", "Sending second greeting to Ada"}},
		{mcp.LevelError, nil},
	}
	s := newTestServer(t, nil)
	for _, tt := range tests {
		t.Run(string(tt.level), func(t *testing.T) {
			rec := newRecorder()
			c := connect(t, Options{URL: s.url, OnNotification: rec.note})
			ctx := testContext(t)
			if err := c.SetLogLevel(ctx, tt.level); err != nil {
				t.Fatal(err)
			}
			res, err := c.CallTool(ctx, "multi-greet", map[string]string{"name": "Ada"})
			if err != nil || text(res) != "Good morning, Ada!" {
				t.Fatalf("%+v %v", res, err)
			}
			var got []string
			for _, n := range rec.all() {
				method, params, _ := strings.Cut(n, " ")
				if method != mcp.NotificationMessage {
					continue
				}
				var p mcp.LoggingMessageParams
				if err := json.Unmarshal([]byte(params), &p); err != nil {
					t.Fatal(err)
				}
				got = append(got, fmt.Sprint(p.Data))
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("log messages %q, want %q", got, tt.want)
			}
		})
	}
}

func TestProgress(t *testing.T) {
	s := newTestServer(t, nil)
	rec := newRecorder()
	c := connect(t, Options{URL: s.url, OnNotification: rec.note})
	var progress []mcp.ProgressParams
	res, err := c.CallTool(testContext(t), "multi-greet", map[string]string{"name": "Ada"},
		WithProgress(func(p mcp.ProgressParams) { progress = append(progress, p) }))
	if err != nil || text(res) != "Good morning, Ada!" {
		t.Fatalf("%+v %v", res, err)
	}
	if len(progress) == 0 {
		t.Fatal("no progress delivered")
	}
	for i, p := range progress {
		if i > 0 && p.Progress <= progress[i-1].Progress {
			t.Errorf("progress not increasing: %+v", progress)
		}
	}
	// OnNotification sees progress too.
	rec.waitFor(t, mcp.NotificationProgress)
}

func TestWithProgressToken(t *testing.T) {
	tests := []struct {
		params  any
		want    string
		wantErr bool
	}{
		{nil, `{"_meta":{"progressToken":7}}`, false},
		{map[string]any{"a": 1}, `{"_meta":{"progressToken":7},"a":1}`, false},
		{json.RawMessage(`{"_meta":{"x":true},"b":"c"}`), `{"_meta":{"progressToken":7,"x":true},"b":"c"}`, false},
		{&mcp.CallToolParams{Name: "greet"}, `{"_meta":{"progressToken":7},"name":"greet"}`, false},
		{[]int{1}, "", true},
		{json.RawMessage(`{"_meta":5}`), "", true},
	}
	for _, tt := range tests {
		got, err := withProgressToken(tt.params, json.RawMessage(`7`))
		if (err != nil) != tt.wantErr || (!tt.wantErr && string(got) != tt.want) {
			t.Errorf("withProgressToken(%v) = %s, %v; want %s", tt.params, got, err, tt.want)
		}
	}
}

// Many calls at once on one client, each answered with its own result.
func TestConcurrentCalls(t *testing.T) {
	checkGoroutines(t)
	s := newTestServer(t, nil)
	c := connect(t, Options{URL: s.url})
	ctx := testContext(t)
	const n = 40
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			name := fmt.Sprintf("p%d", i)
			tool := "greet"
			want := "Hello, " + name + "!"
			if i%4 == 0 {
				tool, want = "multi-greet", "Good morning, "+name+"!"
			}
			res, err := c.CallTool(ctx, tool, map[string]string{"name": name})
			if err != nil {
				errs <- err
				return
			}
			if got := text(res); got != want {
				errs <- fmt.Errorf("got %q, want %q", got, want)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
