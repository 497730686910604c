// Command bare is the baseline for `make bench`: a bare net/http server on
// 127.0.0.1:$PORT (default 3000) whose handler (test/bench/barehandler)
// decodes each JSON-RPC body and answers initialize and tools/call of greet
// with application/json. No sessions, no logging, no validation beyond
// decoding: the floor for server CPU per call and for start-up time.
package main

import (
	"fmt"
	"net"
	"net/http"
	"os"

	"mcplambda/test/bench/barehandler"
)

func main() {
	port := os.Getenv("PORT")
	if port == "" {
		port = "3000"
	}
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", port))
	if err != nil {
		fmt.Fprintln(os.Stderr, "bare:", err)
		os.Exit(1)
	}
	if err := http.Serve(ln, barehandler.Handler{}); err != nil {
		fmt.Fprintln(os.Stderr, "bare:", err)
		os.Exit(1)
	}
}
