package oauthclient_test

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"mcplambda/client"
	"mcplambda/client/oauthclient"
	"mcplambda/mcp"
	"mcplambda/test/oidc"
)

// The Flow is the MCP client's Authorizer (structurally: oauthclient does
// not import client).
var _ client.Authorizer = (*oauthclient.Flow)(nil)

func TestWithTheMCPClient(t *testing.T) {
	p := oidc.Start(t, oidc.Options{})
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	endpoint := startMCP(t, p.Issuer, "mcp:read")

	t.Run("connect logs in on the 401 and tools work", func(t *testing.T) {
		h := newHarness(t, p)
		f := h.flow(endpoint, func(c *oauthclient.Config) { c.Interactive = true })
		c, err := client.Connect(ctx, client.Options{URL: endpoint, Auth: f, ClientInfo: mcp.Implementation{Name: "oauthclient-test", Version: "1"}})
		if err != nil {
			t.Fatalf("connect: %v\n%s", err, p.Output())
		}
		defer c.Close(ctx)
		res, err := c.CallTool(ctx, "greet", map[string]string{"name": "Ada"})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Content) != 1 || res.Content[0].Text != "Hello, Ada!" {
			t.Fatalf("greet answered %+v", res.Content)
		}
		if h.browser.Opened() != 1 {
			t.Errorf("browser opened %d times", h.browser.Opened())
		}
	})

	t.Run("concurrent refusals lead to one login", func(t *testing.T) {
		h := newHarness(t, p)
		f := h.flow(endpoint, func(c *oauthclient.Config) { c.Interactive = true })
		const n = 8
		var wg sync.WaitGroup
		statuses := make([]int, n)
		errs := make([]error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				resp, _, err := call(ctx, f, endpoint, "", initialize)
				errs[i] = err
				if resp != nil {
					statuses[i] = resp.StatusCode
				}
			}()
		}
		wg.Wait()
		for i := range n {
			if errs[i] != nil || statuses[i] != http.StatusOK {
				t.Errorf("request %d: HTTP %d, %v", i, statuses[i], errs[i])
			}
		}
		if h.browser.Opened() != 1 {
			t.Errorf("%d concurrent refusals opened the browser %d times, want once", n, h.browser.Opened())
		}
	})

	t.Run("a non-interactive client gets an error, not a browser", func(t *testing.T) {
		h := newHarness(t, p)
		f := h.flow(endpoint)
		_, err := client.Connect(ctx, client.Options{URL: endpoint, Auth: f, ClientInfo: mcp.Implementation{Name: "oauthclient-test", Version: "1"}})
		if err == nil {
			t.Fatal("connected without a token")
		}
		if h.browser.Opened() != 0 {
			t.Error("the browser was opened")
		}
		if !errors.Is(err, oauthclient.ErrLoginRequired) {
			t.Errorf("connect error %v does not wrap ErrLoginRequired", err)
		}
	})
}
