package main

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"mcplambda/internal/reqstate"
	"mcplambda/server/dynamostore"
)

// dynamoStore opens the DynamoDB session table, checking at start that it
// exists with the right key, so a wrong SESSION_TABLE fails the start and
// not the first request.
func dynamoStore(ctx context.Context, table string, ttl time.Duration) (*dynamostore.Store, error) {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	awsCfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("SESSION_TABLE=%s: loading the AWS configuration: %w", table, err)
	}
	st, err := dynamostore.New(ctx, dynamodb.NewFromConfig(awsCfg), table, ttl)
	if err != nil {
		return nil, fmt.Errorf("SESSION_TABLE=%s: %w", table, err)
	}
	return st, nil
}

// requestStateSealer reads REQUEST_STATE_KEY, the secret that seals the
// requestState of multi-round-trip requests. Every instance must share it,
// so on Lambda it is required; locally a random key is generated (and
// outstanding requestStates die with the process, which is harmless there).
func requestStateSealer(getenv func(string) string, onLambda bool, log *slog.Logger) (*reqstate.Sealer, error) {
	s := strings.TrimSpace(getenv(reqstate.KeySetting))
	if s == "" {
		if onLambda {
			return nil, fmt.Errorf("%s is not set: every Lambda instance must seal and open multi-round-trip requestState with the same secret; make deploy generates one (or set it to the output of: openssl rand -base64 32)", reqstate.KeySetting)
		}
		log.Info(reqstate.KeySetting + " is not set: sealing requestState with a random key generated for this process")
		return reqstate.MustRandomSealer(), nil
	}
	key, err := reqstate.ParseKey(s)
	if err != nil {
		return nil, err
	}
	return reqstate.NewSealer(key, 0)
}
