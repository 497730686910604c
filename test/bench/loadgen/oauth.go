package main

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// The claims of the tokens of the oauth rows.
const (
	benchKID      = "bench"
	benchClientID = "bench-client"
	benchScope    = "mcp"
)

// issuer is the authorization server of the oauth rows, in process: a
// JWKS endpoint on loopback serving one RSA-2048 public key (kid "bench"),
// and the private key that signs the access tokens (RS256).
type issuer struct {
	url     string // the iss of the tokens, http://127.0.0.1:PORT
	jwksURL string
	key     *rsa.PrivateKey
	fetches atomic.Int64 // JWKS requests served
}

// startIssuer generates the key and serves the JWKS until the load
// generator exits.
func startIssuer() (*issuer, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	iss := &issuer{url: "http://" + ln.Addr().String(), key: key}
	iss.jwksURL = iss.url + "/jwks.json"
	b64 := base64.RawURLEncoding.EncodeToString
	jwks, err := json.Marshal(map[string]any{"keys": []map[string]string{{
		"kty": "RSA", "use": "sig", "alg": "RS256", "kid": benchKID,
		"n": b64(key.N.Bytes()), "e": b64(big.NewInt(int64(key.E)).Bytes()),
	}}})
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /jwks.json", func(w http.ResponseWriter, r *http.Request) {
		iss.fetches.Add(1)
		w.Header().Set("Content-Type", "application/jwk-set+json")
		w.Header().Set("Cache-Control", "max-age=3600")
		_, _ = w.Write(jwks)
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return iss, nil
}

// env is the server configuration of an oauth row. MCP_RESOURCE_URL is
// left to its default, http://localhost:PORT/mcp, which tokens must name
// in aud; OAUTH_ISSUER with OAUTH_JWKS_URL skips metadata discovery.
func (iss *issuer) env() []string {
	return []string{"AUTH_METHOD=oauth", "OAUTH_ISSUER=" + iss.url, "OAUTH_JWKS_URL=" + iss.jwksURL, "OAUTH_CLIENT_IDS=" + benchClientID}
}

// resourceURL is the default MCP_RESOURCE_URL of a loopback server on port.
func resourceURL(port int) string { return "http://localhost:" + strconv.Itoa(port) + "/mcp" }

// mint signs an access token for subject, bound to the resource audience,
// valid for an hour.
func (iss *issuer) mint(audience, subject string) (string, error) {
	now := time.Now()
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{
		"iss":       iss.url,
		"sub":       subject,
		"client_id": benchClientID,
		"aud":       audience,
		"scope":     benchScope,
		"iat":       now.Unix(),
		"exp":       now.Add(time.Hour).Unix(),
	})
	tok.Header["kid"] = benchKID
	s, err := tok.SignedString(iss.key)
	if err != nil {
		return "", fmt.Errorf("minting a token: %w", err)
	}
	return s, nil
}

// checkRefusesNoToken makes sure an oauth row measures a server that
// enforces authentication: initialize without a token must get a 401.
func checkRefusesNoToken(p *proc) error {
	tr := &http.Transport{DisableKeepAlives: true, DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 5 * time.Second}
	req, _ := http.NewRequest(http.MethodPost, p.url, bytes.NewReader([]byte(initBody)))
	setHeaders(req.Header, "", "")
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("initialize without a token: %w", err)
	}
	rb, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		return fmt.Errorf("initialize without a token answered %d, not 401: the server does not enforce AUTH_METHOD=oauth (use -oauth=false for such a binary): %.200s", resp.StatusCode, rb)
	}
	return nil
}
