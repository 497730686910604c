// Package chaos holds the fault and load tests of `make chaos`: the built
// bin/mcp-server as a child process on loopback, driven by many raw HTTP
// MCP sessions from several principals (load), by sessions kept in a
// DynamoDB table on moto_server behind a proxy that the test cuts, restores
// and turns into a throttling DynamoDB (session store outage), by OAuth
// tokens against a key set the test takes away and brings back rotated
// (JWKS outage), by clients that stop reading beside active sessions
// (stalled clients), and by one request per bad input (bad input). Each
// prints a table; see docs/tests.md for how to read it.
//
// Without MCP_CHAOS=1 the tests run as a short smoke version (50 sessions,
// 5 s) inside `go test ./...`; `make chaos` runs the full version
// (1,000 sessions, 60 s). The CHAOS_* variables override each figure.
//
// The package has only tests; nothing imports it.
package chaos
