import Link from 'next/link';
import { fetchNewestActiveAlerts } from '@/app/lib/data';
import { fmtNumber, fmtTime } from '@/app/lib/format';
import { sensorLabel } from '@/app/lib/sensors';
import { EmptyState } from '../shared/empty-state';
import { StatusBadge } from '../shared/status';

export async function NewestAlerts() {
  const alerts = await fetchNewestActiveAlerts(8);
  return (
    <section className="panel" aria-labelledby="newest-alerts-title" data-testid="newest-alerts">
      <div className="panel__head">
        <h2 id="newest-alerts-title">Needs attention</h2>
        <Link href="/alerts?active=true">All active alerts →</Link>
      </div>
      {alerts.length === 0 ? (
        <EmptyState title="No active alerts">Every compressor is inside its limits, or every alert has been resolved.</EmptyState>
      ) : (
        <ul className="timeline">
          {alerts.map((a) => (
            <li key={a.alert_id} style={{ borderLeftColor: `var(--${a.current_severity === 'normal' ? 'border' : a.current_severity})` }}>
              <div className="ccard__head">
                <span>
                  <Link href={`/monitoring/${encodeURIComponent(a.compressor_id)}`} className="mono">{a.compressor_id}</Link>{' '}
                  {sensorLabel(a.sensor)}
                </span>
                <StatusBadge status={a.current_severity} label={a.current_severity} />
              </div>
              <div className="muted">
                {a.sensor === 'running_state'
                  ? <>stopped since {fmtTime(a.opened_at)} ·{' '}</>
                  : <>peak {fmtNumber(a.peak_value)} vs limit {fmtNumber(a.threshold_value)} · since {fmtTime(a.opened_at)} ·{' '}</>}
                <Link href={`/alerts/${encodeURIComponent(a.alert_id)}`}>{a.status}</Link>
              </div>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
