package client_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"log/slog"
	"net/http/httptest"

	"mcplambda/client"
	"mcplambda/greetings"
	"mcplambda/mcp"
	"mcplambda/server"
)

func Example() {
	// A local server to talk to.
	srv := server.New(server.Options{})
	if err := greetings.Register(srv, greetings.Options{Interval: 1}); err != nil {
		log.Fatal(err)
	}
	cfg := server.DefaultConfig()
	cfg.LogRequests = false
	h := server.NewHandler(srv, cfg, server.HandlerOptions{Logger: slog.New(slog.DiscardHandler)})
	ts := httptest.NewServer(server.NewMux(cfg, h))
	defer func() { ts.Close(); h.Close() }()

	ctx := context.Background()
	c, err := client.Connect(ctx, client.Options{
		URL:        ts.URL + "/mcp",
		ClientInfo: mcp.Implementation{Name: "example", Version: "1.0.0"},
		OnNotification: func(method string, params json.RawMessage) {
			if method == mcp.NotificationMessage {
				var p mcp.LoggingMessageParams
				_ = json.Unmarshal(params, &p)
				fmt.Println("log:", p.Data)
			}
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close(ctx)
	// Ask for log messages: logging/setLevel in the session era, the
	// logLevel of later requests in the stateless era.
	if err := c.SetLogLevel(ctx, mcp.LevelDebug); err != nil {
		log.Fatal(err)
	}

	res, err := c.CallTool(ctx, "multi-greet", map[string]string{"name": "Ada"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Content[0].Text)
	// Output:
	// log: Starting multi-greet for Ada
	// log: Sending first greeting to Ada
	// log: Sending second greeting to Ada
	// Good morning, Ada!
}
