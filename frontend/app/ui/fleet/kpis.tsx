import { fetchFleetKpis } from '@/app/lib/data';
import { fetchFleetHealthOnce, FRESHNESS_WARNING_MINUTES } from '@/app/lib/fleet';
import { fmtMinutes, fmtTime, minutesSince } from '@/app/lib/format';
import { NoDataYet } from '../shared/empty-state';

export async function FleetKpis() {
  const k = await fetchFleetKpis(await fetchFleetHealthOnce());
  if (!k.compressors) return <NoDataYet what="compressors" />;
  const age = minutesSince(k.newest_reading);
  const runAge = minutesSince(k.last_run?.finished_at ?? k.last_run?.started_at);
  const stale = age === null || age > FRESHNESS_WARNING_MINUTES;
  const runFailed = k.last_run && !['success', 'succeeded', 'completed', 'ok'].includes(k.last_run.status.toLowerCase());
  return (
    <section className="kpis" aria-label="Fleet KPIs" data-testid="fleet-kpis">
      <Kpi tone="normal" label="Healthy" value={k.healthy} hint={`of ${k.compressors} units`} id="healthy" />
      <Kpi tone="warning" label="Warning" value={k.warning} hint="units" id="warning" />
      <Kpi tone="critical" label="Critical" value={k.critical} hint="units" id="critical" />
      <Kpi tone="down" label="Down" value={k.down} hint={k.unknown ? `stopped · ${k.unknown} without data` : 'stopped units'} id="down" />
      <Kpi
        tone={k.critical_alerts ? 'critical' : k.active_alerts ? 'warning' : 'normal'}
        label="Active alerts" value={k.active_alerts}
        hint={`${k.critical_alerts} critical · ${k.unacknowledged_alerts} unacknowledged`} id="active-alerts"
      />
      <Kpi
        tone={stale ? 'warning' : 'normal'} label="Data freshness" value={age === null ? '—' : `${fmtMinutes(age)} ago`}
        hint={age === null ? 'no readings' : `newest hour ${fmtTime(k.newest_reading)}`} id="freshness"
      />
      <Kpi
        tone={!k.last_run ? 'unknown' : runFailed ? 'critical' : 'normal'} label="Last pipeline run"
        value={runAge === null ? '—' : `${fmtMinutes(runAge)} ago`}
        hint={k.last_run ? `${k.last_run.status} · ${fmtTime(k.last_run.started_at)}` : 'never run'} id="last-run"
      />
    </section>
  );
}

function Kpi({ tone, label, value, hint, id }: { tone: string; label: string; value: number | string; hint: string; id: string }) {
  return (
    <div className={`kpi kpi--${tone}`} data-testid={`kpi-${id}`}>
      <div className="kpi__label">{label}</div>
      <div className="kpi__value" data-testid={`kpi-${id}-value`}>{value}</div>
      <div className="kpi__hint">{hint}</div>
    </div>
  );
}
