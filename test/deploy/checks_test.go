package deploy

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"mcplambda/internal/reqstate"
)

type function struct {
	FunctionName  string
	PackageType   string
	Role          string
	Runtime       string
	Handler       string
	Architectures []string
	MemorySize    int
	Timeout       int
	Environment   struct{ Variables map[string]string }
}

// functions lists moto's functions by name.
func (e *env) functions() map[string]function {
	var out struct{ Functions []function }
	e.aws(&out, "lambda", "list-functions")
	m := map[string]function{}
	for _, f := range out.Functions {
		m[f.FunctionName] = f
	}
	return m
}

func (e *env) checkFunction(f function, pkg, arch string, memory, timeout int, wantEnv map[string]string) {
	e.t.Helper()
	if f.PackageType != pkg || !slices.Equal(f.Architectures, []string{arch}) || f.MemorySize != memory || f.Timeout != timeout {
		e.t.Errorf("function %s: package %s, architectures %v, memory %d, timeout %d; want %s, [%s], %d, %d",
			f.FunctionName, f.PackageType, f.Architectures, f.MemorySize, f.Timeout, pkg, arch, memory, timeout)
	}
	if want := "arn:aws:iam::" + account + ":role/" + f.FunctionName + "-role"; f.Role != want {
		e.t.Errorf("function %s: role %s, want %s", f.FunctionName, f.Role, want)
	}
	got := f.Environment.Variables
	if _, ok := wantEnv["REQUEST_STATE_KEY"]; ok {
		// A generated secret: check it is one, and compare the rest.
		if _, err := reqstate.ParseKey(got["REQUEST_STATE_KEY"]); err != nil {
			e.t.Errorf("function %s: REQUEST_STATE_KEY: %v", f.FunctionName, err)
		}
		got, wantEnv = maps.Clone(got), maps.Clone(wantEnv)
		if want := wantEnv["REQUEST_STATE_KEY"]; want != "" && got["REQUEST_STATE_KEY"] != want {
			e.t.Errorf("function %s: REQUEST_STATE_KEY changed across deploys", f.FunctionName)
		}
		delete(got, "REQUEST_STATE_KEY")
		delete(wantEnv, "REQUEST_STATE_KEY")
	}
	if !maps.Equal(got, wantEnv) {
		e.t.Errorf("function %s environment:\n got %v\nwant %v", f.FunctionName, f.Environment.Variables, wantEnv)
	}
}

// restAPIs returns the ids of the REST APIs with the deployment's name.
func (e *env) restAPIs() []string {
	var out struct {
		Items []struct {
			ID                    string
			Name                  string
			EndpointConfiguration struct{ Types []string }
		}
	}
	e.aws(&out, "apigateway", "get-rest-apis")
	var ids []string
	for _, a := range out.Items {
		if a.Name == e.api {
			if !slices.Equal(a.EndpointConfiguration.Types, []string{"REGIONAL"}) {
				e.t.Errorf("REST API %s endpoint types %v, want [REGIONAL]", a.ID, a.EndpointConfiguration.Types)
			}
			ids = append(ids, a.ID)
		}
	}
	return ids
}

func (e *env) singleAPI() string {
	e.t.Helper()
	ids := e.restAPIs()
	if len(ids) != 1 {
		e.t.Fatalf("REST APIs named %s: %v, want exactly one", e.api, ids)
	}
	return ids[0]
}

type method struct {
	AuthorizationType string
	AuthorizerID      string `json:"authorizerId"`
	MethodIntegration *struct {
		Type            string
		HTTPMethod      string `json:"httpMethod"`
		URI             string `json:"uri"`
		TimeoutInMillis int
	}
}

// checkRoutes checks the resources, the methods' authorization and the
// streaming Lambda proxy integrations.
func (e *env) checkRoutes(apiID, mcpAuth, authorizerID string) {
	e.t.Helper()
	var out struct {
		Items []struct {
			Path            string
			ResourceMethods map[string]method
		}
	}
	e.aws(&out, "apigateway", "get-resources", "--rest-api-id", apiID, "--embed", "methods")
	byPath := map[string]map[string]method{}
	for _, r := range out.Items {
		if _, dup := byPath[r.Path]; dup {
			e.t.Errorf("resource %s exists twice", r.Path)
		}
		byPath[r.Path] = r.ResourceMethods
	}
	if got := slices.Sorted(maps.Keys(byPath)); !slices.Equal(got, []string{"/", "/.well-known", "/.well-known/{proxy+}", "/mcp"}) {
		e.t.Errorf("resources %v", got)
	}
	uri := fmt.Sprintf("arn:aws:apigateway:%s:lambda:path/2021-11-15/functions/arn:aws:lambda:%s:%s:function:%s/response-streaming-invocations",
		region, region, account, e.fn)
	type want struct{ path, verb, auth, authorizer string }
	wants := []want{
		{"/mcp", "POST", mcpAuth, authorizerID},
		{"/mcp", "GET", mcpAuth, authorizerID},
		{"/mcp", "DELETE", mcpAuth, authorizerID},
		{"/mcp", "OPTIONS", "NONE", ""},
		{"/.well-known/{proxy+}", "ANY", "NONE", ""},
	}
	for _, w := range wants {
		m, ok := byPath[w.path][w.verb]
		if !ok {
			e.t.Errorf("%s %s: no method", w.verb, w.path)
			continue
		}
		if m.AuthorizationType != w.auth || m.AuthorizerID != w.authorizer {
			e.t.Errorf("%s %s: authorization %s/%q, want %s/%q", w.verb, w.path, m.AuthorizationType, m.AuthorizerID, w.auth, w.authorizer)
		}
		in := m.MethodIntegration
		if in == nil || in.Type != "AWS_PROXY" || in.HTTPMethod != "POST" || in.URI != uri || in.TimeoutInMillis != 900000 {
			e.t.Errorf("%s %s: integration %+v, want AWS_PROXY POST %s 900000 ms", w.verb, w.path, in, uri)
		}
	}
	n := 0
	for _, ms := range byPath {
		n += len(ms)
	}
	if n != len(wants) {
		e.t.Errorf("%d methods, want %d", n, len(wants))
	}
}

