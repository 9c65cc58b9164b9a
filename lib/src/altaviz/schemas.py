"""Every StructType Altaviz reads or writes, and the lakehouse tables they belong to.

Producers, readers and tests share these constants; nothing infers a schema.
"""

from __future__ import annotations

from dataclasses import dataclass

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

GROUND_TRUTH = StructType(
    [
        StructField("compressor_id", StringType(), False),
        StructField("degradation_start", TimestampType(), False),
        StructField("failure_at", TimestampType(), False),
        StructField("batch_id", StringType(), False),
    ]
)

INGEST_METADATA_FIELDS = [
    StructField("_record_id", StringType(), False),
    StructField("_source_file", StringType(), False),
    StructField("_ingested_at", TimestampType(), False),
    StructField("_ingest_run_id", StringType(), False),
]

BRONZE_SENSOR_READINGS = StructType([*RAW_SENSOR_READINGS.fields, *INGEST_METADATA_FIELDS])
BRONZE_STATIONS = StructType([*RAW_STATIONS.fields, *INGEST_METADATA_FIELDS])
BRONZE_COMPRESSORS = StructType([*RAW_COMPRESSORS.fields, *INGEST_METADATA_FIELDS])

_LINEAGE_FIELDS = [
    StructField("_record_id", StringType(), False),
    StructField("_source_file", StringType(), False),
    StructField("_ingest_run_id", StringType(), False),
    StructField("_silver_run_id", StringType(), False),
]

SILVER_SENSOR_READINGS = StructType(
    [
        StructField("compressor_id", StringType(), False),
        StructField("timestamp", TimestampType(), False),
        *SENSOR_FIELDS,
        *_LINEAGE_FIELDS,
    ]
)

SILVER_QUARANTINE_READINGS = StructType(
    [
        *RAW_SENSOR_READINGS.fields,
        *_LINEAGE_FIELDS,
        StructField("failed_rules", ArrayType(StringType(), False), False),
    ]
)

SILVER_RULE_COUNTS = StructType(
    [
        StructField("run_id", StringType(), False),
        StructField("rule", StringType(), False),
        StructField("failed_rows", LongType(), False),
        StructField("measured_at", TimestampType(), False),
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

ALERT_EPISODES = StructType(
    [
        StructField("alert_id", StringType(), False),
        StructField("compressor_id", StringType(), False),
        StructField("sensor", StringType(), False),
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


@dataclass(frozen=True)
class TableSpec:
    """A lakehouse Delta table: its name under Tables/, its key and its writer's layer."""

    name: str
    key: tuple[str, ...]
    description: str


TABLES = {
    t.name: t
    for t in (
        TableSpec("bronze_sensor_readings", ("_record_id",), "raw readings + ingestion metadata, append-only"),
        TableSpec("bronze_stations", ("_record_id",), "raw station registry snapshots"),
        TableSpec("bronze_compressors", ("_record_id",), "raw compressor registry snapshots"),
        TableSpec("silver_stations", ("station_id",), "current station registry"),
        TableSpec("silver_compressors", ("compressor_id",), "current compressor registry"),
        TableSpec("silver_sensor_readings", ("compressor_id", "timestamp"), "typed, validated, deduplicated"),
        TableSpec("silver_quarantine_readings", ("_record_id",), "rows that failed rules, with the rules"),
        TableSpec("silver_rule_counts", ("run_id", "rule"), "failed rows per validation rule per run"),
        TableSpec("gold_sensor_features", ("compressor_id", "timestamp"), "rolling features and statuses"),
        TableSpec("gold_hourly_readings", ("compressor_id", "hour_start"), "hourly aggregates per compressor"),
        TableSpec("gold_alert_episodes", ("alert_id",), "alert episodes with hysteresis"),
        TableSpec("gold_data_quality", ("run_id", "table_name", "metric"), "data-quality metrics per run"),
        TableSpec("ops_run_steps", ("run_id", "step"), "one row per notebook step per pipeline run"),
    )
}
