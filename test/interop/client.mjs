// Interop test: the official MCP TypeScript SDK client against our server.
//
//   node test/interop/client.mjs http://127.0.0.1:PORT/mcp
//
// Prints one line per check ("ok - ..." / "not ok - ..."), then a final line
// "N passed, M failed", and exits non-zero when anything failed (or when the
// whole run takes longer than the global timeout).
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { LATEST_PROTOCOL_VERSION, LoggingMessageNotificationSchema, McpError } from '@modelcontextprotocol/sdk/types.js';

const GLOBAL_TIMEOUT_MS = Number(process.env.INTEROP_TIMEOUT_MS) || 60_000;
// multi-greet pauses 1 s between its notifications. A buffering server
// would deliver all three at once (gaps near 0); a streaming one delivers
// them about 1 s apart. The window is wide because the server under test
// runs with the race detector, often on a loaded machine.
const MIN_GAP_MS = 500;
const MAX_GAP_MS = 3000;
const CONCURRENT_CLIENTS = 5;

if (!process.argv[2]) {
    console.error('usage: client.mjs SERVER_URL');
    process.exit(2);
}
const serverURL = new URL(process.argv[2]);

let passed = 0;
let failed = 0;
let finished = false;

function check(name, cond, detail) {
    if (cond) {
        passed++;
        console.log(`ok - ${name}`);
    } else {
        failed++;
        console.log(`not ok - ${name}${detail === undefined ? '' : `: ${typeof detail === 'string' ? detail : JSON.stringify(detail)}`}`);
    }
    return !!cond;
}

// note prints a diagnostic line (TAP-style comment) that is not a check.
function note(msg, data) {
    console.log(`# ${msg}${data === undefined ? '' : ` ${JSON.stringify(data)}`}`);
}

function finish(code) {
    if (finished) return;
    finished = true;
    console.log(`${passed} passed, ${failed} failed`);
    process.exit(code ?? (failed > 0 ? 1 : 0));
}

const globalTimer = setTimeout(() => {
    check(`global timeout: the run did not finish within ${GLOBAL_TIMEOUT_MS / 1000} s`, false);
    finish(1);
}, GLOBAL_TIMEOUT_MS);

// step runs one group of checks; an exception fails the group instead of
// the whole run.
async function step(name, fn) {
    try {
        await fn();
    } catch (err) {
        check(name, false, `threw ${describeError(err)}`);
    }
}

function describeError(err) {
    if (err instanceof McpError) return `McpError code=${err.code} message=${JSON.stringify(err.message)}`;
    if (err instanceof Error) return `${err.name}: ${err.message}`;
    return String(err);
}

const now = () => performance.now();
const sleep = ms => new Promise(r => setTimeout(r, ms));
const textOf = result => (result?.content ?? []).filter(c => c.type === 'text').map(c => c.text).join('\n');

// recordingFetch wraps fetch and records every HTTP exchange the SDK
// transport makes, so the checks can look at methods, statuses and content
// types (for example: was the tools/call answered with an SSE stream?).
function recordingFetch(log) {
    return async (url, init) => {
        let rpcMethod;
        if (typeof init?.body === 'string') {
            try {
                rpcMethod = JSON.parse(init.body).method;
            } catch {
                // not JSON: leave it undefined
            }
        }
        const res = await fetch(url, init);
        log.push({
            method: init?.method ?? 'GET',
            rpcMethod,
            status: res.status,
            contentType: res.headers.get('content-type') ?? '',
            t: now()
        });
        return res;
    };
}

async function newClient(name) {
    const http = [];
    const errors = [];
    const logs = [];
    const transport = new StreamableHTTPClientTransport(serverURL, { fetch: recordingFetch(http) });
    const client = new Client({ name, version: '1.0.0' }, { capabilities: {} });
    client.onerror = err => errors.push(err);
    client.setNotificationHandler(LoggingMessageNotificationSchema, n => {
        logs.push({ ...n.params, t: now() });
    });
    await client.connect(transport);
    return { client, transport, http, errors, logs };
}

const expectedLogs = name => [
    { level: 'debug', data: `Starting multi-greet for ${name}` },
    { level: 'info', data: `Sending first greeting to ${name}` },
    { level: 'info', data: `Sending second greeting to ${name}` }
];

