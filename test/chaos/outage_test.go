package chaos

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"mcplambda/mcp"
	"mcplambda/server"
	"mcplambda/server/dynamostore"
	"mcplambda/test/moto"
)

// storeProxy stands between the server and moto_server. Killing moto
// itself would lose every session (moto keeps its data in memory, where
// real DynamoDB does not), so the outage is made here instead: cut closes
// the listener and every connection (the server's SDK sees connections
// refused and reset, as when DynamoDB is unreachable), restore listens
// again on the same port, and throttling answers every request as DynamoDB
// does when it sheds load: HTTP 400 with a ThrottlingException or
// ProvisionedThroughputExceededException body, which the SDK retries with
// backoff before giving up. Stalled, it accepts requests and does not
// answer them (a black hole), until the stall ends.
type storeProxy struct {
	rp       *httputil.ReverseProxy
	addr     string
	throttle atomic.Bool
	stall    atomic.Bool

	forwarded, throttled atomic.Int64

	mu  sync.Mutex
	srv *http.Server // nil while cut
}

func startProxy(t *testing.T, target string) *storeProxy {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	// A request the server's SDK gave up on is no news.
	rp.ErrorLog = log.New(io.Discard, "", 0)
	p := &storeProxy{rp: rp, addr: ln.Addr().String()}
	p.serve(ln)
	t.Cleanup(p.cut)
	return p
}

func (p *storeProxy) url() string { return "http://" + p.addr }

func (p *storeProxy) serve(ln net.Listener) {
	srv := &http.Server{Handler: p, ReadHeaderTimeout: 10 * time.Second}
	p.mu.Lock()
	p.srv = srv
	p.mu.Unlock()
	go func() { _ = srv.Serve(ln) }()
}

func (p *storeProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.srv != nil {
		_ = p.srv.Close()
		p.srv = nil
	}
}

