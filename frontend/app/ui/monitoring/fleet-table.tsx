import Link from 'next/link';
import { fetchFleetPage } from '@/app/lib/data';
import { fmtNumber, fmtRisk, fmtRul, fmtTime, riskStatus } from '@/app/lib/format';
import type { FleetQuery } from '@/app/lib/validation';
import { FleetPager } from '../fleet/fleet-toolbar';
import { EmptyState, NoDataYet } from '../shared/empty-state';
import { StatusBadge, StatusDot } from '../shared/status';

/**
 * One page of compressors with their newest hourly values, in the order the URL asks for. Row links
 * are plain anchors: a next/link per cell would make the browser prefetch every unit on the page.
 */
export async function FleetTable({ query, filtered }: { query: FleetQuery; filtered: boolean }) {
  const page = await fetchFleetPage(query);
  if (!page.total) {
    return filtered ? (
      <EmptyState title="No compressors match these filters">
        <Link href="/monitoring">Clear the filters</Link> to see the whole fleet.
      </EmptyState>
    ) : (
      <NoDataYet what="compressors" />
    );
  }
  return (
    <section className="panel">
      <div className="table-wrap">
        <table className="table" data-testid="fleet-table">
          <thead>
            <tr>
              <th>Compressor</th><th>Station</th><th>Health</th>
              <th className="num">Vibration<br />mm/s</th><th className="num">Disch. temp<br />°F</th>
              <th className="num">Disch. press.<br />psi</th><th className="num">Suction<br />psi</th>
              <th className="num">Horsepower</th><th className="num">Gas flow<br />Mcf/d</th>
              <th className="num">Alerts</th><th className="num">Failure risk<br />72 h</th><th className="num">Remaining<br />life</th><th>Last hour</th>
            </tr>
          </thead>
          <tbody>
            {page.rows.map((c) => {
              const r = c.latest;
              return (
                <tr key={c.compressor_id} data-testid="fleet-row" data-compressor-id={c.compressor_id} data-health={c.health_status}>
                  <td><a className="mono" href={`/monitoring/${encodeURIComponent(c.compressor_id)}`}>{c.compressor_id}</a><div className="muted">{c.model}</div></td>
                  <td>{c.station_name}<div className="muted">{c.basin}</div></td>
                  <td><StatusBadge status={c.health_status} /></td>
                  <td className="num"><StatusDot status={r?.vibration_status ?? 'unknown'} /> {fmtNumber(r?.vibration_mean, 2)}</td>
                  <td className="num"><StatusDot status={r?.temp_status ?? 'unknown'} /> {fmtNumber(r?.discharge_temp_mean)}</td>
                  <td className="num"><StatusDot status={r?.pressure_status ?? 'unknown'} /> {fmtNumber(r?.discharge_pressure_mean, 0)}</td>
                  <td className="num">{fmtNumber(r?.suction_pressure_mean)}</td>
                  <td className="num">{fmtNumber(r?.horsepower_mean, 0)}</td>
                  <td className="num">{fmtNumber(r?.gas_flow_mean, 0)}</td>
                  <td className="num" data-testid="active-alerts">{c.active_alerts ? <a href={`/alerts?compressor=${encodeURIComponent(c.compressor_id)}&active=true`}>{c.active_alerts}</a> : 0}</td>
                  <td className={`num text-${riskStatus(c.risk?.failure_probability_72h)}`} data-testid="risk">{fmtRisk(c.risk?.failure_probability_72h)}</td>
                  <td className="num" data-testid="rul">{fmtRul(c.risk?.rul_hours)}</td>
                  <td className="nowrap">{fmtTime(r?.hour_start)}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      <FleetPager action="/monitoring" query={query} total={page.total} page={page.page} pageSize={page.page_size} />
    </section>
  );
}
