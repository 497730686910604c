package chaos

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// rssBound is how much the server's RSS may exceed its RSS at start once
// every session is deleted and the settle period (light traffic, so that
// the runtime collects) is over: the larger of rssFactor times the start
// and rssSlackMiB more than it. Without a leak the end figure is the start
// plus the heap the runtime keeps around its goal and has not yet returned
// to the OS (about 15 MiB more after a full run); a leak of even 10 KiB per
// session (a goroutine's stack, a replay buffer) over the 15,000 sessions
// of a full run is about 150 MiB and fails.
const (
	rssFactor   = 4
	rssSlackMiB = 96
	// fdSlack is how many more descriptors than at start the server may
	// hold once the client has closed its connections.
	fdSlack = 16
)

// TestLoad runs s.sessions concurrent sessions spread over s.principals API
// keys against the built server for s.duration. Each session, again and
// again: initialize, two greet calls, a multi-greet read to its end, a
// multi-greet cut after its first notification and resumed with GET and
// Last-Event-ID, one more greet, DELETE. Every answer must be right;
// 429 and 503 with Retry-After are retried and counted apart.
func TestLoad(t *testing.T) {
	s := loadSettings(t)
	bin := serverBinary(t, s)
	ps := newPrincipals(s.principals)
	proc, url := startServer(t, s, bin, ps)
	pid := proc.Pid()

	time.Sleep(300 * time.Millisecond)
	start, err := readProc(pid)
	if err != nil {
		t.Fatalf("reading /proc of the server: %v", err)
	}

	tr := &http.Transport{
		MaxIdleConns:        2 * s.sessions,
		MaxIdleConnsPerHost: 2 * s.sessions,
		IdleConnTimeout:     30 * time.Second,
		DisableCompression:  true,
	}
	hc := &http.Client{Transport: tr, Timeout: 60 * time.Second}
	rec := newRecorder("initialize", "initialized", "greet", "stream", "resume", "delete")

	// Peaks, sampled while the load runs.
	var peak procStats
	sampleDone := make(chan struct{})
	stopSampling := make(chan struct{})
	go func() {
		defer close(sampleDone)
		tick := time.NewTicker(250 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stopSampling:
				return
			case <-tick.C:
			}
			if ps, err := readProc(pid); err == nil {
				peak.rssKiB = max(peak.rssKiB, ps.rssKiB)
				peak.threads = max(peak.threads, ps.threads)
				peak.fds = max(peak.fds, ps.fds)
			}
		}
	}()

	// Sessions stop starting at end; one under way finishes (and is
	// deleted) within the grace period.
	began := time.Now()
	end := began.Add(s.duration)
	ctx, cancel := context.WithDeadline(t.Context(), end.Add(90*time.Second))
	defer cancel()
	ramp := min(2*time.Second, s.duration/4)
	var iterations, broken atomic.Int64
	var wg sync.WaitGroup
	for i := range s.sessions {
		c := &client{hc: hc, url: url, p: ps[i%len(ps)], rec: rec}
		wg.Go(func() {
			time.Sleep(time.Duration(int64(ramp) * int64(i) / int64(s.sessions)))
			for n := 0; time.Now().Before(end) && ctx.Err() == nil; n++ {
				if err := c.iteration(ctx, i, n); err != nil {
					broken.Add(1)
					if isCanceled(err) {
						return
					}
					time.Sleep(100 * time.Millisecond)
					continue
				}
				iterations.Add(1)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(began)
	close(stopSampling)
	<-sampleDone
	tr.CloseIdleConnections()
	settleRec := newRecorder()
	trickle := settle(ctx, &client{hc: hc, url: url, p: ps[0], rec: settleRec}, s.settle)
	tr.CloseIdleConnections()
	final, err := readProc(pid)
	if err != nil {
		t.Fatalf("reading /proc of the server: %v", err)
	}
	if err := proc.Stop(t); err != nil {
		t.Errorf("the server did not stop cleanly: %v\n%s", err, proc.Tail(30))
	}

	ok, tooMany, unavailable, errs := rec.totals()
	var b strings.Builder
	fmt.Fprintf(&b, "### Load: %d sessions, %d principals, %s\n\n", s.sessions, s.principals, s.duration)
	b.WriteString(rec.table("request"))
	fmt.Fprintf(&b, "\n%d session cycles completed (%d broken off) in %.1f s; %d requests answered (%.0f/s), %d retried after 429, %d after 503, %d errors.\n\n",
		iterations.Load(), broken.Load(), elapsed.Seconds(), ok, float64(ok)/elapsed.Seconds(), tooMany, unavailable, errs)
	b.WriteString("| server | start | peak | end (after " + s.settle.String() + " settle) |\n|---|---:|---:|---:|\n")
	fmt.Fprintf(&b, "| RSS | %s | %s (VmHWM %s) | %s |\n", mib(start.rssKiB), mib(peak.rssKiB), mib(final.hwmKiB), mib(final.rssKiB))
	fmt.Fprintf(&b, "| threads | %d | %d | %d |\n", start.threads, peak.threads, final.threads)
	fmt.Fprintf(&b, "| open descriptors | %d | %d | %d |\n", start.fds, peak.fds, final.fds)
	fmt.Fprintf(&b, "\nDuring the settle period one session called greet %d times, one after the other.\n", trickle)
	report(t, s, b.String())

	if trickle < 0 {
		t.Errorf("the settle period's greet calls failed:\n%s", settleRec.errorSamples())
	}
	if errs > 0 {
		t.Errorf("%d requests failed; first errors:\n%s", errs, rec.errorSamples())
	}
	for _, kind := range []string{"initialize", "greet", "stream", "resume", "delete"} {
		if rec.kinds[kind].ok == 0 {
			t.Errorf("no %s succeeded", kind)
		}
	}
	limit := max(rssFactor*start.rssKiB, start.rssKiB+rssSlackMiB*1024)
	if final.rssKiB > limit {
		t.Errorf("the server's RSS after the load and %s settle is %s, over the bound %s (start %s): something is kept after its session ended",
			s.settle, mib(final.rssKiB), mib(limit), mib(start.rssKiB))
	}
	if final.fds > start.fds+fdSlack {
		t.Errorf("the server holds %d descriptors after the load, %d at start: connections or files leak", final.fds, start.fds)
	}
}

// settle keeps one session calling greet for d, and returns how many calls
// it made (-1 if one failed). With no traffic at all the Go runtime collects
// garbage only every two minutes, so an idle server would still hold the
// load's garbage and the RSS would say nothing about leaks; light traffic
// lets it collect and return the freed memory, as a real server's would.
func settle(ctx context.Context, c *client, d time.Duration) int {
	end := time.Now().Add(d)
	sid, err := c.initialize(ctx, "chaos-settle")
	if err != nil {
		return -1
	}
	n := 0
	for ; time.Now().Before(end); n++ {
		if err := c.greet(ctx, sid, n+1, "settle"); err != nil {
			return -1
		}
	}
	if err := c.delete(ctx, sid); err != nil {
		return -1
	}
	return n
}

// iteration is one session's life. The session is deleted even when a step
// fails, so that the run ends with none left.
func (c *client) iteration(ctx context.Context, worker, n int) (err error) {
	sid, err := c.initialize(ctx, "chaos-"+strconv.Itoa(worker))
	if err != nil {
		return err
	}
	deleted := false
	defer func() {
		if !deleted {
			_ = c.delete(ctx, sid)
		}
	}()
	name := "w" + strconv.Itoa(worker) + "-" + strconv.Itoa(n)
	for id := 1; id <= 2; id++ {
		if err := c.greet(ctx, sid, id, name); err != nil {
			return err
		}
	}
	if err := c.stream(ctx, sid, 3, name); err != nil {
		return err
	}
	last, err := c.cutStream(ctx, sid, 4, name)
	if err != nil {
		return err
	}
	if err := c.resume(ctx, sid, last, name); err != nil {
		return err
	}
	if err := c.greet(ctx, sid, 5, name); err != nil {
		return err
	}
	deleted = true
	return c.delete(ctx, sid)
}
