package chaos

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"mcplambda/mcp"
)

// badCase is one bad input, sent to the real server as a client would.
type badCase struct {
	name string
	// server: "apikey" (API keys, the default) or "oauth" (JWTs).
	server string
	method string // default POST
	// session: "" none, "own" (2025-11-25), "old" (2025-03-26), "other"
	// (another principal's), "ended" (deleted), or a literal id.
	session string
	body    string
	hdr     map[string]string // "" deletes a header; "Host" sets the Host
	// auth: "" the principal's key (or a valid token), "none" no
	// Authorization header, or a literal header value; token, if set,
	// makes the bearer token (oauth server).
	auth  string
	token func(m *tokenMint, k signingKey) string

	status int // expected HTTP status; 0: any 4xx, or a JSON-RPC error in a 200
	code   int // expected JSON-RPC error code; 0: none expected (or any, with status 0)
	// toolErr: a tool result with isError (argument errors go to the
	// model, not the protocol).
	toolErr bool
	// pending marks a limit that is being added: the row is shown, not
	// checked, until it is wired in.
	pending bool
}

// badCases are the bad inputs of the server's own tests (server/
// handler_test.go, modern_test.go, bearer_test.go, origin_test.go), sent
// here through the real binary, and those of the limits of issue 13 that
// are being added (pending).
func badCases() []badCase {
	list := `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`
	call := func(params string) string {
		return `{"jsonrpc":"2.0","id":9,"method":"tools/call","params":` + params + `}`
	}
	modern := func(method, params string) string {
		if params != "" {
			params += ","
		}
		return `{"jsonrpc":"2.0","id":7,"method":"` + method + `","params":{` + params +
			`"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/clientInfo":{"name":"t","version":"1"}}}}`
	}
	modernCall := modern("tools/call", `"name":"greet","arguments":{"name":"x"}`)
	mh := func(kv ...string) map[string]string {
		h := map[string]string{"Mcp-Protocol-Version": mcp.Version20260728, "Mcp-Method": "tools/call", "Mcp-Name": "greet"}
		for i := 0; i < len(kv); i += 2 {
			h[kv[i]] = kv[i+1]
		}
		return h
	}
	init := func(extra string) string {
		return `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{` + extra + `},"clientInfo":{"name":"t","version":"1"}}}`
	}
	var batch101 strings.Builder
	batch101.WriteString("[")
	for i := range 101 {
		if i > 0 {
			batch101.WriteString(",")
		}
		fmt.Fprintf(&batch101, `{"jsonrpc":"2.0","id":%d,"method":"tools/list"}`, i+1)
	}
	batch101.WriteString("]")
	big := func(n int) string { return strings.Repeat("x", n) }
	return []badCase{
		// Transport: headers and body.
		{name: "Accept missing", session: "own", body: list, hdr: map[string]string{"Accept": ""}, status: 406, code: mcp.CodeInvalidRequest},
		{name: "Accept: application/json only", session: "own", body: list, hdr: map[string]string{"Accept": "application/json"}, status: 406, code: mcp.CodeInvalidRequest},
		{name: "Accept refuses SSE (q=0)", session: "own", body: list, hdr: map[string]string{"Accept": "application/json, text/event-stream;q=0"}, status: 406, code: mcp.CodeInvalidRequest},
		{name: "Content-Type text/plain", session: "own", body: list, hdr: map[string]string{"Content-Type": "text/plain"}, status: 415, code: mcp.CodeInvalidRequest},
		{name: "Content-Type missing", session: "own", body: list, hdr: map[string]string{"Content-Type": ""}, status: 415, code: mcp.CodeInvalidRequest},
		{name: "body over MAX_BODY_BYTES (64 KiB here)", session: "own", body: `{"jsonrpc":"2.0","id":1,"method":"ping","params":{"x":"` + big(70<<10) + `"}}`, status: 413, code: mcp.CodeInvalidRequest},
		{name: "malformed JSON", session: "own", body: `{"jsonrpc":`, status: 400, code: mcp.CodeParseError},
		{name: "empty body", session: "own", body: ``, status: 400, code: mcp.CodeParseError},
		{name: "jsonrpc 1.0", session: "own", body: `{"jsonrpc":"1.0","id":5,"method":"ping"}`, status: 400, code: mcp.CodeInvalidRequest},
		{name: "id is an object", session: "own", body: `{"jsonrpc":"2.0","id":{},"method":"ping"}`, status: 400, code: mcp.CodeInvalidRequest},
		{name: "a JSON string, not a message", session: "own", body: `"hello"`, status: 400, code: mcp.CodeInvalidRequest},
		{name: "method not allowed (PUT)", method: http.MethodPut, session: "own", status: 405, code: mcp.CodeInvalidRequest},
		// Sessions.
		{name: "no Mcp-Session-Id", body: list, status: 400, code: mcp.CodeInvalidRequest},
		{name: "unknown session", session: "nope", body: list, status: 404, code: mcp.CodeSessionNotFound},
		{name: "ended (deleted) session", session: "ended", body: list, status: 404, code: mcp.CodeSessionNotFound},
		{name: "another principal's session", session: "other", body: list, status: 404, code: mcp.CodeSessionNotFound},
		{name: "DELETE another principal's session", method: http.MethodDelete, session: "other", status: 404, code: mcp.CodeSessionNotFound},
		{name: "DELETE without session", method: http.MethodDelete, status: 405, code: mcp.CodeInvalidRequest},
		{name: "DELETE unknown session", method: http.MethodDelete, session: "nope", status: 404, code: mcp.CodeSessionNotFound},
		{name: "GET without text/event-stream", method: http.MethodGet, session: "own", hdr: map[string]string{"Accept": "application/json"}, status: 406, code: mcp.CodeInvalidRequest},
		{name: "GET without session", method: http.MethodGet, hdr: map[string]string{"Accept": "text/event-stream"}, status: 405, code: mcp.CodeInvalidRequest},
		{name: "GET unknown Last-Event-ID", method: http.MethodGet, session: "own", hdr: map[string]string{"Accept": "text/event-stream", "Last-Event-ID": "99-1"}, status: 400, code: mcp.CodeInvalidRequest},
		{name: "initialize without protocolVersion", body: `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"capabilities":{}}}`, status: 400, code: mcp.CodeInvalidParams},
		{name: "initialize as a notification", body: `{"jsonrpc":"2.0","method":"initialize","params":{}}`, status: 400, code: mcp.CodeInvalidRequest},
		// Protocol version header, session era.
		{name: "unsupported MCP-Protocol-Version", session: "own", body: list, hdr: map[string]string{"Mcp-Protocol-Version": "1999-01-01"}, status: 400, code: mcp.CodeInvalidRequest},
		{name: "MCP-Protocol-Version differs from the session's", session: "own", body: list, hdr: map[string]string{"Mcp-Protocol-Version": "2025-06-18"}, status: 400, code: mcp.CodeInvalidRequest},
		// Batches.
		{name: "batch after 2025-03-26", session: "own", body: "[" + list + "]", status: 400, code: mcp.CodeInvalidRequest},
		{name: "initialize in a batch (2025-03-26)", session: "old", body: `[{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-03-26","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}]`, status: 400, code: mcp.CodeInvalidRequest},
		{name: "empty batch (2025-03-26)", session: "old", body: `[]`, status: 400, code: mcp.CodeInvalidRequest},
		{name: "batch of wrong shapes [1,\"x\",null,{}] (2025-03-26)", session: "old", body: `[1,"x",null,{}]`, status: 200, code: mcp.CodeInvalidRequest},
		// Requests the dispatcher refuses.
		{name: "unknown method", session: "own", body: `{"jsonrpc":"2.0","id":"m","method":"nope/nope"}`, status: 200, code: mcp.CodeMethodNotFound},
		{name: "unknown tool", session: "own", body: call(`{"name":"missing"}`), status: 200, code: mcp.CodeInvalidParams},
		{name: "tool name missing", session: "own", body: call(`{}`), status: 200, code: mcp.CodeInvalidParams},
		{name: "tool name not a string", session: "own", body: call(`{"name":5}`), status: 200, code: mcp.CodeInvalidParams},
		{name: "tool arguments not an object", session: "own", body: call(`{"name":"greet","arguments":[1]}`), status: 200, code: mcp.CodeInvalidParams},
		{name: "tool argument missing", session: "own", body: call(`{"name":"greet","arguments":{}}`), status: 200, toolErr: true},
		{name: "tool argument wrong type", session: "own", body: call(`{"name":"greet","arguments":{"name":1}}`), status: 200, toolErr: true},
		{name: "tool argument over maxLength (201 chars)", session: "own", body: call(`{"name":"greet","arguments":{"name":"` + big(201) + `"}}`), status: 200, toolErr: true},
		{name: "bad cursor", session: "own", body: `{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"cursor":"zzz"}}`, status: 200, code: mcp.CodeInvalidParams},
		{name: "unknown resource", session: "own", body: `{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"uri":"test://none"}}`, status: 200, code: mcp.CodeResourceNotFound},
		{name: "unknown prompt", session: "own", body: `{"jsonrpc":"2.0","id":1,"method":"prompts/get","params":{"name":"x"}}`, status: 200, code: mcp.CodeInvalidParams},
		{name: "bad logging level", session: "own", body: `{"jsonrpc":"2.0","id":1,"method":"logging/setLevel","params":{"level":"loud"}}`, status: 200, code: mcp.CodeInvalidParams},
		{name: "completion with a bad ref", session: "own", body: `{"jsonrpc":"2.0","id":1,"method":"completion/complete","params":{"ref":{"type":"ref/x"},"argument":{"name":"a","value":""}}}`, status: 200, code: mcp.CodeInvalidParams},
		// Origin and Host.
		{name: "foreign Origin", session: "own", body: list, hdr: map[string]string{"Origin": "http://evil.example.com"}, status: 403, code: mcp.CodeInvalidRequest},
		{name: "Origin: null", session: "own", body: list, hdr: map[string]string{"Origin": "null"}, status: 403},
		{name: "foreign Host (DNS rebinding)", session: "own", body: list, hdr: map[string]string{"Host": "evil.example.com"}, status: 403, code: mcp.CodeInvalidRequest},
		// Stateless era (2026-07-28): headers against the body.
		{name: "2026-07-28: MCP-Protocol-Version missing", body: modernCall, hdr: mh("Mcp-Protocol-Version", ""), status: 400, code: mcp.CodeHeaderMismatch},
		{name: "2026-07-28: _meta missing", body: `{"jsonrpc":"2.0","id":7,"method":"tools/list","params":{}}`, hdr: mh("Mcp-Method", "tools/list", "Mcp-Name", ""), status: 400, code: mcp.CodeInvalidParams},
		{name: "2026-07-28: header version differs from _meta", body: modernCall, hdr: mh("Mcp-Protocol-Version", "2025-11-25"), status: 400, code: mcp.CodeHeaderMismatch},
		{name: "2026-07-28: unsupported version", body: strings.ReplaceAll(modernCall, "2026-07-28", "1900-01-01"), hdr: mh("Mcp-Protocol-Version", "1900-01-01"), status: 400, code: mcp.CodeUnsupportedProtocolVersion},
		{name: "2026-07-28: Mcp-Method missing", body: modernCall, hdr: mh("Mcp-Method", ""), status: 400, code: mcp.CodeHeaderMismatch},
		{name: "2026-07-28: Mcp-Method differs from method", body: modernCall, hdr: mh("Mcp-Method", "tools/list"), status: 400, code: mcp.CodeHeaderMismatch},
		{name: "2026-07-28: Mcp-Name differs from the tool", body: modernCall, hdr: mh("Mcp-Name", "other"), status: 400, code: mcp.CodeHeaderMismatch},
		{name: "2026-07-28: removed method ping", body: modern("ping", ""), hdr: mh("Mcp-Method", "ping", "Mcp-Name", ""), status: 404, code: mcp.CodeMethodNotFound},
		{name: "2026-07-28: unknown method", body: modern("nope/nope", ""), hdr: mh("Mcp-Method", "nope/nope", "Mcp-Name", ""), status: 404, code: mcp.CodeMethodNotFound},
		// Authentication, API keys.
		{name: "no Authorization", session: "own", body: list, auth: "none", status: 401},
		{name: "unknown API key", session: "own", body: list, auth: "Bearer not-a-key", status: 401},
		{name: "Basic instead of Bearer", session: "own", body: list, auth: "Basic dXNlcjpwYXNz", status: 401},
		// Authentication, OAuth access tokens.
		{name: "oauth: no token", server: "oauth", body: init(""), auth: "none", status: 401},
		{name: "oauth: garbage token", server: "oauth", body: init(""), auth: "Bearer abc.def.ghi", status: 401},
		{name: "oauth: token with a space", server: "oauth", body: init(""), auth: "Bearer abc def", status: 400},
		{name: "oauth: token over 8 KiB", server: "oauth", body: init(""), auth: "Bearer " + big(9000), status: 401},
		{name: "oauth: expired", server: "oauth", body: init(""), token: func(m *tokenMint, k signingKey) string {
			return m.sign(k, k.kid, func(c jwt.MapClaims) { c["exp"] = time.Now().Add(-5 * time.Minute).Unix() })
		}, status: 401},
		{name: "oauth: wrong audience", server: "oauth", body: init(""), token: func(m *tokenMint, k signingKey) string {
			return m.sign(k, k.kid, func(c jwt.MapClaims) { c["aud"] = "https://other.example/mcp" })
		}, status: 401},
		{name: "oauth: wrong issuer", server: "oauth", body: init(""), token: func(m *tokenMint, k signingKey) string {
			return m.sign(k, k.kid, func(c jwt.MapClaims) { c["iss"] = "https://evil.example" })
		}, status: 401},
		{name: "oauth: alg none", server: "oauth", body: init(""), token: func(m *tokenMint, k signingKey) string {
			tok := jwt.NewWithClaims(jwt.SigningMethodNone, m.claims(nil))
			tok.Header["kid"] = k.kid
			s, _ := tok.SignedString(jwt.UnsafeAllowNoneSignatureType)
			return s
		}, status: 401},
		{name: "oauth: unknown kid", server: "oauth", body: init(""), token: func(m *tokenMint, k signingKey) string { return m.sign(k, "kid-unknown", nil) }, status: 401},
		// The limits of issue 13, findings 2 and 3.
		{name: "batch of 101 (2025-03-26)", session: "old", body: batch101.String(), status: 400, code: -32600},
		{name: "progressToken of 300 bytes", session: "own", body: `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"greet","arguments":{"name":"x"},"_meta":{"progressToken":"` + big(300) + `"}}}`, status: 200, code: -32602},
		{name: "request id of 300 bytes", session: "own", body: `{"jsonrpc":"2.0","id":"` + big(300) + `","method":"tools/list"}`, status: 400, code: -32600},
		{name: "clientInfo of 20 KiB", body: strings.Replace(init(""), `"name":"t"`, `"name":"`+big(20<<10)+`"`, 1), status: 400, code: -32602},
		{name: "capabilities of 20 KiB", body: init(`"experimental":{"x":"` + big(20<<10) + `"}`), status: 400, code: -32602},
	}
}

