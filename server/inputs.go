package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"mcplambda/internal/reqstate"
	"mcplambda/mcp"
)

// Input from the client while a request runs. A handler asks through its
// Call (Ask, Elicit, CreateMessage, ListRoots) and writes the interaction
// once; the era decides how it travels:
//   - in a session, each input is a real request to the client on the
//     request's stream, and Ask returns with the answers;
//   - in the stateless era (multi-round-trip requests), a missing answer
//     ends the call with an input_required result that lists what is
//     missing; the client retries the request with the answers and the
//     handler runs again from the start, this time finding them.
//
// So a handler must be repeatable up to its Ask calls: the same questions
// in the same order. What it wants to keep between rounds (an expensive
// lookup, a token) it puts in Remember; it comes back through Recall.
//
// The answers of earlier rounds and the remembered values travel in
// requestState, sealed (AES-GCM) and bound to the principal, the method and
// a digest of the request's parameters, for a few minutes, once: see
// package reqstate.

// Input is one request for input, for Call.Ask.
type Input struct {
	// Key names the input within its request (the key of inputRequests
	// and inputResponses). Empty: the Call numbers it ("elicitation-1").
	Key string
	// Method is mcp.MethodElicitationCreate, mcp.MethodSamplingCreateMessage
	// or mcp.MethodRootsList.
	Method string
	Params any
	// Result receives the answer: *mcp.ElicitResult, *mcp.CreateMessageResult
	// or *mcp.ListRootsResult.
	Result any
}

// ErrInputRequired is what Ask returns in the stateless era while answers
// are missing: the handler should return (the transport then answers
// input_required, whatever the handler returns).
var ErrInputRequired = errors.New("input required from the client: the request ends with input_required and runs again when the client answers")

// inputRound is a stateless-era request's view of its inputs.
type inputRound struct {
	answers map[string]json.RawMessage // from requestState and inputResponses
	used    map[string]json.RawMessage // answers the handler consumed, for the next requestState
	asked   map[string]mcp.InputRequest
	memory  map[string]json.RawMessage // Remember/Recall, carried in requestState
	counter int
	allowed bool // the method may answer input_required
	// What requestState is bound to. The digest of the parameters costs
	// more than the rest of a tools/call, so it is computed only when a
	// state is opened or sealed.
	principal, method string
	params            []byte
	binding           *reqstate.Binding
	verified          bool // the request carried a valid requestState
}

// statePayload is what requestState seals.
type statePayload struct {
	Answers map[string]json.RawMessage `json:"a,omitempty"`
	Memory  map[string]json.RawMessage `json:"m,omitempty"`
}

// canAskInput: the methods that may answer input_required.
func canAskInput(method string) bool {
	return method == mcp.MethodToolsCall || method == mcp.MethodPromptsGet || method == mcp.MethodResourcesRead
}

// openInputs reads a stateless-era request's requestState and
// inputResponses. A requestState that fails verification, has expired, or
// was used before is an error (-32602); unknown keys are kept but never
// read; an answer the handler cannot decode counts as missing.
func (h *Handler) openInputs(ctx context.Context, in *inputRound, principal *Principal, method string, params []byte, p *modernParams) error {
	*in = inputRound{allowed: canAskInput(method), principal: principal.Key(), method: method, params: params}
	if !in.allowed {
		if p.hasState || p.inputResponses != nil {
			return mcp.Errorf(mcp.CodeInvalidParams, "invalid params: %s takes no inputResponses or requestState (only tools/call, prompts/get and resources/read do)", method)
		}
		return nil
	}
	if p.hasState {
		st, err := h.states.Open(p.requestState, in.bind())
		if err != nil {
			return stateError(err)
		}
		if err := h.ledger.Consume(ctx, st.ID, st.Expires); err != nil {
			if errors.Is(err, reqstate.ErrReplayed) {
				return mcp.Errorf(mcp.CodeInvalidParams, "invalid params: requestState was already used; retry the original request without it")
			}
			h.log.Error("request state ledger unavailable", "error", err)
			return mcp.Errorf(mcp.CodeInternalError, "the server cannot check requestState now; retry later")
		}
		var sp statePayload
		if err := json.Unmarshal(st.Payload, &sp); err != nil {
			return stateError(err)
		}
		in.answers, in.memory, in.verified = sp.Answers, sp.Memory, true
	}
	if p.inputResponses != nil {
		var fresh map[string]json.RawMessage
		if err := json.Unmarshal(p.inputResponses, &fresh); err != nil {
			return mcp.Errorf(mcp.CodeInvalidParams, "invalid params: inputResponses must be an object of answers")
		}
		if in.answers == nil {
			in.answers = make(map[string]json.RawMessage, len(fresh))
		}
		for k, v := range fresh {
			in.answers[k] = v // a fresh answer wins over one carried in the state
		}
	}
	return nil
}

