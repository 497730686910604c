// Command mcp-authorizer is the API Gateway Lambda authorizer of the MCP
// server: see package mcplambda/authorizer.
package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"mcplambda/authorizer"
)

func main() {
	// Configuration errors end the cold start: Lambda reports the init
	// failure and API Gateway answers 500, rather than serving a guess.
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	cfg, err := authorizer.ConfigFromEnv(ctx, os.Getenv)
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, "mcp-authorizer: configuration:", err)
		os.Exit(1)
	}
	a, err := authorizer.New(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "mcp-authorizer:", err)
		os.Exit(1)
	}
	lambda.Start(a.Handle)
}
