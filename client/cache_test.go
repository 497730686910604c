package client

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"mcplambda/mcp"
	"mcplambda/server"
)

// testClock is a clock a test moves by hand.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newTestCache() (*ResultCache, *testClock) {
	clk := &testClock{t: time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)}
	rc := NewResultCache(defaultCacheEntries)
	rc.now = clk.now
	return rc, clk
}

// A public list is fetched once for every client sharing the cache, by
// page, until its ttlMs (five minutes on our server) passes.
func TestCachePublicListShared(t *testing.T) {
	s := newTestServer(t, nil)
	mustAddTool(t, s.srv, mcp.Tool{Name: "third", InputSchema: json.RawMessage(`{"type":"object"}`)},
		func(context.Context, *server.Call, json.RawMessage) (*mcp.CallToolResult, error) {
			return &mcp.CallToolResult{}, nil
		})
	rc, clk := newTestCache()
	ctx := testContext(t)
	alice := connect(t, Options{URL: s.url, Cache: rc, Auth: StaticToken("alice")})
	bob := connect(t, Options{URL: s.url, Cache: rc, Auth: StaticToken("bob")})
	first, err := alice.ListTools(ctx)
	if err != nil {
		t.Fatal(err)
	}
	pages := s.proxy.count(http.MethodPost, mcp.MethodToolsList)
	if pages < 2 {
		t.Fatalf("%d tools/list pages; the test wants pagination (PageSize 2)", pages)
	}
	for _, c := range []*Client{alice, bob, alice} {
		got, err := c.ListTools(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(first) {
			t.Fatalf("cached list has %d tools, want %d", len(got), len(first))
		}
	}
	if n := s.proxy.count(http.MethodPost, mcp.MethodToolsList); n != pages {
		t.Fatalf("%d tools/list requests while fresh, want %d", n, pages)
	}
	clk.advance(5*time.Minute + time.Millisecond)
	if _, err := bob.ListTools(ctx); err != nil {
		t.Fatal(err)
	}
	if n := s.proxy.count(http.MethodPost, mcp.MethodToolsList); n != 2*pages {
		t.Fatalf("%d tools/list requests after ttlMs passed, want %d", n, 2*pages)
	}
}

// A private read is reused by the credentials that fetched it, never by
// another user's.
func TestCachePrivateNotShared(t *testing.T) {
	s := newTestServer(t, nil)
	const uri = "test://private"
	if err := s.srv.AddResource(mcp.Resource{URI: uri, Name: "private"}, func(_ context.Context, call *server.Call, uri string, _ map[string]string) (*mcp.ReadResourceResult, error) {
		call.CacheResult(time.Minute, false)
		return &mcp.ReadResourceResult{Contents: []mcp.ResourceContents{{URI: uri, Text: "mine"}}}, nil
	}); err != nil {
		t.Fatal(err)
	}
	rc, _ := newTestCache()
	ctx := testContext(t)
	alice := connect(t, Options{URL: s.url, Cache: rc, Auth: StaticToken("alice")})
	bob := connect(t, Options{URL: s.url, Cache: rc, Auth: StaticToken("bob")})
	alice2 := connect(t, Options{URL: s.url, Cache: rc, Auth: StaticToken("alice")})
	reads := func() int { return s.proxy.count(http.MethodPost, mcp.MethodResourcesRead) }
	steps := []struct {
		c    *Client
		want int
	}{{alice, 1}, {alice, 1}, {bob, 2}, {bob, 2}, {alice2, 2}}
	for i, st := range steps {
		res, err := st.c.ReadResource(ctx, uri)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Contents) != 1 || res.Contents[0].Text != "mine" {
			t.Fatalf("step %d: contents %+v", i, res.Contents)
		}
		if n := reads(); n != st.want {
			t.Fatalf("step %d: %d reads reached the server, want %d", i, n, st.want)
		}
	}
	// The greeting resource is public for an hour: shared.
	for _, c := range []*Client{alice, bob} {
		if _, err := c.ReadResource(ctx, "https://example.com/greetings/default"); err != nil {
			t.Fatal(err)
		}
	}
	if n := reads(); n != 3 {
		t.Fatalf("%d reads, want 3: a public read was not shared", n)
	}
}

