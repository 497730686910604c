// Command profserve is the server as cmd/mcp-server builds it (same
// configuration from the environment, greetings registered, same handler
// and mux), plus a CPU profile and a heap (allocations) profile written to
// $PROFILE_DIR/{cpu,heap}-<pid>.pprof when it stops on SIGTERM or SIGINT. It
// is for looking at the server's costs under the loopback load of
// test/bench/loadgen; see test/bench/README.md.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"syscall"

	"mcplambda/greetings"
	"mcplambda/mcp"
	"mcplambda/server"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "profserve:", err)
		os.Exit(1)
	}
}

func run() error {
	dir := os.Getenv("PROFILE_DIR")
	if dir == "" {
		dir = os.TempDir()
	}
	pid := strconv.Itoa(os.Getpid())
	cpu, err := os.Create(filepath.Join(dir, "cpu-"+pid+".pprof"))
	if err != nil {
		return err
	}
	if err := pprof.StartCPUProfile(cpu); err != nil {
		return err
	}
	defer func() {
		pprof.StopCPUProfile()
		cpu.Close()
		if heap, err := os.Create(filepath.Join(dir, "heap-"+pid+".pprof")); err == nil {
			runtime.GC()
			_ = pprof.Lookup("allocs").WriteTo(heap, 0)
			heap.Close()
		}
	}()

	cfg, err := server.ConfigFromEnv(os.Getenv)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))
	srv := server.New(server.Options{Info: mcp.Implementation{Name: "mcp-lambda-go", Version: "profserve"}})
	if err := greetings.Register(srv, greetings.Options{}); err != nil {
		return err
	}
	h := server.NewHandler(srv, cfg, server.HandlerOptions{Logger: log})
	defer h.Close()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	return server.Serve(ctx, cfg, server.NewMux(cfg, h), h, log, nil)
}
