#!/usr/bin/env node
// Latency of the dashboard's main API routes: p50/p95/p99 per route, bounded in requests and time.
//
//   node scripts/bench-api.mjs --base-url http://127.0.0.1:3000           # a dashboard that is running
//   node scripts/bench-api.mjs --database-url postgresql://...             # starts `next start` on that DB
//   node scripts/bench-api.mjs --altaviz-home ../.altaviz/e2e              # starts it on a pipeline's DB
// Needs a production build (npm run build) when it starts the server. Talks to 127.0.0.1 only.
import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { FRONTEND_DIR } from './db-config.mjs';

const { values: args } = parseArgs({
  options: {
    'base-url': { type: 'string' },
    'database-url': { type: 'string' },
    'altaviz-home': { type: 'string' },
    requests: { type: 'string', default: '200' },
    concurrency: { type: 'string', default: '4' },
    'max-seconds': { type: 'string', default: '60' },
    json: { type: 'boolean', default: false },
  },
});
const REQUESTS = Number(args.requests);
const CONCURRENCY = Number(args.concurrency);
const MAX_MS = Number(args['max-seconds']) * 1000;

let server = null;
let base = args['base-url'];
if (!base) {
  if (!args['database-url'] && !args['altaviz-home']) throw new Error('give --base-url, --database-url or --altaviz-home');
  const port = await freePort();
  const env = { ...process.env, NEXT_TELEMETRY_DISABLED: '1' };
  delete env.DATABASE_URL;
  if (args['database-url']) env.DATABASE_URL = args['database-url'];
  if (args['altaviz-home']) env.ALTAVIZ_HOME = path.resolve(args['altaviz-home']);
  server = spawn(process.execPath, [path.join(FRONTEND_DIR, 'node_modules/next/dist/bin/next'), 'start', '-p', String(port), '-H', '127.0.0.1'], {
    cwd: FRONTEND_DIR, env, stdio: 'ignore', detached: true,
  });
  base = `http://127.0.0.1:${port}`;
  await waitFor(`${base}/api/health`, 60_000);
}
const host = new URL(base).hostname;
if (!['127.0.0.1', 'localhost', '::1', '[::1]'].includes(host)) throw new Error('benchmarks only target this machine (127.0.0.1)');

try {
  const ids = (await (await fetch(`${base}/api/compressors`)).json()).compressors.map((c) => c.compressor_id);
  const alerts = (await (await fetch(`${base}/api/alerts?page_size=100`)).json()).rows.map((a) => a.alert_id);
  const pick = (list) => encodeURIComponent(list[Math.floor(Math.random() * list.length)]);
  const fleetSize = ids.length;
  // Each request picks a random compressor/alert, so one cached row cannot flatter the numbers.
  const routes = [
    ['GET /api/fleet (KPIs + stations)', () => '/api/fleet'],
    [`GET /api/compressors (all ${fleetSize}, newest hour each)`, () => '/api/compressors'],
    ['GET /api/compressors/:id', () => `/api/compressors/${pick(ids)}`],
    ['GET /api/compressors/:id/readings?range=7d', () => `/api/compressors/${pick(ids)}/readings?range=7d`],
    ['GET /api/compressors/:id/readings?range=90d', () => `/api/compressors/${pick(ids)}/readings?range=90d`],
    ['GET /api/alerts (page 1 of all)', () => '/api/alerts'],
    ['GET /api/alerts?severity=critical&active=true', () => '/api/alerts?severity=critical&active=true'],
    ['GET /api/alerts?compressor=:id', () => `/api/alerts?compressor=${pick(ids)}`],
    ['GET /api/alerts/:id (with audit trail)', () => `/api/alerts/${pick(alerts.length ? alerts : ['none'])}`],
    ['GET /api/quality?runs=30', () => '/api/quality?runs=30'],
    ['GET / (fleet overview page, HTML)', () => '/'],
    ['GET /monitoring/:id (detail page, HTML)', () => `/monitoring/${pick(ids)}`],
  ];
  const results = [];
  for (const [name, next] of routes) {
    for (let i = 0; i < 5; i++) await fetch(base + next()).then((r) => r.arrayBuffer()); // warm up
    results.push({ route: name, ...(await measure(next)) });
  }
  if (args.json) console.log(JSON.stringify({ base, fleetSize, requests: REQUESTS, concurrency: CONCURRENCY, results }, null, 2));
  else print(results, fleetSize);
} finally {
  if (server) process.kill(-server.pid, 'SIGTERM');
}

async function measure(next) {
  const times = [];
  let errors = 0;
  let issued = 0;
  const deadline = Date.now() + MAX_MS;
  async function worker() {
    while (issued < REQUESTS && Date.now() < deadline) {
      issued++;
      const t = performance.now();
      const res = await fetch(base + next());
      await res.arrayBuffer();
      times.push(performance.now() - t);
      if (res.status >= 400) errors++;
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  times.sort((a, b) => a - b);
  const q = (p) => times[Math.min(times.length - 1, Math.ceil((p / 100) * times.length) - 1)];
  return { n: times.length, errors, p50: q(50), p95: q(95), p99: q(99), max: times[times.length - 1] };
}

function print(results, fleetSize) {
  console.log(`${base} · ${fleetSize} compressors · ${REQUESTS} requests per route · concurrency ${CONCURRENCY} · ms`);
  console.log(`${'route'.padEnd(52)} ${'n'.padStart(5)} ${'err'.padStart(4)} ${'p50'.padStart(8)} ${'p95'.padStart(8)} ${'p99'.padStart(8)} ${'max'.padStart(8)}`);
  for (const r of results) {
    const f = (v) => v.toFixed(1).padStart(8);
    console.log(`${r.route.padEnd(52)} ${String(r.n).padStart(5)} ${String(r.errors).padStart(4)} ${f(r.p50)} ${f(r.p95)} ${f(r.p99)} ${f(r.max)}`);
  }
}

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function waitFor(url, ms) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`server at ${url} did not come up`);
}
