import type { AlertSource, HourlyReading, Sensor } from './definitions';

type NumericColumn = {
  [K in keyof HourlyReading]: HourlyReading[K] extends number | null ? K : never;
}[keyof HourlyReading];

/** How each alarmed sensor maps onto the hourly aggregates, and which extreme matters. */
export const SENSORS: Record<Sensor, { label: string; mean: NumericColumn; extreme: NumericColumn; extremeLabel: string }> = {
  vibration_mms: { label: 'Vibration', mean: 'vibration_mean', extreme: 'vibration_max', extremeLabel: 'max' },
  discharge_temp_f: { label: 'Discharge temperature', mean: 'discharge_temp_mean', extreme: 'discharge_temp_max', extremeLabel: 'max' },
  discharge_pressure_psi: { label: 'Discharge pressure', mean: 'discharge_pressure_mean', extreme: 'discharge_pressure_max', extremeLabel: 'max' },
  suction_pressure_psi: { label: 'Suction pressure', mean: 'suction_pressure_mean', extreme: 'suction_pressure_min', extremeLabel: 'min' },
};

export const SENSOR_ORDER: Sensor[] = ['vibration_mms', 'discharge_temp_f', 'discharge_pressure_psi', 'suction_pressure_psi'];

// A stop is an episode of its own (the pipeline's pseudo-sensor running_state), not a process limit.
// The failure model's warning is an episode of the pseudo-sensor failure_risk (source model).
const EVENT_LABELS: Record<string, string> = { running_state: 'Unit stopped', failure_risk: 'Failure risk (model)' };

/** Who raised an alert, as the alert lists say it. */
export const SOURCE_LABELS: Record<AlertSource, string> = { threshold: 'Limit', model: 'Model' };

export function sensorLabel(sensor: string): string {
  return (SENSORS as Record<string, { label: string }>)[sensor]?.label ?? EVENT_LABELS[sensor] ?? sensor;
}
