package client

import (
	"context"
	"errors"
	"fmt"
	"mime"
	"net/http"

	"mcplambda/mcp"
)

// standaloneLoop keeps the GET stream open for messages the server sends
// outside any request, reconnecting (with Last-Event-ID, after the
// server's retry delay) when it drops, and giving up after
// maxResumeAttempts failed reconnections in a row. A stream the server
// accepts and later closes is no failure: servers (and gateways with
// response time limits) close idle streams, and the client follows.
func (c *Client) standaloneLoop() {
	cur := streamCursor{retry: defaultRetry}
	var cursorSession string
	failures := 0
	var lastErr error
	giveUp := func(err error) {
		c.log.Debug("mcp standalone stream stopped", "error", err)
		if c.opts.OnStandaloneStream != nil && c.ctx.Err() == nil {
			c.opts.OnStandaloneStream(false, err)
		}
	}
	stop := func() {}
	defer func() { stop() }() // the last attempt's idle timer
	for {
		stop()
		if c.ctx.Err() != nil {
			return
		}
		sess := c.session()
		if sess.id != cursorSession {
			// Event ids name streams of one session only.
			cur, cursorSession = streamCursor{retry: cur.retry}, sess.id
		}
		var sctx context.Context
		var touch func()
		sctx, touch, stop = idleContext(c.ctx, c.streamIdle)
		resp, err := c.send(sctx, httpReq{verb: http.MethodGet, rpcMethod: "GET stream", sess: sess, lastEventID: cur.lastID})
		switch {
		case c.ctx.Err() != nil:
			return
		case errors.Is(context.Cause(sctx), errStreamIdle):
			if err == nil {
				drain(resp)
			}
			lastErr = errStreamIdle
		case err != nil:
			var na *noAnswerError
			if !errors.As(err, &na) {
				giveUp(err) // credentials: retrying would not help
				return
			}
			lastErr = err
		case resp.StatusCode == http.StatusMethodNotAllowed:
			drain(resp)
			giveUp(nil)
			return
		case resp.StatusCode == http.StatusNotFound && sess.id != "":
			drain(resp)
			if err := c.reinitialize(c.ctx, sess.id); err != nil {
				giveUp(fmt.Errorf("%w: %w", ErrSessionExpired, err))
				return
			}
			// Counted as a failure all the same: a server that forgets
			// every new session must not make us spin.
			lastErr = errSessionNotFound
		case resp.StatusCode == http.StatusBadRequest && cur.lastID != "":
			// The server no longer knows the stream: start a fresh one.
			drain(resp)
			cur.lastID = ""
			continue
		case resp.StatusCode == http.StatusOK && isEventStream(resp):
			failures = 0
			if c.opts.OnStandaloneStream != nil {
				c.opts.OnStandaloneStream(true, nil)
			}
			_, err = c.readStream(sctx, touchReader{resp.Body, touch}, mcp.ID{}, sess, &cur)
			if c.ctx.Err() != nil {
				return
			}
			lastErr = err
			switch {
			case errors.Is(context.Cause(sctx), errStreamIdle):
				lastErr = errStreamIdle
			case lastErr == nil:
				lastErr = errors.New("the server closed the stream")
			}
		case resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests:
			lastErr = errorFromResponse(resp)
		default:
			giveUp(errorFromResponse(resp))
			return
		}
		stop()
		failures++
		if failures > maxResumeAttempts {
			giveUp(fmt.Errorf("%d reconnections failed: %w", maxResumeAttempts, lastErr))
			return
		}
		if sleep(c.ctx, cur.retry) != nil {
			return
		}
	}
}

func isEventStream(resp *http.Response) bool {
	ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	return ct == "text/event-stream"
}
