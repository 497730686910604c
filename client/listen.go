package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"

	"mcplambda/internal/mcpheader"
	"mcplambda/mcp"
)

// In the stateless era, subscriptions/listen replaces both the GET stream
// and resources/subscribe: one long-lived POST whose SSE stream starts
// with notifications/subscriptions/acknowledged and then carries the
// change notifications asked for, each tagged with the listen request's
// id. Changing the subscriptions reopens the stream with the new filter.

// listenAck is what a Subscribe or Unsubscribe waiting for the reopened
// stream is told.
type listenAck struct {
	filter mcp.SubscriptionFilter
	err    error
}

// errNoListen: the server acknowledged nothing (it offers no
// subscriptions, as on Lambda).
var errNoListen = errors.New("the server honours no subscriptions/listen notifications")

// listenFilterLocked is what the stream should ask for now: list changes when
// OpenStandaloneStream is set, and the subscribed resources.
func (c *Client) listenFilterLocked() mcp.SubscriptionFilter {
	var f mcp.SubscriptionFilter
	if c.opts.OpenStandaloneStream {
		f.ToolsListChanged, f.PromptsListChanged, f.ResourcesListChanged = true, true, true
	}
	for u := range c.subs {
		f.ResourceSubscriptions = append(f.ResourceSubscriptions, u)
	}
	slices.Sort(f.ResourceSubscriptions)
	return f
}

func emptyFilter(f mcp.SubscriptionFilter) bool {
	return !f.ToolsListChanged && !f.PromptsListChanged && !f.ResourcesListChanged && len(f.ResourceSubscriptions) == 0
}

// startListenLocked starts the listen loop unless it runs. c.mu must be held.
func (c *Client) startListenLocked() {
	if c.listenRunning || c.closed {
		return
	}
	c.listenRunning = true
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		c.listenLoop()
	}()
}

// changeSubscription updates the subscribed URIs and reopens the listen
// stream, waiting for its acknowledgement; it fails when the server did
// not honour uri (or the stream could not be opened).
func (c *Client) changeSubscription(ctx context.Context, uri string, on bool) error {
	method := mcp.MethodResourcesSubscribe
	if !on {
		method = mcp.MethodResourcesUnsubscribe
	}
	ch := make(chan listenAck, 1)
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return ErrClosed
	}
	had := c.subs[uri]
	if on {
		c.subs[uri] = true
	} else {
		delete(c.subs, uri)
	}
	c.listenWaiters = append(c.listenWaiters, ch)
	c.listenRestart = true
	if c.listenCancel != nil {
		c.listenCancel()
	}
	c.startListenLocked()
	c.mu.Unlock()
	undo := func() {
		c.mu.Lock()
		if had {
			c.subs[uri] = true
		} else {
			delete(c.subs, uri)
		}
		c.mu.Unlock()
	}
	select {
	case a := <-ch:
		if a.err != nil {
			undo()
			return fmt.Errorf("%s (subscriptions/listen): %w", method, a.err)
		}
		if on && !slices.Contains(a.filter.ResourceSubscriptions, uri) {
			undo()
			return fmt.Errorf("%s (subscriptions/listen): the server does not honour a subscription to %q", method, truncate(uri, 256))
		}
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-c.ctx.Done():
		return ErrClosed
	}
}

// listenLoop keeps the subscriptions/listen stream open, reopening it when
// it drops (after defaultRetry) or when the filter changes, and giving up
// after maxResumeAttempts failures in a row.
func (c *Client) listenLoop() {
	failures := 0
	var lastErr error
	for {
		sctx, cancel := context.WithCancel(c.ctx)
		c.mu.Lock()
		if c.ctx.Err() != nil {
			c.listenRunning = false
			c.mu.Unlock()
			cancel()
			return
		}
		filter := c.listenFilterLocked()
		waiters := c.listenWaiters
		c.listenWaiters = nil
		c.listenRestart = false
		if emptyFilter(filter) {
			// Nothing to listen for (the last subscription went).
			c.listenRunning = false
			c.mu.Unlock()
			cancel()
			for _, w := range waiters {
				w <- listenAck{}
			}
			return
		}
		c.listenCancel = cancel
		c.mu.Unlock()

		acked, err := c.listenOnce(sctx, filter, &waiters)
		cancel()

		c.mu.Lock()
		c.listenCancel = nil
		restart := c.listenRestart
		// Waiters not yet answered wait for the next stream.
		c.listenWaiters = append(waiters, c.listenWaiters...)
		stopping := c.ctx.Err() != nil
		var giveUp error
		switch {
		case stopping:
		case restart:
			failures = 0
		default:
			if acked {
				failures = 0
			}
			if err == nil {
				err = errors.New("the server closed the stream")
			}
			lastErr = err
			failures++
			if errors.Is(err, errNoListen) || isPermanent(err) {
				giveUp = err
			} else if failures > maxResumeAttempts {
				giveUp = fmt.Errorf("%d reconnections failed: %w", maxResumeAttempts, lastErr)
			}
		}
		if stopping || giveUp != nil {
			c.listenRunning = false
			ws := c.listenWaiters
			c.listenWaiters = nil
			c.mu.Unlock()
			if giveUp != nil {
				c.log.Debug("mcp subscriptions/listen stopped", "error", giveUp)
				for _, w := range ws {
					w <- listenAck{err: giveUp}
				}
				if c.opts.OnStandaloneStream != nil {
					reason := giveUp
					if errors.Is(giveUp, errNoListen) {
						reason = nil
					}
					c.opts.OnStandaloneStream(false, reason)
				}
			}
			return
		}
		c.mu.Unlock()
		if !restart && sleep(c.ctx, defaultRetry) != nil {
			c.mu.Lock()
			c.listenRunning = false
			c.mu.Unlock()
			return
		}
	}
}

