// Package client is an MCP client for the Streamable HTTP transport of both
// protocol eras:
//
//   - the session era (revisions 2025-03-26 to 2025-11-25): the initialize
//     handshake, Mcp-Session-Id, JSON and SSE answers, server-to-client
//     requests, the standalone GET stream, resumption with Last-Event-ID,
//     cancellation, transparent re-initialization after a 404;
//   - the stateless era (revision 2026-07-28): server/discover, no session,
//     the protocol version, capabilities and client info in the _meta of
//     every request, the Mcp-Method, Mcp-Name and Mcp-Param-* headers, and
//     multi-round-trip (input_required) results;
//
// and pluggable authorization for both. The interactive client
// (mcp-client, package [mcplambda/client/repl]) is built on it.
//
// # Choosing the era
//
// By default (Options.ProtocolVersion empty) [Connect] negotiates, as the
// specification's backward-compatibility rules say: it first probes with a
// stateless server/discover request: a result means the stateless era; a
// recognized stateless-era error (-32020, -32021, -32022, or a 404 whose
// body is a -32601 error) means a stateless server too, and the error is
// reported (after retrying -32022 with a revision from data.supported that
// the client speaks, or once with the refused one when data.supported
// lists it), never papered over by a fallback; any other 4xx
// answer (400, 404 or 405 without such a body, a session-era JSON-RPC
// error) means a session-era server, and Connect falls back to initialize
// with the newest session-era revision.
// ProtocolVersion "2026-07-28" forces the stateless era (no fallback); a
// session-era revision forces the session era (no probe). The era is
// decided once, for the life of the Client: [Client.Era] tells which
// ([EraSession] or [EraStateless]); in the stateless era
// [Client.ProtocolVersion] is "2026-07-28", [Client.SessionID] is empty,
// [Client.Discovery] is the server/discover result and [Client.ServerInfo]
// is assembled from it (server name and version from its _meta).
//
// # Connecting
//
// In the session era [Connect] sends initialize and
// notifications/initialized, and with [Options].OpenStandaloneStream also
// opens the GET stream for messages the
// server sends outside any request. [Options] holds the endpoint URL, the
// HTTP client, the [Authorizer], the client's name and version
// (ClientInfo), the protocol revision to request (default: negotiate),
// the callbacks described below and a [log/slog.Logger] for the traffic
// (method, id, status; never headers or tokens).
//
// Every request has a timeout, Options.RequestTimeout: 0 means 60 seconds, a
// negative value none. Time spent in [Authorizer.Challenge] does not count
// (a browser login has its own limit). When the timeout or the caller's
// context ends first, the server is sent notifications/cancelled for the
// request and the error is a [*TimeoutError] naming the method and the
// delay, or the context's error ([context.Canceled]).
//
// [Client.SessionID], [Client.ProtocolVersion] and [Client.ServerInfo] (the
// InitializeResult) describe the session.
//
// The rest of this documentation describes the session era unless it says
// otherwise.
//
// # The stateless era
//
// Every request carries, in params._meta, io.modelcontextprotocol/
// protocolVersion, clientCapabilities (declared from the callbacks, as at
// initialize) and clientInfo, plus progressToken with [WithProgress] and
// logLevel once [Client.SetLogLevel] was called: there SetLogLevel sends
// nothing and only sets the level of later requests. The headers
// MCP-Protocol-Version, Mcp-Method and Mcp-Name are set, and for tools/call
// the Mcp-Param-* headers the tool's inputSchema declares (x-mcp-header):
// the client learns them from [Client.ListTools], listing the tools once
// when it calls a tool it has not seen. ListTools leaves out the tools
// whose annotations are invalid, with a warning to Options.Logger naming
// the tool and the reason. There is no session header, no GET stream, no
// DELETE on Close, no notifications/cancelled (ending the context closes
// the request's stream, which cancels it) and no resumption; [Client.Ping]
// sends server/discover. Protocol errors, which the stateless era answers
// with HTTP 400 or 404, come back as [*RPCError].
//
// Change notifications come on a subscriptions/listen stream (a long-lived
// POST answered with SSE), which replaces the GET stream: it is opened by
// Options.OpenStandaloneStream (asking for the tools, prompts and
// resources list_changed notifications) or by [Client.Subscribe], and
// carries the resources/updated notifications of the subscribed URIs.
// Only notifications tagged with the stream's subscription id
// (io.modelcontextprotocol/subscriptionId in _meta) reach
// Options.OnNotification. Subscribe and [Client.Unsubscribe] reopen the
// stream with the new filter and wait for the server's
// notifications/subscriptions/acknowledged; Subscribe fails if the server
// does not honour the URI. A dropped stream is reopened after a second,
// and five failures in a row (or a 4xx answer, or an acknowledgement that
// honours nothing) end the attempt; Options.OnStandaloneStream is told as
// for the GET stream.
//
// A result with resultType "input_required" is answered by the
// callbacks that answer server requests in the session era (Elicit,
// Sample, Roots; RequestTimeout pauses meanwhile), and the request is sent
// again with a new JSON-RPC id, its inputResponses and the requestState
// echoed unchanged; after 10 rounds the request fails. A callback's error,
// or a missing callback, fails the request.
//
// # Requests
//
// [Client.Call] sends any request and decodes its result; a JSON-RPC error
// response is an [*RPCError] whose Error method reads "CODE: message".
// [WithProgress] asks for progress: the client adds a progressToken and
// passes the server's notifications/progress for that request to the
// function.
//
// Typed helpers cover the rest of the protocol: [Client.ListTools],
// [Client.CallTool], [Client.ListResources], [Client.ListResourceTemplates],
// [Client.ReadResource], [Client.ListPrompts], [Client.GetPrompt],
// [Client.SetLogLevel], [Client.Ping], [Client.Subscribe],
// [Client.Unsubscribe] and [Client.Complete]; [Client.Notify] sends a
// notification and [Client.RootsChanged] sends
// notifications/roots/list_changed. The List methods follow nextCursor to
// the last page. A tool that fails reports it in its result (IsError set),
// not as a Go error: a Go error from CallTool means the request itself
// failed.
//
// # Notifications
//
// Log messages, progress, list_changed and resources/updated reach
// Options.OnNotification(method, params) in order per stream, on the
// goroutine that reads that stream: calls for different streams may run
// concurrently, and a slow callback holds up its stream, so it should not
// block. Progress notifications also go to their request's [WithProgress]
// function.
//
// A stream that breaks before its answer is resumed with GET and
// Last-Event-ID after the server's retry delay (1 second by default, 30
// seconds at most); streams the server closes are followed (polling), and
// five reconnections in a row that deliver nothing end the attempt. A 405
// on GET means the server offers no standalone stream, which is fine. A GET
// stream silent for Options.StreamIdleTimeout (0 means 2 minutes, a negative
// value never) is reopened with Last-Event-ID, so a stalled server or a
// connection that died without a word is noticed.
// Options.OnStandaloneStream(open, err), if set, is called with open true
// each time the GET stream (re)connects, and once with open false when the
// client stops trying (err nil: the server offers no GET stream, 405); it
// is not called on Close.
//
// # Server-to-client requests
//
// elicitation/create, sampling/createMessage and roots/list go to the
// Options.Elicit, Options.Sample and Options.Roots callbacks. A nil callback
// means the capability is not declared, and such a request is answered with
// a JSON-RPC error (-32601). Options.ElicitModes lists the elicitation modes
// declared with Elicit ("form" by default; "url" is the other). A
// callback's context ends on [Client.Close] or [Client.Disconnect], or when
// the server sends notifications/cancelled for that request. ping is always
// answered. At most 32 server requests are answered at once; the rest get
// a JSON-RPC error (-32603) asking the server to send them again later.
//
// # Authorization
//
// An [Authorizer] supplies credentials: Authorize sets the Authorization
// header of each request, and Challenge is called when the server answers
// 401, or 403 with error="insufficient_scope"; returning nil means the
// credentials changed and the request is retried, at most twice per
// request. The OAuth 2.1 client, [mcplambda/client/oauthclient], implements
// it; [StaticToken] is a fixed bearer token (an API key or ACCESS_TOKEN)
// that cannot be renewed. [BearerParams] parses the Bearer challenge of a
// WWW-Authenticate header into its parameters, names lower-cased (it wraps
// the parser of package mcplambda/oauth, which the OAuth client uses too).
// Tokens and headers are never logged.
//
// # Errors
//
//   - [*AuthRequiredError] (Status and WWWAuthenticate, with
//     [AuthRequiredError.ResourceMetadata] and [AuthRequiredError.Scope]): a
//     401, or a 403 insufficient_scope, that could not be satisfied: no
//     Authorizer, a [StaticToken] refused, or both renewals used. An error
//     returned by [Authorizer.Challenge] is returned as it is.
//   - [*RPCError]: a JSON-RPC error response.
//   - [*HTTPError] (StatusCode and at most 4 KiB of Body): any other non-2xx
//     answer the client could not handle.
//   - [*TimeoutError] (Method, After): the request timed out;
//     errors.Is(err, context.DeadlineExceeded) holds.
//   - [ErrSessionExpired]: the server forgot the session (404) and starting
//     a new one failed.
//   - [ErrClosed]: the client was closed; calls in flight end with it too.
//
// A 404 on a session makes the client re-initialize once, transparently, and
// retry the request on the new session ([Client.SessionID] changes); the log
// level and the subscriptions set through [Client.SetLogLevel] and
// [Client.Subscribe] are set again there.
//
// # Limits
//
// Input is bounded: 16 MiB per message (a JSON body or an SSE event), and
// 4 KiB read of an error answer.
//
// # Closing
//
// [Client.Close] stops the client's goroutines, ends the session with
// DELETE (a 405 or 404 answer is fine) and waits for them;
// [Client.Disconnect] stops without DELETE, leaving the session to expire on
// the server. Both wait for the background goroutines, so callbacks must
// honour their context.
package client
