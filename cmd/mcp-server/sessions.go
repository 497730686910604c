package main

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

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
