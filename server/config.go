package server

import (
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"
)

// Config is the transport's configuration, read from the environment by
// ConfigFromEnv. docs/configuration.md lists every variable.
type Config struct {
	Host string // HOST: address to listen on
	Port int    // PORT
	Path string // MCP_PATH: where the MCP endpoint lives

	MaxBodyBytes int64         // MAX_BODY_BYTES: largest POST body
	SessionTTL   time.Duration // SESSION_TTL: idle time after which a session ends
	MaxSessions  int           // MAX_SESSIONS: live sessions at once (0 = unlimited)
	// MAX_SESSIONS_PER_PRINCIPAL: live sessions one principal may hold on
	// this instance (0 = unlimited); by default a tenth of MAX_SESSIONS, so
	// one caller cannot take every slot.
	MaxSessionsPerPrincipal int
	MaxBatchLength          int           // MAX_BATCH_LENGTH: messages in one JSON-RPC batch
	BatchConcurrency        int           // BATCH_CONCURRENCY: requests of one batch run at once
	MaxInflightPerSession   int           // MAX_INFLIGHT_PER_SESSION: requests running at once in one session (0 = unlimited)
	MaxInflightPerPrincipal int           // MAX_INFLIGHT_PER_PRINCIPAL: requests running at once for one principal, both eras (0 = unlimited)
	RequestTimeout          time.Duration // REQUEST_TIMEOUT: longest a request may run
	KeepAlive               time.Duration // SSE_KEEPALIVE: interval of keep-alive comments on SSE streams
	WriteTimeout            time.Duration // SSE_WRITE_TIMEOUT: longest one write to a client may block (0 = no limit)
	SSERetry                time.Duration // SSE_RETRY: reconnection delay suggested to clients
	EventBuffer             int           // SSE_EVENT_BUFFER: events kept per stream for Last-Event-ID replay
	// SSE_BUFFER_BYTES: bytes of events one session keeps for replay, all
	// its streams together (0 = no byte limit, only SSE_EVENT_BUFFER).
	EventBufferBytes     int
	MaxStreamsPerSession int           // SSE_MAX_STREAMS: streams kept per session for replay
	AllowedOrigins       []string      // ALLOWED_ORIGINS: comma-separated; loopback origins are always allowed
	AllowedHosts         []string      // ALLOWED_HOSTS: comma-separated Host values; default loopback names when HOST is loopback
	ShutdownTimeout      time.Duration // SHUTDOWN_TIMEOUT: grace period for in-flight requests
	LogLevel             slog.Level    // LOG_LEVEL: debug, info, warn, error
	LogRequests          bool          // LOG_REQUESTS: one log line per HTTP request
	StandaloneStream     bool          // SSE_GET_STREAM: offer the GET stream (default true, false on Lambda)

	// Lambda is true inside AWS Lambda (AWS_LAMBDA_RUNTIME_API is set):
	// there is no listener, HOST means nothing, and the loopback defaults
	// (no authentication, loopback Host names, a localhost resource URL)
	// do not apply.
	Lambda bool
}

// DefaultConfig is the configuration with no environment set.
func DefaultConfig() Config {
	return Config{
		Host:                    "127.0.0.1",
		Port:                    3000,
		Path:                    "/mcp",
		MaxBodyBytes:            4 << 20,
		SessionTTL:              30 * time.Minute,
		MaxSessions:             10000,
		MaxSessionsPerPrincipal: 1000,
		MaxBatchLength:          100,
		BatchConcurrency:        8,
		MaxInflightPerSession:   32,
		MaxInflightPerPrincipal: 64,
		EventBufferBytes:        1 << 20,
		RequestTimeout:          5 * time.Minute,
		KeepAlive:               15 * time.Second,
		WriteTimeout:            30 * time.Second,
		SSERetry:                time.Second,
		EventBuffer:             256,
		MaxStreamsPerSession:    32,
		ShutdownTimeout:         30 * time.Second,
		LogLevel:                slog.LevelInfo,
		LogRequests:             true,
		StandaloneStream:        true,
	}
}

// Addr is HOST:PORT.
func (c Config) Addr() string { return net.JoinHostPort(c.Host, strconv.Itoa(c.Port)) }

