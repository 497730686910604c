package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

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

	// The stateless era: what the request itself says about the client.
	modern   bool
	capsRaw  []byte // io.modelcontextprotocol/clientCapabilities, decoded on first use
	capsOnce sync.Once
	capsVal  mcp.ClientCapabilities
	logMin   int         // lowest severity sent; -1: the request asked for no log messages
	header   http.Header // for the Mcp-Param-* checks of tools/call
	inputs   *inputRound
	missing  []string   // capabilities a handler needed and the request did not declare
	cache    *cacheHint // set by CacheResult
	memory   map[string]json.RawMessage
	pre      *mcp.CallToolParams // tools/call params the transport has read already
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
	if caps := c.caps(); caps != nil {
		return *caps
	}
	return mcp.ClientCapabilities{}
}

// caps returns the declared capabilities: the session's, or those of the
// stateless request's _meta, decoded when first needed (most requests
// never look).
func (c *Call) caps() *mcp.ClientCapabilities {
	if c.capsRaw != nil {
		c.capsOnce.Do(func() {
			_ = json.Unmarshal(c.capsRaw, &c.capsVal) // checked to be an object already
			c.clientCaps = &c.capsVal
		})
	}
	return c.clientCaps
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
	if c.modern && (c.logMin < 0 || level.Severity() < c.logMin) {
		// Stateless era: log messages only when the request's _meta asked
		// for them, from that level up.
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
// and is matched by id. In the stateless era there is no such channel: use
// Ask (or Elicit, CreateMessage, ListRoots), which works in both eras.
func (c *Call) Request(ctx context.Context, method string, params any) (json.RawMessage, error) {
	if c.sess == nil || c.out == nil {
		return nil, fmt.Errorf("%s: no channel to the client for server-to-client requests", method)
	}
	return c.sess.request(ctx, c.out, method, params)
}

// CreateMessage asks the client's model for a completion (sampling).
func (c *Call) CreateMessage(ctx context.Context, p *mcp.CreateMessageParams) (*mcp.CreateMessageResult, error) {
	var res mcp.CreateMessageResult
	return &res, c.Ask(ctx, Input{Method: mcp.MethodSamplingCreateMessage, Params: p, Result: &res})
}

// Elicit asks the user for input through the client.
func (c *Call) Elicit(ctx context.Context, p *mcp.ElicitParams) (*mcp.ElicitResult, error) {
	var res mcp.ElicitResult
	return &res, c.Ask(ctx, Input{Method: mcp.MethodElicitationCreate, Params: p, Result: &res})
}

// ListRoots asks the client for its roots.
func (c *Call) ListRoots(ctx context.Context) (*mcp.ListRootsResult, error) {
	var res mcp.ListRootsResult
	return &res, c.Ask(ctx, Input{Method: mcp.MethodRootsList, Result: &res})
}

// capabilityOf names the client capability an input method needs.
func capabilityOf(method string) string {
	switch method {
	case mcp.MethodElicitationCreate:
		return "elicitation"
	case mcp.MethodSamplingCreateMessage:
		return "sampling"
	case mcp.MethodRootsList:
		return "roots"
	}
	return ""
}

func declared(caps *mcp.ClientCapabilities, capability string) bool {
	if caps == nil {
		return false
	}
	switch capability {
	case "elicitation":
		return caps.Elicitation != nil
	case "sampling":
		return caps.Sampling != nil
	case "roots":
		return caps.Roots != nil
	}
	return false
}

// Ask asks the client for one or more inputs and fills in each Result (see
// Input for the two eras). In a session the requests go out one after
// another. In the stateless era they form one round: when any answer is
// missing, Ask returns ErrInputRequired and the request ends with an
// input_required result asking for all of them.
//
// An input needs the matching client capability: without it Ask fails; in
// the stateless era the request then ends with a
// MissingRequiredClientCapability error (-32021).
func (c *Call) Ask(ctx context.Context, inputs ...Input) error {
	caps := c.caps()
	for _, in := range inputs {
		capability := capabilityOf(in.Method)
		if capability == "" {
			return fmt.Errorf("%s is not a request a server may send the client", in.Method)
		}
		if !declared(caps, capability) {
			if c.modern {
				c.missing = append(c.missing, capability)
			}
			return fmt.Errorf("the client does not support %s (no %s capability declared)", capability, capability)
		}
	}
	if !c.modern {
		for _, in := range inputs {
			if err := c.requestInto(ctx, in.Method, in.Params, in.Result); err != nil {
				return err
			}
		}
		return nil
	}
	if c.inputs == nil || !c.inputs.allowed {
		return fmt.Errorf("this request cannot ask the client for input (only tools/call, prompts/get and resources/read can)")
	}
	for _, in := range inputs {
		key := in.Key
		if key == "" {
			key = c.inputs.nextKey(in.Method)
		}
		if c.inputs.answer(key, in.Method, in.Result) {
			continue
		}
		if c.inputs.asked == nil {
			c.inputs.asked = map[string]mcp.InputRequest{}
		}
		c.inputs.asked[key] = mcp.InputRequest{Method: in.Method, Params: in.Params}
	}
	if c.inputs.pending() {
		return ErrInputRequired
	}
	return nil
}

// Remember keeps a value across the rounds of a stateless-era request
// (sealed in its requestState); in a session, where the handler runs once,
// it is kept for the rest of the call. Values must be JSON-encodable and
// small: requestState is bounded.
func (c *Call) Remember(key string, value any) error {
	b, err := json.Marshal(value)
	if err != nil {
		return err
	}
	m := &c.memory
	if c.inputs != nil {
		m = &c.inputs.memory
	}
	if *m == nil {
		*m = map[string]json.RawMessage{}
	}
	(*m)[key] = b
	return nil
}

// Recall decodes a value Remember kept into out; false when there is none.
func (c *Call) Recall(key string, out any) bool {
	m := c.memory
	if c.inputs != nil {
		m = c.inputs.memory
	}
	b, ok := m[key]
	return ok && json.Unmarshal(b, out) == nil
}

// CacheResult tells the client how long it may reuse the result of this
// resources/read and whether a shared cache may keep it (public) or only
// the caller's own (private). Without it a read is private and immediately
// stale. Only the stateless era has caching hints; elsewhere this does
// nothing.
func (c *Call) CacheResult(ttl time.Duration, public bool) {
	scope := mcp.CachePrivate
	if public {
		scope = mcp.CachePublic
	}
	c.cache = &cacheHint{ttl: max(ttl, 0).Truncate(time.Millisecond), scope: scope}
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
