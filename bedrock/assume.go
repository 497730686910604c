package bedrock

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

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

// ErrAccountNotAllowed: the report was asked for an account that is not on
// the server's allow-list.
var ErrAccountNotAllowed = errors.New("account not allowed")

// CrossAccount reads other accounts' Bedrock logs through STS AssumeRole,
// for the accounts an operator allowed and no others: any authenticated
// user may call the tool, so the set of readable accounts is the server's
// choice, never the caller's. Its Config method is a ToolConfig.CrossAccount.
type CrossAccount struct {
	// Allowed are the 12-digit account ids that may be read (see
	// ParseAccountIDs). The server's own account is always readable, with
	// its own credentials.
	Allowed []string
	// Role is the role name (or ARN) assumed in the account; default
	// DefaultCrossAccountRole.
	Role string
	// ExternalID is sent with AssumeRole; the reader role's trust policy
	// requires it (sts:ExternalId), so a role ARN alone is not enough to
	// make this server read an account on someone else's behalf.
	ExternalID string

	mu  sync.Mutex
	own string // the server's own account, once asked
}

// Config returns a config for reading Bedrock logs in account accountID
// (a ToolConfig.CrossAccount). The server's own account gets base
// unchanged. An account not on the allow-list is refused before any role
// is assumed; recognising the server's own account then takes one
// sts:GetCallerIdentity, whose answer is kept. Otherwise the result's
// credentials assume the reader role with base, and the role is tried once
// now, so a missing trust or permission surfaces here as ErrAccessDenied.
func (c *CrossAccount) Config(ctx context.Context, base aws.Config, accountID string) (aws.Config, error) {
	accountID = strings.TrimSpace(accountID)
	if !isAccountID(accountID) {
		return aws.Config{}, fmt.Errorf("aws_account_id must be 12 digits, got %q", accountID)
	}
	if !slices.Contains(c.Allowed, accountID) {
		own, err := c.ownAccount(ctx, base)
		if err != nil {
			return aws.Config{}, err
		}
		if own == accountID {
			return base, nil
		}
		return aws.Config{}, fmt.Errorf("%w: this server may not read account %s; to allow it, an operator adds it to BEDROCK_ALLOWED_ACCOUNTS (and redeploys, which lets the server's role assume %s there) and creates that role in the account with the trust policy in docs/deployment.md",
			ErrAccountNotAllowed, accountID, c.roleName())
	}
	return crossAccountConfig(ctx, base, accountID, c.roleName(), c.ExternalID)
}

func (c *CrossAccount) roleName() string {
	if r := strings.TrimSpace(c.Role); r != "" {
		return r
	}
	return DefaultCrossAccountRole
}

// ownAccount is the account of base's credentials, asked once: the
// server's credentials do not change accounts while it runs.
func (c *CrossAccount) ownAccount(ctx context.Context, base aws.Config) (string, error) {
	c.mu.Lock()
	own := c.own
	c.mu.Unlock()
	if own != "" {
		return own, nil
	}
	id, err := sts.NewFromConfig(base).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return "", translateSTS(ctx, err, "sts:GetCallerIdentity", "the current credentials")
	}
	own = aws.ToString(id.Account)
	c.mu.Lock()
	c.own = own
	c.mu.Unlock()
	return own, nil
}

// ParseAccountIDs reads a list of 12-digit account ids separated by commas
// or spaces (BEDROCK_ALLOWED_ACCOUNTS). A wildcard is refused: the list is
// the point.
func ParseAccountIDs(s string) ([]string, error) {
	var ids []string
	for i, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' }) {
		if !isAccountID(f) {
			return nil, fmt.Errorf("entry %d (%q) is not a 12-digit AWS account id: list the accounts one by one, for example 111122223333,444455556666", i+1, f)
		}
		if !slices.Contains(ids, f) {
			ids = append(ids, f)
		}
	}
	return ids, nil
}

// ValidExternalID reports whether s is an ExternalId STS accepts: 2 to
// 1224 characters of letters, digits and +=,.@:/-_ .
func ValidExternalID(s string) bool {
	if len(s) < 2 || len(s) > 1224 {
		return false
	}
	for i := 0; i < len(s); i++ {
		b := s[i]
		if !(b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || strings.IndexByte("+=,.@:/-_", b) >= 0) {
			return false
		}
	}
	return true
}

// crossAccountConfig assumes roleName in accountID, whatever the account:
// the allow-list is the caller's to check.
func crossAccountConfig(ctx context.Context, base aws.Config, accountID, roleName, externalID string) (aws.Config, error) {
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
	if strings.HasPrefix(roleName, "arn:") {
		// A full ARN names its account: it must be the one asked for.
		if parts := strings.SplitN(roleName, ":", 6); len(parts) != 6 || parts[4] != accountID {
			return aws.Config{}, fmt.Errorf("the cross-account role %s is not in account %s: set BEDROCK_CROSS_ACCOUNT_ROLE to a role name", roleName, accountID)
		}
	} else {
		roleARN = fmt.Sprintf("arn:%s:iam::%s:role/%s", partition, accountID, strings.TrimPrefix(roleName, "/"))
	}

	cfg := base.Copy()
	cfg.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(sts.NewFromConfig(base), roleARN,
		func(o *stscreds.AssumeRoleOptions) {
			o.RoleSessionName = CrossAccountSessionName
			if externalID != "" {
				o.ExternalID = aws.String(externalID)
			}
		}))

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
				return awsFail(ErrAccessDenied, err, "could not assume role %s: check that the server's role may call \"sts:AssumeRole\" on it, and that the role's trust policy allows the server's role (with the external ID, when BEDROCK_EXTERNAL_ID is set)",
					target)
			}
			return awsFail(ErrAccessDenied, err, "%s for %s was denied", perm, target)
		case "ExpiredToken", "ExpiredTokenException", "InvalidClientTokenId", "MissingAuthenticationToken", "SignatureDoesNotMatch":
			return awsFail(ErrNoCredentials, err, "the AWS credentials are missing, invalid or expired (refresh them, e.g. `aws sso login`)")
		}
		return awsFail(nil, err, "sts: %s for %s failed (%s); the details are in the server log", perm, target, ae.ErrorCode())
	}
	if perm != "sts:AssumeRole" && isCredentialError(err) {
		return awsFail(ErrNoCredentials, err, "could not get AWS credentials (configure a profile, environment variables or a role)")
	}
	return fmt.Errorf("sts: %s for %s: %w", perm, target, err)
}
