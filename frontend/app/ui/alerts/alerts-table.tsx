import Link from 'next/link';
import type { Alert } from '@/app/lib/definitions';
import { fmtNumber, fmtTime } from '@/app/lib/format';
import { SOURCE_LABELS, sensorLabel } from '@/app/lib/sensors';
import { StatusBadge } from '../shared/status';
import { AlertActions } from './alert-actions';

/** Alert episodes with their operator state and the actions an operator can take. */
export function AlertsTable({ alerts, showCompressor = true }: { alerts: Alert[]; showCompressor?: boolean }) {
  return (
    <div className="table-wrap">
      <table className="table" data-testid="alerts-table">
        <thead>
          <tr>
            <th>Severity</th>{showCompressor ? <th>Compressor</th> : null}<th>Sensor</th><th>Source</th>
            <th className="num">Peak</th><th className="num">Limit</th><th>Opened</th><th>Condition</th><th>Status</th><th>Operator</th><th />
          </tr>
        </thead>
        <tbody>
          {alerts.map((a) => {
            const label = `${a.compressor_id} · ${sensorLabel(a.sensor)} · ${a.severity}`;
            return (
              <tr key={a.alert_id} data-testid="alert-row" data-alert-id={a.alert_id} data-status={a.status} data-severity={a.severity}
                data-compressor-id={a.compressor_id} data-station-id={a.station_id}>
                <td><StatusBadge status={a.severity} label={a.severity} /></td>
                {showCompressor ? <td><Link className="mono" href={`/monitoring/${encodeURIComponent(a.compressor_id)}`}>{a.compressor_id}</Link><div className="muted">{a.station_id}</div></td> : null}
                <td><Link href={`/alerts/${encodeURIComponent(a.alert_id)}`}>{sensorLabel(a.sensor)}</Link></td>
                <td data-testid="alert-source">{SOURCE_LABELS[a.source]}</td>
                <td className="num">{fmtNumber(a.peak_value, 2)}</td>
                <td className="num">{fmtNumber(a.threshold_value, 1)}</td>
                <td className="nowrap">{fmtTime(a.opened_at)}</td>
                <td>{a.is_active ? <StatusBadge status={a.current_severity} label={`now ${a.current_severity}`} /> : <span className="muted">cleared {fmtTime(a.cleared_at)}</span>}</td>
                <td><StatusBadge status={a.status} /></td>
                <td>
                  {a.resolved_by ? <>by {a.resolved_by}</> : a.acknowledged_by ? <>by {a.acknowledged_by}</> : <span className="muted">—</span>}
                  {a.operator_note ? <div className="muted" title={a.operator_note}>{a.operator_note.length > 60 ? `${a.operator_note.slice(0, 60)}…` : a.operator_note}</div> : null}
                </td>
                <td><AlertActions alertId={a.alert_id} status={a.status} label={label} /></td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