// checkStreamingCalls asserts, from the recorded CLI calls, what moto drops:
// every integration was put with response streaming.
func (e *env) checkStreamingCalls(want int) {
	e.t.Helper()
	calls := e.callsOf("apigateway", "put-integration")
	if len(calls) != want {
		e.t.Errorf("put-integration called %d times, want %d", len(calls), want)
	}
	for _, c := range calls {
		if argValue(c, "--response-transfer-mode") != "STREAM" || argValue(c, "--type") != "AWS_PROXY" ||
			argValue(c, "--timeout-in-millis") != "900000" || !strings.HasSuffix(argValue(c, "--uri"), "/response-streaming-invocations") {
			e.t.Errorf("put-integration without streaming: %q", c)
		}
	}
}

// checkNoCreates asserts a redeploy created nothing but the new deployment.
func (e *env) checkNoCreates() {
	e.t.Helper()
	for _, c := range e.callsOf("", "") {
		for _, a := range c {
			if (strings.HasPrefix(a, "create-") && a != "create-deployment") || a == "add-permission" || a == "put-method" {
				e.t.Errorf("redeploy called %s: %q", a, c)
			}
		}
	}
}

type statement struct {
	Sid       string
	Action    any
	Resource  any // one ARN, or a list
	Condition map[string]map[string]string
}

// checkPermission: exactly one statement lets API Gateway invoke fn.
func (e *env) checkPermission(fn, sid, sourceArn string) {
	e.t.Helper()
	var out struct{ Policy string }
	e.aws(&out, "lambda", "get-policy", "--function-name", fn)
	var policy struct{ Statement []statement }
	if err := json.Unmarshal([]byte(out.Policy), &policy); err != nil {
		e.t.Fatal(err)
	}
	if len(policy.Statement) != 1 {
		e.t.Fatalf("%s policy has %d statements, want 1: %s", fn, len(policy.Statement), out.Policy)
	}
	s := policy.Statement[0]
	if s.Sid != sid || s.Action != "lambda:InvokeFunction" || s.Condition["ArnLike"]["AWS:SourceArn"] != sourceArn {
		e.t.Errorf("%s permission %+v, want %s for %s", fn, s, sid, sourceArn)
	}
}

// rolePolicy returns the inline policy's statements by Sid, with their
// actions and resources (a list joined by commas).
func (e *env) rolePolicy(role string) map[string]string {
	e.t.Helper()
	var out struct {
		PolicyDocument struct{ Statement []statement }
	}
	e.aws(&out, "iam", "get-role-policy", "--role-name", role, "--policy-name", role+"-policy")
	m := map[string]string{}
	for _, s := range out.PolicyDocument.Statement {
		var actions []string
		switch a := s.Action.(type) {
		case string:
			actions = []string{a}
		case []any:
			for _, x := range a {
				actions = append(actions, fmt.Sprint(x))
			}
		}
		var resources []string
		switch r := s.Resource.(type) {
		case string:
			resources = []string{r}
		case []any:
			for _, x := range r {
				resources = append(resources, fmt.Sprint(x))
			}
		}
		m[s.Sid] = strings.Join(actions, ",") + " on " + strings.Join(resources, ",")
	}
	return m
}

// checkServerRole: the server's policy grants exactly what it uses.
// readers are the accounts whose reader role it may assume: exactly
// those, and none at all (no wildcard account) when there are none. No
// statement reaches beyond its own resources (logs:DescribeLogGroups on
// every group is gone).
func (e *env) checkServerRole(readers ...string) {
	e.t.Helper()
	got := e.rolePolicy(e.fn + "-role")
	want := map[string]string{
		"OwnLogs":                "logs:CreateLogStream,logs:PutLogEvents on arn:aws:logs:" + region + ":" + account + ":log-group:/aws/lambda/" + e.fn + ":*",
		"BedrockInvocationLogs":  "logs:FilterLogEvents on arn:aws:logs:*:" + account + ":log-group:/aws/bedrock/modelinvocations:*",
		"BedrockInsightsQuery":   "logs:StartQuery on arn:aws:logs:*:" + account + ":log-group:/aws/bedrock/modelinvocations:*",
		"BedrockInsightsResults": "logs:GetQueryResults,logs:StopQuery on *",
		"Sessions": "dynamodb:GetItem,dynamodb:PutItem,dynamodb:UpdateItem,dynamodb:DeleteItem,dynamodb:DescribeTable on " +
			"arn:aws:dynamodb:" + region + ":" + account + ":table/" + e.table,
	}
	if len(readers) > 0 {
		var arns []string
		for _, a := range readers {
			arns = append(arns, "arn:aws:iam::"+a+":role/BedrockUsageReader")
		}
		want["CrossAccountBedrockReader"] = "sts:AssumeRole on " + strings.Join(arns, ",")
	}
	if !maps.Equal(got, want) {
		e.t.Errorf("server role policy:\n got %v\nwant %v", got, want)
	}
	for sid, grant := range got {
		// GetQueryResults and StopQuery name a query id and have no IAM
		// resource type: "*" is the only resource they accept.
		anyResourceOK := sid == "BedrockInsightsResults" && grant == "logs:GetQueryResults,logs:StopQuery on *"
		if strings.Contains(grant, "DescribeLogGroups") || strings.Contains(grant, "::*:") || (strings.HasSuffix(grant, " on *") && !anyResourceOK) {
			e.t.Errorf("server role statement %s grants too much: %s", sid, grant)
		}
	}
}

