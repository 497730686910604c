package apigw

import (
	"net/http/httptest"
	"testing"
)

func TestWildcardMatch(t *testing.T) {
	const arn = "arn:aws:execute-api:us-east-1:123456789012:abc123/prod/POST/mcp"
	tests := []struct {
		pattern string
		s       string
		want    bool
	}{
		{arn, arn, true},
		{"*", arn, true},
		{"arn:aws:execute-api:us-east-1:123456789012:abc123/*", arn, true},
		{"arn:aws:execute-api:us-east-1:123456789012:abc123/prod/*/mcp", arn, true},
		{"arn:aws:execute-api:us-east-1:123456789012:abc123/prod/GET/mcp", arn, false},
		{"arn:aws:execute-api:*:*:abc123/prod/P?ST/mcp", arn, true},
		{"arn:aws:execute-api:us-east-1:123456789012:abc123/prod/POST/mc", arn, false},
		{"arn:aws:execute-api:us-east-1:123456789012:abc123/prod/POST/mcp?", arn, false},
		{"arn:aws:execute-api:us-east-1:123456789012:abc123/prod/POST/mcp*", arn, true},
		{"*/mcp", arn, true},
		{"*/*/mcp/*", arn, false},
		{"a*b*c", "axxbyyc", true},
		{"a*b*c", "axxbyy", false},
		{"?", "é", true},
		{"", "", true},
		{"", "x", false},
	}
	for _, tt := range tests {
		if got := wildcardMatch(tt.pattern, tt.s); got != tt.want {
			t.Errorf("wildcardMatch(%q, %q) = %v, want %v", tt.pattern, tt.s, got, tt.want)
		}
	}
}

func TestEvaluate(t *testing.T) {
	const arn = "arn:aws:execute-api:us-east-1:123456789012:abc123/prod/GET/mcp"
	allowAll := statement{effect: "Allow", actions: []string{"execute-api:Invoke"}, resources: []string{"*"}}
	tests := []struct {
		name  string
		stmts []statement
		want  decision
	}{
		{"allow", []statement{allowAll}, allow},
		{"no statement covers it", []statement{{effect: "Allow", actions: []string{"execute-api:Invoke"}, resources: []string{"arn:*/POST/mcp"}}}, implicitDeny},
		{"deny wins", []statement{allowAll, {effect: "Deny", actions: []string{"execute-api:*"}, resources: []string{arn}}}, explicitDeny},
		{"deny of another ARN", []statement{allowAll, {effect: "Deny", actions: []string{"*"}, resources: []string{"arn:*/POST/*"}}}, allow},
		{"action case-insensitive", []statement{{effect: "Allow", actions: []string{"EXECUTE-API:invoke"}, resources: []string{arn}}}, allow},
		{"other action", []statement{{effect: "Allow", actions: []string{"execute-api:ManageConnections"}, resources: []string{arn}}}, implicitDeny},
	}
	for _, tt := range tests {
		if got := evaluate(tt.stmts, arn); got != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestRender(t *testing.T) {
	g := &Gateway{stage: "prod", apiID: "abc123", stageVars: map[string]string{"env": "test"}}
	c := &call{
		r:     httptest.NewRequest("POST", "/prod/mcp", nil),
		id:    "req-1",
		path:  "/mcp",
		authz: map[string]string{"error": "insufficient_scope", "principalId": "u1"},
	}
	msg := `say "hi"`
	withMsg := &failure{typ: AccessDenied, message: &msg}
	noMsg := &failure{typ: AuthorizerFailure}
	tests := []struct {
		tpl  string
		f    *failure
		want string
	}{
		{`{"message":$context.error.messageString}`, withMsg, `{"message":"say \"hi\""}`},
		{`{"message":$context.error.messageString}`, noMsg, `{"message":null}`},
		{`$context.error.message|$context.error.responseType`, withMsg, `say "hi"|ACCESS_DENIED`},
		{`${context.requestId}x $context.stage.`, withMsg, `req-1x prod.`},
		{`$context.authorizer.error/$context.authorizer.principalId`, withMsg, `insufficient_scope/u1`},
		{`[$context.authorizer.missing][$!context.authorizer.missing][$!{context.authorizer.missing}]`, withMsg, `[$context.authorizer.missing][][]`},
		{`$stageVariables.env $context.path $context.httpMethod`, withMsg, `test /prod/mcp POST`},
		{`$util.escapeJavaScript($context.stage) $ 5 $$ ${context.stage`, withMsg, `$util.escapeJavaScript(prod) $ 5 $$ ${context.stage`},
		{`$context.error.message`, noMsg, `$context.error.message`},
		{`#set($x = 1)$x`, withMsg, `#set($x = 1)$x`},
	}
	for _, tt := range tests {
		if got := g.render(tt.tpl, c, tt.f); got != tt.want {
			t.Errorf("render(%q) = %q, want %q", tt.tpl, got, tt.want)
		}
	}
}

func TestMatchPrecedence(t *testing.T) {
	root, err := buildTree([]Resource{
		{Path: "/a/b"}, {Path: "/{x}/c"}, {Path: "/a/{proxy+}"}, {Path: "/{x}"},
	}, func(string, string, Method) (*method, error) { return &method{}, nil })
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		segs []string
		want string
	}{
		{[]string{"a", "b"}, "/a/b"},
		{[]string{"a", "c"}, "/a/{proxy+}"}, // literal branch first, its greedy child
		{[]string{"z", "c"}, "/{x}/c"},
		{[]string{"a"}, "/a"}, // an implicit parent: matched, without methods
		{[]string{"q"}, "/{x}"},
		{[]string{"a", "b", "c"}, "/a/{proxy+}"},
		{[]string{"z", "z"}, ""},
	}
	for _, tt := range tests {
		n, _ := root.match(tt.segs)
		got := ""
		if n != nil {
			got = n.path
		}
		if got != tt.want {
			t.Errorf("match(%q) = %q, want %q", tt.segs, got, tt.want)
		}
	}
}
