package oauth

// ErrorKind classifies a verification failure the way a resource server has
// to report it (RFC 6750 section 3.1).
type ErrorKind int

const (
	// ErrInvalidToken: the token is malformed, expired, badly signed or
	// otherwise not acceptable. HTTP 401 with error="invalid_token".
	ErrInvalidToken ErrorKind = iota + 1
	// ErrInsufficientScope: the token is valid but lacks a required scope.
	// HTTP 403 with error="insufficient_scope".
	ErrInsufficientScope
	// ErrUnavailable: the token could not be checked because the
	// authorization server's keys could not be obtained. HTTP 503.
	ErrUnavailable
)

// String returns the RFC 6750 error code for the kind ("invalid_token",
// "insufficient_scope"); ErrUnavailable has no RFC 6750 code and yields
// "temporarily_unavailable".
func (k ErrorKind) String() string {
	switch k {
	case ErrInvalidToken:
		return "invalid_token"
	case ErrInsufficientScope:
		return "insufficient_scope"
	case ErrUnavailable:
		return "temporarily_unavailable"
	default:
		return "unknown"
	}
}

// The fixed vocabulary of Error.Description. A description never contains
// any part of the token, so it is safe to show to clients (for example in
// the error_description of a WWW-Authenticate header).
const (
	DescMalformed          = "the token is malformed"
	DescExpired            = "the token has expired"
	DescMissingExpiry      = "the token has no expiration time"
	DescNotYetValid        = "the token is not yet valid"
	DescIssuedInFuture     = "the token was issued in the future"
	DescBadSignature       = "the token signature is invalid"
	DescUnknownKey         = "the token's signing key is unknown"
	DescBadIssuer          = "the token's issuer is not accepted"
	DescBadAudience        = "the token's audience does not include this resource"
	DescBadClient          = "the token's client is not allowed"
	DescNotAccessToken     = "the token is not an access token"
	DescBadAlgorithm       = "the token uses an algorithm that is not accepted"
	DescTooLarge           = "the token is too large"
	DescInsufficientScope  = "the token lacks the required scope"
	DescKeysUnavailable    = "the authorization server's keys are unavailable"
	DescVerificationFailed = "the token could not be verified"
)

// Error is the only error type Verify returns.
type Error struct {
	Kind ErrorKind
	// Description is one of the Desc* constants; it never contains token
	// content.
	Description string
	// MissingScopes lists, for ErrInsufficientScope, every required scope
	// the token lacks.
	MissingScopes []string
	// Err is the underlying cause, for server logs only: it may carry
	// details that must not be shown to clients.
	Err error
}

// Error returns the description, followed by the cause when there is one.
func (e *Error) Error() string {
	if e.Err != nil {
		return "oauth: " + e.Description + ": " + e.Err.Error()
	}
	return "oauth: " + e.Description
}

// Unwrap returns the underlying cause.
func (e *Error) Unwrap() error { return e.Err }

func invalid(desc string, cause error) *Error {
	return &Error{Kind: ErrInvalidToken, Description: desc, Err: cause}
}
