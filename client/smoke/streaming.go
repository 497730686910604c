package smoke

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"mcplambda/mcp"
)

// What the streaming check accepts. multi-greet sends three log
// notifications 1 s apart and its result right after the last, ~2 s after
// the first. Arrival gaps of 0.5 to 2.5 s leave room for a slow network, a
// cold instance and a loaded client, and still refuse what buffering
// produces: notifications held back and released together (gaps near 0),
// or with the result.
const (
	streamNotes    = 3
	minGap         = 500 * time.Millisecond
	maxGap         = 2500 * time.Millisecond
	minLead        = 1500 * time.Millisecond // from the first notification to the result
	bufferedWithin = 500 * time.Millisecond  // notifications this close to the result came with it
)

// Streaming checks that the log notifications of a running tool reach the
// client while it runs, not held back until its result: API Gateway
// without response streaming, or a proxy that buffers, delivers them all at
// the end. It measures when each notification arrives; the verdict is
// judgeStreaming's.
func (t *Target) Streaming(ctx context.Context) Result {
	const name = "streaming"
	ctx, cancel := t.checkContext(ctx)
	defer cancel()
	var (
		mu    sync.Mutex
		start time.Time
		notes []time.Duration
	)
	onNote := func(method string, params json.RawMessage) {
		at := time.Now()
		if method != mcp.NotificationMessage {
			return
		}
		var p struct {
			Logger string `json:"logger"`
		}
		if json.Unmarshal(params, &p) != nil || p.Logger != "multi-greet" {
			return
		}
		mu.Lock()
		if !start.IsZero() {
			notes = append(notes, at.Sub(start))
		}
		mu.Unlock()
	}
	c, err := t.connect(ctx, onNote)
	if err != nil {
		return fail(name, "%s", t.failure(ctx, "initialize", err))
	}
	r := func() Result {
		// The first notification is at debug level, which the server
		// filters out unless asked for.
		if err := c.SetLogLevel(ctx, mcp.LevelDebug); err != nil {
			return fail(name, "%s", t.failure(ctx, "logging/setLevel debug", err))
		}
		mu.Lock()
		start = time.Now()
		began := start
		mu.Unlock()
		text, err := callText(ctx, c, "multi-greet")
		done := time.Since(began)
		if err != nil {
			return fail(name, "%s", t.failure(ctx, "tools/call multi-greet", err))
		}
		if want := "Good morning, " + smokeName + "!"; text != want {
			return fail(name, "multi-greet answered %s, not %q", quoteShort(text), want)
		}
		mu.Lock()
		got := append([]time.Duration(nil), notes...)
		mu.Unlock()
		return judgeStreaming(got, done)
	}()
	return endSessions(ctx, r, c)
}

// judgeStreaming decides from the arrival times of the notifications and
// of the result, each measured from the moment the call was sent.
func judgeStreaming(notes []time.Duration, result time.Duration) Result {
	const name = "streaming"
	timeline := formatTimeline(notes, result)
	if len(notes) < streamNotes {
		return fail(name, "%d of the %d log notifications of multi-greet arrived (%s): the server sends them while the tool runs, after logging/setLevel debug; something between client and server drops them", len(notes), streamNotes, timeline)
	}
	notes = notes[:streamNotes]
	if lead := result - notes[0]; lead < bufferedWithin {
		return fail(name, "buffered: all notifications arrived within %d ms of the result (%s): something between client and server holds the response until it ends; the API Gateway integration needs response streaming (responseTransferMode STREAM, as make deploy sets up)", lead.Milliseconds(), timeline)
	}
	for i := 1; i < len(notes); i++ {
		if gap := notes[i] - notes[i-1]; gap < minGap || gap > maxGap {
			return fail(name, "notification %d arrived %.2fs after the one before, not about 1 s (%s): the stream is held back or batched between client and server", i+1, gap.Seconds(), timeline)
		}
	}
	if lead := result - notes[0]; lead < minLead {
		return fail(name, "the first notification arrived only %.2fs before the result, not about 2 s (%s): the stream is held back between client and server", lead.Seconds(), timeline)
	}
	return pass(name, "%s", timeline)
}

// formatTimeline: "notifications at 0.01s, 1.01s, 2.01s; result at 2.02s".
func formatTimeline(notes []time.Duration, result time.Duration) string {
	at := make([]string, len(notes))
	for i, d := range notes {
		at[i] = fmt.Sprintf("%.2fs", d.Seconds())
	}
	s := "no notifications"
	if len(at) > 0 {
		s = "notifications at " + strings.Join(at, ", ")
	}
	return fmt.Sprintf("%s; result at %.2fs", s, result.Seconds())
}
