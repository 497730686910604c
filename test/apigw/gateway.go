package apigw

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// Integration is the AWS_PROXY integration of a method: a Lambda function
// invoked with response streaming (integration URI
// .../2021-11-15/functions/FN/response-streaming-invocations). It returns as
// soon as the function has sent its status and headers; Body delivers the
// rest as the function writes it.
type Integration func(ctx context.Context, ev events.APIGatewayProxyRequest) (*IntegrationResponse, error)

// IntegrationResponse is what a streaming Lambda function answered.
type IntegrationResponse struct {
	StatusCode int         // 0 means 200
	Header     http.Header // as the Lambda function returned them
	// Body is streamed: the gateway copies it to the client as it arrives,
	// flushing after every read. The gateway closes it when the response
	// ends or the client goes away, possibly while a Read is blocked, so
	// Close must be safe to call concurrently with Read (as io.Pipe's is).
	Body io.ReadCloser
}

// AuthorizerFunc is a REQUEST Lambda authorizer function. Returning the
// error "Unauthorized" (exactly) makes the gateway answer 401; any other
// error answers 500.
type AuthorizerFunc func(ctx context.Context, ev events.APIGatewayCustomAuthorizerRequestTypeRequest) (events.APIGatewayCustomAuthorizerResponse, error)

// Config describes a deployed stage of a REST API.
type Config struct {
	// RestAPIID, Region, AccountID and Stage default to "abc123",
	// "us-east-1", "123456789012" and "prod".
	RestAPIID, Region, AccountID, Stage string
	Resources                           []Resource
	// Authorizers by authorizer id.
	Authorizers map[string]*Authorizer
	// GatewayResponses by response type (UNAUTHORIZED, ACCESS_DENIED,
	// MISSING_AUTHENTICATION_TOKEN, DEFAULT_4XX, ...): only the customised
	// ones; the others keep API Gateway's defaults.
	GatewayResponses map[string]GatewayResponse
	// Integration serves every method that has an AWS_PROXY integration.
	Integration Integration
	// Now is the clock of the authorizer cache and of the request times;
	// default time.Now.
	Now func() time.Time
	// StageVariables are passed in every event; nil means none.
	StageVariables map[string]string
	// MaxBodyBytes bounds the request body; default DefaultMaxBodyBytes.
	MaxBodyBytes int64
}

// DefaultMaxBodyBytes is the REST API payload quota, 10 MB ("Amazon API
// Gateway quotas": "Payload size", not adjustable).
const DefaultMaxBodyBytes = 10 << 20

// Resource is an API resource and its methods.
type Resource struct {
	Path string // "/", "/mcp", "/.well-known/{proxy+}"
	// ID is the resource id (requestContext.resourceId); when empty one is
	// derived from Path.
	ID      string
	Methods map[string]Method // by HTTP method, including "ANY"
}

// Method is a method of a resource.
type Method struct {
	AuthorizationType string // "NONE" (or empty) or "CUSTOM"
	AuthorizerID      string
	// Integration is true when the method has an AWS_PROXY integration,
	// which calls Config.Integration; a method without one is answered with
	// the API_CONFIGURATION_ERROR gateway response (500), as API Gateway
	// does when a method's integration cannot be executed.
	Integration bool
}

// Authorizer is a Lambda authorizer.
type Authorizer struct {
	ID, Name string
	Type     string // only "REQUEST" is supported
	// IdentitySource is a comma-separated list of
	// method.request.header.NAME, method.request.multivalueheader.NAME,
	// method.request.querystring.NAME, method.request.multivaluequerystring.NAME
	// or stageVariables.NAME.
	IdentitySource string
	TTL            time.Duration // authorizerResultTtlInSeconds; 0 disables the cache
	Invoke         AuthorizerFunc
}

// GatewayResponse is a customised gateway response.
type GatewayResponse struct {
	StatusCode int // 0 = the type's default
	// Parameters map "gatewayresponse.header.NAME" to "'static text'",
	// method.request.header.X, method.request.querystring.X,
	// method.request.path.X, stageVariables.X or context.X.
	Parameters map[string]string
	// Templates by content type; the "application/json" one (or the only
	// one) is used.
	Templates map[string]string
}

