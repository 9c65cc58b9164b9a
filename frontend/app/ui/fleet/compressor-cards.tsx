import Link from 'next/link';
import { fetchFleet } from '@/app/lib/fleet';
import { fmtNumber, fmtTime } from '@/app/lib/format';
import { NoDataYet } from '../shared/empty-state';
import { StatusBadge } from '../shared/status';

const CARD_LIMIT = 60; // the overview shows the worst units first; Monitoring lists all of them

export async function CompressorCards() {
  const fleet = await fetchFleet();
  if (!fleet.length) return <NoDataYet what="compressors" />;
  const shown = fleet.slice(0, CARD_LIMIT); // already ordered critical → warning → unknown → normal
  return (
    <section aria-labelledby="cards-title">
      <div className="panel__head">
        <h2 id="cards-title">Compressors</h2>
        {fleet.length > shown.length ? (
          <Link href="/monitoring">Showing the {shown.length} most urgent of {fleet.length} → all in Monitoring</Link>
        ) : null}
      </div>
      <div className="card-grid" data-testid="compressor-cards">
        {shown.map((c) => (
          <Link key={c.compressor_id} href={`/monitoring/${encodeURIComponent(c.compressor_id)}`}
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
            </dl>
            <div className="ccard__meta">{c.latest ? `as of ${fmtTime(c.latest.hour_start)}` : 'no readings yet'}</div>
          </Link>
        ))}
      </div>
    </section>
  );
}
