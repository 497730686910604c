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

	"mcplambda/internal/jsonlex"
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
	if end, code := jsonlex.SkipValue(b, 0, jsonlex.MaxDepth); code != jsonlex.OK {
		return jsonlex.NewSyntaxError(b, end, code)
	}
	if err := validID(b); err != nil {
		return err
	}
	id.raw = string(b)
	return nil
}

// validID accepts what JSON-RPC 2.0 allows as a request id: a string or a
// number (MCP forbids null for requests). b is already known to be one
// valid JSON value, so the first byte tells its type.
func validID(b []byte) error {
	if len(b) == 0 {
		return errors.New("id is empty")
	}
	if c := b[0]; c == '"' || c == '-' || (c >= '0' && c <= '9') {
		return nil
	}
	return errors.New("id must be a string or a number")
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

// DecodeMessage parses one JSON-RPC 2.0 message and checks its shape. Member
// names are matched exactly (JSON-RPC is case-sensitive) and unknown members
// are ignored. Params and Result alias data: do not modify data afterwards.
// Validating and slicing take one pass of the shared lexer (internal/jsonlex)
// and copy nothing; encoding/json would scan twice and copy every RawMessage.
func DecodeMessage(data []byte) (*Message, error) {
	m := &Message{}
	var (
		idRaw, errRaw []byte
		badField      string
		seen          uint8
	)
	const (
		seenID = 1 << iota
		seenMethod
		seenResult
		seenError
		seenVersion
	)
	err := jsonlex.ScanObject(data, func(key, val []byte) error {
		switch string(key) {
		case "jsonrpc":
			seen |= seenVersion
			if v, ok := jsonlex.Unquote(val); ok {
				m.JSONRPC = v
			} else {
				m.JSONRPC = "?"
			}
		case "id":
			seen |= seenID
			idRaw = val
		case "method":
			seen |= seenMethod
			v, ok := jsonlex.Unquote(val)
			if !ok {
				badField = "method"
			}
			m.Method = v
		case "params":
			m.Params = val
		case "result":
			seen |= seenResult
			m.Result = val
		case "error":
			seen |= seenError
			errRaw = val
		}
		return nil
	})
	if err != nil {
		if errors.Is(err, jsonlex.ErrNotObject) {
			return nil, &DecodeError{Code: CodeInvalidRequest, Reason: "invalid JSON-RPC message: expected a JSON object"}
		}
		return nil, &DecodeError{Code: CodeParseError, Reason: "parse error: body is not valid JSON (" + err.Error() + ")"}
	}
	nullID := idRaw != nil && string(idRaw) == "null"
	if idRaw != nil && !nullID {
		if err := validID(idRaw); err != nil {
			return nil, &DecodeError{Code: CodeInvalidRequest, Reason: "invalid JSON-RPC message: " + err.Error()}
		}
		m.ID = ID{raw: string(idRaw)}
	} else if nullID && seen&seenMethod == 0 {
		// A response may carry a null id (the peer could not read ours).
		m.ID = NullID
	}
	invalid := func(reason string) error {
		return &DecodeError{Code: CodeInvalidRequest, ID: m.ID, Reason: "invalid JSON-RPC message: " + reason}
	}
	if badField != "" {
		return nil, invalid(strconv.Quote(badField) + " must be a string")
	}
	if m.JSONRPC != "2.0" {
		return nil, invalid(`"jsonrpc" must be "2.0"`)
	}
	if nullID && seen&seenMethod != 0 {
		return nil, &DecodeError{Code: CodeInvalidRequest, Reason: "invalid JSON-RPC message: a request id must be a string or a number, not null"}
	}
	if m.Params != nil && m.Params[0] != '{' && m.Params[0] != '[' {
		return nil, invalid(`"params" must be an object or an array`)
	}
	if seen&seenMethod != 0 && m.Method == "" {
		return nil, invalid(`"method" must not be empty`)
	}
	if seen&seenMethod != 0 && seen&(seenResult|seenError) != 0 {
		return nil, invalid("a request must not carry result or error")
	}
	if errRaw != nil {
		if string(errRaw) != "null" {
			m.Error = &Error{}
			if err := json.Unmarshal(errRaw, m.Error); err != nil {
				return nil, invalid(`"error" must be an object with a numeric "code" and a string "message"`)
			}
		}
	}
	if string(m.Result) == "null" && seen&seenError != 0 {
		m.Result = nil
	}
	if m.Kind() == KindInvalid {
		return nil, invalid("need a method (request or notification) or an id with exactly one of result and error (response)")
	}
	return m, nil
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
	var buf [8][]byte // batches are small: no allocation for their list
	raws := buf[:0]
	e := jsonlex.ScanArray(data, func(elem []byte) error {
		raws = append(raws, elem)
		return nil
	})
	if e != nil {
		var se *jsonlex.SyntaxError
		if errors.As(e, &se) && json.Valid(data) {
			return nil, nil, &DecodeError{Code: CodeInvalidRequest, Reason: "invalid JSON-RPC batch"}
		}
		return nil, nil, &DecodeError{Code: CodeParseError, Reason: "parse error: body is not valid JSON (" + e.Error() + ")"}
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
	dst = appendRequestStart(dst, id, method)
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

// AppendRequestRaw is AppendRequest for params the caller encoded itself:
// they must be valid, compact JSON (nil: none), and are copied as they are.
func AppendRequestRaw(dst []byte, id ID, method string, params []byte) []byte {
	if params == nil {
		dst, _ = AppendRequest(dst, id, method, nil)
		return dst
	}
	dst = AppendRequestHead(dst, id, method)
	dst = append(dst, params...)
	return append(dst, '}')
}

// AppendRequestHead appends a request up to its params: the caller
// appends the params (valid, compact JSON) and then '}', so they can be
// encoded straight into the message.
func AppendRequestHead(dst []byte, id ID, method string) []byte {
	return append(appendRequestStart(dst, id, method), `,"params":`...)
}

// appendRequestStart appends a request's members before its params.
func appendRequestStart(dst []byte, id ID, method string) []byte {
	dst = append(dst, `{"jsonrpc":"2.0",`...)
	if !id.IsZero() {
		dst = append(dst, `"id":`...)
		dst = append(dst, id.raw...)
		dst = append(dst, ',')
	}
	dst = append(dst, `"method":`...)
	return AppendJSONString(dst, method)
}
