#!/usr/bin/env node
// Latency of the dashboard's API routes and pages: p50/p95/p99 per route, bounded in requests and time.
// Any failed request (network error or HTTP status >= 400) fails the run with exit code 1, after the
// table, naming the route and the first error; --p95-max <ms> also fails a route slower than that.
// When it starts the server (Linux), `cpu/req` is the dashboard process's CPU time per request, which
// the machine's other load does not inflate the way it inflates latency.
// `cached` is the share of a route's requests the response cache answered (X-Altaviz-Cache: hit): anonymous
// requests, as these are, get cached pages; each request for one unit picks a random one of the fleet.
//
//   node scripts/bench-api.mjs --base-url http://127.0.0.1:3000           # a dashboard that is running
//   node scripts/bench-api.mjs --database-url postgresql://...             # starts scripts/start.mjs on that DB
//   node scripts/bench-api.mjs --altaviz-home ../.altaviz/e2e              # starts it on a pipeline's DB
// The server it starts is scripts/start.mjs (what `npm start` runs): --workers Next.js processes
// (default one per CPU core); --workers 1 is a single process like `next start`.
// --only <regex> measures only the routes whose name matches. --warmup N (default 20) requests per route
// go first, one at a time and not counted, so that every worker has compiled the route's code: the
// state of a server that has been up a while, not of its first few requests.
// Needs a production build (npm run build) when it starts the server. Talks to 127.0.0.1 only.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { FRONTEND_DIR } from './db-config.mjs';

