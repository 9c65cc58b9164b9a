import { handler, json, parseQuery } from '@/app/lib/api';
import { fetchPipelineRuns, fetchQualityMetrics, fetchQuarantineCounts } from '@/app/lib/data';
import { qualityQuerySchema } from '@/app/lib/validation';

/** GET ?runs=N: quality metrics, quarantine counts and pipeline runs of the newest N runs. */
export const GET = handler(async (request) => {
  const { runs } = parseQuery(qualityQuerySchema, new URL(request.url).searchParams);
  const [metrics, quarantine, pipelineRuns] = await Promise.all([
    fetchQualityMetrics(runs), fetchQuarantineCounts(runs), fetchPipelineRuns(runs),
  ]);
  return json({ metrics, quarantine, runs: pipelineRuns });
});
