//go:build !race

package mcpheader

const raceEnabled = false