// Hints the server gets wrong, or leaves out, keep nothing; what is kept
// honours its scope.
func TestCacheHints(t *testing.T) {
	for _, tc := range []struct {
		name  string
		hints string
		kept  bool
	}{
		{"absent", ``, false},
		{"zero", `"ttlMs":0,"cacheScope":"public",`, false},
		{"negative", `"ttlMs":-5,"cacheScope":"public",`, false},
		{"not a number", `"ttlMs":"60000","cacheScope":"public",`, false},
		{"public", `"ttlMs":60000,"cacheScope":"public",`, true},
		{"private", `"ttlMs":60000,"cacheScope":"private",`, true},
		{"unknown scope is private", `"ttlMs":60000,"cacheScope":"shared",`, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newTestServer(t, nil)
			s.proxy.setHook(answerResult(mcp.MethodResourcesList, func(*http.Request, json.RawMessage) string {
				return `{"resultType":"complete",` + tc.hints + `"resources":[{"uri":"test://a","name":"a"}]}`
			}))
			rc, _ := newTestCache()
			ctx := testContext(t)
			c := connect(t, Options{URL: s.url, Cache: rc, Auth: StaticToken("alice")})
			other := connect(t, Options{URL: s.url, Cache: rc, Auth: StaticToken("bob")})
			for range 2 {
				if res, err := c.ListResources(ctx); err != nil || len(res) != 1 {
					t.Fatalf("%v %v", res, err)
				}
			}
			want := 2
			if tc.kept {
				want = 1
			}
			if n := s.proxy.count(http.MethodPost, mcp.MethodResourcesList); n != want {
				t.Fatalf("%d requests, want %d", n, want)
			}
			if _, err := other.ListResources(ctx); err != nil {
				t.Fatal(err)
			}
			shared := tc.kept && strings.Contains(tc.hints, `"public"`)
			if n := s.proxy.count(http.MethodPost, mcp.MethodResourcesList); shared != (n == want) {
				t.Fatalf("another user's list: %d requests (shared=%v)", n, shared)
			}
		})
	}
}

