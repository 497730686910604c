package smoke

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"maps"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"mcplambda/greetings"
	"mcplambda/internal/apikey"
	"mcplambda/internal/authconfig"
	"mcplambda/mcp"
	"mcplambda/oauth"
	"mcplambda/server"
)

// wait bounds every test's run: generous for a loaded machine. Nothing in
// these tests asserts on timing but the streaming check's own verdict.
const wait = 30 * time.Second

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	t.Cleanup(cancel)
	return ctx
}

// Authorization modes of a test server.
type authMode int

const (
	authOff    authMode = iota // no authorization, as make run-local
	authOAuth                  // AUTH_METHOD=oauth with a Cognito pool and COGNITO_DOMAIN, as make deploy AUTH=oauth
	authAPIKey                 // AUTH_METHOD=lambda with API_KEY_SHA256, as make deploy AUTH=lambda without a pool
)

// serverOpts shape a test deployment.
type serverOpts struct {
	auth authMode
	// stage serves the MCP endpoint under /prod/mcp through a gateway that
	// routes only the stage's paths, as API Gateway does.
	stage bool
	// wrap puts a proxy between the client and the server.
	wrap func(http.Handler) http.Handler
}

// fixture is a running test deployment.
type fixture struct {
	url   string // the MCP endpoint clients use
	token string // an access token (or API key) the server accepts; "" with auth off
	log   *requestLog
}

const (
	testPool     = "us-east-1_Smoke"
	testClientID = "smoke-client"
	testScope    = "mcp"
)

// newServer runs the real server (greetings at their deployed pace of 1 s)
// with the authorization and discovery documents of cmd/mcp-server.
func newServer(t *testing.T, o serverOpts) *fixture {
	t.Helper()
	ts := httptest.NewUnstartedServer(nil)
	base := "http://" + ts.Listener.Addr().String()
	resource := base + "/mcp"
	if o.stage {
		resource = base + "/prod/mcp"
	}
	srv := server.New(server.Options{Info: mcp.Implementation{Name: "smoke-test", Version: "1"}})
	if err := greetings.Register(srv, greetings.Options{}); err != nil {
		t.Fatal(err)
	}
	cfg := server.DefaultConfig()
	cfg.LogRequests = false
	log := slog.New(slog.DiscardHandler)
	hopts := server.HandlerOptions{Logger: log}
	f := &fixture{url: resource, log: &requestLog{}}
	var discovery *server.Discovery
	switch o.auth {
	case authOAuth:
		key, jwksURL := newSigningKey(t)
		env := map[string]string{
			"AUTH_METHOD": "oauth", "COGNITO_REGION": "us-east-1", "COGNITO_USER_POOL_ID": testPool,
			"COGNITO_DOMAIN": "smoke-test", "COGNITO_ALLOWED_CLIENT_IDS": testClientID,
			"OAUTH_JWKS_URL": jwksURL, "MCP_RESOURCE_URL": resource, "OAUTH_REQUIRED_SCOPES": testScope,
		}
		ac, err := authconfig.ServerFromEnv(func(k string) string { return env[k] }, server.AuthSite(cfg))
		if err != nil {
			t.Fatal(err)
		}
		verifier, err := ac.Issuer.NewVerifier(context.Background(), nil)
		if err != nil {
			t.Fatal(err)
		}
		if discovery, err = server.NewDiscovery(ac, cfg, "smoke test"); err != nil {
			t.Fatal(err)
		}
		hopts.Auth = &server.BearerAuth{Verifier: verifier, ResourceMetadataURL: discovery.ResourceMetadataURL(), Scopes: ac.RequiredScopes, Log: log}
		f.token = mintToken(t, key, ac.Issuer.Verifier.Issuer, resource)
	case authAPIKey:
		f.token = "smoke-api-key-" + strings.Repeat("k", 24)
		sum := sha256.Sum256([]byte(f.token))
		keys, err := apikey.Parse(hex.EncodeToString(sum[:]))
		if err != nil {
			t.Fatal(err)
		}
		hopts.Auth = server.NewAPIKeyAuth(keys)
	}
	h := server.NewHandler(srv, cfg, hopts)
	mux := server.NewMux(cfg, h)
	if discovery != nil {
		if err := discovery.Register(mux); err != nil {
			t.Fatal(err)
		}
	}
	var handler http.Handler = mux
	if o.stage {
		handler = gatewayStage("/prod", handler)
	}
	if o.wrap != nil {
		handler = o.wrap(handler)
	}
	ts.Config.Handler = f.log.wrap(handler)
	ts.Start()
	t.Cleanup(func() { ts.Close(); h.Close() })
	return f
}

// newSigningKey makes an RS256 key and serves its JWKS.
func newSigningKey(t *testing.T) (*rsa.PrivateKey, string) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	doc, _ := json.Marshal(map[string]any{"keys": []map[string]string{{
		"kty": "RSA", "kid": "k1", "use": "sig", "alg": "RS256",
		"n": base64.RawURLEncoding.EncodeToString(key.N.Bytes()),
		"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(key.E)).Bytes()),
	}}})
	jwks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(doc)
	}))
	t.Cleanup(jwks.Close)
	return key, jwks.URL
}