// permanentError is an answer retrying will not change (a 4xx).
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

func isPermanent(err error) bool {
	var p *permanentError
	return errors.As(err, &p)
}

// listenOnce opens one listen stream and reads it until it ends. Waiters
// are answered (and removed) at the acknowledgement.
func (c *Client) listenOnce(ctx context.Context, filter mcp.SubscriptionFilter, waiters *[]chan listenAck) (acked bool, err error) {
	sess := c.session()
	id := mcp.IntID(c.nextID.Add(1))
	params, err := c.modernParams(nil, &mcp.SubscriptionsListenParams{Notifications: filter}, sess, nil)
	if err != nil {
		return false, &permanentError{err}
	}
	body, err := mcp.AppendRequest(nil, id, mcp.MethodSubscriptionsListen, params)
	if err != nil {
		return false, &permanentError{err}
	}
	hdr := http.Header{}
	mcpheader.SetStandard(hdr, mcp.MethodSubscriptionsListen, "")
	resp, err := c.send(ctx, httpReq{verb: http.MethodPost, rpcMethod: mcp.MethodSubscriptionsListen, id: id, body: body, sess: sess, hdr: hdr})
	if err != nil {
		var na *noAnswerError
		if errors.As(err, &na) || ctx.Err() != nil {
			return false, err
		}
		return false, &permanentError{err} // credentials
	}
	switch {
	case resp.StatusCode/100 == 4 && resp.StatusCode != http.StatusTooManyRequests:
		err := errorFromResponse(resp)
		var he *HTTPError
		if errors.As(err, &he) {
			if re := rpcErrorInBody(he.Body); re != nil {
				err = re
			}
		}
		return false, &permanentError{err}
	case resp.StatusCode != http.StatusOK:
		return false, errorFromResponse(resp)
	case !isEventStream(resp):
		msg, err := readJSONResponse(resp.Body, id, c.maxMessage)
		if err == nil {
			err = decodeResult(msg, nil)
		}
		if err == nil {
			err = errors.New("the server ended the stream at once")
		}
		return false, err
	}
	defer resp.Body.Close()
	dec := mcp.NewDecoder(resp.Body)
	dec.SetLimits(c.maxMessage, c.maxMessage)
	want := id.String()
	for {
		ev, err := dec.Next()
		if err != nil {
			if err == io.EOF {
				err = nil
			}
			return acked, err
		}
		m, derr := mcp.DecodeMessage(ev.Data)
		if derr != nil {
			continue
		}
		switch m.Kind() {
		case mcp.KindResponse:
			if m.ID.String() == want {
				return acked, decodeResult(m, nil) // the server ended the stream
			}
		case mcp.KindNotification:
			var p struct {
				Meta          map[string]json.RawMessage `json:"_meta"`
				Notifications mcp.SubscriptionFilter     `json:"notifications"`
			}
			_ = json.Unmarshal(m.Params, &p)
			if compactJSON(p.Meta[mcp.MetaSubscriptionID]) != want {
				c.log.Debug("mcp notification for another subscription ignored", "method", truncate(m.Method, 64))
				continue
			}
			if m.Method == mcp.NotificationSubscriptionsAcknowledged {
				if acked {
					continue
				}
				acked = true
				for _, w := range *waiters {
					w <- listenAck{filter: p.Notifications}
				}
				*waiters = nil
				if emptyFilter(p.Notifications) {
					return acked, errNoListen
				}
				if c.opts.OnStandaloneStream != nil {
					c.opts.OnStandaloneStream(true, nil)
				}
				continue
			}
			if acked {
				c.handleNotification(m.Method, m.Params, sess)
			}
		}
		if ctx.Err() != nil {
			return acked, ctx.Err()
		}
	}
}
