package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"mcplambda/internal/mcpheader"
	"mcplambda/mcp"
)

// Options configure a Client. URL is required.
type Options struct {
	URL        string       // MCP endpoint
	HTTPClient *http.Client // nil: a client with dial and TLS timeouts and no overall timeout (streams are long)
	Auth       Authorizer   // nil: no credentials
	ClientInfo mcp.Implementation
	// ProtocolVersion is the revision to speak. Empty (the default) means
	// negotiate: Connect probes with server/discover, uses the stateless
	// era if the server speaks it, and falls back to initialize (the
	// session era, newest revision) when the answer is not a recognized
	// stateless-era one. A session-era revision (2025-03-26 to 2025-11-25)
	// forces the session era: it is requested at initialize, with no
	// probe. "2026-07-28" (mcp.Version20260728) forces the stateless era:
	// Connect sends server/discover and never falls back to initialize.
	ProtocolVersion string
	// RequestTimeout bounds each request; 0 means 60s, <0 means none.
	RequestTimeout time.Duration
	// OnNotification receives every server notification (logging, progress,
	// list_changed, resources/updated, ...), in order per stream, from the
	// goroutine reading that stream: calls for different streams may run
	// concurrently, and a slow callback holds up its stream. Progress
	// notifications also go to the WithProgress callback of their request.
	OnNotification func(method string, params json.RawMessage)
	// Elicit answers elicitation/create; nil: the capability is not
	// advertised and such requests are answered -32601.
	Elicit func(ctx context.Context, p *mcp.ElicitParams) (*mcp.ElicitResult, error)
	// ElicitModes are the elicitation modes advertised when Elicit is set;
	// default form only ("form", "url").
	ElicitModes []string
	// Sample answers sampling/createMessage; nil: not advertised, and such
	// requests are declined with a JSON-RPC error.
	Sample func(ctx context.Context, p *mcp.CreateMessageParams) (*mcp.CreateMessageResult, error)
	// Roots answers roots/list; nil: roots are not advertised.
	Roots func(ctx context.Context) ([]mcp.Root, error)
	// Logger receives the traffic at Debug level (method, id, status; never
	// headers or tokens); nil discards it.
	Logger *slog.Logger
	// OpenStandaloneStream opens the GET stream after initialize, for
	// messages the server sends outside any request.
	OpenStandaloneStream bool
	// StreamIdleTimeout is how long the GET stream may stay silent (no
	// event, no keep-alive comment; the server's answer to the GET itself
	// included) before the client reconnects with Last-Event-ID, so a
	// stalled server or a connection that died without a word is noticed.
	// 0 means 2 minutes, <0 never.
	StreamIdleTimeout time.Duration
	// OnStandaloneStream, if set, is told when the GET stream opens
	// (open=true) and when the client stops trying (open=false, with the
	// reason; nil reason means the server offers no such stream).
	OnStandaloneStream func(open bool, err error)
	// Cache keeps the stateless era's cacheable results (the lists and
	// resources/read) for their ttlMs, and the era of each origin; see
	// ResultCache. nil: a cache of this client's own. Give every client of
	// a program the same one, so that reconnecting does not probe a known
	// session-era server again and public results are shared;
	// NewResultCache(0) keeps no results.
	Cache *ResultCache
}

// CallOption tunes one request.
type CallOption func(*callConfig)

type callConfig struct {
	progress func(mcp.ProgressParams)
}

// WithProgress asks the server for progress notifications
// (_meta.progressToken) and delivers this request's ones to fn, in order,
// from the goroutine reading the stream.
func WithProgress(fn func(mcp.ProgressParams)) CallOption {
	return func(c *callConfig) { c.progress = fn }
}

const (
	defaultRequestTimeout = 60 * time.Second
	defaultStreamIdle     = 2 * time.Minute
	maxMessage            = 16 << 20 // a response (JSON body or SSE event), including large tool results
	maxErrorBody          = 4 << 10  // what is read of an error answer
	defaultRetry          = time.Second
	maxRetry              = 30 * time.Second
	maxResumeAttempts     = 5 // consecutive reconnections that deliver nothing
	maxAuthRetries        = 2
	answerTimeout         = 30 * time.Second // posting our answers and notifications/cancelled
	maxIncoming           = 32               // server requests answered at once (an elicitation waits for a person)
)

