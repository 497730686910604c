package bedrock

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/aws/smithy-go"
)

// awsError is an AWS failure told twice. Error() is what a client may
// read: what failed and what to check. The SDK's own error stays in cause,
// for errors.Is/As and the server log only: its text can name the
// server's role, account and session ("User: arn:aws:sts::ACCOUNT:
// assumed-role/... is not authorized"), which is no business of a client.
type awsError struct {
	kind  error // ErrAccessDenied, ErrNoCredentials, ...; nil when none fits
	msg   string
	cause error
}

// awsFail builds an awsError whose message is kind's text, then the
// formatted explanation.
func awsFail(kind, cause error, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if kind != nil {
		msg = kind.Error() + ": " + msg
	}
	return &awsError{kind: kind, msg: msg, cause: cause}
}

func (e *awsError) Error() string { return e.msg }

func (e *awsError) Unwrap() []error {
	if e.kind == nil {
		return []error{e.cause}
	}
	return []error{e.kind, e.cause}
}

// errorCode is the AWS error code in err's chain, for messages: codes are
// names of error kinds, safe to show where the message text is not.
func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// clientError is the error a report hands the client: public text, with
// the full error kept for errors.Is/As in tests.
type clientError struct {
	msg string
	err error
}

func (e *clientError) Error() string { return e.msg }
func (e *clientError) Unwrap() error { return e.err }

// publicError turns a report's failure into what the client sees, and logs
// the details. Our own messages (bad arguments, an account not allowed)
// and awsError messages pass as they are; anything else that carries an
// AWS service's text is replaced by a generic message that still says what
// to check. The log gets everything: the operator needs the AWS text to
// fix a policy.
func publicError(ctx context.Context, log *slog.Logger, err error, a toolArgs) error {
	msg := err.Error()
	var ae *awsError
	var api smithy.APIError
	var op *smithy.OperationError
	leaks := errors.As(err, &api) && api.ErrorMessage() != "" && strings.Contains(msg, api.ErrorMessage())
	switch {
	case leaks:
		msg = genericAWSMessage(err)
	case errors.As(err, &ae):
	case errors.As(err, &op) || api != nil:
		msg = genericAWSMessage(err)
	}
	if ae != nil || api != nil || op != nil {
		detail := err.Error()
		if ae != nil && ae.cause != nil {
			detail += ": " + ae.cause.Error()
		}
		log.WarnContext(ctx, "bedrock usage report failed",
			"error", detail, "region", a.Region, "log_group", a.LogGroupName, "aws_account_id", a.AccountID)
	}
	return &clientError{msg: msg, err: err}
}

func genericAWSMessage(err error) string {
	code := errorCode(err)
	if code != "" {
		code = " (" + code + ")"
	}
	switch {
	case errors.Is(err, ErrAccessDenied):
		return "access denied by AWS" + code + ": check the IAM permissions of the server's role (and, for another account, the reader role and its trust policy); the details are in the server log"
	case errors.Is(err, ErrNoCredentials):
		return "the server has no usable AWS credentials" + code + ": check its role or credential configuration; the details are in the server log"
	}
	return "an AWS request failed" + code + "; the details are in the server log"
}
