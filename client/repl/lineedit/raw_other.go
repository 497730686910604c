//go:build !(linux || darwin || freebsd || netbsd || dragonfly)

package lineedit

// MakeRaw reports ErrUnsupported on this system.
func MakeRaw(fd uintptr) (restore func() error, err error) { return nil, ErrUnsupported }

// Width is 0 (unknown) on this system.
func Width(fd uintptr) int { return 0 }
