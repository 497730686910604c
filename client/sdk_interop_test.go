package client

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"mcplambda/mcp"
	"mcplambda/test/testproc"
)

// TestSDKServerInterop runs the client against the official MCP TypeScript
// SDK server (pinned in test/package.json), an implementation we did not
// write: SSE answers with priming events, server requests, the GET stream,
// sessions ending under the client.
func TestSDKServerInterop(t *testing.T) {
	root := testproc.RepoRoot(t)
	node := testproc.NodeTools(t, root, "@modelcontextprotocol/sdk/package.json", "zod/package.json")
	dir := t.TempDir()
	// The script imports packages by name: give it the pinned node_modules.
	if err := os.Symlink(node.Modules, filepath.Join(dir, "node_modules")); err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(dir, "sdkserver.mjs")
	if err := os.WriteFile(script, []byte(sdkServerScript), 0o600); err != nil {
		t.Fatal(err)
	}
	port := testproc.FreePort(t)
	proc := testproc.Start(t, node.Bin, testproc.Options{Name: "SDK server", Args: []string{script}, Dir: dir,
		Env: []string{"PORT=" + strconv.Itoa(port)}})
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	proc.WaitListening(t, addr, wait)
	url := "http://" + addr + "/mcp"

	rec, ev := newRecorder(), newStreamEvents()
	c := connect(t, Options{
		URL:                  url,
		OpenStandaloneStream: true,
		OnStandaloneStream:   ev.note,
		OnNotification:       rec.note,
		Elicit: func(_ context.Context, p *mcp.ElicitParams) (*mcp.ElicitResult, error) {
			return &mcp.ElicitResult{Action: "accept", Content: map[string]any{"name": "Ada (" + p.Message + ")"}}, nil
		},
		Roots: func(context.Context) ([]mcp.Root, error) {
			return []mcp.Root{{URI: "file:///a"}, {URI: "file:///b"}}, nil
		},
	})
	ctx := testContext(t)
	if c.SessionID() == "" || c.ProtocolVersion() != mcp.LatestVersion || c.ServerInfo().ServerInfo.Name != "sdk-server" {
		t.Fatalf("session %q version %q info %+v", c.SessionID(), c.ProtocolVersion(), c.ServerInfo())
	}
	receive(t, ev.opened, "the GET stream")

	tools, err := c.ListTools(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tl := range tools {
		names = append(names, tl.Name)
	}
	slices.Sort(names)
	if want := []string{"ask", "broadcast", "echo", "notify", "roots"}; !slices.Equal(names, want) {
		t.Errorf("tools %v, want %v", names, want)
	}

	var progress []float64
	calls := []struct {
		tool string
		args any
		opts []CallOption
		want string
	}{
		{"echo", map[string]string{"text": "hi"}, nil, "echo: hi"},
		{"notify", map[string]int{"count": 3}, []CallOption{WithProgress(func(p mcp.ProgressParams) { progress = append(progress, p.Progress) })}, "notified 3"},
		{"ask", nil, nil, "accept Ada (Your name?)"},
		{"roots", nil, nil, "file:///a,file:///b"},
		{"broadcast", nil, nil, "sent"},
	}
	for _, tt := range calls {
		res, err := c.CallTool(ctx, tt.tool, tt.args, tt.opts...)
		if err != nil {
			t.Fatalf("%s: %v", tt.tool, err)
		}
		if got := text(res); got != tt.want || res.IsError {
			t.Errorf("%s: %q (isError %v), want %q", tt.tool, got, res.IsError, tt.want)
		}
	}
	if !slices.Equal(progress, []float64{1, 2, 3}) {
		t.Errorf("progress %v, want [1 2 3]", progress)
	}
	var notes []string
	for _, n := range rec.all() {
		if strings.HasPrefix(n, mcp.NotificationMessage) {
			notes = append(notes, n[strings.Index(n, `"data"`):])
		}
	}
	if want := []string{`"data":"note 1"}`, `"data":"note 2"}`, `"data":"note 3"}`}; !slices.Equal(notes, want) {
		t.Errorf("log notifications %q, want %q", notes, want)
	}
	// Sent outside any request: it can only have come on the GET stream.
	rec.waitFor(t, mcp.NotificationToolsListChanged)

	gp, err := c.GetPrompt(ctx, "hello", map[string]string{"who": "Ada"})
	if err != nil || len(gp.Messages) != 1 || gp.Messages[0].Content.Text != "Say hello to Ada" {
		t.Errorf("prompt %+v %v", gp, err)
	}
	rr, err := c.ReadResource(ctx, "file:///readme.txt")
	if err != nil || len(rr.Contents) != 1 || rr.Contents[0].Text != "read me" {
		t.Errorf("resource %+v %v", rr, err)
	}
	if err := c.SetLogLevel(ctx, mcp.LevelDebug); err != nil {
		t.Errorf("setLevel: %v", err)
	}

	// The SDK server forgets a deleted session (404): the client starts a
	// new one and its GET stream follows.
	old := c.SessionID()
	endSession(t, url, old)
	res, err := c.CallTool(ctx, "echo", map[string]string{"text": "again"})
	if err != nil || text(res) != "echo: again" {
		t.Fatalf("after the session ended: %+v %v", res, err)
	}
	if c.SessionID() == old {
		t.Error("no new session")
	}

	closeCtx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := c.Close(closeCtx); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := proc.Stop(t); err != nil {
		t.Errorf("the SDK server: %v\n%s", err, proc.Tail(30))
	}
}

// sdkServerScript is the SDK server; PORT selects its port.
const sdkServerScript = `
// The official MCP TypeScript SDK's Streamable HTTP server, as a peer for
// the Go client's interoperability test. PORT selects the port.
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { InMemoryEventStore } from '@modelcontextprotocol/sdk/examples/shared/inMemoryEventStore.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import * as z from 'zod';

function newServer() {
    const s = new McpServer({ name: 'sdk-server', version: '1.0.0' }, { capabilities: { logging: {} } });
    s.registerTool('echo', { description: 'echo', inputSchema: { text: z.string() } },
        async ({ text }) => ({ content: [{ type: 'text', text: 'echo: ' + text }] }));
    s.registerTool('notify', { description: 'logs, reports progress, answers', inputSchema: { count: z.number() } },
        async ({ count }, extra) => {
            const token = extra._meta?.progressToken;
            for (let i = 1; i <= count; i++) {
                await extra.sendNotification({ method: 'notifications/message', params: { level: 'info', data: 'note ' + i } });
                if (token !== undefined) {
                    await extra.sendNotification({ method: 'notifications/progress', params: { progressToken: token, progress: i, total: count } });
                }
            }
            return { content: [{ type: 'text', text: 'notified ' + count }] };
        });
    s.registerTool('ask', { description: 'elicits a name' }, async () => {
        const r = await s.server.elicitInput({ message: 'Your name?', requestedSchema: { type: 'object', properties: { name: { type: 'string' } } } });
        return { content: [{ type: 'text', text: r.action + ' ' + (r.content?.name ?? '') }] };
    });
    s.registerTool('roots', { description: 'lists the client roots' }, async () => {
        const r = await s.server.listRoots();
        return { content: [{ type: 'text', text: r.roots.map((x) => x.uri).join(',') }] };
    });
    s.registerTool('broadcast', { description: 'a notification outside any request' }, async () => {
        await s.server.notification({ method: 'notifications/tools/list_changed' });
        return { content: [{ type: 'text', text: 'sent' }] };
    });
    s.registerPrompt('hello', { description: 'hello prompt', argsSchema: { who: z.string() } },
        ({ who }) => ({ messages: [{ role: 'user', content: { type: 'text', text: 'Say hello to ' + who } }] }));
    s.registerResource('readme', 'file:///readme.txt', { mimeType: 'text/plain' },
        async (uri) => ({ contents: [{ uri: uri.href, text: 'read me' }] }));
    return s;
}

const transports = new Map();
const server = http.createServer(async (req, res) => {
    try {
        const sid = req.headers['mcp-session-id'];
        let body;
        if (req.method === 'POST') {
            const chunks = [];
            for await (const c of req) chunks.push(c);
            body = JSON.parse(Buffer.concat(chunks).toString());
        }
        let t = sid ? transports.get(sid) : undefined;
        if (!t) {
            if (sid) {
                res.writeHead(404, { 'content-type': 'application/json' });
                res.end(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32001, message: 'Session not found' } }));
                return;
            }
            if (req.method !== 'POST' || !isInitializeRequest(body)) {
                res.writeHead(400).end();
                return;
            }
            t = new StreamableHTTPServerTransport({
                sessionIdGenerator: () => randomUUID(),
                eventStore: new InMemoryEventStore(),
                onsessioninitialized: (id) => transports.set(id, t),
            });
            t.onclose = () => { if (t.sessionId) transports.delete(t.sessionId); };
            await newServer().connect(t);
        }
        await t.handleRequest(req, res, body);
    } catch (e) {
        console.error(e);
        if (!res.headersSent) res.writeHead(500).end();
    }
});
server.listen(Number(process.env.PORT), '127.0.0.1', () => console.log('listening on ' + process.env.PORT));
process.on('SIGTERM', () => {
    for (const t of transports.values()) t.close();
    server.closeAllConnections();
    server.close(() => process.exit(0));
});
`
