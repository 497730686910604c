package main

import (
	"log/slog"
	"slices"
	"strings"
	"testing"

	"mcplambda/server"
)

func TestRegisterBedrockSettings(t *testing.T) {
	for _, tc := range []struct {
		env     map[string]string
		wantErr string
	}{
		{env: map[string]string{}},
		{env: map[string]string{"BEDROCK_LOG_SOURCE": "insights", "BEDROCK_INSIGHTS_CONCURRENCY": "3"}},
		{env: map[string]string{"BEDROCK_LOG_SOURCE": "Filter"}},
		{env: map[string]string{"BEDROCK_LOG_SOURCE": "cloudwatch", "BEDROCK_FILTER_MAX_PAGES": "-1"}},
		{env: map[string]string{"BEDROCK_LOG_SOURCE": "logs"}, wantErr: "insights, filter"},
		{env: map[string]string{"BEDROCK_INSIGHTS_CONCURRENCY": "many"}, wantErr: "BEDROCK_INSIGHTS_CONCURRENCY"},
		{env: map[string]string{"BEDROCK_INSIGHTS_CONCURRENCY": "0"}, wantErr: "from 1 to 100"},
		{env: map[string]string{"BEDROCK_FILTER_MAX_PAGES": "-5"}, wantErr: "BEDROCK_FILTER_MAX_PAGES"},
	} {
		err := registerBedrock(server.New(server.Options{}), func(k string) string { return tc.env[k] }, slog.New(slog.DiscardHandler))
		if tc.wantErr == "" && err != nil {
			t.Errorf("%v: %v", tc.env, err)
		}
		if tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
			t.Errorf("%v: err = %v, want %q", tc.env, err, tc.wantErr)
		}
	}
}

func TestCrossAccountFromEnv(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		allowed []string
		role    string
		wantErr string
	}{
		{"nothing set: no other account", nil, nil, "BedrockUsageReader", ""},
		{"list, role and external id", map[string]string{"BEDROCK_ALLOWED_ACCOUNTS": "111122223333, 444455556666", "BEDROCK_CROSS_ACCOUNT_ROLE": "Reader", "BEDROCK_EXTERNAL_ID": "mcp-7f3a"},
			[]string{"111122223333", "444455556666"}, "Reader", ""},
		{"wildcard refused", map[string]string{"BEDROCK_ALLOWED_ACCOUNTS": "*"}, nil, "", "BEDROCK_ALLOWED_ACCOUNTS: entry 1"},
		{"short id refused", map[string]string{"BEDROCK_ALLOWED_ACCOUNTS": "111122223333,4444"}, nil, "", "entry 2"},
		{"external id with a space, not echoed", map[string]string{"BEDROCK_EXTERNAL_ID": "my secret"}, nil, "", "BEDROCK_EXTERNAL_ID must be"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ca, err := crossAccountFromEnv(func(k string) string { return strings.TrimSpace(tt.env[k]) })
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "my secret") {
					t.Errorf("the error repeats the external id: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(ca.Allowed, tt.allowed) || ca.Role != tt.role || ca.ExternalID != tt.env["BEDROCK_EXTERNAL_ID"] {
				t.Fatalf("%+v", ca)
			}
		})
	}
}
