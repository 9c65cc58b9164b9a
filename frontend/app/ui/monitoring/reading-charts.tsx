import { RISK_PCT } from '@/app/lib/chart-series';
import { fetchChartSeries } from '@/app/lib/data';
import type { SensorThreshold } from '@/app/lib/definitions';
import { SENSOR_ORDER, SENSORS } from '@/app/lib/sensors';
import type { ReadingsQuery } from '@/app/lib/validation';
import { EmptyState } from '../shared/empty-state';
import { SensorCharts, type ChartPanel } from './sensor-charts';

/**
 * One chart per alarmed sensor (mean and extreme, warning/critical lines, its alert episodes), plus
 * load, all on one time axis. The server downsamples to about a chart's width of buckets, so 90 days
 * ship about 540 points per series instead of 2,160 rows, as the JSON text PostgreSQL built.
 */
export async function ReadingCharts({ compressorId, query, thresholds, data }: {
  compressorId: string;
  query: ReadingsQuery;
  thresholds: SensorThreshold[];
  data?: ReturnType<typeof fetchChartSeries>; // already started by the caller (same compressor and query)
}) {
  const { from, to, bucket_hours: bucket, points, scored, series, episodes } = await (data ?? fetchChartSeries(compressorId, query));
  if (!points || !from || !to) {
    return <EmptyState title="No hourly readings in this range">Pick a longer range, or run the pipeline to publish readings.</EmptyState>;
  }
  const sec = (iso: string) => new Date(iso).getTime() / 1000;
  const domain: [number, number] = [sec(from), sec(to)];
  const panels: ChartPanel[] = [
    ...SENSOR_ORDER.map((sensor) => {
      const s = SENSORS[sensor];
      const t = thresholds.find((x) => x.sensor === sensor);
      return {
        id: sensor, sensor, title: s.label, unit: t?.unit ?? '',
        series: [{ label: 'mean', key: s.mean }, { label: s.extremeLabel, key: s.extreme, dashed: true, extreme: true }],
        limits: t ? [{ kind: 'warning' as const, value: t.warning }, { kind: 'critical' as const, value: t.critical }] : [],
      };
    }),
    { id: 'horsepower', title: 'Horsepower', unit: 'hp', series: [{ label: 'mean', key: 'horsepower_mean' }], limits: [] },
    { id: 'gas-flow', title: 'Gas flow', unit: 'Mcf/d', series: [{ label: 'mean', key: 'gas_flow_mean' }], limits: [] },
    // The failure model (07_score): its warnings are episodes of failure_risk, shaded like the limits' ones.
    ...(scored
      ? [
          {
            id: 'failure-risk', sensor: 'failure_risk', title: 'Failure risk within 72 h (model)', unit: '%',
            series: [{ label: 'max', key: RISK_PCT, extreme: true }],
            limits: [{ kind: 'warning' as const, value: 50 }, { kind: 'critical' as const, value: 80 }],
          },
          {
            id: 'rul', title: 'Remaining useful life (model)', unit: 'h',
            series: [{ label: 'min', key: 'rul_hours', extreme: true }], limits: [],
          },
        ]
      : []),
  ];
  return (
    <div className="chart-grid" data-testid="reading-charts" data-points={points} data-bucket-hours={bucket}
      data-episodes={episodes.length}>
      <SensorCharts compressorId={compressorId} bucketHours={bucket} buckets={points} series={series}
        panels={panels} episodes={episodes} domain={domain} points={query.points} />
    </div>
  );
}
