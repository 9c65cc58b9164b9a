import type { Metadata } from 'next';
import Link from 'next/link';
import { Suspense } from 'react';
import { fetchStations } from '@/app/lib/data';
import { fleetFiltersSchema, searchParamsToObject } from '@/app/lib/validation';
import { FleetTable } from '@/app/ui/monitoring/fleet-table';
import { FilterForm } from '@/app/ui/shared/filter-form';
import { TableSkeleton } from '@/app/ui/shared/skeletons';

export const metadata: Metadata = { title: 'Monitoring' };

export default async function MonitoringPage(props: PageProps<'/monitoring'>) {
  const parsed = fleetFiltersSchema.safeParse(searchParamsToObject(await props.searchParams));
  // A hand-edited URL with a bad filter shows the whole fleet rather than an error page.
  const filters = parsed.success ? parsed.data : {};
  const stations = await fetchStations();
  return (
    <>
      <div className="page-head">
        <h1>Monitoring</h1>
        <p className="muted">Current hourly values for every compressor, worst first</p>
      </div>
      <FilterForm key={JSON.stringify(filters)} action="/monitoring" testId="fleet-filters">
        <label className="field">Station
          <select name="station" defaultValue={filters.station ?? ''}>
            <option value="">All stations</option>
            {stations.map((s) => <option key={s.station_id} value={s.station_id}>{s.station_name}</option>)}
          </select>
        </label>
        <label className="field">Health
          <select name="health" defaultValue={filters.health ?? ''}>
            <option value="">Any</option>
            <option value="critical">Critical</option>
            <option value="warning">Warning</option>
            <option value="normal">Healthy</option>
            <option value="unknown">No data</option>
          </select>
        </label>
        {parsed.success ? null : <Link href="/monitoring">Ignored an invalid filter: clear</Link>}
      </FilterForm>
      <Suspense key={JSON.stringify(filters)} fallback={<TableSkeleton rows={10} />}>
        <FleetTable filters={filters} />
      </Suspense>
    </>
  );
}
