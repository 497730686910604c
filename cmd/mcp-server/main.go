// Command mcp-server serves MCP over Streamable HTTP on HOST:PORT (default
// 127.0.0.1:3000, endpoint /mcp). See the README's configuration table.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
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
	if m := strings.ToLower(strings.TrimSpace(os.Getenv("AUTH_METHOD"))); m != "" && m != "none" {
		return fmt.Errorf("AUTH_METHOD=%q: this build serves without authentication only (AUTH_METHOD=none)", m)
	}
	if host := strings.Trim(cfg.Host, "[]"); host != "localhost" && !isLoopback(host) {
		log.Warn("serving without authentication on a non-loopback address: anyone who can reach it can use it", "host", cfg.Host)
	}
	srv := server.New(server.Options{
		Info:         mcp.Implementation{Name: "mcp-lambda-go", Title: "Bedrock usage MCP server", Version: version},
		Instructions: instructions,
	})
	if err := greetings.Register(srv, greetings.Options{}); err != nil {
		return err
	}
	h := server.NewHandler(srv, cfg, server.HandlerOptions{Logger: log})
	defer h.Close()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	return server.Serve(ctx, cfg, server.NewMux(cfg, h), h, log, nil)
}

func isLoopback(host string) bool {
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