// mintToken signs a Cognito-style access token for resource.
func mintToken(t *testing.T, key *rsa.PrivateKey, issuer, resource string) string {
	t.Helper()
	now := time.Now()
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{
		"iss": issuer, "sub": "smoke-user", "client_id": testClientID, "token_use": "access",
		"scope": "openid " + testScope, "aud": resource,
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
	})
	tok.Header["kid"] = "k1"
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// gatewayStage routes like an API Gateway stage: only paths under the
// stage reach the server, with the stage removed; the rest get the
// gateway's 403.
func gatewayStage(stage string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, stage+"/") {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusForbidden)
			_, _ = io.WriteString(w, `{"message":"Missing Authentication Token"}`)
			return
		}
		r2 := r.Clone(r.Context())
		r2.URL.Path = strings.TrimPrefix(r.URL.Path, stage)
		r2.URL.RawPath = ""
		next.ServeHTTP(w, r2)
	})
}

// remapChallenge renames WWW-Authenticate on a 401 as API Gateway does to a
// Lambda proxy integration's response.
func remapChallenge(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(&remapWriter{ResponseWriter: w}, r)
	})
}

type remapWriter struct{ http.ResponseWriter }

func (w *remapWriter) WriteHeader(code int) {
	h := w.Header()
	if v := h.Values("WWW-Authenticate"); code == http.StatusUnauthorized && len(v) > 0 {
		h.Del("WWW-Authenticate")
		h[oauth.RemappedChallengeHeader] = v
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *remapWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// bufferBodies holds every response until the server has finished it, as
// an API Gateway integration without response streaming does.
func bufferBodies(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		bw := &bufferingWriter{header: http.Header{}}
		next.ServeHTTP(bw, r)
		maps.Copy(w.Header(), bw.header)
		if bw.status == 0 {
			bw.status = http.StatusOK
		}
		w.WriteHeader(bw.status)
		_, _ = w.Write(bw.body.Bytes())
	})
}

type bufferingWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (w *bufferingWriter) Header() http.Header { return w.header }

func (w *bufferingWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}

func (w *bufferingWriter) Write(b []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return w.body.Write(b)
}

// Flush pretends: a buffering gateway accepts the flush and sends nothing.
func (w *bufferingWriter) Flush() {}

// loseFirstSession plays a deployment whose sessions live in one
// instance's memory: after the instances check's parallel phase (two
// multi-greet calls), the first session created is answered 404, as
// another instance would. The calls are counted when they arrive, not
// when the server's handler returns, which may be after the client has
// its answers and sent the next request.
func loseFirstSession(next http.Handler) http.Handler {
	var (
		mu    sync.Mutex
		first string
		multi int
	)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		m := rpcOf(body)
		mu.Lock()
		lost := first != "" && r.Header.Get("Mcp-Session-Id") == first && multi >= 2
		if m.tool == "multi-greet" {
			multi++
		}
		mu.Unlock()
		if lost {
			http.Error(w, "session not found", http.StatusNotFound)
			return
		}
		if m.method != mcp.MethodInitialize {
			next.ServeHTTP(w, r)
			return
		}
		// Noted before the answer leaves, so that no later request can
		// overtake it.
		next.ServeHTTP(&headerHook{ResponseWriter: w, hook: func(h http.Header, _ int) {
			mu.Lock()
			if first == "" {
				first = h.Get("Mcp-Session-Id")
			}
			mu.Unlock()
		}}, r)
	})
}

// headerHook calls hook with the response's header and status just
// before they are sent.
type headerHook struct {
	http.ResponseWriter
	hook func(h http.Header, status int)
	done bool
}

func (w *headerHook) WriteHeader(code int) {
	if !w.done {
		w.done = true
		w.hook(w.Header(), code)
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *headerHook) Write(b []byte) (int, error) {
	if !w.done {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

func (w *headerHook) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// rpc is what the test proxies read of a request body.
type rpc struct{ method, tool string }

func rpcOf(body []byte) rpc {
	var m struct {
		Method string `json:"method"`
		Params struct {
			Name string `json:"name"`
		} `json:"params"`
	}
	_ = json.Unmarshal(body, &m)
	return rpc{m.Method, m.Params.Name}
}

// requestLog notes what reached the deployment, to check that every
// session the smoke test opened was ended.
type requestLog struct {
	mu   sync.Mutex
	seen []seenRequest
}

type seenRequest struct {
	verb, method  string
	session       string // the request's Mcp-Session-Id
	newSession    string // the answer's Mcp-Session-Id
	status        int
	authorization bool
}

func (l *requestLog) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		seen := seenRequest{
			verb: r.Method, method: rpcOf(body).method,
			session: r.Header.Get("Mcp-Session-Id"), authorization: r.Header.Get("Authorization") != "",
		}
		// Noted as the answer leaves, not when the handler returns, which
		// may be after the client has read it and the test looks.
		hw := &headerHook{ResponseWriter: w, hook: func(h http.Header, status int) {
			seen.newSession, seen.status = h.Get("Mcp-Session-Id"), status
			l.mu.Lock()
			l.seen = append(l.seen, seen)
			l.mu.Unlock()
		}}
		next.ServeHTTP(hw, r)
		if !hw.done {
			hw.WriteHeader(http.StatusOK)
		}
	})
}

func (l *requestLog) requests() []seenRequest {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]seenRequest(nil), l.seen...)
}

// openSessions lists the sessions initialize created that no DELETE ended.
func (l *requestLog) openSessions() []string {
	ended := map[string]bool{}
	for _, r := range l.requests() {
		if r.verb == http.MethodDelete && r.status/100 == 2 {
			ended[r.session] = true
		}
	}
	var open []string
	for _, r := range l.requests() {
		if r.method == mcp.MethodInitialize && r.status == http.StatusOK && r.newSession != "" && !ended[r.newSession] {
			open = append(open, r.newSession)
		}
	}
	return open
}
