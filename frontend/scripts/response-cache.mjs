// Whole-response cache in front of Next.js (scripts/start.mjs): a page or GET API response rendered for
// a reader who is not signed in is kept, compressed as sent, under the serving data's version (the
// newest publish, pipeline run and operator action: app/lib/serving-cache.ts), and answered again to
// the next anonymous request for the same URL while that version holds. Rendering a page is 15-40 ms of
// CPU; answering it from here is well under 1 ms plus one small version query.
//
// The version is read afresh for every request (not the fleet cache's once-a-second memo), so a cached
// answer is never older than the data: an operator action or a publish is visible on the next request
// in every worker process. What is cached, only:
// - GET requests for a document or an API route: not Next's RSC/prefetch/server-action requests, not
//   /_next/ assets, /api/health, /api/auth/ or /sign-in;
// - without cookies other than `theme` (part of the key): a session's pages, its CSRF token and role
//   are never shared, and with AUTH_REQUIRE_SIGN_IN=on nothing is cached at all;
// - answers 200 without Set-Cookie, at most MAX_AGE_MS old (pages print "n min ago"), and no page
//   that streamed an error (a failed widget, notFound()).
// ALTAVIZ_RESPONSE_CACHE=off turns it off. Responses say `X-Altaviz-Cache: hit|miss`.

import zlib from 'node:zlib';

const MAX_AGE_MS = 30_000;
const MAX_ENTRIES = 300;
const MAX_BYTES = 64 * 1024 * 1024;
const SKIP_PATH = /^\/(?:_next\/|api\/health$|api\/auth\/|sign-in$)/;

/** @returns {(req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse, handle: Function) => unknown} */
export function responseCache(env = process.env) {
  const off = (env.ALTAVIZ_RESPONSE_CACHE ?? '').toLowerCase() === 'off'
    || (env.AUTH_REQUIRE_SIGN_IN ?? 'off').trim().toLowerCase() !== 'off';
  /** @type {Map<string, {version: string, at: number, status: number, headers: Record<string, unknown>, body: Buffer}>} */
  const store = new Map();
  /** @type {Map<string, {version: string, done: Promise<void>}>} renders under way, by key */
  const pending = new Map();
  let bytes = 0;

  const drop = (key) => {
    const e = store.get(key);
    if (e) {
      bytes -= e.body.length;
      store.delete(key);
    }
  };

  return async function serve(req, res, handle) {
    const key = off ? null : cacheKey(req);
    /** @type {(() => Promise<string | null>) | undefined} */
    const readVersion = globalThis.__altavizServingVersion; // registered by app/lib/serving-cache.ts
    if (!key || !readVersion) return handle(req, res);
    let version;
    try {
      version = await readVersion();
    } catch {
      version = null; // database down: let the page say so
    }
    if (!version) return handle(req, res);
    const fresh = () => {
      const hit = store.get(key);
      return hit && hit.version === version && Date.now() - hit.at < MAX_AGE_MS ? hit : null;
    };
    // The same page already being rendered for this version: wait for it rather than render it twice.
    const inFlight = pending.get(key);
    if (!fresh() && inFlight?.version === version) await inFlight.done;
    const hit = fresh();
    if (hit) {
      store.delete(key); // most recently used last
      store.set(key, hit);
      res.writeHead(hit.status, { ...hit.headers, 'content-length': hit.body.length, 'x-altaviz-cache': 'hit' });
      return res.end(hit.body);
    }
    drop(key);
    let settle;
    const flight = { version, done: new Promise((r) => (settle = r)) };
    pending.set(key, flight);
    res.once('close', () => {
      if (pending.get(key) === flight) pending.delete(key);
      settle();
    });

    // Miss: let Next answer, and keep a copy of what it sends (after its compression).
    res.setHeader('x-altaviz-cache', 'miss');
    const chunks = [];
    let size = 0;
    let headArg = null;
    const { write, end, writeHead } = res;
    const keep = (chunk, encoding) => {
      if (chunk === undefined || chunk === null || typeof chunk === 'function') return;
      const b = Buffer.isBuffer(chunk) ? chunk : typeof chunk === 'string' ? Buffer.from(chunk, typeof encoding === 'string' ? encoding : 'utf8') : Buffer.from(chunk);
      chunks.push(b);
      size += b.length;
    };
    res.writeHead = function (status, ...rest) {
      const h = rest.find((a) => a && typeof a === 'object');
      if (h) headArg = Array.isArray(h) ? null : h;
      return writeHead.call(this, status, ...rest);
    };
    res.write = function (chunk, encoding, cb) {
      keep(chunk, encoding);
      return write.call(this, chunk, encoding, cb);
    };
    res.end = function (chunk, encoding, cb) {
      keep(chunk, encoding);
      return end.call(this, chunk, encoding, cb);
    };
    res.once('finish', () => {
      if (res.statusCode !== 200 || res.getHeader('set-cookie') || size > MAX_BYTES / 8) return;
      const headers = { ...res.getHeaders(), ...(headArg ?? {}) };
      for (const h of ['content-length', 'transfer-encoding', 'connection', 'keep-alive', 'date', 'x-altaviz-cache', 'set-cookie']) delete headers[h];
      const body = Buffer.concat(chunks, size);
      if (renderedAnError(headers, body)) return;
      drop(key);
      store.set(key, { version, at: Date.now(), status: 200, headers, body });
      bytes += body.length;
      while (store.size > MAX_ENTRIES || bytes > MAX_BYTES) drop(store.keys().next().value);
    });
    return handle(req, res);
  };
}

/**
 * A page streams with status 200 even when a part of it failed (a widget's query, notFound()): React
 * then sends the error to the browser's error boundary in the stream. Such a page is not kept.
 */
function renderedAnError(headers, body) {
  if (!String(headers['content-type'] ?? '').startsWith('text/html')) return false;
  let html;
  try {
    const enc = String(headers['content-encoding'] ?? '');
    html = (enc === 'gzip' ? zlib.gunzipSync(body) : enc === 'deflate' ? zlib.inflateSync(body) : enc === 'br' ? zlib.brotliDecompressSync(body) : body).toString('utf8');
  } catch {
    return true; // cannot tell: do not keep it
  }
  return html.includes('$RX(') || html.includes('data-dgst') || html.includes(':E{');
}

/** The cache key of a request that may be answered from the cache, else null. */
export function cacheKey(req) {
  if (req.method !== 'GET') return null;
  const url = req.url ?? '';
  const h = req.headers;
  if (!url.startsWith('/') || SKIP_PATH.test(url.split('?')[0]) || /[?&]_rsc=/.test(url)) return null;
  if (h.rsc || h['next-router-prefetch'] || h['next-router-segment-prefetch'] || h['next-router-state-tree'] || h['next-action'] || h['next-url']) return null;
  let theme = '';
  for (const part of (h.cookie ?? '').split(';')) {
    const s = part.trim();
    if (!s) continue;
    const [name, value = ''] = s.split('=', 2);
    if (name !== 'theme') return null; // a session (or anything else) the answer could depend on
    theme = value === 'dark' || value === 'light' ? value : '';
  }
  // The encoding Next's compression picks follows Accept-Encoding; the host goes into absolute URLs.
  return `${h.host ?? ''} ${theme} ${h['accept-encoding'] ?? ''} ${url}`;
}
