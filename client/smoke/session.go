package smoke

import (
	"context"
	"slices"
	"strings"

	"mcplambda/client"
)

// Session checks a user's first minute: connect (initialize and
// notifications/initialized, with the token), list the tools, call greet.
func (t *Target) Session(ctx context.Context) Result {
	const name = "session"
	ctx, cancel := t.checkContext(ctx)
	defer cancel()
	c, err := t.connect(ctx, nil)
	if err != nil {
		return fail(name, "%s", t.failure(ctx, "initialize", err))
	}
	r := func() Result {
		tools, err := c.ListTools(ctx)
		if err != nil {
			return fail(name, "%s", t.failure(ctx, "tools/list", err))
		}
		names := make([]string, 0, len(tools))
		for _, tool := range tools {
			names = append(names, tool.Name)
		}
		for _, want := range []string{"greet", "multi-greet"} {
			if !slices.Contains(names, want) {
				return fail(name, "tools/list does not list %s (it lists %s): is %s this project's MCP server?", want, quoteShort(strings.Join(names, ", ")), t.URL)
			}
		}
		text, err := callText(ctx, c, "greet")
		if err != nil {
			return fail(name, "%s", t.failure(ctx, "tools/call greet", err))
		}
		if want := "Hello, " + smokeName + "!"; text != want {
			return fail(name, "greet answered %s, not %q", quoteShort(text), want)
		}
		opened := "initialize"
		if c.Era() == client.EraStateless {
			opened = "server/discover"
		}
		return pass(name, "%s (protocol %s), tools/list (%d tools), greet -> %q", opened, c.ProtocolVersion(), len(tools), text)
	}()
	return endSessions(ctx, r, c)
}

// endSessions ends the check's sessions. A check that passed but whose
// sessions cannot be ended fails: every user's sessions would linger too.
func endSessions(ctx context.Context, r Result, cs ...*client.Client) Result {
	if err := closeAll(ctx, cs...); err != nil && r.Status == Passed {
		return fail(r.Name, "%s, but ending the session (DELETE) failed: %v", r.Detail, err)
	}
	return r
}
