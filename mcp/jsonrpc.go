// Package mcp holds what the server and the client share: JSON-RPC 2.0
// messages, the MCP types of the protocol revisions we speak, error codes and
// SSE framing. It does no I/O of its own.
package mcp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// JSON-RPC 2.0 and MCP error codes.
const (
	CodeParseError     = -32700
	CodeInvalidRequest = -32600
	CodeMethodNotFound = -32601
	CodeInvalidParams  = -32602
	CodeInternalError  = -32603

	// CodeServerError is the generic implementation-defined server error
	// (capacity, shutdown, authorization).
	CodeServerError = -32000
	// CodeSessionNotFound answers a request for a session that does not exist
	// (HTTP 404); clients re-initialize on it.
	CodeSessionNotFound = -32001
	// CodeResourceNotFound is MCP's code for resources/read of an unknown URI.
	CodeResourceNotFound = -32002
	// CodeRequestCancelled reports a request ended by notifications/cancelled
	// or by the server (shutdown, timeout) before it produced a result.
	CodeRequestCancelled = -32800
	// CodeURLElicitationRequired is MCP 2025-11-25's code for a request that
	// needs the user to complete a URL-mode elicitation first.
	CodeURLElicitationRequired = -32042
)

// Error is a JSON-RPC error object. It implements error so handlers can
// return it directly and choose the code the client sees.
type Error struct {
	Code    int             `json:"code"`
	Message string          `json:"message"`
	Data    json.RawMessage `json:"data,omitempty"`
}

func (e *Error) Error() string {
	return fmt.Sprintf("jsonrpc error %d: %s", e.Code, e.Message)
}

// Errorf builds an *Error with a formatted message.
func Errorf(code int, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// AsError returns err as a JSON-RPC error: itself when it is one (or wraps
// one), otherwise an internal error carrying err's text.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Code: CodeInternalError, Message: err.Error()}
}

// ID is a JSON-RPC request id kept as its exact JSON text, so that it is
// echoed byte for byte: "1" and 1 are different ids. The zero ID means
// "absent" (a notification); NullID is the explicit null used in error
// responses to unparseable requests.
type ID struct{ raw string }

// NullID is the id of an error response whose request id could not be read.
var NullID = ID{raw: "null"}

// StringID and IntID build ids for requests we originate.
func StringID(s string) ID {
	b, _ := json.Marshal(s)
	return ID{raw: string(b)}
}

func IntID(n int64) ID { return ID{raw: strconv.FormatInt(n, 10)} }

// IsZero reports whether the id is absent.
func (id ID) IsZero() bool { return id.raw == "" }

// String returns the id's JSON text (for map keys and logs).
func (id ID) String() string { return id.raw }

func (id ID) MarshalJSON() ([]byte, error) {
	if id.raw == "" {
		return []byte("null"), nil
	}
	return []byte(id.raw), nil
}

func (id *ID) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if err := validID(b); err != nil {
		return err
	}
	id.raw = string(b)
	return nil
}

// validID accepts what JSON-RPC 2.0 allows as a request id: a string or a
// number (MCP forbids null for requests; numbers with fractions are
// discouraged by JSON-RPC but legal, so we keep them verbatim).
func validID(b []byte) error {
	if len(b) == 0 {
		return errors.New("id is empty")
	}
	switch c := b[0]; {
	case c == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return errors.New("id is not a valid string")
		}
		return nil
	case c == '-' || (c >= '0' && c <= '9'):
		var n json.Number
		if err := json.Unmarshal(b, &n); err != nil {
			return errors.New("id is not a valid number")
		}
		return nil
	default:
		return errors.New("id must be a string or a number")
	}
}

// Message is any JSON-RPC 2.0 message as read from the wire. Exactly one
// shape is valid: a request (ID and Method), a notification (Method only),
// or a response (ID and exactly one of Result and Error).
type Message struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      ID              `json:"id,omitzero"`
	Method  string          `json:"method,omitempty"`
	Params  json.RawMessage `json:"params,omitempty"`
	Result  json.RawMessage `json:"result,omitempty"`
	Error   *Error          `json:"error,omitempty"`
}

