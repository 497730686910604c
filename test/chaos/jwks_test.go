package chaos

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"mcplambda/mcp"
	"mcplambda/test/testproc"
)

// The verifier's refetch rules (oauth/jwks.go), which the JWKS test
// checks from outside:
//   - a token whose kid is in the cached, unexpired set never causes a
//     fetch (the set lives for Cache-Control max-age clamped to [1m, 24h],
//     default 1h);
//   - an unknown kid causes at most one fetch per minute, counted from the
//     start of the previous fetch, successful or not (UnknownKidRefetchInterval);
//   - with no keys at all (a new instance) a fetch is retried at most every
//     5 s (emptyCacheRetry);
//   - a token already verified is served from the token cache until its own
//     exp, without looking at the key set again.
const (
	refetchInterval = time.Minute
	emptyCacheRetry = 5 * time.Second
	jwksTimeout     = 5 * time.Second // oauth.Config.JWKSTimeout's default
)

// jwksFault is what the key set server does in a phase.
type jwksFault int32

const (
	jwksServeA  jwksFault = iota // the set with key A
	jwksRefused                  // listener closed: connections refused
	jwks500                      // HTTP 500 to every request
	jwksStall                    // requests accepted, never answered
	jwksServeB                   // the rotated set: key B only, A removed
)

// jwksServer is the authorization server's key set on loopback, which the
// test takes away and brings back rotated. It counts requests per path
// (each server instance under test has its own path) and per phase.
type jwksServer struct {
	addr  string
	fault atomic.Int32
	a, b  map[string]any // the two sets, as JSON

	mu     sync.Mutex
	srv    *http.Server
	counts map[string][]time.Time // path -> request times
	stall  chan struct{}          // closed when a stall ends
}

func startJWKS(t *testing.T, a, b map[string]any) *jwksServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	j := &jwksServer{addr: ln.Addr().String(), a: a, b: b, counts: map[string][]time.Time{}, stall: make(chan struct{})}
	j.serve(ln)
	t.Cleanup(func() {
		j.setFault(t, jwksServeB)
		j.down()
	})
	return j
}

func (j *jwksServer) serve(ln net.Listener) {
	srv := &http.Server{Handler: j, ReadHeaderTimeout: 10 * time.Second}
	j.mu.Lock()
	j.srv = srv
	j.mu.Unlock()
	go func() { _ = srv.Serve(ln) }()
}

func (j *jwksServer) down() {
	j.mu.Lock()
	srv := j.srv
	j.srv = nil
	j.mu.Unlock()
	if srv != nil {
		_ = srv.Close()
	}
}

// setFault moves to the next phase: the listener is closed for
// jwksRefused and opened again on the same port after it.
func (j *jwksServer) setFault(t *testing.T, f jwksFault) {
	t.Helper()
	prev := jwksFault(j.fault.Swap(int32(f)))
	if prev == jwksStall {
		close(j.stall)
	}
	if f == jwksRefused {
		j.down()
		return
	}
	if prev == jwksRefused {
		ln, err := net.Listen("tcp", j.addr)
		if err != nil {
			t.Fatalf("listening again on %s: %v", j.addr, err)
		}
		j.serve(ln)
	}
}

func (j *jwksServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	j.mu.Lock()
	j.counts[r.URL.Path] = append(j.counts[r.URL.Path], time.Now())
	stall := j.stall
	j.mu.Unlock()
	switch jwksFault(j.fault.Load()) {
	case jwks500:
		http.Error(w, "internal error", http.StatusInternalServerError)
	case jwksStall:
		select {
		case <-stall:
		case <-r.Context().Done():
		}
		j.mu.Lock()
		if j.stall == stall {
			j.stall = make(chan struct{})
		}
		j.mu.Unlock()
		panic(http.ErrAbortHandler) // no answer at all
	case jwksServeB:
		writeJWKS(w, j.b)
	default:
		writeJWKS(w, j.a)
	}
}

func writeJWKS(w http.ResponseWriter, set map[string]any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(set)
}

// requests returns the request times of path between from and to.
func (j *jwksServer) requests(path string, from, to time.Time) []time.Time {
	j.mu.Lock()
	defer j.mu.Unlock()
	var out []time.Time
	for _, at := range j.counts[path] {
		if !at.Before(from) && at.Before(to) {
			out = append(out, at)
		}
	}
	return out
}

