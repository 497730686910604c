package bedrock

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"mcplambda/server"
)

// The text AWS puts in a denial: it names the server's role, session and
// account, which clients must never see.
const leakyDenial = "User: arn:aws:sts::123456789012:assumed-role/mcp-server-role/mcp-server is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::999988887777:role/BedrockUsageReader"

// fakeSTS answers GetCallerIdentity for account 123456789012 and denies
// every AssumeRole, recording what each call sent.
type fakeSTS struct {
	mu      sync.Mutex
	actions []string
	assumed []url.Values
}

func (f *fakeSTS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	q, _ := url.ParseQuery(string(body))
	f.mu.Lock()
	f.actions = append(f.actions, q.Get("Action"))
	if q.Get("Action") == "AssumeRole" {
		f.assumed = append(f.assumed, q)
	}
	f.mu.Unlock()
	w.Header().Set("Content-Type", "text/xml")
	switch q.Get("Action") {
	case "GetCallerIdentity":
		io.WriteString(w, `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>
<Arn>arn:aws:sts::123456789012:assumed-role/mcp-server-role/mcp-server</Arn><UserId>AROA:mcp</UserId><Account>123456789012</Account>
</GetCallerIdentityResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></GetCallerIdentityResponse>`)
	case "AssumeRole":
		w.WriteHeader(http.StatusForbidden)
		io.WriteString(w, `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>
<Code>AccessDenied</Code><Message>`+leakyDenial+`</Message></Error><RequestId>2</RequestId></ErrorResponse>`)
	default:
		http.Error(w, "unexpected", http.StatusBadRequest)
	}
}

func (f *fakeSTS) calls() (actions []string, assumed []url.Values) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.actions...), append([]url.Values(nil), f.assumed...)
}

func fakeConfig(ts *httptest.Server) aws.Config {
	return aws.Config{
		Region:           "us-east-1",
		Credentials:      aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider("AKID", "secret", "")),
		BaseEndpoint:     aws.String(ts.URL),
		HTTPClient:       ts.Client(),
		RetryMaxAttempts: 1,
	}
}

// Only allowed accounts get as far as AssumeRole, which then carries the
// ExternalId; the server's own account needs no role and no listing.
func TestCrossAccountAllowList(t *testing.T) {
	tests := []struct {
		name        string
		account     string
		wantErr     error  // nil: success with the base config
		wantText    string // in the error
		wantAssumes int
	}{
		{"not allowed", "555566667777", ErrAccountNotAllowed, "BEDROCK_ALLOWED_ACCOUNTS", 0},
		{"own account, not listed", "123456789012", nil, "", 0},
		{"allowed: assumed with the external id", "999988887777", ErrAccessDenied, "arn:aws:iam::999988887777:role/BedrockUsageReader", 1},
		{"not allowed, own account known by now", "555566667777", ErrAccountNotAllowed, "BEDROCK_ALLOWED_ACCOUNTS", 0},
	}
	sts := &fakeSTS{}
	ts := httptest.NewServer(sts)
	defer ts.Close()
	base := fakeConfig(ts)
	ca := &CrossAccount{Allowed: []string{"999988887777", "111122223333"}, ExternalID: "mcp-usage-7f3a"}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before, beforeAssumed := sts.calls()
			cfg, err := ca.Config(t.Context(), base, tt.account)
			after, assumed := sts.calls()
			if tt.wantErr == nil {
				if err != nil || cfg.Credentials != base.Credentials {
					t.Fatalf("err %v; want the base config", err)
				}
			} else if !errors.Is(err, tt.wantErr) || !strings.Contains(err.Error(), tt.wantText) {
				t.Fatalf("err = %v, want %v naming %q", err, tt.wantErr, tt.wantText)
			}
			if n := len(assumed) - len(beforeAssumed); n != tt.wantAssumes {
				t.Fatalf("%d AssumeRole calls, want %d", n, tt.wantAssumes)
			}
			if tt.wantAssumes > 0 {
				q := assumed[len(assumed)-1]
				if q.Get("ExternalId") != "mcp-usage-7f3a" || q.Get("RoleArn") != "arn:aws:iam::999988887777:role/BedrockUsageReader" {
					t.Errorf("AssumeRole sent %v", q)
				}
			}
			if i == len(tests)-1 && len(after) != len(before) {
				t.Errorf("a refusal once the own account is known still called STS: %v", after[len(before):])
			}
			if err != nil && strings.Contains(err.Error(), "arn:aws:sts::123456789012") {
				t.Errorf("the error names the server's identity: %v", err)
			}
		})
	}
}

