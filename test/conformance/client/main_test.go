package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"mcplambda/mcp"
)

func TestAcceptDefaults(t *testing.T) {
	tests := []struct {
		name       string
		params     mcp.ElicitParams
		wantAction string
		wantJSON   string // content, when accepted
	}{
		{
			name: "every default of every type is applied",
			params: mcp.ElicitParams{Message: "m", RequestedSchema: json.RawMessage(`{"type":"object","properties":{
				"name":{"type":"string","default":"John Doe"},
				"age":{"type":"integer","default":30},
				"score":{"type":"number","default":95.5},
				"status":{"type":"string","enum":["active","inactive"],"default":"active"},
				"verified":{"type":"boolean","default":true}}}`)},
			wantAction: "accept",
			wantJSON:   `{"age":30,"name":"John Doe","score":95.5,"status":"active","verified":true}`,
		},
		{
			name: "optional fields without a default are left out",
			params: mcp.ElicitParams{RequestedSchema: json.RawMessage(`{"type":"object","properties":{
				"a":{"type":"string","default":"x"},"b":{"type":"string"}},"required":["a"]}`)},
			wantAction: "accept",
			wantJSON:   `{"a":"x"}`,
		},
		{
			name: "a required field without a default cannot be accepted",
			params: mcp.ElicitParams{RequestedSchema: json.RawMessage(`{"type":"object","properties":{
				"b":{"type":"string"}},"required":["b"]}`)},
			wantAction: "decline",
		},
		{
			name:       "URL mode is declined",
			params:     mcp.ElicitParams{Mode: "url", URL: "https://example.com/consent", ElicitationID: "e1"},
			wantAction: "decline",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := acceptDefaults(t.Context(), &tt.params)
			if err != nil {
				t.Fatal(err)
			}
			if res.Action != tt.wantAction {
				t.Fatalf("action %q, want %q", res.Action, tt.wantAction)
			}
			if tt.wantJSON == "" {
				if len(res.Content) != 0 {
					t.Errorf("content %v with action %s", res.Content, res.Action)
				}
				return
			}
			var want map[string]any
			if err := json.Unmarshal([]byte(tt.wantJSON), &want); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(res.Content, want) {
				t.Errorf("content %v, want %v", res.Content, want)
			}
		})
	}
}

func TestHeadlessBrowserVisit(t *testing.T) {
	callbacks := make(chan string, 1)
	callback := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		callbacks <- r.URL.RawQuery
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(callback.Close)

	tests := []struct {
		name     string
		location string // where the authorization endpoint redirects; "" answers 200
		wantErr  string
		wantCB   string // query the callback must receive
	}{
		{name: "redirect to the loopback callback is delivered", location: callback.URL + "/callback?code=c1&state=s1", wantCB: "code=c1&state=s1"},
		{name: "redirect elsewhere is not followed", location: "http://example.com/callback?code=c2", wantErr: "not the loopback callback"},
		{name: "https redirect is not the loopback callback", location: "https://127.0.0.1:1/callback?code=c3", wantErr: "not the loopback callback"},
		{name: "an answer without a redirect is an error", wantErr: "not a redirect"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			as := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tt.location == "" {
					w.WriteHeader(http.StatusOK)
					return
				}
				http.Redirect(w, r, tt.location, http.StatusFound)
			}))
			defer as.Close()
			hc := &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			err := visit(ctx, hc, as.URL+"/authorize?client_id=x")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("visit error %v, want one containing %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "code=") {
					t.Errorf("the error carries the authorization code: %v", err)
				}
				select {
				case q := <-callbacks:
					t.Errorf("the callback was called (%s) although the redirect was refused", q)
				default:
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			select {
			case q := <-callbacks:
				if q != tt.wantCB {
					t.Errorf("callback query %q, want %q", q, tt.wantCB)
				}
			case <-ctx.Done():
				t.Fatal("the callback was never called")
			}
		})
	}
}

func TestSampleArguments(t *testing.T) {
	got := sampleArguments(json.RawMessage(`{"type":"object","properties":{
		"region":{"type":"string","x-mcp-header":"Region"},
		"n":{"type":"integer"},"x":{"type":"number"},"b":{"type":"boolean"},
		"o":{"type":"object"},"a":{"type":"array"},"optional":{"type":"string"},
		"untyped":{}},
		"required":["region","n","x","b","o","a","untyped"]}`))
	want := map[string]any{"region": "sample", "n": 1, "x": 1, "b": true, "o": map[string]any{}, "a": []any{}, "untyped": "sample"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("sampleArguments = %#v, want %#v", got, want)
	}
	if got := sampleArguments(json.RawMessage(`not json`)); len(got) != 0 {
		t.Errorf("sampleArguments of a broken schema = %#v, want none", got)
	}
}
