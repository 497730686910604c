// Command mcp-server serves MCP over Streamable HTTP on HOST:PORT (default
// 127.0.0.1:3000, endpoint /mcp), or, inside AWS Lambda
// (AWS_LAMBDA_RUNTIME_API set), as a function behind an API Gateway REST
// API with a streaming integration. docs/configuration.md lists its settings.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"mcplambda/greetings"
	"mcplambda/internal/authconfig"
	"mcplambda/internal/logbuf"
	"mcplambda/lambdahttp"
	"mcplambda/mcp"
	"mcplambda/server"
	"mcplambda/server/dynamostore"
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
	// On Lambda every invocation flushes (see flushAfter).
	logOut := logbuf.New(os.Stderr, 32<<10, 200*time.Millisecond)
	defer logOut.Close()
	log := slog.New(slog.NewJSONHandler(logOut, &slog.HandlerOptions{Level: cfg.LogLevel}))
	auth, err := authconfig.ServerFromEnv(os.Getenv, server.AuthSite(cfg))
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
	if err := registerBedrock(srv, os.Getenv, log); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	opts := server.HandlerOptions{Logger: log}
	discovery, err := authenticate(ctx, &opts, auth, cfg, log)
	if err != nil {
		return err
	}
	if opts.RequestState, err = requestStateSealer(os.Getenv, cfg.Lambda, log); err != nil {
		return err
	}
	if table := strings.TrimSpace(os.Getenv("SESSION_TABLE")); table != "" {
		store, err := dynamoStore(ctx, table, cfg.SessionTTL)
		if err != nil {
			return err
		}
		opts.Store, opts.StateLedger = store, dynamostore.LedgerOf(store)
		log.Info("sessions and used requestStates in DynamoDB", "table", table)
	} else if cfg.Lambda {
		log.Warn("SESSION_TABLE is not set: sessions live in this instance's memory and are lost when a request lands on another instance, and a multi-round-trip requestState is single-use per instance only")
	}
	h := server.NewHandler(srv, cfg, opts)
	defer h.Close()
	mux := server.NewMux(cfg, h)
	if discovery != nil {
		if err := discovery.Register(mux); err != nil {
			return err
		}
	}
	if cfg.Lambda {
		// The adapter's bound is Lambda's payload cap; the handler answers
		// MAX_BODY_BYTES itself, with a JSON-RPC error.
		lopts := lambdahttp.Options{MaxBodyBytes: max(cfg.MaxBodyBytes+1, lambdahttp.DefaultMaxBodyBytes), Logger: log}
		if auth.Method == authconfig.Lambda {
			// Only this mode trusts the authorizer's context: in oauth mode
			// the API has no authorizer and the server verifies every token.
			lopts.WithAuthorizer = server.WithAPIGatewayAuthorizer
		}
		log.Info("serving on AWS Lambda", "path", cfg.Path, "auth", auth.Method, "resource", auth.ResourceURL)
		lambda.StartWithOptions(lambdahttp.Handler(flushAfter(mux, logOut), lopts), lambda.WithContext(ctx))
		return nil
	}
	return server.Serve(ctx, cfg, mux, h, log, nil)
}

// authenticate sets opts.Auth for the configured AUTH_METHOD and returns
// the discovery documents to serve (nil when there are none).
func authenticate(ctx context.Context, opts *server.HandlerOptions, auth authconfig.Server, cfg server.Config, log *slog.Logger) (*server.Discovery, error) {
	if auth.Method == authconfig.None {
		return nil, nil
	}
	var discovery *server.Discovery
	var either server.EitherAuth
	issuer := ""
	if auth.Issuer != nil {
		verifier, err := auth.Issuer.NewVerifier(ctx, nil)
		if err != nil {
			return nil, err
		}
		if discovery, err = server.NewDiscovery(auth, cfg, "Bedrock usage MCP server"); err != nil {
			return nil, err
		}
		either.JWT = &server.BearerAuth{Verifier: verifier, ResourceMetadataURL: discovery.ResourceMetadataURL(), Scopes: auth.RequiredScopes, Log: log}
		issuer = auth.Issuer.Verifier.Issuer
	}
	keys := 0
	if auth.APIKeys != nil {
		either.Keys = server.NewAPIKeyAuth(auth.APIKeys)
		keys = auth.APIKeys.Len()
	}
	var a server.Authenticator = either
	if either.Keys == nil {
		a = either.JWT
	}
	if auth.Method == authconfig.Lambda {
		// Behind API Gateway the authorizer's principal; anywhere else the same verification.
		a = server.UpstreamAuth{Fallback: a}
	}
	opts.Auth = a
	clients := 0
	if auth.Issuer != nil {
		clients = len(auth.Issuer.Verifier.ClientIDs)
	}
	log.Info("authentication on", "method", auth.Method, "issuer", issuer, "resource", auth.ResourceURL,
		"allowed_clients", clients, "api_keys", keys, "required_scopes", strings.Join(auth.RequiredScopes, " "))
	return discovery, nil
}

// flushAfter writes out the buffered logs when each request ends: Lambda
// may freeze the environment between invocations, and a log line that
// waits for the next one is late or lost.
func flushAfter(h http.Handler, out *logbuf.Writer) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() { _ = out.Flush() }()
		h.ServeHTTP(w, r)
	})
}