func (p *storeProxy) restore(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		ln, err := net.Listen("tcp", p.addr)
		if err == nil {
			p.serve(ln)
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the store proxy cannot listen on %s again: %v", p.addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (p *storeProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	for p.stall.Load() {
		select {
		case <-r.Context().Done():
			return
		case <-time.After(20 * time.Millisecond):
		}
	}
	if !p.throttle.Load() {
		p.forwarded.Add(1)
		p.rp.ServeHTTP(w, r)
		return
	}
	_, _ = io.Copy(io.Discard, r.Body)
	code, msg := "ProvisionedThroughputExceededException", "The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API."
	if p.throttled.Add(1)%2 == 0 {
		code, msg = "ThrottlingException", "Rate of requests exceeds the allowed throughput."
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.Header().Set("X-Amzn-ErrorType", code)
	w.WriteHeader(http.StatusBadRequest)
	_, _ = fmt.Fprintf(w, `{"__type":"com.amazonaws.dynamodb.v20120810#%s","message":%q}`, code, msg)
}

// A session of the outage test and its owner.
type outageSession struct {
	sid string
	c   *client
}

// TestStoreOutage runs sessions kept in DynamoDB (moto) while the store is
// cut off and restored, then throttles, then stalls (answers nothing).
// Clients must only
// ever get answers or 503 with Retry-After; once the store is back every
// session must serve calls again, unchanged, and a stream cut before the
// outage must resume. It reports how long recovery took.
func TestStoreOutage(t *testing.T) {
	s := loadSettings(t)
	m := moto.Start(t)
	ctx := t.Context()
	ddb := dynamodb.NewFromConfig(m.AWSConfig(ctx))
	table := "chaos-sessions-" + strings.ToLower(rand.Text()[:8])
	if err := dynamostore.CreateTable(ctx, ddb, table); err != nil {
		t.Fatalf("creating the session table on moto: %v", err)
	}
	proxy := startProxy(t, m.URL)
	bin := serverBinary(t, s)
	ps := newPrincipals(4)
	_, url := startServer(t, s, bin, ps,
		"SESSION_TABLE="+table, "AWS_ENDPOINT_URL="+proxy.url(), "AWS_REGION="+moto.Region,
		"AWS_ACCESS_KEY_ID="+moto.AccessKeyID, "AWS_SECRET_ACCESS_KEY="+moto.SecretAccessKey,
		"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_EC2_METADATA_DISABLED=true")

	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}, Timeout: 60 * time.Second}
	t.Cleanup(hc.CloseIdleConnections)
	phases := []string{"before", "store down", "after restore", "store throttling", "after throttling", "store stalled", "after stall"}
	// Requests are counted under the phase in which their answer came.
	var phase atomic.Int32
	rec := newRecorder(phases...)
	rec.relabel = func(string) string { return phases[phase.Load()] }
	setup := newRecorder()

	// Sessions that exist before the outage, spread over the principals.
	nPre := max(8, s.sessions/10)
	pre := make([]outageSession, nPre)
	for i := range pre {
		c := &client{hc: hc, url: url, p: ps[i%len(ps)], rec: setup}
		sid, err := c.initialize(ctx, "outage-"+strconv.Itoa(i))
		if err != nil {
			t.Fatalf("before the outage: %v", err)
		}
		if err := c.greet(ctx, sid, 1, "pre"); err != nil {
			t.Fatalf("before the outage: %v", err)
		}
		pre[i] = outageSession{sid, c}
	}
	// A stream cut before the outage, to be resumed after it: its events
	// are in the live session's replay buffer, which the outage must not
	// throw away.
	cutLast, err := pre[0].c.cutStream(ctx, pre[0].sid, 2, "across")
	if err != nil {
		t.Fatalf("before the outage: %v", err)
	}

	// Clients: one per session calling greet in a loop, and creators that
	// open new sessions throughout.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	lastOK := make([]atomic.Int64, nPre) // unix nanoseconds of each client's last success
	for i, ss := range pre {
		wg.Go(func() {
			c := &client{hc: hc, url: url, p: ss.c.p, rec: rec}
			for n := 10; ; n++ {
				select {
				case <-stop:
					return
				case <-time.After(50 * time.Millisecond):
				}
				if err := c.greet(ctx, ss.sid, n, "x"+strconv.Itoa(i)); err == nil {
					lastOK[i].Store(time.Now().UnixNano())
				}
			}
		})
	}
	var createdMu sync.Mutex
	var created []outageSession
	for i := range 2 {
		wg.Go(func() {
			c := &client{hc: hc, url: url, p: ps[i%len(ps)], rec: rec}
			for {
				select {
				case <-stop:
					return
				case <-time.After(100 * time.Millisecond):
				}
				if sid, err := c.initialize(ctx, "outage-creator"); err == nil {
					createdMu.Lock()
					created = append(created, outageSession{sid, c})
					createdMu.Unlock()
				}
			}
		})
	}

	// probe calls greet on a session once every 20 ms, without honouring
	// Retry-After, until it succeeds; it returns how long that took.
	probe := func(from time.Time) time.Duration {
		c := pre[nPre-1].c
		for {
			req, _ := c.request(ctx, http.MethodPost, pre[nPre-1].sid, callBody(99, "greet", "probe", false), nil)
			if resp, err := c.hc.Do(req); err == nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					return time.Since(from)
				}
			}
			if time.Since(from) > 60*time.Second {
				t.Fatalf("the server did not recover within 60 s of the store's return")
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	// allBack waits until every client has succeeded after from, and
	// returns when the last one did.
	allBack := func(from time.Time) (time.Duration, int) {
		deadline := time.Now().Add(15 * time.Second)
		for {
			var latest time.Time
			missing := 0
			for i := range lastOK {
				ok := time.Unix(0, lastOK[i].Load())
				if ok.Before(from) {
					missing++
				} else if ok.After(latest) {
					latest = ok
				}
			}
			if missing == 0 || time.Now().After(deadline) {
				return latest.Sub(from), missing
			}
			time.Sleep(50 * time.Millisecond)
		}
	}

	lengths := make([]time.Duration, len(phases))
	mark := time.Now()
	next := func(p int) {
		lengths[phase.Load()] = time.Since(mark)
		mark = time.Now()
		phase.Store(int32(p))
	}
	time.Sleep(max(time.Second, s.outage/2))
	next(1)
	proxy.cut()
	time.Sleep(s.outage)
	proxy.restore(t)
	restored := time.Now()
	next(2)
	firstDown := probe(restored)
	allDown, missingDown := allBack(restored)
	next(3)
	proxy.throttle.Store(true)
	time.Sleep(s.outage)
	proxy.throttle.Store(false)
	unthrottled := time.Now()
	next(4)
	firstThrottle := probe(unthrottled)
	allThrottle, missingThrottle := allBack(unthrottled)
	// Long enough for requests that meet the stall to time out within it
	// (the server gives the store 5 s).
	next(5)
	proxy.stall.Store(true)
	time.Sleep(max(s.outage, 7*time.Second))
	proxy.stall.Store(false)
	unstalled := time.Now()
	next(6)
	firstStall := probe(unstalled)
	allStall, missingStall := allBack(unstalled)
	close(stop)
	wg.Wait()
	lengths[6] = time.Since(mark)

	// Every session must be there, unchanged, and still its owner's alone.
	vrec := newRecorder()
	all := append(append([]outageSession(nil), pre...), created...)
	lost, corrupt, foreign := 0, 0, 0
	var problems []string
	for i, ss := range all {
		c := &client{hc: hc, url: url, p: ss.c.p, rec: vrec}
		if err := c.greet(ctx, ss.sid, 1000, "after"); err != nil {
			lost++
			problems = append(problems, fmt.Sprintf("session %d: %v", i, err))
			continue
		}
		if err := checkItem(ctx, ddb, table, ss.sid, ss.c.p.owner); err != nil {
			corrupt++
			problems = append(problems, fmt.Sprintf("session %d: %v", i, err))
		}
		other := &client{hc: hc, url: url, p: ps[(indexOf(ps, ss.c.p)+1)%len(ps)], rec: newRecorder()}
		req, _ := other.request(ctx, http.MethodPost, ss.sid, callBody(1001, "greet", "intruder", false), nil)
		if resp, err := hc.Do(req); err != nil || resp.StatusCode != http.StatusNotFound {
			foreign++
			if err == nil {
				resp.Body.Close()
				err = fmt.Errorf("HTTP %d", resp.StatusCode)
			}
			problems = append(problems, fmt.Sprintf("session %d served to another principal: %v", i, err))
		} else {
			resp.Body.Close()
		}
	}
	resumed := "yes"
	if err := pre[0].c.resume(ctx, pre[0].sid, cutLast, "across"); err != nil {
		resumed = "no: " + err.Error()
		problems = append(problems, "the stream cut before the outage: "+err.Error())
	}
	deleted := 0
	for i, ss := range all {
		if err := ss.c.delete(ctx, ss.sid); err != nil {
			problems = append(problems, fmt.Sprintf("session %d: DELETE: %v", i, err))
			continue
		}
		if err := checkItem(ctx, ddb, table, ss.sid, ""); !errors.Is(err, errNoItem) {
			problems = append(problems, fmt.Sprintf("session %d: still in the table after DELETE (%v)", i, err))
			continue
		}
		deleted++
	}

	var b strings.Builder
	fmt.Fprintf(&b, "### Session store outage: DynamoDB (moto) behind a proxy, %d clients, faults of %s\n\n", nPre+2, s.outage)
	b.WriteString("| phase | length s | ok | 503 + Retry-After (retried) | 429 (retried) | errors |\n|---|---:|---:|---:|---:|---:|\n")
	rec.mu.Lock()
	for i, name := range phases {
		k := rec.kinds[name]
		fmt.Fprintf(&b, "| %s | %.1f | %d | %d | %d | %d |\n", name, lengths[i].Seconds(), k.ok, k.unavailable, k.tooMany, k.errors)
	}
	rec.mu.Unlock()
	fmt.Fprintf(&b, "\n| recovery | first success | every client (%d) |\n|---|---:|---:|\n", nPre)
	fmt.Fprintf(&b, "| store restored after the cut | %s ms | %s ms%s |\n", ms(firstDown), ms(allDown), missingNote(missingDown))
	fmt.Fprintf(&b, "| throttling ended | %s ms | %s ms%s |\n", ms(firstThrottle), ms(allThrottle), missingNote(missingThrottle))
	fmt.Fprintf(&b, "| stall ended | %s ms | %s ms%s |\n", ms(firstStall), ms(allStall), missingNote(missingStall))
	fmt.Fprintf(&b, "\nSessions: %d before the outage, %d opened during the run; after it %d lost, %d corrupted in the table, %d served to another principal, %d of %d deleted (item gone); stream cut before the outage resumed: %s. The proxy forwarded %d DynamoDB requests and throttled %d.\n",
		nPre, len(created), lost, corrupt, foreign, deleted, len(all), resumed, proxy.forwarded.Load(), proxy.throttled.Load())
	report(t, s, b.String())

	if _, _, _, errs := rec.totals(); errs > 0 {
		t.Errorf("%d requests got something other than an answer or a retryable 503; first errors:\n%s", errs, rec.errorSamples())
	}
	for _, name := range []string{"store down", "store throttling", "store stalled"} {
		if rec.kinds[name].unavailable == 0 {
			t.Errorf("no client saw a 503 in phase %q: the fault was not exercised", name)
		}
	}
	if missingDown+missingThrottle+missingStall > 0 {
		t.Errorf("clients without a success 15 s after the store came back: %d after the cut, %d after throttling, %d after the stall", missingDown, missingThrottle, missingStall)
	}
	if len(problems) > 0 {
		t.Errorf("after the outage:\n  %s", strings.Join(problems, "\n  "))
	}
}

