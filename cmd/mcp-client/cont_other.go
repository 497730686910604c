//go:build !unix

package main

// rawOnContinue has nothing to do without job control.
func rawOnContinue(uintptr) (stop func()) { return func() {} }
