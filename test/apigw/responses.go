package apigw

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// Gateway response types ("Gateway response types for API Gateway").
const (
	AccessDenied                 = "ACCESS_DENIED"
	APIConfigurationError        = "API_CONFIGURATION_ERROR"
	AuthorizerConfigurationError = "AUTHORIZER_CONFIGURATION_ERROR"
	AuthorizerFailure            = "AUTHORIZER_FAILURE"
	BadRequestParameters         = "BAD_REQUEST_PARAMETERS"
	BadRequestBody               = "BAD_REQUEST_BODY"
	Default4XX                   = "DEFAULT_4XX"
	Default5XX                   = "DEFAULT_5XX"
	ExpiredToken                 = "EXPIRED_TOKEN"
	IntegrationFailure           = "INTEGRATION_FAILURE"
	IntegrationTimeout           = "INTEGRATION_TIMEOUT"
	InvalidAPIKey                = "INVALID_API_KEY"
	InvalidSignature             = "INVALID_SIGNATURE"
	MissingAuthenticationToken   = "MISSING_AUTHENTICATION_TOKEN"
	QuotaExceeded                = "QUOTA_EXCEEDED"
	RequestTooLarge              = "REQUEST_TOO_LARGE"
	ResourceNotFound             = "RESOURCE_NOT_FOUND"
	Throttled                    = "THROTTLED"
	Unauthorized                 = "UNAUTHORIZED"
	UnsupportedMediaType         = "UNSUPPORTED_MEDIA_TYPE"
	WAFFiltered                  = "WAF_FILTERED"
)

// responseType is a gateway response type's default status code and the
// x-amzn-ErrorType API Gateway sends with it.
type responseType struct {
	status  int
	errType string
}

// responseTypes is the table of "Gateway response types for API Gateway".
// DEFAULT_4XX and DEFAULT_5XX have no status of their own ("Null"). The
// error types are those API Gateway is seen to send; an authorizer failure
// of any kind shows AuthorizerConfigurationException.
var responseTypes = map[string]responseType{
	AccessDenied:                 {403, "AccessDeniedException"},
	APIConfigurationError:        {500, "InternalServerErrorException"},
	AuthorizerConfigurationError: {500, "AuthorizerConfigurationException"},
	AuthorizerFailure:            {500, "AuthorizerConfigurationException"},
	BadRequestParameters:         {400, "BadRequestException"},
	BadRequestBody:               {400, "BadRequestException"},
	Default4XX:                   {0, "BadRequestException"},
	Default5XX:                   {0, "InternalServerErrorException"},
	ExpiredToken:                 {403, "ExpiredTokenException"},
	IntegrationFailure:           {504, "InternalServerErrorException"},
	IntegrationTimeout:           {504, "InternalServerErrorException"},
	InvalidAPIKey:                {403, "ForbiddenException"},
	InvalidSignature:             {403, "InvalidSignatureException"},
	MissingAuthenticationToken:   {403, "MissingAuthenticationTokenException"},
	QuotaExceeded:                {429, "LimitExceededException"},
	RequestTooLarge:              {413, "RequestTooLargeException"},
	ResourceNotFound:             {404, "ResourceNotFoundException"},
	Throttled:                    {429, "TooManyRequestsException"},
	Unauthorized:                 {401, "UnauthorizedException"},
	UnsupportedMediaType:         {415, "UnsupportedMediaTypeException"},
	WAFFiltered:                  {403, "ForbiddenException"},
}

// defaultTemplate is the body template of every uncustomised gateway
// response.
const defaultTemplate = `{"message":$context.error.messageString}`

// failure is a gateway response to send.
type failure struct {
	typ     string
	status  int     // replaces the type's default status (502 for a Lambda error)
	message *string // $context.error.message; nil is null
	errType string  // replaces the type's x-amzn-ErrorType
	body    string  // built-in body, when no customisation has a template
}

