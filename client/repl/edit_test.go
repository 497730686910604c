package repl

import (
	"io"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"mcplambda/mcp"
)

// TestEditing runs the REPL with the line editor, keys written as a
// terminal sends them: history, Ctrl-R, elicitation answers through the
// editor (kept out of the history), a line past the bound, a notification
// while a line is being typed, Ctrl-C and Ctrl-D at the prompt.
func TestEditing(t *testing.T) {
	s := newTestServer(t, registerAsk)
	a := startAsync(t, s, func(o *Options) { o.Edit = true })
	keys := func(k string) {
		t.Helper()
		if _, err := io.WriteString(a.w, k); err != nil {
			t.Fatal(err)
		}
	}
	a.out.waitFor(t, "Type help for commands.")
	a.out.waitForCount(t, prompt, 1)

	keys("greet Ada\r")
	a.out.waitFor(t, "Hello, Ada!")
	keys("\x1b[A\x17Bob\r") // Up, Ctrl-W, type, Enter
	a.out.waitFor(t, "Hello, Bob!")
	keys("\x12Ada\r") // Ctrl-R
	a.out.waitForCount(t, "Hello, Ada!", 2)

	keys("call-tool ask\r")
	a.out.waitFor(t, "Answer? [a]ccept, [d]ecline, [c]ancel: ")
	keys("a\rAda\r42\r2\r\r")
	a.out.waitFor(t, `answer: accept {"age":42,"color":"green","name":"Ada","subscribe":false}`)
	if got, want := a.r.ed.History(), []string{"greet Ada", "greet Bob", "greet Ada", "call-tool ask"}; !slices.Equal(got, want) {
		t.Errorf("history %q, want %q", got, want)
	}

	keys(strings.Repeat("x", maxLine+1) + "\r")
	a.err.waitFor(t, "Input line longer than 1048576 bytes: ignored.")
	keys("greet After\r")
	a.out.waitFor(t, "Hello, After!")

	// A notification while a line is typed goes above it; the line is
	// drawn again below.
	receive(t, a.r.streamUp, "the standalone stream's opening")
	n := a.out.count(prompt)
	keys("half")
	a.out.waitFor(t, prompt+"half")
	s.srv.Log(mcp.LevelWarning, "ops", "disk almost full")
	a.out.waitFor(t, "[warning] ops: disk almost full\n"+prompt+"half")
	if !strings.Contains(a.out.String(), "\r\x1b[J[warning]") {
		t.Errorf("the line was not erased before the notification:\n%q", a.out.String())
	}
	keys("\x15greet Z\r") // Ctrl-U
	a.out.waitFor(t, "Hello, Z!")

	// Ctrl-C drops the line being typed; Ctrl-D on an empty line exits.
	a.out.waitForCount(t, prompt, n+3)
	keys("partial")
	a.out.waitFor(t, prompt+"partial")
	a.sigs <- os.Interrupt
	a.out.waitFor(t, "(Ctrl-C again, quit or Ctrl-D to exit)")
	keys("greet Y\r")
	a.out.waitFor(t, "Hello, Y!")
	keys("\x04")
	select {
	case err := <-a.done:
		a.done <- err
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(wait):
		t.Fatal("Ctrl-D did not exit")
	}
	assertLacks(t, "Out", a.out.String(), "partialgreet")
}

func (b *buffer) count(s string) int { return strings.Count(b.String(), s) }
