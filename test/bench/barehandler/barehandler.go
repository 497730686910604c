// Package barehandler is the floor the MCP server is measured against: a
// plain net/http handler that decodes a JSON-RPC body with encoding/json and
// answers initialize and tools/call of greet, with no sessions, no logging
// and no validation beyond decoding. It is what "the least a Go MCP endpoint
// could do per call" costs; test/bench/bare serves it over HTTP and the
// server package's benchmarks run it in-process for comparison.
package barehandler

import (
	"crypto/rand"
	"encoding/json"
	"net/http"
)

type request struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Method  string          `json:"method"`
	Params  json.RawMessage `json:"params"`
}

type response struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Result  any             `json:"result,omitempty"`
	Error   *rpcError       `json:"error,omitempty"`
}

type rpcError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

type callParams struct {
	Name      string `json:"name"`
	Arguments struct {
		Name string `json:"name"`
	} `json:"arguments"`
}

type content struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

type callResult struct {
	Content []content `json:"content"`
}

type initResult struct {
	ProtocolVersion string         `json:"protocolVersion"`
	Capabilities    map[string]any `json:"capabilities"`
	ServerInfo      struct {
		Name    string `json:"name"`
		Version string `json:"version"`
	} `json:"serverInfo"`
}

// Handler serves the bare endpoint (any path).
type Handler struct{}

func (Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodPost:
	case http.MethodDelete:
		w.WriteHeader(http.StatusOK)
		return
	default:
		w.WriteHeader(http.StatusMethodNotAllowed)
		return
	}
	var req request
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		reply(w, http.StatusBadRequest, response{JSONRPC: "2.0", ID: json.RawMessage("null"), Error: &rpcError{-32700, "parse error"}})
		return
	}
	if req.ID == nil { // a notification
		w.WriteHeader(http.StatusAccepted)
		return
	}
	resp := response{JSONRPC: "2.0", ID: req.ID}
	switch req.Method {
	case "initialize":
		var p struct {
			ProtocolVersion string `json:"protocolVersion"`
		}
		_ = json.Unmarshal(req.Params, &p)
		res := initResult{ProtocolVersion: p.ProtocolVersion, Capabilities: map[string]any{"tools": map[string]any{}}}
		res.ServerInfo.Name, res.ServerInfo.Version = "bare", "0"
		resp.Result = res
		w.Header().Set("Mcp-Session-Id", rand.Text())
	case "tools/call":
		var p callParams
		if err := json.Unmarshal(req.Params, &p); err != nil || p.Name != "greet" {
			resp.Error = &rpcError{-32602, "invalid params"}
			break
		}
		resp.Result = callResult{Content: []content{{Type: "text", Text: "Hello, " + p.Arguments.Name + "!"}}}
	default:
		resp.Error = &rpcError{-32601, "method not found"}
	}
	reply(w, http.StatusOK, resp)
}

func reply(w http.ResponseWriter, status int, resp response) {
	b, err := json.Marshal(resp)
	if err != nil {
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
