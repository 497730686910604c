package client_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"

	"mcplambda/client"
	"mcplambda/greetings"
	"mcplambda/mcp"
	"mcplambda/server"
)

// exampleServer runs the real MCP server with the demonstration features on
// httptest, behind auth (nil: no authentication), and returns the URL of its
// MCP endpoint and a function that stops it.
func exampleServer(auth server.Authenticator) (url string, stop func()) {
	srv := server.New(server.Options{})
	if err := greetings.Register(srv, greetings.Options{Interval: 1}); err != nil {
		log.Fatal(err)
	}
	cfg := server.DefaultConfig()
	cfg.LogRequests = false
	h := server.NewHandler(srv, cfg, server.HandlerOptions{Auth: auth, Logger: slog.New(slog.DiscardHandler)})
	ts := httptest.NewServer(server.NewMux(cfg, h))
	return ts.URL + "/mcp", func() { ts.Close(); h.Close() }
}

// metadataURL is the RFC 9728 resource metadata URL that oauthServer
// announces in its challenges.
const metadataURL = "https://mcp.example.com/.well-known/oauth-protected-resource/mcp"

// oauthServer authenticates like an OAuth resource server: no token is a 401
// naming the resource metadata; the token "good" is accepted, any other is
// refused as invalid.
var oauthServer = server.AuthenticatorFunc(func(r *http.Request) (*server.Principal, error) {
	token, presented := server.BearerToken(r)
	switch {
	case !presented:
		return nil, &server.AuthError{Status: http.StatusUnauthorized,
			Challenge: `Bearer resource_metadata="` + metadataURL + `"`, Message: "authentication required"}
	case token == "good":
		return &server.Principal{Issuer: "https://issuer.example.com", Subject: "ada", ClientID: "example"}, nil
	}
	return nil, &server.AuthError{Status: http.StatusUnauthorized,
		Challenge: `Bearer error="invalid_token", error_description="the token has expired", resource_metadata="` + metadataURL + `"`,
		Message:   "the token has expired"}
})

