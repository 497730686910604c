package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// maxMetadataBytes bounds a metadata document read from the network.
const maxMetadataBytes = 256 << 10

// FetchAuthorizationServerMetadata discovers an authorization server's
// metadata from its issuer URL, trying the well-known locations in the order
// of the MCP authorization specification, and checks that the document's
// issuer is exactly the one asked for (RFC 8414 section 3.3), so a
// document cannot speak for another issuer.
func FetchAuthorizationServerMetadata(ctx context.Context, client *http.Client, issuer string) (*AuthorizationServerMetadata, error) {
	urls, err := WellKnownURLs(issuer)
	if err != nil {
		return nil, err
	}
	if client == nil {
		client = http.DefaultClient
	}
	var errs []error
	for _, u := range urls {
		var md AuthorizationServerMetadata
		status, err := getJSON(ctx, client, u, &md)
		if err != nil {
			if status == http.StatusNotFound {
				continue
			}
			errs = append(errs, fmt.Errorf("%s: %w", u, err))
			continue
		}
		if md.Issuer != issuer {
			return nil, fmt.Errorf("%s names issuer %q, not %q: refusing it", u, md.Issuer, issuer)
		}
		return &md, nil
	}
	if len(errs) == 0 {
		return nil, fmt.Errorf("no authorization server metadata for %s at %s", issuer, strings.Join(urls, ", "))
	}
	return nil, errors.Join(errs...)
}

// getJSON fetches a bounded JSON document; it returns the HTTP status.
func getJSON(ctx context.Context, client *http.Client, url string, v any) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
		return resp.StatusCode, fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxMetadataBytes+1))
	if err != nil {
		return resp.StatusCode, err
	}
	if len(body) > maxMetadataBytes {
		return resp.StatusCode, fmt.Errorf("document larger than %d bytes", maxMetadataBytes)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return resp.StatusCode, fmt.Errorf("not a JSON metadata document: %w", err)
	}
	return resp.StatusCode, nil
}
