package bedrock

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
)

// DefaultCrossAccountRole is the role assumed in another account when none
// is configured (BEDROCK_CROSS_ACCOUNT_ROLE overrides it).
const DefaultCrossAccountRole = "BedrockUsageReader"

// CrossAccountSessionName is the RoleSessionName of the assumed role.
const CrossAccountSessionName = "mcp-bedrock-usage"

// CrossAccountConfig returns a config for reading Bedrock logs in account
// accountID. If the base credentials already belong to that account, base
// is returned unchanged. Otherwise the result's credentials assume
// arn:PARTITION:iam::ACCOUNT:role/ROLE (roleName, default
// DefaultCrossAccountRole) with base, and the role is tried once now, so a
// missing trust or permission surfaces here as ErrAccessDenied.
func CrossAccountConfig(ctx context.Context, base aws.Config, accountID, roleName string) (aws.Config, error) {
	accountID = strings.TrimSpace(accountID)
	if !isAccountID(accountID) {
		return aws.Config{}, fmt.Errorf("aws_account_id must be 12 digits, got %q", accountID)
	}
	roleName = strings.TrimSpace(roleName)
	if roleName == "" {
		roleName = DefaultCrossAccountRole
	}

	id, err := sts.NewFromConfig(base).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return aws.Config{}, translateSTS(ctx, err, "sts:GetCallerIdentity", "the current credentials")
	}
	if aws.ToString(id.Account) == accountID {
		return base, nil
	}

	partition := "aws"
	if parts := strings.SplitN(aws.ToString(id.Arn), ":", 3); len(parts) == 3 && parts[0] == "arn" && parts[1] != "" {
		partition = parts[1]
	}
	roleARN := roleName
	if !strings.HasPrefix(roleName, "arn:") {
		roleARN = fmt.Sprintf("arn:%s:iam::%s:role/%s", partition, accountID, strings.TrimPrefix(roleName, "/"))
	}

	cfg := base.Copy()
	cfg.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(sts.NewFromConfig(base), roleARN,
		func(o *stscreds.AssumeRoleOptions) { o.RoleSessionName = CrossAccountSessionName }))

	if _, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
		return aws.Config{}, translateSTS(ctx, err, "sts:AssumeRole", roleARN)
	}
	return cfg, nil
}

func isAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func translateSTS(ctx context.Context, err error, perm, target string) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return ctxErr
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "AccessDenied", "AccessDeniedException":
			if perm == "sts:AssumeRole" {
				return fmt.Errorf("%w: could not assume role %s; the caller needs the IAM permission \"sts:AssumeRole\" on %s and the role's trust policy must allow the caller: %w",
					ErrAccessDenied, target, target, err)
			}
			return fmt.Errorf("%w: %s for %s was denied: %w", ErrAccessDenied, perm, target, err)
		case "ExpiredToken", "ExpiredTokenException", "InvalidClientTokenId", "MissingAuthenticationToken", "SignatureDoesNotMatch":
			return fmt.Errorf("%w: the AWS credentials are missing, invalid or expired (refresh them, e.g. `aws sso login`): %w",
				ErrNoCredentials, err)
		}
		return fmt.Errorf("sts: %s for %s: %w", perm, target, err)
	}
	if perm != "sts:AssumeRole" && isCredentialError(err) {
		return fmt.Errorf("%w: could not get AWS credentials (configure a profile, environment variables or a role): %w",
			ErrNoCredentials, err)
	}
	return fmt.Errorf("sts: %s for %s: %w", perm, target, err)
}
