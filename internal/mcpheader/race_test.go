//go:build race

package mcpheader

// raceEnabled: the race detector makes allocation counts unreliable.
const raceEnabled = true