// session is what one initialize produced; it is replaced wholesale on
// re-initialization, so a request carries a consistent snapshot.
type session struct {
	id      string
	version string
	init    mcp.InitializeResult
	// modern: the stateless era (no id; every request carries version,
	// capabilities and client info). discover is what server/discover
	// answered.
	modern   bool
	discover mcp.DiscoverResult
	meta     []byte // the _meta members every stateless request carries (sessionMeta)
}

// Client is a connection to one MCP server. It is safe for concurrent use.
type Client struct {
	opts       Options
	maxMessage int // maxMessage; tests lower it
	hc         *http.Client
	ownHC      bool
	log        *slog.Logger
	timeout    time.Duration
	streamIdle time.Duration

	ctx    context.Context // ends with Close/Disconnect
	cancel context.CancelFunc
	wg     sync.WaitGroup

	nextID atomic.Int64

	mu       sync.Mutex
	sess     session
	closed   bool
	incoming map[string]context.CancelFunc // server requests being answered, by id
	// What the client asked of the session, replayed on a new one so that
	// re-initialization stays transparent.
	logLevel mcp.LoggingLevel
	subs     map[string]bool
	// toolHeaders are the x-mcp-header parameters of each tool, by name,
	// from the last ListTools in the stateless era.
	toolHeaders map[string][]mcpheader.Param
	// The stateless era's subscriptions/listen stream (listen.go).
	listenRunning bool
	listenRestart bool               // the stream is being reopened with a new filter
	listenCancel  context.CancelFunc // ends the current stream
	listenWaiters []chan listenAck   // Subscribe/Unsubscribe waiting for the next acknowledgement

	reinitMu sync.Mutex

	progMu   sync.Mutex
	progress map[string]func(mcp.ProgressParams)

	cache *ResultCache
}

// Connect opens the connection in the era Options.ProtocolVersion asks for,
// negotiating it when empty: server/discover (the stateless era) or, on a
// session-era answer, initialize and notifications/initialized; and, if
// asked, the standalone stream (GET, or subscriptions/listen).
func Connect(ctx context.Context, opts Options) (*Client, error) {
	u, err := url.Parse(opts.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("mcp client: invalid server URL %q: want http(s)://host/path", opts.URL)
	}
	probe := opts.ProtocolVersion == ""
	forceModern := mcp.IsModernVersion(opts.ProtocolVersion)
	if opts.ProtocolVersion == "" {
		opts.ProtocolVersion = mcp.LatestVersion
	}
	if opts.ClientInfo.Name == "" {
		opts.ClientInfo = mcp.Implementation{Name: "mcplambda-client", Version: "0.1.0"}
	}
	c := &Client{
		opts:       opts,
		maxMessage: maxMessage,
		hc:         opts.HTTPClient,
		log:        opts.Logger,
		timeout:    opts.RequestTimeout,
		incoming:   map[string]context.CancelFunc{},
		subs:       map[string]bool{},
		progress:   map[string]func(mcp.ProgressParams){},
		cache:      opts.Cache,
	}
	if c.cache == nil {
		c.cache = NewResultCache(defaultCacheEntries)
	}
	if c.hc == nil {
		c.hc, c.ownHC = newHTTPClient(), true
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.timeout == 0 {
		c.timeout = defaultRequestTimeout
	}
	switch c.streamIdle = opts.StreamIdleTimeout; {
	case c.streamIdle == 0:
		c.streamIdle = defaultStreamIdle
	case c.streamIdle < 0:
		c.streamIdle = 0 // never
	}
	c.ctx, c.cancel = context.WithCancel(context.Background())

	// The era is a property of the server, remembered per origin in the
	// cache the client was given (the REPL keeps one for its life): a
	// session-era origin is not probed again, unless initialize then fails.
	origin := originOf(opts.URL)
	remembered := Era("")
	if probe {
		remembered = c.cache.eraOf(origin)
	}
	var sess session
	err = errLegacyServer
	tryDiscover := func() {
		dctx, cancel := c.requestContext(ctx, mcp.MethodServerDiscover)
		sess, err = c.discover(dctx)
		if err != nil && !errors.Is(err, errLegacyServer) {
			err = c.contextError(dctx, err)
		}
		cancel()
	}
	if forceModern || (probe && remembered != EraSession) {
		tryDiscover()
		if forceModern && errors.Is(err, errLegacyServer) {
			err = fmt.Errorf("the server does not speak the stateless era (%s): %w", mcp.Version20260728, err)
		}
	}
	if errors.Is(err, errLegacyServer) && !forceModern {
		if probe && remembered != EraSession {
			c.log.Debug("mcp server is of the session era; initializing", "probe", err)
		}
		ictx, cancel := c.requestContext(ctx, mcp.MethodInitialize)
		sess, err = c.initialize(ictx)
		if err != nil {
			err = c.contextError(ictx, err)
		}
		cancel()
		if err != nil && remembered == EraSession && ctx.Err() == nil {
			// What was remembered may be out of date: probe after all.
			c.log.Debug("mcp initialize failed on a remembered session-era origin; probing", "error", err)
			initErr := err
			tryDiscover()
			if errors.Is(err, errLegacyServer) {
				err = initErr
			}
		}
	}
	if err == nil && probe {
		era := EraSession
		if sess.modern {
			era = EraStateless
		}
		c.cache.rememberEra(origin, era)
	}
	if err != nil {
		c.Disconnect()
		return nil, err
	}
	c.install(sess)
	if opts.OpenStandaloneStream && sess.modern {
		c.mu.Lock()
		c.startListenLocked()
		c.mu.Unlock()
	}
	if opts.OpenStandaloneStream && !sess.modern {
		c.goAsync(c.standaloneLoop)
	}
	return c, nil
}

func newHTTPClient() *http.Client {
	return &http.Client{Transport: &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout:   10 * time.Second,
		MaxIdleConnsPerHost:   16,
		IdleConnTimeout:       90 * time.Second,
		ExpectContinueTimeout: time.Second,
		ForceAttemptHTTP2:     true,
	}}
}

