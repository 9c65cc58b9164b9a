// gzip/deflate/br for scripts/start.mjs, instead of Next.js's own compression: the same middleware Next
// bundles (the `compression` package), at zlib level 1. Level 6 (Next's default) spends about three times
// the CPU for responses ~10 % smaller; on a dashboard whose pages and JSON are 50-400 kB before
// compression, that CPU was a sizeable part of each request.
import { createRequire } from 'node:module';
import { Duplex } from 'node:stream';
import zlib from 'node:zlib';

const require = createRequire(import.meta.url);
const compression = require('next/dist/compiled/compression');

export function serverCompression() {
  const middleware = compression({
    level: zlib.constants.Z_BEST_SPEED,
    brotli: { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 1 } },
  });
  return (req, res, next) => {
    middleware(req, res, next);
    // As Next does: a client that disconnects mid-response leaves the zlib stream open; destroy it.
    res.once('close', () => {
      if (res.writableFinished) return;
      const noop = () => {};
      const stream = res.on('drain', noop);
      if (stream === res || !(stream instanceof Duplex)) res.off('drain', noop);
      else stream.destroy();
    });
  };
}
