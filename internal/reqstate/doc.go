// Package reqstate seals and opens the requestState of MCP Multi Round-Trip
// Requests (revision 2026-07-28), and remembers which states were used.
//
// # The problem
//
// A server that needs input in the middle of tools/call, prompts/get or
// resources/read answers with an InputRequiredResult carrying an opaque
// requestState; the client retries the original request (new JSON-RPC id,
// same params) with inputResponses and that requestState echoed byte for
// byte. The server keeps nothing between the rounds: it puts into the state
// the answers collected so far, so that the last round can re-run the tool
// with all of them. The state therefore crosses the client twice and the
// specification requires treating it as attacker-controlled input.
//
// # Why AEAD
//
// The answers in the state steer business logic (a confirmation, a chosen
// account) and may hold user data (whatever an elicitation asked for).
// They need integrity, which an HMAC would give, and confidentiality, which
// it would not: the state sits in client logs, proxies and transcripts.
// A Sealer uses AES-256-GCM, an AEAD, which gives both in one primitive
// with one key. The key is derived with HKDF-SHA256 from the configured
// secret (REQUEST_STATE_KEY, see ParseKey) under a fixed label, so that
// the secret itself never keys a cipher and another use of the same secret
// under another label would get an unrelated key.
//
// Nonces are 96 random bits per token. With random nonces one key should
// seal well under 2^32 states; change REQUEST_STATE_KEY long before that
// (changing it only makes outstanding states fail to open, which a client
// survives by starting the request again).
//
// # What is bound
//
// A token is bound to a Binding: the authenticated principal, the JSON-RPC
// method and ParamsDigest of the request's salient params (tool or prompt
// name and arguments, resource uri). The binding is the AEAD's additional
// data: it is not in the token, it is supplied again by the server from the
// retried request, and opening fails unless it is identical. This is how
// the specification's three replay checks are met: a state presented by
// another principal, on another method, or with other arguments does not
// open. AES-GCM cannot tell such a mismatch from a modified token or from a
// token sealed under another key (all are "the tag does not verify"), so
// Open reports all of them as ErrInvalid; that is by design, and it also
// means the error tells a prober nothing.
//
// Inside the ciphertext are a random 128-bit state id, the issue time and
// the expiry (TTL, 10 minutes by default). An expired state is ErrExpired;
// a token that is not even shaped like one is ErrMalformed. Sizes are
// bounded before any work: Open refuses tokens longer than MaxTokenLen and
// Seal payloads longer than MaxPayload, ParamsDigest canonicalises at most
// MaxParamsSize bytes.
//
// # Why single use needs a ledger
//
// The binding and the expiry bound the replay window and stop cross-user
// and cross-request reuse, but, as the specification warns, they do not
// make a state single-use: within its TTL the same principal can present
// the same token on the same request as often as it likes, and each
// presentation decrypts. Where a round must happen at most once (a
// payment, a one-time code), the server has to remember which state ids it
// has accepted. That is the Ledger: Consume records an id until the state
// expires and returns ErrReplayed for the second presentation. Sealer.Redeem
// opens and consumes in the right order (a token is consumed only once it
// has been authenticated and found unexpired, so garbage cannot fill the
// ledger).
//
// MemoryLedger remembers ids in this process only, and is bounded: when it
// is full of unexpired ids it refuses new ones (ErrLedgerFull) rather than
// forget old ones, so replay protection never silently lapses. A
// deployment with several instances (Lambda execution environments,
// containers) that uses MemoryLedger gives up cross-instance single use: a
// state consumed on one instance can still be consumed once on every other
// instance within its TTL. The DynamoDB ledger in server/dynamostore
// (a conditional put in the session table) enforces single use across all
// instances.
//
// Single use has a cost: a client whose retry was consumed but whose
// answer was lost (a dropped connection) cannot retry with the same state
// and has to start the request again.
//
// # Token format
//
// A token is the unpadded URL-safe base64 (RFC 4648 §5, canonical: no
// padding, no line breaks, zero trailing bits) of
//
//	version   1 byte   0x01
//	nonce    12 bytes  random
//	sealed    n bytes  AES-256-GCM(plaintext) with its 16-byte tag
//
// where the plaintext is
//
//	state id    16 bytes  random
//	issued at    8 bytes  Unix milliseconds, big-endian
//	expires at   8 bytes  Unix milliseconds, big-endian
//	payload      the rest
//
// and the additional data is the version byte followed by the principal
// and the method, each preceded by its length (4 bytes, big-endian), and
// the 32-byte params digest.
package reqstate
