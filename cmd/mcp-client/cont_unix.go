//go:build unix

package main

import (
	"os"
	"os/signal"
	"syscall"

	"mcplambda/client/repl/lineedit"
)

// rawOnContinue puts the terminal back in the editor's mode each time the
// client continues after Ctrl-Z (fg): the shell set its own mode meanwhile.
// The returned function stops it.
func rawOnContinue(fd uintptr) (stop func()) {
	conts := make(chan os.Signal, 1)
	signal.Notify(conts, syscall.SIGCONT)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-conts:
				lineedit.MakeRaw(fd) // the mode to restore at the end is still the first one
			case <-done:
				return
			}
		}
	}()
	return func() {
		signal.Stop(conts)
		close(done)
	}
}
