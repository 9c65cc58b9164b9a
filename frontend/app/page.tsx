import { Suspense } from 'react';
import { fetchFleetFacets } from './lib/data';
import { pageFleetQuery } from './lib/validation';
import { CompressorCards } from './ui/fleet/compressor-cards';
import { FleetToolbar } from './ui/fleet/fleet-toolbar';
import { FleetKpis } from './ui/fleet/kpis';
import { NewestAlerts } from './ui/fleet/newest-alerts';
import { TexasMap } from './ui/fleet/texas-map';
import { CardGridSkeleton, KpiSkeleton, PanelSkeleton } from './ui/shared/skeletons';

const CARDS_PER_PAGE = 24;

export default async function FleetOverviewPage(props: PageProps<'/'>) {
  const { query, invalid } = pageFleetQuery(await props.searchParams, CARDS_PER_PAGE);
  const filtered = Boolean(query.q || query.station || query.basin || query.model || query.health);
  return (
    <>
      <div className="page-head">
        <h1>Fleet overview</h1>
        <p className="muted">Which units need attention this morning</p>
      </div>
      <Suspense fallback={<KpiSkeleton />}>
        <FleetKpis />
      </Suspense>
      <div className="split">
        <Suspense fallback={<PanelSkeleton height={480} />}>
          <TexasMap />
        </Suspense>
        <Suspense fallback={<PanelSkeleton height={480} />}>
          <NewestAlerts />
        </Suspense>
      </div>
      <div className="panel__head">
        <h2 id="cards-title">Compressors</h2>
      </div>
      <Suspense fallback={<PanelSkeleton height={60} />}>
        <CardsToolbar query={query} invalid={invalid} />
      </Suspense>
      <Suspense key={JSON.stringify(query)} fallback={<CardGridSkeleton />}>
        <CompressorCards query={query} filtered={filtered} />
      </Suspense>
    </>
  );
}

async function CardsToolbar(props: Omit<Parameters<typeof FleetToolbar>[0], 'action' | 'facets'>) {
  return <FleetToolbar action="/" facets={await fetchFleetFacets()} {...props} />;
}
