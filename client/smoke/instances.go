package smoke

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"mcplambda/client"
)

// Instances checks that a session survives requests that land on other
// instances. On Lambda an instance serves one request at a time, so two
// 2-second calls at once likely bring a second instance up, and the calls
// that follow are likely spread over both; a session kept in one
// instance's memory is unknown to the other, which answers 404. The client
// library hides that by starting a new session and retrying, so the calls
// succeed either way: what gives a lost session away is a changed session
// id.
func (t *Target) Instances(ctx context.Context) Result {
	const name = "instances"
	ctx, cancel := t.checkContext(ctx)
	defer cancel()
	a, err := t.connect(ctx, nil)
	if err != nil {
		return fail(name, "%s", t.failure(ctx, "initialize session A", err))
	}
	b, err := t.connect(ctx, nil)
	if err != nil {
		return endSessions(ctx, fail(name, "%s", t.failure(ctx, "initialize session B", err)), a)
	}
	r := func() Result {
		if a.Era() == client.EraStateless {
			return skip(name, "the server speaks the stateless era (%s): there is no session to lose across instances", a.ProtocolVersion())
		}
		sessions := []struct {
			label string
			c     *client.Client
			id    string
		}{{"A", a, a.SessionID()}, {"B", b, b.SessionID()}}
		if sessions[0].id == "" || sessions[1].id == "" {
			return fail(name, "the server issued no Mcp-Session-Id: without sessions there is nothing to keep across instances; this project's server always issues one")
		}
		if sessions[0].id == sessions[1].id {
			return fail(name, "two initializes got the same session id %s: session ids must be unique", shortID(sessions[0].id))
		}
		var onA atomic.Int32
		call := func(c *client.Client, tool string) func() error {
			label := "B"
			if c == a {
				label = "A"
			}
			want := map[string]string{"greet": "Hello, " + smokeName + "!", "multi-greet": "Good morning, " + smokeName + "!"}[tool]
			return func() error {
				text, err := callText(ctx, c, tool)
				if err != nil {
					return fmt.Errorf("%s on session %s: %w", tool, label, err)
				}
				if text != want {
					return fmt.Errorf("%s on session %s answered %s, not %q", tool, label, quoteShort(text), want)
				}
				if c == a {
					onA.Add(1)
				}
				return nil
			}
		}
		inTurn := func(calls ...func() error) func() error {
			return func() error {
				for _, f := range calls {
					if err := f(); err != nil {
						return err
					}
				}
				return nil
			}
		}
		phases := []struct {
			name  string
			calls []func() error
		}{
			{"multi-greet on A and B at once", []func() error{call(a, "multi-greet"), call(b, "multi-greet")}},
			// B's call holds an instance for 2 s while A's go elsewhere.
			{"greet on A beside multi-greet on B", []func() error{
				inTurn(call(a, "greet"), call(a, "greet"), call(a, "greet")),
				call(b, "multi-greet"),
			}},
			{"three greet calls on A at once", []func() error{call(a, "greet"), call(a, "greet"), call(a, "greet")}},
		}
		for _, p := range phases {
			if err := parallel(p.calls...); err != nil {
				if errors.Is(err, client.ErrSessionExpired) && ctx.Err() == nil {
					return fail(name, "%s: %v: a session was lost and a new one refused; check SESSION_TABLE (DynamoDB sessions) in the function's environment", p.name, err)
				}
				return fail(name, "%s", t.failure(ctx, p.name, err))
			}
			for _, s := range sessions {
				if now := s.c.SessionID(); now != s.id {
					return fail(name, "session %s (%s) was lost during %s: the server answered 404, so the client started session %s; sessions are not shared across instances: check SESSION_TABLE (DynamoDB sessions) in the function's environment and its DynamoDB permissions", s.label, shortID(s.id), p.name, shortID(now))
				}
			}
		}
		return pass(name, "sessions A and B in parallel, %d calls on A kept session %s", onA.Load(), shortID(sessions[0].id))
	}()
	return endSessions(ctx, r, a, b)
}

// parallel runs the calls at once and returns the first error in the
// order given, so that the report does not depend on which finished first.
func parallel(calls ...func() error) error {
	errs := make([]error, len(calls))
	var wg sync.WaitGroup
	for i, f := range calls {
		wg.Go(func() { errs[i] = f() })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
