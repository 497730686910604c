package repl

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"mcplambda/mcp"
)

func TestSplitWords(t *testing.T) {
	cases := []struct {
		line    string
		want    []string
		rest1   string // the raw text after the first word
		wantErr string
	}{
		{line: "greet", want: []string{"greet"}},
		{line: "  greet   Ada  ", want: []string{"greet", "Ada"}, rest1: "Ada"},
		{line: `greet "Ada Lovelace"`, want: []string{"greet", "Ada Lovelace"}, rest1: `"Ada Lovelace"`},
		{line: `greet 'a "b"'`, want: []string{"greet", `a "b"`}},
		{line: `greet "say \"hi\" \\ ok"`, want: []string{"greet", `say "hi" \ ok`}},
		{line: `greet O'Brien`, want: []string{"greet", "O'Brien"}},
		{line: `call-tool x {"a": "b c"}`, want: []string{"call-tool", "x", "{a:", "b c}"}, rest1: `x {"a": "b c"}`},
		{line: "a\tb", want: []string{"a", "b"}},
		{line: `greet "Ada`, wantErr: "unterminated double quote"},
		{line: `greet 'Ada`, wantErr: "unterminated single quote"},
		{line: "", want: nil},
	}
	for _, tc := range cases {
		t.Run(tc.line, func(t *testing.T) {
			w, err := splitWords(tc.line)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := texts(w); !reflect.DeepEqual(got, tc.want) && !(len(got) == 0 && len(tc.want) == 0) {
				t.Errorf("words = %q, want %q", got, tc.want)
			}
			if tc.rest1 != "" {
				if got := rest(tc.line, w, 0); got != tc.rest1 {
					t.Errorf("rest = %q, want %q", got, tc.rest1)
				}
			}
		})
	}
}

