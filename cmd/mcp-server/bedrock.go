package main

import (
	"context"
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
	return bedrock.RegisterTool(srv, bedrock.ToolConfig{
		Source:        strings.ToLower(get("BEDROCK_LOG_SOURCE")),
		Path:          get("BEDROCK_LOG_PATH"),
		S3URI:         get("BEDROCK_S3_URI"),
		S3PathStyle:   strings.EqualFold(get("BEDROCK_S3_PATH_STYLE"), "true"),
		Sample:        sample.Source(),
		SampleEnd:     sample.End,
		DefaultRegion: region,
		LoadAWSConfig: func(ctx context.Context, region string) (aws.Config, error) {
			return config.LoadDefaultConfig(ctx, config.WithRegion(region))
		},
		CrossAccount: func(ctx context.Context, base aws.Config, account string) (aws.Config, error) {
			return bedrock.CrossAccountConfig(ctx, base, account, role)
		},
	})
}
