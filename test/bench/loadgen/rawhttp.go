package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"time"
)

// rawConn is a minimal HTTP/1.1 client on one kept-alive connection: it
// writes a pre-formatted request and parses just the status, Content-Length
// (or chunked framing), Connection and Mcp-Session-Id of the answer. It
// costs the load generator a fraction of what net/http's Client does, so
// that on a 2-core machine the server, not the load generator, is the
// bottleneck and the server's CPU per call is measured near saturation.
type rawConn struct {
	addr, host, path string
	auth             string // "Authorization: Bearer ...\r\n", or empty
	// extra are the headers of a stateless connection's requests (each a
	// "Name: value\r\n" line), or empty.
	extra string

	c    net.Conn
	br   *bufio.Reader
	wbuf []byte
	body []byte
}

// newRawConn makes a client of URL u; a non-empty token is sent as
// "Authorization: Bearer token" on every request, and with stateless the
// headers of a stateless tools/call of greet (statelessHeaders) too.
func newRawConn(u, token string, stateless bool) *rawConn {
	pu, err := url.Parse(u)
	if err != nil {
		panic(err)
	}
	rc := &rawConn{addr: pu.Host, host: pu.Host, path: pu.RequestURI()}
	if token != "" {
		rc.auth = "Authorization: Bearer " + token + "\r\n"
	}
	if stateless {
		for _, kv := range statelessHeaders {
			rc.extra += kv[0] + ": " + kv[1] + "\r\n"
		}
	}
	return rc
}

func (rc *rawConn) close() {
	if rc.c != nil {
		rc.c.Close()
		rc.c, rc.br = nil, nil
	}
}

func (rc *rawConn) do(method, session string, body []byte) (status int, sid string, resp []byte, err error) {
	if rc.c == nil {
		c, err := net.DialTimeout("tcp", rc.addr, 5*time.Second)
		if err != nil {
			return 0, "", nil, err
		}
		rc.c, rc.br = c, bufio.NewReaderSize(c, 16<<10)
	}
	defer func() {
		if err != nil {
			rc.close()
		}
	}()
	if err := rc.c.SetDeadline(time.Now().Add(30 * time.Second)); err != nil {
		return 0, "", nil, err
	}
	w := append(rc.wbuf[:0], method...)
	w = append(w, ' ')
	w = append(w, rc.path...)
	w = append(w, " HTTP/1.1\r\nHost: "...)
	w = append(w, rc.host...)
	w = append(w, "\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\n"...)
	w = append(w, rc.auth...)
	w = append(w, rc.extra...)
	if session != "" {
		w = append(w, "Mcp-Session-Id: "...)
		w = append(w, session...)
		w = append(w, "\r\nMcp-Protocol-Version: "+protocolVersion+"\r\n"...)
	}
	w = append(w, "Content-Length: "...)
	w = strconv.AppendInt(w, int64(len(body)), 10)
	w = append(w, "\r\n\r\n"...)
	w = append(w, body...)
	rc.wbuf = w
	if _, err := rc.c.Write(w); err != nil {
		return 0, "", nil, err
	}

	line, err := rc.br.ReadSlice('\n')
	if err != nil {
		return 0, "", nil, err
	}
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) {
		return 0, "", nil, fmt.Errorf("malformed status line %q", line)
	}
	status, err = strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, "", nil, fmt.Errorf("malformed status line %q", line)
	}
	length, chunked, closeAfter := -1, false, false
	for {
		line, err = rc.br.ReadSlice('\n')
		if err != nil {
			return 0, "", nil, err
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			break
		}
		k, v, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			return 0, "", nil, fmt.Errorf("malformed header %q", line)
		}
		v = bytes.TrimSpace(v)
		switch {
		case bytes.EqualFold(k, []byte("Content-Length")):
			if length, err = strconv.Atoi(string(v)); err != nil || length < 0 {
				return 0, "", nil, fmt.Errorf("malformed Content-Length %q", v)
			}
		case bytes.EqualFold(k, []byte("Transfer-Encoding")):
			chunked = bytes.EqualFold(v, []byte("chunked"))
		case bytes.EqualFold(k, []byte("Connection")):
			closeAfter = bytes.EqualFold(v, []byte("close"))
		case bytes.EqualFold(k, []byte("Mcp-Session-Id")):
			sid = string(v)
		}
	}
	rc.body = rc.body[:0]
	switch {
	case chunked:
		for {
			line, err = rc.br.ReadSlice('\n')
			if err != nil {
				return 0, "", nil, err
			}
			hexLen, _, _ := bytes.Cut(bytes.TrimRight(line, "\r\n"), []byte(";"))
			n, err := strconv.ParseUint(string(hexLen), 16, 32)
			if err != nil {
				return 0, "", nil, fmt.Errorf("malformed chunk size %q", line)
			}
			if n == 0 {
				for { // trailers, then the final CRLF
					line, err = rc.br.ReadSlice('\n')
					if err != nil {
						return 0, "", nil, err
					}
					if len(bytes.TrimRight(line, "\r\n")) == 0 {
						break
					}
				}
				break
			}
			start := len(rc.body)
			rc.body = append(rc.body, make([]byte, n)...)
			if _, err := io.ReadFull(rc.br, rc.body[start:]); err != nil {
				return 0, "", nil, err
			}
			if _, err := rc.br.Discard(2); err != nil {
				return 0, "", nil, err
			}
		}
	case length >= 0:
		if cap(rc.body) < length {
			rc.body = make([]byte, length)
		}
		rc.body = rc.body[:length]
		if _, err := io.ReadFull(rc.br, rc.body); err != nil {
			return 0, "", nil, err
		}
	case status == 204 || status == 304 || status/100 == 1:
	default:
		return 0, "", nil, errors.New("answer without Content-Length or chunked framing")
	}
	if closeAfter {
		rc.close()
	}
	return status, sid, rc.body, nil
}
