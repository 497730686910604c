// The original product's approach to a usage report, for comparison with
// the Go decoder (see main.go next to this file): JSON.parse every record
// and aggregate in Maps. It reads a JSON Lines file of Bedrock
// model-invocation records in 4 MiB chunks (memory bounded, like the Go
// side) and prints one JSON line: bytes, records, wall and CPU seconds
// of the decoding loop, and the totals (to check both sides agree).
//
//   node decode.mjs FILE
//
//   node decode.mjs [--slice-day] FILE
//
// The UTC day of a record comes from a Date, as the Go side computes it
// (a timestamp with an offset such as +02:00 must land on its UTC day).
// --slice-day takes the timestamp's first ten characters instead: right
// only for timestamps in Z, as the generated file's are, and cheaper, to
// show Node at its most favourable.
import { openSync, readSync, closeSync } from 'node:fs';

const args = process.argv.slice(2);
const sliceDay = args[0] === '--slice-day';
if (sliceDay) args.shift();
const file = args[0];
if (!file) {
  console.error('usage: node decode.mjs [--slice-day] FILE');
  process.exit(2);
}
const utcDay = sliceDay
  ? (ts) => ts.slice(0, 10)
  : (ts) => new Date(ts).toISOString().slice(0, 10);

function totals() {
  return { requests: 0, input: 0, output: 0, cacheRead: 0, cacheWrite: 0 };
}
function add(m, key, r) {
  let t = m.get(key);
  if (t === undefined) {
    t = totals();
    m.set(key, t);
  }
  t.requests++;
  t.input += r.input;
  t.output += r.output;
  t.cacheRead += r.cacheRead;
  t.cacheWrite += r.cacheWrite;
}

const overall = totals();
const days = new Map(), regions = new Map(), models = new Map(), users = new Map(), ops = new Map();
let malformed = 0, records = 0, bytes = 0;

function record(line) {
  let rec;
  try {
    rec = JSON.parse(line);
  } catch {
    malformed++;
    return;
  }
  if (typeof rec.timestamp !== 'string' || !rec.modelId) {
    malformed++;
    return;
  }
  const day = utcDay(rec.timestamp);
  const r = {
    input: rec.input?.inputTokenCount ?? 0,
    output: rec.output?.outputTokenCount ?? 0,
    cacheRead: rec.input?.cacheReadInputTokenCount ?? 0,
    cacheWrite: rec.input?.cacheWriteInputTokenCount ?? 0,
  };
  records++;
  overall.requests++;
  overall.input += r.input;
  overall.output += r.output;
  overall.cacheRead += r.cacheRead;
  overall.cacheWrite += r.cacheWrite;
  add(days, day, r);
  add(regions, rec.region ?? '', r);
  add(models, rec.modelId, r);
  add(users, rec.identity?.arn ?? '', r);
  add(ops, rec.operation ?? '', r);
}

const cpu0 = process.cpuUsage();
const t0 = process.hrtime.bigint();
const fd = openSync(file, 'r');
const chunk = Buffer.allocUnsafe(4 << 20);
let carry = '';
for (;;) {
  const n = readSync(fd, chunk, 0, chunk.length, null);
  if (n === 0) break;
  bytes += n;
  let start = 0;
  for (;;) {
    const nl = chunk.indexOf(10, start);
    if (nl < 0 || nl >= n) break;
    let line = chunk.toString('utf8', start, nl);
    if (carry) {
      line = carry + line;
      carry = '';
    }
    if (line.length > 0) record(line);
    start = nl + 1;
  }
  carry += chunk.toString('utf8', start, n);
}
if (carry.trim()) record(carry);
closeSync(fd);
const wall = Number(process.hrtime.bigint() - t0) / 1e9;
const cpu = process.cpuUsage(cpu0);

console.log(JSON.stringify({
  impl: 'node ' + process.version + (sliceDay ? ' --slice-day' : ''),
  bytes,
  records,
  malformed,
  wall_s: wall,
  cpu_s: (cpu.user + cpu.system) / 1e6,
  totals: overall,
  groups: { days: days.size, regions: regions.size, models: models.size, users: users.size, operations: ops.size },
}));