func ExampleClient_CallTool() {
	url, stop := exampleServer(nil)
	defer stop()
	ctx := context.Background()
	c, err := client.Connect(ctx, client.Options{URL: url})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close(ctx)

	res, err := c.CallTool(ctx, "greet", map[string]string{"name": "Ada"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.IsError, res.Content[0].Text)

	// Arguments that break the tool's input schema are a tool failure
	// (IsError), not a Go error.
	res, err = c.CallTool(ctx, "greet", map[string]string{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.IsError, res.Content[0].Text)
	// Output:
	// false Hello, Ada!
	// true invalid arguments: "name": required property is missing
}

func ExampleClient_Call() {
	url, stop := exampleServer(nil)
	defer stop()
	ctx := context.Background()
	c, err := client.Connect(ctx, client.Options{URL: url})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close(ctx)

	// Any request, here tools/call by hand, with a progress callback: the
	// client adds the progressToken and routes the server's
	// notifications/progress for this request to the function.
	params := mcp.CallToolParams{Name: "multi-greet", Arguments: json.RawMessage(`{"name":"Ada"}`)}
	var res mcp.CallToolResult
	err = c.Call(ctx, mcp.MethodToolsCall, params, &res, client.WithProgress(func(p mcp.ProgressParams) {
		fmt.Printf("progress %v/%v: %s\n", p.Progress, *p.Total, p.Message)
	}))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Content[0].Text)
	// Output:
	// progress 1/3: Starting multi-greet for Ada
	// progress 2/3: Sending first greeting to Ada
	// progress 3/3: Sending second greeting to Ada
	// Good morning, Ada!
}

func ExampleRPCError() {
	url, stop := exampleServer(nil)
	defer stop()
	ctx := context.Background()
	c, err := client.Connect(ctx, client.Options{URL: url})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close(ctx)

	// A JSON-RPC error response is an *RPCError.
	err = c.Call(ctx, "tools/frobnicate", nil, nil)
	var rpcErr *client.RPCError
	if errors.As(err, &rpcErr) {
		fmt.Println(rpcErr.Code == mcp.CodeMethodNotFound, rpcErr.Code)
	}
	// Output:
	// true -32601
}

func ExampleStaticToken() {
	// The server accepts one API key, known by its SHA-256 hash as
	// API_KEY_SHA256 configures it.
	const key = "example-api-key"
	want := sha256.Sum256([]byte(key))
	keys := server.AuthenticatorFunc(func(r *http.Request) (*server.Principal, error) {
		token, _ := server.BearerToken(r)
		if got := sha256.Sum256([]byte(token)); got != want {
			return nil, &server.AuthError{Status: http.StatusUnauthorized,
				Challenge: `Bearer realm="mcp", error="invalid_token"`, Message: "the API key is not valid"}
		}
		return &server.Principal{Subject: "apikey:" + hex.EncodeToString(want[:6])}, nil
	})
	url, stop := exampleServer(keys)
	defer stop()
	ctx := context.Background()

	// StaticToken sends the key as "Authorization: Bearer KEY".
	c, err := client.Connect(ctx, client.Options{URL: url, Auth: client.StaticToken(key)})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close(ctx)
	fmt.Println(c.ProtocolVersion())

	// A token the server refuses cannot be renewed: Connect fails with an
	// error that wraps *AuthRequiredError.
	_, err = client.Connect(ctx, client.Options{URL: url, Auth: client.StaticToken("wrong")})
	var authErr *client.AuthRequiredError
	fmt.Println(errors.As(err, &authErr), authErr.Status)
	// Output:
	// 2026-07-28
	// true 401
}

func ExampleAuthRequiredError() {
	url, stop := exampleServer(oauthServer)
	defer stop()
	ctx := context.Background()

	// Without an Authorizer, a 401 ends in *AuthRequiredError, which says
	// where the server's RFC 9728 metadata is: the start of an OAuth login.
	_, err := client.Connect(ctx, client.Options{URL: url})
	var authErr *client.AuthRequiredError
	if errors.As(err, &authErr) {
		fmt.Println(authErr.Status)
		fmt.Println(authErr.ResourceMetadata())
	}
	// Output:
	// 401
	// https://mcp.example.com/.well-known/oauth-protected-resource/mcp
}

// loginOnce is an Authorizer that "logs in" when the server asks for
// credentials: a real one (client/oauthclient) runs OAuth 2.1 with PKCE,
// starting from the challenge's resource_metadata.
type loginOnce struct{ token string }

func (a *loginOnce) Authorize(_ context.Context, req *http.Request) error {
	if a.token != "" {
		req.Header.Set("Authorization", "Bearer "+a.token)
	}
	return nil
}

func (a *loginOnce) Challenge(_ context.Context, resp *http.Response) error {
	p := client.BearerParams(resp.Header.Get("WWW-Authenticate"))
	fmt.Println("challenge:", resp.StatusCode, p["resource_metadata"])
	if a.token != "" {
		return errors.New("the new token was refused too")
	}
	a.token = "good"
	return nil // credentials changed: retry the request
}

func ExampleAuthorizer() {
	url, stop := exampleServer(oauthServer)
	defer stop()
	ctx := context.Background()

	c, err := client.Connect(ctx, client.Options{URL: url, Auth: &loginOnce{}})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close(ctx)
	res, err := c.CallTool(ctx, "greet", map[string]string{"name": "Ada"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Content[0].Text)
	// Output:
	// challenge: 401 https://mcp.example.com/.well-known/oauth-protected-resource/mcp
	// Hello, Ada!
}

func ExampleBearerParams() {
	p := client.BearerParams(`Bearer error="insufficient_scope", scope="mcp:tools mcp:resources", ` +
		`Resource_Metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp"`)
	fmt.Println(p["error"])
	fmt.Println(p["scope"])
	fmt.Println(p["resource_metadata"])
	fmt.Println(len(client.BearerParams(`Basic realm="x"`)))
	// Output:
	// insufficient_scope
	// mcp:tools mcp:resources
	// https://mcp.example.com/.well-known/oauth-protected-resource/mcp
	// 0
}

func ExampleClient_ReadResource() {
	url, stop := exampleServer(nil)
	defer stop()
	ctx := context.Background()
	c, err := client.Connect(ctx, client.Options{URL: url})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close(ctx)

	resources, err := c.ListResources(ctx)
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range resources {
		res, err := c.ReadResource(ctx, r.URI)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(r.Name, res.Contents[0].MIMEType, res.Contents[0].Text)
	}
	// Output:
	// greeting-resource text/plain Hello, world!
}
