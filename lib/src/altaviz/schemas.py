"""The table catalog: every StructType Altaviz reads or writes, and every lakehouse table with its
schema, key, write mode, partitioning and description.

Producers, readers and tests share these constants; nothing infers a schema. Writers check a frame
against its table's declared schema before writing (``lakehouse.write``), so a transform that drops
or retypes a column fails at the write with the difference named, instead of changing the table.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pyspark.sql.types import (
    ArrayType,
    BooleanType,
    DateType,
    DoubleType,
    IntegerType,
    LongType,
    StringType,
    StructField,
    StructType,
    TimestampType,
)

SENSOR_FIELDS = [
    StructField("vibration_mms", DoubleType()),
    StructField("discharge_temp_f", DoubleType()),
    StructField("suction_pressure_psi", DoubleType()),
    StructField("discharge_pressure_psi", DoubleType()),
    StructField("horsepower", DoubleType()),
    StructField("gas_flow_mcf", DoubleType()),
]

# The date partition of the time-series tables: the UTC date of the reading (or hour), so a day's
# work reads and rewrites that day's files only.
READING_DATE = StructField("reading_date", DateType(), False)

# What a field gateway (or 01_simulate) lands in Files/raw/sensor_readings: everything nullable,
# because raw data is whatever arrived.
RAW_SENSOR_READINGS = StructType(
    [StructField("compressor_id", StringType()), StructField("timestamp", TimestampType()), *SENSOR_FIELDS]
)

RAW_STATIONS = StructType(
    [
        StructField("station_id", StringType()),
        StructField("station_name", StringType()),
        StructField("basin", StringType()),
        StructField("city", StringType()),
        StructField("latitude", DoubleType()),
        StructField("longitude", DoubleType()),
    ]
)

RAW_COMPRESSORS = StructType(
    [
        StructField("compressor_id", StringType()),
        StructField("station_id", StringType()),
        StructField("model", StringType()),
        StructField("rated_horsepower", IntegerType()),
        StructField("install_date", DateType()),
    ]
)

# The simulator's answer key: never read by the pipeline, only by tests and evaluations.
GROUND_TRUTH = StructType(
    [
        StructField("compressor_id", StringType(), False),
        StructField("failure_mode", StringType(), False),
        StructField("degradation_start", TimestampType(), False),
        StructField("failure_at", TimestampType()),  # null: maintenance caught it first
        StructField("caught_at", TimestampType()),
        StructField("repaired_at", TimestampType(), False),
        StructField("batch_id", StringType(), False),
    ]
)

# A CMMS work-order export (Files/raw/maintenance_events): what operators land from their
# maintenance system, and what models are trained and judged on.
MAINTENANCE_EVENT_TYPES = ("failure", "corrective_repair", "preventive_maintenance")
RAW_MAINTENANCE_EVENTS = StructType(
    [
        StructField("work_order_id", StringType()),
        StructField("compressor_id", StringType()),
        StructField("event_type", StringType()),
        StructField("failure_mode", StringType()),
        StructField("started_at", TimestampType()),
        StructField("ended_at", TimestampType()),  # null while the work order is open
        StructField("notes", StringType()),
    ]
)

INGEST_METADATA_FIELDS = [
    StructField("_record_id", StringType(), False),
    StructField("_source_file", StringType(), False),
    StructField("_ingested_at", TimestampType(), False),
    StructField("_ingest_run_id", StringType(), False),
]

# Values a landed file held that could not be read as their column's type (e.g. "n/a" in a
# numeric column), as JSON {column: text}: the row carries nulls there and silver quarantines it
# under ``unparseable_value`` with this text kept, so a bad value never vanishes.
UNPARSED_VALUES = StructField("_unparsed_values", StringType())
BRONZE_SENSOR_READINGS = StructType([*RAW_SENSOR_READINGS.fields, UNPARSED_VALUES, *INGEST_METADATA_FIELDS])
BRONZE_STATIONS = StructType([*RAW_STATIONS.fields, *INGEST_METADATA_FIELDS])
BRONZE_COMPRESSORS = StructType([*RAW_COMPRESSORS.fields, *INGEST_METADATA_FIELDS])
BRONZE_MAINTENANCE_EVENTS = StructType([*RAW_MAINTENANCE_EVENTS.fields, *INGEST_METADATA_FIELDS])
# Every file a landing folder delivered, once (keyed by path): what it was (size, modification
# time, SHA-256 of its bytes) and what became of it. A rerun skips the files listed here, and a
# file with the content of one ingested before is a duplicate delivery.
BRONZE_LANDED_FILES = StructType(
    [
        StructField("source_file", StringType(), False),
        StructField("source", StringType(), False),
        StructField("file_format", StringType(), False),
        StructField("size_bytes", LongType(), False),
        StructField("modified_at", TimestampType(), False),
        StructField("content_sha256", StringType(), False),
        StructField("outcome", StringType(), False),  # ingested | empty (readable, no rows) | rejected
        StructField("rows", LongType(), False),
        StructField("note", StringType()),  # why rejected, or what was normalised (columns ignored, …)
        StructField("_ingest_run_id", StringType(), False),
        StructField("landed_at", TimestampType(), False),
    ]
)
# A landed file rejected whole (unreadable, empty, a duplicate delivery, columns that do not fit),
# with the reason. Its good neighbours are ingested all the same; this is where it is accounted for.
BRONZE_REJECTED_FILES = StructType(
    [
        StructField("source_file", StringType(), False),
        StructField("source", StringType(), False),
        StructField("reason", StringType(), False),
        StructField("_ingest_run_id", StringType(), False),
        StructField("rejected_at", TimestampType(), False),
    ]
)

SILVER_STATIONS = StructType([StructField("station_id", StringType(), False), *RAW_STATIONS.fields[1:]])
SILVER_COMPRESSORS = StructType([StructField("compressor_id", StringType(), False), *RAW_COMPRESSORS.fields[1:]])
# The newest version of each work order that passed validation.
SILVER_MAINTENANCE_EVENTS = StructType(
    [
        StructField("work_order_id", StringType(), False),
        StructField("compressor_id", StringType(), False),
        StructField("event_type", StringType(), False),
        *RAW_MAINTENANCE_EVENTS.fields[3:4],
        StructField("started_at", TimestampType(), False),
        *RAW_MAINTENANCE_EVENTS.fields[5:],
        StructField("_record_id", StringType(), False),
    ]
)
SILVER_QUARANTINE_MAINTENANCE_EVENTS = StructType(
    [
        *RAW_MAINTENANCE_EVENTS.fields,
        StructField("_record_id", StringType(), False),
        StructField("_source_file", StringType(), False),
        StructField("_ingest_run_id", StringType(), False),
        StructField("_silver_run_id", StringType(), False),
        StructField("failed_rules", ArrayType(StringType(), False), False),
    ]
)

# Silver keeps the bronze record id (which leads to the file and ingestion run) and the run that
# judged it; quarantine keeps the whole lineage, for whoever has to chase a bad delivery.
SILVER_SENSOR_READINGS = StructType(
    [
        StructField("compressor_id", StringType(), False),
        StructField("timestamp", TimestampType(), False),
        *SENSOR_FIELDS,
        StructField("_record_id", StringType(), False),
        StructField("_silver_run_id", StringType(), False),
        READING_DATE,
    ]
)

SILVER_QUARANTINE_READINGS = StructType(
    [
        *RAW_SENSOR_READINGS.fields,
        UNPARSED_VALUES,
        StructField("_record_id", StringType(), False),
        StructField("_source_file", StringType(), False),
        StructField("_ingest_run_id", StringType(), False),
        StructField("_silver_run_id", StringType(), False),
        StructField("failed_rules", ArrayType(StringType(), False), False),
    ]
)

# Bronze rows that passed every rule so far but wait for their next reading (the spike check needs
# both neighbours); they are judged again with the next batch.
SILVER_PENDING_READINGS = BRONZE_SENSOR_READINGS

SILVER_RULE_COUNTS = StructType(
    [
        StructField("run_id", StringType(), False),
        StructField("rule", StringType(), False),
        StructField("failed_rows", LongType(), False),
        StructField("measured_at", TimestampType(), False),
    ]
)

# The alerting sensors, the smoothed feature each is judged on, and the level column it gets.
ALERT_SIGNALS = {
    "vibration_mms": "vibration_1hr_mean",
    "discharge_temp_f": "temp_1hr_mean",
    "discharge_pressure_psi": "discharge_pressure_1hr_mean",
    "suction_pressure_psi": "suction_pressure_1hr_mean",
}


def level_column(sensor: str) -> str:
    return f"{sensor}_level"


# The pseudo-sensor of a stop: an episode of it is open while the unit is not running.
RUNNING_STATE = "running_state"
# The pseudo-sensor of a model warning: an episode of it is open while the failure model warns.
FAILURE_RISK = "failure_risk"
# Who opened an alert episode: a sensor limit (or a stop), or the failure model.
THRESHOLD_SOURCE, MODEL_SOURCE = "threshold", "model"


GOLD_SENSOR_FEATURES = StructType(
    [
        StructField("compressor_id", StringType(), False),
        StructField("timestamp", TimestampType(), False),
        *SENSOR_FIELDS,
        StructField("station_id", StringType()),
        StructField("vibration_1hr_mean", DoubleType()),
        StructField("temp_1hr_mean", DoubleType()),
        StructField("temp_4hr_mean", DoubleType()),
        StructField("discharge_pressure_1hr_mean", DoubleType()),
        StructField("suction_pressure_1hr_mean", DoubleType()),
        StructField("pressure_24hr_mean", DoubleType()),
        StructField("temp_1hr_delta", DoubleType()),
        StructField("pressure_differential", DoubleType()),
        # Whether the unit runs (horsepower above alerts.running_min_load_fraction of its rating): a
        # stopped or idle unit is not alarmed on process limits.
        StructField("is_running", BooleanType(), False),
        *[StructField(level_column(s), IntegerType(), False) for s in ALERT_SIGNALS],
        StructField("vibration_status", StringType(), False),
        StructField("temp_status", StringType(), False),
        StructField("pressure_status", StringType(), False),
        StructField("hour_of_day", IntegerType(), False),
        StructField("day_of_week", IntegerType(), False),
        StructField("is_weekend", BooleanType(), False),
        READING_DATE,
    ]
)

GOLD_HOURLY_READINGS = StructType(
    [
        StructField("compressor_id", StringType(), False),
        StructField("hour_start", TimestampType(), False),
        StructField("reading_count", IntegerType(), False),
        StructField("vibration_mean", DoubleType()),
        StructField("vibration_max", DoubleType()),
        StructField("discharge_temp_mean", DoubleType()),
        StructField("discharge_temp_max", DoubleType()),
        StructField("suction_pressure_mean", DoubleType()),
        StructField("suction_pressure_min", DoubleType()),
        StructField("discharge_pressure_mean", DoubleType()),
        StructField("discharge_pressure_max", DoubleType()),
        StructField("pressure_differential_mean", DoubleType()),
        StructField("horsepower_mean", DoubleType()),
        StructField("gas_flow_mean", DoubleType()),
        StructField("vibration_status", StringType(), False),
        StructField("temp_status", StringType(), False),
        StructField("pressure_status", StringType(), False),
        StructField("health_status", StringType(), False),
        READING_DATE,
    ]
)

ALERT_EPISODES = StructType(
    [
        StructField("alert_id", StringType(), False),
        StructField("compressor_id", StringType(), False),
        StructField("sensor", StringType(), False),
        StructField("source", StringType(), False),
        StructField("severity", StringType(), False),
        StructField("current_severity", StringType(), False),
        StructField("is_active", BooleanType(), False),
        StructField("opened_at", TimestampType(), False),
        StructField("escalated_at", TimestampType()),
        StructField("cleared_at", TimestampType()),
        StructField("last_reading_at", TimestampType(), False),
        StructField("threshold_value", DoubleType(), False),
        StructField("peak_value", DoubleType(), False),
        StructField("last_value", DoubleType(), False),
        StructField("reading_count", IntegerType(), False),
    ]
)

# One row per scored running unit-hour: what the model version promoted at scoring time said.
GOLD_PREDICTIONS = StructType(
    [
        StructField("compressor_id", StringType(), False),
        StructField("hour_start", TimestampType(), False),
        StructField("failure_probability_72h", DoubleType(), False),
        StructField("rul_hours", DoubleType(), False),
        StructField("model_name", StringType(), False),
        StructField("model_version", StringType(), False),
        StructField("scored_at", TimestampType(), False),
        READING_DATE,
    ]
)

GOLD_DATA_QUALITY = StructType(
    [
        StructField("run_id", StringType(), False),
        StructField("table_name", StringType(), False),
        StructField("metric", StringType(), False),
        StructField("metric_value", DoubleType(), False),
        StructField("measured_at", TimestampType(), False),
    ]
)

OPS_RUN_STEPS = StructType(
    [
        StructField("run_id", StringType(), False),
        StructField("step", StringType(), False),
        StructField("status", StringType(), False),
        StructField("started_at", TimestampType(), False),
        StructField("finished_at", TimestampType(), False),
        StructField("duration_s", DoubleType(), False),
        StructField("rows_in", LongType(), False),
        StructField("rows_out", LongType(), False),
        StructField("detail", StringType()),
    ]
)

# append:    rows are only ever added (streams, exactly once through their checkpoint; per-run logs,
#            exactly once through an idempotent transaction id).
# merge:     upsert on the key; rows whose values are unchanged are not rewritten.
# overwrite: the table is replaced whole by each write (small state tables).
WriteMode = Literal["append", "merge", "overwrite"]


@dataclass(frozen=True)
class TableSpec:
    """A lakehouse Delta table under ``Tables/``."""

    name: str
    schema: StructType
    key: tuple[str, ...]
    write: WriteMode
    description: str
    partition_by: tuple[str, ...] = ()
    # Change data feed: 05_publish reads what changed since its last publish instead of whole tables.
    change_feed: bool = False
    # Columns with min/max statistics (Delta data skipping); fewer columns make wide writes cheaper.
    stats_columns: tuple[str, ...] = ()


TABLES = {
    t.name: t
    for t in (
        TableSpec(
            "bronze_sensor_readings",
            BRONZE_SENSOR_READINGS,
            ("_record_id",),
            "append",
            "raw readings + ingestion metadata; a landed file is ingested once (stream checkpoint)",
            stats_columns=("compressor_id", "timestamp", "_ingested_at"),
        ),
        TableSpec("bronze_stations", BRONZE_STATIONS, ("_record_id",), "append", "raw station registry snapshots"),
        TableSpec(
            "bronze_compressors", BRONZE_COMPRESSORS, ("_record_id",), "append", "raw compressor registry snapshots"
        ),
        TableSpec(
            "bronze_maintenance_events",
            BRONZE_MAINTENANCE_EVENTS,
            ("_record_id",),
            "append",
            "raw CMMS work orders as landed (a work order lands again when it changes)",
        ),
        TableSpec(
            "bronze_landed_files",
            BRONZE_LANDED_FILES,
            ("source_file",),
            "append",
            "every landed file once: size, modification time, content hash, outcome",
        ),
        TableSpec(
            "bronze_rejected_files",
            BRONZE_REJECTED_FILES,
            ("source_file",),
            "append",
            "landed files that gave no rows (unreadable or empty), with the reason",
        ),
        TableSpec(
            "silver_stations", SILVER_STATIONS, ("station_id",), "merge", "current station registry", change_feed=True
        ),
        TableSpec(
            "silver_compressors",
            SILVER_COMPRESSORS,
            ("compressor_id",),
            "merge",
            "current compressor registry",
            change_feed=True,
        ),
        TableSpec(
            "silver_maintenance_events",
            SILVER_MAINTENANCE_EVENTS,
            ("work_order_id",),
            "merge",
            "maintenance work orders (failure, corrective repair, preventive maintenance), newest version",
            change_feed=True,
        ),
        TableSpec(
            "silver_quarantine_maintenance_events",
            SILVER_QUARANTINE_MAINTENANCE_EVENTS,
            ("_record_id",),
            "append",
            "work-order rows that failed validation, with the rules",
        ),
        TableSpec(
            "silver_sensor_readings",
            SILVER_SENSOR_READINGS,
            ("compressor_id", "timestamp"),
            "append",
            "typed, validated, deduplicated readings",
            partition_by=("reading_date",),
            stats_columns=("compressor_id", "timestamp"),
        ),
        TableSpec(
            "silver_quarantine_readings",
            SILVER_QUARANTINE_READINGS,
            ("_record_id",),
            "append",
            "rows that failed rules, with the rules",
            stats_columns=("compressor_id", "timestamp"),
        ),
        TableSpec(
            "silver_pending_readings",
            SILVER_PENDING_READINGS,
            ("_record_id",),
            "overwrite",
            "readings waiting for their next reading before the spike check can judge them",
        ),
        TableSpec(
            "silver_rule_counts",
            SILVER_RULE_COUNTS,
            ("run_id", "rule"),
            "append",
            "failed rows per rule per run",
            change_feed=True,
        ),
        TableSpec(
            "gold_sensor_features",
            GOLD_SENSOR_FEATURES,
            ("compressor_id", "timestamp"),
            "merge",
            "rolling features, hysteresis levels and statuses per reading",
            partition_by=("reading_date",),
            stats_columns=("compressor_id", "timestamp"),
        ),
        TableSpec(
            "gold_hourly_readings",
            GOLD_HOURLY_READINGS,
            ("compressor_id", "hour_start"),
            "merge",
            "hourly aggregates per compressor",
            partition_by=("reading_date",),
            change_feed=True,
            stats_columns=("compressor_id", "hour_start"),
        ),
        TableSpec(
            "gold_alert_episodes",
            ALERT_EPISODES,
            ("alert_id",),
            "merge",
            "alert episodes with hysteresis; an episode open across runs keeps its alert_id",
            change_feed=True,
        ),
        TableSpec(
            "gold_predictions",
            GOLD_PREDICTIONS,
            ("compressor_id", "hour_start"),
            "merge",
            "failure probability within 72 h and RUL per running unit-hour, with the model version",
            partition_by=("reading_date",),
            change_feed=True,
            stats_columns=("compressor_id", "hour_start"),
        ),
        TableSpec(
            "gold_data_quality",
            GOLD_DATA_QUALITY,
            ("run_id", "table_name", "metric"),
            "append",
            "data-quality metrics of the rows each run processed",
            change_feed=True,
        ),
        TableSpec("ops_run_steps", OPS_RUN_STEPS, ("run_id", "step"), "append", "one row per notebook step per run"),
    )
}