// Kind tells the shape of a decoded message.
type Kind int

const (
	KindInvalid Kind = iota
	KindRequest
	KindNotification
	KindResponse
)

func (m *Message) Kind() Kind {
	switch {
	case m.Method != "" && !m.ID.IsZero():
		return KindRequest
	case m.Method != "":
		return KindNotification
	case !m.ID.IsZero() && (m.Result != nil) != (m.Error != nil):
		return KindResponse
	}
	return KindInvalid
}

// wireMessage is the decoding shadow of Message: it records whether an id
// was present at all (a null id on a response is legal, on a request not).
type wireMessage struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Method  string          `json:"method"`
	Params  json.RawMessage `json:"params"`
	Result  json.RawMessage `json:"result"`
	Error   *Error          `json:"error"`
}

// DecodeError tells why bytes are not a JSON-RPC message. Code is
// CodeParseError for bytes that are not JSON and CodeInvalidRequest for JSON
// that is not a valid message; ID is set when the id could still be read, so
// the error response can echo it.
type DecodeError struct {
	Code   int
	ID     ID
	Reason string
}

func (e *DecodeError) Error() string { return e.Reason }

// RPCError converts the decode error into the JSON-RPC error to send back.
func (e *DecodeError) RPCError() *Error { return &Error{Code: e.Code, Message: e.Reason} }

// DecodeMessage parses one JSON-RPC 2.0 message and checks its shape.
func DecodeMessage(data []byte) (*Message, error) {
	var w wireMessage
	if err := json.Unmarshal(data, &w); err != nil {
		var ute *json.UnmarshalTypeError
		if errors.As(err, &ute) && ute.Field != "" {
			return nil, &DecodeError{Code: CodeInvalidRequest, ID: salvageID(data), Reason: "invalid JSON-RPC message: field " + strconv.Quote(ute.Field) + " has the wrong type"}
		}
		if json.Valid(data) {
			return nil, &DecodeError{Code: CodeInvalidRequest, Reason: "invalid JSON-RPC message: expected a JSON object"}
		}
		return nil, &DecodeError{Code: CodeParseError, Reason: "parse error: body is not valid JSON"}
	}
	return fromWire(&w)
}

func fromWire(w *wireMessage) (*Message, error) {
	m := &Message{JSONRPC: w.JSONRPC, Method: w.Method, Params: w.Params, Result: w.Result, Error: w.Error}
	nullID := w.ID != nil && bytes.Equal(bytes.TrimSpace(w.ID), []byte("null"))
	if w.ID != nil && !nullID {
		if err := m.ID.UnmarshalJSON(w.ID); err != nil {
			return nil, &DecodeError{Code: CodeInvalidRequest, Reason: "invalid JSON-RPC message: " + err.Error()}
		}
	} else if nullID && w.Method == "" {
		// A response may carry a null id (the peer could not read ours).
		m.ID = NullID
	}
	if w.JSONRPC != "2.0" {
		return nil, &DecodeError{Code: CodeInvalidRequest, ID: m.ID, Reason: `invalid JSON-RPC message: "jsonrpc" must be "2.0"`}
	}
	if nullID && w.Method != "" {
		return nil, &DecodeError{Code: CodeInvalidRequest, Reason: "invalid JSON-RPC message: a request id must be a string or a number, not null"}
	}
	if w.Params != nil {
		if p := bytes.TrimSpace(w.Params); len(p) > 0 && p[0] != '{' && p[0] != '[' {
			return nil, &DecodeError{Code: CodeInvalidRequest, ID: m.ID, Reason: `invalid JSON-RPC message: "params" must be an object or an array`}
		}
	}
	if m.Kind() == KindInvalid {
		reason := "invalid JSON-RPC message: need a method (request or notification) or an id with exactly one of result and error (response)"
		return nil, &DecodeError{Code: CodeInvalidRequest, ID: m.ID, Reason: reason}
	}
	if m.Method != "" && (w.Result != nil || w.Error != nil) {
		return nil, &DecodeError{Code: CodeInvalidRequest, ID: m.ID, Reason: "invalid JSON-RPC message: a request must not carry result or error"}
	}
	return m, nil
}

