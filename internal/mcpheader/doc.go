// Package mcpheader implements the HTTP header rules of the MCP 2026-07-28
// Streamable HTTP transport ("Request Metadata"): the standard Mcp-Method
// and Mcp-Name headers, the Mcp-Param-{Name} headers a tool declares with
// the x-mcp-header schema extension, and the =?base64?...?= value encoding
// they share.
//
// The transport mirrors body fields into headers so that load balancers and
// gateways can route without parsing JSON. That is only safe if the server
// rejects every request whose headers and body disagree, and only works if
// the client encodes exactly what the server decodes. Both sides therefore
// use this one package: the client calls [SetStandard], [ParseToolHeaders]
// (to drop tools whose annotations are invalid) and [ParamHeaders]; the
// server calls [CheckStandard] on every request and [CheckParams] on calls
// of annotated tools. A rule changed here changes for both, so they cannot
// drift apart.
//
// Server-side failures are *[MismatchError]; the server answers them with
// HTTP 400 and JSON-RPC error -32020 (HeaderMismatch), message
// "Header mismatch: " + err.Error().
//
// Header maps must have canonical keys, as net/http and [http.Header.Add]
// produce. Values are compared case-sensitively after removing the optional
// whitespace RFC 9110 §5.5 allows around a field value.
package mcpheader
