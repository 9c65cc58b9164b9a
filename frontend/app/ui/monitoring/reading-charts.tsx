import { fetchHourlyReadings } from '@/app/lib/data';
import type { HourlyReading, SensorThreshold } from '@/app/lib/definitions';
import { SENSOR_ORDER, SENSORS } from '@/app/lib/sensors';
import type { ReadingsQuery } from '@/app/lib/validation';
import { EmptyState } from '../shared/empty-state';
import { TimeSeriesChart, type ChartSeries } from './time-series-chart';

const MEAN_COLOR = 'var(--accent)';
const EXTREME_COLOR = '#8e6bd6';

/** One chart per alarmed sensor (hourly mean and extreme) with its warning/critical lines, plus load. */
export async function ReadingCharts({ compressorId, query, thresholds }: { compressorId: string; query: ReadingsQuery; thresholds: SensorThreshold[] }) {
  const { from, to, readings } = await fetchHourlyReadings(compressorId, query);
  if (!readings.length || !from || !to) {
    return <EmptyState title="No hourly readings in this range">Pick a longer range, or run the pipeline to publish readings.</EmptyState>;
  }
  const times = readings.map((r) => new Date(r.hour_start).getTime());
  const domain: [number, number] = [new Date(from).getTime(), new Date(to).getTime()];
  const col = (k: keyof HourlyReading) => readings.map((r) => r[k] as number | null);
  return (
    <div className="chart-grid" data-testid="reading-charts" data-points={readings.length}>
      {SENSOR_ORDER.map((sensor) => {
        const s = SENSORS[sensor];
        const t = thresholds.find((x) => x.sensor === sensor);
        const series: ChartSeries[] = [
          { label: 'hourly mean', color: MEAN_COLOR, values: col(s.mean) },
          { label: `hourly ${s.extremeLabel}`, color: EXTREME_COLOR, values: col(s.extreme), dashed: true },
        ];
        return (
          <TimeSeriesChart key={sensor} testId={`chart-${sensor}`} title={s.label} unit={t?.unit ?? ''} times={times} domain={domain} series={series}
            limits={t ? [{ kind: 'warning', value: t.warning }, { kind: 'critical', value: t.critical }] : []} />
        );
      })}
      <TimeSeriesChart testId="chart-horsepower" title="Horsepower" unit="hp" times={times} domain={domain}
        series={[{ label: 'hourly mean', color: MEAN_COLOR, values: col('horsepower_mean') }]} />
      <TimeSeriesChart testId="chart-gas-flow" title="Gas flow" unit="Mcf/d" times={times} domain={domain}
        series={[{ label: 'hourly mean', color: MEAN_COLOR, values: col('gas_flow_mean') }]} />
    </div>
  );
}