func (e *env) checkTable() {
	e.t.Helper()
	var table struct {
		Table struct {
			KeySchema            []struct{ AttributeName, KeyType string }
			AttributeDefinitions []struct{ AttributeName, AttributeType string }
			BillingModeSummary   struct{ BillingMode string }
		}
	}
	e.aws(&table, "dynamodb", "describe-table", "--table-name", e.table)
	tb := table.Table
	if len(tb.KeySchema) != 1 || tb.KeySchema[0].AttributeName != "session_id" || tb.KeySchema[0].KeyType != "HASH" ||
		len(tb.AttributeDefinitions) != 1 || tb.AttributeDefinitions[0].AttributeType != "S" ||
		tb.BillingModeSummary.BillingMode != "PAY_PER_REQUEST" {
		e.t.Errorf("table %s: %+v", e.table, tb)
	}
	var ttl struct {
		TimeToLiveDescription struct{ TimeToLiveStatus, AttributeName string }
	}
	e.aws(&ttl, "dynamodb", "describe-time-to-live", "--table-name", e.table)
	if d := ttl.TimeToLiveDescription; d.TimeToLiveStatus != "ENABLED" || d.AttributeName != "expires_at" {
		e.t.Errorf("table %s TTL: %+v", e.table, d)
	}
}

// logGroups returns the retention of the deployment's function log groups.
func (e *env) logGroups() map[string]int {
	var out struct {
		LogGroups []struct {
			LogGroupName    string
			RetentionInDays int
		}
	}
	e.aws(&out, "logs", "describe-log-groups", "--log-group-name-prefix", "/aws/lambda/"+e.fn[:3])
	m := map[string]int{}
	for _, g := range out.LogGroups {
		m[g.LogGroupName] = g.RetentionInDays
	}
	return m
}

type gatewayResponse struct {
	ResponseType       string
	StatusCode         string
	ResponseParameters map[string]string
	ResponseTemplates  map[string]string
	DefaultResponse    bool
}

// checkGatewayResponses: the gateway answers refusals itself (its
// responses are not renamed, unlike a Lambda's WWW-Authenticate), with the
// RFC 6750 / RFC 9728 challenges, and every answer it makes has a JSON-RPC
// error body. challenge401 and challenge403 are the WWW-Authenticate values.
func (e *env) checkGatewayResponses(apiID, challenge401, challenge403 string) {
	e.t.Helper()
	got := e.customGatewayResponses(apiID)
	type want struct {
		status    string
		challenge string
		code      int
		message   string // a substring; "$" = the template passes API Gateway's message through
	}
	wants := map[string]want{
		"UNAUTHORIZED":                   {"401", challenge401, -32000, "Unauthorized"},
		"ACCESS_DENIED":                  {"403", challenge403, -32000, "Forbidden"},
		"MISSING_AUTHENTICATION_TOKEN":   {"404", "", -32600, "Not Found"},
		"AUTHORIZER_FAILURE":             {"500", "", -32603, "authorizer"},
		"AUTHORIZER_CONFIGURATION_ERROR": {"500", "", -32603, "authorizer"},
		"DEFAULT_4XX":                    {"", "", -32600, "$"},
		"DEFAULT_5XX":                    {"", "", -32603, "$"},
	}
	if names := slices.Sorted(maps.Keys(got)); !slices.Equal(names, slices.Sorted(maps.Keys(wants))) {
		e.t.Errorf("customised gateway responses %v, want %v", names, slices.Sorted(maps.Keys(wants)))
	}
	for typ, w := range wants {
		r := got[typ]
		if r.StatusCode != w.status {
			e.t.Errorf("%s: status %q, want %q", typ, r.StatusCode, w.status)
		}
		params := r.ResponseParameters
		if w.challenge != "" {
			if params["gatewayresponse.header.WWW-Authenticate"] != "'"+w.challenge+"'" ||
				params["gatewayresponse.header.Access-Control-Expose-Headers"] != "'WWW-Authenticate'" {
				e.t.Errorf("%s: headers %v, want WWW-Authenticate '%s', exposed to browsers", typ, params, w.challenge)
			}
		} else if _, ok := params["gatewayresponse.header.WWW-Authenticate"]; ok {
			e.t.Errorf("%s: a challenge on a response that is not a refusal: %v", typ, params)
		}
		if params["gatewayresponse.header.Access-Control-Allow-Origin"] != "'*'" {
			e.t.Errorf("%s: no CORS header: %v", typ, params)
		}
		tmpl := r.ResponseTemplates["application/json"]
		if w.message == "$" {
			if want := fmt.Sprintf(`{"jsonrpc":"2.0","id":null,"error":{"code":%d,"message":$context.error.messageString}}`, w.code); tmpl != want {
				e.t.Errorf("%s: template %s, want %s", typ, tmpl, want)
			}
			continue
		}
		var body struct {
			JSONRPC string
			ID      *int
			Error   struct {
				Code    int
				Message string
			}
		}
		if err := json.Unmarshal([]byte(tmpl), &body); err != nil || body.JSONRPC != "2.0" || body.ID != nil ||
			body.Error.Code != w.code || !strings.Contains(body.Error.Message, w.message) {
			e.t.Errorf("%s: template %q, want a JSON-RPC error %d saying %q", typ, tmpl, w.code, w.message)
		}
	}
}

type authorizerConf struct {
	ID                           string
	Name                         string
	Type                         string
	IdentitySource               string
	AuthorizerURI                string `json:"authorizerUri"`
	AuthorizerResultTTLInSeconds int    `json:"authorizerResultTtlInSeconds"`
}

// checkAuthorizer: exactly one REQUEST authorizer, on the Authorization
// header, invoking the authorizer function, caching for ttl; returns its id.
func (e *env) checkAuthorizer(apiID string, ttl int) string {
	e.t.Helper()
	var out struct{ Items []authorizerConf }
	e.aws(&out, "apigateway", "get-authorizers", "--rest-api-id", apiID)
	if len(out.Items) != 1 {
		e.t.Fatalf("authorizers %+v, want one", out.Items)
	}
	a := out.Items[0]
	wantURI := "arn:aws:apigateway:" + region + ":lambda:path/2015-03-31/functions/arn:aws:lambda:" + region + ":" + account + ":function:" + e.authzFn + "/invocations"
	if a.Name != e.authzFn || a.Type != "REQUEST" || a.IdentitySource != "method.request.header.Authorization" ||
		a.AuthorizerURI != wantURI || a.AuthorizerResultTTLInSeconds != ttl {
		e.t.Errorf("authorizer %+v, want REQUEST on the Authorization header, %s, TTL %d", a, wantURI, ttl)
	}
	return a.ID
}

