import { handler, json, jsonText, parseParam, parseQuery } from '@/app/lib/api';
import { compressorExists, fetchChartSeries, fetchHourlyReadings } from '@/app/lib/data';
import { NotFoundError } from '@/app/lib/mutations';
import { compressorIdSchema, readingsQuerySchema } from '@/app/lib/validation';

/**
 * GET ?range=24h|3d|7d|30d|90d (anchored at the newest hour) or ?from=&to= (ISO 8601, at most 366 days),
 * and &points= (10-5000, default 600): longer ranges come back in buckets of whole hours (bucket_hours).
 * &format=series answers the charts' columns instead of rows (see fetchChartSeries).
 */
export const GET = handler(async (request, { params }: RouteContext<'/api/compressors/[compressorId]/readings'>) => {
  const id = parseParam(compressorIdSchema, (await params).compressorId, 'compressor id');
  const q = parseQuery(readingsQuerySchema, new URL(request.url).searchParams);
  // In parallel: an unknown id reads as no rows, and is then answered 404.
  if (q.format === 'series') {
    const [exists, { series, ...window }] = await Promise.all([compressorExists(id), fetchChartSeries(id, q)]);
    if (!exists) throw new NotFoundError(`compressor ${id} does not exist`);
    // PostgreSQL's JSON text goes out as it is, not parsed and serialized again.
    return jsonText(`${JSON.stringify({ compressor_id: id, ...window }).slice(0, -1)},"series":${series}}`);
  }
  const [exists, readings] = await Promise.all([compressorExists(id), fetchHourlyReadings(id, q)]);
  if (!exists) throw new NotFoundError(`compressor ${id} does not exist`);
  return json({ compressor_id: id, ...readings });
});
