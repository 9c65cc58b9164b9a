import type { Metadata } from 'next';
import Link from 'next/link';
import { notFound } from 'next/navigation';
import { safeDecode } from '@/app/lib/safe-decode';
import { Suspense } from 'react';
import { fetchChartSeries, fetchCompressor, fetchCompressorAlertHistory, fetchThresholds } from '@/app/lib/data';
import { fmtRisk, fmtRul, fmtTime, riskStatus } from '@/app/lib/format';
import { compressorIdSchema, rangePresetSchema } from '@/app/lib/validation';
import { AlertHistory } from '@/app/ui/alerts/alert-history';
import { Gauges } from '@/app/ui/monitoring/gauges';
import { RangePicker } from '@/app/ui/monitoring/range-picker';
import { ReadingCharts } from '@/app/ui/monitoring/reading-charts';
import { PanelSkeleton, TableSkeleton } from '@/app/ui/shared/skeletons';
import { StatusBadge } from '@/app/ui/shared/status';

export async function generateMetadata(props: PageProps<'/monitoring/[compressorId]'>): Promise<Metadata> {
  return { title: safeDecode((await props.params).compressorId) };
}

export default async function CompressorPage(props: PageProps<'/monitoring/[compressorId]'>) {
  const id = compressorIdSchema.safeParse(safeDecode((await props.params).compressorId));
  if (!id.success) notFound();
  const rangeParam = (await props.searchParams).range;
  // An unknown ?range= falls back to the default week instead of failing the page.
  const range = rangePresetSchema.catch('7d').parse(typeof rangeParam === 'string' ? rangeParam : undefined);
  const readingsQuery = { range, points: 600, format: 'series' } as const;
  // Started together with the unit's own row instead of after it: a database round trip less before the
  // charts and the history stream in (each one waits for a CPU slot on a busy host). Awaited below.
  const readings = fetchChartSeries(id.data, readingsQuery);
  const history = fetchCompressorAlertHistory(id.data);
  readings.catch(() => undefined);
  history.catch(() => undefined);
  const [c, thresholds] = await Promise.all([fetchCompressor(id.data), fetchThresholds()]);
  if (!c) notFound();
  const base = `/monitoring/${encodeURIComponent(c.compressor_id)}`;
  return (
    <>
      <div className="page-head">
        <div>
          <div className="breadcrumb"><Link href="/monitoring">Monitoring</Link> / {c.station_name}</div>
          <h1 data-testid="compressor-title">
            {c.compressor_id} <StatusBadge status={c.health_status} />
          </h1>
        </div>
        <p className="muted">
          {c.model} · {c.rated_horsepower.toLocaleString('en-US')} hp rated · installed {c.install_date} · {c.basin} basin ·
          last hour {fmtTime(c.latest?.hour_start)}
        </p>
        {c.risk ? (
          <p data-testid="risk-summary">
            Failure risk within 72 h{' '}
            <strong className={`text-${riskStatus(c.risk.failure_probability_72h)}`}>{fmtRisk(c.risk.failure_probability_72h)}</strong>
            {' · '}remaining useful life <strong>{fmtRul(c.risk.rul_hours)}</strong>
            <span className="muted"> · model version {c.risk.model_version}, hour of {fmtTime(c.risk.hour_start)}</span>
          </p>
        ) : null}
      </div>
      <Gauges compressor={c} thresholds={thresholds} />
      <section aria-labelledby="trends-title">
        <div className="panel__head">
          <h2 id="trends-title">Hourly trends</h2>
          <RangePicker basePath={base} current={range} />
        </div>
        <Suspense key={range} fallback={<div className="chart-grid"><PanelSkeleton height={230} /><PanelSkeleton height={230} /></div>}>
          <ReadingCharts compressorId={c.compressor_id} query={readingsQuery} thresholds={thresholds} data={readings} />
        </Suspense>
      </section>
      <Suspense fallback={<TableSkeleton rows={4} />}>
        <AlertHistory compressorId={c.compressor_id} alerts={history} />
      </Suspense>
    </>
  );
}
