package mcp

import "encoding/json"

// The stateless era (revision 2026-07-28 and later): no initialize, no
// session; every request carries its protocol version, the client's
// capabilities and its identity in params._meta, and server-to-client
// requests become multi-round-trip results.

// Version20260728 is the first stateless revision.
const Version20260728 = "2026-07-28"

// ModernVersions lists the stateless revisions we speak, newest first.
var ModernVersions = []string{Version20260728}

// SupportedVersions is every revision this implementation speaks, newest
// first: what an UnsupportedProtocolVersion error and server/discover list.
var SupportedVersions = []string{Version20260728, Version20251125, Version20250618, Version20250326}

// IsModernVersion reports whether v is a stateless revision we speak.
func IsModernVersion(v string) bool {
	for _, m := range ModernVersions {
		if v == m {
			return true
		}
	}
	return false
}

// Methods and notifications of the stateless era.
const (
	MethodServerDiscover      = "server/discover"
	MethodSubscriptionsListen = "subscriptions/listen"

	NotificationSubscriptionsAcknowledged = "notifications/subscriptions/acknowledged"
)

// The _meta keys the stateless era reserves.
const (
	MetaProtocolVersion    = "io.modelcontextprotocol/protocolVersion"
	MetaClientInfo         = "io.modelcontextprotocol/clientInfo"
	MetaClientCapabilities = "io.modelcontextprotocol/clientCapabilities"
	MetaLogLevel           = "io.modelcontextprotocol/logLevel"
	MetaServerInfo         = "io.modelcontextprotocol/serverInfo"
	MetaSubscriptionID     = "io.modelcontextprotocol/subscriptionId"
)

// Error codes the MCP specification allocates (-32020 to -32099).
const (
	// CodeHeaderMismatch: the HTTP headers do not match the body, or a
	// required header is missing or malformed (HTTP 400).
	CodeHeaderMismatch = -32020
	// CodeMissingRequiredClientCapability: the request needs a capability
	// the client did not declare (HTTP 400); data.requiredCapabilities.
	CodeMissingRequiredClientCapability = -32021
	// CodeUnsupportedProtocolVersion: the requested revision is not one the
	// server speaks (HTTP 400); data.supported and data.requested.
	CodeUnsupportedProtocolVersion = -32022
)

// Result types (the resultType every stateless-era result carries).
const (
	ResultComplete      = "complete"
	ResultInputRequired = "input_required"
)

// Cache scopes of cacheable results.
const (
	CachePublic  = "public"
	CachePrivate = "private"
)

// UnsupportedVersionData is the data of CodeUnsupportedProtocolVersion.
type UnsupportedVersionData struct {
	Supported []string `json:"supported"`
	Requested string   `json:"requested"`
}

// MissingCapabilityData is the data of CodeMissingRequiredClientCapability.
type MissingCapabilityData struct {
	RequiredCapabilities ClientCapabilities `json:"requiredCapabilities"`
}

// DiscoverResult answers server/discover. resultType, _meta and the
// caching hints are added by the transport, as on every result.
type DiscoverResult struct {
	SupportedVersions []string           `json:"supportedVersions"`
	Capabilities      ServerCapabilities `json:"capabilities"`
	Instructions      string             `json:"instructions,omitempty"`
}

// InputRequest is one request for input inside an input_required result:
// elicitation/create, sampling/createMessage or roots/list.
type InputRequest struct {
	Method string `json:"method"`
	Params any    `json:"params,omitempty"`
}

// InputRequiredResult is the interim result of a multi-round-trip request:
// the client answers inputRequests and retries the original request with
// inputResponses and requestState echoed.
//
// The transport adds resultType "input_required" and _meta.
type InputRequiredResult struct {
	InputRequests map[string]InputRequest `json:"inputRequests,omitempty"`
	RequestState  string                  `json:"requestState,omitempty"`
}

// SubscriptionFilter is what a subscriptions/listen stream carries, as the
// client asks for it and as the server acknowledges it.
type SubscriptionFilter struct {
	ToolsListChanged      bool     `json:"toolsListChanged,omitempty"`
	PromptsListChanged    bool     `json:"promptsListChanged,omitempty"`
	ResourcesListChanged  bool     `json:"resourcesListChanged,omitempty"`
	ResourceSubscriptions []string `json:"resourceSubscriptions,omitempty"`
}

// SubscriptionsListenParams are the params of subscriptions/listen.
type SubscriptionsListenParams struct {
	Notifications SubscriptionFilter `json:"notifications"`
}

// SubscriptionsAcknowledgedParams are the params of
// notifications/subscriptions/acknowledged (with the subscription id in
// _meta).
type SubscriptionsAcknowledgedParams struct {
	Meta          map[string]json.RawMessage `json:"_meta"`
	Notifications SubscriptionFilter         `json:"notifications"`
}

// AppendResponseHead appends a success response up to its result, for a
// caller that writes the result in place (then a closing '}') instead of
// encoding it into a buffer of its own first.
func AppendResponseHead(dst []byte, id ID) []byte {
	dst = append(dst, `{"jsonrpc":"2.0","id":`...)
	dst = appendID(dst, id)
	return append(dst, `,"result":`...)
}
