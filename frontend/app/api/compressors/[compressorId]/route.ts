import { handler, json, parseParam } from '@/app/lib/api';
import { fetchCompressor, fetchThresholds } from '@/app/lib/data';
import { NotFoundError } from '@/app/lib/mutations';
import { compressorIdSchema } from '@/app/lib/validation';

export const GET = handler(async (_request, { params }: RouteContext<'/api/compressors/[compressorId]'>) => {
  const id = parseParam(compressorIdSchema, (await params).compressorId, 'compressor id');
  const [compressor, thresholds] = await Promise.all([fetchCompressor(id), fetchThresholds()]);
  if (!compressor) throw new NotFoundError(`compressor ${id} does not exist`);
  return json({ compressor, thresholds });
});
