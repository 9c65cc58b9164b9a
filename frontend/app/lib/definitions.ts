/**
 * Row types mirroring the serving database (sql/postgres/001_schema.sql, owned by the pipeline).
 * Timestamps arrive as ISO-8601 strings and dates as 'YYYY-MM-DD' (see db.ts type parsers).
 */

export type Status = 'normal' | 'warning' | 'critical';
// 'down': the unit's newest hour found it stopped (tripped, under repair or maintenance, shut in).
export type Health = Status | 'down' | 'unknown';
export type Severity = 'warning' | 'critical';
export type AlertStatus = 'open' | 'acknowledged' | 'resolved';
export type AlertAction = 'acknowledge' | 'resolve' | 'reopen' | 'note';
export type Sensor = 'vibration_mms' | 'discharge_temp_f' | 'discharge_pressure_psi' | 'suction_pressure_psi';
// What an alert episode is about: a sensor's limits, or the unit's stop (the pipeline's running_state).
export type AlertSensor = Sensor | 'running_state' | 'failure_risk';
/** Who opened an alert: a sensor limit (or a stop), or the failure model. */
export type AlertSource = 'threshold' | 'model';
export type QualityMetricName = 'freshness_minutes' | 'completeness_pct' | 'consistency_pct' | 'accuracy_pct';

export interface Station {
  station_id: string;
  station_name: string;
  basin: string;
  city: string;
  latitude: number;
  longitude: number;
}

export interface Compressor {
  compressor_id: string;
  station_id: string;
  model: string;
  rated_horsepower: number;
  install_date: string;
}

export interface SensorThreshold {
  sensor: Sensor;
  direction: 'high' | 'low';
  warning: number;
  critical: number;
  unit: string;
}

export interface HourlyReading {
  compressor_id: string;
  hour_start: string;
  reading_count: number;
  vibration_mean: number | null;
  vibration_max: number | null;
  discharge_temp_mean: number | null;
  discharge_temp_max: number | null;
  suction_pressure_mean: number | null;
  suction_pressure_min: number | null;
  discharge_pressure_mean: number | null;
  discharge_pressure_max: number | null;
  pressure_differential_mean: number | null;
  horsepower_mean: number | null;
  gas_flow_mean: number | null;
  vibration_status: Status;
  temp_status: Status;
  pressure_status: Status;
  health_status: Status;
}

/** One compressor with its station and newest hourly row (null before the first publish). */
export interface CompressorSnapshot extends Compressor {
  station_name: string;
  basin: string;
  city: string;
  latitude: number;
  longitude: number;
  health_status: Health;
  latest: HourlyReading | null;
  active_alerts: number;
  critical_alerts: number;
  /** The failure model's newest hour: probability of failing within 72 h, remaining useful life (null before the first scoring). */
  risk: Prediction | null;
}

/** A chart bucket: the hourly aggregates plus the model's worst risk and shortest RUL in it (null: not scored). */
export interface ChartReading extends HourlyReading {
  failure_probability_72h: number | null;
  rul_hours: number | null;
}

/** One scored hour of the failure model (07_score). */
export interface Prediction {
  hour_start: string;
  failure_probability_72h: number;
  rul_hours: number;
  model_version: string;
}

export interface Alert {
  alert_id: string;
  compressor_id: string;
  station_id: string;
  sensor: AlertSensor;
  source: AlertSource;
  severity: Severity;
  current_severity: Status;
  is_active: boolean;
  opened_at: string;
  escalated_at: string | null;
  cleared_at: string | null;
  last_reading_at: string;
  threshold_value: number;
  peak_value: number;
  last_value: number;
  reading_count: number;
  status: AlertStatus;
  acknowledged_at: string | null;
  acknowledged_by: string | null;
  resolved_at: string | null;
  resolved_by: string | null;
  operator_note: string | null;
}

export interface AlertEvent {
  event_id: number;
  alert_id: string;
  action: AlertAction;
  actor: string;
  note: string | null;
  created_at: string;
}

export interface FleetKpis {
  compressors: number;
  healthy: number;
  warning: number;
  critical: number;
  down: number;
  unknown: number;
  active_alerts: number;
  critical_alerts: number;
  unacknowledged_alerts: number;
  newest_reading: string | null;
  last_run: PipelineRun | null;
}

export interface PipelineRun {
  run_id: string;
  status: string;
  started_at: string;
  finished_at: string | null;
  duration_s: number | null;
}

export interface PipelineRunStep {
  run_id: string;
  step: string;
  status: string;
  started_at: string;
  finished_at: string;
  duration_s: number;
  rows_in: number;
  rows_out: number;
  detail: string | null;
}

export interface PipelineRunWithSteps extends PipelineRun {
  steps: PipelineRunStep[];
}

export interface QualityMetric {
  run_id: string;
  table_name: string;
  metric: QualityMetricName;
  metric_value: number;
  measured_at: string;
}

export interface QuarantineRuleCount {
  run_id: string;
  rule: string;
  failed_rows: number;
  measured_at: string;
}

export interface Page<T> {
  rows: T[];
  total: number;
  page: number;
  page_size: number;
}