function sameLogs(got, want) {
    return got.length === want.length && got.every((g, i) => g.level === want[i].level && g.data === want[i].data);
}

const gapsOf = ts => ts.slice(1).map((t, i) => Math.round(t - ts[i]));

async function main() {
    // --- connect: initialize + notifications/initialized + GET stream ---
    let main;
    try {
        main = await newClient('interop-main');
        check('connect (initialize + initialized)', true);
    } catch (err) {
        check('connect (initialize + initialized)', false, describeError(err));
        return;
    }
    const { client, transport, http } = main;
    const sessionId = transport.sessionId;
    check('server assigned an Mcp-Session-Id', typeof sessionId === 'string' && sessionId.length > 0, sessionId);
    check(`negotiated protocol version ${LATEST_PROTOCOL_VERSION}`, transport.protocolVersion === LATEST_PROTOCOL_VERSION, transport.protocolVersion);

    await step('serverInfo', async () => {
        const info = client.getServerVersion();
        check('serverInfo names mcp-lambda-go with a version', info?.name === 'mcp-lambda-go' && typeof info?.version === 'string' && info.version !== '', info);
    });
    await step('capabilities', async () => {
        const caps = client.getServerCapabilities() ?? {};
        check('capabilities include logging', caps.logging !== undefined, caps);
        check('capabilities include tools', caps.tools !== undefined, caps);
        check('capabilities include prompts and resources', caps.prompts !== undefined && caps.resources !== undefined, caps);
        const instructions = client.getInstructions();
        check('initialize result has instructions', typeof instructions === 'string' && instructions.length > 0, instructions);
    });
    await step('standalone GET stream', async () => {
        const deadline = now() + 3000;
        let get;
        while (!(get = http.find(h => h.method === 'GET')) && now() < deadline) await sleep(20);
        check('SDK opened the standalone GET SSE stream (200 text/event-stream)', get?.status === 200 && get.contentType.startsWith('text/event-stream'), get ?? 'no GET request seen');
        const init = http.find(h => h.rpcMethod === 'notifications/initialized');
        check('notifications/initialized answered 202 Accepted', init?.status === 202, init);
    });

    await step('ping', async () => {
        const res = await client.ping();
        check('ping', res !== undefined);
    });

    // --- tools ---
    await step('tools/list', async () => {
        const { tools } = await client.listTools();
        for (const name of ['greet', 'multi-greet']) {
            const tool = tools.find(t => t.name === name);
            const schema = tool?.inputSchema;
            check(
                `tools/list has ${name} with an object inputSchema requiring string "name"`,
                schema?.type === 'object' && schema.properties?.name?.type === 'string' && (schema.required ?? []).includes('name'),
                tool ?? tools.map(t => t.name)
            );
        }
    });

    await step('greet', async () => {
        const res = await client.callTool({ name: 'greet', arguments: { name: 'Interop' } });
        check('greet returns "Hello, Interop!"', !res.isError && textOf(res) === 'Hello, Interop!', res);
    });

    await step('multi-greet streaming', async () => {
        main.logs.length = 0;
        const t0 = now();
        const res = await client.callTool({ name: 'multi-greet', arguments: { name: 'Interop' } });
        const tResult = now();
        const logs = main.logs.slice(); // exactly what had arrived when the result resolved
        check('multi-greet returns "Good morning, Interop!"', !res.isError && textOf(res) === 'Good morning, Interop!', res);
        check(
            'multi-greet: exactly the three log notifications, in order, before the result',
            sameLogs(logs, expectedLogs('Interop')),
            logs.map(l => ({ level: l.level, data: l.data }))
        );
        check('multi-greet: log notifications name the logger "multi-greet"', logs.every(l => l.logger === 'multi-greet'), logs.map(l => l.logger));
        const times = logs.map(l => l.t);
        const gaps = gapsOf(times);
        note('multi-greet log notification arrival (ms after the call)', { arrivalMs: times.map(t => Math.round(t - t0)), resultMs: Math.round(tResult - t0) });
        check(
            `multi-greet: notifications arrive spread out (gaps ${MIN_GAP_MS}-${MAX_GAP_MS} ms), not buffered`,
            gaps.length === 2 && gaps.every(g => g >= MIN_GAP_MS && g <= MAX_GAP_MS),
            { arrivalMs: times.map(t => Math.round(t - t0)), gaps, resultMs: Math.round(tResult - t0) }
        );
        check(
            'multi-greet: first notification arrived well before the result (streamed)',
            times.length > 0 && tResult - times[0] >= 2 * MIN_GAP_MS,
            { firstMs: times.length ? Math.round(times[0] - t0) : null, resultMs: Math.round(tResult - t0) }
        );
        const post = http.filter(h => h.rpcMethod === 'tools/call').at(-1);
        check('multi-greet: tools/call was answered with an SSE stream', post?.status === 200 && post.contentType.startsWith('text/event-stream'), post);
    });

    await step('multi-greet progress', async () => {
        main.logs.length = 0;
        const progress = [];
        const t0 = now();
        const res = await client.callTool({ name: 'multi-greet', arguments: { name: 'Interop' } }, undefined, {
            onprogress: p => progress.push({ ...p, t: now() })
        });
        const got = progress.slice();
        check('multi-greet with progressToken returns "Good morning, Interop!"', !res.isError && textOf(res) === 'Good morning, Interop!', res);
        check(
            'multi-greet: three progress notifications (1/3, 2/3, 3/3) before the result',
            got.length === 3 && got.every((p, i) => p.progress === i + 1 && p.total === 3),
            got.map(({ t, ...p }) => p)
        );
        check(
            'multi-greet: progress messages match the log texts',
            got.length === 3 && got.every((p, i) => p.message === expectedLogs('Interop')[i].data),
            got.map(p => p.message)
        );
        const gaps = gapsOf(got.map(p => p.t));
        note('multi-greet progress arrival (ms after the call)', got.map(p => Math.round(p.t - t0)));
        check(
            'multi-greet: progress notifications arrive spread out in time',
            gaps.length === 2 && gaps.every(g => g >= MIN_GAP_MS && g <= MAX_GAP_MS),
            { arrivalMs: got.map(p => Math.round(p.t - t0)), gaps }
        );
        check('multi-greet with progressToken still sends the three log notifications', sameLogs(main.logs, expectedLogs('Interop')), main.logs.map(l => l.data));
    });

    // --- prompts ---
    await step('prompts', async () => {
        const { prompts } = await client.listPrompts();
        const p = prompts.find(p => p.name === 'greeting-template');
        check(
            'prompts/list has greeting-template with required argument "name"',
            p !== undefined && (p.arguments ?? []).some(a => a.name === 'name' && a.required === true),
            p ?? prompts.map(p => p.name)
        );
        const got = await client.getPrompt({ name: 'greeting-template', arguments: { name: 'Interop' } });
        const m = got.messages?.[0];
        check(
            'prompts/get greeting-template returns the user message for Interop',
            got.messages?.length === 1 && m.role === 'user' && m.content?.type === 'text' && m.content.text === 'Please greet Interop in a friendly manner.',
            got
        );
        const comp = await client.complete({ ref: { type: 'ref/prompt', name: 'greeting-template' }, argument: { name: 'name', value: 'a' } });
        check('completion/complete suggests Alice for "a"', comp.completion?.values?.includes('Alice'), comp);
    });

    // --- resources ---
    await step('resources', async () => {
        const uri = 'https://example.com/greetings/default';
        const { resources } = await client.listResources();
        const r = resources.find(r => r.uri === uri);
        check('resources/list has greeting-resource', r?.name === 'greeting-resource' && r.mimeType === 'text/plain', r ?? resources);
        const got = await client.readResource({ uri });
        const c = got.contents?.[0];
        check('resources/read returns "Hello, world!"', got.contents?.length === 1 && c.uri === uri && c.text === 'Hello, world!' && c.mimeType === 'text/plain', got);
    });

    // --- errors ---
    await step('unknown tool', async () => {
        try {
            const res = await client.callTool({ name: 'no-such-tool', arguments: {} });
            check('unknown tool fails with JSON-RPC error -32602', false, { unexpectedResult: res });
        } catch (err) {
            check('unknown tool fails with JSON-RPC error -32602', err instanceof McpError && err.code === -32602, describeError(err));
        }
    });
    await step('bad arguments', async () => {
        const res = await client.callTool({ name: 'greet', arguments: {} });
        const text = textOf(res);
        check('greet {} returns an isError result naming the field "name"', res.isError === true && /\bname\b/.test(text), res);
    });
    await step('session still usable after errors', async () => {
        const res = await client.callTool({ name: 'greet', arguments: { name: 'Again' } });
        check('greet after errors still works', textOf(res) === 'Hello, Again!', res);
    });

    // --- concurrent, independent sessions ---
    await step('concurrent sessions', async () => {
        const peers = await Promise.all(Array.from({ length: CONCURRENT_CLIENTS }, (_, i) => newClient(`interop-peer-${i}`)));
        const ids = new Set([sessionId, ...peers.map(p => p.transport.sessionId)]);
        check(`${CONCURRENT_CLIENTS} concurrent clients got distinct sessions`, ids.size === CONCURRENT_CLIENTS + 1, [...ids]);
        const outcomes = await Promise.all(
            peers.map(async (p, i) => {
                const name = `Peer${i}`;
                const [a, b, c] = await Promise.all([
                    p.client.callTool({ name: 'greet', arguments: { name: `${name}-a` } }),
                    p.client.callTool({ name: 'multi-greet', arguments: { name } }),
                    p.client.callTool({ name: 'greet', arguments: { name: `${name}-b` } })
                ]);
                const ok =
                    textOf(a) === `Hello, ${name}-a!` &&
                    textOf(b) === `Good morning, ${name}!` &&
                    textOf(c) === `Hello, ${name}-b!` &&
                    sameLogs(p.logs, expectedLogs(name));
                return { ok, texts: [textOf(a), textOf(b), textOf(c)], logs: p.logs.map(l => l.data) };
            })
        );
        check(
            `${CONCURRENT_CLIENTS} clients x 3 parallel calls: right results, each session got only its own notifications`,
            outcomes.every(o => o.ok),
            outcomes.filter(o => !o.ok)
        );
        const ended = await Promise.allSettled(peers.map(async p => {
            await p.transport.terminateSession();
            await p.client.close();
        }));
        check('concurrent clients terminated their sessions', ended.every(e => e.status === 'fulfilled'), ended.filter(e => e.status === 'rejected').map(e => describeError(e.reason)));
        check('main session unaffected by the other sessions ending', textOf(await client.callTool({ name: 'greet', arguments: { name: 'Still' } })) === 'Hello, Still!');
    });

    // --- no transport errors so far ---
    check('no transport errors on the main client', main.errors.length === 0, main.errors.map(describeError));

    // --- session termination ---
    await step('terminate session', async () => {
        const oldId = transport.sessionId;
        await transport.terminateSession();
        check('DELETE ends the session (terminateSession resolves)', transport.sessionId === undefined, transport.sessionId);
        const del = http.filter(h => h.method === 'DELETE').at(-1);
        check('DELETE answered 200', del?.status === 200, del);
        await client.close();

        const headers = {
            'content-type': 'application/json',
            accept: 'application/json, text/event-stream',
            'mcp-session-id': oldId,
            'mcp-protocol-version': LATEST_PROTOCOL_VERSION
        };
        const post = await fetch(serverURL, {
            method: 'POST',
            headers,
            body: JSON.stringify({ jsonrpc: '2.0', id: 99, method: 'tools/list', params: {} })
        });
        const body = await post.text();
        check('POST with the terminated session id answers 404', post.status === 404, { status: post.status, body });
        const get = await fetch(serverURL, {
            method: 'GET',
            headers: { accept: 'text/event-stream', 'mcp-session-id': oldId, 'mcp-protocol-version': LATEST_PROTOCOL_VERSION }
        });
        await get.body?.cancel();
        check('GET with the terminated session id answers 404', get.status === 404, { status: get.status });
    });
}

try {
    await main();
} catch (err) {
    check('unexpected exception', false, describeError(err));
}
clearTimeout(globalTimer);
finish();
