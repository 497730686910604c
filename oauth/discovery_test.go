package oauth

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestFetchJSON(t *testing.T) {
	const limit = 64
	exact := `{"issuer":"` + strings.Repeat("a", limit-len(`{"issuer":""}`)) + `"}`
	tests := []struct {
		name       string
		status     int
		body       string
		wantStatus int
		wantErr    string
		wantIssuer string
	}{
		{name: "document", status: 200, body: `{"issuer":"https://as"}`, wantStatus: 200, wantIssuer: "https://as"},
		{name: "exactly the limit", status: 200, body: exact, wantStatus: 200, wantIssuer: exact[len(`{"issuer":"`) : len(exact)-2]},
		{name: "one byte over", status: 200, body: exact + " ", wantStatus: 200, wantErr: "larger than 64 bytes"},
		{name: "not found", status: 404, body: `{"issuer":"x"}`, wantStatus: 404, wantErr: "HTTP 404"},
		{name: "not JSON", status: 200, body: `<html>`, wantStatus: 200, wantErr: "not a valid JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Header.Get("Accept") != "application/json" {
					t.Errorf("Accept %q", r.Header.Get("Accept"))
				}
				w.WriteHeader(tt.status)
				_, _ = w.Write([]byte(tt.body))
			}))
			defer ts.Close()
			var md AuthorizationServerMetadata
			status, err := FetchJSON(t.Context(), ts.Client(), ts.URL, limit, &md)
			if status != tt.wantStatus {
				t.Errorf("status %d, want %d", status, tt.wantStatus)
			}
			if tt.wantErr == "" {
				if err != nil || md.Issuer != tt.wantIssuer {
					t.Fatalf("got %q, %v; want %q", md.Issuer, err, tt.wantIssuer)
				}
			} else if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error %v, want %q", err, tt.wantErr)
			}
		})
	}
}

// The caller's context bounds a server that never finishes its answer.
func TestFetchJSONHonoursContext(t *testing.T) {
	arrived := make(chan struct{})
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(200)
		_, _ = w.Write([]byte(`{"issuer":`))
		w.(http.Flusher).Flush()
		close(arrived)
		<-r.Context().Done()
	}))
	defer ts.Close()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		var md AuthorizationServerMetadata
		_, err := FetchJSON(ctx, ts.Client(), ts.URL, 1<<10, &md)
		done <- err
	}()
	<-arrived
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("error %v, want context.Canceled", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("FetchJSON did not return after its context ended")
	}
}
