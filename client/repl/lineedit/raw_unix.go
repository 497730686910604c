//go:build linux || darwin || freebsd || netbsd || dragonfly

package lineedit

import (
	"syscall"
	"unsafe"
)

// MakeRaw puts the terminal on fd in the mode the Editor needs and returns
// the function that restores the mode it had. Off: canonical input (keys
// come one by one, not a line at a time), echo (the Editor draws), and
// IEXTEN (so Ctrl-V and Ctrl-O reach the Editor). Kept: ISIG, so Ctrl-C
// and Ctrl-Z stay signals the program handles as it always did, and
// output processing (OPOST), so "\n" still starts a new line for
// everything else the program writes.
func MakeRaw(fd uintptr) (restore func() error, err error) {
	var old syscall.Termios
	if err := ioctl(fd, ioctlGetTermios, unsafe.Pointer(&old)); err != nil {
		return nil, err
	}
	raw := old
	raw.Lflag &^= syscall.ICANON | syscall.ECHO | syscall.IEXTEN
	raw.Cc[syscall.VMIN] = 1
	raw.Cc[syscall.VTIME] = 0
	if err := ioctl(fd, ioctlSetTermios, unsafe.Pointer(&raw)); err != nil {
		return nil, err
	}
	return func() error { return ioctl(fd, ioctlSetTermios, unsafe.Pointer(&old)) }, nil
}

// Width is the number of columns of the terminal on fd; 0 if unknown.
func Width(fd uintptr) int {
	var ws struct{ row, col, xpixel, ypixel uint16 }
	if err := ioctl(fd, syscall.TIOCGWINSZ, unsafe.Pointer(&ws)); err != nil {
		return 0
	}
	return int(ws.col)
}

func ioctl(fd, req uintptr, arg unsafe.Pointer) error {
	if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, fd, req, uintptr(arg)); errno != 0 {
		return errno
	}
	return nil
}