// bind returns what the request's requestState is bound to.
func (in *inputRound) bind() reqstate.Binding {
	if in.binding == nil {
		in.binding = &reqstate.Binding{Principal: in.principal, Method: in.method, Digest: reqstate.ParamsDigest(in.method, in.params)}
	}
	return *in.binding
}

func stateError(err error) *mcp.Error {
	msg := "requestState is not valid"
	switch {
	case errors.Is(err, reqstate.ErrExpired):
		msg = "requestState has expired; retry the original request without it"
	case errors.Is(err, reqstate.ErrMalformed):
		msg = "requestState is malformed; echo it exactly as the server sent it"
	case errors.Is(err, reqstate.ErrInvalid):
		msg = "requestState failed verification: it was altered, or belongs to another request or user"
	}
	return mcp.Errorf(mcp.CodeInvalidParams, "invalid params: %s", msg)
}

// pending reports whether the handler asked for input that is missing.
func (in *inputRound) pending() bool { return in != nil && len(in.asked) > 0 }

// answer looks up an input's answer and decodes it into out; false when
// missing or not a valid answer (then the input is asked again).
func (in *inputRound) answer(key, method string, out any) bool {
	raw, ok := in.answers[key]
	if !ok || !validAnswer(method, raw, out) {
		return false
	}
	if in.used == nil {
		in.used = map[string]json.RawMessage{}
	}
	in.used[key] = raw
	return true
}

// validAnswer decodes raw into out and checks what the method's result
// requires, so that a malformed answer is asked for again rather than
// completing the request with garbage.
func validAnswer(method string, raw json.RawMessage, out any) bool {
	if len(raw) == 0 || raw[0] != '{' || json.Unmarshal(raw, out) != nil {
		return false
	}
	switch r := out.(type) {
	case *mcp.ElicitResult:
		return r.Action == "accept" || r.Action == "decline" || r.Action == "cancel"
	case *mcp.CreateMessageResult:
		return r.Role != "" && r.Content.Type != ""
	case *mcp.ListRootsResult:
		return r.Roots != nil
	}
	return true
}

// result builds the input_required result, sealing what the next round
// needs: the answers used so far and the remembered values.
func (h *Handler) inputRequired(in *inputRound) (any, error) {
	payload, err := json.Marshal(statePayload{Answers: in.used, Memory: in.memory})
	if err != nil {
		return nil, err
	}
	token, err := h.states.Seal(in.bind(), payload)
	if err != nil {
		return nil, fmt.Errorf("sealing requestState: %w", err)
	}
	return &mcp.InputRequiredResult{InputRequests: in.asked, RequestState: token}, nil
}

// nextKey numbers the inputs a handler leaves unnamed.
func (in *inputRound) nextKey(method string) string {
	in.counter++
	prefix := "input"
	switch method {
	case mcp.MethodElicitationCreate:
		prefix = "elicitation"
	case mcp.MethodSamplingCreateMessage:
		prefix = "sampling"
	case mcp.MethodRootsList:
		prefix = "roots"
	}
	return prefix + "-" + strconv.Itoa(in.counter)
}
