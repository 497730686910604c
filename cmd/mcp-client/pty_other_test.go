//go:build !linux

package main

import "testing"

// TestTerminalEditing needs Linux's pseudo-terminal ioctls.
func TestTerminalEditing(t *testing.T) {
	t.Skip("the pseudo-terminal test runs on Linux only")
}
