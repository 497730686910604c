package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"

	"mcplambda/bedrock"
	"mcplambda/bedrock/sample"
	"mcplambda/server"
)

// registerBedrock adds the usage report, reading from BEDROCK_LOG_SOURCE
// (cloudwatch by default; make run-local uses the embedded sample).
func registerBedrock(srv *server.Server, getenv func(string) string) error {
	get := func(k string) string { return strings.TrimSpace(getenv(k)) }
	region := get("AWS_REGION")
	if region == "" {
		region = get("AWS_DEFAULT_REGION")
	}
	role := get("BEDROCK_CROSS_ACCOUNT_ROLE")
	if role == "" {
		role = bedrock.DefaultCrossAccountRole
	}
	concurrency, err := envInt(get, "BEDROCK_INSIGHTS_CONCURRENCY", 1, 100,
		"queries one report runs at once (the account's Logs Insights limit is per region, shared)")
	if err != nil {
		return err
	}
	maxPages, err := envInt(get, "BEDROCK_FILTER_MAX_PAGES", -1, 1000,
		"FilterLogEvents pages the cloudwatch source reads before it asks Logs Insights; -1 = always Logs Insights")
	if err != nil {
		return err
	}
	return bedrock.RegisterTool(srv, bedrock.ToolConfig{
		Source:         strings.ToLower(get("BEDROCK_LOG_SOURCE")),
		Insights:       bedrock.InsightsSource{MaxConcurrent: concurrency},
		FilterMaxPages: maxPages,
		Path:           get("BEDROCK_LOG_PATH"),
		S3URI:          get("BEDROCK_S3_URI"),
		S3PathStyle:    strings.EqualFold(get("BEDROCK_S3_PATH_STYLE"), "true"),
		Sample:         sample.Source(),
		SampleEnd:      sample.End,
		DefaultRegion:  region,
		LoadAWSConfig: func(ctx context.Context, region string) (aws.Config, error) {
			return config.LoadDefaultConfig(ctx, config.WithRegion(region))
		},
		CrossAccount: func(ctx context.Context, base aws.Config, account string) (aws.Config, error) {
			return bedrock.CrossAccountConfig(ctx, base, account, role)
		},
	})
}

// envInt reads an optional integer setting in [lo, hi]; unset gives 0
// (the package default).
func envInt(get func(string) string, name string, lo, hi int, what string) (int, error) {
	v := get(name)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi || n == 0 {
		return 0, fmt.Errorf("%s=%q: want a whole number from %d to %d, not 0 (%s)", name, v, lo, hi, what)
	}
	return n, nil
}
