import { handler, json, parseQuery } from '@/app/lib/api';
import { fetchFleetSnapshot } from '@/app/lib/data';
import { fleetFiltersSchema } from '@/app/lib/validation';

export const GET = handler(async (request) => {
  const filters = parseQuery(fleetFiltersSchema, new URL(request.url).searchParams);
  return json({ compressors: await fetchFleetSnapshot(filters) });
});
