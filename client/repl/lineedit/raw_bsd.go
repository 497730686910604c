//go:build darwin || freebsd || netbsd || dragonfly

package lineedit

import "syscall"

const (
	ioctlGetTermios = syscall.TIOCGETA
	ioctlSetTermios = syscall.TIOCSETA
)
