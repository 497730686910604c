package client

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"time"

	"mcplambda/mcp"
)

// httpReq is one HTTP exchange with the MCP endpoint.
type httpReq struct {
	verb        string
	rpcMethod   string // for logs
	id          mcp.ID // for logs
	body        []byte
	sess        session
	lastEventID string
	hdr         http.Header // extra headers (the stateless era's Mcp-Method, Mcp-Name, Mcp-Param-*)
}

// send performs one HTTP request with credentials, answering auth
// challenges (at most maxAuthRetries times). Any other status is the
// caller's to interpret; the caller owns resp.Body.
func (c *Client) send(ctx context.Context, r httpReq) (*http.Response, error) {
	for attempt := 0; ; attempt++ {
		var body io.Reader
		if r.body != nil {
			body = bytes.NewReader(r.body)
		}
		req, err := http.NewRequestWithContext(ctx, r.verb, c.opts.URL, body)
		if err != nil {
			return nil, err
		}
		switch r.verb {
		case http.MethodPost:
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Accept", "application/json, text/event-stream")
		case http.MethodGet:
			req.Header.Set("Accept", "text/event-stream")
		}
		if r.sess.id != "" {
			req.Header.Set("Mcp-Session-Id", r.sess.id)
		}
		if r.sess.version != "" {
			req.Header.Set("MCP-Protocol-Version", r.sess.version)
		}
		if r.lastEventID != "" {
			req.Header.Set("Last-Event-ID", r.lastEventID)
		}
		for k, v := range r.hdr {
			req.Header[k] = v
		}
		if c.opts.Auth != nil {
			if err := c.opts.Auth.Authorize(ctx, req); err != nil {
				return nil, fmt.Errorf("authorizing the request: %w", err)
			}
		}
		start := time.Now()
		resp, err := c.hc.Do(req)
		if err != nil {
			c.log.Debug("mcp http", "http_method", r.verb, "method", r.rpcMethod, "id", r.id.String(), "error", err)
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			label := r.rpcMethod
			if label == "" {
				label = r.verb
			}
			return nil, &noAnswerError{label, err}
		}
		c.log.Debug("mcp http", "http_method", r.verb, "method", r.rpcMethod, "id", r.id.String(),
			"status", resp.StatusCode, "content_type", resp.Header.Get("Content-Type"), "duration", time.Since(start))
		if !isAuthChallenge(resp) {
			return resp, nil
		}
		drain(resp)
		ae := authRequired(resp)
		if c.opts.Auth == nil {
			return nil, ae
		}
		if attempt >= maxAuthRetries {
			return nil, fmt.Errorf("still refused after %d renewed credentials: %w", attempt, ae)
		}
		resume := pauseRequestTimer(ctx)
		err = c.opts.Auth.Challenge(ctx, resp)
		resume()
		if err != nil {
			return nil, err
		}
	}
}

// exchange POSTs one request and waits for its response, from a JSON body
// or an SSE stream (resuming the stream if it breaks). It also returns the
// Mcp-Session-Id the answer carried, for initialize.
func (c *Client) exchange(ctx context.Context, method string, id mcp.ID, body []byte, sess session) (*mcp.Message, string, error) {
	return c.exchangeWith(ctx, method, id, body, sess, nil)
}

// exchangeWith is exchange with extra request headers.
func (c *Client) exchangeWith(ctx context.Context, method string, id mcp.ID, body []byte, sess session, hdr http.Header) (*mcp.Message, string, error) {
	resp, err := c.send(ctx, httpReq{verb: http.MethodPost, rpcMethod: method, id: id, body: body, sess: sess, hdr: hdr})
	if err != nil {
		return nil, "", err
	}
	sid := resp.Header.Get("Mcp-Session-Id")
	if resp.StatusCode == http.StatusNotFound && sess.id != "" {
		drain(resp)
		return nil, "", errSessionNotFound
	}
	if resp.StatusCode/100 != 2 {
		return nil, "", errorFromResponse(resp)
	}
	if resp.StatusCode == http.StatusAccepted {
		drain(resp)
		return nil, "", fmt.Errorf("%s: the server accepted the request (202) without answering it", method)
	}
	ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	switch ct {
	case "application/json":
		msg, err := readJSONResponse(resp.Body, id, c.maxMessage)
		if err != nil {
			err = fmt.Errorf("%s: %w", method, err)
		}
		return msg, sid, err
	case "text/event-stream":
		msg, err := c.awaitOnStream(ctx, method, id, resp.Body, sess)
		return msg, sid, err
	}
	drain(resp)
	return nil, "", fmt.Errorf("%s: unexpected Content-Type %q in the answer", method, truncate(ct, 64))
}

func readJSONResponse(body io.ReadCloser, id mcp.ID, limit int) (*mcp.Message, error) {
	defer body.Close()
	b, err := io.ReadAll(io.LimitReader(body, int64(limit)+1))
	if err != nil {
		return nil, fmt.Errorf("reading the response: %w", err)
	}
	if len(b) > limit {
		return nil, fmt.Errorf("the response exceeds %d bytes", limit)
	}
	msg, err := mcp.DecodeMessage(b)
	if err != nil {
		return nil, fmt.Errorf("malformed response: %w", err)
	}
	if msg.Kind() != mcp.KindResponse || msg.ID.String() != id.String() {
		return nil, fmt.Errorf("the server answered with something other than the response to request %s", id)
	}
	return msg, nil
}

// streamCursor is where a broken stream can be resumed from.
type streamCursor struct {
	lastID string
	retry  time.Duration
}

