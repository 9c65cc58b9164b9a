import type { Metadata } from 'next';
import { Suspense } from 'react';
import { fetchFleetFacets } from '@/app/lib/data';
import { pageFleetQuery } from '@/app/lib/validation';
import { FleetToolbar } from '@/app/ui/fleet/fleet-toolbar';
import { FleetTable } from '@/app/ui/monitoring/fleet-table';
import { TableSkeleton } from '@/app/ui/shared/skeletons';

export const metadata: Metadata = { title: 'Monitoring' };

const PAGE_SIZE = 50;

export default async function MonitoringPage(props: PageProps<'/monitoring'>) {
  const { query, invalid } = pageFleetQuery(await props.searchParams, PAGE_SIZE);
  const facets = await fetchFleetFacets();
  const filtered = Boolean(query.q || query.station || query.basin || query.model || query.health);
  return (
    <>
      <div className="page-head">
        <h1>Monitoring</h1>
        <p className="muted">Current hourly values for every compressor; search, filter and sort</p>
      </div>
      <FleetToolbar action="/monitoring" query={query} facets={facets} invalid={invalid} />
      <Suspense key={JSON.stringify(query)} fallback={<TableSkeleton rows={10} />}>
        <FleetTable query={query} filtered={filtered} />
      </Suspense>
    </>
  );
}
