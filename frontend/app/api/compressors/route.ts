import { handler, json, parseQuery } from '@/app/lib/api';
import { fetchFleetPage } from '@/app/lib/data';
import { fleetQuerySchema } from '@/app/lib/validation';

/** GET ?q=&station=&basin=&model=&health=&sort=&page=&page_size= (at most 1000 per page). */
export const GET = handler(async (request) => {
  const q = parseQuery(fleetQuerySchema, new URL(request.url).searchParams);
  const page = await fetchFleetPage(q);
  return json({ compressors: page.rows, total: page.total, page: page.page, page_size: page.page_size });
});
