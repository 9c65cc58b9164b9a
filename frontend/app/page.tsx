import { Suspense } from 'react';
import { CompressorCards } from './ui/fleet/compressor-cards';
import { FleetKpis } from './ui/fleet/kpis';
import { NewestAlerts } from './ui/fleet/newest-alerts';
import { TexasMap } from './ui/fleet/texas-map';
import { CardGridSkeleton, KpiSkeleton, PanelSkeleton } from './ui/shared/skeletons';

export default function FleetOverviewPage() {
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
      <Suspense fallback={<CardGridSkeleton />}>
        <CompressorCards />
      </Suspense>
    </>
  );
}
