//go:build race

package server

// raceEnabled: the race detector adds allocations of its own, so
// allocation budgets are checked without it (make test runs them so).
const raceEnabled = true
