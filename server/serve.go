package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// NewMux routes the MCP endpoint to h and answers everything else with a
// JSON 404 that says where the endpoint is. Extra routes (OAuth metadata)
// are added by the caller.
func NewMux(cfg Config, h *Handler) *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle(cfg.Path, h)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		_, _ = fmt.Fprintf(w, `{"error":"not found","mcp_endpoint":%q}`+"\n", cfg.Path)
	})
	return mux
}

// Serve listens on cfg.Addr() and serves handler until ctx ends, then shuts
// down gracefully: it stops accepting, closes SSE streams (mcp), lets
// in-flight requests finish within cfg.ShutdownTimeout, and returns.
// ready, if not nil, receives the bound address once listening.
func Serve(ctx context.Context, cfg Config, handler http.Handler, mcp *Handler, log *slog.Logger, ready func(net.Addr)) error {
	ln, err := net.Listen("tcp", cfg.Addr())
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr(), err)
	}
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	if mcp != nil {
		srv.RegisterOnShutdown(mcp.Close)
	}
	log.Info("listening", "url", "http://"+ln.Addr().String()+cfg.Path)
	if ready != nil {
		ready(ln.Addr())
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down", "grace", cfg.ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	err = srv.Shutdown(sctx)
	if errors.Is(err, context.DeadlineExceeded) {
		_ = srv.Close()
		return fmt.Errorf("shutdown: requests still running after %s were cut off", cfg.ShutdownTimeout)
	}
	if e := <-errc; e != nil && !errors.Is(e, http.ErrServerClosed) {
		return e
	}
	return err
}
