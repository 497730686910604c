package main

import (
	"context"
	"fmt"
	"log/slog"
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
func registerBedrock(srv *server.Server, getenv func(string) string, log *slog.Logger) error {
	get := func(k string) string { return strings.TrimSpace(getenv(k)) }
	region := get("AWS_REGION")
	if region == "" {
		region = get("AWS_DEFAULT_REGION")
	}
	cross, err := crossAccountFromEnv(get)
	if err != nil {
		return err
	}
	if len(cross.Allowed) > 0 && cross.ExternalID == "" {
		log.Warn("BEDROCK_ALLOWED_ACCOUNTS is set without BEDROCK_EXTERNAL_ID: the reader roles' trust policies cannot require an external ID (see docs/deployment.md)")
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
		CrossAccount:      cross.Config,
		CrossAccountScope: get("BEDROCK_CROSS_ACCOUNT_SCOPE"),
		Logger:            log,
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

// crossAccountFromEnv reads which other accounts the report may read
// (BEDROCK_ALLOWED_ACCOUNTS; none when unset) and how (the role and the
// ExternalId sent when assuming it).
func crossAccountFromEnv(get func(string) string) (*bedrock.CrossAccount, error) {
	allowed, err := bedrock.ParseAccountIDs(get("BEDROCK_ALLOWED_ACCOUNTS"))
	if err != nil {
		return nil, fmt.Errorf("BEDROCK_ALLOWED_ACCOUNTS: %w", err)
	}
	ext := get("BEDROCK_EXTERNAL_ID")
	if ext != "" && !bedrock.ValidExternalID(ext) {
		// The value is not echoed: it is the shared half of the trust.
		return nil, fmt.Errorf("BEDROCK_EXTERNAL_ID must be 2 to 1224 characters of letters, digits and +=,.@:/-_ (got %d characters)", len(ext))
	}
	role := get("BEDROCK_CROSS_ACCOUNT_ROLE")
	if role == "" {
		role = bedrock.DefaultCrossAccountRole
	}
	return &bedrock.CrossAccount{Allowed: allowed, Role: role, ExternalID: ext}, nil
}
