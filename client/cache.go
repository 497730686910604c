package client

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"mcplambda/mcp"
)

// ResultCache keeps the cacheable results of stateless-era servers
// (server/discover aside: the lists and resources/read) for as long as
// their ttlMs says, the way the 2026-07-28 caching rules describe:
//   - the key is the endpoint, the method and the params that shape the
//     result (the cursor of a page, the uri of a read), never _meta;
//   - a "private" result is reused only within the authorization context
//     that fetched it (the credentials the Authorizer sends, hashed), so
//     one cache can serve several clients and users without leaking one
//     user's data to another; a "public" one is shared;
//   - ttlMs 0, negative or absent means immediately stale: not kept;
//   - results of retried requests (inputResponses, requestState) are never
//     kept: they depend on answers that are not part of the key;
//   - tools/list_changed, prompts/list_changed, resources/list_changed and
//     resources/updated invalidate what they name at once.
//
// The server is not trusted: entries and bytes are bounded, and the
// entry closest to expiry makes room for a new one.
//
// It also remembers the era negotiation found at each origin, as the
// 2026-07-28 versioning rules ask: a Connect through the same cache to a
// session-era origin goes straight to initialize, and probes again only if
// that fails.
type ResultCache struct {
	maxEntries int
	maxBytes   int
	now        func() time.Time // tests move time

	mu      sync.Mutex
	entries map[string]*cacheEntry
	bytes   int
	eras    map[string]Era // by origin: what negotiation found
}

type cacheEntry struct {
	endpoint, method, uri string
	result                json.RawMessage
	expires               time.Time
}

// Cache bounds: a REPL needs a few dozen entries; a result larger than
// maxCachedResult is served fresh every time rather than crowd out the rest.
const (
	defaultCacheEntries = 256
	defaultCacheBytes   = 8 << 20
	maxCachedResult     = 1 << 20
)

// maxOrigins bounds the eras remembered; past it they are forgotten and
// learnt again.
const maxOrigins = 256

// NewResultCache returns a cache of at most maxEntries results (and 8 MiB);
// maxEntries <= 0 returns a cache that keeps nothing, which turns caching
// off. Share one between clients (Options.Cache) to share public results.
func NewResultCache(maxEntries int) *ResultCache {
	return &ResultCache{maxEntries: maxEntries, maxBytes: defaultCacheBytes, now: time.Now,
		entries: map[string]*cacheEntry{}, eras: map[string]Era{}}
}

// Len is the number of results held, expired ones included until they are
// evicted or looked up.
func (rc *ResultCache) Len() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return len(rc.entries)
}

// eraOf is the era negotiation found at origin ("" if unknown).
func (rc *ResultCache) eraOf(origin string) Era {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.eras[origin]
}

func (rc *ResultCache) rememberEra(origin string, era Era) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if _, ok := rc.eras[origin]; !ok && len(rc.eras) >= maxOrigins {
		clear(rc.eras)
	}
	rc.eras[origin] = era
}

// originOf is scheme://host[:port] of an endpoint URL (already checked).
func originOf(endpoint string) string {
	u, err := url.Parse(endpoint)
	if err != nil {
		return endpoint
	}
	return strings.ToLower(u.Scheme + "://" + u.Host)
}

// Clear forgets every result (not the eras).
func (rc *ResultCache) Clear() {
	rc.mu.Lock()
	clear(rc.entries)
	rc.bytes = 0
	rc.mu.Unlock()
}

// cacheable reports whether results of method may be cached at all.
func cacheable(method string) bool {
	switch method {
	case mcp.MethodToolsList, mcp.MethodPromptsList, mcp.MethodResourcesList,
		mcp.MethodResourcesTemplatesList, mcp.MethodResourcesRead:
		return true
	}
	return false
}

// cacheKey identifies a request: scope is "public" or "private:" and the
// authorization context. params is the request's own params, encoded
// before _meta was added.
func cacheKey(endpoint, scope, method string, params []byte) string {
	return endpoint + "\n" + scope + "\n" + method + "\n" + string(params)
}

func (rc *ResultCache) get(key string) (json.RawMessage, bool) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	e, ok := rc.entries[key]
	if !ok {
		return nil, false
	}
	if !rc.now().Before(e.expires) {
		rc.removeLocked(key, e)
		return nil, false
	}
	return e.result, true
}

