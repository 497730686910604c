package repl

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net"
	"os"
	"sort"
	"strings"
	"syscall"

	"mcplambda/client"
	"mcplambda/mcp"
)

// toolError is a tool result with isError: the call reached the tool, which
// reported a failure.
type toolError struct{ name string }

func (e *toolError) Error() string { return fmt.Sprintf("tool %s reported an error", e.name) }

// renderToolResult prints a tool's answer and returns a *toolError when the
// tool reported a failure, so the command counts as failed.
func (r *REPL) renderToolResult(name string, res *mcp.CallToolResult) error {
	if res == nil {
		return fmt.Errorf("tool %s returned no result", name)
	}
	if res.IsError {
		r.con.Errorf("Tool error from %s:", sanitize(name))
		for _, c := range res.Content {
			if c.Type == mcp.ContentText {
				r.con.Errorf("  %s", indent(sanitize(c.Text), "  "))
			}
		}
		r.renderContent(nonText(res.Content))
		return &toolError{name: name}
	}
	r.renderContent(res.Content)
	if res.StructuredContent != nil && !duplicatesText(res) {
		// When the tool also wrote text for people (the Bedrock report
		// does), the JSON for programs would bury it: name it, and show it
		// with debug on.
		if hasText(res.Content) && r.level.Level() > slog.LevelDebug {
			r.con.Printf("(structured content also returned%s; `debug on` shows it)", fieldList(res.StructuredContent))
		} else {
			r.con.Printf("Structured content:\n%s", prettyJSON(res.StructuredContent))
		}
	}
	if len(res.Content) == 0 && res.StructuredContent == nil {
		r.con.Printf("(the tool returned an empty result)")
	}
	return nil
}

func hasText(cs []mcp.Content) bool {
	for _, c := range cs {
		if c.Type == mcp.ContentText && c.Text != "" {
			return true
		}
	}
	return false
}

// fieldList names the top-level fields of a structured result: ": a, b, c".
func fieldList(v any) string {
	var m map[string]json.RawMessage
	b, err := json.Marshal(v)
	if err != nil || json.Unmarshal(b, &m) != nil || len(m) == 0 {
		return ""
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, sanitize(k))
	}
	sort.Strings(keys)
	if len(keys) > 12 {
		keys = append(keys[:12], "...")
	}
	return ": " + strings.Join(keys, ", ")
}

func nonText(cs []mcp.Content) []mcp.Content {
	var out []mcp.Content
	for _, c := range cs {
		if c.Type != mcp.ContentText {
			out = append(out, c)
		}
	}
	return out
}

// duplicatesText reports whether a text block already holds the structured
// content (servers send it twice for older clients): printing it again
// would only add noise.
func duplicatesText(res *mcp.CallToolResult) bool {
	want, err := json.Marshal(res.StructuredContent)
	if err != nil {
		return false
	}
	for _, c := range res.Content {
		if c.Type != mcp.ContentText {
			continue
		}
		var got any
		if json.Unmarshal([]byte(c.Text), &got) != nil {
			continue
		}
		b, _ := json.Marshal(got)
		if bytes.Equal(b, want) {
			return true
		}
	}
	return false
}

// renderContent prints content blocks: text as text, images and audio saved
// to files whose paths are printed, resources summarised.
func (r *REPL) renderContent(blocks []mcp.Content) {
	for _, c := range blocks {
		switch c.Type {
		case mcp.ContentText:
			r.con.Printf("%s", sanitize(c.Text))
		case mcp.ContentImage, mcp.ContentAudio:
			path, n, err := r.saveBase64(fileStem(c), c.MIMEType, c.Data)
			if err != nil {
				r.con.Errorf("[%s %s: not saved: %v]", c.Type, sanitize(c.MIMEType), err)
				continue
			}
			r.con.Printf("[%s %s, %d bytes, saved to %s]", c.Type, sanitize(c.MIMEType), n, path)
		case mcp.ContentResourceLink:
			s := "[resource link] " + sanitize(c.URI)
			if c.Name != "" {
				s += " " + sanitize(c.Name)
			}
			if c.MIMEType != "" {
				s += " (" + sanitize(c.MIMEType) + ")"
			}
			if c.Description != "" {
				s += ": " + sanitize(c.Description)
			}
			r.con.Printf("%s", s)
		case mcp.ContentResource:
			if c.Resource == nil {
				r.con.Printf("[embedded resource, empty]")
				continue
			}
			r.renderResourceContents(*c.Resource, "[embedded resource] ")
		default:
			r.con.Printf("[%s content, not shown]", sanitize(c.Type))
		}
	}
}

