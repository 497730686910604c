package oauth

import (
	"container/list"
	"crypto/sha256"
	"encoding/binary"
	"sync"
	"time"
)

const tokenCacheShards = 16

type tokenKey [sha256.Size]byte

type cacheEntry struct {
	key    tokenKey
	claims *Claims
	expiry time.Time // the token's exp: the entry is never used at or after it
	elem   *list.Element
}

type cacheShard struct {
	mu      sync.Mutex
	entries map[tokenKey]*cacheEntry
	order   *list.List // insertion order, oldest at the front
	limit   int
}

// tokenCache maps SHA-256(token) to the claims of a verified token. It is
// bounded, sharded to reduce lock contention, and never returns an entry at
// or after the token's expiry.
type tokenCache struct {
	shards [tokenCacheShards]cacheShard
}

func newTokenCache(size int) *tokenCache {
	if size <= 0 {
		return nil
	}
	per := (size + tokenCacheShards - 1) / tokenCacheShards
	c := &tokenCache{}
	for i := range c.shards {
		c.shards[i].entries = make(map[tokenKey]*cacheEntry)
		c.shards[i].order = list.New()
		c.shards[i].limit = per
	}
	return c
}

func hashToken(token string) tokenKey { return sha256.Sum256([]byte(token)) }

func (c *tokenCache) shard(k *tokenKey) *cacheShard {
	return &c.shards[binary.LittleEndian.Uint64(k[:8])%tokenCacheShards]
}

// get returns the cached claims for k if they are still before expiry at now.
func (c *tokenCache) get(k tokenKey, now time.Time) *Claims {
	if c == nil {
		return nil
	}
	s := c.shard(&k)
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.entries[k]
	if !ok {
		return nil
	}
	if !now.Before(e.expiry) {
		s.remove(e)
		return nil
	}
	return e.claims
}

// put stores claims for k until expiry. When the shard is full the oldest
// entries are evicted (expired ones are also dropped when looked up).
func (c *tokenCache) put(k tokenKey, claims *Claims, expiry, now time.Time) {
	if c == nil || !now.Before(expiry) {
		return
	}
	s := c.shard(&k)
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.entries[k]; ok {
		e.claims, e.expiry = claims, expiry
		return
	}
	for len(s.entries) >= s.limit {
		s.remove(s.order.Front().Value.(*cacheEntry))
	}
	e := &cacheEntry{key: k, claims: claims, expiry: expiry}
	e.elem = s.order.PushBack(e)
	s.entries[k] = e
}

func (s *cacheShard) remove(e *cacheEntry) {
	s.order.Remove(e.elem)
	delete(s.entries, e.key)
}

func (c *tokenCache) len() int {
	if c == nil {
		return 0
	}
	n := 0
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		n += len(s.entries)
		s.mu.Unlock()
	}
	return n
}
