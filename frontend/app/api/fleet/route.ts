import { handler, json } from '@/app/lib/api';
import { fetchFleetKpis, fetchStations } from '@/app/lib/data';

export const GET = handler(async () => {
  const [kpis, stations] = await Promise.all([fetchFleetKpis(), fetchStations()]);
  return json({ kpis, stations });
});