// badOutcome is what the client got.
type badOutcome struct {
	status int
	code   int    // 0: no JSON-RPC error
	msg    string // the error message, the tool error or the body
	tool   bool   // a tool result with isError
}

func readBadOutcome(resp *http.Response) badOutcome {
	o := badOutcome{status: resp.StatusCode}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	text := strings.TrimSpace(string(b))
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		for line := range strings.Lines(text) {
			if d, ok := strings.CutPrefix(strings.TrimSpace(line), "data:"); ok && strings.Contains(d, `"id"`) {
				text = strings.TrimSpace(d)
			}
		}
	}
	var one struct {
		Error *struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
		Result *struct {
			IsError bool `json:"isError"`
			Content []struct {
				Text string `json:"text"`
			} `json:"content"`
		} `json:"result"`
	}
	var batch []json.RawMessage
	if json.Unmarshal([]byte(text), &batch) == nil && len(batch) > 0 {
		text = string(batch[0]) // the first answer of a batch
	}
	switch {
	case json.Unmarshal([]byte(text), &one) != nil:
		o.msg = text
	case one.Error != nil:
		o.code, o.msg = one.Error.Code, one.Error.Message
	case one.Result != nil && one.Result.IsError && len(one.Result.Content) > 0:
		o.tool, o.msg = true, one.Result.Content[0].Text
	case one.Result != nil:
		o.msg = "(answered normally)"
	default:
		o.msg = text
	}
	if o.status == http.StatusUnauthorized || o.status == http.StatusForbidden {
		if c := resp.Header.Get("WWW-Authenticate"); c != "" && o.msg == "" {
			o.msg = "WWW-Authenticate: " + c
		}
	}
	if len(batch) > 1 {
		o.msg = fmt.Sprintf("[%d answers] %s", len(batch), o.msg)
	}
	return o
}

