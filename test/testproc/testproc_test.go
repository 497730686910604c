package testproc

import (
	"fmt"
	"net"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// helperEnv makes the test binary act as the process under test; its value
// says how (see helper).
const helperEnv = "TESTPROC_HELPER"

func TestMain(m *testing.M) {
	if mode := os.Getenv(helperEnv); mode != "" {
		os.Exit(helper(mode))
	}
	os.Exit(m.Run())
}

// helper listens on 127.0.0.1:$PORT and, on SIGTERM, exits 0 ("serve",
// "race") or 3 ("fail"), or ignores it ("ignore"); "exit" exits 2 at once.
func helper(mode string) int {
	fmt.Printf("TESTPROC_SECRET=%q\n", os.Getenv("TESTPROC_SECRET"))
	if mode == "exit" {
		fmt.Fprintln(os.Stderr, "boom")
		return 2
	}
	if mode == "race" {
		fmt.Fprintln(os.Stderr, "before\n==================\nWARNING: DATA RACE\nWrite at 0x1")
	}
	term := make(chan os.Signal, 1)
	if mode == "ignore" {
		signal.Ignore(syscall.SIGTERM)
	} else {
		signal.Notify(term, syscall.SIGTERM)
	}
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", os.Getenv("PORT")))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer ln.Close()
	<-term
	if mode == "fail" {
		return 3
	}
	return 0
}

func startHelper(t *testing.T, mode string, stopTimeout time.Duration) (*Process, string) {
	t.Helper()
	port := FreePort(t)
	p := Start(t, os.Args[0], Options{
		Name:        "helper",
		Unset:       []string{"TESTPROC_SECRET"},
		Env:         []string{helperEnv + "=" + mode, "PORT=" + strconv.Itoa(port)},
		StopTimeout: stopTimeout,
	})
	return p, net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
}

func TestStopClean(t *testing.T) {
	t.Setenv("TESTPROC_SECRET", "inherited")
	p, addr := startHelper(t, "serve", 0)
	p.WaitListening(t, addr, 30*time.Second)
	if err := p.Stop(t); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if err := p.Stop(t); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
	select {
	case <-p.Exited():
	default:
		t.Fatal("Exited is open after Stop")
	}
	if err := p.ExitErr(); err != nil {
		t.Errorf("ExitErr = %v", err)
	}
	if out := p.Output(); !strings.Contains(out, `TESTPROC_SECRET=""`) {
		t.Errorf("an unset variable reached the process; output:\n%s", out)
	}
	if p.HasDataRace() || p.RaceReport() != "" {
		t.Error("a data race reported where there was none")
	}
}

func TestStopFailures(t *testing.T) {
	for _, tc := range []struct {
		mode, want string
	}{
		{"fail", "the helper did not shut down cleanly on SIGTERM: exit status 3"},
		{"ignore", "the helper did not exit within 200ms of SIGTERM and was killed"},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			p, addr := startHelper(t, tc.mode, 200*time.Millisecond)
			p.WaitListening(t, addr, 30*time.Second)
			err := p.Stop(t)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Stop = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestExitedEarly(t *testing.T) {
	p, _ := startHelper(t, "exit", 0)
	select {
	case <-p.Exited():
	case <-time.After(30 * time.Second):
		t.Fatal("the helper did not exit")
	}
	if p.ExitErr() == nil {
		t.Error("ExitErr = nil, want exit status 2")
	}
	err := p.Stop(t)
	if err == nil || !strings.Contains(err.Error(), "the helper exited unexpectedly before it was stopped: exit status 2") {
		t.Errorf("Stop = %v", err)
	}
	if !strings.Contains(p.Output(), "boom") {
		t.Errorf("stderr not captured: %q", p.Output())
	}
}

// fatalTB records a Fatal or Skip instead of ending the test.
type fatalTB struct {
	testing.TB
	msg string
}

func (f *fatalTB) Helper() {}

func (f *fatalTB) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func (f *fatalTB) Fatal(args ...any) {
	f.msg = "fatal: " + fmt.Sprint(args...)
	runtime.Goexit()
}

func (f *fatalTB) Skip(args ...any) {
	f.msg = "skip: " + fmt.Sprint(args...)
	runtime.Goexit()
}

func TestNodeToolsMissing(t *testing.T) {
	for _, tc := range []struct{ require, want string }{
		{"", "skip: "},
		{"1", "fatal: "},
	} {
		t.Setenv(RequireNodeToolsEnv, tc.require)
		msg := ending(t, func(tb testing.TB) { NodeTools(tb, t.TempDir()) })
		if !strings.HasPrefix(msg, tc.want) || !strings.Contains(msg, "run `npm ci --prefix test`") {
			t.Errorf("%s=%q: NodeTools ended with %q", RequireNodeToolsEnv, tc.require, msg)
		}
	}
}

// ending runs f and returns how it ended the test (Fatal or Skip), or "".
func ending(t *testing.T, f func(testing.TB)) string {
	tb := &fatalTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(tb)
	}()
	<-done
	return tb.msg
}

// waitListeningFatal runs WaitListening and returns its Fatal message.
func waitListeningFatal(t *testing.T, p *Process, addr string, timeout time.Duration) string {
	return ending(t, func(tb testing.TB) { p.WaitListening(tb, addr, timeout) })
}

func TestWaitListeningExited(t *testing.T) {
	p, addr := startHelper(t, "exit", 0)
	msg := waitListeningFatal(t, p, addr, 30*time.Second)
	if !strings.Contains(msg, "the helper exited before accepting connections") || !strings.Contains(msg, "boom") {
		t.Errorf("WaitListening failed with %q", msg)
	}
}

func TestWaitListeningTimeout(t *testing.T) {
	p, _ := startHelper(t, "ignore", 0)
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(FreePort(t)))
	if msg := waitListeningFatal(t, p, addr, 300*time.Millisecond); !strings.Contains(msg, "did not accept connections") {
		t.Errorf("WaitListening failed with %q", msg)
	}
	select {
	case <-p.Exited():
	default:
		t.Error("the helper still runs after WaitListening timed out")
	}
}

func TestRaceReport(t *testing.T) {
	p, addr := startHelper(t, "race", 0)
	p.WaitListening(t, addr, 30*time.Second)
	if err := p.Stop(t); err != nil {
		t.Fatal(err)
	}
	if !p.HasDataRace() {
		t.Fatal("HasDataRace = false")
	}
	if r := p.RaceReport(); !strings.HasPrefix(r, "==================\nWARNING: DATA RACE\nWrite at") {
		t.Errorf("RaceReport = %q", r)
	}
}

func TestTail(t *testing.T) {
	for _, tc := range []struct {
		s    string
		n    int
		want string
	}{
		{"a\nb\n", 5, "a\nb"},
		{"a\nb\nc\n", 2, "... (1 earlier lines)\nb\nc"},
	} {
		if got := Tail(tc.s, tc.n); got != tc.want {
			t.Errorf("Tail(%q, %d) = %q, want %q", tc.s, tc.n, got, tc.want)
		}
	}
}