func TestSplitScript(t *testing.T) {
	cases := []struct {
		in   string
		want []string
	}{
		{"a; b", []string{"a", "b"}},
		{"a;b\nc", []string{"a", "b", "c"}},
		{`call-tool x {"s":"a;b"}; c`, []string{`call-tool x {"s":"a;b"}`, "c"}},
		{`call-tool x {"s":{"t":[1,2]}}; c`, []string{`call-tool x {"s":{"t":[1,2]}}`, "c"}},
		{`greet "a;b"; c`, []string{`greet "a;b"`, "c"}},
		{`greet 'a;b'; c`, []string{`greet 'a;b'`, "c"}},
		{`greet O'Brien; c`, []string{`greet O'Brien`, "c"}},
		{`call-tool x {"s":"quote \" ; inside"}; c`, []string{`call-tool x {"s":"quote \" ; inside"}`, "c"}},
		{" ; ;; ", nil},
	}
	for _, tc := range cases {
		if got := splitScript(tc.in); !reflect.DeepEqual(got, tc.want) && !(len(got) == 0 && len(tc.want) == 0) {
			t.Errorf("splitScript(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestParseOutputs(t *testing.T) {
	in := `# written by make deploy
MCP_SERVER_URL=https://abc.execute-api.us-east-1.amazonaws.com/prod/mcp
export AUTH_METHOD=oauth
OAUTH_CLIENT_ID="abc123"
ACCESS_TOKEN='$(rm -rf /) not run'
EMPTY=
  SPACED = value with spaces  
`
	got, err := ParseOutputs(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"MCP_SERVER_URL":  "https://abc.execute-api.us-east-1.amazonaws.com/prod/mcp",
		"AUTH_METHOD":     "oauth",
		"OAUTH_CLIENT_ID": "abc123",
		"ACCESS_TOKEN":    "$(rm -rf /) not run",
		"EMPTY":           "",
		"SPACED":          "value with spaces",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q\nwant %q", got, want)
	}
	for _, bad := range []string{"no equals sign", "1X=y", "A B=c", `X="unterminated`, "=v"} {
		if _, err := ParseOutputs(strings.NewReader(bad)); err == nil {
			t.Errorf("ParseOutputs(%q) accepted it", bad)
		}
	}
}

func TestLoadConfig(t *testing.T) {
	dir := t.TempDir()
	outputs := filepath.Join(dir, "outputs.env")
	if err := os.WriteFile(outputs, []byte("MCP_SERVER_URL=https://file.example/prod/mcp\nAUTH_METHOD=lambda\nACCESS_TOKEN=from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	cases := []struct {
		name    string
		env     map[string]string
		path    string
		check   func(t *testing.T, c Config)
		wantErr string
	}{
		{name: "defaults", path: filepath.Join(dir, "missing.env"), check: func(t *testing.T, c Config) {
			if c.ServerURL != DefaultServerURL || c.AuthMethod != AuthAuto || c.RedirectURI != DefaultRedirectURI || c.Timeout != DefaultTimeout || c.Debug {
				t.Errorf("defaults: %+v", c)
			}
			if len(c.Origin) != 0 {
				t.Errorf("origins for defaults: %v", c.Origin)
			}
		}},
		{name: "file fills in", path: outputs, check: func(t *testing.T, c Config) {
			if c.ServerURL != "https://file.example/prod/mcp" || c.AuthMethod != AuthLambda || c.AccessToken != "from-file" {
				t.Errorf("from the file: %+v", c)
			}
			if c.Origin["MCP_SERVER_URL"] != outputs {
				t.Errorf("origin %q", c.Origin["MCP_SERVER_URL"])
			}
		}},
		{name: "environment wins", path: outputs, env: map[string]string{"MCP_SERVER_URL": "http://127.0.0.1:9/mcp", "AUTH_METHOD": "OAuth", "MCP_CLIENT_DEBUG": "true", "MCP_CLIENT_TIMEOUT": "90"},
			check: func(t *testing.T, c Config) {
				if c.ServerURL != "http://127.0.0.1:9/mcp" || c.AuthMethod != AuthOAuth || !c.Debug || c.Timeout != 90*time.Second || c.AccessToken != "from-file" {
					t.Errorf("env over file: %+v", c)
				}
				if c.Origin["MCP_SERVER_URL"] != "environment" || c.Origin["ACCESS_TOKEN"] != outputs {
					t.Errorf("origins %v", c.Origin)
				}
			}},
		{name: "duration syntax", env: map[string]string{"MCP_CLIENT_TIMEOUT": "2m30s"}, check: func(t *testing.T, c Config) {
			if c.Timeout != 150*time.Second {
				t.Errorf("timeout %v", c.Timeout)
			}
		}},
		{name: "none is auto", env: map[string]string{"AUTH_METHOD": "none"}, check: func(t *testing.T, c Config) {
			if c.AuthMethod != AuthAuto {
				t.Errorf("method %q", c.AuthMethod)
			}
		}},
		{name: "bad method", env: map[string]string{"AUTH_METHOD": "magic"}, wantErr: `AUTH_METHOD="magic"`},
		{name: "bad timeout", env: map[string]string{"MCP_CLIENT_TIMEOUT": "soon"}, wantErr: "MCP_CLIENT_TIMEOUT"},
		{name: "negative timeout", env: map[string]string{"MCP_CLIENT_TIMEOUT": "-5s"}, wantErr: "must not be negative"},
		{name: "bad debug", env: map[string]string{"MCP_CLIENT_DEBUG": "maybe"}, wantErr: "MCP_CLIENT_DEBUG"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := LoadConfig(env(tc.env), tc.path)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, c)
		})
	}
	bad := filepath.Join(dir, "bad.env")
	os.WriteFile(bad, []byte("this is not KEY=VALUE\n"), 0o600)
	if _, err := LoadConfig(env(nil), bad); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("a malformed outputs file: %v", err)
	}
}

func TestLoadConfigProtocolVersion(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	for in, want := range map[string]string{
		"": "", "auto": "", "AUTO": "", "2025-11-25": "2025-11-25", "2025-03-26": "2025-03-26", "2026-07-28": "2026-07-28",
	} {
		c, err := LoadConfig(env(map[string]string{"MCP_PROTOCOL_VERSION": in}), "")
		if err != nil || c.ProtocolVersion != want {
			t.Errorf("MCP_PROTOCOL_VERSION=%q: %q %v, want %q", in, c.ProtocolVersion, err, want)
		}
	}
	for _, bad := range []string{"2024-11-05", "latest", "2099-01-01"} {
		if _, err := LoadConfig(env(map[string]string{"MCP_PROTOCOL_VERSION": bad}), ""); err == nil || !strings.Contains(err.Error(), "MCP_PROTOCOL_VERSION") {
			t.Errorf("MCP_PROTOCOL_VERSION=%q: %v", bad, err)
		}
	}
}

func TestProgressText(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	cases := []struct {
		p    mcp.ProgressParams
		want string
	}{
		{mcp.ProgressParams{Progress: 1, Total: f(4), Message: "one"}, "[######------------------]  25% 1/4 one"},
		{mcp.ProgressParams{Progress: 5, Total: f(4)}, "[########################] 100% 5/4"},
		{mcp.ProgressParams{Progress: 0.5, Total: f(1)}, "[############------------]  50% 0.50/1"},
		{mcp.ProgressParams{Progress: 3000, Message: "3000 events read"}, "[~~~~~~~~~~~~~~~~~~~~~~~~] 3000 events read"},
		{mcp.ProgressParams{Progress: 7}, "[~~~~~~~~~~~~~~~~~~~~~~~~] 7"},
		{mcp.ProgressParams{Progress: 1, Total: f(2), Message: "two\nlines \x1b[2J"}, "[############------------]  50% 1/2 two lines [2J"},
	}
	for _, tc := range cases {
		if got := progressText(tc.p); got != tc.want {
			t.Errorf("progressText(%+v) = %q, want %q", tc.p, got, tc.want)
		}
	}
}

func TestParseAnswer(t *testing.T) {
	fields, err := schemaFields(json.RawMessage(`{"type":"object","properties":{
	  "s":{"type":"string","minLength":2,"maxLength":4},
	  "e":{"type":"string","format":"email"},
	  "u":{"type":"string","format":"uri"},
	  "d":{"type":"string","format":"date"},
	  "n":{"type":"number","minimum":0.5},
	  "i":{"type":"integer","maximum":3},
	  "b":{"type":"boolean"},
	  "titled":{"type":"string","oneOf":[{"const":"sm","title":"Small"},{"const":"lg","title":"Large"}]},
	  "legacy":{"type":"string","enum":["a","b"],"enumNames":["Alpha","Beta"]},
	  "multi":{"type":"array","items":{"type":"string","enum":["x","y","z"]},"maxItems":2}
	}}`))
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]fieldSchema{}
	var order []string
	for _, f := range fields {
		byName[f.Name] = f.fieldSchema
		order = append(order, f.Name)
	}
	if want := []string{"s", "e", "u", "d", "n", "i", "b", "titled", "legacy", "multi"}; !reflect.DeepEqual(order, want) {
		t.Errorf("fields in order %v, want %v", order, want)
	}
	cases := []struct {
		field, in string
		want      any
		wantErr   string
	}{
		{"s", "abc", "abc", ""},
		{"s", "a", nil, "at least 2"},
		{"s", "abcde", nil, "at most 4"},
		{"s", "éèà", "éèà", ""}, // characters, not bytes
		{"e", "ada@example.com", "ada@example.com", ""},
		{"e", "nope", nil, "email"},
		{"u", "https://x.example/", "https://x.example/", ""},
		{"u", "relative/path", nil, "URI"},
		{"d", "2026-11-25", "2026-11-25", ""},
		{"d", "25/11/2026", nil, "date"},
		{"n", "1.5", 1.5, ""},
		{"n", "0.1", nil, "at least 0.50"},
		{"n", "x", nil, "not a number"},
		{"i", "3", int64(3), ""},
		{"i", "4", nil, "at most 3"},
		{"i", "2.5", nil, "whole number"},
		{"b", "Yes", true, ""},
		{"b", "n", false, ""},
		{"b", "perhaps", nil, "yes or no"},
		{"titled", "Large", "lg", ""},
		{"titled", "sm", "sm", ""},
		{"titled", "1", "sm", ""},
		{"titled", "medium", nil, "choose one of sm (Small), lg (Large)"},
		{"legacy", "beta", "b", ""},
		{"multi", "x, z", []any{"x", "z"}, ""},
		{"multi", "x,y,z", nil, "at most 2"},
		{"multi", "x,w", nil, "choose one of"},
	}
	for _, tc := range cases {
		got, err := parseAnswer(byName[tc.field], tc.in)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%s %q: err = %v, want %q", tc.field, tc.in, err, tc.wantErr)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s %q = %#v, %v; want %#v", tc.field, tc.in, got, err, tc.want)
		}
	}
}