// Gateway is one deployed stage of the API. It is safe for concurrent use.
type Gateway struct {
	apiID, region, account, stage, partition string
	root                                     *node
	responses                                map[string]*compiledResponse
	integration                              Integration
	now                                      func() time.Time
	stageVars                                map[string]string
	maxBody                                  int64

	calls   atomic.Int64
	cacheMu sync.Mutex
	cache   map[string]cacheEntry
}

// New validates cfg and builds the gateway. It rejects what API Gateway
// would refuse to deploy (unknown authorizer ids, a CUSTOM method without an
// authorizer, malformed resource paths or response parameters) and what
// this double does not model (authorizers other than REQUEST).
func New(cfg Config) (*Gateway, error) {
	g := &Gateway{
		apiID:       orDefault(cfg.RestAPIID, "abc123"),
		region:      orDefault(cfg.Region, "us-east-1"),
		account:     orDefault(cfg.AccountID, "123456789012"),
		stage:       orDefault(cfg.Stage, "prod"),
		integration: cfg.Integration,
		now:         cfg.Now,
		stageVars:   cfg.StageVariables,
		maxBody:     cfg.MaxBodyBytes,
		responses:   map[string]*compiledResponse{},
		cache:       map[string]cacheEntry{},
	}
	if g.now == nil {
		g.now = time.Now
	}
	if g.maxBody <= 0 {
		g.maxBody = DefaultMaxBodyBytes
	}
	g.partition = partitionOf(g.region)
	var errs []error
	if strings.ContainsAny(g.stage, "/?#") {
		errs = append(errs, fmt.Errorf("stage %q: not a stage name", g.stage))
	}

	authorizers := map[string]*authorizer{}
	for _, id := range sortedKeys(cfg.Authorizers) {
		a, err := compileAuthorizer(id, cfg.Authorizers[id])
		if err != nil {
			errs = append(errs, err)
			continue
		}
		authorizers[id] = a
	}

	root, err := buildTree(cfg.Resources, func(path, verb string, m Method) (*method, error) {
		cm := &method{integration: m.Integration}
		switch strings.ToUpper(m.AuthorizationType) {
		case "", "NONE":
		case "CUSTOM":
			if m.AuthorizerID == "" {
				return nil, fmt.Errorf("%s %s: authorization CUSTOM without an authorizer id", verb, path)
			}
			a, ok := authorizers[m.AuthorizerID]
			if !ok {
				if _, known := cfg.Authorizers[m.AuthorizerID]; known {
					return nil, fmt.Errorf("%s %s: authorizer %q is invalid", verb, path, m.AuthorizerID)
				}
				return nil, fmt.Errorf("%s %s: unknown authorizer id %q", verb, path, m.AuthorizerID)
			}
			if a.invoke == nil {
				return nil, fmt.Errorf("%s %s: authorizer %q has no Invoke function", verb, path, m.AuthorizerID)
			}
			cm.authorizer = a
		default:
			return nil, fmt.Errorf("%s %s: authorization type %q is not supported (NONE or CUSTOM)", verb, path, m.AuthorizationType)
		}
		if m.Integration && cfg.Integration == nil {
			return nil, fmt.Errorf("%s %s: has an integration but Config.Integration is nil", verb, path)
		}
		return cm, nil
	})
	if err != nil {
		errs = append(errs, err)
	}
	g.root = root

	for _, typ := range sortedKeys(cfg.GatewayResponses) {
		cr, err := compileResponse(typ, cfg.GatewayResponses[typ])
		if err != nil {
			errs = append(errs, err)
			continue
		}
		g.responses[typ] = cr
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("apigw: %w", err)
	}
	return g, nil
}

// AuthorizerCalls reports how many times any authorizer function was
// invoked, cache hits excluded.
func (g *Gateway) AuthorizerCalls() int { return int(g.calls.Load()) }

// StagePath is the path prefix the stage is served under: "/" + stage.
func (g *Gateway) StagePath() string { return "/" + g.stage }

// call is one request going through the gateway.
type call struct {
	r       *http.Request
	id      string // $context.requestId, x-amzn-RequestId
	apigwID string // $context.extendedRequestId, x-amz-apigw-id
	start   time.Time
	path    string   // after the stage, decoded: "/mcp"
	segs    []string // decoded path segments after the stage
	header  http.Header
	query   url.Values
	node    *node // the matched resource; nil before matching
	params  map[string]string
	// authz is the authorizer's answer (principalId and context as
	// strings) once it has answered, for $context.authorizer.
	authz map[string]string
}

