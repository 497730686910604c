package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// openPTY opens a pseudo-terminal with the standard library only: the
// master from /dev/ptmx, unlocked (TIOCSPTLCK), and the slave it names
// (TIOCGPTN). Neither becomes the test's controlling terminal.
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	var unlock int32
	if err := ioctl(m, syscall.TIOCSPTLCK, unsafe.Pointer(&unlock)); err != nil {
		m.Close()
		t.Skipf("unlocking the pseudo-terminal: %v", err)
	}
	var n uint32
	if err := ioctl(m, syscall.TIOCGPTN, unsafe.Pointer(&n)); err != nil {
		m.Close()
		t.Skipf("naming the pseudo-terminal: %v", err)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		m.Close()
		t.Skipf("opening the pseudo-terminal: %v", err)
	}
	ws := struct{ row, col, x, y uint16 }{24, 80, 0, 0}
	ioctl(s, syscall.TIOCSWINSZ, unsafe.Pointer(&ws))
	// The master first: it hangs up the slave, which ends the REPL's
	// reader blocked on it.
	t.Cleanup(func() { m.Close(); s.Close() })
	return m, s
}

// ioctl goes through SyscallConn rather than Fd, which would make the
// file blocking: a blocked read of the master could then outlive Close.
func ioctl(f *os.File, req uintptr, arg unsafe.Pointer) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var errno syscall.Errno
	if err := rc.Control(func(fd uintptr) {
		_, _, errno = syscall.Syscall(syscall.SYS_IOCTL, fd, req, uintptr(arg))
	}); err != nil {
		return err
	}
	if errno != 0 {
		return errno
	}
	return nil
}

func termios(t *testing.T, f *os.File) syscall.Termios {
	t.Helper()
	var tio syscall.Termios
	if err := ioctl(f, syscall.TCGETS, unsafe.Pointer(&tio)); err != nil {
		t.Fatal(err)
	}
	return tio
}

// screenLog collects what the program writes to the terminal.
type screenLog struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *screenLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (l *screenLog) waitFor(t *testing.T, s string, n int) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); strings.Count(l.String(), s) < n; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%q (%d times) did not appear on the terminal:\n%q", s, n, l.String())
		}
	}
}

// TestTerminalEditing runs the command on a pseudo-terminal as a user
// would: it types a command, recalls it with Up, edits it, runs it, finds
// the first again with Ctrl-R, and leaves with Ctrl-D; the terminal is
// raw meanwhile (the kernel echoes nothing) and as it was afterwards.
func TestTerminalEditing(t *testing.T) {
	master, slave := openPTY(t)
	before := termios(t, slave)
	url := newServer(t)
	env := map[string]string{"MCP_SERVER_URL": url, "OAUTH_TOKEN_DIR": filepath.Join(t.TempDir(), "tokens"), "TERM": "xterm"}
	var screen screenLog
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := master.Read(buf)
			screen.mu.Lock()
			screen.b.Write(buf[:n])
			screen.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	done := make(chan int, 1)
	go func() {
		done <- run([]string{"-outputs", filepath.Join(t.TempDir(), "none.env")}, slave, slave, slave, func(k string) string { return env[k] })
	}()
	// On a failure, hang up so that the client ends before the server
	// waits for its connections.
	t.Cleanup(func() {
		master.Close()
		select {
		case status := <-done:
			done <- status
		case <-time.After(30 * time.Second):
			t.Error("the client did not end after a hang-up")
		}
	})
	keys := func(k string) {
		t.Helper()
		if _, err := master.WriteString(k); err != nil {
			t.Fatal(err)
		}
	}

	screen.waitFor(t, "Type help for commands.", 1)
	screen.waitFor(t, "mcp> ", 1)
	if tio := termios(t, slave); tio.Lflag&(syscall.ICANON|syscall.ECHO) != 0 || tio.Lflag&syscall.ISIG == 0 {
		t.Errorf("terminal not in the editor's mode: lflag %#x", tio.Lflag)
	}
	keys("greet Ada\r")
	screen.waitFor(t, "Hello, Ada!\r\nmcp> ", 1)
	keys("\x1b[A")                   // Up: "greet Ada|"
	keys("\x1b[D\x1b[D\x1b[D\x0bBo") // Left x3, Ctrl-K, type: "greet Bo|"
	keys("\x1b[Dx\x7f\x05b\r")       // Left, x, Backspace, End, b: "greet Bob"
	screen.waitFor(t, "Hello, Bob!\r\nmcp> ", 1)
	keys("\x12Ad")
	screen.waitFor(t, "(reverse-i-search)`Ad': greet Ada", 1)
	keys("\r")
	screen.waitFor(t, "Hello, Ada!\r\nmcp> ", 2)
	keys("\x04") // Ctrl-D
	select {
	case status := <-done:
		done <- status // for the cleanup
		if status != 0 {
			t.Errorf("status %d, want 0", status)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("Ctrl-D did not end the client:\n%q", screen.String())
	}
	if strings.Contains(screen.String(), "greet Adagreet") || strings.Count(screen.String(), "greet Ada") > 4 {
		t.Errorf("typed keys were echoed by the terminal as well:\n%q", screen.String())
	}
	if after := termios(t, slave); after != before {
		t.Errorf("terminal not restored:\nbefore %+v\nafter  %+v", before, after)
	}
}