// refused reports whether the outcome refuses the request: a 4xx, or a
// JSON-RPC error or tool error in a 200.
func (o badOutcome) refused() bool {
	return (o.status >= 400 && o.status < 500) || o.code != 0 || o.tool
}

func (c badCase) check(o badOutcome) error {
	switch {
	case c.status == 0 && !o.refused():
		return fmt.Errorf("accepted")
	case c.status != 0 && o.status != c.status:
		return fmt.Errorf("HTTP %d, want %d", o.status, c.status)
	case c.code != 0 && o.code != c.code:
		return fmt.Errorf("code %d, want %d", o.code, c.code)
	case c.toolErr && !o.tool:
		return fmt.Errorf("no tool error")
	}
	return nil
}

func short(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return strings.ReplaceAll(s, "|", "\\|")
}

// TestBadInput sends every bad input of badCases to the built server (API
// keys, and a second one with OAuth tokens against a key set of the test)
// and prints what each gets: HTTP status, JSON-RPC code, and the start of
// the message. Every row must get its expected answer, except the pending
// limits, which are shown only.
func TestBadInput(t *testing.T) {
	s := loadSettings(t)
	bin := serverBinary(t, s)
	ps := newPrincipals(2)
	_, url := startServer(t, s, bin, ps, "MAX_BODY_BYTES=65536")
	key := newSigningKey(t, "key-1")
	j := startJWKS(t, map[string]any{"keys": []any{key.jwk()}}, nil)
	iss := "http://" + j.addr
	_, oauthURL := startOAuthServer(t, s, bin, iss, iss+"/jwks")
	mint := &tokenMint{issuer: iss, audience: oauthURL}
	ctx := t.Context()
	hc := &http.Client{Timeout: 30 * time.Second}

	// The sessions the cases name.
	rec := newRecorder()
	own := &client{hc: hc, url: url, p: ps[0], rec: rec}
	other := &client{hc: hc, url: url, p: ps[1], rec: rec}
	sessions := map[string]string{}
	var err error
	if sessions["own"], err = own.initialize(ctx, "chaos-bad"); err != nil {
		t.Fatal(err)
	}
	if sessions["old"], err = openSession(ctx, own, mcp.Version20250326); err != nil {
		t.Fatal(err)
	}
	if sessions["other"], err = other.initialize(ctx, "chaos-bad-other"); err != nil {
		t.Fatal(err)
	}
	if sessions["ended"], err = own.initialize(ctx, "chaos-bad-ended"); err != nil {
		t.Fatal(err)
	}
	if err := own.delete(ctx, sessions["ended"]); err != nil {
		t.Fatal(err)
	}

	cases := badCases()
	var b strings.Builder
	fmt.Fprintf(&b, "### Bad input: %d cases against bin/mcp-server\n\n", len(cases))
	b.WriteString("| case | HTTP | JSON-RPC code | message (first 60 characters) | result |\n|---|---:|---:|---|---|\n")
	var failed []string
	for _, c := range cases {
		o, err := sendBad(ctx, hc, c, url, oauthURL, ps[0], sessions, mint, key)
		verdict := "as expected"
		switch {
		case err != nil:
			verdict = "**error**: " + err.Error()
			failed = append(failed, c.name+": "+err.Error())
		case c.pending && o.refused():
			verdict = "pending limit: refused"
		case c.pending:
			verdict = "pending limit: not refused yet"
		default:
			if cerr := c.check(o); cerr != nil {
				verdict = "**unexpected**: " + cerr.Error()
				failed = append(failed, c.name+": "+cerr.Error()+" ("+short(o.msg, 120)+")")
			}
		}
		code := "-"
		switch {
		case o.code != 0:
			code = strconv.Itoa(o.code)
		case o.tool:
			code = "isError result"
		}
		fmt.Fprintf(&b, "| %s | %d | %s | %s | %s |\n", short(c.name, 80), o.status, code, short(o.msg, 60), verdict)
	}
	report(t, s, b.String())
	for _, f := range failed {
		t.Error(f)
	}
}

