import type { CompressorSnapshot, SensorThreshold } from '@/app/lib/definitions';
import { fmtNumber } from '@/app/lib/format';
import { SENSOR_ORDER, SENSORS } from '@/app/lib/sensors';
import { NoDataYet } from '../shared/empty-state';
import { Gauge } from './gauge';

const STATUS_OF = { vibration_mms: 'vibration_status', discharge_temp_f: 'temp_status', discharge_pressure_psi: 'pressure_status', suction_pressure_psi: 'pressure_status' } as const;

export function Gauges({ compressor, thresholds }: { compressor: CompressorSnapshot; thresholds: SensorThreshold[] }) {
  const r = compressor.latest;
  if (!r) return <NoDataYet what={`readings for ${compressor.compressor_id}`} />;
  const pct = r.horsepower_mean !== null ? (100 * r.horsepower_mean) / compressor.rated_horsepower : null;
  return (
    <section aria-label="Current values" data-testid="gauges">
      <div className="gauge-grid">
        {SENSOR_ORDER.map((sensor) => {
          const cols = SENSORS[sensor];
          const t = thresholds.find((x) => x.sensor === sensor);
          return (
            <Gauge key={sensor} label={cols.label} value={r[cols.mean]} extreme={r[cols.extreme]} extremeLabel={cols.extremeLabel}
              threshold={t} status={r[STATUS_OF[sensor]]} />
          );
        })}
        <div className="panel">
          <h3>Load</h3>
          <dl className="kv">
            <dt>Horsepower</dt><dd>{fmtNumber(r.horsepower_mean, 0)} hp{pct !== null ? ` (${fmtNumber(pct, 0)} % of rated)` : ''}</dd>
            <dt>Gas flow</dt><dd>{fmtNumber(r.gas_flow_mean, 0)} Mcf/d</dd>
            <dt>Differential</dt><dd>{fmtNumber(r.pressure_differential_mean, 0)} psi</dd>
            <dt>Samples</dt><dd>{r.reading_count} in the hour</dd>
          </dl>
        </div>
      </div>
    </section>
  );
}
