package client

import (
	"context"
	"testing"
)

// BenchmarkCallTool measures a tools/call of greet over loopback HTTP
// against the real server, client and server in one process.
func BenchmarkCallTool(b *testing.B) {
	s := newTestServer(b, nil)
	ctx := context.Background()
	c, err := Connect(ctx, Options{URL: s.url})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close(ctx)
	args := map[string]string{"name": "Ada"}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := c.CallTool(ctx, "greet", args); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