// signingKey is an RSA key and its kid.
type signingKey struct {
	kid  string
	priv *rsa.PrivateKey
}

func newSigningKey(t *testing.T, kid string) signingKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return signingKey{kid: kid, priv: k}
}

func (k signingKey) jwk() map[string]any {
	return map[string]any{
		"kty": "RSA", "use": "sig", "alg": "RS256", "kid": k.kid,
		"n": base64.RawURLEncoding.EncodeToString(k.priv.N.Bytes()),
		"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(k.priv.E)).Bytes()),
	}
}

// tokenMint makes access tokens for one issuer and audience.
type tokenMint struct {
	issuer, audience string
	n                atomic.Int64 // makes every token distinct (jti)
}

func (m *tokenMint) claims(change func(jwt.MapClaims)) jwt.MapClaims {
	now := time.Now()
	c := jwt.MapClaims{
		"iss": m.issuer, "aud": m.audience, "sub": "user-1", "client_id": "chaos-client",
		"scope": "mcp", "iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
		"jti": strconv.FormatInt(m.n.Add(1), 10),
	}
	if change != nil {
		change(c)
	}
	return c
}

// sign signs the claims with k under kid. Signing with a generated RSA key
// cannot fail short of a bug, hence the panic (it runs in goroutines too).
func (m *tokenMint) sign(k signingKey, kid string, change func(jwt.MapClaims)) string {
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, m.claims(change))
	tok.Header["kid"] = kid
	s, err := tok.SignedString(k.priv)
	if err != nil {
		panic(err)
	}
	return s
}

// startOAuthServer runs bin with AUTH_METHOD=oauth for iss, its keys at
// jwksURL.
func startOAuthServer(t *testing.T, s settings, bin, iss, jwksURL string) (*testproc.Process, string) {
	t.Helper()
	port := testproc.FreePort(t)
	url := "http://127.0.0.1:" + strconv.Itoa(port) + "/mcp"
	env := []string{
		"HOST=127.0.0.1", "PORT=" + strconv.Itoa(port), "AUTH_METHOD=oauth", "OAUTH_ISSUER=" + iss,
		"OAUTH_JWKS_URL=" + jwksURL, "MCP_RESOURCE_URL=" + url, "LOG_REQUESTS=false", "LOG_LEVEL=warn",
	}
	env = append(env, s.serverEnv...)
	p := testproc.Start(t, bin, testproc.Options{Name: "oauth-server", Unset: testproc.ServerEnv(), Env: env})
	p.WaitListening(t, "127.0.0.1:"+strconv.Itoa(port), 30*time.Second)
	return p, url
}