func missingNote(n int) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf(" (%d never)", n)
}

func indexOf(ps []principal, p principal) int {
	for i := range ps {
		if ps[i].key == p.key {
			return i
		}
	}
	return -1
}

var errNoItem = errors.New("no item")

// checkItem reads a session's item straight from moto and checks that it
// is whole: its state decodes, names itself, belongs to owner and keeps
// the protocol version negotiated. With owner "" it only reports whether
// the item exists.
func checkItem(ctx context.Context, ddb *dynamodb.Client, table, sid, owner string) error {
	out, err := ddb.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(table),
		Key:            map[string]types.AttributeValue{dynamostore.AttrID: &types.AttributeValueMemberS{Value: sid}},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return fmt.Errorf("GetItem: %w", err)
	}
	if out.Item == nil {
		return errNoItem
	}
	if owner == "" {
		return nil
	}
	sv, ok := out.Item[dynamostore.AttrState].(*types.AttributeValueMemberS)
	if !ok {
		return fmt.Errorf("item without a string %q attribute", dynamostore.AttrState)
	}
	var st server.SessionState
	if err := json.Unmarshal([]byte(sv.Value), &st); err != nil {
		return fmt.Errorf("state does not decode: %v", err)
	}
	switch {
	case st.ID != sid:
		return fmt.Errorf("state names session %q", st.ID)
	case st.Principal != owner:
		return fmt.Errorf("state belongs to %q, want %q", st.Principal, owner)
	case st.ProtocolVersion != mcp.Version20251125:
		return fmt.Errorf("protocol version %q", st.ProtocolVersion)
	case !strings.HasPrefix(st.ClientInfo.Name, "outage-"):
		return fmt.Errorf("client %q", st.ClientInfo.Name)
	}
	return nil
}
