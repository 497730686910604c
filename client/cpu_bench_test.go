package client

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"mcplambda/mcp"
	"mcplambda/test/testproc"
)

// BenchmarkClientCPU measures what one tools/call round trip (greet) costs
// the client alone, in each era: the server is bin/mcp-server in another
// process, so this process's CPU time (getrusage) and allocations are the
// client's. The round trips run one after another, as a REPL makes them.
func BenchmarkClientCPU(b *testing.B) {
	root := testproc.RepoRoot(b)
	bin := filepath.Join(b.TempDir(), "mcp-server")
	build := exec.Command("go", "build", "-o", bin, "./cmd/mcp-server")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("building the server: %v\n%s", err, out)
	}
	port := testproc.FreePort(b)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	p := testproc.Start(b, bin, testproc.Options{Name: "server", Unset: testproc.ServerEnv(),
		Env: []string{"HOST=127.0.0.1", fmt.Sprintf("PORT=%d", port), "AUTH_METHOD=none", "LOG_REQUESTS=false", "BEDROCK_LOG_SOURCE=sample"}})
	p.WaitListening(b, addr, 30*time.Second)
	for _, era := range []struct{ name, version string }{
		{"session", mcp.Version20251125},
		{"stateless", mcp.Version20260728},
	} {
		b.Run(era.name, func(b *testing.B) {
			ctx := context.Background()
			c, err := Connect(ctx, Options{URL: "http://" + addr + "/mcp", ProtocolVersion: era.version})
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close(ctx)
			args := map[string]string{"name": "Ada"}
			if _, err := c.CallTool(ctx, "greet", args); err != nil { // warm the connection
				b.Fatal(err)
			}
			b.ReportAllocs()
			before := cpuTime()
			b.ResetTimer()
			for b.Loop() {
				if _, err := c.CallTool(ctx, "greet", args); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64((cpuTime()-before).Microseconds())/float64(b.N), "client-cpu-us/op")
		})
	}
}

// cpuTime is the user and system CPU time this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