func TestParseAccountIDs(t *testing.T) {
	tests := []struct {
		in      string
		want    []string
		wantErr string
	}{
		{"", nil, ""},
		{"111122223333", []string{"111122223333"}, ""},
		{" 111122223333, 444455556666 111122223333", []string{"111122223333", "444455556666"}, ""},
		{"*", nil, `entry 1 ("*")`},
		{"111122223333,12345", nil, `entry 2 ("12345")`},
		{"arn:aws:iam::111122223333:root", nil, "12-digit"},
	}
	for _, tt := range tests {
		got, err := ParseAccountIDs(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%q: err %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || strings.Join(got, ",") != strings.Join(tt.want, ",") {
			t.Errorf("%q: %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
	for s, want := range map[string]bool{"ab": true, "a": false, "mcp-usage:7f3a/x@y.z+=,_": true, "has space": false, "ünï": false, strings.Repeat("x", 1225): false} {
		if ValidExternalID(s) != want {
			t.Errorf("ValidExternalID(%.20q) = %v", s, !want)
		}
	}
}

// The tool answers isError: an account that is not allowed (before any
// role is assumed), a caller without the cross-account scope, and AWS
// failures, whose text (naming the server's role and account) goes to the
// server log, not to the client.
func TestToolErrorsKeepAWSTextInTheLog(t *testing.T) {
	// One endpoint plays STS (form-encoded) and CloudWatch Logs (JSON,
	// X-Amz-Target): every Logs call fails, in eu-west-1 with a code the
	// source does not know.
	sts := &fakeSTS{}
	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Amz-Target") == "" {
			sts.ServeHTTP(w, r)
			return
		}
		code, msg := "AccessDeniedException", leakyDenial
		if strings.Contains(r.Header.Get("Authorization"), "/eu-west-1/") {
			code, msg = "InvalidParameterException", "Role arn:aws:iam::123456789012:role/mcp-server-role lacks something"
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.WriteHeader(http.StatusBadRequest)
		json.NewEncoder(w).Encode(map[string]string{"__type": code, "message": msg})
	}))
	defer fake.Close()

	tests := []struct {
		name, args string
		scope      string
		want       []string
		wantLog    string // "" : nothing logged
	}{
		{"account not allowed", `{"aws_account_id":"555566667777"}`, "",
			[]string{"may not read account 555566667777", "BEDROCK_ALLOWED_ACCOUNTS"}, ""},
		{"cross-account scope missing", `{"aws_account_id":"999988887777"}`, "bedrock:cross-account",
			[]string{`needs the OAuth scope "bedrock:cross-account"`}, ""},
		{"assume role denied", `{"aws_account_id":"999988887777"}`, "",
			[]string{"could not assume role arn:aws:iam::999988887777:role/BedrockUsageReader", "trust policy"}, leakyDenial},
		{"log group denied", `{"log_group_name":"/aws/bedrock/x"}`, "",
			[]string{`access denied: reading log group "/aws/bedrock/x" in region us-east-1: check the role's logs permissions`}, leakyDenial},
		{"other AWS error", `{"region":"eu-west-1"}`, "",
			[]string{"InvalidParameterException", "details are in the server log"}, "mcp-server-role lacks something"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logBuf bytes.Buffer
			s := server.New(server.Options{})
			err := RegisterTool(s, ToolConfig{
				LoadAWSConfig: func(_ context.Context, region string) (aws.Config, error) {
					cfg := fakeConfig(fake)
					cfg.Region = region
					return cfg, nil
				},
				CrossAccount:      (&CrossAccount{Allowed: []string{"999988887777"}}).Config,
				CrossAccountScope: tt.scope,
				Logger:            slog.New(slog.NewTextHandler(&logBuf, nil)),
			})
			if err != nil {
				t.Fatal(err)
			}
			_, final := mcpCall(t, s, tt.args)
			var res toolResult
			if err := json.Unmarshal(final.Result, &res); err != nil || !res.IsError || len(res.Content) == 0 {
				t.Fatalf("want an isError result: %s", final.Result)
			}
			text := res.Content[0].Text
			for _, w := range tt.want {
				if !strings.Contains(text, w) {
					t.Errorf("client text lacks %q: %s", w, text)
				}
			}
			for _, leak := range []string{"arn:aws:sts::", "123456789012", "mcp-server-role", "not authorized"} {
				if strings.Contains(text, leak) {
					t.Errorf("client text reveals %q: %s", leak, text)
				}
			}
			if tt.wantLog == "" {
				if logBuf.Len() != 0 {
					t.Errorf("logged %s", logBuf.String())
				}
			} else if !strings.Contains(logBuf.String(), tt.wantLog) {
				t.Errorf("server log lacks the AWS text: %s", logBuf.String())
			}
		})
	}
}

func TestHasScope(t *testing.T) {
	tests := []struct {
		p    *server.Principal
		want bool
	}{
		{nil, false},
		{&server.Principal{Subject: "u"}, false},
		{&server.Principal{Subject: "u", Scopes: []string{"mcp", "bedrock:cross-account"}}, true},
		{&server.Principal{Subject: "u", Scopes: []string{"bedrock:cross-account-x"}}, false},
	}
	for _, tt := range tests {
		if got := hasScope(tt.p, "bedrock:cross-account"); got != tt.want {
			t.Errorf("hasScope(%+v) = %v", tt.p, got)
		}
	}
}
