#!/usr/bin/env node
// Production server: one Next.js process per CPU core behind Node's cluster module (the primary
// accepts connections and hands them to the workers in turn). Rendering a page is single-threaded
// CPU work (~20-30 ms), so one `next start` on a 2-core machine queues concurrent page loads behind
// each other while the second core idles.
//
//   node scripts/start.mjs [-p 3000] [-H 0.0.0.0] [--workers N]     (what `npm start` runs)
// Workers: --workers, else WEB_CONCURRENCY, else os.availableParallelism(); 1 runs a single process
// without the cluster primary. A worker that dies is replaced. SIGTERM / SIGINT stop them all.
// Needs a production build (npm run build).
import cluster from 'node:cluster';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { serverCompression } from './compression.mjs';
import { responseCache } from './response-cache.mjs';

const FRONTEND_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const { values: args } = parseArgs({
  options: {
    port: { type: 'string', short: 'p' },
    hostname: { type: 'string', short: 'H' },
    workers: { type: 'string', short: 'w' },
  },
});
const port = Number(args.port ?? process.env.PORT ?? 3000);
const hostname = args.hostname ?? process.env.HOSTNAME ?? '0.0.0.0';
const workers = Number(args.workers ?? process.env.WEB_CONCURRENCY ?? os.availableParallelism());
if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`bad port: ${args.port ?? process.env.PORT}`);
if (!Number.isInteger(workers) || workers < 1 || workers > 64) throw new Error(`--workers / WEB_CONCURRENCY must be 1..64, not ${workers}`);
process.env.NODE_ENV = 'production';

if (cluster.isPrimary && workers > 1) {
  let stopping = false;
  let recent = []; // times of unexpected worker exits
  for (let i = 0; i < workers; i++) cluster.fork();
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) {
      if (!Object.keys(cluster.workers ?? {}).length) process.exit(0);
      return;
    }
    // A worker that cannot even start (no build, port taken) would be replaced forever: give up instead.
    const now = Date.now();
    recent = recent.filter((t) => now - t < 60_000).concat(now);
    if (recent.length > 3 * workers) {
      console.error(`[start] workers keep exiting (${signal ?? code}); stopping`);
      process.exit(1);
    }
    console.error(`[start] worker ${worker.process.pid} exited (${signal ?? code}); starting another`);
    cluster.fork();
  });
  const stop = () => {
    if (stopping) return;
    stopping = true;
    const alive = Object.values(cluster.workers ?? {});
    if (!alive.length) process.exit(0);
    for (const w of alive) w?.process.kill('SIGTERM');
    setTimeout(() => process.exit(0), 5000).unref();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  console.log(`▲ Altaviz dashboard: ${workers} Next.js workers on http://${hostname}:${port}`);
} else {
  // This process compresses (gzip level 1 instead of Next's default 6: a third of the CPU, responses
  // ~10 % larger); next.config.ts turns Next's own compression off when this is set.
  process.env.ALTAVIZ_SERVER_COMPRESSION = '1';
  const compress = serverCompression();
  const { default: next } = await import('next');
  const app = next({ dev: false, dir: FRONTEND_DIR, hostname, port });
  const handle = app.getRequestHandler();
  await app.prepare();
  // Anonymous GET answers are kept per serving-data version (scripts/response-cache.mjs).
  const serve = responseCache();
  // The cache sits outside compression, so a hit sends the compressed bytes it kept as they are.
  const server = http.createServer((req, res) => serve(req, res, (rq, rs) => compress(rq, rs, () => handle(rq, rs))));
  // As `next start`: keep idle keep-alive sockets a little longer than common proxies do.
  server.keepAliveTimeout = 65_000;
  server.listen(port, hostname, () => {
    if (!cluster.isWorker) console.log(`▲ Altaviz dashboard on http://${hostname}:${port}`);
  });
  // Exit through process.exit so `node --cpu-prof` can write its profile.
  const stop = () => {
    server.close(() => process.exit(0));
    server.closeIdleConnections();
    setTimeout(() => process.exit(0), 3000).unref();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
