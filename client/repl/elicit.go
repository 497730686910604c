package repl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"mcplambda/mcp"
)

// maxAttempts bounds how often a field is asked again after a bad answer,
// so a script with a wrong answer cancels instead of looping.
const maxAttempts = 3

// elicit asks the user what the server wants to know, in the REPL itself:
// the message, the fields, then accept, decline or cancel, and an answer
// per field checked against its schema. End of input or Ctrl-C cancels.
func (r *REPL) elicit(ctx context.Context, p *mcp.ElicitParams) (*mcp.ElicitResult, error) {
	r.mu.Lock()
	cmd := r.cmdCtx
	if cmd != nil {
		r.elicits.Add(1)
		defer r.elicits.Done()
	}
	r.mu.Unlock()
	if cmd == nil {
		// Between commands the input belongs to the prompt.
		r.con.Errorf("The server asked for input outside a command (%q): declined.", sanitize(p.Message))
		return &mcp.ElicitResult{Action: "decline"}, nil
	}
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	defer context.AfterFunc(cmd, stop)()
	r.elicitMu.Lock()
	defer r.elicitMu.Unlock()
	r.con.EndProgress()
	cancel := &mcp.ElicitResult{Action: "cancel"}
	if p.Mode == "url" {
		r.con.Printf("The server asks you to open a URL:\n  %s\n  %s", sanitize(p.Message), sanitize(p.URL))
		return r.askAction(ctx, "Open it yourself, then accept; or decline")
	}
	fields, err := schemaFields(p.RequestedSchema)
	if err != nil {
		r.con.Errorf("The server's elicitation request has an unreadable schema (%v): declined.", err)
		return &mcp.ElicitResult{Action: "decline"}, nil
	}
	r.con.Printf("The server asks: %s", sanitize(p.Message))
	for _, f := range fields {
		r.con.Printf("  %s", f.describe())
	}
	res, err := r.askAction(ctx, "Answer")
	if err != nil || res.Action != "accept" {
		return res, err
	}
	res.Content = map[string]any{}
	for _, f := range fields {
		v, ok, err := r.askField(ctx, f)
		if err != nil {
			if errors.Is(err, errGaveUp) {
				r.con.Errorf("No valid answer for %s: the request is cancelled.", sanitize(f.Name))
				return cancel, nil
			}
			return r.cancelled(err)
		}
		if ok {
			res.Content[f.Name] = v
		}
	}
	return res, nil
}

var errGaveUp = errors.New("no valid answer")

// cancelled turns the end of input or of the call into a cancel answer; the
// call's own cancellation is reported by the call.
func (r *REPL) cancelled(err error) (*mcp.ElicitResult, error) {
	if errors.Is(err, io.EOF) {
		r.con.Errorf("End of input: the request is cancelled.")
	}
	return &mcp.ElicitResult{Action: "cancel"}, nil
}

func (r *REPL) ask(ctx context.Context, question string) (string, error) {
	if r.ed != nil {
		// Answers stay out of the history: they may be secrets, and are
		// no use to recall.
		line, err := r.editLine(ctx, question+" ", false)
		return strings.TrimSpace(line), err
	}
	if r.opts.Interactive {
		r.con.Prompt(question + " ")
	} else {
		r.con.Printf("%s", question)
	}
	line, err := r.readLine(ctx)
	return strings.TrimSpace(line), err
}

func (r *REPL) askAction(ctx context.Context, what string) (*mcp.ElicitResult, error) {
	for range maxAttempts {
		ans, err := r.ask(ctx, what+"? [a]ccept, [d]ecline, [c]ancel:")
		if err != nil {
			return r.cancelled(err)
		}
		switch strings.ToLower(ans) {
		case "a", "accept", "y", "yes":
			return &mcp.ElicitResult{Action: "accept"}, nil
		case "d", "decline", "n", "no":
			return &mcp.ElicitResult{Action: "decline"}, nil
		case "c", "cancel":
			return &mcp.ElicitResult{Action: "cancel"}, nil
		}
		r.con.Errorf("Please answer a, d or c.")
	}
	return &mcp.ElicitResult{Action: "cancel"}, nil
}

