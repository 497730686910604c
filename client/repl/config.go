package repl

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"mcplambda/mcp"
)

// Defaults of the client's settings.
const (
	DefaultServerURL   = "http://localhost:3000/mcp"
	DefaultRedirectURI = "http://localhost:8000/callback"
	DefaultTimeout     = 2 * time.Minute
	// DeployOutputsFile is what `make deploy` writes in the working directory.
	DeployOutputsFile = ".deploy/outputs.env"
)

// Auth methods the client speaks.
const (
	AuthAuto   = "auto"   // no token until the server answers 401, then OAuth
	AuthOAuth  = "oauth"  // OAuth 2.1 + PKCE, logging in before the first request
	AuthLambda = "lambda" // a bearer token for API Gateway's Lambda authorizer: ACCESS_TOKEN or the stored one
)

// Config is what the client reads from its environment.
type Config struct {
	ServerURL   string        // MCP_SERVER_URL
	AuthMethod  string        // AUTH_METHOD: auto, oauth or lambda
	ClientID    string        // OAUTH_CLIENT_ID
	RedirectURI string        // OAUTH_REDIRECT_URI
	AccessToken string        // ACCESS_TOKEN (lambda mode); never printed
	Debug       bool          // MCP_CLIENT_DEBUG
	Timeout     time.Duration // MCP_CLIENT_TIMEOUT: per request
	OutputDir   string        // MCP_CLIENT_OUTPUT_DIR: where images and audio are saved ("" = a temporary directory)
	// ProtocolVersion is MCP_PROTOCOL_VERSION: "" (auto, the default)
	// negotiates the era; a session-era revision forces the session era,
	// "2026-07-28" the stateless era.
	ProtocolVersion string

	// Origin names, per variable, where its value came from: "environment"
	// or the outputs file; absent means the default.
	Origin map[string]string
}

// configVars are the variables LoadConfig reads, in the order status shows them.
var configVars = []string{
	"MCP_SERVER_URL", "AUTH_METHOD", "OAUTH_CLIENT_ID", "OAUTH_REDIRECT_URI",
	"ACCESS_TOKEN", "MCP_CLIENT_DEBUG", "MCP_CLIENT_TIMEOUT", "MCP_CLIENT_OUTPUT_DIR",
	"MCP_PROTOCOL_VERSION",
}

// maxOutputsFile bounds the outputs file: it is a handful of KEY=VALUE lines.
const maxOutputsFile = 1 << 20

// LoadConfig reads the settings from getenv and, for variables the
// environment leaves unset, from the KEY=VALUE file at outputsPath (when it
// exists; "" skips it). The file is parsed, never evaluated by a shell.
func LoadConfig(getenv func(string) string, outputsPath string) (Config, error) {
	var file map[string]string
	if outputsPath != "" {
		f, err := os.Open(outputsPath)
		switch {
		case err == nil:
			file, err = ParseOutputs(io.LimitReader(f, maxOutputsFile))
			f.Close()
			if err != nil {
				return Config{}, fmt.Errorf("%s: %w", outputsPath, err)
			}
		case !errors.Is(err, os.ErrNotExist):
			return Config{}, err
		}
	}
	c := Config{Origin: map[string]string{}}
	get := func(k string) string {
		if v := strings.TrimSpace(getenv(k)); v != "" {
			c.Origin[k] = "environment"
			return v
		}
		if v, ok := file[k]; ok && v != "" {
			c.Origin[k] = outputsPath
			return v
		}
		return ""
	}
	c.ServerURL = get("MCP_SERVER_URL")
	if c.ServerURL == "" {
		c.ServerURL = DefaultServerURL
	}
	c.AuthMethod = strings.ToLower(get("AUTH_METHOD"))
	switch c.AuthMethod {
	case "":
		c.AuthMethod = AuthAuto
	case AuthAuto, AuthOAuth, AuthLambda:
	case "none":
		// The server's name for "no auth": auto sends no token until asked.
		c.AuthMethod = AuthAuto
	default:
		return Config{}, fmt.Errorf("AUTH_METHOD=%q: use oauth, lambda or auto", c.AuthMethod)
	}
	c.ClientID = get("OAUTH_CLIENT_ID")
	c.RedirectURI = get("OAUTH_REDIRECT_URI")
	if c.RedirectURI == "" {
		c.RedirectURI = DefaultRedirectURI
	}
	c.AccessToken = get("ACCESS_TOKEN")
	switch v := get("MCP_PROTOCOL_VERSION"); {
	case v == "" || strings.EqualFold(v, "auto"):
	case mcp.IsSessionVersion(v) || mcp.IsModernVersion(v):
		c.ProtocolVersion = v
	default:
		return Config{}, fmt.Errorf("MCP_PROTOCOL_VERSION=%q: use auto or one of %s", v,
			strings.Join(append(slices.Clone(mcp.SessionVersions), mcp.ModernVersions...), ", "))
	}
	if v := get("MCP_CLIENT_DEBUG"); v != "" {
		b, err := parseBool(v)
		if err != nil {
			return Config{}, fmt.Errorf("MCP_CLIENT_DEBUG=%q: %w", v, err)
		}
		c.Debug = b
	}
	c.Timeout = DefaultTimeout
	if v := get("MCP_CLIENT_TIMEOUT"); v != "" {
		d, err := parseDuration(v)
		if err != nil {
			return Config{}, fmt.Errorf("MCP_CLIENT_TIMEOUT=%q: %w", v, err)
		}
		c.Timeout = d
	}
	c.OutputDir = get("MCP_CLIENT_OUTPUT_DIR")
	return c, nil
}

// ParseOutputs reads KEY=VALUE lines: blank lines and # comments are
// skipped, an optional "export " prefix is allowed, and a value may be
// wrapped in single or double quotes (no expansion or escapes inside either:
// the file is data, not a script).
func ParseOutputs(r io.Reader) (map[string]string, error) {
	m := map[string]string{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 64<<10)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		line = strings.TrimPrefix(line, "export ")
		k, v, ok := strings.Cut(line, "=")
		k = strings.TrimSpace(k)
		if !ok || !validKey(k) {
			return nil, fmt.Errorf("line %d: not KEY=VALUE", n)
		}
		v = strings.TrimSpace(v)
		if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') {
			if v[len(v)-1] != v[0] {
				return nil, fmt.Errorf("line %d: unterminated quote", n)
			}
			v = v[1 : len(v)-1]
		}
		m[k] = v
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return m, nil
}

func validKey(k string) bool {
	if k == "" {
		return false
	}
	for i, r := range k {
		switch {
		case r == '_', r >= 'A' && r <= 'Z', r >= 'a' && r <= 'z':
		case r >= '0' && r <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

func parseBool(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "1", "true", "yes", "on":
		return true, nil
	case "0", "false", "no", "off":
		return false, nil
	}
	return false, errors.New("use true or false")
}

// parseDuration takes Go syntax (90s, 5m) or whole seconds, like the server.
func parseDuration(s string) (time.Duration, error) {
	if n, err := strconv.Atoi(s); err == nil {
		if n < 0 {
			return 0, errors.New("must not be negative")
		}
		return time.Duration(n) * time.Second, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, errors.New("use a duration such as 90s or 5m, or whole seconds")
	}
	if d < 0 {
		return 0, errors.New("must not be negative")
	}
	return d, nil
}