// checkAuthorizerPackage: the zip deploy built holds bootstrap, an
// executable for the function's architecture (ELF e_machine).
func (e *env) checkAuthorizerPackage(arch string) {
	e.t.Helper()
	zr, err := zip.OpenReader(filepath.Join(e.deploy, "authorizer.zip"))
	if err != nil {
		e.t.Fatalf("the authorizer package: %v", err)
	}
	defer zr.Close()
	if len(zr.File) != 1 || zr.File[0].Name != "bootstrap" || zr.File[0].Mode().Perm() != 0o755 {
		e.t.Fatalf("authorizer.zip entries %v, want bootstrap alone, mode 0755", zr.File)
	}
	rc, err := zr.File[0].Open()
	if err != nil {
		e.t.Fatal(err)
	}
	defer rc.Close()
	f, err := elf.NewFile(readerAt(e.t, rc))
	if err != nil {
		e.t.Fatalf("bootstrap is not an ELF executable: %v", err)
	}
	want := map[string]elf.Machine{"x86_64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}[arch]
	if f.Machine != want || f.Type != elf.ET_EXEC {
		e.t.Errorf("bootstrap is %v %v, want an executable for %v", f.Type, f.Machine, want)
	}
}

func readerAt(t *testing.T, r io.Reader) io.ReaderAt {
	t.Helper()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.NewReader(b)
}

func (e *env) customGatewayResponses(apiID string) map[string]gatewayResponse {
	var out struct{ Items []gatewayResponse }
	e.aws(&out, "apigateway", "get-gateway-responses", "--rest-api-id", apiID)
	m := map[string]gatewayResponse{}
	for _, r := range out.Items {
		if !r.DefaultResponse {
			m[r.ResponseType] = r
		}
	}
	return m
}

func (e *env) checkStage(apiID string) {
	e.t.Helper()
	var out struct {
		Item []struct{ StageName, DeploymentID string }
	}
	e.aws(&out, "apigateway", "get-stages", "--rest-api-id", apiID)
	if len(out.Item) != 1 || out.Item[0].StageName != "prod" {
		e.t.Errorf("stages %+v, want prod only", out.Item)
	}
}

// userPools returns the ids of the pools named NAME.
func (e *env) userPools(name string) []string {
	var out struct{ UserPools []struct{ ID, Name string } }
	e.aws(&out, "cognito-idp", "list-user-pools", "--max-results", "60")
	var ids []string
	for _, p := range out.UserPools {
		if p.Name == name {
			ids = append(ids, p.ID)
		}
	}
	return ids
}

type cognitoState struct {
	pool, client, domain string
}

// checkCognito checks the pool, its domain, resource server and app client,
// and that each exists once.
func (e *env) checkCognito(url string) cognitoState {
	e.t.Helper()
	pools := e.userPools(e.api + "-users")
	if len(pools) != 1 {
		e.t.Fatalf("user pools named %s-users: %v, want one", e.api, pools)
	}
	st := cognitoState{pool: pools[0]}
	var pool struct {
		UserPool struct {
			Domain       string
			UserPoolTags map[string]string
		}
	}
	e.aws(&pool, "cognito-idp", "describe-user-pool", "--user-pool-id", st.pool)
	st.domain = pool.UserPool.Domain
	if want := e.api + "-" + account; st.domain != want || pool.UserPool.UserPoolTags["mcplambda-deployment"] != e.api {
		e.t.Errorf("pool domain %q tags %v, want domain %q and tag mcplambda-deployment=%s", st.domain, pool.UserPool.UserPoolTags, want, e.api)
	}
	var rs struct {
		ResourceServers []struct {
			Identifier string
			Scopes     []struct{ ScopeName string }
		}
	}
	e.aws(&rs, "cognito-idp", "list-resource-servers", "--user-pool-id", st.pool, "--max-results", "50")
	if len(rs.ResourceServers) != 1 || rs.ResourceServers[0].Identifier != url ||
		len(rs.ResourceServers[0].Scopes) != 1 || rs.ResourceServers[0].Scopes[0].ScopeName != "mcp" {
		e.t.Errorf("resource servers %+v, want one %s with scope mcp", rs.ResourceServers, url)
	}
	var clients struct {
		UserPoolClients []struct{ ClientID, ClientName string }
	}
	e.aws(&clients, "cognito-idp", "list-user-pool-clients", "--user-pool-id", st.pool, "--max-results", "60")
	if len(clients.UserPoolClients) != 1 || clients.UserPoolClients[0].ClientName != e.api+"-client" {
		e.t.Fatalf("app clients %+v, want one named %s-client", clients.UserPoolClients, e.api)
	}
	st.client = clients.UserPoolClients[0].ClientID
	var client struct {
		UserPoolClient struct {
			ClientSecret                    string
			AllowedOAuthFlows               []string
			AllowedOAuthFlowsUserPoolClient bool
			AllowedOAuthScopes              []string
			CallbackURLs                    []string
			SupportedIdentityProviders      []string
			RefreshTokenRotation            struct{ Feature string }
		}
	}
	e.aws(&client, "cognito-idp", "describe-user-pool-client", "--user-pool-id", st.pool, "--client-id", st.client)
	c := client.UserPoolClient
	scopes := slices.Sorted(slices.Values(c.AllowedOAuthScopes))
	if c.ClientSecret != "" || !slices.Equal(c.AllowedOAuthFlows, []string{"code"}) || !c.AllowedOAuthFlowsUserPoolClient ||
		!slices.Equal(scopes, []string{url + "/mcp", "openid"}) ||
		!slices.Equal(c.CallbackURLs, []string{"http://localhost:8000/callback"}) ||
		!slices.Equal(c.SupportedIdentityProviders, []string{"COGNITO"}) || c.RefreshTokenRotation.Feature != "ENABLED" {
		e.t.Errorf("app client: secret %t, flows %v (user pool client %t), scopes %v, callbacks %v, providers %v, rotation %q",
			c.ClientSecret != "", c.AllowedOAuthFlows, c.AllowedOAuthFlowsUserPoolClient, scopes, c.CallbackURLs,
			c.SupportedIdentityProviders, c.RefreshTokenRotation.Feature)
	}
	return st
}

// checkGone: after destroy, nothing of the deployment is left, in AWS or
// in its .deploy directory.
func (e *env) checkGone() {
	e.t.Helper()
	if ids := e.restAPIs(); len(ids) != 0 {
		e.t.Errorf("REST APIs left: %v", ids)
	}
	fns := e.functions()
	for _, fn := range []string{e.fn, e.authzFn} {
		if _, ok := fns[fn]; ok {
			e.t.Errorf("function %s left", fn)
		}
	}
	var roles struct{ Roles []struct{ RoleName string } }
	e.aws(&roles, "iam", "list-roles")
	for _, r := range roles.Roles {
		if r.RoleName == e.fn+"-role" || r.RoleName == e.authzFn+"-role" {
			e.t.Errorf("role %s left", r.RoleName)
		}
	}
	var tables struct{ TableNames []string }
	e.aws(&tables, "dynamodb", "list-tables")
	if slices.Contains(tables.TableNames, e.table) {
		e.t.Errorf("table %s left", e.table)
	}
	if ids := e.userPools(e.api + "-users"); len(ids) != 0 {
		e.t.Errorf("user pools left: %v", ids)
	}
	if g := e.logGroups(); len(g) != 0 {
		e.t.Errorf("log groups left: %v", g)
	}
	for _, f := range []string{"state.env", "outputs.env", "api-key"} {
		if _, err := os.Stat(filepath.Join(e.deploy, f)); err == nil {
			e.t.Errorf(".deploy/%s left", f)
		}
	}
}

func testOAuth(t *testing.T, e *env) {
	out := e.make(nil, "deploy", "AUTH=oauth")
	apiID := e.singleAPI()
	url := fmt.Sprintf("https://%s.execute-api.%s.amazonaws.com/prod/mcp", apiID, region)
	cg := e.checkCognito(url)
	host := cg.domain + ".auth." + region + ".amazoncognito.com"
	wantEnv := map[string]string{
		"AUTH_METHOD":                  "oauth",
		"MCP_RESOURCE_URL":             url,
		"COGNITO_REGION":               region,
		"COGNITO_USER_POOL_ID":         cg.pool,
		"COGNITO_ALLOWED_CLIENT_IDS":   cg.client,
		"COGNITO_DOMAIN":               host,
		"OAUTH_REQUIRED_SCOPES":        url + "/mcp",
		"OAUTH_ALLOW_MISSING_AUDIENCE": "true",
		"SESSION_TABLE":                e.table,
		"BEDROCK_LOG_SOURCE":           "cloudwatch",
		"BEDROCK_CROSS_ACCOUNT_ROLE":   "BedrockUsageReader",
		"BEDROCK_ALLOWED_ACCOUNTS":     "111122223333,444455556666," + account, // normalised
		"BEDROCK_EXTERNAL_ID":          "mcp-usage-test",
		"LOG_LEVEL":                    "info",
		"REQUEST_STATE_KEY":            "",
	}
	authzEnv := map[string]string{"AUTHORIZER_RESULT_TTL": "300"}
	for k, v := range wantEnv {
		if strings.HasPrefix(k, "COGNITO_") || strings.HasPrefix(k, "OAUTH_") || k == "MCP_RESOURCE_URL" {
			authzEnv[k] = v
		}
	}
	fns := e.functions()
	e.checkFunction(fns[e.fn], "Image", "x86_64", 2048, 300, wantEnv)
	// The authorizer guards /mcp in oauth mode too: the gateway, not the
	// function, must answer 401 and 403, or the challenge is renamed.
	e.checkFunction(fns[e.authzFn], "Zip", "x86_64", 256, 10, authzEnv)
	e.checkAuthorizerPackage("x86_64")
	e.checkServerRole("111122223333", "444455556666") // not this account: it needs no role
	e.checkTable()
	if g := e.logGroups(); !maps.Equal(g, map[string]int{"/aws/lambda/" + e.fn: 14, "/aws/lambda/" + e.authzFn: 14}) {
		t.Errorf("log groups %v", g)
	}
	authzID := e.checkAuthorizer(apiID, 300)
	e.checkRoutes(apiID, "CUSTOM", authzID)
	e.checkStreamingCalls(5)
	e.checkPermission(e.fn, "apigateway-"+apiID, "arn:aws:execute-api:"+region+":"+account+":"+apiID+"/*")
	e.checkPermission(e.authzFn, "apigateway-authorizer-"+apiID, "arn:aws:execute-api:"+region+":"+account+":"+apiID+"/authorizers/"+authzID)
	metadata := "https://" + apiID + ".execute-api." + region + ".amazonaws.com/prod/.well-known/oauth-protected-resource/mcp"
	e.checkGatewayResponses(apiID,
		`Bearer scope="`+url+`/mcp", resource_metadata="`+metadata+`"`,
		`Bearer error="insufficient_scope", scope="`+url+`/mcp", resource_metadata="`+metadata+`"`)
	e.checkStage(apiID)
	for _, op := range []string{"create-user-pool-domain"} {
		calls := e.callsOf("cognito-idp", op)
		if len(calls) != 1 || argValue(calls[0], "--managed-login-version") != "1" {
			t.Errorf("%s calls %q, want one with --managed-login-version 1", op, calls)
		}
	}
	outputs := readEnvFile(t, filepath.Join(e.deploy, "outputs.env"))
	wantOut := map[string]string{
		"MCP_SERVER_URL": url, "AWS_REGION": region, "AUTH_METHOD": "oauth", "OAUTH_CLIENT_ID": cg.client,
		"COGNITO_DOMAIN": host, "OAUTH_SCOPES": url + "/mcp",
	}
	if !maps.Equal(outputs, wantOut) {
		t.Errorf("outputs.env:\n got %v\nwant %v", outputs, wantOut)
	}
	for _, want := range []string{"MCP_SERVER_URL=" + url, "in " + region + " (region from AWS_REGION)", "can take a minute", "mcp-client smoke"} {
		if !strings.Contains(out, want) {
			t.Errorf("deploy did not print %q:\n%s", want, out)
		}
	}
	readEnvFile(t, filepath.Join(e.deploy, "state.env"))

	// The deployment as a client meets it: the REST API as configured, in
	// front of the real functions with the environment deploy gave them.
	throughGatewayOAuth(t, e, e.srv, e.bins, apiID, url, cg.pool, cg.client)

	// Again, with a changed setting: nothing duplicated, the environment updated.
	e.resetCalls()
	e.make([]string{"LOG_LEVEL=debug"}, "deploy", "AUTH=oauth")
	if got := e.singleAPI(); got != apiID {
		t.Errorf("redeploy moved the API from %s to %s", apiID, got)
	}
	if again := e.checkCognito(url); again != cg {
		t.Errorf("redeploy changed Cognito from %+v to %+v", cg, again)
	}
	wantEnv["LOG_LEVEL"] = "debug"
	e.checkFunction(e.functions()[e.fn], "Image", "x86_64", 2048, 300, wantEnv)
	e.checkRoutes(apiID, "CUSTOM", e.checkAuthorizer(apiID, 300))
	e.checkPermission(e.fn, "apigateway-"+apiID, "arn:aws:execute-api:"+region+":"+account+":"+apiID+"/*")
	e.checkNoCreates()
	if n := len(e.callsOf("lambda", "wait")); n != 4 {
		t.Errorf("redeploy waited %d times for the function updates, want 4 (code and configuration of two functions)", n)
	}

	// deploy-outputs rewrites the same file from the recorded state alone.
	if err := os.Remove(filepath.Join(e.deploy, "outputs.env")); err != nil {
		t.Fatal(err)
	}
	e.resetCalls()
	if out := e.make(nil, "deploy-outputs"); !strings.Contains(out, "OAUTH_CLIENT_ID="+cg.client) {
		t.Errorf("deploy-outputs printed:\n%s", out)
	}
	if got := readEnvFile(t, filepath.Join(e.deploy, "outputs.env")); !maps.Equal(got, wantOut) {
		t.Errorf("outputs.env from deploy-outputs:\n got %v\nwant %v", got, wantOut)
	}
	if data, err := os.ReadFile(e.calls); err == nil && len(data) > 0 {
		t.Errorf("deploy-outputs called AWS:\n%s", data)
	}

	e.make(nil, "destroy")
	e.checkGone()
}

func testLambda(t *testing.T, e *env) {
	out := e.make(nil, "deploy", "AUTH=lambda")
	apiID := e.singleAPI()
	url := fmt.Sprintf("https://%s.execute-api.%s.amazonaws.com/prod/mcp", apiID, region)

	keyFile := filepath.Join(e.deploy, "api-key")
	st, err := os.Stat(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("api-key mode %v, want 0600", st.Mode().Perm())
	}
	key, err := os.ReadFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`).Match(key) {
		t.Errorf("API key is not 32 bytes of base64url (%d characters)", len(key))
	}
	if strings.Contains(out, string(key)) {
		t.Errorf("deploy printed the API key")
	}
	sum := sha256.Sum256(key)
	hash := hex.EncodeToString(sum[:])

	fns := e.functions()
	e.checkFunction(fns[e.fn], "Image", "arm64", 1024, 300, map[string]string{
		"AUTH_METHOD": "lambda", "MCP_RESOURCE_URL": url, "API_KEY_SHA256": hash,
		"SESSION_TABLE": e.table, "BEDROCK_LOG_SOURCE": "cloudwatch", "BEDROCK_CROSS_ACCOUNT_ROLE": "BedrockUsageReader",
		"LOG_LEVEL": "info", "REQUEST_STATE_KEY": "",
	})
	authz := fns[e.authzFn]
	e.checkFunction(authz, "Zip", "arm64", 256, 10, map[string]string{
		"MCP_RESOURCE_URL": url, "API_KEY_SHA256": hash, "AUTHORIZER_RESULT_TTL": "300",
	})
	var conf struct{ Runtime, Handler string }
	e.aws(&conf, "lambda", "get-function-configuration", "--function-name", e.authzFn)
	if conf.Runtime != "provided.al2023" || conf.Handler != "bootstrap" {
		t.Errorf("authorizer runtime %q handler %q, want provided.al2023 bootstrap", conf.Runtime, conf.Handler)
	}
	e.checkServerRole()
	if got := e.rolePolicy(e.authzFn + "-role"); !maps.Equal(got, map[string]string{
		"OwnLogs": "logs:CreateLogStream,logs:PutLogEvents on arn:aws:logs:" + region + ":" + account + ":log-group:/aws/lambda/" + e.authzFn + ":*",
	}) {
		t.Errorf("authorizer role policy %v", got)
	}
	e.checkTable()
	if g := e.logGroups(); !maps.Equal(g, map[string]int{"/aws/lambda/" + e.fn: 14, "/aws/lambda/" + e.authzFn: 14}) {
		t.Errorf("log groups %v", g)
	}

	a := authorizerConf{ID: e.checkAuthorizer(apiID, 300)}
	e.checkAuthorizerPackage("arm64")
	e.checkRoutes(apiID, "CUSTOM", a.ID)
	e.checkStreamingCalls(5)
	e.checkPermission(e.fn, "apigateway-"+apiID, "arn:aws:execute-api:"+region+":"+account+":"+apiID+"/*")
	e.checkPermission(e.authzFn, "apigateway-authorizer-"+apiID, "arn:aws:execute-api:"+region+":"+account+":"+apiID+"/authorizers/"+a.ID)
	e.checkGatewayResponses(apiID, `Bearer realm="mcp"`, `Bearer realm="mcp"`)
	e.checkStage(apiID)
	if pools := e.userPools(e.api + "-users"); len(pools) != 0 {
		t.Errorf("AUTH=lambda without a pool created user pools %v", pools)
	}
	throughGatewayAPIKey(t, e, e.srv, e.bins, apiID, url, string(key))
	outputs := readEnvFile(t, filepath.Join(e.deploy, "outputs.env"))
	if want := map[string]string{"MCP_SERVER_URL": url, "AWS_REGION": region, "AUTH_METHOD": "lambda", "ACCESS_TOKEN": string(key)}; !maps.Equal(outputs, want) {
		t.Errorf("outputs.env keys %v, want MCP_SERVER_URL, AUTH_METHOD=lambda and the key as ACCESS_TOKEN", slices.Sorted(maps.Keys(outputs)))
	}

	// Again, now with the user's own Cognito pool (the authorizer switches to
	// JWTs), a changed setting and a new authorizer cache TTL: the API, its
	// routes and the authorizer are updated in place, and only the pool's
	// client and resource server are new. Destroy must leave the pool alone.
	var pool struct{ UserPool struct{ ID string } }
	e.aws(&pool, "cognito-idp", "create-user-pool", "--pool-name", "someone-elses-pool")
	poolID := pool.UserPool.ID
	var ignored any
	e.aws(&ignored, "cognito-idp", "create-user-pool-domain", "--user-pool-id", poolID, "--domain", "someone-elses-login")
	host := "someone-elses-login.auth." + region + ".amazoncognito.com"

	keyBefore := e.functions()[e.fn].Environment.Variables["REQUEST_STATE_KEY"]
	e.resetCalls()
	out = e.make([]string{"LOG_LEVEL=warn", "AUTHORIZER_RESULT_TTL=60", "COGNITO_USER_POOL_ID=" + poolID, "AUTHORIZER_ZIP=" + e.zip}, "deploy", "AUTH=lambda")
	if strings.Contains(out, string(key)) || strings.Contains(out, keyBefore) {
		t.Errorf("redeploy printed the API key or the requestState key")
	}
	if got := e.singleAPI(); got != apiID {
		t.Errorf("redeploy moved the API from %s to %s", apiID, got)
	}
	var clients struct {
		UserPoolClients []struct{ ClientID, ClientName string }
	}
	e.aws(&clients, "cognito-idp", "list-user-pool-clients", "--user-pool-id", poolID, "--max-results", "60")
	if len(clients.UserPoolClients) != 1 || clients.UserPoolClients[0].ClientName != e.api+"-client" {
		t.Fatalf("clients in the given pool %+v, want one named %s-client", clients.UserPoolClients, e.api)
	}
	clientID := clients.UserPoolClients[0].ClientID
	jwtEnv := map[string]string{
		"MCP_RESOURCE_URL": url, "COGNITO_REGION": region, "COGNITO_USER_POOL_ID": poolID,
		"COGNITO_ALLOWED_CLIENT_IDS": clientID, "COGNITO_DOMAIN": host,
		"OAUTH_REQUIRED_SCOPES": url + "/mcp", "OAUTH_ALLOW_MISSING_AUDIENCE": "true",
	}
	fns = e.functions()
	jwtEnv["AUTHORIZER_RESULT_TTL"] = "60"
	e.checkFunction(fns[e.authzFn], "Zip", "arm64", 256, 10, jwtEnv)
	delete(jwtEnv, "AUTHORIZER_RESULT_TTL")
	if calls := e.callsOf("lambda", "update-function-code"); len(calls) != 2 ||
		!slices.ContainsFunc(calls, func(c []string) bool { return argValue(c, "--zip-file") == "fileb://"+e.zip }) {
		t.Errorf("update-function-code calls %q, want the AUTHORIZER_ZIP package for the authorizer", calls)
	}
	jwtEnv["LOG_LEVEL"] = "warn"
	jwtEnv["AUTH_METHOD"] = "lambda"
	jwtEnv["SESSION_TABLE"] = e.table
	jwtEnv["BEDROCK_LOG_SOURCE"] = "cloudwatch"
	jwtEnv["BEDROCK_CROSS_ACCOUNT_ROLE"] = "BedrockUsageReader"
	jwtEnv["REQUEST_STATE_KEY"] = keyBefore // kept across the redeploy
	e.checkFunction(fns[e.fn], "Image", "arm64", 1024, 300, jwtEnv)
	if id := e.checkAuthorizer(apiID, 60); id != a.ID {
		t.Errorf("the redeploy replaced authorizer %s with %s", a.ID, id)
	}
	e.checkRoutes(apiID, "CUSTOM", a.ID)
	e.checkPermission(e.authzFn, "apigateway-authorizer-"+apiID, "arn:aws:execute-api:"+region+":"+account+":"+apiID+"/authorizers/"+a.ID)
	metadata := "https://" + apiID + ".execute-api." + region + ".amazonaws.com/prod/.well-known/oauth-protected-resource/mcp"
	e.checkGatewayResponses(apiID,
		`Bearer scope="`+url+`/mcp", resource_metadata="`+metadata+`"`,
		`Bearer error="insufficient_scope", scope="`+url+`/mcp", resource_metadata="`+metadata+`"`)
	outputs = readEnvFile(t, filepath.Join(e.deploy, "outputs.env"))
	if want := map[string]string{"MCP_SERVER_URL": url, "AWS_REGION": region, "AUTH_METHOD": "oauth", "OAUTH_CLIENT_ID": clientID,
		"COGNITO_DOMAIN": host, "OAUTH_SCOPES": url + "/mcp"}; !maps.Equal(outputs, want) {
		t.Errorf("outputs.env:\n got %v\nwant %v", outputs, want)
	}
	// Only the client and resource server are new; the given pool got no
	// second domain.
	for _, op := range []string{"create-user-pool", "create-user-pool-domain", "create-rest-api", "create-authorizer",
		"create-function", "create-role", "create-table", "create-resource", "put-method", "add-permission"} {
		service := map[bool]string{true: "cognito-idp", false: "apigateway"}[strings.Contains(op, "user-pool")]
		switch op {
		case "create-function", "add-permission":
			service = "lambda"
		case "create-role":
			service = "iam"
		case "create-table":
			service = "dynamodb"
		}
		if n := len(e.callsOf(service, op)); n != 0 {
			t.Errorf("redeploy called %s %s %d times", service, op, n)
		}
	}

	e.make(nil, "destroy")
	e.checkGone()
	var left struct{ UserPool struct{ ID, Domain string } }
	e.aws(&left, "cognito-idp", "describe-user-pool", "--user-pool-id", poolID)
	if left.UserPool.ID != poolID || left.UserPool.Domain != "someone-elses-login" {
		t.Errorf("destroy touched the given pool: %+v", left.UserPool)
	}
	e.aws(&clients, "cognito-idp", "list-user-pool-clients", "--user-pool-id", poolID, "--max-results", "60")
	if len(clients.UserPoolClients) != 0 {
		t.Errorf("destroy left its client %+v in the given pool", clients.UserPoolClients)
	}
	// moto does not implement DeleteResourceServer: the call is what can be checked.
	deleted := false
	for _, c := range e.callsOf("cognito-idp", "delete-resource-server") {
		deleted = deleted || strings.Contains(argValue(c, "--cli-input-json"), `"Identifier":"`+url+`"`)
	}
	if !deleted {
		t.Errorf("destroy did not delete its resource server %s in the given pool", url)
	}
}

// testAdopted: deploy into resources that existed before (a role, the
// server function and a REST API of the configured names), then destroy.
// The resources stay; what deploy added to them (an inline policy, an
// invoke permission, resources, methods, an authorizer, gateway responses)
// goes.
func testAdopted(t *testing.T, e *env, image string) {
	var ignored any
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	e.aws(&ignored, "iam", "create-role", "--role-name", e.fn+"-role", "--assume-role-policy-document", trust)
	e.aws(&ignored, "lambda", "create-function", "--function-name", e.fn, "--package-type", "Image",
		"--code", "ImageUri="+image, "--role", "arn:aws:iam::"+account+":role/"+e.fn+"-role")
	var api struct{ ID string }
	e.aws(&api, "apigateway", "create-rest-api", "--name", e.api, "--endpoint-configuration", "types=REGIONAL")
	var res struct{ Items []struct{ ID, Path string } }
	e.aws(&res, "apigateway", "get-resources", "--rest-api-id", api.ID)
	var other struct{ ID string }
	e.aws(&other, "apigateway", "create-resource", "--rest-api-id", api.ID, "--parent-id", res.Items[0].ID, "--path-part", "other")

	e.make(nil, "deploy", "AUTH=lambda")
	if got := e.singleAPI(); got != api.ID {
		t.Fatalf("deploy made API %s instead of adopting %s", got, api.ID)
	}
	e.checkAuthorizer(api.ID, 300)
	state := readEnvFile(t, filepath.Join(e.deploy, "state.env"))
	for _, k := range []string{"API_RESOURCES_CREATED", "API_AUTHORIZER_CREATED", "API_GATEWAY_RESPONSES_PUT", "LAMBDA_PERMISSIONS", "ROLE_POLICIES"} {
		if state[k] == "" {
			t.Errorf("state.env does not record %s", k)
		}
	}
	if _, ok := state["REST_API_CREATED"]; ok {
		t.Error("an adopted API recorded as created")
	}

	e.make(nil, "destroy")
	e.aws(&res, "apigateway", "get-resources", "--rest-api-id", api.ID)
	var paths []string
	for _, r := range res.Items {
		paths = append(paths, r.Path)
	}
	if slices.Sort(paths); !slices.Equal(paths, []string{"/", "/other"}) {
		t.Errorf("resources left in the adopted API: %v, want / and /other", paths)
	}
	var authorizers struct{ Items []authorizerConf }
	e.aws(&authorizers, "apigateway", "get-authorizers", "--rest-api-id", api.ID)
	if len(authorizers.Items) != 0 {
		t.Errorf("authorizers left in the adopted API: %+v", authorizers.Items)
	}
	if r := e.customGatewayResponses(api.ID); len(r) != 0 {
		t.Errorf("gateway responses left in the adopted API: %v", slices.Sorted(maps.Keys(r)))
	}
	if _, ok := e.functions()[e.fn]; !ok {
		t.Fatalf("destroy deleted the function %s it did not create", e.fn)
	}
	var policy struct{ Policy string }
	cmd := exec.Command("aws", "lambda", "get-policy", "--function-name", e.fn, "--output", "json")
	cmd.Env = e.vars
	if out, err := cmd.CombinedOutput(); err == nil {
		if json.Unmarshal(out, &policy) == nil && strings.Contains(policy.Policy, "apigateway-") {
			t.Errorf("the invoke permission deploy added is left: %s", policy.Policy)
		}
	} else if !strings.Contains(string(out), "ResourceNotFound") {
		t.Errorf("get-policy: %v\n%s", err, out)
	}
	var roles struct{ PolicyNames []string }
	e.aws(&roles, "iam", "list-role-policies", "--role-name", e.fn+"-role")
	if len(roles.PolicyNames) != 0 {
		t.Errorf("inline policies left on the adopted role: %v", roles.PolicyNames)
	}
	if _, err := os.Stat(filepath.Join(e.deploy, "state.env")); err == nil {
		t.Error("state.env left after destroy")
	}
}