// ServeHTTP serves a request the way the stage would.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c := &call{r: r, id: newRequestID(), apigwID: newAPIGWID(), start: g.now()}
	if !g.splitStage(c) {
		// Not a gateway response: without a stage there is no deployment
		// whose customisations could apply.
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("X-Amzn-Requestid", c.id)
		h.Set("X-Amzn-Errortype", "ForbiddenException")
		w.WriteHeader(http.StatusForbidden)
		_, _ = io.WriteString(w, `{"message":"Forbidden"}`)
		return
	}
	c.header = g.eventHeader(r)
	c.query, _ = url.ParseQuery(r.URL.RawQuery)

	// API Gateway buffers the whole request (there is no request streaming)
	// and refuses one over the payload quota before anything else runs.
	body, tooLarge, err := g.readBody(r)
	if err != nil {
		return // the client is gone
	}
	if tooLarge {
		g.fail(w, c, failure{typ: RequestTooLarge, message: ptr("Request Too Long")})
		return
	}

	n, params := g.root.match(c.segs)
	if n == nil || !n.defined {
		g.fail(w, c, failure{typ: MissingAuthenticationToken, message: ptr("Missing Authentication Token")})
		return
	}
	c.node, c.params = n, params
	m := n.methods[r.Method]
	if m == nil {
		m = n.methods["ANY"]
	}
	if m == nil {
		g.fail(w, c, failure{typ: MissingAuthenticationToken, message: ptr("Missing Authentication Token")})
		return
	}
	if m.authorizer != nil {
		if f := g.authorize(c, m.authorizer); f != nil {
			g.fail(w, c, *f)
			return
		}
	}
	if !m.integration {
		g.fail(w, c, failure{typ: APIConfigurationError, message: ptr("Internal server error")})
		return
	}
	g.invoke(w, c, m, body)
}

// splitStage checks the stage segment and sets c.path and c.segs.
func (g *Gateway) splitStage(c *call) bool {
	escaped := c.r.URL.EscapedPath()
	if !strings.HasPrefix(escaped, "/") {
		return false
	}
	parts := strings.Split(escaped[1:], "/")
	if stage, err := url.PathUnescape(parts[0]); err != nil || stage != g.stage {
		return false
	}
	segs := make([]string, 0, len(parts)-1)
	for _, p := range parts[1:] {
		s, err := url.PathUnescape(p)
		if err != nil {
			return false
		}
		segs = append(segs, s)
	}
	c.path = "/" + strings.Join(segs, "/")
	// A trailing slash does not name another resource: /prod/mcp/ is /mcp,
	// and /prod/ is the root (the documentation is silent; this is how
	// REST APIs route in practice).
	if len(segs) > 0 && segs[len(segs)-1] == "" {
		segs = segs[:len(segs)-1]
	}
	c.segs = segs
	return true
}

// readBody reads the whole body, or reports it too large without keeping it.
func (g *Gateway) readBody(r *http.Request) (body []byte, tooLarge bool, err error) {
	if r.ContentLength > g.maxBody {
		return nil, true, nil
	}
	if r.Body == nil {
		return nil, false, nil
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, g.maxBody+1))
	if err != nil {
		return nil, false, err
	}
	if int64(len(b)) > g.maxBody {
		return nil, true, nil
	}
	return b, false, nil
}

// eventHeader is the request's headers as the function sees them: the
// client's, plus Host (which net/http keeps apart) and the forwarding
// headers a regional endpoint adds (X-Forwarded-For with the client address
// appended, X-Forwarded-Proto, X-Forwarded-Port, X-Amzn-Trace-Id). API
// Gateway always reports https and 443, the only way to reach execute-api;
// the double reports how the client really reached it, so that URLs a
// function builds from them lead back to the double.
func (g *Gateway) eventHeader(r *http.Request) http.Header {
	h := r.Header.Clone()
	if h == nil {
		h = http.Header{}
	}
	h.Set("Host", r.Host)
	if ip := sourceIP(r); ip != "" {
		if prior := h.Values("X-Forwarded-For"); len(prior) > 0 {
			h.Set("X-Forwarded-For", strings.Join(prior, ", ")+", "+ip)
		} else {
			h.Set("X-Forwarded-For", ip)
		}
	}
	proto, port := "http", "80"
	if r.TLS != nil {
		proto, port = "https", "443"
	}
	if addr, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		if _, p, err := net.SplitHostPort(addr.String()); err == nil {
			port = p
		}
	}
	h.Set("X-Forwarded-Proto", proto)
	h.Set("X-Forwarded-Port", port)
	if h.Get("X-Amzn-Trace-Id") == "" {
		h.Set("X-Amzn-Trace-Id", fmt.Sprintf("Root=1-%08x-%s", time.Now().Unix(), randomHex(12)))
	}
	return h
}