func (r *REPL) renderResourceContents(rc mcp.ResourceContents, prefix string) {
	head := prefix + sanitize(rc.URI)
	if rc.MIMEType != "" {
		head += " (" + sanitize(rc.MIMEType) + ")"
	}
	if rc.Blob != "" {
		path, n, err := r.saveBase64("resource", rc.MIMEType, rc.Blob)
		if err != nil {
			r.con.Errorf("%s: blob not saved: %v", head, err)
			return
		}
		r.con.Printf("%s: %d bytes saved to %s", head, n, path)
		return
	}
	r.con.Printf("%s:\n%s", head, sanitize(rc.Text))
}

// fileNameMeta is the _meta key by which a tool suggests a file name
// (without extension) for an image or audio block: the Bedrock report
// names its two charts, so the saved files say which is which.
const fileNameMeta = "mcplambda/filename"

// fileStem is the start of the saved file's name: the suggested name when
// it is a plain one (it comes from the server, so never a path), else the
// content type.
func fileStem(c mcp.Content) string {
	name, _ := c.Meta[fileNameMeta].(string)
	if name == "" || len(name) > 64 {
		return c.Type
	}
	for _, ch := range name {
		if !(ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch == '-' || ch == '_') {
			return c.Type
		}
	}
	return name
}

// saveBase64 writes binary content to a new file in the output directory.
func (r *REPL) saveBase64(kind, mimeType, data string) (string, int, error) {
	b, err := base64.StdEncoding.DecodeString(data)
	if err != nil {
		return "", 0, errors.New("the data is not valid base64")
	}
	dir, err := r.outputDir()
	if err != nil {
		return "", 0, err
	}
	f, err := os.CreateTemp(dir, kind+"-*"+extension(mimeType))
	if err != nil {
		return "", 0, err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return "", 0, err
	}
	return f.Name(), len(b), f.Close()
}

func (r *REPL) outputDir() (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.outDir != "" {
		return r.outDir, nil
	}
	if r.opts.Config.OutputDir != "" {
		if err := os.MkdirAll(r.opts.Config.OutputDir, 0o755); err != nil {
			return "", err
		}
		r.outDir = r.opts.Config.OutputDir
		return r.outDir, nil
	}
	dir, err := os.MkdirTemp("", "mcp-client-")
	if err != nil {
		return "", err
	}
	r.outDir = dir
	return dir, nil
}

// extension picks a file extension for a MIME type, so the saved file opens
// with the right viewer.
func extension(mimeType string) string {
	known := map[string]string{
		"image/png": ".png", "image/jpeg": ".jpg", "image/gif": ".gif", "image/webp": ".webp", "image/svg+xml": ".svg",
		"audio/wav": ".wav", "audio/x-wav": ".wav", "audio/mpeg": ".mp3", "audio/ogg": ".ogg", "audio/webm": ".webm",
		"application/json": ".json", "application/pdf": ".pdf", "text/plain": ".txt",
	}
	mt, _, err := mime.ParseMediaType(mimeType)
	if err != nil {
		return ".bin"
	}
	if e, ok := known[mt]; ok {
		return e
	}
	if exts, err := mime.ExtensionsByType(mt); err == nil && len(exts) > 0 {
		return exts[0]
	}
	return ".bin"
}

func prettyJSON(v any) string {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Sprint(v)
	}
	return sanitize(string(b))
}

func indent(s, pad string) string {
	return strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n"+pad)
}

func (r *REPL) renderTools(tools []mcp.Tool) {
	if len(tools) == 0 {
		r.con.Printf("No tools.")
		return
	}
	r.con.Printf("Tools (%d):", len(tools))
	for _, t := range tools {
		head := "  " + sanitize(t.Name)
		if t.Title != "" && t.Title != t.Name {
			head += " (" + sanitize(t.Title) + ")"
		}
		if t.Description != "" {
			head += ": " + sanitize(t.Description)
		}
		r.con.Printf("%s", head)
		fields, err := schemaFields(t.InputSchema)
		if err != nil {
			r.con.Printf("      arguments: (unreadable schema: %v)", err)
			continue
		}
		for _, f := range fields {
			r.con.Printf("      %s", f.describe())
		}
	}
}

