import { handler, json, parseQuery } from '@/app/lib/api';
import { fetchAlerts } from '@/app/lib/data';
import { alertFiltersSchema } from '@/app/lib/validation';

/** GET ?severity=&status=&compressor=&station=&active=&from=&to=&page=&page_size= */
export const GET = handler(async (request) => {
  const filters = parseQuery(alertFiltersSchema, new URL(request.url).searchParams);
  return json(await fetchAlerts(filters));
});