// headerMaps returns fresh single- and multi-value header maps. For a
// repeated header the single-value map holds the last value ("Input format
// of a Lambda function for proxy integration").
func (c *call) headerMaps() (map[string]string, map[string][]string) {
	return lastValues(c.header), allValues(c.header)
}

// queryMaps are like headerMaps for the query string; nil when it is empty.
func (c *call) queryMaps() (map[string]string, map[string][]string) {
	if len(c.query) == 0 {
		return nil, nil
	}
	return lastValues(c.query), allValues(c.query)
}

func (c *call) pathParams() map[string]string {
	if len(c.params) == 0 {
		return nil
	}
	out := make(map[string]string, len(c.params))
	for k, v := range c.params {
		out[k] = v
	}
	return out
}

func (g *Gateway) stageVariables() map[string]string {
	if len(g.stageVars) == 0 {
		return nil
	}
	out := make(map[string]string, len(g.stageVars))
	for k, v := range g.stageVars {
		out[k] = v
	}
	return out
}

// methodARN is the ARN the authorizer's policy is evaluated against:
// arn:PARTITION:execute-api:REGION:ACCOUNT:API/STAGE/VERB/PATH, with the
// path actually requested (not the resource template) and the request's own
// verb even for an ANY method ("Input to an API Gateway Lambda authorizer",
// methodArn; "Control access to a REST API with IAM permissions",
// execute-api resource ARNs).
func (g *Gateway) methodARN(c *call) string {
	return "arn:" + g.partition + ":execute-api:" + g.region + ":" + g.account + ":" +
		g.apiID + "/" + g.stage + "/" + c.r.Method + "/" + strings.TrimPrefix(c.path, "/")
}

// invoke calls the Lambda proxy integration and streams its response.
func (g *Gateway) invoke(w http.ResponseWriter, c *call, m *method, body []byte) {
	single, multi := c.headerMaps()
	qs, mqs := c.queryMaps()
	ev := events.APIGatewayProxyRequest{
		Resource:                        c.node.path,
		Path:                            c.path,
		HTTPMethod:                      c.r.Method,
		Headers:                         single,
		MultiValueHeaders:               multi,
		QueryStringParameters:           qs,
		MultiValueQueryStringParameters: mqs,
		PathParameters:                  c.pathParams(),
		StageVariables:                  g.stageVariables(),
		Body:                            string(body),
		// The API declares no binary media types, so bodies are passed as
		// text ("Binary media types for REST APIs").
		IsBase64Encoded: false,
		RequestContext:  g.requestContext(c, m),
	}

	ctx, cancel := context.WithCancel(c.r.Context())
	defer cancel()
	resp, err := g.integration(ctx, ev)
	status := http.StatusOK
	if resp != nil && resp.StatusCode != 0 {
		status = resp.StatusCode
	}
	if err != nil || resp == nil || status < 100 || status > 599 {
		if resp != nil && resp.Body != nil {
			_ = resp.Body.Close()
		}
		// A failed invocation or a malformed proxy response is a 502
		// "Internal server error" ("Handle Lambda errors in API Gateway":
		// malformed Lambda proxy response). It is a 5XX gateway response,
		// so a DEFAULT_5XX customisation shapes it; INTEGRATION_FAILURE
		// (504) is not what a Lambda proxy error shows.
		g.fail(w, c, failure{
			typ: Default5XX, status: http.StatusBadGateway, message: ptr("Internal server error"),
			errType: "InternalServerErrorException", body: `{"message": "Internal server error"}`,
		})
		return
	}

	rb := resp.Body
	if rb == nil {
		rb = http.NoBody
	}
	var once sync.Once
	closeBody := func() { once.Do(func() { _ = rb.Close() }) }
	defer closeBody()
	// The client going away ends the invocation: unblock a Read that waits
	// for the function.
	stop := context.AfterFunc(ctx, closeBody)
	defer stop()

	h := w.Header()
	pass, renamed := remapHeaders(resp.Header)
	for k, vs := range pass {
		for _, v := range vs {
			h.Add(k, v)
		}
	}
	for _, rh := range renamed {
		// Set under API Gateway's spelling; net/http writes map keys as
		// they are.
		h[rh.wire] = append(h[rh.wire], rh.values...)
	}
	h.Set("Date", g.now().UTC().Format(http.TimeFormat))
	h.Set("X-Amzn-Requestid", c.id)
	h.Set("X-Amz-Apigw-Id", c.apigwID)
	w.WriteHeader(status)

	rc := http.NewResponseController(w)
	// The status and headers reach the client as soon as the function has
	// sent them, before any body: an SSE client sees its stream open.
	if err := rc.Flush(); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return
	}
	buf := make([]byte, 32<<10)
	for {
		n, err := rb.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return
			}
			if ferr := rc.Flush(); ferr != nil && !errors.Is(ferr, http.ErrNotSupported) {
				return
			}
		}
		if err == io.EOF {
			return
		}
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			// The function failed mid-stream: the status is gone, so the
			// only honest signal left is a cut connection.
			panic(http.ErrAbortHandler)
		}
	}
}