func (r *REPL) renderResources(res []mcp.Resource, templates []mcp.ResourceTemplate) {
	if len(res) == 0 && len(templates) == 0 {
		r.con.Printf("No resources.")
		return
	}
	if len(res) > 0 {
		r.con.Printf("Resources (%d):", len(res))
	}
	for _, x := range res {
		s := "  " + sanitize(x.Name) + " <" + sanitize(x.URI) + ">"
		if x.MIMEType != "" {
			s += " " + sanitize(x.MIMEType)
		}
		if x.Description != "" {
			s += ": " + sanitize(x.Description)
		}
		r.con.Printf("%s", s)
	}
	if len(templates) > 0 {
		r.con.Printf("Resource templates (%d):", len(templates))
	}
	for _, x := range templates {
		s := "  " + sanitize(x.Name) + " <" + sanitize(x.URITemplate) + ">"
		if x.Description != "" {
			s += ": " + sanitize(x.Description)
		}
		r.con.Printf("%s", s)
	}
}

func (r *REPL) renderPrompts(ps []mcp.Prompt) {
	if len(ps) == 0 {
		r.con.Printf("No prompts.")
		return
	}
	r.con.Printf("Prompts (%d):", len(ps))
	for _, p := range ps {
		s := "  " + sanitize(p.Name)
		if p.Description != "" {
			s += ": " + sanitize(p.Description)
		}
		r.con.Printf("%s", s)
		for _, a := range p.Arguments {
			as := "      " + sanitize(a.Name)
			if a.Required {
				as += " (required)"
			}
			if a.Description != "" {
				as += ": " + sanitize(a.Description)
			}
			r.con.Printf("%s", as)
		}
	}
}

func (r *REPL) renderPrompt(res *mcp.GetPromptResult) {
	if res.Description != "" {
		r.con.Printf("%s", sanitize(res.Description))
	}
	for _, m := range res.Messages {
		r.con.Printf("[%s]", sanitize(string(m.Role)))
		r.renderContent([]mcp.Content{m.Content})
	}
}

// describeError turns what a call returned into a message a person can act on.
func describeError(err error) string {
	var rpc *client.RPCError
	var httpErr *client.HTTPError
	var authErr *client.AuthRequiredError
	var te *toolError
	var timeout *client.TimeoutError
	switch {
	case errors.As(err, &te):
		return err.Error()
	case errors.As(err, &timeout):
		return sanitize(timeout.Error()) + " (MCP_CLIENT_TIMEOUT sets the limit)"
	case errors.As(err, &rpc):
		s := fmt.Sprintf("JSON-RPC error %d: %s", rpc.Code, sanitize(rpc.Message))
		if len(rpc.Data) > 0 && string(rpc.Data) != "null" {
			s += " (data: " + sanitize(string(rpc.Data)) + ")"
		}
		return s
	case errors.As(err, &authErr):
		s := fmt.Sprintf("the server refused the request (HTTP %d", authErr.Status)
		p := client.BearerParams(authErr.WWWAuthenticate)
		if d := p["error_description"]; d != "" {
			s += ": " + sanitize(d)
		} else if e := p["error"]; e != "" {
			s += ": " + sanitize(e)
		}
		if sc := authErr.Scope(); sc != "" && authErr.Status == 403 {
			s += "; scopes needed: " + sanitize(sc)
		}
		return s + ")"
	case errors.As(err, &httpErr):
		s := fmt.Sprintf("HTTP %d from the server", httpErr.StatusCode)
		if b := strings.TrimSpace(httpErr.Body); b != "" {
			s += ": " + sanitize(b)
		}
		return s
	case errors.Is(err, client.ErrSessionExpired):
		return "the server session expired and could not be re-established: " + sanitize(err.Error())
	case errors.Is(err, context.Canceled):
		return "cancelled"
	case errors.Is(err, context.DeadlineExceeded):
		return "timed out: " + sanitize(err.Error())
	case errors.Is(err, syscall.ECONNREFUSED):
		return sanitize(err.Error()) + " (is the server running?)"
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return "timed out: " + sanitize(err.Error())
	}
	return sanitize(err.Error())
}
