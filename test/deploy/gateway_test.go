package deploy

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"mcplambda/client"
	"mcplambda/client/smoke"
	"mcplambda/mcp"
	"mcplambda/test/apigw"
	"mcplambda/test/lambdaemu"
	"mcplambda/test/moto"
)

// functionBinaries are race-enabled builds of the two Lambda functions,
// run under test/lambdaemu behind the gateway double.
type functionBinaries struct{ server, authorizer string }

// deployed is a deployment on moto brought to life: the API Gateway double
// built from the REST API that make deploy configured, in front of the real
// functions (started with the environment deploy gave them) under the
// Lambda double, on the execute-api host name over TLS.
type deployed struct {
	t          *testing.T
	url        string // https://API.execute-api.REGION.amazonaws.com/prod/mcp
	base       string // the same without /mcp
	gw         *apigw.Gateway
	server     *lambdaemu.Function
	authorizer *lambdaemu.Function
	hc         *http.Client
}

// bringUp reads the deployment back from moto and starts it. jwks, when
// set, replaces the pool's JWKS URL (which names the real Cognito) in both
// functions' environments.
func (e *env) bringUp(apiID string, bins functionBinaries, srv *moto.Server, jwks string) *deployed {
	t := e.t
	t.Helper()
	cliJSON := func(args ...string) []byte {
		var raw json.RawMessage
		e.aws(&raw, args...)
		return raw
	}
	cfg, err := apigw.FromCLI(
		cliJSON("apigateway", "get-resources", "--rest-api-id", apiID, "--embed", "methods"),
		cliJSON("apigateway", "get-authorizers", "--rest-api-id", apiID),
		cliJSON("apigateway", "get-gateway-responses", "--rest-api-id", apiID))
	if err != nil {
		t.Fatalf("the deployed API: %v", err)
	}
	cfg.RestAPIID, cfg.Region, cfg.AccountID, cfg.Stage = apiID, region, account, "prod"

	fns := e.functions()
	envOf := func(name string) []string {
		f, ok := fns[name]
		if !ok {
			t.Fatalf("function %s was not deployed", name)
		}
		var out []string
		for k, v := range f.Environment.Variables {
			out = append(out, k+"="+v)
		}
		// What only a test needs: moto for DynamoDB, and its credentials.
		for _, kv := range srv.Environ() {
			if strings.HasPrefix(kv, "AWS_") {
				out = append(out, kv)
			}
		}
		if jwks != "" {
			out = append(out, "OAUTH_JWKS_URL="+jwks)
		}
		return out
	}
	d := &deployed{t: t}
	d.server = lambdaemu.Start(t, lambdaemu.Options{Binary: bins.server, Env: envOf(e.fn), FunctionName: e.fn, MaxInstances: 4, Timeout: 2 * time.Minute})
	d.authorizer = lambdaemu.Start(t, lambdaemu.Options{Binary: bins.authorizer, Env: envOf(e.authzFn), FunctionName: e.authzFn, MaxInstances: 4, Timeout: 30 * time.Second})
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server function:\n%s", tail(d.server.Logs(), 40))
			t.Logf("authorizer function:\n%s", tail(d.authorizer.Logs(), 40))
		}
		for _, f := range []*lambdaemu.Function{d.server, d.authorizer} {
			if u := f.Unexpected(); len(u) != 0 {
				t.Errorf("unexpected Runtime API calls: %q", u)
			}
		}
	})
	for _, a := range cfg.Authorizers {
		a.Invoke = d.invokeAuthorizer
	}
	cfg.Integration = d.invokeServer
	if d.gw, err = apigw.New(cfg); err != nil {
		t.Fatal(err)
	}

	host := apiID + ".execute-api." + region + ".amazonaws.com"
	d.base = "https://" + host + "/prod"
	d.url = d.base + "/mcp"
	cert, pool := selfSigned(t, host)
	ts := httptest.NewUnstartedServer(d.gw)
	ts.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	ts.StartTLS()
	t.Cleanup(ts.Close)
	addr := ts.Listener.Addr().String()
	d.hc = &http.Client{Transport: &http.Transport{
		// The execute-api host name resolves to the double.
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		},
		TLSClientConfig:       &tls.Config{RootCAs: pool},
		ResponseHeaderTimeout: time.Minute,
	}}
	return d
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// invokeAuthorizer is API Gateway calling the authorizer function: its
// error message ("Unauthorized") is what the gateway acts on.
func (d *deployed) invokeAuthorizer(ctx context.Context, ev events.APIGatewayCustomAuthorizerRequestTypeRequest) (events.APIGatewayCustomAuthorizerResponse, error) {
	var resp events.APIGatewayCustomAuthorizerResponse
	payload, err := json.Marshal(ev)
	if err != nil {
		return resp, err
	}
	res, err := d.authorizer.Invoke(ctx, payload)
	if err != nil {
		return resp, err
	}
	if res.FunctionError != nil {
		return resp, errors.New(res.FunctionError.Message)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return resp, err
	}
	// A failure after the response started is known only once it is read.
	if res.FunctionError != nil {
		return resp, errors.New(res.FunctionError.Message)
	}
	return resp, json.Unmarshal(body, &resp)
}

