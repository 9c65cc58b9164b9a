import type { Metadata } from 'next';
import { Suspense } from 'react';
import { PipelineRuns, QualityScorecard, QualityTrends, QuarantineByRule } from '@/app/ui/quality/quality-widgets';
import { PanelSkeleton, TableSkeleton } from '@/app/ui/shared/skeletons';

export const metadata: Metadata = { title: 'Data quality' };

const RUNS_SHOWN = 30;

export default function DataQualityPage() {
  return (
    <>
      <div className="page-head">
        <h1>Data quality</h1>
        <p className="muted">Freshness, completeness, consistency and accuracy per run and table; what was quarantined and why</p>
      </div>
      <Suspense fallback={<TableSkeleton rows={4} />}>
        <QualityScorecard />
      </Suspense>
      <Suspense fallback={<div className="chart-grid"><PanelSkeleton height={230} /><PanelSkeleton height={230} /></div>}>
        <QualityTrends runs={RUNS_SHOWN} />
      </Suspense>
      <Suspense fallback={<PanelSkeleton height={180} />}>
        <QuarantineByRule runs={RUNS_SHOWN} />
      </Suspense>
      <Suspense fallback={<TableSkeleton rows={5} />}>
        <PipelineRuns runs={RUNS_SHOWN} />
      </Suspense>
    </>
  );
}