const { values: args } = parseArgs({
  options: {
    'base-url': { type: 'string' },
    'database-url': { type: 'string' },
    'altaviz-home': { type: 'string' },
    requests: { type: 'string', default: '200' },
    warmup: { type: 'string', default: '20' },
    concurrency: { type: 'string', default: '4' },
    'max-seconds': { type: 'string', default: '60' },
    'p95-max': { type: 'string' },
    json: { type: 'boolean', default: false },
    workers: { type: 'string' },
    only: { type: 'string' },
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
  const workers = args.workers ? ['--workers', args.workers] : [];
  server = spawn(process.execPath, [path.join(FRONTEND_DIR, 'scripts/start.mjs'), '-p', String(port), '-H', '127.0.0.1', ...workers], {
    cwd: FRONTEND_DIR, env, stdio: ['ignore', 'ignore', 'inherit'], detached: true,
  });
  base = `http://127.0.0.1:${port}`;
  await waitFor(`${base}/api/health`, 60_000);
}
const host = new URL(base).hostname;
if (!['127.0.0.1', 'localhost', '::1', '[::1]'].includes(host)) throw new Error('benchmarks only target this machine (127.0.0.1)');

let failed = false;
try {
  const ids = (await getJson('/api/compressors?page_size=1000')).compressors.map((c) => c.compressor_id);
  const alerts = (await getJson('/api/alerts?page_size=100')).rows.map((a) => a.alert_id);
  if (!ids.length) throw new Error(`${base} serves no compressors: seed or publish data first`);
  const facets = (await getJson('/api/fleet')).stations;
  const pick = (list) => encodeURIComponent(list[Math.floor(Math.random() * list.length)]);
  const fleetSize = ids.length;
  const basin = encodeURIComponent(facets[0]?.basin ?? 'Permian');
  // Each request picks a random compressor/alert, so one cached row cannot flatter the numbers.
  const routes = [
    ['GET /api/fleet (KPIs + stations)', () => '/api/fleet'],
    ['GET /api/compressors (page 1, worst first)', () => '/api/compressors'],
    ['GET /api/compressors?q=&basin=&sort=vibration', () => `/api/compressors?q=${pick(ids).slice(0, 7)}&basin=${basin}&sort=vibration`],
    [`GET /api/compressors?page_size=1000 (all ${fleetSize})`, () => '/api/compressors?page_size=1000'],
    ['GET /api/compressors/:id', () => `/api/compressors/${pick(ids)}`],
    ['GET /api/compressors/:id/readings?range=7d', () => `/api/compressors/${pick(ids)}/readings?range=7d`],
    ['GET /api/compressors/:id/readings?range=90d', () => `/api/compressors/${pick(ids)}/readings?range=90d`],
    ['GET /api/alerts (page 1 of all)', () => '/api/alerts'],
    ['GET /api/alerts?severity=critical&active=true', () => '/api/alerts?severity=critical&active=true'],
    ['GET /api/alerts?compressor=:id', () => `/api/alerts?compressor=${pick(ids)}`],
    ['GET /api/alerts/:id (with audit trail)', () => `/api/alerts/${pick(alerts.length ? alerts : ['none'])}`],
    ['GET /api/quality?runs=30', () => '/api/quality?runs=30'],
    ['GET / (fleet overview page, HTML)', () => '/'],
    ['GET /?sort=alerts&page=3 (overview, page 3)', () => '/?sort=alerts&page=3'],
    ['GET /monitoring (fleet list page, HTML)', () => '/monitoring'],
    ['GET /monitoring?basin=&health=normal&page=2', () => `/monitoring?basin=${basin}&health=normal&page=2`],
    ['GET /monitoring/:id (detail page, 7d)', () => `/monitoring/${pick(ids)}`],
    ['GET /monitoring/:id?range=90d (detail page)', () => `/monitoring/${pick(ids)}?range=90d`],
    ['GET /alerts (alerts page, HTML)', () => '/alerts'],
    ['GET /data-quality (page, HTML)', () => '/data-quality'],
  ];
  const only = args.only ? new RegExp(args.only) : null;
  const results = [];
  for (const [name, next] of routes.filter(([name]) => !only || only.test(name))) {
    for (let i = 0; i < Number(args.warmup); i++) await fetch(base + next()).then((r) => r.arrayBuffer()).catch(() => undefined);
    const cpu0 = serverCpuMs();
    const r = await measure(next);
    const cpu1 = serverCpuMs();
    results.push({ route: name, ...r, cpuPerRequest: cpu0 === null || cpu1 === null ? null : (cpu1 - cpu0) / r.n });
  }
  if (args.json) console.log(JSON.stringify({ base, fleetSize, requests: REQUESTS, concurrency: CONCURRENCY, results }, null, 2));
  else print(results, fleetSize);
  const budget = args['p95-max'] ? Number(args['p95-max']) : Infinity;
  for (const r of results) {
    if (r.errors) {
      console.error(`FAILED: ${r.route}: ${r.errors} of ${r.n} requests failed, first: ${r.firstError}`);
      failed = true;
    }
    if (r.p95 > budget) {
      console.error(`FAILED: ${r.route}: p95 ${r.p95.toFixed(1)} ms is over --p95-max ${budget} ms`);
      failed = true;
    }
  }
} finally {
  if (server) process.kill(-server.pid, 'SIGTERM');
}
if (failed) process.exit(1);

/**
 * utime + stime in ms of the server: the process we started and its workers (its process group,
 * since it was spawned detached). null when it is not ours or there is no /proc.
 */
function serverCpuMs() {
  if (!server) return null;
  let total = 0;
  let found = false;
  let pids;
  try {
    pids = fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return null;
  }
  for (const pid of pids) {
    try {
      const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
      if (Number(fields[2]) !== server.pid) continue; // field 5, pgrp: our detached server's group
      total += (Number(fields[11]) + Number(fields[12])) * 10; // clock ticks of 10 ms (USER_HZ = 100)
      found = true;
    } catch {
      // gone meanwhile
    }
  }
  return found ? total : null;
}

async function getJson(pathname) {
  const res = await fetch(base + pathname);
  if (!res.ok) throw new Error(`GET ${pathname} answered ${res.status}: ${(await res.text()).slice(0, 300)}`);
  return res.json();
}

async function measure(next) {
  const times = [];
  let errors = 0;
  let firstError = null;
  let issued = 0;
  let hits = 0; // answered from the response cache (X-Altaviz-Cache: hit, scripts/response-cache.mjs)
  const deadline = Date.now() + MAX_MS;
  async function worker() {
    while (issued < REQUESTS && Date.now() < deadline) {
      issued++;
      const url = next();
      const t = performance.now();
      try {
        const res = await fetch(base + url);
        const body = await res.arrayBuffer();
        if (res.headers.get('x-altaviz-cache') === 'hit') hits++;
        if (res.status >= 400) {
          errors++;
          firstError ??= `${url} -> ${res.status} ${Buffer.from(body).toString('utf8').slice(0, 200)}`;
        }
      } catch (err) {
        errors++;
        firstError ??= `${url} -> ${err.cause?.code ?? err.message}`;
      }
      times.push(performance.now() - t);
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  times.sort((a, b) => a - b);
  const q = (p) => times[Math.min(times.length - 1, Math.ceil((p / 100) * times.length) - 1)];
  return { n: times.length, errors, firstError, hit: hits / Math.max(1, times.length), p50: q(50), p95: q(95), p99: q(99), max: times[times.length - 1] };
}

function print(results, fleetSize) {
  // The machine's load says how much of the latency is this dashboard and how much is its neighbours.
  const load = os.loadavg().map((l) => l.toFixed(1)).join(' ');
  console.log(`${base} · ${fleetSize} compressors · ${REQUESTS} requests per route · concurrency ${CONCURRENCY} · ms`);
  console.log(`${os.cpus().length} CPUs · ${server ? `server: scripts/start.mjs, ${args.workers ?? os.availableParallelism()} worker(s)` : 'server: given'} · load average after the run (1/5/15 min) ${load}`);
  console.log(`${'route'.padEnd(52)} ${'n'.padStart(5)} ${'err'.padStart(4)} ${'p50'.padStart(8)} ${'p95'.padStart(8)} ${'p99'.padStart(8)} ${'max'.padStart(8)} ${'cpu/req'.padStart(8)} ${'cached'.padStart(7)}`);
  for (const r of results) {
    const f = (v) => v.toFixed(1).padStart(8);
    const cpu = r.cpuPerRequest === null ? '—'.padStart(8) : f(r.cpuPerRequest);
    console.log(`${r.route.padEnd(52)} ${String(r.n).padStart(5)} ${String(r.errors).padStart(4)} ${f(r.p50)} ${f(r.p95)} ${f(r.p99)} ${f(r.max)} ${cpu} ${`${Math.round(r.hit * 100)}%`.padStart(7)}`);
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