// ConfigFromEnv reads the configuration through getenv (os.Getenv in
// production, a map in tests). Every malformed value is reported, by name.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	c := DefaultConfig()
	var errs []string
	str := func(name string, dst *string) {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			*dst = v
		}
	}
	integer := func(name string, dst *int, min int) {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < min {
				errs = append(errs, fmt.Sprintf("%s=%q: want a whole number >= %d", name, v, min))
				return
			}
			*dst = n
		}
	}
	duration := func(name string, dst *time.Duration) {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil {
				if n, err2 := strconv.Atoi(v); err2 == nil {
					d, err = time.Duration(n)*time.Second, nil
				}
			}
			if err != nil || d < 0 {
				errs = append(errs, fmt.Sprintf("%s=%q: want a duration such as 30s or 5m (or whole seconds)", name, v))
				return
			}
			*dst = d
		}
	}
	list := func(name string, dst *[]string) {
		for _, part := range strings.Split(getenv(name), ",") {
			if p := strings.TrimSpace(part); p != "" {
				*dst = append(*dst, p)
			}
		}
	}
	str("HOST", &c.Host)
	c.Lambda = strings.TrimSpace(getenv("AWS_LAMBDA_RUNTIME_API")) != ""
	// On Lambda an open GET stream holds an invocation, billed, until the
	// function times out, and carries only what that one instance emits.
	c.StandaloneStream = !c.Lambda
	integer("PORT", &c.Port, 0)
	str("MCP_PATH", &c.Path)
	var body int
	integer("MAX_BODY_BYTES", &body, 1024)
	if body > 0 {
		c.MaxBodyBytes = int64(body)
	}
	duration("SESSION_TTL", &c.SessionTTL)
	integer("MAX_SESSIONS", &c.MaxSessions, 0)
	if strings.TrimSpace(getenv("MAX_SESSIONS_PER_PRINCIPAL")) == "" {
		c.MaxSessionsPerPrincipal = defaultSessionsPerPrincipal(c.MaxSessions)
	}
	integer("MAX_SESSIONS_PER_PRINCIPAL", &c.MaxSessionsPerPrincipal, 0)
	integer("MAX_BATCH_LENGTH", &c.MaxBatchLength, 1)
	integer("BATCH_CONCURRENCY", &c.BatchConcurrency, 1)
	integer("MAX_INFLIGHT_PER_SESSION", &c.MaxInflightPerSession, 0)
	integer("MAX_INFLIGHT_PER_PRINCIPAL", &c.MaxInflightPerPrincipal, 0)
	duration("REQUEST_TIMEOUT", &c.RequestTimeout)
	duration("SSE_KEEPALIVE", &c.KeepAlive)
	duration("SSE_WRITE_TIMEOUT", &c.WriteTimeout)
	duration("SSE_RETRY", &c.SSERetry)
	integer("SSE_EVENT_BUFFER", &c.EventBuffer, 1)
	integer("SSE_MAX_STREAMS", &c.MaxStreamsPerSession, 1)
	integer("SSE_BUFFER_BYTES", &c.EventBufferBytes, 0)
	list("ALLOWED_ORIGINS", &c.AllowedOrigins)
	list("ALLOWED_HOSTS", &c.AllowedHosts)
	duration("SHUTDOWN_TIMEOUT", &c.ShutdownTimeout)
	if v := strings.TrimSpace(getenv("LOG_LEVEL")); v != "" {
		if err := c.LogLevel.UnmarshalText([]byte(v)); err != nil {
			errs = append(errs, fmt.Sprintf("LOG_LEVEL=%q: want debug, info, warn or error", v))
		}
	}
	if v := strings.TrimSpace(getenv("LOG_REQUESTS")); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			errs = append(errs, fmt.Sprintf("LOG_REQUESTS=%q: want true or false", v))
		}
		c.LogRequests = b
	}
	if v := strings.TrimSpace(getenv("SSE_GET_STREAM")); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			errs = append(errs, fmt.Sprintf("SSE_GET_STREAM=%q: want true or false", v))
		}
		c.StandaloneStream = b
	}
	if c.Port > 65535 {
		errs = append(errs, fmt.Sprintf("PORT=%d: want 0-65535", c.Port))
	}
	if !strings.HasPrefix(c.Path, "/") {
		errs = append(errs, fmt.Sprintf("MCP_PATH=%q: must start with /", c.Path))
	}
	if len(errs) > 0 {
		return c, fmt.Errorf("configuration: %s", strings.Join(errs, "; "))
	}
	return c, nil
}

// defaultSessionsPerPrincipal is a tenth of the session cap: room for a
// client that opens several sessions, while nine other callers still find
// slots when one of them fills its quota. With no cap, 1000.
func defaultSessionsPerPrincipal(maxSessions int) int {
	if maxSessions <= 0 {
		return 1000
	}
	return max(1, maxSessions/10)
}
