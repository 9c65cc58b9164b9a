import Link from 'next/link';
import { fetchFleetPage } from '@/app/lib/data';
import { fmtNumber, fmtRisk, fmtRul, fmtTime, riskStatus } from '@/app/lib/format';
import type { FleetQuery } from '@/app/lib/validation';
import { EmptyState, NoDataYet } from '../shared/empty-state';
import { StatusBadge } from '../shared/status';
import { FleetPager } from './fleet-toolbar';

/**
 * One page of compressor cards, worst first unless the URL sorts otherwise. Plain anchors: a
 * next/link per card would have every browser prefetch two dozen unit pages from the server.
 */
export async function CompressorCards({ query, filtered }: { query: FleetQuery; filtered: boolean }) {
  const page = await fetchFleetPage(query);
  if (!page.total) {
    return filtered ? (
      <EmptyState title="No compressors match these filters"><Link href="/">Clear the filters</Link> to see the whole fleet.</EmptyState>
    ) : (
      <NoDataYet what="compressors" />
    );
  }
  return (
    <section aria-labelledby="cards-title">
      <div className="card-grid" data-testid="compressor-cards">
        {page.rows.map((c) => (
          <a key={c.compressor_id} href={`/monitoring/${encodeURIComponent(c.compressor_id)}`}
            className={`ccard ccard--${c.health_status}`} data-testid="compressor-card" data-compressor-id={c.compressor_id} data-health={c.health_status}>
            <div className="ccard__head">
              <span className="ccard__id">{c.compressor_id}</span>
              <StatusBadge status={c.health_status} />
            </div>
            <div className="ccard__meta">{c.model} · {c.station_name}</div>
            <dl className="ccard__readings">
              <dt>Vibration</dt><dd className={`text-${c.latest?.vibration_status}`}>{fmtNumber(c.latest?.vibration_mean, 2)} mm/s</dd>
              <dt>Disch. temp</dt><dd className={`text-${c.latest?.temp_status}`}>{fmtNumber(c.latest?.discharge_temp_mean)} °F</dd>
              <dt>Disch. press.</dt><dd className={`text-${c.latest?.pressure_status}`}>{fmtNumber(c.latest?.discharge_pressure_mean, 0)} psi</dd>
              <dt>Alerts</dt><dd>{c.active_alerts ? `${c.active_alerts} active` : 'none'}</dd>
              <dt>Failure risk 72 h</dt><dd className={`text-${riskStatus(c.risk?.failure_probability_72h)}`} data-testid="risk">{fmtRisk(c.risk?.failure_probability_72h)}</dd>
              <dt>Remaining life</dt><dd data-testid="rul">{fmtRul(c.risk?.rul_hours)}</dd>
            </dl>
            <div className="ccard__meta">{c.latest ? `as of ${fmtTime(c.latest.hour_start)}` : 'no readings yet'}</div>
          </a>
        ))}
      </div>
      <FleetPager action="/" query={query} total={page.total} page={page.page} pageSize={page.page_size} />
    </section>
  );
}
