package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"mcplambda/internal/mcpheader"
	"mcplambda/mcp"
)

// Call sends a request and decodes its result into result (which may be
// nil). A JSON-RPC error comes back as *RPCError. When ctx ends or
// RequestTimeout passes first, the server is sent notifications/cancelled
// and Call returns ctx's error or a *TimeoutError naming the method.
func (c *Client) Call(ctx context.Context, method string, params any, result any, opts ...CallOption) error {
	if method == mcp.MethodInitialize {
		return errors.New("initialize is sent by Connect")
	}
	var cfg callConfig
	for _, o := range opts {
		o(&cfg)
	}
	if c.isClosed() {
		return ErrClosed
	}
	if err := ctx.Err(); err != nil {
		// Never sent, so nothing to cancel on the server.
		return context.Cause(ctx)
	}
	rctx, cancel := c.requestContext(ctx, method)
	defer cancel()
	if sess := c.session(); sess.modern {
		// Stateless: ending the request's context closes its stream, which
		// is the cancellation; there is no notifications/cancelled.
		err := c.callModern(rctx, method, params, result, cfg, sess)
		if err != nil && rctx.Err() != nil {
			err = c.contextError(rctx, err)
		}
		return err
	}
	id := mcp.IntID(c.nextID.Add(1))
	if cfg.progress != nil {
		token := id.String()
		p, err := withProgressToken(params, json.RawMessage(token))
		if err != nil {
			return fmt.Errorf("%s: %w", method, err)
		}
		params = p
		c.progMu.Lock()
		c.progress[token] = cfg.progress
		c.progMu.Unlock()
		defer func() {
			c.progMu.Lock()
			delete(c.progress, token)
			c.progMu.Unlock()
		}()
	}
	body, err := mcp.AppendRequest(nil, id, method, params)
	if err != nil {
		return err
	}
	msg, err := c.request(rctx, method, id, body)
	if err != nil {
		if rctx.Err() != nil {
			err = c.contextError(rctx, err)
			c.cancelRemote(id, method, err)
		}
		return err
	}
	return decodeResult(msg, result)
}

// request sends one request, re-initializing once if the server forgot the
// session, and retrying it there.
func (c *Client) request(ctx context.Context, method string, id mcp.ID, body []byte) (*mcp.Message, error) {
	sess := c.session()
	msg, _, err := c.exchange(ctx, method, id, body, sess)
	if !errors.Is(err, errSessionNotFound) {
		return msg, err
	}
	if err := c.reinitialize(ctx, sess.id); err != nil {
		if ctx.Err() != nil {
			return nil, err
		}
		return nil, fmt.Errorf("%w: %w", ErrSessionExpired, err)
	}
	msg, _, err = c.exchange(ctx, method, id, body, c.session())
	if errors.Is(err, errSessionNotFound) {
		return nil, fmt.Errorf("%w: the new session was not found either", ErrSessionExpired)
	}
	return msg, err
}

// cancelRemote tells the server to stop working on a request we no longer
// wait for. It runs in the background: the caller has already given up.
func (c *Client) cancelRemote(id mcp.ID, method string, why error) {
	if errors.Is(why, ErrClosed) {
		return
	}
	sess := c.session()
	reason := "cancelled by the client"
	var te *TimeoutError
	if errors.As(why, &te) {
		reason = te.Error()
	}
	c.goAsync(func() {
		ctx, cancel := context.WithTimeout(c.ctx, answerTimeout)
		defer cancel()
		err := c.notify(ctx, mcp.NotificationCancelled, &mcp.CancelledParams{RequestID: id, Reason: reason}, sess)
		c.log.Debug("mcp cancelled request", "method", method, "id", id.String(), "notify_error", err)
	})
}

// notifyModern POSTs a notification in the stateless era, with _meta and
// the standard headers as on requests.
func (c *Client) notifyModern(ctx context.Context, method string, params any, sess session) error {
	raw, err := c.modernParams(nil, params, sess, nil)
	if err != nil {
		return fmt.Errorf("%s: %w", method, err)
	}
	body, err := mcp.AppendRequest(nil, mcp.ID{}, method, raw)
	if err != nil {
		return err
	}
	hdr := http.Header{}
	mcpheader.SetStandard(hdr, method, "")
	resp, err := c.send(ctx, httpReq{verb: http.MethodPost, rpcMethod: method, body: body, sess: sess, hdr: hdr})
	if err != nil {
		return c.contextError(ctx, err)
	}
	if resp.StatusCode/100 != 2 {
		return errorFromResponse(resp)
	}
	drain(resp)
	return nil
}

// Notify sends a notification, re-initializing once if the server forgot
// the session.
func (c *Client) Notify(ctx context.Context, method string, params any) error {
	if c.isClosed() {
		return ErrClosed
	}
	rctx, cancel := c.requestContext(ctx, method)
	defer cancel()
	sess := c.session()
	if sess.modern {
		return c.notifyModern(rctx, method, params, sess)
	}
	body, err := mcp.AppendRequest(nil, mcp.ID{}, method, params)
	if err != nil {
		return err
	}
	err = c.postNoAnswer(rctx, method, body, sess)
	if errors.Is(err, errSessionNotFound) {
		if err = c.reinitialize(rctx, sess.id); err != nil {
			err = fmt.Errorf("%w: %w", ErrSessionExpired, err)
		} else if err = c.postNoAnswer(rctx, method, body, c.session()); errors.Is(err, errSessionNotFound) {
			err = fmt.Errorf("%w: the new session was not found either", ErrSessionExpired)
		}
	}
	if err != nil && rctx.Err() != nil {
		return c.contextError(rctx, err)
	}
	return err
}

func (c *Client) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

// withProgressToken adds _meta.progressToken to params, which must encode
// as a JSON object (or be nil).
func withProgressToken(params any, token json.RawMessage) (json.RawMessage, error) {
	obj, meta, err := openParams(params, "params must be a JSON object to carry a progress token")
	if err != nil {
		return nil, err
	}
	meta["progressToken"] = token
	return closeParams(obj, meta)
}

// openParams decodes params (nil, or anything that encodes as a JSON
// object) into its members and the members of its _meta, for a caller
// that adds to _meta; notObject is the error when params is no object.
func openParams(params any, notObject string) (obj, meta map[string]json.RawMessage, err error) {
	obj = map[string]json.RawMessage{}
	if params != nil {
		raw, err := json.Marshal(params)
		if err != nil {
			return nil, nil, err
		}
		if string(raw) != "null" {
			if err := json.Unmarshal(raw, &obj); err != nil {
				return nil, nil, errors.New(notObject)
			}
		}
	}
	meta = map[string]json.RawMessage{}
	if m, ok := obj["_meta"]; ok && string(m) != "null" {
		if err := json.Unmarshal(m, &meta); err != nil {
			return nil, nil, errors.New("params _meta must be a JSON object")
		}
	}
	return obj, meta, nil
}

// closeParams encodes what openParams opened, _meta included.
func closeParams(obj, meta map[string]json.RawMessage) (json.RawMessage, error) {
	var err error
	if obj["_meta"], err = json.Marshal(meta); err != nil {
		return nil, err
	}
	return json.Marshal(obj)
}