// salvageID tries to read just the id of a message that failed to decode,
// so the error response can still be correlated.
func salvageID(data []byte) ID {
	var probe struct {
		ID json.RawMessage `json:"id"`
	}
	if json.Unmarshal(data, &probe) != nil || probe.ID == nil {
		return ID{}
	}
	var id ID
	if id.UnmarshalJSON(probe.ID) != nil {
		return ID{}
	}
	return id
}

// IsBatch reports whether a body is a JSON array (a JSON-RPC batch).
func IsBatch(data []byte) bool {
	for _, c := range data {
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		case '[':
			return true
		}
		return false
	}
	return false
}

// DecodeBatch splits a JSON array body into its elements. Each element is
// decoded separately so one bad message does not spoil the others; errs[i]
// is set where msgs[i] is nil.
func DecodeBatch(data []byte) (msgs []*Message, errs []error, err error) {
	var raws []json.RawMessage
	if e := json.Unmarshal(data, &raws); e != nil {
		if json.Valid(data) {
			return nil, nil, &DecodeError{Code: CodeInvalidRequest, Reason: "invalid JSON-RPC batch"}
		}
		return nil, nil, &DecodeError{Code: CodeParseError, Reason: "parse error: body is not valid JSON"}
	}
	if len(raws) == 0 {
		return nil, nil, &DecodeError{Code: CodeInvalidRequest, Reason: "invalid JSON-RPC batch: the array is empty"}
	}
	msgs = make([]*Message, len(raws))
	errs = make([]error, len(raws))
	for i, r := range raws {
		msgs[i], errs[i] = DecodeMessage(r)
	}
	return msgs, errs, nil
}

// AppendResponse appends the wire form of a success response. result must
// be valid JSON (it is copied verbatim), which lets callers marshal the
// result once and avoid a second pass through encoding/json.
func AppendResponse(dst []byte, id ID, result []byte) []byte {
	dst = append(dst, `{"jsonrpc":"2.0","id":`...)
	dst = appendID(dst, id)
	dst = append(dst, `,"result":`...)
	dst = append(dst, result...)
	return append(dst, '}')
}

// AppendErrorResponse appends the wire form of an error response.
func AppendErrorResponse(dst []byte, id ID, e *Error) []byte {
	dst = append(dst, `{"jsonrpc":"2.0","id":`...)
	dst = appendID(dst, id)
	dst = append(dst, `,"error":`...)
	b, err := json.Marshal(e)
	if err != nil {
		b = []byte(`{"code":-32603,"message":"internal error"}`)
	}
	dst = append(dst, b...)
	return append(dst, '}')
}

func appendID(dst []byte, id ID) []byte {
	if id.raw == "" {
		return append(dst, "null"...)
	}
	return append(dst, id.raw...)
}

// AppendRequest appends a request or (with a zero id) a notification.
func AppendRequest(dst []byte, id ID, method string, params any) ([]byte, error) {
	dst = append(dst, `{"jsonrpc":"2.0",`...)
	if !id.IsZero() {
		dst = append(dst, `"id":`...)
		dst = append(dst, id.raw...)
		dst = append(dst, ',')
	}
	m, _ := json.Marshal(method)
	dst = append(dst, `"method":`...)
	dst = append(dst, m...)
	if params != nil {
		p, err := json.Marshal(params)
		if err != nil {
			return dst, fmt.Errorf("marshal %s params: %w", method, err)
		}
		dst = append(dst, `,"params":`...)
		dst = append(dst, p...)
	}
	return append(dst, '}'), nil
}