// capabilities declares what the callbacks in Options can answer.
func (c *Client) capabilities() mcp.ClientCapabilities {
	var caps mcp.ClientCapabilities
	if c.opts.Elicit != nil {
		modes := c.opts.ElicitModes
		if len(modes) == 0 {
			modes = []string{"form"}
		}
		m := map[string]struct{}{}
		for _, mode := range modes {
			m[mode] = struct{}{}
		}
		caps.Elicitation, _ = json.Marshal(m)
	}
	if c.opts.Sample != nil {
		caps.Sampling = json.RawMessage(`{}`)
	}
	if c.opts.Roots != nil {
		caps.Roots = &struct {
			ListChanged bool `json:"listChanged,omitempty"`
		}{ListChanged: true}
	}
	return caps
}

// initialize runs the handshake and returns the new session.
func (c *Client) initialize(ctx context.Context) (session, error) {
	id := mcp.IntID(c.nextID.Add(1))
	body, err := mcp.AppendRequest(nil, id, mcp.MethodInitialize, &mcp.InitializeParams{
		ProtocolVersion: c.opts.ProtocolVersion,
		Capabilities:    c.capabilities(),
		ClientInfo:      c.opts.ClientInfo,
	})
	if err != nil {
		return session{}, err
	}
	msg, sid, err := c.exchange(ctx, mcp.MethodInitialize, id, body, session{})
	if err != nil {
		return session{}, err
	}
	var res mcp.InitializeResult
	if err := decodeResult(msg, &res); err != nil {
		return session{}, fmt.Errorf("initialize: %w", err)
	}
	sess := session{id: sid, version: res.ProtocolVersion, init: res}
	if !mcp.IsSessionVersion(res.ProtocolVersion) {
		_ = c.deleteSession(ctx, sess) // best effort: the session is unusable to us
		return session{}, fmt.Errorf("initialize: the server chose protocol revision %q, which this client does not speak (it speaks %v)",
			truncate(res.ProtocolVersion, 32), mcp.SessionVersions)
	}
	if err := c.notify(ctx, mcp.NotificationInitialized, nil, sess); err != nil {
		return session{}, fmt.Errorf("notifications/initialized: %w", err)
	}
	c.log.Debug("mcp session started", "protocol_version", res.ProtocolVersion, "server", truncate(res.ServerInfo.Name, 64))
	return sess, nil
}

func (c *Client) install(sess session) {
	c.mu.Lock()
	c.sess = sess
	c.mu.Unlock()
}