// compiledResponse is a validated GatewayResponse.
type compiledResponse struct {
	status      int
	headers     []headerParam
	template    string
	hasTemplate bool
}

type headerParam struct {
	name string
	src  paramSource
}

func compileResponse(typ string, gr GatewayResponse) (*compiledResponse, error) {
	if _, ok := responseTypes[typ]; !ok {
		return nil, fmt.Errorf("gateway response %q: unknown response type", typ)
	}
	if gr.StatusCode != 0 && (gr.StatusCode < 100 || gr.StatusCode > 599) {
		return nil, fmt.Errorf("gateway response %s: status code %d", typ, gr.StatusCode)
	}
	cr := &compiledResponse{status: gr.StatusCode}
	for _, key := range sortedKeys(gr.Parameters) {
		name, ok := strings.CutPrefix(key, "gatewayresponse.header.")
		if !ok || !isToken(name) {
			return nil, fmt.Errorf("gateway response %s: parameter %q: only gatewayresponse.header.NAME can be set", typ, key)
		}
		src, err := parseSource(gr.Parameters[key], responseKinds)
		if err != nil {
			return nil, fmt.Errorf("gateway response %s: parameter %s: %w", typ, key, err)
		}
		cr.headers = append(cr.headers, headerParam{name: name, src: src})
	}
	switch t, ok := gr.Templates["application/json"]; {
	case ok:
		cr.template, cr.hasTemplate = t, true
	case len(gr.Templates) == 1:
		for _, t := range gr.Templates {
			cr.template, cr.hasTemplate = t, true
		}
	case len(gr.Templates) > 1:
		return nil, fmt.Errorf("gateway response %s: several templates and none for application/json", typ)
	}
	return cr, nil
}