// tryToken sends a stateless-era server/discover with token and returns
// the status (0 for a transport error). Authentication comes before either
// era's routing, so this checks the token as an initialize would, without
// leaving a session behind per try (hundreds a minute from one subject
// would meet MAX_SESSIONS_PER_PRINCIPAL, which is not under test here).
func tryToken(ctx context.Context, hc *http.Client, url, token string) (int, error) {
	body := `{"jsonrpc":"2.0","id":0,"method":"server/discover","params":{"_meta":{` +
		`"io.modelcontextprotocol/protocolVersion":"` + mcp.Version20260728 + `",` +
		`"io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/clientInfo":{"name":"chaos-jwks","version":"1"}}}}`
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("MCP-Protocol-Version", mcp.Version20260728)
	req.Header.Set("Mcp-Method", "server/discover")
	resp, err := hc.Do(req)
	if err != nil {
		return 0, err
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode == http.StatusOK && !strings.Contains(string(b), `"supportedVersions"`) {
		return resp.StatusCode, fmt.Errorf("200 without a discover result: %.200s", b)
	}
	return resp.StatusCode, nil
}

// tokenKind is one kind of token the JWKS test sends in every round.
type tokenKind struct {
	name string
	bad  bool // must never be accepted
	make func() string
}

// outcomeCounts counts statuses per phase and kind.
type outcomeCounts struct {
	mu sync.Mutex
	m  map[[2]string]map[int]int
}

func (o *outcomeCounts) add(phase, kind string, status int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	k := [2]string{phase, kind}
	if o.m[k] == nil {
		o.m[k] = map[int]int{}
	}
	o.m[k][status]++
}

func (o *outcomeCounts) cell(phase, kind string) string {
	o.mu.Lock()
	defer o.mu.Unlock()
	m := o.m[[2]string{phase, kind}]
	if len(m) == 0 {
		return "-"
	}
	codes := make([]int, 0, len(m))
	for c := range m {
		codes = append(codes, c)
	}
	slices.Sort(codes)
	parts := make([]string, len(codes))
	for i, c := range codes {
		name := strconv.Itoa(c)
		if c == 0 {
			name = "transport error"
		}
		parts[i] = strconv.Itoa(m[c]) + "× " + name
	}
	return strings.Join(parts, ", ")
}

// TestJWKSOutageAndRotation runs the server with AUTH_METHOD=oauth against
// a key set served by the test. With key A cached, the key set is refused,
// then answers 500, then stalls, each for s.outage; then it comes back
// rotated: key B only. Every round sends a token reused from before the
// outage (key A, in the token cache), a new key-A token, a new key-B
// token, a token with an unknown kid, and bad tokens signed with key A
// (wrong issuer, wrong audience, expired, alg none, bad signature). A
// second instance started during the outage, with no keys at all, shows
// what a new Lambda instance gets.
//
// Expected, from the rules above: during the outage key-A tokens keep
// working and nothing is fetched (the set is fresh and unknown kids are
// throttled); key B is accepted by the first fetch allowed after the
// rotation, at the latest one refetch interval after the previous fetch;
// from that fetch on a new key-A token is refused, while the key-A token
// verified before stays valid until its exp (token cache); the new
// instance answers 503 while it has no keys and accepts key B within
// emptyCacheRetry of the rotation; bad tokens are never accepted; and
// fetches never exceed one per refetch interval per instance (plus the
// first).
func TestJWKSOutageAndRotation(t *testing.T) {
	s := loadSettings(t)
	bin := serverBinary(t, s)
	keyA, keyB, foreign := newSigningKey(t, "key-a"), newSigningKey(t, "key-b"), newSigningKey(t, "key-a")
	j := startJWKS(t, map[string]any{"keys": []any{keyA.jwk()}}, map[string]any{"keys": []any{keyB.jwk()}})
	iss := "http://" + j.addr
	warm, warmURL := startOAuthServer(t, s, bin, iss, iss+"/warm/jwks")
	mint := &tokenMint{issuer: iss, audience: warmURL}

	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	ctx := t.Context()
	cachedA := mint.sign(keyA, keyA.kid, nil)
	testStart := time.Now()
	if st, err := tryToken(ctx, hc, warmURL, cachedA); st != http.StatusOK {
		t.Fatalf("a key-A token before the outage: %d %v\n%s", st, err, warm.Tail(20))
	}
	kinds := []tokenKind{
		{name: "key A, verified before (cached)", make: func() string { return cachedA }},
		{name: "key A, new token", make: func() string { return mint.sign(keyA, keyA.kid, nil) }},
		{name: "key B (rotated in), new token", make: func() string { return mint.sign(keyB, keyB.kid, nil) }},
		{name: "unknown kid", bad: true, make: func() string { return mint.sign(foreign, "kid-"+rand.Text()[:8], nil) }},
		{name: "wrong issuer (key A)", bad: true, make: func() string {
			return mint.sign(keyA, keyA.kid, func(c jwt.MapClaims) { c["iss"] = "https://evil.example" })
		}},
		{name: "wrong audience (key A)", bad: true, make: func() string {
			return mint.sign(keyA, keyA.kid, func(c jwt.MapClaims) { c["aud"] = "https://other.example/mcp" })
		}},
		{name: "expired (key A)", bad: true, make: func() string {
			return mint.sign(keyA, keyA.kid, func(c jwt.MapClaims) { c["exp"] = time.Now().Add(-5 * time.Minute).Unix() })
		}},
		{name: "alg none", bad: true, make: func() string {
			tok := jwt.NewWithClaims(jwt.SigningMethodNone, mint.claims(nil))
			tok.Header["kid"] = keyA.kid
			s, _ := tok.SignedString(jwt.UnsafeAllowNoneSignatureType)
			return s
		}},
		{name: "key A's kid, another key's signature", bad: true, make: func() string { return mint.sign(foreign, keyA.kid, nil) }},
	}

	counts := &outcomeCounts{m: map[[2]string]map[int]int{}}
	var phase atomic.Pointer[string]
	var phaseStarts []time.Time // of each phase, in order
	setPhase := func(p string) {
		phaseStarts = append(phaseStarts, time.Now())
		phase.Store(&p)
	}
	setPhase("before")

	// The rounds: every kind once, one round each 100 ms.
	var evMu sync.Mutex
	events := map[string][]jwksEvent{}
	var accepted atomic.Int64 // bad tokens accepted
	roundsCtx, stopRounds := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			for _, k := range kinds {
				at := time.Now()
				p := *phase.Load()
				st, err := tryToken(roundsCtx, hc, warmURL, k.make())
				if roundsCtx.Err() != nil {
					return
				}
				if err != nil && st != 0 {
					st = -st
				}
				counts.add(p, k.name, st)
				if k.bad && st == http.StatusOK {
					accepted.Add(1)
				}
				evMu.Lock()
				events[k.name] = append(events[k.name], jwksEvent{at, st})
				evMu.Unlock()
			}
			select {
			case <-roundsCtx.Done():
				return
			case <-tick.C:
			}
		}
	})

	// The new instance: started at the outage, it probes with a new key-A
	// token until the rotation, then with key-B tokens until one passes.
	var cold *testproc.Process
	var coldURL string
	var rotatedAt time.Time
	var rotated atomic.Bool
	coldFirstB := make(chan time.Time, 1)
	coldCounts := map[string]map[int]int{}
	var retryAfter503 atomic.Int64

	phaseLen := s.outage
	time.Sleep(min(phaseLen, 2*time.Second))
	outageStart := time.Now()
	setPhase("key set refused (listener closed)")
	j.setFault(t, jwksRefused)
	cold, coldURL = startOAuthServer(t, s, bin, iss, iss+"/cold/jwks")
	coldMint := &tokenMint{issuer: iss, audience: coldURL}
	wg.Go(func() {
		for roundsCtx.Err() == nil {
			p := *phase.Load()
			tok := coldMint.sign(keyA, keyA.kid, nil)
			if rotated.Load() {
				tok = coldMint.sign(keyB, keyB.kid, nil)
			}
			req, _ := http.NewRequestWithContext(roundsCtx, http.MethodPost, coldURL, strings.NewReader(`{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"`+mcp.Version20251125+`","capabilities":{},"clientInfo":{"name":"c","version":"1"}}}`))
			req.Header.Set("Authorization", "Bearer "+tok)
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Accept", "application/json, text/event-stream")
			resp, err := hc.Do(req)
			st := 0
			if err == nil {
				st = resp.StatusCode
				if st == http.StatusServiceUnavailable && resp.Header.Get("Retry-After") != "" {
					retryAfter503.Add(1)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			if roundsCtx.Err() != nil {
				return
			}
			evMu.Lock()
			if coldCounts[p] == nil {
				coldCounts[p] = map[int]int{}
			}
			coldCounts[p][st]++
			evMu.Unlock()
			if st == http.StatusOK && rotated.Load() {
				coldFirstB <- time.Now()
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	})

	time.Sleep(phaseLen)
	setPhase("key set answers 500")
	j.setFault(t, jwks500)
	time.Sleep(phaseLen)
	setPhase("key set stalls (no answer)")
	j.setFault(t, jwksStall)
	time.Sleep(max(phaseLen, jwksTimeout+time.Second))
	outageEnd := time.Now()

	setPhase("back, rotated: key B only")
	rotatedAt = time.Now()
	j.setFault(t, jwksServeB)
	rotated.Store(true)

	// The rotation is over once key B passed on both instances and a new
	// key-A token is refused; the warm instance may take up to one refetch
	// interval after its previous fetch.
	firstFetch := testStart
	if fs := j.requests("/warm/jwks", testStart.Add(-time.Minute), rotatedAt); len(fs) > 0 {
		firstFetch = fs[0]
	}
	deadline := maxTime(rotatedAt, firstFetch.Add(refetchInterval)).Add(10 * time.Second)
	firstOK := func(kind string, status int, after time.Time) time.Time {
		evMu.Lock()
		defer evMu.Unlock()
		for _, e := range events[kind] {
			if e.status == status && !e.at.Before(after) {
				return e.at
			}
		}
		return time.Time{}
	}
	var warmB, aRefused, coldB time.Time
	for time.Now().Before(deadline) {
		warmB = firstOK(kinds[2].name, http.StatusOK, rotatedAt)
		aRefused = firstOK(kinds[1].name, http.StatusUnauthorized, rotatedAt)
		if coldB.IsZero() {
			select {
			case coldB = <-coldFirstB:
			default:
			}
		}
		if !warmB.IsZero() && !aRefused.IsZero() && !coldB.IsZero() && time.Since(rotatedAt) >= phaseLen {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	// A few more rounds after the refetch: nothing more is fetched.
	time.Sleep(2 * time.Second)
	stopRounds()
	wg.Wait()
	end := time.Now()

	// Figures.
	warmFetches := j.requests("/warm/jwks", testStart.Add(-time.Minute), end)
	coldFetches := j.requests("/cold/jwks", testStart.Add(-time.Minute), end)
	outageFetches := j.requests("/warm/jwks", outageStart, outageEnd)
	phases := []string{"before", "key set refused (listener closed)", "key set answers 500", "key set stalls (no answer)", "back, rotated: key B only"}
	var b strings.Builder
	fmt.Fprintf(&b, "### JWKS outage and key rotation: outage phases of %s\n\n", phaseLen)
	b.WriteString("| token | " + strings.Join(phases, " | ") + " |\n|---|" + strings.Repeat("---|", len(phases)) + "\n")
	for _, k := range kinds {
		row := []string{k.name}
		for _, p := range phases {
			row = append(row, counts.cell(p, k.name))
		}
		b.WriteString("| " + strings.Join(row, " | ") + " |\n")
	}
	row := []string{"new instance, started at the outage (key A, then key B)"}
	evMu.Lock()
	for _, p := range phases {
		cc := &outcomeCounts{m: map[[2]string]map[int]int{{p, ""}: coldCounts[p]}}
		if coldCounts[p] == nil {
			cc.m = map[[2]string]map[int]int{}
		}
		row = append(row, cc.cell(p, ""))
	}
	evMu.Unlock()
	b.WriteString("| " + strings.Join(row, " | ") + " |\n")
	for _, inst := range []struct{ name, path string }{{"running instance", "/warm/jwks"}, {"new instance", "/cold/jwks"}} {
		row = []string{"key set requests (" + inst.name + ")"}
		for i := range phases {
			to := end
			if i+1 < len(phaseStarts) {
				to = phaseStarts[i+1]
			}
			from := phaseStarts[i]
			if i == 0 {
				from = testStart.Add(-time.Minute)
			}
			row = append(row, strconv.Itoa(len(j.requests(inst.path, from, to))))
		}
		b.WriteString("| " + strings.Join(row, " | ") + " |\n")
	}
	since := func(at time.Time) string {
		if at.IsZero() {
			return "never"
		}
		return ms(at.Sub(rotatedAt)) + " ms"
	}
	fmt.Fprintf(&b, "\n| after the rotation | time |\n|---|---:|\n")
	fmt.Fprintf(&b, "| running instance: first key-B token accepted | %s |\n", since(warmB))
	fmt.Fprintf(&b, "| running instance: first new key-A token refused | %s |\n", since(aRefused))
	fmt.Fprintf(&b, "| new instance: first key-B token accepted | %s |\n", since(coldB))
	fmt.Fprintf(&b, "\nKey set requests: running instance %d in %.0f s (the first at the first token; %d during the outage), new instance %d; "+
		"the refetch rule allows the running instance one per %s, so its first chance after the rotation came %s ms after it (%s after its previous fetch). "+
		"Bad tokens accepted: %d. 503s of the new instance with Retry-After: %d.\n",
		len(warmFetches), end.Sub(testStart).Seconds(), len(outageFetches), len(coldFetches), refetchInterval,
		ms(maxTime(rotatedAt, firstFetch.Add(refetchInterval)).Sub(rotatedAt)), refetchInterval, accepted.Load(), retryAfter503.Load())
	report(t, s, b.String())

	// Checks.
	if accepted.Load() > 0 {
		t.Errorf("%d bad tokens were accepted", accepted.Load())
	}
	for i, p := range phases {
		if !counts.only(p, kinds[0].name, http.StatusOK) {
			t.Errorf("%s, %s: %s (want every one accepted: verified tokens are cached until their exp)", p, kinds[0].name, counts.cell(p, kinds[0].name))
		}
		if i < 4 && !counts.only(p, kinds[1].name, http.StatusOK) {
			t.Errorf("%s, new key-A tokens: %s (want every one accepted: key A is cached)", p, counts.cell(p, kinds[1].name))
		}
	}
	if len(outageFetches) > 0 && outageEnd.Sub(firstFetch) < refetchInterval {
		t.Errorf("%d key set requests during the outage, within a refetch interval of the first fetch: want none", len(outageFetches))
	}
	limit := maxTime(rotatedAt, firstFetch.Add(refetchInterval)).Add(3 * time.Second)
	switch {
	case warmB.IsZero():
		t.Errorf("no key-B token was accepted by the running instance within %s of the rotation", deadline.Sub(rotatedAt).Round(time.Second))
	case warmB.After(limit):
		t.Errorf("key B accepted %s after the rotation: later than the refetch rule allows (%s)", warmB.Sub(rotatedAt), limit.Sub(rotatedAt))
	}
	if aRefused.IsZero() {
		t.Errorf("a new key-A token was still accepted after the rotated set was fetched")
	} else if last := lastStatusAfter(events, &evMu, kinds[1].name, http.StatusOK, aRefused); !last.IsZero() {
		t.Errorf("a new key-A token sent %s after the rotation was accepted after one was refused", last.Sub(rotatedAt))
	}
	if !warmB.IsZero() {
		if last := lastStatusAfter(events, &evMu, kinds[1].name, http.StatusOK, warmB.Add(200*time.Millisecond)); !last.IsZero() {
			t.Errorf("a new key-A token was accepted after key B was (sent %s after the rotation)", last.Sub(rotatedAt))
		}
	}
	if coldB.IsZero() {
		t.Errorf("the new instance never accepted key B")
	} else if d := coldB.Sub(rotatedAt); d > emptyCacheRetry+jwksTimeout+3*time.Second {
		t.Errorf("the new instance accepted key B %s after the rotation: want within about %s", d, emptyCacheRetry)
	}
	bound := 1 + int(end.Sub(firstFetch)/refetchInterval)
	if len(warmFetches) > bound {
		t.Errorf("%d key set requests from the running instance in %s: more than one per %s", len(warmFetches), end.Sub(testStart), refetchInterval)
	}
	coldBound := 1 + int(end.Sub(outageStart)/emptyCacheRetry)
	if len(coldFetches) > coldBound {
		t.Errorf("%d key set requests from the new instance in %s: more than one per %s", len(coldFetches), end.Sub(outageStart), emptyCacheRetry)
	}
	for _, p := range []*testproc.Process{warm, cold} {
		if err := p.Stop(t); err != nil {
			t.Errorf("the server did not stop cleanly: %v\n%s", err, p.Tail(20))
		}
	}
}

// only reports whether every request of kind in phase got status (and
// there were some).
func (o *outcomeCounts) only(phase, kind string, status int) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	m := o.m[[2]string{phase, kind}]
	return len(m) == 1 && m[status] > 0
}

// jwksEvent is one request of the JWKS test: when it was sent, and the
// status it got.
type jwksEvent struct {
	at     time.Time
	status int
}

// lastStatusAfter returns when the last request of kind sent after from
// got status, or zero.
func lastStatusAfter(events map[string][]jwksEvent, mu *sync.Mutex, kind string, status int, from time.Time) time.Time {
	mu.Lock()
	defer mu.Unlock()
	var last time.Time
	for _, e := range events[kind] {
		if e.status == status && e.at.After(from) {
			last = e.at
		}
	}
	return last
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
