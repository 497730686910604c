//go:build !unix

package bedrock

import "time"

func processCPU() time.Duration { return 0 }