// fail sends the gateway response for f. The effective customisation is
// the type's own, else DEFAULT_4XX or DEFAULT_5XX by the class of the
// type's status ("If the response type is unspecified, this response
// defaults to the DEFAULT_4XX type"), else none. Gateway responses are
// never remapped: their headers reach the client as configured.
func (g *Gateway) fail(w http.ResponseWriter, c *call, f failure) {
	rt := responseTypes[f.typ]
	status := f.status
	if status == 0 {
		status = rt.status
	}
	errType := f.errType
	if errType == "" {
		errType = rt.errType
	}
	custom := g.responses[f.typ]
	if custom == nil && f.typ != Default4XX && f.typ != Default5XX {
		if status < 500 {
			custom = g.responses[Default4XX]
		} else {
			custom = g.responses[Default5XX]
		}
	}

	tpl := defaultTemplate
	if custom != nil {
		// A DEFAULT_4XX/5XX status replaces that of every response falling
		// back to it ("Changing the status code of this fallback gateway
		// response changes the status codes of all other 4XX responses").
		if custom.status != 0 {
			status = custom.status
		}
		if custom.hasTemplate {
			tpl = custom.template
		}
	}
	body := f.body
	if body == "" || (custom != nil && custom.hasTemplate) {
		body = g.render(tpl, c, &f)
	}

	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Amzn-Requestid", c.id)
	h.Set("X-Amz-Apigw-Id", c.apigwID)
	h.Set("X-Amzn-Errortype", errType)
	if custom != nil {
		for _, hp := range custom.headers {
			if v, ok := g.sourceValue(c, hp.src, &f); ok {
				h.Set(hp.name, v)
			}
		}
	}
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

// srcKind is where a mapping expression takes its value from.
type srcKind int

const (
	srcLiteral srcKind = iota
	srcHeader
	srcMultiHeader
	srcQuery
	srcMultiQuery
	srcPath
	srcStageVar
	srcContext
)

// paramSource is a parsed mapping expression ("Parameter mapping source
// reference for REST APIs").
type paramSource struct {
	kind srcKind
	name string // the literal's text, or the parameter's name
}

var sourcePrefixes = []struct {
	prefix string
	kind   srcKind
}{
	{"method.request.header.", srcHeader},
	{"method.request.multivalueheader.", srcMultiHeader},
	{"method.request.querystring.", srcQuery},
	{"method.request.multivaluequerystring.", srcMultiQuery},
	{"method.request.path.", srcPath},
	{"stageVariables.", srcStageVar},
	{"context.", srcContext},
}

// identityKinds are the expressions a REQUEST authorizer's identity source
// may use in this double; responseKinds those of gateway response
// parameters.
var (
	identityKinds = map[srcKind]bool{srcHeader: true, srcMultiHeader: true, srcQuery: true, srcMultiQuery: true, srcStageVar: true}
	responseKinds = map[srcKind]bool{srcLiteral: true, srcHeader: true, srcQuery: true, srcPath: true, srcStageVar: true, srcContext: true}
)

func parseSource(expr string, allowed map[srcKind]bool) (paramSource, error) {
	var src paramSource
	switch {
	case len(expr) >= 2 && strings.HasPrefix(expr, "'") && strings.HasSuffix(expr, "'"):
		// A static value is quoted in single quotes, which are not part of
		// it.
		src = paramSource{kind: srcLiteral, name: expr[1 : len(expr)-1]}
	default:
		found := false
		for _, p := range sourcePrefixes {
			if name, ok := strings.CutPrefix(expr, p.prefix); ok && name != "" {
				src, found = paramSource{kind: p.kind, name: name}, true
				break
			}
		}
		if !found {
			return src, fmt.Errorf("%q is not a supported mapping expression", expr)
		}
	}
	if !allowed[src.kind] {
		return src, fmt.Errorf("%q cannot be used here", expr)
	}
	return src, nil
}

// sourceValue evaluates a mapping expression for a request; f is the
// failure being answered, if any.
func (g *Gateway) sourceValue(c *call, src paramSource, f *failure) (string, bool) {
	switch src.kind {
	case srcLiteral:
		return src.name, true
	case srcHeader, srcMultiHeader:
		h := c.header
		if h == nil {
			h = c.r.Header
		}
		vs := h.Values(src.name)
		if len(vs) == 0 {
			return "", false
		}
		if src.kind == srcMultiHeader {
			return strings.Join(vs, ","), true
		}
		return vs[len(vs)-1], true
	case srcQuery, srcMultiQuery:
		vs, ok := c.query[src.name]
		if !ok || len(vs) == 0 {
			return "", false
		}
		if src.kind == srcMultiQuery {
			return strings.Join(vs, ","), true
		}
		return vs[len(vs)-1], true
	case srcPath:
		v, ok := c.params[src.name]
		return v, ok
	case srcStageVar:
		v, ok := g.stageVars[src.name]
		return v, ok
	case srcContext:
		return g.contextValue(c, f, src.name)
	}
	return "", false
}

// contextValue is $context.NAME ("$context Variables for data models,
// authorizers, mapping templates, and access logging").
func (g *Gateway) contextValue(c *call, f *failure, name string) (string, bool) {
	if key, ok := strings.CutPrefix(name, "authorizer."); ok {
		v, ok := c.authz[key]
		return v, ok
	}
	switch name {
	case "requestId":
		return c.id, true
	case "extendedRequestId":
		return c.apigwID, true
	case "apiId":
		return g.apiID, true
	case "accountId":
		return g.account, true
	case "stage":
		return g.stage, true
	case "httpMethod":
		return c.r.Method, true
	case "path":
		return "/" + g.stage + c.path, true
	case "domainName":
		return c.r.Host, true
	case "domainPrefix":
		return domainPrefix(c.r.Host), true
	case "protocol":
		return orDefault(c.r.Proto, "HTTP/1.1"), true
	case "requestTime":
		return c.start.UTC().Format("02/Jan/2006:15:04:05 -0700"), true
	case "requestTimeEpoch":
		return strconv.FormatInt(c.start.UnixMilli(), 10), true
	case "identity.sourceIp":
		return sourceIP(c.r), true
	case "identity.userAgent":
		return c.r.UserAgent(), true
	case "resourcePath", "resourceId":
		if c.node == nil {
			return "", false
		}
		if name == "resourceId" {
			return c.node.id, true
		}
		return c.node.path, true
	case "error.responseType":
		if f == nil {
			return "", false
		}
		return f.typ, true
	case "error.message":
		if f == nil || f.message == nil {
			return "", false
		}
		return *f.message, true
	case "error.messageString":
		// The message as a JSON string, or null when there is none (an
		// authorizer failure shows {"message":null}).
		if f == nil {
			return "", false
		}
		if f.message == nil {
			return "null", true
		}
		return jsonString(*f.message), true
	}
	return "", false
}

// render substitutes $name, ${name}, $!name and $!{name} references in a
// gateway response template: $context.X and $stageVariables.X. It is not
// VTL, only its reference rules: a reference without a value is left as
// written (VTL renders an undefined reference literally), the quiet forms
// ($!) render it empty, and anything else (directives, method calls) is
// copied as is.
func (g *Gateway) render(tpl string, c *call, f *failure) string {
	var b strings.Builder
	for i := 0; i < len(tpl); {
		j := strings.IndexByte(tpl[i:], '$')
		if j < 0 {
			b.WriteString(tpl[i:])
			break
		}
		b.WriteString(tpl[i : i+j])
		start := i + j
		k := start + 1
		quiet := k < len(tpl) && tpl[k] == '!'
		if quiet {
			k++
		}
		braced := k < len(tpl) && tpl[k] == '{'
		if braced {
			k++
		}
		n := scanReference(tpl[k:])
		end := k + n
		if n > 0 && braced {
			if end < len(tpl) && tpl[end] == '}' {
				end++
			} else {
				n = 0
			}
		}
		if n == 0 {
			b.WriteByte('$')
			i = start + 1
			continue
		}
		name := tpl[k : k+n]
		v, ok := g.templateValue(c, f, name)
		switch {
		case ok:
			b.WriteString(v)
		case !quiet:
			b.WriteString(tpl[start:end])
		}
		i = end
	}
	return b.String()
}

func (g *Gateway) templateValue(c *call, f *failure, name string) (string, bool) {
	if rest, ok := strings.CutPrefix(name, "context."); ok {
		return g.contextValue(c, f, rest)
	}
	if rest, ok := strings.CutPrefix(name, "stageVariables."); ok {
		v, ok := g.stageVars[rest]
		return v, ok
	}
	return "", false
}

// scanReference returns the length of the VTL reference name at the start
// of s: identifiers (a letter, then letters, digits, - or _) joined by
// dots; a dot not followed by an identifier ends it.
func scanReference(s string) int {
	n := 0
	for {
		m := scanIdentifier(s[n:])
		if m == 0 {
			if n > 0 {
				n-- // the dot before is text
			}
			return n
		}
		n += m
		if n < len(s) && s[n] == '.' {
			n++
			continue
		}
		return n
	}
}

func scanIdentifier(s string) int {
	if s == "" || !isLetter(s[0]) {
		return 0
	}
	n := 1
	for n < len(s) && (isLetter(s[n]) || s[n] >= '0' && s[n] <= '9' || s[n] == '-' || s[n] == '_') {
		n++
	}
	return n
}

func isLetter(b byte) bool { return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' }

// isToken reports whether s is an HTTP field name (RFC 9110 token).
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		b := s[i]
		if isLetter(b) || b >= '0' && b <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", b) >= 0 {
			continue
		}
		return false
	}
	return true
}

// jsonString quotes s as a JSON string, without the HTML escaping of
// json.Marshal.
func jsonString(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	return strings.TrimSuffix(b.String(), "\n")
}
