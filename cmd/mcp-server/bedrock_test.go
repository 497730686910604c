package main

import (
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
		err := registerBedrock(server.New(server.Options{}), func(k string) string { return tc.env[k] })
		if tc.wantErr == "" && err != nil {
			t.Errorf("%v: %v", tc.env, err)
		}
		if tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
			t.Errorf("%v: err = %v, want %q", tc.env, err, tc.wantErr)
		}
	}
}