func TestExtension(t *testing.T) {
	for mt, want := range map[string]string{
		"image/png": ".png", "image/jpeg": ".jpg", "audio/wav": ".wav", "audio/mpeg": ".mp3",
		"text/plain; charset=utf-8": ".txt", "": ".bin", "application/x-unknown-thing": ".bin",
	} {
		if got := extension(mt); got != want {
			t.Errorf("extension(%q) = %q, want %q", mt, got, want)
		}
	}
}

func TestSanitize(t *testing.T) {
	if got := sanitize("ok\n\ttab \x1b[31mred\x07 \u009b"); got != "ok\n\ttab [31mred " {
		t.Errorf("sanitize = %q", got)
	}
}

func TestBedrockArgumentChecks(t *testing.T) {
	for s, want := range map[string]bool{
		"us-east-1": true, "ap-southeast-2": true, "us-gov-west-1": true, "eu-west-10": false,
		"US-east-1": false, "us-east": false, "useast-1": false, "u-east-1": false, "us--1": false, "": false,
	} {
		if got := validRegion(s); got != want {
			t.Errorf("validRegion(%q) = %v", s, got)
		}
	}
	for s, want := range map[string]bool{"123456789012": true, "12345678901": false, "1234567890123": false, "12345678901x": false} {
		if got := validAccount(s); got != want {
			t.Errorf("validAccount(%q) = %v", s, got)
		}
	}
	for s, want := range map[string]bool{"/aws/bedrock/modelinvocations": true, "a#b-c_d.e": true, "": false, "has space": false, strings.Repeat("a", 513): false, strings.Repeat("a", 512): true} {
		if got := validLogGroup(s); got != want {
			t.Errorf("validLogGroup(%.20q) = %v", s, got)
		}
	}
}
