package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"mcplambda/mcp"
)

// Call is what a handler knows about the request it serves and how it talks
// back to the client while it runs: log messages, progress, and requests to
// the client (sampling, elicitation, roots). Everything sent through a Call
// travels on the stream of the request it belongs to.
type Call struct {
	id            mcp.ID
	version       string
	principal     *Principal
	progressToken json.RawMessage
	clientCaps    *mcp.ClientCapabilities

	out  *stream      // the request's response stream; nil where nothing can be streamed
	sess *liveSession // nil outside the session era
	subs sessionOps
}

// ErrNotConnected is returned when a message cannot be delivered because the
// request's stream has already ended.
var ErrNotConnected = errors.New("the request's stream has ended; message not delivered")

// ProtocolVersion is the protocol revision in use for this request.
func (c *Call) ProtocolVersion() string { return c.version }

// Principal is who made the request (nil when authentication is off).
func (c *Call) Principal() *Principal { return c.principal }

// RequestID is the JSON-RPC id of the request being served.
func (c *Call) RequestID() mcp.ID { return c.id }

// ClientCapabilities are what the client declared (zero value if unknown).
func (c *Call) ClientCapabilities() mcp.ClientCapabilities {
	if c.clientCaps == nil {
		return mcp.ClientCapabilities{}
	}
	return *c.clientCaps
}

// Notify sends a notification related to this request.
func (c *Call) Notify(method string, params any) error {
	if c.out == nil {
		return ErrNotConnected
	}
	msg, err := mcp.AppendRequest(nil, mcp.ID{}, method, params)
	if err != nil {
		return err
	}
	return c.out.send(msg)
}

// Log sends a notifications/message at level, unless the session's logging
// level filters it out. data is any JSON value (usually a string).
func (c *Call) Log(level mcp.LoggingLevel, logger string, data any) error {
	if c.sess != nil && level.Severity() < c.sess.logSeverity() {
		return nil
	}
	return c.Notify(mcp.NotificationMessage, mcp.LoggingMessageParams{Level: level, Logger: logger, Data: data})
}

// Progress reports progress when the client asked for it (a progressToken
// in the request's _meta); otherwise it does nothing. total <= 0 means
// unknown. Progress must increase with each call.
func (c *Call) Progress(progress, total float64, message string) error {
	if len(c.progressToken) == 0 {
		return nil
	}
	p := mcp.ProgressParams{ProgressToken: c.progressToken, Progress: progress, Message: message}
	if total > 0 {
		p.Total = &total
	}
	return c.Notify(mcp.NotificationProgress, p)
}

// Request sends a request to the client and waits for its answer. It needs
// a session and a stream to the client; the answer arrives in a later POST
// and is matched by id.
func (c *Call) Request(ctx context.Context, method string, params any) (json.RawMessage, error) {
	if c.sess == nil || c.out == nil {
		return nil, fmt.Errorf("%s: no channel to the client for server-to-client requests", method)
	}
	return c.sess.request(ctx, c.out, method, params)
}

// CreateMessage asks the client's model for a completion (sampling).
func (c *Call) CreateMessage(ctx context.Context, p *mcp.CreateMessageParams) (*mcp.CreateMessageResult, error) {
	if caps := c.clientCaps; caps == nil || caps.Sampling == nil {
		return nil, errors.New("the client does not support sampling (no sampling capability declared)")
	}
	var res mcp.CreateMessageResult
	return &res, c.requestInto(ctx, mcp.MethodSamplingCreateMessage, p, &res)
}

// Elicit asks the user for input through the client.
func (c *Call) Elicit(ctx context.Context, p *mcp.ElicitParams) (*mcp.ElicitResult, error) {
	if caps := c.clientCaps; caps == nil || caps.Elicitation == nil {
		return nil, errors.New("the client does not support elicitation (no elicitation capability declared)")
	}
	var res mcp.ElicitResult
	return &res, c.requestInto(ctx, mcp.MethodElicitationCreate, p, &res)
}

// ListRoots asks the client for its roots.
func (c *Call) ListRoots(ctx context.Context) (*mcp.ListRootsResult, error) {
	if caps := c.clientCaps; caps == nil || caps.Roots == nil {
		return nil, errors.New("the client does not support roots (no roots capability declared)")
	}
	var res mcp.ListRootsResult
	return &res, c.requestInto(ctx, mcp.MethodRootsList, nil, &res)
}

func (c *Call) requestInto(ctx context.Context, method string, params, out any) error {
	raw, err := c.Request(ctx, method, params)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("%s: the client's answer is not a valid result: %w", method, err)
	}
	return nil
}