// invokeServer is the streaming Lambda proxy integration.
func (d *deployed) invokeServer(ctx context.Context, ev events.APIGatewayProxyRequest) (*apigw.IntegrationResponse, error) {
	r, err := d.server.InvokeHTTP(ctx, ev)
	if err != nil {
		return nil, err
	}
	return &apigw.IntegrationResponse{StatusCode: r.StatusCode, Header: r.Header, Body: r.Body}, nil
}

// selfSigned is a certificate for host, and a pool that trusts it.
func selfSigned(t *testing.T, host string) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: host}, DNSNames: []string{host},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

type answer struct {
	status int
	header http.Header
	body   []byte
}

// do sends one request through the gateway.
func (d *deployed) do(method, url, token, body string) answer {
	d.t.Helper()
	ctx, cancel := context.WithTimeout(d.t.Context(), time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, url, strings.NewReader(body))
	if err != nil {
		d.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	if token != "" {
		req.Header.Set("Authorization", token)
	}
	resp, err := d.hc.Do(req)
	if err != nil {
		d.t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		d.t.Fatalf("%s %s: reading the body: %v", method, url, err)
	}
	return answer{resp.StatusCode, resp.Header, b}
}

const initializeBody = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"gateway-test","version":"1"}}}`

// refusal checks a 401 or 403 as a client receives it: from the gateway
// (not the function), with the challenge in a real WWW-Authenticate
// header, and a JSON-RPC error body.
func (d *deployed) refusal(name string, a answer, status int, challenge string) {
	d.t.Helper()
	if a.status != status {
		d.t.Errorf("%s: status %d, want %d: %s", name, a.status, status, a.body)
		return
	}
	if got := a.header.Get("WWW-Authenticate"); got != challenge {
		d.t.Errorf("%s: WWW-Authenticate %q, want %q", name, got, challenge)
	}
	if got := a.header.Get("X-Amzn-Remapped-Www-Authenticate"); got != "" {
		d.t.Errorf("%s: the challenge came from the function (renamed): %q", name, got)
	}
	if a.header.Get("X-Amzn-Errortype") == "" {
		d.t.Errorf("%s: not a gateway response", name)
	}
	var m struct {
		JSONRPC string
		Error   struct {
			Code    int
			Message string
		}
	}
	if err := json.Unmarshal(a.body, &m); err != nil || m.JSONRPC != "2.0" || m.Error.Code != -32000 || m.Error.Message == "" {
		d.t.Errorf("%s: body %s, want a JSON-RPC error -32000", name, a.body)
	}
}

// runSmoke runs make smoke's checks through the gateway and logs their
// lines, in both eras. Forced into the session era every check must pass,
// the session surviving a second instance included; negotiated, the
// client speaks the stateless era, where only that check is skipped
// (there is no session to lose).
func (d *deployed) runSmoke(auth client.Authorizer, apiKey bool) string {
	d.t.Helper()
	var all string
	for _, version := range []string{mcp.LatestVersion, ""} {
		var out bytes.Buffer
		ctx, cancel := context.WithTimeout(d.t.Context(), 5*time.Minute)
		results := smoke.Run(ctx, smoke.Target{URL: d.url, Auth: auth, APIKey: apiKey, HTTPClient: d.hc, ProtocolVersion: version}, &out)
		cancel()
		d.t.Logf("smoke through the gateway double (protocol %q):\n%s", version, out.String())
		if smoke.AnyFailed(results) || len(results) != smoke.NumChecks {
			d.t.Errorf("smoke (protocol %q): %s", version, smoke.Summary(results))
		}
		for _, r := range results {
			if r.Status == smoke.Skipped && (version != "" || r.Name != "instances") {
				d.t.Errorf("smoke check %s skipped (protocol %q): %s", r.Name, version, r.Detail)
			}
		}
		all += out.String()
	}
	return all
}

// minter signs Cognito-shaped access tokens with a key of its own, served
// beside the pool's real keys (fetched from moto) in one JWKS.
type minter struct {
	key     *rsa.PrivateKey
	jwksURL string
	iss     string
}

func newMinter(t *testing.T, srv *moto.Server, pool string) *minter {
	t.Helper()
	set, err := moto.FetchJWKS(t.Context(), srv.URL+"/"+pool+"/.well-known/jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	body, err := json.Marshal(moto.JWKS{Keys: append(set.Keys, moto.PublicJWK(&key.PublicKey, "gateway-test"))})
	if err != nil {
		t.Fatal(err)
	}
	js := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}))
	t.Cleanup(js.Close)
	return &minter{key: key, jwksURL: js.URL + "/jwks.json", iss: "https://cognito-idp." + region + ".amazonaws.com/" + pool}
}

// token mints an access token valid for lifetime from now; kv overrides
// claims (nil deletes one).
func (m *minter) token(t *testing.T, clientID, scope string, lifetime time.Duration, kv ...any) string {
	t.Helper()
	now := time.Now()
	claims := map[string]any{
		"iss": m.iss, "sub": "0000-gateway-user", "client_id": clientID, "token_use": "access", "scope": scope,
		"username": "gateway-user", "iat": now.Add(-time.Minute).Unix(), "exp": now.Add(lifetime).Unix(), "jti": fmt.Sprint(now.UnixNano()),
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(claims, kv[i].(string))
		} else {
			claims[kv[i].(string)] = kv[i+1]
		}
	}
	tok, err := moto.SignRS256(m.key, "gateway-test", claims)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// throughGatewayOAuth: a deployment with AUTH=oauth, as a client meets it.
// Every refusal on /mcp is the gateway's, with a real WWW-Authenticate;
// discovery needs no token; a valid token reaches the server; and make
// smoke's four checks pass (streaming through the Lambda and gateway
// doubles, a session kept across two execution environments by DynamoDB).
func throughGatewayOAuth(t *testing.T, e *env, srv *moto.Server, bins functionBinaries, apiID, url, pool, clientID string) {
	m := newMinter(t, srv, pool)
	d := e.bringUp(apiID, bins, srv, m.jwksURL)
	scope := url + "/mcp"
	metadata := d.base + "/.well-known/oauth-protected-resource/mcp"
	unauthorized := `Bearer scope="` + scope + `", resource_metadata="` + metadata + `"`
	denied := `Bearer error="insufficient_scope", scope="` + scope + `", resource_metadata="` + metadata + `"`

	valid := m.token(t, clientID, "openid "+scope, time.Hour)
	refusals := []struct {
		name, header string
		status       int
		challenge    string
	}{
		{"no token", "", 401, unauthorized},
		{"another scheme", "Basic dXNlcjpwYXNz", 401, unauthorized},
		{"a malformed token", "Bearer not-a-jwt", 401, unauthorized},
		{"two tokens", "Bearer " + valid + " " + valid, 401, unauthorized},
		{"an expired token", "Bearer " + m.token(t, clientID, scope, -time.Minute), 401, unauthorized},
		{"a token about to expire (inside the authorizer's cache TTL)", "Bearer " + m.token(t, clientID, scope, 4*time.Minute), 401, unauthorized},
		{"another client's token", "Bearer " + m.token(t, "someone-elses-client", scope, time.Hour), 401, unauthorized},
		{"a token of another issuer", "Bearer " + m.token(t, clientID, scope, time.Hour, "iss", "https://cognito-idp."+region+".amazonaws.com/"+region+"_Other"), 401, unauthorized},
		{"an ID token", "Bearer " + m.token(t, clientID, scope, time.Hour, "token_use", "id"), 401, unauthorized},
		{"a tampered token", "Bearer " + valid[:len(valid)-4] + "AAAA", 401, unauthorized},
		{"a token without the MCP scope", "Bearer " + m.token(t, clientID, "openid", time.Hour), 403, denied},
	}
	for _, r := range refusals {
		for _, verb := range []string{"POST", "GET", "DELETE"} {
			d.refusal(r.name+", "+verb, d.do(verb, url, r.header, initializeBody), r.status, r.challenge)
		}
	}

	// Discovery needs no token and names the same URLs.
	a := d.do("GET", metadata, "", "")
	var prm struct {
		Resource             string   `json:"resource"`
		AuthorizationServers []string `json:"authorization_servers"`
	}
	if a.status != 200 || json.Unmarshal(a.body, &prm) != nil || prm.Resource != url || len(prm.AuthorizationServers) != 1 {
		t.Errorf("resource metadata: %d %s", a.status, a.body)
	}
	// What a client falls back to without the challenge: not routable.
	if a := d.do("GET", "https://"+apiID+".execute-api."+region+".amazonaws.com/.well-known/oauth-protected-resource/prod/mcp", "", ""); a.status != 403 {
		t.Errorf("root metadata URL: %d %s, want API Gateway's 403 (why the challenge must arrive)", a.status, a.body)
	}
	// An unknown method or path is not an authorization problem.
	for _, u := range []string{"PUT " + url, "GET " + d.base + "/nothing-here"} {
		verb, target, _ := strings.Cut(u, " ")
		a := d.do(verb, target, "Bearer "+valid, "")
		if a.status != 404 || a.header.Get("WWW-Authenticate") != "" || !strings.Contains(string(a.body), `"code":-32600`) {
			t.Errorf("%s: %d %v %s, want 404 with a JSON-RPC body and no challenge", u, a.status, a.header, a.body)
		}
	}

	// A valid token reaches the server, which verifies it again itself.
	calls := d.gw.AuthorizerCalls()
	a = d.do("POST", url, "Bearer "+valid, initializeBody)
	if a.status != 200 || a.header.Get("Mcp-Session-Id") == "" {
		t.Fatalf("initialize with a valid token: %d %s", a.status, a.body)
	}
	sid := a.header.Get("Mcp-Session-Id")
	a = d.do("POST", url, "Bearer "+valid, initializeBody) // cached by the gateway this time
	if a.status != 200 {
		t.Errorf("second initialize: %d %s", a.status, a.body)
	}
	if got := d.gw.AuthorizerCalls() - calls; got != 1 {
		t.Errorf("authorizer invoked %d times for two requests with one token, want 1 (cached)", got)
	}
	req, _ := http.NewRequestWithContext(t.Context(), "DELETE", url, nil)
	req.Header.Set("Authorization", "Bearer "+valid)
	req.Header.Set("Mcp-Session-Id", sid)
	if resp, err := d.hc.Do(req); err != nil || resp.StatusCode != 200 {
		t.Errorf("DELETE: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}

	d.runSmoke(client.StaticToken(valid), false)
	if n := d.server.Instances(); n < 2 {
		t.Errorf("the server ran in %d execution environment(s): the instances check did not exercise a second one", n)
	}
}

// throughGatewayAPIKey: a deployment with AUTH=lambda and an API key.
func throughGatewayAPIKey(t *testing.T, e *env, srv *moto.Server, bins functionBinaries, apiID, url, key string) {
	d := e.bringUp(apiID, bins, srv, "")
	for _, r := range []struct{ name, header string }{
		{"no key", ""}, {"a wrong key", "Bearer " + strings.Repeat("k", 43)}, {"the key with another scheme", "Basic " + key},
	} {
		d.refusal(r.name, d.do("POST", url, r.header, initializeBody), 401, `Bearer realm="mcp"`)
	}
	d.runSmoke(client.StaticToken(key), true)
}