// restore asks the new session for what the old one was asked: the log
// level and resource subscriptions. Failures are not fatal: the session
// works, only less like the old one.
func (c *Client) restore(ctx context.Context, sess session) {
	c.mu.Lock()
	level := c.logLevel
	uris := make([]string, 0, len(c.subs))
	for u := range c.subs {
		uris = append(uris, u)
	}
	c.mu.Unlock()
	type req struct {
		method string
		params any
	}
	var reqs []req
	if level != "" {
		reqs = append(reqs, req{mcp.MethodLoggingSetLevel, &mcp.SetLevelParams{Level: level}})
	}
	for _, u := range uris {
		reqs = append(reqs, req{mcp.MethodResourcesSubscribe, &mcp.SubscribeParams{URI: u}})
	}
	for _, r := range reqs {
		id := mcp.IntID(c.nextID.Add(1))
		body, err := mcp.AppendRequest(nil, id, r.method, r.params)
		if err == nil {
			var msg *mcp.Message
			if msg, _, err = c.exchange(ctx, r.method, id, body, sess); err == nil {
				err = decodeResult(msg, nil)
			}
		}
		if err != nil {
			c.log.Debug("mcp session state not restored", "method", r.method, "error", err)
		}
	}
}

// reinitialize replaces the session the server forgot (404). Concurrent
// callers that saw the same dead session share one handshake.
func (c *Client) reinitialize(ctx context.Context, dead string) error {
	c.reinitMu.Lock()
	defer c.reinitMu.Unlock()
	c.mu.Lock()
	closed, current := c.closed, c.sess.id
	c.mu.Unlock()
	if closed {
		return ErrClosed
	}
	if current != dead {
		return nil // someone else already did it
	}
	c.log.Debug("mcp session not found; re-initializing")
	sess, err := c.initialize(ctx)
	if err != nil {
		return err
	}
	c.restore(ctx, sess)
	c.install(sess)
	return nil
}

func (c *Client) session() session {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sess
}

// SessionID is the current Mcp-Session-Id ("" if the server issued none).
func (c *Client) SessionID() string { return c.session().id }

// ProtocolVersion is the negotiated protocol revision ("2026-07-28" in
// the stateless era).
func (c *Client) ProtocolVersion() string { return c.session().version }

// ServerInfo is what the current session's initialize returned. In the
// stateless era it is assembled from server/discover: ProtocolVersion,
// Capabilities, Instructions, and ServerInfo from the result's
// _meta (io.modelcontextprotocol/serverInfo).
func (c *Client) ServerInfo() mcp.InitializeResult { return c.session().init }

// Era is the protocol era the client speaks with the server.
type Era string

const (
	EraSession   Era = "session"   // 2025-03-26 to 2025-11-25: initialize and Mcp-Session-Id
	EraStateless Era = "stateless" // 2026-07-28: no session; everything in each request
)

// Era tells which era Connect settled on.
func (c *Client) Era() Era {
	if c.session().modern {
		return EraStateless
	}
	return EraSession
}

// Discovery is what server/discover answered (the zero value in the
// session era): every revision the server speaks, its capabilities and
// instructions.
func (c *Client) Discovery() mcp.DiscoverResult { return c.session().discover }

// goAsync runs fn in a goroutine that Close and Disconnect wait for; it
// does nothing once the client is closed.
func (c *Client) goAsync(fn func()) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return false
	}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		fn()
	}()
	return true
}

// Close ends the session on the server (DELETE; a 405 means the server
// does not let clients end sessions, which is fine), stops the background
// goroutines and waits for them.
func (c *Client) Close(ctx context.Context) error {
	sess := c.session()
	first := c.stop()
	var err error
	if first && sess.id != "" {
		err = c.deleteSession(ctx, sess)
	}
	c.wait()
	return err
}

// Disconnect stops everything without ending the session on the server.
func (c *Client) Disconnect() {
	c.stop()
	c.wait()
}

func (c *Client) stop() bool {
	c.mu.Lock()
	first := !c.closed
	c.closed = true
	c.mu.Unlock()
	c.cancel()
	return first
}

func (c *Client) wait() {
	c.wg.Wait()
	if c.ownHC {
		c.hc.CloseIdleConnections()
	}
}

func (c *Client) deleteSession(ctx context.Context, sess session) error {
	ctx, cancel := context.WithTimeout(ctx, answerTimeout)
	defer cancel()
	resp, err := c.send(ctx, httpReq{verb: http.MethodDelete, sess: sess})
	if err != nil {
		return fmt.Errorf("ending the session: %w", err)
	}
	switch {
	case resp.StatusCode/100 == 2, resp.StatusCode == http.StatusMethodNotAllowed, resp.StatusCode == http.StatusNotFound:
		drain(resp)
		return nil
	}
	return fmt.Errorf("ending the session: %w", errorFromResponse(resp))
}