func (sc *streamCursor) setRetry(ms int) {
	if ms <= 0 {
		return
	}
	sc.retry = min(time.Duration(ms)*time.Millisecond, maxRetry)
}

// awaitOnStream reads a request's SSE stream until its response arrives,
// dispatching what else the server sends meanwhile. A stream that breaks
// before the response is resumed with GET and Last-Event-ID (when the
// server gave its events ids), after the server's retry delay.
func (c *Client) awaitOnStream(ctx context.Context, method string, id mcp.ID, body io.ReadCloser, sess session) (*mcp.Message, error) {
	cur := streamCursor{retry: defaultRetry}
	failures := 0
	var lastErr error
	for {
		if body != nil {
			msg, err := c.readStream(ctx, body, id, sess, &cur)
			if msg != nil {
				return msg, nil
			}
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			if err == nil {
				err = io.EOF
			}
			lastErr = err
			if sess.modern {
				// Stateless-era streams are not resumable.
				return nil, fmt.Errorf("%s: the server ended the response stream before answering: %w", method, err)
			}
			if cur.lastID == "" {
				return nil, fmt.Errorf("%s: the server ended the response stream before answering, and it cannot be resumed (no event ids): %w", method, err)
			}
			body = nil
		}
		failures++
		if failures > maxResumeAttempts {
			return nil, fmt.Errorf("%s: the response stream broke and %d attempts to resume it failed: %w", method, maxResumeAttempts, lastErr)
		}
		if err := sleep(ctx, cur.retry); err != nil {
			return nil, err
		}
		c.log.Debug("mcp resuming stream", "method", method, "id", id.String(), "attempt", failures)
		resp, err := c.send(ctx, httpReq{verb: http.MethodGet, rpcMethod: method, id: id, sess: sess, lastEventID: cur.lastID})
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			var na *noAnswerError
			if !errors.As(err, &na) {
				return nil, err // credentials: retrying would not help
			}
			lastErr = err
			continue
		}
		ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
		switch {
		case resp.StatusCode == http.StatusOK && ct == "text/event-stream":
			// The server took us back: only failures in a row count, so a
			// server that closes its streams to make clients poll is
			// followed for as long as the request may take.
			failures = 0
			body = resp.Body
		case resp.StatusCode == http.StatusNotFound:
			drain(resp)
			return nil, fmt.Errorf("%s: the session ended while waiting for the response", method)
		case resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests:
			lastErr = errorFromResponse(resp)
		default:
			return nil, fmt.Errorf("%s: cannot resume the response stream: %w", method, errorFromResponse(resp))
		}
	}
}

// readStream dispatches a stream's events until the response to want
// (returned) or the end of the stream. want may be zero (standalone
// stream). It closes body.
func (c *Client) readStream(ctx context.Context, body io.ReadCloser, want mcp.ID, sess session, cur *streamCursor) (*mcp.Message, error) {
	defer body.Close()
	dec := mcp.NewDecoder(body)
	// A message travels as one data line, so a line may be as long as a
	// message.
	dec.SetLimits(c.maxMessage, c.maxMessage)
	for {
		ev, err := dec.Next()
		if err != nil {
			if err == io.EOF {
				err = nil
			}
			return nil, err
		}
		if ev.ID != "" {
			cur.lastID = dec.LastEventID()
		}
		cur.setRetry(ev.Retry)
		if len(bytes.TrimSpace(ev.Data)) == 0 {
			continue // priming event: an id to resume from, nothing to read
		}
		m, derr := mcp.DecodeMessage(ev.Data)
		if derr != nil {
			c.log.Debug("mcp malformed message on stream ignored", "error", derr)
			continue
		}
		switch m.Kind() {
		case mcp.KindResponse:
			if !want.IsZero() && m.ID.String() == want.String() {
				return m, nil
			}
			c.log.Debug("mcp response to an unknown request ignored", "id", truncate(m.ID.String(), 64))
		case mcp.KindNotification:
			c.handleNotification(m.Method, m.Params, sess)
		case mcp.KindRequest:
			if sess.modern {
				// The stateless era has no server-to-client requests on
				// streams (they are input_required results).
				c.log.Debug("mcp server request on a stateless stream ignored", "method", truncate(m.Method, 64))
				break
			}
			c.handleRequest(m, sess)
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
	}
}

// notify POSTs a notification within sess; the server answers 202.
func (c *Client) notify(ctx context.Context, method string, params any, sess session) error {
	body, err := mcp.AppendRequest(nil, mcp.ID{}, method, params)
	if err != nil {
		return err
	}
	return c.postNoAnswer(ctx, method, body, sess)
}

// postNoAnswer POSTs a notification or a response, which get no answer.
func (c *Client) postNoAnswer(ctx context.Context, method string, body []byte, sess session) error {
	resp, err := c.send(ctx, httpReq{verb: http.MethodPost, rpcMethod: method, body: body, sess: sess})
	if err != nil {
		return err
	}
	if resp.StatusCode == http.StatusNotFound && sess.id != "" {
		drain(resp)
		return errSessionNotFound
	}
	if resp.StatusCode/100 != 2 {
		return errorFromResponse(resp)
	}
	drain(resp)
	return nil
}

// noAnswerError is a request that got no HTTP answer at all (refused or
// broken connection): the one kind of failure worth retrying.
type noAnswerError struct {
	what string
	err  error
}

func (e *noAnswerError) Error() string {
	return e.what + ": no answer from the server: " + e.err.Error()
}
func (e *noAnswerError) Unwrap() error { return e.err }

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
