import { fetchPipelineRuns, fetchQualityMetrics, fetchQuarantineCounts } from '@/app/lib/data';
import type { QualityMetric, QualityMetricName } from '@/app/lib/definitions';
import { fmtDuration, fmtInt, fmtMinutes, fmtNumber, fmtTime } from '@/app/lib/format';
import { QualityTrendCharts } from './quality-trend-charts';
import { EmptyState, NoDataYet } from '../shared/empty-state';
import { StatusBadge } from '../shared/status';

const METRICS: { key: QualityMetricName; label: string; unit: string }[] = [
  { key: 'freshness_minutes', label: 'Freshness', unit: 'minutes behind' },
  { key: 'completeness_pct', label: 'Completeness', unit: '%' },
  { key: 'consistency_pct', label: 'Consistency', unit: '%' },
  { key: 'accuracy_pct', label: 'Accuracy', unit: '%' },
];
const PALETTE = ['#0b6bcb', '#8e6bd6', '#1f9d55', '#d08700', '#d2313d', '#0fa3a3', '#7a5c3e', '#c2185b'];

/** good / warn / bad, for colouring: percentages against 99.5 and 95, freshness against 1 h and 4 h. */
function grade(metric: QualityMetricName, v: number): 'good' | 'warn' | 'bad' {
  if (metric === 'freshness_minutes') return v <= 60 ? 'good' : v <= 240 ? 'warn' : 'bad';
  return v >= 99.5 ? 'good' : v >= 95 ? 'warn' : 'bad';
}

function fmtMetric(metric: QualityMetricName, v: number | undefined): string {
  if (v === undefined) return '—';
  return metric === 'freshness_minutes' ? fmtMinutes(v) : `${fmtNumber(v, 2)} %`;
}

