package oauth

import (
	"errors"
	"io"
	"testing"
)

func TestErrorFormatting(t *testing.T) {
	e := &Error{Kind: ErrInvalidToken, Description: DescExpired}
	if e.Error() != "oauth: the token has expired" {
		t.Errorf("Error() = %q", e.Error())
	}
	e.Err = io.ErrUnexpectedEOF
	if e.Error() != "oauth: the token has expired: unexpected EOF" {
		t.Errorf("Error() = %q", e.Error())
	}
	if !errors.Is(e, io.ErrUnexpectedEOF) {
		t.Error("Unwrap")
	}
	var target *Error
	if !errors.As(error(e), &target) || target != e {
		t.Error("As")
	}
}

func TestErrorKindString(t *testing.T) {
	for k, want := range map[ErrorKind]string{
		ErrInvalidToken: "invalid_token", ErrInsufficientScope: "insufficient_scope",
		ErrUnavailable: "temporarily_unavailable", 0: "unknown",
	} {
		if got := k.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", int(k), got, want)
		}
	}
}
