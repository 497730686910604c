// Command mcp-server serves MCP over Streamable HTTP on HOST:PORT (default
// 127.0.0.1:3000, endpoint /mcp). See the README's configuration table.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"mcplambda/greetings"
	"mcplambda/internal/logbuf"
	"mcplambda/mcp"
	"mcplambda/server"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

const instructions = "This server analyses Amazon Bedrock usage for a team: use get_bedrock_usage_report " +
	"for token and request totals by day, region, model and user. The greet and multi-greet tools, " +
	"the greeting-template prompt and greeting-resource demonstrate the protocol (multi-greet streams log notifications)."

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "mcp-server:", err)
		os.Exit(1)
	}
}

func run() error {
	cfg, err := server.ConfigFromEnv(os.Getenv)
	if err != nil {
		return err
	}
	// Buffered: one write per request line would cost more than the request.
	logOut := logbuf.New(os.Stderr, 32<<10, 200*time.Millisecond)
	defer logOut.Close()
	log := slog.New(slog.NewJSONHandler(logOut, &slog.HandlerOptions{Level: cfg.LogLevel}))
	auth, err := server.AuthConfigFromEnv(os.Getenv, cfg)
	if err != nil {
		return err
	}
	srv := server.New(server.Options{
		Info:         mcp.Implementation{Name: "mcp-lambda-go", Title: "Bedrock usage MCP server", Version: version},
		Instructions: instructions,
	})
	if err := greetings.Register(srv, greetings.Options{}); err != nil {
		return err
	}
	if err := registerBedrock(srv, os.Getenv); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	opts := server.HandlerOptions{Logger: log}
	var discovery *server.Discovery
	if auth.Method != server.AuthNone {
		verifier, err := auth.NewVerifier(ctx, nil)
		if err != nil {
			return err
		}
		if discovery, err = auth.Discovery(cfg, "Bedrock usage MCP server"); err != nil {
			return err
		}
		bearer := &server.BearerAuth{Verifier: verifier, ResourceMetadataURL: discovery.ResourceMetadataURL(), Scopes: auth.RequiredScopes, Log: log}
		opts.Auth = bearer
		if auth.Method == server.AuthLambda {
			// Behind API Gateway the authorizer's principal; anywhere else the same verification.
			opts.Auth = server.UpstreamAuth{Fallback: bearer}
		}
		log.Info("authentication on", "method", auth.Method, "issuer", auth.Verifier.Issuer, "resource", auth.ResourceURL,
			"allowed_clients", len(auth.Verifier.ClientIDs), "required_scopes", strings.Join(auth.RequiredScopes, " "))
	}
	h := server.NewHandler(srv, cfg, opts)
	defer h.Close()
	mux := server.NewMux(cfg, h)
	if discovery != nil {
		if err := discovery.Register(mux); err != nil {
			return err
		}
	}
	return server.Serve(ctx, cfg, mux, h, log, nil)
}