/** The newest run's metrics, one row per table. */
export async function QualityScorecard() {
  const metrics = await fetchQualityMetrics(1);
  if (!metrics.length) return <section className="panel"><h2>Latest run</h2><NoDataYet what="data-quality metrics" /></section>;
  const tables = [...new Set(metrics.map((m) => m.table_name))].sort();
  const get = (t: string, k: QualityMetricName) => metrics.find((m) => m.table_name === t && m.metric === k)?.metric_value;
  return (
    <section className="panel" data-testid="quality-scorecard">
      <div className="panel__head">
        <h2>Latest run</h2>
        <span className="muted mono">{metrics[0]!.run_id} · {fmtTime(metrics[0]!.measured_at)}</span>
      </div>
      <div className="table-wrap">
        <table className="table scorecard">
          <thead><tr><th>Table</th>{METRICS.map((m) => <th key={m.key} className="num">{m.label}</th>)}</tr></thead>
          <tbody>
            {tables.map((t) => (
              <tr key={t} data-testid="quality-row" data-table={t}>
                <td className="mono">{t}</td>
                {METRICS.map((m) => {
                  const v = get(t, m.key);
                  return <td key={m.key} className={`num ${v === undefined ? '' : grade(m.key, v)}`} data-metric={m.key}>{fmtMetric(m.key, v)}</td>;
                })}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

/** One chart per metric, one line per table, over the newest runs (uPlot, like the sensor charts). */
export async function QualityTrends({ runs }: { runs: number }) {
  const metrics = await fetchQualityMetrics(runs);
  if (!metrics.length) return null;
  const runTimes = runTimeline(metrics);
  if (runTimes.length < 2) {
    return <EmptyState title="One run so far">Trends appear once the pipeline has run at least twice.</EmptyState>;
  }
  const tables = [...new Set(metrics.map((m) => m.table_name))].sort();
  const runIndex = new Map(runTimes.map((r, i) => [r.run_id, i]));
  const tableIndex = new Map(tables.map((t, i) => [t, i]));
  const panels = METRICS.map((m) => ({
    key: m.key, title: m.label, unit: m.unit,
    values: tables.map(() => runTimes.map((): number | null => null)),
  }));
  const panelIndex = new Map(METRICS.map((m, i) => [m.key, i]));
  for (const x of metrics) {
    const p = panelIndex.get(x.metric);
    if (p === undefined) continue;
    panels[p]!.values[tableIndex.get(x.table_name)!]![runIndex.get(x.run_id)!] = x.metric_value;
  }
  return (
    <div className="chart-grid" data-testid="quality-trends">
      <QualityTrendCharts times={runTimes.map((r) => Math.round(r.t / 1000))} tables={tables}
        colors={tables.map((_, i) => PALETTE[i % PALETTE.length]!)} panels={panels} />
    </div>
  );
}

function runTimeline(metrics: QualityMetric[]): { run_id: string; t: number }[] {
  const byRun = new Map<string, number>();
  for (const m of metrics) byRun.set(m.run_id, Math.max(byRun.get(m.run_id) ?? 0, new Date(m.measured_at).getTime()));
  return [...byRun.entries()].map(([run_id, t]) => ({ run_id, t })).sort((a, b) => a.t - b.t);
}

/** Rows quarantined per rule: the newest run as bars, the sum over the shown runs alongside. */
export async function QuarantineByRule({ runs }: { runs: number }) {
  const counts = await fetchQuarantineCounts(runs);
  if (!counts.length) return <section className="panel"><h2>Quarantine by rule</h2><NoDataYet what="quarantine counts" /></section>;
  const latestRun = counts[counts.length - 1]!.run_id;
  const rules = [...new Set(counts.map((c) => c.rule))].sort();
  const latest = new Map(counts.filter((c) => c.run_id === latestRun).map((c) => [c.rule, c.failed_rows]));
  const max = Math.max(1, ...latest.values());
  const runCount = new Set(counts.map((c) => c.run_id)).size;
  return (
    <section className="panel" data-testid="quarantine-by-rule">
      <div className="panel__head">
        <h2>Quarantine by rule</h2>
        <span className="muted">newest run <span className="mono">{latestRun}</span>; total over {runCount} run{runCount === 1 ? '' : 's'} at right</span>
      </div>
      <div className="bars">
        {rules.map((rule) => {
          const n = latest.get(rule) ?? 0;
          const total = counts.filter((c) => c.rule === rule).reduce((s, c) => s + c.failed_rows, 0);
          return (
            <div className="bar" key={rule} data-testid="quarantine-rule" data-rule={rule} data-count={n}>
              <span className="mono">{rule}</span>
              <span className="bar__track"><span className="bar__fill" style={{ width: `${(100 * n) / max}%`, display: 'block' }} /></span>
              <span className="bar__n">{fmtInt(n)} <span className="muted">/ {fmtInt(total)}</span></span>
            </div>
          );
        })}
      </div>
    </section>
  );
}

/** Pipeline runs with status, duration and rows in/out per step. */
export async function PipelineRuns({ runs }: { runs: number }) {
  const list = await fetchPipelineRuns(runs);
  if (!list.length) return <section className="panel"><h2>Pipeline runs</h2><NoDataYet what="pipeline runs" /></section>;
  return (
    <section className="panel" data-testid="pipeline-runs">
      <h2>Pipeline runs</h2>
      <div className="table-wrap">
        <table className="table">
          <thead><tr><th>Run</th><th>Status</th><th>Started</th><th className="num">Duration</th><th>Steps (rows in → out)</th></tr></thead>
          <tbody>
            {list.map((r) => (
              <tr key={r.run_id} data-testid="pipeline-run" data-run-id={r.run_id}>
                <td className="mono">{r.run_id}</td>
                <td><StatusBadge status={/fail|error/i.test(r.status) ? 'critical' : /success|succeeded|ok|completed/i.test(r.status) ? 'normal' : 'warning'} label={r.status} /></td>
                <td className="nowrap">{fmtTime(r.started_at)}</td>
                <td className="num">{fmtDuration(r.duration_s)}</td>
                <td>
                  {r.steps.length ? (
                    <details className="run">
                      <summary>{r.steps.length} steps · {fmtInt(r.steps[r.steps.length - 1]!.rows_out)} rows out of the last</summary>
                      <table className="table">
                        <thead><tr><th>Step</th><th>Status</th><th className="num">Duration</th><th className="num">Rows in</th><th className="num">Rows out</th><th>Detail</th></tr></thead>
                        <tbody>
                          {r.steps.map((s) => (
                            <tr key={s.step} data-testid="pipeline-step">
                              <td className="mono">{s.step}</td><td>{s.status}</td><td className="num">{fmtDuration(s.duration_s)}</td>
                              <td className="num">{fmtInt(s.rows_in)}</td><td className="num">{fmtInt(s.rows_out)}</td><td className="muted">{summarizeDetail(s.detail)}</td>
                            </tr>
                          ))}
                        </tbody>
                      </table>
                    </details>
                  ) : <span className="muted">no steps recorded</span>}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

/** A step's detail is often a JSON object of counters: show its flat entries ("valid 10,079 · quarantined 1"). */
function summarizeDetail(detail: string | null): string {
  if (!detail) return '';
  try {
    const parsed: unknown = JSON.parse(detail);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
      return Object.entries(parsed)
        .filter(([k, v]) => (typeof v === 'number' || typeof v === 'string') && k !== 'target')
        .map(([k, v]) => `${k.replaceAll('_', ' ')} ${typeof v === 'number' ? fmtInt(v) : v}`)
        .join(' · ');
    }
  } catch {
    /* plain text */
  }
  return detail.length > 200 ? `${detail.slice(0, 200)}…` : detail;
}
