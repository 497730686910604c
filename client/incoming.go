package client

import (
	"context"
	"encoding/json"

	"mcplambda/mcp"
)

// handleNotification runs on the goroutine reading the stream, so a
// stream's notifications reach the callbacks in order.
func (c *Client) handleNotification(method string, params json.RawMessage, sess session) {
	c.invalidateFor(method, params)
	switch method {
	case mcp.NotificationProgress:
		var p mcp.ProgressParams
		if json.Unmarshal(params, &p) == nil {
			c.progMu.Lock()
			fn := c.progress[compactJSON(p.ProgressToken)]
			c.progMu.Unlock()
			if fn != nil {
				fn(p)
			}
		}
	case mcp.NotificationCancelled:
		var p mcp.CancelledParams
		if json.Unmarshal(params, &p) == nil && !p.RequestID.IsZero() {
			c.mu.Lock()
			cancel := c.incoming[incomingKey(sess, p.RequestID)]
			c.mu.Unlock()
			if cancel != nil {
				cancel()
			}
		}
	}
	if c.opts.OnNotification != nil {
		c.opts.OnNotification(method, params)
	}
}

func compactJSON(raw json.RawMessage) string {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return string(raw)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// handleRequest answers a server-to-client request in the background, so
// the stream keeps flowing while a person answers an elicitation. The
// answer goes to the session the request came from.
func (c *Client) handleRequest(m *mcp.Message, sess session) {
	key := incomingKey(sess, m.ID)
	ctx, cancel := context.WithCancel(c.ctx)
	c.mu.Lock()
	if _, dup := c.incoming[key]; dup {
		// Replayed while we are still answering it: one answer is enough.
		c.mu.Unlock()
		cancel()
		return
	}
	if len(c.incoming) >= maxIncoming {
		c.mu.Unlock()
		cancel()
		c.refuseRequest(m, sess)
		return
	}
	c.incoming[key] = cancel
	c.mu.Unlock()
	started := c.goAsync(func() {
		defer func() {
			c.mu.Lock()
			delete(c.incoming, key)
			c.mu.Unlock()
			cancel()
		}()
		result, err := c.serveRequest(ctx, m)
		if ctx.Err() != nil && c.ctx.Err() == nil {
			// Cancelled by the server: it wants no answer.
			return
		}
		var body []byte
		if err != nil {
			body = mcp.AppendErrorResponse(nil, m.ID, mcp.AsError(err))
		} else if raw, merr := json.Marshal(result); merr != nil {
			body = mcp.AppendErrorResponse(nil, m.ID, mcp.AsError(merr))
		} else {
			body = mcp.AppendResponse(nil, m.ID, raw)
		}
		actx, acancel := context.WithTimeout(c.ctx, answerTimeout)
		defer acancel()
		if err := c.postNoAnswer(actx, m.Method, body, sess); err != nil {
			c.log.Debug("mcp answer to server request not delivered", "method", truncate(m.Method, 64), "id", truncate(m.ID.String(), 64), "error", err)
		}
	})
	if !started {
		c.mu.Lock()
		delete(c.incoming, key)
		c.mu.Unlock()
		cancel()
	}
}

// refuseRequest answers a server request the client has no room for. It
// runs on the goroutine reading the stream, on purpose: a server that
// floods the client with requests is slowed down to the pace of the
// refusals instead of making the client start a goroutine for each.
func (c *Client) refuseRequest(m *mcp.Message, sess session) {
	body := mcp.AppendErrorResponse(nil, m.ID, mcp.Errorf(mcp.CodeInternalError,
		"the client is already answering %d requests from this server; send this one again later", maxIncoming))
	ctx, cancel := context.WithTimeout(c.ctx, answerTimeout)
	defer cancel()
	if err := c.postNoAnswer(ctx, m.Method, body, sess); err != nil {
		c.log.Debug("mcp refusal of a server request not delivered", "method", truncate(m.Method, 64), "error", err)
	}
}

func (c *Client) serveRequest(ctx context.Context, m *mcp.Message) (any, error) {
	switch m.Method {
	case mcp.MethodPing:
		return mcp.EmptyResult{}, nil
	case mcp.MethodElicitationCreate:
		if c.opts.Elicit == nil {
			break
		}
		var p mcp.ElicitParams
		if err := json.Unmarshal(m.Params, &p); err != nil {
			return nil, mcp.Errorf(mcp.CodeInvalidParams, "invalid params: %v", err)
		}
		return c.opts.Elicit(ctx, &p)
	case mcp.MethodSamplingCreateMessage:
		if c.opts.Sample == nil {
			return nil, mcp.Errorf(mcp.CodeMethodNotFound, "sampling is not supported by this client")
		}
		var p mcp.CreateMessageParams
		if err := json.Unmarshal(m.Params, &p); err != nil {
			return nil, mcp.Errorf(mcp.CodeInvalidParams, "invalid params: %v", err)
		}
		return c.opts.Sample(ctx, &p)
	case mcp.MethodRootsList:
		if c.opts.Roots == nil {
			break
		}
		roots, err := c.opts.Roots(ctx)
		if err != nil {
			return nil, err
		}
		if roots == nil {
			roots = []mcp.Root{}
		}
		return &mcp.ListRootsResult{Roots: roots}, nil
	}
	return nil, mcp.Errorf(mcp.CodeMethodNotFound, "method not found: %s", truncate(m.Method, 64))
}

// incomingKey names a server request: ids are the server's, unique only
// within a session.
func incomingKey(sess session, id mcp.ID) string {
	return sess.id + "\x00" + id.String()
}