func sendBad(ctx context.Context, hc *http.Client, c badCase, url, oauthURL string, p principal, sessions map[string]string, mint *tokenMint, key signingKey) (badOutcome, error) {
	method := c.method
	if method == "" {
		method = http.MethodPost
	}
	target := url
	if c.server == "oauth" {
		target = oauthURL
	}
	var body io.Reader
	if c.body != "" || method == http.MethodPost {
		body = strings.NewReader(c.body)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return badOutcome{}, err
	}
	req.Header.Set("Accept", "application/json, text/event-stream")
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.session != "" {
		sid, ok := sessions[c.session]
		if !ok {
			sid = c.session
		}
		req.Header.Set("Mcp-Session-Id", sid)
		v := mcp.Version20251125
		if c.session == "old" {
			v = mcp.Version20250326
		}
		req.Header.Set("Mcp-Protocol-Version", v)
	}
	switch {
	case c.token != nil:
		req.Header.Set("Authorization", "Bearer "+c.token(mint, key))
	case c.auth == "none":
	case c.auth != "":
		req.Header.Set("Authorization", c.auth)
	case c.server == "oauth":
		req.Header.Set("Authorization", "Bearer "+mint.sign(key, key.kid, nil))
	default:
		req.Header.Set("Authorization", "Bearer "+p.key)
	}
	for k, v := range c.hdr {
		switch {
		case k == "Host":
			req.Host = v
		case v == "":
			req.Header.Del(k)
		default:
			req.Header.Set(k, v)
		}
	}
	resp, err := hc.Do(req)
	if err != nil {
		return badOutcome{}, err
	}
	defer resp.Body.Close()
	return readBadOutcome(resp), nil
}