// requestContext bounds one request by the caller's context, the client's
// lifetime and RequestTimeout; contextError tells which one ended it. The
// timeout is the server's time to answer: the time an Authorizer spends in
// Challenge (a person logging in through the browser, which has its own
// limit) is not counted (see pauseRequestTimer).
func (c *Client) requestContext(ctx context.Context, method string) (context.Context, context.CancelFunc) {
	ctx, cancelCause := context.WithCancelCause(ctx)
	stop := context.AfterFunc(c.ctx, func() { cancelCause(ErrClosed) })
	var rt *requestTimer
	if c.timeout > 0 {
		te := &TimeoutError{Method: method, After: c.timeout}
		rt = &requestTimer{left: c.timeout, since: time.Now()}
		rt.t = time.AfterFunc(c.timeout, func() { cancelCause(te) })
		ctx = context.WithValue(ctx, requestTimerKey{}, rt)
	}
	return ctx, func() {
		if rt != nil {
			rt.t.Stop()
		}
		stop()
		cancelCause(context.Canceled)
	}
}

// requestTimer is RequestTimeout's clock for one request, stopped while
// the request waits for something other than the server.
type requestTimer struct {
	mu     sync.Mutex
	t      *time.Timer
	left   time.Duration
	since  time.Time
	paused bool
}

type requestTimerKey struct{}

// errStreamIdle ends a GET stream that stayed silent too long.
var errStreamIdle = errors.New("the server sent nothing on the GET stream for too long")

// idleContext ends with errStreamIdle once touch has not been called for
// d. Its timer pauses during an Authorizer's Challenge, as a request's
// does.
func idleContext(parent context.Context, d time.Duration) (ctx context.Context, touch func(), cancel func()) {
	ctx, cancelCause := context.WithCancelCause(parent)
	if d <= 0 {
		return ctx, func() {}, func() { cancelCause(context.Canceled) }
	}
	rt := &requestTimer{left: d, since: time.Now()}
	rt.t = time.AfterFunc(d, func() { cancelCause(errStreamIdle) })
	touch = func() {
		rt.mu.Lock()
		defer rt.mu.Unlock()
		rt.left, rt.since = d, time.Now()
		if !rt.paused {
			rt.t.Reset(d)
		}
	}
	return context.WithValue(ctx, requestTimerKey{}, rt), touch, func() {
		rt.t.Stop()
		cancelCause(context.Canceled)
	}
}

// touchReader calls touch whenever data arrives.
type touchReader struct {
	io.ReadCloser
	touch func()
}

func (r touchReader) Read(p []byte) (int, error) {
	n, err := r.ReadCloser.Read(p)
	if n > 0 {
		r.touch()
	}
	return n, err
}

// pauseRequestTimer stops ctx's request timer (if any) until the returned
// function is called.
func pauseRequestTimer(ctx context.Context) (resume func()) {
	rt, _ := ctx.Value(requestTimerKey{}).(*requestTimer)
	if rt == nil {
		return func() {}
	}
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if rt.paused || !rt.t.Stop() {
		return func() {} // already paused, or already fired
	}
	rt.paused = true
	rt.left -= time.Since(rt.since)
	return func() {
		rt.mu.Lock()
		defer rt.mu.Unlock()
		rt.paused = false
		rt.since = time.Now()
		rt.t.Reset(max(rt.left, 0))
	}
}

// contextError replaces an error caused by the end of ctx with the reason
// ctx ended.
func (c *Client) contextError(ctx context.Context, err error) error {
	if ctx.Err() == nil {
		return err
	}
	if cause := context.Cause(ctx); cause != nil {
		return cause
	}
	return ctx.Err()
}

func decodeResult(msg *mcp.Message, result any) error {
	if msg.Error != nil {
		return &RPCError{Code: msg.Error.Code, Message: msg.Error.Message, Data: msg.Error.Data}
	}
	if result == nil {
		return nil
	}
	if err := json.Unmarshal(msg.Result, result); err != nil {
		return fmt.Errorf("decoding the result: %w", err)
	}
	return nil
}

func drain(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBody))
	resp.Body.Close()
}

func errorFromResponse(resp *http.Response) error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	resp.Body.Close()
	return &HTTPError{StatusCode: resp.StatusCode, Body: string(b)}
}

var errSessionNotFound = errors.New("session not found")
