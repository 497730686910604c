// Package greetings holds the original server's demonstration features:
// the greet and multi-greet tools, the greeting-template prompt and the
// greeting-resource resource.
package greetings

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"mcplambda/mcp"
	"mcplambda/server"
)

// Options tune the features; the zero value is the original behaviour.
type Options struct {
	// Interval is the pause between multi-greet's notifications (1 s).
	Interval time.Duration
}

const nameSchema = `{"type":"object","properties":{"name":{"type":"string","description":"Name to greet","minLength":1,"maxLength":200}},"required":["name"],"additionalProperties":false}`

// ResourceURI is the URI of greeting-resource.
const ResourceURI = "https://example.com/greetings/default"

// Register adds the greeting features to srv.
func Register(srv *server.Server, opts Options) error {
	if opts.Interval <= 0 {
		opts.Interval = time.Second
	}
	readOnly := true
	if err := srv.AddTool(mcp.Tool{
		Name:        "greet",
		Title:       "Greet",
		Description: "A simple greeting tool: returns \"Hello, NAME!\".",
		InputSchema: json.RawMessage(nameSchema),
		Annotations: &mcp.ToolAnnotations{Title: "Greet", ReadOnlyHint: &readOnly},
	}, greet); err != nil {
		return err
	}
	if err := srv.AddTool(mcp.Tool{
		Name:        "multi-greet",
		Title:       "Multi-greet",
		Description: "Sends several greetings with a pause between them, as log notifications streamed while it runs, then returns \"Good morning, NAME!\".",
		InputSchema: json.RawMessage(nameSchema),
		Annotations: &mcp.ToolAnnotations{Title: "Multi-greet", ReadOnlyHint: &readOnly},
	}, multiGreet(opts.Interval)); err != nil {
		return err
	}
	if err := srv.AddPrompt(mcp.Prompt{
		Name:        "greeting-template",
		Title:       "Greeting template",
		Description: "A simple prompt template for greeting someone.",
		Arguments:   []mcp.PromptArgument{{Name: "name", Description: "Name to include in the greeting", Required: true}},
	}, greetingPrompt); err != nil {
		return err
	}
	srv.AddCompletion(mcp.RefPrompt, "greeting-template", "name", completeName)
	return srv.AddResource(mcp.Resource{
		URI:         ResourceURI,
		Name:        "greeting-resource",
		Title:       "Default greeting",
		Description: "A simple text resource with a default greeting.",
		MIMEType:    "text/plain",
	}, func(_ context.Context, call *server.Call, uri string, _ map[string]string) (*mcp.ReadResourceResult, error) {
		// The same text for everyone, until a new build: any cache may keep
		// it for an hour (a caching hint of the stateless era).
		call.CacheResult(time.Hour, true)
		return &mcp.ReadResourceResult{Contents: []mcp.ResourceContents{{URI: uri, MIMEType: "text/plain", Text: "Hello, world!"}}}, nil
	})
}

type nameArgs struct {
	Name string `json:"name"`
}

func greet(_ context.Context, _ *server.Call, raw json.RawMessage) (*mcp.CallToolResult, error) {
	var a nameArgs
	if err := json.Unmarshal(raw, &a); err != nil {
		return nil, err
	}
	return mcp.ToolText("Hello, " + a.Name + "!"), nil
}

func multiGreet(interval time.Duration) server.ToolHandler {
	return func(ctx context.Context, call *server.Call, raw json.RawMessage) (*mcp.CallToolResult, error) {
		var a nameArgs
		if err := json.Unmarshal(raw, &a); err != nil {
			return nil, err
		}
		steps := []struct {
			level mcp.LoggingLevel
			text  string
		}{
			{mcp.LevelDebug, "Starting multi-greet for " + a.Name},
			{mcp.LevelInfo, "Sending first greeting to " + a.Name},
			{mcp.LevelInfo, "Sending second greeting to " + a.Name},
		}
		for i, s := range steps {
			if i > 0 {
				t := time.NewTimer(interval)
				select {
				case <-ctx.Done():
					t.Stop()
					return nil, ctx.Err()
				case <-t.C:
				}
			}
			if err := call.Log(s.level, "multi-greet", s.text); err != nil {
				return nil, fmt.Errorf("sending notification: %w", err)
			}
			_ = call.Progress(float64(i+1), float64(len(steps)), s.text)
		}
		return mcp.ToolText("Good morning, " + a.Name + "!"), nil
	}
}

func greetingPrompt(_ context.Context, _ *server.Call, args map[string]string) (*mcp.GetPromptResult, error) {
	return &mcp.GetPromptResult{
		Description: "A greeting for " + args["name"],
		Messages: []mcp.PromptMessage{{
			Role:    mcp.RoleUser,
			Content: mcp.TextContent("Please greet " + args["name"] + " in a friendly manner."),
		}},
	}, nil
}

var suggestedNames = []string{"Alice", "Bob", "Carol", "Dave", "Eve", "Mallory", "Trent", "Walter"}

func completeName(_ context.Context, _ *server.Call, value string, _ map[string]string) (mcp.Completion, error) {
	var out []string
	for _, n := range suggestedNames {
		if strings.HasPrefix(strings.ToLower(n), strings.ToLower(value)) {
			out = append(out, n)
		}
	}
	return mcp.Completion{Values: out}, nil
}
