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
	var errs []error
	for _, u := range urls {
		var md AuthorizationServerMetadata
		status, err := FetchJSON(ctx, client, u, maxMetadataBytes, &md)
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

// FetchJSON GETs url and decodes its JSON body into v, reading at most
// limit bytes: documents from the network (metadata, JWKS, registrations)
// are not trusted to be small. ctx bounds the whole exchange, the body
// included; client's own Timeout applies too. It returns the HTTP status
// (0 when there was no answer); any status but 200 is an error.
func FetchJSON(ctx context.Context, client *http.Client, url string, limit int64, v any) (int, error) {
	if client == nil {
		client = http.DefaultClient
	}
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
		// Drained a little so the connection can be reused.
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
		return resp.StatusCode, fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return resp.StatusCode, ReadJSON(resp.Body, limit, v)
}

// ReadJSON decodes one JSON document of at most limit bytes from r.
func ReadJSON(r io.Reader, limit int64, v any) error {
	body, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return err
	}
	if int64(len(body)) > limit {
		return fmt.Errorf("document larger than %d bytes", limit)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("not a valid JSON document: %w", err)
	}
	return nil
}
