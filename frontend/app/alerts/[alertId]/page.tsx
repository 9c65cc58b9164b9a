import type { Metadata } from 'next';
import Link from 'next/link';
import { notFound } from 'next/navigation';
import { safeDecode } from '@/app/lib/safe-decode';
import { Suspense } from 'react';
import { fetchAlert } from '@/app/lib/data';
import { fmtNumber, fmtTime } from '@/app/lib/format';
import { sensorLabel } from '@/app/lib/sensors';
import { alertIdSchema } from '@/app/lib/validation';
import { AlertActions } from '@/app/ui/alerts/alert-actions';
import { AuditTrail } from '@/app/ui/alerts/audit-trail';
import { TableSkeleton } from '@/app/ui/shared/skeletons';
import { StatusBadge } from '@/app/ui/shared/status';

export async function generateMetadata(props: PageProps<'/alerts/[alertId]'>): Promise<Metadata> {
  return { title: `Alert ${safeDecode((await props.params).alertId)}` };
}

export default async function AlertPage(props: PageProps<'/alerts/[alertId]'>) {
  const id = alertIdSchema.safeParse(safeDecode((await props.params).alertId));
  if (!id.success) notFound();
  const a = await fetchAlert(id.data);
  if (!a) notFound();
  return (
    <>
      <div className="page-head">
        <div>
          <div className="breadcrumb"><Link href="/alerts">Alerts</Link> / <span className="mono">{a.alert_id}</span></div>
          <h1>{a.compressor_id} · {sensorLabel(a.sensor)} <StatusBadge status={a.severity} label={a.severity} /></h1>
        </div>
        <AlertActions alertId={a.alert_id} status={a.status} label={`${a.compressor_id} · ${sensorLabel(a.sensor)} · ${a.severity}`} />
      </div>
      <section className="panel" data-testid="alert-detail" data-status={a.status}>
        <dl className="kv">
          <dt>Status</dt><dd><StatusBadge status={a.status} /></dd>
          <dt>Condition</dt><dd>{a.is_active ? `active, now ${a.current_severity}` : `cleared ${fmtTime(a.cleared_at)}`}</dd>
          <dt>Compressor</dt><dd><Link href={`/monitoring/${encodeURIComponent(a.compressor_id)}`}>{a.compressor_id}</Link> at {a.station_id}</dd>
          <dt>Opened</dt><dd>{fmtTime(a.opened_at)}{a.escalated_at ? ` · escalated ${fmtTime(a.escalated_at)}` : ''}</dd>
          <dt>Last reading</dt><dd>{fmtTime(a.last_reading_at)} ({a.reading_count} readings in the episode)</dd>
          <dt>Limit / peak / last</dt><dd>{fmtNumber(a.threshold_value, 2)} / {fmtNumber(a.peak_value, 2)} / {fmtNumber(a.last_value, 2)}</dd>
          <dt>Acknowledged</dt><dd>{a.acknowledged_by ? `${a.acknowledged_by}, ${fmtTime(a.acknowledged_at)}` : '—'}</dd>
          <dt>Resolved</dt><dd>{a.resolved_by ? `${a.resolved_by}, ${fmtTime(a.resolved_at)}` : '—'}</dd>
          <dt>Operator note</dt><dd>{a.operator_note ?? '—'}</dd>
        </dl>
      </section>
      <Suspense fallback={<TableSkeleton rows={3} />}>
        <AuditTrail alertId={a.alert_id} />
      </Suspense>
    </>
  );
}
