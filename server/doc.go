// Package server is the MCP server: a registry of tools, resources and
// prompts (Server), an era-independent dispatcher, and the Streamable HTTP
// transport (Handler) with its sessions. Authentication plugs in as an
// Authenticator that yields a Principal.
//
// # One tools/call, from the socket to the tool
//
// A POST carrying {"method":"tools/call"} passes through five files:
//
//  1. handler.go: [Handler.ServeHTTP] checks Origin and Host, answers
//     CORS preflights, authenticates the request (an [Authenticator]
//     yields the [Principal]) and routes by HTTP method.
//  2. post.go: the POST handler checks Accept, Content-Type and size,
//     decodes the JSON-RPC message (package mcp), finds the session the
//     Mcp-Session-Id header names for that principal (sessions.go holds the
//     table), and runs the request with a context (callctx.go) that ends on
//     cancellation, timeout or disconnect.
//  3. dispatch.go: the dispatcher picks the method; for tools/call it finds
//     the tool in the registry (registry.go), validates the arguments
//     against the tool's input schema, and calls the [ToolHandler] with a
//     [Call] (call.go: progress, logging, elicitation, sampling).
//  4. the tool's own file, for example bedrock/tool.go.
//  5. stream.go: the result goes back on the request's stream: as one
//     JSON body, or as the last SSE event once the tool has sent progress,
//     log messages or a request to the client before it.
//
// # Files and their jobs
//
//	handler.go    Handler: construction, routing, the session a request names
//	http.go       HTTP plumbing: CORS, error bodies, body reading, content negotiation
//	post.go       POST: initialize, requests, notifications, responses, batches
//	get.go        GET: the standalone stream, resumption with Last-Event-ID
//	delete.go     DELETE: ending a session
//	sessions.go   the session table: create, look up and adopt, end, expire
//	live.go       a session's live part here: calls in flight, server requests, streams
//	limits.go     what keeps one caller from starving others: in-flight caps, size caps
//	store.go      SessionState, the SessionStore interface and MemoryStore
//	stream.go     one POST's or GET's output: JSON or SSE, the replay buffer
//	dispatch.go   MCP methods, independent of the transport
//	call.go       Call: what a handler can do with its request
//	callctx.go    the request's context
//	registry.go   Server: tools, resources, templates, prompts, completions
//	broadcast.go  list_changed, resources/updated and Server.Log to every session
//	config.go     Config from the environment
//	origin.go     Origin and Host checks (DNS rebinding)
//	auth.go       Principal, Authenticator, AuthError
//	bearer.go     JWT bearer tokens (the OAuth resource server), trusting an upstream authorizer
//	apikey.go     API keys, and accepting JWTs or API keys on one deployment
//	apigw.go      the principal from an API Gateway authorizer's context
//	wellknown.go  RFC 9728 and RFC 8414 discovery documents
//	serve.go      the local HTTP server with graceful shutdown
package server