func (rc *ResultCache) put(key string, e *cacheEntry) {
	if rc.maxEntries <= 0 || len(e.result) > maxCachedResult {
		return
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if old, ok := rc.entries[key]; ok {
		rc.removeLocked(key, old)
	}
	now := rc.now()
	for len(rc.entries) >= rc.maxEntries || rc.bytes+len(e.result) > rc.maxBytes {
		// Expired entries first, then the one that expires soonest.
		var victim string
		var soonest time.Time
		for k, x := range rc.entries {
			if !now.Before(x.expires) {
				victim = k
				break
			}
			if victim == "" || x.expires.Before(soonest) {
				victim, soonest = k, x.expires
			}
		}
		if victim == "" {
			break
		}
		rc.removeLocked(victim, rc.entries[victim])
	}
	rc.entries[key] = e
	rc.bytes += len(e.result)
}

func (rc *ResultCache) removeLocked(key string, e *cacheEntry) {
	delete(rc.entries, key)
	rc.bytes -= len(e.result)
}

// invalidate drops the results of endpoint that match: method, and uri
// when it is not empty.
func (rc *ResultCache) invalidate(endpoint string, methods []string, uri string) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	for k, e := range rc.entries {
		if e.endpoint != endpoint || (uri != "" && e.uri != uri) {
			continue
		}
		for _, m := range methods {
			if e.method == m {
				rc.removeLocked(k, e)
				break
			}
		}
	}
}

// invalidateFor applies a server notification to the cache.
func (c *Client) invalidateFor(method string, params json.RawMessage) {
	var methods []string
	uri := ""
	switch method {
	case mcp.NotificationToolsListChanged:
		methods = []string{mcp.MethodToolsList}
	case mcp.NotificationPromptsListChanged:
		methods = []string{mcp.MethodPromptsList}
	case mcp.NotificationResourcesListChanged:
		methods = []string{mcp.MethodResourcesList, mcp.MethodResourcesTemplatesList}
	case mcp.NotificationResourcesUpdated:
		var p struct {
			URI string `json:"uri"`
		}
		if json.Unmarshal(params, &p) != nil || p.URI == "" {
			return
		}
		methods, uri = []string{mcp.MethodResourcesRead}, p.URI
	default:
		return
	}
	c.cache.invalidate(c.opts.URL, methods, uri)
}

// authContext names the credentials the Authorizer sends now, hashed:
// private results are kept under it. Without an Authorizer every request
// shares the anonymous context.
func (c *Client) authContext(ctx context.Context) string {
	if c.opts.Auth == nil {
		return "private:"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.opts.URL, nil)
	if err != nil || c.opts.Auth.Authorize(ctx, req) != nil {
		return ""
	}
	names := make([]string, 0, len(req.Header))
	for k := range req.Header {
		names = append(names, k)
	}
	sort.Strings(names)
	h := sha256.New()
	for _, k := range names {
		h.Write([]byte(k + ":" + strings.Join(req.Header[k], ",") + "\n"))
	}
	return "private:" + hex.EncodeToString(h.Sum(nil))
}

// cachedResult looks a request up: public results first, then the
// private ones of the current authorization context.
func (c *Client) cachedResult(ctx context.Context, method string, params []byte) (json.RawMessage, bool) {
	if !cacheable(method) || c.cache.maxEntries <= 0 {
		return nil, false
	}
	if r, ok := c.cache.get(cacheKey(c.opts.URL, mcp.CachePublic, method, params)); ok {
		return r, true
	}
	if scope := c.authContext(ctx); scope != "" {
		return c.cache.get(cacheKey(c.opts.URL, scope, method, params))
	}
	return nil, false
}

// storeResult keeps a complete first-round result if its hints allow.
func (c *Client) storeResult(ctx context.Context, method string, params []byte, uri string, result json.RawMessage) {
	if !cacheable(method) || c.cache.maxEntries <= 0 {
		return
	}
	var hint struct {
		TTL   *float64 `json:"ttlMs"`
		Scope string   `json:"cacheScope"`
	}
	if json.Unmarshal(result, &hint) != nil || hint.TTL == nil || *hint.TTL <= 0 {
		return
	}
	scope := mcp.CachePublic
	if hint.Scope != mcp.CachePublic {
		// "private", or a value we do not know: the narrower reading.
		if scope = c.authContext(ctx); scope == "" {
			return
		}
	}
	ttl := time.Duration(min(*hint.TTL, float64(24*time.Hour/time.Millisecond))) * time.Millisecond
	c.cache.put(cacheKey(c.opts.URL, scope, method, params), &cacheEntry{
		endpoint: c.opts.URL, method: method, uri: uri,
		result: append(json.RawMessage(nil), result...), expires: c.cache.now().Add(ttl),
	})
}