// askField reads one field's answer; ok is false when an optional field is
// left empty.
func (r *REPL) askField(ctx context.Context, f field) (v any, ok bool, err error) {
	label := sanitize(f.Name)
	if f.Default != nil {
		label += " [" + valueText(f.Default) + "]"
	}
	for range maxAttempts {
		ans, err := r.ask(ctx, label+":")
		if err != nil {
			return nil, false, err
		}
		if ans == "" {
			if f.Default != nil {
				return f.Default, true, nil
			}
			if !f.Required {
				return nil, false, nil
			}
			r.con.Errorf("%s is required.", sanitize(f.Name))
			continue
		}
		v, err := parseAnswer(f.fieldSchema, ans)
		if err != nil {
			r.con.Errorf("%s: %v", sanitize(f.Name), err)
			continue
		}
		return v, true, nil
	}
	return nil, false, errGaveUp
}

// parseAnswer converts typed text to the field's JSON type and checks the
// constraints MCP's flat form schemas allow.
func parseAnswer(s fieldSchema, ans string) (any, error) {
	if cs := s.choices(); len(cs) > 0 {
		return pickChoice(cs, ans)
	}
	switch s.typeName() {
	case "boolean":
		switch strings.ToLower(ans) {
		case "y", "yes", "true", "1", "on":
			return true, nil
		case "n", "no", "false", "0", "off":
			return false, nil
		}
		return nil, errors.New("answer yes or no")
	case "integer":
		n, err := strconv.ParseInt(ans, 10, 64)
		if err != nil {
			return nil, errors.New("not a whole number")
		}
		return n, checkRange(s, float64(n))
	case "number":
		f, err := strconv.ParseFloat(ans, 64)
		if err != nil {
			return nil, errors.New("not a number")
		}
		return f, checkRange(s, f)
	case "array":
		if s.Items == nil || len(s.Items.choices()) == 0 {
			return nil, errors.New("this client answers only lists of choices")
		}
		var out []any
		for _, part := range strings.Split(ans, ",") {
			if part = strings.TrimSpace(part); part == "" {
				continue
			}
			v, err := pickChoice(s.Items.choices(), part)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		if s.MinItems != nil && len(out) < *s.MinItems {
			return nil, fmt.Errorf("choose at least %d", *s.MinItems)
		}
		if s.MaxItems != nil && len(out) > *s.MaxItems {
			return nil, fmt.Errorf("choose at most %d", *s.MaxItems)
		}
		return out, nil
	}
	n := utf8.RuneCountInString(ans)
	if s.MinLength != nil && n < *s.MinLength {
		return nil, fmt.Errorf("at least %d characters", *s.MinLength)
	}
	if s.MaxLength != nil && n > *s.MaxLength {
		return nil, fmt.Errorf("at most %d characters", *s.MaxLength)
	}
	switch s.Format {
	case "email":
		if _, err := mail.ParseAddress(ans); err != nil {
			return nil, errors.New("not an email address")
		}
	case "uri":
		if u, err := url.Parse(ans); err != nil || u.Scheme == "" {
			return nil, errors.New("not an absolute URI")
		}
	case "date":
		if _, err := time.Parse(time.DateOnly, ans); err != nil {
			return nil, errors.New("not a date (YYYY-MM-DD)")
		}
	case "date-time":
		if _, err := time.Parse(time.RFC3339, ans); err != nil {
			return nil, errors.New("not a date-time (RFC 3339, e.g. 2026-01-02T15:04:05Z)")
		}
	}
	return ans, nil
}

func checkRange(s fieldSchema, f float64) error {
	if s.Minimum != nil && f < *s.Minimum {
		return fmt.Errorf("must be at least %s", num(*s.Minimum))
	}
	if s.Maximum != nil && f > *s.Maximum {
		return fmt.Errorf("must be at most %s", num(*s.Maximum))
	}
	return nil
}

// pickChoice matches an answer to a choice by value, title or position (1-based).
func pickChoice(cs []choice, ans string) (any, error) {
	for _, c := range cs {
		if strings.EqualFold(valueText(c.Value), ans) || (c.Title != "" && strings.EqualFold(c.Title, ans)) {
			return c.Value, nil
		}
	}
	if i, err := strconv.Atoi(ans); err == nil && i >= 1 && i <= len(cs) {
		return cs[i-1].Value, nil
	}
	return nil, fmt.Errorf("choose one of %s", choiceList(cs))
}
