package client

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"mcplambda/mcp"
)

// modernParams splices _meta into params that have none and merges it
// into a _meta they bring; either way the result is one object with
// every member.
func TestModernParamsEncoding(t *testing.T) {
	c := &Client{opts: Options{ClientInfo: mcp.Implementation{Name: "t", Version: "1"}}}
	c.logLevel = mcp.LevelInfo
	sess := session{version: mcp.Version20260728, modern: true}
	for _, tc := range []struct {
		name   string
		params any
		want   map[string]string // member -> substring of its encoding
		err    bool
	}{
		{"nil", nil, map[string]string{}, false},
		{"empty object", json.RawMessage(`{}`), map[string]string{}, false},
		{"tool call", &mcp.CallToolParams{Name: "greet", Arguments: json.RawMessage(`{"name":"Ada"}`)},
			map[string]string{"name": `"greet"`, "arguments": `"Ada"`}, false},
		{"tool call with meta", &mcp.CallToolParams{Name: "greet", Meta: &mcp.RequestMeta{ProgressToken: json.RawMessage(`7`)}},
			map[string]string{"name": `"greet"`}, false},
		{"raw with meta", json.RawMessage(`{"uri":"x","_meta":{"mine":1}}`), map[string]string{"uri": `"x"`}, false},
		{"not an object", json.RawMessage(`[1]`), nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			raw, err := c.modernParams([]byte("prefix"), tc.params, sess, map[string]json.RawMessage{"extra": json.RawMessage(`true`)})
			if tc.err {
				if err == nil {
					t.Fatalf("no error for %s", raw)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(string(raw), "prefix") {
				t.Fatalf("dst not kept: %s", raw)
			}
			raw = raw[len("prefix"):]
			var got map[string]json.RawMessage
			if err := json.Unmarshal(raw, &got); err != nil {
				t.Fatalf("%s: %v", raw, err)
			}
			for k, sub := range tc.want {
				if !strings.Contains(string(got[k]), sub) {
					t.Errorf("%s = %s, want %s in it", k, got[k], sub)
				}
			}
			var meta map[string]json.RawMessage
			if err := json.Unmarshal(got["_meta"], &meta); err != nil {
				t.Fatalf("_meta %s: %v", got["_meta"], err)
			}
			for _, k := range []string{mcp.MetaProtocolVersion, mcp.MetaClientCapabilities, mcp.MetaClientInfo, mcp.MetaLogLevel, "extra"} {
				if meta[k] == nil {
					t.Errorf("_meta lacks %s: %s", k, got["_meta"])
				}
			}
			if strings.Contains(tc.name, "meta") {
				if meta["progressToken"] == nil && meta["mine"] == nil {
					t.Errorf("the params' own _meta was lost: %s", got["_meta"])
				}
			}
		})
	}
}

// A tool result's _meta keeps what the server put there, except the
// stateless era's serverInfo (ServerInfo has it).
func TestCallToolResultMeta(t *testing.T) {
	for _, tc := range []struct {
		name, meta string
		want       map[string]bool
	}{
		{"server info only", `{"io.modelcontextprotocol/serverInfo":{"name":"s","version":"1"}}`, nil},
		{"more", `{"io.modelcontextprotocol/serverInfo":{"name":"s","version":"1"},"x":1}`, map[string]bool{"x": true}},
		{"none", `null`, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newTestServer(t, nil)
			s.proxy.setHook(answerResult(mcp.MethodToolsCall, func(*http.Request, json.RawMessage) string {
				return `{"resultType":"complete","_meta":` + tc.meta + `,"content":[{"type":"text","text":"hi"}]}`
			}))
			c := connect(t, Options{URL: s.url})
			res, err := c.CallTool(testContext(t), "greet", nil)
			if err != nil {
				t.Fatal(err)
			}
			if text(res) != "hi" || len(res.Meta) != len(tc.want) {
				t.Fatalf("result %q, meta %v", text(res), res.Meta)
			}
			for k := range tc.want {
				if _, ok := res.Meta[k]; !ok {
					t.Errorf("meta lacks %s: %v", k, res.Meta)
				}
			}
		})
	}
}

// $refs in a tool's schema are never fetched: not when the tools are
// listed, not when their x-mcp-header annotations are read, not when a
// tool is called.
func TestSchemaRefsNeverFetched(t *testing.T) {
	var fetched atomic.Int32
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fetched.Add(1)
		_, _ = w.Write([]byte(`{"type":"string","x-mcp-header":"Stolen"}`))
	}))
	defer elsewhere.Close()
	s := newTestServer(t, nil)
	schema := `{"type":"object","properties":{"a":{"$ref":"` + elsewhere.URL + `/a.json"},"b":{"type":"string","x-mcp-header":"B"}},"$defs":{"c":{"$ref":"` + elsewhere.URL + `/c.json"}}}`
	list := answerResult(mcp.MethodToolsList, func(*http.Request, json.RawMessage) string {
		return `{"resultType":"complete","ttlMs":0,"cacheScope":"public","tools":[{"name":"remote","inputSchema":` + schema + `}]}`
	})
	call := answerResult(mcp.MethodToolsCall, func(r *http.Request, _ json.RawMessage) string {
		return `{"resultType":"complete","content":[{"type":"text","text":"` + r.Header.Get("Mcp-Param-B") + `"}]}`
	})
	s.proxy.setHook(func(w http.ResponseWriter, r *http.Request, b []byte) bool {
		return list(w, r, b) || call(w, r, b)
	})
	c := connect(t, Options{URL: s.url})
	ctx := testContext(t)
	tools, err := c.ListTools(ctx)
	if err != nil || len(tools) != 1 {
		t.Fatalf("tools %v, err %v", tools, err)
	}
	res, err := c.CallTool(ctx, "remote", map[string]string{"a": "x", "b": "y"})
	if err != nil {
		t.Fatal(err)
	}
	if text(res) != "y" {
		t.Errorf("Mcp-Param-B was %q, want y", text(res))
	}
	if n := fetched.Load(); n != 0 {
		t.Fatalf("the client fetched a $ref %d times", n)
	}
}