// requestContext builds requestContext of the proxy event. For a CUSTOM
// method the authorizer map holds principalId and every key of the
// authorizer's context, the values as strings: REST APIs deliver context
// numbers and booleans stringified ("Output from an API Gateway Lambda
// authorizer": the context is passed as $context.authorizer.key, whose
// values are strings in the Lambda proxy event), so 1700000000 arrives as
// "1700000000" and true as "true". integrationLatency is the authorizer
// latency in milliseconds, a JSON number, so float64 after the Lambda
// runtime's decoding; the double always reports 0.
func (g *Gateway) requestContext(c *call, m *method) events.APIGatewayProxyRequestContext {
	rc := events.APIGatewayProxyRequestContext{
		AccountID:         g.account,
		ResourceID:        c.node.id,
		Stage:             g.stage,
		DomainName:        c.r.Host,
		DomainPrefix:      domainPrefix(c.r.Host),
		RequestID:         c.id,
		ExtendedRequestID: c.apigwID,
		Protocol:          orDefault(c.r.Proto, "HTTP/1.1"),
		Identity: events.APIGatewayRequestIdentity{
			SourceIP:  sourceIP(c.r),
			UserAgent: c.r.UserAgent(),
		},
		ResourcePath:     c.node.path,
		Path:             "/" + g.stage + c.path,
		HTTPMethod:       c.r.Method,
		RequestTime:      c.start.UTC().Format("02/Jan/2006:15:04:05 -0700"),
		RequestTimeEpoch: c.start.UnixMilli(),
		APIID:            g.apiID,
	}
	if m.authorizer != nil && c.authz != nil {
		az := make(map[string]any, len(c.authz)+1)
		for k, v := range c.authz {
			az[k] = v
		}
		az["integrationLatency"] = float64(0)
		rc.Authorizer = az
	}
	return rc
}

func sourceIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func domainPrefix(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if i := strings.IndexByte(host, '.'); i >= 0 {
		return host[:i]
	}
	return host
}

// partitionOf is the ARN partition of a region.
func partitionOf(region string) string {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	}
	return "aws"
}

// newRequestID is a UUID (version 4), the form of API Gateway request ids.
func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	x := hex.EncodeToString(b[:])
	return x[0:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:]
}

// newAPIGWID has the shape of x-amz-apigw-id: 12 base64 characters ending
// in "=".
func newAPIGWID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return base64.StdEncoding.EncodeToString(b[:])[:11] + "="
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func lastValues(m map[string][]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, vs := range m {
		if len(vs) > 0 {
			out[k] = vs[len(vs)-1]
		}
	}
	return out
}

func allValues(m map[string][]string) map[string][]string {
	out := make(map[string][]string, len(m))
	for k, vs := range m {
		if len(vs) > 0 {
			out[k] = append([]string(nil), vs...)
		}
	}
	return out
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func ptr(s string) *string { return &s }

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