// tools/list_changed makes the next ListTools ask again, and so does a
// call to a tool the server no longer knows.
func TestCacheInvalidation(t *testing.T) {
	s := newTestServer(t, nil)
	rec := newRecorder()
	opened := make(chan bool, 10)
	c := connect(t, Options{URL: s.url, OnNotification: rec.note, OpenStandaloneStream: true,
		OnStandaloneStream: func(open bool, _ error) { opened <- open }})
	ctx := testContext(t)
	if !<-opened {
		t.Fatal("listen stream closed")
	}
	before, err := c.ListTools(ctx)
	if err != nil {
		t.Fatal(err)
	}
	pages := s.proxy.count(http.MethodPost, mcp.MethodToolsList)
	mustAddTool(t, s.srv, mcp.Tool{Name: "late", InputSchema: json.RawMessage(`{"type":"object"}`)},
		func(context.Context, *server.Call, json.RawMessage) (*mcp.CallToolResult, error) {
			return &mcp.CallToolResult{}, nil
		})
	rec.waitFor(t, mcp.NotificationToolsListChanged)
	after, err := c.ListTools(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != len(before)+1 {
		t.Fatalf("after list_changed: %d tools, want %d", len(after), len(before)+1)
	}
	pages2 := s.proxy.count(http.MethodPost, mcp.MethodToolsList)
	if pages2 <= pages {
		t.Fatal("list_changed did not make ListTools ask the server")
	}
	if _, err := c.CallTool(ctx, "no-such-tool", nil); err == nil {
		t.Fatal("calling an unknown tool succeeded")
	}
	if _, err := c.ListTools(ctx); err != nil {
		t.Fatal(err)
	}
	if s.proxy.count(http.MethodPost, mcp.MethodToolsList) == pages2 {
		t.Fatal("an unknown-tool error did not make ListTools ask the server")
	}
}

// A result that needed a retry with inputResponses is never kept, and the
// session era (no hints) keeps nothing.
func TestCacheSkipsRetriesAndSessions(t *testing.T) {
	t.Run("retry", func(t *testing.T) {
		s := newTestServer(t, nil)
		s.proxy.setHook(answerResult(mcp.MethodPromptsList, func(_ *http.Request, params json.RawMessage) string {
			var p struct {
				InputResponses json.RawMessage `json:"inputResponses"`
			}
			_ = json.Unmarshal(params, &p)
			if p.InputResponses == nil {
				return `{"resultType":"input_required","inputRequests":{"r":{"method":"roots/list"}}}`
			}
			return `{"resultType":"complete","ttlMs":60000,"cacheScope":"public","prompts":[]}`
		}))
		ctx := testContext(t)
		c := connect(t, Options{URL: s.url, Roots: func(context.Context) ([]mcp.Root, error) { return nil, nil }})
		for range 2 {
			if _, err := c.ListPrompts(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if n := s.proxy.count(http.MethodPost, mcp.MethodPromptsList); n != 4 {
			t.Fatalf("%d prompts/list requests, want 4 (two rounds, twice)", n)
		}
	})
	t.Run("session era", func(t *testing.T) {
		s := newTestServer(t, nil)
		ctx := testContext(t)
		c := connect(t, Options{URL: s.url, ProtocolVersion: mcp.Version20251125})
		for range 2 {
			if _, err := c.ListResources(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if n := s.proxy.count(http.MethodPost, mcp.MethodResourcesList); n != 2 {
			t.Fatalf("%d resources/list requests, want 2", n)
		}
	})
}

// The cache is bounded: entries by count, the entry closest to expiry
// leaving first, and results larger than maxCachedResult not kept.
func TestCacheBounds(t *testing.T) {
	rc, clk := newTestCache()
	rc.maxEntries = 2
	put := func(key string, ttl time.Duration, size int) {
		rc.put(key, &cacheEntry{endpoint: "e", method: mcp.MethodToolsList, result: make(json.RawMessage, size), expires: clk.now().Add(ttl)})
	}
	put("a", time.Hour, 10)
	put("b", time.Minute, 10)
	put("c", time.Hour, 10)
	if _, ok := rc.get("b"); ok {
		t.Error("the entry closest to expiry survived")
	}
	for _, k := range []string{"a", "c"} {
		if _, ok := rc.get(k); !ok {
			t.Errorf("%s evicted", k)
		}
	}
	put("big", time.Hour, maxCachedResult+1)
	if _, ok := rc.get("big"); ok {
		t.Error("an oversized result was kept")
	}
	off := NewResultCache(0)
	off.put("a", &cacheEntry{result: json.RawMessage(`{}`), expires: time.Now().Add(time.Hour)})
	if off.Len() != 0 {
		t.Error("NewResultCache(0) kept a result")
	}
}

// The era is remembered per origin: a session-era origin is not probed
// again through the same cache, unless initialize then fails.
func TestEraRememberedPerOrigin(t *testing.T) {
	s := newTestServer(t, nil)
	s.proxy.setHook(answerDiscover(http.StatusBadRequest, "Bad Request"))
	rc := NewResultCache(defaultCacheEntries)
	ctx := testContext(t)
	for i := range 2 {
		c := connect(t, Options{URL: s.url, Cache: rc})
		if c.Era() != EraSession {
			t.Fatalf("connect %d: era %s", i, c.Era())
		}
	}
	if n := s.proxy.count(http.MethodPost, mcp.MethodServerDiscover); n != 1 {
		t.Fatalf("%d probes, want 1", n)
	}
	// Another path on the same origin is the same server.
	if c := connect(t, Options{URL: s.url + "?x=1", Cache: rc}); c.Era() != EraSession {
		t.Fatalf("era %s", c.Era())
	}
	if n := s.proxy.count(http.MethodPost, mcp.MethodServerDiscover); n != 1 {
		t.Fatalf("%d probes, want 1", n)
	}
	// The server was upgraded: initialize fails, the client probes.
	s.proxy.setHook(func(w http.ResponseWriter, r *http.Request, b []byte) bool {
		var m struct{ Method string }
		_ = json.Unmarshal(b, &m)
		if m.Method != mcp.MethodInitialize {
			return false
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"jsonrpc":"2.0","id":1,"error":{"code":-32600,"message":"initialize is not supported"}}`))
		return true
	})
	c, err := Connect(ctx, Options{URL: s.url, Cache: rc})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	if c.Era() != EraStateless || rc.eraOf(originOf(s.url)) != EraStateless {
		t.Fatalf("era %s, remembered %s", c.Era(), rc.eraOf(originOf(s.url)))
	}
	// A forced revision neither reads nor changes what is remembered.
	if c := connect(t, Options{URL: s.url, Cache: rc, ProtocolVersion: mcp.Version20260728}); c.Era() != EraStateless {
		t.Fatal(c.Era())
	}
}
